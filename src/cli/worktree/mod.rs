//! `git pitboss worktree ls | prune`: the slot worktrees runs leave behind.

mod ls;
mod prune;

use clap::Subcommand;

use crate::cli::{CliResult, Ctx};

/// See and clean up the worktrees of runs.
#[derive(Debug, Subcommand)]
pub(crate) enum WorktreeCommand {
    Ls(ls::LsArgs),
    Prune(prune::PruneArgs),
}

pub(crate) fn dispatch(ctx: &Ctx, c: WorktreeCommand) -> CliResult {
    match c {
        WorktreeCommand::Ls(a) => ls::cmd_ls(ctx, a),
        WorktreeCommand::Prune(a) => prune::cmd_prune(ctx, a),
    }
}
