//! `kkr status [MEETING] [--json]`: meetings, what is sent and due and when, and each
//! recipient's delivery.

use jiff::civil::Date;

use crate::args::StatusCommand;
use crate::clock::{self, Clock};
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::schedule::{self, AgendaStatus, MeetingState};
use crate::workspace::Workspace;

mod print;
use print::print_meeting;

/// The status of a council, as `kkr status` shows it and `--json` writes it.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Status {
    /// Council name.
    pub(crate) council: String,
    /// The moment of the status (local time, RFC 3339).
    pub(crate) now: String,
    /// Why members.csv is invalid, if it is (nothing is sent then).
    pub(crate) roster_error: Option<String>,
    /// No `[mail.smtp]`: mail is written to `outbox/mail/` and reaches no one.
    pub(crate) mail_to_files: bool,
    /// The latest moment kkr acted at, when the clock now shows an earlier one.
    pub(crate) clock_behind: Option<String>,
    /// When the last rehearsal ran (Danish), if `outbox/prøve/` holds one.
    pub(crate) last_rehearsal: Option<String>,
    /// The meetings.
    pub(crate) meetings: Vec<MeetingStatus>,
    /// The latest rejected files.
    pub(crate) rejections: Vec<RejectionStatus>,
    /// Files in `inbox/` kkr does not read, with the fix.
    pub(crate) unread: Vec<UnreadStatus>,
}

/// One file kkr does not read, in [`Status`].
#[derive(Debug, serde::Serialize)]
pub(crate) struct UnreadStatus {
    /// The file, as `inbox/…`.
    pub(crate) file: String,
    /// What to do.
    pub(crate) fix: String,
}

/// One meeting in [`Status`].
#[derive(Debug, serde::Serialize)]
pub(crate) struct MeetingStatus {
    /// Its date.
    pub(crate) date: String,
    /// When it starts (local time).
    pub(crate) starts: String,
    /// Items on the agenda.
    pub(crate) items: usize,
    /// `scheduled`, `due`, `sent`, `missed`, `empty`, `held` (no items at the send moment;
    /// it goes when released) or `cancelled`.
    pub(crate) agenda: &'static str,
    /// The day it was moved to, if it was (`moved_to`).
    pub(crate) moved_to: Option<String>,
    /// What the members are owed or were told of the meeting itself: `cancel-sent`,
    /// `cancel-owed`, `change-owed` (moved or changed since they were told) or `""`.
    pub(crate) told: &'static str,
    /// When the agenda is (or was) due, local time.
    pub(crate) agenda_due: String,
    /// The documents made.
    pub(crate) documents: Vec<DocumentStatus>,
    /// Rejected attendance files in `inbox/afvist/` the minutes wait for (SPEC §6).
    pub(crate) minutes_wait_for: Vec<String>,
    /// What cannot be made now (a draft or a due document), and why: it is not sent.
    pub(crate) unmade: Vec<UnmadeStatus>,
    /// With `minutes_approval`: the latest draft of the minutes sent for approval.
    pub(crate) approval: Option<ApprovalStatus>,
    /// `members.csv` is invalid: nothing is sent until it is fixed.
    pub(crate) roster_blocks: bool,
    /// The items as the next document numbers them.
    pub(crate) checklist: Vec<ItemStatus>,
    /// Where the minutes stand (see [`minutes_stage`]).
    pub(crate) minutes: &'static str,
    /// An attendance file was accepted.
    pub(crate) attendance: bool,
}

/// One item of a meeting's checklist.
#[derive(Debug, serde::Serialize)]
pub(crate) struct ItemStatus {
    /// Its number, as the next document numbers it.
    pub(crate) number: usize,
    /// Its title (as members read it).
    pub(crate) title: String,
    /// A closed item.
    pub(crate) closed: bool,
    /// It came after the agenda (it has a `late_reason`).
    pub(crate) late: bool,
    /// `ny`, `ændret`, `trukket` or `""`, against what was sent.
    pub(crate) change: &'static str,
    /// It has its decision (or is withdrawn).
    pub(crate) decided: bool,
}

/// The minutes' approval, in [`MeetingStatus`].
#[derive(Debug, serde::Serialize)]
pub(crate) struct ApprovalStatus {
    /// The draft's file.
    pub(crate) draft: String,
    /// When it was sent (local time).
    pub(crate) sent_at: String,
    /// Whom it went to.
    pub(crate) to: Vec<String>,
    /// It shows what the minutes would show now (else a new draft is owed).
    pub(crate) current: bool,
    /// Who approved it and when, once approved.
    pub(crate) approved: Option<(String, String)>,
}

/// One document that cannot be made, in [`MeetingStatus`].
#[derive(Debug, serde::Serialize)]
pub(crate) struct UnmadeStatus {
    /// What (`udkastet`, `dagsordenen`, …).
    pub(crate) what: String,
    /// Why, as the renderer said it.
    pub(crate) reason: String,
    /// Since when (local time).
    pub(crate) since: String,
}

/// One document in [`MeetingStatus`].
#[derive(Debug, serde::Serialize)]
pub(crate) struct DocumentStatus {
    /// Its file.
    pub(crate) file: String,
    /// When it was made.
    pub(crate) created_at: String,
    /// Whether it went out after its moment.
    pub(crate) late: bool,
    /// Per recipient.
    pub(crate) deliveries: Vec<DeliveryStatus>,
}

/// One recipient in [`DocumentStatus`].
#[derive(Debug, serde::Serialize)]
pub(crate) struct DeliveryStatus {
    /// Name.
    pub(crate) name: String,
    /// Address.
    pub(crate) email: String,
    /// `pending`, `sending`, `sent`, `retry` or `failed`.
    pub(crate) state: &'static str,
    /// Attempts so far.
    pub(crate) attempts: i64,
    /// The server's reply or the error, if any.
    pub(crate) error: Option<String>,
    /// When the state last changed.
    pub(crate) updated_at: String,
}

/// One rejection in [`Status`].
#[derive(Debug, serde::Serialize)]
pub(crate) struct RejectionStatus {
    /// The file as dropped.
    pub(crate) file: String,
    /// When.
    pub(crate) at: String,
}

/// A moment as `--json` writes it: RFC 3339 with the local offset (SPEC §6), e.g.
/// `2027-01-21T09:00:00+01:00`.
fn rfc3339(z: &jiff::Zoned) -> String {
    z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// A ledger moment in local time, RFC 3339.
fn local(t: jiff::Timestamp) -> String {
    rfc3339(&t.to_zoned(clock::tz().clone()))
}

/// Collects the status of a workspace (all meetings, or one).
pub(crate) fn collect_status(
    ws: &Workspace,
    clock: &Clock,
    only: Option<Date>,
) -> Result<Status> {
    let config = ws.load_config()?;
    let ledger = Ledger::open_read_only(&ws.ledger_path())?;
    let acted = ledger.as_ref().map(|l| l.acted_at()).transpose()?.flatten();
    let clock_behind = acted.filter(|a| clock.now().timestamp() < *a).map(local);
    let clock = &match acted {
        Some(a) => clock.with_floor(a),
        None => clock.clone(),
    };
    let now = clock.now();
    let mut meetings = Vec::new();
    let roster_ok = ws.load_roster().is_ok();
    for m in config.meetings.iter().filter(|m| only.is_none_or(|d| d == m.date)) {
        let at =
            Here { ws, config: &config, ledger: ledger.as_ref(), now: &now, roster_ok };
        meetings.push(meeting_status(&at, m)?);
    }
    let rejections = match &ledger {
        Some(l) => l
            .unresolved_rejections(10)?
            .into_iter()
            .filter(|(_, _, moved_to)| {
                moved_to.as_ref().is_none_or(|p| ws.root.join(p).exists())
            })
            .map(|(file, at, _)| RejectionStatus { file, at: local(at) })
            .collect(),
        None => Vec::new(),
    };
    Ok(Status {
        council: config.council.name,
        now: rfc3339(&now),
        roster_error: ws.load_roster().err(),
        mail_to_files: config.mail.smtp.is_none(),
        clock_behind,
        last_rehearsal: crate::rehearsal::last(ws),
        meetings,
        rejections,
        unread: crate::unread::find(ws)
            .into_iter()
            .map(|u| UnreadStatus { file: format!("inbox/{}", u.rel), fix: u.fix })
            .collect(),
    })
}

/// What one meeting's status is read from.
struct Here<'a> {
    ws: &'a Workspace,
    config: &'a crate::config::Config,
    ledger: Option<&'a Ledger>,
    now: &'a jiff::Zoned,
    roster_ok: bool,
}

/// One meeting's status: its checklist, its documents and what it waits for.
fn meeting_status(at: &Here, m: &crate::config::MeetingConfig) -> Result<MeetingStatus> {
    let (config, now) = (at.config, at.now);
    let (state, plan, docs, minutes_wait_for, unmade, attendance) = match at.ledger {
        Some(l) => {
            let plan = crate::document::plan(l, m.date)?;
            let mut state = plan.state();
            let docs = l.meeting_documents(m.date)?;
            crate::told::apply(&mut state, m, &docs);
            let waiting = crate::inbox::unresolved_attendance(at.ws, l, m.date)?;
            state.attendance_rejected = !waiting.is_empty();
            let attendance = l.attendance(m.date)?.is_some();
            (state, Some(plan), docs, waiting, l.unmade(m.date)?, attendance)
        }
        None => {
            (MeetingState::default(), None, Vec::new(), Vec::new(), Vec::new(), false)
        }
    };
    let agenda = match schedule::agenda_status(now, config, m.date, state) {
        Some(AgendaStatus::Scheduled(_)) => "scheduled",
        Some(AgendaStatus::Empty(_)) | None => "empty",
        Some(AgendaStatus::Due) => "due",
        Some(AgendaStatus::Missed) => "missed",
        Some(AgendaStatus::Sent) => "sent",
        Some(AgendaStatus::Held) => "held",
        Some(AgendaStatus::Cancelled) => "cancelled",
    };
    let checklist = plan.as_ref().map(checklist).unwrap_or_default();
    let minutes = minutes_stage(config, m, now, &state);
    let approval = approval_status(at.ledger, &docs, &state)?;
    let documents = documents_status(at.ledger, docs)?;
    Ok(MeetingStatus {
        date: m.date.to_string(),
        starts: rfc3339(&m.starts_at()),
        items: state.items,
        agenda,
        agenda_due: rfc3339(&config.schedule.agenda_due(m)),
        roster_blocks: !at.roster_ok,
        moved_to: m.moved_to.map(|d| d.to_string()),
        told: match (state.cancelled, state.cancel_sent, state.told_changed) {
            (true, true, _) => "cancel-sent",
            (true, false, _) if state.agenda_sent => "cancel-owed",
            (false, _, true) => "change-owed",
            _ => "",
        },
        checklist,
        minutes,
        attendance,
        documents,
        approval,
        minutes_wait_for,
        unmade: unmade
            .into_iter()
            .map(|u| UnmadeStatus {
                what: u.what,
                reason: u.reason,
                since: local(u.since),
            })
            .collect(),
    })
}

/// The items as the next document numbers them, with their marks.
fn checklist(plan: &crate::document::Plan) -> Vec<ItemStatus> {
    use crate::document::Change;
    plan.list
        .iter()
        .enumerate()
        .map(|(i, (s, c))| ItemStatus {
            number: i + 1,
            title: s.item.title.clone(),
            closed: s.item.closed,
            late: !s.item.late_reason.trim().is_empty(),
            change: match c {
                Change::New if plan.sent => "ny",
                Change::Changed => "ændret",
                Change::Withdrawn => "trukket",
                _ => "",
            },
            decided: s.item.decision.is_some() || s.item.withdrawn,
        })
        .collect()
}

/// Where the minutes stand: `cancelled`, `not-held` (the meeting has not ended),
/// `no-items`, `manual` (`minutes_after_decisions = false`), `waiting-decisions`,
/// `waiting-attendance` (a rejected attendance file), `waiting-approval`, `due`, `sent`.
fn minutes_stage(
    config: &crate::config::Config,
    m: &crate::config::MeetingConfig,
    now: &jiff::Zoned,
    s: &MeetingState,
) -> &'static str {
    match () {
        _ if m.cancelled => "cancelled",
        _ if s.minutes_sent && !s.minutes_changed => "sent",
        _ if *now < m.ends_at() => "not-held",
        _ if s.items == 0 => "no-items",
        _ if !s.decided => "waiting-decisions",
        _ if s.attendance_rejected => "waiting-attendance",
        _ if config.schedule.minutes_approval && !s.minutes_approved => {
            "waiting-approval"
        }
        _ if !config.schedule.minutes_after_decisions && !s.minutes_sent => "manual",
        _ => "due",
    }
}

/// The latest minutes draft sent for approval, and where it stands.
fn approval_status(
    ledger: Option<&Ledger>,
    docs: &[crate::ledger::Document],
    state: &MeetingState,
) -> Result<Option<ApprovalStatus>> {
    let (Some(l), Some(d)) =
        (ledger, docs.iter().rev().find(|d| d.kind.is_minutes_draft()))
    else {
        return Ok(None);
    };
    let later = docs.iter().any(|o| o.id > d.id && o.kind.is_minutes_family());
    let approved = l.minutes_approval(d.id)?;
    Ok(Some(ApprovalStatus {
        draft: d.file.clone(),
        sent_at: local(d.created_at),
        to: l.deliveries(d.id)?.into_iter().map(|x| x.name).collect(),
        current: !later && state.minutes_draft_current,
        approved: approved.map(|(by, at)| (by, local(at))),
    }))
}

/// Each document of a meeting with its deliveries, as `status` shows them.
fn documents_status(
    ledger: Option<&Ledger>,
    docs: Vec<crate::ledger::Document>,
) -> Result<Vec<DocumentStatus>> {
    let mut documents = Vec::new();
    for doc in docs {
        let deliveries = match ledger {
            Some(l) => l.deliveries(doc.id)?,
            None => Vec::new(),
        };
        documents.push(DocumentStatus {
            file: doc.name(),
            created_at: local(doc.created_at),
            late: doc.late,
            deliveries: deliveries
                .into_iter()
                .map(|d| DeliveryStatus {
                    name: d.name,
                    email: d.recipient,
                    state: d.state.as_str(),
                    attempts: d.attempts,
                    error: d.last_error,
                    updated_at: local(d.updated_at),
                })
                .collect(),
        });
    }
    Ok(documents)
}

fn moment(rfc3339: &str) -> String {
    rfc3339
        .parse::<jiff::Timestamp>()
        .map(|t| clock::danish_moment(t.to_zoned(clock::tz().clone()).datetime()))
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// `kkr status [MEETING] [--json]` for each workspace; the exit code is the worst.
pub(crate) fn run(env: &super::Env, cmd: &StatusCommand) -> Result<u8> {
    let mut code = 0;
    for ws in &env.workspaces {
        code = code.max(status(ws, &env.clock, cmd.meeting.as_deref(), cmd.json)?);
    }
    Ok(code)
}

/// `kkr status [MEETING] [--json]`: meetings, what is sent and due, per-recipient delivery.
pub(crate) fn status(
    ws: &Workspace,
    clock: &Clock,
    meeting: Option<&str>,
    json: bool,
) -> Result<u8> {
    let only = meeting.map(super::parse_meeting).transpose()?;
    let status = collect_status(ws, clock, only)?;
    if json {
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&status).expect("status serializes")
        );
        return Ok(0);
    }
    crate::outln!("{} – status {}", status.council, moment(&status.now));
    if ws.ledger_lost() {
        crate::outln!("\nADVARSEL: {}", Error::LedgerLost { path: ws.root.clone() });
    }
    if let Some(at) = &status.clock_behind {
        crate::outln!(
            "ADVARSEL: maskinens ur er gået tilbage: kkr har sidst handlet {}; status regner med det tidspunkt.",
            moment(at)
        );
    }
    if status.mail_to_files {
        crate::outln!(
            "Post: council.toml har ingen [mail.smtp]; mail skrives som .eml-filer i outbox/mail/ og når ikke modtagerne."
        );
    }
    if let Some(at) = &status.last_rehearsal {
        crate::outln!(
            "Seneste prøvekørsel: {at} – se outbox/prøve/ (intet af det er sendt, flyttet eller gemt)."
        );
    }
    if let Some(report) = &status.roster_error {
        crate::outln!("\nmembers.csv er ugyldig, så intet sendes:\n{report}");
    }
    for m in &status.meetings {
        print_meeting(m, only.is_some());
    }
    if !status.unread.is_empty() {
        crate::outln!("\nFiler i inbox/, som kkr ikke læser (de bliver liggende):");
        for u in &status.unread {
            crate::outln!("  {}: {}", u.file, u.fix);
        }
    }
    if !status.rejections.is_empty() {
        crate::outln!("\nSeneste afviste filer (se inbox/afvist/):");
        for r in &status.rejections {
            crate::outln!("  {} ({})", r.file, moment(&r.at));
        }
    }
    Ok(0)
}
