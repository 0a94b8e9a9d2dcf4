//! Code refs: run branches (`refs/heads/pitboss/<id>`, and `pitboss/grind/<id>` of older runs),
//! the slot branches of parallel runs (`refs/heads/pitboss-slot/<id>/<k>`), and the remotes' copies of the branches of runs that are not here
//! (`refs/pitboss-remotes/<remote>/heads/pitboss/<id>`: a run refused by a fetch, or deleted).
//!
//! A run branch goes when its work reached the target, and only then: every commit the run
//! made since its base is on the target, or is a session commit whose change reached it, as
//! `git pitboss stats` judges it ([`crate::provenance::reach`]). Being somewhere else is not
//! landing: pushed is not landed (a closed pull request and a pruning fetch leave it nowhere),
//! so a remote's copy counts only with `--pushed`, and then only what `git ls-remote` says the
//! remote has now, never a remote-tracking ref that may be stale.
//!
//! "Somewhere else", for the rule that a commit reachable from nothing else is never deleted,
//! means a local ref outside pitboss' namespaces (a branch such as `main`, a tag, the stash):
//! not `refs/heads/pitboss-slot/…` or any other ref pitboss makes and deletes on its own, not
//! `refs/remotes/…` (see above), and not a reflog (it goes with its ref).

use std::path::PathBuf;

use super::judge::{Judge, Verdict, judge_all};
use super::{GcOptions, Kind, Result, Row, RunState, restore_ref};
use crate::git::{BranchName, Oid, RefName};
use crate::store::{REMOTE_REF_PREFIX, RUN_BRANCH_PREFIX};
use crate::store::{RunId, RunStore};

/// The run of a run branch's full name, `None` for any other branch.
pub(super) fn run_of_branch(name: &str) -> Option<RunId> {
    let branch = RefName::from_git(name).branch()?;
    let rest = branch.as_str().strip_prefix(RUN_BRANCH_PREFIX)?;
    RunId::parse(rest.strip_prefix("grind/").unwrap_or(rest)).ok()
}

/// Rows for the run branches, and for the remotes' copies of branches of runs not here.
/// `removed`: the worktrees this gc removes (a branch checked out only there may go too).
pub(super) fn branch_rows(
    store: &RunStore<'_>,
    opts: &GcOptions,
    removed: &[PathBuf],
) -> Result<Vec<Row>> {
    let (judge, all) = judge_all(store, opts)?;
    let mut rows = Vec::new();
    for (name, tip) in &all {
        if let Some(id) = run_of_branch(name) {
            // A branch of a run that is here, was deleted here, or has a generated id: a
            // branch of the user's own called `pitboss/<something>` is not gc's business.
            let tombstoned = repo_has(store, &id.tombstone_ref_name())?;
            let ours = store.exists(&id)? || tombstoned || generated_id(&id);
            if ours {
                rows.push(branch_row(store, &judge, name, *tip, id, removed)?);
            }
        } else if let Some(id) = slot_branch_run(name) {
            let tombstoned = repo_has(store, &id.tombstone_ref_name())?;
            if store.exists(&id)? || tombstoned || generated_id(&id) {
                rows.push(branch_row(store, &judge, name, *tip, id, removed)?);
            }
        } else if let Some(id) = tracked_branch_run(name)
            && !store.exists(&id)?
        {
            let row = Row::keep(Kind::TrackingRef, name, Some(id.clone()), "run not here");
            rows.push(finish(
                row,
                judge.copy(*tip, &id)?,
                name,
                *tip,
                "the run is not here (refused by a fetch, or deleted)",
            ));
        }
    }
    Ok(rows)
}

fn branch_row(
    store: &RunStore<'_>,
    judge: &Judge<'_>,
    name: &str,
    tip: Oid,
    id: RunId,
    removed: &[PathBuf],
) -> Result<Row> {
    let state = RunState::of(store, &id)?;
    let row = Row::keep(Kind::Branch, name, Some(id.clone()), &state.label());
    if let Some(why) = state.kept_for_resume(&id, judge.opts.stopped, "this branch") {
        return Ok(row.because(why));
    }
    // A branch checked out in a work tree that stays (the user's, or a run worktree gc keeps).
    if let Some(p) = store
        .repo()
        .checked_out_in(&RefName::from_git(name))?
        .into_iter()
        .find(|p| !removed.contains(p))
    {
        return Ok(row.because(format!("it is checked out in {}", p.display())));
    }
    let verdict = match slot_branch_run(name) {
        Some(_) => judge.slot(tip, &id)?,
        None => judge.branch(tip, &id)?,
    };
    Ok(finish(row, verdict, name, tip, ""))
}

/// Whether a state gc gave a branch it deleted (kept as the reason of its tombstone) says its
/// work is on the target: `merged into main`, `reached main: same patches`; not `pushed, not
/// landed` (`--pushed`).
pub(crate) fn state_means_landed(state: &str) -> bool {
    state.starts_with("merged into ") || state.starts_with("reached ")
}

/// The row with the verdict's state, action and reason.
fn finish(mut row: Row, v: Verdict, name: &str, tip: Oid, context: &str) -> Row {
    let sep = if context.is_empty() { "" } else { "; " };
    let (state, reason) = match v {
        Verdict::Kept { state, reason } => {
            row.state = state;
            row.oid = Some(tip.to_string());
            return row.because(format!("{context}{sep}{reason}"));
        }
        Verdict::Merged(label) => (
            format!("merged into {label}"),
            format!("reached the target: every commit is on {label}"),
        ),
        Verdict::OnOtherRefs(on) => (
            "on other branches".to_string(),
            format!("every commit is on {on}"),
        ),
        Verdict::Reached { label, commits } => (
            format!("reached {label}: same patches"),
            format!(
                "reached the target: {commits} commit(s) not on {label}, each session's change \
                 is on it (squash, rebase or cherry-pick); the commits themselves go"
            ),
        ),
        Verdict::Pushed(on) => (
            "pushed, not landed".to_string(),
            format!(
                "--pushed: every commit is on {on} (as `git ls-remote` lists it now); its work \
                 has not reached the target"
            ),
        ),
    };
    row.state = state;
    row.because(format!("{context}{sep}{reason}"))
        .delete_ref(name, tip, restore_ref(name, tip))
}

fn repo_has(store: &RunStore<'_>, refname: &str) -> Result<bool> {
    Ok(store.repo().ref_target(refname)?.is_some())
}

/// Whether `id` has the shape grind gives run ids: `YYYYMMDDTHHMMSSZ-xxxx`.
fn generated_id(id: &RunId) -> bool {
    let b = id.as_str().as_bytes();
    b.len() == 21
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'T'
        && b[9..15].iter().all(u8::is_ascii_digit)
        && b[15] == b'Z'
        && b[16] == b'-'
        && b[17..].iter().all(|c| c.is_ascii_hexdigit())
}

/// The run of a parallel run's slot branch, `refs/heads/pitboss-slot/<id>/<k>`.
fn slot_branch_run(name: &str) -> Option<RunId> {
    let branch = RefName::from_git(name).branch()?;
    let rest = (branch.as_str()).strip_prefix(crate::rundir::slots::SLOT_BRANCH_PREFIX)?;
    let (id, k) = rest.split_once('/')?;
    k.parse::<usize>().ok()?;
    RunId::parse(id).ok()
}

/// The run of a remote's copy of a run branch, `refs/pitboss-remotes/<r>/heads/pitboss/<id>`.
fn tracked_branch_run(name: &str) -> Option<RunId> {
    let rest = name.strip_prefix(REMOTE_REF_PREFIX)?;
    let (_, branch) = rest.split_once("/heads/")?;
    run_of_branch(BranchName::new(branch).ok()?.ref_name().as_str())
}

#[cfg(test)]
mod tests {
    use super::super::judge::in_pitboss;
    use super::*;

    #[test]
    fn run_branches_and_their_remote_copies_are_recognised() {
        assert_eq!(
            run_of_branch("refs/heads/pitboss/20261124T100000Z-abcd")
                .unwrap()
                .as_str(),
            "20261124T100000Z-abcd"
        );
        assert_eq!(
            run_of_branch("refs/heads/pitboss/grind/r1")
                .unwrap()
                .as_str(),
            "r1"
        );
        assert!(run_of_branch("refs/heads/main").is_none());
        assert!(run_of_branch("refs/heads/pitboss/a/b").is_none());
        assert_eq!(
            tracked_branch_run("refs/pitboss-remotes/origin/heads/pitboss/r1")
                .unwrap()
                .as_str(),
            "r1"
        );
        assert!(tracked_branch_run("refs/pitboss-remotes/origin/grind/r1").is_none());
        assert!(in_pitboss("refs/pitboss-tombstones/grind/r1"));
        assert!(in_pitboss("refs/heads/pitboss-slot/r1/1"));
        assert_eq!(
            slot_branch_run("refs/heads/pitboss-slot/r1/2")
                .unwrap()
                .as_str(),
            "r1"
        );
        assert!(slot_branch_run("refs/heads/pitboss-slot/r1/x").is_none());
        assert!(slot_branch_run("refs/heads/pitboss/r1").is_none());
        let id = |s: &str| RunId::parse(s).unwrap();
        assert!(generated_id(&id("20261124T101500Z-3fa9")));
        assert!(!generated_id(&id("feature")));
        assert!(!generated_id(&id("20261124T101500Z-3fa")));
        assert!(!in_pitboss("refs/heads/main"));
    }
}
