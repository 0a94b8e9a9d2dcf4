//! The pure parser of Claude Code's `--output-format stream-json` output, one line at a time.
//!
//! Events we read (everything else, and every unknown field, is tolerated and ignored):
//! - `system`/`init`: session id, model, `claude_code_version`, tools;
//! - `assistant`: text and `tool_use` blocks (progress), per-message usage (a fallback token
//!   count when no `result` comes), `"error":"rate_limit"`;
//! - `user`: tool results (nothing needed from them today);
//! - `result`: `is_error`, `subtype`, `num_turns`, `result` text, `usage`, `modelUsage`,
//!   `total_cost_usd`, `api_error_status`;
//! - `rate_limit_event`: `rate_limit_info.status` and `resetsAt`.
//!
//! A stdout line that is not JSON is transcript text, counted and reported as a warning, never a
//! crash. No `result` at all makes the report an error carrying the stderr tail.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::limits;
use crate::agent::adapter::{ParsedStream, StreamParser, first_line};
use crate::agent::jsonl::{JsonLine, JsonLines, event_type, stderr_suffix, str_of, u64_of};
use crate::agent::observer::AgentEvent;
use crate::agent::outcome::{AgentReport, RateLimit};
use crate::agent::process::Stream;
use crate::usage::{CostSource, Tokens};

/// Parses one Claude Code session's stream. Build one per session.
#[derive(Debug, Default)]
pub(crate) struct ClaudeParser {
    started_at: DateTime<Utc>,
    session_id: Option<String>,
    init_model: Option<String>,
    version: Option<String>,
    last_model: Option<String>,
    /// Usage of each assistant message, by message id (a message is repeated per block).
    message_usage: BTreeMap<String, Tokens>,
    result: Option<ResultEvent>,
    limit: LimitSignals,
    lines: JsonLines,
}

#[derive(Debug, Default)]
struct ResultEvent {
    subtype: Option<String>,
    is_error: bool,
    num_turns: Option<u64>,
    text: Option<String>,
    tokens: Tokens,
    cost_usd: Option<f64>,
    session_id: Option<String>,
    api_error_status: Option<i64>,
    errors: Vec<String>,
    top_model: Option<String>,
}

#[derive(Debug, Default)]
struct LimitSignals {
    /// The latest `rate_limit_event` said `rejected`, resetting at this time.
    rejected: bool,
    rejected_until: Option<DateTime<Utc>>,
    /// An assistant message carried `"error":"rate_limit"`.
    assistant_limited: bool,
    legacy_until: Option<DateTime<Utc>>,
    message: Option<String>,
}

/// Anthropic usage (`input_tokens`, `cache_read_input_tokens`, …) as [`Tokens`].
fn usage_tokens(u: &Value) -> Tokens {
    Tokens {
        input: u64_of(u, "input_tokens"),
        output: u64_of(u, "output_tokens"),
        cache_read: u64_of(u, "cache_read_input_tokens"),
        cache_write: u64_of(u, "cache_creation_input_tokens"),
        reasoning: 0,
    }
}

impl ClaudeParser {
    /// `started_at` resolves "resets 3pm (UTC)" style limit messages.
    pub(crate) fn new(started_at: DateTime<Utc>) -> Self {
        ClaudeParser {
            started_at,
            ..ClaudeParser::default()
        }
    }

    fn scan_text_for_limits(&mut self, text: &str) {
        if let Some(until) = limits::legacy_reset(text) {
            self.limit.legacy_until = Some(until);
            self.limit.message = Some(first_line(text, 300));
        }
    }

    fn event(&mut self, v: &Value, events: &mut Vec<AgentEvent>) {
        let kind = event_type(v);
        match kind {
            "system" if v.get("subtype").and_then(Value::as_str) == Some("init") => {
                self.session_id = str_of(v, "session_id");
                self.init_model = str_of(v, "model");
                self.version = str_of(v, "claude_code_version");
                events.push(AgentEvent::Init {
                    model: self.init_model.clone(),
                    version: self.version.clone(),
                    session_id: self.session_id.clone(),
                });
            }
            "system" | "user" | "stream_event" => {}
            "assistant" => self.assistant(v, events),
            "result" => self.result(v, events),
            "rate_limit_event" => {
                let info = v.get("rate_limit_info").unwrap_or(&Value::Null);
                self.limit.rejected =
                    info.get("status").and_then(Value::as_str) == Some("rejected");
                self.limit.rejected_until = info
                    .get("resetsAt")
                    .and_then(Value::as_f64)
                    .and_then(limits::from_unix);
                if self.limit.rejected {
                    events.push(AgentEvent::RateLimited {
                        until: self.limit.rejected_until,
                    });
                }
            }
            other => self.lines.ignore(other),
        }
    }

    fn assistant(&mut self, v: &Value, events: &mut Vec<AgentEvent>) {
        let msg = v.get("message").unwrap_or(&Value::Null);
        if let Some(model) = str_of(msg, "model").filter(|m| !m.starts_with('<')) {
            self.last_model = Some(model);
        }
        if let (Some(id), Some(usage)) = (str_of(msg, "id"), msg.get("usage")) {
            self.message_usage.insert(id, usage_tokens(usage));
            // The running total, for a session cost cap (one entry per message id: Claude Code
            // repeats a message's usage on each of its content blocks).
            let mut tokens = Tokens::default();
            for t in self.message_usage.values() {
                tokens += *t;
            }
            events.push(AgentEvent::Usage {
                tokens,
                cost_usd: None,
            });
        }
        let limited = v.get("error").and_then(Value::as_str) == Some("rate_limit");
        let blocks = msg.get("content").and_then(Value::as_array);
        for block in blocks.into_iter().flatten() {
            match block.get("type").and_then(Value::as_str) {
                Some("text") => {
                    let text = block.get("text").and_then(Value::as_str).unwrap_or("");
                    self.scan_text_for_limits(text);
                    if limited {
                        self.limit.message = Some(first_line(text, 300));
                    }
                    let text = first_line(text, 120);
                    if !text.is_empty() {
                        events.push(AgentEvent::Text { text });
                    }
                }
                Some("tool_use") => {
                    if let Some(name) = str_of(block, "name") {
                        events.push(AgentEvent::ToolUse { name });
                    }
                }
                _ => {}
            }
        }
        self.limit.assistant_limited |= limited;
    }

    fn result(&mut self, v: &Value, events: &mut Vec<AgentEvent>) {
        // `modelUsage` covers every model the session used (side calls, subagents); `usage`
        // only the main loop. Prefer the complete figure, it is the one the cost is for.
        let mut by_model = Tokens::default();
        let mut top: Option<(String, f64)> = None;
        if let Some(models) = v.get("modelUsage").and_then(Value::as_object) {
            for (name, m) in models {
                by_model.input += u64_of(m, "inputTokens");
                by_model.output += u64_of(m, "outputTokens");
                by_model.cache_read += u64_of(m, "cacheReadInputTokens");
                by_model.cache_write += u64_of(m, "cacheCreationInputTokens");
                let cost = m.get("costUSD").and_then(Value::as_f64).unwrap_or(0.0);
                if top.as_ref().is_none_or(|(_, c)| cost > *c) {
                    top = Some((name.clone(), cost));
                }
            }
        }
        let tokens = if by_model.is_zero() {
            v.get("usage").map(usage_tokens).unwrap_or_default()
        } else {
            by_model
        };
        let subtype = str_of(v, "subtype");
        let is_error = v.get("is_error").and_then(Value::as_bool).unwrap_or(false)
            || subtype.as_deref().is_some_and(|s| s.starts_with("error"));
        let text = str_of(v, "result");
        if let Some(t) = &text {
            self.scan_text_for_limits(t);
        }
        let errors = v
            .get("errors")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|e| e.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let result = ResultEvent {
            subtype,
            is_error,
            num_turns: v.get("num_turns").and_then(Value::as_u64),
            text,
            tokens,
            cost_usd: v.get("total_cost_usd").and_then(Value::as_f64),
            session_id: str_of(v, "session_id"),
            api_error_status: v.get("api_error_status").and_then(Value::as_i64),
            errors,
            top_model: top.map(|(name, _)| name),
        };
        events.push(AgentEvent::Result {
            is_error,
            cost_usd: result.cost_usd,
            tokens,
        });
        self.result = Some(result);
    }

    fn rate_limit(&self) -> Option<RateLimit> {
        let failed = self.result.as_ref().is_none_or(|r| r.is_error);
        let status_429 = self.result.as_ref().and_then(|r| r.api_error_status) == Some(429);
        let l = &self.limit;
        let signalled = l.rejected || l.assistant_limited || status_429 || l.legacy_until.is_some();
        if !failed || !signalled {
            return None;
        }
        let message = self
            .result
            .as_ref()
            .and_then(|r| r.text.clone())
            .or_else(|| l.message.clone())
            .unwrap_or_else(|| "rate limited".to_string());
        let until = l
            .legacy_until
            .or(if l.rejected { l.rejected_until } else { None })
            .or_else(|| limits::clock_reset(&message, self.started_at))
            .or_else(|| {
                let m = l.message.as_deref()?;
                limits::clock_reset(m, self.started_at)
            });
        Some(RateLimit { until, message })
    }
}

impl StreamParser for ClaudeParser {
    fn line(&mut self, stream: Stream, line: &str, complete: bool, events: &mut Vec<AgentEvent>) {
        match self.lines.line(stream, line, complete) {
            JsonLine::Object(v) => self.event(&v, events),
            JsonLine::Text(text) | JsonLine::Stderr(text) => self.scan_text_for_limits(text),
            JsonLine::Skip => {}
        }
    }

    fn result_seen(&self) -> bool {
        self.result.is_some()
    }

    fn finish(self: Box<Self>, stderr_tail: &str) -> ParsedStream {
        let mut warnings = Vec::new();
        self.lines.warnings("claude", &mut warnings);
        let rate_limit = self.rate_limit();
        let mut report = AgentReport {
            agent_name: "claude".to_string(),
            agent_version: self.version.clone(),
            agent_session_id: self.session_id.clone(),
            model: self.last_model.clone().or(self.init_model.clone()),
            ..AgentReport::default()
        };
        match self.result {
            Some(r) => {
                report.is_error = r.is_error;
                report.num_turns = r.num_turns;
                report.tokens = r.tokens;
                report.cost_usd = r.cost_usd;
                report.cost_source = match r.cost_usd {
                    Some(_) => CostSource::Reported,
                    None => CostSource::Unknown,
                };
                report.agent_session_id = r.session_id.or(report.agent_session_id);
                report.model = report.model.or(r.top_model);
                if r.is_error {
                    let mut text = r.text.unwrap_or_else(|| {
                        format!(
                            "claude ended with {}",
                            r.subtype.as_deref().unwrap_or("an error")
                        )
                    });
                    if !r.errors.is_empty() {
                        text = format!("{text}: {}", r.errors.join("; "));
                    }
                    report.error_text = Some(text);
                } else {
                    report.summary = r.text.filter(|t| !t.trim().is_empty());
                }
            }
            None => {
                report.is_error = true;
                report.error_text = Some(no_result_text(stderr_tail));
                // The best count we have: each assistant message's usage (output counts in
                // the stream are partial, so this undercounts output).
                for t in self.message_usage.values() {
                    report.tokens += *t;
                }
            }
        }
        ParsedStream {
            report: Some(report),
            rate_limit,
            warnings,
        }
    }
}

fn no_result_text(stderr_tail: &str) -> String {
    let mut text = "claude ended without a final result event".to_string();
    text.push_str(&stderr_suffix(stderr_tail));
    if stderr_tail.contains("cannot be used with root/sudo privileges") {
        text.push_str(
            " (Claude Code refuses bypassPermissions as root: set IS_SANDBOX=1 in the agent's \
             environment if this machine is a sandbox, or choose another permission mode)",
        );
    }
    text
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
