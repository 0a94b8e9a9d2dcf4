//! Claude Code's `--output-format stream-json`: `system`/`init`, `assistant` messages (text,
//! thinking and `tool_use` blocks), `user` messages (`tool_result` blocks), `result`, and
//! `rate_limit_event`. `stream_event` partials are skipped (the whole message follows).

use serde_json::Value;

use super::{
    ARGS_CHARS, Entry, Finish, RESULT_CHARS, RESULT_LINES, args_line, str_at, trim_block, u64_at,
};

/// One event; false when the event type is not one we show.
pub(super) fn event(v: &Value, out: &mut Vec<Entry>) -> bool {
    match str_at(v, "type").unwrap_or("") {
        "system" => {
            init(v, out);
            true
        }
        "stream_event" => true,
        "assistant" => {
            for block in blocks(v) {
                match str_at(block, "type") {
                    Some("text") => push_text(out, str_at(block, "text"), false),
                    Some("thinking") => push_text(out, str_at(block, "thinking"), true),
                    Some("tool_use") => out.push(Entry::ToolCall {
                        name: str_at(block, "name").unwrap_or("tool").to_string(),
                        args: args_line(block.get("input")),
                    }),
                    _ => {}
                }
            }
            if let Some(e) = str_at(v, "error") {
                out.push(Entry::Error {
                    text: e.to_string(),
                });
            }
            true
        }
        "user" => {
            for block in blocks(v) {
                if str_at(block, "type") == Some("tool_result") {
                    out.push(Entry::ToolResult {
                        text: trim_block(
                            &result_text(block.get("content")),
                            RESULT_LINES,
                            RESULT_CHARS,
                        ),
                        error: block.get("is_error").and_then(Value::as_bool) == Some(true),
                    });
                }
            }
            true
        }
        "result" => {
            finish(v, out);
            true
        }
        "rate_limit_event" => {
            let info = v.get("rate_limit_info");
            let status = info.and_then(|i| str_at(i, "status")).unwrap_or("?");
            out.push(Entry::Note {
                text: format!("rate limit: {status}"),
            });
            true
        }
        _ => false,
    }
}

/// `system`/`init`: the model and Claude Code's version, as a note.
fn init(v: &Value, out: &mut Vec<Entry>) {
    if str_at(v, "subtype") == Some("init") {
        let mut parts = Vec::new();
        if let Some(m) = str_at(v, "model") {
            parts.push(format!("model {m}"));
        }
        if let Some(ver) = str_at(v, "claude_code_version") {
            parts.push(format!("Claude Code {ver}"));
        }
        if !parts.is_empty() {
            out.push(Entry::Note {
                text: parts.join(", "),
            });
        }
    }
}

/// `result`: the errors it lists, then how the session finished (its final text unless the
/// assistant just said it, turns, tokens, cost, duration).
fn finish(v: &Value, out: &mut Vec<Entry>) {
    let is_error = v.get("is_error").and_then(Value::as_bool) == Some(true);
    if let Some(errors) = v.get("errors").and_then(Value::as_array) {
        for e in errors.iter().filter_map(Value::as_str) {
            out.push(Entry::Error {
                text: e.to_string(),
            });
        }
    }
    let usage = v.get("usage");
    // Split as the record splits them (never cache reads added into "in").
    let input = usage.and_then(|u| u64_at(u, "input_tokens"));
    // A successful result repeats the last thing the assistant said: shown once.
    let said_last = |t: &str| matches!(out.last(), Some(Entry::Text { text }) if text == t.trim());
    let text = match str_at(v, "result") {
        Some(t) if !is_error && said_last(t) => None,
        Some(t) => Some(t.to_string()),
        None if is_error => str_at(v, "subtype").map(str::to_string),
        None => None,
    };
    out.push(Entry::Finish(Finish {
        ok: !is_error,
        text,
        turns: u64_at(v, "num_turns"),
        input_tokens: input,
        output_tokens: usage.and_then(|u| u64_at(u, "output_tokens")),
        cache_read_tokens: usage.and_then(|u| u64_at(u, "cache_read_input_tokens")),
        cache_write_tokens: usage.and_then(|u| u64_at(u, "cache_creation_input_tokens")),
        cost_usd: v.get("total_cost_usd").and_then(Value::as_f64),
        duration_ms: u64_at(v, "duration_ms"),
    }));
}

/// The content blocks of an `assistant` or `user` message.
fn blocks(v: &Value) -> impl Iterator<Item = &Value> {
    v.get("message")
        .and_then(|m| m.get("content"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn push_text(out: &mut Vec<Entry>, text: Option<&str>, thinking: bool) {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return;
    };
    let text = text.to_string();
    out.push(if thinking {
        Entry::Thinking { text }
    } else {
        Entry::Text { text }
    });
}

/// A tool result's content: a string, or text blocks.
fn result_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match str_at(i, "text") {
                Some(t) => t.to_string(),
                None => super::one_line_short(&i.to_string(), ARGS_CHARS),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}
