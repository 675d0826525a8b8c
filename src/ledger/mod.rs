//! The durable ledger (SQLite, WAL, synchronous=FULL): opening and migrating it; its tables
//! each have a room of their own (`items`, `documents`, `publications`).

use std::path::Path;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::Connection;

use crate::error::{Error, Result};

/// Schema migrations, applied in order; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE items (
    id          TEXT NOT NULL,
    version     INTEGER NOT NULL,
    meeting     TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    data        TEXT NOT NULL,
    source      TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    arrival     INTEGER NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX items_meeting ON items (meeting);
CREATE TABLE attendance (
    meeting     TEXT PRIMARY KEY,
    data        TEXT NOT NULL,
    accepted_at TEXT NOT NULL
);
CREATE TABLE meetings (
    date        TEXT PRIMARY KEY,
    changed_at  TEXT NOT NULL
);
CREATE TABLE documents (
    id          INTEGER PRIMARY KEY,
    meeting     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    file        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    items       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    late        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (meeting, kind, seq)
);
CREATE TABLE deliveries (
    document    INTEGER NOT NULL REFERENCES documents (id),
    recipient   TEXT NOT NULL,
    name        TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     TEXT,
    last_error  TEXT,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (document, recipient)
);
CREATE TABLE rejections (
    id          INTEGER PRIMARY KEY,
    file        TEXT NOT NULL,
    report      TEXT NOT NULL,
    at          TEXT NOT NULL
);
",
    "
ALTER TABLE documents ADD COLUMN summary_at TEXT;
ALTER TABLE deliveries ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
CREATE INDEX deliveries_state ON deliveries (state, next_at);
",
    "
CREATE TABLE publications (
    meeting      TEXT NOT NULL,
    name         TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    size         INTEGER NOT NULL,
    revision     INTEGER NOT NULL,
    first_at     TEXT NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (meeting, name)
);
",
    // Document kinds are stored typed (`crate::kind::DocKind`): the numbered kinds carry
    // their number in the kind (`supplement:2`), so one column reads back as one kind.
    "
UPDATE documents SET kind = kind || ':' || seq WHERE kind IN ('supplement', 'correction');
",
    // Held agendas and their release; the events the secretariat has been told about.
    "
CREATE TABLE holds (
    meeting      TEXT PRIMARY KEY,
    held_at      TEXT NOT NULL,
    released_by  TEXT,
    released_at  TEXT
);
CREATE TABLE notices (
    key          TEXT PRIMARY KEY,
    at           TEXT NOT NULL
);
-- Files rejected before the secretariat was told of rejections: already seen in afvist/.
INSERT INTO notices (key, at) SELECT 'rejected:' || id, at FROM rejections;
-- Documents sent late before: the log and status said so then.
INSERT INTO notices (key, at) SELECT 'late:' || id, created_at FROM documents WHERE late = 1;
-- The latest moment kkr acted at: its clock never goes back before it.
CREATE TABLE acted (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    latest       TEXT NOT NULL
);
-- What a public document was made from (its data, not its date): a new revision only when
-- the public content changes.
ALTER TABLE publications ADD COLUMN content TEXT;
-- A rejected attendance file holds its meeting's minutes while it lies in afvist/.
ALTER TABLE rejections ADD COLUMN meeting TEXT;
ALTER TABLE rejections ADD COLUMN moved_to TEXT;
",
    // What cannot be made now (a draft or a due document that fails to render), and why:
    // `status` names it until it can be made again.
    "
CREATE TABLE unmade (
    meeting      TEXT NOT NULL,
    what         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    since        TEXT NOT NULL,
    PRIMARY KEY (meeting, what)
);
",
    // What a minutes document showed of the attendance (a hash, '' for none): a change
    // after it was sent gives corrected minutes. NULL for documents made before: their
    // items were recorded by agenda content, so they are never compared.
    "
ALTER TABLE documents ADD COLUMN attendance TEXT;
",
    // What members were told of the meeting's day, time and place with each document that
    // told them (JSON, `crate::told::Told`): a change after the agenda gives a notice.
    // NULL for documents made before, which are never compared.
    "
ALTER TABLE documents ADD COLUMN told TEXT;
",
    // Approvals of minutes drafts (`minutes_approval`, SPEC §3.4): who approved which draft.
    "
CREATE TABLE minutes_approvals (
    document     INTEGER PRIMARY KEY REFERENCES documents (id),
    approved_by  TEXT NOT NULL,
    approved_at  TEXT NOT NULL
);
",
    // Whose ledger it is (the council's slug): a backup of another council's ledger put
    // back by mistake is refused instead of sending its history to this council.
    "
CREATE TABLE meta (
    key          TEXT PRIMARY KEY,
    value        TEXT NOT NULL
);
",
];

mod documents;
mod events;
mod items;
mod publications;

pub use documents::{Delivery, DeliveryState, Document, Mark, NewDocument, Shown};
pub use events::{Hold, Unmade};
pub use items::StoredItem;
pub use publications::Publication;

/// The ledger.
#[derive(Debug)]
pub struct Ledger {
    conn: Connection,
}

fn ts(s: String) -> Timestamp {
    s.parse().unwrap_or(Timestamp::UNIX_EPOCH)
}

fn date(s: &str) -> Date {
    s.parse().unwrap_or_default()
}

impl Ledger {
    /// Opens (creating and migrating) the ledger at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            crate::fs::create_dir_all(dir)?;
        }
        Self::setup(Connection::open(path)?)
    }

    /// A rehearsal's ledger: a copy of the real one at `real` (if there is one) taken with
    /// SQLite's backup API, a consistent snapshot even while a daemon writes, at `copy`,
    /// replacing an earlier copy. Nothing is ever written to the real ledger.
    pub fn rehearsal_copy(real: &Path, copy: &Path) -> Result<Self> {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = copy.as_os_str().to_owned();
            name.push(suffix);
            let _ = std::fs::remove_file(std::path::PathBuf::from(name));
        }
        if let Some(dir) = copy.parent() {
            crate::fs::create_dir_all(dir)?;
        }
        // Reading a WAL database may create its -wal/-shm files, as `status` does; they are
        // never removed here: a daemon starting meanwhile could be using them.
        if let Some(source) = Self::open_read_only(real)? {
            source.conn.backup(rusqlite::MAIN_DB, copy, None)?;
        }
        Self::open(copy)
    }

    /// Opens an existing ledger without writing to it; `None` when there is none (or it is
    /// an empty file).
    pub fn open_read_only(path: &Path) -> Result<Option<Self>> {
        if std::fs::metadata(path).map_or(true, |m| m.len() == 0) {
            return Ok(None);
        }
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Some(Self { conn }))
    }

    /// An in-memory ledger for tests.
    pub fn open_in_memory() -> Result<Self> {
        Self::setup(Connection::open_in_memory()?)
    }

    /// Another connection to the same ledger file, for a thread of its own (a pass delivers
    /// mail while it publishes); `None` for an in-memory ledger.
    pub fn reopen(&self) -> Result<Option<Self>> {
        match self.conn.path().filter(|p| !p.is_empty()) {
            Some(path) => {
                let mut conn = Connection::open(path)?;
                Self::configure(&mut conn)?;
                Ok(Some(Self { conn }))
            }
            None => Ok(None),
        }
    }

    /// What every connection is set to: wait for another writer (of this process or
    /// another) up to five seconds; WAL, every commit synced; and write transactions that
    /// take the write lock when they begin, so one that reads first cannot find its snapshot
    /// outdated by the other connection's commit (SQLITE_BUSY_SNAPSHOT) halfway.
    fn configure(conn: &mut Connection) -> Result<()> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        Ok(())
    }

    fn setup(mut conn: Connection) -> Result<Self> {
        Self::configure(&mut conn)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let tables: i64 = conn.query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )?;
        if version == 0 && tables > 0 {
            return Err(Error::LedgerForeign);
        }
        if version > MIGRATIONS.len() as i64 {
            return Err(Error::LedgerTooNew { found: version, known: MIGRATIONS.len() });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(Self { conn })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::{Item, Kind};
    use crate::kind::DocKind;

    #[test]
    fn a_ledger_from_a_newer_kkr_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kkr.sqlite");
        drop(Ledger::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", MIGRATIONS.len() as i64 + 1).unwrap();
        drop(conn);
        let Err(err) = Ledger::open(&path) else {
            panic!("a newer ledger must be refused")
        };
        assert!(matches!(err, Error::LedgerTooNew { .. }), "{err}");
        assert!(err.to_string().contains("nyere kkr"), "{err}");
        // Reopening the current version works and changes nothing.
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", MIGRATIONS.len() as i64).unwrap();
        drop(conn);
        Ledger::open(&path).unwrap();
    }

    fn item(id: &str, order: Option<i64>) -> Item {
        Item {
            id: id.into(),
            meeting: jiff::civil::date(2027, 1, 28),
            title: format!("Punkt {id}"),
            area: "Andet".into(),
            kind: Kind::Orientering,
            order,
            case: None,
            recommendation: String::new(),
            attachments: vec![],
            closed: false,
            public_title: String::new(),
            late_reason: String::new(),
            withdrawn: false,
            decision: None,
            body: String::new(),
        }
    }

    #[test]
    fn versions_and_agenda_order() {
        let mut l = Ledger::open_in_memory().unwrap();
        let t = Timestamp::UNIX_EPOCH;
        assert_eq!(l.accept_item(&item("b", None), "h1", "b.md", t).unwrap(), Some(1));
        assert_eq!(l.accept_item(&item("a", Some(1)), "h2", "a.md", t).unwrap(), Some(1));
        assert_eq!(
            l.accept_item(&item("b", None), "h1", "b.md", t).unwrap(),
            None,
            "same content is no new version"
        );
        let mut changed = item("b", None);
        changed.title = "Ny titel".into();
        assert_eq!(l.accept_item(&changed, "h3", "b.md", t).unwrap(), Some(2));
        let items = l.items(jiff::civil::date(2027, 1, 28)).unwrap();
        let ids: Vec<_> = items.iter().map(|s| (s.item.id.as_str(), s.version)).collect();
        assert_eq!(ids, [("a", 1), ("b", 2)]);
        assert_eq!(items[1].item.title, "Ny titel");
    }

    /// An agenda as `add_document` records it.
    fn agenda() -> NewDocument {
        NewDocument {
            attendance: None,
            told: None,
            meeting: jiff::civil::date(2027, 1, 28),
            kind: DocKind::Agenda,
            file: "outbox/2027-01-28/dagsorden.pdf".into(),
            sha256: "x".into(),
            shown: vec![],
            late: false,
        }
    }

    #[test]
    fn deliveries_move_through_states() {
        let mut l = Ledger::open_in_memory().unwrap();
        let t = Timestamp::UNIX_EPOCH;
        let doc = agenda();
        let recipients =
            vec![("a@example.org".to_owned(), "A".to_owned(), "<1@x>".to_owned())];
        let d = l.add_document(&doc, &recipients, t).unwrap();
        l.mark(d.id, "a@example.org", DeliveryState::Sending, None, None, t).unwrap();
        l.mark(d.id, "a@example.org", DeliveryState::Sent, None, None, t).unwrap();
        let ds = l.deliveries(d.id).unwrap();
        assert_eq!(ds[0].state, DeliveryState::Sent);
        assert_eq!(ds[0].attempts, 1);
        assert!(
            l.add_document(&doc, &recipients, t).is_err(),
            "a document is recorded once"
        );
    }

    /// A message's result and the next one's intent in one commit, seen by another
    /// connection to the same file once `mark_all` returns; the second connection writes
    /// beside the first.
    #[test]
    fn a_result_and_the_next_intent_commit_together() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("kkr.sqlite")).unwrap();
        let t = Timestamp::UNIX_EPOCH;
        let doc = agenda();
        let row = |a: &str| (a.to_owned(), a.to_owned(), format!("<{a}>"));
        let d = l.add_document(&doc, &[row("a@x.dk"), row("b@x.dk")], t).unwrap();
        let mark = |recipient: &str, state| Mark {
            recipient: recipient.to_owned(),
            state,
            error: None,
            next_at: None,
        };
        let mut other = l.reopen().unwrap().expect("a file has a second connection");
        other.mark_all(d.id, &[mark("a@x.dk", DeliveryState::Sending)], t).unwrap();
        let both =
            [mark("a@x.dk", DeliveryState::Sent), mark("b@x.dk", DeliveryState::Sending)];
        other.mark_all(d.id, &both, t).unwrap();
        let ds = l.deliveries(d.id).unwrap();
        let states: Vec<_> = ds.iter().map(|d| (d.state, d.attempts)).collect();
        assert_eq!(states, [(DeliveryState::Sent, 1), (DeliveryState::Sending, 1)]);
        assert!(Ledger::open_in_memory().unwrap().reopen().unwrap().is_none());
    }

    /// A ledger as the release before typed kinds wrote it (schema 3), with an agenda, a
    /// second supplement and a correction, opens upgraded in place with every row intact.
    #[test]
    fn a_ledger_of_the_previous_release_is_upgraded_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kkr.sqlite");
        let conn = Connection::open(&path).unwrap();
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        let rows = [
            ("agenda", 1, "dagsorden.pdf"),
            ("supplement", 1, "supplerende-dagsorden-1.pdf"),
            ("supplement", 2, "supplerende-dagsorden-2.pdf"),
            ("correction", 1, "rettet-dagsorden-1.pdf"),
            ("minutes", 1, "referat.pdf"),
        ];
        for (kind, seq, file) in rows {
            conn.execute(
                "INSERT INTO documents (meeting, kind, seq, file, sha256, items, created_at, late) VALUES ('2027-01-28', ?1, ?2, ?3, 'ab', '[]', '2027-01-21T08:00:00Z', 0)",
                rusqlite::params![kind, seq, format!("outbox/2027-01-28/{file}")],
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO deliveries (document, recipient, name, message_id, state, updated_at, generation) VALUES (3, 'a@example.org', 'A', '<m@example.org>', 'sent', '2027-01-21T08:00:00Z', 0)",
            [],
        )
        .unwrap();
        conn.execute("UPDATE documents SET late = 1 WHERE id = 1", []).unwrap();
        conn.execute(
            "INSERT INTO rejections (file, report, at) VALUES ('inbox/x.md', 'r', '2027-01-20T08:00:00Z')",
            [],
        )
        .unwrap();
        drop(conn);

        let ledger = Ledger::open(&path).unwrap();
        let docs = ledger.meeting_documents(jiff::civil::date(2027, 1, 28)).unwrap();
        let kinds: Vec<DocKind> = docs.iter().map(|d| d.kind).collect();
        assert_eq!(
            kinds,
            [
                DocKind::Agenda,
                DocKind::Supplement(1),
                DocKind::Supplement(2),
                DocKind::Correction(1),
                DocKind::Minutes
            ]
        );
        for d in &docs {
            let name = d.file.rsplit('/').next().unwrap();
            assert_eq!(name, d.kind.file_name(crate::kind::Edition::Member));
        }
        let delivered = ledger.deliveries(docs[2].id).unwrap();
        assert_eq!(delivered[0].message_id, "<m@example.org>", "ids are kept");
        // What the previous release already showed is not told to the secretariat again.
        assert!(ledger.noticed("rejected:1").unwrap());
        assert!(ledger.noticed("late:1").unwrap());
        assert!(!ledger.noticed("late:2").unwrap());
        assert_eq!(delivered[0].state, DeliveryState::Sent);
        drop(ledger);
        // Opening again migrates nothing twice.
        let ledger = Ledger::open(&path).unwrap();
        let again = ledger.meeting_documents(jiff::civil::date(2027, 1, 28)).unwrap();
        assert_eq!(again, docs);
        let version: i64 =
            ledger.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
    }
}
