//! `kkr send MEETING`: takes in the inbox and sends now what the schedule would send for the
//! meeting; `--resend` and `--to` deliberately send again.

use std::collections::HashSet;

use crate::args::SendCommand;
use crate::daemon::{Council, Force};
use crate::deliver;
use crate::error::{Error, Result};

use super::Env;

/// `kkr send MEETING`: takes in the inbox and sends now what the schedule would send for the
/// meeting (the agenda even before its moment); `--resend`/`--to` deliberately send again.
pub(crate) fn send(env: &Env, cmd: &SendCommand) -> Result<u8> {
    let meeting = super::parse_meeting(&cmd.meeting)?;
    let mut council = Council::open(env.ws().clone(), env.clock.clone(), env.dry_run)?;
    let m = super::meeting(&council.config, meeting)?.clone();
    council.settle();
    let taken = council.take_in(&HashSet::new())?;
    if m.cancelled {
        return Err(Error::Usage(format!(
            "mødet {meeting} er aflyst (cancelled = true i council.toml); der sendes intet om det\n  hjælp: slet cancelled i council.toml, hvis mødet alligevel holdes"
        )));
    }
    if cmd.minutes {
        if council.clock.now() < m.starts_at() {
            return Err(Error::Usage(format!(
                "mødet {meeting} er ikke begyndt endnu; referatet kan først sendes efter mødet"
            )));
        }
        let waiting = council.unresolved_attendance(meeting);
        if !waiting.is_empty() {
            return Err(Error::Invalid {
                report: format!(
                    "referatet til mødet {meeting} sendes ikke: fremmødefilen {} er afvist\n  hjælp: ret den og læg den i inbox/ igen (se fejlrapporten ved siden af den); eller slet den fra afvist/, hvis referatet skal sendes uden\n",
                    waiting.join(", ")
                ),
            });
        }
        let plan = crate::document::plan(&council.ledger, meeting)?;
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
    } else if crate::document::plan(&council.ledger, meeting)?.active() == 0
        && !council.state(meeting).agenda_sent
    {
        // Never an empty agenda (SPEC §6).
        return Err(Error::Invalid {
            report: format!(
                "dagsordenen til mødet {meeting} sendes ikke: mødet har ingen punkter\n  hjælp: læg punkterne i inbox/, og kør kkr send {meeting} igen\n"
            ),
        });
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
        let mut docs: Vec<_> = council.ledger.meeting_documents(meeting)?;
        docs.retain(|d| d.kind.is_minutes_family() == cmd.minutes);
        if cmd.minutes {
            // The current minutes replace the earlier ones; when they are owed a correction,
            // that goes to everyone below, and nothing old is sent again.
            let latest = docs.pop();
            docs = latest
                .filter(|_| !council.state(meeting).minutes_changed)
                .into_iter()
                .collect();
        }
        for doc in docs {
            let config = &council.config;
            let id = |recipient: &str, generation: i64| {
                let sha = &doc.sha256;
                deliver::message_id(config, meeting, doc.kind, sha, recipient, generation)
            };
            n += council.ledger.resend(doc.id, cmd.to.as_deref(), &id, now)?;
        }
        tracing::info!("{n} mail sendes igen");
    }
    let force = Force { meeting, minutes: cmd.minutes };
    let code = council.send_due(taken, Some(force))?.exit_code();
    council.rehearsed("send");
    Ok(code)
}
