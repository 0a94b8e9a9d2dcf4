//! What the stages of a session share, split by who may change it.
//!
//! - [`Ctx`]: the run as it was taken up (repository, store, plan, agent adapter, run id and
//!   branch, budgets). Fixed from then on and borrowed read-only by every stage, so that several
//!   sessions could one day run against one context.
//! - [`Progress`]: what the run's sessions have done so far (scheduler, spent budgets, records,
//!   scratchpad). Read when a session is prepared, changed only when one is recorded.
//! - The [`Slot`](super::slot::Slot) a session works in, and the session itself
//!   ([`super::session`]), are values of their own, passed to the stages that need them.

use std::collections::{BTreeMap, BTreeSet};

use super::request::{GrindControls, GrindRequest};
use super::resume::{BUDGETS_STATE_KEY, IN_FLIGHT_STATE_KEY};
use crate::agent::{Adapter, Redactor};
use crate::clock::{Clock, Entropy};
use crate::git::{BranchName, Repo};
use crate::plan::{BudgetState, Budgets, Plan, Scheduler, Spent};
use crate::store::{RunId, RunStore, SessionRecord};

/// The run, fixed once it is taken up.
pub(super) struct Ctx<'a> {
    pub(super) repo: &'a Repo,
    pub(super) store: RunStore<'a>,
    pub(super) clock: &'a dyn Clock,
    pub(super) entropy: &'a dyn Entropy,
    pub(super) plan: &'a Plan,
    pub(super) req: &'a GrindRequest,
    pub(super) controls: &'a GrindControls,
    pub(super) adapter: Box<dyn Adapter>,
    pub(super) redactor: Redactor,
    pub(super) run: RunId,
    /// The run branch's short name (`pitboss/<id>`, or what an older run recorded).
    pub(super) branch: BranchName,
    pub(super) budgets: Budgets,
    /// The agent's `--version`, for agents whose stream does not say it.
    pub(super) agent_version: Option<String>,
}

/// What the run's sessions have done so far.
#[derive(Debug, Clone)]
pub(super) struct Progress {
    pub(super) scheduler: Scheduler,
    pub(super) budget_state: BudgetState,
    pub(super) spent: Spent,
    /// The run's records so far (recent ones go into each session's input).
    pub(super) records: Vec<SessionRecord>,
    pub(super) last_seq: u64,
    /// The scratchpad as of the run's tip (what the next session starts from).
    pub(super) scratchpad: String,
    /// Warnings given once per run.
    pub(super) warned: Warned,
    /// Sessions of a parallel run dispatched (their prompt picked, which the scheduler state
    /// of the next append holds) but not yet recorded. Kept in `state.json`, so a `--resume`
    /// after a crash knows which orphaned sessions' picks it must not make again.
    /// `None` in sequential runs, which leave the key out.
    pub(super) in_flight: Option<Vec<u64>>,
}

/// Warnings a run gives once.
#[derive(Debug, Clone, Default)]
pub(super) struct Warned {
    /// Models already warned about as missing from the price table.
    pub(super) unpriced: BTreeSet<String>,
    /// Whether the "--max-cost cannot see a session of unknown cost" warning has fired.
    pub(super) cost_blind: bool,
}

impl Progress {
    /// What goes into `state.json` beside the scheduler: the budgets' fired warnings.
    pub(super) fn state_extra(&self) -> BTreeMap<String, serde_json::Value> {
        let mut m = BTreeMap::new();
        m.insert(
            BUDGETS_STATE_KEY.to_string(),
            serde_json::to_value(&self.budget_state)
                .expect("the budget state is plain data, which always serialises"),
        );
        if let Some(seqs) = &self.in_flight {
            m.insert(IN_FLIGHT_STATE_KEY.to_string(), seqs.clone().into());
        }
        m
    }

    /// Counts a recorded session against the budgets and the failure limit (its iteration was
    /// counted when it was dispatched), by the one rule a resume counts by ([`super::spent`]).
    pub(super) fn count(&mut self, r: &SessionRecord) {
        super::spent::settled(&mut self.spent, r);
        self.last_seq = self.last_seq.max(r.seq);
    }

    /// Counts a session dispatched: one iteration, whatever its end.
    pub(super) fn dispatched(&mut self) {
        super::spent::dispatched(&mut self.spent);
    }
}

/// What a session thread of a parallel run needs of the [`Ctx`]: everything but the repository
/// handles, which git2 does not share across threads. Each thread opens the repository itself
/// and makes a [`Ctx`] of its own with [`Shared::ctx`].
pub(super) struct Shared<'a> {
    pub(super) clock: &'a dyn Clock,
    pub(super) entropy: &'a dyn Entropy,
    pub(super) plan: &'a Plan,
    pub(super) req: &'a GrindRequest,
    pub(super) controls: &'a GrindControls,
    pub(super) redactor: Redactor,
    pub(super) run: RunId,
    pub(super) branch: BranchName,
    pub(super) budgets: Budgets,
    pub(super) agent_version: Option<String>,
}

impl<'a> Ctx<'a> {
    pub(super) fn shared(&self) -> Shared<'a> {
        Shared {
            clock: self.clock,
            entropy: self.entropy,
            plan: self.plan,
            req: self.req,
            controls: self.controls,
            redactor: self.redactor.clone(),
            run: self.run.clone(),
            branch: self.branch.clone(),
            budgets: self.budgets.clone(),
            agent_version: self.agent_version.clone(),
        }
    }
}

impl Shared<'_> {
    /// A context on `repo` (this thread's handle on the run's repository).
    pub(super) fn ctx<'b>(&'b self, repo: &'b Repo) -> Ctx<'b> {
        Ctx {
            repo,
            store: RunStore::new(repo, self.clock, self.entropy),
            clock: self.clock,
            entropy: self.entropy,
            plan: self.plan,
            req: self.req,
            controls: self.controls,
            adapter: super::agents::adapter(&self.plan.agent, &self.req.exe),
            redactor: self.redactor.clone(),
            run: self.run.clone(),
            branch: self.branch.clone(),
            budgets: self.budgets.clone(),
            agent_version: self.agent_version.clone(),
        }
    }
}
