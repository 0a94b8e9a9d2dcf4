//! Printing what `fetch` and `sync` did with the runs' code branches: one line per branch that
//! changed or needs attention (the same words as for runs), and the hints that go with them,
//! among them the exact git commands to merge a conflicting branch by hand.

use std::io::Write;

use crate::cli::Ctx;
use crate::cli::ui::Style;
use crate::git::RefName;
use crate::store::RunId;
use crate::store::share::{BranchOutcome, FetchReport, FetchedBranch};

/// Prints the branch lines of a fetch report under the runs' (writing the `From` header if
/// no run line did); returns the branches that need a hint.
pub(crate) fn print_fetched_branches<'r>(
    ctx: &Ctx,
    out: &mut impl Write,
    report: &'r FetchReport,
    mut header: bool,
) -> std::io::Result<Vec<&'r FetchedBranch>> {
    let mut attention = Vec::new();
    for b in &report.branches {
        let Some((style, label, tail)) = describe_outcome(&b.outcome) else {
            continue;
        };
        if needs_attention(&b.outcome) {
            attention.push(b);
        }
        if !header {
            writeln!(out, "From {}", report.remote)?;
            header = true;
        }
        let label = ctx.ui.paint(style, &format!("{label:<10}"));
        writeln!(out, "  {label} branch {}{tail}", b.branch)?;
    }
    Ok(attention)
}

/// How a branch line reads for `outcome`: its style, label and the words after the branch
/// name; `None` for a branch that is up to date (no line).
fn describe_outcome(outcome: &BranchOutcome) -> Option<(Style, &'static str, String)> {
    Some(match outcome {
        BranchOutcome::UpToDate => return None,
        BranchOutcome::Created { .. } => (Style::Good, "created", String::new()),
        BranchOutcome::FastForwarded { commits, .. } => (
            Style::Good,
            "updated",
            format!(" ({commits} new commit{})", plural(*commits)),
        ),
        BranchOutcome::Ahead { commits } => (
            Style::Dim,
            "ahead",
            format!(": {commits} commit{} here to push", plural(*commits)),
        ),
        BranchOutcome::Diverged { ahead, behind } => (
            Style::Warn,
            "diverged",
            format!(
                ": {ahead} commit{} here, {behind} there; left as it is",
                plural(*ahead)
            ),
        ),
        BranchOutcome::Merged { commit } => (
            Style::Good,
            "merged",
            format!(" ({})", &commit[..commit.len().min(12)]),
        ),
        BranchOutcome::CheckedOut {
            worktree, behind, ..
        } => (
            Style::Warn,
            "not moved",
            format!(
                ": checked out in {}; {behind} commit{} there to take",
                worktree.display(),
                plural(*behind)
            ),
        ),
        BranchOutcome::Conflict { files, .. } => (
            Style::Bad,
            "conflict",
            format!(
                ": code diverged (conflicts in {}); nothing merged",
                files.join(", ")
            ),
        ),
        BranchOutcome::Unrelated => (
            Style::Bad,
            "unrelated",
            ": no common history with the remote's; left as it is".into(),
        ),
        BranchOutcome::DeletedHere { tip } => (
            Style::Dim,
            "deleted",
            format!(
                ": gc deleted it here at {}; the remote has nothing newer",
                &tip[..tip.len().min(12)]
            ),
        ),
        BranchOutcome::Refused { why } => (
            Style::Bad,
            "refused",
            format!(": not the run's code: {why}; not created"),
        ),
    })
}

/// Whether a branch with `outcome` gets a hint after the lines (it needs a hand).
fn needs_attention(outcome: &BranchOutcome) -> bool {
    matches!(
        outcome,
        BranchOutcome::Diverged { .. }
            | BranchOutcome::CheckedOut { .. }
            | BranchOutcome::Conflict { .. }
            | BranchOutcome::Refused { .. }
    )
}

/// The hints for branches that need a hand: how to take what a checked-out branch could not,
/// and how to merge a conflict by hand.
pub(crate) fn branch_hints(ctx: &Ctx, report: &FetchReport, branches: &[&FetchedBranch]) {
    for b in branches {
        let short = b.branch.short();
        match &b.outcome {
            BranchOutcome::CheckedOut {
                worktree,
                tracking,
                ahead,
                ..
            } => {
                // A fast-forward cannot join a branch that has commits of its own: diverged,
                // it takes a real merge, and then a sync to publish it.
                let hint = if *ahead == 0 {
                    format!(
                        "hint: `git -C {} merge --ff-only {tracking}` brings {} up to date there",
                        worktree.display(),
                        b.branch
                    )
                } else {
                    format!(
                        "hint: {} diverged from the remote's; merge it where it is checked out, \
                         then sync again:\n  git -C {} merge {tracking}\n  git pitboss sync {}",
                        b.branch,
                        worktree.display(),
                        report.remote
                    )
                };
                ctx.ui.status(&hint);
            }
            BranchOutcome::Refused { .. } => {
                ctx.ui.status(&format!(
                    "hint: the remote's {} does not hold run {}'s recorded code, so nothing was \
                     made from it; ask whoever pushes the run to push its real branch \
                     (`git pitboss push`), then fetch again",
                    b.branch, b.run
                ));
            }
            BranchOutcome::Diverged { .. } => {
                ctx.ui.status(&format!(
                    "hint: `git pitboss sync {}` merges the diverged branch {} and pushes it",
                    report.remote, b.branch
                ));
            }
            BranchOutcome::Conflict {
                tracking, worktree, ..
            } => {
                // Where the branch can be checked out: the run's slot has it already.
                let go = match worktree {
                    Some(w) => format!("cd {}", w.display()),
                    None => format!("git switch {short}"),
                };
                ctx.ui.status(&format!(
                    "hint: merge run {}'s code by hand, then sync again (every sync fails until then):\n  \
                     {go}\n  \
                     git merge {tracking}\n  \
                     (fix the conflicts, `git add` them, `git commit`)\n  \
                     git pitboss sync {}",
                    b.run, report.remote
                ));
            }
            _ => {}
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// For `ls`: the listed runs that were deleted on a remote (the default push leaves them out
/// there), one line each on stderr.
pub(crate) fn note_deleted_on_remotes(
    ctx: &Ctx,
    store: &crate::store::RunStore<'_>,
    runs: &[crate::store::RunSummary],
) -> crate::cli::CliResult<()> {
    let gone = store.gone_everywhere()?;
    for (remote, id) in gone {
        if runs.iter().any(|r| r.id == id) {
            ctx.ui.status(&format!(
                "run {id} was deleted on {remote}: `git pitboss push` leaves it out there \
                 (`git pitboss push {remote} {id}` publishes it again)"
            ));
        }
    }
    Ok(())
}

/// For `ls` with no runs here: the remotes this clone already knows to hold runs, without
/// asking them (a fresh `git clone` brings the run branches into `refs/remotes/<remote>/pitboss/`
/// but never the runs; a past `ls --remote` or `fetch` leaves `refs/pitboss-remotes/`), as
/// (remote, how many runs) pairs.
pub(crate) fn remotes_with_runs(
    store: &crate::store::RunStore<'_>,
) -> crate::cli::CliResult<Vec<(String, usize)>> {
    use std::collections::{BTreeMap, BTreeSet};
    let repo = store.repo();
    let mut runs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, _) in repo.refs_with_prefix(RefName::remote_tracking_prefix())? {
        let name = RefName::from_git(name);
        let Some((remote, branch)) = name.remote_tracking_short().and_then(|r| r.split_once('/'))
        else {
            continue;
        };
        // Only names grind gives its runs: a branch of the user's called `pitboss/x` is no run.
        // `pitboss/<id>`, or `pitboss/grind/<id>` for older runs.
        let id = branch
            .strip_prefix(crate::store::RUN_BRANCH_PREFIX)
            .map(|b| b.strip_prefix("grind/").unwrap_or(b));
        if let Some(id) = id.and_then(|i| RunId::parse(i).ok())
            && id.is_generated()
        {
            runs.entry(remote.to_string())
                .or_default()
                .insert(id.to_string());
        }
    }
    for (name, _) in repo.refs_with_prefix(crate::store::REMOTE_REF_PREFIX)? {
        if let Some((remote, id)) = RunId::from_any_tracking_ref(&name) {
            runs.entry(remote.to_string())
                .or_default()
                .insert(id.to_string());
        }
    }
    Ok(runs.into_iter().map(|(r, ids)| (r, ids.len())).collect())
}
