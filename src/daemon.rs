//! The run loop: intake, drafts, and whatever the schedule says is due.

use std::time::Duration;

use jiff::civil::Date;

use crate::clock::Clock;
use crate::config::{Config, Member};
use crate::deliver::{self, Sent};
use crate::edition::{DocKind, Edition};
use crate::error::{Error, Result};
use crate::inbox;
use crate::ledger::Ledger;
use crate::mail::Mailer;
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

/// What a pass did, for the exit code.
#[derive(Debug, Default, Clone, Copy)]
pub struct Outcome {
    /// Files rejected.
    pub rejected: usize,
    /// The roster is invalid, so nothing was sent.
    pub roster_invalid: bool,
    /// Sending must be retried.
    pub transient: bool,
    /// Something else failed (a document could not be made, a file not written).
    pub failed: bool,
}

impl Outcome {
    /// The exit code of `run --once` (SPEC §5): 4 a document failed, 1 rejected input,
    /// 3 retry, 0 done.
    pub fn exit_code(&self) -> u8 {
        if self.failed {
            4
        } else if self.rejected > 0 || self.roster_invalid {
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
    fn state(&self, meeting: Date) -> MeetingState {
        MeetingState {
            agenda_sent: self
                .ledger
                .documents(meeting, "agenda")
                .is_ok_and(|d| !d.is_empty()),
            items: deliver::agenda_items(&self.ledger, meeting).map_or(0, |i| i.len()),
        }
    }

    /// One pass: take in the inbox, update drafts, send what is due, resume what is unfinished.
    pub fn pass(&mut self) -> Result<Outcome> {
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
        )?;
        for (rel, meeting) in &intake.accepted {
            tracing::info!("modtaget: inbox/{rel} (mødet {meeting})");
        }
        for (rel, report) in &intake.rejected {
            tracing::warn!("afvist: inbox/{rel}\n{}", report.trim_end());
        }
        if intake.waiting > 0 {
            tracing::info!(
                "{} fil(er) skrives stadig og tages med næste gang",
                intake.waiting
            );
        }
        outcome.rejected = intake.rejected.len();

        for meeting in self.config.meetings.iter().map(|m| m.date).collect::<Vec<_>>() {
            let draft = self
                .ws
                .meeting_dir(meeting)
                .join(DocKind::Draft.file_name(Edition::Member));
            let has_items = self.state(meeting).items > 0;
            if has_items && (intake.changed.contains(&meeting) || !draft.exists()) {
                match deliver::render_agenda(
                    &self.config,
                    &self.ledger,
                    &mut self.renderer,
                    meeting,
                    DocKind::Draft,
                    Edition::Member,
                ) {
                    Ok(pdf) => {
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
                outcome.roster_invalid = true;
                return Ok(outcome);
            }
        };
        let jobs = schedule::due(&now, &self.config, &|m| self.state(m));
        for job in jobs {
            match job {
                Job::SendAgenda { meeting, late } => {
                    if late {
                        tracing::warn!(
                            "dagsordenen til mødet {meeting} sendes for sent (kkr kørte ikke på tidspunktet)"
                        );
                    }
                    match deliver::record_agenda(
                        &self.ws,
                        &self.config,
                        &roster,
                        &mut self.ledger,
                        &mut self.renderer,
                        meeting,
                        late,
                        &now,
                    ) {
                        Ok(doc) => {
                            tracing::info!("dagsorden til mødet {meeting}: {}", doc.file)
                        }
                        Err(e) => {
                            tracing::error!("{e}");
                            outcome.transient |= e.is_transient();
                            outcome.failed |= !e.is_transient();
                        }
                    }
                }
            }
        }
        let sent = self.resume()?;
        outcome.transient |= sent.retry > 0;
        Ok(outcome)
    }

    /// Delivers every recorded document that still has recipients waiting, before its meeting.
    fn resume(&mut self) -> Result<Sent> {
        let mut total = Sent::default();
        let now = self.clock.now();
        let mut transport = None;
        for m in self.config.meetings.clone() {
            if now >= m.starts_at() {
                continue;
            }
            for doc in self.ledger.documents(m.date, "agenda")? {
                let t = match &mut transport {
                    Some(t) => t,
                    None => transport.insert(deliver::transport(
                        &self.ws,
                        &self.config,
                        self.dry_run,
                    )?),
                };
                let s = deliver::deliver(
                    &self.ws,
                    &self.config,
                    &mut self.ledger,
                    &self.mailer,
                    t.as_mut(),
                    &doc,
                    &self.clock,
                )?;
                if s.sent + s.failed + s.retry > 0 {
                    let how = if self.dry_run || self.config.mail.smtp.is_none() {
                        "skrevet til outbox/mail/"
                    } else {
                        "sendt"
                    };
                    tracing::info!(
                        "{}: {} mail {how}, {} fejlet, {} venter",
                        doc.file,
                        s.sent,
                        s.failed,
                        s.retry
                    );
                }
                total.sent += s.sent;
                total.failed += s.failed;
                total.retry += s.retry;
            }
        }
        Ok(total)
    }
}

/// `kkr run`: one pass with `--once`, otherwise passes until stopped.
pub fn run(ws: Workspace, clock: Clock, dry_run: bool, once: bool) -> Result<u8> {
    let mut council = Council::open(ws, clock, dry_run)?;
    if once {
        return Ok(council.pass()?.exit_code());
    }
    tracing::info!(
        "kkr {} kører for {} ({} møder); stop med Ctrl+C",
        env!("CARGO_PKG_VERSION"),
        council.config.council.name,
        council.config.meetings.len()
    );
    loop {
        if let Err(e) = council.pass() {
            tracing::error!("{e}");
            if !e.is_transient() && matches!(e, Error::Invalid { .. }) {
                return Err(e);
            }
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}
