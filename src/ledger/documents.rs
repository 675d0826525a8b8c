//! The ledger's documents and their deliveries: one row per recipient, moved through its
//! states with the intent recorded before sending and the result after.

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::params;

use super::{Ledger, date, ts};
use crate::error::Result;
use crate::kind::DocKind;

/// The columns of a document row, in the order [`document`] reads them.
const DOC_COLUMNS: &str = "id, meeting, kind, file, sha256, created_at, late, items, summary_at, attendance, told";

/// The columns of a delivery row, in the order [`delivery`] reads them.
const DELIVERY_COLUMNS: &str = "document, recipient, name, message_id, state, attempts, last_error, updated_at, next_at, generation";

/// A rendered document as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Row id.
    pub id: i64,
    /// The meeting.
    pub meeting: Date,
    /// Which document it is (a supplement or correction with its number).
    pub kind: DocKind,
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
    /// For the minutes family: a hash of the attendance it showed (`""` for none); `None`
    /// for other kinds and for minutes made before kkr recorded it.
    pub attendance: Option<String>,
    /// What it told of the meeting's day, time and place (JSON of `crate::told::Told`), for
    /// the agenda family and the meeting notices.
    pub told: Option<String>,
}

impl Document {
    /// How logs, notices and `status` name it: its file, or for a mail without a PDF (a
    /// meeting notice) its Danish label.
    pub fn name(&self) -> String {
        if self.file.is_empty() {
            format!("{} (mail)", self.kind.label())
        } else {
            self.file.clone()
        }
    }
}

/// An item as a sent document showed it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shown {
    /// Item id.
    pub id: String,
    /// Hash of the item's content as the document showed it: the agenda content (decision
    /// left out) for the agenda family, everything for the minutes family.
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

impl Ledger {
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
            "INSERT INTO documents (meeting, kind, seq, file, sha256, items, created_at, late, attendance, told) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![doc.meeting.to_string(), doc.kind, doc.kind.seq(), doc.file, doc.sha256, items, now.to_string(), doc.late, doc.attendance, doc.told],
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

    /// Records what the agenda-family documents of a meeting told of its day, time and place
    /// where they did not record it (made by an earlier kkr); returns how many.
    pub fn fill_told(&mut self, meeting: Date, told: &str) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE documents SET told = ?2 WHERE meeting = ?1 AND told IS NULL
             AND (kind = 'agenda' OR kind LIKE 'supplement:%' OR kind LIKE 'correction:%')",
            params![meeting.to_string(), told],
        )?)
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
        let mark = Mark {
            recipient: recipient.to_owned(),
            state,
            error: error.map(str::to_owned),
            next_at,
        };
        self.mark_all(document, std::slice::from_ref(&mark), now)
    }

    /// Records state changes of a document's deliveries in one transaction, committed before
    /// this returns: a message's result together with the next one's intent is one fsync.
    pub fn mark_all(
        &mut self,
        document: i64,
        marks: &[Mark],
        now: Timestamp,
    ) -> Result<()> {
        if marks.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE deliveries SET state = ?3, attempts = attempts + ?4, last_error = COALESCE(?5, last_error), updated_at = ?6, next_at = ?7
                 WHERE document = ?1 AND recipient = ?2",
            )?;
            for m in marks {
                let attempts = i64::from(m.state == DeliveryState::Sending);
                stmt.execute(params![
                    document,
                    m.recipient,
                    m.state.as_str(),
                    attempts,
                    m.error,
                    now.to_string(),
                    m.next_at.map(|t| t.to_string())
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

/// One delivery's change of state, for [`Ledger::mark_all`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// The recipient's address.
    pub recipient: String,
    /// The new state (`Sending` counts an attempt).
    pub state: DeliveryState,
    /// Why (kept from before when `None`).
    pub error: Option<String>,
    /// When a retry is due.
    pub next_at: Option<Timestamp>,
}

/// A document about to be recorded.
#[derive(Debug, Clone)]
pub struct NewDocument {
    /// The meeting.
    pub meeting: Date,
    /// Its kind (with its number).
    pub kind: DocKind,
    /// Path under the workspace.
    pub file: String,
    /// SHA-256 of the PDF.
    pub sha256: String,
    /// The items it shows.
    pub shown: Vec<Shown>,
    /// Whether it went out after its scheduled moment.
    pub late: bool,
    /// For the minutes family: a hash of the attendance it shows.
    pub attendance: Option<String>,
    /// What it tells of the meeting's day, time and place (JSON).
    pub told: Option<String>,
}

fn document(r: &rusqlite::Row) -> rusqlite::Result<Document> {
    Ok(Document {
        id: r.get(0)?,
        meeting: date(&r.get::<_, String>(1)?),
        kind: r.get(2)?,
        file: r.get(3)?,
        sha256: r.get(4)?,
        created_at: ts(r.get(5)?),
        late: r.get(6)?,
        shown: serde_json::from_str(&r.get::<_, String>(7)?).unwrap_or_default(),
        summary_at: r.get::<_, Option<String>>(8)?.map(ts),
        attendance: r.get(9)?,
        told: r.get(10)?,
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
