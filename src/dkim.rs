//! The DKIM key: read from `[mail.dkim]` (PKCS#1 or PKCS#8 PEM) into lettre's signing
//! setup, made anew by `kkr dkim` (RSA-2048), and the DNS TXT record that publishes it.

use std::path::Path;

use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};

use crate::config::{DkimConfig, DkimKey};
use crate::error::{Error, Result};

/// The size of the keys kkr makes: what Gmail and Microsoft verify, and fits one TXT record.
pub(crate) const KEY_BITS: usize = 2048;

/// Smaller keys are refused: receivers treat them as unsigned (RFC 8301).
const MIN_BITS: usize = 1024;

/// The headers signed: the ones a receiver shows and DMARC aligns, and the MIME version.
/// (Content-Type cannot be signed: lettre writes a multipart message's Content-Type after
/// the signature is made, so the signature would never verify.)
const SIGNED: [&str; 7] =
    ["From", "To", "Subject", "Date", "Message-ID", "Reply-To", "MIME-Version"];

fn invalid(why: String) -> Error {
    Error::Invalid { report: format!("council.toml: fejl: {why}\n") }
}

/// The signing setup of `[mail.dkim]` (RSA-SHA256, relaxed/relaxed over [`SIGNED`]), with
/// the key from its file (relative to the workspace `root`) or environment variable.
pub(crate) fn signing_config(
    config: &DkimConfig,
    root: &Path,
) -> Result<lettre::message::dkim::DkimConfig> {
    use lettre::message::dkim::{
        DkimCanonicalization, DkimCanonicalizationType, DkimSigningAlgorithm,
        DkimSigningKey,
    };
    use lettre::message::header::HeaderName;
    let key = read_key(config, root)?;
    // lettre reads PKCS#1 only: a PKCS#8 key is handed over converted.
    let pem = key
        .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
        .map_err(|e| invalid(format!("DKIM-nøglen kan ikke bruges: {e}")))?;
    let key = DkimSigningKey::new(&pem, DkimSigningAlgorithm::Rsa)
        .map_err(|e| invalid(format!("DKIM-nøglen kan ikke bruges: {e}")))?;
    let headers = SIGNED.into_iter().map(HeaderName::new_from_ascii_str).collect();
    let relaxed = DkimCanonicalization {
        header: DkimCanonicalizationType::Relaxed,
        body: DkimCanonicalizationType::Relaxed,
    };
    Ok(lettre::message::dkim::DkimConfig::new(
        config.selector.clone(),
        config.domain.clone(),
        key,
        headers,
        relaxed,
    ))
}

/// The private key of `[mail.dkim]`, in either PEM form; errors say what to do, in Danish.
pub(crate) fn read_key(config: &DkimConfig, root: &Path) -> Result<RsaPrivateKey> {
    let pem = match &config.key {
        DkimKey::File(f) => {
            let bytes = crate::fs::read(&root.join(f)).map_err(|_| {
                invalid(format!("DKIM-nøglen {} kan ikke læses\n  hjælp: lav den med kkr dkim, eller læg nøglen (PEM) i arbejdsmappen og skriv stien i key_file", f.display()))
            })?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
        DkimKey::Env(var) => std::env::var(var).map_err(|_| {
            invalid(format!("miljøvariablen {var} med DKIM-nøglen er ikke sat\n  hjælp: sæt {var} til nøglens PEM-tekst i kkr's miljø"))
        })?,
    };
    parse_key(&pem)
}

/// A PEM private key: PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8 (`BEGIN PRIVATE KEY`).
pub(crate) fn parse_key(pem: &str) -> Result<RsaPrivateKey> {
    let pem = pem.trim();
    let key = if pem.contains("BEGIN PRIVATE KEY") {
        RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| e.to_string())
    } else {
        RsaPrivateKey::from_pkcs1_pem(pem).map_err(|e| e.to_string())
    }
    .map_err(|e| {
        invalid(format!("DKIM-nøglen kan ikke læses som en RSA-nøgle ({e})\n  hjælp: brug en RSA-nøgle i PEM-form (BEGIN RSA PRIVATE KEY eller BEGIN PRIVATE KEY), eller lav en ny med kkr dkim --selector NYT-NAVN (kkr dkim erstatter aldrig en fil, der findes)"))
    })?;
    let bits = key.size() * 8;
    if bits < MIN_BITS {
        return Err(invalid(format!(
            "DKIM-nøglen har kun {bits} bit; modtagerne regner den for usigneret\n  hjælp: lav en ny på {KEY_BITS} bit med kkr dkim --selector NYT-NAVN"
        )));
    }
    Ok(key)
}

/// A new RSA-2048 key from the operating system's random source, as PKCS#1 PEM.
pub(crate) fn generate() -> Result<(RsaPrivateKey, String)> {
    let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, KEY_BITS)
        .map_err(|e| invalid(format!("en DKIM-nøgle kan ikke laves: {e}")))?;
    let pem = key
        .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
        .map_err(|e| invalid(format!("en DKIM-nøgle kan ikke laves: {e}")))?;
    Ok((key, pem.to_string()))
}

/// The TXT record's value that publishes `key`'s public half (RFC 6376 §3.6.1).
pub(crate) fn txt_value(key: &RsaPrivateKey) -> String {
    use base64::Engine;
    let der = RsaPublicKey::from(key)
        .to_public_key_der()
        .expect("an RSA public key encodes as DER");
    let p = base64::engine::general_purpose::STANDARD.encode(der.as_bytes());
    format!("v=DKIM1; k=rsa; p={p}")
}

/// The record as a zone-file line: the value in quoted strings of at most 255 bytes, as DNS
/// needs for a 2048-bit key (resolvers join them).
pub(crate) fn zone_line(selector: &str, domain: &str, value: &str) -> String {
    let strings: Vec<String> = value
        .as_bytes()
        .chunks(255)
        .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
        .collect();
    format!("{selector}._domainkey.{domain}. IN TXT ( {} )", strings.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_key_reads_back_in_both_forms_and_signs() {
        let (key, pem) = generate().unwrap();
        assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        assert_eq!(parse_key(&pem).unwrap(), key);
        let pkcs8 =
            rsa::pkcs8::EncodePrivateKey::to_pkcs8_pem(&key, rsa::pkcs8::LineEnding::LF)
                .unwrap();
        assert!(pkcs8.contains("BEGIN PRIVATE KEY"));
        assert_eq!(parse_key(&pkcs8).unwrap(), key);
        assert_eq!(key.size() * 8, KEY_BITS);
    }

    #[test]
    fn the_record_splits_into_strings_of_255_bytes() {
        let (key, _) = generate().unwrap();
        let value = txt_value(&key);
        assert!(value.starts_with("v=DKIM1; k=rsa; p=MIIBIjAN"), "{value}");
        let line = zone_line("kkr2027", "example.org", &value);
        assert!(
            line.starts_with("kkr2027._domainkey.example.org. IN TXT ( \""),
            "{line}"
        );
        let strings: Vec<&str> =
            line.trim_end_matches(" )").split('"').skip(1).step_by(2).collect();
        assert!(strings.len() >= 2 && strings.iter().all(|s| s.len() <= 255), "{line}");
        assert_eq!(strings.concat(), value);
    }

    #[test]
    fn garbage_and_small_keys_are_refused_in_danish() {
        let Err(Error::Invalid { report }) = parse_key("not a key") else { panic!() };
        assert!(report.contains("kan ikke læses som en RSA-nøgle"), "{report}");
        let small = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 512).unwrap();
        let pem = small.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        let Err(Error::Invalid { report }) = parse_key(&pem) else { panic!() };
        assert!(report.contains("kun 512 bit"), "{report}");
    }
}
