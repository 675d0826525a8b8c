//! The queue manager: records a document with one delivery per recipient, hands each message
//! to a transport with the intent recorded before and the result after, spaces out retries
//! with back-off, and resumes whatever a stop left unfinished.

use jiff::SignedDuration;
use jiff::civil::Date;
use lettre::message::Mailbox;
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::config::Config;
use crate::document::{self, Facts};
use crate::error::{Error, Result};
use crate::hash::sha256_hex;
use crate::ics;
use crate::kind::{DocKind, Edition};
use crate::ledger::{Delivery, DeliveryState, Document, Ledger, Mark, NewDocument};
use crate::mail::{Attempt, DryRun, Letter, Mailer, Parts, Transport};
use crate::render::Renderer;
use crate::roster::Member;
use crate::smtp::Smtp;
use crate::workspace::Workspace;

/// What a delivery run achieved.
#[derive(Debug, Default, Clone)]
pub(crate) struct Sent {
    /// Messages handed over now.
    pub(crate) sent: usize,
    /// Recipients refused for good.
    pub(crate) failed: usize,
    /// Recipients to retry later.
    pub(crate) retry: usize,
    /// The server refused the session (no recipient's fault), with its reply.
    pub(crate) session: Option<String>,
}

impl Sent {
    /// Adds another run's counts.
    fn add(&mut self, other: Self) {
        self.sent += other.sent;
        self.failed += other.failed;
        self.retry += other.retry;
        self.session = self.session.take().or(other.session);
    }
}

/// The parts of a council every send needs.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    /// The workspace.
    pub(crate) ws: &'a Workspace,
    /// Its configuration.
    pub(crate) config: &'a Config,
    /// The clock.
    pub(crate) clock: &'a Clock,
}

/// The Message-ID of a document (`kind`, its bytes' SHA-256 `sha256`) for a recipient in a
/// resend generation: a deliberate resend is a new message with a new id.
pub(crate) fn message_id(
    config: &Config,
    meeting: Date,
    kind: DocKind,
    sha256: &str,
    recipient: &str,
    generation: i64,
) -> String {
    let file = kind.file_name(Edition::Member);
    let file = if generation == 0 {
        file
    } else {
        format!("{}.r{generation}", file.trim_end_matches(".pdf"))
    };
    crate::mail::message_id(
        &config.council.slug,
        &meeting.to_string(),
        &file,
        sha256,
        recipient,
        &config.mail.from,
    )
}

/// Every roster row as a delivery of a document: address, name and Message-ID.
fn recipients(
    config: &Config,
    roster: &[Member],
    meeting: Date,
    kind: DocKind,
    sha256: &str,
) -> Vec<(String, String, String)> {
    use crate::kind::Audience;
    use crate::roster::Role;
    let approver = |m: &&Member| {
        matches!(m.role, Role::Formand | Role::Naestformand | Role::Sekretariat)
    };
    roster
        .iter()
        .filter(|m| kind.audience() != Audience::Approvers || approver(m))
        .map(|m| {
            let email = m.email.to_string();
            let id = message_id(config, meeting, kind, sha256, &email, 0);
            (email, m.name.clone(), id)
        })
        .collect()
}

/// Renders and records the next document of `kind`'s sort for every roster row, in one
/// transaction, and returns it: a supplement or correction is numbered on from those
/// recorded, and a one-off kind (the agenda, the minutes) already recorded is returned as it
/// is. The meeting's facts are read from the ledger once for both.
pub(crate) fn record(
    ctx: Ctx,
    roster: &[Member],
    ledger: &mut Ledger,
    renderer: &mut Renderer,
    meeting: Date,
    kind: DocKind,
    late: bool,
) -> Result<Document> {
    let facts = Facts::load(ledger, meeting)?;
    if kind.is_once()
        && let Some(doc) = facts.documents().iter().find(|d| d.kind == kind)
    {
        return Ok(doc.clone());
    }
    let m = ctx.config.meeting(meeting).ok_or_else(|| {
        Error::Usage(format!("der er intet møde den {meeting} i council.toml"))
    })?;
    let kind = facts.next(kind);
    let told = crate::told::Told::of(m);
    if kind.is_meeting_notice() {
        // A notice is a mail: it records what it tells and what members were told before.
        let before = crate::told::last(facts.documents()).map(Box::new);
        let reinstated = kind.is_meeting_notice()
            && !matches!(kind, DocKind::Cancellation(_))
            && crate::told::standing(m, facts.documents()).cancel_sent;
        let json = crate::told::Told { before, reinstated, ..told }.to_json();
        let doc = NewDocument {
            meeting,
            kind,
            file: String::new(),
            sha256: sha256_hex(json.as_bytes()),
            shown: Vec::new(),
            late: false,
            attendance: None,
            told: Some(json),
        };
        let recipients = recipients(ctx.config, roster, meeting, kind, &doc.sha256);
        return ledger.add_document(&doc, &recipients, ctx.clock.now().timestamp());
    }
    let (data, shown) =
        document::data(&ctx.config.council, m, &facts, kind, Edition::Member)?;
    if kind.is_agenda_family() && shown.is_empty() {
        // Never an empty agenda (SPEC §6): the last guard, whoever asked for it.
        return Err(Error::Invalid {
            report: format!(
                "{} til mødet {meeting} sendes ikke: den har ingen punkter\n",
                kind.label()
            ),
        });
    }
    let pdf = renderer.render(&data)?;
    let file = ctx.ws.meeting_dir(meeting).join(kind.file_name(Edition::Member));
    keep_other(ctx.ws, &file, &pdf)?;
    crate::fs::write_atomic(&file, &pdf)?;
    let doc = NewDocument {
        meeting,
        kind,
        file: ctx.ws.rel(&file),
        sha256: sha256_hex(&pdf),
        shown,
        late,
        attendance: (kind.is_minutes_family() || kind.is_minutes_draft())
            .then(|| facts.attendance_hash()),
        told: kind.is_agenda_family().then(|| told.to_json()),
    };
    let recipients = recipients(ctx.config, roster, meeting, kind, &doc.sha256);
    ledger.add_document(&doc, &recipients, ctx.clock.now().timestamp())
}

/// A file already at a document's name with other bytes may have been sent (a crash between
/// writing and recording, a ledger restored from an older backup): it is moved aside as
/// `NAME-tidligere.pdf`, never overwritten.
fn keep_other(ws: &Workspace, file: &std::path::Path, pdf: &[u8]) -> Result<()> {
    let Ok(old) = std::fs::read(file) else { return Ok(()) };
    if old == pdf {
        return Ok(());
    }
    let name =
        file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = name.trim_end_matches(".pdf");
    let dir = file.parent().unwrap_or(std::path::Path::new("."));
    let aside = crate::fs::free_name(dir, &format!("{stem}-tidligere.pdf"));
    tracing::warn!(
        "{} fandtes allerede med et andet indhold; den er gemt som {}",
        ws.rel(file),
        ws.rel(&aside)
    );
    crate::fs::rename(file, &aside)
}

/// The transport the configuration asks for: SMTP, or `.eml` files in `outbox/mail/`
/// without `[mail.smtp]` and always in a rehearsal (`outbox/prøve/mail/`).
pub(crate) fn transport(ws: &Workspace, config: &Config) -> Result<Box<dyn Transport>> {
    match &config.mail.smtp {
        Some(smtp) if !ws.is_rehearsal() => {
            Ok(Box::new(Smtp::new(smtp, &ws.root, &config.mail.from)?))
        }
        _ => Ok(Box::new(DryRun::new(ws.mail_dir()))),
    }
}

/// How long to wait before attempt `n + 1`: one minute, doubling, at most an hour, with
/// ±20 % jitter (derived from the recipient, so retries spread out).
pub(crate) fn backoff(attempts: i64, recipient: &str) -> SignedDuration {
    let base = 60i64 << attempts.clamp(1, 7).saturating_sub(1);
    let base = base.min(3600);
    let spread = Sha256::digest(format!("{recipient}/{attempts}"))[0] as i64; // 0..=255
    SignedDuration::from_secs(base + base * (spread - 128) / 640)
}

/// One document's mail, the same for every recipient but the address.
struct Outgoing<'a> {
    doc: &'a Document,
    letter: Letter,
    /// The PDF and calendar, encoded once for all recipients.
    parts: Parts,
}

impl Outgoing<'_> {
    /// The message for one delivery; `small` leaves the PDF out (the server refused its size).
    fn compose(
        &self,
        ctx: Ctx,
        mailer: &Mailer,
        d: &Delivery,
        small: bool,
    ) -> Result<lettre::Message> {
        let address = d.recipient.parse().map_err(|_| {
            Error::Usage(format!("ugyldig adresse i loggen: {}", d.recipient))
        })?;
        let to = Mailbox::new(Some(d.name.clone()), address);
        let letter = Letter { size_refused: small, ..self.letter.clone() };
        let now = ctx.clock.now().timestamp();
        mailer.compose(&ctx.config.mail, &letter, &to, &d.message_id, now, &self.parts)
    }

    /// The transport's name for one delivery (the `.eml` file name in a dry run).
    fn key(&self, d: &Delivery) -> String {
        let name = self.doc.kind.file_name(crate::kind::Edition::Member);
        let stem = name.trim_end_matches(".pdf");
        format!("{}-{stem}-{}", self.doc.meeting, d.recipient)
    }
}

/// The mail of a recorded document, with its PDF read back and checked against the ledger.
fn outgoing<'a>(ctx: Ctx, ledger: &Ledger, doc: &'a Document) -> Result<Outgoing<'a>> {
    let m = ctx.config.meeting(doc.meeting).ok_or_else(|| {
        Error::Usage(format!("mødet {} er fjernet fra council.toml", doc.meeting))
    })?;
    let (pdf, letter) = if doc.kind.has_pdf() {
        let pdf = crate::fs::read(&ctx.ws.root.join(&doc.file))?;
        if sha256_hex(&pdf) != doc.sha256 {
            return Err(Error::Usage(format!(
                "`{}` er ændret siden den blev sendt; kkr sender ikke en anden udgave under samme navn",
                doc.file
            )));
        }
        (pdf, document::letter(ctx.config, ledger, doc)?)
    } else {
        (Vec::new(), crate::told::letter(ctx.config, m, doc))
    };
    let ics = if doc.kind.has_calendar() {
        let docs = ledger.meeting_documents(doc.meeting)?;
        // Calendars are shared and synced beyond the mailbox: the items as the public sees
        // them (a closed item by its public title), numbered as on the agenda.
        let plan = document::plan(ledger, doc.meeting)?;
        let titles: Vec<String> = plan
            .public_items(false)
            .into_iter()
            .map(|p| format!("{}. {}", p.number, p.title))
            .collect();
        let invitation = ics::Invitation {
            stamp: doc.created_at,
            sequence: crate::told::sequence(&docs, doc),
            cancel: matches!(doc.kind, crate::kind::DocKind::Cancellation(_)),
            organizer: &ctx.config.mail.from,
            description: titles.join("\n"),
        };
        Some(ics::calendar(&ctx.config.council, m, &invitation))
    } else {
        None
    };
    let parts = Parts::new(&letter, &pdf, ics.as_deref());
    Ok(Outgoing { doc, letter, parts })
}

/// A delivery's change of state for the ledger.
fn mark(d: &Delivery, state: DeliveryState, error: Option<&str>) -> Mark {
    Mark {
        recipient: d.recipient.clone(),
        state,
        error: error.map(str::to_owned),
        next_at: None,
    }
}

/// Hands one delivery to the transport. Its intent is committed before, in one transaction
/// with `results` (the results of the messages before it, so each is durable before the
/// next is handed over: one fsync a message, not two). A message refused as too large goes
/// again without the PDF, saying whom to ask (same Message-ID: the first was refused, so
/// this is the only copy). Returns the verdict and a note for the ledger.
fn attempt(
    ctx: Ctx,
    ledger: &mut Ledger,
    results: &mut Vec<Mark>,
    mailer: &Mailer,
    transport: &mut dyn Transport,
    out: &Outgoing,
    d: &Delivery,
) -> Result<(Attempt, Option<&'static str>)> {
    let message = out.compose(ctx, mailer, d, false)?;
    results.push(mark(d, DeliveryState::Sending, None));
    ledger.mark_all(out.doc.id, results, ctx.clock.now().timestamp())?;
    results.clear();
    let key = out.key(d);
    match transport.send(&key, &message)? {
        Attempt::TooLarge(reason) => {
            tracing::warn!("{}; sendes uden PDF", refusal(d, &reason));
            let small = out.compose(ctx, mailer, d, true)?;
            let note = "sendt uden PDF: for stor til mailserveren (552 eller dens SIZE)";
            Ok((transport.send(&key, &small)?, Some(note)))
        }
        verdict => Ok((verdict, None)),
    }
}

/// A server's refusal of one recipient, as the log and the ledger say it.
fn refusal(d: &Delivery, reason: &str) -> String {
    Error::Send {
        recipient: d.recipient.clone(),
        reason: reason.to_owned(),
        transient: false,
    }
    .to_string()
}

/// Mails every recipient of `doc` who is owed it now; retries wait for their moment.
pub(crate) fn deliver(
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
    let out = outgoing(ctx, ledger, doc)?;
    // Results not yet committed: they go with the next message's intent, or at the end.
    let mut results = Vec::new();
    let mut rest = todo.iter();
    while let Some(d) = rest.next() {
        if crate::shutdown::requested() {
            break;
        }
        let result = attempt(ctx, ledger, &mut results, mailer, transport, &out, d);
        match result {
            Ok((Attempt::Sent, note)) => {
                results.push(mark(d, DeliveryState::Sent, note));
                stats.sent += 1;
            }
            Ok((attempt @ (Attempt::Defer(_) | Attempt::Session(_)), _)) => {
                // The server is unwell, or refused the session: this and the rest wait for
                // the back-off; no recipient is failed for it.
                let reason = match attempt {
                    Attempt::Session(reason) => {
                        stats.session = Some(reason.clone());
                        reason
                    }
                    Attempt::Defer(reason) => refusal(d, &reason),
                    _ => unreachable!("matched above"),
                };
                tracing::warn!("{reason}; prøves igen senere");
                let now = ctx.clock.now().timestamp();
                for d in std::iter::once(d).chain(rest.by_ref()) {
                    let at = now
                        .checked_add(backoff(d.attempts + 1, &d.recipient))
                        .unwrap_or(now);
                    let retry = Mark {
                        next_at: Some(at),
                        ..mark(d, DeliveryState::Retry, Some(&reason))
                    };
                    results.push(retry);
                    stats.retry += 1;
                }
            }
            Ok((Attempt::Bounce(reason) | Attempt::TooLarge(reason), _)) => {
                let reason = refusal(d, &reason);
                tracing::error!("{reason}");
                results.push(mark(d, DeliveryState::Failed, Some(&reason)));
                stats.failed += 1;
            }
            Err(e @ (Error::Compose(_) | Error::Usage(_))) => {
                // This recipient's message cannot be made: it fails alone, the rest go on.
                let reason = refusal(d, &e.to_string());
                tracing::error!("{reason}");
                results.push(mark(d, DeliveryState::Failed, Some(&reason)));
                stats.failed += 1;
            }
            Err(e) => {
                results.push(mark(d, DeliveryState::Pending, Some(&e.to_string())));
                ledger.mark_all(doc.id, &results, ctx.clock.now().timestamp())?;
                return Err(e);
            }
        }
    }
    ledger.mark_all(doc.id, &results, ctx.clock.now().timestamp())?;
    Ok(stats)
}

/// Delivers every recorded document that still has recipients owed, while its kind may still
/// be sent (the agenda family until the meeting starts). Roster rows added after a document
/// was made get it too.
pub(crate) fn resume(
    ctx: Ctx,
    roster: &[Member],
    ledger: &mut Ledger,
    mailer: &Mailer,
    transport: &mut dyn Transport,
) -> Result<Sent> {
    let to_files = ctx.ws.is_rehearsal() || ctx.config.mail.smtp.is_none();
    let mail_dir = ctx.ws.rel(&ctx.ws.mail_dir());
    let mut total = Sent::default();
    let now = ctx.clock.now();
    for m in &ctx.config.meetings {
        for doc in ledger.meeting_documents(m.date)? {
            if crate::shutdown::requested() {
                return Ok(total);
            }
            if doc.kind.sendable_until(m).is_some_and(|until| now >= until) {
                continue;
            }
            // A cancelled meeting's members get its cancellation, and nothing else of it.
            if m.cancelled && !matches!(doc.kind, DocKind::Cancellation(_)) {
                continue;
            }
            let recipients =
                recipients(ctx.config, roster, m.date, doc.kind, &doc.sha256);
            let added = ledger.add_recipients(doc.id, &recipients, now.timestamp())?;
            if added > 0 {
                tracing::info!("{}: {added} nye modtagere fra members.csv", doc.name());
            }
            let s = deliver(ctx, ledger, mailer, transport, &doc)?;
            if s.sent + s.failed + s.retry > 0 {
                let how = if ctx.ws.is_rehearsal() {
                    format!("skrevet til {mail_dir}/ (prøvekørsel: intet er sendt)")
                } else if to_files {
                    format!(
                        "skrevet til {mail_dir}/ (ingen [mail.smtp] i council.toml: de når ikke modtagerne)"
                    )
                } else {
                    "sendt".to_owned()
                };
                tracing::info!(
                    "{}: {} mail {how}, {} fejlet, {} prøves igen senere",
                    doc.name(),
                    s.sent,
                    s.failed,
                    s.retry
                );
            }
            total.add(s);
        }
    }
    Ok(total)
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
}
