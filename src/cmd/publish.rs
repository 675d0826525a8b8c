//! `kkr publish MEETING` uploads one meeting's public files and the site again; `kkr publish
//! --alle` rebuilds the whole public archive of one or more councils.

use crate::args::PublishCommand;
use crate::daemon::Council;
use crate::error::{Error, Result};
use crate::workspace::Workspace;

use super::Env;

/// `kkr publish [MEETING | --alle]`.
pub(crate) fn publish(env: &Env, cmd: &PublishCommand) -> Result<u8> {
    match &cmd.meeting {
        Some(meeting) => publish_one(env, meeting),
        None => publish_all(env),
    }
}

/// `kkr publish MEETING`: uploads the meeting's public files and the site again.
fn publish_one(env: &Env, meeting: &str) -> Result<u8> {
    let date = super::parse_meeting(meeting)?;
    let mut council = Council::open(env.ws().clone(), env.clock.clone(), env.dry_run)?;
    if council.config.publish.is_none() {
        return Err(no_publish_section(&council.ws));
    }
    super::meeting(&council.config, date)?;
    let n = council.publish(Some(date), true)?;
    council.rehearsed("publish");
    if n == 0 {
        crate::outln!(
            "Intet at publicere for mødet {date} endnu (dagsordenen er ikke sendt)."
        );
    } else {
        crate::outln!("{n} filer publiceret for mødet {date}.");
    }
    Ok(0)
}

/// `kkr publish --alle`: rebuilds the public archive of each workspace: every meeting's
/// public documents rendered again (on both cores) and uploaded, then the site files. A
/// progress bar on a terminal counts the documents.
fn publish_all(env: &Env) -> Result<u8> {
    let (workspaces, clock, progress) = (&env.workspaces, &env.clock, !env.quiet);
    // Every council.toml is checked before anything is published.
    for ws in workspaces {
        if ws.load_config()?.publish.is_none() {
            return Err(no_publish_section(ws));
        }
    }
    let bar = if progress {
        indicatif::ProgressBar::new(0)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} {bar:30} {pos}/{len} dokumenter ({elapsed})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut lines = Vec::new();
    let mut result = Ok(0);
    // One council at a time, opened when its turn comes and closed (its renderers freed,
    // its lock released) before the next. A failure ends the run after what was done is said.
    for ws in workspaces {
        let published = Council::open(ws.clone(), clock.clone(), env.dry_run).and_then(
            |mut council| {
                let name = council.config.council.name.clone();
                bar.set_message(name.clone());
                let n = council.publish_with(None, true, Some(&bar))?;
                council.rehearsed("publish --alle");
                Ok((name, n))
            },
        );
        let (name, n) = match published {
            Ok(done) => done,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        lines.push(if n == 0 {
            format!("{name}: intet at publicere endnu (ingen dagsorden er sendt).")
        } else {
            format!("{name}: {n} filer publiceret.")
        });
    }
    bar.finish_and_clear();
    for line in lines {
        crate::outln!("{line}");
    }
    result
}

/// The error for publishing in a workspace whose council.toml has no `[publish]`.
fn no_publish_section(ws: &Workspace) -> Error {
    Error::Usage(format!(
        "{}: council.toml har ingen [publish]-sektion\n  hjælp: tilføj [publish] med target = \"dir:outbox/public\" eller en WebDAV-adresse",
        ws.root.display()
    ))
}
