//! The folder target: files written atomically under a folder (e.g. `outbox/public/`).

use std::path::PathBuf;

use super::{Publish, valid_name};
use crate::error::Result;

/// A folder (e.g. `outbox/public/`).
#[derive(Debug)]
pub(crate) struct Dir {
    /// The folder the site lives in.
    pub(super) root: PathBuf,
}

impl Publish for Dir {
    fn upload(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        valid_name(name)?;
        crate::fs::write_atomic(&self.root.join(name), bytes)
    }

    fn remove(&mut self, name: &str) -> Result<()> {
        valid_name(name)?;
        let path = self.root.join(name);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(crate::error::Error::Write { path, source: e })
            }
            _ => Ok(()),
        }
    }
}
