//! `git pitboss why <file>:<line>`: the session behind one line: its commit, the session's
//! record (prompt, agent, model, status, tokens, cost, summary), the prompt's text as the run
//! started with it, and the part of the transcript around the tool call that wrote the file.

use crate::cli::escape::one_line;
use std::io::Write;

use anyhow::anyhow;
use clap::Args;

use crate::agent::readable::{self, Backend};
use crate::cli::resolve::{money, with_store};
use crate::cli::ui;
use crate::cli::{CliError, CliResult, Ctx, ExitStatus};
use crate::git::Oid;
use crate::provenance::{self, BlameRequest, blame};
use crate::store::{Run, RunId, RunStore, SessionRecord};

/// Lines of transcript shown either side of the one that wrote the file.
const RADIUS: usize = 6;

/// Explain one line: which session wrote it, with what prompt, at what cost.
#[derive(Debug, Args)]
pub(crate) struct WhyArgs {
    /// The line, as `<file>:<line>` (e.g. src/main.rs:42).
    #[arg(value_name = "FILE:LINE")]
    at: String,
    /// Blame the file at this revision instead of the work tree.
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
    /// Add the runs fetched from remotes that are not local runs.
    #[arg(long)]
    remote_runs: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn parse_at(s: &str) -> Option<(&str, usize)> {
    let (file, line) = s.rsplit_once(':')?;
    let n: usize = line.parse().ok()?;
    (!file.is_empty() && n > 0).then_some((file, n))
}

pub(crate) fn cmd_why(ctx: &Ctx, args: WhyArgs) -> CliResult {
    let (file, line) = parse_at(&args.at).ok_or_else(|| {
        CliError::user(anyhow!("{:?} is not <file>:<line>", args.at))
            .hint("name a line like src/main.rs:42 (lines count from 1)")
    })?;
    with_store(ctx, |store| {
        let bl = blame_one_line(store, &args, file, line)?;
        let mut out = ui::stdout();
        let Some(sref) = &bl.session else {
            if args.json {
                render_unattributed_json(file, line, &bl, &mut out)?;
            } else {
                render_unattributed_text(file, line, &bl, &mut out)?;
            }
            out.flush()?;
            return Ok(ExitStatus::Success);
        };
        let facts = load_session(store, sref, file)?;
        if args.json {
            render_json(file, line, &bl, sref, &facts, &mut out)?;
        } else {
            render_text(file, line, &bl, sref, &facts, &mut out)?;
        }
        out.flush()?;
        Ok(ExitStatus::Success)
    })
}

/// Blames `file` at `line` (in the work tree, or at `--rev`) and maps its commit to a session.
fn blame_one_line(
    store: &RunStore<'_>,
    args: &WhyArgs,
    file: &str,
    line: usize,
) -> CliResult<blame::BlameLine> {
    let req = BlameRequest {
        rev: args.rev.as_deref(),
        file,
        ranges: &[],
        remote_runs: args.remote_runs,
    };
    Ok(provenance::blame_line(store, req, line)?)
}

/// `why --json` for a line no session is known to have written: its commit, its text and the
/// sessions that could have written it.
fn render_unattributed_json(
    file: &str,
    line: usize,
    bl: &blame::BlameLine,
    out: &mut dyn Write,
) -> CliResult<()> {
    let v = serde_json::json!({ "file": file, "line": line, "commit": bl.commit, "content": bl.content, "session": null, "candidates": bl.candidates });
    serde_json::to_writer_pretty(&mut *out, &v)?;
    writeln!(out)?;
    Ok(())
}

/// `why` for a line no session is known to have written: its commit, and the sessions that
/// could have written it if there are any.
fn render_unattributed_text(
    file: &str,
    line: usize,
    bl: &blame::BlameLine,
    out: &mut dyn Write,
) -> CliResult<()> {
    writeln!(out, "{file}:{line}  {}", one_line(&bl.content))?;
    if bl.candidates.is_empty() {
        writeln!(
            out,
            "commit    {} (not written by a pitboss session)",
            bl.commit
        )?;
    } else {
        writeln!(out, "commit    {} (not a session's own commit)", bl.commit)?;
        let who = super::blame::candidates_text(&bl.candidates);
        writeln!(out, "session   {who}")?;
    }
    Ok(())
}

/// What `why` tells about the session behind a line.
struct SessionFacts {
    /// The run, read at the ref the blame found it on (a fetched copy if that is where).
    run: Run,
    record: SessionRecord,
    /// The blob id of the prompt's text as the run started with it, if the run recorded it.
    digest: Option<String>,
    /// The prompt's text, if its blob is in this repository.
    prompt_text: Option<String>,
    /// The whole transcript as `show --pretty` reads it (empty when none was recorded).
    transcript: String,
    /// The part of the transcript around the tool call that wrote the file.
    excerpt: Option<Vec<(usize, String)>>,
}

/// Reads the run, record, prompt text and transcript of the session `sref` names.
fn load_session(
    store: &RunStore<'_>,
    sref: &blame::SessionRef,
    file: &str,
) -> CliResult<SessionFacts> {
    let repo = store.repo();
    let id = RunId::parse(&sref.run)?;
    let run = match store.open_run(&id) {
        Ok(r) if r.id.ref_name() == sref.refname => r,
        _ => {
            let tip = repo.ref_target(&sref.refname)?.ok_or_else(|| {
                CliError::from(crate::store::StoreError::RunNotFound(sref.run.clone()))
            })?;
            store.open_run_at(&id, &sref.refname, tip)?
        }
    };
    let record = store.record(&run, sref.seq)?.ok_or_else(|| {
        CliError::from(crate::store::StoreError::SessionNotFound {
            run: id.clone(),
            seq: sref.seq,
        })
    })?;
    let digest = run.meta.prompts.get(&record.prompt).cloned();
    let prompt_text = match digest.as_deref().and_then(|d| d.parse::<Oid>().ok()) {
        Some(oid) => repo
            .blob_if_present(oid)?
            .map(|b| String::from_utf8_lossy(&b).into_owned()),
        None => None,
    };
    let raw = match store.transcript_blob(&run, sref.seq)? {
        Some(b) => store.with_blob(b, <[u8]>::to_vec)?,
        None => Vec::new(),
    };
    let agent = record.agent.as_deref().or(run.meta.agent.as_deref());
    let transcript = readable_text(agent, &raw)?;
    let excerpt = blame::transcript_excerpt(&transcript, file, RADIUS);
    Ok(SessionFacts {
        run,
        record,
        digest,
        prompt_text,
        transcript,
        excerpt,
    })
}

/// `why --json` for a line a session wrote: the line, the session, its record, figures, prompt
/// and the transcript excerpt.
fn render_json(
    file: &str,
    line: usize,
    bl: &blame::BlameLine,
    sref: &blame::SessionRef,
    f: &SessionFacts,
    out: &mut dyn Write,
) -> CliResult<()> {
    let record = &f.record;
    let v = serde_json::json!({
        "file": file,
        "line": line,
        "commit": bl.commit,
        "content": bl.content,
        "session": sref,
        "record": record,
        "tokens_total": record.usage.tokens.total(),
        "cost_known": record.usage.known_cost().is_some(),
        "prompt_digest": f.digest,
        "prompt_text": f.prompt_text,
        "transcript_path": record.transcript_path,
        "transcript_excerpt": f.excerpt.as_ref().map(|e| e.iter().map(|(n, l)| serde_json::json!({"line": n, "text": l})).collect::<Vec<_>>()),
    });
    serde_json::to_writer_pretty(&mut *out, &v)?;
    writeln!(out)?;
    Ok(())
}

/// `why` for a line a session wrote: the line and how it was matched, the session's record,
/// the prompt's text, then the transcript excerpt.
fn render_text(
    file: &str,
    line: usize,
    bl: &blame::BlameLine,
    sref: &blame::SessionRef,
    f: &SessionFacts,
    out: &mut dyn Write,
) -> CliResult<()> {
    let via = match sref.via {
        blame::Via::Commit => "",
        blame::Via::PatchId => " (same change by patch id: rebased, cherry-picked or squashed)",
        blame::Via::SquashedRun => " (a squash of the whole run branch; the line matched on it)",
        blame::Via::Applied => {
            " (the session's change is applied here, as stats counts it: a hand copy or a squash of some sessions; the line matched by its text)"
        }
    };
    writeln!(out, "{file}:{line}  {}", one_line(&bl.content))?;
    writeln!(out, "commit    {}{via}", bl.commit)?;
    render_record_text(&f.run, &f.record, out)?;
    writeln!(out)?;
    render_prompt_text(
        &f.record,
        f.prompt_text.as_deref(),
        f.digest.as_deref(),
        out,
    )?;
    writeln!(out)?;
    render_excerpt_text(file, f, out)
}

/// The run, session, prompt, agent, model, status, tokens, cost and summary lines of `why`.
fn render_record_text(run: &Run, record: &SessionRecord, out: &mut dyn Write) -> CliResult<()> {
    writeln!(out, "run       {}", run.id)?;
    writeln!(out, "session   {}", record.seq)?;
    writeln!(out, "prompt    {}", one_line(&record.prompt))?;
    let agent = record.agent.clone().or(run.meta.agent.clone());
    writeln!(
        out,
        "agent     {}",
        one_line(agent.as_deref().unwrap_or("unknown"))
    )?;
    writeln!(
        out,
        "model     {}",
        one_line(record.model.as_deref().unwrap_or("unknown"))
    )?;
    writeln!(out, "status    {}", record.status)?;
    let t = &record.usage.tokens;
    writeln!(
        out,
        "tokens    {} ({} in, {} out, {} cache read, {} cache write)",
        t.total(),
        t.input,
        t.output,
        t.cache_read,
        t.cache_write
    )?;
    let cost = record.usage.known_cost();
    writeln!(out, "cost      {}", cost.map_or("unknown".into(), money))?;
    match &record.summary {
        Some(s) => writeln!(out, "summary   {}", one_line(s))?,
        None => writeln!(out, "summary   (none)")?,
    }
    Ok(())
}

/// The prompt's text as the run started with it, or why it cannot be shown.
fn render_prompt_text(
    record: &SessionRecord,
    prompt_text: Option<&str>,
    digest: Option<&str>,
    out: &mut dyn Write,
) -> CliResult<()> {
    match (prompt_text, digest) {
        (Some(text), Some(d)) => {
            writeln!(
                out,
                "prompt text ({}, blob {}):",
                one_line(&record.prompt),
                &d[..d.len().min(12)]
            )?;
            for l in text.lines() {
                writeln!(out, "    {}", one_line(l))?;
            }
        }
        (None, Some(d)) => writeln!(
            out,
            "prompt text: not in this repository (the run started with blob {d})"
        )?,
        (_, None) => writeln!(out, "prompt text: not recorded by this run")?,
    }
    Ok(())
}

/// The transcript lines around the one that wrote `file`, or why there are none.
fn render_excerpt_text(file: &str, f: &SessionFacts, out: &mut dyn Write) -> CliResult<()> {
    match &f.excerpt {
        Some(lines) => {
            let (a, b) = (lines[0].0, lines[lines.len() - 1].0);
            writeln!(
                out,
                "transcript ({} as `show --pretty` reads it, lines {a}-{b}):",
                f.record.transcript_path
            )?;
            for (n, l) in lines {
                writeln!(out, "    {n:>5}  {}", one_line(l))?;
            }
        }
        None if f.transcript.is_empty() => writeln!(out, "transcript: none recorded")?,
        None => writeln!(
            out,
            "transcript: does not mention {file}; read it with `git pitboss show {} {} --pretty`",
            f.run.id, f.record.seq
        )?,
    }
    Ok(())
}

/// The transcript as `show --pretty` reads it (an agent's event stream becomes the tool calls
/// and text a person reads; a command agent's output stays as it is), without colour.
fn readable_text(agent: Option<&str>, raw: &[u8]) -> std::io::Result<String> {
    let entries = readable::entries(Backend::from_agent(agent), raw);
    let mut out = Vec::new();
    super::pretty::write_entries(&mut out, &entries, false)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_line_parse() {
        assert_eq!(parse_at("src/a.rs:12"), Some(("src/a.rs", 12)));
        assert_eq!(parse_at("c:/x:3"), Some(("c:/x", 3)));
        assert_eq!(parse_at("a.rs"), None);
        assert_eq!(parse_at("a.rs:0"), None);
        assert_eq!(parse_at(":4"), None);
    }
}
