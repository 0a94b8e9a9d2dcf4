//! Everything `grind` decides before it runs an agent: prompts, rotations, the scheduler and
//! budgets.

pub mod budget;
pub mod discover;
pub mod prompt;
pub mod scheduler;
