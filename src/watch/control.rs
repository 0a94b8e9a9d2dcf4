//! The keys of `watch` that act on the run: skip (as `git pitboss skip <run> <seq>` does: the
//! skip file of the selected running session)
//! and drain (the drain file: grind starts no new session and stops when the running one ends).
//! Quitting `watch` acts on nothing. Which run `watch` and `skip` mean when none is named is
//! decided here too ([`newest_live`], [`newest_running`]).
//!
//! Drain is a file, not a signal: a SIGINT would be counted with any Ctrl-C pressed in grind's
//! terminal before, and two of them abort the running session. A file asked for twice is one.

use crate::git::Repo;
use crate::rundir::lock::RunLock;
use crate::rundir::skip_target::{SkipError, request_drain, request_skip};
use crate::store::{RunId, RunStore, StoreError};

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

/// The run `watch` means when none is named: the newest a live grind holds here (a run that
/// says `running` with no grind behind it, or one fetched from elsewhere, is not live here).
pub(crate) fn newest_live(store: &RunStore<'_>) -> Result<Option<RunId>, StoreError> {
    let common = store.repo().common_dir();
    newest(store, |id| RunLock::holder(common, id.as_str()).is_some())
}

/// The run `skip` means when none is named: the newest whose stored status is `running`.
pub(crate) fn newest_running(store: &RunStore<'_>) -> Result<Option<RunId>, StoreError> {
    newest(store, |_| true)
}

/// The newest run (by last activity, then id) that says `running` and passes `keep`.
fn newest(
    store: &RunStore<'_>,
    keep: impl Fn(&RunId) -> bool,
) -> Result<Option<RunId>, StoreError> {
    Ok(store
        .list()?
        .runs
        .into_iter()
        .filter(|r| r.status.as_str() == "running")
        .filter(|r| keep(&r.id))
        .max_by_key(|r| (r.last_activity, r.id.clone()))
        .map(|r| r.id))
}
