//! The slot worktrees that runs leave behind (`git pitboss worktree ls | prune`).
//!
//! A finished run removes its worktree; an aborted or stopped one keeps it for `--resume`; a
//! grind that was killed leaves it as it was. Listing them tells the user what is there and
//! why; pruning removes the ones no run can use any more (the run is finished or gone), never
//! one a live grind holds, and never one with uncommitted work unless forced (a git2 prune would
//! delete that work without a word).

use std::path::PathBuf;

use serde::Serialize;

use super::error::GrindError;
use super::slot::Slot;
use crate::git::Repo;
use crate::rundir::lock::{LockError, RunLock};
use crate::rundir::{self, RunDir};
use crate::store::{RunId, RunStore};

/// One slot worktree.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SlotInfo {
    /// The worktree's name in git (`pitboss-<run-id>-<slot>`).
    pub name: String,
    pub run: Option<RunId>,
    pub path: PathBuf,
    /// The run's status, `None` when the run no longer exists.
    pub run_status: Option<String>,
    /// A grind is working in it right now.
    pub live: bool,
    /// It holds uncommitted changes.
    pub dirty: bool,
    /// Pruning would remove it (the run is finished or gone, and no grind holds it).
    pub prunable: bool,
}

/// What a prune did.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct PruneReport {
    pub removed: Vec<SlotInfo>,
    /// Prunable but dirty, so left (use `--force`).
    pub kept_dirty: Vec<SlotInfo>,
    /// Slot branches of parallel runs removed with their worktree (`pitboss-slot/<id>/<k>`).
    pub branches_removed: Vec<String>,
    /// Slot branches kept: they hold commits the run branch lacks (or it is gone).
    pub branches_kept: Vec<String>,
}

/// Every pitboss slot worktree of the repository.
pub(crate) fn list(repo: &Repo, store: &RunStore<'_>) -> Result<Vec<SlotInfo>, GrindError> {
    let mut out = Vec::new();
    for name in repo.worktree_names()? {
        let run = crate::rundir::slots::run_of_worktree(repo, &name);
        if run.is_none() && !crate::rundir::slots::looks_like_ours(&name) {
            continue;
        }
        let path = repo
            .worktree_path(&name)
            .unwrap_or_else(|| repo.common_dir().join("worktrees").join(&name));
        let run_status = match &run {
            Some(id) if store.exists(id)? => Some(store.open_run(id)?.state.status.to_string()),
            _ => None,
        };
        let live = match &run {
            Some(id) => {
                match RunLock::acquire(repo.common_dir(), id.as_str(), std::process::id()) {
                    Ok(_) => false,
                    Err(LockError::Held { .. }) => true,
                    Err(e) => return Err(e.into()),
                }
            }
            None => false,
        };
        // A worktree whose state cannot be read counts as holding work: prune then keeps it
        // unless forced, rather than delete what it cannot see.
        let dirty = path.is_dir()
            && match Repo::open(&path).and_then(|wt| wt.worktree_state()) {
                Ok(s) => s.dirty,
                Err(_) => true,
            };
        let prunable = !live && run_status.as_deref().is_none_or(|s| s == "finished");
        out.push(SlotInfo {
            name,
            run,
            path,
            run_status,
            live,
            dirty,
            prunable,
        });
    }
    Ok(out)
}

/// The slot number of a worktree named `pitboss-<id>-<k>`.
fn slot_number(name: &str) -> Option<u32> {
    name.rsplit_once('-')?.1.parse().ok()
}

/// Removes the slot branch of a pruned slot of a parallel run, when everything on it is on the
/// run branch (an ancestor, or patch-equivalent commits); otherwise keeps it and says so.
fn slot_branch(
    repo: &Repo,
    id: &RunId,
    k: u32,
    dry_run: bool,
    report: &mut PruneReport,
) -> Result<(), GrindError> {
    let short = Slot::branch_of(id, k);
    let Some(at) = repo.branch_tip(&short)? else {
        return Ok(());
    };
    let held = match repo.branch_tip(&id.branch_name())? {
        Some(tip) if repo.is_ancestor(at, tip)? => true,
        Some(tip) => {
            let base = repo.merge_base(at, tip)?.unwrap_or(tip);
            repo.unproven(base, at, base, tip)?.is_empty()
        }
        None => false,
    };
    if !held {
        report.branches_kept.push(short.to_string());
        return Ok(());
    }
    if !dry_run {
        repo.delete_ref_matching(&short.ref_name(), at)?;
    }
    report.branches_removed.push(short.to_string());
    Ok(())
}

/// Removes the prunable slots (dirty ones only with `force`), and the working files of their
/// runs. With `dry_run`, only says what it would do.
pub(crate) fn prune(
    repo: &Repo,
    store: &RunStore<'_>,
    force: bool,
    dry_run: bool,
) -> Result<PruneReport, GrindError> {
    let mut report = PruneReport::default();
    for slot in list(repo, store)? {
        if !slot.prunable {
            continue;
        }
        if slot.dirty && !force {
            report.kept_dirty.push(slot);
            continue;
        }
        if !dry_run {
            repo.remove_worktree(&slot.name)?;
            if let Some(id) = &slot.run {
                let common = repo.common_dir();
                let _ = std::fs::remove_dir_all(RunDir::new(common, id).path());
                let _ = std::fs::remove_dir(rundir::run_worktrees(common, id));
            }
        }
        if let Some((id, k)) = slot.run.as_ref().zip(slot_number(&slot.name)) {
            slot_branch(repo, id, k, dry_run, &mut report)?;
        }
        report.removed.push(slot);
    }
    Ok(report)
}
