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
//!
//! A ref whose tip here is not a fast-forward of what we last saw (diverged: sessions appended
//! here and there) cannot be leased (a lease would force it over the remote's sessions). It is
//! *probed* instead: one `ls-remote` before the push (only when there is such a ref) says
//! whether the remote still has it; a run it no longer has is left out and marked gone as
//! above, a run branch it no longer has is left out and reported, so a push never creates
//! again what a teammate deleted there since this repository last fetched.

use std::collections::{HashMap, HashSet};

use super::push::{BranchGone, PushOutcome, PushReport, RefKind};
use super::{Remote, Result};
use crate::git::{Oid, Rejection};
use crate::store::RunStore;

/// Remote ref name → the tip a push of it expects to find there.
pub(super) type Leases = HashMap<String, Oid>;

/// Remote ref names last seen there at a tip that ours does not descend from.
pub(super) type Probes = HashSet<String>;

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

    /// Adds `refname` to the refs to probe when we last saw it on the remote at `tracking` and
    /// `tip` is not a fast-forward of that (nor the same).
    pub(super) fn probe_if_diverged(
        &self,
        probes: &mut Probes,
        refname: &str,
        tracking: Option<Oid>,
        tip: Oid,
    ) -> Result<()> {
        if let Some(t) = tracking
            && t != tip
            && !(self.repo.is_commit(t) && self.repo.is_ancestor(t, tip)?)
        {
            probes.insert(refname.to_string());
        }
        Ok(())
    }

    /// Before the push: takes the probed refs the remote no longer has out of `refspecs` and
    /// the report (a run with its branch: marked gone, into `deleted_there`; a branch alone:
    /// into `branches_deleted_there`). One `ls-remote`, only when something is probed.
    pub(super) fn settle_probes(
        &self,
        remote: &Remote,
        probes: &Probes,
        refspecs: &mut Vec<String>,
        report: &mut PushReport,
    ) -> Result<()> {
        if probes.is_empty() {
            return Ok(());
        }
        let (runs, branches) = self.remote_refs_with_branches(remote)?;
        let listed: HashSet<String> = runs.into_iter().chain(branches).map(|(n, _)| n).collect();
        let missing = |name: &str| probes.contains(name) && !listed.contains(name);
        let mut gone_runs = HashSet::new();
        for r in report.refs.iter().filter(|r| r.kind == RefKind::Run) {
            if missing(&r.refname) {
                let tracking = r.run.tracking_ref_name(&remote.name);
                if let Some(last) = self.repo.ref_target(&tracking)? {
                    self.repo.delete_ref(&tracking)?;
                    self.mark_gone(remote, &r.run, last)?;
                }
                report.deleted_there.push(r.run.clone());
                report.deleted_since_fetch.push(r.run.clone());
                gone_runs.insert(r.run.clone());
            }
        }
        let mut dropped = HashSet::new();
        for r in &report.refs {
            if gone_runs.contains(&r.run) {
                dropped.insert(r.refname.clone());
            } else if r.kind == RefKind::Branch && missing(&r.refname) {
                dropped.insert(r.refname.clone());
                report.branches_deleted_there.push(BranchGone {
                    run: r.run.clone(),
                    branch: r.refname.clone(),
                });
            }
        }
        report.refs.retain(|r| !dropped.contains(&r.refname));
        refspecs.retain(|spec| {
            spec.split_once(':')
                .is_none_or(|(_, dst)| !dropped.contains(dst))
        });
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
                report.deleted_since_fetch.push(r.run.clone());
                report.deleted_there.push(r.run);
            } else if !report.deleted_there.contains(&r.run) {
                // NB: its tracking ref stays, so the next default push leases it again and
                // leaves it out again, instead of creating it.
                report.branches_deleted_there.push(BranchGone {
                    run: r.run,
                    branch: r.refname,
                });
            }
        }
        report.refs = kept;
        Ok(())
    }
}
