//! `kkr preview MEETING [--minutes]`: what the next send of a meeting would be, written to
//! `outbox/visning/<meeting>/` — the PDF, one `.eml` as the first recipient would get it and
//! the list of recipients — and nothing else. It is a rehearsal of `kkr send` in a temporary
//! folder, so the PDF, its numbering and the mail are the send's own, byte for byte.

use std::collections::HashSet;

use crate::args::PreviewCommand;
use crate::daemon::{Council, Force};
use crate::error::{Error, Result};

use super::Env;

/// `kkr preview MEETING [--minutes]`.
pub(crate) fn preview(env: &Env, cmd: &PreviewCommand) -> Result<u8> {
    let meeting = super::parse_meeting(&cmd.meeting)?;
    let ws = env.ws();
    let config = ws.load_config()?;
    let m = super::meeting(&config, meeting)?.clone();
    let tmp = tempfile::tempdir()
        .map_err(|source| Error::Write { path: std::env::temp_dir(), source })?;
    // The rehearsal's own log would only confuse: errors are still shown.
    let quiet = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::ERROR)
        .with_writer(std::io::stderr)
        .without_time()
        .finish();
    let (council, made) = tracing::subscriber::with_default(quiet, || {
        rehearse(env, &ws.rehearsal_in(tmp.path()), meeting, cmd.minutes)
    })?;
    let now = council.clock.now();
    if made.is_empty() {
        let why = if cmd.minutes {
            "referatet er sendt, eller det venter på noget (se kkr status)"
        } else if now >= m.starts_at() {
            "mødet er begyndt, så ingen dagsorden sendes"
        } else {
            "dagsordenen er sendt, og intet er ændret siden"
        };
        crate::outln!("Intet at vise for mødet {meeting}: {why}.");
        return Ok(0);
    }
    let roster =
        council.roster.as_ref().map_err(|r| Error::Invalid { report: r.clone() })?;
    let out = ws.outbox().join("visning").join(meeting.to_string());
    if out.exists() {
        std::fs::remove_dir_all(&out)
            .map_err(|source| Error::Write { path: out.clone(), source })?;
    }
    let first = roster.first().map(|r| r.email.to_string()).unwrap_or_default();
    let mut shown = Vec::new();
    for doc in &made {
        let name = doc.kind.file_name(crate::kind::Edition::Member);
        if doc.kind.has_pdf() {
            let pdf = crate::fs::read(&council.ws.root.join(&doc.file))?;
            crate::fs::write_atomic(&out.join(&name), &pdf)?;
        }
        let stem = name.trim_end_matches(".pdf");
        let eml = council.ws.mail_dir().join(format!("{meeting}-{stem}-{first}.eml"));
        if let Ok(bytes) = std::fs::read(&eml) {
            crate::fs::write_atomic(&out.join(format!("{stem}-{first}.eml")), &bytes)?;
        }
        shown.push(name);
    }
    let mut list =
        format!("Modtagere ({}), i rækkefølgen i members.csv:\n", roster.len());
    for r in roster {
        list.push_str(&format!("{} <{}>\n", r.name, r.email));
    }
    crate::fs::write_atomic(&out.join("modtagere.txt"), list.as_bytes())?;
    crate::outln!(
        "{}: {} til {} modtagere, som det ville blive sendt nu ({} og én mail som til {first}).",
        ws.rel(&out),
        shown.join(", "),
        roster.len(),
        if shown.len() == 1 { "PDF'en" } else { "PDF'erne" }
    );
    Ok(0)
}

/// Runs `kkr send MEETING` as a rehearsal in `view`; returns the council and the documents of
/// the meeting that it made (what would be sent next).
fn rehearse(
    env: &Env,
    view: &crate::workspace::Workspace,
    meeting: jiff::civil::Date,
    minutes: bool,
) -> Result<(Council, Vec<crate::ledger::Document>)> {
    let mut council = Council::open(view.clone(), env.clock.clone(), true)?;
    council.settle();
    let taken = council.take_in(&HashSet::new())?;
    let before: HashSet<i64> =
        council.ledger.meeting_documents(meeting)?.iter().map(|d| d.id).collect();
    let plan = crate::document::plan(&council.ledger, meeting)?;
    let now = council.clock.now();
    let m = super::meeting(&council.config, meeting)?.clone();
    if minutes
        && !plan.minutes_sent
        && (now < m.starts_at() || !plan.undecided().is_empty())
    {
        return Err(Error::Usage(format!(
            "referatet til mødet {meeting} kan ikke sendes endnu: mødet skal være begyndt, og alle punkter skal have en beslutning\n  hjælp: se kkr status {meeting}"
        )));
    }
    if !minutes && plan.active() == 0 && !plan.sent {
        return Err(Error::Invalid {
            report: format!(
                "mødet {meeting} har ingen punkter; en tom dagsorden sendes aldrig\n  hjælp: læg punkterne i inbox/\n"
            ),
        });
    }
    council.roster.clone().map_err(|report| Error::Invalid { report })?;
    let force = (now < m.starts_at() || minutes).then_some(Force { meeting, minutes });
    council.send_due(taken, force)?;
    let made = council
        .ledger
        .meeting_documents(meeting)?
        .into_iter()
        .filter(|d| !before.contains(&d.id))
        .filter(|d| (d.kind.is_minutes_family() || d.kind.is_minutes_draft()) == minutes)
        .collect();
    Ok((council, made))
}
