//! The crate's error type: what failed, on which path, and whether retrying can help.

use std::path::PathBuf;

/// A failure of an action kkr attempted (not invalid input: that is a [`crate::report::Problem`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading a file or folder failed.
    #[error("kunne ikke læse `{path}`")]
    Read {
        /// The path that could not be read.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Writing, renaming or creating a file or folder failed.
    #[error("kunne ikke skrive `{path}`")]
    Write {
        /// The path that could not be written.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The workspace's configuration or roster is invalid; the report says why.
    #[error("{report}")]
    Invalid {
        /// The rendered problems, one per line.
        report: String,
    },
    /// A Typst template failed to compile or export.
    #[error("kunne ikke lave PDF'en `{document}`\n{diagnostics}")]
    Render {
        /// Which document failed.
        document: String,
        /// The rendered Typst diagnostics.
        diagnostics: String,
    },
    /// A mail template or message could not be built.
    #[error("kunne ikke danne mailen: {0}")]
    Compose(String),
    /// Handing a message to the mail server failed.
    #[error("kunne ikke sende mail til `{recipient}`: {reason}")]
    Send {
        /// The recipient's address.
        recipient: String,
        /// The server's or the transport's explanation.
        reason: String,
        /// Whether a later attempt may succeed.
        transient: bool,
    },
    /// Publishing to the public site failed.
    #[error("kunne ikke publicere `{name}`: {reason}")]
    Publish {
        /// The file being published.
        name: String,
        /// What went wrong.
        reason: String,
        /// Whether a later attempt may succeed.
        transient: bool,
    },
    /// Another kkr process works on the same workspace.
    #[error(
        "en anden kkr arbejder allerede i `{path}` (låst af state/kkr.lock)\n  hjælp: stop den anden kkr først; to på samme arbejdsmappe kunne sende dokumenter to gange"
    )]
    Locked {
        /// The workspace.
        path: PathBuf,
    },
    /// The ledger is missing or empty in a workspace with a history.
    #[error(
        "state/kkr.sqlite mangler eller er tom, men arbejdsmappen `{path}` har en historik (inbox/behandlet/ eller sendte dokumenter i outbox/)\n  hjælp: kkr starter ikke forfra, for så ville alt blive sendt igen. Læg den seneste sikkerhedskopi af state/kkr.sqlite tilbage (docs/OPERATIONS.md, »Backup and restore«), og start kkr igen. Er det en prøve-arbejdsmappe, der skal begynde forfra, så fjern også inbox/behandlet/ og outbox/"
    )]
    LedgerLost {
        /// The workspace.
        path: PathBuf,
    },
    /// The ledger file is an SQLite database of something else.
    #[error(
        "state/kkr.sqlite er ikke kkr's log (den indeholder andre tabeller)\n  hjælp: læg kkr's egen sikkerhedskopi tilbage (docs/OPERATIONS.md, »Backup and restore«)"
    )]
    LedgerForeign,
    /// The ledger belongs to another council (its backup was put back here).
    #[error(
        "state/kkr.sqlite er loggen for {found}, ikke for {expected}\n  hjælp: det er en sikkerhedskopi fra et andet råds arbejdsmappe. Læg dette råds egen sikkerhedskopi tilbage (docs/OPERATIONS.md, »Backup and restore«)"
    )]
    LedgerOfAnother {
        /// The council the ledger belongs to.
        found: String,
        /// This workspace's council.
        expected: String,
    },
    /// The ledger (SQLite) failed.
    #[error("fejl i loggen (state/kkr.sqlite)")]
    Ledger(#[from] rusqlite::Error),
    /// The ledger was written by a newer kkr (a downgrade): this one must not touch it.
    #[error(
        "state/kkr.sqlite er skrevet af en nyere kkr (skema {found}; denne udgave kender {known})\n  hjælp: brug den nyere kkr igen; en ældre udgave må ikke skrive i loggen"
    )]
    LedgerTooNew {
        /// The ledger's schema version.
        found: i64,
        /// The newest schema version this build knows.
        known: usize,
    },
    /// The command needs something the workspace does not have.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// The exit code for this error (SPEC §5): 1 invalid input, 2 usage, 3 temporary, 4 other.
    pub fn exit_code(&self) -> u8 {
        use crate::term::{EXIT_INVALID, EXIT_OTHER, EXIT_TRANSIENT, EXIT_USAGE};
        match self {
            Self::Invalid { .. } => EXIT_INVALID,
            Self::Usage(_) => EXIT_USAGE,
            e if e.is_transient() => EXIT_TRANSIENT,
            _ => EXIT_OTHER,
        }
    }

    /// Whether retrying later may succeed (a server down, a timeout), so the work stays due.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Send { transient, .. } | Self::Publish { transient, .. } => *transient,
            Self::Ledger(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            _ => false,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
