//! `git pitboss import <dir>`: read a file-based run directory into a new run ref.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::cli::resolve::with_store;
use crate::cli::ui;
use crate::cli::{CliResult, Ctx, ExitStatus};
use crate::store::{RunId, layout};

/// Import a file-based run directory as a run (refuses a run that exists).
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The run directory (with state.json and sessions.jsonl).
    dir: PathBuf,
    /// The run id to import as (default: the id found in the directory).
    #[arg(long, value_name = "RUN")]
    id: Option<String>,
}

pub(crate) fn cmd_import(ctx: &Ctx, args: ImportArgs) -> CliResult {
    let id = match &args.id {
        Some(s) => Some(RunId::parse(s)?),
        None => None,
    };
    let dir = if args.dir.is_absolute() {
        args.dir.clone()
    } else {
        ctx.cwd.join(&args.dir)
    };
    let rd = layout::read_run_dir(&dir)?;
    let id = match id {
        Some(id) => id,
        None => {
            let found = rd
                .found_id
                .clone()
                .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()));
            match found.as_deref().map(RunId::parse) {
                Some(Ok(id)) => id,
                Some(Err(e)) => {
                    return Err(layout::LayoutError::NoRunId {
                        dir: dir.clone(),
                        why: e.to_string(),
                    }
                    .into());
                }
                None => {
                    return Err(layout::LayoutError::NoRunId {
                        dir: dir.clone(),
                        why: "it names none".into(),
                    }
                    .into());
                }
            }
        }
    };
    with_store(ctx, |store| {
        let sessions = rd.session_count();
        let env: Vec<(String, String)> = std::env::vars().collect();
        let redactor =
            crate::agent::Redactor::from_env(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let run = layout::import_run_dir(store, rd, id, &redactor)?;
        store.repo().maintenance_auto();
        ctx.ui.status(&format!(
            "imported run {} ({sessions} sessions) from {}",
            run.id,
            args.dir.display()
        ));
        let mut out = ui::stdout();
        writeln!(out, "{}", run.id)?;
        out.flush()?;
        Ok(ExitStatus::Success)
    })
}
