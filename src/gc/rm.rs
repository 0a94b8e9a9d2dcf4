//! `git pitboss rm`: one run deleted here (and on a remote, leased on what we last saw there,
//! by [`RunStore::rm`]) while this process holds the run's grind lock, then this clone's copy of
//! how the run started, which may hold a raw token from grind's command line.

use std::path::PathBuf;

use crate::plan::started;
use crate::rundir::lock::{LockError, RunLock};
use crate::store::share::{Remote, RmReport, ShareError};
use crate::store::{RunId, RunStore, StoreError};

/// Why a run was not deleted (or not all of it).
#[derive(Debug, thiserror::Error)]
pub(crate) enum RmError {
    /// A grind holds the run: it would lose its session records (its next append finds no run).
    #[error("run {run} is being ground right now by process {pid}; nothing was deleted")]
    Held { run: RunId, pid: String },
    #[error(transparent)]
    Lock(LockError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Share(ShareError),
    /// The run is gone; the file with its start values is not. (The I/O error is part of the
    /// message, not a source: the message is the whole story.)
    #[error("could not delete {}: {error}", path.display())]
    Forget {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// Deletes run `id` here, and on `remote` when one is given, holding its grind lock (as process
/// `pid`) for the whole deletion; then, unless the remote refused (which deleted nothing),
/// forgets this clone's copy of its start values once the run is gone here.
pub(crate) fn rm_run(
    store: &RunStore<'_>,
    id: &RunId,
    remote: Option<&Remote>,
    pid: u32,
) -> Result<RmReport, RmError> {
    let common = store.repo().common_dir();
    // Held for the whole deletion: a grind cannot take the run up meanwhile.
    let _lock = RunLock::acquire(common, id.as_str(), pid).map_err(|e| match e {
        LockError::Held { pid, .. } => RmError::Held {
            run: id.clone(),
            pid,
        },
        e => RmError::Lock(e),
    })?;
    let report = store.rm(id, remote).map_err(|e| match e {
        ShareError::Store(StoreError::RunNotFound(_)) => {
            RmError::Store(StoreError::RunNotFound(id.to_string()))
        }
        e => RmError::Share(e),
    })?;
    if !report.remote_rejected() && !store.exists(id)? {
        started::forget_local(common, id).map_err(|error| RmError::Forget {
            path: started::local_path(common, id),
            error,
        })?;
    }
    Ok(report)
}
