//! `push`: publish runs (and their run branches) with one `git push --porcelain` and explicit
//! refspecs, never forced.
//!
//! Each refspec pushes the object id we read, not the ref name (`<tip>:refs/pitboss/grind/<id>`),
//! so a session appended while the push runs cannot make us record a tracking ref for a commit
//! we did not send. By default only runs that differ from their tracking ref are pushed; a run
//! whose tip is an ancestor of what the remote has is skipped (it is behind: `fetch` brings it
//! up to date), because pushing it could only be rejected.

use std::collections::HashMap;
use std::str::FromStr;

use serde::Serialize;

use super::{Remote, Result, ShareError};
use crate::git::{
    NetCommand, NetError, Oid, PushFlag, PushLine, RefName, Rejection, parse_push_porcelain,
};
use crate::store::id::{RUN_REF_PREFIX, RunId};
use crate::store::{RunStore, StoreError};

/// Refspec bytes per `git push` command line. One push carries every ref (100 runs are ~9 KB);
/// only tens of thousands of changed runs at once are split, to stay far below `ARG_MAX`
/// (`git push` has no `--stdin`).
const MAX_REFSPEC_BYTES: usize = 512 * 1024;

/// Splits `items` into consecutive runs whose total length stays under `budget` (an item
/// longer than the budget goes alone).
fn argv_chunks(items: &[String], budget: usize) -> Vec<&[String]> {
    let mut chunks = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (i, item) in items.iter().enumerate() {
        if i > start && size + item.len() + 1 > budget {
            chunks.push(&items[start..i]);
            (start, size) = (i, 0);
        }
        size += item.len() + 1;
    }
    if start < items.len() {
        chunks.push(&items[start..]);
    }
    chunks
}

/// What to push.
#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    /// These runs only (pushed even when their tracking ref says the remote has them).
    pub runs: Option<Vec<RunId>>,
    /// Every local run, changed or not.
    pub all: bool,
    /// Also push each run's branch (the one it records: `refs/heads/pitboss/<id>`, or
    /// `refs/heads/pitboss/grind/<id>` for older runs) when it exists here.
    pub branches: bool,
}

/// Whether a pushed ref is a run or its branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RefKind {
    Run,
    Branch,
}

/// What the remote did with one ref.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum PushOutcome {
    Created,
    Updated,
    UpToDate,
    Rejected {
        reason: Rejection,
        /// The reason in plain words.
        message: String,
    },
    /// git printed no line for this ref (the push failed before it got there).
    NotReported,
}

impl PushOutcome {
    pub fn is_rejected(&self) -> bool {
        matches!(
            self,
            PushOutcome::Rejected { .. } | PushOutcome::NotReported
        )
    }
}

/// One ref of a push.
#[derive(Debug, Clone, Serialize)]
pub struct PushedRef {
    pub run: RunId,
    pub kind: RefKind,
    pub refname: String,
    pub oid: String,
    /// For runs: how many sessions the pushed tip holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions: Option<u64>,
    /// For runs: it had been deleted on the remote, and was pushed because it was named.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub recreated: bool,
    #[serde(flatten)]
    pub outcome: PushOutcome,
}

/// A run that was not pushed, and why.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedRun {
    pub run: RunId,
    pub why: String,
}

/// A run branch deleted on the remote, left out of a push.
#[derive(Debug, Clone, Serialize)]
pub struct BranchGone {
    pub run: RunId,
    pub branch: String,
}

/// What a push did.
#[derive(Debug, Clone, Serialize)]
pub struct PushReport {
    pub remote: String,
    pub refs: Vec<PushedRef>,
    pub skipped: Vec<SkippedRun>,
    /// Runs left out because their tracking ref says the remote has them already.
    pub unchanged: usize,
    /// Runs left out because they were deleted on the remote (`gone.rs`); naming one pushes it.
    pub deleted_there: Vec<RunId>,
    /// Those of `deleted_there` this push found deleted (a lease that did not hold, a probe):
    /// deleted since this repository last fetched from the remote.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deleted_since_fetch: Vec<RunId>,
    /// Run branches left out because they were deleted on the remote since this repository
    /// last fetched (`lease.rs`); naming the run pushes its branch.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub branches_deleted_there: Vec<BranchGone>,
    /// What the remote's hooks said (`remote:` lines).
    pub remote_messages: Vec<String>,
    /// Runs the remote took whose tracking ref could not be recorded here (a concurrent fetch
    /// held its lock, a read-only repository): the push itself succeeded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub untracked: Vec<SkippedRun>,
}

impl PushReport {
    pub fn any_rejected(&self) -> bool {
        self.refs.iter().any(|r| r.outcome.is_rejected())
    }
}

/// What a push sends: its refspecs, the leases it takes, the refs to probe first (`lease.rs`).
#[derive(Default)]
struct Outgoing {
    refspecs: Vec<String>,
    leases: super::lease::Leases,
    probes: super::lease::Probes,
}

impl PushReport {
    /// The report of a push to `remote` before anything is pushed.
    fn empty(remote: &Remote) -> PushReport {
        PushReport {
            remote: remote.target.clone(),
            refs: Vec::new(),
            skipped: Vec::new(),
            unchanged: 0,
            deleted_there: Vec::new(),
            deleted_since_fetch: Vec::new(),
            branches_deleted_there: Vec::new(),
            remote_messages: Vec::new(),
            untracked: Vec::new(),
        }
    }
}

impl RunStore<'_> {
    /// Pushes runs to `remote` (see [`PushOptions`]) and records what the remote accepted in
    /// the tracking refs. Rejections are in the report, not errors; an error means the push
    /// did not happen at all (unreachable remote, unknown run).
    pub fn push(&self, remote: &Remote, opts: &PushOptions) -> Result<PushReport> {
        let selected = self.runs_to_push(opts)?;
        let mut report = PushReport::empty(remote);
        let mut out = Outgoing::default();
        for (id, tip) in selected {
            self.add_run(remote, opts, id, tip, &mut out, &mut report)?;
        }
        self.settle_probes(remote, &out.probes, &mut out.refspecs, &mut report)?;
        if out.refspecs.is_empty() {
            return Ok(report);
        }
        let lines = self.send(remote, &out, &mut report)?;
        self.take_outcomes(remote, &lines, &mut report)?;
        self.settle_stale_leases(remote, &out.leases, &mut report)?;
        Ok(report)
    }

    /// The local runs `opts` names (each must exist here), or every local run, with its tip.
    fn runs_to_push(&self, opts: &PushOptions) -> Result<Vec<(RunId, Oid)>> {
        let local: Vec<(RunId, Oid)> = self
            .repo
            .refs_with_prefix(RUN_REF_PREFIX)?
            .into_iter()
            .filter_map(|(name, oid)| RunId::from_ref_name(&name)?.ok().map(|id| (id, oid)))
            .collect();
        Ok(match &opts.runs {
            Some(ids) => ids
                .iter()
                .map(|id| {
                    local
                        .iter()
                        .find(|(l, _)| l == id)
                        .cloned()
                        .ok_or_else(|| StoreError::RunNotFound(id.to_string()).into())
                })
                .collect::<Result<_>>()?,
            None => local,
        })
    }

    /// Adds run `id` at `tip` (and its branch, with `opts.branches`) to the push, or says in
    /// the report why it is left out: deleted on the remote, unchanged, behind the remote's
    /// copy, unreadable here.
    fn add_run(
        &self,
        remote: &Remote,
        opts: &PushOptions,
        id: RunId,
        tip: Oid,
        out: &mut Outgoing,
        report: &mut PushReport,
    ) -> Result<()> {
        // Only a default push leases (`lease.rs`): naming a run publishes it whatever happened.
        let lease = opts.runs.is_none();
        let gone = self.is_gone_from(&remote.name, &id)?;
        if gone && opts.runs.is_none() {
            report.deleted_there.push(id);
            return Ok(());
        }
        let tracking = self.repo.ref_target(&id.tracking_ref_name(&remote.name))?;
        let branch = match opts.branches {
            true => self.branch_to_push(&remote.name, &id)?,
            false => None,
        };
        if lease && let Some((name, b, true)) = &branch {
            let theirs = self
                .repo
                .ref_target(&remote.name.branch_tracking_ref(name))?;
            self.lease_and_probe(out, name, theirs, *b)?;
        }
        if tracking == Some(tip) && opts.runs.is_none() && !opts.all {
            // The history is there; the code may have moved on its own (merged by hand).
            match branch {
                Some((name, b, true)) => push_branch(&mut out.refspecs, report, &id, name, b),
                _ => report.unchanged += 1,
            }
            return Ok(());
        }
        if self.behind(tip, tracking)? {
            report.skipped.push(SkippedRun {
                run: id,
                why: format!(
                    "behind its copy on {}: fetch brings it up to date",
                    remote.target
                ),
            });
            return Ok(());
        }
        let refname = id.ref_name();
        let sessions = match self.summary_at(&id, &refname, tip) {
            Ok(s) => Some(s.sessions),
            Err(e) if e.is_user_error() => {
                report.skipped.push(SkippedRun {
                    run: id,
                    why: format!("it cannot be read here: {e}"),
                });
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        if lease {
            self.lease_and_probe(out, &refname, tracking, tip)?;
        }
        out.refspecs.push(format!("{tip}:{refname}"));
        report.refs.push(PushedRef {
            run: id.clone(),
            kind: RefKind::Run,
            refname,
            oid: tip.to_string(),
            sessions,
            recreated: gone,
            outcome: PushOutcome::NotReported,
        });
        if let Some((name, b, _)) = branch {
            push_branch(&mut out.refspecs, report, &id, name, b);
        }
        Ok(())
    }

    /// Whether `tip` is behind `theirs` (what the remote was last seen to have): pushing it
    /// could only be rejected; fetch brings it up to date.
    fn behind(&self, tip: Oid, theirs: Option<Oid>) -> Result<bool> {
        Ok(match theirs {
            Some(t) => t != tip && self.repo.is_commit(t) && self.repo.is_ancestor(tip, t)?,
            None => false,
        })
    }

    /// Leases `refname` when `tip` fast-forwards what we last saw there (`theirs`), and probes
    /// it first when it does not descend from it (`lease.rs`).
    fn lease_and_probe(
        &self,
        out: &mut Outgoing,
        refname: &str,
        theirs: Option<Oid>,
        tip: Oid,
    ) -> Result<()> {
        self.lease_if_forward(&mut out.leases, refname, theirs, tip)?;
        self.probe_if_diverged(&mut out.probes, refname, theirs, tip)
    }

    /// Runs `git push` (in chunks of the command line's size, each with its leases) and
    /// returns its porcelain lines; the remote's messages go into the report. A push that
    /// failed without a line is an error.
    fn send(
        &self,
        remote: &Remote,
        out: &Outgoing,
        report: &mut PushReport,
    ) -> Result<Vec<PushLine>> {
        let mut lines = Vec::new();
        for chunk in argv_chunks(&out.refspecs, MAX_REFSPEC_BYTES) {
            let chunk_leases: Vec<(String, Oid)> = chunk
                .iter()
                .filter_map(|spec| {
                    let dst = spec.split_once(':')?.1;
                    out.leases.get(dst).map(|t| (dst.to_string(), *t))
                })
                .collect();
            let cmd = NetCommand::push(&remote.target, chunk, &chunk_leases);
            let result = self.repo.run_net(&cmd)?;
            let parsed = parse_push_porcelain(&result.stdout);
            if parsed.is_empty() && !result.success {
                return Err(ShareError::Net(NetError::failed(&cmd, &result)));
            }
            report.remote_messages.extend(result.remote_messages());
            lines.extend(parsed);
        }
        Ok(lines)
    }

    /// Gives each pushed ref the outcome git reported for it and records what the remote
    /// accepted in its tracking ref.
    fn take_outcomes(
        &self,
        remote: &Remote,
        lines: &[PushLine],
        report: &mut PushReport,
    ) -> Result<()> {
        let by_ref: HashMap<&str, _> = lines.iter().map(|l| (l.to.as_str(), l)).collect();
        for r in &mut report.refs {
            let Some(line) = by_ref.get(r.refname.as_str()) else {
                continue;
            };
            r.outcome = outcome_of(line);
            if !r.outcome.is_rejected() {
                self.track_pushed(remote, r, &mut report.untracked)?;
            }
        }
        Ok(())
    }

    /// Records a ref the remote accepted in its tracking ref (and a recreated run as no longer
    /// deleted there).
    fn track_pushed(
        &self,
        remote: &Remote,
        r: &PushedRef,
        untracked: &mut Vec<SkippedRun>,
    ) -> Result<()> {
        let oid = Oid::from_str(&r.oid).map_err(|e| ShareError::Unexpected {
            op: "push",
            remote: remote.target.clone(),
            why: e.to_string(),
        })?;
        // NB: the remote has the ref now, whatever happens here: a tracking ref we cannot
        // record (after a short retry, for a concurrent fetch's lock) is reported with the
        // push, not turned into a failure of it.
        let name = match r.kind {
            RefKind::Run => r.run.tracking_ref_name(&remote.name),
            RefKind::Branch => (remote.name).branch_tracking_ref(&RefName::from_git(&*r.refname)),
        };
        let msg = format!("pitboss: pushed to {}", remote.target);
        let mut result = self.repo.set_ref(&name, oid, &msg);
        for _ in 0..10 {
            if result.is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            result = self.repo.set_ref(&name, oid, &msg);
        }
        if let Err(e) = result {
            untracked.push(SkippedRun {
                run: r.run.clone(),
                why: e.to_string(),
            });
        } else if r.kind == RefKind::Run && r.recreated {
            self.clear_gone(&remote.name, &r.run)?;
        }
        Ok(())
    }
}

/// What git's porcelain line says the remote did with a ref.
fn outcome_of(line: &PushLine) -> PushOutcome {
    match line.flag {
        PushFlag::New => PushOutcome::Created,
        PushFlag::FastForward | PushFlag::Forced => PushOutcome::Updated,
        PushFlag::UpToDate => PushOutcome::UpToDate,
        PushFlag::Deleted | PushFlag::Rejected => {
            let reason = Rejection::classify(&line.summary, line.reason.as_deref());
            PushOutcome::Rejected {
                message: reason.describe(),
                reason,
            }
        }
    }
}

/// Adds a run's branch to a push.
fn push_branch(
    refspecs: &mut Vec<String>,
    report: &mut PushReport,
    id: &RunId,
    branch: RefName,
    tip: Oid,
) {
    refspecs.push(format!("{tip}:{branch}"));
    report.refs.push(PushedRef {
        run: id.clone(),
        kind: RefKind::Branch,
        refname: branch.into(),
        oid: tip.to_string(),
        sessions: None,
        recreated: false,
        outcome: PushOutcome::NotReported,
    });
}

impl RunStore<'_> {
    /// Run `id`'s branch when it exists here and is not behind the remote's copy: its full ref
    /// name, its tip, and whether it differs from that copy. Only reads the run (for the name
    /// it records) when a branch of either name exists, so unchanged runs cost two ref reads.
    fn branch_to_push(
        &self,
        remote: &crate::store::RemoteName,
        id: &RunId,
    ) -> Result<Option<(RefName, Oid, bool)>> {
        // Only runs grind made own `pitboss/<id>` branches (`code_fit.rs`): a run named like
        // the user's own branch does not publish it as its code.
        if !id.is_generated() {
            return Ok(None);
        }
        let mut present = false;
        for name in super::candidate_branch_refs(id) {
            let Some(tip) = self.repo.ref_target(&name)? else {
                continue;
            };
            // Same as the remote's copy: nothing to read, nothing to send unless the run goes.
            if self.repo.ref_target(&remote.branch_tracking_ref(&name))? == Some(tip) {
                return Ok(Some((name, tip, false)));
            }
            present = true;
        }
        if !present {
            return Ok(None);
        }
        let Some(name) = self.run_branch_ref(id)? else {
            return Ok(None);
        };
        let Some(tip) = self.repo.ref_target(&name)? else {
            return Ok(None);
        };
        let theirs = self.repo.ref_target(&remote.branch_tracking_ref(&name))?;
        if self.behind(tip, theirs)? {
            // Behind the remote's copy: pushing could only be rejected; fetch brings it up.
            return Ok(None);
        }
        Ok(Some((name, tip, theirs != Some(tip))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refspecs_are_split_only_past_the_budget() {
        let items: Vec<String> = (0..10).map(|i| format!("r{i}")).collect();
        assert_eq!(argv_chunks(&items, 1000).len(), 1);
        let chunks = argv_chunks(&items, 9);
        assert_eq!(
            chunks.iter().map(|c| c.len()).collect::<Vec<_>>(),
            vec![3; 3].into_iter().chain([1]).collect::<Vec<_>>()
        );
        assert_eq!(chunks.concat(), items);
        assert_eq!(argv_chunks(&items, 1).len(), 10);
        assert!(argv_chunks(&[], 10).is_empty());
    }
}
