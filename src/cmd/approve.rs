//! `kkr approve MEETING --agenda|--minutes --by NAME`: the approval file's equivalent. It drops the
//! approval file into `inbox/` (renamed in, so it is complete at once), where it is checked
//! and taken in like any other: by this command's own pass, or by the running daemon.

use std::collections::HashSet;

use crate::args::ApproveCommand;
use crate::daemon::Council;
use crate::error::{Error, Result};

use super::Env;

/// `kkr approve MEETING --agenda|--minutes --by NAME`.
pub(crate) fn approve(env: &Env, cmd: &ApproveCommand) -> Result<u8> {
    let meeting = super::parse_meeting(&cmd.meeting)?;
    let ws = env.ws();
    let config = ws.load_config()?;
    super::meeting(&config, meeting)?;
    if cmd.minutes && !config.schedule.minutes_approval {
        return Err(Error::Usage(
            "referatet skal ikke godkendes i dette råd: det sendes, så snart alle punkter har en beslutning\n  hjælp: sæt minutes_approval = true under [schedule] i council.toml, hvis formanden skal godkende referatet"
                .into(),
        ));
    }
    let what = if cmd.minutes { "referat" } else { "dagsorden" };
    let roster = ws.load_roster().map_err(|report| Error::Invalid { report })?;
    let by = cmd.by.trim();
    if !roster.iter().any(|m| m.name == by) {
        return Err(Error::Usage(format!(
            "\"{by}\" står ikke i members.csv\n  hjælp: skriv navnet præcis som i members.csv"
        )));
    }
    use crate::roster::Role;
    let chair = |m: &&crate::roster::Member| {
        m.name == by && matches!(m.role, Role::Formand | Role::Naestformand)
    };
    if cmd.minutes && !roster.iter().any(|m| chair(&m)) {
        return Err(Error::Usage(format!(
            "\"{by}\" er ikke formand eller næstformand i members.csv; kun de kan godkende referatet\n  hjælp: skriv formandens eller næstformandens navn efter --by"
        )));
    }
    // JSON string literals are TOML basic strings: the name is never spliced in raw.
    let mut text = format!(
        "meeting = \"{meeting}\"\napprove = \"{what}\"\napproved_by = {}\n",
        serde_json::to_string(by).expect("a string serializes")
    );
    // The approval names the draft that exists now: a newer one is not approved unread.
    if cmd.minutes
        && let Some(ledger) = crate::ledger::Ledger::open_read_only(&ws.ledger_path())?
        && let Some(d) = ledger
            .meeting_documents(meeting)?
            .iter()
            .rev()
            .find(|d| d.kind.is_minutes_draft())
    {
        text.push_str(&format!("udkast = {}\n", d.kind.seq()));
    }
    if env.dry_run {
        // A rehearsal writes nothing in inbox/: it releases the agenda in its ledger copy.
        let mut council = Council::open(ws.clone(), env.clock.clone(), true)?;
        let outcome = council.take_in(&HashSet::new())?;
        let plan = crate::document::plan(&council.ledger, meeting)?;
        if cmd.minutes {
            let draft = council.ledger.meeting_documents(meeting)?;
            let draft = draft.iter().rev().find(|d| d.kind.is_minutes_draft());
            let (Some(draft), true) =
                (draft, plan.minutes_draft_current && !plan.minutes_approved)
            else {
                return Err(Error::Usage(format!(
                    "intet referat til mødet {meeting} venter på godkendelse\n  hjælp: kkr status viser, om det venter"
                )));
            };
            let now = council.clock.now().timestamp();
            council.ledger.approve_minutes(draft.id, by, now)?;
            let outcome = council.send_due(outcome, None)?;
            council.rehearsed("approve");
            return Ok(outcome.exit_code());
        }
        if !plan.held {
            return Err(Error::Usage(format!(
                "dagsordenen til mødet {meeting} er ikke holdt tilbage; der er intet at godkende\n  hjælp: skal den sendes før tiden, så kør kkr send {meeting}"
            )));
        }
        let now = council.clock.now().timestamp();
        council.ledger.release(meeting, by, now)?;
        let outcome = council.send_due(outcome, None)?;
        council.rehearsed("approve");
        return Ok(outcome.exit_code());
    }
    let name = format!("godkendelse-{meeting}-{what}.toml");
    let path = crate::fs::free_name(&ws.inbox(), &name);
    crate::fs::write_atomic(&path, text.as_bytes())?;
    let rel = ws.rel(&path);
    match Council::open(ws.clone(), env.clock.clone(), false) {
        Ok(mut council) => {
            crate::outln!("{rel} er lagt ind og tages med nu.");
            let renamed = HashSet::from([path]);
            Ok(council.pass(&renamed)?.exit_code())
        }
        Err(Error::Locked { .. }) => {
            crate::outln!(
                "{rel} er lagt ind; kkr kører allerede og tager den med med det samme (se kkr status)."
            );
            Ok(0)
        }
        Err(e) => Err(e),
    }
}
