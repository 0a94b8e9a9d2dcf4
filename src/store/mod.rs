//! The run store: a grind run's whole history on `refs/pitboss/grind/<run-id>`, one commit per
//! session (DESIGN §3–4).
//!
//! Writes are shaped like transactions (house style 10): everything a commit adds is built in
//! the object store first, then published with one compare-and-swap of the run ref. A writer
//! that dies before the swap leaves only unreferenced objects (which `git gc` collects); one
//! that dies after it has published a whole commit. There is no lock file of our own.

mod append_only;
mod check;
mod damage;
pub(crate) mod dir_read;
mod id;
mod import;
pub(crate) mod kept;
mod landing;
mod landing_text;
mod markdown;
mod merge;
mod merge_plan;
mod message;
pub(crate) mod paths;
mod pull_request;
mod read;
mod read_at;
mod record;
#[cfg(test)]
mod record_builder;
mod record_line;
mod rules;
mod run;
mod write;
mod written;

pub(crate) mod layout;
mod layout_export;
mod layout_redact;
pub(crate) mod share;

use crate::clock::{Clock, Entropy};
use crate::git::{GitError, Identity, Oid, Repo};

pub(crate) use check::Caps;
pub(crate) use damage::DamagedRun;
pub use id::RunId;
pub(crate) use id::{
    BRANCH_TOMBSTONE_REF_PREFIX, REMOTE_REF_PREFIX, RUN_BRANCH_PREFIX, RUN_REF_PREFIX, RemoteName,
    RunIdError, Seq, TOMBSTONE_REF_PREFIX,
};
pub(crate) use landing::{Landing, LandingResult};
pub(crate) use markdown::render_sessions_md;
pub(crate) use message::trailer;
pub(crate) use pull_request::PullRequest;
pub(crate) use read::{RunListing, RunSummary};
pub(crate) use record::rfc3339;
pub use record::{SessionRecord, SessionStatus, parse_record};
pub(crate) use rules::check_append;
#[cfg(test)]
pub(crate) use rules::check_session;
pub(crate) use run::{Consumed, RunStatus, STOP_ITERATIONS_KEY, iteration_stop_text};
pub use run::{RunMeta, RunState};
pub(crate) use write::RunUpdate;
pub use write::{SessionAppend, TranscriptSource};
pub(crate) use written::RestoredRef;

/// Errors of the run store. Messages name the run, the seq and the path involved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    InvalidRunId(#[from] RunIdError),
    #[error("run {0} already exists")]
    RunExists(RunId),
    #[error("run {0} does not exist")]
    RunNotFound(String),
    #[error("run prefix {prefix:?} is ambiguous: it matches {}", .candidates.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "))]
    Ambiguous {
        prefix: String,
        candidates: Vec<RunId>,
    },
    #[error(
        "run {} is damaged: its tip commit {} is missing from the object store",
        .0.id, .0.tip
    )]
    Damaged(Box<DamagedRun>),
    #[error("{refname} is not a git-pitboss run: {why}")]
    NotARun { refname: String, why: String },
    #[error("run {run} already has a session {seq}")]
    DuplicateSeq { run: RunId, seq: u64 },
    #[error("run {run}: session {seq} breaks the store's rules: {why}")]
    Invalid { run: RunId, seq: u64, why: String },
    #[error("run {run} has no session {seq}")]
    SessionNotFound { run: RunId, seq: u64 },
    #[error("the record is for run {record_run:?}, not run {run}")]
    RunMismatch { run: RunId, record_run: String },
    #[error("run {run}: corrupt record for session {seq} at {path}: {why}")]
    CorruptRecord {
        run: RunId,
        seq: u64,
        path: String,
        why: String,
    },
    #[error("run {run}: corrupt {path}: {why}")]
    CorruptRun {
        run: RunId,
        path: String,
        why: String,
    },
    #[error(
        "run {run}: the ref lock {} has been held for {}s, and it may still be in use: {holder}",
        .path.display(), .age_secs
    )]
    StaleLock {
        run: RunId,
        path: std::path::PathBuf,
        age_secs: u64,
        /// Who may hold it (a process and what it runs), or why we cannot tell.
        holder: String,
    },
    #[error("run {run}: gave up after {attempts} attempts: other writers kept moving the ref")]
    Contention { run: RunId, attempts: u32 },
    /// What an import reads from failed; its reader reports the failure as itself.
    #[error("the run to import cannot be read: {why}")]
    ImportSource { why: String },
    #[error(transparent)]
    Git(#[from] GitError),
}

impl StoreError {
    /// Whether the user can fix it (bad id, unknown run, bad record) rather than a fault of
    /// git or the file system.
    pub fn is_user_error(&self) -> bool {
        match self {
            StoreError::Git(_) | StoreError::Contention { .. } => false,
            StoreError::InvalidRunId(_)
            | StoreError::RunExists(_)
            | StoreError::RunNotFound(_)
            | StoreError::Ambiguous { .. }
            | StoreError::Damaged(_)
            | StoreError::NotARun { .. }
            | StoreError::DuplicateSeq { .. }
            | StoreError::Invalid { .. }
            | StoreError::SessionNotFound { .. }
            | StoreError::RunMismatch { .. }
            | StoreError::CorruptRecord { .. }
            | StoreError::CorruptRun { .. }
            | StoreError::StaleLock { .. }
            | StoreError::ImportSource { .. } => true,
        }
    }
}

pub(crate) type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The run store of one repository.
pub struct RunStore<'a> {
    repo: &'a Repo,
    clock: &'a dyn Clock,
    entropy: &'a dyn Entropy,
    identity: Identity,
    /// The tips this store wrote, by run, and the run refs it put back (`written.rs`).
    written: written::Written,
}

impl<'a> RunStore<'a> {
    pub fn new(repo: &'a Repo, clock: &'a dyn Clock, entropy: &'a dyn Entropy) -> Self {
        RunStore {
            repo,
            clock,
            entropy,
            identity: repo.identity(),
            written: written::Written::default(),
        }
    }

    pub fn repo(&self) -> &Repo {
        self.repo
    }
}

/// A run as of one tip commit.
#[derive(Debug, Clone)]
pub struct Run {
    pub id: RunId,
    pub tip: Oid,
    pub meta: RunMeta,
    pub state: RunState,
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_rules;
#[cfg(test)]
mod tests_share;
