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
    /// A rehearsal's view (SPEC §6): everything kkr writes goes under this folder
    /// (`outbox/prøve/`, or a temporary one for `kkr preview`).
    rehearsal: Option<PathBuf>,
}

impl Workspace {
    /// The workspace at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into(), rehearsal: None }
    }

    /// The same workspace seen by a rehearsal (`--dry-run`): it reads the real inbox,
    /// configuration, templates and attachments, and writes only under `outbox/prøve/`
    /// (its own ledger copy, PDFs, mail, public files, and copies of the files it would have
    /// moved).
    pub fn rehearsal(&self) -> Self {
        Self {
            root: self.root.clone(),
            rehearsal: Some(self.root.join("outbox").join("prøve")),
        }
    }

    /// A rehearsal's view that writes under `dir` instead of `outbox/prøve/` (`kkr preview`
    /// rehearses in a temporary folder and keeps only what it shows).
    pub fn rehearsal_in(&self, dir: &Path) -> Self {
        Self { root: self.root.clone(), rehearsal: Some(dir.to_path_buf()) }
    }

    /// Whether this is a rehearsal's view.
    pub fn is_rehearsal(&self) -> bool {
        self.rehearsal.is_some()
    }

    /// Where a rehearsal writes: `outbox/prøve/` (or the folder of [`Workspace::rehearsal_in`]).
    pub fn rehearsal_dir(&self) -> PathBuf {
        self.rehearsal.clone().unwrap_or_else(|| self.root.join("outbox").join("prøve"))
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

    /// `inbox/behandlet/` (a rehearsal: its copy under `outbox/prøve/inbox/`).
    pub fn processed(&self) -> PathBuf {
        self.moved_to().join("behandlet")
    }

    /// `inbox/afvist/` (a rehearsal: its copy under `outbox/prøve/inbox/`).
    pub fn rejected(&self) -> PathBuf {
        self.moved_to().join("afvist")
    }

    /// Where taken-in and rejected files go: `inbox/`, or in a rehearsal, which moves
    /// nothing, `outbox/prøve/inbox/` for copies.
    fn moved_to(&self) -> PathBuf {
        if self.is_rehearsal() {
            self.rehearsal_dir().join("inbox")
        } else {
            self.inbox()
        }
    }

    /// Hands a file from the inbox over to `to`: moves it, or in a rehearsal copies it.
    pub(crate) fn hand_over(&self, from: &Path, to: &Path) -> Result<()> {
        if !self.is_rehearsal() {
            return crate::fs::rename(from, to);
        }
        let bytes = crate::fs::read(from)?;
        crate::fs::write_atomic(to, &bytes)
    }

    /// `inbox/.work/`: files claimed and being processed.
    pub fn work(&self) -> PathBuf {
        self.inbox().join(".work")
    }

    /// `outbox/` (a rehearsal: `outbox/prøve/`).
    pub fn outbox(&self) -> PathBuf {
        if self.is_rehearsal() { self.rehearsal_dir() } else { self.root.join("outbox") }
    }

    /// `outbox/<meeting>/`.
    pub fn meeting_dir(&self, meeting: jiff::civil::Date) -> PathBuf {
        self.outbox().join(meeting.to_string())
    }

    /// `outbox/mail/`: mail of a workspace without `[mail.smtp]` (a rehearsal:
    /// `outbox/prøve/mail/`).
    pub fn mail_dir(&self) -> PathBuf {
        self.outbox().join("mail")
    }

    /// `state/` (a rehearsal: its own `outbox/prøve/state/`, never the real one).
    pub fn state(&self) -> PathBuf {
        if self.is_rehearsal() {
            self.rehearsal_dir().join("state")
        } else {
            self.root.join("state")
        }
    }

    /// The real `state/kkr.sqlite`, also for a rehearsal (which copies it).
    pub fn real_ledger_path(&self) -> PathBuf {
        self.root.join("state").join("kkr.sqlite")
    }

    /// `state/kkr.sqlite`.
    pub fn ledger_path(&self) -> PathBuf {
        self.state().join("kkr.sqlite")
    }

    /// `state/attachments/`: where attachments taken in are stored.
    pub fn attachments(&self) -> PathBuf {
        self.state().join("attachments")
    }

    /// Where stored attachments are read from: `state/attachments/`, and for a rehearsal
    /// its own store before the real one.
    pub fn attachment_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = vec![self.attachments()];
        if self.is_rehearsal() {
            dirs.push(self.root.join("state").join("attachments"));
        }
        dirs
    }

    /// `templates/`, when the workspace has one.
    pub fn templates(&self) -> Option<PathBuf> {
        let dir = self.root.join("templates");
        dir.is_dir().then_some(dir)
    }

    /// Takes the workspace's lock (`state/kkr.lock`), so two kkr processes never work on
    /// one workspace; the operating system releases it when the process ends, however it
    /// ends.
    ///
    /// A rehearsal takes its own lock (`outbox/prøve/.lock`), so it can run beside the
    /// daemon, never two at once, and [`Workspace::clear_rehearsal`] keeps it.
    pub fn lock(&self) -> Result<std::fs::File> {
        let dir = if self.is_rehearsal() { self.rehearsal_dir() } else { self.state() };
        let path = dir.join(if self.is_rehearsal() { ".lock" } else { "kkr.lock" });
        if self.is_rehearsal() {
            self.refuse_symlink(&dir)?;
        }
        crate::fs::create_dir_all(&dir)?;
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

    /// Empties `outbox/prøve/` for a new rehearsal (all but its lock). Refuses a symlink
    /// there, so a rehearsal never deletes anything outside it.
    pub fn clear_rehearsal(&self) -> Result<()> {
        let dir = self.rehearsal_dir();
        let err = |source| Error::Write { path: dir.clone(), source };
        self.refuse_symlink(&dir)?;
        for entry in std::fs::read_dir(&dir).map_err(err)? {
            let entry = entry.map_err(err)?;
            if entry.file_name() == ".lock" {
                continue;
            }
            let path = entry.path();
            let removed = if entry.file_type().map_err(err)?.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.map_err(|source| Error::Write { path, source })?;
        }
        Ok(())
    }

    /// Whether the ledger is missing or empty although the workspace has a history (items in
    /// `inbox/behandlet/`, documents in `outbox/<meeting>/`): starting afresh would send
    /// everything again (SPEC: state that cannot silently vanish).
    pub fn ledger_lost(&self) -> bool {
        let path = self.real_ledger_path();
        let empty = std::fs::metadata(&path).map_or(true, |m| m.len() == 0);
        empty && self.has_history()
    }

    /// Whether kkr has taken files in or made documents here before.
    fn has_history(&self) -> bool {
        let processed = self.root.join("inbox").join("behandlet");
        let taken = std::fs::read_dir(&processed).is_ok_and(|mut d| d.next().is_some());
        let made = std::fs::read_dir(self.root.join("outbox")).is_ok_and(|d| {
            d.flatten().any(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                // A made document, not a preview (`kkr render` writes `visning-…`).
                name.parse::<jiff::civil::Date>().is_ok()
                    && std::fs::read_dir(e.path()).is_ok_and(|f| {
                        f.flatten().any(|f| {
                            let n = f.file_name().to_string_lossy().into_owned();
                            !n.starts_with("visning-") && !n.starts_with('.')
                        })
                    })
            })
        });
        taken || made
    }

    /// Refuses a folder kkr writes in that is a symbolic link (it could point anywhere).
    fn refuse_symlink(&self, dir: &Path) -> Result<()> {
        if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(Error::Usage(format!(
                "{} er et symbolsk link; kkr skriver og sletter ikke uden for arbejdsmappen\n  hjælp: fjern linket, så laver kkr mappen selv",
                self.rel(dir)
            )));
        }
        Ok(())
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
