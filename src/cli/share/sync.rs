//! `git pitboss sync [<remote>]`: fetch, merge diverged runs, push. Exit 1 when anything was
//! refused or rejected.

use std::io::Write;

use clap::Args;

use super::remote::{print_fetch, print_push_except, resolve_remote};
use crate::cli::resolve::with_store;
use crate::cli::ui;
use crate::cli::{CliResult, Ctx, ExitStatus};
use crate::store::RunId;
use crate::store::share::{BranchOutcome, FetchOptions, FetchReport, PushOptions, PushReport};

/// Fetch runs from a remote, merge the ones that diverged, and push what changed.
///
/// A diverged run becomes a merge commit holding every session of both sides; two sessions
/// that used the same number are both kept, the later-started one renumbered
/// (docs/sharing.md, "Diverged runs"). Both machines compute the same merge, so syncing from either side agrees.
#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    /// The remote (a name, URL or path).
    remote: Option<String>,
    /// Do not push the runs' branches.
    #[arg(long)]
    no_branch: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn cmd_sync(ctx: &Ctx, args: SyncArgs) -> CliResult {
    with_store(ctx, |store| {
        let remote = resolve_remote(store, args.remote.as_deref())?;
        let fetched = store.fetch(
            &remote,
            &FetchOptions {
                merge: true,
                ..FetchOptions::default()
            },
        )?;
        if !args.json {
            print_fetch(ctx, &fetched)?;
        }
        let pushed = store.push(
            &remote,
            &PushOptions {
                branches: !args.no_branch,
                ..PushOptions::default()
            },
        )?;
        if args.json {
            render_json(&fetched, &pushed)?;
        } else {
            render_push_text(ctx, &fetched, &pushed)?;
        }
        Ok(if fetched.any_failed() || pushed.any_rejected() {
            ExitStatus::Failed
        } else {
            ExitStatus::Success
        })
    })
}

/// `sync --json`: both reports, once both are done.
fn render_json(fetched: &FetchReport, pushed: &PushReport) -> CliResult<()> {
    let mut out = ui::stdout();
    let v = serde_json::json!({ "fetch": fetched, "push": pushed });
    serde_json::to_writer_pretty(&mut out, &v)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// `sync`, after the fetch's lines (printed as soon as the fetch is done): the push's lines,
/// leaving out the runs the fetch could not merge, and what resolves those.
fn render_push_text(ctx: &Ctx, fetched: &FetchReport, pushed: &PushReport) -> CliResult<()> {
    let held = fetched.unmerged();
    print_push_except(ctx, pushed, &held)?;
    say_what_resolves(ctx, fetched, pushed, &held);
    Ok(())
}

/// The last word after a push that a failed merge rejected: what resolves it (not another sync,
/// which fails the same way until then).
fn say_what_resolves(ctx: &Ctx, fetched: &FetchReport, pushed: &PushReport, held: &[RunId]) {
    for run in held {
        if !pushed
            .refs
            .iter()
            .any(|r| &r.run == run && r.outcome.is_rejected())
        {
            continue;
        }
        let code = fetched.branches.iter().find_map(|b| match &b.outcome {
            BranchOutcome::Conflict { tracking, .. } if &b.run == run => {
                Some((&b.branch, tracking))
            }
            _ => None,
        });
        let line = match code {
            Some((branch, tracking)) => format!(
                "hint: run {run} is not pushed until its code conflict is resolved: merge \
                 {tracking} into {} by hand, as above (`git merge`, fix, `git commit`); \
                 then a sync pushes it",
                crate::git::short_branch(branch)
            ),
            None => format!(
                "hint: run {run} is not pushed: the fetch above could not merge it (see its line); \
                 a sync pushes it once that is resolved"
            ),
        };
        ctx.ui.status(&line);
    }
}
