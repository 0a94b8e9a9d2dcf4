//! git-pitboss: run coding agents in an unattended loop and keep every run inside git.
//!
//! Dependency direction (a module uses only those to its right, never one to its left):
//!
//! ```text
//! cli → grind → plan → config → fields
//!         │       └──→ agent
//!         ├──→ agent, store → git
//!         └──→ clock        store → clock; provenance → store, git
//! agent, store, plan, config → usage (tokens, costs, prices: imports nothing of ours)
//! rundir: the files under <common>/pitboss; whoever touches them asks it (it needs only
//!   store::RunId, agent::SessionFiles and git::Repo)
//! ```
//!
//! [`grind`] is the engine (git, processes, the clock); [`plan`] is the pure planner it runs
//! (prompts, rotations, scheduler, budgets); [`config`] reads `.pitboss/config.toml` through
//! [`fields`] and needs nothing else of ours. Only [`cli`] reads argv, the environment or the
//! working directory, and only it writes to the terminal.
// NB: `deny`, not `forbid`: one `pre_exec` (agent/process/cgroup.rs) must be `unsafe`, and
// says why where it is allowed.
#![deny(unsafe_code)]
#![warn(unreachable_pub)]
// No function over 80 lines (clippy.toml sets the limit; CI denies warnings).
#![warn(clippy::too_many_lines)]
// The library never prints (house style 4): only `cli` writes to the terminal.
#![warn(clippy::print_stdout, clippy::print_stderr)]
// Layers (clippy.toml: `disallowed-types`, `disallowed-methods`): libgit2 only in `git`, and
// processes started only in `git`, `agent::process` and `forge::run`, each allowed where it is
// declared.

pub(crate) mod agent;
#[allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the command line is the one module that writes to the terminal"
)]
mod cli;
pub(crate) mod clock;
pub(crate) mod config;
pub(crate) mod escape;
pub(crate) mod fields;
pub(crate) mod forge;
pub(crate) mod gc;
#[allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    reason = "git/ is the one wrapper of libgit2, and the one module that runs the user's `git`"
)]
pub(crate) mod git;
pub(crate) mod grind;
pub(crate) mod plan;
pub(crate) mod provenance;
pub(crate) mod report;
pub(crate) mod rundir;
pub(crate) mod scaffold;
pub(crate) mod store;
pub mod testing;
pub(crate) mod usage;
pub(crate) mod watch;

/// The command line: what `git-pitboss` (the binary) runs.
pub use cli::main;
