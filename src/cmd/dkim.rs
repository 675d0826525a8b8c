//! `kkr dkim [--selector NAME]`: makes the DKIM key in the workspace (or reads the one
//! `[mail.dkim]` names) and prints the DNS TXT record to publish and the council.toml lines.

use std::path::PathBuf;

use crate::args::DkimCommand;
use crate::config::DkimKey;
use crate::error::{Error, Result};

use super::Env;

/// Where a key comes from, and whether this run made it.
struct Key {
    key: rsa::RsaPrivateKey,
    /// The key file (relative to the workspace), or `None` for `key_env`.
    file: Option<PathBuf>,
    made: bool,
}

/// `kkr dkim`: running it again prints the same record (an existing key is never replaced).
pub(crate) fn dkim(env: &Env, cmd: &DkimCommand) -> Result<u8> {
    let ws = env.ws();
    let config = ws.load_config()?;
    let current = config.mail.dkim.as_ref();
    let selector = match (&cmd.selector, current) {
        (Some(s), _) => {
            let s = s.trim().to_ascii_lowercase();
            if !crate::config::is_dns_name(&s) {
                return Err(Error::Usage(format!(
                    "\"{s}\" kan ikke være et selector-navn: kun bogstaver a-z, tal, - og .\n  hjælp: fx --selector kkr{}",
                    env.clock.now().year()
                )));
            }
            s
        }
        (None, Some(c)) => c.selector.clone(),
        (None, None) => format!("kkr{}", env.clock.now().year()),
    };
    let domain = current
        .map(|c| c.domain.clone())
        .unwrap_or_else(|| config.mail.from.email.domain().to_ascii_lowercase());
    let rotating = current.is_some_and(|c| c.selector != selector);
    let file = match current.map(|c| &c.key) {
        Some(DkimKey::Env(_)) if !rotating => None,
        Some(DkimKey::File(f)) if !rotating => Some(f.clone()),
        _ if rotating => Some(PathBuf::from(format!("state/dkim-{selector}.pem"))),
        _ => Some(PathBuf::from("state/dkim.pem")),
    };
    let Some(key) = key(env, current.filter(|_| !rotating), file)? else {
        crate::outln!(
            "Prøve: der laves ingen nøgle, og intet gemmes.\n  hjælp: kør kkr dkim uden --dry-run for at lave nøglen"
        );
        return Ok(0);
    };
    crate::out!(
        "{}",
        instructions(&key, &selector, &domain, current.is_none() || rotating)
    );
    Ok(0)
}

/// The key to publish: the configured one, else the file's, else a new one (`None`: a
/// rehearsal that would have made one).
fn key(
    env: &Env,
    current: Option<&crate::config::DkimConfig>,
    file: Option<PathBuf>,
) -> Result<Option<Key>> {
    let root = &env.ws().root;
    let Some(file) = file else {
        let c = current.expect("key_env comes from [mail.dkim]");
        return Ok(Some(Key {
            key: crate::dkim::read_key(c, root)?,
            file: None,
            made: false,
        }));
    };
    let path = root.join(&file);
    if path.exists() {
        let pem = crate::fs::read(&path)?;
        let key = crate::dkim::parse_key(&String::from_utf8_lossy(&pem)).map_err(
            |e| match e {
                Error::Invalid { report } => Error::Invalid {
                    report: report.replacen(
                        "council.toml",
                        &file.display().to_string(),
                        1,
                    ),
                },
                e => e,
            },
        )?;
        return Ok(Some(Key { key, file: Some(file), made: false }));
    }
    if env.dry_run {
        return Ok(None);
    }
    let (key, pem) = crate::dkim::generate()?;
    crate::fs::write_new_private(&path, pem.as_bytes())?;
    Ok(Some(Key { key, file: Some(file), made: true }))
}

/// What the secretariat's IT does next: the DNS record, the council.toml lines, the check.
fn instructions(key: &Key, selector: &str, domain: &str, configure: bool) -> String {
    let value = crate::dkim::txt_value(&key.key);
    let mut out = String::new();
    match (&key.file, key.made) {
        (Some(f), true) => out.push_str(&format!(
            "Ny DKIM-nøgle (RSA {} bit) i {}: kun brugeren, der kører kkr, kan læse den.\nTag den med i sikkerhedskopien, og giv den aldrig til andre.\n\n",
            crate::dkim::KEY_BITS,
            f.display()
        )),
        (Some(f), false) => {
            out.push_str(&format!("DKIM-nøglen i {} (ingen ny nøgle lavet).\n\n", f.display()))
        }
        (None, _) => out.push_str("DKIM-nøglen fra key_env (ingen ny nøgle lavet).\n\n"),
    }
    out.push_str(&format!(
        "1. Læg denne TXT-post i DNS for {domain}:\n   navn:  {selector}._domainkey.{domain}\n   værdi: {value}\n   som linje i en zonefil:\n   {}\n\n",
        crate::dkim::zone_line(selector, domain, &value)
    ));
    if configure {
        let file = key.file.as_ref().map(|f| f.display().to_string()).unwrap_or_default();
        out.push_str(&format!(
            "2. Skriv i council.toml (i stedet for en tidligere [mail.dkim]), når DNS viser posten\n   (se efter med: dig +short TXT {selector}._domainkey.{domain}):\n   [mail.dkim]\n   domain = \"{domain}\"\n   selector = \"{selector}\"\n   key_file = \"{file}\"\n   Skifter I nøgle, så lad den gamle post blive i DNS en uge endnu: mails undervejs\n   kontrolleres stadig med den.\n\n"
        ));
    } else if key.made {
        out.push_str(&format!(
            "2. council.toml nævner allerede denne nøgle under [mail.dkim]. Står der allerede en\n   TXT-post for {selector} i DNS, så skal den erstattes med den nye ovenfor, før kkr\n   sender; ellers afviser modtagerne signaturen. (Vil I hellere skifte navn, så kør\n   kkr dkim --selector NYT-NAVN.)\n\n"
        ));
    } else {
        out.push_str(
            "2. council.toml bruger allerede denne nøgle under [mail.dkim].\n\n",
        );
    }
    out.push_str(
        "3. Kontrollér med kkr check, og genstart kkr (systemctl restart kkr).\n",
    );
    out
}
