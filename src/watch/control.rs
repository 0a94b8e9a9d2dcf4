//! The keys of `watch` that act on the run: skip (as `git pitboss skip <run> <seq>` does: the
//! skip file of the selected running session)
//! and drain (the drain file: grind starts no new session and stops when the running one ends).
//! Quitting `watch` acts on nothing.
//!
//! Drain is a file, not a signal: a SIGINT would be counted with any Ctrl-C pressed in grind's
//! terminal before, and two of them abort the running session. A file asked for twice is one.

use crate::git::Repo;
use crate::grind::error::GrindError;
use crate::store::RunId;

/// Why a key could not act on the run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ControlError {
    #[error("run {0} is not being ground right now")]
    NotRunning(RunId),
    #[error(transparent)]
    Grind(#[from] GrindError),
    #[error(transparent)]
    Skip(crate::grind::skip_target::SkipError),
}

fn control(r: Result<std::path::PathBuf, GrindError>) -> Result<(), ControlError> {
    match r {
        Ok(_) => Ok(()),
        Err(GrindError::NotRunning(id)) => Err(ControlError::NotRunning(id)),
        Err(e) => Err(e.into()),
    }
}

/// Asks the live grind of `id` to end its running session `seq` as `skipped` (any other
/// running beside it go on).
pub(crate) fn skip(repo: &Repo, id: &RunId, seq: u64) -> Result<(), ControlError> {
    use crate::grind::skip_target::SkipError;
    match crate::grind::slot::request_skip(repo, id, Some(seq)) {
        Ok(_) => Ok(()),
        Err(SkipError::NotRunning(id)) => Err(ControlError::NotRunning(id)),
        Err(SkipError::Grind(e)) => Err(e.into()),
        Err(e) => Err(ControlError::Skip(e)),
    }
}

/// Asks the live grind of `id` to finish its current session and stop.
pub(crate) fn drain(repo: &Repo, id: &RunId) -> Result<(), ControlError> {
    control(crate::grind::slot::request_drain(repo, id))
}
