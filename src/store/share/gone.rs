//! Runs deleted on a remote stay deleted there: when `fetch` or `sync` finds that a run this
//! repository had pushed to or fetched from a remote (it has a tracking ref for it) is no longer
//! there, it writes `refs/pitboss-remotes/<remote>/gone/<id>`, a ref to a small blob saying
//! when and what was last seen. While it exists, the default `push` leaves the run out for that
//! remote (a teammate's `rm --remote` is not undone by everyone else's next push); naming the
//! run (`push <remote> <run>`) publishes it again and drops the marker. A fetch that finds the
//! run on the remote again drops it too.
//!
//! Like the tombstones of runs deleted here, it is a ref (no lost update between two
//! processes, visible to `git for-each-ref`), and it never leaves this repository.

use super::{Remote, Result};
use crate::git::Oid;
use crate::store::RunStore;
use crate::store::id::{RemoteName, RunId};

impl RunStore<'_> {
    /// Records that run `id`, last seen on `remote` at `last_seen`, was deleted there.
    pub(super) fn mark_gone(&self, remote: &Remote, id: &RunId, last_seen: Oid) -> Result<()> {
        let text = format!(
            "run {id} was deleted on {}\nnoticed at {}\nlast seen there at {last_seen}\n",
            remote.target,
            crate::store::rfc3339::format(&self.clock.now()),
        );
        let blob = self.repo.write_blob(text.as_bytes())?;
        self.repo.set_ref(
            &remote.name.gone_ref(id),
            blob,
            &format!("pitboss: run {id} deleted on {}", remote.target),
        )?;
        Ok(())
    }

    /// Drops the marker (the run is on the remote again); true when there was one.
    pub(super) fn clear_gone(&self, remote: &RemoteName, id: &RunId) -> Result<bool> {
        Ok(self.repo.delete_ref(&remote.gone_ref(id))?)
    }

    /// Whether run `id` is known to have been deleted on `remote`.
    pub fn is_gone_from(&self, remote: &RemoteName, id: &RunId) -> Result<bool> {
        Ok(self.repo.ref_target(&remote.gone_ref(id))?.is_some())
    }

    /// The runs known to have been deleted on `remote`.
    pub fn gone_from(&self, remote: &RemoteName) -> Result<Vec<RunId>> {
        let prefix = remote.gone_prefix();
        Ok(self
            .repo
            .refs_with_prefix(&prefix)?
            .into_iter()
            .filter_map(|(name, _)| RunId::parse(name.strip_prefix(&prefix)?).ok())
            .collect())
    }

    /// Every (remote namespace, run) pair with a marker, for `ls`.
    pub fn gone_everywhere(&self) -> Result<Vec<(RemoteName, RunId)>> {
        let prefix = crate::store::id::REMOTE_REF_PREFIX;
        Ok(self
            .repo
            .refs_with_prefix(prefix)?
            .into_iter()
            .filter_map(|(name, _)| {
                let (remote, id) = name.strip_prefix(prefix)?.split_once("/gone/")?;
                Some((RemoteName::parse(remote).ok()?, RunId::parse(id).ok()?))
            })
            .collect())
    }
}

impl RunStore<'_> {
    /// Marks the runs whose tracking refs a whole-remote fetch pruned (the remote deleted
    /// them); returns their ids.
    pub(super) fn record_gone(
        &self,
        remote: &Remote,
        gone: Vec<(RunId, Oid)>,
    ) -> Result<Vec<RunId>> {
        let mut ids = Vec::with_capacity(gone.len());
        for (id, last) in gone {
            self.mark_gone(remote, &id, last)?;
            ids.push(id);
        }
        Ok(ids)
    }

    /// Of the runs a fetch named and the remote lacks, those it had before (a tracking ref
    /// says so): their tracking refs go and they are marked; returns their ids.
    pub(super) fn record_gone_named(
        &self,
        remote: &Remote,
        missing: &[RunId],
    ) -> Result<Vec<RunId>> {
        let mut ids = Vec::new();
        for id in missing {
            let tracking = id.tracking_ref_name(&remote.name);
            if let Some(last) = self.repo.ref_target(&tracking)? {
                self.repo.delete_ref(&tracking)?;
                self.mark_gone(remote, id, last)?;
                ids.push(id.clone());
            }
        }
        Ok(ids)
    }
}
