//! `git pitboss sync [<remote>]`: fetch, merge diverged runs, push. Exit 1 when anything was
//! refused or rejected.

use std::io::Write;

use clap::Args;

use super::remote::{print_fetch, print_push, resolve_remote};
use super::resolve::with_store;
use super::ui;
use crate::cli::{CliResult, Ctx, ExitStatus};
use crate::store::share::{FetchOptions, PushOptions};

/// Fetch runs from a remote, merge the ones that diverged, and push what changed.
///
/// A diverged run becomes a merge commit holding every session of both sides; two sessions
/// that used the same number are both kept, the later-started one renumbered (README,
/// "Diverged runs"). Both machines compute the same merge, so syncing from either side agrees.
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
            let mut out = ui::stdout();
            let v = serde_json::json!({ "fetch": fetched, "push": pushed });
            serde_json::to_writer_pretty(&mut out, &v)?;
            writeln!(out)?;
            out.flush()?;
        } else {
            print_push(ctx, &pushed)?;
        }
        Ok(if fetched.any_failed() || pushed.any_rejected() {
            ExitStatus::Failed
        } else {
            ExitStatus::Success
        })
    })
}
