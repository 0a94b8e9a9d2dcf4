//! Code refs: run branches (`refs/heads/pitboss/<id>`, and `pitboss/grind/<id>` of older runs)
//! and the remotes' copies of the branches of runs that are not here
//! (`refs/pitboss-remotes/<remote>/heads/pitboss/<id>`: a run refused by a fetch, or deleted).
//!
//! "Somewhere else" means a ref outside pitboss' namespaces (a branch such as `main`, a tag,
//! `refs/remotes/…`, the stash): another run's branch or a remote's copy may go in the same
//! gc, and a reflog is deleted with its ref. The commits of a code ref that nothing else
//! reaches may go only when each is a session commit whose work reached the target, as
//! `git pitboss stats` judges it ([`crate::provenance::reach`]); otherwise the ref is kept,
//! whatever the flags.

use std::collections::HashMap;
use std::path::PathBuf;

use super::{GcOptions, Kind, Result, Row, RunState, restore_ref};
use crate::git::{Oid, Repo};
use crate::provenance::{Index, IndexOptions, Reach, ReachReport, RunFacts, Target, reach};
use crate::store::REMOTE_REF_PREFIX;
use crate::store::{RunId, RunStore};

/// The most commits of one ref gc walks; past it the ref is kept (it cannot be judged whole).
const MAX_WALK: usize = 100_000;

/// Whether a ref is in one of pitboss' namespaces (so it does not count as "somewhere else").
fn in_pitboss(name: &str) -> bool {
    name.starts_with("refs/heads/pitboss/")
        || name.starts_with("refs/pitboss/")
        || name.starts_with("refs/pitboss-")
}

/// The run of a run branch's full name, `None` for any other branch.
fn run_of_branch(name: &str) -> Option<RunId> {
    let rest = name.strip_prefix("refs/heads/pitboss/")?;
    RunId::parse(rest.strip_prefix("grind/").unwrap_or(rest)).ok()
}

/// What the commits of one code ref need.
struct Judge<'a> {
    repo: &'a Repo,
    elsewhere: Vec<Oid>,
    /// The same refs with their names, to say where a ref's commits are.
    named: Vec<(String, Oid)>,
    index: Index,
    verdicts: ReachReport,
    opts: &'a GcOptions,
}

/// The verdict on one code ref's commits.
enum Verdict {
    Merged(String),
    /// Every commit is on this ref (not the target).
    OnOtherRefs(String),
    Reached {
        label: String,
        commits: usize,
    },
    Kept {
        state: String,
        reason: String,
    },
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
            None => format!("refs/heads/{label}"),
        };
        Ok(self.repo.rev_commit(&rev)?.map(|c| (label, c)))
    }

    /// A ref outside pitboss that has `tip` (its history holds every commit of the walk).
    fn holder(&self, tip: Oid) -> Result<String> {
        for (name, oid) in &self.named {
            if *oid == tip || self.repo.is_ancestor(tip, *oid)? {
                return Ok(name.clone());
            }
        }
        Ok("other refs".into())
    }

    fn judge(&self, tip: Oid, run: Option<&RunId>) -> Result<Verdict> {
        let facts = run.and_then(|id| self.index.runs.get(&id.ref_name()));
        let target = self.target(facts)?;
        let orphans = self
            .repo
            .commits_not_in_any(tip, &self.elsewhere, MAX_WALK)?;
        if orphans.is_empty() {
            return Ok(match &target {
                Some((label, t)) if tip == *t || self.repo.is_ancestor(tip, *t)? => {
                    Verdict::Merged(label.clone())
                }
                _ => Verdict::OnOtherRefs(self.holder(tip)?),
            });
        }
        let label = target
            .as_ref()
            .map(|t| t.0.clone())
            .unwrap_or_else(|| "a target".into());
        let nowhere = |n: usize, why: String| Verdict::Kept {
            state: format!("{n} commit{} nowhere else", if n == 1 { "" } else { "s" }),
            reason: format!("kept, always: {why}"),
        };
        if orphans.len() >= MAX_WALK {
            return Ok(nowhere(orphans.len(), "too many commits to judge".into()));
        }
        let (Some(facts), Some(_)) = (facts, &target) else {
            return Ok(nowhere(
                orphans.len(),
                format!(
                    "no other branch has them{}",
                    if target.is_none() {
                        " and there is no target to compare with (--target names one)"
                    } else {
                        ""
                    }
                ),
            ));
        };
        let verdicts = self.verdicts.get(&facts.refname);
        let session_of: HashMap<&str, u64> = facts
            .sessions
            .iter()
            .flat_map(|s| s.own.iter().map(move |c| (c.as_str(), s.seq)))
            .collect();
        let not_reached = orphans
            .iter()
            .filter(|c| {
                let verdict = session_of
                    .get(c.to_string().as_str())
                    .and_then(|seq| verdicts.and_then(|v| v.verdicts.get(seq)));
                !verdict.is_some_and(|v| v.reached())
            })
            .count();
        if not_reached == 0 {
            return Ok(Verdict::Reached {
                label,
                commits: orphans.len(),
            });
        }
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
        // "Of them": of the commits nowhere else the state counts, so the two numbers agree.
        let mut why = format!(
            "{not_reached} of them {} not the work of a session that reached {label}",
            if not_reached == 1 { "is" } else { "are" }
        );
        match unreached.as_slice() {
            [] => {}
            [one] => why.push_str(&format!(": session {one} did not")),
            many => why.push_str(&format!(": sessions {} did not", many.join(", "))),
        }
        Ok(nowhere(orphans.len(), why))
    }
}

fn judge_all<'a>(
    store: &'a RunStore<'_>,
    opts: &'a GcOptions,
) -> Result<(Judge<'a>, Vec<(String, Oid)>)> {
    let repo = store.repo();
    let all = repo.refs_with_prefix("refs/")?;
    let named: Vec<(String, Oid)> = all
        .iter()
        .filter(|(n, _)| !in_pitboss(n))
        .cloned()
        .collect();
    let elsewhere = named.iter().map(|(_, o)| *o).collect();
    let mut index = Index::load(store, &IndexOptions::default())?;
    let target = match &opts.target {
        Some(t) => Target::Rev(t.clone()),
        None => Target::BaseBranch,
    };
    let verdicts = reach::judge(repo, &mut index, &target, false)?;
    index.save();
    Ok((
        Judge {
            repo,
            elsewhere,
            named,
            index,
            verdicts,
            opts,
        },
        all,
    ))
}

/// Rows for the run branches, and for the remotes' copies of branches of runs not here.
/// `removed`: the worktrees this gc removes (a branch checked out only there may go too).
pub(super) fn branch_rows(
    store: &RunStore<'_>,
    opts: &GcOptions,
    removed: &[PathBuf],
) -> Result<Vec<Row>> {
    let (judge, all) = judge_all(store, opts)?;
    let mut rows = Vec::new();
    for (name, tip) in &all {
        if let Some(id) = run_of_branch(name) {
            // A branch of a run that is here, was deleted here, or has a generated id: a
            // branch of the user's own called `pitboss/<something>` is not gc's business.
            let tombstoned = repo_has(store, &id.tombstone_ref_name())?;
            let ours = store.exists(&id)? || tombstoned || generated_id(&id);
            if ours {
                rows.push(branch_row(store, &judge, name, *tip, id, removed)?);
            }
        } else if let Some(id) = tracked_branch_run(name)
            && !store.exists(&id)?
        {
            let row = Row::keep(Kind::TrackingRef, name, Some(id.clone()), "run not here");
            rows.push(finish(
                row,
                judge.judge(*tip, Some(&id))?,
                name,
                *tip,
                "the run is not here (refused by a fetch, or deleted)",
            ));
        }
    }
    Ok(rows)
}

fn branch_row(
    store: &RunStore<'_>,
    judge: &Judge<'_>,
    name: &str,
    tip: Oid,
    id: RunId,
    removed: &[PathBuf],
) -> Result<Row> {
    let state = RunState::of(store, &id)?;
    let row = Row::keep(Kind::Branch, name, Some(id.clone()), &state.label());
    if let Some(why) = state.kept_for_resume(&id, judge.opts.stopped) {
        return Ok(row.because(why));
    }
    // A branch checked out in a work tree that stays (the user's, or a run worktree gc keeps).
    if let Some(p) = store
        .repo()
        .checked_out_in(name)?
        .into_iter()
        .find(|p| !removed.contains(p))
    {
        return Ok(row.because(format!("it is checked out in {}", p.display())));
    }
    Ok(finish(row, judge.judge(tip, Some(&id))?, name, tip, ""))
}

/// The row with the verdict's state, action and reason.
fn finish(mut row: Row, v: Verdict, name: &str, tip: Oid, context: &str) -> Row {
    let sep = if context.is_empty() { "" } else { "; " };
    let (state, reason) = match v {
        Verdict::Kept { state, reason } => {
            row.state = state;
            row.oid = Some(tip.to_string());
            return row.because(format!("{context}{sep}{reason}"));
        }
        Verdict::Merged(label) => (
            format!("merged into {label}"),
            format!("reached the target: every commit is on {label}"),
        ),
        Verdict::OnOtherRefs(on) => (
            "on other branches".to_string(),
            format!("every commit is on {on}"),
        ),
        Verdict::Reached { label, commits } => (
            format!("reached {label}: same patches"),
            format!(
                "reached the target: {commits} commit(s) only here, each session's change is on \
                 {label} (squash, rebase or cherry-pick); the commits themselves go"
            ),
        ),
    };
    row.state = state;
    row.because(format!("{context}{sep}{reason}"))
        .delete_ref(name, tip, restore_ref(name, tip))
}

fn repo_has(store: &RunStore<'_>, refname: &str) -> Result<bool> {
    Ok(store.repo().ref_target(refname)?.is_some())
}

/// Whether `id` has the shape grind gives run ids: `YYYYMMDDTHHMMSSZ-xxxx`.
fn generated_id(id: &RunId) -> bool {
    let b = id.as_str().as_bytes();
    b.len() == 21
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'T'
        && b[9..15].iter().all(u8::is_ascii_digit)
        && b[15] == b'Z'
        && b[16] == b'-'
        && b[17..].iter().all(|c| c.is_ascii_hexdigit())
}

/// The run of a remote's copy of a run branch, `refs/pitboss-remotes/<r>/heads/pitboss/<id>`.
fn tracked_branch_run(name: &str) -> Option<RunId> {
    let rest = name.strip_prefix(REMOTE_REF_PREFIX)?;
    let (_, branch) = rest.split_once("/heads/")?;
    run_of_branch(&format!("refs/heads/{branch}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_branches_and_their_remote_copies_are_recognised() {
        assert_eq!(
            run_of_branch("refs/heads/pitboss/20261124T100000Z-abcd")
                .unwrap()
                .as_str(),
            "20261124T100000Z-abcd"
        );
        assert_eq!(
            run_of_branch("refs/heads/pitboss/grind/r1")
                .unwrap()
                .as_str(),
            "r1"
        );
        assert!(run_of_branch("refs/heads/main").is_none());
        assert!(run_of_branch("refs/heads/pitboss/a/b").is_none());
        assert_eq!(
            tracked_branch_run("refs/pitboss-remotes/origin/heads/pitboss/r1")
                .unwrap()
                .as_str(),
            "r1"
        );
        assert!(tracked_branch_run("refs/pitboss-remotes/origin/grind/r1").is_none());
        assert!(in_pitboss("refs/pitboss-tombstones/grind/r1"));
        let id = |s: &str| RunId::parse(s).unwrap();
        assert!(generated_id(&id("20261124T101500Z-3fa9")));
        assert!(!generated_id(&id("feature")));
        assert!(!generated_id(&id("20261124T101500Z-3fa")));
        assert!(!in_pitboss("refs/heads/main"));
    }
}
