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
//! ```
//!
//! [`grind`] is the engine (git, processes, the clock); [`plan`] is the pure planner it runs
//! (prompts, rotations, scheduler, budgets); [`config`] reads `.pitboss/config.toml` through
//! [`fields`] and needs nothing else of ours. Only [`cli`] reads argv, the environment or the
//! working directory, and only it writes to the terminal.
#![forbid(unsafe_code)]

pub mod agent;
pub mod cli;
pub mod clock;
pub mod config;
pub mod fields;
pub mod forge;
pub mod gc;
pub mod git;
pub mod grind;
pub mod plan;
pub mod provenance;
pub mod store;
pub mod usage;
