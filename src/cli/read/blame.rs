//! `git pitboss blame [<rev>] <file>`: git's blame of a file, each line annotated with the
//! run, session and prompt that wrote it when its commit came from a session (or matches one
//! by patch id after a rebase or squash, or the session's change is applied there), the
//! candidate sessions when that is uncertain; other lines are left plain.

use crate::cli::escape::one_line;
use std::io::Write;

use clap::Args;

use crate::cli::resolve::with_store;
use crate::cli::ui;
use crate::cli::{CliResult, Ctx, ExitStatus};
use crate::provenance::blame::SessionRef;
use crate::provenance::{self, BlameLine, BlameRequest};

/// Blame a file, naming the pitboss session that wrote each line.
#[derive(Debug, Args)]
pub(crate) struct BlameArgs {
    /// `[<rev>] <file>`: the file, optionally preceded by the revision to blame it at.
    #[arg(value_name = "[REV] FILE", num_args = 1..=2, required = true)]
    args: Vec<String>,
    /// Only these lines, as git blame takes them (`10,20`, `10,+5`, `:funcname`); repeatable.
    #[arg(short = 'L', value_name = "RANGE")]
    lines: Vec<String>,
    /// Add the runs fetched from remotes that are not local runs.
    #[arg(long)]
    remote_runs: bool,
    /// Print JSON (one object per line of the file).
    #[arg(long)]
    json: bool,
}

pub(crate) fn cmd_blame(ctx: &Ctx, args: BlameArgs) -> CliResult {
    let (rev, file) = match args.args.as_slice() {
        [file] => (None, file.as_str()),
        [rev, file] => (Some(rev.as_str()), file.as_str()),
        _ => unreachable!("clap takes one or two values"),
    };
    with_store(ctx, |store| {
        let req = BlameRequest {
            rev,
            file,
            ranges: &args.lines,
            remote_runs: args.remote_runs,
        };
        let lines = provenance::blame_file(store, req)?;
        let mut out = ui::stdout();
        if args.json {
            render_json(&mut out, &lines)?;
        } else {
            render_text(&mut out, &lines)?;
        }
        out.flush()?;
        Ok(ExitStatus::Success)
    })
}

/// `blame --json`: one object per line of the file.
fn render_json(out: &mut impl Write, lines: &[BlameLine]) -> CliResult<()> {
    serde_json::to_writer_pretty(&mut *out, lines)?;
    writeln!(out)?;
    Ok(())
}

fn label(l: &BlameLine) -> String {
    match &l.session {
        Some(s) => format!("{} #{:04} {}", s.run, s.seq, one_line(&s.prompt)),
        None if !l.candidates.is_empty() => candidates_text(&l.candidates),
        None => String::new(),
    }
}

/// The sessions that could have written a line: `unknown: one of sessions 4, 7 (run <id>)`.
pub(super) fn candidates_text(c: &[SessionRef]) -> String {
    let one_run = c.iter().all(|s| s.refname == c[0].refname);
    let seqs: Vec<String> = c
        .iter()
        .map(|s| match one_run {
            true => s.seq.to_string(),
            false => format!("{} #{}", one_line(&s.run), s.seq),
        })
        .collect();
    let what = match seqs.len() {
        1 => format!(
            "unknown: perhaps session {} (its reach is undecided)",
            seqs[0]
        ),
        _ => format!("unknown: one of sessions {}", seqs.join(", ")),
    };
    match one_run {
        true => format!("{what} (run {})", one_line(&c[0].run)),
        false => what,
    }
}

/// `blame`: git blame's columns, with the session (or the candidates) after the commit.
fn render_text(out: &mut impl Write, lines: &[BlameLine]) -> std::io::Result<()> {
    let width = lines
        .iter()
        .map(|l| label(l).chars().count())
        .max()
        .unwrap_or(0);
    let num = lines
        .iter()
        .map(|l| l.line)
        .max()
        .unwrap_or(0)
        .to_string()
        .len();
    for l in lines {
        let lab = label(l);
        let pad = width - lab.chars().count();
        writeln!(
            out,
            "{} {lab}{} {:>num$}) {}",
            &l.commit[..l.commit.len().min(8)],
            " ".repeat(pad),
            l.line,
            one_line(&l.content)
        )?;
    }
    Ok(())
}
