//! Leases for `push`: a run (or run branch) this repository last saw on the remote at tip `T`
//! is pushed with `--force-with-lease=<ref>:<T>` when the push is a fast-forward of `T`. So a
//! run deleted on the remote since then (a teammate's `rm --remote`) is not silently created
//! again by a push that no `fetch` preceded: without the lease, a plain push of a ref the
//! remote no longer has simply creates it.
//!
//! A lease that does not hold says only that the ref is not at `T` any more. One `ls-remote`
//! (only then) tells the two cases apart: the ref moved (reported as the non-fast-forward it
//! is, with the same words and the `sync` hint), or it is gone (recorded as `fetch` would
//! record it, `gone.rs`, and left out like any run known to be deleted there; naming the run
//! publishes it again, and a named push takes no lease).

use std::collections::{HashMap, HashSet};

use super::push::{PushOutcome, PushReport, RefKind};
use super::{Remote, Result};
use crate::git::{Oid, Rejection};
use crate::store::RunStore;

/// Remote ref name → the tip a push of it expects to find there.
pub(super) type Leases = HashMap<String, Oid>;

impl RunStore<'_> {
    /// Adds a lease on `refname` when `tracking` (what we last saw there) is an ancestor of
    /// `tip`: a fast-forward, which the lease cannot turn into a forced update.
    pub(super) fn lease_if_forward(
        &self,
        leases: &mut Leases,
        refname: &str,
        tracking: Option<Oid>,
        tip: Oid,
    ) -> Result<()> {
        if let Some(t) = tracking
            && t != tip
            && self.repo.is_commit(t)
            && self.repo.is_ancestor(t, tip)?
        {
            leases.insert(refname.to_string(), t);
        }
        Ok(())
    }

    /// Sorts out the refs whose lease did not hold: moved there (a non-fast-forward) or
    /// deleted there (out of the report's refs, into `deleted_there`, and marked gone).
    pub(super) fn settle_stale_leases(
        &self,
        remote: &Remote,
        leases: &Leases,
        report: &mut PushReport,
    ) -> Result<()> {
        let stale = |outcome: &PushOutcome| {
            matches!(
                outcome,
                PushOutcome::Rejected {
                    reason: Rejection::StaleLease,
                    ..
                }
            )
        };
        if !report
            .refs
            .iter()
            .any(|r| leases.contains_key(&r.refname) && stale(&r.outcome))
        {
            return Ok(());
        }
        let (runs, branches) = self.remote_refs_with_branches(remote)?;
        let listed: HashSet<String> = runs.into_iter().chain(branches).map(|(n, _)| n).collect();
        let mut kept = Vec::with_capacity(report.refs.len());
        for mut r in std::mem::take(&mut report.refs) {
            if !leases.contains_key(&r.refname) || !stale(&r.outcome) {
                kept.push(r);
            } else if listed.contains(&r.refname) {
                r.outcome = PushOutcome::Rejected {
                    message: Rejection::Diverged.describe(),
                    reason: Rejection::Diverged,
                };
                kept.push(r);
            } else if r.kind == RefKind::Run {
                let tracking = r.run.tracking_ref_name(&remote.name);
                if let Some(last) = self.repo.ref_target(&tracking)? {
                    self.repo.delete_ref(&tracking)?;
                    self.mark_gone(remote, &r.run, last)?;
                }
                report.deleted_there.push(r.run);
            } else {
                self.repo
                    .delete_ref(&remote.name.branch_tracking_ref(&r.refname))?;
            }
        }
        report.refs = kept;
        Ok(())
    }
}
