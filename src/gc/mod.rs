//! `git pitboss gc`: every run-related thing in the repository, what may happen to it and why,
//! and the deletions that are safe.
//!
//! [`plan`] builds the table and writes nothing; [`apply`] deletes what the table allows, one
//! thing at a time, telling the observer (and so the user) the command that restores each thing
//! *before* it goes, so a crash halfway never leaves a deletion without its undo.
//!
//! The one rule above all: a commit that is reachable from nothing else is never deleted. A
//! code ref may go only when every commit on it that no local ref outside pitboss' namespaces
//! reaches is a session commit whose work reached the target ([`crate::provenance::reach`]:
//! merged, same patch id, squash of the run, or applied). A reflog is not a place where a
//! commit is "somewhere else": deleting a branch deletes its reflog with it, and `git gc`
//! prunes what nothing reaches. And a run branch goes only when its work reached the target:
//! pushed is not landed ([`judge`]; `--pushed` lets a branch a remote has now go too).
//!
//! - [`code`]: run branches and the code tracking refs of runs not here; [`judge`]: the
//!   verdict on their commits.
//! - [`worktrees`]: run worktrees and the live working files of runs that ended.
//! - [`markers`]: run tracking refs of runs not here, "deleted on the remote" markers and
//!   tombstones.
//! - [`apply`]: the deletions, each one guarded (compare-and-swap on refs, the run lock held).

mod apply;
mod code;
mod judge;
mod markers;
pub(crate) mod rm;
mod worktrees;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::agent::Redactor;
use crate::git::{BranchName, GitError, Oid, RefName};
use crate::provenance::ProvenanceError;
use crate::rundir::lock::LockError;
use crate::store::{RunId, RunStatus, RunStore, StoreError};

pub(crate) use apply::{GcEvent, apply};
pub(crate) use code::state_means_landed;

/// What kind of thing a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Kind {
    /// A run's code branch, `refs/heads/pitboss/<id>`.
    Branch,
    /// A run's worktree under `<git-common-dir>/pitboss/worktrees/<id>/<slot>`.
    Worktree,
    /// Working files of a run under `<git-common-dir>/pitboss/` (run dir, lock, events).
    Files,
    /// A remote's copy of a run or of its branch, under `refs/pitboss-remotes/`.
    TrackingRef,
    /// `refs/pitboss-remotes/<remote>/gone/<id>`: the run was deleted on that remote.
    GoneMarker,
    /// `refs/pitboss-tombstones/grind/<id>`: the run was deleted here; or
    /// `refs/pitboss-tombstones/heads/pitboss/<id>`: gc deleted the run's branch here.
    Tombstone,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Branch => "branch",
            Kind::Worktree => "worktree",
            Kind::Files => "files",
            Kind::TrackingRef => "tracking-ref",
            Kind::GoneMarker => "gone-marker",
            Kind::Tombstone => "tombstone",
        }
    }
}

/// What gc does (or, with a dry run, would do) with a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Action {
    Delete,
    /// Save the uncommitted work as a patch in the run ref, then delete (`--force`).
    SaveAndDelete,
    Keep,
}

impl Action {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Action::Delete => "delete",
            Action::SaveAndDelete => "save+delete",
            Action::Keep => "keep",
        }
    }
}

/// How a row is deleted (not shown; what [`apply`] needs).
#[derive(Debug, Clone)]
pub(crate) enum Op {
    None,
    /// Delete the ref if it still points at the oid.
    Ref {
        name: String,
        oid: Oid,
    },
    Worktree {
        name: String,
        path: PathBuf,
        /// The branch it has checked out (the one its work is measured against).
        branch: Option<BranchName>,
    },
    Files {
        paths: Vec<PathBuf>,
    },
}

/// One thing gc looked at.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    pub kind: Kind,
    /// A full ref name or a path.
    pub thing: String,
    pub run: Option<RunId>,
    /// What it is now, in a few words (`merged into main`, `uncommitted work`, …).
    pub state: String,
    pub action: Action,
    /// Why that action.
    pub reason: String,
    /// What a ref points at (the tip a restore puts back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
    /// The shell command that puts it back once deleted; `None` when nothing is lost
    /// (working files whose content the run ref holds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore: Option<String>,
    /// Set by [`apply`]: it was deleted.
    pub deleted: bool,
    /// Set by [`apply`]: where the uncommitted work was saved (a path in the run ref).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved_patch: Option<String>,
    #[serde(skip)]
    pub(crate) op: Op,
}

impl Row {
    fn keep(kind: Kind, thing: impl Into<String>, run: Option<RunId>, state: &str) -> Row {
        Row {
            kind,
            thing: thing.into(),
            run,
            state: state.to_string(),
            action: Action::Keep,
            reason: String::new(),
            oid: None,
            restore: None,
            deleted: false,
            saved_patch: None,
            op: Op::None,
        }
    }

    fn because(mut self, reason: impl Into<String>) -> Row {
        self.reason = reason.into();
        self
    }

    /// Marks a ref row deletable, with its restore command.
    fn delete_ref(mut self, name: &str, oid: Oid, restore: String) -> Row {
        self.action = Action::Delete;
        self.oid = Some(oid.to_string());
        self.restore = Some(restore);
        self.op = Op::Ref {
            name: name.to_string(),
            oid,
        };
        self
    }

    pub(crate) fn will_delete(&self) -> bool {
        self.action != Action::Keep
    }
}

/// What the user asked for.
#[derive(Debug, Clone)]
pub(crate) struct GcOptions {
    /// Remove worktrees with uncommitted work too, after saving it as a patch in the run ref.
    pub force: bool,
    /// Treat stopped (not finished) runs like finished ones: their worktrees, working files
    /// and branches are no longer kept for `--resume`.
    pub stopped: bool,
    /// Let a run branch whose work has not reached the target go when a remote has every
    /// commit of it now (`git ls-remote`): pushed is not landed, so this is opt-in.
    pub pushed: bool,
    /// Delete tombstones older than this; `None`: keep every tombstone.
    pub tombstones_older_than: Option<chrono::Duration>,
    /// Where work must have landed (default: each run's base branch).
    pub target: Option<String>,
    pub now: DateTime<Utc>,
    /// Applied to uncommitted work before it is stored (runs are pushed to shared remotes).
    pub redactor: Redactor,
}

/// The table.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct GcReport {
    pub rows: Vec<Row>,
    pub dry_run: bool,
}

impl GcReport {
    pub(crate) fn deleted(&self) -> usize {
        self.rows.iter().filter(|r| r.deleted).count()
    }

    /// Whether a branch deleted here had commits that are now reachable from nothing: its work
    /// reached the target by squash, rebase or cherry-pick (`reached main: same patches`), so
    /// its restore command works only until `git gc` prunes them.
    pub(crate) fn deleted_unreachable(&self) -> bool {
        (self.rows.iter()).any(|r| r.deleted && r.state.contains("same patches"))
    }
}

/// Errors of gc: faults of the store, git or the file system (a refusal to delete something is a
/// row, not an error).
#[derive(Debug, thiserror::Error)]
pub(crate) enum GcError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Provenance(#[from] ProvenanceError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

pub(crate) type Result<T, E = GcError> = std::result::Result<T, E>;

/// Where a run stands, as far as gc cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RunState {
    /// A grind holds its lock (the pid it wrote).
    Live(String),
    /// Its ref is gone (deleted, or never here).
    Gone,
    Finished,
    /// Its state says running but no grind holds it: `--resume` records its last session.
    Interrupted,
    /// Stopped, aborted or failed: `--resume` takes it up.
    Stopped(String),
}

impl RunState {
    fn of(store: &RunStore<'_>, id: &RunId) -> Result<RunState> {
        if let Some(pid) =
            crate::rundir::lock::RunLock::holder(store.repo().common_dir(), id.as_str())
        {
            return Ok(RunState::Live(pid));
        }
        if !store.exists(id)? {
            return Ok(RunState::Gone);
        }
        let run = match store.open_run(id) {
            Ok(r) => r,
            // A run that cannot be read is kept whole: nothing of it is judged.
            Err(e) if e.is_user_error() => {
                return Ok(RunState::Stopped("unreadable".into()));
            }
            Err(e) => return Err(e.into()),
        };
        Ok(match run.state.status {
            RunStatus::Finished => RunState::Finished,
            RunStatus::Running => RunState::Interrupted,
            s => RunState::Stopped(s.to_string()),
        })
    }

    /// Why a resumable run's things are kept, or `None` when they may go. `what`: the thing
    /// kept, as the reason names it ("this worktree", "these files", "this branch").
    fn kept_for_resume(&self, id: &RunId, stopped: bool, what: &str) -> Option<String> {
        match self {
            RunState::Live(pid) => Some(format!("a grind is running it (process {pid})")),
            RunState::Interrupted => Some(format!(
                "its grind ended without finishing the run (no process holds its lock); \
                 `git pitboss grind --resume {id}` needs {what} to record its last session and \
                 go on, so even --stopped keeps {what}"
            )),
            RunState::Stopped(s) if !stopped => Some(format!(
                "the run is {s}: kept for `git pitboss grind --resume {id}` (--stopped lets it go)"
            )),
            _ => None,
        }
    }

    fn label(&self) -> String {
        match self {
            RunState::Live(_) => "running".into(),
            RunState::Gone => "run deleted".into(),
            RunState::Finished => "run finished".into(),
            RunState::Interrupted => "run interrupted".into(),
            RunState::Stopped(s) => format!("run {s}"),
        }
    }
}

/// Every run-related thing of the repository with what gc may do to it. Writes nothing (the
/// provenance cache aside).
pub(crate) fn plan(store: &RunStore<'_>, opts: &GcOptions) -> Result<GcReport> {
    let mut rows = worktrees::worktree_rows(store, opts)?;
    rows.extend(worktrees::file_rows(store, opts)?);
    rows.extend(worktrees::started_rows(store)?);
    rows.extend(worktrees::trash_rows(store));
    let removed: Vec<PathBuf> = rows
        .iter()
        .filter(|r| r.kind == Kind::Worktree && r.will_delete())
        .map(|r| PathBuf::from(&r.thing))
        .collect();
    rows.extend(code::branch_rows(store, opts, &removed)?);
    rows.extend(markers::remote_rows(store)?);
    rows.extend(markers::tombstone_rows(store, opts)?);
    Ok(GcReport {
        rows,
        dry_run: true,
    })
}

/// `git branch <short> <tip>` for a `refs/heads/…` ref, `git update-ref <ref> <oid>` otherwise.
fn restore_ref(name: &str, oid: Oid) -> String {
    match RefName::from_git(name).branch() {
        Some(short) => format!("git branch {short} {oid}"),
        None => format!("git update-ref {name} {oid}"),
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn restore_commands_name_the_ref_and_the_tip() {
        let oid = Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap();
        assert_eq!(
            restore_ref("refs/heads/pitboss/r1", oid),
            "git branch pitboss/r1 0123456789abcdef0123456789abcdef01234567"
        );
        assert_eq!(
            restore_ref("refs/pitboss-tombstones/grind/r1", oid),
            "git update-ref refs/pitboss-tombstones/grind/r1 0123456789abcdef0123456789abcdef01234567"
        );
    }
}
