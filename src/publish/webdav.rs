//! The WebDAV target: each file PUT under a temporary name, then MOVEd into place with
//! `Overwrite: T`, so a reader never sees half a file.

use std::time::Duration;

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
    /// A client for the collection at `base` (`https://…/`, or `http://` on loopback).
    pub(crate) fn new(base: &str, auth: Option<(String, String)>) -> Self {
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
}
