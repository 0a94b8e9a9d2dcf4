//! The commands that set a project up and try it: `init`, `agents` (is each agent ready?),
//! `demo`, the hidden `agent-demo` process the demo runs, and `man`.

pub(super) mod agent_demo;
pub(super) mod agents;
pub(super) mod demo;
pub(super) mod init;
pub(super) mod man;
