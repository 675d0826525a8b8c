//! Publishing: what is public and when (the public agenda once the agenda is sent, the public
//! minutes once the minutes are, then the site files), its bookkeeping in the ledger, over the
//! targets that put the files in place atomically (a folder, WebDAV).

mod dir;
mod pages;
mod webdav;

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::Date;

use crate::config::{Config, PublishConfig, PublishTarget};
use crate::deliver::Ctx;
use crate::document::Facts;
use crate::edition::DocData;
use crate::error::{Error, Result};
use crate::hash::sha256_hex;
use crate::kind::{DocKind, Edition};
use crate::ledger::{Ledger, Publication};
use crate::render::Renderer;
use crate::site::{SiteFile, SiteMeeting};
use crate::workspace::Workspace;

pub(crate) use dir::Dir;
pub(crate) use webdav::WebDav;

/// A publish destination: one required primitive.
pub(crate) trait Publish {
    /// Puts `bytes` at `name` (a `/`-separated path under the target's root), atomically.
    fn upload(&mut self, name: &str, bytes: &[u8]) -> Result<()>;
    /// Removes a file; one that is not there is fine.
    fn remove(&mut self, name: &str) -> Result<()>;
}

/// Refuses a name that is empty in a part or climbs out of the target (`..`).
fn valid_name(name: &str) -> Result<()> {
    if name.split('/').any(|c| c.is_empty() || c == "..") {
        return Err(Error::Usage(format!("ugyldigt navn til publicering: {name}")));
    }
    Ok(())
}

/// The publish target of a workspace, if it has one.
pub(crate) fn target(ws: &Workspace, config: &PublishConfig) -> Result<Box<dyn Publish>> {
    match &config.target {
        // A rehearsal publishes nowhere but `outbox/prøve/public/`.
        _ if ws.is_rehearsal() => Ok(Box::new(Dir { root: ws.outbox().join("public") })),
        PublishTarget::Dir(dir) => {
            let dir = if dir.is_absolute() { dir.clone() } else { ws.root.join(dir) };
            Ok(Box::new(Dir { root: dir }))
        }
        PublishTarget::WebDav(url) => {
            let env = |var: &Option<String>| -> Result<Option<String>> {
                match var {
                    None => Ok(None),
                    Some(v) => std::env::var(v).map(Some).map_err(|_| Error::Invalid {
                        report: format!("council.toml: fejl: miljøvariablen {v} til publiceringen er ikke sat\n  hjælp: sæt {v} i kkr's miljø og start kkr igen\n"),
                    }),
                }
            };
            let auth = match (env(&config.user_env)?, env(&config.password_env)?) {
                (Some(user), Some(password)) => Some((user, password)),
                _ => None,
            };
            Ok(Box::new(WebDav::new(url, auth, config.ca_file.as_deref(), &ws.root)?))
        }
    }
}

/// The MIME type of a published file.
pub(crate) fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("pdf") => "application/pdf",
        Some("html") => "text/html; charset=utf-8",
        Some("atom") => "application/atom+xml; charset=utf-8",
        Some("json") => "application/json",
        Some("ics") => "text/calendar; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        _ => "application/octet-stream",
    }
}

/// The target, opened the first time something is uploaded.
struct Lazy<'a> {
    ws: &'a Workspace,
    config: &'a PublishConfig,
    target: Option<Box<dyn Publish>>,
}

impl Lazy<'_> {
    fn get(&mut self) -> Result<&mut dyn Publish> {
        if self.target.is_none() {
            self.target = Some(target(self.ws, self.config)?);
        }
        Ok(self.target.as_deref_mut().expect("opened above"))
    }
}

/// A public document to render and upload.
struct PublicJob {
    meeting: Date,
    /// Its file name under `outbox/<meeting>/`.
    file: String,
    /// Its name on the site (`<meeting>/<file>`).
    name: String,
    /// What it was rendered from, to skip the next render when unchanged.
    key: String,
    /// The SHA-256 of what the site has now, if anything.
    published_sha: Option<String>,
    /// What it is made from (its data, not its date).
    content: String,
    data: DocData,
}

/// The publishing of one council, kept between passes.
#[derive(Debug, Default)]
pub(crate) struct Publisher {
    /// What each public file was last rendered from, to skip unchanged renders.
    keys: HashMap<String, String>,
}

impl Publisher {
    /// Publishes what is public and has changed: the public agenda once the agenda is sent,
    /// the public minutes once the minutes are, then the site files. `force` uploads again
    /// what is already there (`kkr publish`). With a progress bar (the whole archive is
    /// rebuilt, `kkr publish --alle`) the documents are rendered on both cores and counted
    /// on it. Returns how many files were uploaded.
    pub(crate) fn publish(
        &mut self,
        ctx: Ctx,
        ledger: &mut Ledger,
        renderer: &mut Renderer,
        only: Option<Date>,
        force: bool,
        bar: Option<&indicatif::ProgressBar>,
    ) -> Result<usize> {
        let Some(config) = &ctx.config.publish else { return Ok(0) };
        let mut target = Lazy { ws: ctx.ws, config, target: None };
        let published = ledger.publications()?;
        // A document that cannot be made stops the publishing there: the meetings before it
        // are still uploaded, then the error is returned.
        let (jobs, failed) = self.jobs(ctx.config, ledger, &published, only, force)?;
        if let Some(bar) = bar {
            bar.inc_length(jobs.len() as u64);
        }
        let docs: Vec<&DocData> = jobs.iter().map(|j| &j.data).collect();
        let second = (bar.is_some() && docs.len() > 1)
            .then(|| Renderer::new(ctx.ws.templates(), ctx.ws.attachment_dirs()));
        let tick = || {
            if let Some(bar) = bar {
                bar.inc(1);
            }
        };
        let pdfs = crate::render::render_many(renderer, second, &docs, &tick);
        // The uploads log a line each: the progress bar steps aside meanwhile.
        let hidden = indicatif::ProgressBar::hidden();
        let now = ctx.clock.now().timestamp();
        let uploads = || -> Result<usize> {
            let mut uploaded = 0;
            for (job, pdf) in jobs.into_iter().zip(pdfs) {
                uploaded +=
                    self.upload(ctx.ws, ledger, &mut target, job, &pdf?, force, now)?;
            }
            Ok(uploaded)
        };
        let mut uploaded = bar.unwrap_or(&hidden).suspend(uploads)?;
        if let Some(e) = failed {
            return Err(e);
        }
        // The site files follow what they show (a new document, a cancelled or moved
        // meeting): each is uploaded when its bytes differ from those published.
        if !ledger.publications()?.is_empty() {
            uploaded +=
                upload_site(ctx.ws, ctx.config, config, ledger, &mut target, force, now)?;
        }
        Ok(uploaded)
    }

    /// The public documents to render: those of published kinds whose inputs changed since
    /// they were last rendered (all with `force`), and the error of the first that cannot
    /// be made, which ends the list.
    fn jobs(
        &self,
        config: &Config,
        ledger: &Ledger,
        published: &[Publication],
        only: Option<Date>,
        force: bool,
    ) -> Result<(Vec<PublicJob>, Option<Error>)> {
        let mut jobs = Vec::new();
        for m in config.meetings.iter().filter(|m| only.is_none_or(|d| d == m.date)) {
            let facts = Facts::load(ledger, m.date)?;
            let plan = facts.plan();
            // A correction is published with the members' corrected minutes, not before
            // (with approval: once it is approved).
            let waiting = plan.minutes_changed;
            let kinds = [
                (DocKind::Agenda, plan.sent),
                (DocKind::Minutes, plan.minutes_sent && !waiting),
            ];
            let changed_at =
                facts.changed_at().map(|t| t.to_string()).unwrap_or_default();
            for kind in kinds.into_iter().filter(|(_, sent)| *sent).map(|(k, _)| k) {
                let file = kind.file_name(Edition::Public);
                let name = format!("{}/{file}", m.date);
                let on_site = published
                    .iter()
                    .find(|p| p.meeting == m.date.to_string() && p.name == name);
                let published_sha = on_site.map(|p| p.sha256.clone());
                // Skip the render when nothing it reads has changed since it was published.
                let key = format!("{changed_at}/{}", plan.list.len());
                if !force && published_sha.is_some() && self.keys.get(&name) == Some(&key)
                {
                    continue;
                }
                match crate::document::data(
                    &config.council,
                    m,
                    &facts,
                    kind,
                    Edition::Public,
                ) {
                    // Only the public content counts: a change the public edition does not
                    // show (a closed item's decision) publishes no new revision.
                    Ok((data, _))
                        if !force
                            && on_site.is_some_and(|p| {
                                p.content.as_deref() == Some(data.content_hash().as_str())
                            }) => {}
                    Ok((data, _)) => jobs.push(PublicJob {
                        meeting: m.date,
                        file,
                        name,
                        key,
                        published_sha,
                        content: data.content_hash(),
                        data,
                    }),
                    Err(e) => return Ok((jobs, Some(e))),
                }
            }
        }
        Ok((jobs, None))
    }

    /// Writes one rendered public document to `outbox/` and uploads it if the site has other
    /// bytes (or `force`); returns how many files were uploaded (0 or 1).
    #[allow(clippy::too_many_arguments, reason = "one upload's distinct parts")]
    fn upload(
        &mut self,
        ws: &Workspace,
        ledger: &mut Ledger,
        target: &mut Lazy,
        job: PublicJob,
        pdf: &[u8],
        force: bool,
        now: Timestamp,
    ) -> Result<usize> {
        let PublicJob { meeting, file, name, key, published_sha, content, .. } = job;
        crate::fs::write_atomic(&ws.meeting_dir(meeting).join(&file), pdf)?;
        let sha = sha256_hex(pdf);
        let mut uploaded = 0;
        if force || published_sha.is_none_or(|p| p != sha) {
            target.get()?.upload(&name, pdf)?;
            let size = pdf.len() as u64;
            let rev = ledger.record_publication(
                &meeting.to_string(),
                &name,
                (&sha, Some(&content)),
                size,
                now,
            )?;
            let what = if rev > 1 { format!(" (udgave {rev})") } else { String::new() };
            if ws.is_rehearsal() {
                tracing::info!("prøve: ville være publiceret: {name}{what}");
            } else {
                tracing::info!("publiceret: {name}{what}");
            }
            uploaded = 1;
        } else {
            // The same bytes: only what they were made from is noted (a ledger of an
            // earlier release did not keep it).
            let size = pdf.len() as u64;
            let m = meeting.to_string();
            ledger.record_publication(&m, &name, (&sha, Some(&content)), size, now)?;
        }
        self.keys.insert(name, key);
        Ok(uploaded)
    }
}

/// Uploads the site files (`index.html`, `feed.atom`, `meetings.json`) made from what has
/// been published, those whose bytes changed (all with `force`); returns how many.
fn upload_site(
    ws: &Workspace,
    config: &Config,
    publish: &PublishConfig,
    ledger: &mut Ledger,
    target: &mut Lazy,
    force: bool,
    now: Timestamp,
) -> Result<usize> {
    let published = ledger.publications()?;
    let meetings = site_meetings(config, ledger)?;
    let base = publish.base_url.clone().unwrap_or_default();
    // The meeting pages and the search first (the index links to them), each failure kept
    // for the end so it never holds back the index, feed, JSON and calendar.
    let mut pages = pages::upload(ws, config, ledger, target, &meetings, force, now)?;
    let mut uploaded = pages.changed;
    match pages::upload_search(ledger, target, &pages, force, now) {
        Ok(n) => uploaded += n,
        Err(e) => {
            tracing::warn!("søgningen kan ikke publiceres: {e}");
            pages.errors.push(e);
        }
    }
    let council = &config.council.name;
    let mut site = vec![
        ("index.html", crate::site::index_html(council, &meetings)),
        (
            "feed.atom",
            crate::site::feed_atom(council, &config.council.slug, &base, &meetings),
        ),
        ("meetings.json", crate::site::meetings_json(council, &base, &meetings)),
        ("kalender.ics", calendar(config, &base, &meetings)),
    ];
    if let Some(search) = pages.search_page.take() {
        site.push(("soeg.html", search));
    }
    for (name, text) in &site {
        let sha = sha256_hex(text.as_bytes());
        let same = published
            .iter()
            .any(|p| p.meeting.is_empty() && p.name == *name && p.sha256 == sha);
        if same && !force {
            continue;
        }
        target.get()?.upload(name, text.as_bytes())?;
        ledger.record_publication("", name, (&sha, None), text.len() as u64, now)?;
        uploaded += 1;
    }
    match pages.errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(uploaded),
    }
}

/// `kalender.ics`: every meeting, with the public titles of those whose agenda is out.
fn calendar(config: &Config, base: &str, meetings: &[SiteMeeting]) -> String {
    let events: Vec<crate::ics::PublicEvent> = config
        .meetings
        .iter()
        .map(|m| {
            let site = meetings.iter().find(|s| s.id == m.date);
            crate::ics::PublicEvent {
                meeting: m,
                titles: site
                    .map(|s| {
                        s.items
                            .iter()
                            .map(|i| format!("{}. {}", i.number, i.title))
                            .collect()
                    })
                    .unwrap_or_default(),
                url: site
                    .filter(|_| !base.is_empty())
                    .map(|s| format!("{base}{}/index.html", s.id)),
            }
        })
        .collect();
    // The documents' last publication, not the site files' own (which would change it again).
    let stamp = meetings
        .iter()
        .flat_map(|m| &m.files)
        .map(|f| f.published_at)
        .max()
        .unwrap_or(Timestamp::UNIX_EPOCH);
    crate::ics::public_calendar(&config.council, &events, stamp)
}

/// The public site's meetings, from what has been published. Decisions appear only once
/// the minutes are published.
fn site_meetings(config: &Config, ledger: &Ledger) -> Result<Vec<SiteMeeting>> {
    let publications = ledger.publications()?;
    let mut out = Vec::new();
    for m in &config.meetings {
        let files: Vec<SiteFile> = publications
            .iter()
            .filter(|p| p.meeting == m.date.to_string())
            .filter_map(|p| {
                let file = p.name.rsplit('/').next().unwrap_or(&p.name);
                let (kind, _) = DocKind::from_file_name(file)?;
                Some(SiteFile {
                    path: p.name.clone(),
                    kind,
                    label: kind.label(),
                    sha256: p.sha256.clone(),
                    size: p.size,
                    revision: p.revision,
                    published_at: p.published_at,
                    first_at: p.first_at,
                })
            })
            .collect();
        if files.is_empty() {
            continue;
        }
        let minutes = files.iter().any(|f| f.kind == DocKind::Minutes);
        let items = crate::document::Facts::load(ledger, m.date)?.site_items(minutes);
        out.push(SiteMeeting {
            id: m.date,
            starts: m.starts_at(),
            ends: m.ends_at(),
            place: m.place.clone(),
            items,
            files,
            cancelled: m.cancelled,
            moved_from: m.moved_to.map(|_| m.date),
        });
    }
    Ok(out)
}
