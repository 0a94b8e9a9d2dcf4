//! `git pitboss push [<remote>] [<run>…]`: publish runs and their branches in one `git push`
//! with explicit refspecs, never forced. Exit 1 when the remote rejected anything.

use std::io::Write;

use clap::Args;

use super::remote::{print_push, remote_and_runs, resolve_runs};
use crate::cli::resolve::with_store;
use crate::cli::ui;
use crate::cli::{CliError, CliResult, Ctx, ExitStatus};
use crate::store::share::{PushOptions, PushReport};

/// Push runs to a remote (default: every run that changed since the last push or fetch).
///
/// Each run goes to refs/pitboss/grind/<id> on the remote, with the branch it records
/// (pitboss/<id>; pitboss/grind/<id> for older runs) when it has one. Nothing a teammate pushed
/// is replaced: a run that diverged is rejected and reported; `git pitboss sync` merges it. The remote defaults to `pitboss.remote`, the current branch's push
/// remote, or origin.
#[derive(Debug, Args)]
pub(crate) struct PushArgs {
    /// The remote (a name, URL or path), then the runs (full ids or unique prefixes).
    #[arg(value_name = "REMOTE|RUN")]
    args: Vec<String>,
    /// Push every run, not only the ones that changed (no run arguments then).
    #[arg(long)]
    all: bool,
    /// Do not push the runs' branches.
    #[arg(long)]
    no_branch: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn cmd_push(ctx: &Ctx, args: PushArgs) -> CliResult {
    with_store(ctx, |store| {
        let (remote, runs) = remote_and_runs(store, &args.args)?;
        if args.all && !runs.is_empty() {
            return Err(CliError::user(anyhow::anyhow!(
                "--all pushes every run: name runs, or give --all, not both"
            )));
        }
        let runs = if runs.is_empty() {
            None
        } else {
            Some(resolve_runs(store, &remote, &runs, false)?)
        };
        let opts = PushOptions {
            runs,
            all: args.all,
            branches: !args.no_branch,
        };
        let report = store.push(&remote, &opts)?;
        if args.json {
            render_json(&report)?;
        } else {
            print_push(ctx, &report)?;
        }
        Ok(if report.any_rejected() {
            ExitStatus::Failed
        } else {
            ExitStatus::Success
        })
    })
}

/// `push --json`: the report as it is.
fn render_json(report: &PushReport) -> CliResult<()> {
    let mut out = ui::stdout();
    serde_json::to_writer_pretty(&mut out, report)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}
