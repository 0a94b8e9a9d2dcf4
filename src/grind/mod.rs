//! The engine: runs the sessions a [`crate::plan::Plan`] describes, joining the agent adapters
//! ([`crate::agent`]) and the run store ([`crate::store`]) in a real repository. Everything
//! that touches git, processes or the clock for a run is here; what a run *would* do is decided
//! by the pure planner in [`crate::plan`].
//!
//! - [`run::grind`] takes a run up ([`run`]: new, or resumed after [`reopen`]'s checks), hands
//!   it to the one dispatcher (`dispatch.rs`: one slot or k), which asks the budgets and the
//!   scheduler for each next session, runs it and lands it, and ends the run with a commit that
//!   says why it stopped.
//! - Every session goes through the same stages, named for what happens to it (`session.rs`):
//!   prepare, run the agent, settle (its status decided by one pure function), land its work,
//!   record it; and after a kill, recover. The stages share a read-only context and change the run's progress only
//!   when a session is recorded (`context.rs`), so that each session's state is a value of its
//!   own.
//! - Around the loop: the run lock ([`lock`]), the slot worktree ([`slot`], [`sweep`]), where a
//!   resumed run left off ([`resume`], [`started`], [`branch`]), the agent's input
//!   ([`compose`]) and checks before a run ([`preflight`], [`agents`]).
//!
//! - The words every stage shares live in files of their own, which import no stage, so that
//!   the loop and its stages do not import each other: what a grind is asked ([`request`]),
//!   what it says as it goes ([`event`]), how it ends ([`summary`]) and how it fails
//!   ([`error`]).
//!
//! Everything it has to say goes through a [`event::GrindObserver`]; it never prints.

pub(crate) mod agents;
pub(crate) mod branch;
pub(crate) mod compose;
mod context;
mod dispatch;
pub(crate) mod error;
pub(crate) mod event;
pub(crate) mod events_file;
mod fuse;
pub(crate) mod inputs;
pub(crate) mod kept;
mod leftovers;
pub(crate) mod preflight;
pub(crate) mod reopen;
pub(crate) mod request;
pub(crate) mod resume;
pub(crate) mod run;
mod session;
pub(crate) mod slot;
mod spent;
pub(crate) mod summary;
pub(crate) mod sweep;
