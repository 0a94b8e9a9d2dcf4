//! What one `fetch` takes from a remote, and where it keeps it until it is checked.
//!
//! A remote can hold any number of refs under `refs/pitboss/grind/` (one with a million of them
//! once left 3.9 GB of tracking refs here and printed a million lines). So `fetch` first lists
//! the remote's runs with `git ls-remote`, then plans ([`plan_fetch`], pure): names that are not
//! run ids are counted and ignored; runs whose tip is the one we already track need no download;
//! of the rest, at most `max_runs` are fetched this time: first runs whose tip is not in this
//! repository yet (so tips refused before, which are, cannot take every turn), among those the
//! runs known here first (updates to the runs you have before new ones a remote offers), then by
//! name. The others are counted and fetched by a later `fetch`.
//!
//! The runs to download are fetched into a quarantine namespace, `refs/pitboss-incoming/
//! <remote>/grind/<id>`, never straight into the tracking refs: a tracking ref is written only
//! for a run that passed the incoming checks (a refused run leaves its tracking ref where it
//! was), and the quarantine refs are deleted before `fetch` returns.

use std::collections::{BTreeMap, BTreeSet};

use super::{IgnoredRef, Remote, Result, ShareError};
use crate::git::{NetCommand, NetError, Oid};
use crate::store::RunStore;
use crate::store::id::RunId;

/// How many runs one `fetch` downloads unless configured (`pitboss.fetchMaxRuns`).
pub(crate) const DEFAULT_MAX_RUNS: usize = 10_000;
/// The git config key that sets the cap.
pub(crate) const MAX_RUNS_KEY: &str = "pitboss.fetchMaxRuns";
/// Ignored names kept in a report as examples (the rest are counted).
pub(crate) const MAX_EXAMPLES: usize = 10;
/// Refspecs per `git fetch` (command lines stay far below ARG_MAX).
const REFSPECS_PER_FETCH: usize = 500;

/// What one fetch does with each of a remote's refs.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FetchPlan {
    /// Runs to download, with the tip the remote listed.
    pub download: Vec<(RunId, Oid)>,
    /// Runs whose listed tip is the one tracked here: integrated without a download.
    pub unchanged: Vec<(RunId, Oid)>,
    /// Runs left for a later fetch: over the cap.
    pub over_cap: usize,
    /// Names under the remote's run namespace that are not run ids (the first few).
    pub ignored: Vec<IgnoredRef>,
    pub ignored_total: usize,
    /// Named runs the remote does not have.
    pub missing: Vec<RunId>,
    /// Tracked runs the remote no longer lists (only when fetching every run).
    pub gone: Vec<RunId>,
}

/// Plans a fetch from the remote's listed run refs (`refs/pitboss/grind/<id>`, tip), the
/// tracking refs here, the runs here, the runs asked for (`None`: every run) and the cap.
pub(crate) fn plan_fetch(
    listed: Vec<(String, Oid)>,
    tracking: &BTreeMap<RunId, Oid>,
    local: &BTreeSet<RunId>,
    wanted: Option<&[RunId]>,
    max_runs: usize,
    present: &dyn Fn(Oid) -> bool,
) -> FetchPlan {
    let mut plan = FetchPlan::default();
    let mut remote: BTreeMap<RunId, Oid> = BTreeMap::new();
    for (refname, tip) in listed {
        match RunId::from_ref_name(&refname) {
            Some(Ok(id)) => {
                remote.insert(id, tip);
            }
            Some(Err(e)) => {
                plan.ignored_total += 1;
                if plan.ignored.len() < MAX_EXAMPLES {
                    plan.ignored.push(IgnoredRef {
                        refname,
                        why: e.to_string(),
                    });
                }
            }
            None => {}
        }
    }
    let mut candidates: Vec<(RunId, Oid)> = match wanted {
        None => {
            plan.gone = tracking
                .keys()
                .filter(|id| !remote.contains_key(*id))
                .cloned()
                .collect();
            remote.into_iter().collect()
        }
        Some(ids) => {
            let mut picked = Vec::new();
            for id in ids {
                match remote.get(id) {
                    Some(tip) => picked.push((id.clone(), *tip)),
                    None => plan.missing.push(id.clone()),
                }
            }
            picked
        }
    };
    candidates.retain(|(id, tip)| {
        let same = tracking.get(id) == Some(tip);
        if same {
            plan.unchanged.push((id.clone(), *tip));
        }
        !same
    });
    // Tips not seen here before first, then runs known here, then by name (a stable sort): a
    // remote offering many new runs cannot crowd out the updates of the runs you have, and
    // runs refused before (their tips are here, with no tracking ref) cannot crowd out the rest.
    candidates.sort_by_cached_key(|(id, tip)| {
        (
            present(*tip),
            !(local.contains(id) || tracking.contains_key(id)),
        )
    });
    plan.over_cap = candidates.len().saturating_sub(max_runs);
    candidates.truncate(max_runs);
    plan.download = candidates;
    plan
}

impl RunStore<'_> {
    /// The cap on runs one fetch downloads: `pitboss.fetchMaxRuns` from git config, else
    /// [`DEFAULT_MAX_RUNS`]. A value that is not a positive number is an error naming the key.
    pub fn fetch_max_runs(&self) -> Result<usize> {
        match self.repo.config_string(MAX_RUNS_KEY)? {
            None => Ok(DEFAULT_MAX_RUNS),
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(ShareError::BadConfig {
                    key: MAX_RUNS_KEY,
                    value: v,
                    why: "it must be a whole number of runs, 1 or more",
                }),
            },
        }
    }

    /// Downloads `runs` into the quarantine refs of `remote` and returns the tips they got
    /// (a run the remote deleted meanwhile is left out).
    pub(super) fn download_to_quarantine(
        &self,
        remote: &Remote,
        runs: &[(RunId, Oid)],
    ) -> Result<Vec<(RunId, Oid)>> {
        let prefix = remote.name.incoming_prefix();
        let specs: Vec<String> = runs
            .iter()
            .map(|(id, _)| format!("+{}:{prefix}{id}", id.ref_name()))
            .collect();
        self.fetch_listed(remote, &specs)?;
        let got: BTreeMap<String, Oid> = self.repo.refs_with_prefix(&prefix)?.into_iter().collect();
        Ok(runs
            .iter()
            .filter_map(|(id, _)| {
                got.get(&format!("{prefix}{id}"))
                    .map(|tip| (id.clone(), *tip))
            })
            .collect())
    }

    /// Fetches `specs` (`+<remote ref>:<local ref>`, each naming one ref the remote listed) in
    /// chunks. NB: `git fetch` fails as a whole when one named ref is gone (a run or branch
    /// deleted on the remote since it was listed): the chunk is listed again and what is still
    /// there is fetched.
    pub(super) fn fetch_listed(&self, remote: &Remote, specs: &[String]) -> Result<()> {
        let fetch = |chunk: &[String]| -> Result<()> {
            let cmd = NetCommand::fetch(&remote.target, chunk, false);
            let out = self.repo.run_net(&cmd)?;
            if !out.success {
                return Err(ShareError::Net(NetError::failed(&cmd, &out)));
            }
            Ok(())
        };
        for chunk in specs.chunks(REFSPECS_PER_FETCH) {
            if let Err(first) = fetch(chunk) {
                let (runs, branches) = self.remote_refs_with_branches(remote)?;
                let listed: BTreeSet<String> = runs
                    .into_iter()
                    .chain(branches)
                    .map(|(name, _)| name)
                    .collect();
                let still: Vec<String> = chunk
                    .iter()
                    .filter(|spec| {
                        let src = spec.trim_start_matches('+').split(':').next();
                        src.is_some_and(|src| listed.contains(src))
                    })
                    .cloned()
                    .collect();
                if still.len() == chunk.len() {
                    return Err(first);
                }
                if !still.is_empty() {
                    fetch(&still)?;
                }
            }
        }
        Ok(())
    }

    /// Deletes every quarantine ref of `remote` (also those a killed fetch left).
    pub(super) fn clear_quarantine(&self, remote: &Remote) -> Result<()> {
        for (name, _) in self.repo.refs_with_prefix(&remote.name.incoming_prefix())? {
            self.repo.delete_ref(&name)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).unwrap()
    }

    fn id(s: &str) -> RunId {
        RunId::parse(s).unwrap()
    }

    fn listed(names: &[(&str, u8)]) -> Vec<(String, Oid)> {
        names
            .iter()
            .map(|(n, o)| (format!("refs/pitboss/grind/{n}"), oid(*o)))
            .collect()
    }

    #[test]
    fn unchanged_runs_need_no_download_and_the_cap_prefers_known_runs() {
        let tracking: BTreeMap<RunId, Oid> =
            [(id("a"), oid(1)), (id("z"), oid(1)), (id("old"), oid(1))].into();
        let local: BTreeSet<RunId> = [id("y")].into();
        let plan = plan_fetch(
            listed(&[
                ("a", 1),
                ("b", 2),
                ("c", 3),
                ("y", 4),
                ("z", 5),
                ("bad..x", 6),
            ]),
            &tracking,
            &local,
            None,
            2,
            &|_| false,
        );
        assert_eq!(plan.unchanged, vec![(id("a"), oid(1))]);
        assert_eq!(plan.download, vec![(id("y"), oid(4)), (id("z"), oid(5))]);
        assert_eq!(plan.over_cap, 2);
        assert_eq!(plan.ignored_total, 1);
        assert_eq!(plan.gone, vec![id("old")]);
        assert!(plan.missing.is_empty());
    }

    #[test]
    fn named_runs_and_many_ignored_names() {
        let mut names: Vec<(String, Oid)> = (0..50)
            .map(|i| (format!("refs/pitboss/grind/x/{i}"), oid(9)))
            .collect();
        names.extend(listed(&[("a", 1), ("b", 2)]));
        let plan = plan_fetch(
            names,
            &BTreeMap::new(),
            &BTreeSet::new(),
            Some(&[id("b"), id("nope")]),
            10,
            &|_| false,
        );
        assert_eq!(plan.download, vec![(id("b"), oid(2))]);
        assert_eq!(plan.missing, vec![id("nope")]);
        assert_eq!(plan.ignored_total, 50);
        assert_eq!(plan.ignored.len(), MAX_EXAMPLES);
        assert!(plan.gone.is_empty(), "named fetches say nothing of others");
    }

    #[test]
    fn tips_seen_before_wait_their_turn() {
        let plan = plan_fetch(
            listed(&[("a", 1), ("b", 2), ("c", 3)]),
            &BTreeMap::new(),
            &BTreeSet::new(),
            None,
            2,
            &|o| o == oid(1),
        );
        assert_eq!(plan.download, vec![(id("b"), oid(2)), (id("c"), oid(3))]);
        assert_eq!(plan.over_cap, 1);
    }
}
