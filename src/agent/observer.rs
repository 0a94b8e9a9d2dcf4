//! How a running session talks to the outside: progress events out, stop requests in.
//!
//! The library never prints (house style 4). While an agent runs, [`super::run_session`]
//! reports what it sees through an [`AgentObserver`] the caller implements (the CLI draws a live
//! line; `--json` writes events; tests record them), always on the caller's thread. The caller
//! stops a session through [`Controls`]: flags another thread (a signal handler, a `skip`
//! command watcher) may set at any time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::usage::Tokens;

/// Why we started ending the agent's process group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    TimedOut,
    Aborted,
    Skipped,
    /// The agent reported its result and then did not exit within the grace period.
    LingeredAfterResult,
    /// The agent's main process exited and left descendants behind in its group.
    LeftoverDescendants,
}

/// Something worth showing while a session runs. Text fields are redacted.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    /// The agent's process started.
    Spawned { pid: u32, command: String },
    /// The agent introduced itself (Claude's `system/init`).
    Init {
        model: Option<String>,
        version: Option<String>,
        session_id: Option<String>,
    },
    /// The agent said something (first line of an assistant text block, shortened).
    Text { text: String },
    /// The agent used a tool ("last tool used" in progress).
    ToolUse { name: String },
    /// Running totals of the session so far, when the agent reports them as it goes (and its
    /// running cost, when it states one): what a session cost cap watches.
    Usage {
        tokens: Tokens,
        cost_usd: Option<f64>,
    },
    /// The agent reported its final result.
    Result {
        is_error: bool,
        cost_usd: Option<f64>,
        tokens: Tokens,
    },
    /// The agent hit a usage limit.
    RateLimited { until: Option<DateTime<Utc>> },
    /// We started ending the agent's process group (TERM sent).
    Stopping { reason: StopReason },
    /// TERM was not enough: KILL sent to the group.
    Killed,
    /// The transcript reached its cap; output from here on is dropped (its tail is kept).
    TranscriptCapped { cap_bytes: u64 },
    /// Something odd that the session tolerated.
    Warning { message: String },
    /// Sent about every [`TICK`] while the agent runs, for elapsed-time displays.
    Tick { elapsed: Duration },
}

/// How often [`AgentEvent::Tick`] is sent.
pub(crate) const TICK: Duration = Duration::from_millis(500);

/// Receives [`AgentEvent`]s as they happen.
pub trait AgentObserver {
    fn on_event(&mut self, event: &AgentEvent);
}

/// Collects events, for tests and for callers that want to look afterwards.
#[derive(Debug, Default, Clone)]
pub struct RecordingObserver {
    pub events: Vec<AgentEvent>,
}

impl AgentObserver for RecordingObserver {
    fn on_event(&mut self, event: &AgentEvent) {
        if !matches!(event, AgentEvent::Tick { .. }) {
            self.events.push(event.clone());
        }
    }
}

/// Stop requests for a running session. Cheap to clone; clones share the flags.
#[derive(Debug, Clone, Default)]
pub struct Controls {
    abort: Arc<AtomicBool>,
    skip: Arc<AtomicBool>,
    /// This session only: it passed its cost cap (see [`Controls::for_session`]).
    cut: Arc<AtomicBool>,
}

impl Controls {
    pub fn new() -> Self {
        Controls::default()
    }

    /// End the agent's process group now; the session ends as `Aborted`.
    pub fn request_abort(&self) {
        self.abort.store(true, Ordering::SeqCst);
    }

    /// End the agent's process group now; the session ends as `Skipped`.
    pub fn request_skip(&self) {
        self.skip.store(true, Ordering::SeqCst);
    }

    pub fn abort_requested(&self) -> bool {
        self.abort.load(Ordering::SeqCst)
    }

    pub fn skip_requested(&self) -> bool {
        self.skip.load(Ordering::SeqCst)
    }

    /// The controls of one session: abort and skip shared with `self`, and a cut flag of its
    /// own, so a session cut at its cost cap does not cut the next one.
    pub fn for_session(&self) -> Controls {
        Controls {
            abort: Arc::clone(&self.abort),
            skip: Arc::clone(&self.skip),
            cut: Arc::default(),
        }
    }

    /// The controls of one session of several running at once: abort shared with `self` (the
    /// user's Ctrl-C twice ends them all), skip and cut its own (`git pitboss skip <run> <seq>`
    /// and a cost cap end this session only).
    pub fn for_parallel_session(&self) -> Controls {
        Controls {
            abort: Arc::clone(&self.abort),
            skip: Arc::default(),
            cut: Arc::default(),
        }
    }

    /// End the agent's process group now because the session passed its cost cap; the session
    /// ends as if it had hit its time limit (its work is saved as a patch, not landed).
    pub fn request_cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
    }

    pub fn cut_requested(&self) -> bool {
        self.cut.load(Ordering::SeqCst)
    }

    /// Clears a skip request (the loop does this before the next session; aborts stay).
    pub fn clear_skip(&self) {
        self.skip.store(false, Ordering::SeqCst);
    }

    /// The abort flag itself, for a signal handler crate that sets an `Arc<AtomicBool>`
    /// (`signal_hook::flag::register`).
    pub fn abort_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.abort)
    }

    pub fn skip_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.skip)
    }
}
