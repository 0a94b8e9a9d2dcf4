//! Everything `grind` decides before it runs an agent: prompts, rotations, the scheduler and
//! budgets.

pub mod budget;
pub mod discover;
pub mod plan;
pub mod prompt;
pub mod resume;
pub mod rotation;
pub mod scaffold;
pub mod scheduler;
