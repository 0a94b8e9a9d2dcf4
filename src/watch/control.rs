//! The keys of `watch` that act on the run: skip (as `git pitboss skip <run> <seq>` does: the
//! skip file of the selected running session)
//! and drain (the drain file: grind starts no new session and stops when the running one ends).
//! Quitting `watch` acts on nothing.
//!
//! Drain is a file, not a signal: a SIGINT would be counted with any Ctrl-C pressed in grind's
//! terminal before, and two of them abort the running session. A file asked for twice is one.

use crate::git::Repo;
use crate::rundir::skip_target::{SkipError, request_drain, request_skip};
use crate::store::RunId;

/// Asks the live grind of `id` to end its running session `seq` as `skipped` (any other
/// running beside it go on).
pub(crate) fn skip(repo: &Repo, id: &RunId, seq: u64) -> Result<(), SkipError> {
    request_skip(repo, id, Some(seq))?;
    Ok(())
}

/// Asks the live grind of `id` to finish its current session and stop.
pub(crate) fn drain(repo: &Repo, id: &RunId) -> Result<(), SkipError> {
    request_drain(repo, id)?;
    Ok(())
}
