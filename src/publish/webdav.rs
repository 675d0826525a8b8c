//! The WebDAV target: each file PUT under a temporary name, then MOVEd into place with
//! `Overwrite: T`, so a reader never sees half a file.

use std::path::Path;
use std::time::Duration;

use ureq::tls::{Certificate, RootCerts, TlsConfig};

use super::{Publish, content_type, valid_name};
use crate::error::{Error, Result};

/// A WebDAV collection: PUT to a temporary name, then MOVE with `Overwrite: T`.
pub(crate) struct WebDav {
    base: String,
    agent: ureq::Agent,
    auth: Option<String>,
    /// The base collection is known to exist.
    base_ready: bool,
}

impl WebDav {
    /// A client for the collection at `base` (`https://…/`, or `http://` on loopback). With
    /// `ca_file` (relative to the workspace `root`) that CA is trusted too (beside the
    /// Mozilla roots); certificates are still verified.
    pub(crate) fn new(
        base: &str,
        auth: Option<(String, String)>,
        ca_file: Option<&Path>,
        root: &Path,
    ) -> Result<Self> {
        use base64::Engine as _;
        let base = if base.ends_with('/') { base.to_owned() } else { format!("{base}/") };
        let mut config = ureq::Agent::config_builder()
            .allow_non_standard_methods(true)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)));
        if let Some(file) = ca_file {
            // ureq takes a root set, not a root to add to its own (ureq#994): the set is
            // the same Mozilla roots it uses by default, plus this CA.
            let extra = crate::smtp::trusted_ca(root, file, "[publish]")?;
            let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|der| Certificate::from_der(der.as_ref()).to_owned())
                .chain(extra.iter().map(|der| Certificate::from_der(der).to_owned()))
                .collect::<Vec<_>>();
            config = config.tls_config(
                TlsConfig::builder().root_certs(RootCerts::from(roots)).build(),
            );
        }
        let agent = config.build().new_agent();
        let auth = auth.map(|(u, p)| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        });
        Ok(Self { base, agent, auth, base_ready: false })
    }

    fn request(
        &self,
        method: &str,
        name: &str,
        body: Vec<u8>,
        headers: &[(&str, String)],
    ) -> Result<u16> {
        self.request_full(method, &format!("{}{name}", self.base), name, body, headers)
    }

    /// A request to a full URL (`name` for the error).
    fn request_full(
        &self,
        method: &str,
        url: &str,
        name: &str,
        body: Vec<u8>,
        headers: &[(&str, String)],
    ) -> Result<u16> {
        let mut req = ureq::http::Request::builder().method(method).uri(url);
        if let Some(auth) = &self.auth {
            req = req.header("Authorization", auth);
        }
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let req = req.body(body).map_err(|e| Error::Publish {
            name: name.into(),
            reason: e.to_string(),
            transient: false,
        })?;
        match self.agent.run(req) {
            Ok(resp) => Ok(resp.status().as_u16()),
            Err(e) => Err(Error::Publish {
                name: name.into(),
                reason: refusal(&e),
                transient: true,
            }),
        }
    }

    fn check(name: &str, what: &str, status: u16) -> Result<()> {
        if (200..300).contains(&status) {
            return Ok(());
        }
        let reason = match status {
            401 | 403 => format!(
                "{what}: serveren afviste adgangen ({status}); tjek brugernavn og adgangskode"
            ),
            507 => format!("{what}: der er ikke plads på serveren ({status})"),
            _ => format!("{what}: serveren svarede {status}"),
        };
        // Server errors and a full disk may pass; a refused login or a bad path will not.
        let transient = status >= 500 || status == 408 || status == 429;
        Err(Error::Publish { name: name.into(), reason, transient })
    }

    /// Creates the collections above `name`, the base collection and any missing folder of
    /// the base path included (MKCOL; 405 "already there" is fine; a 409 "parent missing"
    /// creates the parent first). What exists is remembered for the process, so a running
    /// kkr sends no MKCOL for it again.
    fn collections(&mut self, name: &str) -> Result<()> {
        if !self.base_ready {
            self.mkcol_url(&self.base.clone(), 0)?;
            self.base_ready = true;
        }
        let parts: Vec<&str> = name.split('/').collect();
        for i in 1..parts.len() {
            let dir = format!("{}{}/", self.base, parts[..i].join("/"));
            self.mkcol_url(&dir, 0)?;
        }
        Ok(())
    }

    /// MKCOL on a collection's full URL unless it is known to exist; a missing parent (409)
    /// is created first, up to the host.
    fn mkcol_url(&self, url: &str, depth: usize) -> Result<()> {
        if known().lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains(url)
        {
            return Ok(());
        }
        let name = url.strip_prefix(&self.base).unwrap_or(url);
        let status = self.request_full("MKCOL", url, name, Vec::new(), &[])?;
        let status = match (status, parent(url)) {
            (409, Some(up)) if depth < 16 => {
                self.mkcol_url(&up, depth + 1)?;
                self.request_full("MKCOL", url, name, Vec::new(), &[])?
            }
            (status, _) => status,
        };
        if !matches!(status, 200..=299 | 405) {
            Self::check(url, "MKCOL", status)?;
        }
        known()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(url.to_owned());
        Ok(())
    }
}

impl Publish for WebDav {
    fn upload(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        valid_name(name)?;
        self.collections(name)?;
        let (dir, file) = name.rsplit_once('/').map_or(("", name), |(d, f)| (d, f));
        let tmp_name = format!(".{file}.kkr-upload");
        let tmp = if dir.is_empty() { tmp_name } else { format!("{dir}/{tmp_name}") };
        let status = self.request(
            "PUT",
            &tmp,
            bytes.to_vec(),
            &[("Content-Type", content_type(name).into())],
        )?;
        Self::check(name, "PUT", status)?;
        let destination = format!("{}{name}", self.base);
        let status = self.request(
            "MOVE",
            &tmp,
            Vec::new(),
            &[("Destination", destination), ("Overwrite", "T".into())],
        )?;
        Self::check(name, "MOVE", status)
    }

    fn remove(&mut self, name: &str) -> Result<()> {
        valid_name(name)?;
        match self.request("DELETE", name, Vec::new(), &[])? {
            // Already gone is what was wanted.
            404 => Ok(()),
            status => Self::check(name, "DELETE", status),
        }
    }
}

/// Why a request got no answer; a server certificate kkr does not trust is said as such,
/// with its usual fix.
fn refusal(e: &ureq::Error) -> String {
    // rustls's text for a certificate that fails verification, whichever variant carries it.
    if e.to_string().contains("invalid peer certificate") {
        format!(
            "serverens certifikat blev ikke godkendt ({e}); er det udstedt af en intern CA, så skriv CA'ens certifikat i ca_file under [publish]"
        )
    } else {
        e.to_string()
    }
}

/// The collections this process has seen exist, by URL.
fn known() -> &'static std::sync::Mutex<std::collections::HashSet<String>> {
    static KNOWN: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashSet<String>>,
    > = std::sync::OnceLock::new();
    KNOWN.get_or_init(Default::default)
}

/// The parent collection of `url` (`https://h/a/b/` → `https://h/a/`), `None` at the host.
fn parent(url: &str) -> Option<String> {
    let trimmed = url.trim_end_matches('/');
    let after_host = trimmed.find("://").map(|i| i + 3)?;
    let slash = trimmed[after_host..].find('/')? + after_host;
    let cut = trimmed.rfind('/')?;
    (cut > slash).then(|| format!("{}/", &trimmed[..cut]))
}

#[cfg(test)]
mod tests {
    use super::parent;

    #[test]
    fn parents_go_up_to_the_host_and_no_further() {
        assert_eq!(parent("https://h/a/b/").as_deref(), Some("https://h/a/"));
        assert_eq!(parent("https://h/a/"), None);
        assert_eq!(
            parent("http://127.0.0.1:8080/x/y/z/").as_deref(),
            Some("http://127.0.0.1:8080/x/y/")
        );
    }
}
