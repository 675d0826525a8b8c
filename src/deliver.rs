//! Sending documents: what the agenda family (agenda, supplements, corrections) shows, rendering
//! each once, recording it with its recipients, then mailing each recipient with the intent
//! recorded before and the result after; retries with back-off; a failure summary.

use std::collections::HashMap;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use lettre::message::Mailbox;
use sha2::{Digest, Sha256};

use crate::clock::{self, Clock};
use crate::config::{Config, Member, Role, SmtpConfig, Tls};
use crate::edition::{self, DocInput, DocKind, Edition, Entry};
use crate::error::{Error, Result};
use crate::ics;
use crate::item::{Item, hex};
use crate::ledger::{DeliveryState, Document, Ledger, NewDocument, Shown, StoredItem};
use crate::mail::{self, DryRun, Letter, MailItem, Mailer, Transport};
use crate::render::Renderer;
use crate::workspace::Workspace;

/// What a delivery run achieved.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sent {
    /// Messages handed over now.
    pub sent: usize,
    /// Recipients refused for good.
    pub failed: usize,
    /// Recipients to retry later.
    pub retry: usize,
}

/// The parts of a council every send needs.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    /// The workspace.
    pub ws: &'a Workspace,
    /// Its configuration.
    pub config: &'a Config,
    /// The clock.
    pub clock: &'a Clock,
}

/// The agenda kinds of document, in the ledger's words.
const AGENDA_KINDS: [&str; 3] = ["agenda", "supplement", "correction"];

/// How an item stands against what the sent agenda documents showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// As shown.
    Same,
    /// Not shown yet.
    New,
    /// Shown, then changed.
    Changed,
    /// Shown, then withdrawn.
    Withdrawn,
}

impl Change {
    fn status(self) -> &'static str {
        match self {
            Self::Same => "",
            Self::New => "ny",
            Self::Changed => "ændret",
            Self::Withdrawn => "trukket",
        }
    }
}

/// A meeting's agenda list: items in agenda order with how each stands against what was sent.
/// Items withdrawn before they were ever shown are not on it.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Whether the agenda has been sent.
    pub sent: bool,
    /// Whether the minutes have been sent.
    pub minutes_sent: bool,
    /// The list.
    pub list: Vec<(StoredItem, Change)>,
}

impl Plan {
    /// Items on no sent document yet.
    pub fn new_items(&self) -> usize {
        self.list.iter().filter(|(_, c)| *c == Change::New).count()
    }

    /// Items changed or withdrawn since they were sent.
    pub fn changed_items(&self) -> usize {
        self.list
            .iter()
            .filter(|(_, c)| matches!(c, Change::Changed | Change::Withdrawn))
            .count()
    }

    /// Items on the agenda now (withdrawn ones not counted).
    pub fn active(&self) -> usize {
        self.list.iter().filter(|(s, _)| !s.item.withdrawn).count()
    }

    /// Items on the agenda without a decision yet.
    pub fn undecided(&self) -> Vec<&Item> {
        self.list
            .iter()
            .map(|(s, _)| &s.item)
            .filter(|i| !i.withdrawn && i.decision.is_none())
            .collect()
    }

    /// The schedule's view of the meeting.
    pub fn state(&self) -> crate::schedule::MeetingState {
        crate::schedule::MeetingState {
            agenda_sent: self.sent,
            items: self.active(),
            new_items: self.new_items(),
            changed_items: self.changed_items(),
            decided: self.undecided().is_empty(),
            minutes_sent: self.minutes_sent,
        }
    }
}

/// Hash of what an agenda shows of an item: everything but its decision (adding a decision
/// is not a change of the agenda).
pub fn agenda_hash(item: &Item) -> String {
    let mut item = item.clone();
    item.decision = None;
    hex(&Sha256::digest(serde_json::to_vec(&item).expect("items serialize")))
}

/// The agenda list of a meeting, compared with what was sent.
pub fn plan(ledger: &Ledger, meeting: Date) -> Result<Plan> {
    let mut covered: HashMap<String, String> = HashMap::new();
    let mut sent = false;
    let mut minutes_sent = false;
    for doc in ledger.meeting_documents(meeting)? {
        minutes_sent |= doc.kind == "minutes";
        if AGENDA_KINDS.contains(&doc.kind.as_str()) {
            sent = true;
            for s in doc.shown {
                covered.insert(s.id, s.hash);
            }
        }
    }
    let mut list = Vec::new();
    for s in ledger.items(meeting)? {
        let change = match covered.get(&s.item.id) {
            None if s.item.withdrawn => continue,
            None => Change::New,
            Some(h) if *h == agenda_hash(&s.item) => Change::Same,
            Some(_) if s.item.withdrawn => Change::Withdrawn,
            Some(_) => Change::Changed,
        };
        list.push((s, change));
    }
    Ok(Plan { sent, minutes_sent, list })
}

/// The items of an agenda, withdrawn ones left out.
pub fn agenda_items(ledger: &Ledger, meeting: Date) -> Result<Vec<StoredItem>> {
    Ok(ledger.items(meeting)?.into_iter().filter(|s| !s.item.withdrawn).collect())
}

/// What a document of `kind` shows from the plan, with statuses and agenda numbers.
fn entries(plan: &Plan, kind: DocKind) -> Vec<(&StoredItem, Change, usize)> {
    let numbered = plan.list.iter().enumerate().map(|(i, (s, c))| (s, *c, i + 1));
    match kind {
        DocKind::Supplement(_) => {
            numbered.filter(|(_, c, _)| *c == Change::New).collect()
        }
        DocKind::Correction(_) => numbered.collect(),
        DocKind::Draft if plan.sent => numbered.collect(),
        _ => numbered.filter(|(s, _, _)| !s.item.withdrawn).collect(),
    }
}

/// The fields of an item that differ between two versions, in Danish.
fn changed_fields(old: &Item, new: &Item) -> Vec<&'static str> {
    let mut out = Vec::new();
    let pairs: [(&str, bool); 8] = [
        ("titel", old.title != new.title),
        ("sagsområde", old.area != new.area),
        ("type", old.kind != new.kind),
        ("sagsnummer", old.case != new.case),
        ("indstilling", old.recommendation != new.recommendation),
        ("sagsfremstilling", old.body != new.body),
        ("bilag", old.attachments != new.attachments),
        ("lukket/åbent", old.closed != new.closed),
    ];
    for (name, differs) in pairs {
        if differs {
            out.push(name);
        }
    }
    out
}

/// The cover note of a supplement or a correction.
fn note(
    ledger: &Ledger,
    plan: &Plan,
    kind: DocKind,
    covered: &HashMap<String, String>,
) -> Result<String> {
    Ok(match kind {
        DocKind::Supplement(_) => "Punkterne herunder er kommet til, efter at dagsordenen blev sendt. Begrundelsen for den sene fremsendelse står ved hvert punkt.".into(),
        DocKind::Correction(_) => {
            let mut lines = Vec::new();
            for (s, c, n) in entries(plan, kind) {
                match c {
                    Change::Withdrawn => lines.push(format!("Punkt {n} ({}) er trukket.", s.item.title)),
                    Change::Changed => {
                        let old = covered.get(&s.item.id).and_then(|h| {
                            ledger.item_versions(&s.item.id).ok()?.into_iter().find(|v| agenda_hash(&v.item) == *h)
                        });
                        let what = old.map(|o| changed_fields(&o.item, &s.item)).unwrap_or_default();
                        let what = if what.is_empty() { String::new() } else { format!(" (ændret: {})", what.join(", ")) };
                        lines.push(format!("Punkt {n} ({}) er ændret{what}.", s.item.title));
                    }
                    _ => {}
                }
            }
            format!("Denne dagsorden erstatter den tidligere udsendte. {}", lines.join(" "))
        }
        _ => String::new(),
    })
}

/// Builds and renders a meeting's document (any kind, either edition) from the ledger.
pub fn render_doc(
    config: &Config,
    ledger: &Ledger,
    renderer: &mut Renderer,
    meeting: Date,
    kind: DocKind,
    edition: Edition,
) -> Result<(Vec<u8>, Vec<Shown>)> {
    let (data, shown) = doc_data(config, ledger, meeting, kind, edition)?;
    Ok((renderer.render(&data)?, shown))
}

/// The data of a document of a meeting, as [`render_doc`] renders it, and what it shows.
pub fn doc_data(
    config: &Config,
    ledger: &Ledger,
    meeting: Date,
    kind: DocKind,
    edition: Edition,
) -> Result<(crate::edition::DocData, Vec<Shown>)> {
    let m = config.meeting(meeting).ok_or_else(|| {
        Error::Usage(format!("der er intet møde den {meeting} i council.toml"))
    })?;
    let plan = plan(ledger, meeting)?;
    let agendas: Vec<Document> = ledger
        .meeting_documents(meeting)?
        .into_iter()
        .filter(|d| AGENDA_KINDS.contains(&d.kind.as_str()))
        .collect();
    let covered: HashMap<String, String> = agendas
        .iter()
        .flat_map(|d| d.shown.iter().map(|s| (s.id.clone(), s.hash.clone())))
        .collect();
    let entries = entries(&plan, kind);
    let shown = entries
        .iter()
        .map(|(s, c, n)| Shown {
            id: s.item.id.clone(),
            hash: agenda_hash(&s.item),
            number: *n,
            title: s.item.title.clone(),
            status: c.status().into(),
        })
        .collect();
    // The public agenda follows the agendas that were sent: its date is that of the last
    // one, so a decision added after the meeting neither changes nor republishes it.
    let last_agenda = if kind == DocKind::Agenda && edition == Edition::Public {
        agendas.iter().map(|d| d.created_at).max()
    } else {
        None
    };
    let changed_at = match last_agenda {
        Some(at) => at,
        None => ledger.changed_at(meeting)?.unwrap_or(Timestamp::UNIX_EPOCH),
    };
    let attendance =
        if kind == DocKind::Minutes { ledger.attendance(meeting)? } else { None };
    let marked = plan.sent && !matches!(kind, DocKind::Agenda | DocKind::Minutes);
    let input = DocInput {
        council: &config.council,
        meeting: m,
        entries: entries
            .iter()
            .map(|(s, c, n)| Entry {
                item: &s.item,
                status: if marked { c.status() } else { "" },
                number: *n,
            })
            .collect(),
        attendance: attendance.as_ref(),
        kind,
        edition,
        note: note(ledger, &plan, kind, &covered)?,
        changed_at,
    };
    if edition == Edition::Public {
        edition::check_public(&input.entries).map_err(|report| Error::Invalid {
            report: format!("mødet {meeting}: {report}\n  hjælp: læg punkterne ind igen med public_title og [decision] public_text\n"),
        })?;
    }
    Ok((edition::build(&input), shown))
}

/// The Message-ID of a document for a recipient in a resend generation.
pub fn message_id(
    config: &Config,
    meeting: Date,
    file: &str,
    recipient: &str,
    generation: i64,
) -> String {
    let file = if generation == 0 {
        file.to_owned()
    } else {
        format!("{}.r{generation}", file.trim_end_matches(".pdf"))
    };
    mail::message_id(
        &config.council.slug,
        &meeting.to_string(),
        &file,
        recipient,
        &config.mail.from,
    )
}

/// Renders and records a document for every roster row, in one transaction, and returns it.
/// For the agenda, an agenda already recorded is returned as it is.
pub fn record(
    ctx: Ctx,
    roster: &[Member],
    ledger: &mut Ledger,
    renderer: &mut Renderer,
    meeting: Date,
    kind: DocKind,
    late: bool,
) -> Result<Document> {
    if matches!(kind, DocKind::Agenda | DocKind::Minutes)
        && let Some(doc) =
            ledger.documents(meeting, kind.ledger_kind())?.into_iter().next()
    {
        return Ok(doc);
    }
    let (pdf, shown) =
        render_doc(ctx.config, ledger, renderer, meeting, kind, Edition::Member)?;
    let name = kind.file_name(Edition::Member);
    let file = ctx.ws.meeting_dir(meeting).join(&name);
    crate::fs::write_atomic(&file, &pdf)?;
    let recipients: Vec<_> = roster
        .iter()
        .map(|m| {
            let email = m.email.to_string();
            let id = message_id(ctx.config, meeting, &name, &email, 0);
            (email, m.name.clone(), id)
        })
        .collect();
    let seq = match kind {
        DocKind::Supplement(n) | DocKind::Correction(n) => n,
        _ => 1,
    };
    let doc = NewDocument {
        meeting,
        kind: kind.ledger_kind().into(),
        seq,
        file: ctx.ws.rel(&file),
        sha256: hex(&Sha256::digest(&pdf)),
        shown,
        late,
    };
    ledger.add_document(&doc, &recipients, ctx.clock.now().timestamp())
}

/// The transport the configuration asks for.
pub fn transport(
    ws: &Workspace,
    config: &Config,
    dry_run: bool,
) -> Result<Box<dyn Transport>> {
    match (&config.mail.smtp, dry_run) {
        (Some(smtp), false) => Ok(Box::new(Smtp::new(smtp)?)),
        _ => Ok(Box::new(DryRun::new(ws.mail_dir()))),
    }
}

/// How long to wait before attempt `n + 1`: one minute, doubling, at most an hour, with
/// ±20 % jitter (derived from the recipient, so retries spread out).
pub fn backoff(attempts: i64, recipient: &str) -> SignedDuration {
    let base = 60i64 << attempts.clamp(1, 7).saturating_sub(1);
    let base = base.min(3600);
    let spread = Sha256::digest(format!("{recipient}/{attempts}"))[0] as i64; // 0..=255
    SignedDuration::from_secs(base + base * (spread - 128) / 640)
}

/// The mail text of a document.
fn letter(config: &Config, doc: &Document) -> Result<Letter> {
    let m = config.meeting(doc.meeting).ok_or_else(|| {
        Error::Usage(format!("mødet {} er fjernet fra council.toml", doc.meeting))
    })?;
    let kind = DocKind::from_ledger(&doc.kind, doc.seq).unwrap_or(DocKind::Agenda);
    let note = match kind {
        DocKind::Supplement(_) => "Der er kommet nye punkter til dagsordenen.".into(),
        DocKind::Correction(_) => {
            "Dagsordenen er rettet; den vedhæftede udgave erstatter den tidligere.".into()
        }
        _ => String::new(),
    };
    Ok(Letter {
        subject: edition::title(&config.council, m, kind),
        council: config.council.name.clone(),
        phrase: kind.phrase(),
        when: clock::danish_moment(m.date.to_datetime(m.starts)),
        place: m.place.clone(),
        note,
        items: doc
            .shown
            .iter()
            .map(|s| MailItem { number: s.number, title: s.title.clone() })
            .collect(),
        file: doc.file.rsplit('/').next().unwrap_or(&doc.file).to_owned(),
        reply_to: config
            .mail
            .reply_to
            .as_ref()
            .map(|r| r.email.to_string())
            .unwrap_or_default(),
        size_refused: false,
    })
}

/// Mails every recipient of `doc` who is owed it now; retries wait for their moment.
pub fn deliver(
    ctx: Ctx,
    ledger: &mut Ledger,
    mailer: &Mailer,
    transport: &mut dyn Transport,
    doc: &Document,
) -> Result<Sent> {
    let mut stats = Sent::default();
    let now = ctx.clock.now().timestamp();
    let todo: Vec<_> = ledger
        .deliveries(doc.id)?
        .into_iter()
        .filter(|d| match d.state {
            DeliveryState::Pending | DeliveryState::Sending => true,
            DeliveryState::Retry => d.next_at.is_none_or(|t| t <= now),
            _ => false,
        })
        .collect();
    if todo.is_empty() {
        return Ok(stats);
    }
    let pdf = crate::fs::read(&ctx.ws.root.join(&doc.file))?;
    if hex(&Sha256::digest(&pdf)) != doc.sha256 {
        return Err(Error::Usage(format!(
            "`{}` er ændret siden den blev sendt; kkr sender ikke en anden udgave under samme navn",
            doc.file
        )));
    }
    let letter = letter(ctx.config, doc)?;
    let m = ctx.config.meeting(doc.meeting).expect("letter checked the meeting");
    let stamp = ledger.changed_at(doc.meeting)?.unwrap_or(doc.created_at);
    let ics =
        (doc.kind != "minutes").then(|| ics::calendar(&ctx.config.council, m, stamp));
    let mut rest = todo.iter();
    while let Some(d) = rest.next() {
        if crate::shutdown::requested() {
            break;
        }
        let now = ctx.clock.now().timestamp();
        let address = d.recipient.parse().map_err(|_| {
            Error::Usage(format!("ugyldig adresse i loggen: {}", d.recipient))
        })?;
        let to = Mailbox::new(Some(d.name.clone()), address);
        let compose = |letter: &Letter| {
            mailer.compose(
                &ctx.config.mail,
                letter,
                &to,
                &d.message_id,
                now,
                &pdf,
                ics.as_deref(),
            )
        };
        let message = compose(&letter)?;
        ledger.mark(doc.id, &d.recipient, DeliveryState::Sending, None, None, now)?;
        let key = format!(
            "{}-{}-{}",
            doc.meeting,
            letter.file.trim_end_matches(".pdf"),
            d.recipient
        );
        let mut result = transport.send(&key, &message);
        let mut note = None;
        if let Err(e @ Error::Send { too_large: true, .. }) = &result {
            // The recipient's server takes no message this size: send the mail without the
            // PDF, saying whom to ask, rather than nothing. Same Message-ID: the first was
            // refused, so this is the only copy.
            tracing::warn!("{e}; sendes uden PDF");
            let small = compose(&Letter { size_refused: true, ..letter.clone() })?;
            result = transport.send(&key, &small);
            note = Some("sendt uden PDF: mailserveren afviste størrelsen (552)");
        }
        let now = ctx.clock.now().timestamp();
        match result {
            Ok(()) => {
                ledger.mark(
                    doc.id,
                    &d.recipient,
                    DeliveryState::Sent,
                    note,
                    None,
                    now,
                )?;
                stats.sent += 1;
            }
            Err(e) if e.is_transient() => {
                // The server is unwell: this and the rest wait for the back-off.
                tracing::warn!("{e}; prøves igen senere");
                let reason = e.to_string();
                for d in std::iter::once(d).chain(rest.by_ref()) {
                    let at = now
                        .checked_add(backoff(d.attempts + 1, &d.recipient))
                        .unwrap_or(now);
                    ledger.mark(
                        doc.id,
                        &d.recipient,
                        DeliveryState::Retry,
                        Some(&reason),
                        Some(at),
                        now,
                    )?;
                    stats.retry += 1;
                }
            }
            Err(e @ Error::Send { .. }) => {
                tracing::error!("{e}");
                ledger.mark(
                    doc.id,
                    &d.recipient,
                    DeliveryState::Failed,
                    Some(&e.to_string()),
                    None,
                    now,
                )?;
                stats.failed += 1;
            }
            Err(e) => {
                ledger.mark(
                    doc.id,
                    &d.recipient,
                    DeliveryState::Pending,
                    Some(&e.to_string()),
                    None,
                    now,
                )?;
                return Err(e);
            }
        }
    }
    Ok(stats)
}

/// Tells the secretariat once which recipients a document could not reach, when nothing of
/// it is still under way.
pub fn summarize(
    ctx: Ctx,
    roster: &[Member],
    ledger: &mut Ledger,
    transport: &mut dyn Transport,
    doc: &Document,
) -> Result<bool> {
    if doc.summary_at.is_some() {
        return Ok(false);
    }
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
        return Ok(false);
    }
    let mut to: Vec<Mailbox> = roster
        .iter()
        .filter(|m| m.role == Role::Sekretariat)
        .map(Member::mailbox)
        .collect();
    if to.is_empty() {
        to.extend(ctx.config.mail.reply_to.clone());
    }
    if to.is_empty() {
        return Ok(false);
    }
    let mut body = format!(
        "{} kunne ikke levere {} til {} af {} modtagere:\n\n",
        ctx.config.council.name,
        doc.file,
        failed.len(),
        deliveries.len()
    );
    for d in &failed {
        body.push_str(&format!(
            "- {} <{}>: {}\n",
            d.name,
            d.recipient,
            d.last_error.as_deref().unwrap_or("ukendt fejl")
        ));
    }
    body.push_str("\nRet adressen i members.csv og send igen med: kkr send MØDEDATO --to ADRESSE\nSe også: kkr status\n");
    let now = ctx.clock.now().timestamp();
    let file = doc.file.rsplit('/').next().unwrap_or(&doc.file);
    let id = mail::message_id(
        &ctx.config.council.slug,
        &doc.meeting.to_string(),
        &format!("fejl-{file}"),
        "sekretariat",
        &ctx.config.mail.from,
    );
    let mut builder = lettre::Message::builder()
        .from(ctx.config.mail.from.clone())
        .subject(format!("Fejl ved udsendelse: {file} til mødet {}", doc.meeting))
        .message_id(Some(id))
        .date(std::time::SystemTime::from(now));
    for t in to {
        builder = builder.to(t);
    }
    let message = builder.body(body).map_err(|e| Error::Compose(e.to_string()))?;
    transport.send(
        &format!("{}-fejlrapport-{}", doc.meeting, file.trim_end_matches(".pdf")),
        &message,
    )?;
    ledger.mark_summary(doc.id, now)?;
    Ok(true)
}

/// Sends through an SMTP server with lettre; TLS is required except to this machine.
pub struct Smtp {
    transport: lettre::SmtpTransport,
}

impl Smtp {
    /// Connects lazily to the configured server; the password comes from the environment.
    pub fn new(config: &SmtpConfig) -> Result<Self> {
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::transport::smtp::client::{Tls as LTls, TlsParameters};
        let tls = || {
            TlsParameters::new(config.host.clone()).map_err(|e| {
                Error::Usage(format!("TLS til {} kan ikke sættes op: {e}", config.host))
            })
        };
        let tls = match config.tls {
            Tls::Tls => LTls::Wrapper(tls()?),
            Tls::Starttls => LTls::Required(tls()?),
            Tls::None => LTls::None,
        };
        let mut builder = lettre::SmtpTransport::builder_dangerous(&config.host)
            .tls(tls)
            .port(config.port)
            .timeout(Some(std::time::Duration::from_secs(config.timeout_secs)));
        if let (Some(user), Some(var)) = (&config.user, &config.password_env) {
            let password = std::env::var(var).map_err(|_| Error::Invalid {
                report: format!("council.toml: fejl: miljøvariablen {var} med SMTP-adgangskoden er ikke sat, så intet kan sendes\n  hjælp: sæt {var} i kkr's miljø (fx i systemd-enheden) og start kkr igen\n"),
            })?;
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Self { transport: builder.build() })
    }
}

impl Transport for Smtp {
    fn send(&mut self, _key: &str, message: &lettre::Message) -> Result<()> {
        use lettre::Transport as _;
        let recipient = message
            .envelope()
            .to()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        self.transport.send(message).map(|_| ()).map_err(|e| Error::Send {
            recipient,
            // A refusal with a 5xx code is final; a 4xx, a timeout or a connection that
            // failed may go through later.
            transient: !e.is_permanent(),
            // 552 (RFC 5321: exceeded storage allocation) or the enhanced 5.3.4 (message
            // too big for system) after DATA.
            too_large: e.is_permanent()
                && (e.status().is_some_and(|c| c.to_string() == "552")
                    || e.to_string().contains("5.3.4")),
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_caps_at_an_hour() {
        let a = backoff(1, "a@example.org").as_secs();
        assert!((48..=72).contains(&a), "{a}");
        let b = backoff(3, "a@example.org").as_secs();
        assert!((192..=288).contains(&b), "{b}");
        assert!(backoff(30, "a@example.org").as_secs() <= 3600 + 720);
        assert_ne!(backoff(2, "a@example.org"), backoff(2, "b@example.org"));
    }

    #[test]
    fn adding_a_decision_is_not_an_agenda_change() {
        let mut item: Item = serde_json::from_str(r#"{"id":"a","meeting":"2027-01-28","title":"T","area":"Andet","kind":"orientering","order":null,"case":null,"recommendation":"","attachments":[],"closed":false,"public_title":"","late_reason":"","withdrawn":false,"decision":null,"body":"x"}"#).unwrap();
        let before = agenda_hash(&item);
        item.decision = Some(crate::item::Decision {
            text: "Godkendt".into(),
            public_text: String::new(),
        });
        assert_eq!(before, agenda_hash(&item));
        item.title = "U".into();
        assert_ne!(before, agenda_hash(&item));
    }
}
