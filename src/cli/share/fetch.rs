//! `git pitboss fetch [<remote>] [<run>…]`: bring a remote's runs into
//! refs/pitboss-remotes/<remote>/grind/ and integrate them (create, fast-forward, or report a
//! divergence). Exit 1 when a run was refused or cannot be reconciled.

use std::io::Write;

use clap::Args;

use super::remote::{print_fetch, remote_and_runs, resolve_runs};
use crate::cli::resolve::with_store;
use crate::cli::ui;
use crate::cli::{CliResult, Ctx, ExitStatus};
use crate::store::share::{FetchOptions, FetchReport, Remote, ShareError};

/// Fetch runs from a remote and bring the local copies up to date.
///
/// New runs are created here, runs that are behind are fast-forwarded, and diverged runs are
/// left as they are and reported (`git pitboss sync` merges them). Runs that fail the safety
/// checks (unexpected paths, symlinks, oversized blobs, unreadable records) are refused. Runs
/// deleted here with `git pitboss rm` stay deleted unless --include-deleted.
#[derive(Debug, Args)]
pub(crate) struct FetchArgs {
    /// The remote (a name, URL or path), then the runs (full ids or unique prefixes).
    #[arg(value_name = "REMOTE|RUN")]
    args: Vec<String>,
    /// Fetch from every configured remote.
    #[arg(long, conflicts_with = "args")]
    all: bool,
    /// Bring back runs that were deleted here.
    #[arg(long)]
    include_deleted: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn cmd_fetch(ctx: &Ctx, args: FetchArgs) -> CliResult {
    with_store(ctx, |store| {
        let mut plans: Vec<(Remote, FetchOptions)> = Vec::new();
        let base = FetchOptions {
            include_deleted: args.include_deleted,
            ..FetchOptions::default()
        };
        if args.all {
            for remote in Remote::all(store.repo())? {
                plans.push((remote, base.clone()));
            }
            if plans.is_empty() {
                return Err(ShareError::NoRemote.into());
            }
        } else {
            let (remote, runs) = remote_and_runs(store, &args.args)?;
            let runs = if runs.is_empty() {
                None
            } else {
                Some(resolve_runs(store, &remote, &runs, true)?)
            };
            plans.push((remote, FetchOptions { runs, ..base }));
        }
        let mut reports: Vec<FetchReport> = Vec::new();
        for (remote, opts) in &plans {
            let report = store.fetch(remote, opts)?;
            if !args.json {
                print_fetch(ctx, &report)?;
            }
            reports.push(report);
        }
        if args.json {
            render_json(&reports, args.all)?;
        }
        Ok(if reports.iter().any(|r| r.any_failed()) {
            ExitStatus::Failed
        } else {
            ExitStatus::Success
        })
    })
}

/// `fetch --json`: the one remote's report, or with `--all` an array of every remote's.
fn render_json(reports: &[FetchReport], all: bool) -> CliResult<()> {
    let mut out = ui::stdout();
    if all {
        serde_json::to_writer_pretty(&mut out, reports)
    } else {
        serde_json::to_writer_pretty(&mut out, &reports[0])
    }?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}
