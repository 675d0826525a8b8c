//! What a rehearsal (`--dry-run`, SPEC §6) leaves behind: `outbox/prøve/LÆS-MIG.txt`, saying
//! when it ran and what the real run would have done, and how `status` reads it back.

use crate::clock::Clock;
use crate::error::Result;
use crate::workspace::Workspace;

/// The rehearsal's summary file, under `outbox/prøve/`.
const SUMMARY: &str = "LÆS-MIG.txt";

/// The first line of the summary, before the moment.
const HEADING: &str = "Prøvekørsel ";

/// Writes `outbox/prøve/LÆS-MIG.txt` for the rehearsal of `command` that has just run and
/// returns the log line that says what it made. Only for a rehearsal's workspace view.
pub(crate) fn summarize(ws: &Workspace, clock: &Clock, command: &str) -> Result<String> {
    debug_assert!(ws.is_rehearsal());
    let dir = ws.rehearsal_dir();
    let mut made = Vec::new();
    crate::fs::walk_files(&dir, &["state"], &mut |rel, _| {
        if rel != SUMMARY && !rel.rsplit('/').next().is_some_and(|n| n.starts_with('.')) {
            made.push(rel);
        }
    });
    made.sort();
    let mails = made.iter().filter(|f| f.starts_with("mail/")).count();
    let pdfs = made.iter().filter(|f| f.ends_with(".pdf")).count();
    let public = made.iter().filter(|f| f.starts_with("public/")).count();
    let moment = crate::clock::danish_moment(clock.now().datetime());
    let mut text = format!(
        "{HEADING}{moment} (kkr {command} --dry-run)\n\n\
         Intet er sendt, flyttet, publiceret eller gemt. Mappen viser, hvad kkr ville have gjort:\n\
         \x20 mail/             én .eml-fil pr. mail, der ville være sendt ({mails})\n\
         \x20 ÅÅÅÅ-MM-DD/       PDF'erne, der ville være lavet ({pdfs})\n\
         \x20 public/           det, der ville være publiceret ({public})\n\
         \x20 inbox/behandlet/  kopier af de filer, der ville være taget ind\n\
         \x20 inbox/afvist/     kopier af de filer, der ville være afvist, med fejlrapport\n\n\
         Den næste rigtige kørsel gør det hele, som om prøven aldrig var sket.\n\
         En ny prøvekørsel erstatter denne mappe.\n\nFiler:\n"
    );
    for f in &made {
        text.push_str(&format!("  {f}\n"));
    }
    crate::fs::write_atomic(&dir.join(SUMMARY), text.as_bytes())?;
    Ok(format!(
        "prøvekørsel færdig: {mails} mail, {pdfs} PDF'er og {public} offentlige filer i outbox/prøve/; intet er sendt, flyttet eller publiceret"
    ))
}

/// When the last rehearsal ran (its Danish moment), if `outbox/prøve/` holds one.
pub(crate) fn last(ws: &Workspace) -> Option<String> {
    let text = std::fs::read_to_string(ws.rehearsal_dir().join(SUMMARY)).ok()?;
    let line = text.lines().next()?.strip_prefix(HEADING)?;
    Some(line.split(" (").next().unwrap_or(line).to_owned())
}
