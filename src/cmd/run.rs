//! `kkr run [--once]`: the daemon (or one pass of it) for one or more councils.

use crate::args::RunCommand;
use crate::error::Result;

use super::Env;

/// `kkr run`: see [`crate::daemon::run_all`].
pub(crate) fn run(env: &Env, cmd: &RunCommand) -> Result<u8> {
    crate::daemon::run_all(
        env.workspaces.clone(),
        env.clock.clone(),
        env.dry_run,
        cmd.once,
    )
}
