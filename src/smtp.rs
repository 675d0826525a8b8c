//! The SMTP delivery agent: one connection kept for the messages of a pass (reconnected on
//! failure), each message handed over step by step with lettre's SMTP client, and the
//! server's reply classified by the step that refused it (SPEC §6 "SMTP refusals"): a
//! refusal of the session (greeting, EHLO, STARTTLS, authentication, MAIL FROM) concerns
//! every recipient and is retried; only RCPT TO and DATA refuse one recipient. TLS is
//! required except to this machine.

use std::path::Path;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{
    ClientId, Extension, MailBodyParameter, MailParameter,
};

use crate::config::{SmtpConfig, Tls};
use crate::error::{Error, Result};
use crate::mail::{Attempt, Transport};

/// How the connection is secured.
enum Security {
    /// TLS from the first byte.
    Wrapper(TlsParameters),
    /// STARTTLS, required: never a plaintext fallback.
    Required(TlsParameters),
    /// None (a server on this machine only).
    None,
}

/// Sends through an SMTP server, keeping one connection while it works.
pub(crate) struct Smtp {
    host: String,
    port: u16,
    timeout: Duration,
    hello: ClientId,
    security: Security,
    credentials: Option<Credentials>,
    conn: Option<SmtpConnection>,
    /// The largest message the server takes (its EHLO `SIZE`), if it said.
    max_size: Option<usize>,
}

/// The name kkr gives in EHLO: `helo_name`, else this machine's full name, else the From
/// address's domain (a bare host name like `vm` is refused by many servers).
fn hello_name(config: &SmtpConfig, from: &Mailbox) -> ClientId {
    if let Some(name) = &config.helo_name {
        return ClientId::Domain(name.clone());
    }
    // lettre's default is this machine's host name.
    let host = match ClientId::default() {
        ClientId::Domain(h) => h,
        _ => String::new(),
    };
    if host.contains('.') {
        ClientId::Domain(host)
    } else {
        ClientId::Domain(from.email.domain().to_owned())
    }
}

/// The certificates of an extra trusted CA from `file` (PEM, relative to the workspace
/// `root`) as DER, each checked to be a certificate rustls takes as a root; a file that
/// cannot be read or holds none is a configuration error naming the file and `section`.
/// The WebDAV target reads its `ca_file` here too.
pub(crate) fn trusted_ca(
    root: &Path,
    file: &Path,
    section: &str,
) -> Result<Vec<Vec<u8>>> {
    let name = file.display();
    let pem = std::fs::read(root.join(file)).map_err(|e| Error::Invalid {
        report: format!("council.toml: fejl: {section} ca_file {name} kan ikke læses: {e}\n  hjælp: læg CA-certifikatet (PEM) i arbejdsmappen, og skriv stien i ca_file\n"),
    })?;
    let bad = |why: String| Error::Invalid {
        report: format!(
            "council.toml: fejl: {section} ca_file {name} er ikke et PEM-certifikat: {why}\n  hjælp: brug CA'ens certifikat i PEM-form (-----BEGIN CERTIFICATE-----)\n"
        ),
    };
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item.map_err(|e| bad(e.to_string()))? {
            ureq::tls::PemItem::Certificate(c) => certs.push(c.der().to_vec()),
            // A key next to the certificate is no use as a root, and no harm.
            _ => continue,
        }
    }
    if certs.is_empty() {
        return Err(bad("der er intet certifikat i filen".into()));
    }
    // rustls parses a root only when the TLS setup is built: build one now, so a block
    // that is no certificate is named here, not blamed on the server later.
    for der in &certs {
        let cert = Certificate::from_der(der.clone()).map_err(|e| bad(e.to_string()))?;
        TlsParameters::builder("localhost".into())
            .add_root_certificate(cert)
            .build()
            .map_err(|_| bad("certifikatet i filen kan ikke læses".into()))?;
    }
    Ok(certs)
}

impl Smtp {
    /// Connects lazily to the configured server; the password comes from the environment,
    /// an extra trusted CA from `ca_file` (relative to the workspace `root`).
    pub(crate) fn new(config: &SmtpConfig, root: &Path, from: &Mailbox) -> Result<Self> {
        let mut tls = TlsParameters::builder(config.host.clone());
        if let Some(file) = &config.ca_file {
            for der in trusted_ca(root, file, "[mail.smtp]")? {
                let cert = Certificate::from_der(der).expect(
                    "lettre's rustls from_der keeps the bytes; trusted_ca parsed them",
                );
                tls = tls.add_root_certificate(cert);
            }
        }
        let tls = || {
            tls.clone().build().map_err(|e| {
                Error::Usage(format!("TLS til {} kan ikke sættes op: {e}", config.host))
            })
        };
        let security = match config.tls {
            Tls::Tls => Security::Wrapper(tls()?),
            Tls::Starttls => Security::Required(tls()?),
            Tls::None => Security::None,
        };
        let credentials = match (&config.user, &config.password_env) {
            (Some(user), Some(var)) => {
                let password = std::env::var(var).map_err(|_| Error::Invalid {
                    report: format!("council.toml: fejl: miljøvariablen {var} med SMTP-adgangskoden er ikke sat, så intet kan sendes\n  hjælp: sæt {var} i kkr's miljø (fx i systemd-enheden) og start kkr igen\n"),
                })?;
                Some(Credentials::new(user.clone(), password))
            }
            _ => None,
        };
        Ok(Self {
            host: config.host.clone(),
            port: config.port,
            timeout: Duration::from_secs(config.timeout_secs),
            hello: hello_name(config, from),
            security,
            credentials,
            conn: None,
            max_size: None,
        })
    }

    /// Opens a session: greeting, EHLO, TLS, authentication; remembers the server's SIZE
    /// (lettre does not keep it, so EHLO is asked again).
    fn connect(
        &mut self,
    ) -> std::result::Result<SmtpConnection, lettre::transport::smtp::Error> {
        let wrapper = match &self.security {
            Security::Wrapper(p) => Some(p),
            _ => None,
        };
        let server = (self.host.as_str(), self.port);
        let mut conn = SmtpConnection::connect(
            server,
            Some(self.timeout),
            &self.hello,
            wrapper,
            None,
        )?;
        if let Security::Required(p) = &self.security {
            conn.starttls(p, &self.hello)?;
        }
        if let Some(c) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], c)?;
        }
        self.max_size = conn.command(Ehlo::new(self.hello.clone())).ok().and_then(|r| {
            r.message().find_map(|l| {
                let n = l.trim().strip_prefix("SIZE ")?;
                n.trim().parse::<usize>().ok().filter(|n| *n > 0)
            })
        });
        Ok(conn)
    }
}

/// MAIL FROM with the parameters the message needs (as lettre's own client does).
fn mail_from(
    conn: &mut SmtpConnection,
    envelope: &Envelope,
    bytes: &[u8],
) -> std::result::Result<(), lettre::transport::smtp::Error> {
    let mut options = Vec::new();
    let non_ascii =
        envelope.to().iter().chain(envelope.from()).any(|a| !a.to_string().is_ascii());
    if non_ascii && conn.server_info().supports_feature(Extension::SmtpUtfEight) {
        options.push(MailParameter::SmtpUtfEight);
    }
    if !bytes.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    conn.command(Mail::new(envelope.from().cloned(), options)).map(|_| ())
}

/// A message's bytes as DATA puts them on the wire (RFC 5321 §4.5.2): a period that starts
/// a line gets another in front, and the end-of-data line follows. It is what lettre's
/// `SmtpConnection::message` writes, byte for byte, but copies the runs between such
/// periods whole instead of pushing and matching every byte (a 1 MB message has a handful
/// of them, in the text parts; base64 has none). Handed to `SmtpConnection::command`, which
/// writes a `Display` and reads one reply, as DATA's content must be.
struct DataContent<'a>(&'a str);

impl std::fmt::Display for DataContent<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut rest = self.0;
        if rest.starts_with('.') {
            f.write_str(".")?;
        }
        while let Some(i) = memchr::memmem::find(rest.as_bytes(), b"\r\n.") {
            // Up to and with the line's period (ASCII: a char boundary), then one more.
            let (line, after) = rest.split_at(i + 3);
            f.write_str(line)?;
            f.write_str(".")?;
            rest = after;
        }
        f.write_str(rest)?;
        f.write_str("\r\n.\r\n")
    }
}

/// Hands a message's content over after DATA's 354 and reads the server's verdict.
fn data(
    conn: &mut SmtpConnection,
    bytes: &[u8],
) -> std::result::Result<(), lettre::transport::smtp::Error> {
    match std::str::from_utf8(bytes) {
        Ok(text) => conn.command(DataContent(text)),
        // lettre formats text as UTF-8; should a message not be, lettre's own writer.
        Err(_) => conn.message(bytes),
    }
    .map(|_| ())
}

impl Transport for Smtp {
    fn send(&mut self, _key: &str, message: &lettre::Message) -> Result<Attempt> {
        let envelope = message.envelope().clone();
        let bytes = message.formatted();
        let session = |e: lettre::transport::smtp::Error| Attempt::Session(refusal(&e));
        // A kept connection may have been closed by the server meanwhile: one new try.
        let mut kept = self.conn.take().filter(|c| !c.has_broken());
        let reused = match kept.as_mut() {
            Some(c) => mail_from(c, &envelope, &bytes).is_ok(),
            None => false,
        };
        let mut conn = match kept {
            Some(c) if reused => c,
            other => {
                if let Some(mut c) = other {
                    c.abort();
                }
                let mut c = match self.connect() {
                    Ok(c) => c,
                    Err(e) => return Ok(session(e)),
                };
                if let Err(e) = mail_from(&mut c, &envelope, &bytes) {
                    c.abort();
                    return Ok(session(e));
                }
                c
            }
        };
        // A message over the server's SIZE goes as the "too large" mail without waiting for
        // a 552 after the upload (RFC 1870).
        if let Some(max) = self.max_size.filter(|max| bytes.len() > *max) {
            let _ = conn.command(Rset);
            self.conn = Some(conn);
            return Ok(Attempt::TooLarge(format!(
                "beskeden fylder {} bytes; mailserveren tager højst {max} (SIZE)",
                bytes.len()
            )));
        }
        for to in envelope.to() {
            if let Err(e) = conn.command(Rcpt::new(to.clone(), Vec::new())) {
                conn.abort();
                return Ok(classify(&e));
            }
        }
        let data = conn.command(Data).and_then(|_| data(&mut conn, &bytes));
        match data {
            Ok(_) => {
                self.conn = Some(conn);
                Ok(Attempt::Sent)
            }
            Err(e) => {
                conn.abort();
                Ok(classify(&e))
            }
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        if let Some(mut c) = self.conn.take() {
            let _ = c.quit();
        }
    }
}

/// Why a session failed, for the log and the secretariat: a server certificate kkr does not
/// trust is kkr's refusal, not the server's, and its usual fix is `ca_file`.
fn refusal(e: &lettre::transport::smtp::Error) -> String {
    // rustls's text for a certificate that fails verification (lettre passes it as an I/O
    // error, so there is no predicate to ask).
    if e.to_string().contains("invalid peer certificate") {
        format!(
            "mailserverens certifikat blev ikke godkendt ({e}); er det udstedt af en intern CA, så skriv CA'ens certifikat i ca_file under [mail.smtp]"
        )
    } else {
        format!("mailserveren afviste forbindelsen: {e}")
    }
}

/// What a refusal of one recipient's RCPT TO or DATA means: a 5xx is final, and a 552 (RFC
/// 5321: exceeded storage allocation) or the enhanced 5.3.4 (message too big for system)
/// says it is the size; a 4xx, a timeout or a connection that failed may go through later.
fn classify(e: &lettre::transport::smtp::Error) -> Attempt {
    let reason = e.to_string();
    if !e.is_permanent() {
        Attempt::Defer(reason)
    } else if e.status().is_some_and(|c| c.to_string() == "552")
        || reason.contains("5.3.4")
    {
        Attempt::TooLarge(reason)
    } else {
        Attempt::Bounce(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// lettre's DATA transparency (`ClientCodec::encode` in lettre 0.11), byte by byte.
    fn lettre_codec(message: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        // 0: middle of a line, 1: after CR, 2: start of a line.
        let mut state = 2;
        for &b in message {
            out.push(b);
            state = match (b, state) {
                (b'\r', _) => 1,
                (b'\n', 1) => 2,
                (_, 1) => 0,
                (b'.', 2) => {
                    out.push(b'.');
                    0
                }
                (_, 2) => 0,
                (_, s) => s,
            };
        }
        out.extend_from_slice(b"\r\n.\r\n");
        out
    }

    #[test]
    fn data_content_is_stuffed_as_lettre_stuffs_it() {
        let cases = [
            "",
            ".",
            "..\r\n",
            ".start\r\nmiddle.\r\n.\r\n..two\r\n\r\n.\r\nend",
            "bare\n.lf\r.cr\r\r\n.crcrlf\r\n",
            "æøå\r\n.Å\r\n",
            "trailing\r\n.",
        ];
        for case in cases {
            assert_eq!(
                DataContent(case).to_string().into_bytes(),
                lettre_codec(case.as_bytes()),
                "{case:?}"
            );
        }
        // Every arrangement of the bytes that matter, up to six long.
        let alphabet = ['.', '\r', '\n', 'a'];
        let mut text = String::new();
        for n in 0..4096u32 {
            text.clear();
            let mut k = n;
            for _ in 0..6 {
                text.push(alphabet[(k % 4) as usize]);
                k /= 4;
            }
            assert_eq!(
                DataContent(&text).to_string().into_bytes(),
                lettre_codec(text.as_bytes()),
                "{text:?}"
            );
        }
    }
}
