//! What a grind has to say as it goes ([`GrindEvent`]) and who hears it ([`GrindObserver`]):
//! the library never prints (house style 4); the CLI renders each event as human progress,
//! `--json` lines or nothing.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::summary::GrindSummary;
use crate::store::{RunId, SessionRecord, SessionStatus};

/// Progress, as it happens.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum GrindEvent {
    RunStarted {
        run: RunId,
        branch: String,
        worktree: PathBuf,
        agent: String,
        /// What runs each session: the program found (its full path), the command line of the
        /// `command` backend, or the built-in demo agent.
        program: String,
        /// Where that came from: `default`, `config` (the repository's .pitboss/config.toml) or
        /// the flag.
        program_from: String,
        resumed: bool,
        /// The model the plan asks for (`None`: the agent's default).
        #[serde(skip_serializing_if = "Option::is_none")]
        model: Option<String>,
        /// The rotation's name, when one is in use.
        #[serde(skip_serializing_if = "Option::is_none")]
        rotation: Option<String>,
        /// The run's budgets in force (for progress against them: `n of N`, cost of the limit).
        limits: Box<crate::plan::budget::Limits>,
        /// What the run had spent before this grind took it up (zero for a new run).
        spent_iterations: u64,
        spent_cost_usd: f64,
        spent_tokens: u64,
        /// Of the sessions recorded before this grind, those of unknown cost: `spent_cost_usd`
        /// is then only what is known (absent in older events files: none).
        #[serde(default)]
        spent_unknown_cost_sessions: u64,
        /// Sessions that may run at once (1: sequential), as the run will do it
        /// (`Plan::slots`: `max_parallel` only when some prompt may run beside another).
        max_parallel: u32,
    },
    SessionStarted {
        seq: u64,
        /// The slot worktree it runs in (parallel runs only).
        #[serde(skip_serializing_if = "Option::is_none")]
        slot: Option<u32>,
        prompt: String,
        rotation: u64,
        /// When the session started (for elapsed times read later, as `watch` does).
        started_at: DateTime<Utc>,
        #[serde(skip_serializing_if = "Option::is_none")]
        timeout_seconds: Option<u64>,
    },
    /// A live update of the running session.
    Progress {
        seq: u64,
        /// The slot worktree it runs in (parallel runs only).
        #[serde(skip_serializing_if = "Option::is_none")]
        slot: Option<u32>,
        elapsed_ms: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        last_tool: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        /// The session's token total so far, when its agent reports usage as it goes (the
        /// same definition as a record's: input + output + cache reads + cache writes).
        #[serde(skip_serializing_if = "Option::is_none")]
        tokens: Option<u64>,
        /// The session's cost so far: the agent's own running figure, else its tokens at the
        /// model's price (absent when neither is known, as for a `command` agent).
        #[serde(skip_serializing_if = "Option::is_none")]
        cost_usd: Option<f64>,
    },
    SessionFinished {
        record: Box<SessionRecord>,
        patch_saved: bool,
        /// The local, never-pushed ref that holds the session's work whole, when the run's
        /// patch could not (it looked like a secret, or was too large): see `grind::kept`.
        #[serde(skip_serializing_if = "Option::is_none")]
        work_kept_at: Option<String>,
        /// Known cost of the run so far.
        run_cost_usd: f64,
        /// Sessions of the run so far, and how many of them have no known cost.
        run_sessions: u64,
        run_unknown_cost_sessions: u64,
    },
    /// A session of a parallel run is done (its agent gone, its work settled on its slot
    /// branch) and waits in the landing queue behind the older session `behind`.
    Queued {
        seq: u64,
        slot: u32,
        behind: u64,
    },
    /// The landing queue dealt with a session of a parallel run (before its record is
    /// appended, which `SessionFinished` tells).
    Landing {
        seq: u64,
        slot: u32,
        landing: crate::store::Landing,
        /// How long the landing took (replay, verify, compare-and-swap, proof).
        ms: u64,
        /// The session's status when it was never to land (`error`, `timeout`, `aborted`,
        /// `skipped`): its landing is then "nothing" because of it, not for want of work.
        #[serde(skip_serializing_if = "Option::is_none")]
        not_landed: Option<SessionStatus>,
        /// Its work (or leftovers) was saved as a patch in the run.
        patch_saved: bool,
    },
    Warning {
        message: String,
    },
    Waiting {
        until: DateTime<Utc>,
        reason: String,
    },
    RunFinished {
        summary: Box<GrindSummary>,
    },
}

/// Receives [`GrindEvent`]s.
pub(crate) trait GrindObserver {
    fn event(&mut self, e: &GrindEvent);
}
