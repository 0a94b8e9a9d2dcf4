//! A run whose state says `running` while no grind holds its lock was interrupted: its grind
//! died (killed, the machine went down) before it could record how it stopped. `ls` and
//! `show` and `report --html` say `interrupted` for it, with the command that takes it up
//! again, instead of a `running` that nothing is doing. The judgment lives here, beside the
//! lock it reads, so every view judges alike without importing the engine.

use crate::git::Repo;
use crate::rundir::lock::RunLock;
use crate::store::{RunId, RunListing, RunStatus, RunStore};

/// The status to show for a run: `interrupted` for a `running` run that no live grind holds.
pub(crate) fn shown_status(store: &RunStore<'_>, id: &RunId, stored: &RunStatus) -> RunStatus {
    let grind_made = || store.open_run(id).is_ok_and(|r| r.meta.branch.is_some());
    if is_interrupted(store.repo(), id, stored, grind_made) {
        RunStatus::Other(INTERRUPTED.into())
    } else {
        stored.clone()
    }
}

pub(crate) const INTERRUPTED: &str = "interrupted";

/// Every run of `listing` with the status a reader shows ([`shown_status`]).
pub(crate) fn as_shown(store: &RunStore<'_>, listing: &mut RunListing) {
    for r in &mut listing.runs {
        r.status = shown_status(store, &r.id, &r.status);
    }
}

/// Whether a run says `running` while nothing runs it: grind made it (`record --create` runs
/// say `running` for good), a grind ground it here (its lock file is here: a run fetched from
/// a machine where it is being ground is not ours to call interrupted), and no live process
/// holds its lock.
pub(crate) fn is_interrupted(
    repo: &Repo,
    id: &RunId,
    stored: &RunStatus,
    grind_made: impl FnOnce() -> bool,
) -> bool {
    *stored == RunStatus::Running
        && crate::rundir::lock_file(repo.common_dir(), id.as_str()).exists()
        && RunLock::holder(repo.common_dir(), id.as_str()).is_none()
        && grind_made()
}

/// What to say about an interrupted run.
pub(crate) fn resume_note(id: &RunId) -> String {
    format!("its grind is gone; take it up with `git pitboss grind --resume {id}`")
}
