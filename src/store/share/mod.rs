//! Sharing runs with a team remote: push, fetch, sync, remote listings and deletion.
//!
//! Network work runs the user's `git` with explicit refspecs ([`crate::git::NetCommand`]);
//! everything local goes through git2. What a remote holds is mirrored in tracking refs,
//! `refs/pitboss-remotes/<remote>/grind/<id>` (written only here, and by `git fetch` with our
//! refspec), which say what we last saw there: `push` compares against them to find what
//! changed, `rm --remote` uses them as its lease, and `fetch` integrates from them.
//!
//! Tombstones: deleting a run here leaves `refs/pitboss-tombstones/grind/<id>`, a ref to a
//! small blob naming the deleted tip, so a later `fetch` does not bring the run back from a
//! remote (or from a teammate who still has it) unless asked with `--include-deleted`. It is a
//! ref, not a file, so concurrent deletions cannot lose one, `git for-each-ref` shows them and
//! `git update-ref -d` removes one. It never leaves this repository.

mod branch;
mod branch_tombstone;
mod checkouts;
mod code_fit;
mod fetch;
mod fetch_plan;
mod gone;
mod lease;
mod push;
mod rm;

use serde::Serialize;

use super::id::{RemoteName, RemoteNameError, RunId, TOMBSTONE_REF_PREFIX};
use super::{RunStore, StoreError};
use crate::git::{GitError, NetError, Oid, Repo, default_remote};

#[cfg(test)]
pub(crate) use branch::CodeMerge;
pub(crate) use branch::{BranchOutcome, FetchedBranch, candidate_branch_refs};
pub(crate) use branch_tombstone::tombstoned_branch;
pub(crate) use fetch::{FetchOptions, FetchOutcome, FetchReport};
pub(crate) use fetch_plan::MAX_RUNS_KEY;
pub(crate) use push::{PushOptions, PushOutcome, PushReport, RefKind};
pub(crate) use rm::{Here, Relation, RemoteDeletion, RemoteListing, RmReport, resolve_on_remote};

/// Errors of sharing runs. Messages name the remote and the run.
#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    #[error(
        "no remote to share runs with: this repository has no remote named origin and none is configured"
    )]
    NoRemote,
    #[error("{name:?} is not a remote of this repository{}", known_list(.known))]
    UnknownRemote { name: String, known: Vec<String> },
    #[error(transparent)]
    BadRemoteName(#[from] RemoteNameError),
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("git {op} {remote} printed something unexpected: {why}")]
    Unexpected {
        op: &'static str,
        remote: String,
        why: String,
    },
    #[error(
        "run {run} has never been seen on {remote}, so there is no value to lease its deletion on"
    )]
    NotSeen { run: RunId, remote: String },
    #[error("git config {key} = {value:?}: {why}")]
    BadConfig {
        key: &'static str,
        value: String,
        why: &'static str,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        " (it has none)".into()
    } else {
        format!(" (remotes: {})", known.join(", "))
    }
}

impl From<GitError> for ShareError {
    fn from(e: GitError) -> Self {
        ShareError::Store(StoreError::Git(e))
    }
}

pub(crate) type Result<T, E = ShareError> = std::result::Result<T, E>;

/// A remote as pitboss uses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Remote {
    /// What git is given: a configured remote's name, or a URL or path.
    pub target: String,
    /// The namespace of its tracking refs.
    pub name: RemoteName,
}

impl Remote {
    /// The remote named by `arg`, or the default one: `pitboss.remote`, else the current
    /// branch's push remote (`branch.<b>.pushRemote`, `remote.pushDefault`,
    /// `branch.<b>.remote`), else `origin`. A name must be a configured remote; a URL or a
    /// path (anything with `/` or `:`, or ending in `.git`) is used as it is.
    pub fn resolve(repo: &Repo, arg: Option<&str>) -> Result<Remote> {
        let known = repo.remote_names()?;
        let target = match arg {
            Some(a) => a.to_string(),
            None => {
                let branch = repo.current_branch()?;
                let config = |k: &str| repo.config_string(k).ok().flatten();
                default_remote(&config, branch.as_ref().map(|b| b.as_str()), &known)
                    .ok_or(ShareError::NoRemote)?
            }
        };
        if known.contains(&target) {
            let name = RemoteName::parse(&target)?;
            return Ok(Remote { target, name });
        }
        if looks_like_url(&target) {
            return Ok(Remote {
                name: RemoteName::for_url(&target),
                target,
            });
        }
        Err(ShareError::UnknownRemote {
            name: target,
            known,
        })
    }

    /// Every configured remote (for `fetch --all`).
    pub fn all(repo: &Repo) -> Result<Vec<Remote>> {
        repo.remote_names()?
            .into_iter()
            .map(|r| Remote::resolve(repo, Some(&r)))
            .collect()
    }
}

/// Whether a remote argument is a URL or a path rather than a remote's name.
pub(crate) fn looks_like_url(s: &str) -> bool {
    s.contains('/') || s.contains(':') || s.ends_with(".git")
}

/// A ref name in a remote's namespace that is not a valid run id: ignored, and reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IgnoredRef {
    pub refname: String,
    pub why: String,
}

/// A remote's tracking refs: valid runs with their tips, and the names that are not run ids.
type TrackingRefs = (Vec<(RunId, Oid)>, Vec<IgnoredRef>);

impl RunStore<'_> {
    /// The tracking refs of `remote`: valid runs with their tips, and ignored names.
    fn tracking_refs(&self, remote: &RemoteName) -> Result<TrackingRefs> {
        let mut runs = Vec::new();
        let mut ignored = Vec::new();
        for (refname, oid) in self.repo.refs_with_prefix(&remote.tracking_prefix())? {
            match remote.run_of_tracking_ref(&refname) {
                Some(Ok(id)) => runs.push((id, oid)),
                Some(Err(e)) => ignored.push(IgnoredRef {
                    refname,
                    why: e.to_string(),
                }),
                None => {}
            }
        }
        Ok((runs, ignored))
    }

    /// Whether run `id` was deleted here and should stay deleted.
    pub fn is_tombstoned(&self, id: &RunId) -> Result<bool> {
        Ok(self.repo.ref_target(&id.tombstone_ref_name())?.is_some())
    }

    /// Every run deleted here.
    pub fn tombstones(&self) -> Result<Vec<RunId>> {
        Ok(self
            .repo
            .refs_with_prefix(TOMBSTONE_REF_PREFIX)?
            .into_iter()
            .filter_map(|(name, _)| {
                name.strip_prefix(TOMBSTONE_REF_PREFIX)
                    .and_then(|s| RunId::parse(s).ok())
            })
            .collect())
    }

    fn write_tombstone(&self, id: &RunId, tip: Option<Oid>) -> Result<String> {
        let name = id.tombstone_ref_name();
        let text = format!(
            "run {id} deleted at {}\nlast tip {}\n",
            super::rfc3339::format(&self.clock.now()),
            tip.map(|t| t.to_string())
                .unwrap_or_else(|| "(none here)".into())
        );
        let blob = self.repo.write_blob(text.as_bytes())?;
        self.repo
            .set_ref(&name, blob, &format!("pitboss: run {id} deleted"))?;
        Ok(name)
    }

    fn remove_tombstone(&self, id: &RunId) -> Result<bool> {
        Ok(self.repo.delete_ref(&id.tombstone_ref_name())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths_are_not_names() {
        for u in [
            "../remote.git",
            "/srv/git/x",
            "file:///tmp/x",
            "git://127.0.0.1:9418/x",
            "git@host:team/x",
            "remote.git",
        ] {
            assert!(looks_like_url(u), "{u}");
        }
        for n in ["origin", "team", "fork-2"] {
            assert!(!looks_like_url(n), "{n}");
        }
    }
}
