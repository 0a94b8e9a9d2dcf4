//! The run's slot worktree: `<git-common-dir>/pitboss/worktrees/<run-id>/0`, with the run
//! branch checked out, made and removed through git2 (never the user's checkout), and the run's
//! working files beside it in `<git-common-dir>/pitboss/runs/<run-id>/` (scratchpad, summary,
//! result and skip files, the live transcript, the in-flight session marker).
//!
//! A slot is reused across sessions (reset to the branch tip before each) and across
//! `--resume` (a worktree left behind by a stopped or killed grind is taken up again).

use std::path::{Path, PathBuf};

use super::error::GrindError;
use crate::git::{BranchName, Repo};
use crate::rundir::{self, RunDir};
use crate::store::RunId;

/// A run's worktree and working directory.
pub(crate) struct Slot {
    pub name: String,
    pub path: PathBuf,
    /// Its number: 0 for a sequential run's one slot, `0..max_parallel` in a parallel run.
    pub index: u32,
    /// The branch checked out in it: the run branch (sequential), or the slot's own branch
    /// `pitboss-slot/<id>/<k>` (parallel).
    pub branch: BranchName,
    run_dir: PathBuf,
    wt: Repo,
}

impl Slot {
    /// Opens the run's slot, adding the worktree when it is not there (or no longer valid).
    pub(crate) fn open(repo: &Repo, id: &RunId, branch: &BranchName) -> Result<Slot, GrindError> {
        let path = Slot::path_of(repo, id);
        // Ours by name, or by place: `git worktree add <path>` (what gc's restore command runs)
        // names a worktree after its directory.
        let name = Slot::registered_at(repo, &path)?.unwrap_or_else(|| Slot::name_of(id));
        let run_dir = RunDir::new(repo.common_dir(), id).path().to_path_buf();
        Slot::ensure(repo, name, path, 0, branch, run_dir)
    }

    /// The slot's files directory made, and its worktree added when it is not there (or no
    /// longer valid), then opened.
    fn ensure(
        repo: &Repo,
        name: String,
        path: PathBuf,
        index: u32,
        branch: &BranchName,
        run_dir: PathBuf,
    ) -> Result<Slot, GrindError> {
        std::fs::create_dir_all(&run_dir).map_err(GrindError::io(format!(
            "cannot create {}",
            run_dir.display()
        )))?;
        let registered = repo
            .worktree_path(&name)
            .is_some_and(|p| same_path(&p, &path) && p.is_dir());
        if !registered {
            // A directory without a registration (or a registration without its directory) is
            // a leftover of a crash: clear it so the add can succeed.
            if path.exists() {
                std::fs::remove_dir_all(&path)
                    .map_err(GrindError::io(format!("cannot clear {}", path.display())))?;
            }
            repo.add_worktree(&name, &path, branch)?;
        }
        let wt = Repo::open(&path)?;
        Ok(Slot {
            name,
            path,
            index,
            branch: branch.clone(),
            run_dir,
            wt,
        })
    }

    /// Opens slot `k` of a parallel run: the worktree `<common>/pitboss/worktrees/<id>/<k>` on
    /// its slot branch (made at `tip` when missing), its session files in
    /// `<common>/pitboss/runs/<id>/slot-<k>/`. A worktree already there is reused, and put on
    /// its slot branch when it is on another (slot 0 of a run ground sequentially before);
    /// the session's prepare stage resets it to the run branch's tip.
    pub(crate) fn open_parallel(
        repo: &Repo,
        id: &RunId,
        k: u32,
        tip: crate::git::Oid,
    ) -> Result<Slot, GrindError> {
        let path = Slot::path_of_slot(repo, id, k);
        let branch = Slot::branch_of(id, k);
        if repo.branch_tip(&branch)?.is_none() {
            repo.create_branch(&branch, tip)?;
        }
        let name = Slot::registered_at(repo, &path)?
            .unwrap_or_else(|| rundir::slots::worktree_name(id, k));
        let run_dir = RunDir::new(repo.common_dir(), id).slot_dir(k);
        let slot = Slot::ensure(repo, name, path, k, &branch, run_dir)?;
        if slot.wt.current_branch()?.as_ref() != Some(&branch) {
            slot.wt.attach_head(&branch)?;
        }
        Ok(slot)
    }

    /// `<git-common-dir>/pitboss/worktrees/<id>/<k>`.
    pub(crate) fn path_of_slot(repo: &Repo, id: &RunId, k: u32) -> PathBuf {
        rundir::slot_worktree(repo.common_dir(), id, k)
    }

    /// The short name of slot `k`'s branch: `pitboss-slot/<id>/<k>`.
    pub(crate) fn branch_of(id: &RunId, k: u32) -> BranchName {
        rundir::slots::slot_branch(id, k)
    }

    /// The git worktree name of a run's slot.
    pub(crate) fn name_of(id: &RunId) -> String {
        rundir::slots::worktree_name(id, 0)
    }

    /// `<git-common-dir>/pitboss/worktrees/<id>/0`.
    pub(crate) fn path_of(repo: &Repo, id: &RunId) -> PathBuf {
        rundir::slot_worktree(repo.common_dir(), id, 0)
    }

    /// The name of the valid worktree registered at `path`, `pitboss-<id>-0` first.
    fn registered_at(repo: &Repo, path: &Path) -> Result<Option<String>, GrindError> {
        Ok(repo
            .worktree_names()?
            .into_iter()
            .filter(|n| repo.worktree_path(n).is_some_and(|p| same_path(&p, path)))
            .min_by_key(|n| !rundir::slots::looks_like_ours(n)))
    }

    /// The worktree as a repository.
    pub(crate) fn repo(&self) -> &Repo {
        &self.wt
    }

    /// `<git-common-dir>/pitboss/runs/<run-id>/`.
    pub(crate) fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// Removes the worktree and its directory (the run is finished; its work is on the
    /// branch).
    pub(crate) fn remove(&self, repo: &Repo) -> Result<(), GrindError> {
        repo.remove_worktree(&self.name)?;
        let parent = self.path.parent().map(Path::to_path_buf);
        if let Some(p) = parent {
            let _ = std::fs::remove_dir(p);
        }
        Ok(())
    }
}

/// Whether two paths name the same place (one may be canonical, the other not).
pub(crate) fn same_path(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}
