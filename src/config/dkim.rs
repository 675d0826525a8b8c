//! `[mail.dkim]`: kkr signs every message itself (DKIM, RSA-SHA256, relaxed/relaxed), with
//! a key from a file in the workspace or an environment variable.

use std::path::PathBuf;

use crate::spanned::TomlReader;

/// `[mail.dkim]`.
#[derive(Debug, Clone)]
pub struct DkimConfig {
    /// The `d=` domain: the From address's domain or a parent of it.
    pub domain: String,
    /// The `s=` selector: the key's name in DNS (`SELECTOR._domainkey.DOMAIN`).
    pub selector: String,
    /// Where the private key (PEM) comes from.
    pub key: DkimKey,
}

/// Where the DKIM private key comes from.
#[derive(Debug, Clone)]
pub enum DkimKey {
    /// A PEM file, relative to the workspace.
    File(PathBuf),
    /// An environment variable holding the PEM text.
    Env(String),
}

/// Reads `[mail.dkim]`; `from_domain` is the From address's domain, which `domain` must
/// cover.
pub(super) fn read_dkim(
    r: &mut TomlReader,
    t: &dyn toml_edit::TableLike,
    from_domain: &str,
) -> Option<DkimConfig> {
    r.unknown_keys(t, &["domain", "selector", "key_file", "key_env"], " i [mail.dkim]");
    let domain = r.string(t, "domain", true)?;
    let selector = r.string(t, "selector", true)?;
    let label_ok = is_dns_name;
    let d = domain.value.trim().to_ascii_lowercase();
    let from = from_domain.to_ascii_lowercase();
    if !label_ok(&d) || !(from == d || from.ends_with(&format!(".{d}"))) {
        r.problem(
            domain.span.clone(),
            format!(
                "DKIM-domænet \"{}\" passer ikke til afsenderens domæne {from}",
                domain.value
            ),
            format!(
                "skriv domain = \"{from}\" (afsenderadressens domæne under [mail] from)"
            ),
        );
        return None;
    }
    if !label_ok(&selector.value) {
        r.problem(
            selector.span,
            "selector må kun bestå af bogstaver, tal, - og .",
            "fx selector = \"kkr2027\"",
        );
        return None;
    }
    let file = r.string(t, "key_file", false);
    let env = r.string(t, "key_env", false);
    let key = match (file, env) {
        (Some(f), None) => DkimKey::File(PathBuf::from(f.value)),
        (None, Some(e)) => DkimKey::Env(e.value),
        (f, e) => {
            let span = f.as_ref().or(e.as_ref()).and_then(|s| s.span.clone());
            r.problem(
                span,
                "[mail.dkim] skal have enten key_file eller key_env (ikke begge)",
                "fx key_file = \"state/dkim.pem\" eller key_env = \"KKR_DKIM_KEY\"",
            );
            return None;
        }
    };
    Some(DkimConfig { domain: d, selector: selector.value, key })
}

/// A DNS name of labels of letters, digits and `-` (a domain or a selector).
pub(crate) fn is_dns_name(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|l| {
            !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}
