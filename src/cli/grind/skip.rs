//! `git pitboss skip [<run> [<seq>]]`: end one running session of a live grind as `skipped`;
//! the run goes on (its other sessions, in a parallel run, go on running). With no seq, the
//! only session running; when several run side by side, say which.

use clap::Args;

use crate::cli::resolve::{open_run, with_store};
use crate::cli::{CliError, CliResult, Ctx, ExitStatus};
use crate::rundir::skip_target::request_skip;
use crate::watch::control::newest_running;

/// Skip a running session of a grind (it is recorded as `skipped`; the run goes on).
#[derive(Debug, Args)]
pub(crate) struct SkipArgs {
    /// The run (default: the newest running run).
    run: Option<String>,
    /// The session to end (default: the only one running; required when a parallel run has
    /// several).
    seq: Option<u64>,
}

pub(crate) fn cmd_skip(ctx: &Ctx, args: SkipArgs) -> CliResult {
    with_store(ctx, |store| {
        let id = match &args.run {
            Some(r) => open_run(store, r)?.id,
            None => newest_running(store)?.ok_or_else(|| {
                CliError::user(anyhow::anyhow!("no run is running"))
                    .hint("`git pitboss ls` lists runs and their status")
            })?,
        };
        let skipped = request_skip(store.repo(), &id, args.seq)?;
        let what = match &skipped.session {
            Some(s) => match s.slot {
                Some(k) => format!("session {:04} (slot {k})", s.seq),
                None => format!("session {:04}", s.seq),
            },
            None => "its current session".into(),
        };
        ctx.ui.status(&format!("asked run {id} to skip {what}"));
        Ok(ExitStatus::Success)
    })
}
