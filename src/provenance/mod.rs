//! What did the spend buy? The join between a run's session records (prompt, agent, model,
//! tokens, cost, status) and the code those sessions wrote, built offline from git alone.
//!
//! - [`index`]: the commit → session index, read from the run refs and cached under
//!   `<git-common-dir>/pitboss/cache/`, keyed by each run's tip, so a second call reads no
//!   history and a new session only adds its own commits.
//! - [`reach`]: whether each session's work reached a target branch, after a merge, a
//!   fast-forward, a rebase or cherry-pick, a squash, or a hand-copy; `unknown` when later
//!   edits make that undecidable.
//! - [`stats`]: the figures of `git pitboss stats`, grouped by prompt, agent, model, run or day.
//! - [`blame`]: git's blame of a file with each line's session, and the facts `why` prints.
//! - [`review`] and [`digest`]: what one run did to its base (`review`), and its Markdown
//!   digest fitted to a pull request's body (`review --md`, `pr`).

pub mod blame;
pub mod cache;
pub mod digest;
pub mod index;
pub mod reach;
pub mod review;
pub mod stats;

use crate::git::GitError;
use crate::store::{CostSource, SessionRecord, StoreError};

pub use blame::{BlameLine, SessionRef, Via as BlameVia};
pub use index::{Index, IndexOptions, RunFacts, SessionFacts};
pub use reach::{Reach, ReachReport, RunReach, Target};
pub use stats::{Group, GroupBy, StatsOptions, StatsReport};

/// Errors of the provenance commands.
#[derive(Debug, thiserror::Error)]
pub enum ProvenanceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("{0:?} does not name a commit")]
    BadTarget(String),
    #[error("git blame failed: {0}")]
    Blame(String),
    #[error("{file} has no line {line} (it has {lines})")]
    NoSuchLine {
        file: String,
        line: usize,
        lines: usize,
    },
}

impl ProvenanceError {
    /// Whether the user can fix it (a bad revision, file or line) rather than a fault of git.
    pub fn is_user_error(&self) -> bool {
        match self {
            ProvenanceError::Store(e) => e.is_user_error(),
            ProvenanceError::Git(_) => false,
            _ => true,
        }
    }
}

pub type Result<T, E = ProvenanceError> = std::result::Result<T, E>;

/// A session's tokens under the one total definition: input + output + cache reads + cache
/// writes. NB: kept in this one place so it can follow the crate-wide definition once there
/// is one.
pub fn token_total(r: &SessionRecord) -> u64 {
    let t = &r.tokens;
    t.input
        .saturating_add(t.output)
        .saturating_add(t.cache_read)
        .saturating_add(t.cache_write)
}

/// A session's cost, `None` when it is not known (never a silent $0).
pub fn known_cost(r: &SessionRecord) -> Option<f64> {
    match r.cost_source {
        Some(CostSource::Unknown) => None,
        _ if !r.cost_usd.is_finite() || r.cost_usd < 0.0 => None,
        _ => Some(r.cost_usd),
    }
}
