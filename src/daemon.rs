//! The run loop: intake, drafts, and whatever the schedule says is due; the watcher that wakes
//! it, and the sleep until the next due moment.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use jiff::civil::Date;
use sha2::Digest;

use crate::clock::Clock;
use crate::config::{Config, Member};
use crate::deliver::{self, Ctx, Sent};
use crate::edition::{DocKind, Edition};
use crate::error::Result;
use crate::inbox;
use crate::ledger::Ledger;
use crate::mail::{Mailer, Transport};
use crate::render::Renderer;
use crate::schedule::{self, Job, MeetingState};
use crate::workspace::Workspace;

/// Everything one council's run needs, kept between passes so the renderer stays warm.
pub struct Council {
    /// The workspace.
    pub ws: Workspace,
    /// Its configuration.
    pub config: Config,
    /// The roster, or why it is invalid.
    pub roster: std::result::Result<Vec<Member>, String>,
    /// The ledger.
    pub ledger: Ledger,
    /// The warm Typst renderer.
    pub renderer: Renderer,
    /// Mail templates.
    pub mailer: Mailer,
    /// The clock.
    pub clock: Clock,
    /// Write `.eml` files instead of using SMTP.
    pub dry_run: bool,
    /// What each public file was last rendered from, to skip unchanged renders.
    public_keys: std::collections::HashMap<String, String>,
    /// When `council.toml` and `members.csv` were last read, to reload them when edited.
    inputs: [Stamp; 2],
    /// The workspace lock, held while this council runs.
    _lock: std::fs::File,
}

/// What a pass did, for the exit code and the next wake-up.
#[derive(Debug, Default, Clone, Copy)]
pub struct Outcome {
    /// Files rejected.
    pub rejected: usize,
    /// The roster or the mail setup is invalid, so nothing was sent.
    pub invalid: bool,
    /// Sending must be retried.
    pub transient: bool,
    /// Something else failed (a document could not be made, a file not written).
    pub failed: bool,
    /// Files are still being written: look again soon.
    pub waiting: bool,
}

impl Outcome {
    /// The exit code of `run --once` (SPEC §5): 4 a document failed, 1 invalid input,
    /// 3 retry, 0 done.
    pub fn exit_code(&self) -> u8 {
        if self.failed {
            4
        } else if self.rejected > 0 || self.invalid {
            1
        } else if self.transient {
            3
        } else {
            0
        }
    }
}

impl Council {
    /// Opens a workspace for running: configuration (fatal if invalid), roster, ledger.
    pub fn open(ws: Workspace, clock: Clock, dry_run: bool) -> Result<Self> {
        // Stamped before reading, so an edit made while opening is read on the next pass.
        let inputs = [stamp(&ws.config_path()), stamp(&ws.roster_path())];
        let config = ws.load_config()?;
        let lock = lock(&ws)?;
        let roster = ws.load_roster();
        let ledger = Ledger::open(&ws.ledger_path())?;
        let renderer = Renderer::new(ws.templates(), vec![ws.attachments()]);
        let mailer = Mailer::new(ws.templates().as_deref())?;
        let public_keys = Default::default();
        Ok(Self {
            ws,
            config,
            roster,
            ledger,
            renderer,
            mailer,
            clock,
            dry_run,
            public_keys,
            inputs,
            _lock: lock,
        })
    }

    /// The schedule's view of a meeting.
    pub fn state(&self, meeting: Date) -> MeetingState {
        deliver::plan(&self.ledger, meeting).map(|p| p.state()).unwrap_or_default()
    }

    /// Reads `council.toml` and `members.csv` again if they were edited since they were
    /// last read, so a running daemon sees new meetings and roster rows. An edited
    /// `council.toml` that is invalid is reported and the last valid one stays in force;
    /// an invalid roster stops sending until it is fixed (SPEC §6).
    fn reload(&mut self) {
        let now = [stamp(&self.ws.config_path()), stamp(&self.ws.roster_path())];
        if now[0] != self.inputs[0] {
            match self.ws.load_config() {
                Ok(config) => {
                    self.config = config;
                    tracing::info!("council.toml er ændret og læst igen");
                }
                Err(e) => tracing::error!(
                    "council.toml er ændret, men ugyldig; den forrige udgave gælder, til den er rettet:\n{}",
                    e.to_string().trim_end()
                ),
            }
        }
        if now[1] != self.inputs[1] {
            self.roster = self.ws.load_roster();
            if self.roster.is_ok() {
                tracing::info!("members.csv er ændret og læst igen");
            }
        }
        self.inputs = now;
    }

    /// One pass: take in the inbox, update drafts, send what is due, resume what is
    /// unfinished. `renamed` are files known to be complete (renamed into the inbox).
    pub fn pass(&mut self, renamed: &HashSet<PathBuf>) -> Result<Outcome> {
        self.pass_with(renamed, None)
    }

    /// A pass that also sends `force` now if it has not gone out (`kkr send`): a meeting's
    /// agenda, or with `minutes` its minutes.
    pub fn pass_with(
        &mut self,
        renamed: &HashSet<PathBuf>,
        force: Option<(Date, bool)>,
    ) -> Result<Outcome> {
        let mut outcome = Outcome::default();
        self.reload();
        let now = self.clock.now();
        let names: Option<Vec<String>> =
            self.roster.as_ref().ok().map(|r| r.iter().map(|m| m.name.clone()).collect());
        let intake = inbox::intake(
            &self.ws,
            &self.config,
            names.as_deref(),
            &mut self.ledger,
            &now,
            renamed,
        )?;
        for (rel, meeting) in &intake.accepted {
            tracing::info!("modtaget: inbox/{rel} (mødet {meeting})");
        }
        for (rel, report) in &intake.rejected {
            tracing::warn!("afvist: inbox/{rel}\n{}", report.trim_end());
        }
        if intake.waiting > 0 {
            tracing::info!(
                "{} fil(er) skrives stadig og tages med om lidt",
                intake.waiting
            );
        }
        outcome.rejected = intake.rejected.len();
        outcome.waiting = intake.waiting > 0;

        for meeting in self.config.meetings.iter().map(|m| m.date).collect::<Vec<_>>() {
            let draft = self
                .ws
                .meeting_dir(meeting)
                .join(DocKind::Draft.file_name(Edition::Member));
            let has_items = self.state(meeting).items > 0;
            if has_items && (intake.changed.contains(&meeting) || !draft.exists()) {
                let rendered = deliver::render_doc(
                    &self.config,
                    &self.ledger,
                    &mut self.renderer,
                    meeting,
                    DocKind::Draft,
                    Edition::Member,
                );
                match rendered {
                    Ok((pdf, _)) => {
                        crate::fs::write_atomic(&draft, &pdf)?;
                        tracing::info!("udkast opdateret: {}", self.ws.rel(&draft));
                    }
                    Err(e) => {
                        tracing::error!("{e}");
                        outcome.failed = true;
                    }
                }
            }
        }

        let roster = match &self.roster {
            Ok(r) => r.clone(),
            Err(report) => {
                tracing::error!(
                    "members.csv er ugyldig, så intet sendes:\n{}",
                    report.trim_end()
                );
                outcome.invalid = true;
                return Ok(outcome);
            }
        };
        let mut transport = match deliver::transport(&self.ws, &self.config, self.dry_run)
        {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("{e}");
                outcome.invalid = true;
                return Ok(outcome);
            }
        };
        let mut jobs = schedule::due(&now, &self.config, &|m| self.state(m));
        match force {
            Some((meeting, false)) if !self.state(meeting).agenda_sent => {
                jobs.retain(
                    |j| !matches!(j, Job::SendAgenda { meeting: m, .. } if *m == meeting),
                );
                jobs.insert(0, Job::SendAgenda { meeting, late: false });
            }
            Some((meeting, true)) if !self.state(meeting).minutes_sent => {
                jobs.retain(
                    |j| !matches!(j, Job::SendMinutes { meeting: m } if *m == meeting),
                );
                jobs.push(Job::SendMinutes { meeting });
            }
            _ => {}
        }
        for job in jobs {
            let (meeting, kind, late) = match job {
                Job::SendAgenda { meeting, late } => (meeting, DocKind::Agenda, late),
                Job::SendSupplement { meeting } => {
                    let n =
                        self.ledger.documents(meeting, "supplement")?.len() as i64 + 1;
                    (meeting, DocKind::Supplement(n), false)
                }
                Job::SendCorrection { meeting } => {
                    let n =
                        self.ledger.documents(meeting, "correction")?.len() as i64 + 1;
                    (meeting, DocKind::Correction(n), false)
                }
                Job::SendMinutes { meeting } => (meeting, DocKind::Minutes, false),
            };
            if late {
                tracing::warn!(
                    "dagsordenen til mødet {meeting} sendes for sent (kkr kørte ikke på tidspunktet)"
                );
            }
            let ctx = Ctx { ws: &self.ws, config: &self.config, clock: &self.clock };
            match deliver::record(
                ctx,
                &roster,
                &mut self.ledger,
                &mut self.renderer,
                meeting,
                kind,
                late,
            ) {
                Ok(doc) => {
                    tracing::info!("{}: lavet til {} modtagere", doc.file, roster.len())
                }
                Err(e) => {
                    tracing::error!("{e}");
                    outcome.transient |= e.is_transient();
                    outcome.failed |= !e.is_transient();
                }
            }
        }
        let sent = self.resume(&roster, transport.as_mut())?;
        outcome.transient |= sent.retry > 0 || self.ledger.next_retry()?.is_some();
        match self.publish(None, false) {
            Ok(_) => {}
            Err(e) => {
                tracing::error!("{e}");
                outcome.transient |= e.is_transient();
                outcome.failed |= !e.is_transient()
                    && !matches!(e, crate::error::Error::Invalid { .. });
                outcome.invalid |= matches!(e, crate::error::Error::Invalid { .. });
            }
        }
        Ok(outcome)
    }

    /// Publishes what is public and has changed: the public agenda once the agenda is sent,
    /// the public minutes once the minutes are, then the site files. `force` uploads again
    /// what is already there (`kkr publish`). Returns how many files were uploaded.
    pub fn publish(&mut self, only: Option<Date>, force: bool) -> Result<usize> {
        self.publish_with(only, force, None)
    }

    /// [`Council::publish`]; with a progress bar (the whole archive is rebuilt, `kkr publish
    /// --alle`) the documents are rendered on both cores and counted on it.
    pub fn publish_with(
        &mut self,
        only: Option<Date>,
        force: bool,
        bar: Option<&indicatif::ProgressBar>,
    ) -> Result<usize> {
        let Some(config) = self.config.publish.clone() else { return Ok(0) };
        let mut target = None;
        let now = self.clock.now().timestamp();
        let published = self.ledger.publications()?;
        let mut uploaded = 0;
        let mut jobs: Vec<PublicJob> = Vec::new();
        // A document that cannot be made stops the publishing there, as it always has: the
        // meetings before it are still uploaded, then the error is returned.
        let mut failed = None;
        'meetings: for m in self
            .config
            .meetings
            .clone()
            .iter()
            .filter(|m| only.is_none_or(|d| d == m.date))
        {
            let plan = deliver::plan(&self.ledger, m.date)?;
            let mut files = Vec::new();
            if plan.sent {
                files.push((DocKind::Agenda, DocKind::Agenda.file_name(Edition::Public)));
            }
            if plan.minutes_sent {
                files.push((
                    DocKind::Minutes,
                    DocKind::Minutes.file_name(Edition::Public),
                ));
            }
            let changed_at = self
                .ledger
                .changed_at(m.date)?
                .map(|t| t.to_string())
                .unwrap_or_default();
            for (kind, file) in files {
                let name = format!("{}/{file}", m.date);
                let published_sha = published
                    .iter()
                    .find(|p| p.meeting == m.date.to_string() && p.name == name)
                    .map(|p| p.sha256.clone());
                // Skip the render when nothing it reads has changed since it was published.
                let key = format!("{changed_at}/{}", plan.list.len());
                if !force
                    && published_sha.is_some()
                    && self.public_keys.get(&name) == Some(&key)
                {
                    continue;
                }
                let data = deliver::doc_data(
                    &self.config,
                    &self.ledger,
                    m.date,
                    kind,
                    Edition::Public,
                );
                match data {
                    Ok((data, _)) => jobs.push(PublicJob {
                        meeting: m.date,
                        file,
                        name,
                        key,
                        published_sha,
                        data,
                    }),
                    Err(e) => {
                        failed = Some(e);
                        break 'meetings;
                    }
                }
            }
        }
        if let Some(bar) = bar {
            bar.inc_length(jobs.len() as u64);
        }
        let docs: Vec<&crate::edition::DocData> = jobs.iter().map(|j| &j.data).collect();
        let second = (bar.is_some() && docs.len() > 1)
            .then(|| Renderer::new(self.ws.templates(), vec![self.ws.attachments()]));
        let pdfs = render_all(&mut self.renderer, second, &docs, bar);
        // The uploads log a line each: the progress bar steps aside meanwhile.
        let hidden = indicatif::ProgressBar::hidden();
        let bar = bar.unwrap_or(&hidden);
        bar.suspend(|| -> Result<()> {
            for (job, pdf) in jobs.into_iter().zip(pdfs) {
                let PublicJob { meeting: date, file, name, key, published_sha, .. } = job;
                let pdf = pdf?;
                crate::fs::write_atomic(&self.ws.meeting_dir(date).join(&file), &pdf)?;
                let sha = crate::item::hex(&sha2::Sha256::digest(&pdf));
                if force || published_sha.is_none_or(|p| p != sha) {
                    let t = match &mut target {
                        Some(t) => t,
                        None => target.insert(crate::publish::target(&self.ws, &config)?),
                    };
                    t.upload(&name, &pdf)?;
                    let rev = self.ledger.record_publication(
                        &date.to_string(),
                        &name,
                        &sha,
                        pdf.len() as u64,
                        now,
                    )?;
                    let what =
                        if rev > 1 { format!(" (udgave {rev})") } else { String::new() };
                    tracing::info!("publiceret: {name}{what}");
                    uploaded += 1;
                }
                self.public_keys.insert(name, key);
            }
            Ok(())
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        let site_missing = !published.iter().any(|p| p.meeting.is_empty());
        let any_public = !self.ledger.publications()?.is_empty();
        if any_public && (uploaded > 0 || force || site_missing) {
            let meetings = self.site_meetings()?;
            let base = config.base_url.clone().unwrap_or_default();
            let council = self.config.council.name.clone();
            let site = [
                ("index.html", crate::site::index_html(&council, &meetings)),
                (
                    "feed.atom",
                    crate::site::feed_atom(
                        &council,
                        &self.config.council.slug,
                        &base,
                        &meetings,
                    ),
                ),
                ("meetings.json", crate::site::meetings_json(&council, &base, &meetings)),
            ];
            let t = match &mut target {
                Some(t) => t,
                None => target.insert(crate::publish::target(&self.ws, &config)?),
            };
            for (name, text) in site {
                t.upload(name, text.as_bytes())?;
                let sha = crate::item::hex(&sha2::Sha256::digest(text.as_bytes()));
                self.ledger.record_publication("", name, &sha, text.len() as u64, now)?;
                uploaded += 1;
            }
        }
        Ok(uploaded)
    }

    /// The public site's meetings, from what has been published. Decisions appear only once
    /// the minutes are published.
    fn site_meetings(&self) -> Result<Vec<crate::site::SiteMeeting>> {
        let publications = self.ledger.publications()?;
        let mut out = Vec::new();
        for m in &self.config.meetings {
            let files: Vec<crate::site::SiteFile> = publications
                .iter()
                .filter(|p| p.meeting == m.date.to_string())
                .map(|p| crate::site::SiteFile {
                    path: p.name.clone(),
                    label: if p.name.ends_with("referat-offentlig.pdf") {
                        "Beslutningsreferat".into()
                    } else {
                        "Dagsorden".into()
                    },
                    sha256: p.sha256.clone(),
                    size: p.size,
                    revision: p.revision,
                    published_at: p.published_at,
                    first_at: p.first_at,
                })
                .collect();
            if files.is_empty() {
                continue;
            }
            let plan = deliver::plan(&self.ledger, m.date)?;
            let minutes = files.iter().any(|f| f.path.ends_with("referat-offentlig.pdf"));
            let items = plan
                .list
                .iter()
                .enumerate()
                .filter(|(_, (s, _))| !s.item.withdrawn)
                .map(|(i, (s, _))| {
                    let mut p = crate::edition::public_item(&crate::edition::Entry {
                        item: &s.item,
                        status: "",
                        number: i + 1,
                    });
                    if !minutes {
                        p.result = None;
                    }
                    p
                })
                .collect();
            out.push(crate::site::SiteMeeting {
                starts: m.starts_at(),
                ends: m.ends_at(),
                place: m.place.clone(),
                items,
                files,
            });
        }
        Ok(out)
    }

    /// Delivers every recorded document that still has recipients owed, before its meeting
    /// starts, and tells the secretariat about failures once a document is done.
    fn resume(
        &mut self,
        roster: &[Member],
        transport: &mut dyn Transport,
    ) -> Result<Sent> {
        let mut total = Sent::default();
        let now = self.clock.now();
        for m in self.config.meetings.clone() {
            for doc in self.ledger.meeting_documents(m.date)? {
                if crate::shutdown::requested() {
                    return Ok(total);
                }
                // Agendas stop when the meeting starts; minutes go out after it.
                if doc.kind != "minutes" && now >= m.starts_at() {
                    continue;
                }
                // Every roster row gets every document, also rows added after it was made.
                let name = doc.file.rsplit('/').next().unwrap_or(&doc.file).to_owned();
                let recipients: Vec<_> = roster
                    .iter()
                    .map(|r| {
                        let email = r.email.to_string();
                        let id =
                            deliver::message_id(&self.config, m.date, &name, &email, 0);
                        (email, r.name.clone(), id)
                    })
                    .collect();
                let added =
                    self.ledger.add_recipients(doc.id, &recipients, now.timestamp())?;
                if added > 0 {
                    tracing::info!("{}: {added} nye modtagere fra members.csv", doc.file);
                }
                let ctx = Ctx { ws: &self.ws, config: &self.config, clock: &self.clock };
                let s = deliver::deliver(
                    ctx,
                    &mut self.ledger,
                    &self.mailer,
                    transport,
                    &doc,
                )?;
                if s.sent + s.failed + s.retry > 0 {
                    let how = if self.dry_run || self.config.mail.smtp.is_none() {
                        "skrevet til outbox/mail/"
                    } else {
                        "sendt"
                    };
                    tracing::info!(
                        "{}: {} mail {how}, {} fejlet, {} prøves igen senere",
                        doc.file,
                        s.sent,
                        s.failed,
                        s.retry
                    );
                }
                total.sent += s.sent;
                total.failed += s.failed;
                total.retry += s.retry;
                match deliver::summarize(ctx, roster, &mut self.ledger, transport, &doc) {
                    Ok(true) => tracing::info!(
                        "sekretariatet har fået besked om fejlene ved {}",
                        doc.file
                    ),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(
                        "fejlrapporten til sekretariatet kunne ikke sendes: {e}"
                    ),
                }
            }
        }
        Ok(total)
    }

    /// How long the daemon may sleep before something is due (a send moment, a retry, a
    /// file still being written); at most a minute, as a safety net.
    pub fn sleep_for(&self, outcome: &Outcome) -> Duration {
        let now = self.clock.now();
        let mut wake = Duration::from_secs(60);
        let mut consider = |at: jiff::Timestamp| {
            let d = at.duration_since(now.timestamp());
            let d = Duration::try_from(d).unwrap_or(Duration::ZERO);
            wake = wake.min(d);
        };
        if let Some(at) = schedule::next_due(&now, &self.config, &|m| self.state(m)) {
            consider(at.timestamp());
        }
        if let Ok(Some(at)) = self.ledger.next_retry() {
            consider(at);
        }
        if outcome.waiting {
            wake = wake.min(inbox::QUIET / 2);
        }
        wake
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
    data: crate::edition::DocData,
}

/// Renders documents, results in their order. With a `second` renderer (an archive
/// rebuild, hundreds of documents) both cores work: the council's warm renderer and the
/// second one each take the next document until all are done.
fn render_all(
    renderer: &mut Renderer,
    second: Option<Renderer>,
    docs: &[&crate::edition::DocData],
    bar: Option<&indicatif::ProgressBar>,
) -> Vec<Result<Vec<u8>>> {
    let tick = || {
        if let Some(bar) = bar {
            bar.inc(1);
        }
    };
    let Some(mut second) = second else {
        return docs
            .iter()
            .map(|d| {
                let pdf = renderer.render(d);
                tick();
                pdf
            })
            .collect();
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<Result<Vec<u8>>>>> =
        std::sync::Mutex::new(docs.iter().map(|_| None).collect());
    std::thread::scope(|s| {
        for r in [renderer, &mut second] {
            let (next, results, tick) = (&next, &results, &tick);
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(doc) = docs.get(i) else { break };
                    let pdf = r.render(doc);
                    tick();
                    if let Ok(mut results) = results.lock() {
                        results[i] = Some(pdf);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(crate::error::Error::Render {
                    document: String::new(),
                    diagnostics: "Typst stoppede uventet under opsætningen".into(),
                })
            })
        })
        .collect()
}

/// Takes the workspace's lock (`state/kkr.lock`), so two kkr processes never work on one
/// workspace; the operating system releases it when the process ends, however it ends.
fn lock(ws: &Workspace) -> Result<std::fs::File> {
    let path = ws.state().join("kkr.lock");
    crate::fs::create_dir_all(&ws.state())?;
    let file = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| crate::error::Error::Write { path: path.clone(), source })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(crate::error::Error::Locked { path: ws.root.clone() })
        }
        Err(std::fs::TryLockError::Error(source)) => {
            Err(crate::error::Error::Write { path, source })
        }
    }
}

/// What wakes the loop.
enum Event {
    /// The inbox changed; the paths were renamed into it (and so are complete).
    Inbox(Vec<PathBuf>),
    /// A stop was asked for.
    Stop,
}

/// Watches the inbox; events are only hints to rescan (the listing is the truth).
fn watch(
    ws: &Workspace,
    tx: mpsc::Sender<Event>,
) -> Option<
    notify_debouncer_full::Debouncer<
        notify::RecommendedWatcher,
        notify_debouncer_full::RecommendedCache,
    >,
> {
    use notify::event::{EventKind, ModifyKind, RenameMode};
    let inbox = ws.inbox();
    let skip = [ws.processed(), ws.rejected(), ws.work()];
    let handler = move |result: notify_debouncer_full::DebounceEventResult| {
        let Ok(events) = result else {
            let _ = tx.send(Event::Inbox(Vec::new()));
            return;
        };
        let mut renamed = Vec::new();
        let mut relevant = false;
        for e in events {
            for p in &e.paths {
                if skip.iter().any(|s| p.starts_with(s)) {
                    continue;
                }
                relevant = true;
                if matches!(
                    e.kind,
                    EventKind::Modify(ModifyKind::Name(
                        RenameMode::To | RenameMode::Both
                    ))
                ) {
                    renamed.push(p.clone());
                }
            }
            relevant |= e.need_rescan();
        }
        if relevant {
            let _ = tx.send(Event::Inbox(renamed));
        }
    };
    let mut debouncer = match notify_debouncer_full::new_debouncer(
        Duration::from_millis(100),
        None,
        handler,
    ) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(
                "kan ikke overvåge indbakken ({e}); kigger i stedet hvert 2. sekund"
            );
            return None;
        }
    };
    crate::fs::create_dir_all(&inbox).ok()?;
    if let Err(e) = debouncer.watch(&inbox, notify::RecursiveMode::Recursive) {
        tracing::warn!(
            "kan ikke overvåge indbakken ({e}); kigger i stedet hvert 2. sekund"
        );
        return None;
    }
    Some(debouncer)
}

/// The start-up line: version, councils, and the next thing due across all of them.
pub fn health(workspaces: &[Workspace], clock: &Clock) -> String {
    let now = clock.now();
    let mut next: Option<(jiff::Zoned, String)> = None;
    for ws in workspaces {
        let Ok(config) = ws.load_config() else { continue };
        let ledger =
            crate::ledger::Ledger::open_read_only(&ws.ledger_path()).ok().flatten();
        let state = |m: Date| {
            ledger
                .as_ref()
                .and_then(|l| deliver::plan(l, m).ok())
                .map(|p| p.state())
                .unwrap_or_default()
        };
        if let Some(at) = schedule::next_due(&now, &config, &state)
            && next.as_ref().is_none_or(|(t, _)| at < *t)
        {
            next = Some((at, config.council.name.clone()));
        }
    }
    let what = next.map_or("intet planlagt".to_owned(), |(at, name)| {
        format!("næste: {name} dagsorden {}", at.strftime("%Y-%m-%d %H:%M"))
    });
    let n = workspaces.len();
    format!("kkr {}, {n} råd, {what}", env!("CARGO_PKG_VERSION"))
}

/// How long the daemon waits before it tries again to open a council it could not open.
const REOPEN: Duration = Duration::from_secs(15);

/// `kkr run` for one or more councils: each runs on its own thread, so a failure or a slow
/// send in one never delays another. The exit code is the worst of them.
pub fn run_all(
    workspaces: Vec<Workspace>,
    clock: Clock,
    dry_run: bool,
    once: bool,
) -> Result<u8> {
    if !once {
        crate::shutdown::install();
        tracing::info!("{}", health(&workspaces, &clock));
    }
    if workspaces.len() == 1 {
        let ws = workspaces.into_iter().next().expect("one workspace");
        return run(ws, clock, dry_run, once);
    }
    let codes: Vec<u8> = std::thread::scope(|s| {
        let handles: Vec<_> = workspaces
            .into_iter()
            .map(|ws| {
                let clock = clock.clone();
                s.spawn(move || {
                    let name = ws.root.display().to_string();
                    let span = tracing::info_span!("råd", mappe = %name);
                    let _guard = span.enter();
                    loop {
                        match run(ws.clone(), clock.clone(), dry_run, once) {
                            Ok(code) => return code,
                            // The daemon keeps trying a council it cannot open (an invalid
                            // council.toml, a lock held by another kkr): once fixed, it runs,
                            // and the other councils never wait for it.
                            Err(e) if !once => {
                                tracing::error!(
                                    "{name}: {e}\n  kkr prøver igen om {} sekunder",
                                    REOPEN.as_secs()
                                );
                                if !crate::shutdown::sleep(REOPEN) {
                                    return e.exit_code();
                                }
                            }
                            Err(e) => {
                                tracing::error!("{name}: {e}");
                                return e.exit_code();
                            }
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(crate::EXIT_OTHER)).collect()
    });
    Ok(codes.into_iter().max().unwrap_or(0))
}

/// `kkr run`: one pass with `--once`; otherwise passes whenever the inbox changes or
/// something falls due, until SIGINT/SIGTERM.
pub fn run(ws: Workspace, clock: Clock, dry_run: bool, once: bool) -> Result<u8> {
    let mut council = Council::open(ws, clock, dry_run)?;
    if once {
        return Ok(council.pass(&HashSet::new())?.exit_code());
    }
    let (tx, rx) = mpsc::channel();
    let stop_tx = tx.clone();
    crate::shutdown::install();
    crate::shutdown::on_stop(move || {
        let _ = stop_tx.send(Event::Stop);
    });
    let watcher = watch(&council.ws, tx);
    let next =
        schedule::next_due(&council.clock.now(), &council.config, &|m| council.state(m));
    let next = next
        .map(|t| {
            format!(", næste udsendelse {}", crate::clock::danish_moment(t.datetime()))
        })
        .unwrap_or_default();
    tracing::info!(
        "kkr {} kører for {} ({} møder){next}",
        env!("CARGO_PKG_VERSION"),
        council.config.council.name,
        council.config.meetings.len()
    );
    let mut renamed = HashSet::new();
    loop {
        let outcome = match council.pass(&renamed) {
            Ok(o) => o,
            Err(e) => {
                tracing::error!("{e}");
                Outcome { transient: true, ..Outcome::default() }
            }
        };
        renamed.clear();
        if crate::shutdown::requested() {
            break;
        }
        let mut wait = council.sleep_for(&outcome);
        if watcher.is_none() {
            wait = wait.min(Duration::from_secs(2));
        }
        match rx.recv_timeout(wait) {
            Ok(Event::Stop) => break,
            Ok(Event::Inbox(paths)) => {
                renamed.extend(paths);
                // Take whatever else arrived in the same moment.
                while let Ok(e) = rx.try_recv() {
                    match e {
                        Event::Stop => return Ok(0),
                        Event::Inbox(p) => renamed.extend(p),
                    }
                }
            }
            Err(_) => {}
        }
    }
    tracing::info!("kkr er stoppet");
    Ok(0)
}

/// `kkr send MEETING`: takes in the inbox and sends now what the schedule would send for the
/// meeting (the agenda even before its moment); `--resend`/`--to` deliberately send again.
pub fn send(
    ws: Workspace,
    clock: Clock,
    dry_run: bool,
    cmd: &crate::args::SendCommand,
) -> Result<u8> {
    use crate::error::Error;
    let meeting: Date = cmd.meeting.parse().map_err(|_| {
        Error::Usage(format!(
            "\"{}\" er ikke en mødedato; skriv fx 2027-01-28",
            cmd.meeting
        ))
    })?;
    let mut council = Council::open(ws, clock, dry_run)?;
    let m = council.config.meeting(meeting).cloned().ok_or_else(|| {
        Error::Usage(format!("der er intet møde den {meeting} i council.toml"))
    })?;
    if cmd.minutes {
        if council.clock.now() < m.starts_at() {
            return Err(Error::Usage(format!(
                "mødet {meeting} er ikke begyndt endnu; referatet kan først sendes efter mødet"
            )));
        }
        let plan = deliver::plan(&council.ledger, meeting)?;
        let missing: Vec<String> =
            plan.undecided().iter().map(|i| format!("{} ({})", i.title, i.id)).collect();
        if plan.active() == 0 || !missing.is_empty() {
            return Err(Error::Usage(format!(
                "referatet kan ikke sendes: disse punkter mangler en beslutning: {}\n  hjælp: læg punkterne ind igen med en [decision]-sektion",
                missing.join("; ")
            )));
        }
    } else if council.clock.now() >= m.starts_at() {
        return Err(Error::Usage(format!(
            "mødet {meeting} er begyndt; dagsordener sendes ikke længere"
        )));
    }
    let roster = council.roster.clone().map_err(|report| Error::Invalid { report })?;
    if let Some(to) = &cmd.to
        && !roster.iter().any(|r| r.email.to_string().eq_ignore_ascii_case(to))
    {
        return Err(Error::Usage(format!(
            "{to} står ikke i members.csv\n  hjælp: tilføj personen i members.csv; så sendes alle dokumenter automatisk"
        )));
    }
    if cmd.resend || cmd.to.is_some() {
        let now = council.clock.now().timestamp();
        let mut n = 0;
        for doc in council.ledger.meeting_documents(meeting)? {
            if (doc.kind == "minutes") != cmd.minutes {
                continue;
            }
            let name = doc.file.rsplit('/').next().unwrap_or(&doc.file).to_owned();
            let config = &council.config;
            let id = |recipient: &str, generation: i64| {
                deliver::message_id(config, meeting, &name, recipient, generation)
            };
            n += council.ledger.resend(doc.id, cmd.to.as_deref(), &id, now)?;
        }
        tracing::info!("{n} mail sendes igen");
    }
    Ok(council.pass_with(&HashSet::new(), Some((meeting, cmd.minutes)))?.exit_code())
}

/// `kkr publish MEETING`: uploads the meeting's public files and the site again.
pub fn publish(ws: Workspace, clock: Clock, meeting: &str) -> Result<u8> {
    use crate::error::Error;
    let date: Date = meeting.parse().map_err(|_| {
        Error::Usage(format!("\"{meeting}\" er ikke en mødedato; skriv fx 2027-01-28"))
    })?;
    let mut council = Council::open(ws, clock, true)?;
    if council.config.publish.is_none() {
        return Err(no_publish_section(&council.ws));
    }
    if council.config.meeting(date).is_none() {
        return Err(Error::Usage(format!("der er intet møde den {date} i council.toml")));
    }
    let n = council.publish(Some(date), true)?;
    if n == 0 {
        crate::outln!(
            "Intet at publicere for mødet {date} endnu (dagsordenen er ikke sendt)."
        );
    } else {
        crate::outln!("{n} filer publiceret for mødet {date}.");
    }
    Ok(0)
}

/// `kkr publish --alle`: rebuilds the public archive of each workspace: every meeting's
/// public documents rendered again (on both cores) and uploaded, then the site files. A
/// progress bar on a terminal counts the documents.
pub fn publish_all(
    workspaces: Vec<Workspace>,
    clock: Clock,
    progress: bool,
) -> Result<u8> {
    // Every council.toml is checked before anything is published.
    for ws in &workspaces {
        if ws.load_config()?.publish.is_none() {
            return Err(no_publish_section(ws));
        }
    }
    let bar = if progress {
        indicatif::ProgressBar::new(0)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} {bar:30} {pos}/{len} dokumenter ({elapsed})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut lines = Vec::new();
    let mut result = Ok(0);
    // One council at a time, opened when its turn comes and closed (its renderers freed,
    // its lock released) before the next. A failure ends the run after what was done is said.
    for ws in workspaces {
        let published = Council::open(ws, clock.clone(), true).and_then(|mut council| {
            let name = council.config.council.name.clone();
            bar.set_message(name.clone());
            Ok((name, council.publish_with(None, true, Some(&bar))?))
        });
        let (name, n) = match published {
            Ok(done) => done,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        lines.push(if n == 0 {
            format!("{name}: intet at publicere endnu (ingen dagsorden er sendt).")
        } else {
            format!("{name}: {n} filer publiceret.")
        });
    }
    bar.finish_and_clear();
    for line in lines {
        crate::outln!("{line}");
    }
    result
}

/// The error for publishing in a workspace whose council.toml has no `[publish]`.
fn no_publish_section(ws: &Workspace) -> crate::error::Error {
    crate::error::Error::Usage(format!(
        "{}: council.toml har ingen [publish]-sektion\n  hjælp: tilføj [publish] med target = \"dir:outbox/public\" eller en WebDAV-adresse",
        ws.root.display()
    ))
}

/// What identifies a version of an input file without reading it: its modification time
/// and size (`None` when it cannot be read).
type Stamp = Option<(std::time::SystemTime, u64)>;

fn stamp(path: &std::path::Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}
