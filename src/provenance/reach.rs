//! Did a session's work reach the target? Checked in this order, first answer wins:
//!
//! 1. **merge / fast-forward**: the session's commit is an ancestor of the target.
//! 2. **patch id**: every own commit of the session, or its whole change, has the patch id of
//!    a target commit made since the run forked (a rebase, a cherry-pick, a squash of that one
//!    session).
//! 3. **squash of the run**: the run branch's whole change has the patch id of a target commit.
//! 4. **applied**: the session's change is already applied in the target's tree. Sessions are
//!    walked newest first over a working tree that starts as the target's: a session whose
//!    change applies in reverse is in (and the walk goes on from the tree with it taken out,
//!    so an earlier session whose lines a later one edited is judged on the lines it wrote).
//!    Then the sessions not found are walked oldest first over the target's tree, each change
//!    put in as it goes: one whose change applies there is not in the target; one whose change
//!    applies neither way was edited later and is `unknown`, never a guess.
//!
//! Only sessions whose work landed on the run branch are judged. The checks write nothing to
//! the repository (they run on a scratch handle whose objects stay in memory), and the
//! verdicts are cached keyed by the run tip, the run branch tip and the target tip.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::index::{Index, RunFacts, SessionFacts, oid};
use super::{ProvenanceError, Result};
use crate::git::{BranchName, ChangedFile, Oid, Repo, TreeEdit, TreeEntryKind};

/// How far a session's work got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Reach {
    /// No code of this session landed on the run branch (nothing to reach the target with).
    NotLanded,
    /// The target has no such commit (the run has no base branch and no `--target` was given).
    NoTarget,
    Merged,
    PatchId,
    SquashedRun,
    Applied,
    No,
    Unknown,
}

impl Reach {
    pub(crate) fn reached(self) -> bool {
        matches!(
            self,
            Reach::Merged | Reach::PatchId | Reach::SquashedRun | Reach::Applied
        )
    }
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Reach::NotLanded => "not-landed",
            Reach::NoTarget => "no-target",
            Reach::Merged => "merged",
            Reach::PatchId => "patch-id",
            Reach::SquashedRun => "squashed-run",
            Reach::Applied => "applied",
            Reach::No => "no",
            Reach::Unknown => "unknown",
        }
    }
}

/// Where "the target" is: one revision for every run, or each run's base branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    BaseBranch,
    Rev(String),
}

/// Cached verdicts of one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CachedReach {
    pub key: String,
    pub verdicts: Vec<(u64, Reach)>,
}

/// One run's verdicts: by seq.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunReach {
    pub verdicts: BTreeMap<u64, Reach>,
}

/// Verdicts of every run, by run ref name.
pub(crate) type ReachReport = BTreeMap<String, RunReach>;

/// Judges every run the index holds (the remote ones too when asked).
pub(crate) fn judge(
    repo: &Repo,
    index: &mut Index,
    target: &Target,
    remote_runs: bool,
) -> Result<ReachReport> {
    let fixed = match target {
        Target::Rev(rev) => Some(
            repo.rev_commit(rev)?
                .ok_or_else(|| ProvenanceError::BadTarget(rev.clone()))?,
        ),
        Target::BaseBranch => None,
    };
    let scratch = repo.scratch()?;
    let mut pids = TargetPids::new();
    let mut out = ReachReport::new();
    let refnames: Vec<String> = index.runs(remote_runs).map(|r| r.refname.clone()).collect();
    for refname in refnames {
        let run = index.runs[&refname].clone();
        let target_tip = match (target, fixed) {
            (Target::Rev(_), Some(t)) => Some(t),
            _ => match &run.base_branch {
                // A base branch git would not accept as a name resolves to nothing.
                Some(b) => match BranchName::new(b.as_str()) {
                    Ok(b) => repo.rev_commit(&b.ref_name())?,
                    Err(_) => None,
                },
                None => None,
            },
        };
        let branch_tip = branch_tip(repo, &run)?;
        let key = format!(
            "{}:{}:{}",
            run.tip,
            branch_tip.map(|o| o.to_string()).unwrap_or_default(),
            target_tip.map(|o| o.to_string()).unwrap_or_default()
        );
        let verdicts = match index.reach.get(&refname).filter(|c| c.key == key) {
            Some(c) => c.verdicts.iter().copied().collect(),
            None => {
                let v = judge_run(
                    repo, &scratch, index, &run, branch_tip, target_tip, &mut pids,
                )?;
                index.reach.insert(
                    refname.clone(),
                    CachedReach {
                        key,
                        verdicts: v.iter().map(|(k, v)| (*k, *v)).collect(),
                    },
                );
                index.dirty = true;
                v
            }
        };
        out.insert(refname, RunReach { verdicts });
    }
    Ok(out)
}

/// The tip of the run's code branch: the one run.json names, else `pitboss/<id>`, else
/// `pitboss/grind/<id>` (the name runs used before).
pub(crate) fn branch_tip(repo: &Repo, run: &RunFacts) -> Result<Option<Oid>> {
    let mut names: Vec<String> = run.branch.iter().cloned().collect();
    if run.remote.is_none() {
        names.push(format!("pitboss/{}", run.id));
        names.push(format!("pitboss/grind/{}", run.id));
    }
    // NB: each name is taken as a short branch name, also a recorded full one
    // (`refs/heads/pitboss/<id>`), which then names no branch and the fallbacks decide.
    for n in names.into_iter().filter_map(|n| BranchName::new(n).ok()) {
        if let Some(t) = repo.rev_commit(&n.ref_name())? {
            return Ok(Some(t));
        }
    }
    Ok(None)
}

/// How far each session of `run` reached `target` (see [`Reach`]): landed at all, merged,
/// by patch id, by a squash of the whole run, or applied.
fn judge_run(
    repo: &Repo,
    scratch: &Repo,
    index: &mut Index,
    run: &RunFacts,
    branch_tip: Option<Oid>,
    target: Option<Oid>,
    pids: &mut TargetPids,
) -> Result<BTreeMap<u64, Reach>> {
    let base = run.base_commit.as_deref().and_then(oid);
    let (mut out, pending) = landed_sessions(repo, run, branch_tip, base, target.is_some())?;
    let Some(target) = target else {
        return Ok(out);
    };
    if pending.is_empty() {
        return Ok(out);
    }
    // The patch ids of the target's commits since the run forked.
    let head = branch_tip.unwrap_or(pending.last().map(|p| p.1).unwrap_or(target));
    let fork = repo.merge_base(target, head)?;
    let at = Against {
        target,
        fork,
        branch_tip,
        base,
    };
    if judge_merged(repo, &at, &pending, &mut out)? {
        return Ok(out);
    }
    let target_pids = target_patch_ids(repo, index, pids, target, fork)?;
    judge_by_patch_id(repo, &at, &target_pids, &pending, &mut out)?;
    if pending.iter().all(|(s, _)| out[&s.seq].reached()) {
        return Ok(out);
    }
    judge_applied(repo, scratch, target, &pending, &mut out)?;
    Ok(out)
}

/// Landed sessions still to judge, each with its commit.
type Pending<'a> = Vec<(&'a SessionFacts, Oid)>;

/// What a run's landed sessions are judged against.
struct Against {
    target: Oid,
    /// Where the run branch (or the newest landed commit) forked from the target.
    fork: Option<Oid>,
    branch_tip: Option<Oid>,
    /// The commit the run started from.
    base: Option<Oid>,
}

/// Sorts out the sessions whose work did not land (`NotLanded`) and, with no target, those
/// that did (`NoTarget`); returns those verdicts and the landed sessions left to judge.
fn landed_sessions<'r>(
    repo: &Repo,
    run: &'r RunFacts,
    branch_tip: Option<Oid>,
    base: Option<Oid>,
    has_target: bool,
) -> Result<(BTreeMap<u64, Reach>, Pending<'r>)> {
    // Landed on the run branch: reachable from its tip (the branch may have been rewound).
    let on_branch: Option<HashSet<Oid>> = match branch_tip {
        Some(t) => Some(
            repo.commits_not_in_any(t, &base.into_iter().collect::<Vec<_>>(), usize::MAX)?
                .into_iter()
                .collect(),
        ),
        None => None,
    };
    let landed = |s: &SessionFacts| -> Option<Oid> {
        let c = oid(s.commit.as_deref()?)?;
        if s.own.is_empty() {
            return None; // the commit is not in this repository
        }
        match &on_branch {
            Some(set) => set.contains(&c).then_some(c),
            None => Some(c),
        }
    };
    let mut out = BTreeMap::new();
    let mut pending: Pending<'r> = Vec::new();
    for s in &run.sessions {
        match landed(s) {
            None => {
                out.insert(s.seq, Reach::NotLanded);
            }
            Some(_) if !has_target => {
                out.insert(s.seq, Reach::NoTarget);
            }
            Some(c) => pending.push((s, c)),
        }
    }
    Ok((out, pending))
}

/// Judges each pending session `Merged` (its commit is an ancestor of the target) or, for now,
/// `Unknown`; true when every one is merged.
fn judge_merged(
    repo: &Repo,
    at: &Against,
    pending: &Pending<'_>,
    out: &mut BTreeMap<u64, Reach>,
) -> Result<bool> {
    // Merged: an ancestor of the target. A landed session's commit is one exactly when it is
    // an ancestor of the fork point, so one walk (fork back to the run's base) answers for
    // every session, where an ancestry query per session walked the target's whole history.
    let merged: Option<HashSet<Oid>> = match (at.branch_tip, at.fork) {
        (Some(_), Some(f)) => Some(
            repo.commits_not_in_any(f, &at.base.into_iter().collect::<Vec<_>>(), usize::MAX)?
                .into_iter()
                .collect(),
        ),
        _ => None,
    };
    let mut all_merged = true;
    for (s, c) in pending {
        let is_merged = match &merged {
            Some(set) => set.contains(c),
            None => repo.is_ancestor(*c, at.target)?,
        };
        all_merged &= is_merged;
        out.insert(
            s.seq,
            if is_merged {
                Reach::Merged
            } else {
                Reach::Unknown
            },
        );
    }
    Ok(all_merged)
}

/// Judges the pending sessions not merged by patch id: `PatchId` when the target has their
/// change, `SquashedRun` when it has the whole run's in one commit, else still `Unknown`.
fn judge_by_patch_id(
    repo: &Repo,
    at: &Against,
    target_pids: &HashSet<String>,
    pending: &Pending<'_>,
    out: &mut BTreeMap<u64, Reach>,
) -> Result<()> {
    let whole_run = match (at.branch_tip, at.fork) {
        (Some(t), Some(f)) => {
            let (tt, ft) = (tree_of(repo, t)?, tree_of(repo, f)?);
            match tt {
                Some(tt) => repo.diff_patch_id(ft, tt)?.map(|p| p.to_string()),
                None => None,
            }
        }
        _ => None,
    };
    let squashed = whole_run.is_some_and(|p| target_pids.contains(&p));
    for (s, _) in pending {
        if out[&s.seq] == Reach::Merged {
            continue;
        }
        let v = if (!s.patch_ids.is_empty() && s.patch_ids.iter().all(|p| target_pids.contains(p)))
            || s.session_patch_id
                .as_ref()
                .is_some_and(|p| target_pids.contains(p))
        {
            Reach::PatchId
        } else if squashed {
            Reach::SquashedRun
        } else {
            Reach::Unknown // decided by the apply walk below
        };
        out.insert(s.seq, v);
    }
    Ok(())
}

/// The apply walks, for the sessions not judged yet. Newest session first, taking out of the
/// target's tree each change found applied there (`Applied`); then oldest first, putting into
/// it each change not found (`No` when it applies, else `Unknown`), so a session that builds
/// on an earlier one that never reached the target is judged on the tree it was written for.
fn judge_applied(
    repo: &Repo,
    scratch: &Repo,
    target: Oid,
    pending: &Pending<'_>,
    out: &mut BTreeMap<u64, Reach>,
) -> Result<()> {
    let Some(target_tree) = tree_of(repo, target)? else {
        return Ok(());
    };
    let mut changes = Vec::with_capacity(pending.len());
    for (s, c) in pending {
        let Some(new) = tree_of(repo, *c)? else {
            continue;
        };
        let old = match s.base.as_deref().and_then(oid) {
            Some(b) => tree_of(repo, b)?,
            None => None,
        };
        changes.push((s.seq, old, new));
    }
    let mut tree = target_tree;
    for (seq, old, new) in changes.iter().rev() {
        if let Some(t) = take_out(scratch, tree, *old, *new)? {
            tree = t;
            if !out[seq].reached() {
                out.insert(*seq, Reach::Applied);
            }
        }
    }
    let mut tree = target_tree;
    for (seq, old, new) in &changes {
        if out[seq].reached() {
            continue;
        }
        match put_in(scratch, tree, *old, *new)? {
            Some(t) => {
                tree = t;
                out.insert(*seq, Reach::No);
            }
            None => {
                out.insert(*seq, Reach::Unknown);
            }
        }
    }
    Ok(())
}

/// The patch ids of a target's commits since a fork point, shared by the runs that forked
/// there (most runs of a repository fork from a handful of base commits).
type TargetPids = HashMap<(Oid, Option<Oid>), Rc<HashSet<String>>>;

fn target_patch_ids(
    repo: &Repo,
    index: &mut Index,
    pids: &mut TargetPids,
    target: Oid,
    fork: Option<Oid>,
) -> Result<Rc<HashSet<String>>> {
    if let Some(p) = pids.get(&(target, fork)) {
        return Ok(p.clone());
    }
    let mut set = HashSet::new();
    for c in repo.commits_not_in_any(target, &fork.into_iter().collect::<Vec<_>>(), usize::MAX)? {
        if let Some(p) = index.commit_patch_id(repo, c)? {
            set.insert(p);
        }
    }
    let set = Rc::new(set);
    pids.insert((target, fork), set.clone());
    Ok(set)
}

fn tree_of(repo: &Repo, commit: Oid) -> Result<Option<Oid>> {
    Ok(repo.commit_info(commit)?.map(|c| c.tree))
}

/// `tree` with the change `old → new` taken out, `None` when it is not found applied there.
fn take_out(scratch: &Repo, tree: Oid, old: Option<Oid>, new: Oid) -> Result<Option<Oid>> {
    let files = scratch.changed_files(old, new)?;
    if files.is_empty() {
        return Ok(None);
    }
    // The quick answer: every touched file is exactly as the session left it (blob and mode).
    if same_entries(scratch, tree, &files, |f| f.new)? {
        return Ok(Some(set_entries(scratch, tree, &files, |f| f.old)?));
    }
    // NB: libgit2's apply does not check a mode change against the tree it applies to, so a
    // `chmod` the tree does not have would be taken out of it all the same.
    if !modes_match(scratch, tree, &files, |f| f.new)? {
        return Ok(None);
    }
    Ok(scratch.apply_change(tree, Some(new), old)?)
}

/// `tree` with the change `old → new` put in, `None` when it does not apply.
fn put_in(scratch: &Repo, tree: Oid, old: Option<Oid>, new: Oid) -> Result<Option<Oid>> {
    let files = scratch.changed_files(old, new)?;
    if files.is_empty() {
        return Ok(Some(tree));
    }
    // The quick answer: every touched file is exactly as the session found it.
    if same_entries(scratch, tree, &files, |f| f.old)? {
        return Ok(Some(set_entries(scratch, tree, &files, |f| f.new)?));
    }
    if !modes_match(scratch, tree, &files, |f| f.old)? {
        return Ok(None);
    }
    Ok(scratch.apply_change(tree, old, Some(new))?)
}

type Entry = Option<(Oid, TreeEntryKind)>;

/// Whether every touched file is in `tree` exactly as `side` has it: same blob, same mode.
fn same_entries(
    repo: &Repo,
    tree: Oid,
    files: &[ChangedFile],
    side: impl Fn(&ChangedFile) -> Entry,
) -> Result<bool> {
    for f in files {
        if repo.tree_entry(tree, &f.path)? != side(f) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether each file whose mode the change flips has, in `tree`, the mode `side` has.
fn modes_match(
    repo: &Repo,
    tree: Oid,
    files: &[ChangedFile],
    side: impl Fn(&ChangedFile) -> Entry,
) -> Result<bool> {
    for f in files {
        let (Some(old), Some(new)) = (f.old, f.new) else {
            continue;
        };
        if old.1 != new.1 {
            let want = side(f).map(|e| e.1);
            if repo.tree_entry(tree, &f.path)?.map(|e| e.1) != want {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

fn set_entries(
    repo: &Repo,
    tree: Oid,
    files: &[ChangedFile],
    side: impl Fn(&ChangedFile) -> Entry,
) -> Result<Oid> {
    let edits: Vec<TreeEdit> = files
        .iter()
        .map(|f| match side(f) {
            Some((oid, kind)) => TreeEdit::Entry {
                path: f.path.clone(),
                oid,
                kind,
            },
            None => TreeEdit::Remove {
                path: f.path.clone(),
            },
        })
        .collect();
    Ok(repo.edit_tree(Some(tree), &edits)?)
}
