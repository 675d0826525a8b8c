//! Each meeting's page (`<date>/index.html`) and its public bilag (`<date>/bilag-3.1.pdf`)
//! on the site, made from the public edition exactly as it was published: while a change
//! waits (a correction awaiting approval) the page stays as it was.

use jiff::Timestamp;

use super::Lazy;
use crate::config::{Config, MeetingConfig};
use crate::document::Facts;
use crate::edition::DocData;
use crate::error::Result;
use crate::hash::sha256_hex;
use crate::kind::{DocKind, Edition};
use crate::ledger::{Ledger, Publication};
use crate::site::SiteMeeting;
use crate::site::page::{Pages, public_bilag};
use crate::workspace::Workspace;

/// What [`upload`] did.
pub(super) struct Uploaded {
    /// Files uploaded or removed.
    pub(super) changed: usize,
    /// Every meeting page as it is on the site now: path and HTML.
    pub(super) pages: Vec<(String, String)>,
    /// A page is new or changed.
    pub(super) pages_changed: bool,
}

/// Uploads what changed of every meeting's page and bilag, and removes bilag that are no
/// longer public.
pub(super) fn upload(
    ws: &Workspace,
    config: &Config,
    ledger: &mut Ledger,
    target: &mut Lazy,
    meetings: &[SiteMeeting],
    force: bool,
    now: Timestamp,
) -> Result<Uploaded> {
    let pages = Pages::new(ws.templates().as_deref())?;
    let published = ledger.publications()?;
    let mut done = Uploaded { changed: 0, pages: Vec::new(), pages_changed: false };
    for site in meetings {
        let Some(m) = config.meeting(site.id) else { continue };
        let facts = Facts::load(ledger, m.date)?;
        let Some(data) = published_data(config, m, &facts, &published) else { continue };
        let date = m.date.to_string();
        let bilag = public_bilag(&data.files);
        let mut files = Vec::new();
        for b in &bilag {
            let name = format!("{date}/{}", b.file);
            let Some(bytes) = ws
                .attachment_dirs()
                .iter()
                .map(|d| d.join(&b.stored))
                .find(|p| p.is_file())
                .map(|p| crate::fs::read(&p))
                .transpose()?
            else {
                tracing::warn!(
                    "bilag {} findes ikke i state/attachments/; ikke publiceret",
                    b.label
                );
                continue;
            };
            files.push((name, bytes));
        }
        let page = pages.meeting(&config.council.name, site, &data.files)?;
        let page_name = format!("{date}/index.html");
        done.pages.push((page_name.clone(), page.clone()));
        // Bilag first, the page that links to them after.
        files.push((page_name.clone(), page.into_bytes()));
        for (name, bytes) in &files {
            let sha = sha256_hex(bytes);
            let same = published.iter().any(|p| p.name == *name && p.sha256 == sha);
            if same && !force {
                continue;
            }
            target.get()?.upload(name, bytes)?;
            ledger.record_publication(
                &date,
                name,
                (&sha, None),
                bytes.len() as u64,
                now,
            )?;
            done.changed += 1;
            done.pages_changed |= *name == page_name;
        }
        // A bilag that is no longer public (its item closed, `public = false`, withdrawn)
        // leaves the site.
        let prefix = format!("{date}/bilag-");
        for stale in published.iter().filter(|p| {
            p.meeting == date
                && p.name.starts_with(&prefix)
                && !files.iter().any(|(n, _)| *n == p.name)
        }) {
            target.get()?.remove(&stale.name)?;
            ledger.forget_publication(&date, &stale.name)?;
            tracing::info!("fjernet fra det offentlige site: {}", stale.name);
            done.changed += 1;
        }
    }
    Ok(done)
}

/// The search (`pagefind/…`) made again when a page changed (or is missing on the site):
/// changed files uploaded, files of the previous index no longer part of it removed.
pub(super) fn upload_search(
    ledger: &mut Ledger,
    target: &mut Lazy,
    pages: &Uploaded,
    force: bool,
    now: Timestamp,
) -> Result<usize> {
    let published = ledger.publications()?;
    let entry = "pagefind/pagefind-entry.json";
    let on_site = published.iter().any(|p| p.meeting.is_empty() && p.name == entry);
    if on_site && !pages.pages_changed && !force {
        return Ok(0);
    }
    let files = crate::site::search::index(&pages.pages)?;
    let mut changed = 0;
    // The index's parts first, its entry (which names them) last.
    let (entries, parts): (Vec<_>, Vec<_>) = files.iter().partition(|(n, _)| n == entry);
    for (name, bytes) in parts.into_iter().chain(entries) {
        let sha = sha256_hex(bytes);
        let same = published
            .iter()
            .any(|p| p.meeting.is_empty() && p.name == *name && p.sha256 == sha);
        if same && !force {
            continue;
        }
        target.get()?.upload(name, bytes)?;
        ledger.record_publication("", name, (&sha, None), bytes.len() as u64, now)?;
        changed += 1;
    }
    for stale in published.iter().filter(|p| {
        p.meeting.is_empty()
            && p.name.starts_with("pagefind/")
            && !files.iter().any(|(n, _)| *n == p.name)
    }) {
        target.get()?.remove(&stale.name)?;
        ledger.forget_publication("", &stale.name)?;
        changed += 1;
    }
    Ok(changed)
}

/// The public edition's data as it was published: the minutes' once they are on the site,
/// else the agenda's; `None` while what would be made now differs from what was published.
fn published_data(
    config: &Config,
    m: &MeetingConfig,
    facts: &Facts,
    published: &[Publication],
) -> Option<DocData> {
    for kind in [DocKind::Minutes, DocKind::Agenda] {
        let name = format!("{}/{}", m.date, kind.file_name(Edition::Public));
        let Some(p) = published.iter().find(|p| p.name == name) else { continue };
        let (data, _) =
            crate::document::data(&config.council, m, facts, kind, Edition::Public)
                .ok()?;
        return (p.content.as_deref() == Some(data.content_hash().as_str()))
            .then_some(data);
    }
    None
}
