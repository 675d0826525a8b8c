//! What kkr tells the secretariat (SPEC §7): every event of a pass that needs a person, in one
//! message to the roster's secretariat rows, composed from the workspace's mail templates
//! (`templates/mail/notice.txt.hbs`, `failures.txt.hbs`) with `Auto-Submitted`, and recorded
//! in the ledger so each event is told once.

use lettre::message::Mailbox;
use serde::Serialize;

use crate::clock;
use crate::deliver::Ctx;
use crate::document;
use crate::error::{Error, Result};
use crate::hash::sha256_hex;
use crate::kind::{DocKind, Edition};
use crate::ledger::{DeliveryState, Document, Ledger};
use crate::mail::{Attempt, Mailer, Notice, Transport};
use crate::roster::{Member, Role};
use crate::schedule::{self, AgendaStatus};

/// One thing the secretariat must hear of.
#[derive(Debug, Serialize)]
pub(crate) struct Event {
    /// What it is in the ledger's record of notices (`before:2027-01-28`): told once.
    #[serde(skip)]
    pub(crate) key: String,
    /// Its first line.
    pub(crate) heading: String,
    /// What to know and do.
    pub(crate) lines: Vec<String>,
    /// A file that goes along (the draft agenda), as (name, bytes).
    #[serde(skip)]
    attachment: Option<(String, Vec<u8>)>,
}

impl Event {
    /// An event of kkr's own work: `key` says which, once.
    pub(crate) fn new(key: String, heading: String, lines: Vec<String>) -> Self {
        Self { key, heading, lines, attachment: None }
    }
}

/// What blocked sending or publishing in this pass (roster invalid, a secret not set): told
/// once a day while it lasts.
pub(crate) fn blocked(clock: &crate::clock::Clock, heading: &str, detail: &str) -> Event {
    let day = clock.now().date();
    let hash = sha256_hex(format!("{heading}\n{detail}").as_bytes());
    Event::new(
        format!("blocked:{day}:{}", &hash[..16]),
        heading.to_owned(),
        detail.trim_end().lines().map(|l| format!("  {l}")).collect(),
    )
}

/// The secretariat's addresses: the `sekretariat` rows, else the configured reply address.
pub(crate) fn secretariat(ctx: Ctx, roster: &[Member]) -> Vec<Mailbox> {
    let mut to: Vec<Mailbox> = roster
        .iter()
        .filter(|m| m.role == Role::Sekretariat)
        .map(Member::mailbox)
        .collect();
    if to.is_empty() {
        to.extend(ctx.config.mail.reply_to.clone());
    }
    to
}

/// A meeting of `council.toml` with what the ledger knows of it.
type MeetingFacts<'a> = (&'a crate::config::MeetingConfig, document::Facts);

/// What `templates/mail/notice.txt.hbs` shows.
#[derive(Serialize)]
struct View<'a> {
    council: &'a str,
    count: usize,
    events: &'a [Event],
}

/// Tells the secretariat (`to`) every event of this pass not told before — the events found
/// in the ledger and `extra` (what blocked sending in this pass, files kkr does not read) — in
/// one message. `recipients` is how many roster rows the documents go to. Returns how many
/// events were told.
pub(crate) fn tell(
    ctx: Ctx,
    to: Vec<Mailbox>,
    recipients: usize,
    ledger: &mut Ledger,
    mailer: &Mailer,
    transport: &mut dyn Transport,
    extra: Vec<Event>,
) -> Result<usize> {
    let mut events = Vec::new();
    // Each meeting's facts read once for every kind of event.
    let facts = ctx
        .config
        .meetings
        .iter()
        .map(|m| Ok((m, document::Facts::load(ledger, m.date)?)))
        .collect::<Result<Vec<_>>>()?;
    before_agenda(ctx, &facts, recipients, &mut events);
    rejections(ledger, &mut events)?;
    schedule_events(ctx, &facts, &mut events);
    failures(ctx, &facts, ledger, mailer, &mut events)?;
    events.extend(extra);
    let mut fresh = Vec::new();
    for e in events {
        if !ledger.noticed(&e.key)? && !fresh.iter().any(|f: &Event| f.key == e.key) {
            fresh.push(e);
        }
    }
    if fresh.is_empty() || to.is_empty() {
        return Ok(0);
    }
    let keys: Vec<String> = fresh.iter().map(|e| e.key.clone()).collect();
    let told = sha256_hex(keys.join("\n").as_bytes());
    let now = ctx.clock.now().timestamp();
    let council = &ctx.config.council;
    let subject = match fresh.as_slice() {
        [one] => format!("{}: {}", council.name, one.heading),
        many => format!("{}: {} beskeder fra kkr", council.name, many.len()),
    };
    let attachments: Vec<(String, Vec<u8>)> =
        fresh.iter_mut().filter_map(|e| e.attachment.take()).collect();
    let view = View { council: &council.name, count: fresh.len(), events: &fresh };
    let letter = NoticeLetter { subject: &subject, told: &told, view: &view };
    // One message per secretariat row, like every mail (a refused row fails alone).
    let (mut delivered, mut deferred) = (0, Vec::new());
    for to in &to {
        let mut attempt = letter.send(ctx, mailer, transport, to, &attachments)?;
        if matches!(attempt, Attempt::TooLarge(_)) && !attachments.is_empty() {
            attempt = letter.send(ctx, mailer, transport, to, &[])?;
        }
        match attempt {
            Attempt::Sent => delivered += 1,
            Attempt::Defer(reason) | Attempt::Session(reason) => {
                deferred.push(format!("{}: {reason}", to.email))
            }
            Attempt::Bounce(reason) | Attempt::TooLarge(reason) => tracing::error!(
                "beskeden til sekretariatet blev afvist for {}: {reason}; ret adressen i members.csv",
                to.email
            ),
        }
    }
    if delivered == 0 && !deferred.is_empty() {
        // Nothing reached anyone, for now: told on a later pass.
        return Err(Error::Send {
            recipient: "sekretariatet".into(),
            reason: deferred.join("; "),
            transient: true,
        });
    }
    ledger.record_notices(&keys, now)?;
    for id in keys.iter().filter_map(|k| k.strip_prefix("failed:")) {
        if let Ok(id) = id.parse() {
            ledger.mark_summary(id, now)?;
        }
    }
    let what: Vec<&str> = fresh.iter().map(|e| e.heading.as_str()).collect();
    tracing::info!("sekretariatet har fået besked: {}", what.join("; "));
    Ok(fresh.len())
}

/// One pass's notice, the same for every secretariat row but the address.
struct NoticeLetter<'a> {
    subject: &'a str,
    /// The SHA-256 of the events' keys: the notice's identity.
    told: &'a str,
    view: &'a View<'a>,
}

impl NoticeLetter<'_> {
    /// Composes and hands over the notice for one row.
    fn send(
        &self,
        ctx: Ctx,
        mailer: &Mailer,
        transport: &mut dyn Transport,
        to: &Mailbox,
        attachments: &[(String, Vec<u8>)],
    ) -> Result<Attempt> {
        let email = to.email.to_string();
        let council = &ctx.config.council;
        let notice = Notice {
            to: vec![to.clone()],
            subject: self.subject.to_owned(),
            message_id: crate::mail::message_id(
                &council.slug,
                "besked",
                "sekretariat",
                self.told,
                &email,
                &ctx.config.mail.from,
            ),
            date: ctx.clock.now().timestamp(),
            template: "notice",
            data: self.view,
            attachments: attachments.to_vec(),
        };
        let message = mailer.notice(&ctx.config.mail.from, &notice)?;
        // The `.eml` name without SMTP: `besked-…`, apart from the members' mail.
        let key =
            format!("besked-{}-{}-{email}", ctx.clock.now().date(), &self.told[..12]);
        transport.send(&key, &message)
    }
}

/// The notice before an agenda goes (SPEC §3.2): from `notice_hours_before` before its
/// moment until it; loudly when there are no items yet. The draft goes along.
fn before_agenda(
    ctx: Ctx,
    facts: &[MeetingFacts],
    recipients: usize,
    events: &mut Vec<Event>,
) {
    let hours = ctx.config.schedule.notice_hours_before;
    let now = ctx.clock.now();
    // Without a valid roster there is nothing true to say about who gets it; the notice
    // goes on a later pass, once members.csv is fixed.
    if hours == 0 || recipients == 0 {
        return;
    }
    for (m, facts) in facts {
        let due = ctx.config.schedule.agenda_due(m);
        let from = due.checked_sub(jiff::SignedDuration::from_hours(hours));
        if from.is_ok_and(|from| now < from)
            || now >= due
            || now >= m.starts_at()
            || m.cancelled
        {
            continue;
        }
        let plan = facts.plan();
        if plan.sent || plan.held || plan.released {
            continue;
        }
        let meeting = clock::danish_date(m.held_on());
        let moment = clock::danish_moment(due.datetime());
        let key = format!("before:{}", m.date);
        let items: Vec<String> = plan
            .list
            .iter()
            .filter(|(s, _)| !s.item.withdrawn)
            .enumerate()
            .map(|(i, (s, _))| {
                let closed = if s.item.closed { " (lukket punkt)" } else { "" };
                format!("  {}. {}{closed}", i + 1, s.item.title)
            })
            .collect();
        let mut event = if items.is_empty() {
            Event::new(
                key,
                format!("ADVARSEL: dagsordenen til mødet {meeting} har endnu ingen punkter"),
                vec![
                    format!("Den skal sendes {moment}."),
                    "Er der stadig ingen punkter da, sendes intet: dagsordenen holdes tilbage, til I frigiver den (kkr send MØDEDATO, kkr approve MØDEDATO --agenda --by NAVN eller approve = \"dagsorden\").".into(),
                ],
            )
        } else {
            let mut lines = vec![format!(
                "Den går til {} (alle rækker i members.csv) med {}:",
                crate::term::count(recipients, "modtager", "modtagere"),
                crate::term::count(items.len(), "punkt", "punkter")
            )];
            lines.extend(items);
            lines.push("Udkastet er vedhæftet. Ret et punkt ved at lægge filen i inbox/ igen; udkastet opdateres med det samme.".into());
            Event::new(
                key,
                format!("Dagsordenen til mødet {meeting} sendes {moment}"),
                lines,
            )
        };
        let draft =
            ctx.ws.meeting_dir(m.date).join(DocKind::Draft.file_name(Edition::Member));
        if let Ok(bytes) = std::fs::read(&draft) {
            event.attachment = Some((format!("dagsorden-udkast-{}.pdf", m.date), bytes));
        }
        events.push(event);
    }
}

/// Files rejected: each with its report.
fn rejections(ledger: &Ledger, events: &mut Vec<Event>) -> Result<()> {
    for (id, file, report) in ledger.untold_rejections(100)? {
        events.push(Event::new(
            format!("rejected:{id}"),
            format!("Afvist: {file}"),
            report.lines().map(|l| format!("  {l}")).collect(),
        ));
    }
    Ok(())
}

/// Held agendas, agendas sent late because kkr was not running, and agendas missed.
fn schedule_events(ctx: Ctx, facts: &[MeetingFacts], events: &mut Vec<Event>) {
    let now = ctx.clock.now();
    for (m, facts) in facts {
        let plan = facts.plan();
        let meeting = clock::danish_date(m.held_on());
        let due = clock::danish_moment(ctx.config.schedule.agenda_due(m).datetime());
        let starts = clock::danish_moment(m.starts_at().datetime());
        if plan.held && now < m.starts_at() {
            events.push(Event::new(
                format!("held:{}", m.date),
                format!("Dagsordenen til mødet {meeting} er holdt tilbage: der var ingen punkter"),
                vec![
                    format!("Den skulle være sendt {due}; en tom dagsorden sendes aldrig."),
                    format!("Læg punkterne i inbox/, og frigiv den, før mødet begynder {starts}: kkr send {d}, kkr approve {d} --agenda --by NAVN eller en fil med approve = \"dagsorden\".", d = m.date),
                ],
            ));
        }
        for doc in facts.documents().iter().filter(|d| d.late) {
            let made = clock::danish_moment(
                doc.created_at.to_zoned(clock::tz().clone()).datetime(),
            );
            events.push(Event::new(
                format!("late:{}", doc.id),
                format!("{} til mødet {meeting} blev sendt for sent", doc.kind.label()),
                vec![format!(
                    "kkr kørte ikke på tidspunktet {due}; den blev sendt {made}, da kkr kørte igen."
                )],
            ));
        }
        let state = plan.state();
        let recent = now.timestamp()
            < m.starts_at().timestamp() + jiff::SignedDuration::from_hours(7 * 24);
        if recent
            && state.items > 0
            && schedule::agenda_status(&now, ctx.config, m.date, state)
                == Some(AgendaStatus::Missed)
        {
            let why = if plan.held {
                format!(
                    "Den blev holdt tilbage og ikke frigivet, før mødet begyndte {starts}."
                )
            } else {
                format!(
                    "kkr kørte ikke på tidspunktet {due}, og mødet er begyndt {starts}."
                )
            };
            events.push(Event::new(
                format!("missed:{}", m.date),
                format!("Dagsordenen til mødet {meeting} blev IKKE sendt"),
                vec![why, "kkr sender den ikke længere. Send den på anden vis.".into()],
            ));
        }
    }
}

/// One recipient a document could not reach, as the failure report lists it.
#[derive(Serialize)]
struct Failed<'a> {
    name: &'a str,
    recipient: &'a str,
    error: &'a str,
}

/// What the failure report (`templates/mail/failures.txt.hbs`) shows.
#[derive(Serialize)]
struct Failures<'a> {
    council: &'a str,
    file: &'a str,
    failed: Vec<Failed<'a>>,
    count: usize,
    total: usize,
}

/// Recipients that failed for good, per document, once nothing of it is under way any more
/// and while it may still be sent.
fn failures(
    ctx: Ctx,
    facts: &[MeetingFacts],
    ledger: &Ledger,
    mailer: &Mailer,
    events: &mut Vec<Event>,
) -> Result<()> {
    let now = ctx.clock.now();
    for (m, facts) in facts {
        for doc in facts.documents() {
            if doc.summary_at.is_some()
                || doc.kind.sendable_until(m).is_some_and(|until| now >= until)
            {
                continue;
            }
            if let Some(e) = failure(ctx, ledger, mailer, doc)? {
                events.push(e);
            }
        }
    }
    Ok(())
}

/// The failure report of one document, if it has failed recipients and none under way.
fn failure(
    ctx: Ctx,
    ledger: &Ledger,
    mailer: &Mailer,
    doc: &Document,
) -> Result<Option<Event>> {
    let deliveries = ledger.deliveries(doc.id)?;
    let open = deliveries.iter().any(|d| {
        matches!(
            d.state,
            DeliveryState::Pending | DeliveryState::Sending | DeliveryState::Retry
        )
    });
    let failed: Vec<_> =
        deliveries.iter().filter(|d| d.state == DeliveryState::Failed).collect();
    if open || failed.is_empty() {
        return Ok(None);
    }
    let data = Failures {
        council: &ctx.config.council.name,
        file: &doc.name(),
        failed: failed
            .iter()
            .map(|d| Failed {
                name: &d.name,
                recipient: &d.recipient,
                error: d.last_error.as_deref().unwrap_or("ukendt fejl"),
            })
            .collect(),
        count: failed.len(),
        total: deliveries.len(),
    };
    let text = mailer.text("failures", &data)?;
    let name = doc.name();
    let file = name.rsplit('/').next().unwrap_or(&name);
    Ok(Some(Event::new(
        format!("failed:{}", doc.id),
        format!("Fejl ved udsendelse: {file} til mødet {}", doc.meeting),
        text.lines().map(|l| format!("  {l}")).collect(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MimeHeaders;

    #[test]
    fn the_notice_lists_every_event_and_is_auto_submitted() {
        let mailer = Mailer::new(None).unwrap();
        let data = Failures {
            council: "KKR Test",
            file: "outbox/2027-01-28/dagsorden.pdf",
            failed: vec![Failed {
                name: "A B",
                recipient: "a@example.org",
                error: "550 nej",
            }],
            count: 1,
            total: 3,
        };
        let failures = mailer.text("failures", &data).unwrap();
        assert_eq!(
            failures,
            "KKR Test kunne ikke levere outbox/2027-01-28/dagsorden.pdf til 1 af 3 modtagere:\n\n- A B <a@example.org>: 550 nej\n\nRet adressen i members.csv og send igen med: kkr send MØDEDATO --to ADRESSE\nSe også: kkr status\n"
        );
        let events = [
            Event::new("a".into(), "Afvist: inbox/x.md".into(), vec!["  fejl".into()]),
            Event::new(
                "b".into(),
                "Dagsordenen er holdt tilbage".into(),
                vec!["Gør det".into()],
            ),
        ];
        let view = View { council: "KKR Test", count: 2, events: &events };
        let notice = Notice {
            to: vec!["S <s@example.org>".parse().unwrap()],
            subject: "KKR Test: 2 beskeder fra kkr".into(),
            message_id: "<x@example.org>".into(),
            date: jiff::Timestamp::UNIX_EPOCH,
            template: "notice",
            data: &view,
            attachments: vec![("udkast.pdf".into(), b"%PDF-1.7".to_vec())],
        };
        let from: Mailbox = "KKR <kkr@example.org>".parse().unwrap();
        let raw = mailer.notice(&from, &notice).unwrap().formatted();
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(
            parsed.header_raw("Auto-Submitted").map(str::trim),
            Some("auto-generated")
        );
        let body = parsed.body_text(0).unwrap().replace("\r\n", "\n");
        assert!(
            body.starts_with("Afvist: inbox/x.md\n  fejl\n\nDagsordenen er holdt tilbage\nGør det\n\nSe også: kkr status"),
            "{body}"
        );
        assert_eq!(parsed.attachment(0).unwrap().attachment_name(), Some("udkast.pdf"));
    }
}
