//! The commit → session index: for every run (local, and with `--remote-runs` the teammates'
//! runs not yet integrated), each session's record facts and the code it wrote: its own
//! commits, their patch ids and the patch id of the session's whole change.
//!
//! A session's own commits are what its record says it landed: the `landing.commits` of a
//! parallel run's session, else the first-parent chain from its recorded `commit` back to the
//! nearest commit another session of the run recorded, or the run's base commit (an agent may
//! commit several times in one session). Never "back to the previous session's commit": after a
//! `sync` merged two clones' branches and renumbered a session, the previous seq's commit is
//! on the other side of the merge, and that walk credited the session with earlier sessions'
//! commits. The index is cached keyed by each run's tip: an unchanged run is not read at
//! all, and a run that grew re-reads its records but recomputes commits and patch ids only
//! for sessions it has not seen (so a new session only adds to the index).

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Result, cache};
use crate::git::{Oid, Repo};
use crate::store::{Run, RunStore, SessionRecord, SessionStatus, rfc3339};

/// The most commits one session can own; past it the rest are not attributed (a record whose
/// commit sits on an unrelated long history would otherwise walk all of it).
const MAX_OWN_COMMITS: usize = 1000;

/// What the index keeps of one session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SessionFacts {
    pub seq: u64,
    pub prompt: String,
    pub agent: Option<String>,
    pub model: Option<String>,
    pub status: SessionStatus,
    #[serde(with = "rfc3339")]
    pub started_at: DateTime<Utc>,
    pub secs: i64,
    pub tokens: u64,
    /// `None`: the cost is not known.
    pub cost_usd: Option<f64>,
    /// The code commit the record names.
    pub commit: Option<String>,
    /// Whether the run saved this session's unmerged work as a patch.
    pub saved_patch: bool,
    /// The commit the session's change is measured from (the parent of its oldest own commit).
    pub base: Option<String>,
    /// The session's own commits, newest first.
    pub own: Vec<String>,
    /// The patch ids of `own` (commits that change nothing have none).
    pub patch_ids: Vec<String>,
    /// The patch id of the session's whole change (`base` to `commit`).
    pub session_patch_id: Option<String>,
}

impl SessionFacts {
    /// Whether the session changed anything (landed code, or work saved as a patch).
    pub(crate) fn changed(&self) -> bool {
        self.commit.is_some() || self.saved_patch
    }
}

/// What the index keeps of one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RunFacts {
    pub id: String,
    pub refname: String,
    pub tip: String,
    /// The remote it was read from, for a teammate's run not integrated here.
    pub remote: Option<String>,
    pub branch: Option<String>,
    pub base_branch: Option<String>,
    pub base_commit: Option<String>,
    pub agent: Option<String>,
    /// Prompt name → blob id of the prompt file the run started with.
    pub prompts: BTreeMap<String, String>,
    pub sessions: Vec<SessionFacts>,
    /// The patch id of the run branch's whole change since the base commit, as of a branch
    /// tip: what a squash merge of the whole branch carries.
    #[serde(default)]
    pub whole: Option<WholeRun>,
}

/// The run branch's whole change, as of one branch tip.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WholeRun {
    pub branch_tip: String,
    pub patch_id: Option<String>,
}

/// Which runs to index.
#[derive(Debug, Clone, Default)]
pub(crate) struct IndexOptions {
    /// Add the runs under `refs/pitboss-remotes/*` whose id has no local run.
    pub remote_runs: bool,
    /// Do not read or write the cache (benchmarks of a cold start).
    pub no_cache: bool,
}

/// The index, as cached.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Index {
    pub format: u32,
    /// By run ref name.
    pub runs: BTreeMap<String, RunFacts>,
    /// Commit → its patch id ("" for a commit that changes nothing), for commits outside the
    /// sessions (target history, blamed commits). Commits never change, so entries never go
    /// stale.
    pub commit_patch_ids: HashMap<String, String>,
    /// Reach verdicts by run ref name, keyed by the tips they were computed from.
    pub reach: BTreeMap<String, super::reach::CachedReach>,
    #[serde(skip)]
    pub(super) dirty: bool,
    #[serde(skip)]
    pub(super) path: Option<std::path::PathBuf>,
    /// How many sessions this load had to compute (0 on a warm call).
    #[serde(skip)]
    pub computed_sessions: usize,
}

pub(super) fn oid(s: &str) -> Option<Oid> {
    Oid::from_str(s).ok()
}

impl Index {
    /// Loads the cached index and brings it up to date with the run refs.
    pub(crate) fn load(store: &RunStore<'_>, opts: &IndexOptions) -> Result<Index> {
        let repo = store.repo();
        let path = cache::cache_path(repo.common_dir());
        let mut index: Index = if opts.no_cache {
            Index::default()
        } else {
            cache::load(&path)
                .filter(|i: &Index| i.format == cache::FORMAT)
                .unwrap_or_default()
        };
        index.format = cache::FORMAT;
        index.path = (!opts.no_cache).then_some(path);
        // Runs whose tip the cache already has are not read at all.
        let mut keep: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut changed: Vec<(String, Run, Option<String>)> = Vec::new();
        let listing = store.list()?;
        for summary in &listing.runs {
            let refname = summary.id.ref_name();
            keep.insert(refname.clone());
            if index
                .runs
                .get(&refname)
                .is_none_or(|r| r.tip != summary.tip)
            {
                changed.push((refname, store.open_run(&summary.id)?, None));
            }
        }
        if opts.remote_runs {
            let local: std::collections::HashSet<String> =
                listing.runs.iter().map(|r| r.id.to_string()).collect();
            for t in store.tracked_runs()? {
                if local.contains(t.id.as_str()) || !keep.insert(t.refname.clone()) {
                    continue;
                }
                let tip = t.tip.to_string();
                if index.runs.get(&t.refname).is_none_or(|r| r.tip != tip) {
                    let run = store.open_run_at(&t.id, &t.refname, t.tip)?;
                    changed.push((t.refname, run, Some(t.remote)));
                }
            }
        } else {
            // Remote runs cached by an earlier `--remote-runs` call stay cached, unshown.
            keep.extend(
                index
                    .runs
                    .values()
                    .filter(|r| r.remote.is_some())
                    .map(|r| r.refname.clone()),
            );
        }
        let before = index.runs.len();
        index.runs.retain(|k, _| keep.contains(k));
        index.dirty |= index.runs.len() != before;
        for (refname, run, remote) in changed {
            let old = index.runs.remove(&refname);
            let facts = index.read_run(store, &refname, &run, remote, old)?;
            index.runs.insert(refname, facts);
            index.dirty = true;
        }
        Ok(index)
    }

    /// The runs to report on: local ones, and remote ones when asked.
    pub(crate) fn runs(&self, remote_runs: bool) -> impl Iterator<Item = &RunFacts> {
        self.runs
            .values()
            .filter(move |r| remote_runs || r.remote.is_none())
    }

    /// Writes the index back when this call added to it.
    pub(crate) fn save(&mut self) {
        if self.dirty
            && let Some(p) = &self.path
        {
            cache::save(p, self);
            self.dirty = false;
        }
    }

    fn read_run(
        &mut self,
        store: &RunStore<'_>,
        refname: &str,
        run: &Run,
        remote: Option<String>,
        old: Option<RunFacts>,
    ) -> Result<RunFacts> {
        let repo = store.repo();
        let mut known: HashMap<(u64, Option<String>), SessionFacts> = old
            .map(|o| {
                o.sessions
                    .into_iter()
                    .map(|s| ((s.seq, s.commit.clone()), s))
                    .collect()
            })
            .unwrap_or_default();
        let base_commit = run.meta.base_commit_text();
        let mut sessions = Vec::new();
        let records = store.records(run)?;
        // Where one session's walk ends: any commit another session recorded, or the base.
        let recorded: Vec<Oid> = records
            .iter()
            .filter_map(|r| r.commit)
            .chain(base_commit.as_deref().and_then(oid))
            .collect();
        for r in &records {
            let saved_patch = r.commit.is_none() && store.patch_blob(run, r.seq)?.is_some();
            let mut facts = match known.remove(&(r.seq, r.commit_text())) {
                Some(f) => f,
                None => {
                    self.computed_sessions += 1;
                    let mut f = record_facts(r);
                    if let Some(c) = r.commit
                        && repo.is_commit(c)
                    {
                        let stop: Vec<Oid> = recorded.iter().copied().filter(|s| *s != c).collect();
                        own_work(repo, &mut f, c, landed_commits(repo, r), &stop)?;
                    }
                    f
                }
            };
            // Record fields are cheap to refresh and may differ after a renumbering merge.
            let fresh = record_facts(r);
            facts.prompt = fresh.prompt;
            facts.agent = fresh.agent.or_else(|| run.meta.agent.clone());
            facts.model = fresh.model;
            facts.status = fresh.status;
            facts.started_at = fresh.started_at;
            facts.secs = fresh.secs;
            facts.tokens = fresh.tokens;
            facts.cost_usd = fresh.cost_usd;
            facts.saved_patch = saved_patch;
            sessions.push(facts);
        }
        Ok(RunFacts {
            id: run.id.to_string(),
            refname: refname.to_string(),
            tip: run.tip.to_string(),
            remote,
            branch: run.meta.branch.clone(),
            base_branch: run.meta.base_branch.clone(),
            base_commit,
            agent: run.meta.agent.clone(),
            prompts: run.meta.prompts.clone(),
            sessions,
            whole: None,
        })
    }

    /// The patch id of a commit outside the sessions, computed once and kept.
    pub(crate) fn commit_patch_id(&mut self, repo: &Repo, commit: Oid) -> Result<Option<String>> {
        let key = commit.to_string();
        if let Some(p) = self.commit_patch_ids.get(&key) {
            return Ok(Some(p.clone()).filter(|p| !p.is_empty()));
        }
        let pid = repo
            .commit_patch_id(commit)?
            .map(|p| p.to_string())
            .unwrap_or_default();
        self.commit_patch_ids.insert(key, pid.clone());
        self.dirty = true;
        Ok(Some(pid).filter(|p| !p.is_empty()))
    }

    /// The patch id of each run's whole change (base commit to branch tip), by run ref name;
    /// computed once per branch tip.
    pub(crate) fn whole_run_patch_ids(&mut self, repo: &Repo) -> Result<HashMap<String, String>> {
        let mut out = HashMap::new();
        let refnames: Vec<String> = self.runs.keys().cloned().collect();
        for refname in refnames {
            let run = &self.runs[&refname];
            let Some(tip) = super::reach::branch_tip(repo, run)? else {
                continue;
            };
            let tip_s = tip.to_string();
            let cached = run.whole.as_ref().filter(|w| w.branch_tip == tip_s);
            let pid = match cached {
                Some(w) => w.patch_id.clone(),
                None => {
                    // Runs made by `record` have no base commit: take where the branch forked
                    // from HEAD's history.
                    let base = match run.base_commit.as_deref().and_then(oid) {
                        Some(b) => Some(b),
                        None => match repo.rev_commit("HEAD")? {
                            Some(h) => repo.merge_base(h, tip)?,
                            None => None,
                        },
                    };
                    let tree = |c: Oid| -> Result<Option<Oid>> {
                        Ok(repo.commit_info(c)?.map(|i| i.tree))
                    };
                    let old = match base {
                        Some(b) => tree(b)?,
                        None => None,
                    };
                    let pid = match (old, tree(tip)?) {
                        (Some(o), Some(n)) => {
                            repo.diff_patch_id(Some(o), n)?.map(|p| p.to_string())
                        }
                        _ => None,
                    };
                    if let Some(r) = self.runs.get_mut(&refname) {
                        r.whole = Some(WholeRun {
                            branch_tip: tip_s,
                            patch_id: pid.clone(),
                        });
                    }
                    self.dirty = true;
                    pid
                }
            };
            if let Some(p) = pid {
                out.insert(p, refname);
            }
        }
        Ok(out)
    }

    /// Looks a session up by run ref name and seq.
    pub(crate) fn session(&self, refname: &str, seq: u64) -> Option<(&RunFacts, &SessionFacts)> {
        let run = self.runs.get(refname)?;
        let s = run.sessions.iter().find(|s| s.seq == seq)?;
        Some((run, s))
    }
}

fn record_facts(r: &SessionRecord) -> SessionFacts {
    SessionFacts {
        seq: r.seq,
        prompt: r.prompt.clone(),
        agent: r.agent.clone(),
        model: r.model.clone(),
        status: r.status,
        started_at: r.started_at,
        secs: r.duration_secs(),
        tokens: r.usage.tokens.total(),
        cost_usd: r.usage.known_cost(),
        commit: r.commit_text(),
        saved_patch: false,
        base: None,
        own: Vec::new(),
        patch_ids: Vec::new(),
        session_patch_id: None,
    }
}

/// Fills in a session's own commits and patch ids.
/// The commits a parallel run's landing queue recorded for this session, newest first, when
/// they all are in this repository and the newest is the recorded commit.
fn landed_commits(repo: &Repo, r: &SessionRecord) -> Option<Vec<Oid>> {
    let l = r.landing.as_ref()?;
    let mut commits: Vec<Oid> = l.commits.iter().map(|c| oid(c)).collect::<Option<_>>()?;
    commits.reverse();
    let newest = *commits.first()?;
    (Some(newest) == r.commit && commits.iter().all(|c| repo.is_commit(*c))).then_some(commits)
}

fn own_work(
    repo: &Repo,
    f: &mut SessionFacts,
    commit: Oid,
    landed: Option<Vec<Oid>>,
    stop: &[Oid],
) -> Result<()> {
    // The recorded landing, else the first-parent chain back to a commit another session
    // recorded (or the run's base): an agent's own commits. A commit off that chain owns only
    // itself.
    let own = match landed {
        Some(l) => l,
        None => match repo.first_parent_chain(commit, stop, MAX_OWN_COMMITS)? {
            Some(chain) if !chain.is_empty() => chain,
            _ => vec![commit],
        },
    };
    let oldest = own.last().copied().unwrap_or(commit);
    let base_commit = repo
        .commit_info(oldest)?
        .and_then(|c| c.parents.first().copied());
    for c in &own {
        if let Some(p) = repo.commit_patch_id(*c)? {
            f.patch_ids.push(p.to_string());
        }
    }
    let new_tree = repo.commit_info(commit)?.map(|c| c.tree);
    let old_tree = match base_commit {
        Some(b) => repo.commit_info(b)?.map(|c| c.tree),
        None => None,
    };
    if let Some(t) = new_tree {
        f.session_patch_id = repo.diff_patch_id(old_tree, t)?.map(|p| p.to_string());
    }
    f.base = base_commit.map(|b| b.to_string());
    f.own = own.iter().map(|c| c.to_string()).collect();
    Ok(())
}
