//! Deleting runs (here, and on a remote with a lease) and listing a remote's runs without
//! fetching them.
//!
//! `rm --remote` deletes the remote ref with `--force-with-lease=<ref>:<tracking tip>`: the
//! deletion only happens if the remote still has exactly what we last saw, so a session a
//! teammate pushed since is never deleted unseen. It runs first; when the remote refuses,
//! nothing here is touched. The local deletion writes the tombstone before it removes the run
//! ref, so a crash in between leaves a run that a fetch will not resurrect rather than the
//! reverse.

use serde::Serialize;

use super::{IgnoredRef, Remote, Result, ShareError};
use crate::git::{NetCommand, NetError, Oid, PushFlag, Rejection, parse_push_porcelain};
use crate::store::id::{REMOTE_REF_PREFIX, RUN_REF_PREFIX, RunId, check_run_prefix};
use crate::store::{RunStore, StoreError};

/// What happened on the remote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum RemoteDeletion {
    Deleted {
        remote: String,
    },
    Rejected {
        remote: String,
        reason: Rejection,
        message: String,
    },
}

/// What `rm` did.
#[derive(Debug, Clone, Serialize)]
pub struct RmReport {
    pub run: RunId,
    /// The tip deleted here, when the run existed here.
    pub local_tip: Option<String>,
    pub tracking_removed: Vec<String>,
    pub remote: Option<RemoteDeletion>,
    /// The tombstone ref written, when the run was deleted here.
    pub tombstone: Option<String>,
    /// The run's branch, which `rm` leaves alone.
    pub branch_kept: Option<crate::git::RefName>,
}

impl RmReport {
    pub fn remote_rejected(&self) -> bool {
        matches!(self.remote, Some(RemoteDeletion::Rejected { .. }))
    }
}

/// Whether we have a remote run here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Here {
    Yes,
    No,
    /// Deleted here; a fetch will not bring it back.
    Deleted,
}

/// How our copy relates to the remote's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "relation", rename_all = "kebab-case")]
pub enum Relation {
    Same,
    /// Counted in commits.
    Differs {
        ahead: usize,
        behind: usize,
    },
    /// We do not have the remote's tip object: only a fetch can tell.
    Unknown,
    /// We do not have the run.
    Absent,
    /// The remote no longer has it: deleted there since we pushed or fetched it (`gone.rs`).
    DeletedThere,
}

#[derive(Debug, Clone, Serialize)]
pub struct RemoteRun {
    pub id: RunId,
    /// The remote's tip (empty for a run deleted there).
    pub tip: String,
    pub here: Here,
    #[serde(flatten)]
    pub relation: Relation,
    /// The run's code branch on the remote, when it has one.
    pub branch: Option<RemoteBranch>,
}

/// A run's code branch on a remote, compared with ours.
#[derive(Debug, Clone, Serialize)]
pub struct RemoteBranch {
    /// Its full ref name.
    pub name: String,
    pub tip: String,
    /// How our branch relates to it (`absent` when we have none).
    #[serde(flatten)]
    pub relation: Relation,
}

/// A remote's runs, from `git ls-remote`.
#[derive(Debug, Clone, Serialize)]
pub struct RemoteListing {
    pub remote: String,
    pub runs: Vec<RemoteRun>,
    pub ignored: Vec<IgnoredRef>,
}

/// Resolves `<run>` among the runs last seen on a remote (full id or unique prefix), for runs
/// that no longer exist here.
pub(crate) fn resolve_on_remote(
    store: &RunStore<'_>,
    remote: &Remote,
    prefix: &str,
) -> Result<RunId> {
    check_run_prefix(prefix).map_err(StoreError::from)?;
    let (runs, _) = store.tracking_refs(&remote.name)?;
    let mut matches: Vec<RunId> = runs
        .into_iter()
        .map(|(id, _)| id)
        .filter(|id| id.as_str().starts_with(prefix))
        .collect();
    if let Some(exact) = matches.iter().find(|id| id.as_str() == prefix) {
        return Ok(exact.clone());
    }
    match matches.len() {
        0 => Err(StoreError::RunNotFound(prefix.to_string()).into()),
        1 => Ok(matches.remove(0)),
        _ => Err(StoreError::Ambiguous {
            prefix: prefix.to_string(),
            candidates: matches,
        }
        .into()),
    }
}

impl RunStore<'_> {
    /// Deletes run `id` here (run ref with its reflog, every tracking ref of it, and a
    /// tombstone), and first on `remote` when given.
    pub fn rm(&self, id: &RunId, remote: Option<&Remote>) -> Result<RmReport> {
        let refname = id.ref_name();
        let mut report = RmReport {
            run: id.clone(),
            local_tip: None,
            tracking_removed: Vec::new(),
            remote: None,
            tombstone: None,
            branch_kept: None,
        };
        let local = self.repo.ref_target(&refname)?;
        let branch = self.run_branch_ref(id)?;
        if let Some(remote) = remote {
            let tracking = id.tracking_ref_name(&remote.name);
            let lease = self
                .repo
                .ref_target(&tracking)?
                .ok_or_else(|| ShareError::NotSeen {
                    run: id.clone(),
                    remote: remote.target.clone(),
                })?;
            let deletion = self.delete_on_remote(remote, id, lease)?;
            let rejected = matches!(deletion, RemoteDeletion::Rejected { .. });
            report.remote = Some(deletion);
            if rejected {
                return Ok(report);
            }
        } else if local.is_none() {
            return Err(StoreError::RunNotFound(id.to_string()).into());
        }
        report.tombstone = Some(self.write_tombstone(id, local)?);
        if let Some(mut tip) = local {
            // NB: delete only the tip we looked at; a session appended meanwhile is re-read.
            for attempt in 0.. {
                if self.repo.delete_ref_matching(&refname, tip)? {
                    break;
                }
                match self.repo.ref_target(&refname)? {
                    Some(t) if attempt < 20 => tip = t,
                    Some(_) => {
                        return Err(StoreError::Contention {
                            run: id.clone(),
                            attempts: attempt + 1,
                        }
                        .into());
                    }
                    None => break,
                }
            }
            report.local_tip = Some(tip.to_string());
        }
        for (name, _) in self.repo.refs_with_prefix(REMOTE_REF_PREFIX)? {
            if RunId::from_any_tracking_ref(&name).is_some_and(|(_, r)| r == *id)
                && self.repo.delete_ref(&name)?
            {
                report.tracking_removed.push(name);
            }
        }
        let branch = branch.or_else(|| {
            super::candidate_branch_refs(id)
                .into_iter()
                .find(|b| self.repo.ref_target(b).ok().flatten().is_some())
        });
        if let Some(b) = branch
            && self.repo.ref_target(&b)?.is_some()
        {
            report.branch_kept = Some(b);
        }
        Ok(report)
    }

    fn delete_on_remote(&self, remote: &Remote, id: &RunId, lease: Oid) -> Result<RemoteDeletion> {
        let refname = id.ref_name();
        let cmd = NetCommand::push(
            &remote.target,
            &[format!(":{refname}")],
            &[(refname.clone(), lease)],
        );
        let out = self.repo.run_net(&cmd)?;
        let lines = parse_push_porcelain(&out.stdout);
        let Some(line) = lines.iter().find(|l| l.to == refname) else {
            return Err(ShareError::Net(NetError::failed(&cmd, &out)));
        };
        Ok(match line.flag {
            PushFlag::Deleted => RemoteDeletion::Deleted {
                remote: remote.target.clone(),
            },
            _ => {
                let reason = Rejection::classify(&line.summary, line.reason.as_deref());
                RemoteDeletion::Rejected {
                    remote: remote.target.clone(),
                    message: reason.describe(),
                    reason,
                }
            }
        })
    }

    /// The remote's runs from `git ls-remote`, compared with ours without fetching anything.
    pub fn list_remote(&self, remote: &Remote) -> Result<RemoteListing> {
        let mut listing = RemoteListing {
            remote: remote.target.clone(),
            runs: Vec::new(),
            ignored: Vec::new(),
        };
        let (runs, branches) = self.remote_refs_with_branches(remote)?;
        for (refname, tip) in runs {
            let id = match RunId::from_ref_name(&refname) {
                Some(Ok(id)) => id,
                Some(Err(e)) => {
                    listing.ignored.push(IgnoredRef {
                        refname,
                        why: e.to_string(),
                    });
                    continue;
                }
                None => continue,
            };
            debug_assert!(refname.starts_with(RUN_REF_PREFIX));
            let local = self.repo.ref_target(&id.ref_name())?;
            let here = match local {
                None if self.is_tombstoned(&id)? => Here::Deleted,
                None => Here::No,
                Some(_) => Here::Yes,
            };
            let relation = self.relation(local, tip)?;
            // The branch the run records here, else whichever name the remote has.
            let recorded = match local {
                Some(_) => self.run_branch_ref(&id)?,
                None => None,
            };
            let branch = super::candidate_branch_refs(&id)
                .into_iter()
                .filter(|b| recorded.as_ref().is_none_or(|r| r == b))
                .find_map(|b| branches.iter().find(|(n, _)| *n == *b).cloned());
            let branch = match branch {
                Some((name, btip)) => Some(RemoteBranch {
                    relation: self.relation(self.repo.ref_target(&name)?, btip)?,
                    tip: btip.to_string(),
                    name,
                }),
                None => None,
            };
            listing.runs.push(RemoteRun {
                id,
                tip: tip.to_string(),
                here,
                relation,
                branch,
            });
        }
        for id in self.gone_from(&remote.name)? {
            if listing.runs.iter().any(|r| r.id == id) {
                continue;
            }
            let here = match self.repo.ref_target(&id.ref_name())? {
                Some(_) => Here::Yes,
                None if self.is_tombstoned(&id)? => Here::Deleted,
                None => Here::No,
            };
            listing.runs.push(RemoteRun {
                id,
                tip: String::new(),
                here,
                relation: Relation::DeletedThere,
                branch: None,
            });
        }
        Ok(listing)
    }

    /// How a local tip (if any) relates to a remote one.
    fn relation(&self, local: Option<Oid>, remote: Oid) -> Result<Relation> {
        Ok(match local {
            None => Relation::Absent,
            Some(l) if l == remote => Relation::Same,
            Some(l) if self.repo.is_commit(remote) => {
                let (ahead, behind) = self.repo.ahead_behind(l, remote)?;
                Relation::Differs { ahead, behind }
            }
            Some(_) => Relation::Unknown,
        })
    }
}
