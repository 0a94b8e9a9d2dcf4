//! A run whose state says `running` while no grind holds its lock was interrupted: its grind
//! died (killed, the machine went down) before it could record how it stopped. `ls` and
//! `show` say `interrupted` for it, with the command that takes it up again, instead of a
//! `running` that nothing is doing.

use crate::git::Repo;
use crate::grind::lock::RunLock;
use crate::store::{RunId, RunStatus};

/// The status to show for a run: `interrupted` for a `running` run that no live grind holds.
pub fn shown_status(repo: &Repo, id: &RunId, stored: &RunStatus) -> RunStatus {
    if is_interrupted(repo, id, stored) {
        RunStatus::Other(INTERRUPTED.into())
    } else {
        stored.clone()
    }
}

pub const INTERRUPTED: &str = "interrupted";

pub fn is_interrupted(repo: &Repo, id: &RunId, stored: &RunStatus) -> bool {
    *stored == RunStatus::Running && RunLock::holder(repo.common_dir(), id.as_str()).is_none()
}

/// What to say about an interrupted run.
pub fn resume_note(id: &RunId) -> String {
    format!("its grind is gone; take it up with `git pitboss grind --resume {id}`")
}
