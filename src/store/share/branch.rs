//! A run's code branch on the way in: `fetch` mirrors a remote's run branches into
//! `refs/pitboss-remotes/<remote>/heads/…` and then brings each run's local branch along the
//! way it brings the run (created when absent, fast-forwarded when behind, reported when ahead
//! or diverged); `sync` also merges diverged branches.
//!
//! Which branch: the one the run records in `run.json` (`refs/heads/pitboss/<id>`, or
//! `pitboss/grind/<id>` for runs made before that name), and only when it is one of those two
//! names, so a run from a remote can never make us move `main`. A branch checked out in any
//! work tree is never moved (its files and index would no longer match it): it is reported.
//!
//! The code merge is made like the history merge (`merge.rs`): in memory through libgit2, the
//! parents ordered by object id, the pitboss identity, the later tip's commit time, a message
//! that names only the run. So the two clones that reconcile the same pair of tips make the
//! same commit and their pushes agree. A conflict merges nothing and names the files.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;

use serde::Serialize;

use super::{FetchOutcome, Remote, Result, ShareError};
use crate::git::{
    BranchName, CasOutcome, Identity, NetCommand, NetError, Oid, RefName, TreeMerge,
    parse_ls_remote,
};
use crate::store::RunStore;
use crate::store::id::{RUN_BRANCH_PREFIX, RUN_REF_PREFIX, RemoteName, RunId};

/// How often a branch is looked at again after losing a compare-and-swap.
const MAX_RACES: u32 = 10;

/// What happened to a run's branch; the same words (and fields) as for runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum BranchOutcome {
    Created {
        tip: String,
    },
    FastForwarded {
        from: String,
        to: String,
        commits: usize,
    },
    UpToDate,
    /// This repository has commits the remote lacks; `push` sends them.
    Ahead {
        commits: usize,
    },
    /// Both sides have commits; `sync` merges them.
    Diverged {
        ahead: usize,
        behind: usize,
    },
    Merged {
        commit: String,
    },
    /// Behind (or diverged and merged) but checked out in a work tree: not moved.
    CheckedOut {
        worktree: PathBuf,
        /// Commits here the remote lacks: when any, only a real merge brings the two together.
        ahead: usize,
        behind: usize,
        /// Where the remote's tip waits.
        tracking: String,
    },
    /// The two sides change the same lines: nothing merged; merge by hand.
    Conflict {
        files: Vec<String>,
        /// The remote's tip, kept in `tracking`.
        remote_tip: String,
        tracking: String,
        /// The run's slot worktree that has the branch checked out, if any (merge there).
        #[serde(skip_serializing_if = "Option::is_none")]
        worktree: Option<PathBuf>,
    },
    /// No common history: left alone.
    Unrelated,
    /// Deleted here by `gc` at this tip, which the remote's copy has not moved past: not
    /// brought back (`git branch <name> <tracking ref>` does it by hand).
    DeletedHere {
        tip: String,
    },
    /// The remote's branch is not the run's code (`code_fit.rs`): not created, nothing runs on it.
    Refused {
        why: String,
    },
}

impl BranchOutcome {
    /// Whether this counts as a failure for the exit code.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            BranchOutcome::Conflict { .. }
                | BranchOutcome::Unrelated
                | BranchOutcome::Refused { .. }
        )
    }
}

/// One run's branch in a fetch.
#[derive(Debug, Clone, Serialize)]
pub struct FetchedBranch {
    pub run: RunId,
    /// The branch's full ref name.
    pub branch: RefName,
    #[serde(flatten)]
    pub outcome: BranchOutcome,
}

/// What the fast path of [`RunStore::plan_branch`] found.
enum Quick {
    /// The remote has no branch of this run.
    NoCopy,
    /// Ours is the remote's commit.
    Same(BranchStep),
    /// Read the run and look closer.
    Look,
}

/// What merging two code tips gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeMerge {
    Merged(Oid),
    Conflicts(Vec<String>),
    Unrelated,
}

/// What to do with a branch: move it (expecting `from`), or only report.
pub(super) struct BranchStep {
    pub branch: RefName,
    from: Option<Oid>,
    to: Option<Oid>,
    pub outcome: BranchOutcome,
    /// The run's slot worktrees that follow the branch when it moves.
    slots: Vec<PathBuf>,
}

impl RunStore<'_> {
    /// The full ref name of run `id`'s branch: the one it records, else (a run made by
    /// `record`, which records none) the first of its two possible names that exists here.
    /// `None` when there is none, or the run cannot be read.
    pub fn run_branch_ref(&self, id: &RunId) -> Result<Option<RefName>> {
        let meta = match self.open_run(id) {
            Ok(run) => run.meta,
            Err(e) if e.is_user_error() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if meta.branch.is_some() {
            return Ok(meta.branch_ref());
        }
        for b in candidate_branch_refs(id) {
            if self.repo.ref_target(&b)?.is_some() {
                return Ok(Some(b));
            }
        }
        Ok(None)
    }

    /// The branch of run `id` as far as `remote` goes: [`Self::run_branch_ref`], else (a run
    /// that records none and has no branch here) the first possible name the remote has.
    fn branch_for_remote(&self, remote: &RemoteName, id: &RunId) -> Result<Option<RefName>> {
        if let Some(b) = self.run_branch_ref(id)? {
            return Ok(Some(b));
        }
        if self.open_run(id).is_ok_and(|r| r.meta.branch.is_some()) {
            return Ok(None);
        }
        for b in candidate_branch_refs(id) {
            if self
                .repo
                .ref_target(&remote.branch_tracking_ref(&b))?
                .is_some()
            {
                return Ok(Some(b));
            }
        }
        Ok(None)
    }

    /// Every remote's copy of a branch (`refs/heads/…`): the namespace and tip of each
    /// tracking ref of it.
    pub fn branch_copies(&self, branch_ref: &RefName) -> Result<Vec<(RemoteName, Oid)>> {
        let suffix = format!("/heads/{}", branch_ref.short());
        let prefix = crate::store::id::REMOTE_REF_PREFIX;
        Ok(self
            .repo
            .refs_with_prefix(prefix)?
            .into_iter()
            .filter_map(|(name, oid)| {
                let remote = name.strip_prefix(prefix)?.strip_suffix(&suffix)?;
                Some((RemoteName::parse(remote).ok()?, oid))
            })
            .collect())
    }

    /// Fast path, so a fetch of many unchanged runs reads refs only, never a run: the remote
    /// has no branch of this run, or ours is the same commit.
    fn quick_plan(&self, remote: &RemoteName, id: &RunId) -> Result<Quick> {
        let mut copies = 0;
        for name in candidate_branch_refs(id) {
            let Some(theirs) = self.repo.ref_target(&remote.branch_tracking_ref(&name))? else {
                continue;
            };
            copies += 1;
            if self.repo.ref_target(&name)? == Some(theirs) {
                return Ok(Quick::Same(BranchStep {
                    branch: name,
                    from: Some(theirs),
                    to: None,
                    outcome: BranchOutcome::UpToDate,
                    slots: Vec::new(),
                }));
            }
        }
        Ok(if copies == 0 {
            Quick::NoCopy
        } else {
            Quick::Look
        })
    }

    /// What to do with run `id`'s branch given the copy `remote` has (`None` when the run
    /// records no branch or the remote has none). Moves nothing.
    pub(super) fn plan_branch(
        &self,
        remote: &RemoteName,
        id: &RunId,
        merge: bool,
    ) -> Result<Option<BranchStep>> {
        // Only a run id grind made owns a `pitboss/<id>` branch: a remote run named like a
        // branch of the user's own never moves it.
        if !id.is_generated() {
            return Ok(None);
        }
        match self.quick_plan(remote, id)? {
            Quick::NoCopy => return Ok(None),
            Quick::Same(step) => return Ok(Some(step)),
            Quick::Look => {}
        }
        let Some(branch) = self.branch_for_remote(remote, id)? else {
            return Ok(None);
        };
        let Some(theirs) = self.repo.ref_target(&remote.branch_tracking_ref(&branch))? else {
            return Ok(None);
        };
        if !self.repo.is_commit(theirs) {
            return Ok(None);
        }
        let local = self.repo.ref_target(&branch)?;
        let step = |to: Option<Oid>, outcome| BranchStep {
            branch: branch.clone(),
            from: local,
            to,
            outcome,
            slots: Vec::new(),
        };
        let Some(ours) = local else {
            // gc deleted it here: the remote's copy at that tip (or behind) is no news.
            if let Some(deleted) = self.branch_tombstone(&branch)?
                && (deleted == theirs || self.repo.is_ancestor(theirs, deleted)?)
            {
                let tip = deleted.to_string();
                return Ok(Some(step(None, BranchOutcome::DeletedHere { tip })));
            }
            if let Some(why) = self.code_misfit(id, theirs)? {
                return Ok(Some(step(None, BranchOutcome::Refused { why })));
            }
            let tip = theirs.to_string();
            return Ok(Some(step(Some(theirs), BranchOutcome::Created { tip })));
        };
        if ours == theirs {
            return Ok(Some(step(None, BranchOutcome::UpToDate)));
        }
        if self.repo.merge_base(ours, theirs)?.is_none() {
            return Ok(Some(step(None, BranchOutcome::Unrelated)));
        }
        let (ahead, behind) = self.repo.ahead_behind(ours, theirs)?;
        if behind == 0 {
            return Ok(Some(step(None, BranchOutcome::Ahead { commits: ahead })));
        }
        if ahead > 0 && !merge {
            return Ok(Some(step(None, BranchOutcome::Diverged { ahead, behind })));
        }
        let checkouts = self.branch_checkouts(id, &branch, false)?;
        if let Some(wt) = checkouts.blocking {
            let outcome = BranchOutcome::CheckedOut {
                worktree: wt,
                ahead,
                behind,
                tracking: remote.branch_tracking_ref(&branch),
            };
            return Ok(Some(step(None, outcome)));
        }
        let mut planned = if ahead == 0 {
            let outcome = BranchOutcome::FastForwarded {
                from: ours.to_string(),
                to: theirs.to_string(),
                commits: behind,
            };
            step(Some(theirs), outcome)
        } else {
            self.code_merge_step(remote, id, &branch, ours, theirs, step)?
        };
        if let BranchOutcome::Conflict { worktree, .. } = &mut planned.outcome {
            *worktree = checkouts.slots.first().cloned();
        }
        planned.slots = checkouts.slots;
        Ok(Some(planned))
    }

    fn code_merge_step(
        &self,
        remote: &RemoteName,
        id: &RunId,
        branch: &RefName,
        ours: Oid,
        theirs: Oid,
        step: impl Fn(Option<Oid>, BranchOutcome) -> BranchStep,
    ) -> Result<BranchStep> {
        Ok(match self.merge_code(id, ours, theirs)? {
            CodeMerge::Merged(commit) => step(
                Some(commit),
                BranchOutcome::Merged {
                    commit: commit.to_string(),
                },
            ),
            CodeMerge::Conflicts(files) => step(
                None,
                BranchOutcome::Conflict {
                    files,
                    remote_tip: theirs.to_string(),
                    tracking: remote.branch_tracking_ref(branch),
                    worktree: None,
                },
            ),
            CodeMerge::Unrelated => step(None, BranchOutcome::Unrelated),
        })
    }

    /// Carries out a planned step by compare-and-swap; on a lost race, plans again.
    pub(super) fn apply_branch(
        &self,
        remote: &RemoteName,
        id: &RunId,
        merge: bool,
        mut step: BranchStep,
    ) -> Result<FetchedBranch> {
        for _ in 0..MAX_RACES {
            let Some(to) = step.to else { break };
            let msg = match step.outcome {
                BranchOutcome::Created { .. } => "pitboss: run branch fetched",
                BranchOutcome::Merged { .. } => "pitboss: merged diverged run branches",
                _ => "pitboss: run branch fast-forwarded from a remote",
            };
            if self.repo.cas_ref(&step.branch, to, step.from, msg)? == CasOutcome::Updated {
                if step.from.is_none() {
                    // Here again: a later gc's verdict will stand on its own.
                    self.clear_branch_tombstone(&step.branch)?;
                }
                self.follow_slots(&step.slots, to)?;
                break;
            }
            match self.plan_branch(remote, id, merge)? {
                Some(s) => step = s,
                None => break,
            }
        }
        Ok(FetchedBranch {
            run: id.clone(),
            branch: step.branch,
            outcome: step.outcome,
        })
    }

    /// The merge commit of two diverged code tips of run `id` (in either order: the result is
    /// the same). Moves no ref.
    pub fn merge_code(&self, id: &RunId, x: Oid, y: Oid) -> Result<CodeMerge> {
        let (p1, p2) = if x <= y { (x, y) } else { (y, x) };
        if self.repo.merge_base(p1, p2)?.is_none() {
            return Ok(CodeMerge::Unrelated);
        }
        let tree = match self.repo.merge_trees_in_memory(p1, p2)? {
            TreeMerge::Clean(tree) => tree,
            TreeMerge::Conflicts(files) => return Ok(CodeMerge::Conflicts(files)),
        };
        let time = |oid: Oid| -> Result<_> {
            Ok(self
                .repo
                .commit_info(oid)?
                .map(|c| c.time)
                .unwrap_or_default())
        };
        let when = time(p1)?.max(time(p2)?);
        let message = format!(
            "merge diverged code of run {id}\n\n\
             The run grew on two clones; `git pitboss sync` joined their branches.\n\n\
             Pitboss-Run: {id}\n"
        );
        let commit =
            self.repo
                .write_commit(tree, &[p1, p2], &message, &Identity::fallback(), when)?;
        Ok(CodeMerge::Merged(commit))
    }

    /// The code commits that sessions between `local` and `incoming` name (their
    /// `Pitboss-Commit` trailers) and this repository does not have.
    pub(super) fn missing_code_commits(&self, local: Oid, incoming: Oid) -> Result<Vec<String>> {
        let mut missing = Vec::new();
        for c in self.repo.commits_not_in(incoming, Some(local))? {
            let Some(info) = self.repo.commit_info(c)? else {
                continue;
            };
            let named = crate::store::trailer(&info.message, "Pitboss-Commit");
            if let Some(oid) = named.and_then(|s| Oid::from_str(s.trim()).ok())
                && !self.repo.is_commit(oid)
            {
                missing.push(oid.to_string());
            }
        }
        Ok(missing)
    }
}

impl BranchStep {
    /// The conflicting files, when the step is a code merge that does not go through.
    pub(super) fn code_conflict(&self) -> Option<Vec<String>> {
        match &self.outcome {
            BranchOutcome::Conflict { files, .. } => Some(files.clone()),
            _ => None,
        }
    }
}

/// Whether a run that ended a fetch this way has its branch brought along (not when it was
/// refused, deleted here, unreadable, or not reconciled).
pub(super) fn brings_code(outcome: &FetchOutcome) -> bool {
    matches!(
        outcome,
        FetchOutcome::Created { .. }
            | FetchOutcome::FastForwarded { .. }
            | FetchOutcome::UpToDate
            | FetchOutcome::Ahead { .. }
            | FetchOutcome::Diverged { .. }
            | FetchOutcome::Merged { .. }
    )
}

/// The branch names a run `id` can have, as full ref names.
pub(crate) fn candidate_branch_refs(id: &RunId) -> [RefName; 2] {
    [id.branch_ref(), id.legacy_branch_ref()]
}

/// Why a history merge was not made: its records name code this repository lacks.
pub(super) fn missing_code_why(missing: &[String]) -> String {
    let short: Vec<&str> = missing
        .iter()
        .take(3)
        .map(|c| &c[..c.len().min(12)])
        .collect();
    format!(
        "its sessions name code commits this repository does not have ({}{}): the remote has \
         not got the run's branch with them; push it from the clone that made them",
        short.join(", "),
        if missing.len() > 3 { ", …" } else { "" }
    )
}

impl RunStore<'_> {
    /// Brings the branches of runs `ids` that the remote lists (`listed`, from ls-remote) into
    /// their tracking refs, `refs/pitboss-remotes/<remote>/heads/…`: one refspec per branch
    /// that changed, never a glob, so a remote of a million branches costs only the runs this
    /// fetch takes (the cap in `fetch_plan.rs`). With `prune` (a fetch of every run), tracking
    /// refs of branches the remote no longer has go.
    pub(super) fn fetch_branches(
        &self,
        remote: &Remote,
        ids: &[RunId],
        listed: &[(String, Oid)],
        prune: bool,
    ) -> Result<()> {
        let prefix = remote.name.branch_tracking_prefix();
        let tracked: BTreeMap<String, Oid> =
            self.repo.refs_with_prefix(&prefix)?.into_iter().collect();
        let on_remote: BTreeMap<&str, Oid> =
            listed.iter().map(|(n, tip)| (n.as_str(), *tip)).collect();
        // Only runs grind made own `pitboss/<id>` branches (`code_fit.rs`).
        let specs: Vec<String> = ids
            .iter()
            .filter(|id| id.is_generated())
            .flat_map(candidate_branch_refs)
            .filter_map(|b| {
                let tip = on_remote.get(b.as_str())?;
                let tracking = remote.name.branch_tracking_ref(&b);
                (tracked.get(&tracking) != Some(tip)).then(|| format!("+{b}:{tracking}"))
            })
            .collect();
        self.fetch_listed(remote, &specs)?;
        if prune {
            for tracking in tracked.keys() {
                let short = &tracking[prefix.len()..];
                let listed = BranchName::new(short)
                    .is_ok_and(|b| on_remote.contains_key(b.ref_name().as_str()));
                if !listed {
                    self.repo.delete_ref(tracking)?;
                }
            }
        }
        Ok(())
    }

    /// A remote's run refs and run branches, from one `git ls-remote` (no objects fetched).
    pub(super) fn remote_refs_with_branches(&self, remote: &Remote) -> Result<RemoteRefs> {
        let runs = format!("{RUN_REF_PREFIX}*");
        let branches = BranchName::full_prefix(&format!("{RUN_BRANCH_PREFIX}*"));
        let cmd = NetCommand::ls_remote(&remote.target, &[&runs, &branches]);
        let out = self.repo.run_net(&cmd)?;
        if !out.success {
            return Err(ShareError::Net(NetError::failed(&cmd, &out)));
        }
        let all = parse_ls_remote(&out.stdout).map_err(|why| ShareError::Unexpected {
            op: "ls-remote",
            remote: remote.target.clone(),
            why,
        })?;
        Ok(all
            .into_iter()
            .partition(|(name, _)| name.starts_with(RUN_REF_PREFIX)))
    }
}

/// Run refs and branch refs of a remote, with their tips.
pub(super) type RemoteRefs = (Vec<(String, Oid)>, Vec<(String, Oid)>);
