//! What a pass makes: the drafts of changed meetings, and the documents the schedule says are
//! due (recorded with their deliveries) or the agendas it holds.

use std::collections::BTreeSet;

use jiff::civil::Date;

use super::{Council, Force, Outcome};
use crate::deliver::{self, Ctx};
use crate::error::Result;
use crate::kind::{DocKind, Edition};
use crate::roster::Member;
use crate::schedule::{self, Job};

/// What `status` calls a draft that cannot be made.
const UNMADE_DRAFT: &str = "udkastet";

impl Council {
    /// Renders the draft agenda of every meeting that changed (or has none yet).
    pub(super) fn drafts(
        &mut self,
        changed: &BTreeSet<Date>,
        outcome: &mut Outcome,
    ) -> Result<()> {
        for meeting in self.config.meetings.iter().map(|m| m.date).collect::<Vec<_>>() {
            let draft = self
                .ws
                .meeting_dir(meeting)
                .join(DocKind::Draft.file_name(Edition::Member));
            let has_items = self.state(meeting).items > 0;
            if !has_items || (!changed.contains(&meeting) && draft.exists()) {
                continue;
            }
            let rendered = crate::document::load_data(
                &self.config,
                &self.ledger,
                meeting,
                DocKind::Draft,
                Edition::Member,
            )
            .and_then(|(data, _)| self.renderer.render(&data));
            match rendered {
                Ok(pdf) => {
                    crate::fs::write_atomic(&draft, &pdf)?;
                    self.ledger.clear_unmade(meeting, UNMADE_DRAFT)?;
                    tracing::info!("udkast opdateret: {}", self.ws.rel(&draft));
                }
                Err(e) => {
                    tracing::error!("{e}");
                    let now = self.clock.now().timestamp();
                    self.ledger.set_unmade(meeting, UNMADE_DRAFT, &e.to_string(), now)?;
                    outcome.failed = true;
                    let heading = format!("Udkastet til mødet {meeting} kan ikke laves");
                    let event =
                        crate::notice::blocked(&self.clock, &heading, &e.to_string());
                    self.unmade.push(event);
                }
            }
        }
        Ok(())
    }

    /// What is due now, with `force` added if it has not gone out.
    pub(super) fn jobs(&self, force: Option<Force>) -> Vec<Job> {
        let now = self.clock.now();
        let mut jobs = schedule::due(&now, &self.config, &|m| self.state(m));
        let cancelled = |m: Date| self.config.meeting(m).is_some_and(|c| c.cancelled);
        match force {
            Some(Force { meeting, .. }) if cancelled(meeting) => {}
            Some(Force { meeting, minutes: false })
                if !self.state(meeting).agenda_sent =>
            {
                jobs.retain(
                    |j| !matches!(j, Job::SendAgenda { meeting: m, .. } if *m == meeting),
                );
                jobs.insert(0, Job::SendAgenda { meeting, late: false });
            }
            // With approval, `send --minutes` sends what is owed: a draft, or nothing
            // while it waits.
            Some(Force { meeting, minutes: true })
                if self.config.schedule.minutes_approval
                    && !self.state(meeting).minutes_approved =>
            {
                let s = self.state(meeting);
                let owed = !s.minutes_sent || s.minutes_changed;
                let queued = jobs.iter().any(|j| j == &Job::SendMinutesDraft { meeting });
                if owed && !s.minutes_draft_current && !queued {
                    jobs.push(Job::SendMinutesDraft { meeting });
                }
            }
            Some(Force { meeting, minutes: true })
                if self.state(meeting).minutes_sent
                    && self.state(meeting).minutes_changed =>
            {
                jobs.retain(|j| {
                    !matches!(j, Job::SendMinutesCorrection { meeting: m } if *m == meeting)
                });
                jobs.push(Job::SendMinutesCorrection { meeting });
            }
            Some(Force { meeting, minutes: true })
                if !self.state(meeting).minutes_sent =>
            {
                jobs.retain(
                    |j| !matches!(j, Job::SendMinutes { meeting: m } if *m == meeting),
                );
                jobs.push(Job::SendMinutes { meeting });
            }
            _ => {}
        }
        jobs
    }

    /// Renders and records the document a job sends, owed from now on to every roster row.
    pub(super) fn record(&mut self, roster: &[Member], job: Job) -> Result<()> {
        let (meeting, kind, late) = match job {
            Job::HoldAgenda { meeting } => return self.hold(meeting),
            Job::SendAgenda { meeting, late } => (meeting, DocKind::Agenda, late),
            Job::SendSupplement { meeting } => (meeting, DocKind::Supplement(1), false),
            Job::SendCorrection { meeting } => (meeting, DocKind::Correction(1), false),
            Job::SendMinutes { meeting } => (meeting, DocKind::Minutes, false),
            Job::SendMinutesCorrection { meeting } => {
                (meeting, DocKind::MinutesCorrection(1), false)
            }
            Job::SendMeetingChange { meeting } => {
                (meeting, DocKind::MeetingChange(1), false)
            }
            Job::SendCancellation { meeting } => {
                (meeting, DocKind::Cancellation(1), false)
            }
            Job::SendMinutesDraft { meeting } => {
                (meeting, DocKind::MinutesDraft(1), false)
            }
        };
        if late {
            tracing::warn!(
                "dagsordenen til mødet {meeting} sendes for sent (kkr kørte ikke på tidspunktet)"
            );
        }
        let ctx = Ctx { ws: &self.ws, config: &self.config, clock: &self.clock };
        let what = kind.label().to_lowercase();
        let made = deliver::record(
            ctx,
            roster,
            &mut self.ledger,
            &mut self.renderer,
            meeting,
            kind,
            late,
        );
        let doc = match made {
            Ok(doc) => {
                self.ledger.clear_unmade(meeting, &what)?;
                doc
            }
            Err(e) => {
                let now = self.clock.now().timestamp();
                self.ledger.set_unmade(meeting, &what, &e.to_string(), now)?;
                return Err(e);
            }
        };
        let recipients = self.ledger.deliveries(doc.id)?.len();
        tracing::info!("{}: lavet til {recipients} modtagere", doc.name());
        Ok(())
    }

    /// Holds a meeting's agenda: its send moment came with no items (SPEC §6).
    pub(super) fn hold(&mut self, meeting: Date) -> Result<()> {
        if self.ledger.hold(meeting, self.clock.now().timestamp())? {
            tracing::warn!(
                "dagsordenen til mødet {meeting} er holdt tilbage: der er ingen punkter; den sendes, når I frigiver den (kkr send {meeting} eller approve = \"dagsorden\")"
            );
        }
        Ok(())
    }
}
