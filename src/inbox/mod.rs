//! The inbox: finding complete files, claiming them, and taking them in or rejecting them.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;

use crate::clock;
use crate::config::Config;
use crate::error::Result;
use crate::hash::sha256_hex;
use crate::item::{self, Context, Item, MAX_ITEM_BYTES, MAX_ITEMS_PER_MEETING, Phase};
use crate::ledger::Ledger;
use crate::report::{FileReport, Problem};
use crate::workspace::Workspace;

mod release;
mod trial;
use release::releasable;
pub(crate) use trial::Trial;
pub(crate) use trial::try_drafts;

/// How long a file's size and modification time must stay unchanged before it is read.
pub(crate) const QUIET: Duration = Duration::from_secs(2);

/// A file found in the inbox.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Candidate {
    /// Path relative to `inbox/`, with `/` separators.
    pub(crate) rel: String,
    /// Full path.
    pub(crate) path: PathBuf,
}

/// Whether a file name is an input: `*.md` or `*.toml`, not a temporary name.
pub(crate) fn is_input_name(name: &str) -> bool {
    !crate::fs::is_temporary(name) && (name.ends_with(".md") || name.ends_with(".toml"))
}

/// Lists the inbox's input files in path order, skipping `behandlet/`, `afvist/` and `.work/`.
pub(crate) fn scan(ws: &Workspace) -> Vec<Candidate> {
    let mut out = Vec::new();
    walk(&ws.inbox(), &mut out);
    out.sort();
    out
}

/// The files an earlier run claimed (in `inbox/.work/`) and did not finish: the next run
/// takes them in first; `check` looks at them too.
pub(crate) fn claimed(ws: &Workspace) -> Vec<Candidate> {
    let mut out = Vec::new();
    walk(&ws.work(), &mut out);
    out.sort();
    out
}

/// The input files under `dir` (the inbox, or `.work/`), outside `behandlet/` and `afvist/`.
fn walk(dir: &Path, out: &mut Vec<Candidate>) {
    crate::fs::walk_files(dir, &["behandlet", "afvist"], &mut |rel, entry| {
        let name = rel.rsplit('/').next().unwrap_or(&rel);
        if is_input_name(name) {
            out.push(Candidate { path: entry.path(), rel });
        }
    });
}

/// Whether a file is complete: unchanged for [`QUIET`] of real time.
pub(crate) fn is_complete(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else { return false };
    let Ok(modified) = meta.modified() else { return true };
    clock::real_system_time().duration_since(modified).is_ok_and(|age| age >= QUIET)
}

/// How long `run --once` and `send` wait for files still inside their quiet period.
pub(crate) const SETTLE: Duration = Duration::from_secs(10);

/// Waits, at most `limit` of real time, until every file in the inbox is complete, so a file
/// saved just before `kkr run --once` or `kkr send` is taken in (SPEC §6). Returns the files
/// still changing after that (relative to `inbox/`).
pub(crate) fn settle(ws: &Workspace, limit: Duration) -> Vec<String> {
    let start = std::time::Instant::now();
    loop {
        let busy: Vec<String> = scan(ws)
            .into_iter()
            .filter(|c| !is_complete(&c.path))
            .map(|c| c.rel)
            .collect();
        if busy.is_empty() || start.elapsed() >= limit || crate::shutdown::requested() {
            return busy;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The checker's view of the ledger and the clock.
pub(crate) struct LedgerContext<'a> {
    /// Configuration.
    pub(crate) config: &'a Config,
    /// The ledger, if there is one yet.
    pub(crate) ledger: Option<&'a Ledger>,
    /// Now.
    pub(crate) now: &'a jiff::Zoned,
}

impl Context for LedgerContext<'_> {
    fn config(&self) -> &Config {
        self.config
    }

    fn previous(&self, id: &str) -> Option<Item> {
        self.ledger.and_then(|l| l.item(id).ok().flatten()).map(|s| s.item)
    }

    fn phase(&self, meeting: Date) -> Phase {
        meeting_phase(self.config, self.ledger, meeting, self.now)
    }
}

/// Where a meeting stands at `now`.
pub(crate) fn meeting_phase(
    config: &Config,
    ledger: Option<&Ledger>,
    meeting: Date,
    now: &jiff::Zoned,
) -> Phase {
    let Some(m) = config.meeting(meeting) else { return Phase::Draft };
    if *now >= m.starts_at() {
        Phase::Started
    } else if ledger.is_some_and(|l| {
        l.meeting_documents(meeting)
            .is_ok_and(|d| d.iter().any(|d| d.kind == crate::kind::DocKind::Agenda))
    }) {
        Phase::Sent
    } else {
        Phase::Draft
    }
}

/// The verdict on one file.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// An agenda item, checked.
    Item(Box<item::CheckedItem>),
    /// An attendance file.
    Attendance(item::Attendance),
    /// An approval file.
    Approval(crate::approval::Approval),
    /// Rejected, with every problem.
    Rejected(Vec<Problem>),
}

/// Reads and checks one file. `dir` is the folder it was dropped in.
pub(crate) fn judge(
    ws: &Workspace,
    rel: &str,
    bytes: Option<&[u8]>,
    ctx: &dyn Context,
    names: Option<&[String]>,
) -> Verdict {
    let Some(bytes) = bytes else {
        return Verdict::Rejected(vec![
            Problem::file(format!("filen er større end {} MiB", MAX_ITEM_BYTES >> 20))
                .hint("del sagsfremstillingen op, og læg store tabeller i et bilag"),
        ]);
    };
    let dir = ws
        .inbox()
        .join(rel)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| ws.inbox());
    if rel.ends_with(".toml") {
        let all = Vec::new();
        let names = names.unwrap_or(&all);
        if crate::approval::is_approval(bytes) {
            return match crate::approval::check_approval(bytes, ctx.config(), names) {
                Ok(a) => Verdict::Approval(a),
                Err(p) => Verdict::Rejected(p),
            };
        }
        match item::check_attendance(bytes, ctx.config(), names) {
            Ok(a) => Verdict::Attendance(a),
            Err(p) => Verdict::Rejected(p),
        }
    } else {
        match item::check(bytes, &dir, &ws.root, ctx, &crate::world::is_printable) {
            Ok(c) => Verdict::Item(Box::new(c)),
            Err(p) => Verdict::Rejected(p),
        }
    }
}

/// The problem of a file whose id another file of the same intake has too.
pub(crate) fn duplicate_id(rel: &str, twins: &[String]) -> Problem {
    let others: Vec<_> =
        twins.iter().filter(|t| *t != rel).map(|t| format!("inbox/{t}")).collect();
    Problem::file(format!("samme id står også i {}", others.join(", ")))
        .hint("giv hvert punkt sit eget id, og læg filerne ind igen")
}

/// The rejected attendance files of a meeting that still lie in `inbox/afvist/` with no
/// newer accepted one: while there are any, its minutes wait (SPEC §6).
pub(crate) fn unresolved_attendance(
    ws: &Workspace,
    ledger: &Ledger,
    meeting: Date,
) -> Result<Vec<String>> {
    let mut files = ledger.rejected_attendance(meeting)?;
    files.retain(|f| ws.root.join(f).is_file());
    Ok(files)
}

/// What one intake did.
#[derive(Debug, Default)]
pub(crate) struct Intake {
    /// Files taken in (relative names) per meeting.
    pub(crate) accepted: Vec<(String, Date)>,
    /// Files rejected, with their reports.
    pub(crate) rejected: Vec<(String, String)>,
    /// Meetings whose content changed.
    pub(crate) changed: BTreeSet<Date>,
    /// Files left for later because they are still being written.
    pub(crate) waiting: usize,
}

/// Takes in every complete file: valid ones into the ledger and `behandlet/<meeting>/`,
/// invalid ones into `afvist/` with a `.fejl.txt` report. A file is claimed by renaming it
/// into `inbox/.work/` first, so a crash leaves it there to be processed on the next run.
pub(crate) fn intake(
    ws: &Workspace,
    config: &Config,
    names: Option<&[String]>,
    ledger: &mut Ledger,
    now: &jiff::Zoned,
    (renamed, trial): (&HashSet<PathBuf>, Trial),
) -> Result<Intake> {
    let mut summary = Intake::default();
    let mut files: Vec<(Candidate, Option<Vec<u8>>)> = Vec::new();
    for c in claim(ws, renamed, &mut summary)? {
        let bytes = crate::fs::read_bounded(&c.path, MAX_ITEM_BYTES)?;
        files.push((c, bytes));
    }
    // Approvals last, so one dropped with the items it releases finds them taken in.
    files.sort_by_key(|(c, b)| {
        c.rel.ends_with(".toml") && b.as_deref().is_some_and(crate::approval::is_approval)
    });

    // Two files with one id in the same intake: both are rejected, each naming the other.
    let mut by_id: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (c, bytes) in &files {
        if let Some(id) = bytes
            .as_deref()
            .filter(|_| c.rel.ends_with(".md"))
            .and_then(crate::processed::peek_id)
        {
            by_id.entry(id).or_default().push(c.rel.clone());
        }
    }

    let mut counts: BTreeMap<Date, usize> = BTreeMap::new();
    let mut verdict_of = |ledger: &Ledger, c: &Candidate, bytes: Option<&[u8]>| {
        let ctx = LedgerContext { config, ledger: Some(ledger), now };
        let twins = bytes
            .and_then(crate::processed::peek_id)
            .and_then(|id| by_id.get(&id))
            .filter(|v| v.len() > 1 && c.rel.ends_with(".md"));
        let verdict = match twins {
            Some(twins) => Verdict::Rejected(vec![duplicate_id(&c.rel, twins)]),
            None => judge(ws, &c.rel, bytes, &ctx, names),
        };
        let verdict = within_limit(ledger, &mut counts, verdict)?;
        let verdict = releasable(ws, config, ledger, now, verdict)?;
        not_earlier(ws, ledger, verdict)
    };
    // Items and attendance first, each item tried in a draft before it is accepted; the
    // approvals after them, which may release what they brought.
    let first_approval = files.iter().position(|(c, b)| {
        c.rel.ends_with(".toml") && b.as_deref().is_some_and(crate::approval::is_approval)
    });
    let approvals = files.split_off(first_approval.unwrap_or(files.len()));
    let mut judged = Vec::new();
    for (c, bytes) in files {
        let verdict = verdict_of(ledger, &c, bytes.as_deref())?;
        judged.push((c, verdict));
    }
    try_drafts(&ws.attachments(), ledger, &mut judged, trial)?;
    for (c, verdict) in judged {
        apply(ws, ledger, now, c, verdict, &mut summary)?;
    }
    for (c, bytes) in approvals {
        let verdict = verdict_of(ledger, &c, bytes.as_deref())?;
        apply(ws, ledger, now, c, verdict, &mut summary)?;
    }
    Ok(summary)
}

/// Claims every complete file by renaming it into `inbox/.work/`; files claimed by an
/// earlier run that stopped half-way come first. Files still being written are counted in
/// `summary.waiting` and left. A rehearsal claims nothing: it reads the files where they are.
fn claim(
    ws: &Workspace,
    renamed: &HashSet<PathBuf>,
    summary: &mut Intake,
) -> Result<Vec<Candidate>> {
    let mut claimed = claimed(ws);
    for c in scan(ws) {
        if !renamed.contains(&c.path) && !is_complete(&c.path) {
            summary.waiting += 1;
            continue;
        }
        let to = ws.work().join(&c.rel);
        if ws.is_rehearsal() {
            claimed.push(c);
            continue;
        }
        if to.exists() {
            // A leftover with the same name is processed first; this one waits a run.
            summary.waiting += 1;
            continue;
        }
        crate::fs::rename(&c.path, &to)?;
        claimed.push(Candidate { rel: c.rel, path: to });
    }
    claimed.sort();
    claimed.dedup_by(|a, b| a.rel == b.rel);
    Ok(claimed)
}

/// Rejects a new item for a meeting that already has the most items a meeting may have;
/// `counts` keeps each meeting's count through the intake.
fn within_limit(
    ledger: &Ledger,
    counts: &mut BTreeMap<Date, usize>,
    verdict: Verdict,
) -> Result<Verdict> {
    let Verdict::Item(checked) = verdict else { return Ok(verdict) };
    let m = checked.item.meeting;
    let count =
        *counts.entry(m).or_insert_with(|| ledger.items(m).map(|i| i.len()).unwrap_or(0));
    let is_new = ledger.item(&checked.item.id)?.is_none();
    if is_new && count >= MAX_ITEMS_PER_MEETING {
        return Ok(Verdict::Rejected(vec![
            Problem::file(format!(
                "mødet {m} har allerede {MAX_ITEMS_PER_MEETING} punkter, som er grænsen"
            ))
            .hint("saml punkter, eller flyt nogle til et senere møde"),
        ]));
    }
    if is_new {
        counts.insert(m, count + 1);
    }
    Ok(Verdict::Item(checked))
}

/// Rejects an item whose content (its decision apart) is an earlier version, not the current
/// one (SPEC §6): someone edited an old copy, and taking it would silently undo the changes
/// since. The report names the current file.
fn not_earlier(ws: &Workspace, ledger: &Ledger, verdict: Verdict) -> Result<Verdict> {
    let Verdict::Item(checked) = verdict else { return Ok(verdict) };
    let item = &checked.item;
    let versions = ledger.item_versions(&item.id)?;
    let Some(latest) = versions.last() else { return Ok(Verdict::Item(checked)) };
    let hash = crate::document::agenda_hash(item);
    let current = crate::document::agenda_hash(&latest.item);
    let earlier = versions
        .iter()
        .rev()
        .skip(1)
        .find(|v| crate::document::agenda_hash(&v.item) == hash);
    let (Some(old), true) = (earlier, hash != current) else {
        return Ok(Verdict::Item(checked));
    };
    let file = crate::processed::current(ws, latest.item.meeting, &item.id)
        .map(|p| ws.rel(&p))
        .unwrap_or_else(|| format!("inbox/behandlet/{}/", latest.item.meeting));
    Ok(Verdict::Rejected(vec![
        Problem::file(format!(
            "filen er en tidligere udgave (nr. {}) af punktet `{}`; den nyeste er nr. {} og ligger i {file}",
            old.version, item.id, latest.version
        ))
        .hint(format!(
            "ret i {file} (den nyeste udgave) og læg den ind igen; de tidligere udgaver ligger i tidligere/"
        )),
    ]))
}

/// Carries out a verdict on a claimed file: an item or attendance into the ledger and
/// `behandlet/<meeting>/`, a rejection into `afvist/` with its report.
fn apply(
    ws: &Workspace,
    ledger: &mut Ledger,
    now: &jiff::Zoned,
    c: Candidate,
    verdict: Verdict,
    summary: &mut Intake,
) -> Result<()> {
    match verdict {
        Verdict::Item(checked) => {
            for a in &checked.attachments {
                a.store(&ws.attachments())?;
            }
            let sha =
                sha256_hex(&serde_json::to_vec(&checked.item).expect("items serialize"));
            let meeting = checked.item.meeting;
            let source = format!("inbox/{}", c.rel);
            if ledger
                .accept_item(&checked.item, &sha, &source, now.timestamp())?
                .is_some()
            {
                summary.changed.insert(meeting);
            }
            let name = c.rel.rsplit('/').next().unwrap_or(&c.rel);
            crate::processed::file_item(ws, &c.path, name, meeting, &checked.item.id)?;
            summary.accepted.push((c.rel, meeting));
        }
        Verdict::Attendance(a) => {
            if ledger.accept_attendance(&a, now.timestamp())? {
                summary.changed.insert(a.meeting);
            }
            move_processed(ws, &c, a.meeting)?;
            summary.accepted.push((c.rel, a.meeting));
        }
        Verdict::Approval(a) if a.approves == crate::approval::Approves::Minutes => {
            let docs = ledger.meeting_documents(a.meeting)?;
            let draft = docs.iter().rev().find(|d| d.kind.is_minutes_draft());
            if let Some(draft) = draft
                && ledger.approve_minutes(draft.id, &a.by, now.timestamp())?
            {
                tracing::info!(
                    "referatet til mødet {} er godkendt af {}",
                    a.meeting,
                    a.by
                );
            }
            move_processed(ws, &c, a.meeting)?;
            summary.accepted.push((c.rel, a.meeting));
        }
        Verdict::Approval(a) => {
            if ledger.release(a.meeting, &a.by, now.timestamp())? {
                tracing::info!(
                    "dagsordenen til mødet {} er frigivet af {} og sendes nu",
                    a.meeting,
                    a.by
                );
            }
            move_processed(ws, &c, a.meeting)?;
            summary.accepted.push((c.rel, a.meeting));
        }
        Verdict::Rejected(problems) => {
            let about = attendance_meeting(&c);
            let (report, moved_to) = reject(ws, &c, &problems, now.timestamp())?;
            let file = format!("inbox/{}", c.rel);
            ledger.reject(&file, &report, about, &moved_to, now.timestamp())?;
            summary.rejected.push((c.rel, report));
        }
    }
    Ok(())
}

fn move_processed(ws: &Workspace, c: &Candidate, meeting: Date) -> Result<()> {
    let name = c.rel.rsplit('/').next().unwrap_or(&c.rel);
    let dir = ws.processed().join(meeting.to_string());
    crate::fs::create_dir_all(&dir)?;
    ws.hand_over(&c.path, &crate::fs::free_name(&dir, name))
}

/// Moves a file to `afvist/` (keeping its subfolder) next to `NAME.fejl.txt`; returns the report.
fn reject(
    ws: &Workspace,
    c: &Candidate,
    problems: &[Problem],
    now: Timestamp,
) -> Result<(String, String)> {
    let rel_dir = c.rel.rsplit_once('/').map_or("", |(d, _)| d);
    let name = c.rel.rsplit('/').next().unwrap_or(&c.rel);
    let dir = ws.rejected().join(rel_dir);
    crate::fs::create_dir_all(&dir)?;
    let target = crate::fs::free_name(&dir, name);
    let shown = format!("inbox/{}", c.rel);
    let local = now.to_zoned(clock::tz().clone()).datetime();
    let report = format!(
        "Filen {shown} blev afvist {}.\nDen er flyttet til {} og er ikke med på nogen dagsorden.\n\n{}\nRet fejlene og læg filen i inbox/ igen.\n",
        clock::danish_moment(local),
        ws.rel(&target),
        FileReport { path: &shown, problems },
    );
    let report_path = target.with_file_name(format!(
        "{}.fejl.txt",
        target.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
    ));
    crate::fs::write_atomic(&report_path, report.as_bytes())?;
    ws.hand_over(&c.path, &target)?;
    Ok((report, ws.rel(&target)))
}

/// The meeting a rejected attendance file is about, read as leniently as possible (the file
/// may not even be valid TOML): its minutes wait while it lies in `afvist/` (SPEC §6).
fn attendance_meeting(c: &Candidate) -> Option<Date> {
    if !c.rel.ends_with(".toml") {
        return None;
    }
    let bytes = crate::fs::read_bounded(&c.path, MAX_ITEM_BYTES).ok()??;
    if crate::approval::is_approval(&bytes) {
        return None;
    }
    let text = String::from_utf8_lossy(&bytes);
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("meeting"))
        .filter_map(|rest| rest.trim_start().strip_prefix('='))
        .find_map(|v| v.trim().trim_matches('"').get(..10)?.parse().ok())
}
