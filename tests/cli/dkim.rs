//! DKIM (SPEC §2 `[mail.dkim]`, issue 16): every message of an agenda send verifies with
//! `dkimpy` against the generated key's public half (a DNS stub serving the TXT record);
//! a message changed after signing does not; `kkr dkim` makes the key and prints the record;
//! PKCS#1 and PKCS#8 keys are both taken.

use std::fs;

use crate::harness::{Test, stderr, stdout};

/// Makes an RSA-2048 key with Python's `cryptography`: (PKCS#1 PEM, PKCS#8 PEM, the DNS TXT
/// record's `p=` value).
fn key() -> (String, String, String) {
    let script = r#"
import base64
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives import serialization as s
k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
print(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.TraditionalOpenSSL, s.NoEncryption()).decode(), end="@@")
print(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()).decode(), end="@@")
print(base64.b64encode(k.public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo)).decode())
"#;
    let out =
        std::process::Command::new("python3").args(["-c", script]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let parts: Vec<&str> = text.split("@@").collect();
    (parts[0].to_owned(), parts[1].to_owned(), parts[2].trim().to_owned())
}

fn with_dkim(t: &Test, key_file: &str) {
    let toml = fs::read_to_string(t.path("council.toml")).unwrap();
    let start = toml.find("\n[mail.dkim]").unwrap_or(toml.len());
    let end = toml[start..].find("\n[publish]").map_or(toml.len(), |e| start + e);
    let toml = format!("{}{}", &toml[..start], &toml[end..]);
    let toml = toml.replace(
        "\n[publish]",
        &format!(
            "\n[mail.dkim]\ndomain = \"example.org\"\nselector = \"kkr2027\"\nkey_file = \"{key_file}\"\n\n[publish]"
        ),
    );
    assert!(toml.contains("[mail.dkim]"));
    t.write("council.toml", toml);
}

/// dkimpy's verdicts on the mails in outbox/mail, with a DNS stub serving `record` for
/// `selector`: (verified as sent, refused after a change to the Subject).
fn verify(t: &Test, selector: &str, record: &str) -> (usize, usize) {
    let script = r#"
import sys, dkim
sel, txt = sys.argv[1], sys.argv[2].encode()
def dns(name, timeout=5):
    return txt if name.decode().rstrip(".") == sel + "._domainkey.example.org" else None
good = bad = 0
for f in sys.argv[3:]:
    data = open(f, "rb").read()
    good += dkim.verify(data, dnsfunc=dns)
    changed = data.replace(b"Subject: KKR Hovedstaden", b"Subject: KKR Hovedstad", 1)
    assert changed != data
    bad += not dkim.verify(changed, dnsfunc=dns)
print(good, bad)
"#;
    let mut cmd = std::process::Command::new("python3");
    cmd.args(["-c", script, selector, record]);
    for m in t.mails("outbox/mail") {
        cmd.arg(t.path("outbox/mail").join(m));
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut n = text.split_whitespace().map(|n| n.parse().unwrap());
    (n.next().unwrap(), n.next().unwrap())
}

#[test]
fn every_message_verifies_with_dkimpy_and_a_changed_one_does_not() {
    let t = Test::example();
    let (_, pkcs8, public) = key();
    // A PKCS#8 key (what `openssl genpkey` writes) is taken as it is.
    t.write("state-keys/dkim.pem", &pkcs8);
    with_dkim(&t, "state-keys/dkim.pem");
    t.must(&["check"], 0);
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);
    assert_eq!(t.mails("outbox/mail").len(), 62);
    let record = format!("v=DKIM1; k=rsa; p={public}");
    assert_eq!(
        verify(&t, "kkr2027", &record),
        (62, 62),
        "every one verifies; changed ones fail"
    );

    // A key that is not one is refused by check, saying how to make one.
    t.write("state-keys/broken.pem", "-----BEGIN RSA PRIVATE KEY-----\nabc\n");
    with_dkim(&t, "state-keys/broken.pem");
    let out = t.kkr(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("kan ikke læses som en RSA-nøgle") && text.contains("kkr dkim"),
        "{text}{}",
        stderr(&out)
    );
}

/// The value after `label` on its line of `kkr dkim`'s output.
fn line_after<'a>(out: &'a str, label: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("{out}"))
        .trim()
}

#[test]
fn kkr_dkim_makes_the_key_and_the_record_it_prints_verifies_every_message() {
    let t = Test::example();
    let out = stdout(&t.must(&["dkim", "--now", "2027-01-04T10:00"], 0));
    assert!(out.contains("Ny DKIM-nøgle (RSA 2048 bit) i state/dkim.pem"), "{out}");
    assert_eq!(line_after(&out, "navn:"), "kkr2027._domainkey.example.org");
    let record = line_after(&out, "værdi:").to_owned();
    assert!(record.starts_with("v=DKIM1; k=rsa; p="), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(t.path("state/dkim.pem")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only kkr's user reads the private key");
    }
    // Asked again, it shows the same key: nothing is replaced.
    let again = stdout(&t.must(&["dkim"], 0));
    assert!(again.contains("ingen ny nøgle lavet"), "{again}");
    assert_eq!(line_after(&again, "værdi:"), record);

    // The council.toml lines it prints, pasted in, sign every mail verifiably.
    let section: String = out
        .lines()
        .skip_while(|l| l.trim() != "[mail.dkim]")
        .take(4)
        .map(|l| format!("{}\n", l.trim()))
        .collect();
    assert!(section.contains("key_file = \"state/dkim.pem\""), "{out}");
    let toml = fs::read_to_string(t.path("council.toml")).unwrap();
    t.write(
        "council.toml",
        toml.replace("\n[publish]", &format!("\n{section}\n[publish]")),
    );
    t.must(&["check"], 0);
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);
    assert_eq!(verify(&t, "kkr2027", &record), (62, 62));

    // A new selector is a key change: a second key beside the first, and its own record.
    let next = stdout(&t.must(&["dkim", "--selector", "kkr2028"], 0));
    assert!(next.contains("state/dkim-kkr2028.pem"), "{next}");
    assert_eq!(line_after(&next, "navn:"), "kkr2028._domainkey.example.org");
    assert_ne!(line_after(&next, "værdi:"), record);
    assert!(next.contains("selector = \"kkr2028\""), "{next}");
    assert!(t.path("state/dkim.pem").exists());

    // A rehearsal makes no key.
    let dry = stdout(&t.must(&["dkim", "--selector", "kkr2029", "--dry-run"], 0));
    assert!(dry.contains("Prøve"), "{dry}");
    assert!(!t.path("state/dkim-kkr2029.pem").exists());
}

#[test]
fn a_dkim_domain_that_does_not_cover_the_from_address_is_a_located_error() {
    let t = Test::example();
    let toml = fs::read_to_string(t.path("council.toml")).unwrap();
    t.write(
        "council.toml",
        toml.replace(
            "\n[publish]",
            "\n[mail.dkim]\ndomain = \"kl.dk\"\nselector = \"kkr\"\nkey_env = \"KKR_DKIM_KEY\"\n\n[publish]",
        ),
    );
    let out = stdout(&t.must(&["check"], 1));
    assert!(out.contains("passer ikke til afsenderens domæne example.org"), "{out}");
}
