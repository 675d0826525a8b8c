//! Sending a document: render it once, record it and its recipients, then mail each recipient
//! with the intent recorded before and the result after.

use jiff::Zoned;
use jiff::civil::Date;
use lettre::message::Mailbox;
use sha2::{Digest, Sha256};

use crate::clock;
use crate::config::{Config, Member, SmtpConfig, Tls};
use crate::edition::{self, DocInput, DocKind, Edition, Entry};
use crate::error::{Error, Result};
use crate::ics;
use crate::item::hex;
use crate::ledger::{DeliveryState, Document, Ledger, NewDocument, StoredItem};
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

/// The items of an agenda, withdrawn ones left out.
pub fn agenda_items(ledger: &Ledger, meeting: Date) -> Result<Vec<StoredItem>> {
    Ok(ledger.items(meeting)?.into_iter().filter(|s| !s.item.withdrawn).collect())
}

/// Builds and renders a meeting's agenda (draft or as sent) from the ledger.
pub fn render_agenda(
    config: &Config,
    ledger: &Ledger,
    renderer: &mut Renderer,
    meeting: Date,
    kind: DocKind,
    edition: Edition,
) -> Result<Vec<u8>> {
    let m = config.meeting(meeting).ok_or_else(|| {
        Error::Usage(format!("der er intet møde den {meeting} i council.toml"))
    })?;
    let items = agenda_items(ledger, meeting)?;
    let changed_at = ledger.changed_at(meeting)?.unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let input = DocInput {
        council: &config.council,
        meeting: m,
        entries: items.iter().map(|s| Entry { item: &s.item, status: "" }).collect(),
        attendance: None,
        kind,
        edition,
        note: String::new(),
        changed_at,
    };
    renderer.render(&edition::build(&input))
}

/// Records the agenda of `meeting` as sent (rendering it once) unless it already is; returns it.
#[allow(
    clippy::too_many_arguments,
    reason = "the council's parts, passed apart to keep borrows disjoint"
)]
pub fn record_agenda(
    ws: &Workspace,
    config: &Config,
    roster: &[Member],
    ledger: &mut Ledger,
    renderer: &mut Renderer,
    meeting: Date,
    late: bool,
    now: &Zoned,
) -> Result<Document> {
    if let Some(doc) = ledger.documents(meeting, "agenda")?.into_iter().next() {
        return Ok(doc);
    }
    let pdf = render_agenda(
        config,
        ledger,
        renderer,
        meeting,
        DocKind::Agenda,
        Edition::Member,
    )?;
    let file = ws.meeting_dir(meeting).join(DocKind::Agenda.file_name(Edition::Member));
    crate::fs::write_atomic(&file, &pdf)?;
    let items = agenda_items(ledger, meeting)?
        .into_iter()
        .map(|s| (s.item.id, s.version))
        .collect();
    let name = DocKind::Agenda.file_name(Edition::Member);
    let recipients: Vec<_> = roster
        .iter()
        .map(|m| {
            let email = m.email.to_string();
            let id = mail::message_id(
                &config.council.slug,
                &meeting.to_string(),
                &name,
                &email,
                &config.mail.from,
            );
            (email, m.name.clone(), id)
        })
        .collect();
    let doc = NewDocument {
        meeting,
        kind: "agenda".into(),
        seq: 1,
        file: ws.rel(&file),
        sha256: hex(&Sha256::digest(&pdf)),
        items,
        late,
    };
    ledger.add_document(&doc, &recipients, now.timestamp())
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

/// Mails every recipient of `doc` who has not got it yet.
pub fn deliver(
    ws: &Workspace,
    config: &Config,
    ledger: &mut Ledger,
    mailer: &Mailer,
    transport: &mut dyn Transport,
    doc: &Document,
    clock: &clock::Clock,
) -> Result<Sent> {
    let mut stats = Sent::default();
    let todo: Vec<_> = ledger
        .deliveries(doc.id)?
        .into_iter()
        .filter(|d| {
            matches!(
                d.state,
                DeliveryState::Pending | DeliveryState::Sending | DeliveryState::Retry
            )
        })
        .collect();
    if todo.is_empty() {
        return Ok(stats);
    }
    let pdf = crate::fs::read(&ws.root.join(&doc.file))?;
    if hex(&Sha256::digest(&pdf)) != doc.sha256 {
        return Err(Error::Usage(format!(
            "`{}` er ændret siden den blev sendt; kkr sender ikke en anden udgave under samme navn",
            doc.file
        )));
    }
    let m = config.meeting(doc.meeting).ok_or_else(|| {
        Error::Usage(format!("mødet {} er fjernet fra council.toml", doc.meeting))
    })?;
    let kind = DocKind::Agenda;
    let items = agenda_items(ledger, doc.meeting)?
        .iter()
        .enumerate()
        .map(|(i, s)| MailItem { number: i + 1, title: s.item.title.clone() })
        .collect();
    let letter = Letter {
        subject: edition::title(&config.council, m, kind),
        council: config.council.name.clone(),
        phrase: kind.phrase(),
        when: clock::danish_moment(m.date.to_datetime(m.starts)),
        place: m.place.clone(),
        note: String::new(),
        items,
        file: doc.file.rsplit('/').next().unwrap_or(&doc.file).to_owned(),
        reply_to: config
            .mail
            .reply_to
            .as_ref()
            .map(|r| r.email.to_string())
            .unwrap_or_default(),
    };
    let stamp = ledger.changed_at(doc.meeting)?.unwrap_or(doc.created_at);
    let ics = ics::calendar(&config.council, m, stamp);
    for d in todo {
        let now = clock.now().timestamp();
        let to = Mailbox::new(
            Some(d.name.clone()),
            d.recipient.parse().map_err(|_| {
                Error::Usage(format!("ugyldig adresse i loggen: {}", d.recipient))
            })?,
        );
        let message = mailer.compose(
            &config.mail,
            &letter,
            &to,
            &d.message_id,
            now,
            &pdf,
            Some(&ics),
        )?;
        ledger.mark(doc.id, &d.recipient, DeliveryState::Sending, None, now)?;
        let key = format!(
            "{}-{}-{}",
            doc.meeting,
            letter.file.trim_end_matches(".pdf"),
            d.recipient
        );
        match transport.send(&key, &message) {
            Ok(()) => {
                ledger.mark(
                    doc.id,
                    &d.recipient,
                    DeliveryState::Sent,
                    None,
                    clock.now().timestamp(),
                )?;
                stats.sent += 1;
            }
            Err(e) if e.is_transient() => {
                tracing::warn!("{e}; prøver igen senere");
                ledger.mark(
                    doc.id,
                    &d.recipient,
                    DeliveryState::Retry,
                    Some(&e.to_string()),
                    clock.now().timestamp(),
                )?;
                stats.retry += 1;
            }
            Err(e @ Error::Send { .. }) => {
                tracing::error!("{e}");
                ledger.mark(
                    doc.id,
                    &d.recipient,
                    DeliveryState::Failed,
                    Some(&e.to_string()),
                    clock.now().timestamp(),
                )?;
                stats.failed += 1;
            }
            Err(e) => {
                ledger.mark(
                    doc.id,
                    &d.recipient,
                    DeliveryState::Pending,
                    Some(&e.to_string()),
                    clock.now().timestamp(),
                )?;
                return Err(e);
            }
        }
    }
    Ok(stats)
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
        let builder = match config.tls {
            Tls::Tls => lettre::SmtpTransport::builder_dangerous(&config.host)
                .tls(LTls::Wrapper(tls()?)),
            Tls::Starttls => lettre::SmtpTransport::builder_dangerous(&config.host)
                .tls(LTls::Required(tls()?)),
            Tls::None => {
                lettre::SmtpTransport::builder_dangerous(&config.host).tls(LTls::None)
            }
        };
        let mut builder =
            builder.port(config.port).timeout(Some(std::time::Duration::from_secs(30)));
        if let (Some(user), Some(var)) = (&config.user, &config.password_env) {
            let password = std::env::var(var).map_err(|_| {
                Error::Usage(format!(
                    "miljøvariablen {var} med SMTP-adgangskoden er ikke sat"
                ))
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
            transient: e.is_transient() || e.is_timeout() || !e.is_permanent(),
            reason: e.to_string(),
        })
    }
}
