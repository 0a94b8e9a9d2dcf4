//! What one agent session produced, as plain data for the grind loop.
//!
//! House style 7: an agent that crashed, hung, printed garbage or hit a rate limit is not an
//! error of ours, so all of that is described here, in [`AgentOutcome`], and the loop decides
//! the session's status from it together with git state. Everything serialises, so the loop can
//! log or record any part of it as it is.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::usage::{CostSource, Tokens};

/// How the agent's process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SessionEnd {
    /// The agent exited by itself with this code.
    Exited { code: i32 },
    /// The agent was killed by a signal that we did not send.
    Signalled { signal: i32 },
    /// The agent reported its final result but did not exit within the grace period, so we
    /// ended its process group. The session finished; only the exit was slow.
    EndedAfterResult,
    /// The wall-clock timeout expired; we ended the process group.
    TimedOut,
    /// The user aborted (Ctrl-C twice, SIGTERM to grind); we ended the process group.
    Aborted,
    /// A skip was requested (flag or skip file); we ended the process group, or the agent asked
    /// to be skipped by creating the skip file itself.
    Skipped,
}

impl SessionEnd {
    /// True when the agent finished on its own terms: exit code 0, or a final result followed by
    /// a slow exit. Whether the work is good is for the report and git to say.
    pub fn is_clean_exit(&self) -> bool {
        matches!(
            self,
            SessionEnd::Exited { code: 0 } | SessionEnd::EndedAfterResult
        )
    }
}

/// What the agent itself said about its session, from its event stream or result file.
/// All text in it has been redacted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentReport {
    pub summary: Option<String>,
    /// The agent said the session failed (Claude's `is_error`, a result file's `is_error`, a
    /// malformed result file, a missing final `result` event).
    pub is_error: bool,
    pub error_text: Option<String>,
    pub tokens: Tokens,
    pub cost_usd: Option<f64>,
    pub cost_source: CostSource,
    pub model: Option<String>,
    /// Where `model` came from when the agent's output did not name it and it was read from the
    /// CLI's own configuration or default (`codex config /home/me/.codex/config.toml`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_source: Option<String>,
    /// `claude`, `codex`, `gemini`, `aider`, `command`, `demo`.
    pub agent_name: String,
    pub agent_version: Option<String>,
    /// The agent's own session id (Claude's `session_id`), to resume or look it up later.
    pub agent_session_id: Option<String>,
    pub num_turns: Option<u64>,
}

/// The agent hit a usage limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// When the limit resets, if the agent said (Claude's `resetsAt`, `…limit reached|<ts>`).
    pub until: Option<DateTime<Utc>>,
    /// The agent's own words, redacted.
    pub message: String,
}

/// What was written to the transcript file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptStats {
    pub path: PathBuf,
    pub bytes_written: u64,
    pub truncated: bool,
    /// Output bytes left out because of the cap.
    pub bytes_dropped: u64,
}

/// Everything the loop needs to classify a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentOutcome {
    pub end: SessionEnd,
    /// The raw exit code or signal of the agent's process, whatever `end` says (a timed-out
    /// agent usually shows signal 15 here).
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// KILL had to be sent to the process group (TERM was not enough within the grace period).
    pub killed: bool,
    pub report: Option<AgentReport>,
    pub rate_limit: Option<RateLimit>,
    /// The last ~4 KiB of the agent's stderr, redacted, cut at a line boundary when possible.
    pub stderr_tail: String,
    pub transcript: TranscriptStats,
    /// Things we noticed but tolerated: lines that were not JSON, a malformed result file, a
    /// descendant that kept our pipes open.
    pub parse_warnings: Vec<String>,
    /// The last tool the agent used, as shown in progress.
    pub last_tool: Option<String>,
    pub duration_ms: u64,
}

impl AgentOutcome {
    /// When the agent's usage limit resets, if it hit one and said when.
    pub fn rate_limited_until(&self) -> Option<DateTime<Utc>> {
        self.rate_limit.as_ref().and_then(|r| r.until)
    }

    /// The agent said the session failed.
    pub fn reported_error(&self) -> bool {
        self.report.as_ref().is_some_and(|r| r.is_error)
    }

    /// The best one-paragraph account of the session: the agent's summary, else its error
    /// text, else the stderr tail's last line for a crash.
    pub fn summary(&self) -> Option<String> {
        let report = self.report.as_ref();
        report
            .and_then(|r| r.summary.clone())
            .or_else(|| report.and_then(|r| r.error_text.clone()))
            .or_else(|| {
                let last = self
                    .stderr_tail
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())?;
                Some(last.trim().to_string())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_serialises_with_a_kind_tag() {
        let s = serde_json::to_string(&SessionEnd::Exited { code: 3 }).unwrap();
        assert_eq!(s, r#"{"kind":"exited","code":3}"#);
        let s = serde_json::to_string(&SessionEnd::EndedAfterResult).unwrap();
        assert_eq!(s, r#"{"kind":"ended_after_result"}"#);
    }

    #[test]
    fn clean_exits() {
        assert!(SessionEnd::Exited { code: 0 }.is_clean_exit());
        assert!(SessionEnd::EndedAfterResult.is_clean_exit());
        assert!(!SessionEnd::Exited { code: 1 }.is_clean_exit());
        assert!(!SessionEnd::TimedOut.is_clean_exit());
    }
}
