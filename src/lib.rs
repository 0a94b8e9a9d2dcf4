//! git-pitboss: run coding agents in an unattended loop and keep every run inside git.
//!
//! Dependency direction: `cli → grind → {agent, store} → git`. Only [`cli`] reads argv, the
//! environment or the working directory, and only it writes to the terminal.
#![forbid(unsafe_code)]

pub mod agent;
pub mod cli;
pub mod clock;
pub mod config;
pub mod fields;
pub mod git;
pub mod grind;
pub mod provenance;
pub mod report;
pub mod store;
pub mod watch;
