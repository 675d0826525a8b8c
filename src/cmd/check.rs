//! `kkr check [FILE…]`: validates council.toml, members.csv, the templates and the inbox, and
//! changes nothing.

use std::collections::BTreeMap;

use jiff::civil::Date;

use crate::document::{self, Facts};
use crate::error::{Error, Result};
use crate::inbox::{self, LedgerContext, Verdict};
use crate::item::{Item, MAX_ITEM_BYTES};
use crate::kind::{DocKind, Edition};
use crate::ledger::Ledger;
use crate::render::Renderer;
use crate::report::FileReport;
use crate::term::EXIT_INVALID;
use crate::workspace::Workspace;

/// `kkr check`: validates everything and changes nothing (not even creating `state/`).
pub(crate) fn check(env: &super::Env, cmd: &crate::args::CheckCommand) -> Result<u8> {
    let (ws, clock) = (env.ws(), &env.clock);
    let config = match ws.load_config() {
        Ok(c) => c,
        Err(Error::Invalid { report }) => {
            crate::out!("{report}");
            if let Err(report) = ws.load_roster() {
                crate::out!("{report}");
            }
            crate::outln!("council.toml skal rettes, før indbakken kan kontrolleres.");
            return Ok(EXIT_INVALID);
        }
        Err(e) => return Err(e),
    };
    let mut bad = 0;
    if ws.ledger_lost() {
        crate::outln!("fejl: {}", Error::LedgerLost { path: ws.root.clone() });
        bad += 1;
    }
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
    let only = (!cmd.files.is_empty()).then(|| inbox_names(ws, &cmd.files));
    if let Some((_, missing)) = &only {
        for f in missing {
            crate::outln!(
                "{f}: fejl: filen ligger ikke i inbox/\n  hjælp: giv stien til en fil i indbakken, fx inbox/03-praktikpladser.md"
            );
            bad += 1;
        }
    }
    let only = only.map(|(rels, _)| rels);
    for report in check_keys(ws, &config) {
        crate::out!("{report}");
        bad += 1;
    }
    for problem in check_templates(ws, &config).into_iter().filter(|_| only.is_none()) {
        crate::out!("{problem}");
        bad += 1;
    }
    let (good, per_meeting, rejected) =
        check_inbox(ws, &config, names.as_deref(), clock, only.as_deref())?;
    bad += rejected;
    for u in crate::unread::find(ws).into_iter().filter(|_| only.is_none()) {
        let p = [crate::report::Problem::file(
            "kkr læser ikke denne fil; den bliver liggende, hvor den er",
        )
        .hint(u.fix)];
        crate::out!("{}", FileReport { path: &format!("inbox/{}", u.rel), problems: &p });
        bad += 1;
    }
    if bad > 0 {
        crate::outln!(
            "{} skal rettes; intet er ændret.",
            crate::term::count(bad, "fil", "filer")
        );
        return Ok(EXIT_INVALID);
    }
    use crate::term::count;
    if only.is_some() {
        crate::outln!("Alt i orden: {}.", count(good, "fil", "filer"));
        return Ok(0);
    }
    let recipients = roster.map(|r| r.len()).unwrap_or(0);
    crate::outln!(
        "Alt i orden: {} i council.toml, {} i members.csv, {} i indbakken ({} til {}).",
        count(config.meetings.len(), "møde", "møder"),
        count(recipients, "modtager", "modtagere"),
        count(good, "fil", "filer"),
        count(per_meeting.values().sum::<usize>(), "punkt", "punkter"),
        count(per_meeting.len(), "møde", "møder")
    );
    Ok(0)
}

/// Judges every file in the inbox (claimed ones first) as intake would, the new items tried
/// in their meetings' drafts too (attachments stored in a temporary folder, so nothing in
/// the workspace changes), and prints a report for each file that would be rejected.
/// Returns the files that would be taken in, the items per meeting, and the reports.
fn check_inbox(
    ws: &Workspace,
    config: &crate::config::Config,
    names: Option<&[String]>,
    clock: &crate::clock::Clock,
    only: Option<&[String]>,
) -> Result<(usize, BTreeMap<Date, usize>, usize)> {
    let real = Ledger::open_read_only(&ws.ledger_path())?;
    let now = clock.now();
    let ctx = LedgerContext { config, ledger: real.as_ref(), now: &now };
    let mut files = inbox::claimed(ws);
    files.extend(inbox::scan(ws));
    files.retain(|c| only.is_none_or(|o| o.contains(&c.rel)));
    let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut judged = Vec::new();
    for c in files {
        let bytes = crate::fs::read_bounded(&c.path, MAX_ITEM_BYTES)?;
        if let Some(id) = bytes
            .as_deref()
            .filter(|_| c.rel.ends_with(".md"))
            .and_then(crate::processed::peek_id)
        {
            ids.entry(id).or_default().push(c.rel.clone());
        }
        let verdict = inbox::judge(ws, &c.rel, bytes.as_deref(), &ctx, names);
        judged.push((c, verdict));
    }
    if judged.iter().any(|(_, v)| matches!(v, Verdict::Item(_))) {
        let store = tempfile::tempdir()
            .map_err(|source| Error::Write { path: std::env::temp_dir(), source })?;
        let empty;
        let ledger = match &real {
            Some(l) => l,
            None => {
                empty = Ledger::open_in_memory()?;
                &empty
            }
        };
        let mut dirs = ws.attachment_dirs();
        dirs.push(store.path().to_path_buf());
        let mut renderer = Renderer::new(ws.templates(), dirs);
        let at = now.timestamp();
        let mut trial = |ledger: &Ledger, meeting: Date, items: &[Item]| {
            document::trial_draft(config, &mut renderer, ledger, meeting, items, at)
        };
        inbox::try_drafts(store.path(), ledger, &mut judged, &mut trial)?;
    }
    let (mut good, mut bad) = (0, 0);
    let mut per_meeting: BTreeMap<Date, usize> = BTreeMap::new();
    for (c, verdict) in &judged {
        match verdict {
            Verdict::Rejected(problems) => {
                let shown = format!("inbox/{}", c.rel);
                crate::out!("{}", FileReport { path: &shown, problems });
                bad += 1;
            }
            Verdict::Item(i) => {
                *per_meeting.entry(i.item.meeting).or_default() += 1;
                good += 1;
            }
            Verdict::Attendance(_) | Verdict::Approval(_) => good += 1,
        }
    }
    for rels in ids.values().filter(|r| r.len() > 1) {
        for rel in rels {
            let p = [inbox::duplicate_id(rel, rels)];
            crate::out!("{}", FileReport { path: &format!("inbox/{rel}"), problems: &p });
            bad += 1;
        }
    }
    same_order(real.as_ref(), &judged);
    Ok((good, per_meeting, bad))
}

/// Warns when two items of a meeting have the same `order` (a sort key: they then stand in
/// the order they arrived), among the files judged and the items already taken in.
fn same_order(ledger: Option<&Ledger>, judged: &[(inbox::Candidate, Verdict)]) {
    let mut orders: BTreeMap<(Date, i64), Vec<String>> = BTreeMap::new();
    let mut new_ids = Vec::new();
    for (c, v) in judged {
        if let Verdict::Item(i) = v {
            new_ids.push(i.item.id.clone());
            if let Some(o) = i.item.order {
                orders
                    .entry((i.item.meeting, o))
                    .or_default()
                    .push(format!("inbox/{}", c.rel));
            }
        }
    }
    let meetings: std::collections::BTreeSet<Date> =
        orders.keys().map(|(m, _)| *m).collect();
    for m in meetings {
        let stored = ledger.and_then(|l| l.items(m).ok()).unwrap_or_default();
        for s in
            stored.iter().filter(|s| !new_ids.contains(&s.item.id) && !s.item.withdrawn)
        {
            if let Some(o) = s.item.order
                && let Some(v) = orders.get_mut(&(m, o))
            {
                v.push(format!("punktet »{}«", s.item.title));
            }
        }
    }
    for ((m, o), names) in orders.iter().filter(|(_, v)| v.len() > 1) {
        crate::outln!(
            "advarsel: order = {o} bruges af flere punkter til mødet {m}: {}\n  hjælp: order er punkternes rækkefølge; giv dem hver sit tal, ellers står de i den rækkefølge, de blev modtaget",
            names.join(", ")
        );
    }
}

/// The inbox-relative names of the files given to `kkr check FILE…`, and those that are
/// not in the inbox.
fn inbox_names(
    ws: &Workspace,
    files: &[std::path::PathBuf],
) -> (Vec<String>, Vec<String>) {
    let inbox = ws.inbox();
    let real_inbox = inbox.canonicalize().unwrap_or_else(|_| inbox.clone());
    let (mut rels, mut missing) = (Vec::new(), Vec::new());
    for f in files {
        let shown = f.display().to_string();
        let found = f.canonicalize().ok().and_then(|p| {
            p.strip_prefix(&real_inbox)
                .ok()
                .map(|r| r.to_string_lossy().replace('\\', "/"))
        });
        let literal = shown.trim_start_matches("./");
        let rel = found.or_else(|| {
            let r = literal.strip_prefix("inbox/").unwrap_or(literal);
            inbox.join(r).is_file().then(|| r.to_owned())
        });
        match rel {
            Some(r) => rels.push(r),
            None => missing.push(shown),
        }
    }
    (rels, missing)
}

/// The DKIM key and the extra CAs, read as sending and publishing read them.
fn check_keys(ws: &Workspace, config: &crate::config::Config) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(d) = &config.mail.dkim
        && let Err(Error::Invalid { report }) = crate::dkim::signing_config(d, &ws.root)
    {
        out.push(report);
    }
    let smtp = config.mail.smtp.as_ref().and_then(|s| s.ca_file.as_ref());
    let publish = config.publish.as_ref().and_then(|p| p.ca_file.as_ref());
    for (file, section) in [(smtp, "[mail.smtp]"), (publish, "[publish]")] {
        if let Some(file) = file
            && let Err(Error::Invalid { report }) =
                crate::smtp::trusted_ca(&ws.root, file, section)
        {
            out.push(report);
        }
    }
    out
}

/// Compiles the workspace's templates (mail, site and Typst) with a sample item, so a
/// template error is found by `check` and not on the day a document is due. Returns the
/// reports.
fn check_templates(ws: &Workspace, config: &crate::config::Config) -> Vec<String> {
    let mut out = Vec::new();
    let Some(templates) = ws.templates() else { return out };
    if let Err(e) = crate::mail::Mailer::new(Some(&templates)) {
        out.push(format!("{e}\n"));
    }
    if let Err(e) = crate::site::page::Pages::new(Some(&templates)) {
        out.push(format!("{e}\n"));
    }
    let meeting =
        config.meetings.first().cloned().unwrap_or(crate::config::MeetingConfig::new(
            jiff::civil::date(2027, 1, 28),
            jiff::civil::time(9, 0, 0, 0),
            jiff::civil::time(11, 0, 0, 0),
            "Rådhuset",
        ));
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
    let facts = Facts::empty().with_items(vec![item], jiff::Timestamp::UNIX_EPOCH);
    let mut renderer = Renderer::new(Some(templates), Vec::new());
    for kind in [DocKind::Agenda, DocKind::Minutes] {
        let data =
            document::data(&config.council, &meeting, &facts, kind, Edition::Member);
        if let Err(e) = data.and_then(|(data, _)| renderer.render(&data)) {
            out.push(format!("{e}\n"));
        }
    }
    out
}
