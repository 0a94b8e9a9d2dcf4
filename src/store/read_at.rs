//! Opening a run at any ref that holds one: the local run ref, or a remote-tracking copy
//! (`refs/pitboss-remotes/<remote>/grind/<id>`) that `stats --remote-runs` reads without
//! integrating it.

use super::id::{REMOTE_REF_PREFIX, RunId};
use super::{Result, Run, RunStore};
use crate::git::Oid;

/// A run found under a remote's tracking refs.
#[derive(Debug, Clone)]
pub struct TrackedRun {
    pub remote: String,
    pub refname: String,
    pub id: RunId,
    pub tip: Oid,
}

impl RunStore<'_> {
    /// The run `ref` points at, read as of `tip`.
    pub fn open_run_at(&self, id: &RunId, refname: &str, tip: Oid) -> Result<Run> {
        self.read_tip(id, refname, tip)
    }

    /// Every run under the remotes' tracking refs, in ref order.
    pub fn tracked_runs(&self) -> Result<Vec<TrackedRun>> {
        Ok(self
            .repo
            .refs_with_prefix(REMOTE_REF_PREFIX)?
            .into_iter()
            .filter_map(|(refname, tip)| {
                let (remote, id) = RunId::from_any_tracking_ref(&refname)?;
                Some(TrackedRun {
                    remote: remote.as_str().to_string(),
                    refname,
                    id,
                    tip,
                })
            })
            .collect())
    }
}
