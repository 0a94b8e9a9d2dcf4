//! The session loop: the one module that joins the planner, the agent and the run store.
//!
//! [`grind`] starts a run (or resumes one), then asks the budgets and the scheduler for the next
//! session, runs it ([`super::session`]), appends it to the run ref, and goes on until the
//! scheduler is exhausted, a budget trips, the failure limit is reached or the user stops it.
//! It ends with a run commit that carries the run's status and why it stopped.
//!
//! Everything it has to say goes through a [`GrindObserver`] (house style 4); failures of the
//! work (an agent crash, a red verify command) are session statuses, and only faults of the
//! store, git or our own files come back as `Err` (house style 7).

mod open;
mod stop;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::budget::{BudgetState, Budgets, Decision, Spent, StopReason};
use super::lock::{LockError, RunLock};
use super::plan::Plan;
use super::reopen::{self, Refusal};
use super::resume::{self, BUDGETS_STATE_KEY, ResumeError};
use super::scheduler::{Pick, Scheduler, SchedulerError, SchedulerState};
use super::session::{self, SessionRun};
use super::slot::Slot;
use crate::agent::{self, AgentError, AgentEvent, Controls};
use crate::clock::{Clock, Entropy};
use crate::git::{BaseError, GitError, Repo};
use crate::store::{
    RunId, RunMeta, RunStatus, RunStore, RunUpdate, SessionRecord, SessionStatus, StoreError,
};

/// What a grind is asked to do (the CLI builds it from flags, config and the environment).
#[derive(Debug, Clone)]
pub struct GrindRequest {
    /// `--base`: where a new run branch starts (`None`: HEAD, on a branch).
    pub base: Option<String>,
    /// `--resume`: the run to continue.
    pub resume: Option<RunId>,
    /// The user's environment: secrets in it are redacted, `PATH` finds the agent.
    pub env: BTreeMap<String, String>,
    /// This executable (the demo agent is `git-pitboss agent-demo`).
    pub exe: PathBuf,
    /// Stop the run at a usage limit instead of waiting for its reset.
    pub stop_on_rate_limit: bool,
    /// Our process id, written into the run lock for a second grind to name.
    pub pid: u32,
    /// How a new run is started, kept in its `run.json` for `--resume`.
    pub started_with: Option<super::started::StartedWith>,
}

/// How the user stops a run from outside: set by the CLI's signal handling.
#[derive(Debug, Clone, Default)]
pub struct GrindControls {
    /// Ctrl-C once: finish the current session, then stop.
    pub stop_after_session: Arc<AtomicBool>,
    /// Ctrl-C twice or SIGTERM: end the agent now (the session is `aborted`), then stop.
    pub agent: Controls,
}

impl GrindControls {
    fn stopping(&self) -> bool {
        self.stop_after_session.load(Ordering::SeqCst) || self.agent.abort_requested()
    }
}

/// Why a run stopped.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum StopCause {
    /// No prompt can run again.
    Exhausted,
    /// A budget or the consecutive-failure limit.
    Budget { reason: StopReason },
    /// The user asked (Ctrl-C, SIGTERM).
    User,
    /// A usage limit, with `--stop-on-rate-limit` (or a reset past `--until`).
    RateLimited { until: Option<DateTime<Utc>> },
}

impl StopCause {
    /// The run status this cause leaves behind: `finished` when there is nothing more to do,
    /// `aborted` or `stopped` (both resumable) otherwise.
    pub fn run_status(&self) -> RunStatus {
        match self {
            StopCause::Exhausted => RunStatus::Finished,
            StopCause::Budget {
                reason: StopReason::Iterations { .. },
            } => RunStatus::Finished,
            StopCause::User => RunStatus::Aborted,
            StopCause::Budget { .. } | StopCause::RateLimited { .. } => RunStatus::Stopped,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            StopCause::Exhausted => "scheduler exhausted: no prompt can run again".into(),
            StopCause::Budget { reason } => reason.to_string(),
            StopCause::User => "stopped by the user".into(),
            StopCause::RateLimited { until: Some(t) } => {
                format!("usage limit reached (resets {})", t.to_rfc3339())
            }
            StopCause::RateLimited { until: None } => "usage limit reached".into(),
        }
    }
}

/// What a finished grind reports.
#[derive(Debug, Clone, Serialize)]
pub struct GrindSummary {
    pub run: RunId,
    pub run_ref: String,
    pub branch: String,
    pub status: RunStatus,
    pub stop: StopCause,
    /// Sessions this grind ran (a resumed run counts only its own).
    pub sessions: u64,
    pub by_status: BTreeMap<String, u64>,
    /// The sessions' token total ([`crate::store::Tokens::total`]) and its parts.
    pub tokens: u64,
    pub token_parts: crate::store::TokenTotals,
    /// The known costs; `unknown_cost_sessions` sessions are not in it.
    pub cost_usd: f64,
    pub unknown_cost_sessions: u64,
    pub wall_seconds: u64,
    /// The worktree left for `--resume`, when the run can go on.
    pub worktree_kept: Option<PathBuf>,
    pub resumed: bool,
}

impl GrindSummary {
    /// Whether any session of this grind failed (error or timeout).
    pub fn had_failures(&self) -> bool {
        ["error", "timeout"]
            .iter()
            .any(|s| self.by_status.get(*s).copied().unwrap_or(0) > 0)
    }
}

/// Progress, as it happens.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum GrindEvent {
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
        limits: Box<super::budget::Limits>,
        /// What the run had spent before this grind took it up (zero for a new run).
        spent_iterations: u64,
        spent_cost_usd: f64,
        spent_tokens: u64,
    },
    SessionStarted {
        seq: u64,
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
        elapsed_ms: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        last_tool: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        /// The session's token total so far, when its agent reports usage as it goes (the
        /// same definition as a record's: input + output + cache reads + cache writes).
        #[serde(skip_serializing_if = "Option::is_none")]
        tokens: Option<u64>,
    },
    SessionFinished {
        record: Box<SessionRecord>,
        patch_saved: bool,
        /// Known cost of the run so far.
        run_cost_usd: f64,
        /// Sessions of the run so far, and how many of them have no known cost.
        run_sessions: u64,
        run_unknown_cost_sessions: u64,
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
pub trait GrindObserver {
    fn event(&mut self, e: &GrindEvent);
}

/// Why a grind could not start or went wrong (not a failed session: those are statuses).
#[derive(Debug, thiserror::Error)]
pub enum GrindError {
    #[error("cannot start the run branch: {0}")]
    Base(#[from] BaseError),
    #[error("branch {0} already exists")]
    BranchExists(String),
    #[error("{0}")]
    AgentMissing(String),
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
    Refused(Refusal),
    #[error("run {0} is not being ground right now: no session to skip")]
    NotRunning(RunId),
    #[error("run {0} has no run branch recorded; it was not made by `git pitboss grind`")]
    NotAGrindRun(RunId),
    #[error("run {run}: its branch {branch} is neither here nor in any remote's copy")]
    BranchMissing { run: RunId, branch: String },
    #[error("run {run}: its branch {branch} is not here, and the remotes' copies ({}) diverged", .copies.join(", "))]
    BranchCopiesDiverged {
        run: RunId,
        branch: String,
        copies: Vec<String>,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl GrindError {
    /// Could not start because of something the user can fix (exit 4), as opposed to a fault.
    pub fn is_user_error(&self) -> bool {
        match self {
            GrindError::Store(e) => e.is_user_error(),
            GrindError::Git(_)
            | GrindError::Agent(AgentError::Io { .. })
            | GrindError::Lock(LockError::Io { .. })
            | GrindError::Io { .. } => false,
            _ => true,
        }
    }

    pub(super) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> GrindError {
        let what = what.into();
        move |source| GrindError::Io { what, source }
    }
}

/// Everything the loop carries from one session to the next.
pub(super) struct Loop<'a> {
    pub repo: &'a Repo,
    pub store: RunStore<'a>,
    pub clock: &'a dyn Clock,
    pub plan: &'a Plan,
    pub req: &'a GrindRequest,
    pub controls: &'a GrindControls,
    pub adapter: Box<dyn agent::Adapter>,
    pub redactor: agent::Redactor,
    pub run: RunId,
    /// The run branch's short name (`pitboss/<id>`, or what an older run recorded).
    pub branch: String,
    pub slot: Slot,
    pub scheduler: Scheduler,
    pub budgets: Budgets,
    pub budget_state: BudgetState,
    pub spent: Spent,
    /// The run's records so far (recent ones go into each session's input).
    pub records: Vec<SessionRecord>,
    pub last_seq: u64,
    /// The scratchpad as of the run's tip (what the next session starts from).
    pub scratchpad: String,
    /// The agent's `--version`, for agents whose stream does not say it.
    pub agent_version: Option<String>,
    /// Models already warned about as missing from the price table (once per run each).
    pub unpriced_warned: std::collections::BTreeSet<String>,
    /// Whether the "--max-cost cannot see a session of unknown cost" warning has fired.
    pub cost_blind_warned: bool,
    /// This session's hook and verify output, as transcript sections (see `session.rs`).
    pub hook_log: std::cell::RefCell<Vec<String>>,
}

/// Starts or resumes a run and grinds until it stops.
pub fn grind(
    repo: &Repo,
    clock: &dyn Clock,
    entropy: &dyn Entropy,
    plan: &Plan,
    req: &GrindRequest,
    controls: &GrindControls,
    obs: &mut dyn GrindObserver,
) -> Result<GrindSummary, GrindError> {
    let started = Instant::now();
    let adapter = session::adapter(&plan.agent, &req.exe);
    let (found, agent_version) = open::check_agent(plan, adapter.as_ref(), repo, req)?;
    let store = RunStore::new(repo, clock, entropy);
    let redactor = agent::Redactor::from_env(req.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let resumed = req.resume.is_some();
    let (lock, p) = match &req.resume {
        None => open::start(repo, &store, clock, entropy, plan, req, adapter.name())?,
        Some(id) => open::reopen(repo, &store, plan, req, id, clock.now())?,
    };
    let run = p.run.clone();
    let mut lp = Loop {
        repo,
        store,
        clock,
        plan,
        req,
        controls,
        adapter,
        redactor,
        run: p.run,
        branch: p.branch,
        slot: p.slot,
        scheduler: p.scheduler,
        budgets: p.budgets,
        budget_state: p.budget_state,
        spent: p.spent,
        records: p.records,
        last_seq: p.last_seq,
        scratchpad: p.scratchpad,
        agent_version: None,
        unpriced_warned: Default::default(),
        cost_blind_warned: false,
        hook_log: Default::default(),
    };
    if let (Some(v), Some(tested)) = (&agent_version, lp.adapter.tested_version())
        && let Some(message) = agent::version_warning(lp.adapter.name(), v, tested)
    {
        obs.event(&GrindEvent::Warning { message });
    }
    lp.agent_version = agent_version;
    obs.event(&GrindEvent::RunStarted {
        run: run.clone(),
        branch: format!("refs/heads/{}", lp.branch),
        worktree: lp.slot.path.clone(),
        agent: lp.adapter.name().to_string(),
        program: match found {
            Some(path) => path.display().to_string(),
            None => plan.agent.program.value.clone(),
        },
        program_from: plan.agent.program.from.to_string(),
        resumed,
        model: plan.agent.model.clone(),
        rotation: plan.rotation.name.clone(),
        limits: Box::new(lp.budgets.limits.clone()),
        spent_iterations: lp.spent.iterations,
        spent_cost_usd: lp.spent.cost_usd,
        spent_tokens: lp.spent.tokens,
    });
    if plan.rotation.max_parallel.value > 1 {
        obs.event(&GrindEvent::Warning {
            message: format!(
                "max_parallel is {}, but this version runs sessions one at a time",
                plan.rotation.max_parallel.value
            ),
        });
    }
    if resumed {
        lp.recover_interrupted(obs)?;
        lp.save_leftovers(obs)?;
    }
    let first_seq = lp.last_seq;
    let stop = lp.run_sessions(obs)?;
    let summary = lp.finish(stop, first_seq, started, resumed, obs)?;
    // Packing can take a while on a long run: let a `--resume` in first.
    drop(lock);
    repo.maintenance_auto();
    Ok(summary)
}

impl Loop<'_> {
    /// Sessions until something stops the run.
    fn run_sessions(&mut self, obs: &mut dyn GrindObserver) -> Result<StopCause, GrindError> {
        loop {
            if self.controls.stopping() {
                return Ok(StopCause::User);
            }
            let now = self.clock.now();
            if let Decision::Stop(reason) = self.budgets.check(&self.spent, now) {
                return Ok(StopCause::Budget { reason });
            }
            let (prompt, rotation) = match self.scheduler.next_pick() {
                Pick::Exhausted => return Ok(StopCause::Exhausted),
                Pick::Run {
                    prompt, rotation, ..
                } => (prompt, rotation),
            };
            self.spent.iterations += 1;
            let done: SessionRun = self.run_one(&prompt, rotation, obs)?;
            for w in self
                .budgets
                .warnings(&self.spent, self.clock.now(), &mut self.budget_state)
            {
                obs.event(&GrindEvent::Warning { message: w.message });
            }
            if let Some(limit) = done.rate_limit
                && let Some(cause) = self.wait_for_reset(limit, obs)
            {
                return Ok(cause);
            }
        }
    }

    /// What goes into `state.json` beside the scheduler: the budgets' fired warnings.
    pub(super) fn state_extra(&self) -> BTreeMap<String, serde_json::Value> {
        let mut m = BTreeMap::new();
        m.insert(
            BUDGETS_STATE_KEY.to_string(),
            serde_json::to_value(&self.budget_state).unwrap_or_default(),
        );
        m
    }

    /// Records a session's outcome in the loop's own counters.
    pub(super) fn count(&mut self, r: &SessionRecord) {
        self.spent.tokens += super::resume::budget_tokens(&crate::store::TokenTotals {
            input: r.tokens.input,
            output: r.tokens.output,
            cache_read: r.tokens.cache_read,
            cache_write: r.tokens.cache_write,
            reasoning: r.tokens.reasoning,
        });
        if r.cost_usd.is_finite() {
            self.spent.cost_usd += r.cost_usd;
        }
        if super::resume::is_rate_limited(r) {
            // A usage limit is waited out, not counted against the failure limit.
        } else if r.status.is_failure() {
            self.spent.consecutive_failures += 1;
        } else if r.status != SessionStatus::Skipped {
            self.spent.consecutive_failures = 0;
        }
        self.last_seq = self.last_seq.max(r.seq);
    }
}

/// Forwards the agent's events to the grind observer as progress.
pub(super) struct Relay<'o> {
    pub obs: &'o mut dyn GrindObserver,
    pub seq: u64,
    pub started: Instant,
    pub last_tool: Option<String>,
    /// The agent's pid, once spawned (written down so a later `--resume` can end it).
    pub on_spawn: Box<dyn FnMut(u32) + 'o>,
    /// The session's cost cap, watched on the usage the agent streams.
    pub cost_watch: Option<super::cost_cap::CostWatch>,
    /// The session's token total so far, from the usage the agent streams.
    pub tokens: Option<u64>,
}

impl agent::AgentObserver for Relay<'_> {
    fn on_event(&mut self, e: &AgentEvent) {
        if let Some(message) = self.cost_watch.as_mut().and_then(|w| w.observe(e)) {
            self.obs.event(&GrindEvent::Warning {
                message: format!("session {}: {message}", self.seq),
            });
        }
        let elapsed_ms = self.started.elapsed().as_millis() as u64;
        let (text, tool) = match e {
            AgentEvent::Spawned { pid, .. } => {
                (self.on_spawn)(*pid);
                (None, None)
            }
            AgentEvent::ToolUse { name } => (None, Some(name.clone())),
            AgentEvent::Text { text } => (Some(text.clone()), None),
            AgentEvent::Warning { message } => {
                self.obs.event(&GrindEvent::Warning {
                    message: format!("session {}: {message}", self.seq),
                });
                (None, None)
            }
            AgentEvent::Tick { .. } => (None, None),
            AgentEvent::Usage { tokens: t, .. } | AgentEvent::Result { tokens: t, .. } => {
                let total = super::budget::TokenUsage {
                    input: t.input,
                    output: t.output,
                    cache_read: t.cache_read,
                    cache_write: t.cache_write,
                }
                .budget_total();
                self.tokens = (total > 0).then_some(total).or(self.tokens);
                (None, None)
            }
            _ => return,
        };
        if tool.is_some() {
            self.last_tool = tool;
        }
        self.obs.event(&GrindEvent::Progress {
            seq: self.seq,
            elapsed_ms,
            last_tool: self.last_tool.clone(),
            text,
            tokens: self.tokens,
        });
    }
}
