//! `git pitboss worktree ls`: each run worktree, its run's status, whether a grind is in it,
//! whether it holds uncommitted work, and whether `prune` would remove it.

use std::io::Write;

use clap::Args;

use crate::cli::resolve::with_store;
use crate::cli::{CliResult, Ctx, ExitStatus, ui};
use crate::grind::sweep;

/// List the worktrees of runs.
#[derive(Debug, Args)]
pub(crate) struct LsArgs {
    /// Print a JSON array.
    #[arg(long)]
    json: bool,
}

pub(crate) fn cmd_ls(ctx: &Ctx, args: LsArgs) -> CliResult {
    with_store(ctx, |store| {
        let slots = sweep::list(store.repo(), store)?;
        let mut out = ui::stdout();
        if args.json {
            serde_json::to_writer_pretty(&mut out, &slots)?;
            writeln!(out)?;
        } else if slots.is_empty() {
            ctx.ui.status("no run worktrees");
        } else {
            for s in &slots {
                let status = s.run_status.as_deref().unwrap_or("run gone");
                let mut flags = Vec::new();
                if s.live {
                    flags.push("grind running");
                }
                if s.dirty {
                    flags.push("uncommitted work");
                }
                if s.prunable {
                    flags.push("prunable");
                }
                writeln!(
                    out,
                    "{}  {status}  {}  {}",
                    s.name,
                    flags.join(", "),
                    s.path.display()
                )?;
            }
        }
        out.flush()?;
        Ok(ExitStatus::Success)
    })
}
