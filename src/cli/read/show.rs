//! `git pitboss show <run> [<seq>]`: one run's overview, or one session's record (and with
//! `--transcript`, its transcript, byte for byte; with `--pretty`, readably).

use std::io::Write;

use clap::Args;

use crate::cli::escape::one_line;
use crate::cli::ledger;
use crate::cli::resolve::{duration, open_run, with_store};
use crate::cli::ui;
use crate::cli::{CliError, CliResult, Ctx, ExitStatus};
use crate::rundir::interrupted;
use crate::store::{Run, RunStore, Seq, SessionRecord, rfc3339};

/// Show a run, or one session of it.
#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The run: a full id or a unique prefix.
    run: String,
    /// A session number (as in `git pitboss log`).
    seq: Option<u64>,
    /// Print the session's transcript instead of its record.
    #[arg(long, requires = "seq")]
    transcript: bool,
    /// Print the session's transcript readably: the assistant's text, tool calls and their
    /// results (shortened), errors and the final figures, coloured on a terminal.
    #[arg(long, requires = "seq", conflicts_with = "json")]
    pretty: bool,
    /// Print JSON (the run's metadata and state, or the session's record).
    #[arg(long, conflicts_with = "transcript")]
    json: bool,
}

pub(crate) fn cmd_show(ctx: &Ctx, args: ShowArgs) -> CliResult {
    if let (true, Some(seq)) = (args.pretty, args.seq) {
        return super::show_pretty::cmd_show_pretty(ctx, &args.run, seq);
    }
    with_store(ctx, |store| {
        let run = open_run(store, &args.run)?;
        let mut out = ui::stdout();
        match args.seq {
            None => {
                let interrupted =
                    interrupted::is_interrupted(store.repo(), &run.id, &run.state.status, || {
                        run.meta.branch.is_some()
                    });
                if args.json {
                    render_run_json(&run, interrupted, &mut out)?;
                } else {
                    render_run_text(&run, interrupted, &mut out)?;
                }
            }
            Some(seq) => {
                let record = store.record(&run, seq)?.ok_or_else(|| {
                    CliError::from(crate::store::StoreError::SessionNotFound {
                        run: run.id.clone(),
                        seq,
                    })
                })?;
                if args.transcript {
                    if let Some(oid) = store.transcript_blob(&run, seq)? {
                        store.with_blob(oid, |b| out.write_all(b))??;
                    }
                } else if args.json {
                    render_session_json(&record, &mut out)?;
                } else {
                    render_session_text(ctx, store, &run, seq, &record, &mut out)?;
                }
            }
        }
        out.flush()?;
        Ok(ExitStatus::Success)
    })
}

/// `show <run> <seq> --json`: the session's record.
fn render_session_json(record: &SessionRecord, out: &mut dyn Write) -> CliResult<()> {
    serde_json::to_writer_pretty(&mut *out, record)?;
    writeln!(out)?;
    Ok(())
}

/// `show <run> --json`: the run's metadata and state, its tip, and whether it was interrupted.
fn render_run_json(run: &Run, interrupted: bool, out: &mut dyn Write) -> CliResult<()> {
    let v = serde_json::json!({ "meta": run.meta, "state": run.state, "tip": run.tip.to_string(), "interrupted": interrupted });
    serde_json::to_writer_pretty(&mut *out, &v)?;
    writeln!(out)?;
    Ok(())
}

/// `show <run>`: the run's overview for a person, then its figures and how to read it further.
fn render_run_text(run: &Run, interrupted: bool, out: &mut dyn Write) -> CliResult<()> {
    let s = &run.state;
    let refname = run.id.ref_name();
    writeln!(out, "run       {}", run.id)?;
    writeln!(out, "ref       {refname} ({})", &run.tip.to_string()[..12])?;
    match &s.stop_reason {
        _ if interrupted => writeln!(
            out,
            "status    {} ({})",
            interrupted::INTERRUPTED,
            interrupted::resume_note(&run.id)
        )?,
        Some(r) => writeln!(
            out,
            "status    {} ({})",
            one_line(&s.status.to_string()),
            one_line(r)
        )?,
        None => writeln!(out, "status    {}", one_line(&s.status.to_string()))?,
    }
    writeln!(out, "started   {}", rfc3339::format(&s.started_at))?;
    writeln!(out, "updated   {}", rfc3339::format(&s.last_updated_at))?;
    // In full: an older run's short `pitboss/grind/<id>` names the run ref to git.
    let branch = run.meta.branch_shown();
    for (label, v) in [
        ("agent", &run.meta.agent),
        ("rotation", &run.meta.rotation),
        ("branch", &branch),
        ("base", &run.meta.base_branch),
    ] {
        if let Some(v) = v {
            writeln!(out, "{label:<9} {}", one_line(v))?;
        }
    }
    if let Some(pr) = s.pull_request() {
        writeln!(out, "pull req  {}", one_line(&pr.url))?;
    }
    render_run_figures_text(run, out)?;
    writeln!(out)?;
    writeln!(
        out,
        "read it with: git pitboss log {}   or   git log {refname}",
        run.id
    )?;
    Ok(())
}

/// The `sessions`, `tokens` and `cost` lines of a run's overview.
fn render_run_figures_text(run: &Run, out: &mut dyn Write) -> CliResult<()> {
    let s = &run.state;
    let by: Vec<String> = s
        .consumed
        .by_status
        .iter()
        .map(|(k, v)| format!("{v} {}", one_line(k)))
        .collect();
    let by = if by.is_empty() {
        String::new()
    } else {
        format!(" ({})", by.join(", "))
    };
    writeln!(out, "sessions  {}{by}", s.consumed.sessions)?;
    let c = &s.consumed;
    writeln!(out, "tokens    {}", ledger::tokens_with_parts(&c.tokens))?;
    writeln!(
        out,
        "cost      {}",
        ledger::run_cost(c.cost_usd, c.unknown_cost_sessions, c.sessions)
    )?;
    Ok(())
}

/// `show <run> <seq>`: session `seq`'s record `r` for a person, its patch and transcript, then
/// its summary.
fn render_session_text(
    ctx: &Ctx,
    store: &RunStore<'_>,
    run: &Run,
    seq: u64,
    r: &SessionRecord,
    out: &mut dyn Write,
) -> CliResult<()> {
    writeln!(out, "session   {:04} of run {}", r.seq, run.id)?;
    writeln!(out, "prompt    {}", one_line(&r.prompt))?;
    writeln!(
        out,
        "status    {}",
        ctx.ui.paint(super::log::style(r.status), r.status.as_str())
    )?;
    writeln!(out, "started   {}", rfc3339::format(&r.started_at))?;
    writeln!(
        out,
        "ended     {} ({})",
        rfc3339::format(&r.ended_at),
        duration(r.duration_secs())
    )?;
    writeln!(
        out,
        "commit    {}",
        one_line(r.commit_text().as_deref().unwrap_or("(none)"))
    )?;
    render_session_usage_text(r, out)?;
    if let Some(k) = r.slot {
        writeln!(out, "slot      {k}")?;
    }
    if let Some(l) = &r.landing {
        writeln!(out, "landing   {}", one_line(&l.describe()))?;
    }
    patch_lines(store, run, seq, out)?;
    writeln!(
        out,
        "transcript {}:{} (git pitboss show {} {} --transcript)",
        run.id.ref_name(),
        Seq(seq).transcript_path(),
        run.id,
        seq
    )?;
    match r.summary.as_deref() {
        Some(s) if !s.trim().is_empty() => {
            writeln!(out)?;
            for line in s.lines() {
                writeln!(out, "    {}", one_line(line))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A session's `tokens` and `cost` lines (with where the cost came from), and the agent, model
/// and agent session id it recorded.
fn render_session_usage_text(r: &SessionRecord, out: &mut dyn Write) -> CliResult<()> {
    let t = &r.usage.tokens;
    writeln!(out, "tokens    {}", ledger::tokens_with_parts(t))?;
    if t.reasoning > 0 {
        writeln!(out, "          {} of the output reasoning", t.reasoning)?;
    }
    let source = r
        .usage
        .cost_source
        .map(|c| {
            format!(
                " ({})",
                serde_json::to_value(c)
                    .expect("a cost source is plain data")
                    .as_str()
                    .unwrap_or_default()
            )
        })
        .unwrap_or_default();
    writeln!(out, "cost      {}{source}", ledger::session_cost(r))?;
    for (label, v) in [
        ("agent", &r.agent),
        ("model", &r.model),
        ("agent id", &r.agent_session_id),
    ] {
        if let Some(v) = v {
            writeln!(out, "{label:<9} {}", one_line(v))?;
        }
    }
    Ok(())
}

/// The `patch` line of one session, and where its work is kept whole when the patch in the
/// run is for reading only (see `grind::kept`): on a local ref that is here, or on the machine
/// that ran the session.
fn patch_lines(store: &RunStore<'_>, run: &Run, seq: u64, out: &mut dyn Write) -> CliResult<()> {
    let Some(blob) = store.patch_blob(run, seq)? else {
        return Ok(());
    };
    writeln!(
        out,
        "patch     {}:{}",
        run.id.ref_name(),
        Seq(seq).patch_path()
    )?;
    let repo = store.repo();
    let kept = repo.with_blob(blob, crate::store::kept::kept_ref_in)?;
    if let Some(at) = kept {
        let here = repo.ref_target(&at)?.is_some();
        let whole = if here {
            format!("{at} (here; never pushed): `git switch -c <branch> {at}`")
        } else {
            format!("{at} on the machine that ran the session, not here")
        };
        writeln!(
            out,
            "work      the patch is for reading only; the work is whole at {}",
            one_line(&whole)
        )?;
    }
    Ok(())
}
