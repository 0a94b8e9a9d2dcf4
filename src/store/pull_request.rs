//! The pull request a run was proposed in (`git pitboss pr`, `grind --pr`), kept in the run.
//!
//! It lives under the key `pull_request` of `state.json`, written by a run-level commit
//! (`run <id> pull request opened`). NB: a key of `state.json` rather than a file of its own,
//! because the tree layout is checked on every fetch (`check.rs`): a new top-level file would
//! make clones running an earlier version refuse the run, while unknown `state.json` keys are
//! kept by every version. `ls` reads the tip's `state.json` already, so it shows the URL at
//! no extra cost.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::id::RunId;
use super::run::RunState;
use super::write::RunUpdate;
use super::{Result, RunStore};
use crate::git::Oid;

/// The `state.json` key.
pub(crate) const PULL_REQUEST_KEY: &str = "pull_request";

/// A pull (or merge) request opened for a run's branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullRequest {
    pub url: String,
    /// `github` or `gitlab`.
    pub forge: String,
    /// The remote the branch was pushed to, as given to git.
    pub remote: String,
    /// The branch proposed (without `refs/heads/`) and the one it goes into.
    pub head: String,
    pub base: String,
    #[serde(default)]
    pub draft: bool,
    #[serde(with = "super::record::rfc3339")]
    pub opened_at: DateTime<Utc>,
}

impl RunState {
    /// The pull request recorded for the run, if any (an unreadable value counts as none).
    pub fn pull_request(&self) -> Option<PullRequest> {
        self.extra
            .get(PULL_REQUEST_KEY)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }
}

impl RunStore<'_> {
    /// Records the run's pull request with a run-level commit; the status is left as it is.
    pub fn record_pull_request(&self, id: &RunId, pr: &PullRequest) -> Result<Oid> {
        let mut update = RunUpdate {
            subject: format!("run {id} pull request opened"),
            body: Some(format!("Pull request: {}", pr.url)),
            ..RunUpdate::default()
        };
        update.state_extra.insert(
            PULL_REQUEST_KEY.to_string(),
            serde_json::to_value(pr).expect("our own plain data always serialises to JSON"),
        );
        self.update_run(id, update)
    }
}
