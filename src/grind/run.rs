//! The session loop: the one module that joins the planner, the agent and the run store.
//!
//! [`grind`] starts a run (or resumes one, recovering a session a killed grind left in flight),
//! then asks the budgets and the scheduler for the next session, runs it (`session.rs`, stage by
//! stage), and goes on until the scheduler is exhausted, a budget trips, the failure limit is
//! reached or the user stops it. It ends with a run commit that carries the run's status and
//! why it stopped. The run's fixed context and its progress are separate values
//! (`context.rs`), passed down explicitly.
//!
//! Everything it has to say goes through a [`GrindObserver`] (house style 4); failures of the
//! work (an agent crash, a red verify command) are session statuses, and only faults of the
//! store, git or our own files come back as `Err` (house style 7).

mod error;
mod open;
pub(super) mod stop;

pub(crate) use error::GrindError;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::context::{Ctx, Progress};
use super::reopen::{self, Refusal};
use super::resume;
use super::session::{self, SessionRun};
use super::slot::Slot;
use crate::agent::{self, Controls};
use crate::clock::{Clock, Entropy};
use crate::git::Repo;
use crate::plan::Plan;
use crate::plan::budget::{BudgetState, Budgets, Decision, Spent, StopReason};
use crate::plan::scheduler::{Pick, SchedulerState};
use crate::rundir::RunDir;
use crate::rundir::lock::RunLock;
use crate::store::{
    RunId, RunMeta, RunStatus, RunStore, RunUpdate, SessionRecord, SessionStatus, StoreError,
};

/// What a grind is asked to do (the CLI builds it from flags, config and the environment).
#[derive(Debug, Clone)]
pub(crate) struct GrindRequest {
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
    pub started_with: Option<crate::plan::started::StartedWith>,
}

/// How the user stops a run from outside: set by the CLI's signal handling.
#[derive(Debug, Clone, Default)]
pub(crate) struct GrindControls {
    /// Ctrl-C once: finish the current session, then stop.
    pub stop_after_session: Arc<AtomicBool>,
    /// Ctrl-C twice or SIGTERM: end the agent now (the session is `aborted`), then stop.
    pub agent: Controls,
}

impl GrindControls {
    pub(super) fn stopping(&self) -> bool {
        self.stop_after_session.load(Ordering::SeqCst) || self.agent.abort_requested()
    }
}

/// Why a run stopped.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub(crate) enum StopCause {
    /// No prompt can run again.
    Exhausted,
    /// A budget or the consecutive-failure limit.
    Budget { reason: StopReason },
    /// The user asked (Ctrl-C, SIGTERM, SIGHUP, `d` in watch). `drained`: no session was cut
    /// short (one Ctrl-C or a drain let the session in progress finish); otherwise
    /// `aborted_session` is the session the user ended. Both are additive to the JSON summary
    /// (`{"cause":"user"}` before), so readers of `cause` alone see what they saw.
    User {
        drained: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        aborted_session: Option<u64>,
        /// Every session the user's abort cut short, when it was more than one (a parallel
        /// run's running sessions); `aborted_session` is the last of them.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        aborted_sessions: Vec<u64>,
        /// Of the aborted sessions, those whose work is saved as a patch in the run ref (the
        /// others had changed nothing); `None` when the run ref could not be read to tell.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        saved_patches: Option<Vec<u64>>,
    },
    /// A usage limit, with `--stop-on-rate-limit` (or a reset past `--until`).
    RateLimited { until: Option<DateTime<Utc>> },
}

impl StopCause {
    /// The user's stop, told apart by whether this grind's last session was cut short
    /// (recorded `aborted`: only the user's abort records a session so).
    pub(super) fn user(ctx: &Ctx, progress: &Progress, first_seq: u64) -> StopCause {
        // Only the user's abort ends a session of this grind as `aborted` (one a `--resume`
        // recovered is at or before `first_seq`); in a parallel run, every one that was running,
        // recorded in seq order among the younger sessions that landed.
        let aborted: Vec<u64> = progress
            .records
            .iter()
            .filter(|r| r.seq > first_seq && r.status == crate::store::SessionStatus::Aborted)
            .map(|r| r.seq)
            .collect();
        // NB: a session that had changed nothing stores no patch, so the stop reason asks the
        // run ref rather than saying "saved as a patch" of every aborted session.
        let saved_patches = ctx.store.open_run(&ctx.run).ok().and_then(|run| {
            aborted
                .iter()
                .map(|&seq| Ok(ctx.store.patch_blob(&run, seq)?.map(|_| seq)))
                .collect::<Result<Vec<_>, StoreError>>()
                .ok()
                .map(|v| v.into_iter().flatten().collect())
        });
        StopCause::User {
            drained: aborted.is_empty(),
            aborted_session: aborted.last().copied(),
            aborted_sessions: if aborted.len() > 1 {
                aborted
            } else {
                Vec::new()
            },
            saved_patches,
        }
    }

    /// The run status this cause leaves behind: `finished` when there is nothing more to do,
    /// `aborted` or `stopped` (both resumable) otherwise.
    pub(crate) fn run_status(&self) -> RunStatus {
        match self {
            StopCause::Exhausted => RunStatus::Finished,
            StopCause::Budget {
                reason: StopReason::Iterations { .. },
            } => RunStatus::Finished,
            StopCause::User { .. } => RunStatus::Aborted,
            StopCause::Budget { .. } | StopCause::RateLimited { .. } => RunStatus::Stopped,
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            StopCause::Exhausted => "scheduler exhausted: no prompt can run again".into(),
            StopCause::Budget { reason } => reason.to_string(),
            // NB: both start "stopped by the user", as every run stopped by the user said
            // before the two were told apart; the status stays `aborted` for both, since
            // other clones and older versions read it.
            StopCause::User {
                aborted_session: Some(seq),
                aborted_sessions,
                saved_patches,
                ..
            } => {
                let aborted = match aborted_sessions.as_slice() {
                    [] => std::slice::from_ref(seq),
                    all => all,
                };
                stop::aborted_reason(aborted, saved_patches.as_deref())
            }
            StopCause::User { .. } => "stopped by the user between sessions (drained: one Ctrl-C \
                                       or `d` in watch; no session was cut short)"
                .into(),
            StopCause::RateLimited { until: Some(t) } => {
                format!("usage limit reached (resets {})", t.to_rfc3339())
            }
            StopCause::RateLimited { until: None } => "usage limit reached".into(),
        }
    }
}

/// What a finished grind reports.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct GrindSummary {
    pub run: RunId,
    pub run_ref: String,
    pub branch: String,
    pub status: RunStatus,
    pub stop: StopCause,
    /// Sessions this grind ran (a resumed run counts only its own).
    pub sessions: u64,
    pub by_status: BTreeMap<String, u64>,
    /// The sessions' token total ([`crate::usage::Tokens::total`]) and its parts.
    pub tokens: u64,
    pub token_parts: crate::usage::Tokens,
    /// The known costs; `unknown_cost_sessions` sessions are not in it.
    pub cost_usd: f64,
    pub unknown_cost_sessions: u64,
    pub wall_seconds: u64,
    /// The worktree left for `--resume`, when the run can go on.
    pub worktree_kept: Option<PathBuf>,
    pub resumed: bool,
    /// What the landing queue did with this grind's sessions (parallel runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub landings: Option<LandingCounts>,
    /// The same counts for the whole run, the sessions of earlier grinds included: what the
    /// stop reason and the session lines' `(run …)` count. Equal to the above on a new run.
    pub run_sessions: u64,
    pub run_by_status: BTreeMap<String, u64>,
    pub run_tokens: u64,
    pub run_token_parts: crate::usage::Tokens,
    pub run_cost_usd: f64,
    pub run_unknown_cost_sessions: u64,
}

/// A parallel grind's landings, by result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct LandingCounts {
    pub landed: u64,
    pub conflict: u64,
    pub verify_failed: u64,
    pub nothing: u64,
}

impl LandingCounts {
    /// Counts the landings of `records` (`None` when none of them has one: a sequential run).
    pub(crate) fn of<'r>(
        records: impl IntoIterator<Item = &'r SessionRecord>,
    ) -> Option<LandingCounts> {
        use crate::store::LandingResult as L;
        let mut c = LandingCounts::default();
        let mut any = false;
        for r in records {
            let Some(l) = r.landing.as_ref() else {
                continue;
            };
            any = true;
            *match l.result {
                L::Landed => &mut c.landed,
                L::Conflict => &mut c.conflict,
                L::VerifyFailed => &mut c.verify_failed,
                // A failed session had work, and it was saved: its status counts it.
                L::Nothing if !landable(r.status) => continue,
                L::Nothing => &mut c.nothing,
            } += 1;
        }
        any.then_some(c)
    }
}

/// Whether a session of this status has its work landed (the others' is saved as a patch).
fn landable(status: SessionStatus) -> bool {
    matches!(status, SessionStatus::Ok | SessionStatus::Dirty)
}

impl GrindSummary {
    /// Whether any session of this grind failed (error or timeout).
    pub(crate) fn had_failures(&self) -> bool {
        ["error", "timeout"]
            .iter()
            .any(|s| self.by_status.get(*s).copied().unwrap_or(0) > 0)
    }
}

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
        /// Sessions that may run at once (1: sequential).
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

/// Starts or resumes a run and grinds until it stops.
pub(crate) fn grind(
    repo: &Repo,
    clock: &dyn Clock,
    entropy: &dyn Entropy,
    plan: &Plan,
    req: &GrindRequest,
    controls: &GrindControls,
    obs: &mut dyn GrindObserver,
) -> Result<GrindSummary, GrindError> {
    let this = ThisGrind {
        started: Instant::now(),
        first_seq: 0,
        resumed: req.resume.is_some(),
    };
    let adapter = session::adapter(&plan.agent, &req.exe);
    let (found, agent_version) = open::check_agent(plan, adapter.as_ref(), repo, req)?;
    let store = RunStore::new(repo, clock, entropy);
    let (lock, opened) = match &req.resume {
        None => open::start(repo, &store, clock, entropy, plan, req, adapter.name())?,
        Some(id) => open::reopen(repo, &store, plan, req, id, clock.now())?,
    };
    let open::Opened {
        run,
        branch,
        mut slot,
        budgets,
        mut progress,
    } = opened;
    let ctx = Ctx {
        repo,
        store,
        clock,
        entropy,
        plan,
        req,
        controls,
        redactor: agent::Redactor::from_env(req.env.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        adapter,
        run,
        branch,
        budgets,
        agent_version,
    };
    // A drain asked of an earlier grind of this run has been honoured: this one goes on.
    let _ = std::fs::remove_file(RunDir::new(repo.common_dir(), &ctx.run).drain());
    announce(&ctx, &slot, found, this.resumed, &progress.spent, obs);
    let ground = (|| {
        if this.resumed {
            session::recover_slots(&ctx, &slot, &mut progress, obs)?;
            session::recover_interrupted(&ctx, &slot, &mut progress, obs)?;
            super::leftovers::save_leftovers(&ctx, &slot, progress.last_seq, obs)?;
        }
        let this = ThisGrind {
            first_seq: progress.last_seq,
            ..this
        };
        // NB: with no prompt allowed beside another, every session would run alone: that is a
        // sequential run (the plan warned), and it runs as one, exactly as before.
        let parallel = ctx.plan.rotation.max_parallel.value > 1
            && ctx.plan.runnable().any(|p| p.prompt.parallel_safe);
        let stop = if parallel {
            super::parallel::run_parallel(&ctx, &slot, &mut progress, this.first_seq, obs)?
        } else {
            run_sessions(&ctx, &mut slot, &mut progress, this.first_seq, obs)?
        };
        stop::finish(&ctx, slot, &progress, this, stop, obs)
    })();
    // The run was taken up (its state says `running`): an error from here on is recorded as
    // how the run stopped, under the lock, so that `ls`/`show` do not call it running (or
    // interrupted) and no `--resume` takes it up half-way through.
    if let Err(e) = &ground {
        stop::record_failure(&ctx, e, obs);
    }
    let summary = ground?;
    // Packing can take a while on a long run: let a `--resume` in first.
    drop(lock);
    repo.maintenance_auto();
    Ok(summary)
}

/// What this grind (not the run, which a resume continues) started with.
pub(super) struct ThisGrind {
    pub(super) started: Instant,
    /// The run's last seq when this grind began its sessions.
    pub(super) first_seq: u64,
    pub(super) resumed: bool,
}

/// The warnings and the event a run starts with.
fn announce(
    ctx: &Ctx,
    slot: &Slot,
    found: Option<PathBuf>,
    resumed: bool,
    spent: &Spent,
    obs: &mut dyn GrindObserver,
) {
    if let (Some(v), Some(tested)) = (&ctx.agent_version, ctx.adapter.tested_version())
        && let Some(message) = agent::version_warning(ctx.adapter.name(), v, tested)
    {
        obs.event(&GrindEvent::Warning { message });
    }
    let plan = ctx.plan;
    obs.event(&GrindEvent::RunStarted {
        run: ctx.run.clone(),
        branch: format!("refs/heads/{}", ctx.branch),
        worktree: slot.path.clone(),
        agent: ctx.adapter.name().to_string(),
        program: match found {
            Some(path) => path.display().to_string(),
            None => plan.agent.program.value.clone(),
        },
        program_from: plan.agent.program.from.to_string(),
        resumed,
        model: plan.agent.model.clone(),
        rotation: plan.rotation.name.clone(),
        limits: Box::new(ctx.budgets.limits.clone()),
        spent_iterations: spent.iterations,
        spent_cost_usd: spent.cost_usd,
        spent_tokens: spent.tokens,
        max_parallel: plan.rotation.max_parallel.value,
    });
}

/// Sessions until something stops the run.
fn run_sessions(
    ctx: &Ctx,
    slot: &mut Slot,
    progress: &mut Progress,
    first_seq: u64,
    obs: &mut dyn GrindObserver,
) -> Result<StopCause, GrindError> {
    loop {
        if ctx.controls.stopping() {
            return Ok(StopCause::user(ctx, progress, first_seq));
        }
        let now = ctx.clock.now();
        if let Decision::Stop(reason) = ctx.budgets.check(&progress.spent, now) {
            return Ok(StopCause::Budget { reason });
        }
        // After the budgets: a drain asked for during the run's last session leaves the run
        // finished by its budget, which is what it is.
        if RunDir::new(ctx.repo.common_dir(), &ctx.run)
            .drain()
            .exists()
        {
            obs.event(&GrindEvent::Warning {
                message: "drained from `git pitboss watch`: stopping".into(),
            });
            // Between sessions: none was cut short.
            return Ok(StopCause::User {
                drained: true,
                aborted_session: None,
                aborted_sessions: Vec::new(),
                saved_patches: None,
            });
        }
        let (prompt, rotation) = match progress.scheduler.next_pick() {
            Pick::Exhausted => return Ok(StopCause::Exhausted),
            Pick::Run {
                prompt, rotation, ..
            } => (prompt, rotation),
        };
        progress.dispatched();
        let done: SessionRun = session::run_one(ctx, slot, progress, &prompt, rotation, obs)?;
        for w in ctx
            .budgets
            .warnings(&progress.spent, ctx.clock.now(), &mut progress.budget_state)
        {
            obs.event(&GrindEvent::Warning { message: w.message });
        }
        if let Some(limit) = done.rate_limit
            && let Some(cause) = stop::wait_for_reset(ctx, &progress.spent, limit, obs)
        {
            return Ok(cause);
        }
    }
}
