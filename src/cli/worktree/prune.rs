//! `git pitboss worktree prune`: remove the worktrees no run can use any more.

use clap::Args;

use crate::cli::resolve::with_store;
use crate::cli::{CliResult, Ctx, ExitStatus};
use crate::grind::sweep;

/// Remove the worktrees of finished or deleted runs (never one a grind is using; one with
/// uncommitted work only with --force).
#[derive(Debug, Args)]
pub(crate) struct PruneArgs {
    /// Also remove worktrees that hold uncommitted work (it is lost).
    #[arg(long)]
    force: bool,
    /// Say what would be removed, remove nothing.
    #[arg(long, short = 'n')]
    dry_run: bool,
}

pub(crate) fn cmd_prune(ctx: &Ctx, args: PruneArgs) -> CliResult {
    with_store(ctx, |store| {
        let report = sweep::prune(store.repo(), store, args.force, args.dry_run)?;
        let verb = if args.dry_run {
            "would remove"
        } else {
            "removed"
        };
        for s in &report.removed {
            ctx.ui
                .status(&format!("{verb} {} ({})", s.name, s.path.display()));
        }
        for b in &report.branches_removed {
            ctx.ui.status(&format!("{verb} slot branch {b}"));
        }
        for b in &report.branches_kept {
            ctx.ui.warn(&format!(
                "kept slot branch {b}: it holds commits the run branch lacks (`git log {b}` \
                 shows them; `git branch -D {b}` deletes them)"
            ));
        }
        for s in &report.kept_dirty {
            ctx.ui.warn(&format!(
                "kept {}: it holds uncommitted work (look at {}, or prune with --force)",
                s.name,
                s.path.display()
            ));
        }
        if report.removed.is_empty() && report.kept_dirty.is_empty() {
            ctx.ui.status("nothing to prune");
        }
        Ok(if report.kept_dirty.is_empty() {
            ExitStatus::Success
        } else {
            ExitStatus::Failed
        })
    })
}
