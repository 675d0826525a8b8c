//! The command line: clap definitions of every command and the global flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The layout of every help text, with Danish headings.
const TEMPLATE: &str = "{about-with-newline}\nBrug: {usage}\n\n{all-args}{after-help}";

/// What the top-level help ends with.
const AFTER_HELP: &str =
    "Afslutningskoder: 0 færdig, 1 ugyldigt input (en fil er afvist), 2 forkert brug, \
3 midlertidig fejl (prøves igen), 4 andet.
Vejledning: docs/SECRETARIAT.md (sekretariatet), docs/OPERATIONS.md (drift).";

/// kkr: dagsordener, referater, mail og publicering for KKR.
#[derive(Debug, Parser)]
#[command(
    name = "kkr",
    version,
    about = "Dagsordener, referater, mail og offentliggørelse for KL's kommunekontaktråd (KKR)",
    propagate_version = true,
    disable_help_flag = true,
    disable_version_flag = true,
    disable_help_subcommand = true,
    subcommand_help_heading = "Kommandoer",
    subcommand_value_name = "KOMMANDO",
    help_template = TEMPLATE,
    after_help = AFTER_HELP
)]
pub(crate) struct Cli {
    /// The command.
    #[command(subcommand)]
    pub(crate) command: Command,
    /// Flags every command takes.
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    /// Vis denne hjælp
    #[arg(short = 'h', long = "help", action = clap::ArgAction::Help, global = true, help_heading = "Valg")]
    pub(crate) help: Option<bool>,
    /// Vis versionen
    #[arg(short = 'V', long = "version", action = clap::ArgAction::Version, global = true, help_heading = "Valg")]
    pub(crate) version: Option<bool>,
}

/// Flags accepted before or after the subcommand.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Valg")]
pub(crate) struct GlobalArgs {
    /// Arbejdsmappe (rådets mappe); standard er den aktuelle mappe. `kkr run` og `kkr status`
    /// tager flere: -C a -C b
    #[arg(short = 'C', long = "dir", global = true, value_name = "MAPPE", action = clap::ArgAction::Append)]
    pub(crate) dir: Vec<PathBuf>,
    /// Skriv loglinjer som JSON (én pr. linje) i stedet for tekst
    #[arg(long, global = true)]
    pub(crate) log_json: bool,
    /// Prøvekørsel: send, flyt, publicér og gem intet; skriv i outbox/prøve/, hvad kkr ville gøre
    #[arg(long, global = true)]
    pub(crate) dry_run: bool,
    /// Gør som om klokken er dette lokale tidspunkt, fx 2026-03-05T09:00
    #[arg(long, global = true, value_name = "TIDSPUNKT")]
    pub(crate) now: Option<String>,
    /// Skriv kun fejl
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,
    /// Skriv flere detaljer
    #[arg(short, long, global = true)]
    pub(crate) verbose: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Overvåg indbakken og gør alt, der er forfaldent (dæmonen)
    #[command(help_template = TEMPLATE)]
    Run(RunCommand),
    /// Kontrollér council.toml, members.csv og indbakken uden at ændre noget
    #[command(help_template = TEMPLATE)]
    Check(CheckCommand),
    /// Vis møder, hvad der er sendt og hvornår næste udsendelse sker
    #[command(help_template = TEMPLATE)]
    Status(StatusCommand),
    /// Lav en PDF nu uden at sende noget
    #[command(help_template = TEMPLATE)]
    Render(RenderCommand),
    /// Send nu, hvad planen ville sende
    #[command(help_template = TEMPLATE)]
    Send(SendCommand),
    /// Vis det, der sendes næste gang, i outbox/visning/MØDE/ uden at ændre noget
    #[command(help_template = TEMPLATE)]
    Preview(PreviewCommand),
    /// Godkend: frigiv en tilbageholdt dagsorden (som en godkendelsesfil)
    #[command(help_template = TEMPLATE)]
    Approve(ApproveCommand),
    /// Publicér det offentlige referat nu
    #[command(help_template = TEMPLATE)]
    Publish(PublishCommand),
    /// Opret en ny arbejdsmappe for et af de fem råd
    #[command(help_template = TEMPLATE)]
    Init(InitCommand),
    /// Lav DKIM-nøglen, der signerer mails, og vis den DNS-post, der skal offentliggøres
    #[command(help_template = TEMPLATE)]
    Dkim(DkimCommand),
    /// Skriv kommandolinje-udfyldning (completions) for en skal: bash, zsh, fish, …
    #[command(help_template = TEMPLATE)]
    Completions(CompletionsCommand),
}

/// `kkr dkim`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Valg")]
pub(crate) struct DkimCommand {
    /// Nøglens navn i DNS (selector); et nyt navn laver en ny nøgle, når nøglen skal skiftes
    #[arg(long, value_name = "NAVN")]
    pub(crate) selector: Option<String>,
}

/// `kkr completions`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Valg")]
pub(crate) struct CompletionsCommand {
    /// Skallen
    #[arg(value_name = "SKAL")]
    pub(crate) shell: clap_complete::Shell,
}

/// `kkr run`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Valg")]
pub(crate) struct RunCommand {
    /// Gør det forfaldne arbejde én gang og afslut
    #[arg(long)]
    pub(crate) once: bool,
}

/// `kkr check`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Valg")]
pub(crate) struct CheckCommand {
    /// Kontrollér kun disse filer i indbakken (fx inbox/03-praktikpladser.md)
    #[arg(value_name = "FIL")]
    pub(crate) files: Vec<std::path::PathBuf>,
}

/// `kkr status`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Valg")]
pub(crate) struct StatusCommand {
    /// Mødets dato (fx 2027-01-28); uden: alle møder
    #[arg(value_name = "MØDE")]
    pub(crate) meeting: Option<String>,
    /// Skriv status som JSON (til scripts)
    #[arg(long)]
    pub(crate) json: bool,
}

/// `kkr render`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Valg")]
pub(crate) struct RenderCommand {
    /// Mødets dato, fx 2027-01-28
    #[arg(value_name = "MØDE")]
    pub(crate) meeting: String,
    /// Lav beslutningsreferatet i stedet for dagsordenen
    #[arg(long)]
    pub(crate) minutes: bool,
    /// Lav den offentlige udgave (lukkede punkter kun med offentlig titel)
    #[arg(long)]
    pub(crate) public: bool,
    /// Hvor PDF'en skal skrives
    #[arg(short = 'o', long = "output", value_name = "FIL")]
    pub(crate) output: Option<PathBuf>,
}

/// `kkr send`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Valg")]
pub(crate) struct SendCommand {
    /// Mødets dato
    #[arg(value_name = "MØDE")]
    pub(crate) meeting: String,
    /// Send beslutningsreferatet
    #[arg(long)]
    pub(crate) minutes: bool,
    /// Send igen til alle, også dem der har fået det
    #[arg(long)]
    pub(crate) resend: bool,
    /// Send (igen) kun til denne adresse, fx et medlem der har mistet mailen
    #[arg(long, value_name = "ADRESSE")]
    pub(crate) to: Option<String>,
}

/// `kkr preview`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Valg")]
pub(crate) struct PreviewCommand {
    /// Mødets dato
    #[arg(value_name = "MØDE")]
    pub(crate) meeting: String,
    /// Vis beslutningsreferatet i stedet for dagsordenen
    #[arg(long)]
    pub(crate) minutes: bool,
}

/// `kkr approve`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Valg")]
#[command(group = clap::ArgGroup::new("hvad").required(true).args(["agenda", "minutes"]))]
pub(crate) struct ApproveCommand {
    /// Mødets dato
    #[arg(value_name = "MØDE")]
    pub(crate) meeting: String,
    /// Frigiv dagsordenen (en tilbageholdt dagsorden sendes så nu)
    #[arg(long)]
    pub(crate) agenda: bool,
    /// Godkend beslutningsreferatet
    #[arg(long)]
    pub(crate) minutes: bool,
    /// Hvem der godkender: et navn som i members.csv
    #[arg(long, value_name = "NAVN")]
    pub(crate) by: String,
}

/// `kkr publish`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Valg")]
pub(crate) struct PublishCommand {
    /// Mødets dato
    #[arg(value_name = "MØDE", required_unless_present = "all", conflicts_with = "all")]
    pub(crate) meeting: Option<String>,
    /// Genopbyg hele arkivet: alle møders offentlige dokumenter og hjemmesidens filer (flere
    /// råd: -C a -C b)
    #[arg(long = "alle")]
    pub(crate) all: bool,
}

/// `kkr init`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Valg")]
pub(crate) struct InitCommand {
    /// Mappen der skal oprettes
    #[arg(value_name = "MAPPE")]
    pub(crate) dir: PathBuf,
    /// Rådet: Nordjylland, Midtjylland, Syddanmark, Hovedstaden eller Sjælland
    #[arg(long, conflicts_with = "body")]
    pub(crate) council: Option<String>,
    /// Et andet organ, sekretariatet betjener (fx "K29 – kommunaldirektørkredsen")
    #[arg(long, value_name = "NAVN", requires = "slug")]
    pub(crate) body: Option<String>,
    /// Organets korte maskinnavn til mapper og webadresser (a-z, 0-9 og -), med --body
    #[arg(long, value_name = "SLUG", requires = "body")]
    pub(crate) slug: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_go_before_or_after() {
        let a = Cli::try_parse_from([
            "kkr",
            "-C",
            "x",
            "--now",
            "2027-01-21T09:00",
            "run",
            "--once",
        ])
        .unwrap();
        let b = Cli::try_parse_from([
            "kkr",
            "run",
            "--once",
            "-C",
            "x",
            "--now",
            "2027-01-21T09:00",
        ])
        .unwrap();
        assert_eq!(a.global.dir, b.global.dir);
        assert_eq!(a.global.now, b.global.now);
    }
}
