//! Approval files at intake: an agenda released only when it is held, the minutes approved
//! only by the chair, of the newest draft, while one waits (SPEC §2, §3.4).

use super::{Phase, Verdict, meeting_phase};
use crate::clock;
use crate::config::Config;
use crate::error::Result;
use crate::ledger::Ledger;
use crate::report::Problem;
use crate::workspace::Workspace;

/// Rejects an approval of an agenda that cannot go: the meeting has started, the agenda is
/// already sent, or it has no items yet.
pub(super) fn releasable(
    ws: &Workspace,
    config: &Config,
    ledger: &Ledger,
    now: &jiff::Zoned,
    verdict: Verdict,
) -> Result<Verdict> {
    let Verdict::Approval(a) = verdict else { return Ok(verdict) };
    let m = a.meeting;
    if a.approves == crate::approval::Approves::Minutes {
        return minutes_approvable(ws, ledger, a);
    }
    let problem = match meeting_phase(config, Some(ledger), m, now) {
        Phase::Started => Some(
            Problem::file(format!(
                "mødet {m} er begyndt; dagsordenen sendes ikke længere"
            ))
            .hint("fjern filen"),
        ),
        Phase::Sent => Some(
            Problem::file(format!("dagsordenen til mødet {m} er allerede sendt")).hint(
                "fjern filen; en godkendelse frigiver kun en tilbageholdt dagsorden",
            ),
        ),
        Phase::Draft => {
            let plan = crate::document::plan(ledger, m)?;
            if plan.active() == 0 {
                Some(
                    Problem::file(format!(
                        "mødet {m} har ingen punkter; en tom dagsorden sendes aldrig"
                    ))
                    .hint(
                        "læg punkterne i inbox/ først, og læg så godkendelsen ind igen",
                    ),
                )
            } else if !plan.held {
                // SPEC §2: an approval releases a *held* agenda; one on schedule goes at
                // its moment, and `kkr send` sends it earlier on purpose.
                let due = config.meeting(m).map(|mc| config.schedule.agenda_due(mc));
                let when =
                    due.map(|d| clock::danish_moment(d.datetime())).unwrap_or_default();
                Some(
                    Problem::file(format!(
                        "dagsordenen til mødet {m} er ikke holdt tilbage; den sendes {when}"
                    ))
                    .hint(format!(
                        "fjern filen; skal den sendes før tiden, så kør kkr send {m}"
                    )),
                )
            } else {
                None
            }
        }
    };
    Ok(match problem {
        Some(p) => Verdict::Rejected(vec![p]),
        None => Verdict::Approval(a),
    })
}

/// Rejects an approval of the minutes that is not the chair's, is of an older draft than
/// the newest, or comes when no draft waits.
fn minutes_approvable(
    ws: &Workspace,
    ledger: &Ledger,
    a: crate::approval::Approval,
) -> Result<Verdict> {
    let m = a.meeting;
    // The chair approves the minutes: the formand or the næstformand (SPEC §3.4).
    use crate::roster::Role;
    let chair = ws.load_roster().is_ok_and(|r| {
        r.iter().any(|row| {
            row.name == a.by && matches!(row.role, Role::Formand | Role::Naestformand)
        })
    });
    if !chair {
        return Ok(Verdict::Rejected(vec![
            Problem::file(format!(
                "\"{}\" er ikke formand eller næstformand i members.csv; kun de kan godkende referatet",
                a.by
            ))
            .hint("skriv formandens eller næstformandens navn i approved_by, præcis som i members.csv"),
        ]));
    }
    let plan = crate::document::plan(ledger, m)?;
    let docs = ledger.meeting_documents(m)?;
    let newest =
        docs.iter().rev().find(|d| d.kind.is_minutes_draft()).map(|d| d.kind.seq());
    if let (Some(named), Some(newest)) = (a.draft, newest)
        && named != newest
    {
        return Ok(Verdict::Rejected(vec![
            Problem::file(format!(
                "godkendelsen gælder udkast {named}, men referatet er ændret siden: det nyeste er udkast {newest}"
            ))
            .hint(format!("lad formanden læse udkast {newest}, og skriv udkast = {newest} i godkendelsen")),
        ]));
    }
    let waiting = plan.minutes_draft_current && !plan.minutes_approved;
    Ok(if waiting {
        Verdict::Approval(a)
    } else {
        Verdict::Rejected(vec![
            Problem::file(format!(
                "intet referat til mødet {m} venter på godkendelse{}",
                if plan.minutes_approved { " (det er allerede godkendt)" } else { "" }
            ))
            .hint("et referat kan godkendes, når udkastet er sendt til formand, næstformand og sekretariatet; kkr status viser, om det venter"),
        ])
    })
}
