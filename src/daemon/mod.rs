//! The run loop and nothing else: each pass takes in the inbox, updates the drafts, records
//! what the schedule says is due and resumes delivery and publishing; between passes it
//! sleeps until the next due moment or a file event (`run.rs`: the loop itself).

mod make;
mod run;

pub use run::{health, run, run_all};

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use jiff::civil::Date;

use crate::clock::Clock;
use crate::config::Config;
use crate::deliver::{self, Ctx};
use crate::error::{Error, Result};
use crate::inbox;
use crate::ledger::Ledger;
use crate::mail::{Mailer, Transport};
use crate::publish::Publisher;
use crate::render::Renderer;
use crate::roster::Member;
use crate::schedule::{self, MeetingState};
use crate::term::{EXIT_INVALID, EXIT_OTHER, EXIT_TRANSIENT};
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
    /// A rehearsal (`--dry-run`): the workspace is its view under `outbox/prøve/`.
    pub dry_run: bool,
    /// The publishing, with what each public file was last rendered from.
    publisher: Publisher,
    /// When `council.toml` and `members.csv` were last read, to reload them when edited.
    inputs: [Stamp; 2],
    /// Files kkr does not read, already named in the log (path and size).
    unread_logged: HashSet<(String, u64)>,
    /// Documents that could not be made in this pass, for the secretariat's notice.
    unmade: Vec<crate::notice::Event>,
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
            EXIT_OTHER
        } else if self.rejected > 0 || self.invalid {
            EXIT_INVALID
        } else if self.transient {
            EXIT_TRANSIENT
        } else {
            0
        }
    }

    /// Counts an error of a step that does not stop the pass: a retry, invalid input, or
    /// another failure.
    fn count(&mut self, e: &Error) {
        tracing::error!("{e}");
        self.transient |= e.is_transient();
        self.invalid |= matches!(e, Error::Invalid { .. });
        self.failed |= !e.is_transient() && !matches!(e, Error::Invalid { .. });
    }
}

/// What `kkr send` forces into a pass: a meeting's agenda, or with `minutes` its minutes.
#[derive(Debug, Clone, Copy)]
pub struct Force {
    /// The meeting.
    pub meeting: Date,
    /// The minutes rather than the agenda.
    pub minutes: bool,
}

impl Council {
    /// Opens a workspace for running: configuration (fatal if invalid), roster, ledger.
    /// A rehearsal (`dry_run`, SPEC §6) opens the workspace's rehearsal view instead: a
    /// fresh `outbox/prøve/` with a copy of the ledger, so nothing real is touched.
    pub fn open(ws: Workspace, clock: Clock, dry_run: bool) -> Result<Self> {
        let dry_run = dry_run || ws.is_rehearsal();
        let ws = if dry_run && !ws.is_rehearsal() { ws.rehearsal() } else { ws };
        // Stamped before reading, so an edit made while opening is read on the next pass.
        let inputs = [stamp(&ws.config_path()), stamp(&ws.roster_path())];
        let config = ws.load_config()?;
        if ws.ledger_lost() {
            return Err(Error::LedgerLost { path: ws.root.clone() });
        }
        let lock = ws.lock()?;
        // SIGINT/SIGTERM finish the message in flight, also for one-off commands.
        crate::shutdown::install();
        let roster = ws.load_roster();
        let ledger = if dry_run {
            ws.clear_rehearsal()?;
            let ledger =
                Ledger::rehearsal_copy(&ws.real_ledger_path(), &ws.ledger_path())?;
            tracing::warn!(
                "PRØVEKØRSEL: intet sendes, flyttes, publiceres eller gemmes; det, kkr ville have gjort, skrives i {}/",
                ws.rel(&ws.rehearsal_dir())
            );
            ledger
        } else {
            // A workspace of an earlier release kept every version side by side.
            let moved = crate::processed::tidy(&ws)?;
            if moved > 0 {
                tracing::info!(
                    "inbox/behandlet/ er ryddet op: hvert punkt har nu én fil, tidligere udgaver ligger i tidligere/ ({moved} filer flyttet)"
                );
            }
            Ledger::open(&ws.ledger_path())?
        };
        let mut ledger = ledger;
        let owner = ledger.claim_council(&config.council.slug)?;
        if owner != config.council.slug {
            return Err(Error::LedgerOfAnother {
                found: owner,
                expected: config.council.slug,
            });
        }
        // Agendas sent by a kkr that did not record what they told of day, time and place
        // told what council.toml says now: recorded once, so a later move is announced.
        for m in &config.meetings {
            ledger.fill_told(m.date, &crate::told::Told::of(m).to_json())?;
        }
        let clock = match ledger.acted_at()? {
            Some(latest) => clock.with_floor(latest),
            None => clock,
        };
        clock.warn_if_behind();
        let renderer = Renderer::new(ws.templates(), ws.attachment_dirs());
        let dkim = config
            .mail
            .dkim
            .as_ref()
            .map(|d| crate::dkim::signing_config(d, &ws.root))
            .transpose()?;
        let mailer = Mailer::new(ws.templates().as_deref())?.with_dkim(dkim);
        Ok(Self {
            ws,
            config,
            roster,
            ledger,
            renderer,
            mailer,
            clock,
            dry_run,
            publisher: Publisher::default(),
            inputs,
            unread_logged: HashSet::new(),
            unmade: Vec::new(),
            _lock: lock,
        })
    }

    /// The schedule's view of a meeting, with whether a rejected attendance file holds its
    /// minutes.
    pub fn state(&self, meeting: Date) -> MeetingState {
        let mut state = crate::document::plan(&self.ledger, meeting)
            .map(|p| p.state())
            .unwrap_or_default();
        // Only asked when it can matter: minutes that are otherwise ready (state() is
        // called for every meeting on every pass).
        if state.items > 0
            && state.decided
            && (!state.minutes_sent || state.minutes_changed)
        {
            state.attendance_rejected = !self.unresolved_attendance(meeting).is_empty();
        }
        if let Some(m) = self.config.meeting(meeting)
            && (state.agenda_sent || m.cancelled)
        {
            let docs = self.ledger.meeting_documents(meeting).unwrap_or_default();
            crate::told::apply(&mut state, m, &docs);
        }
        state
    }

    /// The rejected attendance files of a meeting still in `inbox/afvist/` (SPEC §6).
    pub fn unresolved_attendance(&self, meeting: Date) -> Vec<String> {
        inbox::unresolved_attendance(&self.ws, &self.ledger, meeting).unwrap_or_default()
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

    /// Waits (at most [`inbox::SETTLE`]) for files still being written, so a one-off pass
    /// (`run --once`, `send`) takes in a file saved just before it; names those still
    /// changing, which the next run takes in.
    pub fn settle(&self) {
        for rel in inbox::settle(&self.ws, inbox::SETTLE) {
            tracing::warn!(
                "inbox/{rel} ændres stadig og er ikke taget med; den tages med ved næste kørsel"
            );
        }
    }

    /// One pass: take in the inbox, update drafts, send what is due, resume what is
    /// unfinished. `renamed` are files known to be complete (renamed into the inbox).
    pub fn pass(&mut self, renamed: &HashSet<PathBuf>) -> Result<Outcome> {
        self.pass_with(renamed, None)
    }

    /// A pass that also sends `force` now if it has not gone out (`kkr send`).
    pub fn pass_with(
        &mut self,
        renamed: &HashSet<PathBuf>,
        force: Option<Force>,
    ) -> Result<Outcome> {
        let outcome = self.take_in(renamed)?;
        self.send_due(outcome, force)
    }

    /// The second half of a pass, after [`Council::take_in`]: records what is due (and
    /// `force`), delivers, publishes and tells the secretariat. `kkr send` and `kkr preview`
    /// call the halves apart, so a rehearsal (which moves nothing) reads the inbox once.
    pub fn send_due(&mut self, taken: Outcome, force: Option<Force>) -> Result<Outcome> {
        let mut outcome = taken;
        let mut blocked = self.unread();
        let transport = match deliver::transport(&self.ws, &self.config) {
            Ok(t) => Some(t),
            Err(e) => {
                // Without a transport the secretariat cannot be mailed either: the log says it.
                tracing::error!("{e}");
                outcome.invalid = true;
                None
            }
        };
        let roster = match (self.roster.clone(), transport) {
            (Ok(roster), Some(t)) => (roster, t),
            (Err(report), t) => {
                tracing::error!(
                    "members.csv er ugyldig, så intet sendes:\n{}",
                    report.trim_end()
                );
                outcome.invalid = true;
                let heading = "Intet sendes: members.csv er ugyldig";
                blocked.push(crate::notice::blocked(&self.clock, heading, &report));
                if let Some(mut t) = t {
                    let path = self.ws.roster_path();
                    let rows: Vec<Member> = crate::roster::valid_secretariat(&path);
                    self.tell(&rows, 0, t.as_mut(), blocked);
                }
                return Ok(outcome);
            }
            (Ok(_), None) => return Ok(outcome),
        };
        let (roster, mut transport) = roster;
        for job in self.jobs(force) {
            let meeting = job.meeting();
            if let Err(e) = self.record(&roster, job) {
                outcome.count(&e);
                // What is due but cannot be made holds that send; the secretariat hears why.
                let heading = format!(
                    "Et dokument til mødet {meeting} kan ikke laves og sendes ikke"
                );
                blocked.push(crate::notice::blocked(
                    &self.clock,
                    &heading,
                    &e.to_string(),
                ));
            }
        }
        blocked.append(&mut self.unmade);
        let (sent, published) = self.deliver_and_publish(&roster, transport.as_mut());
        let sent = sent?;
        outcome.transient |= sent.retry > 0 || self.ledger.next_retry()?.is_some();
        if let Some(reason) = &sent.session {
            // Told once a day while it lasts; the notice itself may meet the same refusal.
            let heading = "Mailserveren afviser kkr's forbindelse; intet er sendt, og kkr prøver igen";
            let hint = format!(
                "{reason}\nSiger serveren noget om HELO/EHLO, så sæt helo_name under [mail.smtp] i council.toml til maskinens fulde navn; ellers spørg IT (docs/OPERATIONS.md)."
            );
            blocked.push(crate::notice::blocked(&self.clock, heading, &hint));
        }
        if let Err(e) = published {
            outcome.count(&e);
            if let Error::Invalid { report } = &e {
                let heading = "Intet publiceres";
                blocked.push(crate::notice::blocked(&self.clock, heading, report));
            }
        }
        self.tell(&roster, roster.len(), transport.as_mut(), blocked);
        if crate::shutdown::requested() {
            tracing::warn!(
                "stoppet efter den igangværende mail; resten sendes ved næste kørsel"
            );
            outcome.transient = true;
        }
        self.acted()?;
        Ok(outcome)
    }

    /// Keeps the moment of this pass as the latest kkr acted at: the clock never shows an
    /// earlier one after this (a clock set back cannot send what "the meeting has started"
    /// or "the minutes were sent" already ruled out).
    fn acted(&mut self) -> Result<()> {
        let now = self.clock.now().timestamp();
        self.ledger.record_acted(now)?;
        self.clock = self.clock.with_floor(now);
        self.clock.warn_if_behind();
        Ok(())
    }

    /// Names the files in `inbox/` that kkr does not read (SPEC §6) in the log, once each, and
    /// returns them as events for the secretariat's notice.
    fn unread(&mut self) -> Vec<crate::notice::Event> {
        let mut events = Vec::new();
        for u in crate::unread::find(&self.ws) {
            if self.unread_logged.insert((u.rel.clone(), u.size)) {
                tracing::warn!("inbox/{}: kkr læser ikke denne fil; {}", u.rel, u.fix);
            }
            events.push(crate::notice::Event::new(
                format!("unread:{}:{}", u.rel, u.size),
                format!("kkr læser ikke inbox/{}", u.rel),
                vec![
                    format!("  {}.", u.fix),
                    "  Filen bliver liggende, hvor den er.".into(),
                ],
            ));
        }
        events
    }

    /// Tells the roster's secretariat rows what needs a person (SPEC §7); a notice that
    /// cannot go now is told on a later pass.
    fn tell(
        &mut self,
        roster: &[Member],
        recipients: usize,
        transport: &mut dyn Transport,
        extra: Vec<crate::notice::Event>,
    ) {
        let ctx = Ctx { ws: &self.ws, config: &self.config, clock: &self.clock };
        let to = crate::notice::secretariat(ctx, roster);
        let told = crate::notice::tell(
            ctx,
            to,
            recipients,
            &mut self.ledger,
            &self.mailer,
            transport,
            extra,
        );
        if let Err(e) = told {
            tracing::warn!("beskeden til sekretariatet kunne ikke sendes nu: {e}");
        }
    }

    /// The first half of a pass: reads edited settings again, takes in the inbox and updates
    /// the drafts. `kkr send` looks at the result before it sends.
    pub fn take_in(&mut self, renamed: &HashSet<PathBuf>) -> Result<Outcome> {
        let mut outcome = Outcome::default();
        self.reload();
        let changed = self.intake(renamed, &mut outcome)?;
        self.drafts(&changed, &mut outcome)?;
        Ok(outcome)
    }

    /// Takes in the inbox; returns the meetings whose content changed.
    fn intake(
        &mut self,
        renamed: &HashSet<PathBuf>,
        outcome: &mut Outcome,
    ) -> Result<BTreeSet<Date>> {
        let now = self.clock.now();
        let names: Option<Vec<String>> =
            self.roster.as_ref().ok().map(|r| r.iter().map(|m| m.name.clone()).collect());
        let (config, renderer) = (&self.config, &mut self.renderer);
        let at = now.timestamp();
        let mut trial = |ledger: &Ledger, meeting: Date, items: &[crate::item::Item]| {
            crate::document::trial_draft(config, renderer, ledger, meeting, items, at)
        };
        let intake = inbox::intake(
            &self.ws,
            &self.config,
            names.as_deref(),
            &mut self.ledger,
            &now,
            (renamed, &mut trial),
        )?;
        for (rel, meeting) in &intake.accepted {
            tracing::info!("modtaget: inbox/{rel} (mødet {meeting})");
        }
        for (rel, report) in &intake.rejected {
            tracing::warn!("afvist: inbox/{rel}\n{}", report.trim_end());
        }
        if intake.waiting > 0 {
            tracing::info!(
                "{} skrives stadig og tages med, når de er færdige",
                crate::term::count(intake.waiting, "fil", "filer")
            );
        }
        outcome.rejected = intake.rejected.len();
        outcome.waiting = intake.waiting > 0;
        Ok(intake.changed)
    }

    /// Delivers what is owed (see [`deliver::resume`]) and publishes what is public and has
    /// changed (see [`Publisher::publish`]) at the same time: the mail goes out on a thread
    /// with its own connection to the ledger while this one renders the public editions
    /// (in the render worker, the other core) and the site. Neither waits for the other:
    /// the public edition follows what was recorded, not what was delivered.
    fn deliver_and_publish(
        &mut self,
        roster: &[Member],
        transport: &mut dyn Transport,
    ) -> (Result<deliver::Sent>, Result<usize>) {
        let ctx = Ctx { ws: &self.ws, config: &self.config, clock: &self.clock };
        // In memory (tests) there is no second connection: one after the other.
        let second = self.ledger.reopen().unwrap_or_else(|e| {
            tracing::warn!("mail og publicering køres efter hinanden: {e}");
            None
        });
        let mailer = &self.mailer;
        std::thread::scope(|s| {
            let (mail, sent_here) = match second {
                Some(mut mail_ledger) => {
                    let mail = std::thread::Builder::new()
                        .name("mail".into())
                        .spawn_scoped(s, move || {
                            deliver::resume(
                                ctx,
                                roster,
                                &mut mail_ledger,
                                mailer,
                                transport,
                            )
                        })
                        .expect("the system starts a thread");
                    (Some(mail), None)
                }
                None => {
                    let ledger = &mut self.ledger;
                    (None, Some(deliver::resume(ctx, roster, ledger, mailer, transport)))
                }
            };
            let published = self.publisher.publish(
                ctx,
                &mut self.ledger,
                &mut self.renderer,
                None,
                false,
                None,
            );
            let sent = match (mail, sent_here) {
                (Some(mail), _) => {
                    mail.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
                }
                (None, sent) => sent.expect("delivered here without a thread"),
            };
            (sent, published)
        })
    }

    /// Publishes what is public and has changed (see [`Publisher::publish`]); `only` one
    /// meeting, `force` uploads again. Returns how many files were uploaded.
    pub fn publish(&mut self, only: Option<Date>, force: bool) -> Result<usize> {
        self.publish_with(only, force, None)
    }

    /// [`Council::publish`] counted on a progress bar, rendering on both cores.
    pub fn publish_with(
        &mut self,
        only: Option<Date>,
        force: bool,
        bar: Option<&indicatif::ProgressBar>,
    ) -> Result<usize> {
        let ctx = Ctx { ws: &self.ws, config: &self.config, clock: &self.clock };
        self.publisher.publish(
            ctx,
            &mut self.ledger,
            &mut self.renderer,
            only,
            force,
            bar,
        )
    }

    /// After a rehearsal: writes `outbox/prøve/LÆS-MIG.txt` and logs what it made (nothing
    /// for a real run).
    pub fn rehearsed(&self, command: &str) {
        if !self.dry_run {
            return;
        }
        match crate::rehearsal::summarize(&self.ws, &self.clock, command) {
            Ok(line) => tracing::warn!("{line}"),
            Err(e) => tracing::error!("{e}"),
        }
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

/// What identifies a version of an input file without reading it: its modification time
/// and size (`None` when it cannot be read).
type Stamp = Option<(std::time::SystemTime, u64)>;

fn stamp(path: &std::path::Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}
