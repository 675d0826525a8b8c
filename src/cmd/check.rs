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
pub(crate) fn check(env: &super::Env) -> Result<u8> {
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
    for problem in check_templates(ws, &config) {
        crate::out!("{problem}");
        bad += 1;
    }
    let (good, per_meeting, rejected) =
        check_inbox(ws, &config, names.as_deref(), clock)?;
    bad += rejected;
    for u in crate::unread::find(ws) {
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
    let recipients = roster.map(|r| r.len()).unwrap_or(0);
    use crate::term::count;
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
) -> Result<(usize, BTreeMap<Date, usize>, usize)> {
    let real = Ledger::open_read_only(&ws.ledger_path())?;
    let now = clock.now();
    let ctx = LedgerContext { config, ledger: real.as_ref(), now: &now };
    let mut files = inbox::claimed(ws);
    files.extend(inbox::scan(ws));
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
    Ok((good, per_meeting, bad))
}

/// Compiles the workspace's templates (mail and Typst) with a sample item, so a template
/// error is found by `check` and not on the day a document is due. Returns the reports.
fn check_templates(ws: &Workspace, config: &crate::config::Config) -> Vec<String> {
    let mut out = Vec::new();
    let Some(templates) = ws.templates() else { return out };
    if let Err(e) = crate::mail::Mailer::new(Some(&templates)) {
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
