//! The durable ledger (SQLite, WAL, synchronous=FULL): items, documents and every delivery.

use std::path::Path;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};
use crate::item::{Attendance, Item};

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
];

/// A file published to the public site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// The meeting (empty for site-wide files).
    pub meeting: String,
    /// Path under the site root.
    pub name: String,
    /// SHA-256 of what was published.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// 1 for the first publication, then one more per changed content.
    pub revision: i64,
    /// When it was first published.
    pub first_at: Timestamp,
    /// When this revision was published.
    pub published_at: Timestamp,
}

/// The columns of a document row, in the order [`document`] reads them.
const DOC_COLUMNS: &str =
    "id, meeting, kind, seq, file, sha256, created_at, late, items, summary_at";

/// The columns of a delivery row, in the order [`delivery`] reads them.
const DELIVERY_COLUMNS: &str = "document, recipient, name, message_id, state, attempts, last_error, updated_at, next_at, generation";

/// An accepted item version with its bookkeeping.
#[derive(Debug, Clone)]
pub struct StoredItem {
    /// The item.
    pub item: Item,
    /// Version number, from 1.
    pub version: i64,
    /// Order of first arrival, for items without `order`.
    pub arrival: i64,
    /// When this version was accepted.
    pub accepted_at: Timestamp,
}

/// A rendered document as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Row id.
    pub id: i64,
    /// The meeting.
    pub meeting: Date,
    /// `agenda`, `supplement`, `correction`, `minutes`.
    pub kind: String,
    /// 1 for the agenda; counts supplements and corrections.
    pub seq: i64,
    /// Path under the workspace (e.g. `outbox/2027-01-28/dagsorden.pdf`).
    pub file: String,
    /// SHA-256 of the PDF.
    pub sha256: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// Whether it went out after its scheduled moment.
    pub late: bool,
    /// The items it shows.
    pub shown: Vec<Shown>,
    /// When the secretariat was told about failed deliveries, if it was.
    pub summary_at: Option<Timestamp>,
}

/// An item as a sent document showed it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shown {
    /// Item id.
    pub id: String,
    /// Hash of the item's agenda content (its decision left out).
    pub hash: String,
    /// Its number on the agenda.
    pub number: usize,
    /// Its title (as members read it).
    pub title: String,
    /// `""`, `"ny"`, `"ændret"` or `"trukket"`.
    pub status: String,
}

/// Where one recipient's copy of a document stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Not yet attempted.
    Pending,
    /// Handed to the transport; the result is not recorded yet.
    Sending,
    /// Accepted by the server (or written, in a dry run).
    Sent,
    /// To be tried again at `next_at`.
    Retry,
    /// Refused for good.
    Failed,
}

impl DeliveryState {
    /// The ledger's word for the state.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Retry => "retry",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "sending" => Self::Sending,
            "sent" => Self::Sent,
            "retry" => Self::Retry,
            "failed" => Self::Failed,
            _ => Self::Pending,
        }
    }
}

/// One recipient's copy of a document.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The document.
    pub document: i64,
    /// Address.
    pub recipient: String,
    /// Display name.
    pub name: String,
    /// Our Message-ID (deterministic per document and recipient).
    pub message_id: String,
    /// State.
    pub state: DeliveryState,
    /// Attempts so far.
    pub attempts: i64,
    /// The last error or server reply.
    pub last_error: Option<String>,
    /// When the state last changed.
    pub updated_at: Timestamp,
    /// When a retry is due.
    pub next_at: Option<Timestamp>,
    /// How many deliberate resends there have been (part of the Message-ID).
    pub generation: i64,
}

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

    /// Opens an existing ledger without writing to it; `None` when there is none.
    pub fn open_read_only(path: &Path) -> Result<Option<Self>> {
        if !path.exists() {
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

    fn setup(conn: Connection) -> Result<Self> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
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

    /// The latest accepted version of an item.
    pub fn item(&self, id: &str) -> Result<Option<StoredItem>> {
        self.conn
            .query_row(
                "SELECT data, version, arrival, accepted_at FROM items WHERE id = ?1 ORDER BY version DESC LIMIT 1",
                [id],
                stored_item,
            )
            .optional()?
            .transpose()
    }

    /// Every version of an item, oldest first.
    pub fn item_versions(&self, id: &str) -> Result<Vec<StoredItem>> {
        let mut stmt = self.conn.prepare("SELECT data, version, arrival, accepted_at FROM items WHERE id = ?1 ORDER BY version")?;
        let items = stmt
            .query_map([id], stored_item)?
            .collect::<rusqlite::Result<Result<Vec<_>>>>()??;
        Ok(items)
    }

    /// The latest version of every item of a meeting, in agenda order (order, then arrival).
    pub fn items(&self, meeting: Date) -> Result<Vec<StoredItem>> {
        let mut stmt = self.conn.prepare(
            "SELECT data, version, arrival, accepted_at FROM items i WHERE meeting = ?1
             AND version = (SELECT MAX(version) FROM items j WHERE j.id = i.id)",
        )?;
        let mut items = stmt
            .query_map([meeting.to_string()], stored_item)?
            .collect::<rusqlite::Result<Result<Vec<_>>>>()??;
        items.sort_by_key(|s| (s.item.order.unwrap_or(i64::MAX), s.arrival));
        Ok(items)
    }

    /// Records an accepted item; returns its new version, or `None` when it is unchanged.
    pub fn accept_item(
        &mut self,
        item: &Item,
        sha256: &str,
        source: &str,
        now: Timestamp,
    ) -> Result<Option<i64>> {
        let tx = self.conn.transaction()?;
        let prev: Option<(i64, String, i64)> = tx
            .query_row("SELECT version, sha256, arrival FROM items WHERE id = ?1 ORDER BY version DESC LIMIT 1", [&item.id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        if prev.as_ref().is_some_and(|p| p.1 == sha256) {
            return Ok(None);
        }
        let arrival = match &prev {
            Some(p) => p.2,
            None => tx.query_row(
                "SELECT COALESCE(MAX(arrival), 0) + 1 FROM items",
                [],
                |r| r.get(0),
            )?,
        };
        let version = prev.map_or(1, |p| p.0 + 1);
        let data = serde_json::to_string(item).expect("items serialize");
        tx.execute(
            "INSERT INTO items (id, version, meeting, sha256, data, source, accepted_at, arrival) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![item.id, version, item.meeting.to_string(), sha256, data, source, now.to_string(), arrival],
        )?;
        touch_meeting(&tx, item.meeting, now)?;
        tx.commit()?;
        Ok(Some(version))
    }

    /// Records a meeting's attendance; returns false when unchanged.
    pub fn accept_attendance(&mut self, a: &Attendance, now: Timestamp) -> Result<bool> {
        let data = serde_json::to_string(a).expect("attendance serializes");
        let tx = self.conn.transaction()?;
        let prev: Option<String> = tx
            .query_row(
                "SELECT data FROM attendance WHERE meeting = ?1",
                [a.meeting.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if prev.as_deref() == Some(data.as_str()) {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO attendance (meeting, data, accepted_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (meeting) DO UPDATE SET data = excluded.data, accepted_at = excluded.accepted_at",
            params![a.meeting.to_string(), data, now.to_string()],
        )?;
        touch_meeting(&tx, a.meeting, now)?;
        tx.commit()?;
        Ok(true)
    }

    /// A meeting's attendance, if recorded.
    pub fn attendance(&self, meeting: Date) -> Result<Option<Attendance>> {
        let data: Option<String> = self
            .conn
            .query_row(
                "SELECT data FROM attendance WHERE meeting = ?1",
                [meeting.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(data.and_then(|d| serde_json::from_str(&d).ok()))
    }

    /// When the meeting's content last changed (the date written into its PDFs).
    pub fn changed_at(&self, meeting: Date) -> Result<Option<Timestamp>> {
        let s: Option<String> = self
            .conn
            .query_row(
                "SELECT changed_at FROM meetings WHERE date = ?1",
                [meeting.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(s.map(ts))
    }

    /// Records a rejected file for `status`.
    pub fn reject(&mut self, file: &str, report: &str, now: Timestamp) -> Result<()> {
        self.conn.execute(
            "INSERT INTO rejections (file, report, at) VALUES (?1, ?2, ?3)",
            params![file, report, now.to_string()],
        )?;
        Ok(())
    }

    /// The latest rejections, newest first.
    pub fn rejections(&self, limit: usize) -> Result<Vec<(String, String, Timestamp)>> {
        let mut stmt = self.conn.prepare(
            "SELECT file, report, at FROM rejections ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt
            .query_map([limit as i64], |r| Ok((r.get(0)?, r.get(1)?, ts(r.get(2)?))))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The documents of a meeting of one kind, in sequence order.
    pub fn documents(&self, meeting: Date, kind: &str) -> Result<Vec<Document>> {
        let sql = format!(
            "SELECT {DOC_COLUMNS} FROM documents WHERE meeting = ?1 AND kind = ?2 ORDER BY seq"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params![meeting.to_string(), kind], document)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every document of a meeting, in the order they were made.
    pub fn meeting_documents(&self, meeting: Date) -> Result<Vec<Document>> {
        let sql =
            format!("SELECT {DOC_COLUMNS} FROM documents WHERE meeting = ?1 ORDER BY id");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([meeting.to_string()], document)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records that the secretariat was told about a document's failed deliveries.
    pub fn mark_summary(&mut self, document: i64, now: Timestamp) -> Result<()> {
        self.conn.execute(
            "UPDATE documents SET summary_at = ?2 WHERE id = ?1",
            params![document, now.to_string()],
        )?;
        Ok(())
    }

    /// The earliest retry still owed, for the daemon to wake up.
    pub fn next_retry(&self) -> Result<Option<Timestamp>> {
        let s: Option<String> = self.conn.query_row(
            "SELECT MIN(next_at) FROM deliveries WHERE state = 'retry'",
            [],
            |r| r.get(0),
        )?;
        Ok(s.map(ts))
    }

    /// Makes deliveries of a document owed again (a deliberate resend, with a new
    /// Message-ID generation); `only` limits it to one address. Returns how many.
    pub fn resend(
        &mut self,
        document: i64,
        only: Option<&str>,
        message_id: &dyn Fn(&str, i64) -> String,
        now: Timestamp,
    ) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let rows: Vec<(String, i64)> = {
            let mut stmt = tx.prepare(
                "SELECT recipient, generation FROM deliveries WHERE document = ?1",
            )?;
            let rows = stmt.query_map([document], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut n = 0;
        for (recipient, generation) in rows {
            if only.is_some_and(|o| !o.eq_ignore_ascii_case(&recipient)) {
                continue;
            }
            let generation = generation + 1;
            tx.execute(
                "UPDATE deliveries SET state = 'pending', generation = ?3, message_id = ?4, next_at = NULL, last_error = NULL, updated_at = ?5 WHERE document = ?1 AND recipient = ?2",
                params![document, recipient, generation, message_id(&recipient, generation), now.to_string()],
            )?;
            n += 1;
        }
        tx.commit()?;
        Ok(n)
    }

    /// Records a document and a pending delivery for each recipient, in one transaction: from
    /// here on the document is owed to every one of them.
    pub fn add_document(
        &mut self,
        doc: &NewDocument,
        recipients: &[(String, String, String)],
        now: Timestamp,
    ) -> Result<Document> {
        let tx = self.conn.transaction()?;
        let items = serde_json::to_string(&doc.shown).expect("entries serialize");
        tx.execute(
            "INSERT INTO documents (meeting, kind, seq, file, sha256, items, created_at, late) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![doc.meeting.to_string(), doc.kind, doc.seq, doc.file, doc.sha256, items, now.to_string(), doc.late],
        )?;
        let id = tx.last_insert_rowid();
        for (recipient, name, message_id) in recipients {
            tx.execute(
                "INSERT INTO deliveries (document, recipient, name, message_id, state, updated_at) VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
                params![id, recipient, name, message_id, now.to_string()],
            )?;
        }
        tx.commit()?;
        let sql = format!("SELECT {DOC_COLUMNS} FROM documents WHERE id = ?1");
        Ok(self.conn.query_row(&sql, [id], document)?)
    }

    /// Adds deliveries for recipients a document does not have yet (roster rows added after
    /// it was made); returns how many were added.
    pub fn add_recipients(
        &mut self,
        document: i64,
        recipients: &[(String, String, String)],
        now: Timestamp,
    ) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let mut n = 0;
        for (recipient, name, message_id) in recipients {
            n += tx.execute(
                "INSERT OR IGNORE INTO deliveries (document, recipient, name, message_id, state, updated_at) VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
                params![document, recipient, name, message_id, now.to_string()],
            )?;
        }
        tx.commit()?;
        Ok(n)
    }

    /// Every publication, by meeting and name.
    pub fn publications(&self) -> Result<Vec<Publication>> {
        let mut stmt = self.conn.prepare("SELECT meeting, name, sha256, size, revision, first_at, published_at FROM publications ORDER BY meeting, name")?;
        let rows = stmt.query_map([], |r| {
            Ok(Publication {
                meeting: r.get(0)?,
                name: r.get(1)?,
                sha256: r.get(2)?,
                size: r.get::<_, i64>(3)? as u64,
                revision: r.get(4)?,
                first_at: ts(r.get(5)?),
                published_at: ts(r.get(6)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records that `name` now has content `sha256` on the site; returns its revision (the
    /// same when the content is unchanged).
    pub fn record_publication(
        &mut self,
        meeting: &str,
        name: &str,
        sha256: &str,
        size: u64,
        now: Timestamp,
    ) -> Result<i64> {
        let tx = self.conn.transaction()?;
        let prev: Option<(String, i64)> = tx
            .query_row("SELECT sha256, revision FROM publications WHERE meeting = ?1 AND name = ?2", params![meeting, name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let revision = match prev {
            // The same bytes again (a re-upload): the site and feed keep their dates.
            Some((sha, rev)) if sha == sha256 => rev,
            Some((_, rev)) => {
                tx.execute(
                    "UPDATE publications SET sha256 = ?3, size = ?4, revision = ?5, published_at = ?6 WHERE meeting = ?1 AND name = ?2",
                    params![meeting, name, sha256, size as i64, rev + 1, now.to_string()],
                )?;
                rev + 1
            }
            None => {
                tx.execute(
                    "INSERT INTO publications (meeting, name, sha256, size, revision, first_at, published_at) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)",
                    params![meeting, name, sha256, size as i64, now.to_string()],
                )?;
                1
            }
        };
        tx.commit()?;
        Ok(revision)
    }

    /// The deliveries of a document.
    pub fn deliveries(&self, document: i64) -> Result<Vec<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE document = ?1 ORDER BY rowid"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([document], delivery)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records a state change of one delivery (committed before this returns). `next_at`
    /// is when a retry is due.
    pub fn mark(
        &mut self,
        document: i64,
        recipient: &str,
        state: DeliveryState,
        error: Option<&str>,
        next_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<()> {
        let attempts = i64::from(state == DeliveryState::Sending);
        self.conn.execute(
            "UPDATE deliveries SET state = ?3, attempts = attempts + ?4, last_error = COALESCE(?5, last_error), updated_at = ?6, next_at = ?7
             WHERE document = ?1 AND recipient = ?2",
            params![document, recipient, state.as_str(), attempts, error, now.to_string(), next_at.map(|t| t.to_string())],
        )?;
        Ok(())
    }
}

/// A document about to be recorded.
#[derive(Debug, Clone)]
pub struct NewDocument {
    /// The meeting.
    pub meeting: Date,
    /// Its kind.
    pub kind: String,
    /// Its sequence number.
    pub seq: i64,
    /// Path under the workspace.
    pub file: String,
    /// SHA-256 of the PDF.
    pub sha256: String,
    /// The items it shows.
    pub shown: Vec<Shown>,
    /// Whether it went out after its scheduled moment.
    pub late: bool,
}

fn stored_item(r: &rusqlite::Row) -> rusqlite::Result<Result<StoredItem>> {
    let data: String = r.get(0)?;
    let item = serde_json::from_str(&data).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            Box::new(e),
        )
    });
    Ok(Ok(StoredItem {
        item: item?,
        version: r.get(1)?,
        arrival: r.get(2)?,
        accepted_at: ts(r.get(3)?),
    }))
}

fn document(r: &rusqlite::Row) -> rusqlite::Result<Document> {
    Ok(Document {
        id: r.get(0)?,
        meeting: date(&r.get::<_, String>(1)?),
        kind: r.get(2)?,
        seq: r.get(3)?,
        file: r.get(4)?,
        sha256: r.get(5)?,
        created_at: ts(r.get(6)?),
        late: r.get(7)?,
        shown: serde_json::from_str(&r.get::<_, String>(8)?).unwrap_or_default(),
        summary_at: r.get::<_, Option<String>>(9)?.map(ts),
    })
}

fn delivery(r: &rusqlite::Row) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        document: r.get(0)?,
        recipient: r.get(1)?,
        name: r.get(2)?,
        message_id: r.get(3)?,
        state: DeliveryState::parse(&r.get::<_, String>(4)?),
        attempts: r.get(5)?,
        last_error: r.get(6)?,
        updated_at: ts(r.get(7)?),
        next_at: r.get::<_, Option<String>>(8)?.map(ts),
        generation: r.get(9)?,
    })
}

fn touch_meeting(
    tx: &rusqlite::Transaction,
    meeting: Date,
    now: Timestamp,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO meetings (date, changed_at) VALUES (?1, ?2) ON CONFLICT (date) DO UPDATE SET changed_at = excluded.changed_at",
        params![meeting.to_string(), now.to_string()],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::Kind;

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

    #[test]
    fn deliveries_move_through_states() {
        let mut l = Ledger::open_in_memory().unwrap();
        let t = Timestamp::UNIX_EPOCH;
        let doc = NewDocument {
            meeting: jiff::civil::date(2027, 1, 28),
            kind: "agenda".into(),
            seq: 1,
            file: "outbox/2027-01-28/dagsorden.pdf".into(),
            sha256: "x".into(),
            shown: vec![],
            late: false,
        };
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
}
