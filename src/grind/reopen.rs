//! Whether a stored run can be taken up again, decided before anything is written: the real
//! `--resume` checks it before its first write (a resume that cannot start leaves the run ref
//! as it was), and the dry run reports the same refusals ([`look`]). Also which run a bare
//! `--resume` means: the newest that grind made and that can go on, and what a resume would do
//! with the uncommitted changes of the run's kept worktree.

use super::branch::{self, BranchSource};
use super::error::{GrindError, Refusal};
use super::resume::{ResumePoint, resume_point};
use crate::git::{BranchName, Repo};
use crate::rundir::lock::RunLock;
use crate::store::{Run, RunId, RunStatus, RunStore};

/// What the dry run knows of a run `--resume` would take up, read without writing anything.
pub(crate) struct Look {
    pub run: Run,
    /// Where the run left off.
    pub point: ResumePoint,
    /// Why the real resume would refuse it, if it would.
    pub refusal: Option<Refusal>,
}

/// Reads run `id` as a resume would take it up: where it left off, and whether its branch
/// allows it ([`check_branch`]).
pub(crate) fn look(repo: &Repo, store: &RunStore<'_>, run: Run) -> Result<Look, GrindError> {
    let records = store.records(&run)?;
    let point = resume_point(&run, &records)?;
    let refusal = match check_branch(repo, store, &run) {
        Ok(_) => None,
        Err(GrindError::Refused(r)) => Some(r),
        Err(e) => return Err(e),
    };
    Ok(Look {
        run,
        point,
        refusal,
    })
}

/// The kept worktree of run `id` (slot 0's) when it has uncommitted changes: a resume keeps
/// them as a patch in the run ref, then resets the worktree to the run branch (see
/// `leftovers.rs`).
pub(crate) fn dirty_worktree(repo: &Repo, id: &RunId) -> Option<std::path::PathBuf> {
    let path = crate::rundir::slot_worktree(repo.common_dir(), id, 0);
    let wt = Repo::open(&path).ok()?;
    wt.worktree_state().ok()?.dirty.then_some(path)
}

/// The run's branch (its short name) and where it comes from, when the run can be taken up on
/// it: the run records one (grind made it), the branch is here or in a remote's copy that
/// `fetch` brought ([`branch::locate`]), and no work tree other than the run's own has it
/// checked out. Writes nothing: the real resume takes the branch up ([`branch::take_up`])
/// only after every check passed. Why the run cannot be taken up is a
/// [`GrindError::Refused`]; the dry run reports it, the real resume stops on it.
pub(crate) fn check_branch(
    repo: &Repo,
    store: &RunStore<'_>,
    run: &Run,
) -> Result<(BranchName, BranchSource), GrindError> {
    let id = &run.id;
    let full = branch::recorded(id, run.meta.branch.as_deref())?;
    let short = full
        .branch()
        .ok_or_else(|| Refusal::NotAGrindRun { run: id.clone() })?;
    let source = branch::locate(repo, store, id, &full)?;
    // Agents and the verify command are about to run on this tree: it must be the run's code
    // (`store/share/code_fit.rs`), a remote's copy (not whatever a remote offered under its
    // name) and a branch here alike (a `git branch -f`, a rebase or an agent may have replaced
    // it; fetch checks the same before it creates one).
    let tip = match &source {
        BranchSource::Copy { tip, .. } => Some(*tip),
        BranchSource::Here => repo.ref_target(&full)?,
    };
    let misfit = match tip {
        Some(tip) => store
            .code_misfit(id, tip)
            .map_err(|e| GrindError::TakeUpBranch {
                branch: full.to_string(),
                source: Box::new(e),
            })?,
        None => None,
    };
    if let Some(why) = misfit {
        return Err(GrindError::Refused(match source {
            BranchSource::Copy { tracking, .. } => Refusal::BranchNotRunCode {
                run: id.clone(),
                branch: tracking,
                why,
            },
            BranchSource::Here => Refusal::LocalBranchNotRunCode {
                run: id.clone(),
                branch: full.to_string(),
                why,
                recorded: recorded_tip(store, run)?,
            },
        }));
    }
    // The run's own slot is no obstacle, whatever it is named (gc's restore command names it
    // after its directory).
    let own = super::slot::Slot::name_of(id);
    let own_path = super::slot::Slot::path_of(repo, id);
    if let Some((_, path)) = repo.checkouts_of(&short)?.into_iter().find(|(name, path)| {
        name.as_deref() != Some(own.as_str()) && !super::slot::same_path(path, &own_path)
    }) {
        return Err(GrindError::Refused(Refusal::BranchCheckedOut {
            run: id.clone(),
            branch: full.to_string(),
            path,
        }));
    }
    Ok((short, source))
}

/// The newest commit run's records vouch for: the code commit of its last session that
/// recorded one, else the commit it started from. `None` when it records neither.
fn recorded_tip(store: &RunStore<'_>, run: &Run) -> Result<Option<String>, GrindError> {
    let records = store.records(run)?;
    Ok(records
        .iter()
        .rev()
        .find_map(|r| r.commit_text())
        .or_else(|| run.meta.base_commit_text()))
}

/// The run a bare `--resume` takes up: the newest that is not finished, was made by grind,
/// still has its branch (here or in a remote's copy), and no live grind holds.
pub(crate) fn latest_resumable(store: &RunStore<'_>) -> Result<Option<RunId>, GrindError> {
    let repo = store.repo();
    let mut runs = store.list()?.runs;
    runs.retain(|r| r.status != RunStatus::Finished);
    runs.sort_by(|a, b| (b.started_at, &b.id).cmp(&(a.started_at, &a.id)));
    for r in runs {
        if RunLock::holder(repo.common_dir(), r.id.as_str()).is_some() {
            continue;
        }
        let run = store.open_run(&r.id)?;
        // A run grind did not make, or whose branch is nowhere, is passed over; a fault of
        // the repository is not taken for either.
        let has_branch = match branch::recorded(&r.id, run.meta.branch.as_deref()) {
            Ok(full) => match branch::locate(repo, store, &r.id, &full) {
                Ok(_) => true,
                Err(GrindError::Refused(_)) => false,
                Err(e) => return Err(e),
            },
            Err(_) => false,
        };
        if has_branch {
            return Ok(Some(r.id));
        }
    }
    Ok(None)
}
