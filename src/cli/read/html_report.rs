//! `git pitboss report [<run>…] --html FILE`: one self-contained HTML page about runs, to open
//! locally or attach to an issue. (The dry-run report is `cli/grind/dry_report.rs`.)

use std::io::Write;
use std::path::PathBuf;

use anyhow::anyhow;
use clap::Args;

use crate::cli::resolve::{open_run, with_store};
use crate::cli::{CliError, CliResult, Ctx, ExitStatus};
use crate::report::load::Page;
use crate::report::{self, ReportOptions};
use crate::store::Run;

/// Write a self-contained HTML report of runs: summary, charts, yield per prompt, and every
/// session with its readable transcript.
///
/// The page needs nothing outside itself (no network, no script, no font): open it in any
/// browser or attach it to an issue. Several runs are shown side by side.
#[derive(Debug, Args)]
pub(crate) struct HtmlReportArgs {
    /// The runs (full ids or unique prefixes); every run when none is given.
    runs: Vec<String>,
    /// Where to write the page (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    html: PathBuf,
    /// How many of each run's newest sessions carry their readable transcript.
    #[arg(long, value_name = "N", default_value_t = 200)]
    transcripts: usize,
    /// The branch or revision work must reach for the yield table (default: each run's base
    /// branch).
    #[arg(long, value_name = "REV")]
    target: Option<String>,
}

/// The runs named (each once), or every run of the repository, oldest first, when none is.
fn chosen_runs(store: &crate::store::RunStore<'_>, names: &[String]) -> Result<Vec<Run>, CliError> {
    let mut runs: Vec<Run> = Vec::new();
    if names.is_empty() {
        let listing = store.list()?;
        if listing.runs.is_empty() {
            return Err(
                CliError::user(anyhow!("there is no run to report on")).hint(
                    "start one with `git pitboss grind`, or fetch one with `git pitboss fetch`",
                ),
            );
        }
        for r in &listing.runs {
            runs.push(open_run(store, r.id.as_str())?);
        }
    }
    for r in names {
        let run = open_run(store, r)?;
        if !runs.iter().any(|x| x.id == run.id) {
            runs.push(run);
        }
    }
    Ok(runs)
}

pub(crate) fn cmd_html_report(ctx: &Ctx, args: HtmlReportArgs) -> CliResult {
    let opts = ReportOptions {
        transcripts: args.transcripts,
        generated_at: ctx.clock.now(),
        ..ReportOptions::default()
    };
    let page = with_store(ctx, |store| {
        let runs = chosen_runs(store, &args.runs)?;
        Ok(report::load::page(
            store,
            runs,
            args.target.as_deref(),
            &opts,
        )?)
    })?;
    let Page {
        html: page,
        runs,
        sessions,
    } = page;
    write_page(&args.html, page.as_bytes())?;
    if args.html.as_os_str() != "-" {
        ctx.ui.status(&format!(
            "wrote {} ({} run{}, {sessions} session{}, {} KB)",
            args.html.display(),
            runs,
            if runs == 1 { "" } else { "s" },
            if sessions == 1 { "" } else { "s" },
            page.len().div_ceil(1024)
        ));
    }
    Ok(ExitStatus::Success)
}

/// Writes the page whole or not at all: a temporary file beside the target, renamed over it.
fn write_page(path: &std::path::Path, bytes: &[u8]) -> CliResult<()> {
    if path.as_os_str() == "-" {
        let mut out = crate::cli::ui::stdout();
        out.write_all(bytes)?;
        out.flush()?;
        return Ok(());
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // Said in the user's terms: the temporary file beside the page is ours, not theirs.
    let fail = |e: std::io::Error| {
        use std::io::ErrorKind as K;
        let (why, hint) = match e.kind() {
            _ if path.is_dir() => (
                "it is a folder".to_string(),
                format!(
                    "name a file: `--html {}`",
                    path.join("report.html").display()
                ),
            ),
            K::NotFound => (
                format!("the folder {} does not exist", dir.display()),
                "create it first, or name a file in an existing folder".to_string(),
            ),
            K::PermissionDenied | K::ReadOnlyFilesystem => (
                format!("the folder {} is not writable", dir.display()),
                "name a file in a folder you can write to".to_string(),
            ),
            k => (
                k.to_string(),
                "check that the folder exists and is writable".to_string(),
            ),
        };
        CliError::user(anyhow::anyhow!("cannot write {}: {why}", path.display())).hint(hint)
    };
    // A page to share: readable by others like any file the user writes (a temporary file
    // would be private).
    use std::os::unix::fs::PermissionsExt;
    let mut tmp = tempfile::Builder::new()
        .prefix(".pitboss-report")
        .permissions(std::fs::Permissions::from_mode(0o644))
        .tempfile_in(&dir)
        .map_err(fail)?;
    tmp.write_all(bytes).map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
