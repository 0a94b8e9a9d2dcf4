//! `git pitboss skip [<run>]`: end the current session of a live grind as `skipped`; the run
//! goes on with the next one.

use clap::Args;

use super::resolve::{open_run, with_store};
use crate::cli::{CliError, CliResult, Ctx, ExitStatus};
use crate::grind::slot::request_skip;

/// Skip the current session of a running grind (it is recorded as `skipped`).
#[derive(Debug, Args)]
pub(crate) struct SkipArgs {
    /// The run (default: the newest running run).
    run: Option<String>,
}

pub(crate) fn cmd_skip(ctx: &Ctx, args: SkipArgs) -> CliResult {
    with_store(ctx, |store| {
        let id = match &args.run {
            Some(r) => open_run(store, r)?.id,
            None => store
                .list()?
                .runs
                .into_iter()
                .filter(|r| r.status.as_str() == "running")
                .max_by_key(|r| (r.last_activity, r.id.clone()))
                .map(|r| r.id)
                .ok_or_else(|| {
                    CliError::user(anyhow::anyhow!("no run is running"))
                        .hint("`git pitboss ls` lists runs and their status")
                })?,
        };
        request_skip(store.repo(), &id)?;
        ctx.ui
            .status(&format!("asked run {id} to skip its current session"));
        Ok(ExitStatus::Success)
    })
}
