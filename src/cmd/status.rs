//! `kkr status [MEETING] [--json]`: meetings, what is sent and due and when, and each
//! recipient's delivery.

use jiff::civil::Date;

use crate::args::StatusCommand;
use crate::clock::{self, Clock};
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::schedule::{self, AgendaStatus, MeetingState};
use crate::workspace::Workspace;

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

fn local(t: jiff::Timestamp) -> jiff::Zoned {
    t.to_zoned(clock::tz().clone())
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
    let clock_behind =
        acted.filter(|a| clock.now().timestamp() < *a).map(|a| local(a).to_string());
    let clock = &match acted {
        Some(a) => clock.with_floor(a),
        None => clock.clone(),
    };
    let now = clock.now();
    let mut meetings = Vec::new();
    for m in config.meetings.iter().filter(|m| only.is_none_or(|d| d == m.date)) {
        let (state, docs, minutes_wait_for, unmade) = match &ledger {
            Some(l) => {
                let mut state = crate::document::plan(l, m.date)?.state();
                let docs = l.meeting_documents(m.date)?;
                crate::told::apply(&mut state, m, &docs);
                let waiting = crate::inbox::unresolved_attendance(ws, l, m.date)?;
                (state, docs, waiting, l.unmade(m.date)?)
            }
            None => (MeetingState::default(), Vec::new(), Vec::new(), Vec::new()),
        };
        let agenda = match schedule::agenda_status(&now, &config, m.date, state) {
            Some(AgendaStatus::Scheduled(_)) => "scheduled",
            Some(AgendaStatus::Empty(_)) | None => "empty",
            Some(AgendaStatus::Due) => "due",
            Some(AgendaStatus::Missed) => "missed",
            Some(AgendaStatus::Sent) => "sent",
            Some(AgendaStatus::Held) => "held",
            Some(AgendaStatus::Cancelled) => "cancelled",
        };
        let approval = approval_status(ledger.as_ref(), &docs, &state)?;
        let documents = documents_status(ledger.as_ref(), docs)?;
        meetings.push(MeetingStatus {
            date: m.date.to_string(),
            starts: m.starts_at().to_string(),
            items: state.items,
            agenda,
            agenda_due: config.schedule.agenda_due(m).to_string(),
            moved_to: m.moved_to.map(|d| d.to_string()),
            told: match (state.cancelled, state.cancel_sent, state.told_changed) {
                (true, true, _) => "cancel-sent",
                (true, false, _) if state.agenda_sent => "cancel-owed",
                (false, _, true) => "change-owed",
                _ => "",
            },
            documents,
            approval,
            minutes_wait_for,
            unmade: unmade
                .into_iter()
                .map(|u| UnmadeStatus {
                    what: u.what,
                    reason: u.reason,
                    since: local(u.since).to_string(),
                })
                .collect(),
        });
    }
    let rejections = match &ledger {
        Some(l) => l
            .rejections(10)?
            .into_iter()
            .map(|(file, _, at)| RejectionStatus { file, at: local(at).to_string() })
            .collect(),
        None => Vec::new(),
    };
    Ok(Status {
        council: config.council.name,
        now: now.to_string(),
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
        sent_at: local(d.created_at).to_string(),
        to: l.deliveries(d.id)?.into_iter().map(|x| x.name).collect(),
        current: !later && state.minutes_draft_current,
        approved: approved.map(|(by, at)| (by, local(at).to_string())),
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
            created_at: local(doc.created_at).to_string(),
            late: doc.late,
            deliveries: deliveries
                .into_iter()
                .map(|d| DeliveryStatus {
                    name: d.name,
                    email: d.recipient,
                    state: d.state.as_str(),
                    attempts: d.attempts,
                    error: d.last_error,
                    updated_at: local(d.updated_at).to_string(),
                })
                .collect(),
        });
    }
    Ok(documents)
}

fn moment(zoned: &str) -> String {
    zoned
        .parse::<jiff::Zoned>()
        .map(|z| clock::danish_moment(z.datetime()))
        .unwrap_or_else(|_| zoned.to_owned())
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

/// Where the minutes' approval stands.
fn print_approval(m: &MeetingStatus) {
    if let Some(a) = &m.approval {
        match &a.approved {
            Some((by, at)) => crate::outln!("  referat: godkendt af {by} {}", moment(at)),
            None if a.current => crate::outln!(
                "  referat: VENTER PÅ GODKENDELSE: {} er sendt {} til {}\n    godkend: kkr approve {} --minutes --by NAVN (eller en godkendelsesfil med approve = \"referat\")",
                a.draft,
                moment(&a.sent_at),
                a.to.join(", "),
                m.date
            ),
            None => crate::outln!(
                "  referat: en beslutning er ændret siden {}; et nyt udkast sendes til godkendelse",
                a.draft
            ),
        }
    }
}

/// What the members were told of the meeting itself, or are owed.
fn print_told(m: &MeetingStatus) {
    match m.told {
        "cancel-sent" => crate::outln!(
            "  AFLYST: medlemmerne har fået besked; der sendes ikke mere om mødet"
        ),
        "cancel-owed" => crate::outln!(
            "  AFLYST: medlemmerne får besked ved næste kørsel; derefter sendes intet mere"
        ),
        "change-owed" => crate::outln!(
            "  ÆNDRET efter udsendelsen: medlemmerne får besked med opdateret kalenderinvitation ved næste kørsel"
        ),
        _ => {}
    }
}

/// One meeting of `kkr status`: its agenda, what waits, and each document's deliveries
/// (every recipient with `all`, else the failed ones).
fn print_meeting(m: &MeetingStatus, all: bool) {
    match &m.moved_to {
        Some(_) => crate::outln!(
            "\nMøde {} (flyttet til {}), {} punkter",
            m.date,
            moment(&m.starts),
            m.items
        ),
        None => {
            crate::outln!(
                "\nMøde {} ({}), {} punkter",
                m.date,
                moment(&m.starts),
                m.items
            )
        }
    }
    let due = moment(&m.agenda_due);
    print_told(m);
    match m.agenda {
        "cancelled" if m.told.is_empty() => {
            crate::outln!(
                "  AFLYST: dagsordenen var ikke sendt, så ingen skal have besked; der sendes intet"
            )
        }
        "cancelled" => {}
        "scheduled" => crate::outln!("  dagsorden: sendes {due}"),
        "empty" => {
            crate::outln!("  dagsorden: ingen punkter endnu (udsendelse {due})")
        }
        "due" if m.unmade.iter().any(|u| u.what == "dagsorden") => {
            crate::outln!(
                "  dagsorden: forfalden ({due}), men kan ikke laves (se nedenfor)"
            )
        }
        "due" => {
            crate::outln!("  dagsorden: forfalden ({due}): sendes ved næste kørsel")
        }
        "held" => crate::outln!(
            "  dagsorden: TILBAGEHOLDT: der var ingen punkter på udsendelsestidspunktet ({due});\n    den sendes, når I frigiver den: kkr send {} eller en godkendelsesfil (approve = \"dagsorden\")",
            m.date
        ),
        "missed" => crate::outln!(
            "  dagsorden: IKKE SENDT: tidspunktet ({due}) blev overset, og mødet er begyndt"
        ),
        _ => {}
    }
    for u in &m.unmade {
        crate::outln!(
            "  {}: KAN IKKE LAVES (siden {}) og sendes ikke:",
            u.what,
            moment(&u.since)
        );
        for line in u.reason.lines().filter(|l| !l.trim().is_empty()).take(4) {
            crate::outln!("    {}", line.trim_end());
        }
        crate::outln!(
            "    ret det, der står ovenfor (et punkt, et bilag eller en skabelon i templates/); kkr prøver igen ved hver kørsel, og sekretariatet har fået besked"
        );
    }
    print_approval(m);
    for f in &m.minutes_wait_for {
        crate::outln!(
            "  referat: VENTER: fremmødefilen {f} er afvist; ret den og læg den i inbox/ igen (eller slet den fra afvist/)"
        );
    }
    for doc in &m.documents {
        let count = |s: &str| doc.deliveries.iter().filter(|d| d.state == s).count();
        let late =
            if doc.late { " (for sent: kkr kørte ikke på tidspunktet)" } else { "" };
        let waiting = count("pending") + count("sending") + count("retry");
        crate::outln!(
            "  {}: lavet {}{late}; {} sendt, {waiting} venter, {} fejlet",
            doc.file,
            moment(&doc.created_at),
            count("sent"),
            count("failed")
        );
        for d in doc.deliveries.iter().filter(|d| all || d.state == "failed") {
            let state = match d.state {
                "sent" => "sendt",
                "pending" => "venter",
                "sending" => "under afsendelse",
                "retry" => "prøves igen",
                _ => "FEJLET",
            };
            let why = d.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default();
            crate::outln!("    {:<48} {state}{why}", format!("{} <{}>", d.name, d.email));
        }
    }
}
