//! What kkr tells the secretariat (SPEC §7): composed from the workspace's mail templates by
//! the same mailer as every other mail, and recorded in the ledger so each is told once.

use lettre::message::Mailbox;
use serde::Serialize;

use crate::deliver::Ctx;
use crate::error::{Error, Result};
use crate::ledger::{DeliveryState, Document, Ledger};
use crate::mail::{Attempt, Mailer, Notice, Transport};
use crate::roster::{Member, Role};

/// The secretariat's addresses: the `sekretariat` rows, else the configured reply address.
fn secretariat(ctx: Ctx, roster: &[Member]) -> Vec<Mailbox> {
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

/// Tells the secretariat, once per document, which recipients a document still being
/// delivered (see [`crate::deliver::resume`]) could not reach, when nothing of it is under
/// way any more.
pub(crate) fn failures(
    ctx: Ctx,
    roster: &[Member],
    ledger: &mut Ledger,
    mailer: &Mailer,
    transport: &mut dyn Transport,
) -> Result<()> {
    let now = ctx.clock.now();
    for m in &ctx.config.meetings {
        for doc in ledger.meeting_documents(m.date)? {
            if crate::shutdown::requested() {
                return Ok(());
            }
            if doc.kind.sendable_until(m).is_some_and(|until| now >= until) {
                continue;
            }
            match report_failures(ctx, roster, ledger, mailer, transport, &doc) {
                Ok(true) => tracing::info!(
                    "sekretariatet har fået besked om fejlene ved {}",
                    doc.file
                ),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(
                        "fejlrapporten til sekretariatet kunne ikke sendes: {e}"
                    )
                }
            }
        }
    }
    Ok(())
}

/// Tells the secretariat once which recipients a document could not reach, when nothing of
/// it is still under way. Returns whether a report was sent.
fn report_failures(
    ctx: Ctx,
    roster: &[Member],
    ledger: &mut Ledger,
    mailer: &Mailer,
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
    let to = secretariat(ctx, roster);
    if open || failed.is_empty() || to.is_empty() {
        return Ok(false);
    }
    let data = Failures {
        council: &ctx.config.council.name,
        file: &doc.file,
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
    let now = ctx.clock.now().timestamp();
    let file = doc.file.rsplit('/').next().unwrap_or(&doc.file);
    let notice = Notice {
        to,
        subject: format!("Fejl ved udsendelse: {file} til mødet {}", doc.meeting),
        message_id: crate::mail::message_id(
            &ctx.config.council.slug,
            &doc.meeting.to_string(),
            &format!("fejl-{file}"),
            &doc.sha256,
            "sekretariat",
            &ctx.config.mail.from,
        ),
        date: now,
        template: "failures",
        data: &data,
    };
    let message = mailer.notice(&ctx.config.mail.from, &notice)?;
    let key = format!("{}-fejlrapport-{}", doc.meeting, file.trim_end_matches(".pdf"));
    let (reason, transient) = match transport.send(&key, &message)? {
        Attempt::Sent => {
            ledger.mark_summary(doc.id, now)?;
            return Ok(true);
        }
        Attempt::Defer(reason) => (reason, true),
        Attempt::Bounce(reason) | Attempt::TooLarge(reason) => (reason, false),
    };
    let to: Vec<String> = notice.to.iter().map(|m| m.email.to_string()).collect();
    Err(Error::Send { recipient: to.join(", "), reason, transient })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failure_report_reads_as_before_the_template() {
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
        let notice = Notice {
            to: vec!["S <s@example.org>".parse().unwrap()],
            subject: "Fejl".into(),
            message_id: "<x@example.org>".into(),
            date: jiff::Timestamp::UNIX_EPOCH,
            template: "failures",
            data: &data,
        };
        let from: Mailbox = "KKR <kkr@example.org>".parse().unwrap();
        let message = mailer.notice(&from, &notice).unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        let parsed = mail_parser::MessageParser::default().parse(raw.as_bytes()).unwrap();
        assert_eq!(
            parsed.body_text(0).unwrap().replace("\r\n", "\n"),
            "KKR Test kunne ikke levere outbox/2027-01-28/dagsorden.pdf til 1 af 3 modtagere:\n\n- A B <a@example.org>: 550 nej\n\nRet adressen i members.csv og send igen med: kkr send MØDEDATO --to ADRESSE\nSe også: kkr status\n"
        );
    }
}
