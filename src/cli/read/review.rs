//! `git pitboss review <run>`: what a run did to its base, from its recorded facts: the diff
//! stat, each session with its status, prompt, cost, summary and landed commits, the sessions
//! whose work did not land, and totals. `--md` prints the Markdown digest `pr` uses as the
//! pull request's body; `--json` the same facts for tools.

use std::io::Write;

use clap::Args;

use crate::cli::escape::one_line;
use crate::cli::resolve::{open_run, with_store};
use crate::cli::ui;
use crate::cli::{CliError, CliResult, Ctx, ExitStatus};
use crate::provenance::Reach;
use crate::provenance::digest::{self, GITHUB_BODY_LIMIT};
use crate::provenance::review::{BranchGone, Review, ReviewSession, review};

/// Review what a run did: its diff stat, sessions, unlanded work and totals.
///
/// Everything comes from the run's records and git: which commits each session landed on the
/// run branch, and whether they reached the base branch (as `git pitboss stats` judges it).
/// --md prints a Markdown digest that fits a pull request's body (GitHub's 65,536 characters:
/// summaries are shortened first, then rows folded, saying how many).
#[derive(Debug, Args)]
pub(crate) struct ReviewArgs {
    /// The run: a full id or a unique prefix.
    run: String,
    /// Print the Markdown digest (what `git pitboss pr` puts in the pull request).
    #[arg(long, conflicts_with = "json")]
    md: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn cmd_review(ctx: &Ctx, args: ReviewArgs) -> CliResult {
    with_store(ctx, |store| {
        let run = open_run(store, &args.run)?;
        let r = review(store, &run).map_err(CliError::from)?;
        let mut out = ui::stdout();
        if args.json {
            render_json(&mut out, &r)?;
        } else if args.md {
            render_md(&mut out, &r)?;
        } else {
            render_text(ctx, &mut out, &r)?;
        }
        out.flush()?;
        Ok(ExitStatus::Success)
    })
}

/// `review --json`: the review's facts.
fn render_json(out: &mut impl Write, r: &Review) -> CliResult<()> {
    serde_json::to_writer_pretty(&mut *out, r).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

/// `review --md`: the digest `pr` puts in the pull request.
fn render_md(out: &mut impl Write, r: &Review) -> CliResult<()> {
    write!(out, "{}", digest_of(r)?)?;
    Ok(())
}

/// The digest, fitted to a pull request's body.
pub(crate) fn digest_of(r: &Review) -> CliResult<String> {
    digest::markdown(r, GITHUB_BODY_LIMIT).ok_or_else(|| {
        CliError::internal(anyhow::anyhow!(
            "the digest of run {} does not fit in {GITHUB_BODY_LIMIT} bytes even folded",
            r.run
        ))
    })
}

/// Why there is no diff when the run branch is not here, from what the verdicts know
/// ([`Review::branch_gone`]): said "deleted after it landed" only when every session whose
/// commits are here reached the base.
fn no_branch(r: &Review) -> String {
    let base = r.base_branch.as_deref().map_or("the base".into(), one_line);
    let lead = "no diff: the run branch is not here";
    let tail = "its sessions' commits are below";
    match r.branch_gone() {
        BranchGone::NothingHere => {
            format!("{lead}, nor its commits (not fetched: `git pitboss fetch` brings it)")
        }
        BranchGone::NotReached { no, with_code } => format!(
            "{lead}, and the work of {no} of its {with_code} session(s) with commits has not \
             reached {base} (a remote may have the branch: `git pitboss ls --remote`); {tail}"
        ),
        BranchGone::Unknown { unknown, with_code } => format!(
            "{lead}; whether the work of {unknown} of its {with_code} session(s) with commits \
             reached {base} is unknown; {tail}"
        ),
        BranchGone::Landed { with_code } => format!(
            "{lead} (deleted after it landed: the work of its {with_code} session(s) with \
             commits reached {base}); {tail}"
        ),
    }
}

/// `review <run>`: the run's overview, its diff stat, its sessions, the work that did not land,
/// then the totals.
fn render_text(ctx: &Ctx, out: &mut impl Write, r: &Review) -> std::io::Result<()> {
    print_header(out, r)?;
    writeln!(out)?;
    print_diffstat(out, r)?;
    writeln!(out)?;
    for s in &r.sessions {
        print_session(ctx, out, r, s)?;
    }
    print_not_landed(out, r)?;
    writeln!(out)?;
    print_totals(out, r)
}

/// The run, status, branch and base, rotation, agent and pull request lines.
fn print_header(out: &mut impl Write, r: &Review) -> std::io::Result<()> {
    writeln!(out, "run       {}", r.run)?;
    match &r.stop_reason {
        Some(why) => writeln!(out, "status    {} ({})", one_line(&r.status), one_line(why))?,
        None => writeln!(out, "status    {}", one_line(&r.status))?,
    }
    let base = match (&r.base_branch, &r.base_commit) {
        (Some(b), Some(c)) => format!("{} (from {})", one_line(b), short(c)),
        (Some(b), None) => one_line(b).into_owned(),
        (None, Some(c)) => short(c).to_string(),
        (None, None) => "(none recorded)".into(),
    };
    let branch =
        (r.branch.as_ref().map(crate::git::BranchName::as_str)).unwrap_or("(no run branch here)");
    writeln!(out, "branch    {} → {base}", one_line(branch))?;
    for (label, v) in [("rotation", &r.rotation), ("agent", &r.agent)] {
        if let Some(v) = v {
            writeln!(out, "{label:<9} {}", one_line(v))?;
        }
    }
    if let Some(pr) = &r.pull_request {
        writeln!(out, "pull req  {}", one_line(&pr.url))?;
    }
    Ok(())
}

/// The run branch's diff stat against the base, or why there is none.
fn print_diffstat(out: &mut impl Write, r: &Review) -> std::io::Result<()> {
    let t = &r.totals;
    if r.branch_tip.is_none() {
        // Not "no change": there is nothing here to diff.
        writeln!(out, "{}", no_branch(r))?;
    } else if r.files.is_empty() {
        writeln!(out, "no change to the base")?;
    } else {
        let w = r
            .files
            .iter()
            .map(|f| f.path.chars().count())
            .max()
            .unwrap_or(0)
            .min(60);
        for f in &r.files {
            let change = if f.binary {
                "binary".to_string()
            } else {
                format!("+{} -{}", f.added, f.removed)
            };
            writeln!(out, " {:<w$} | {change}", one_line(&f.path))?;
        }
        writeln!(
            out,
            " {} changed, {} insertions(+), {} deletions(-)",
            crate::cli::ledger::count(t.files_changed, "file"),
            t.lines_added,
            t.lines_removed
        )?;
    }
    Ok(())
}

/// One session's line (status, cost, what became of its work) and its summary, indented.
fn print_session(
    ctx: &Ctx,
    out: &mut impl Write,
    r: &Review,
    s: &ReviewSession,
) -> std::io::Result<()> {
    let cost = s
        .cost_usd
        .map_or("unknown".into(), crate::cli::resolve::money);
    let status = ctx.ui.paint(
        super::log::style(s.status),
        &format!("{:<7}", s.status.as_str()),
    );
    let work = if s.landed {
        let commits: Vec<&str> = s.commits.iter().map(|c| short(c)).collect();
        let base = r.base_branch.as_deref().unwrap_or("the base");
        let reached = match s.reach {
            x if x.reached() => format!(", reached {base} ({})", x.as_str()),
            Reach::Unknown => format!(", reach of {base} unknown"),
            Reach::NoTarget => ", reach unknown (no base branch)".to_string(),
            _ => String::new(),
        };
        format!("landed {}{reached}", commits.join(" "))
    } else if s.not_landed() {
        "not landed".to_string()
    } else {
        "no change".to_string()
    };
    writeln!(
        out,
        "{:04}  {:<20} {status} {cost:>9}  {work}",
        s.seq,
        one_line(&s.prompt)
    )?;
    if let Some(sum) = &s.summary {
        for line in sum.lines().filter(|l| !l.trim().is_empty()) {
            writeln!(out, "      {}", one_line(line))?;
        }
    }
    Ok(())
}

/// The sessions whose work did not land, and where each one's work is saved.
fn print_not_landed(out: &mut impl Write, r: &Review) -> std::io::Result<()> {
    let not_landed: Vec<_> = r.sessions.iter().filter(|s| s.not_landed()).collect();
    if !not_landed.is_empty() {
        writeln!(out)?;
        writeln!(out, "not landed ({}):", not_landed.len())?;
        for s in not_landed {
            let saved = s
                .patch
                .as_deref()
                .unwrap_or("(its work is not saved in the run)");
            writeln!(
                out,
                "  {:04}  {:<7}  {}",
                s.seq,
                s.status.as_str(),
                one_line(saved)
            )?;
        }
    }
    Ok(())
}

/// The totals: sessions by status, landed, reached, tokens and cost.
fn print_totals(out: &mut impl Write, r: &Review) -> std::io::Result<()> {
    let t = &r.totals;
    let by: Vec<String> = t
        .by_status
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    writeln!(
        out,
        "{} ({}), {} landed, {} not landed, {}",
        crate::cli::ledger::count(t.sessions, "session"),
        if by.is_empty() {
            "none".into()
        } else {
            by.join(", ")
        },
        t.landed,
        t.not_landed,
        t.reached_text(
            &r.base_branch
                .as_deref()
                .map(one_line)
                .unwrap_or("the base".into())
        ),
    )?;
    writeln!(
        out,
        "tokens {}, cost {}",
        t.tokens,
        crate::cli::ledger::run_cost(t.cost_usd, t.cost_unknown, t.sessions)
    )?;
    Ok(())
}

fn short(c: &str) -> &str {
    c.get(..7).unwrap_or(c)
}
