//! `kkr completions SHELL`: shell completions, written to standard output.

use clap::CommandFactory;

use crate::args::{Cli, CompletionsCommand};
use crate::error::Result;

use super::Env;

/// `kkr completions SHELL`.
pub(crate) fn completions(_env: &Env, cmd: &CompletionsCommand) -> Result<u8> {
    clap_complete::generate(
        cmd.shell,
        &mut Cli::command(),
        "kkr",
        &mut std::io::stdout(),
    );
    Ok(0)
}
