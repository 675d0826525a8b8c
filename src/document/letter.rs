//! What a document's mail says, the same for every recipient: the subject, the note, and
//! the items as the document showed them — with area, kind and recommendation for an agenda,
//! the late reason for a supplement, what changed for a correction, the decision for the
//! minutes — so the mail can be read on a phone without opening the PDF (SPEC §3).

use super::{agenda_hash, minutes_hash};
use crate::config::Config;
use crate::edition;
use crate::error::{Error, Result};
use crate::item::Item;
use crate::kind::DocKind;
use crate::ledger::{Document, Ledger};
use crate::mail::{Letter, MailItem};

/// What the mail of a recorded document says, the same for every recipient.
pub fn letter(config: &Config, ledger: &Ledger, doc: &Document) -> Result<Letter> {
    let m = config.meeting(doc.meeting).ok_or_else(|| {
        Error::Usage(format!("mødet {} er fjernet fra council.toml", doc.meeting))
    })?;
    let note = match doc.kind {
        DocKind::Supplement(_) => "Der er kommet nye punkter til dagsordenen.".into(),
        DocKind::Correction(_) => {
            "Dagsordenen er rettet; den vedhæftede udgave erstatter den tidligere.".into()
        }
        DocKind::MinutesDraft(_) => {
            let corrected = doc.shown.iter().any(|s| s.status == "rettet");
            format!(
                "{}Udkast til godkendelse: referatet sendes først til alle, når formanden eller næstformanden har godkendt det. Giv sekretariatet besked (svar på denne mail), når det kan godkendes, eller hvad der skal rettes. Ændres en beslutning inden da, kommer der et nyt udkast, og det er det nyeste, der godkendes.",
                if corrected { "Det er et udkast til et rettet referat. " } else { "" }
            )
        }
        DocKind::MinutesCorrection(_) => {
            let fixed: Vec<String> = doc
                .shown
                .iter()
                .filter(|s| s.status == "rettet")
                .map(|s| s.number.to_string())
                .collect();
            let which = match fixed.as_slice() {
                [] => String::new(),
                [one] => format!(" Rettet: punkt {one}."),
                many => format!(" Rettet: punkt {}.", many.join(", ")),
            };
            format!(
                "Referatet er rettet; den vedhæftede udgave erstatter den tidligere.{which}"
            )
        }
        _ => String::new(),
    };
    let title = edition::title(&config.council, m, doc.kind);
    let minutes = doc.kind.is_minutes_family() || doc.kind.is_minutes_draft();
    let attendance = if minutes { ledger.attendance(doc.meeting)? } else { None };
    Ok(Letter {
        subject: match doc.kind {
            DocKind::MinutesDraft(_) => format!("Til godkendelse – {title}"),
            _ => title,
        },
        council: config.council.name.clone(),
        phrase: doc.kind.phrase(),
        when: crate::clock::danish_moment(m.held_on().to_datetime(m.starts)),
        place: m.place.clone(),
        note,
        items: items(ledger, doc)?,
        day: crate::clock::danish_long_date(m.held_on()),
        time_range: format!(
            "kl. {}–{}",
            crate::clock::danish_time(m.starts),
            crate::clock::danish_time(m.ends)
        ),
        absent: attendance.as_ref().map(|a| a.absent.clone()).unwrap_or_default(),
        guests: attendance.map(|a| a.guests).unwrap_or_default(),
        file: format!(
            "{} {} {}.pdf",
            config.council.name,
            doc.kind.attachment_word(),
            m.held_on()
        ),
        calendar_file: format!("{} møde {}.ics", config.council.name, m.held_on()),
        reply_to: crate::mail::reply_address(&config.mail),
        size_refused: false,
    })
}

/// Each item as the document showed it: the version whose hash it recorded (so a retry
/// says what the PDF says), else the current one.
fn items(ledger: &Ledger, doc: &Document) -> Result<Vec<MailItem>> {
    let minutes = doc.kind.is_minutes_family() || doc.kind.is_minutes_draft();
    let hash = |i: &Item| if minutes { minutes_hash(i) } else { agenda_hash(i) };
    // Marks only where they say something: a correction's changed and withdrawn items,
    // corrected minutes' corrected ones.
    let marked = matches!(
        doc.kind,
        DocKind::Correction(_) | DocKind::MinutesCorrection(_) | DocKind::MinutesDraft(_)
    );
    let mut out = Vec::new();
    for s in &doc.shown {
        let versions = ledger.item_versions(&s.id)?;
        let item = versions
            .iter()
            .find(|v| hash(&v.item) == s.hash)
            .or(versions.last())
            .map(|v| v.item.clone());
        let status = if marked { s.status.as_str() } else { "" };
        out.push(mail_item(s.number, &s.title, status, item.as_ref(), minutes));
    }
    Ok(out)
}

/// One item of a mail. A closed item shows its public title and that it is closed; its
/// title, recommendation and decision stay in the PDF (a mail body is forwarded and
/// previewed further than an attachment), apart from the public decision.
fn mail_item(
    number: usize,
    title: &str,
    status: &str,
    item: Option<&Item>,
    minutes: bool,
) -> MailItem {
    let closed = item.is_some_and(|i| i.closed);
    let decision = item
        .and_then(|i| i.decision.as_ref())
        .filter(|_| minutes)
        .map(|d| if closed { d.public_text.clone() } else { d.text.clone() });
    let title = match item {
        Some(i) if closed && !i.public_title.trim().is_empty() => i.public_title.trim(),
        _ => title,
    };
    MailItem {
        number,
        title: title.to_owned(),
        area: item.map(|i| i.area.clone()).unwrap_or_default(),
        kind: item.map(|i| i.kind.display().to_owned()).unwrap_or_default(),
        closed,
        status: match status {
            "ny" => "Nyt punkt",
            "ændret" => "Ændret",
            "trukket" => "Trukket",
            "rettet" => "Rettet",
            _ => "",
        }
        .to_owned(),
        recommendation: item
            .filter(|_| !closed && !minutes)
            .map(|i| i.recommendation.trim().to_owned())
            .unwrap_or_default(),
        late_reason: item.map(|i| i.late_reason.trim().to_owned()).unwrap_or_default(),
        decision: decision.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()),
    }
}
