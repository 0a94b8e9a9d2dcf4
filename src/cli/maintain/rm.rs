//! `git pitboss rm <run> [--remote <remote>]`: delete a run here (and on a remote, leased on
//! what we last saw there), leaving a tombstone so a later fetch does not bring it back.

use std::io::Write;

use clap::Args;

use crate::cli::resolve::with_store;
use crate::cli::share::remote::{resolve_remote, resolve_runs};
use crate::cli::ui;
use crate::cli::{CliResult, Ctx, ExitStatus};
use crate::gc::rm::rm_run;
use crate::store::share::{RemoteDeletion, RmReport};

/// Delete a run: its ref, reflog and tracking refs here, and with --remote on that remote.
///
/// The remote deletion is leased on the tip last fetched from that remote
/// (--force-with-lease), so sessions pushed since are never deleted unseen; when the lease
/// fails nothing is deleted. A tombstone (refs/pitboss-tombstones/grind/<id>) keeps `fetch`
/// from bringing the run back; `fetch --include-deleted` does. The run's branch is kept.
#[derive(Debug, Args)]
pub(crate) struct RmArgs {
    /// The run: a full id or a unique prefix.
    run: String,
    /// Delete it on this remote too (the default remote when no name is given, as for the
    /// other commands).
    #[arg(long, value_name = "REMOTE", num_args = 0..=1, default_missing_value = "")]
    remote: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn cmd_rm(ctx: &Ctx, args: RmArgs) -> CliResult {
    with_store(ctx, |store| {
        let remote = match &args.remote {
            Some(r) => Some(resolve_remote(
                store,
                Some(r.as_str()).filter(|r| !r.is_empty()),
            )?),
            None => None,
        };
        let id = match &remote {
            Some(r) => resolve_runs(store, r, std::slice::from_ref(&args.run), false)?.remove(0),
            None => store.resolve(&args.run)?,
        };
        let report = rm_run(store, &id, remote.as_ref(), std::process::id())?;
        if args.json {
            render_json(&report)?;
        } else {
            render_text(ctx, &report);
        }
        Ok(if report.remote_rejected() {
            ExitStatus::Failed
        } else {
            ExitStatus::Success
        })
    })
}

/// `rm --json`: the report.
fn render_json(report: &RmReport) -> CliResult<()> {
    let mut out = ui::stdout();
    serde_json::to_writer_pretty(&mut out, report)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// `rm`: what was deleted where, on stderr, with how to undo it or what to do next.
fn render_text(ctx: &Ctx, report: &RmReport) {
    let id = &report.run;
    match &report.remote {
        Some(RemoteDeletion::Deleted { remote }) => {
            ctx.ui.status(&format!("deleted run {id} on {remote}"));
        }
        Some(RemoteDeletion::Rejected {
            remote, message, ..
        }) => {
            ctx.ui.warn(&format!(
                "{remote} refused to delete run {id}: {message}; nothing was deleted"
            ));
            ctx.ui.status(&format!(
                "hint: `git pitboss fetch {remote} {id}` shows what is there now; then run rm again"
            ));
        }
        None => {}
    }
    if let Some(tip) = &report.local_tip {
        ctx.ui.status(&format!("deleted run {id} here (was {tip})"));
        ctx.ui.status(&format!(
            "hint: until `git gc` prunes it, `git update-ref {} {tip}` restores it",
            id.ref_name()
        ));
    }
    if let Some(b) = &report.branch_kept {
        let short = b.short();
        ctx.ui.status(&format!(
            "branch {b} is kept (`git branch -D {short}` deletes it)"
        ));
    }
}
