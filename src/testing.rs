//! What the integration tests (`tests/it`) and the benchmarks (`benches/`) reach inside the
//! library, and nothing else. **Not a stable API**: git-pitboss is a command, not a library; this
//! facade exists only because those two are crates of their own and cannot see `pub(crate)`
//! items. Its names change whenever the tests' needs do.
//!
//! Why one facade rather than public modules: every other module is `pub(crate)`, so the
//! compiler (`unreachable_pub`, dead-code analysis) sees the whole crate as private and a
//! reader sees here, in one list, which items outside code depends on. A test that needs more
//! adds its item below; an item no test uses any more is removed.
//!
//! Not behind `cfg(test)`, which is unset in the library that integration tests and benchmarks
//! link, nor behind a cargo feature, which would give `cargo build` and `cargo test` two builds
//! of the library with different features.

// Agent sessions, driven without the loop (tests/it/agent_*.rs, the agent CLI tests).
pub use crate::agent::{
    AIDER_FLAGS, Adapter, AgentEvent, AgentOutcome, CODEX_DEFAULT_MODEL, ClaudeAdapter,
    CommandAdapter, Controls, DemoAdapter, RecordingObserver, SessionEnd, SessionSpec, StopReason,
    run_session,
};
// Time and randomness as inputs (benches).
pub use crate::clock::{FixedClock, OsEntropy, SystemClock};
// Repositories, trees and merges (benches).
pub use crate::git::{CasOutcome, Identity, MergeDrivers, Oid, Replay, Repo, TreeEdit};
/// The date of the built-in price table (the tests of the agent CLIs check records name it).
pub use crate::plan::prices::builtin_version as builtin_price_table;
// The run store (benches).
pub use crate::store::layout::export_run;
pub use crate::store::{
    RunId, RunMeta, RunState, RunStore, SessionAppend, SessionRecord, SessionStatus,
    TranscriptSource, parse_record,
};
// Tokens and costs.
pub use crate::usage::{CostSource, Tokens, Usage};
// What `git pitboss watch` reads (benches/watch.rs).
pub use crate::watch::Source;
