//! Taking a run up: a new one (run branch, run ref, slot worktree) or a stored one read back from
//! its ref, after every check that can refuse it, so a run that cannot start writes nothing.

use super::*;
use crate::git::BranchName;
use crate::grind::context::{Progress, Warned};
use crate::plan::at_start::{Standing, budgets_at_start};

/// Refuses before anything is written when the agent's program is not there, or (for agents
/// whose stream does not say their version) does not answer `--version`; returns where the
/// program was found and that version.
pub(super) fn check_agent(
    plan: &Plan,
    adapter: &dyn agent::Adapter,
    repo: &Repo,
    req: &GrindRequest,
) -> Result<(Option<PathBuf>, Option<String>), GrindError> {
    if plan.agent.binary().is_none() {
        return Ok((None, None));
    }
    let cwd = repo.workdir().unwrap_or(repo.common_dir()).to_path_buf();
    let path = req.env.get("PATH").map(std::ffi::OsString::from);
    let Some(found) = agent::locate(adapter.program(), path.as_deref(), &cwd) else {
        return Err(GrindError::AgentNotFound {
            program: adapter.program().to_path_buf(),
        });
    };
    if !adapter.probes_version() {
        return Ok((Some(found), None));
    }
    agent::probe_version(&found, &cwd, VERSION_PROBE_TIMEOUT)
        .map(|v| (Some(found.clone()), Some(v)))
        .map_err(|why| GrindError::AgentDoesNotStart {
            agent: adapter.name().to_string(),
            why,
        })
}

/// How long an agent may take to print its version before a run.
const VERSION_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// A run as the loop takes it up: new, or read back from its ref.
pub(super) struct Opened {
    pub(super) run: RunId,
    pub(super) branch: BranchName,
    pub(super) slot: Slot,
    pub(super) budgets: Budgets,
    pub(super) progress: Progress,
}

/// A new run: its branch, its ref, its worktree.
pub(super) fn start(
    repo: &Repo,
    store: &RunStore<'_>,
    clock: &dyn Clock,
    entropy: &dyn Entropy,
    plan: &Plan,
    req: &GrindRequest,
    agent_name: &str,
) -> Result<(RunLock, Opened), GrindError> {
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
    meta.base_commit = Some(base.commit);
    meta.branch = Some(id.branch_ref().into());
    meta.agent = Some(agent_name.to_string());
    meta.rotation = plan.rotation.name.clone();
    if let Some(s) = &req.started_with {
        // `run.json` is pushed: it keeps the start redacted, and this clone keeps it as given.
        let redactor = agent::Redactor::from_env(req.env.iter().map(|(k, v)| (&**k, &**v)));
        meta.extra.insert(
            crate::plan::started::STARTED_WITH_KEY.to_string(),
            s.redacted(&redactor).to_json(),
        );
        s.save_local(repo.common_dir(), &id)
            .map_err(GrindError::io("cannot keep how the run started"))?;
    }
    for p in plan.runnable() {
        let digest = std::fs::read(&p.prompt.path)
            .map(|b| crate::git::blob_id(&b))
            .unwrap_or_default();
        meta.prompts.insert(p.name().to_string(), digest);
    }
    // The branch first: if it cannot be made, no run ref is left behind.
    if repo.branch_tip(&branch)?.is_some() {
        return Err(GrindError::BranchExists(branch.to_string()));
    }
    repo.create_branch(&branch, base.commit)?;
    store.create_run(meta)?;
    let slot = Slot::open(repo, &id, &branch)?;
    let scheduler = plan.scheduler(SchedulerState::default())?;
    let budgets = plan.budgets(now);
    let p = Opened {
        run: id,
        branch,
        slot,
        budgets,
        progress: Progress {
            scheduler,
            budget_state: BudgetState::default(),
            spent: Spent::default(),
            records: Vec::new(),
            last_seq: 0,
            scratchpad: String::new(),
            warned: Warned::default(),
            in_flight: None,
        },
    };
    Ok((lock, p))
}

/// A stopped run, read back from its ref, its worktree taken up again.
pub(super) fn reopen(
    repo: &Repo,
    store: &RunStore<'_>,
    plan: &Plan,
    req: &GrindRequest,
    id: &RunId,
    now: DateTime<Utc>,
) -> Result<(RunLock, Opened), GrindError> {
    let lock = RunLock::acquire(repo.common_dir(), id.as_str(), req.pid)?;
    let run = store.open_run(id)?;
    // Everything that can refuse is checked before the first write: a resume that cannot
    // start leaves the run ref as it was.
    let (branch, source) = reopen::check_branch(repo, store, &run)?;
    let records = store.records(&run)?;
    let scratchpad = store.scratchpad(&run)?;
    let point = resume::resume_point(&run, &records)?;
    let scheduler = plan.scheduler(point.scheduler.clone())?;
    // The one answer the dry run gives too (`plan::at_start`).
    let standing = Standing {
        started_at: point.started_at,
        spent: &point.spent,
        fired: None,
    };
    if let Some(reason) = budgets_at_start(plan, standing, now).stop {
        return Err(GrindError::Refused(Refusal::BudgetSpent {
            run: id.clone(),
            reason,
        }));
    }
    if scheduler.is_exhausted() {
        return Err(GrindError::Refused(Refusal::Exhausted { run: id.clone() }));
    }
    let budgets = plan.budgets(point.started_at);
    // The branch the run records, taken from a remote's copy when this clone lacks it: the
    // first write, once nothing can refuse.
    crate::grind::branch::take_up(repo, store, id, &branch.ref_name(), &source)?;
    let slot = Slot::open(repo, id, &branch)?;
    store.update_run(
        id,
        RunUpdate {
            subject: format!("run {id} resumed"),
            status: Some(RunStatus::Running),
            stop_reason: Some(None),
            // The limits this grind runs with, for the views ([`crate::plan::in_force`]).
            state_extra: [(
                crate::plan::in_force::LIMITS_STATE_KEY.to_string(),
                crate::plan::in_force::to_state(&budgets.limits),
            )]
            .into(),
            ..Default::default()
        },
    )?;
    let p = Opened {
        run: id.clone(),
        branch,
        slot,
        budgets,
        progress: Progress {
            scheduler,
            budget_state: point.budget_state.clone(),
            spent: point.spent,
            last_seq: run.state.last_session_seq,
            records,
            scratchpad,
            warned: Warned::default(),
            in_flight: None,
        },
    };
    Ok((lock, p))
}
