//! `GrindError`: why a grind could not start or went wrong, as opposed to a failed session
//! (a recorded status), and [`Refusal`]: why a stored run cannot be resumed. The CLI maps each
//! variant to its exit code and hint (`cli/errors.rs`).

use std::path::PathBuf;

use super::resume::ResumeError;
use crate::agent::AgentError;
use crate::git::{BaseError, GitError};
use crate::plan::budget::StopReason;
use crate::plan::scheduler::SchedulerError;
use crate::rundir::lock::LockError;
use crate::store::{RunId, StoreError};

/// Why a stored run cannot be resumed. Each is something the user can change (exit 4).
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refusal {
    #[error(
        "run {run} was not made by `git pitboss grind` (it records no run branch, like the runs `record --create` makes), so it cannot be resumed"
    )]
    NotAGrindRun { run: RunId },
    #[error(
        "run {run} cannot be resumed: its branch {branch} is neither here nor in any remote's copy"
    )]
    BranchMissing { run: RunId, branch: String },
    #[error("run {run} cannot be resumed: its branch {branch} is not here, and the remotes' copies ({}) diverged", .copies.join(", "))]
    BranchCopiesDiverged {
        run: RunId,
        branch: String,
        copies: Vec<String>,
    },
    #[error("run {run} cannot be resumed: its branch {branch} is checked out at {}", .path.display())]
    BranchCheckedOut {
        run: RunId,
        branch: String,
        path: PathBuf,
    },
    #[error("run {run} cannot be resumed: {branch} is not the run's code: {why}")]
    BranchNotRunCode {
        run: RunId,
        /// The branch, or the remote's copy resume would take it from.
        branch: String,
        why: String,
    },
    /// The branch here was replaced (`git branch -f`, a rebase, an agent): not the run's code.
    #[error("run {run} cannot be resumed: its branch {branch} is not the run's code: {why}")]
    LocalBranchNotRunCode {
        run: RunId,
        branch: String,
        why: String,
        /// The newest commit the run's records vouch for (the last recorded session commit, or
        /// the base commit): where the branch belongs.
        recorded: Option<String>,
    },
    #[error("run {run} cannot be resumed: a budget is already spent: {reason}")]
    BudgetSpent { run: RunId, reason: StopReason },
    #[error(
        "run {run} cannot be resumed: no prompt can run again (every prompt has reached its max_runs)"
    )]
    Exhausted { run: RunId },
}

/// Why a grind could not start or went wrong (not a failed session: those are statuses).
#[derive(Debug, thiserror::Error)]
pub(crate) enum GrindError {
    #[error("cannot start the run branch: {0}")]
    Base(#[from] BaseError),
    #[error("branch {0} already exists")]
    BranchExists(String),
    #[error("agent program `{}` not found", .program.display())]
    AgentNotFound { program: PathBuf },
    #[error("the {agent} agent does not start: {why}")]
    AgentDoesNotStart { agent: String, why: String },
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error(transparent)]
    Scheduler(#[from] SchedulerError),
    #[error(transparent)]
    Resume(#[from] ResumeError),
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("the run branch {branch} is gone (deleted while the run went on)")]
    BranchGone { branch: String },
    #[error("the run branch {branch} keeps moving: it cannot be put back at {tip}")]
    BranchUnheld { branch: String, tip: String },
    #[error("{branch} moved while the resume took it up from {tracking}")]
    BranchRaced { branch: String, tracking: String },
    /// Recovery could not tell whether a killed session's work is on the run branch: a guess
    /// either way would record it wrongly (landed work as aborted, or the reverse).
    #[error("cannot tell whether session {seq}'s work is on {branch}: {source}")]
    RecoveryUnsure {
        seq: u64,
        branch: String,
        #[source]
        source: GitError,
    },
    #[error("cannot take up {branch}: {source}")]
    TakeUpBranch {
        branch: String,
        #[source]
        source: Box<crate::store::share::ShareError>,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl GrindError {
    pub(in crate::grind) fn io(
        what: impl Into<String>,
    ) -> impl FnOnce(std::io::Error) -> GrindError {
        let what = what.into();
        move |source| GrindError::Io { what, source }
    }
}
