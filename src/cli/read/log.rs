//! `git pitboss log <run>`: the session records of a run, as a readable list, JSON lines
//! (exactly as stored), a JSON array, or the original `sessions.md`.

use std::io::Write;

use clap::Args;

use crate::cli::escape::{one_line, terminal_safe};
use crate::cli::ledger;
use crate::cli::resolve::{duration, open_run, with_store};
use crate::cli::ui::{self, Style};
use crate::cli::{CliResult, Ctx, ExitStatus};
use crate::store::{Run, RunStore, SessionRecord, SessionStatus, render_sessions_md};

/// Show the session records of a run.
#[derive(Debug, Args)]
pub(crate) struct LogArgs {
    /// The run: a full id or a unique prefix.
    run: String,
    /// One record per line, exactly as stored in the run.
    #[arg(long, group = "format")]
    jsonl: bool,
    /// A JSON array of records.
    #[arg(long, group = "format")]
    json: bool,
    /// The session log as markdown (the file-based design's sessions.md).
    #[arg(long, group = "format")]
    md: bool,
}

pub(crate) fn cmd_log(ctx: &Ctx, args: LogArgs) -> CliResult {
    with_store(ctx, |store| {
        let run = open_run(store, &args.run)?;
        let mut out = ui::stdout();
        if args.jsonl {
            render_jsonl(store, &run, &mut out)?;
        } else {
            let records = store.records(&run)?;
            if args.json {
                render_json(&records, &mut out)?;
            } else if args.md {
                render_md(&records, &mut out)?;
            } else if records.is_empty() {
                ctx.ui
                    .status(&format!("run {} has no sessions yet", run.id));
            } else {
                render_text(ctx, &records, &mut out)?;
            }
        }
        out.flush()?;
        Ok(ExitStatus::Success)
    })
}

/// `log --jsonl`: each record's line exactly as stored, streamed as it is read.
fn render_jsonl(store: &RunStore<'_>, run: &Run, out: &mut impl Write) -> CliResult<()> {
    let mut io_err = None;
    store.for_each_record(run, |_, line| {
        if io_err.is_none()
            && let Err(e) = writeln!(out, "{line}")
        {
            io_err = Some(e);
        }
        Ok(())
    })?;
    match io_err {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// `log --json`: the records as a JSON array.
fn render_json(records: &[SessionRecord], out: &mut impl Write) -> CliResult<()> {
    serde_json::to_writer_pretty(&mut *out, records)?;
    writeln!(out)?;
    Ok(())
}

/// `log --md`: the file-based design's `sessions.md`.
fn render_md(records: &[SessionRecord], out: &mut impl Write) -> CliResult<()> {
    out.write_all(terminal_safe(&render_sessions_md(records)).as_bytes())?;
    Ok(())
}

/// `log`: one line per session (seq, status, prompt, time, tokens, cost, commit, summary).
fn render_text(ctx: &Ctx, records: &[SessionRecord], out: &mut impl Write) -> CliResult<()> {
    let pw = records
        .iter()
        .map(|r| r.prompt.chars().count())
        .max()
        .unwrap_or(6)
        .min(24);
    for r in records {
        let status = ctx
            .ui
            .paint(style(r.status), &format!("{:<7}", r.status.as_str()));
        let commit = r
            .commit_text()
            .map(|c| c.chars().take(7).collect())
            .unwrap_or_else(|| "-".repeat(7));
        let summary = r
            .summary
            .as_deref()
            .and_then(|s| s.lines().find(|l| !l.trim().is_empty()))
            .unwrap_or("");
        // Only a session kept off the branch by its landing is marked: sequential
        // runs (no landing) read as they always did.
        let mark = mark(ctx, r, summary);
        let line = format!(
            "{}  {status} {:<pw$} {:>6} {:>9} {:>9}  {}  {mark}{}",
            ctx.ui.paint(Style::Dim, &format!("{:04}", r.seq)),
            one_line(&r.prompt),
            duration(r.duration_secs()),
            format!("{} tok", r.usage.tokens.total()),
            ledger::session_cost(r),
            one_line(&commit),
            one_line(summary),
        );
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn mark(ctx: &Ctx, r: &SessionRecord, summary: &str) -> String {
    let summary = summary.to_lowercase();
    r.landing
        .as_ref()
        .and_then(|l| l.mark())
        .filter(|m| !summary.starts_with(&m.replace('_', " ")))
        .map(|m| format!("{} ", ctx.ui.paint(Style::Bad, m)))
        .unwrap_or_default()
}

pub(crate) fn style(s: SessionStatus) -> Style {
    match s {
        SessionStatus::Ok => Style::Good,
        SessionStatus::Dirty | SessionStatus::Skipped => Style::Warn,
        _ => Style::Bad,
    }
}
