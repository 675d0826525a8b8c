//! A council workspace: where its files live, and loading its configuration and roster.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::report::FileReport;
use crate::roster::{Member, load_roster};

/// A council workspace folder (SPEC §2).
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The folder.
    pub root: PathBuf,
}

impl Workspace {
    /// The workspace at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `council.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.root.join("council.toml")
    }

    /// `members.csv`.
    pub fn roster_path(&self) -> PathBuf {
        self.root.join("members.csv")
    }

    /// `inbox/`.
    pub fn inbox(&self) -> PathBuf {
        self.root.join("inbox")
    }

    /// `inbox/behandlet/`.
    pub fn processed(&self) -> PathBuf {
        self.inbox().join("behandlet")
    }

    /// `inbox/afvist/`.
    pub fn rejected(&self) -> PathBuf {
        self.inbox().join("afvist")
    }

    /// `inbox/.work/`: files claimed and being processed.
    pub fn work(&self) -> PathBuf {
        self.inbox().join(".work")
    }

    /// `outbox/`.
    pub fn outbox(&self) -> PathBuf {
        self.root.join("outbox")
    }

    /// `outbox/<meeting>/`.
    pub fn meeting_dir(&self, meeting: jiff::civil::Date) -> PathBuf {
        self.outbox().join(meeting.to_string())
    }

    /// `outbox/mail/`: dry-run mail.
    pub fn mail_dir(&self) -> PathBuf {
        self.outbox().join("mail")
    }

    /// `state/`.
    pub fn state(&self) -> PathBuf {
        self.root.join("state")
    }

    /// `state/kkr.sqlite`.
    pub fn ledger_path(&self) -> PathBuf {
        self.state().join("kkr.sqlite")
    }

    /// `state/attachments/`.
    pub fn attachments(&self) -> PathBuf {
        self.state().join("attachments")
    }

    /// `templates/`, when the workspace has one.
    pub fn templates(&self) -> Option<PathBuf> {
        let dir = self.root.join("templates");
        dir.is_dir().then_some(dir)
    }

    /// Takes the workspace's lock (`state/kkr.lock`), so two kkr processes never work on
    /// one workspace; the operating system releases it when the process ends, however it
    /// ends.
    pub fn lock(&self) -> Result<std::fs::File> {
        let path = self.state().join("kkr.lock");
        crate::fs::create_dir_all(&self.state())?;
        let file = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| Error::Write { path: path.clone(), source })?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => {
                Err(Error::Locked { path: self.root.clone() })
            }
            Err(std::fs::TryLockError::Error(source)) => {
                Err(Error::Write { path, source })
            }
        }
    }

    /// A path relative to the workspace, for messages.
    pub fn rel(&self, path: &Path) -> String {
        crate::fs::display_rel(path, &self.root)
    }

    /// Loads `council.toml`; problems become an [`Error::Invalid`] report.
    pub fn load_config(&self) -> Result<Config> {
        let path = self.config_path();
        let bytes = match crate::fs::read_bounded(&path, 1 << 20) {
            Ok(Some(b)) => b,
            Ok(None) => {
                return Err(Error::Invalid {
                    report: "council.toml:1:1: fejl: filen er større end 1 MiB\n".into(),
                });
            }
            Err(_) if !path.exists() => {
                return Err(Error::Invalid {
                    report: format!(
                        "council.toml:1:1: fejl: filen findes ikke i `{}`\n  hjælp: kør kkr i en arbejdsmappe (-C MAPPE) eller opret en med kkr init\n",
                        self.root.display()
                    ),
                });
            }
            Err(e) => return Err(e),
        };
        let text = match crate::item::as_text(&bytes) {
            Ok(t) => t,
            Err(p) => {
                return Err(Error::Invalid {
                    report: FileReport { path: "council.toml", problems: &[p] }
                        .to_string(),
                });
            }
        };
        Config::parse(text).map_err(|problems| Error::Invalid {
            report: FileReport { path: "council.toml", problems: &problems }.to_string(),
        })
    }

    /// Loads `members.csv`; the error is the rendered report.
    pub fn load_roster(&self) -> std::result::Result<Vec<Member>, String> {
        load_roster(&self.roster_path()).map_err(|problems| {
            FileReport { path: "members.csv", problems: &problems }.to_string()
        })
    }
}
