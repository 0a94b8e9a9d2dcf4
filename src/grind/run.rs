//! The session loop: the one module that joins the planner, the agent and the run store.
//!
//! [`grind`] starts a run (or resumes one, recovering the sessions a killed grind left in
//! flight), then hands it to the one dispatcher (`dispatch.rs`, for one slot or many), which
//! asks the budgets and the scheduler for the next session, runs it (`session.rs`, stage by
//! stage), and goes on until the scheduler is exhausted, a budget trips, the failure limit is
//! reached or the user stops it. It ends with a run commit that carries the run's status and
//! why it stopped. The run's fixed context and its progress are separate values
//! (`context.rs`), passed down explicitly.
//!
//! Everything it has to say goes through a [`GrindObserver`] (house style 4); failures of the
//! work (an agent crash, a red verify command) are session statuses, and only faults of the
//! store, git or our own files come back as `Err` (house style 7).

mod open;
pub(super) mod stop;

use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::context::{Ctx, Progress};
use super::error::{GrindError, Refusal};
use super::event::{GrindEvent, GrindObserver};
use super::reopen;
use super::request::{GrindControls, GrindRequest};
use super::resume;
use super::session;
use super::slot::Slot;
use super::summary::{GrindSummary, LandingCounts, StopCause};
use crate::agent;
use crate::clock::{Clock, Entropy};
use crate::git::Repo;
use crate::plan::Plan;
use crate::plan::budget::{BudgetState, Budgets, Spent, StopReason};
use crate::plan::scheduler::SchedulerState;
use crate::rundir::RunDir;
use crate::rundir::lock::RunLock;
use crate::store::{RunId, RunMeta, RunStatus, RunStore, RunUpdate, SessionRecord};

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
    let adapter = super::agents::adapter(&plan.agent, &req.exe);
    let (found, agent_version) = open::check_agent(plan, adapter.as_ref(), repo, req)?;
    let store = RunStore::new(repo, clock, entropy);
    let (lock, opened) = match &req.resume {
        None => open::start(repo, &store, clock, entropy, plan, req, adapter.name())?,
        Some(id) => open::reopen(repo, &store, plan, req, id, clock.now())?,
    };
    let open::Opened {
        run,
        branch,
        slot,
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
    announce(&ctx, &slot, found, this.resumed, &progress, obs);
    let ground = (|| {
        if this.resumed {
            session::recover(&ctx, &slot, &mut progress, obs)?;
            super::leftovers::save_leftovers(&ctx, &slot, progress.last_seq, obs)?;
        }
        let this = ThisGrind {
            first_seq: progress.last_seq,
            ..this
        };
        let (stop, slot) = super::dispatch::run(&ctx, slot, &mut progress, this.first_seq, obs)?;
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
    progress: &Progress,
    obs: &mut dyn GrindObserver,
) {
    let spent = &progress.spent;
    let unknown = crate::store::Consumed::from_records(progress.records.iter());
    if let (Some(v), Some(tested)) = (&ctx.agent_version, ctx.adapter.tested_version())
        && let Some(message) = agent::version_warning(ctx.adapter.name(), v, tested)
    {
        obs.event(&GrindEvent::Warning { message });
    }
    let plan = ctx.plan;
    obs.event(&GrindEvent::RunStarted {
        run: ctx.run.clone(),
        branch: ctx.branch.ref_name().to_string(),
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
        spent_unknown_cost_sessions: unknown.unknown_cost_sessions,
        max_parallel: plan.slots(),
    });
}
