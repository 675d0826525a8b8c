//! The commands that look but do not run the pipeline: `check`, `status` and `render`.

use std::collections::BTreeMap;

use jiff::civil::Date;

use crate::args::RenderCommand;
use crate::clock::{self, Clock};
use crate::edition::{self, DocInput, DocKind, Edition, Entry};
use crate::error::{Error, Result};
use crate::inbox::{self, LedgerContext, Verdict};
use crate::item::{Item, MAX_ITEM_BYTES};
use crate::ledger::Ledger;
use crate::render::Renderer;
use crate::report::FileReport;
use crate::schedule::{self, AgendaStatus, MeetingState};
use crate::workspace::Workspace;

/// `kkr check`: validates everything and changes nothing (not even creating `state/`).
pub fn check(ws: &Workspace, clock: &Clock) -> Result<u8> {
    let config = match ws.load_config() {
        Ok(c) => c,
        Err(Error::Invalid { report }) => {
            crate::out!("{report}");
            if let Err(report) = ws.load_roster() {
                crate::out!("{report}");
            }
            crate::outln!("council.toml skal rettes, før indbakken kan kontrolleres.");
            return Ok(crate::EXIT_INVALID);
        }
        Err(e) => return Err(e),
    };
    let mut bad = 0;
    let roster = ws.load_roster();
    let names: Option<Vec<String>> = match &roster {
        Ok(r) => Some(r.iter().map(|m| m.name.clone()).collect()),
        Err(report) => {
            crate::out!("{report}");
            bad += 1;
            None
        }
    };
    if let Some(smtp) = &config.mail.smtp
        && let Some(var) = &smtp.password_env
        && std::env::var_os(var).is_none()
    {
        crate::outln!(
            "council.toml: advarsel: miljøvariablen {var} (SMTP-adgangskode) er ikke sat; intet kan sendes, før den er"
        );
    }
    for problem in check_templates(ws, &config) {
        crate::out!("{problem}");
        bad += 1;
    }
    let ledger = Ledger::open_read_only(&ws.ledger_path())?;
    let now = clock.now();
    let ctx = LedgerContext { config: &config, ledger: ledger.as_ref(), now: &now };
    let files = inbox::scan(ws);
    let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut per_meeting: BTreeMap<Date, usize> = BTreeMap::new();
    let mut good = 0;
    for c in &files {
        let bytes = crate::fs::read_bounded(&c.path, MAX_ITEM_BYTES)?;
        if let Some(id) =
            bytes.as_deref().filter(|_| c.rel.ends_with(".md")).and_then(inbox::peek_id)
        {
            ids.entry(id).or_default().push(c.rel.clone());
        }
        let shown = format!("inbox/{}", c.rel);
        match inbox::judge(ws, &c.rel, bytes.as_deref(), &ctx, names.as_deref()) {
            Verdict::Rejected(problems) => {
                crate::out!("{}", FileReport { path: &shown, problems: &problems });
                bad += 1;
            }
            Verdict::Item(i) => {
                *per_meeting.entry(i.item.meeting).or_default() += 1;
                good += 1;
            }
            Verdict::Attendance(_) => good += 1,
        }
    }
    for rels in ids.values().filter(|r| r.len() > 1) {
        for rel in rels {
            let p = [inbox::duplicate_id(rel, rels)];
            crate::out!("{}", FileReport { path: &format!("inbox/{rel}"), problems: &p });
            bad += 1;
        }
    }
    if bad > 0 {
        crate::outln!("{bad} fil(er) skal rettes; intet er ændret.");
        return Ok(crate::EXIT_INVALID);
    }
    let recipients = roster.map(|r| r.len()).unwrap_or(0);
    crate::outln!(
        "Alt i orden: {} møder i council.toml, {recipients} modtagere i members.csv, {good} fil(er) i indbakken ({} punkter til {} møde(r)).",
        config.meetings.len(),
        per_meeting.values().sum::<usize>(),
        per_meeting.len()
    );
    Ok(0)
}

/// Compiles the workspace's templates (mail and Typst) with a sample item, so a template
/// error is found by `check` and not on the day a document is due. Returns the reports.
fn check_templates(ws: &Workspace, config: &crate::config::Config) -> Vec<String> {
    let mut out = Vec::new();
    let Some(templates) = ws.templates() else { return out };
    if let Err(e) = crate::mail::Mailer::new(Some(&templates)) {
        out.push(format!("{e}\n"));
    }
    let meeting =
        config.meetings.first().cloned().unwrap_or(crate::config::MeetingConfig {
            date: jiff::civil::date(2027, 1, 28),
            starts: jiff::civil::time(9, 0, 0, 0),
            ends: jiff::civil::time(11, 0, 0, 0),
            place: "Rådhuset".into(),
        });
    let item = Item {
        id: "skabelonprøve".into(),
        meeting: meeting.date,
        title: "Prøve på skabelonen".into(),
        area: "Andet".into(),
        kind: crate::item::Kind::Beslutning,
        order: None,
        case: Some("26/00001".into()),
        recommendation: "Det indstilles, at skabelonen godkendes.".into(),
        attachments: Vec::new(),
        closed: false,
        public_title: String::new(),
        late_reason: String::new(),
        withdrawn: false,
        decision: Some(crate::item::Decision {
            text: "Godkendt.".into(),
            public_text: String::new(),
        }),
        body: "## Baggrund\n\nTekst med **fed** og en liste:\n\n- en\n- to\n".into(),
    };
    let mut renderer = Renderer::new(Some(templates), Vec::new());
    for kind in [DocKind::Agenda, DocKind::Minutes] {
        let input = DocInput {
            council: &config.council,
            meeting: &meeting,
            entries: vec![Entry { item: &item, status: "", number: 1 }],
            attendance: None,
            kind,
            edition: Edition::Member,
            note: String::new(),
            changed_at: jiff::Timestamp::UNIX_EPOCH,
        };
        if let Err(e) = renderer.render(&edition::build(&input)) {
            out.push(format!("{e}\n"));
        }
    }
    out
}

/// The status of a council, as `kkr status` shows it and `--json` writes it.
#[derive(Debug, serde::Serialize)]
pub struct Status {
    /// Council name.
    pub council: String,
    /// The moment of the status (local time, RFC 3339).
    pub now: String,
    /// Why members.csv is invalid, if it is (nothing is sent then).
    pub roster_error: Option<String>,
    /// The meetings.
    pub meetings: Vec<MeetingStatus>,
    /// The latest rejected files.
    pub rejections: Vec<RejectionStatus>,
}

/// One meeting in [`Status`].
#[derive(Debug, serde::Serialize)]
pub struct MeetingStatus {
    /// Its date.
    pub date: String,
    /// When it starts (local time).
    pub starts: String,
    /// Items on the agenda.
    pub items: usize,
    /// `scheduled`, `due`, `sent`, `missed` or `empty`.
    pub agenda: &'static str,
    /// When the agenda is (or was) due, local time.
    pub agenda_due: String,
    /// The documents made.
    pub documents: Vec<DocumentStatus>,
}

/// One document in [`MeetingStatus`].
#[derive(Debug, serde::Serialize)]
pub struct DocumentStatus {
    /// Its file.
    pub file: String,
    /// When it was made.
    pub created_at: String,
    /// Whether it went out after its moment.
    pub late: bool,
    /// Per recipient.
    pub deliveries: Vec<DeliveryStatus>,
}

/// One recipient in [`DocumentStatus`].
#[derive(Debug, serde::Serialize)]
pub struct DeliveryStatus {
    /// Name.
    pub name: String,
    /// Address.
    pub email: String,
    /// `pending`, `sending`, `sent`, `retry` or `failed`.
    pub state: &'static str,
    /// Attempts so far.
    pub attempts: i64,
    /// The server's reply or the error, if any.
    pub error: Option<String>,
    /// When the state last changed.
    pub updated_at: String,
}

/// One rejection in [`Status`].
#[derive(Debug, serde::Serialize)]
pub struct RejectionStatus {
    /// The file as dropped.
    pub file: String,
    /// When.
    pub at: String,
}

fn local(t: jiff::Timestamp) -> jiff::Zoned {
    t.to_zoned(clock::tz().clone())
}

/// Collects the status of a workspace (all meetings, or one).
pub fn collect_status(
    ws: &Workspace,
    clock: &Clock,
    only: Option<Date>,
) -> Result<Status> {
    let config = ws.load_config()?;
    let ledger = Ledger::open_read_only(&ws.ledger_path())?;
    let now = clock.now();
    let mut meetings = Vec::new();
    for m in config.meetings.iter().filter(|m| only.is_none_or(|d| d == m.date)) {
        let (state, docs) = match &ledger {
            Some(l) => {
                let plan = crate::deliver::plan(l, m.date)?;
                let state = plan.state();
                (state, l.meeting_documents(m.date)?)
            }
            None => (MeetingState::default(), Vec::new()),
        };
        let agenda = match schedule::agenda_status(&now, &config, m.date, state) {
            Some(AgendaStatus::Scheduled(_)) => "scheduled",
            Some(AgendaStatus::Empty(_)) | None => "empty",
            Some(AgendaStatus::Due) => "due",
            Some(AgendaStatus::Missed) => "missed",
            Some(AgendaStatus::Sent) => "sent",
        };
        let mut documents = Vec::new();
        for doc in docs {
            let deliveries = match &ledger {
                Some(l) => l.deliveries(doc.id)?,
                None => Vec::new(),
            };
            documents.push(DocumentStatus {
                file: doc.file,
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
        meetings.push(MeetingStatus {
            date: m.date.to_string(),
            starts: m.starts_at().to_string(),
            items: state.items,
            agenda,
            agenda_due: config.schedule.agenda_due(m).to_string(),
            documents,
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
        meetings,
        rejections,
    })
}

fn moment(zoned: &str) -> String {
    zoned
        .parse::<jiff::Zoned>()
        .map(|z| clock::danish_moment(z.datetime()))
        .unwrap_or_else(|_| zoned.to_owned())
}

/// `kkr status [MEETING] [--json]`: meetings, what is sent and due, per-recipient delivery.
pub fn status(
    ws: &Workspace,
    clock: &Clock,
    meeting: Option<&str>,
    json: bool,
) -> Result<u8> {
    let only = meeting.map(parse_meeting).transpose()?;
    let status = collect_status(ws, clock, only)?;
    if json {
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&status).expect("status serializes")
        );
        return Ok(0);
    }
    crate::outln!("{} – status {}", status.council, moment(&status.now));
    if let Some(report) = &status.roster_error {
        crate::outln!("\nmembers.csv er ugyldig, så intet sendes:\n{report}");
    }
    for m in &status.meetings {
        crate::outln!("\nMøde {} ({}), {} punkter", m.date, moment(&m.starts), m.items);
        let due = moment(&m.agenda_due);
        match m.agenda {
            "scheduled" => crate::outln!("  dagsorden: sendes {due}"),
            "empty" => {
                crate::outln!("  dagsorden: ingen punkter endnu (udsendelse {due})")
            }
            "due" => {
                crate::outln!("  dagsorden: forfalden ({due}): sendes ved næste kørsel")
            }
            "missed" => crate::outln!(
                "  dagsorden: IKKE SENDT: tidspunktet ({due}) blev overset, og mødet er begyndt"
            ),
            _ => {}
        }
        for doc in &m.documents {
            let count = |s: &str| doc.deliveries.iter().filter(|d| d.state == s).count();
            let late = if doc.late {
                " (for sent: kkr kørte ikke på tidspunktet)"
            } else {
                ""
            };
            let waiting = count("pending") + count("sending") + count("retry");
            crate::outln!(
                "  {}: lavet {}{late}; {} sendt, {waiting} venter, {} fejlet",
                doc.file,
                moment(&doc.created_at),
                count("sent"),
                count("failed")
            );
            for d in
                doc.deliveries.iter().filter(|d| only.is_some() || d.state == "failed")
            {
                let state = match d.state {
                    "sent" => "sendt",
                    "pending" => "venter",
                    "sending" => "under afsendelse",
                    "retry" => "prøves igen",
                    _ => "FEJLET",
                };
                let why =
                    d.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default();
                crate::outln!(
                    "    {:<48} {state}{why}",
                    format!("{} <{}>", d.name, d.email)
                );
            }
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

fn parse_meeting(s: &str) -> Result<Date> {
    s.parse().map_err(|_| {
        Error::Usage(format!("\"{s}\" er ikke en mødedato; skriv fx 2027-01-28"))
    })
}

/// `kkr render MEETING`: the accepted items plus any valid files still waiting in the inbox,
/// rendered now; nothing is taken in or sent.
pub fn render(ws: &Workspace, clock: &Clock, cmd: &RenderCommand) -> Result<u8> {
    let config = ws.load_config()?;
    let date = parse_meeting(&cmd.meeting)?;
    let meeting = config.meeting(date).ok_or_else(|| {
        Error::Usage(format!("der er intet møde den {date} i council.toml"))
    })?;
    let ledger = Ledger::open_read_only(&ws.ledger_path())?;
    let now = clock.now();
    let mut items: Vec<(i64, i64, Item)> = Vec::new();
    let mut changed_at = None;
    if let Some(l) = &ledger {
        items = l
            .items(date)?
            .into_iter()
            .map(|s| (s.item.order.unwrap_or(i64::MAX), s.arrival, s.item))
            .collect();
        changed_at = l.changed_at(date)?;
    }
    let ctx = LedgerContext { config: &config, ledger: ledger.as_ref(), now: &now };
    let mut waiting = 0;
    // Attachments of items not taken in yet are served from a temporary store.
    let preview = tempfile::tempdir()
        .map_err(|source| Error::Write { path: std::env::temp_dir(), source })?;
    for (n, c) in inbox::scan(ws).iter().enumerate() {
        let bytes = crate::fs::read_bounded(&c.path, MAX_ITEM_BYTES)?;
        let Verdict::Item(checked) =
            inbox::judge(ws, &c.rel, bytes.as_deref(), &ctx, None)
        else {
            continue;
        };
        if checked.item.meeting != date {
            continue;
        }
        for a in &checked.attachments {
            a.store(preview.path())?;
        }
        items.retain(|(_, _, i)| i.id != checked.item.id);
        items.push((
            checked.item.order.unwrap_or(i64::MAX),
            i64::MAX - 1000 + n as i64,
            checked.item,
        ));
        // The file's own time keeps a preview reproducible.
        let modified = std::fs::metadata(&c.path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| jiff::Timestamp::try_from(t).ok());
        let at = modified.unwrap_or(now.timestamp());
        changed_at = Some(changed_at.map_or(at, |c: jiff::Timestamp| c.max(at)));
        waiting += 1;
    }
    items.sort_by_key(|(o, a, _)| (*o, *a));
    let items: Vec<Item> =
        items.into_iter().map(|(_, _, i)| i).filter(|i| !i.withdrawn).collect();
    if items.is_empty() {
        return Err(Error::Usage(format!(
            "mødet {date} har ingen punkter endnu\n  hjælp: læg punkter i inbox/ og kør kkr run --once"
        )));
    }
    let kind = if cmd.minutes { DocKind::Minutes } else { DocKind::Agenda };
    let edition = if cmd.public { Edition::Public } else { Edition::Member };
    let attendance = ledger.as_ref().map(|l| l.attendance(date)).transpose()?.flatten();
    let input = DocInput {
        council: &config.council,
        meeting,
        entries: items
            .iter()
            .enumerate()
            .map(|(i, item)| Entry { item, status: "", number: i + 1 })
            .collect(),
        attendance: attendance.as_ref(),
        kind,
        edition,
        note: String::new(),
        changed_at: changed_at.unwrap_or(now.timestamp()),
    };
    let mut renderer = Renderer::new(
        ws.templates(),
        vec![ws.attachments(), preview.path().to_path_buf()],
    );
    let pdf = renderer.render(&edition::build(&input))?;
    let out = cmd.output.clone().unwrap_or_else(|| {
        ws.meeting_dir(date).join(format!("visning-{}", kind.file_name(edition)))
    });
    crate::fs::write_atomic(&out, &pdf)?;
    let extra = if waiting > 0 {
        format!(" (heraf {waiting} fra indbakken, endnu ikke modtaget)")
    } else {
        String::new()
    };
    crate::outln!("{}: {} punkter{extra}", out.display(), items.len());
    Ok(0)
}
