//! The ledger's items (every accepted version), attendance, meeting change times and
//! rejected files.

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{OptionalExtension, params};

use super::{Ledger, ts};
use crate::error::Result;
use crate::item::{Attendance, Item};

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

impl Ledger {
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
            // The same attendance again still counts as accepted now: it resolves an
            // attendance file rejected in between (SPEC §6), without changing the meeting.
            tx.execute(
                "UPDATE attendance SET accepted_at = ?2 WHERE meeting = ?1",
                params![a.meeting.to_string(), now.to_string()],
            )?;
            tx.commit()?;
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

    /// Records a rejected file for `status` and the notice: `moved_to` is where it lies
    /// in `afvist/`; `attendance_of` the meeting of a rejected attendance file, whose
    /// minutes wait while it lies there (SPEC §6).
    pub fn reject(
        &mut self,
        file: &str,
        report: &str,
        attendance_of: Option<Date>,
        moved_to: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO rejections (file, report, at, meeting, moved_to) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![file, report, now.to_string(), attendance_of.map(|d| d.to_string()), moved_to],
        )?;
        Ok(())
    }

    /// The attendance files of a meeting rejected after its last accepted attendance file:
    /// where each was moved (`inbox/afvist/…`).
    pub fn rejected_attendance(&self, meeting: Date) -> Result<Vec<String>> {
        let accepted: Option<Timestamp> = self
            .conn
            .query_row(
                "SELECT accepted_at FROM attendance WHERE meeting = ?1",
                [meeting.to_string()],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .map(ts);
        let mut stmt = self.conn.prepare(
            "SELECT moved_to, at FROM rejections WHERE meeting = ?1 AND moved_to IS NOT NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([meeting.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (moved_to, at) = row?;
            // At the same moment (one intake) the rejection counts: better minutes that
            // wait, saying why, than minutes without the attendance meant for them.
            if accepted.is_none_or(|a| ts(at) >= a) {
                out.push(moved_to);
            }
        }
        Ok(out)
    }

    /// The rejections the secretariat has not been told of (at most `limit`, oldest first).
    pub fn untold_rejections(&self, limit: usize) -> Result<Vec<(i64, String, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, file, report FROM rejections r WHERE NOT EXISTS (SELECT 1 FROM notices n WHERE n.key = 'rejected:' || r.id) ORDER BY id LIMIT ?1",
        )?;
        let rows =
            stmt.query_map([limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The latest rejections not resolved since: no later rejection or accepted version of
    /// the same file, and for an attendance file no attendance accepted after it. Each as
    /// (file, when, where it was moved to).
    pub fn unresolved_rejections(
        &self,
        limit: usize,
    ) -> Result<Vec<(String, Timestamp, Option<String>)>> {
        let mut stmt = self.conn.prepare(
            "SELECT r.file, r.at, r.moved_to FROM rejections r
             WHERE NOT EXISTS (SELECT 1 FROM rejections o WHERE o.file = r.file AND o.id > r.id)
               AND NOT EXISTS (SELECT 1 FROM items i WHERE i.source = r.file AND i.accepted_at > r.at)
               AND NOT (r.meeting IS NOT NULL AND EXISTS
                   (SELECT 1 FROM attendance a WHERE a.meeting = r.meeting AND a.accepted_at > r.at))
             ORDER BY r.id DESC LIMIT ?1",
        )?;
        let rows = stmt
            .query_map([limit as i64], |r| Ok((r.get(0)?, ts(r.get(1)?), r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
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
