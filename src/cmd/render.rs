//! `kkr render MEETING`: a preview PDF of what a send at this moment would show, with valid
//! files still waiting in the inbox included; nothing is taken in or sent.

use std::path::Path;

use jiff::Timestamp;
use jiff::civil::Date;

use crate::args::RenderCommand;
use crate::clock::Clock;
use crate::config::Config;
use crate::document::{self, Facts};
use crate::error::{Error, Result};
use crate::inbox::{self, LedgerContext, Verdict};
use crate::item::{Item, MAX_ITEM_BYTES};
use crate::kind::{DocKind, Edition};
use crate::ledger::Ledger;
use crate::render::Renderer;
use crate::workspace::Workspace;

/// `kkr render MEETING`: the accepted items plus any valid files still waiting in the inbox,
/// rendered now as a send at this moment would show them; nothing is taken in or sent.
pub(crate) fn render(env: &super::Env, cmd: &RenderCommand) -> Result<u8> {
    let (ws, clock) = (env.ws(), &env.clock);
    let config = ws.load_config()?;
    let date = super::parse_meeting(&cmd.meeting)?;
    let meeting = super::meeting(&config, date)?;
    let ledger = Ledger::open_read_only(&ws.ledger_path())?;
    let facts = match &ledger {
        Some(l) => Facts::load(l, date)?,
        None => Facts::empty(),
    };
    // Attachments of items not taken in yet are served from a temporary store.
    let preview = tempfile::tempdir()
        .map_err(|source| Error::Write { path: std::env::temp_dir(), source })?;
    let (waiting, at) =
        waiting_items(ws, &config, ledger.as_ref(), clock, date, preview.path())?;
    let from_inbox = waiting.len();
    let facts = match at {
        Some(at) => facts.with_items(waiting, at),
        None => facts,
    };
    let items = facts.plan().active();
    if items == 0 {
        return Err(Error::Usage(format!(
            "mødet {date} har ingen punkter endnu\n  hjælp: læg punkter i inbox/ og kør kkr run --once"
        )));
    }
    let kind = if cmd.minutes { DocKind::Minutes } else { DocKind::Agenda };
    let edition = if cmd.public { Edition::Public } else { Edition::Member };
    let (data, _) = document::data(&config.council, meeting, &facts, kind, edition)?;
    let mut renderer = Renderer::new(
        ws.templates(),
        vec![ws.attachments(), preview.path().to_path_buf()],
    );
    let pdf = renderer.render(&data)?;
    let out = cmd.output.clone().unwrap_or_else(|| {
        ws.meeting_dir(date).join(format!("visning-{}", kind.file_name(edition)))
    });
    crate::fs::write_atomic(&out, &pdf)?;
    let extra = if from_inbox > 0 {
        format!(" (heraf {from_inbox} fra indbakken, endnu ikke modtaget)")
    } else {
        String::new()
    };
    let items = crate::term::count(items, "punkt", "punkter");
    crate::outln!("{}: {items}{extra}", out.display());
    Ok(0)
}

/// The valid items for `date` still waiting in the inbox, their attachments stored under
/// `store`, and the latest of their files' modification times (which keeps a preview
/// reproducible); `None` when there are none.
fn waiting_items(
    ws: &Workspace,
    config: &Config,
    ledger: Option<&Ledger>,
    clock: &Clock,
    date: Date,
    store: &Path,
) -> Result<(Vec<Item>, Option<Timestamp>)> {
    let now = clock.now();
    let ctx = LedgerContext { config, ledger, now: &now };
    let mut items = Vec::new();
    let mut latest: Option<Timestamp> = None;
    for c in inbox::scan(ws) {
        let bytes = crate::fs::read_bounded(&c.path, MAX_ITEM_BYTES)?;
        let Verdict::Item(checked) =
            inbox::judge(ws, &c.rel, bytes.as_deref(), &ctx, None)
        else {
            continue;
        };
        if checked.item.meeting != date {
            continue;
        }
        for a in &checked.attachments {
            a.store(store)?;
        }
        items.retain(|i: &Item| i.id != checked.item.id);
        items.push(checked.item);
        let modified = std::fs::metadata(&c.path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| Timestamp::try_from(t).ok());
        let at = modified.unwrap_or(now.timestamp());
        latest = Some(latest.map_or(at, |l| l.max(at)));
    }
    Ok((items, latest))
}
