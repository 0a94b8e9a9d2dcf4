//! `git pitboss export <run> <dir>`: write a run as the file-based run directory.

use std::path::PathBuf;

use clap::Args;

use crate::cli::resolve::{open_run, with_store};
use crate::cli::{CliResult, Ctx, ExitStatus};
use crate::store::layout;

/// Write a run as a file-based run directory (state.json, sessions.jsonl, sessions.md,
/// scratchpad.md, transcripts/session-NNNN.log).
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The run: a full id or a unique prefix.
    run: String,
    /// The directory to create (it must not exist, or be empty).
    dir: PathBuf,
}

pub(crate) fn cmd_export(ctx: &Ctx, args: ExportArgs) -> CliResult {
    with_store(ctx, |store| {
        let run = open_run(store, &args.run)?;
        let dir = if args.dir.is_absolute() {
            args.dir.clone()
        } else {
            ctx.cwd.join(&args.dir)
        };
        let report = layout::export_run(store, &run, &dir)?;
        ctx.ui.status(&format!(
            "exported run {} ({} sessions, {} files) to {}",
            run.id,
            report.sessions,
            report.files,
            args.dir.display()
        ));
        Ok(ExitStatus::Success)
    })
}
