//! `fetch` (and the fetching half of `sync`): list a remote's runs, download at most a capped
//! number of new or changed ones with explicit refspecs (`fetch_plan.rs`), then integrate each
//! run: create it here if absent, fast-forward it if behind, and leave it (and say so) if it
//! diverged, or, for `sync`, merge the two tips (see `merge.rs`).
//!
//! Downloads land in quarantine refs; the tracking refs `refs/pitboss-remotes/<remote>/grind/*`
//! mirror the remote only for runs that passed the incoming checks (`check.rs`). Run refs move
//! by compare-and-swap, and only to commits that passed them. Names that are not run ids are
//! counted and ignored; runs deleted here stay deleted unless `include_deleted`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::branch::{FetchedBranch, brings_code, missing_code_why};
use super::fetch_plan::plan_fetch;
use super::{IgnoredRef, Remote, Result, ShareError};
use crate::git::{CasOutcome, Oid};
use crate::store::check::Caps;
use crate::store::id::{RUN_REF_PREFIX, RunId};
use crate::store::merge::{MergeOutcome, Renumbered};
use crate::store::{RunStore, StoreError};

/// How often one run is re-read after losing a compare-and-swap to a local writer.
const MAX_RACES: u32 = 20;

/// What to fetch and how to integrate it.
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// These runs only; every run of the remote when `None`.
    pub runs: Option<Vec<RunId>>,
    /// Bring back runs deleted here (and drop their tombstones).
    pub include_deleted: bool,
    /// Merge diverged runs (sync) instead of leaving them.
    pub merge: bool,
    pub caps: Caps,
    /// The most runs to download at once; `None`: `pitboss.fetchMaxRuns`, else the default.
    pub max_runs: Option<usize>,
}

/// What happened to one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum FetchOutcome {
    Created {
        tip: String,
        sessions: u64,
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
    /// Both sides have commits the other lacks; `sync` merges them.
    Diverged {
        ahead: usize,
        behind: usize,
    },
    Merged {
        commit: String,
        sessions: u64,
        renumbered: Vec<Renumbered>,
    },
    /// The incoming run failed the checks: nothing here follows it.
    Refused {
        why: String,
    },
    /// Same id, unrelated histories: two different runs. Left alone.
    Unrelated,
    /// The sides cannot be merged (their `run.json` differ). Left alone.
    Conflict {
        why: String,
    },
    /// Deleted here (tombstone): not brought back.
    Deleted,
    /// The run's code branches diverged and do not merge (sync): neither the history nor the
    /// code was merged.
    CodeDiverged {
        files: Vec<String>,
    },
    /// The run here could not be read (not a run, or corrupt); nothing was changed.
    Failed {
        why: String,
    },
}

impl FetchOutcome {
    /// Whether this outcome counts as a failure for the exit code.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            FetchOutcome::Refused { .. }
                | FetchOutcome::Unrelated
                | FetchOutcome::Conflict { .. }
                | FetchOutcome::Failed { .. }
                | FetchOutcome::CodeDiverged { .. }
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FetchedRun {
    pub run: RunId,
    #[serde(flatten)]
    pub outcome: FetchOutcome,
}

/// What a fetch did.
#[derive(Debug, Clone, Serialize)]
pub struct FetchReport {
    pub remote: String,
    pub runs: Vec<FetchedRun>,
    /// Refs under the remote's run namespace whose names are not run ids (the first few).
    pub ignored: Vec<IgnoredRef>,
    /// How many such refs there were.
    pub ignored_total: usize,
    /// Runs not downloaded this time because of the cap; a later fetch takes them.
    pub over_cap: usize,
    /// The cap on runs downloaded by one fetch.
    pub max_runs: usize,
    /// Named runs the remote does not have.
    pub missing: Vec<RunId>,
    /// Runs whose tracking ref went away: the remote no longer has them (local runs are kept).
    pub gone: Vec<RunId>,
    /// The runs' code branches (`branch.rs`).
    pub branches: Vec<FetchedBranch>,
}

impl FetchReport {
    /// Whether anything failed: a run refused or not reconciled, or a named run missing.
    pub fn any_failed(&self) -> bool {
        !self.missing.is_empty()
            || self.runs.iter().any(|r| r.outcome.is_failure())
            || self.branches.iter().any(|b| b.outcome.is_failure())
    }

    /// The runs fetched but not integrated (the run, or its code branch, refused or not
    /// merged): a push of them is rejected until they are, so `sync` holds them back.
    pub(crate) fn unmerged(&self) -> Vec<RunId> {
        let runs = self.runs.iter().filter(|r| r.outcome.is_failure());
        let branches = self.branches.iter().filter(|b| b.outcome.is_failure());
        let mut held: Vec<RunId> = runs
            .map(|r| r.run.clone())
            .chain(branches.map(|b| b.run.clone()))
            .collect();
        held.dedup();
        held
    }
}

impl RunStore<'_> {
    /// Fetches runs from `remote` and integrates them (see [`FetchOptions`]). What it takes
    /// is planned and capped first, and downloads wait in quarantine refs until they pass the
    /// checks (see `fetch_plan.rs`).
    pub fn fetch(&self, remote: &Remote, opts: &FetchOptions) -> Result<FetchReport> {
        let max_runs = match opts.max_runs {
            Some(n) => n.max(1),
            None => self.fetch_max_runs()?,
        };
        let (tracked, _) = self.tracking_refs(&remote.name)?;
        let tracking: BTreeMap<RunId, Oid> = tracked.into_iter().collect();
        let local: BTreeSet<RunId> = self
            .repo
            .refs_with_prefix(RUN_REF_PREFIX)?
            .into_iter()
            .filter_map(|(name, _)| RunId::from_ref_name(&name).and_then(|r| r.ok()))
            .collect();
        // One listing of the remote's runs and run branches; nothing is downloaded yet.
        let (listed, listed_branches) = self.remote_refs_with_branches(remote)?;
        let plan = plan_fetch(
            listed,
            &tracking,
            &local,
            opts.runs.as_deref(),
            max_runs,
            &|tip| self.repo.has_object(tip),
        );
        let mut report = FetchReport {
            remote: remote.target.clone(),
            runs: Vec::new(),
            ignored: plan.ignored,
            ignored_total: plan.ignored_total,
            over_cap: plan.over_cap,
            max_runs,
            missing: plan.missing,
            gone: Vec::new(),
            branches: Vec::new(),
        };
        // Runs gone from the remote: their tracking refs go, and the deletion is remembered so
        // that a default push does not bring them back (`gone.rs`).
        let mut gone = Vec::new();
        for id in plan.gone {
            if let Some(last) = tracking.get(&id) {
                self.repo.delete_ref(&id.tracking_ref_name(&remote.name))?;
                gone.push((id, *last));
            }
        }
        report.gone = match &opts.runs {
            None => self.record_gone(remote, gone)?,
            Some(_) => self.record_gone_named(remote, &report.missing)?,
        };
        self.clear_quarantine(remote)?;
        // The code before the histories: an incoming history is checked against the commits
        // its sessions name, which come with the branch.
        let in_plan: Vec<RunId> = plan
            .download
            .iter()
            .chain(plan.unchanged.iter())
            .map(|(id, _)| id.clone())
            .collect();
        self.fetch_branches(remote, &in_plan, &listed_branches, opts.runs.is_none())?;
        let downloaded = if plan.download.is_empty() {
            Vec::new()
        } else {
            let got = self.download_to_quarantine(remote, &plan.download);
            if got.is_err() {
                let _ = self.clear_quarantine(remote);
            }
            got?
        };
        let mut todo: Vec<(RunId, Oid, bool)> = plan
            .unchanged
            .into_iter()
            .map(|(id, tip)| (id, tip, false))
            .chain(downloaded.into_iter().map(|(id, tip)| (id, tip, true)))
            .collect();
        todo.sort();
        let result = self.integrate_all(remote, opts, todo, &mut report);
        self.clear_quarantine(remote)?;
        result?;
        Ok(report)
    }

    /// Integrates each run, and writes the tracking ref of each downloaded run that was not
    /// refused.
    fn integrate_all(
        &self,
        remote: &Remote,
        opts: &FetchOptions,
        todo: Vec<(RunId, Oid, bool)>,
        report: &mut FetchReport,
    ) -> Result<()> {
        for (id, tip, downloaded) in todo {
            self.clear_gone(&remote.name, &id)?;
            // The code first when merging: a run whose code does not merge is not merged at all
            // (the remote's tip stays in its tracking ref).
            let early = match self.repo.ref_target(&id.ref_name())? {
                Some(_) => self.plan_branch(&remote.name, &id, opts.merge)?,
                None => None,
            };
            if opts.merge
                && let Some(step) = &early
                && let Some(files) = step.code_conflict()
            {
                if downloaded {
                    self.repo.set_ref(
                        &id.tracking_ref_name(&remote.name),
                        tip,
                        "pitboss: fetched",
                    )?;
                }
                report.runs.push(FetchedRun {
                    run: id.clone(),
                    outcome: FetchOutcome::CodeDiverged { files },
                });
                report
                    .branches
                    .push(self.apply_branch(&remote.name, &id, true, early.unwrap())?);
                continue;
            }
            let outcome = match self.integrate(&id, tip, opts) {
                Ok(o) => o,
                // A local run we cannot read (not a run, corrupt) fails alone, not the fetch.
                Err(ShareError::Store(e)) if e.is_user_error() => {
                    FetchOutcome::Failed { why: e.to_string() }
                }
                Err(e) => return Err(e),
            };
            if downloaded && !matches!(outcome, FetchOutcome::Refused { .. }) {
                self.repo
                    .set_ref(&id.tracking_ref_name(&remote.name), tip, "pitboss: fetched")?;
            }
            if brings_code(&outcome) {
                let step = match early {
                    Some(step) => Some(step),
                    None => self.plan_branch(&remote.name, &id, opts.merge)?,
                };
                if let Some(step) = step {
                    let done = self.apply_branch(&remote.name, &id, opts.merge, step)?;
                    report.branches.push(done);
                }
            }
            report.runs.push(FetchedRun { run: id, outcome });
        }
        Ok(())
    }

    /// Brings one run up to date with `remote_tip`, as far as it safely can.
    fn integrate(&self, id: &RunId, remote_tip: Oid, opts: &FetchOptions) -> Result<FetchOutcome> {
        let refname = id.ref_name();
        if !self.repo.is_commit(remote_tip) {
            return Ok(FetchOutcome::Refused {
                why: format!("{remote_tip} is not a commit"),
            });
        }
        for _ in 0..MAX_RACES {
            let local = self.repo.ref_target(&refname)?;
            let step = match local {
                None => self.take_new(id, remote_tip, opts)?,
                Some(l) => self.take_into(id, l, remote_tip, opts)?,
            };
            let (new_tip, outcome) = match step {
                Take::Move(tip, outcome) => (tip, outcome),
                Take::Leave(outcome) => return Ok(outcome),
            };
            let msg = match &outcome {
                FetchOutcome::Created { .. } => "pitboss: fetched",
                FetchOutcome::Merged { .. } => "pitboss: merged diverged tips",
                _ => "pitboss: fast-forwarded from a remote",
            };
            if self.repo.cas_ref(&refname, new_tip, local, msg)? == CasOutcome::Updated {
                if local.is_none() && opts.include_deleted {
                    self.remove_tombstone(id)?;
                }
                return Ok(outcome);
            }
            // A local writer moved the run meanwhile: look again.
        }
        Err(ShareError::Store(StoreError::Contention {
            run: id.clone(),
            attempts: MAX_RACES,
        }))
    }

    /// A run this repository does not have: created at `remote_tip`, unless it was deleted
    /// here (and not asked back) or the incoming history is refused.
    fn take_new(&self, id: &RunId, remote_tip: Oid, opts: &FetchOptions) -> Result<Take> {
        if !opts.include_deleted && self.is_tombstoned(id)? {
            return Ok(Take::Leave(FetchOutcome::Deleted));
        }
        if let Some(why) = self.check_incoming(id, remote_tip, None, opts.caps)? {
            return Ok(Take::Leave(FetchOutcome::Refused { why }));
        }
        let sessions = self
            .summary_at(id, &id.ref_name(), remote_tip)
            .map(|s| s.sessions)
            .unwrap_or(0);
        let created = FetchOutcome::Created {
            tip: remote_tip.to_string(),
            sessions,
        };
        Ok(Take::Move(remote_tip, created))
    }

    /// A run this repository has at `local`: left when up to date or ahead (or diverged
    /// without `--merge`, or refused), fast-forwarded when behind, else merged.
    fn take_into(
        &self,
        id: &RunId,
        local: Oid,
        remote_tip: Oid,
        opts: &FetchOptions,
    ) -> Result<Take> {
        if local == remote_tip {
            return Ok(Take::Leave(FetchOutcome::UpToDate));
        }
        let (ahead, behind) = self.repo.ahead_behind(local, remote_tip)?;
        if behind == 0 {
            return Ok(Take::Leave(FetchOutcome::Ahead { commits: ahead }));
        }
        if !opts.merge && ahead > 0 {
            return Ok(Take::Leave(FetchOutcome::Diverged { ahead, behind }));
        }
        if let Some(why) = self.check_incoming(id, remote_tip, Some(local), opts.caps)? {
            return Ok(Take::Leave(FetchOutcome::Refused { why }));
        }
        if ahead == 0 {
            let ff = FetchOutcome::FastForwarded {
                from: local.to_string(),
                to: remote_tip.to_string(),
                commits: behind,
            };
            return Ok(Take::Move(remote_tip, ff));
        }
        // A merged history never names code this repository does not have.
        let missing = self.missing_code_commits(local, remote_tip)?;
        if !missing.is_empty() {
            return Ok(Take::Leave(FetchOutcome::Conflict {
                why: missing_code_why(&missing),
            }));
        }
        Ok(match self.merge_tips(id, local, remote_tip)? {
            MergeOutcome::Merged {
                commit,
                sessions,
                renumbered,
            } => Take::Move(
                commit,
                FetchOutcome::Merged {
                    commit: commit.to_string(),
                    sessions,
                    renumbered,
                },
            ),
            MergeOutcome::Unrelated => Take::Leave(FetchOutcome::Unrelated),
            MergeOutcome::Conflict(why) => Take::Leave(FetchOutcome::Conflict { why }),
        })
    }
}

/// What one look at a run's local ref decided.
enum Take {
    /// Move the ref to this tip, and report this.
    Move(Oid, FetchOutcome),
    /// Leave the ref as it is, and report this.
    Leave(FetchOutcome),
}
