//! The ledger's record of events that are not documents: agendas held because a meeting had
//! no items at its send moment and their release, and the notices told to the secretariat
//! (each event once), and what cannot be made now.

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{OptionalExtension, params};

use super::{Ledger, ts};
use crate::error::Result;

/// A held agenda (SPEC §6 "Never an empty agenda").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// When it was held.
    pub held_at: Timestamp,
    /// Who released it and when, once released.
    pub released: Option<(String, Timestamp)>,
}

/// A document of a meeting that cannot be made now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmade {
    /// What it is, in Danish (`udkastet`, `dagsordenen`, …).
    pub what: String,
    /// Why, as the renderer said it.
    pub reason: String,
    /// Since when it has failed.
    pub since: Timestamp,
}

impl Ledger {
    /// Claims the ledger for the council `slug`, the first time; returns the council it
    /// belongs to (another's when a backup of another council's ledger was put back).
    pub fn claim_council(&mut self, slug: &str) -> Result<String> {
        self.conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('council', ?1)",
            [slug],
        )?;
        Ok(self.conn.query_row(
            "SELECT value FROM meta WHERE key = 'council'",
            [],
            |r| r.get(0),
        )?)
    }

    /// Records that a minutes draft (a document) was approved by `by`; `false` if it
    /// already was.
    pub fn approve_minutes(
        &mut self,
        document: i64,
        by: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO minutes_approvals (document, approved_by, approved_at) VALUES (?1, ?2, ?3)",
            params![document, by, now.to_string()],
        )?;
        Ok(n > 0)
    }

    /// Who approved a minutes draft, and when, if anyone did.
    pub fn minutes_approval(&self, document: i64) -> Result<Option<(String, Timestamp)>> {
        let row: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT approved_by, approved_at FROM minutes_approvals WHERE document = ?1",
                [document],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.map(|(by, at)| (by, ts(at))))
    }

    /// Records that `what` of a meeting cannot be made, and why (keeping since when).
    pub fn set_unmade(
        &mut self,
        meeting: Date,
        what: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO unmade (meeting, what, reason, since) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (meeting, what) DO UPDATE SET reason = excluded.reason",
            params![meeting.to_string(), what, reason, now.to_string()],
        )?;
        Ok(())
    }

    /// Records that `what` of a meeting could be made.
    pub fn clear_unmade(&mut self, meeting: Date, what: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM unmade WHERE meeting = ?1 AND what = ?2",
            params![meeting.to_string(), what],
        )?;
        Ok(())
    }

    /// What of a meeting cannot be made now.
    pub fn unmade(&self, meeting: Date) -> Result<Vec<Unmade>> {
        let mut stmt = self.conn.prepare(
            "SELECT what, reason, since FROM unmade WHERE meeting = ?1 ORDER BY since, what",
        )?;
        let rows = stmt.query_map([meeting.to_string()], |r| {
            Ok(Unmade { what: r.get(0)?, reason: r.get(1)?, since: ts(r.get(2)?) })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records that a meeting's agenda is held; `false` if it already was.
    pub fn hold(&mut self, meeting: Date, now: Timestamp) -> Result<bool> {
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO holds (meeting, held_at) VALUES (?1, ?2)",
            params![meeting.to_string(), now.to_string()],
        )?;
        Ok(n > 0)
    }

    /// Releases a meeting's agenda (held or not yet): it goes on the next pass. `false` if it
    /// was already released.
    pub fn release(&mut self, meeting: Date, by: &str, now: Timestamp) -> Result<bool> {
        let n = self.conn.execute(
            "INSERT INTO holds (meeting, held_at, released_by, released_at) VALUES (?1, ?2, ?3, ?2)
             ON CONFLICT (meeting) DO UPDATE SET released_by = excluded.released_by, released_at = excluded.released_at
             WHERE holds.released_at IS NULL",
            params![meeting.to_string(), now.to_string(), by],
        )?;
        Ok(n > 0)
    }

    /// A meeting's hold, if its agenda was held or released.
    pub fn hold_of(&self, meeting: Date) -> Result<Option<Hold>> {
        let row: Option<(String, Option<String>, Option<String>)> = self
            .conn
            .query_row(
                "SELECT held_at, released_by, released_at FROM holds WHERE meeting = ?1",
                [meeting.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(row.map(|(held_at, by, at)| Hold {
            held_at: ts(held_at),
            released: by.zip(at).map(|(by, at)| (by, ts(at))),
        }))
    }

    /// The latest moment kkr acted at, if it ever did.
    pub fn acted_at(&self) -> Result<Option<Timestamp>> {
        let latest: Option<String> = self
            .conn
            .query_row("SELECT latest FROM acted WHERE id = 1", [], |r| r.get(0))
            .optional()?;
        Ok(latest.map(ts))
    }

    /// Records that kkr acted at `now` (kept only if later than the latest so far).
    pub fn record_acted(&mut self, now: Timestamp) -> Result<()> {
        if self.acted_at()?.is_some_and(|t| t >= now) {
            return Ok(());
        }
        self.conn.execute(
            "INSERT INTO acted (id, latest) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET latest = excluded.latest",
            [now.to_string()],
        )?;
        Ok(())
    }

    /// Whether the secretariat has been told about the event `key`.
    pub fn noticed(&self, key: &str) -> Result<bool> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM notices WHERE key = ?1",
            [key],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }

    /// Records that the secretariat was told about the events `keys`.
    pub fn record_notices(&mut self, keys: &[String], now: Timestamp) -> Result<()> {
        let tx = self.conn.transaction()?;
        for key in keys {
            tx.execute(
                "INSERT OR IGNORE INTO notices (key, at) VALUES (?1, ?2)",
                params![key, now.to_string()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_is_recorded_once_and_released_once() {
        let mut l = Ledger::open_in_memory().unwrap();
        let m = jiff::civil::date(2027, 1, 28);
        let t = Timestamp::UNIX_EPOCH;
        assert_eq!(l.hold_of(m).unwrap(), None);
        assert!(l.hold(m, t).unwrap());
        assert!(!l.hold(m, t).unwrap());
        assert_eq!(l.hold_of(m).unwrap().unwrap().released, None);
        assert!(l.release(m, "Steen", t).unwrap());
        assert!(!l.release(m, "Anne", t).unwrap(), "released once");
        assert_eq!(l.hold_of(m).unwrap().unwrap().released.unwrap().0, "Steen");
        assert!(!l.noticed("held:2027-01-28").unwrap());
        l.record_notices(&["held:2027-01-28".into()], t).unwrap();
        l.record_notices(&["held:2027-01-28".into()], t).unwrap();
        assert!(l.noticed("held:2027-01-28").unwrap());
    }

    #[test]
    fn what_cannot_be_made_is_kept_with_its_first_moment_until_cleared() {
        let mut l = Ledger::open_in_memory().unwrap();
        let m = jiff::civil::date(2027, 1, 28);
        let (t1, t2): (Timestamp, Timestamp) = (
            "2027-01-21T08:00:00Z".parse().unwrap(),
            "2027-01-21T09:00:00Z".parse().unwrap(),
        );
        l.set_unmade(m, "dagsordenen", "første", t1).unwrap();
        l.set_unmade(m, "dagsordenen", "anden", t2).unwrap();
        let u = l.unmade(m).unwrap();
        assert_eq!((u.len(), u[0].reason.as_str(), u[0].since), (1, "anden", t1));
        l.clear_unmade(m, "dagsordenen").unwrap();
        assert!(l.unmade(m).unwrap().is_empty());
    }
}
