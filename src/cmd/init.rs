//! `kkr init DIR --council NAME`: a new workspace for one of the councils.

use crate::args::InitCommand;
use crate::error::Result;

use super::Env;

/// `kkr init`: the meetings are placeholders in the coming season (from July, next year's).
pub(crate) fn init(env: &Env, cmd: &InitCommand) -> Result<u8> {
    let now = env.clock.now();
    let year = if now.month() >= 7 { now.year() + 1 } else { now.year() };
    let body = crate::init::body(
        cmd.council.as_deref(),
        cmd.body.as_deref(),
        cmd.slug.as_deref(),
    )?;
    crate::outln!("{}", crate::init::init(&cmd.dir, &body, year)?);
    Ok(0)
}
