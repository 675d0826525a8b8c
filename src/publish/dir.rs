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
}
