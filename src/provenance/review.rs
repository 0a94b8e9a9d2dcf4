//! What a run did to its base, from recorded facts only (`git pitboss review`, and the body of
//! the pull request `git pitboss pr` opens): the diff stat of the base commit against the run
//! branch, each session with its status, prompt, cost, summary and the commits it landed, the
//! sessions whose work did not land (with the path of their saved patch in the run ref), and
//! totals.
//!
//! Which commits a session landed and whether they reached the base branch come from the
//! provenance index and its reach verdicts (`index.rs`, `reach.rs`), the same facts `stats`,
//! `blame` and `why` use, so the commands never disagree.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Result;
use super::index::{Index, IndexOptions};
use super::reach::{self, Reach, Target};
use crate::git::FileStat;
use crate::store::{PullRequest, Run, RunStore, Seq, SessionStatus};

/// A run, reviewed.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Review {
    pub run: String,
    pub run_ref: String,
    pub status: String,
    pub stop_reason: Option<String>,
    pub agent: Option<String>,
    pub rotation: Option<String>,
    /// The run branch (its short name), when the run has one here.
    pub branch: Option<crate::git::BranchName>,
    pub branch_tip: Option<String>,
    pub base_branch: Option<String>,
    pub base_commit: Option<String>,
    /// What the base commit to the branch tip changes, file by file.
    pub files: Vec<FileStat>,
    pub sessions: Vec<ReviewSession>,
    pub totals: Totals,
    pub pull_request: Option<PullRequest>,
}

/// One session of a reviewed run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ReviewSession {
    pub seq: u64,
    pub prompt: String,
    pub status: SessionStatus,
    /// `None`: the cost is not known (never shown as $0).
    pub cost_usd: Option<f64>,
    pub tokens: u64,
    pub summary: Option<String>,
    /// Whether its work is on the run branch.
    pub landed: bool,
    /// The commits it landed on the run branch, oldest first.
    pub commits: Vec<String>,
    /// Whether its landed work reached the base branch, and how it was recognised.
    pub reach: Reach,
    /// `<run ref>:<path>` of its saved, unlanded work, when there is some.
    pub patch: Option<String>,
}

impl ReviewSession {
    /// A session that changed something which is not on the run branch.
    pub(crate) fn not_landed(&self) -> bool {
        !self.landed && (self.patch.is_some() || !self.commits.is_empty())
    }
}

/// Sums over the sessions and the diff.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Totals {
    pub sessions: u64,
    pub by_status: BTreeMap<String, u64>,
    pub landed: u64,
    pub not_landed: u64,
    pub reached: u64,
    /// Landed sessions whose reaching the base cannot be decided (or that have no base to
    /// reach): unknown, never counted as not reached.
    pub reach_unknown: u64,
    pub tokens: u64,
    /// The sum of the known costs.
    pub cost_usd: f64,
    /// Sessions whose cost is not known (not in `cost_usd`).
    pub cost_unknown: u64,
    pub files_changed: u64,
    pub lines_added: u64,
    pub lines_removed: u64,
}

/// Reviews one run of this repository.
pub(crate) fn review(store: &RunStore<'_>, run: &Run) -> Result<Review> {
    let repo = store.repo();
    let mut index = Index::load(store, &IndexOptions::default())?;
    let verdicts = reach::judge(repo, &mut index, &Target::BaseBranch, false)?;
    index.save();
    let refname = run.id.ref_name();
    let facts = index.runs.get(&refname);
    let branch_tip = match facts {
        Some(f) => reach::branch_tip(repo, f)?,
        None => None,
    };
    let branch = branch_tip.and(branch_name(store, run)?);
    let base = run.meta.base_commit;
    let files = match (base, branch_tip) {
        (Some(b), Some(t)) if repo.is_commit(b) => repo.diff_stat(b, t)?,
        _ => Vec::new(),
    };
    let run_verdicts = verdicts.get(&refname);
    let mut sessions = Vec::new();
    for r in store.records(run)? {
        let f = facts.and_then(|f| f.sessions.iter().find(|s| s.seq == r.seq));
        let reach = run_verdicts
            .and_then(|v| v.verdicts.get(&r.seq).copied())
            .unwrap_or(Reach::NotLanded);
        let landed = reach != Reach::NotLanded;
        let mut commits: Vec<String> = f.map(|f| f.own.clone()).unwrap_or_default();
        commits.reverse();
        let patch = store
            .patch_blob(run, r.seq)?
            .map(|_| format!("{refname}:{}", Seq(r.seq).patch_path()));
        sessions.push(ReviewSession {
            seq: r.seq,
            prompt: r.prompt.clone(),
            status: r.status,
            cost_usd: r.usage.known_cost(),
            tokens: r.usage.tokens.total(),
            summary: r.summary.clone().filter(|s| !s.trim().is_empty()),
            landed,
            commits,
            reach,
            patch,
        });
    }
    let totals = totals(&sessions, &files);
    Ok(Review {
        run: run.id.to_string(),
        run_ref: refname,
        status: run.state.status.to_string(),
        stop_reason: run.state.stop_reason.clone(),
        agent: run.meta.agent.clone(),
        rotation: run.meta.rotation.clone(),
        branch,
        branch_tip: branch_tip.map(|t| t.to_string()),
        base_branch: run.meta.base_branch.clone(),
        base_commit: run.meta.base_commit_text(),
        files,
        sessions,
        totals,
        pull_request: run.state.pull_request(),
    })
}

/// The run branch's short name: the one run.json records, else whichever of the two names a
/// run of this id can have exists here.
fn branch_name(store: &RunStore<'_>, run: &Run) -> Result<Option<crate::git::BranchName>> {
    let recorded = run.meta.branch_ref();
    let candidates = recorded
        .into_iter()
        .chain(crate::store::share::candidate_branch_refs(&run.id));
    for full in candidates {
        if store.repo().ref_target(&full)?.is_some() {
            return Ok(full.branch());
        }
    }
    Ok(None)
}

/// Why a review has no diff when the run branch is not here, as far as the verdicts of the
/// sessions whose commits are here know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BranchGone {
    /// No session's commits are here either: the run came without its branch.
    NothingHere,
    /// The work of `no` of the `with_code` sessions with commits has not reached the base.
    NotReached { no: usize, with_code: usize },
    /// Whether the work of `unknown` of them reached the base is unknown (`unknown` and
    /// `no-target` are not "did not reach": the view cannot know).
    Unknown { unknown: usize, with_code: usize },
    /// The work of every one reached the base: the branch was deleted after it landed.
    Landed { with_code: usize },
}

impl Review {
    /// Why there is no run branch here to diff, read from the sessions' verdicts.
    pub(crate) fn branch_gone(&self) -> BranchGone {
        let with_code = self.sessions.iter().filter(|s| s.landed).count();
        let count = |want: &[Reach]| {
            self.sessions
                .iter()
                .filter(|s| s.landed && want.contains(&s.reach))
                .count()
        };
        let no = count(&[Reach::No]);
        let unknown = count(&[Reach::Unknown, Reach::NoTarget]);
        if with_code == 0 {
            BranchGone::NothingHere
        } else if no > 0 {
            BranchGone::NotReached { no, with_code }
        } else if unknown > 0 {
            BranchGone::Unknown { unknown, with_code }
        } else {
            BranchGone::Landed { with_code }
        }
    }
}

impl Totals {
    /// How many sessions reached `base`, as words: `2 reached main`, `2 reached main (+1
    /// unknown)`, or `reached main: unknown` when no landed session's reach is known.
    pub(crate) fn reached_text(&self, base: &str) -> String {
        match self.reach_unknown {
            0 => format!("{} reached {base}", self.reached),
            u if u == self.landed => format!("reached {base}: unknown"),
            u => format!("{} reached {base} (+{u} unknown)", self.reached),
        }
    }
}

fn totals(sessions: &[ReviewSession], files: &[FileStat]) -> Totals {
    let mut t = Totals {
        sessions: sessions.len() as u64,
        files_changed: files.len() as u64,
        ..Totals::default()
    };
    for f in files {
        t.lines_added += f.added as u64;
        t.lines_removed += f.removed as u64;
    }
    for s in sessions {
        *t.by_status
            .entry(s.status.as_str().to_string())
            .or_default() += 1;
        t.landed += u64::from(s.landed);
        t.not_landed += u64::from(s.not_landed());
        t.reached += u64::from(s.reach.reached());
        t.reach_unknown += u64::from(matches!(s.reach, Reach::Unknown | Reach::NoTarget));
        t.tokens = t.tokens.saturating_add(s.tokens);
        match s.cost_usd {
            Some(c) => t.cost_usd += c,
            None => t.cost_unknown += 1,
        }
    }
    t
}
