//! kkr: agendas, minutes, mail and publishing for KL's kommunekontaktråd.
//!
//! The pipeline runs one way: `inbox` → `item` checks → `ledger` ← `clock`; `schedule` says
//! what is due; `edition` + `render` (Typst, via `world`) make PDFs; `mail` + `deliver` send
//! them. See docs/ARCHITECTURE.md.

pub mod approval;
mod args;
pub mod attachment;
pub mod clock;
mod cmd;
pub mod config;
pub mod daemon;
mod deliver;
mod dkim;
pub mod document;
pub mod edition;
pub mod error;
mod fs;
mod hash;
mod ics;
mod image;
mod inbox;
mod init;
pub mod item;
pub mod kind;
pub mod ledger;
pub mod mail;
pub mod markdown;
mod notice;
mod pdfpage;
mod processed;
mod publish;
mod rehearsal;
pub mod render;
mod renderproc;
pub mod report;
pub mod roster;
mod sandbox;
pub mod schedule;
mod shutdown;
pub mod site;
mod smtp;
mod spanned;
pub mod term;
pub mod told;
mod unread;
mod watch;
pub mod workspace;
mod world;

use std::error::Error as _;
use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::clock::Clock;
use crate::error::Error;
use crate::workspace::Workspace;

/// Parses the command line, runs the command and turns the result into an exit code.
pub fn run() -> ExitCode {
    // A worker for untrusted bytes (see `sandbox`): no command line, no logging.
    let mut args = std::env::args_os();
    match args.nth(1).as_ref().and_then(|a| a.to_str()) {
        Some(sandbox::WORKER_ARG) => {
            let job = args.next().and_then(|a| a.into_string().ok()).unwrap_or_default();
            return sandbox::serve(&job);
        }
        Some(renderproc::RENDER_ARG) => {
            return renderproc::serve(args, |templates, attachments| {
                let mut r = render::Renderer::in_process(templates, attachments);
                Box::new(move |doc| r.render(doc))
            });
        }
        _ => {}
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            return match danish_usage_error(&e) {
                Some(text) => {
                    eprint!("{text}");
                    ExitCode::from(term::EXIT_USAGE)
                }
                None => {
                    let _ = e.print();
                    ExitCode::from(if e.use_stderr() { term::EXIT_USAGE } else { 0 })
                }
            };
        }
    };
    init_logging(&cli);
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            print_error(&e);
            ExitCode::from(e.exit_code())
        }
    }
}

/// A command-line mistake in Danish, as `fejl: …` with a hint (clap's own texts are
/// English); `None` for help and version output, which clap prints (already Danish).
fn danish_usage_error(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let get = |kind: ContextKind| match e.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join(", "),
        Some(ContextValue::StyledStr(s)) => s.to_string(),
        Some(ContextValue::StyledStrs(v)) => {
            v.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        }
        Some(ContextValue::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let arg = get(ContextKind::InvalidArg);
    let what = match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => return None,
        ErrorKind::MissingRequiredArgument => format!("mangler {arg}"),
        ErrorKind::MissingSubcommand => "angiv en kommando".into(),
        ErrorKind::UnknownArgument if arg.starts_with('-') => {
            format!("ukendt valg {arg}")
        }
        ErrorKind::UnknownArgument => format!("for mange argumenter: {arg}"),
        ErrorKind::InvalidSubcommand => {
            format!("ukendt kommando {}", get(ContextKind::InvalidSubcommand))
        }
        ErrorKind::ArgumentConflict => {
            let prior = get(ContextKind::PriorArg);
            if prior.is_empty() || prior == arg {
                format!("{arg} kan kun angives én gang")
            } else {
                format!("{arg} kan ikke bruges sammen med {prior}")
            }
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let valid = get(ContextKind::ValidValue);
            let valid = if valid.is_empty() {
                String::new()
            } else {
                format!(" (mulige: {valid})")
            };
            format!(
                "ugyldig værdi \"{}\" til {arg}{valid}",
                get(ContextKind::InvalidValue)
            )
        }
        ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues => {
            format!("for mange værdier til {arg}")
        }
        ErrorKind::NoEquals | ErrorKind::TooFewValues => {
            format!("{arg} mangler en værdi")
        }
        _ => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            format!(
                "kommandolinjen kan ikke læses ({})",
                first.trim_start_matches("error: ")
            )
        }
    };
    let suggested = [ContextKind::SuggestedArg, ContextKind::SuggestedSubcommand]
        .into_iter()
        .map(get)
        .find(|s| !s.is_empty())
        .map(|s| format!("  hjælp: mente du {s}?\n"))
        .unwrap_or_default();
    Some(format!("fejl: {what}\n{suggested}  hjælp: se kkr --help\n"))
}

fn init_logging(cli: &Cli) {
    let level = if cli.global.quiet {
        tracing::Level::ERROR
    } else if cli.global.verbose {
        tracing::Level::DEBUG
    } else {
        tracing::Level::INFO
    };
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    // `--verbose` is kkr's own detail: the libraries' debug lines (handlebars logs every
    // helper it renders, tens of thousands a pass) stay out.
    // (tracing orders levels by verbosity: DEBUG > INFO > ERROR.)
    let others = if level > tracing::Level::INFO { tracing::Level::INFO } else { level };
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("kkr", level)
        .with_default(others);
    let daemon = matches!(&cli.command, Command::Run(r) if !r.once);
    if cli.global.log_json {
        let builder = tracing_subscriber::fmt()
            .json()
            .with_max_level(level)
            .with_writer(std::io::stderr);
        let _ = builder.finish().with(filter).try_init();
        return;
    }
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .with_writer(std::io::stderr);
    let _ = if daemon {
        builder.finish().with(filter).try_init()
    } else {
        builder.without_time().finish().with(filter).try_init()
    };
}

fn print_error(e: &Error) {
    match e {
        Error::Invalid { report } => eprint!("{report}"),
        e => {
            eprintln!("fejl: {e}");
            let mut source = e.source();
            while let Some(cause) = source {
                eprintln!("  årsag: {cause}");
                source = cause.source();
            }
        }
    }
}

fn dispatch(cli: Cli) -> error::Result<u8> {
    let dirs =
        if cli.global.dir.is_empty() { vec![".".into()] } else { cli.global.dir.clone() };
    let many_ok = match &cli.command {
        Command::Run(_) | Command::Status(_) => true,
        Command::Publish(cmd) => cmd.all,
        _ => false,
    };
    if dirs.len() > 1 && !many_ok {
        return Err(Error::Usage(
            "flere -C gælder kun kkr run, kkr status og kkr publish --alle; angiv én arbejdsmappe"
                .into(),
        ));
    }
    let clock = match &cli.global.now {
        Some(now) => {
            Clock::starting_at(clock::parse_now(now).map_err(Error::Usage)?.timestamp())
        }
        None => Clock::system(),
    };
    let env = cmd::Env {
        workspaces: dirs.into_iter().map(Workspace::new).collect(),
        clock,
        dry_run: cli.global.dry_run,
        quiet: cli.global.quiet,
    };
    match &cli.command {
        Command::Run(c) => cmd::run::run(&env, c),
        Command::Check(c) => cmd::check::check(&env, c),
        Command::Status(c) => cmd::status::run(&env, c),
        Command::Render(c) => cmd::render::render(&env, c),
        Command::Send(c) => cmd::send::send(&env, c),
        Command::Preview(c) => cmd::preview::preview(&env, c),
        Command::Approve(c) => cmd::approve::approve(&env, c),
        Command::Publish(c) => cmd::publish::publish(&env, c),
        Command::Completions(c) => cmd::completions::completions(&env, c),
        Command::Init(c) => cmd::init::init(&env, c),
        Command::Dkim(c) => cmd::dkim::dkim(&env, c),
    }
}
