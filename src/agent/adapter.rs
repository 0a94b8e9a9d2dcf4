//! What an agent backend is: a pure invocation builder plus a pure stream parser.
//!
//! Each backend (`command`, `demo`, `claude`, `codex`, `gemini`, `aider`) implements [`Adapter`]. Nothing here spawns or
//! reads files: [`super::run_session`] asks the adapter for an [`Invocation`] and a
//! [`StreamParser`], runs the process through `process`, feeds every (redacted) output
//! line to the parser, and merges what the parser found with the result and summary files.
//! Parsers must tolerate anything (house style 11): unknown events, unknown fields, lines that
//! are not JSON; at worst they count and warn.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::invocation::Invocation;
use super::observer::AgentEvent;
use super::outcome::{AgentReport, RateLimit};
use super::process::Stream;

/// What an adapter may use to build its invocation and parser.
#[derive(Debug, Clone, Copy)]
pub struct SessionContext<'a> {
    /// The directory the agent works in.
    pub worktree: &'a Path,
    /// The file holding the composed input; it becomes the agent's stdin.
    pub input_file: &'a Path,
    /// `PITBOSS_*` variables and the caller's extra variables, to set for the agent.
    pub env: &'a BTreeMap<String, String>,
    /// When the session started (the loop's clock), to resolve "resets at 3pm" style times.
    pub started_at: DateTime<Utc>,
    /// The session's cost cap in US dollars, for CLIs with a budget flag of their own.
    pub max_cost_usd: Option<f64>,
}

/// The [`Adapter::config_key`] of the backends that run an agent CLI (`claude`, `codex`,
/// `gemini`, `aider`).
pub(crate) const AGENT_BINARY_KEY: &str = "agent.binary in .pitboss/config.toml";

/// One agent backend.
pub trait Adapter {
    /// `claude`, `codex`, `gemini`, `aider`, `command`, `demo`: recorded as the report's
    /// `agent_name`.
    fn name(&self) -> &str;

    /// The program that must exist before a run starts (see [`super::locate`]).
    fn program(&self) -> &Path;

    /// The configuration key a user changes when [`Adapter::program`] is missing, for the
    /// `NotFound` error. The agent CLIs share `agent.binary`; `command` and `demo` say their own.
    fn config_key(&self) -> &str {
        AGENT_BINARY_KEY
    }

    /// How to start the agent. Pure.
    fn invocation(&self, ctx: &SessionContext<'_>) -> Invocation;

    /// A fresh parser for this session's output.
    fn parser(&self, ctx: &SessionContext<'_>) -> Box<dyn StreamParser>;

    /// Whether the agent may write `PITBOSS_RESULT_FILE` (read after it exits). The agent CLIs
    /// report through their own output; `command` and `demo` use the file.
    fn reads_result_file(&self) -> bool {
        false
    }

    /// Whether the loop should ask the program its version before a run (for agents whose
    /// stream does not say it), to record with each session.
    fn probes_version(&self) -> bool {
        false
    }

    /// The version of the agent's CLI this adapter was written and tested against; an older one
    /// gets a warning (its output may differ).
    fn tested_version(&self) -> Option<&'static str> {
        None
    }

    /// Directories the CLI writes for itself in its working directory (caches it has no option
    /// to move), relative to it. [`super::run_session`] keeps them out of the session's work
    /// (see `own_files`).
    fn own_dirs(&self) -> &'static [&'static str] {
        &[]
    }

    /// The model the CLI runs when its output will not name it, read from the CLI's own
    /// configuration (or its known default), with where it was found; `env` is the agent's
    /// environment. `None` when pitboss passes the model itself, or the CLI names it.
    fn unnamed_model(&self, _env: &BTreeMap<String, String>) -> Option<(String, String)> {
        None
    }

    /// What a non-zero exit code of this agent means, in words with what to do, when the agent
    /// documents its codes. It leads the session's error text.
    fn exit_text(&self, _code: i32) -> Option<String> {
        None
    }
}

/// Turns an agent's output, line by line, into progress events and a final report.
pub trait StreamParser {
    /// One redacted line (lossily decoded). `complete` is false for a fragment of a line that
    /// was too long to hand over whole; the fragment that ends such a line has it true again.
    fn line(&mut self, stream: Stream, line: &str, complete: bool, events: &mut Vec<AgentEvent>);

    /// True once the agent's final result has been seen (the supervisor then gives it a grace
    /// period to exit).
    fn result_seen(&self) -> bool;

    /// The report, given the end of stderr (for "no result" errors).
    fn finish(self: Box<Self>, stderr_tail: &str) -> ParsedStream;
}

/// What a parser learned from a whole session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedStream {
    pub report: Option<AgentReport>,
    pub rate_limit: Option<RateLimit>,
    pub warnings: Vec<String>,
}

/// The parser of agents whose output is free text (`command`, `demo`): no events, no report;
/// their report comes from the result file.
#[derive(Debug, Default)]
pub(crate) struct TextParser;

impl StreamParser for TextParser {
    fn line(&mut self, _: Stream, _: &str, _: bool, _: &mut Vec<AgentEvent>) {}

    fn result_seen(&self) -> bool {
        false
    }

    fn finish(self: Box<Self>, _stderr_tail: &str) -> ParsedStream {
        ParsedStream::default()
    }
}

/// The context the adapters' invocation tests share: worktree `/wt`, input `/tmp/in`,
/// `PITBOSS_SEQ=1`.
#[cfg(test)]
pub(crate) fn test_context() -> SessionContext<'static> {
    static ENV: std::sync::LazyLock<BTreeMap<String, String>> =
        std::sync::LazyLock::new(|| [("PITBOSS_SEQ".into(), "1".into())].into());
    SessionContext {
        worktree: Path::new("/wt"),
        input_file: Path::new("/tmp/in"),
        env: &ENV,
        started_at: DateTime::UNIX_EPOCH,
        max_cost_usd: None,
    }
}

/// Shortens `text` to its first non-empty line and at most `max` characters, for progress.
pub(crate) fn first_line(text: &str, max: usize) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if line.chars().count() <= max {
        return line.to_string();
    }
    let mut s: String = line.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// Caps text that ends up in records and commit messages, at a character boundary.
pub(crate) fn cap_text(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_string();
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [{} more bytes]", &text[..end], text.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_and_caps() {
        assert_eq!(first_line("\n  hello world \nmore", 50), "hello world");
        assert_eq!(first_line("abcdef", 4), "abc…");
        assert_eq!(cap_text("héllo", 2), "h… [5 more bytes]");
        assert_eq!(cap_text("short", 10), "short");
    }
}
