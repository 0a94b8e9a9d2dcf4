//! Finding a resumed run's code branch on whatever clone the resume happens: the branch the
//! run records (`refs/heads/pitboss/<id>`, or `pitboss/grind/<id>` for older runs), else a
//! remote's copy of it that `git pitboss fetch` left in `refs/pitboss-remotes/<remote>/heads/…`.
//!
//! Resume takes the newest copy: a missing local branch is created from it, and a local branch
//! that is strictly behind it is fast-forwarded (a stopped run's worktree keeps the branch
//! checked out, so `fetch` cannot move it; the resumed grind resets that worktree to the branch
//! before each session anyway). Copies that diverged from each other are left for `sync`: the
//! resume then refuses rather than guess. The dry run asks the same question without writing.

use crate::git::{CasOutcome, Oid, RefName, Repo};
use crate::store::{RemoteName, RunId, RunStore};

use super::error::{GrindError, Refusal};

/// Where a resumed run's branch comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BranchSource {
    /// It is here and at least as new as every remote copy.
    Here,
    /// Missing here (or behind): taken from this remote's copy.
    Copy { tracking: String, tip: Oid },
}

/// Where run `id`'s branch (`branch`, a full ref name) would come from on resume, or why it
/// cannot (a [`GrindError::Refused`] when no copy of it will do).
pub(crate) fn locate(
    repo: &Repo,
    store: &RunStore<'_>,
    id: &RunId,
    branch: &RefName,
) -> Result<BranchSource, GrindError> {
    let local = repo.ref_target(branch)?;
    let copies: Vec<(RemoteName, Oid)> = store
        .branch_copies(branch)
        .map_err(take_up_failed(branch))?
        .into_iter()
        .filter(|(_, tip)| repo.is_commit(*tip))
        .collect();
    // The newest: a tip every other tip (and the local branch) is an ancestor of.
    let mut best: Option<(RemoteName, Oid)> = None;
    for (remote, tip) in &copies {
        let newer = match &best {
            None => true,
            Some((_, b)) => *b != *tip && repo.is_ancestor(*b, *tip)?,
        };
        if newer {
            best = Some((remote.clone(), *tip));
        }
    }
    let consistent = |tip: Oid| -> Result<bool, GrindError> {
        for (_, t) in &copies {
            if !repo.is_ancestor(*t, tip)? {
                return Ok(false);
            }
        }
        Ok(true)
    };
    match (local, best) {
        (Some(_), None) => Ok(BranchSource::Here),
        (Some(l), Some((remote, tip))) => {
            if l != tip && repo.is_ancestor(l, tip)? && consistent(tip)? {
                let tracking = remote.branch_tracking_ref(branch);
                Ok(BranchSource::Copy { tracking, tip })
            } else {
                Ok(BranchSource::Here)
            }
        }
        (None, Some((remote, tip))) if consistent(tip)? => Ok(BranchSource::Copy {
            tracking: remote.branch_tracking_ref(branch),
            tip,
        }),
        (None, Some(_)) => Err(GrindError::Refused(Refusal::BranchCopiesDiverged {
            run: id.clone(),
            branch: branch.to_string(),
            copies: copies
                .iter()
                .map(|(r, _)| r.branch_tracking_ref(branch))
                .collect(),
        })),
        (None, None) => Err(GrindError::Refused(Refusal::BranchMissing {
            run: id.clone(),
            branch: branch.to_string(),
        })),
    }
}

/// Makes the branch what [`locate`] found: creates it from, or fast-forwards it to, the copy.
/// The caller holds the run's lock. A branch checked out elsewhere (the user's checkout, or
/// the run's slot with work not yet saved) is left where it is.
pub(crate) fn take_up(
    repo: &Repo,
    store: &RunStore<'_>,
    id: &RunId,
    branch: &RefName,
    source: &BranchSource,
) -> Result<(), GrindError> {
    let BranchSource::Copy { tracking, tip } = source else {
        return Ok(());
    };
    let local = repo.ref_target(branch)?;
    let checkouts = store
        .branch_checkouts(id, branch, true)
        .map_err(take_up_failed(branch))?;
    if checkouts.blocking.is_some() {
        return Ok(());
    }
    let msg = format!("pitboss: resume takes the run branch from {tracking}");
    match repo.cas_ref(branch, *tip, local, &msg)? {
        CasOutcome::Updated => store
            .follow_slots(&checkouts.slots, *tip)
            .map_err(take_up_failed(branch)),
        CasOutcome::Raced(_) => Err(GrindError::BranchRaced {
            branch: branch.to_string(),
            tracking: tracking.to_string(),
        }),
    }
}

fn take_up_failed(branch: &RefName) -> impl Fn(crate::store::share::ShareError) -> GrindError + '_ {
    move |e| GrindError::TakeUpBranch {
        branch: branch.to_string(),
        source: Box::new(e),
    }
}

/// The run's branch as a full ref name, from what the run records; refused when it records
/// none (grind did not make it).
pub(crate) fn recorded(id: &RunId, recorded: Option<&str>) -> Result<RefName, Refusal> {
    recorded
        .and_then(|b| id.recorded_branch_ref(b))
        .ok_or_else(|| Refusal::NotAGrindRun { run: id.clone() })
}
