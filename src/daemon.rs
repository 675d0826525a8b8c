//! The run loop: intake, drafts, and whatever the schedule says is due; the watcher that wakes
//! it, and the sleep until the next due moment.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use jiff::civil::Date;

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
        let config = ws.load_config()?;
        let roster = ws.load_roster();
        let ledger = Ledger::open(&ws.ledger_path())?;
        let renderer = Renderer::new(ws.templates(), vec![ws.attachments()]);
        let mailer = Mailer::new(ws.templates().as_deref())?;
        Ok(Self { ws, config, roster, ledger, renderer, mailer, clock, dry_run })
    }

    /// The schedule's view of a meeting.
    pub fn state(&self, meeting: Date) -> MeetingState {
        match deliver::plan(&self.ledger, meeting) {
            Ok(plan) => MeetingState {
                agenda_sent: plan.sent,
                items: plan.active(),
                new_items: plan.new_items(),
                changed_items: plan.changed_items(),
            },
            Err(_) => MeetingState::default(),
        }
    }

    /// One pass: take in the inbox, update drafts, send what is due, resume what is
    /// unfinished. `renamed` are files known to be complete (renamed into the inbox).
    pub fn pass(&mut self, renamed: &HashSet<PathBuf>) -> Result<Outcome> {
        self.pass_with(renamed, None)
    }

    /// A pass that also sends the agenda of `force` now if it has not gone out (`kkr send`).
    pub fn pass_with(
        &mut self,
        renamed: &HashSet<PathBuf>,
        force: Option<Date>,
    ) -> Result<Outcome> {
        let mut outcome = Outcome::default();
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
                let rendered = deliver::render_agenda(
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
        if let Some(meeting) = force
            && !self.state(meeting).agenda_sent
            && !jobs
                .iter()
                .any(|j| matches!(j, Job::SendAgenda { meeting: m, .. } if *m == meeting))
        {
            jobs.insert(0, Job::SendAgenda { meeting, late: false });
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
        Ok(outcome)
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
            if now >= m.starts_at() {
                continue;
            }
            for doc in self.ledger.meeting_documents(m.date)? {
                if crate::shutdown::requested() {
                    return Ok(total);
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
        Duration::from_millis(300),
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

/// `kkr run`: one pass with `--once`; otherwise passes whenever the inbox changes or
/// something falls due, until SIGINT/SIGTERM.
pub fn run(ws: Workspace, clock: Clock, dry_run: bool, once: bool) -> Result<u8> {
    let mut council = Council::open(ws, clock, dry_run)?;
    if once {
        return Ok(council.pass(&HashSet::new())?.exit_code());
    }
    let (tx, rx) = mpsc::channel();
    let stop_tx = tx.clone();
    crate::shutdown::install(move || {
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
    if cmd.minutes {
        return Err(Error::Usage("kkr send --minutes er ikke tilgængelig endnu i denne version\n  hjælp: referater kommer i en senere version".into()));
    }
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
    if council.clock.now() >= m.starts_at() {
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
            let name = doc.file.rsplit('/').next().unwrap_or(&doc.file).to_owned();
            let config = &council.config;
            let id = |recipient: &str, generation: i64| {
                deliver::message_id(config, meeting, &name, recipient, generation)
            };
            n += council.ledger.resend(doc.id, cmd.to.as_deref(), &id, now)?;
        }
        tracing::info!("{n} mail sendes igen");
    }
    Ok(council.pass_with(&HashSet::new(), Some(meeting))?.exit_code())
}
