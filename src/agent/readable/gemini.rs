//! Gemini CLI's `--output-format stream-json`: `init`, `message` (the user's prompt, and the
//! assistant's text in `delta` pieces, joined here), `tool_use`, `tool_result`, `error` and
//! `result` with its stats.

use serde_json::Value;

use super::{Entry, Finish, RESULT_CHARS, RESULT_LINES, args_line, str_at, trim_block, u64_at};

#[derive(Debug, Default)]
pub(super) struct State {
    /// Assistant text not shown yet: pieces arrive one `delta` at a time.
    text: String,
}

impl State {
    pub(super) fn flush(&mut self, out: &mut Vec<Entry>) {
        let text = std::mem::take(&mut self.text);
        let text = text.trim();
        if !text.is_empty() {
            out.push(Entry::Text {
                text: text.to_string(),
            });
        }
    }

    pub(super) fn event(&mut self, v: &Value, out: &mut Vec<Entry>) -> bool {
        let kind = str_at(v, "type").unwrap_or("");
        if kind == "message" && str_at(v, "role") == Some("assistant") {
            if v.get("delta").and_then(Value::as_bool) != Some(true) {
                self.flush(out);
            }
            self.text.push_str(str_at(v, "content").unwrap_or(""));
            return true;
        }
        self.flush(out);
        match kind {
            "init" => {
                if let Some(m) = str_at(v, "model") {
                    out.push(Entry::Note {
                        text: format!("model {m}"),
                    });
                }
            }
            // The user's message is the prompt pitboss composed: known already.
            "message" => {}
            "tool_use" => out.push(Entry::ToolCall {
                name: str_at(v, "tool_name").unwrap_or("tool").to_string(),
                args: args_line(v.get("parameters")),
            }),
            "tool_result" => {
                let error = str_at(v, "status").is_some_and(|s| s != "success");
                let text = str_at(v, "output")
                    .map(str::to_string)
                    .or_else(|| {
                        v.get("error")
                            .and_then(|e| str_at(e, "message"))
                            .map(str::to_string)
                    })
                    .unwrap_or_default();
                out.push(Entry::ToolResult {
                    text: trim_block(&text, RESULT_LINES, RESULT_CHARS),
                    error,
                });
            }
            "error" => out.push(Entry::Error {
                text: str_at(v, "message")
                    .unwrap_or("gemini reported an error")
                    .to_string(),
            }),
            "result" => {
                let stats = v.get("stats").unwrap_or(&Value::Null);
                let ok = str_at(v, "status") == Some("success");
                let text = (!ok)
                    .then(|| v.get("error").and_then(|e| str_at(e, "message")))
                    .flatten()
                    .map(str::to_string);
                out.push(Entry::Finish(Finish {
                    ok,
                    text,
                    turns: None,
                    input_tokens: u64_at(stats, "input_tokens"),
                    output_tokens: u64_at(stats, "output_tokens"),
                    cache_read_tokens: None,
                    cache_write_tokens: None,
                    cost_usd: None,
                    duration_ms: u64_at(stats, "duration_ms"),
                }));
            }
            _ => return false,
        }
        true
    }
}
