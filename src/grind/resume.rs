//! Where a stored run left off: its scheduler state, what its budgets have used, and which
//! budget warnings already fired, read from the run's `state.json` and records.
//!
//! The store keeps the scheduler's state opaque (`state.json` → `"scheduler"`); this module is
//! the one that gives it a type again. It also decides how a resumed run's request is completed
//! ([`prepare`], [`check_plan`]): the run goes on the way it was started (see
//! [`crate::plan::started`]) unless the command line says otherwise; the real run and the dry
//! run both ask here. Budget warnings already shown live next to it, under
//! [`BUDGETS_STATE_KEY`], so a resumed run does not warn twice.

use chrono::{DateTime, Utc};

use crate::git::Repo;
use crate::plan::budget::{BudgetState, Spent};
use crate::plan::scheduler::{SchedulerError, SchedulerState};
use crate::plan::started::{Overridden, StartedWith};
use crate::plan::{Plan, PlanRequest, RotationChoice};
use crate::store::{Run, RunId, SessionRecord};

/// The `state.json` key (beside `"scheduler"`) that holds the [`BudgetState`].
pub(crate) const BUDGETS_STATE_KEY: &str = "budgets";
/// The `state.json` key of a parallel run's dispatched, not yet recorded sessions (their seqs).
pub(crate) const IN_FLIGHT_STATE_KEY: &str = "in_flight";

/// Everything a resumed run starts from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct ResumePoint {
    pub run: String,
    pub status: String,
    pub stop_reason: Option<String>,
    pub started_at: DateTime<Utc>,
    pub sessions: u64,
    pub rotation: Option<String>,
    pub base_branch: Option<String>,
    pub base_commit: Option<String>,
    #[serde(skip)]
    pub scheduler: SchedulerState,
    #[serde(skip)]
    pub budget_state: BudgetState,
    #[serde(serialize_with = "spent_json")]
    pub spent: Spent,
}

fn spent_json<S: serde::Serializer>(s: &Spent, ser: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = ser.serialize_map(Some(4))?;
    m.serialize_entry("iterations", &s.iterations)?;
    m.serialize_entry("tokens", &s.tokens)?;
    m.serialize_entry("cost_usd", &s.cost_usd)?;
    m.serialize_entry("consecutive_failures", &s.consecutive_failures)?;
    m.end()
}

/// Why a stored run cannot be resumed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ResumeError {
    #[error("run {run}: {source}")]
    Scheduler {
        run: String,
        #[source]
        source: SchedulerError,
    },
    #[error("run {run}: the stored budget state cannot be read: {why}")]
    Budgets { run: String, why: String },
}

/// Reads where `run` left off; `records` are its sessions in seq order. What its budgets have
/// used is counted from the records by the rule a live grind counts by ([`super::spent`]).
pub(crate) fn resume_point(
    run: &Run,
    records: &[SessionRecord],
) -> Result<ResumePoint, ResumeError> {
    let id = run.id.to_string();
    let scheduler = SchedulerState::from_json(&run.state.scheduler).map_err(|source| {
        ResumeError::Scheduler {
            run: id.clone(),
            source,
        }
    })?;
    let budget_state = match run.state.extra.get(BUDGETS_STATE_KEY) {
        None | Some(serde_json::Value::Null) => BudgetState::default(),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| ResumeError::Budgets {
            run: id.clone(),
            why: e.to_string(),
        })?,
    };
    let consumed = &run.state.consumed;
    Ok(ResumePoint {
        run: id,
        status: run.state.status.to_string(),
        stop_reason: run.state.stop_reason.clone(),
        started_at: run.state.started_at,
        sessions: consumed.sessions,
        rotation: run.meta.rotation.clone(),
        base_branch: run.meta.base_branch.clone(),
        base_commit: run.meta.base_commit_text(),
        scheduler,
        budget_state,
        spent: super::spent::from_records(records, run.state.stop_reason.as_deref()),
    })
}

/// Why a run cannot be resumed with this command line. Each is something the user can change
/// (exit 4); the CLI adds the flags to give.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ResumeRefusal {
    /// The run was started with a secret `run.json` keeps redacted, and this clone (which did
    /// not start it) has no copy: `was` is each flag with its redacted value, `flags` the flags.
    #[error(
        "run {run} was started with {}: the secret in it is not kept in the run (runs are pushed), \
         and this clone, which did not start the run, has no copy of it",
        was.join(" and ")
    )]
    Redacted {
        run: RunId,
        was: Vec<String>,
        flags: Vec<String>,
    },
    /// Nothing on the command line asked for another agent than the run's own.
    #[error("run {run} was started with the {was} agent; resuming it would use the {now} agent")]
    OtherAgent {
        run: RunId,
        was: String,
        now: String,
    },
}

/// How a resumed run's request was completed.
#[derive(Debug, Default)]
pub(crate) struct Resumed {
    pub started: Option<StartedWith>,
    pub overridden: Vec<Overridden>,
    /// `--agent` or `--agent-cmd` was given on this command line.
    agent_given: bool,
}

/// Fills `req` from how `run` was started, where the command line left it unset: from this
/// clone's own copy of the start when it has one, else from `run.json`, whose values are
/// redacted; a redacted value the command line does not give again is refused.
pub(crate) fn prepare(
    repo: &Repo,
    run: &Run,
    req: &mut PlanRequest,
) -> Result<Resumed, ResumeRefusal> {
    let agent_given = req.agent.backend.is_some() || req.agent.command.is_some();
    let local = StartedWith::read_local(repo.common_dir(), &run.id);
    let from_run_json = local.is_none();
    let started = local.or_else(|| StartedWith::read(&run.meta));
    let overridden = started.as_ref().map(|s| s.apply(req)).unwrap_or_default();
    if let Some(s) = started.as_ref().filter(|_| from_run_json) {
        refuse_redacted(run, s, &overridden)?;
    }
    // The rotation the run used, however it was chosen (`--rotation`, `default_rotation`, the
    // default file), unless told otherwise: a config changed since does not switch it.
    if let (None, Some(name)) = (&req.rotation, &run.meta.rotation) {
        req.rotation = Some(RotationChoice::Name(name.clone()));
    }
    Ok(Resumed {
        started,
        overridden,
        agent_given,
    })
}

/// Refuses a resume that would take a redacted value from `run.json` (a clone that did not
/// start the run has only those).
fn refuse_redacted(
    run: &Run,
    s: &StartedWith,
    overridden: &[Overridden],
) -> Result<(), ResumeRefusal> {
    let missing: Vec<(&str, String)> = s
        .redacted_flags()
        .into_iter()
        .filter(|(flag, _, _)| !overridden.iter().any(|o| o.replaces(flag)))
        .map(|(_, shown, was)| (shown, was))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(ResumeRefusal::Redacted {
        run: run.id.clone(),
        was: missing.iter().map(|(f, v)| format!("{f} {v:?}")).collect(),
        flags: missing.iter().map(|(f, _)| f.to_string()).collect(),
    })
}

/// Applies the kept model to the plan, and refuses to go on with another agent than the run's
/// own when nothing on the command line asked for it.
pub(crate) fn check_plan(r: &Resumed, run: &Run, plan: &mut Plan) -> Result<(), ResumeRefusal> {
    if let Some(s) = &r.started {
        s.apply_model(plan);
    }
    let now = plan.agent.backend.value.as_str();
    if let Some(was) = &run.meta.agent
        && !r.agent_given
        && was != now
    {
        return Err(ResumeRefusal::OtherAgent {
            run: run.id.clone(),
            was: was.clone(),
            now: now.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{RunId, RunMeta, RunState};

    fn record(seq: u64, status: &str) -> SessionRecord {
        SessionRecord::builder()
            .seq(seq)
            .status(status.parse().unwrap())
            .tokens(10, 5)
            .cost(0.5)
            .build()
    }

    #[test]
    fn reads_scheduler_and_budget_state() {
        let t = DateTime::parse_from_rfc3339("2026-11-24T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let id = RunId::parse("20261124T090000Z-abcd").unwrap();
        let mut state = RunState::new(t);
        let sched = SchedulerState {
            rotation: 4,
            picks: 6,
            ..Default::default()
        };
        state.scheduler = sched.to_json();
        state.extra.insert(
            BUDGETS_STATE_KEY.into(),
            serde_json::json!({"warned": ["cost"]}),
        );
        let records = [record(1, "ok"), record(2, "error")];
        state.consumed = crate::store::Consumed::from_records(&records);
        state.consumed.tokens.cache_read = 100;
        let mut meta = RunMeta::minimal(id.clone(), t);
        meta.rotation = Some("nightly".into());
        let run = Run {
            id,
            tip: crate::git::Oid::zero(),
            meta,
            state,
        };
        let p = resume_point(&run, &records).unwrap();
        assert_eq!(p.scheduler, sched);
        assert!(
            p.budget_state
                .warned
                .contains(&crate::plan::budget::BudgetKind::Cost)
        );
        assert_eq!(
            (
                p.spent.iterations,
                p.spent.tokens,
                p.spent.consecutive_failures
            ),
            (2, 30, 1),
            "counted from the records (not state.json's sums), the failure streak going on"
        );
        assert!((p.spent.cost_usd - 1.0).abs() < 1e-9);
        assert_eq!(p.rotation.as_deref(), Some("nightly"));

        let mut bad = run.clone();
        bad.state.scheduler = serde_json::json!({"rotation": "four"});
        let e = resume_point(&bad, &records).unwrap_err().to_string();
        assert!(
            e.starts_with("run 20261124T090000Z-abcd: the stored scheduler state"),
            "{e}"
        );
    }
}
