//! DKIM (SPEC §2 `[mail.dkim]`, issue 16): every message of an agenda send verifies with
//! `dkimpy` against the generated key's public half (a DNS stub serving the TXT record);
//! a message changed after signing does not; a PKCS#8 key is refused with the conversion.

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

#[test]
fn every_message_verifies_with_dkimpy_and_a_changed_one_does_not() {
    let t = Test::example();
    let (pkcs1, pkcs8, public) = key();
    t.write("state-keys/dkim.pem", &pkcs1);
    with_dkim(&t, "state-keys/dkim.pem");
    t.must(&["check"], 0);
    t.must(&["run", "--once", "--now", "2027-01-21T09:00"], 0);
    let mails = t.mails("outbox/mail");
    assert_eq!(mails.len(), 62);
    let script = r#"
import sys, dkim
txt = ("v=DKIM1; k=rsa; p=" + sys.argv[1]).encode()
def dns(name, timeout=5):
    return txt if name.decode().startswith("kkr2027._domainkey.example.org") else None
good = bad = 0
for f in sys.argv[2:]:
    data = open(f, "rb").read()
    good += dkim.verify(data, dnsfunc=dns)
    changed = data.replace(b"Subject: KKR Hovedstaden", b"Subject: KKR Hovedstad", 1)
    assert changed != data
    bad += not dkim.verify(changed, dnsfunc=dns)
print(good, bad)
"#;
    let mut cmd = std::process::Command::new("python3");
    cmd.args(["-c", script, &public]);
    for m in &mails {
        cmd.arg(t.path("outbox/mail").join(m));
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "62 62",
        "every one verifies; changed ones fail"
    );

    // A PKCS#8 key is refused by check, saying how to convert it.
    t.write("state-keys/pkcs8.pem", &pkcs8);
    with_dkim(&t, "state-keys/pkcs8.pem");
    let out = t.kkr(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("openssl rsa -in nøgle.pem -traditional"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
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
