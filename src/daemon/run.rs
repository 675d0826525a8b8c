//! The run loop of `kkr run`: one thread per council, passes whenever the inbox changes or
//! something falls due, until SIGINT/SIGTERM; and the start-up health line.

use std::collections::HashSet;
use std::sync::mpsc;
use std::time::Duration;

use jiff::civil::Date;

use super::{Council, Outcome};
use crate::clock::Clock;
use crate::error::Result;
use crate::schedule;
use crate::term::EXIT_OTHER;
use crate::watch::{self, Event};
use crate::workspace::Workspace;

/// The start-up line: version, councils, and the next thing due across all of them.
pub fn health(workspaces: &[Workspace], clock: &Clock) -> String {
    let mut next: Option<(jiff::Zoned, String)> = None;
    for ws in workspaces {
        let Ok(config) = ws.load_config() else { continue };
        let ledger =
            crate::ledger::Ledger::open_read_only(&ws.ledger_path()).ok().flatten();
        // Each council's own clock: never before the latest moment it acted at.
        let acted = ledger.as_ref().and_then(|l| l.acted_at().ok().flatten());
        let now = acted.map_or_else(|| clock.now(), |a| clock.with_floor(a).now());
        let state = |m: Date| {
            ledger
                .as_ref()
                .and_then(|l| crate::document::plan(l, m).ok())
                .map(|p| p.state())
                .unwrap_or_default()
        };
        if let Some(at) = schedule::next_due(&now, &config, &state)
            && next.as_ref().is_none_or(|(t, _)| at < *t)
        {
            next = Some((at, config.council.name.clone()));
        }
    }
    let what = next.map_or("intet planlagt".to_owned(), |(at, name)| {
        format!("næste: {name} dagsorden {}", at.strftime("%Y-%m-%d %H:%M"))
    });
    let n = workspaces.len();
    format!("kkr {}, {n} råd, {what}", env!("CARGO_PKG_VERSION"))
}

/// How long the daemon waits before it tries again to open a council it could not open.
const REOPEN: Duration = Duration::from_secs(15);

/// `kkr run` for one or more councils: each runs on its own thread, so a failure or a slow
/// send in one never delays another. The exit code is the worst of them.
pub fn run_all(
    workspaces: Vec<Workspace>,
    clock: Clock,
    dry_run: bool,
    once: bool,
) -> Result<u8> {
    if dry_run && !once {
        tracing::warn!(
            "en prøvekørsel er én gennemgang: kkr run --dry-run gør det, der er at gøre nu, og stopper"
        );
    }
    let once = once || dry_run;
    if !once {
        crate::shutdown::install();
        tracing::info!("{}", health(&workspaces, &clock));
    }
    if workspaces.len() == 1 {
        let ws = workspaces.into_iter().next().expect("one workspace");
        return run(ws, clock, dry_run, once);
    }
    let codes: Vec<u8> = std::thread::scope(|s| {
        let handles: Vec<_> = workspaces
            .into_iter()
            .map(|ws| {
                let clock = clock.clone();
                s.spawn(move || {
                    let name = ws.root.display().to_string();
                    let span = tracing::info_span!("råd", mappe = %name);
                    let _guard = span.enter();
                    loop {
                        match run(ws.clone(), clock.clone(), dry_run, once) {
                            Ok(code) => return code,
                            // The daemon keeps trying a council it cannot open (an invalid
                            // council.toml, a lock held by another kkr): once fixed, it runs,
                            // and the other councils never wait for it.
                            Err(e) if !once => {
                                tracing::error!(
                                    "{name}: {e}\n  kkr prøver igen om {} sekunder",
                                    REOPEN.as_secs()
                                );
                                if !crate::shutdown::sleep(REOPEN) {
                                    return e.exit_code();
                                }
                            }
                            Err(e) => {
                                tracing::error!("{name}: {e}");
                                return e.exit_code();
                            }
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(EXIT_OTHER)).collect()
    });
    Ok(codes.into_iter().max().unwrap_or(0))
}

/// `kkr run`: one pass with `--once`; otherwise passes whenever the inbox changes or
/// something falls due, until SIGINT/SIGTERM.
pub fn run(ws: Workspace, clock: Clock, dry_run: bool, once: bool) -> Result<u8> {
    let mut council = Council::open(ws, clock, dry_run)?;
    if once || dry_run {
        council.settle();
        let code = council.pass(&HashSet::new())?.exit_code();
        council.rehearsed("run");
        return Ok(code);
    }
    let (tx, rx) = mpsc::channel();
    let stop_tx = tx.clone();
    crate::shutdown::install();
    crate::shutdown::on_stop(move || {
        let _ = stop_tx.send(Event::Stop);
    });
    let watcher = watch::watch(&council.ws, tx);
    let next =
        schedule::next_due(&council.clock.now(), &council.config, &|m| council.state(m));
    let next = next
        .map(|t| {
            format!(", næste udsendelse {}", crate::clock::danish_moment(t.datetime()))
        })
        .unwrap_or_default();
    tracing::info!(
        "kkr {} kører for {} ({} møder){next}",
        env!("CARGO_PKG_VERSION"),
        council.config.council.name,
        council.config.meetings.len()
    );
    let mut renamed = HashSet::new();
    loop {
        let outcome = match council.pass(&renamed) {
            Ok(o) => o,
            Err(e) => {
                tracing::error!("{e}");
                Outcome { transient: true, ..Outcome::default() }
            }
        };
        renamed.clear();
        if crate::shutdown::requested() {
            break;
        }
        let mut wait = council.sleep_for(&outcome);
        if watcher.is_none() {
            wait = wait.min(Duration::from_secs(2));
        }
        match rx.recv_timeout(wait) {
            Ok(Event::Stop) => break,
            Ok(Event::Inbox(paths)) => {
                renamed.extend(paths);
                // Take whatever else arrived in the same moment.
                while let Ok(e) = rx.try_recv() {
                    match e {
                        Event::Stop => return Ok(0),
                        Event::Inbox(p) => renamed.extend(p),
                    }
                }
            }
            Err(_) => {}
        }
    }
    tracing::info!("kkr er stoppet");
    Ok(0)
}
