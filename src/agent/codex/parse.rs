//! The pure parser of `codex exec --json` output (Codex CLI 0.169), one line at a time.
//!
//! Events we read (everything else, and every unknown field, is tolerated and ignored):
//! - `thread.started`: `thread_id`, the agent's session id;
//! - `turn.started`;
//! - `item.started` / `item.updated` / `item.completed` with an `item` of type `agent_message`
//!   (`text`: progress, and the last one is the summary), `command_execution` (`command`,
//!   `exit_code`), `file_change` (`changes`), `mcp_tool_call`, `web_search` (progress: the
//!   last tool used), `reasoning`, `todo_list` (nothing needed) and `error` (a non-fatal notice,
//!   such as "Model metadata for `x` not found": kept as a warning);
//! - `turn.completed` with `usage`: `input_tokens` (which *includes* `cached_input_tokens` and
//!   `cache_write_input_tokens`), `output_tokens` (which *includes* `reasoning_output_tokens`).
//!   Converted to the ledger's disjoint counts: input = input − cached − cache write. Summed over
//!   turns;
//! - `turn.failed` with `error.message`: the session failed;
//! - `error` with `message`: `Reconnecting… n/m` is a transient retry (a warning, not a
//!   failure); any other is the error that a `turn.failed` usually repeats. "You've hit your
//!   usage limit … try again at Jan 1st, 2027 12:00 AM." is a usage limit.
//!
//! Codex reports no dollars and (in `exec --json`) neither its model nor its version: the loop
//! estimates the cost from the configured model and probes the version.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use crate::agent::adapter::{ParsedStream, StreamParser, first_line};
use crate::agent::jsonl::{JsonLine, JsonLines, event_type, stderr_suffix, str_of, u64_of};
use crate::agent::observer::AgentEvent;
use crate::agent::outcome::{AgentReport, RateLimit};
use crate::agent::process::Stream;
use crate::usage::{CostSource, Tokens};

/// Parses one `codex exec --json` session. Build one per session.
#[derive(Debug, Default)]
pub(crate) struct CodexParser {
    thread_id: Option<String>,
    turns: u64,
    tokens: Tokens,
    completed: bool,
    failed: Option<String>,
    last_error: Option<String>,
    last_message: Option<String>,
    reconnects: u64,
    notices: Vec<String>,
    lines: JsonLines,
}

/// Codex's turn usage as the ledger's disjoint [`Tokens`].
pub(crate) fn usage_tokens(u: &Value) -> Tokens {
    let cache_read = u64_of(u, "cached_input_tokens");
    let cache_write = u64_of(u, "cache_write_input_tokens");
    Tokens {
        input: u64_of(u, "input_tokens")
            .saturating_sub(cache_read)
            .saturating_sub(cache_write),
        output: u64_of(u, "output_tokens"),
        cache_read,
        cache_write,
        reasoning: u64_of(u, "reasoning_output_tokens"),
    }
}

fn is_usage_limit(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("usage limit") || m.contains("rate limit")
}

/// "… try again at Jan 1st, 2027 12:00 AM." as a time. NB: Codex prints its local time; we
/// read it as UTC (pitboss runs agents with the environment it was given, usually `TZ` unset in
/// CI and services); when it cannot be read the limit has no reset time.
fn usage_limit_reset(message: &str) -> Option<DateTime<Utc>> {
    let at = message.split("try again at ").nth(1)?;
    let at = at.trim_end_matches(|c: char| c == '.' || c.is_whitespace());
    let cleaned: String = at
        .split_whitespace()
        .map(|w| {
            let (core, comma) = match w.strip_suffix(',') {
                Some(c) => (c, ","),
                None => (w, ""),
            };
            let core = ["st", "nd", "rd", "th"]
                .iter()
                .find_map(|s| {
                    core.strip_suffix(s)
                        .filter(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
                })
                .unwrap_or(core);
            format!("{core}{comma}")
        })
        .collect::<Vec<_>>()
        .join(" ");
    NaiveDateTime::parse_from_str(&cleaned, "%b %d, %Y %I:%M %p")
        .ok()
        .map(|t| t.and_utc())
}

impl CodexParser {
    pub(crate) fn new() -> Self {
        CodexParser::default()
    }

    fn event(&mut self, v: &Value, events: &mut Vec<AgentEvent>) {
        let kind = event_type(v);
        match kind {
            "thread.started" => {
                self.thread_id = str_of(v, "thread_id");
                events.push(AgentEvent::Init {
                    model: None,
                    version: None,
                    session_id: self.thread_id.clone(),
                });
            }
            "turn.started" => self.turns += 1,
            "item.started" | "item.updated" | "item.completed" => {
                let done = kind == "item.completed";
                self.item(v.get("item").unwrap_or(&Value::Null), done, events);
            }
            "turn.completed" => {
                self.tokens += v.get("usage").map(usage_tokens).unwrap_or_default();
                self.completed = true;
                events.push(AgentEvent::Result {
                    is_error: false,
                    cost_usd: None,
                    tokens: self.tokens,
                });
            }
            "turn.failed" => {
                let message = v
                    .get("error")
                    .and_then(|e| str_of(e, "message"))
                    .or_else(|| self.last_error.clone())
                    .unwrap_or_else(|| "codex reported a failed turn".into());
                self.failed = Some(message);
                events.push(AgentEvent::Result {
                    is_error: true,
                    cost_usd: None,
                    tokens: self.tokens,
                });
            }
            "error" => {
                let message = str_of(v, "message").unwrap_or_default();
                if message.starts_with("Reconnecting") {
                    self.reconnects += 1;
                    events.push(AgentEvent::Warning {
                        message: first_line(&message, 120),
                    });
                } else {
                    self.last_error = Some(message);
                }
            }
            other => self.lines.ignore(other),
        }
    }

    fn item(&mut self, item: &Value, done: bool, events: &mut Vec<AgentEvent>) {
        let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "agent_message" if done => {
                if let Some(text) = str_of(item, "text") {
                    let line = first_line(&text, 120);
                    if !line.is_empty() {
                        events.push(AgentEvent::Text { text: line });
                    }
                    self.last_message = Some(text);
                }
            }
            "command_execution" | "file_change" | "web_search" if !done => {
                events.push(AgentEvent::ToolUse {
                    name: kind.to_string(),
                });
            }
            "mcp_tool_call" if !done => {
                let name = match (str_of(item, "server"), str_of(item, "tool")) {
                    (Some(s), Some(t)) => format!("{s}.{t}"),
                    _ => kind.to_string(),
                };
                events.push(AgentEvent::ToolUse { name });
            }
            "error" if done => {
                if let Some(m) = str_of(item, "message") {
                    self.notices.push(first_line(&m, 200));
                }
            }
            _ => {}
        }
    }
}

impl StreamParser for CodexParser {
    fn line(&mut self, stream: Stream, line: &str, complete: bool, events: &mut Vec<AgentEvent>) {
        if let JsonLine::Object(v) = self.lines.line(stream, line, complete) {
            self.event(&v, events);
        }
    }

    fn result_seen(&self) -> bool {
        self.completed || self.failed.is_some()
    }

    fn finish(self: Box<Self>, stderr_tail: &str) -> ParsedStream {
        let mut warnings: Vec<String> =
            self.notices.iter().map(|n| format!("codex: {n}")).collect();
        if self.reconnects > 0 {
            warnings.push(format!(
                "codex reconnected to its API {} time(s)",
                self.reconnects
            ));
        }
        self.lines.warnings("codex", &mut warnings);
        let mut report = AgentReport {
            agent_name: "codex".to_string(),
            agent_session_id: self.thread_id.clone(),
            tokens: self.tokens,
            cost_source: CostSource::Unknown,
            num_turns: (self.turns > 0).then_some(self.turns),
            ..AgentReport::default()
        };
        let error = self
            .failed
            .clone()
            .or_else(|| (!self.completed).then(|| self.last_error.clone()).flatten());
        let mut rate_limit = None;
        match error {
            Some(message) => {
                report.is_error = true;
                if is_usage_limit(&message) {
                    rate_limit = Some(RateLimit {
                        until: usage_limit_reset(&message),
                        message: first_line(&message, 300),
                    });
                }
                report.error_text = Some(with_auth_hint(message));
            }
            None if self.completed => {
                report.summary = self.last_message.filter(|t| !t.trim().is_empty());
            }
            None => {
                report.is_error = true;
                report.error_text = Some(no_result_text(stderr_tail));
            }
        }
        ParsedStream {
            report: Some(report),
            rate_limit,
            warnings,
        }
    }
}

/// An authentication failure gets the one thing to do about it.
fn with_auth_hint(message: String) -> String {
    let m = message.to_ascii_lowercase();
    if m.contains("401") || m.contains("unauthorized") || m.contains("not logged in") {
        format!(
            "{message} (is codex logged in? run `codex login`, or set the API key its provider names)"
        )
    } else {
        message
    }
}

fn no_result_text(stderr_tail: &str) -> String {
    let mut text = "codex ended without a completed turn".to_string();
    text.push_str(&stderr_suffix(stderr_tail));
    if stderr_tail.contains("401") || stderr_tail.to_ascii_lowercase().contains("not logged in") {
        text.push_str(" (is codex logged in? run `codex login`, or set OPENAI_API_KEY)");
    }
    text
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
