//! What a grind is asked to do ([`GrindRequest`]) and how the user stops it from outside
//! ([`GrindControls`]): the CLI builds both, and every stage of the loop reads them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::agent::Controls;
use crate::store::RunId;

/// What a grind is asked to do (the CLI builds it from flags, config and the environment).
#[derive(Debug, Clone)]
pub(crate) struct GrindRequest {
    /// `--base`: where a new run branch starts (`None`: HEAD, on a branch).
    pub base: Option<String>,
    /// `--resume`: the run to continue.
    pub resume: Option<RunId>,
    /// The user's environment: secrets in it are redacted, `PATH` finds the agent.
    pub env: BTreeMap<String, String>,
    /// This executable (the demo agent is `git-pitboss agent-demo`).
    pub exe: PathBuf,
    /// Stop the run at a usage limit instead of waiting for its reset.
    pub stop_on_rate_limit: bool,
    /// Our process id, written into the run lock for a second grind to name.
    pub pid: u32,
    /// How a new run is started, kept in its `run.json` for `--resume`.
    pub started_with: Option<crate::plan::started::StartedWith>,
}

/// How the user stops a run from outside: set by the CLI's signal handling.
#[derive(Debug, Clone, Default)]
pub(crate) struct GrindControls {
    /// Ctrl-C once: finish the current session, then stop.
    pub stop_after_session: Arc<AtomicBool>,
    /// Ctrl-C twice or SIGTERM: end the agent now (the session is `aborted`), then stop.
    pub agent: Controls,
}

impl GrindControls {
    pub(super) fn stopping(&self) -> bool {
        self.stop_after_session.load(Ordering::SeqCst) || self.agent.abort_requested()
    }
}
