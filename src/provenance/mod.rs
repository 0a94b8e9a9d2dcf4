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
//! - [`blame`]: git's blame of a file with each line's session (through commits, patch ids,
//!   and the reach evidence `stats` uses), and the facts `why` prints.
//! - [`review`] and [`digest`]: what one run did to its base (`review`), and its Markdown
//!   digest fitted to a pull request's body (`review --md`, `pr`).

pub(crate) mod blame;
mod blame_reach;
pub(crate) mod cache;
pub(crate) mod digest;
pub(crate) mod index;
pub(crate) mod reach;
pub(crate) mod review;
pub(crate) mod stats;

use crate::git::GitError;
use crate::store::StoreError;

pub(crate) use blame::BlameLine;
pub(crate) use index::{Index, IndexOptions, RunFacts, SessionFacts};
pub(crate) use reach::{Reach, ReachReport, Target};
pub(crate) use stats::{Group, GroupBy, StatsOptions, StatsReport};

/// Errors of the provenance commands.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProvenanceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("{0:?} does not name a commit")]
    BadTarget(String),
    #[error("{file} has no line {line} (it has {lines})")]
    NoSuchLine {
        file: String,
        line: usize,
        lines: usize,
    },
}

pub(crate) type Result<T, E = ProvenanceError> = std::result::Result<T, E>;
