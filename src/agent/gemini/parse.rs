//! The pure parser of Gemini CLI's `--output-format stream-json` output (Gemini CLI 0.61), one
//! line at a time.
//!
//! Events we read (everything else, and every unknown field, is tolerated and ignored):
//! - `init`: `session_id`, `model` (often `auto`: the model actually used comes from `result`);
//! - `message` with `role: "assistant"`: text, streamed in pieces (`delta: true`); the text after
//!   the last tool use is the summary;
//! - `tool_use` (`tool_name`): progress, the last tool used; `tool_result` (`status`);
//! - `error` (`severity`, `message`): a notice the CLI recovered from, kept as a warning;
//! - `result`: `status` (`success` or `error`, with `error.type` and `error.message`) and `stats`:
//!   per model (`stats.models`) `input_tokens` (which *includes* `cached`), `input` (= input −
//!   cached), `cached`, `output_tokens` (the response only, *without* thinking) and
//!   `total_tokens` (which also counts thinking). Converted to the ledger's disjoint counts:
//!   input = `input`, cache read = `cached`, reasoning = total − input_tokens − output_tokens,
//!   output = `output_tokens` + reasoning. The model actually used is the one with the most
//!   tokens (the CLI's small routing calls use another).
//!
//! Gemini reports no dollars: the loop estimates the cost. Its exit codes are mapped to words by
//! [`exit_text`].

use serde_json::Value;

use crate::agent::adapter::{ParsedStream, StreamParser, first_line};
use crate::agent::jsonl::{JsonLine, JsonLines, event_type, stderr_suffix, str_of, u64_of};
use crate::agent::observer::AgentEvent;
use crate::agent::outcome::{AgentReport, RateLimit};
use crate::agent::process::Stream;
use crate::usage::{CostSource, Tokens};

/// Parses one Gemini CLI session. Build one per session.
#[derive(Debug, Default)]
pub(crate) struct GeminiParser {
    session_id: Option<String>,
    init_model: Option<String>,
    text: String,
    result: Option<ResultEvent>,
    tool_calls: u64,
    notices: Vec<String>,
    lines: JsonLines,
}

#[derive(Debug, Default)]
struct ResultEvent {
    ok: bool,
    error_type: Option<String>,
    error_message: Option<String>,
    tokens: Tokens,
    model: Option<String>,
}

/// One model's stats as the ledger's disjoint [`Tokens`].
pub(crate) fn model_tokens(m: &Value) -> Tokens {
    let input_tokens = u64_of(m, "input_tokens");
    let cached = u64_of(m, "cached");
    let output_tokens = u64_of(m, "output_tokens");
    let thoughts = u64_of(m, "total_tokens").saturating_sub(input_tokens + output_tokens);
    Tokens {
        input: m
            .get("input")
            .and_then(Value::as_u64)
            .unwrap_or(input_tokens.saturating_sub(cached)),
        output: output_tokens + thoughts,
        cache_read: cached,
        cache_write: 0,
        reasoning: thoughts,
    }
}

/// Gemini CLI's documented exit codes, in words, with what to do.
pub(crate) fn exit_text(code: i32) -> Option<&'static str> {
    Some(match code {
        41 => {
            "gemini could not authenticate (exit 41): set GEMINI_API_KEY, or log in once with \
             `gemini` and choose an auth method"
        }
        42 => "gemini rejected its input (exit 42): the prompt or an argument is invalid",
        44 => "gemini's sandbox failed to start (exit 44)",
        52 => "gemini's configuration is invalid (exit 52): check ~/.gemini/settings.json",
        53 => {
            "gemini stopped at its turn limit (exit 53): raise `model.maxSessionTurns` in its \
             settings, or give the prompt a smaller task"
        }
        54 => "a gemini tool failed fatally (exit 54)",
        130 => "gemini was cancelled (exit 130)",
        _ => return None,
    })
}

fn is_quota(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("quota") || t.contains("resource_exhausted")
}

impl GeminiParser {
    pub(crate) fn new() -> Self {
        GeminiParser::default()
    }

    fn event(&mut self, v: &Value, events: &mut Vec<AgentEvent>) {
        let kind = event_type(v);
        match kind {
            "init" => {
                self.session_id = str_of(v, "session_id");
                self.init_model = str_of(v, "model");
                events.push(AgentEvent::Init {
                    model: self.init_model.clone(),
                    version: None,
                    session_id: self.session_id.clone(),
                });
            }
            "message" => {
                if v.get("role").and_then(Value::as_str) != Some("assistant") {
                    return;
                }
                let piece = v.get("content").and_then(Value::as_str).unwrap_or("");
                if v.get("delta").and_then(Value::as_bool) != Some(true) {
                    self.text.clear();
                }
                self.text.push_str(piece);
                let line = first_line(piece, 120);
                if !line.is_empty() {
                    events.push(AgentEvent::Text { text: line });
                }
            }
            "tool_use" => {
                self.tool_calls += 1;
                self.text.clear();
                if let Some(name) = str_of(v, "tool_name") {
                    events.push(AgentEvent::ToolUse { name });
                }
            }
            "tool_result" => {}
            "error" => {
                if let Some(m) = str_of(v, "message") {
                    self.notices.push(first_line(&m, 200));
                }
            }
            "result" => self.result(v, events),
            other => self.lines.ignore(other),
        }
    }

    fn result(&mut self, v: &Value, events: &mut Vec<AgentEvent>) {
        let stats = v.get("stats").unwrap_or(&Value::Null);
        let mut tokens = Tokens::default();
        let mut top: Option<(String, u64)> = None;
        if let Some(models) = stats.get("models").and_then(Value::as_object) {
            for (name, m) in models {
                tokens += model_tokens(m);
                let total = u64_of(m, "total_tokens");
                if top.as_ref().is_none_or(|(_, n)| total > *n) {
                    top = Some((name.clone(), total));
                }
            }
        } else {
            tokens = model_tokens(stats);
        }
        let ok = v.get("status").and_then(Value::as_str) == Some("success");
        let error = v.get("error").unwrap_or(&Value::Null);
        let result = ResultEvent {
            ok,
            error_type: str_of(error, "type"),
            error_message: str_of(error, "message"),
            tokens,
            model: top.map(|(name, _)| name),
        };
        events.push(AgentEvent::Result {
            is_error: !ok,
            cost_usd: None,
            tokens,
        });
        self.result = Some(result);
    }
}

impl StreamParser for GeminiParser {
    fn line(&mut self, stream: Stream, line: &str, complete: bool, events: &mut Vec<AgentEvent>) {
        if let JsonLine::Object(v) = self.lines.line(stream, line, complete) {
            self.event(&v, events);
        }
    }

    fn result_seen(&self) -> bool {
        self.result.is_some()
    }

    fn finish(self: Box<Self>, stderr_tail: &str) -> ParsedStream {
        let mut warnings: Vec<String> = self
            .notices
            .iter()
            .map(|n| format!("gemini: {n}"))
            .collect();
        self.lines.warnings("gemini", &mut warnings);
        let mut report = AgentReport {
            agent_name: "gemini".to_string(),
            agent_session_id: self.session_id.clone(),
            model: self.init_model.clone().filter(|m| m != "auto"),
            cost_source: CostSource::Unknown,
            ..AgentReport::default()
        };
        let mut rate_limit = None;
        match self.result {
            Some(r) => {
                report.tokens = r.tokens;
                report.model = r.model.or(report.model);
                if r.ok {
                    let text = self.text.trim();
                    report.summary = (!text.is_empty()).then(|| text.to_string());
                } else {
                    report.is_error = true;
                    let message = r
                        .error_message
                        .unwrap_or_else(|| "gemini reported an error".to_string());
                    if is_quota(&message) {
                        rate_limit = Some(RateLimit {
                            until: None,
                            message: first_line(&message, 300),
                        });
                    }
                    report.error_text = Some(match r.error_type {
                        Some(t) => format!("{t}: {message}"),
                        None => message,
                    });
                }
            }
            None => {
                report.is_error = true;
                let mut text = "gemini ended without a result event".to_string();
                text.push_str(&stderr_suffix(stderr_tail));
                if is_quota(stderr_tail) {
                    rate_limit = Some(RateLimit {
                        until: None,
                        message: "gemini: quota exceeded".to_string(),
                    });
                }
                report.error_text = Some(text);
            }
        }
        ParsedStream {
            report: Some(report),
            rate_limit,
            warnings,
        }
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
