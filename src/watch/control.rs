//! The keys of `watch` that act on the run: skip (as `git pitboss skip` does: the skip file)
//! and drain (as one Ctrl-C in grind's terminal does: SIGINT to the grind, whose pid its run
//! lock records). Quitting `watch` acts on nothing.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::git::Repo;
use crate::grind::lock::RunLock;
use crate::grind::run::GrindError;
use crate::store::RunId;

/// Why a key could not act on the run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ControlError {
    #[error("run {0} is not being ground right now")]
    NotRunning(RunId),
    #[error("the run lock of {run} names no process ({holder})")]
    NoPid { run: RunId, holder: String },
    #[error("cannot signal grind process {pid}: {source}")]
    Signal {
        pid: i32,
        #[source]
        source: nix::Error,
    },
    #[error(transparent)]
    Grind(#[from] GrindError),
}

/// Asks the live grind of `id` to end its current session as `skipped`.
pub(crate) fn skip(repo: &Repo, id: &RunId) -> Result<(), ControlError> {
    match crate::grind::slot::request_skip(repo, id) {
        Ok(_) => Ok(()),
        Err(GrindError::NotRunning(id)) => Err(ControlError::NotRunning(id)),
        Err(e) => Err(e.into()),
    }
}

/// Asks the live grind of `id` to finish its current session and stop: the signal one Ctrl-C
/// sends. Returns the grind's pid. Sent once per request: a second SIGINT more than a second
/// later would abort the session, so `watch` sends it only once.
///
/// NB: the pid is read from the lock only while the lock is held (a held `flock` means the
/// process that wrote it is alive), so a recycled pid is never signalled.
pub(crate) fn drain(repo: &Repo, id: &RunId) -> Result<u32, ControlError> {
    let holder = RunLock::holder(repo.common_dir(), id.as_str())
        .ok_or_else(|| ControlError::NotRunning(id.clone()))?;
    let pid: i32 = match holder.parse() {
        Ok(p) if p > 0 => p,
        _ => {
            return Err(ControlError::NoPid {
                run: id.clone(),
                holder,
            });
        }
    };
    kill(Pid::from_raw(pid), Signal::SIGINT)
        .map_err(|source| ControlError::Signal { pid, source })?;
    Ok(pid as u32)
}
