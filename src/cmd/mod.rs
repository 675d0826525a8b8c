//! The commands, one file each, each called with the same [`Env`] from one line of
//! `lib.rs`'s dispatch (typst-cli `main.rs`, just `run.rs`).

pub(crate) mod approve;
pub(crate) mod check;
pub(crate) mod completions;
pub(crate) mod dkim;
pub(crate) mod init;
pub(crate) mod preview;
pub(crate) mod publish;
pub(crate) mod render;
pub(crate) mod run;
pub(crate) mod send;
pub(crate) mod status;

use jiff::civil::Date;

use crate::clock::Clock;
use crate::config::{Config, MeetingConfig};
use crate::error::{Error, Result};
use crate::workspace::Workspace;

/// What every command is run with: the global flags, resolved.
pub(crate) struct Env {
    /// The workspaces (`-C`, at least one).
    pub(crate) workspaces: Vec<Workspace>,
    /// The clock (`--now`, or the system's).
    pub(crate) clock: Clock,
    /// `--dry-run`.
    pub(crate) dry_run: bool,
    /// `-q`.
    pub(crate) quiet: bool,
}

impl Env {
    /// The first (for most commands the only) workspace.
    pub(crate) fn ws(&self) -> &Workspace {
        &self.workspaces[0]
    }
}

/// A meeting date given on the command line.
pub(crate) fn parse_meeting(s: &str) -> Result<Date> {
    s.parse().map_err(|_| {
        Error::Usage(format!("\"{s}\" er ikke en mødedato; skriv fx 2027-01-28"))
    })
}

/// The meeting of `council.toml` on `date`.
pub(crate) fn meeting(config: &Config, date: Date) -> Result<&MeetingConfig> {
    config.meeting(date).ok_or_else(|| {
        Error::Usage(format!("der er intet møde den {date} i council.toml"))
    })
}
