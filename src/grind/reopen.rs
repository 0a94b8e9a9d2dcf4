//! Whether a stored run can be taken up again, decided before anything is written: the real
//! `--resume` checks it before its first write (a resume that cannot start leaves the run ref
//! as it was), and the dry run reports the same refusals. Also which run a bare `--resume`
//! means: the newest that grind made and that can go on.

use std::path::PathBuf;

use super::budget::StopReason;
use super::lock::RunLock;
use crate::git::{GitError, Repo};
use crate::store::{Run, RunId, RunStatus, RunStore, StoreError};

/// Why a stored run cannot be resumed. Each is something the user can change (exit 4).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error(
        "run {run} was not made by `git pitboss grind` (it records no run branch, like the runs `record --create` makes), so it cannot be resumed"
    )]
    NotAGrindRun { run: RunId },
    #[error("run {run} cannot be resumed: its branch {branch} is gone")]
    BranchMissing { run: RunId, branch: String },
    #[error("run {run} cannot be resumed: its branch {branch} is checked out at {}", .path.display())]
    BranchCheckedOut {
        run: RunId,
        branch: String,
        path: PathBuf,
    },
    #[error("run {run} cannot be resumed: a budget is already spent: {reason}")]
    BudgetSpent { run: RunId, reason: StopReason },
    #[error(
        "run {run} cannot be resumed: no prompt can run again (every prompt has reached its max_runs)"
    )]
    Exhausted { run: RunId },
}

/// The run's branch, when the run can be taken up on it: the run records one (grind made
/// it), the branch exists, and no work tree other than the run's own has it checked out.
pub fn check_branch(repo: &Repo, run: &Run) -> Result<Result<String, Refusal>, GitError> {
    let id = &run.id;
    let Some(branch) = run.meta.branch.clone() else {
        return Ok(Err(Refusal::NotAGrindRun { run: id.clone() }));
    };
    if repo.branch_tip(&branch)?.is_none() {
        return Ok(Err(Refusal::BranchMissing {
            run: id.clone(),
            branch,
        }));
    }
    let own = super::slot::Slot::name_of(id);
    if let Some((_, path)) = repo
        .checkouts_of(&branch)?
        .into_iter()
        .find(|(name, _)| name.as_deref() != Some(own.as_str()))
    {
        return Ok(Err(Refusal::BranchCheckedOut {
            run: id.clone(),
            branch,
            path,
        }));
    }
    Ok(Ok(branch))
}

/// The run a bare `--resume` takes up: the newest that is not finished, was made by grind,
/// still has its branch, and no live grind holds.
pub fn latest_resumable(store: &RunStore<'_>) -> Result<Option<RunId>, StoreError> {
    let repo = store.repo();
    let mut runs = store.list()?.runs;
    runs.retain(|r| r.status != RunStatus::Finished);
    runs.sort_by(|a, b| (b.started_at, &b.id).cmp(&(a.started_at, &a.id)));
    for r in runs {
        if RunLock::holder(repo.common_dir(), r.id.as_str()).is_some() {
            continue;
        }
        let run = store.open_run(&r.id)?;
        let has_branch = match &run.meta.branch {
            Some(b) => repo.branch_tip(b)?.is_some(),
            None => false,
        };
        if has_branch {
            return Ok(Some(r.id));
        }
    }
    Ok(None)
}
