//! What `git pitboss watch` reads and computes, apart from drawing it.
//!
//! A live grind writes its events to a file in the run's working directory
//! ([`crate::rundir::RunDir::events`]; the engine's `events_file.rs` writes it); a watcher
//! follows that file ([`follow`]) and the run ref, folds both into a [`model::Dashboard`] (pure: events and records in, rows, gauges and totals out), and
//! reads a session's transcript. Drawing the dashboard on a terminal is the CLI's business
//! (`cli/watch/`); asking the grind to skip or drain is [`control`]'s.

pub(crate) mod control;

pub(crate) mod follow;
pub(crate) mod model;
pub(crate) mod source;

pub(crate) use model::Dashboard;
pub use source::Source;
