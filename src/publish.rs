//! Publishing public files to a folder or a WebDAV server, atomically: each file is uploaded
//! under a temporary name and then moved into place, so a reader never sees half a file.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{PublishConfig, PublishTarget};
use crate::error::{Error, Result};
use crate::workspace::Workspace;

/// A publish destination: one required primitive.
pub trait Publish {
    /// Puts `bytes` at `name` (a `/`-separated path under the target's root), atomically.
    fn upload(&mut self, name: &str, bytes: &[u8]) -> Result<()>;
}

/// The publish target of a workspace, if it has one.
pub fn target(ws: &Workspace, config: &PublishConfig) -> Result<Box<dyn Publish>> {
    match &config.target {
        PublishTarget::Dir(dir) => {
            let dir = if dir.is_absolute() { dir.clone() } else { ws.root.join(dir) };
            Ok(Box::new(Dir { root: dir }))
        }
        PublishTarget::WebDav(url) => {
            let env = |var: &Option<String>| -> Result<Option<String>> {
                match var {
                    None => Ok(None),
                    Some(v) => std::env::var(v).map(Some).map_err(|_| Error::Invalid {
                        report: format!("council.toml: fejl: miljøvariablen {v} til publiceringen er ikke sat\n  hjælp: sæt {v} i kkr's miljø og start kkr igen\n"),
                    }),
                }
            };
            let auth = match (env(&config.user_env)?, env(&config.password_env)?) {
                (Some(user), Some(password)) => Some((user, password)),
                _ => None,
            };
            Ok(Box::new(WebDav::new(url, auth)))
        }
    }
}

/// A folder (e.g. `outbox/public/`).
#[derive(Debug)]
pub struct Dir {
    root: PathBuf,
}

impl Publish for Dir {
    fn upload(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        if name.split('/').any(|c| c.is_empty() || c == "..") {
            return Err(Error::Usage(format!("ugyldigt navn til publicering: {name}")));
        }
        crate::fs::write_atomic(&self.root.join(name), bytes)
    }
}

/// A WebDAV collection: PUT to a temporary name, then MOVE with `Overwrite: T`.
pub struct WebDav {
    base: String,
    agent: ureq::Agent,
    auth: Option<String>,
    /// The base collection is known to exist.
    base_ready: bool,
}

impl WebDav {
    /// A client for the collection at `base` (`https://…/`, or `http://` on loopback).
    pub fn new(base: &str, auth: Option<(String, String)>) -> Self {
        use base64::Engine as _;
        let base = if base.ends_with('/') { base.to_owned() } else { format!("{base}/") };
        let agent = ureq::Agent::config_builder()
            .allow_non_standard_methods(true)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .new_agent();
        let auth = auth.map(|(u, p)| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        });
        Self { base, agent, auth, base_ready: false }
    }

    fn request(
        &self,
        method: &str,
        name: &str,
        body: Vec<u8>,
        headers: &[(&str, String)],
    ) -> Result<u16> {
        let url = format!("{}{name}", self.base);
        let mut req = ureq::http::Request::builder().method(method).uri(&url);
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
                reason: e.to_string(),
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

    /// Creates the collections above `name`, the base collection included (MKCOL; "already
    /// there" is fine).
    fn collections(&mut self, name: &str) -> Result<()> {
        if !self.base_ready {
            let status = self.request("MKCOL", "", Vec::new(), &[])?;
            if !matches!(status, 200..=299 | 405) {
                Self::check(&self.base, "MKCOL", status)?;
            }
            self.base_ready = true;
        }
        let parts: Vec<&str> = name.split('/').collect();
        for i in 1..parts.len() {
            let dir = format!("{}/", parts[..i].join("/"));
            let status = self.request("MKCOL", &dir, Vec::new(), &[])?;
            if !matches!(status, 200..=299 | 405) {
                Self::check(&dir, "MKCOL", status)?;
            }
        }
        Ok(())
    }
}

impl Publish for WebDav {
    fn upload(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        if name.split('/').any(|c| c.is_empty() || c == "..") {
            return Err(Error::Usage(format!("ugyldigt navn til publicering: {name}")));
        }
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
}

/// The MIME type of a published file.
pub fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("pdf") => "application/pdf",
        Some("html") => "text/html; charset=utf-8",
        Some("atom") => "application/atom+xml; charset=utf-8",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}
