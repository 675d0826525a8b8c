//! Each meeting's page (`<date>/index.html`) and its public bilag (`<date>/bilag-3.1.pdf`)
//! on the site, made from the public edition exactly as it was published: while a change
//! waits (a correction awaiting approval) the page stays as it was. And the site's search
//! index of those pages.

use jiff::Timestamp;

use super::Lazy;
use crate::config::{Config, MeetingConfig};
use crate::document::Facts;
use crate::edition::DocData;
use crate::error::{Error, Result};
use crate::hash::sha256_hex;
use crate::kind::{DocKind, Edition};
use crate::ledger::{Ledger, Publication};
use crate::site::SiteMeeting;
use crate::site::page::{Pages, public_bilag};
use crate::workspace::Workspace;

/// The local copy of a meeting's page as last published (beside the public PDFs), so the
/// search keeps a page whose update waits.
const PAGE_COPY: &str = "side-offentlig.html";

/// What [`upload`] did.
pub(super) struct Uploaded {
    /// Files uploaded or removed.
    pub(super) changed: usize,
    /// Every meeting page as it is on the site now: path and HTML.
    pub(super) pages: Vec<(String, String)>,
    /// A page is new or changed.
    pub(super) pages_changed: bool,
    /// What failed, meeting by meeting (the others went on).
    pub(super) errors: Vec<Error>,
    /// The search page, `soeg.html`, from the same templates.
    pub(super) search_page: Option<String>,
}

/// Uploads what changed of every meeting's page and bilag, and removes bilag that are no
/// longer public. One meeting's failure does not stop the others.
pub(super) fn upload(
    ws: &Workspace,
    config: &Config,
    ledger: &mut Ledger,
    target: &mut Lazy,
    meetings: &[SiteMeeting],
    force: bool,
    now: Timestamp,
) -> Result<Uploaded> {
    let mut done = Uploaded {
        changed: 0,
        pages: Vec::new(),
        pages_changed: false,
        errors: Vec::new(),
        search_page: None,
    };
    let pages = match Pages::new(ws.templates().as_deref()) {
        Ok(p) => p,
        Err(e) => {
            done.errors.push(e);
            return Ok(done);
        }
    };
    match pages.search(&config.council.name) {
        Ok(html) => done.search_page = Some(html),
        Err(e) => done.errors.push(e),
    }
    // Read once: a meeting's rows are only its own files, which no other meeting touches.
    let published = ledger.publications()?;
    for site in meetings {
        let Some(m) = config.meeting(site.id) else { continue };
        let ctx = (&pages, published.as_slice());
        if let Err(e) =
            meeting(ws, config, ledger, target, ctx, site, m, force, now, &mut done)
        {
            // The page on the site stays searchable as it was.
            let copy = ws.meeting_dir(m.date).join(PAGE_COPY);
            if let Ok(html) = std::fs::read_to_string(copy) {
                done.pages.push((format!("{}/index.html", m.date), html));
            }
            tracing::warn!("mødets side {} kan ikke publiceres: {e}", m.date);
            done.errors.push(e);
        }
    }
    Ok(done)
}

#[allow(clippy::too_many_arguments, reason = "one meeting's page and its bookkeeping")]
fn meeting(
    ws: &Workspace,
    config: &Config,
    ledger: &mut Ledger,
    target: &mut Lazy,
    (pages, published): (&Pages, &[Publication]),
    site: &SiteMeeting,
    m: &MeetingConfig,
    force: bool,
    now: Timestamp,
    done: &mut Uploaded,
) -> Result<()> {
    let date = m.date.to_string();
    let page_name = format!("{date}/index.html");
    let copy = ws.meeting_dir(m.date).join(PAGE_COPY);
    let facts = Facts::load(ledger, m.date)?;
    let Some((data, kind)) = published_data(config, m, &facts, published) else {
        // A change waits: the page on the site stays, and stays searchable.
        if let Ok(html) = std::fs::read_to_string(&copy) {
            done.pages.push((page_name, html));
        }
        return Ok(());
    };
    let bilag = public_bilag(&data.files);
    let mut files = Vec::new();
    let mut unavailable = Vec::new();
    for b in &bilag {
        let found =
            ws.attachment_dirs().iter().map(|d| d.join(&b.stored)).find(|p| p.is_file());
        match found {
            Some(p) => files.push((format!("{date}/{}", b.file), crate::fs::read(&p)?)),
            None => {
                tracing::warn!(
                    "bilag {} findes ikke i state/attachments/; ikke publiceret",
                    b.label
                );
                unavailable.push(b.file.clone());
            }
        }
    }
    // Decisions belong to the minutes: an agenda's page never shows them.
    let decisions = kind == DocKind::Minutes;
    let page = pages.meeting(
        &config.council.name,
        site,
        &data.files,
        decisions,
        &unavailable,
    )?;
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
        ledger.record_publication(&date, name, (&sha, None), bytes.len() as u64, now)?;
        if *name == page_name {
            crate::fs::write_atomic(&copy, bytes)?;
            done.pages_changed = true;
        }
        done.changed += 1;
    }
    // A bilag that is no longer public (its item closed, `public = false`, withdrawn)
    // leaves the site; one missing from the store is left as it is.
    let prefix = format!("{date}/bilag-");
    for stale in published.iter().filter(|p| {
        p.meeting == date
            && p.name.starts_with(&prefix)
            && !files.iter().any(|(n, _)| *n == p.name)
            && !unavailable.iter().any(|f| p.name == format!("{date}/{f}"))
    }) {
        target.get()?.remove(&stale.name)?;
        ledger.forget_publication(&date, &stale.name)?;
        tracing::info!("fjernet fra det offentlige site: {}", stale.name);
        done.changed += 1;
    }
    Ok(())
}

/// The search (`pagefind/…`) made again when a page changed (or is missing on the site):
/// changed files uploaded, files of the previous index no longer part of it removed (a
/// removal that failed is tried again at every pass until it succeeds).
pub(super) fn upload_search(
    ledger: &mut Ledger,
    target: &mut Lazy,
    pages: &Uploaded,
    force: bool,
    now: Timestamp,
) -> Result<usize> {
    let mut changed = sweep(ledger, target)?;
    let published = ledger.publications()?;
    let entry = "pagefind/pagefind-entry.json";
    let on_site = published.iter().any(|p| p.meeting.is_empty() && p.name == entry);
    if on_site && !pages.pages_changed && !force {
        return Ok(changed);
    }
    let files = crate::site::search::index(&pages.pages)?;
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
        ledger.mark_publication_stale("", &stale.name)?;
    }
    Ok(changed + sweep(ledger, target)?)
}

/// Removes the site files marked stale, forgetting each one removed.
fn sweep(ledger: &mut Ledger, target: &mut Lazy) -> Result<usize> {
    let stale: Vec<Publication> =
        ledger.publications()?.into_iter().filter(|p| p.sha256.is_empty()).collect();
    for p in &stale {
        target.get()?.remove(&p.name)?;
        ledger.forget_publication(&p.meeting, &p.name)?;
    }
    Ok(stale.len())
}

/// The public edition's data as it was published, and its kind: the minutes' once they are
/// on the site, else the agenda's; `None` while what would be made now differs from what
/// was published.
fn published_data(
    config: &Config,
    m: &MeetingConfig,
    facts: &Facts,
    published: &[Publication],
) -> Option<(DocData, DocKind)> {
    for kind in [DocKind::Minutes, DocKind::Agenda] {
        let name = format!("{}/{}", m.date, kind.file_name(Edition::Public));
        let Some(p) = published.iter().find(|p| p.name == name) else { continue };
        let (data, _) =
            crate::document::data(&config.council, m, facts, kind, Edition::Public)
                .ok()?;
        let same = p.content.as_deref() == Some(data.content_hash().as_str());
        return same.then_some((data, kind));
    }
    None
}
