//! Everything `grind` decides before it runs an agent: prompts, rotations, the scheduler and
//! budgets, and the session loop ([`run::grind`]) that joins `agent` and `store`.
//!
//! How a loop uses it:
//!
//! 1. [`plan::plan`] resolves config, prompts, rotation and command line into a [`Plan`]
//!    (every effective value with its [`plan::Origin`]), or every problem found.
//! 2. [`Plan::scheduler`] builds the [`Scheduler`] from a [`SchedulerState`] (default for a new
//!    run; [`resume::resume_point`] reads a stored one). [`Scheduler::next_pick`] says which
//!    prompt runs next (or that none ever can); [`Scheduler::record_outcome`] feeds the
//!    back-off; [`SchedulerState::to_json`] is what goes into `state.json`'s `"scheduler"`.
//! 3. [`Plan::budgets`] gives the [`Budgets`]: [`Budgets::check`] before each dispatch (with
//!    sessions in flight counted in [`Spent::iterations`]), [`Budgets::session_limit`] and
//!    [`Budgets::session_cost_limit`] for each session ([`plan::PlannedPrompt::session_budget`]),
//!    and [`Budgets::warnings`] after each session, whose [`BudgetState`] goes into `state.json`
//!    under [`resume::BUDGETS_STATE_KEY`].
//!
//! Everything here is pure apart from reading the settings files: no git, no clock, no
//! processes, no terminal.

pub mod agents;
pub mod branch;
pub mod compose;
mod context;
mod leftovers;
pub mod lock;
pub mod preflight;
pub mod reopen;
pub mod resume;
pub mod run;
pub mod scaffold;
mod session;
pub mod slot;
pub mod started;
pub mod sweep;
