//! Shared plumbing of the sharing commands (`push`, `fetch`, `sync`, `rm`, `ls --remote`):
//! telling a remote from a run among positional arguments, resolving both, and printing push and
//! fetch reports. (Sharing errors get their hints in `cli/errors.rs`.)

use std::io::Write;

use crate::cli::ui::{self, Style};
use crate::cli::{CliError, CliResult, Ctx};
use crate::store::share::{
    FetchOutcome, FetchReport, MAX_RUNS_KEY, PushOutcome, PushReport, RefKind, Remote, ShareError,
    looks_like_url, resolve_on_remote,
};
use crate::store::{RunId, RunStore, StoreError};

/// Splits `[<remote>] [<run>…]`: the first argument is the remote when it names a configured
/// remote or is a URL or path; otherwise every argument is a run (run ids never contain `/`
/// or `:`).
pub(crate) fn split_remote(args: &[String], remotes: &[String]) -> (Option<String>, Vec<String>) {
    match args.split_first() {
        Some((first, rest)) if remotes.contains(first) || looks_like_url(first) => {
            (Some(first.clone()), rest.to_vec())
        }
        _ => (None, args.to_vec()),
    }
}

/// The remote of a command: named, or the default one.
pub(crate) fn resolve_remote(store: &RunStore<'_>, arg: Option<&str>) -> CliResult<Remote> {
    Ok(Remote::resolve(store.repo(), arg)?)
}

/// Splits positional arguments and resolves the remote.
pub(crate) fn remote_and_runs(
    store: &RunStore<'_>,
    args: &[String],
) -> CliResult<(Remote, Vec<String>)> {
    let known = store.repo().remote_names()?;
    let (remote, runs) = split_remote(args, &known);
    Ok((resolve_remote(store, remote.as_deref())?, runs))
}

/// Resolves `<run>` arguments: a local run (full id or unique prefix), else one last seen on
/// `remote`, else (for fetch) any valid full id.
pub(crate) fn resolve_runs(
    store: &RunStore<'_>,
    remote: &Remote,
    args: &[String],
    allow_unseen: bool,
) -> CliResult<Vec<RunId>> {
    args.iter()
        .map(|a| match store.resolve(a) {
            Ok(id) => Ok(id),
            Err(StoreError::RunNotFound(_)) => match resolve_on_remote(store, remote, a) {
                Ok(id) => Ok(id),
                Err(ShareError::Store(StoreError::RunNotFound(_))) if allow_unseen => {
                    Ok(RunId::parse(a)?)
                }
                Err(e) => Err(CliError::from(e)),
            },
            Err(e) => Err(CliError::from(e)),
        })
        .collect()
}

/// Prints a push report: one line per ref on stdout, hook messages and hints on stderr.
pub(crate) fn print_push(ctx: &Ctx, report: &PushReport) -> std::io::Result<()> {
    print_push_except(ctx, report, &[])
}

/// [`print_push`], leaving out the "sync merges it" hint for the rejections of `held` runs: runs
/// a sync just failed to merge, whose own hint says what resolves them.
pub(crate) fn print_push_except(
    ctx: &Ctx,
    report: &PushReport,
    held: &[RunId],
) -> std::io::Result<()> {
    for m in &report.remote_messages {
        // What a remote's hooks print is the remote's: shown, never obeyed.
        ctx.ui
            .status(&format!("remote: {}", crate::cli::escape::one_line(m)));
    }
    for s in &report.skipped {
        ctx.ui
            .warn(&format!("not pushing run {}: {}", s.run, s.why));
    }
    let diverged = print_pushed_refs(ctx, report, held)?;
    note_deleted_there(ctx, report);
    for u in &report.untracked {
        ctx.ui.warn(&format!(
            "run {} is on {} now, but its tracking ref could not be recorded here: {}; `git pitboss fetch {}` records it",
            u.run, report.remote, u.why, report.remote
        ));
    }
    if report.refs.is_empty() {
        ctx.ui.status(&format!(
            "nothing to push to {}: {} run{} unchanged since the last push or fetch",
            report.remote,
            report.unchanged,
            plural(report.unchanged)
        ));
    }
    if diverged {
        ctx.ui.status(&format!(
            "hint: `git pitboss sync {}` merges diverged runs and pushes the result",
            report.remote
        ));
    }
    Ok(())
}

/// Prints one line per ref the push touched (created, updated, up to date, rejected, not
/// reported) under `To <remote>`; true when a run other than the `held` ones was rejected as
/// diverged (the "sync merges it" hint is then due).
fn print_pushed_refs(ctx: &Ctx, report: &PushReport, held: &[RunId]) -> std::io::Result<bool> {
    let mut out = ui::stdout();
    if !report.refs.is_empty() {
        writeln!(out, "To {}", report.remote)?;
    }
    let mut diverged = false;
    for r in &report.refs {
        let what = match r.kind {
            RefKind::Run => format!("run {}", r.run),
            RefKind::Branch => format!("branch {}", r.refname),
        };
        let sessions = r
            .sessions
            .map(|n| format!(" ({n} session{})", plural(n as usize)))
            .unwrap_or_default();
        let (style, label, tail) = match &r.outcome {
            PushOutcome::Created if r.recreated => (
                Style::Good,
                "created",
                format!("{sessions}: it had been deleted there; pushed again because you named it"),
            ),
            PushOutcome::Created => (Style::Good, "created", sessions),
            PushOutcome::Updated => (Style::Good, "updated", sessions),
            PushOutcome::UpToDate => (Style::Dim, "up to date", String::new()),
            PushOutcome::Rejected { reason, message } => {
                diverged |= *reason == crate::git::Rejection::Diverged && !held.contains(&r.run);
                (Style::Bad, "rejected", format!(": {message}"))
            }
            PushOutcome::NotReported => (
                Style::Bad,
                "not pushed",
                ": git did not report it (see its messages above)".into(),
            ),
        };
        let label = ctx.ui.paint(style, &format!("{label:<11}"));
        writeln!(out, "  {label} {what}{tail}")?;
    }
    out.flush()?;
    Ok(diverged)
}

/// Says which runs and branches the push left alone because they were deleted on the remote,
/// with the push that publishes each anyway.
fn note_deleted_there(ctx: &Ctx, report: &PushReport) {
    for id in &report.deleted_there {
        let r = &report.remote;
        ctx.ui.status(&if report.deleted_since_fetch.contains(id) {
            format!(
                "not pushing run {id}: it was deleted on {r} since this repository last fetched from it (`git pitboss push {r} {id}` pushes it anyway)"
            )
        } else {
            format!(
                "not pushing run {id}: it was deleted on {r} (`git pitboss push {r} {id}` publishes it again)"
            )
        });
    }
    for g in &report.branches_deleted_there {
        ctx.ui.status(&format!(
            "not pushing branch {1} of run {2}: it was deleted on {0} since this repository last fetched from it (`git pitboss push {0} {2}` pushes it anyway)",
            report.remote, crate::git::short_branch(&g.branch), g.run
        ));
    }
}

/// Refused runs listed one per line by `print_fetch`; the rest are counted.
const MAX_REFUSED_LINES: usize = 20;

/// Prints a fetch report: changed runs on stdout; ignored refs, gone runs and hints on stderr.
pub(crate) fn print_fetch(ctx: &Ctx, report: &FetchReport) -> std::io::Result<()> {
    warn_ignored(ctx, report);
    let mut out = ui::stdout();
    let header = print_fetched_runs(ctx, &mut out, report)?;
    let branches = super::remote_branch::print_fetched_branches(ctx, &mut out, report, header)?;
    out.flush()?;
    let tally = FetchTally::of(report);
    note_not_listed(ctx, report, &tally);
    if tally.diverged {
        ctx.ui.status(&format!(
            "hint: `git pitboss sync {}` merges diverged runs and pushes the result",
            report.remote
        ));
    }
    super::remote_branch::branch_hints(ctx, report, &branches);
    if tally.deleted {
        ctx.ui
            .status("hint: `git pitboss fetch --include-deleted` brings deleted runs back");
    }
    Ok(())
}

/// On stderr: the refs on the remote that are not runs, and the runs asked for that it lacks.
fn warn_ignored(ctx: &Ctx, report: &FetchReport) {
    for bad in &report.ignored {
        ctx.ui.warn(&format!(
            "ignoring {} on {}: {}",
            bad.refname, report.remote, bad.why
        ));
    }
    if report.ignored_total > report.ignored.len() {
        ctx.ui.warn(&format!(
            "ignoring {} more refs under refs/pitboss/grind/ on {} whose names are not run ids",
            report.ignored_total - report.ignored.len(),
            report.remote
        ));
    }
    for id in &report.missing {
        ctx.ui
            .warn(&format!("run {id} is not on {}", report.remote));
    }
}

/// One line per run the fetch changed or could not take (the `From` header first); returns
/// whether the header was written.
fn print_fetched_runs(
    ctx: &Ctx,
    out: &mut impl Write,
    report: &FetchReport,
) -> std::io::Result<bool> {
    let mut header = false;
    // A hostile remote can offer thousands of bad runs: a line for each of the first few.
    let mut refused = 0;
    for r in &report.runs {
        if matches!(r.outcome, FetchOutcome::Refused { .. }) {
            refused += 1;
            if refused > MAX_REFUSED_LINES {
                continue;
            }
        }
        let Some((style, label, tail)) = describe_fetch_outcome(&r.outcome) else {
            continue;
        };
        if !header {
            writeln!(out, "From {}", report.remote)?;
            header = true;
        }
        let label = ctx.ui.paint(style, &format!("{label:<10}"));
        writeln!(out, "  {label} run {}{tail}", r.run)?;
    }
    Ok(header)
}

/// How a run's line reads for `outcome`: its style, label and the words after the run id;
/// `None` for a run that is up to date (counted, not listed).
fn describe_fetch_outcome(outcome: &FetchOutcome) -> Option<(Style, &'static str, String)> {
    Some(match outcome {
        FetchOutcome::UpToDate => return None,
        FetchOutcome::Created { sessions, .. } => (
            Style::Good,
            "created",
            format!(" ({sessions} session{})", plural(*sessions as usize)),
        ),
        FetchOutcome::FastForwarded { commits, .. } => (
            Style::Good,
            "updated",
            format!(" ({commits} new commit{})", plural(*commits)),
        ),
        FetchOutcome::Ahead { commits } => (
            Style::Dim,
            "ahead",
            format!(": {commits} commit{} here to push", plural(*commits)),
        ),
        FetchOutcome::Diverged { ahead, behind } => (
            Style::Warn,
            "diverged",
            format!(
                ": {ahead} commit{} here, {behind} there; left as it is",
                plural(*ahead)
            ),
        ),
        FetchOutcome::Merged {
            sessions,
            renumbered,
            ..
        } => {
            let moved: Vec<String> = renumbered
                .iter()
                .map(|r| format!("session {} renumbered to {}", r.from, r.to))
                .collect();
            let moved = if moved.is_empty() {
                String::new()
            } else {
                format!("; {}", moved.join(", "))
            };
            (
                Style::Good,
                "merged",
                format!(" ({sessions} sessions{moved})"),
            )
        }
        FetchOutcome::Refused { why } => (
            Style::Bad,
            "refused",
            format!(": {}", crate::cli::escape::one_line(why)),
        ),
        FetchOutcome::Unrelated => (
            Style::Bad,
            "unrelated",
            ": a different run with the same id (no common history); left as it is".into(),
        ),
        FetchOutcome::Conflict { why } => (
            Style::Bad,
            "conflict",
            format!(": {}", crate::cli::escape::one_line(why)),
        ),
        FetchOutcome::CodeDiverged { files } => (
            Style::Bad,
            "conflict",
            format!(
                ": code diverged (conflicts in {}); nothing merged",
                crate::cli::escape::one_line(&files.join(", "))
            ),
        ),
        FetchOutcome::Failed { why } => (
            Style::Bad,
            "failed",
            format!(": {}", crate::cli::escape::one_line(why)),
        ),
        FetchOutcome::Deleted => (
            Style::Dim,
            "deleted",
            ": deleted here, not brought back".into(),
        ),
    })
}

/// What the notes under a fetch's lines count and hint at.
struct FetchTally {
    /// Runs already up to date (not listed).
    same: usize,
    /// Runs refused (the first `MAX_REFUSED_LINES` listed).
    refused: usize,
    /// A run diverged: `sync` would merge it.
    diverged: bool,
    /// A run deleted here was left out: `--include-deleted` would bring it back.
    deleted: bool,
}

impl FetchTally {
    fn of(report: &FetchReport) -> FetchTally {
        let count =
            |f: fn(&FetchOutcome) -> bool| report.runs.iter().filter(|r| f(&r.outcome)).count();
        FetchTally {
            same: count(|o| matches!(o, FetchOutcome::UpToDate)),
            refused: count(|o| matches!(o, FetchOutcome::Refused { .. })),
            diverged: count(|o| matches!(o, FetchOutcome::Diverged { .. })) > 0,
            deleted: count(|o| matches!(o, FetchOutcome::Deleted)) > 0,
        }
    }
}

/// On stderr: the runs the lines leave out (refused past the first few, over the cap, gone
/// from the remote, up to date).
fn note_not_listed(ctx: &Ctx, report: &FetchReport, tally: &FetchTally) {
    if tally.refused > MAX_REFUSED_LINES {
        ctx.ui.warn(&format!(
            "{} more runs refused (not listed); `git pitboss fetch --json` lists every one",
            tally.refused - MAX_REFUSED_LINES
        ));
    }
    if report.over_cap > 0 {
        ctx.ui.status(&format!(
            "{} more run{} on {} not fetched this time: one fetch takes at most {} new or changed \
             runs (git config {MAX_RUNS_KEY}); fetch again for the next ones",
            report.over_cap,
            plural(report.over_cap),
            report.remote,
            report.max_runs
        ));
    }
    for id in &report.gone {
        ctx.ui.status(&format!(
            "run {id} is no longer on {0}: deleted there; the copy here is kept and `git pitboss push` leaves it out (`git pitboss push {0} {id}` publishes it again)",
            report.remote
        ));
    }
    let same = tally.same;
    if same > 0 || report.runs.is_empty() {
        ctx.ui.status(&format!(
            "{same} run{} up to date with {}",
            plural(same),
            report.remote
        ));
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_argument_is_a_remote_only_when_it_names_one() {
        let remotes = vec!["origin".to_string(), "team".to_string()];
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            split_remote(&s(&["team", "2026"]), &remotes),
            (Some("team".into()), s(&["2026"]))
        );
        assert_eq!(
            split_remote(&s(&["2026", "abc"]), &remotes),
            (None, s(&["2026", "abc"]))
        );
        assert_eq!(
            split_remote(&s(&["../bare.git"]), &remotes),
            (Some("../bare.git".into()), vec![])
        );
        assert_eq!(split_remote(&[], &remotes), (None, vec![]));
    }
}
