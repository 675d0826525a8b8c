//! `[mail.smtp]`: the mail server, how the connection is secured, and how kkr introduces
//! itself.

use std::path::PathBuf;

use super::is_loopback;
use crate::spanned::TomlReader;

/// `[mail.smtp]`.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// Server host name or address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// How the connection is secured.
    pub tls: Tls,
    /// Login name, if the server wants one.
    pub user: Option<String>,
    /// Name of the environment variable that holds the password.
    pub password_env: Option<String>,
    /// kkr's own deadline for each SMTP step, in seconds.
    pub timeout_secs: u64,
    /// The name kkr gives in EHLO (default: this machine's full name, else the From
    /// domain).
    pub helo_name: Option<String>,
    /// An extra trusted CA (PEM), for an internal relay's certificate; relative to the
    /// workspace. Certificates are still verified.
    pub ca_file: Option<PathBuf>,
}

/// Connection security for SMTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// TLS from the first byte (port 465).
    Tls,
    /// Plain connection upgraded with STARTTLS (port 587), required.
    Starttls,
    /// No encryption: only for a server on this machine.
    None,
}

pub(super) fn read_smtp(
    r: &mut TomlReader,
    t: &dyn toml_edit::TableLike,
) -> Option<SmtpConfig> {
    r.unknown_keys(
        t,
        &[
            "host",
            "port",
            "tls",
            "user",
            "password_env",
            "timeout_secs",
            "helo_name",
            "ca_file",
        ],
        " i [mail.smtp]",
    );
    let host = r.string(t, "host", true)?;
    let port = match r.integer(t, "port", false) {
        Some(p) => match u16::try_from(p.value) {
            Ok(port) if port > 0 => port,
            _ => {
                r.problem(
                    p.span,
                    "port skal være et tal mellem 1 og 65535",
                    "normalt 587 (starttls) eller 465 (tls)",
                );
                return None;
            }
        },
        None => 587,
    };
    let tls = match r.string(t, "tls", false) {
        None => Tls::Starttls,
        Some(s) => match s.value.as_str() {
            "tls" => Tls::Tls,
            "starttls" => Tls::Starttls,
            "none" if is_loopback(&host.value) => Tls::None,
            "none" => {
                r.problem(
                    s.span,
                    "tls = \"none\" er kun tilladt til en server på denne maskine",
                    "brug tls = \"starttls\" eller \"tls\"",
                );
                return None;
            }
            other => {
                r.problem(
                    s.span,
                    format!("ukendt tls-værdi \"{other}\""),
                    "brug \"tls\", \"starttls\" eller \"none\"",
                );
                return None;
            }
        },
    };
    let user = r.string(t, "user", false);
    let password_env = r.string(t, "password_env", false);
    if user.is_some() != password_env.is_some() {
        let span = user.as_ref().or(password_env.as_ref()).and_then(|s| s.span.clone());
        r.problem(
            span,
            "user og password_env skal angives begge eller ingen af dem",
            "tilføj den manglende eller slet begge",
        );
    }
    let timeout_secs = r
        .integer_in(
            t,
            "timeout_secs",
            1..=600,
            "timeout_secs skal være mellem 1 og 600",
            "60 sekunder er et godt valg",
        )
        .map_or(60, |s| s as u64);
    let helo_name = read_helo_name(r, t);
    let ca_file = r.string(t, "ca_file", false).map(|c| PathBuf::from(c.value));
    Some(SmtpConfig {
        helo_name,
        ca_file,
        timeout_secs,
        host: host.value,
        port,
        tls,
        user: user.map(|u| u.value),
        password_env: password_env.map(|p| p.value),
    })
}

/// `helo_name`: a fully qualified name (labels of letters, digits and `-`, at least two).
fn read_helo_name(r: &mut TomlReader, t: &dyn toml_edit::TableLike) -> Option<String> {
    r.string(t, "helo_name", false).and_then(|h| {
        let ok = h.value.contains('.')
            && h.value.split('.').all(|l| {
                !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !ok {
            r.problem(
                h.span,
                format!("helo_name \"{}\" er ikke et fuldt maskinnavn", h.value),
                "skriv maskinens fulde navn, fx helo_name = \"kkr.kl.dk\"",
            );
        }
        ok.then_some(h.value)
    })
}
