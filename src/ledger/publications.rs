//! The ledger's publications: what the public site has, by content hash and revision.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::{Ledger, ts};
use crate::error::Result;

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
    /// What a public document was made from (see `DocData::content_hash`), if known.
    pub content: Option<String>,
}

impl Ledger {
    /// Every publication, by meeting and name.
    pub fn publications(&self) -> Result<Vec<Publication>> {
        let mut stmt = self.conn.prepare("SELECT meeting, name, sha256, size, revision, first_at, published_at, content FROM publications ORDER BY meeting, name")?;
        let rows = stmt.query_map([], |r| {
            Ok(Publication {
                meeting: r.get(0)?,
                name: r.get(1)?,
                sha256: r.get(2)?,
                size: r.get::<_, i64>(3)? as u64,
                revision: r.get(4)?,
                first_at: ts(r.get(5)?),
                published_at: ts(r.get(6)?),
                content: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records that `name` now has bytes `sha256` on the site, made from `content`; returns
    /// its revision (the same when the bytes are unchanged).
    pub fn record_publication(
        &mut self,
        meeting: &str,
        name: &str,
        (sha256, content): (&str, Option<&str>),
        size: u64,
        now: Timestamp,
    ) -> Result<i64> {
        let tx = self.conn.transaction()?;
        let prev: Option<(String, i64)> = tx
            .query_row("SELECT sha256, revision FROM publications WHERE meeting = ?1 AND name = ?2", params![meeting, name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let revision = match prev {
            // The same bytes again (a re-upload): the site and feed keep their dates.
            Some((sha, rev)) if sha == sha256 => {
                tx.execute(
                    "UPDATE publications SET content = COALESCE(?3, content) WHERE meeting = ?1 AND name = ?2",
                    params![meeting, name, content],
                )?;
                rev
            }
            Some((_, rev)) => {
                tx.execute(
                    "UPDATE publications SET sha256 = ?3, size = ?4, revision = ?5, published_at = ?6, content = ?7 WHERE meeting = ?1 AND name = ?2",
                    params![meeting, name, sha256, size as i64, rev + 1, now.to_string(), content],
                )?;
                rev + 1
            }
            None => {
                tx.execute(
                    "INSERT INTO publications (meeting, name, sha256, size, revision, first_at, published_at, content) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5, ?6)",
                    params![meeting, name, sha256, size as i64, now.to_string(), content],
                )?;
                1
            }
        };
        tx.commit()?;
        Ok(revision)
    }

    /// Marks a file to be removed from the site (its hash emptied), so the removal is tried
    /// again until it succeeds.
    pub fn mark_publication_stale(&mut self, meeting: &str, name: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE publications SET sha256 = '' WHERE meeting = ?1 AND name = ?2",
            params![meeting, name],
        )?;
        Ok(())
    }

    /// Forgets a file that was removed from the site.
    pub fn forget_publication(&mut self, meeting: &str, name: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM publications WHERE meeting = ?1 AND name = ?2",
            params![meeting, name],
        )?;
        Ok(())
    }
}
