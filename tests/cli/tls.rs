//! TLS with a certificate from a test CA: SMTP (STARTTLS) and WebDAV over HTTPS, refused
//! without `ca_file`, delivered with it, never in plain text.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use crate::deliver::recipients;
use crate::harness::{Test, stderr, stdout, wait_until};

const SEND: &str = "2027-01-21T09:00";

/// A test CA and a server certificate for 127.0.0.1 signed by it, made fresh
/// (`tests/fixtures/test_ca.py`).
pub(crate) struct Certs {
    dir: tempfile::TempDir,
}

impl Certs {
    /// Makes the CA and the server's certificate and key.
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("python3")
            .arg(fixture("test_ca.py"))
            .arg(dir.path())
            .output()
            .expect("python3 with cryptography is needed (.ci/run installs it)");
        assert!(
            out.status.success(),
            "test_ca.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self { dir }
    }

    /// The CA certificate (PEM), what a client is told to trust.
    pub(crate) fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The server's certificate (PEM).
    pub(crate) fn cert(&self) -> PathBuf {
        self.dir.path().join("server.pem")
    }

    /// The server's private key (PEM).
    pub(crate) fn key(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }

    /// Puts the CA certificate into a workspace as `certs/test-ca.pem`.
    pub(crate) fn install(&self, t: &Test) {
        t.write("certs/test-ca.pem", fs::read(self.ca()).unwrap());
    }
}

/// A file in `tests/fixtures/`.
pub(crate) fn fixture(name: &str) -> PathBuf {
    crate::harness::repo().join("tests/fixtures").join(name)
}

/// Starts a fixture that writes its port to the file `ready` once it listens, waits for
/// it, and returns the process with the port; its output goes to `ready` + `.log`.
pub(crate) fn spawn_ready(mut cmd: Command, ready: &Path) -> (Child, u16) {
    let log = fs::File::create(ready.with_extension("log")).unwrap();
    let mut child = cmd
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("python3 is needed for the test servers");
    wait_until("the test server to listen", Duration::from_secs(30), || {
        assert!(child.try_wait().unwrap().is_none(), "the test server stopped");
        ready.exists()
    });
    let port = fs::read_to_string(ready).unwrap().trim().parse().unwrap();
    (child, port)
}

/// An SMTP server on 127.0.0.1 offering STARTTLS with the test certificate
/// (`tests/fixtures/tls_smtp.py`); stopped on drop.
struct TlsSmtp {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

/// One thing the server saw (a line of its log).
#[derive(Debug)]
struct Event {
    /// `connect`, `starttls`, `MAIL`, `RCPT` or `DATA`.
    event: String,
    /// Whether the command came over TLS.
    tls: bool,
    /// DATA: the recipients.
    to: Vec<String>,
    /// DATA: the message.
    data: String,
}

impl TlsSmtp {
    fn start(certs: &Certs) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ready = dir.path().join("ready");
        let mut cmd = Command::new("python3");
        cmd.arg(fixture("tls_smtp.py"))
            .arg(certs.cert())
            .arg(certs.key())
            .arg(dir.path().join("log"))
            .arg(&ready);
        let (child, port) = spawn_ready(cmd, &ready);
        Self { child, port, dir }
    }

    /// Everything the server saw, in order.
    fn events(&self) -> Vec<Event> {
        let text = fs::read_to_string(self.dir.path().join("log")).unwrap_or_default();
        text.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
                Event {
                    event: s("event"),
                    tls: v["tls"].as_bool().unwrap_or(false),
                    to: v["to"]
                        .as_array()
                        .map(|a| {
                            a.iter().map(|x| x.as_str().unwrap().to_owned()).collect()
                        })
                        .unwrap_or_default(),
                    data: s("data"),
                }
            })
            .collect()
    }

    /// How many events of a kind the server saw.
    fn count(&self, event: &str) -> usize {
        self.events().iter().filter(|e| e.event == event).count()
    }

    /// The agenda messages per recipient, each recipient's Message-IDs (kkr's notices to
    /// the secretariat left out).
    fn agendas(&self) -> BTreeMap<String, Vec<String>> {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for e in self.events().iter().filter(|e| e.event == "DATA") {
            let parsed =
                mail_parser::MessageParser::default().parse(e.data.as_bytes()).unwrap();
            let notice = parsed.header_raw("Auto-Submitted").is_some();
            if notice || !parsed.subject().unwrap_or("").contains("dagsorden til mødet")
            {
                continue;
            }
            for to in &e.to {
                map.entry(to.clone())
                    .or_default()
                    .push(parsed.message_id().unwrap().to_owned());
            }
        }
        map
    }

    /// Requires that no mail command and no message ever came outside TLS.
    #[track_caller]
    fn assert_nothing_in_plain_text(&self) {
        let plain: Vec<_> = self
            .events()
            .into_iter()
            .filter(|e| matches!(e.event.as_str(), "MAIL" | "RCPT" | "DATA") && !e.tls)
            .collect();
        assert!(plain.is_empty(), "sent outside TLS: {plain:?}");
    }
}

impl Drop for TlsSmtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The example workspace mailing through `server` with STARTTLS; `extra` is added to
/// `[mail.smtp]`.
fn with_starttls(server: &TlsSmtp, extra: &str) -> Test {
    let t = Test::example();
    set_smtp(&t, server, extra);
    t
}

fn set_smtp(t: &Test, server: &TlsSmtp, extra: &str) {
    let config = fs::read_to_string(t.path("council.toml")).unwrap();
    let config = config.split("\n[mail.smtp]\n").next().unwrap().to_owned();
    t.write(
        "council.toml",
        format!(
            "{config}\n[mail.smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"starttls\"\ntimeout_secs = 10\n{extra}",
            server.port
        ),
    );
}

#[test]
fn starttls_to_a_certificate_from_an_unknown_ca_is_refused_and_retried_not_failed() {
    let certs = Certs::new();
    let server = TlsSmtp::start(&certs);
    let t = with_starttls(&server, "");
    certs.install(&t);

    // Without ca_file the test CA is not trusted: the handshake is refused, nothing goes.
    let out = t.must(&["run", "--once", "--now", SEND], 3);
    assert!(server.count("connect") >= 1, "kkr tried the server");
    assert_eq!(server.count("starttls"), 0, "no TLS session came up");
    assert_eq!(server.count("DATA"), 0, "nothing was delivered");
    server.assert_nothing_in_plain_text();
    let err = stderr(&out);
    assert!(
        err.contains("mailserverens certifikat blev ikke godkendt")
            && err.contains("ca_file"),
        "kkr says it refused the certificate, and what to do: {err}"
    );
    let status = stdout(&t.must(&["status", "2027-01-28", "--now", SEND], 0));
    let waiting = format!("0 sendt, {} venter, 0 fejlet", recipients(&t).len());
    assert!(
        status.contains(&waiting) && !status.contains("FEJLET"),
        "nobody failed for good: {status}"
    );

    // Another CA's certificate in ca_file is no way around the verification.
    let other = Certs::new();
    t.write("certs/other-ca.pem", fs::read(other.ca()).unwrap());
    set_smtp(&t, &server, "ca_file = \"certs/other-ca.pem\"\n");
    let tries = server.count("connect");
    t.must(&["run", "--once", "--now", "2027-01-21T09:30"], 3);
    assert!(server.count("connect") > tries, "kkr tried again");
    assert_eq!(server.count("starttls"), 0, "still no TLS session");
    assert_eq!(server.count("DATA"), 0);

    // The secretariat adds the CA: the retry delivers to every roster row once, over TLS.
    set_smtp(&t, &server, "ca_file = \"certs/test-ca.pem\"\n");
    t.must(&["run", "--once", "--now", "2027-01-21T10:00"], 0);
    let got = server.agendas();
    for r in recipients(&t) {
        assert_eq!(got.get(&r).map(Vec::len), Some(1), "{r} got the agenda once");
    }
    assert_eq!(got.len(), recipients(&t).len());
    assert!(server.count("starttls") >= 1);
    assert!(server.events().iter().filter(|e| e.event == "DATA").all(|e| e.tls));
    server.assert_nothing_in_plain_text();
    t.must(&["run", "--once", "--now", "2027-01-21T10:30"], 0);
    assert_eq!(server.agendas(), got, "nothing more on the next pass");
}

#[test]
fn a_ca_file_that_is_not_a_certificate_is_named_and_nothing_is_sent() {
    let certs = Certs::new();
    let server = TlsSmtp::start(&certs);
    let t = with_starttls(&server, "ca_file = \"certs/test-ca.pem\"\n");
    let not_a_cert =
        "-----BEGIN CERTIFICATE-----\naGVqIHZlcmRlbg==\n-----END CERTIFICATE-----\n";
    for (what, content) in [
        ("text", "ikke et certifikat\n".to_owned()),
        ("a key", fs::read_to_string(certs.key()).unwrap()),
        ("PEM that is no certificate", not_a_cert.to_owned()),
    ] {
        t.write("certs/test-ca.pem", content);
        let out = t.kkr(&["run", "--once", "--now", SEND]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{what}: a configuration error\n{err}");
        assert!(
            err.contains("ca_file certs/test-ca.pem er ikke et PEM-certifikat"),
            "{what}: {err}"
        );
        assert_eq!(server.count("connect"), 0, "{what}: kkr did not connect");
        // kkr check says so before anything is tried.
        let out = stdout(&t.must(&["check"], 1));
        assert!(out.contains("[mail.smtp] ca_file certs/test-ca.pem"), "{what}: {out}");
    }
}

#[test]
fn webdav_over_https_from_a_test_ca_is_refused_without_ca_file_and_published_with_it() {
    use crate::webdav::{LoggedDav, files, publish_to};
    let certs = Certs::new();
    let root = tempfile::tempdir().unwrap();
    let server = LoggedDav::start(root.path(), Some(&certs));
    let t = Test::example();
    certs.install(&t);
    let url = format!("https://127.0.0.1:{}/kkr-hovedstaden/", server.port);
    let original = fs::read_to_string(t.path("council.toml")).unwrap();
    let publish = |extra: &str| {
        t.write("council.toml", &original);
        publish_to(&t, &url, extra);
    };
    publish("");

    // Without ca_file the certificate is refused: nothing reaches the server, the
    // publishing is retried, and the members' mail goes anyway.
    let out = t.must(&["run", "--once", "--now", SEND], 3);
    let err = stderr(&out);
    assert!(
        err.contains("kunne ikke publicere")
            && err.contains("serverens certifikat blev ikke godkendt")
            && err.contains("ca_file under [publish]"),
        "{err}"
    );
    assert_eq!(server.requests(), Vec::<String>::new(), "no request got through");
    assert!(files(root.path()).is_empty(), "nothing was published");
    assert_eq!(t.mails("outbox/mail").len(), recipients(&t).len());

    // A ca_file that is no certificate is named, and still nothing is published.
    publish("ca_file = \"certs/intern.pem\"");
    t.write("certs/intern.pem", fs::read(certs.key()).unwrap());
    let out = t.must(&["run", "--once", "--now", "2027-01-21T09:05"], 1);
    let err = stderr(&out);
    assert!(
        err.contains("[publish] ca_file certs/intern.pem er ikke et PEM-certifikat"),
        "{err}"
    );
    assert!(files(root.path()).is_empty());

    // With the test CA: published, over TLS, with the certificate verified.
    publish("ca_file = \"certs/test-ca.pem\"");
    t.must(&["run", "--once", "--now", "2027-01-21T09:10"], 0);
    let agenda = root.path().join("kkr-hovedstaden/2027-01-28/dagsorden-offentlig.pdf");
    assert_eq!(
        fs::read(agenda).unwrap(),
        fs::read(t.path("outbox/2027-01-28/dagsorden-offentlig.pdf")).unwrap()
    );
    assert!(root.path().join("kkr-hovedstaden/meetings.json").is_file());
    assert!(server.requests().iter().any(|r| r.starts_with("PUT /kkr-hovedstaden/")));
}
