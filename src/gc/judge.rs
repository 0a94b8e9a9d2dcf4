//! The verdict on one code ref's commits: did its work reach the target, are its commits
//! somewhere else, does a remote have them now. [`code`](super::code) turns verdicts into rows.
//!
//! A run branch ([`Judge::branch`]) is measured against the target: the commits the run made
//! since its base that the target lacks must each be a session commit whose work reached it.
//! A remote's copy of a branch of a run not here ([`Judge::copy`]) is only a cache of what a
//! remote had, and a slot branch ([`Judge::slot`]) pitboss' own scaffolding for one session:
//! they go when their commits are somewhere else (for a slot branch, the run branch counts). Under both, the rule above all:
//! a commit reachable from nothing else goes only when its work reached the target.

use std::collections::HashSet;
use std::str::FromStr;

use super::{GcOptions, Result};
use crate::git::{BranchName, NetCommand, Oid, RefName, Repo, parse_ls_remote};
use crate::provenance::{Index, IndexOptions, Reach, ReachReport, RunFacts, Target, reach};
use crate::store::{RunId, RunStore};

/// The most commits of one ref gc walks; past it the ref is kept (it cannot be judged whole).
const MAX_WALK: usize = 100_000;

/// Whether a ref is in one of pitboss' namespaces (so it does not count as "somewhere else").
pub(super) fn in_pitboss(name: &str) -> bool {
    RefName::from_git(name)
        .branch()
        .is_some_and(|b| b.as_str().starts_with("pitboss/") || b.as_str().starts_with("pitboss-"))
        || name.starts_with("refs/pitboss/")
        || name.starts_with("refs/pitboss-")
}

/// What the commits of one code ref are judged against.
pub(super) struct Judge<'a> {
    repo: &'a Repo,
    /// Local refs outside pitboss' namespaces: where a commit is "somewhere else".
    named: Vec<(String, Oid)>,
    /// Remote-tracking refs (`refs/remotes/…`): only to say where a kept branch was pushed.
    tracking: Vec<(String, Oid)>,
    /// With `--pushed`: the remotes' branches as `git ls-remote` lists them now, named
    /// `<ref> on <remote>` (those whose commit is here).
    live: Vec<(String, Oid)>,
    /// With `--pushed`: the remotes `git ls-remote` could not list.
    unreachable: Vec<String>,
    pub(super) index: Index,
    verdicts: ReachReport,
    pub(super) opts: &'a GcOptions,
}

/// The verdict on one code ref's commits.
pub(super) enum Verdict {
    Merged(String),
    /// Every commit is on this ref (not the target).
    OnOtherRefs(String),
    Reached {
        label: String,
        commits: usize,
    },
    /// `--pushed`: every commit is on this remote branch, as `git ls-remote` lists it now.
    Pushed(String),
    Kept {
        state: String,
        reason: String,
    },
}

/// The judge, and every ref of the repository.
pub(super) fn judge_all<'a>(
    store: &'a RunStore<'_>,
    opts: &'a GcOptions,
) -> Result<(Judge<'a>, Vec<(String, Oid)>)> {
    let repo = store.repo();
    let all = repo.refs_with_prefix("refs/")?;
    let (tracking, named): (Vec<_>, Vec<_>) = all
        .iter()
        .filter(|(n, _)| !in_pitboss(n))
        .cloned()
        .partition(|(n, _)| RefName::from_git(n.as_str()).is_remote_tracking());
    let (live, unreachable) = if opts.pushed {
        live_remote_branches(repo)?
    } else {
        (Vec::new(), Vec::new())
    };
    let mut index = Index::load(store, &IndexOptions::default())?;
    let target = match &opts.target {
        Some(t) => Target::Rev(t.clone()),
        None => Target::BaseBranch,
    };
    let verdicts = reach::judge(repo, &mut index, &target, false)?;
    index.save();
    let judge = Judge {
        repo,
        named,
        tracking,
        live,
        unreachable,
        index,
        verdicts,
        opts,
    };
    Ok((judge, all))
}

/// Every configured remote's branches, from `git ls-remote` (what it has now, not what a
/// tracking ref remembers), and the remotes that could not be listed.
type Live = (Vec<(String, Oid)>, Vec<String>);

fn live_remote_branches(repo: &Repo) -> Result<Live> {
    let (mut live, mut unreachable) = (Vec::new(), Vec::new());
    for remote in repo.remote_names()? {
        let cmd = NetCommand::ls_remote(&remote, &[BranchName::full_prefix("*").as_str()]);
        let listed = match repo.run_net(&cmd) {
            Ok(out) if out.success => parse_ls_remote(&out.stdout).ok(),
            _ => None,
        };
        let Some(listed) = listed else {
            unreachable.push(remote);
            continue;
        };
        for (name, oid) in listed {
            if repo.is_commit(oid) {
                live.push((format!("{name} on {remote}"), oid));
            }
        }
    }
    Ok((live, unreachable))
}

fn oids(refs: &[(String, Oid)]) -> Vec<Oid> {
    refs.iter().map(|(_, o)| *o).collect()
}

impl Judge<'_> {
    /// The target of a run (`--target`, else its base branch) as a label and a commit.
    fn target(&self, facts: Option<&RunFacts>) -> Result<Option<(String, Oid)>> {
        let label = match (&self.opts.target, facts.and_then(|f| f.base_branch.clone())) {
            (Some(t), _) => t.clone(),
            (None, Some(b)) => b,
            (None, None) => return Ok(None),
        };
        let rev = match &self.opts.target {
            Some(t) => t.clone(),
            // A base branch git would not accept names no branch: nothing to judge against.
            None => match BranchName::new(label.as_str()) {
                Ok(b) => b.ref_name().to_string(),
                Err(_) => return Ok(None),
            },
        };
        Ok(self.repo.rev_commit(&rev)?.map(|c| (label, c)))
    }

    /// A ref of `refs` that has `tip` (its history holds every commit of the walk).
    fn holder(&self, tip: Oid, refs: &[(String, Oid)]) -> Result<Option<String>> {
        for (name, oid) in refs {
            if *oid == tip || self.repo.is_ancestor(tip, *oid)? {
                return Ok(Some(name.clone()));
            }
        }
        Ok(None)
    }

    /// The session commits of a run whose work reached the target.
    fn reached_commits(&self, facts: &RunFacts) -> HashSet<Oid> {
        let verdicts = self.verdicts.get(&facts.refname);
        facts
            .sessions
            .iter()
            .filter(|s| {
                verdicts
                    .and_then(|v| v.verdicts.get(&s.seq))
                    .is_some_and(|v| v.reached())
            })
            .flat_map(|s| s.own.iter().filter_map(|c| Oid::from_str(c).ok()))
            .collect()
    }

    /// Why `n` commits are not the work of a session that reached `label`, naming the
    /// sessions whose landed work did not.
    /// `lead` names the commits counted (`3 of them`, the state's count, so the two agree).
    fn not_reached_why(
        &self,
        facts: Option<&RunFacts>,
        lead: &str,
        n: usize,
        label: &str,
    ) -> String {
        let (is, it) = if n == 1 {
            ("is", "it")
        } else {
            ("are", "them")
        };
        let mut why =
            format!("{lead} {is} not on {label}, and no session that reached {label} made {it}");
        let Some(facts) = facts else { return why };
        let verdicts = self.verdicts.get(&facts.refname);
        let unreached: Vec<String> = facts
            .sessions
            .iter()
            .filter(|s| {
                verdicts
                    .and_then(|v| v.verdicts.get(&s.seq))
                    .is_some_and(|v| !v.reached() && *v != Reach::NotLanded)
            })
            .map(|s| s.seq.to_string())
            .collect();
        match unreached.as_slice() {
            [] => {}
            [one] => why.push_str(&format!(" (session {one} has not reached {label})")),
            many => why.push_str(&format!(
                " (sessions {} have not reached {label})",
                many.join(", ")
            )),
        }
        why
    }

    /// A run branch: deleted when its work reached the target (or, with `--pushed`, a remote
    /// has every commit now); kept otherwise.
    pub(super) fn branch(&self, tip: Oid, run: &RunId) -> Result<Verdict> {
        let facts = self.index.runs.get(&run.ref_name());
        let Some((label, target)) = self.target(facts)? else {
            // No target to measure landing against (a run not here, or without a base
            // branch): judged like a remote's copy, on whether its commits are elsewhere.
            return self.copy(tip, run);
        };
        if tip == target || self.repo.is_ancestor(tip, target)? {
            return Ok(Verdict::Merged(label));
        }
        // The run's own work: what it made since its base that the target lacks.
        let mut stop = vec![target];
        let base = facts.and_then(|f| f.base_commit.as_deref());
        stop.extend(
            base.and_then(|b| Oid::from_str(b).ok())
                .filter(|b| self.repo.is_commit(*b)),
        );
        let work = self.repo.commits_not_in_any(tip, &stop, MAX_WALK)?;
        let mut hide = oids(&self.named);
        hide.push(target);
        let orphans = self.repo.commits_not_in_any(tip, &hide, MAX_WALK)?;
        if work.len() >= MAX_WALK || orphans.len() >= MAX_WALK {
            return self.kept(tip, "too many commits to judge");
        }
        if work.is_empty() && orphans.is_empty() {
            // No work of its own, and nothing only here: nothing to land, nothing lost.
            let on = self.holder(tip, &self.named)?;
            return Ok(Verdict::OnOtherRefs(on.unwrap_or_else(|| label.clone())));
        }
        let reached = facts.map(|f| self.reached_commits(f)).unwrap_or_default();
        let not_reached = work.iter().filter(|c| !reached.contains(c)).count();
        // An orphan before the run's base (on no other ref) is not the run's work, but it goes
        // with the branch all the same: it must have reached too.
        if not_reached == 0 && orphans.iter().all(|c| reached.contains(c)) {
            return Ok(Verdict::Reached {
                label,
                commits: work.len(),
            });
        }
        if self.opts.pushed {
            let mut hide = oids(&self.live);
            hide.extend(oids(&self.named));
            hide.push(target);
            let left = self.repo.commits_not_in_any(tip, &hide, MAX_WALK)?;
            if left.iter().all(|c| reached.contains(c)) {
                let on = self.holder(tip, &self.live)?;
                return Ok(Verdict::Pushed(on.unwrap_or_else(|| "remotes".into())));
            }
        }
        let why = if not_reached == 0 {
            "commits before the run's base are on no other ref".to_string()
        } else {
            let lead = format!("{not_reached} of the run's commits");
            self.not_reached_why(facts, &lead, not_reached, &label)
        };
        self.kept(tip, &why)
    }

    /// Kept: the state says whether its commits are somewhere else, the reason why it stays.
    fn kept(&self, tip: Oid, why: &str) -> Result<Verdict> {
        let orphans = self
            .repo
            .commits_not_in_any(tip, &oids(&self.named), MAX_WALK)?
            .len();
        let pushed_hint = if self.opts.pushed {
            match self.unreachable.as_slice() {
                [] => " and no remote has them now (git ls-remote)".to_string(),
                r => format!(
                    " and no remote that answered has them ({} did not)",
                    r.join(", ")
                ),
            }
        } else {
            // One walk first: asking each remote-tracking ref in turn costs a walk per ref.
            let pushed = self
                .repo
                .commits_not_in_any(tip, &oids(&self.tracking), 1)?
                .is_empty();
            let on = if pushed {
                self.holder(tip, &self.tracking)?
            } else {
                None
            };
            match on {
                Some(on) => format!(
                    "; {on} has every commit of the branch (it was pushed; a remote-tracking \
                     ref can be stale), but pushed is not landed: with --pushed, gc deletes a \
                     branch whose every commit a remote has now"
                ),
                None => String::new(),
            }
        };
        // Nothing but landing (or --pushed, for what a remote has) lets these commits go.
        let always = if pushed_hint.is_empty() || self.opts.pushed {
            "kept, always"
        } else {
            "kept"
        };
        if orphans == 0 {
            let on = self
                .holder(tip, &self.named)?
                .unwrap_or("other refs".into());
            return Ok(Verdict::Kept {
                state: "not landed".into(),
                reason: format!("kept: {why} (its commits are on {on}){pushed_hint}"),
            });
        }
        // Not "nowhere else" when a remote-tracking ref has them: on no local branch, pushed.
        let s = if orphans == 1 { "" } else { "s" };
        let state = if pushed_hint.is_empty() || self.opts.pushed {
            format!("{orphans} commit{s} nowhere else")
        } else {
            format!("{orphans} commit{s} on no local branch (pushed)")
        };
        Ok(Verdict::Kept {
            state,
            reason: format!("{always}: {why}{pushed_hint}"),
        })
    }

    /// A remote's copy of a branch of a run not here: deleted when its commits are somewhere
    /// else (with `--pushed`, on a remote now) or reached the target; kept otherwise.
    pub(super) fn copy(&self, tip: Oid, run: &RunId) -> Result<Verdict> {
        let mut places = self.named.clone();
        places.extend(self.live.iter().cloned());
        self.on_places(tip, run, &places)
    }

    /// A slot branch of a parallel run (`pitboss-slot/<id>/<k>`): pitboss' own, made for one
    /// session; it goes when its commits are on the run branch or elsewhere, or reached the
    /// target (a session cut before it landed left the only copy of its commits there).
    pub(super) fn slot(&self, tip: Oid, run: &RunId) -> Result<Verdict> {
        let run_branch = match self.index.runs.get(&run.ref_name()) {
            Some(f) => reach::branch_tip(self.repo, f)?,
            None => self.repo.rev_commit(run.branch_ref().as_str())?,
        };
        let mut places = self.named.clone();
        places.extend(run_branch.map(|t| (run.branch_ref().to_string(), t)));
        self.on_places(tip, run, &places)
    }

    /// Deleted when every commit is on one of `places` or reached the target; kept otherwise.
    fn on_places(&self, tip: Oid, run: &RunId, places: &[(String, Oid)]) -> Result<Verdict> {
        let facts = self.index.runs.get(&run.ref_name());
        let target = self.target(facts)?;
        let orphans = self.repo.commits_not_in_any(tip, &oids(places), MAX_WALK)?;
        if orphans.is_empty() {
            return Ok(match &target {
                Some((label, t)) if tip == *t || self.repo.is_ancestor(tip, *t)? => {
                    Verdict::Merged(label.clone())
                }
                _ => Verdict::OnOtherRefs(
                    self.holder(tip, places)?
                        .unwrap_or_else(|| "other refs".into()),
                ),
            });
        }
        let n = orphans.len();
        let state = format!("{n} commit{} nowhere else", if n == 1 { "" } else { "s" });
        let why = match (&target, facts) {
            _ if n >= MAX_WALK => "too many commits to judge".to_string(),
            (Some((label, _)), Some(f)) => {
                let reached = self.reached_commits(f);
                let not = orphans.iter().filter(|c| !reached.contains(c)).count();
                if not == 0 {
                    return Ok(Verdict::Reached {
                        label: label.clone(),
                        commits: n,
                    });
                }
                self.not_reached_why(facts, &format!("{not} of them"), not, label)
            }
            (None, _) => "no other branch has them and there is no target to compare with \
                          (--target names one)"
                .to_string(),
            (Some(_), None) => "no other branch has them".to_string(),
        };
        Ok(Verdict::Kept {
            state,
            reason: format!("kept, always: {why}"),
        })
    }
}
