//! Runs whose tip commit is gone from the object store ("damaged"), and the way back.
//!
//! `git gc --prune=now` run beside an append can delete the commit the run ref was just moved
//! to: git documents `--prune=now` as unsafe while other processes write. The run ref then
//! points at nothing. Such a run is reported as damaged, not as "not a run" (whose advice is
//! to delete the ref), with the newest earlier value of the ref, from its reflog, whose whole
//! history is still readable: moving the ref back there restores every session up to it.

use serde::Serialize;

use super::id::RunId;
use super::{Result, RunStore, StoreError};
use crate::git::Oid;

/// A run whose tip commit is missing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DamagedRun {
    pub id: RunId,
    pub refname: String,
    /// The missing commit the ref points at.
    pub tip: String,
    /// The newest earlier value of the ref (from its reflog) whose history is intact.
    pub restore: Option<String>,
}

impl RunStore<'_> {
    /// `Some` when `tip`, which is not a readable commit, is missing altogether (rather than
    /// some other kind of object): the run is damaged.
    pub(super) fn damaged(
        &self,
        id: &RunId,
        refname: &str,
        tip: Oid,
    ) -> Result<Option<StoreError>> {
        if self.repo.has_object(tip) {
            return Ok(None);
        }
        let restore = self
            .repo
            .reflog_values(refname)
            .unwrap_or_default()
            .into_iter()
            .find(|o| *o != tip && self.repo.history_intact(*o));
        Ok(Some(StoreError::Damaged(Box::new(DamagedRun {
            id: id.clone(),
            refname: refname.to_string(),
            tip: tip.to_string(),
            restore: restore.map(|o| o.to_string()),
        }))))
    }
}
