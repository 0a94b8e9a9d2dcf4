//! Where a run's branch is checked out, and whether that stops a fetch or sync from moving it:
//! a user's checkout or a busy slot blocks; the run's own clean slots follow the branch.

use std::path::PathBuf;

use super::Result;
use crate::git::{Oid, RefName};
use crate::store::RunStore;
use crate::store::id::RunId;

/// The work trees that have a run's branch checked out.
#[derive(Debug, Default)]
pub struct CheckedOut {
    /// One that must not move under its owner: a user's checkout, or a run slot with unsaved
    /// work or a live grind.
    pub blocking: Option<PathBuf>,
    /// The run's own clean slot worktrees: they follow the branch (reset to its new tip).
    pub slots: Vec<PathBuf>,
}

impl RunStore<'_> {
    /// Where run `id`'s `branch` is checked out, and whether that stops it from moving.
    /// `lock_held_by_us`: the caller is the grind that holds the run's lock.
    pub fn branch_checkouts(
        &self,
        id: &RunId,
        branch: &RefName,
        lock_held_by_us: bool,
    ) -> Result<CheckedOut> {
        let slots_dir = crate::rundir::run_worktrees(self.repo.common_dir(), id);
        let mut found = CheckedOut::default();
        for path in self.repo.checked_out_in(branch)? {
            let ours = path.starts_with(&slots_dir)
                && (lock_held_by_us || !self.grind_holds(id))
                && crate::git::Repo::open(&path)
                    .and_then(|wt| wt.worktree_state())
                    .is_ok_and(|s| !s.dirty);
            if ours {
                found.slots.push(path);
            } else if found.blocking.is_none() {
                found.blocking = Some(path);
            }
        }
        Ok(found)
    }

    /// Resets the run's slot worktrees to the branch's new tip (after it moved).
    pub fn follow_slots(&self, slots: &[PathBuf], tip: Oid) -> Result<()> {
        for path in slots {
            crate::git::Repo::open(path)?.reset_hard_clean(tip)?;
        }
        Ok(())
    }

    /// Whether a grind holds run `id`'s lock (`<common-dir>/pitboss/locks/<id>.lock`, an OS
    /// file lock) right now. NB: the probe takes the lock for an instant when it is free.
    fn grind_holds(&self, id: &RunId) -> bool {
        let path = crate::rundir::lock_file(self.repo.common_dir(), id.as_str());
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
        {
            Ok(f) => f.try_lock().is_err(),
            Err(_) => false,
        }
    }
}
