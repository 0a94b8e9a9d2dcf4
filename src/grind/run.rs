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
    pub tokens: u64,
    pub cost_usd: f64,
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
        resumed: bool,
    },
    SessionStarted {
        seq: u64,
        prompt: String,
        rotation: u64,
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
    },
    SessionFinished {
        record: Box<SessionRecord>,
        patch_saved: bool,
        /// Cost of the run so far.
        run_cost_usd: f64,
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
    /// The run branch, as the run records it.
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
    let agent_version = check_agent(plan, adapter.as_ref(), repo, req)?;
    let store = RunStore::new(repo, clock, entropy);
    let redactor = agent::Redactor::from_env(req.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let resumed = req.resume.is_some();
    let (lock, p) = match &req.resume {
        None => start(repo, &store, clock, entropy, plan, req, adapter.name())?,
        Some(id) => reopen(repo, &store, plan, req, id, clock.now())?,
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
    };
    if let (Some(v), Some(tested)) = (&agent_version, lp.adapter.tested_version())
        && let Some(message) = agent::version_warning(lp.adapter.name(), v, tested)
    {
        obs.event(&GrindEvent::Warning { message });
    }
    lp.agent_version = agent_version;
    obs.event(&GrindEvent::RunStarted {
        run: run.clone(),
        branch: lp.branch.clone(),
        worktree: lp.slot.path.clone(),
        agent: lp.adapter.name().to_string(),
        resumed,
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

/// Refuses before anything is written when the agent's program is not there, or (for agents
/// whose stream does not say their version) does not answer `--version`; returns that version.
fn check_agent(
    plan: &Plan,
    adapter: &dyn agent::Adapter,
    repo: &Repo,
    req: &GrindRequest,
) -> Result<Option<String>, GrindError> {
    if plan.agent.binary().is_none() {
        return Ok(None);
    }
    let cwd = repo.workdir().unwrap_or(repo.common_dir()).to_path_buf();
    let path = req.env.get("PATH").map(std::ffi::OsString::from);
    let Some(found) = agent::locate(adapter.program(), path.as_deref(), &cwd) else {
        return Err(GrindError::AgentMissing(format!(
            "agent program `{}` not found (install it, set `binary` in [agent] of .pitboss/config.toml, or pass --agent-cmd)",
            adapter.program().display()
        )));
    };
    if !adapter.probes_version() {
        return Ok(None);
    }
    agent::probe_version(&found, &cwd, VERSION_PROBE_TIMEOUT)
        .map(Some)
        .map_err(|e| {
            GrindError::AgentMissing(format!(
                "the {} agent does not start: {e} (reinstall it; `git pitboss agents` shows what would run)",
                adapter.name()
            ))
        })
}

/// How long an agent may take to print its version before a run.
const VERSION_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// Where a run stands when the loop takes it up: new, or read back from its ref.
struct Progress {
    run: RunId,
    branch: String,
    slot: Slot,
    scheduler: Scheduler,
    budgets: Budgets,
    budget_state: BudgetState,
    spent: Spent,
    records: Vec<SessionRecord>,
    last_seq: u64,
    scratchpad: String,
}

/// A new run: its branch, its ref, its worktree.
fn start(
    repo: &Repo,
    store: &RunStore<'_>,
    clock: &dyn Clock,
    entropy: &dyn Entropy,
    plan: &Plan,
    req: &GrindRequest,
    agent_name: &str,
) -> Result<(RunLock, Progress), GrindError> {
    let base = repo.resolve_base(req.base.as_deref())?;
    let now = clock.now();
    let mut id = RunId::generate(now, entropy);
    while store.exists(&id)? || repo.branch_tip(&id.branch_name())?.is_some() {
        id = RunId::generate(now, entropy);
    }
    let lock = RunLock::acquire(repo.common_dir(), id.as_str(), req.pid)?;
    let branch = id.branch_name();
    let mut meta = RunMeta::minimal(id.clone(), now);
    meta.base_branch = base.branch.clone();
    meta.base_commit = Some(base.commit.to_string());
    meta.branch = Some(branch.clone());
    meta.agent = Some(agent_name.to_string());
    meta.rotation = plan.rotation.name.clone();
    if let Some(s) = &req.started_with {
        meta.extra
            .insert(super::started::STARTED_WITH_KEY.to_string(), s.to_json());
    }
    for p in plan.runnable() {
        let digest = std::fs::read(&p.prompt.path)
            .map(|b| crate::git::blob_id(&b))
            .unwrap_or_default();
        meta.prompts.insert(p.name().to_string(), digest);
    }
    // The branch first: if it cannot be made, no run ref is left behind.
    if repo.branch_tip(&branch)?.is_some() {
        return Err(GrindError::BranchExists(branch));
    }
    repo.create_branch(&branch, base.commit)?;
    store.create_run(meta)?;
    let slot = Slot::open(repo, &id, &branch)?;
    let scheduler = plan.scheduler(SchedulerState::default())?;
    let budgets = plan.budgets(now);
    let p = Progress {
        run: id,
        branch,
        slot,
        scheduler,
        budgets,
        budget_state: BudgetState::default(),
        spent: Spent::default(),
        records: Vec::new(),
        last_seq: 0,
        scratchpad: String::new(),
    };
    Ok((lock, p))
}

/// A stopped run, read back from its ref, its worktree taken up again.
fn reopen(
    repo: &Repo,
    store: &RunStore<'_>,
    plan: &Plan,
    req: &GrindRequest,
    id: &RunId,
    now: DateTime<Utc>,
) -> Result<(RunLock, Progress), GrindError> {
    let lock = RunLock::acquire(repo.common_dir(), id.as_str(), req.pid)?;
    let run = store.open_run(id)?;
    // Everything that can refuse is checked before the first write: a resume that cannot
    // start leaves the run ref as it was.
    let branch = reopen::check_branch(repo, &run)?.map_err(GrindError::Refused)?;
    let records = store.records(&run)?;
    let scratchpad = store.scratchpad(&run)?;
    let point = resume::resume_point(&run, &records)?;
    let scheduler = plan.scheduler(point.scheduler.clone())?;
    let budgets = plan.budgets(point.started_at);
    if let Decision::Stop(reason) = budgets.check(&point.spent, now) {
        return Err(GrindError::Refused(Refusal::BudgetSpent {
            run: id.clone(),
            reason,
        }));
    }
    if scheduler.is_exhausted() {
        return Err(GrindError::Refused(Refusal::Exhausted { run: id.clone() }));
    }
    let slot = Slot::open(repo, id, &branch)?;
    store.update_run(
        id,
        RunUpdate {
            subject: format!("run {id} resumed"),
            status: Some(RunStatus::Running),
            stop_reason: Some(None),
            ..Default::default()
        },
    )?;
    let p = Progress {
        run: id.clone(),
        branch,
        slot,
        scheduler,
        budgets,
        budget_state: point.budget_state.clone(),
        spent: point.spent,
        last_seq: run.state.last_session_seq,
        records,
        scratchpad,
    };
    Ok((lock, p))
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

    /// Waits out a usage limit (bounded by `--until`), or says why the run must stop.
    fn wait_for_reset(
        &mut self,
        until: Option<DateTime<Utc>>,
        obs: &mut dyn GrindObserver,
    ) -> Option<StopCause> {
        let stop = StopCause::RateLimited { until };
        if self.req.stop_on_rate_limit {
            return Some(stop);
        }
        let Some(reset) = until else {
            // No reset time (an API 429): wait a minute, as such an answer asks, then go on.
            return self.sleep_until(
                self.clock.now() + chrono::Duration::seconds(60),
                "usage limit (no reset time given)",
                obs,
            );
        };
        if let Some(deadline) = self.budgets.limits.until
            && reset >= deadline
        {
            // Waiting would outlast the time budget: stop now, resumable.
            return Some(stop);
        }
        self.sleep_until(reset, "usage limit", obs)
    }

    fn sleep_until(
        &mut self,
        until: DateTime<Utc>,
        reason: &str,
        obs: &mut dyn GrindObserver,
    ) -> Option<StopCause> {
        obs.event(&GrindEvent::Waiting {
            until,
            reason: reason.to_string(),
        });
        while self.clock.now() < until {
            if self.controls.stopping() {
                return Some(StopCause::User);
            }
            let left = (until - self.clock.now()).to_std().unwrap_or_default();
            std::thread::sleep(left.min(Duration::from_millis(200)));
        }
        None
    }

    /// The final run commit, the worktree, and the summary.
    fn finish(
        self,
        stop: StopCause,
        first_seq: u64,
        started: Instant,
        resumed: bool,
        obs: &mut dyn GrindObserver,
    ) -> Result<GrindSummary, GrindError> {
        let status = stop.run_status();
        let why = stop.describe();
        self.store.update_run(
            &self.run,
            RunUpdate {
                subject: format!("run {} finished: {status} ({why})", self.run),
                status: Some(status.clone()),
                stop_reason: Some(Some(why)),
                scheduler: Some(self.scheduler.state().to_json()),
                state_extra: self.state_extra(),
                ..Default::default()
            },
        )?;
        let worktree_kept = if status == RunStatus::Finished {
            self.slot.remove(self.repo)?;
            let _ = std::fs::remove_dir_all(self.slot.run_dir());
            None
        } else {
            // Every session ends clean (its work landed or saved), so the worktree is ready.
            Some(self.slot.path.clone())
        };
        let mine: Vec<&SessionRecord> = self.records.iter().filter(|r| r.seq > first_seq).collect();
        let mut by_status = BTreeMap::new();
        let (mut tokens, mut cost) = (0u64, 0f64);
        for r in &mine {
            *by_status.entry(r.status.as_str().to_string()).or_insert(0) += 1;
            tokens += r.tokens.input + r.tokens.output + r.tokens.cache_read + r.tokens.cache_write;
            cost += r.cost_usd;
        }
        let summary = GrindSummary {
            run: self.run.clone(),
            run_ref: self.run.ref_name(),
            branch: self.branch.clone(),
            status,
            stop,
            sessions: mine.len() as u64,
            by_status,
            tokens,
            cost_usd: cost,
            wall_seconds: started.elapsed().as_secs(),
            worktree_kept,
            resumed,
        };
        obs.event(&GrindEvent::RunFinished {
            summary: Box::new(summary.clone()),
        });
        Ok(summary)
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
}

impl agent::AgentObserver for Relay<'_> {
    fn on_event(&mut self, e: &AgentEvent) {
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
        });
    }
}
