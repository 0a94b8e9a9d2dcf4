//! Codex CLI's `exec --json` events: `thread.started`, `turn.started`, `item.started` /
//! `item.updated` / `item.completed` (agent messages, reasoning, commands, file changes, MCP
//! calls, web searches, errors), `turn.completed` with usage, `turn.failed`, and `error`.
//!
//! A command shows as its call when it starts and its output when it completes; an item seen only
//! completed (as older Codex releases wrote them) shows both then.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Entry, Finish, RESULT_CHARS, RESULT_LINES, args_line, str_at, trim_block, u64_at};

#[derive(Debug, Default)]
pub(super) struct State {
    /// Ids of items whose call was shown at `item.started`.
    started: BTreeSet<String>,
}

impl State {
    pub(super) fn event(&mut self, v: &Value, out: &mut Vec<Entry>) -> bool {
        let kind = str_at(v, "type").unwrap_or("");
        match kind {
            "thread.started" | "turn.started" | "item.updated" => true,
            "item.started" | "item.completed" => {
                let item = v.get("item").unwrap_or(&Value::Null);
                self.item(item, kind == "item.completed", out);
                true
            }
            "turn.completed" => {
                let usage = v.get("usage");
                out.push(Entry::Finish(Finish {
                    ok: true,
                    input_tokens: usage.and_then(|u| u64_at(u, "input_tokens")),
                    output_tokens: usage.and_then(|u| u64_at(u, "output_tokens")),
                    ..Finish::default()
                }));
                true
            }
            "turn.failed" => {
                let message = v.get("error").and_then(|e| str_at(e, "message"));
                out.push(Entry::Finish(Finish {
                    ok: false,
                    text: message.map(str::to_string),
                    ..Finish::default()
                }));
                true
            }
            "error" => {
                let message = str_at(v, "message").unwrap_or("codex reported an error");
                out.push(if message.starts_with("Reconnecting") {
                    Entry::Note {
                        text: message.to_string(),
                    }
                } else {
                    Entry::Error {
                        text: message.to_string(),
                    }
                });
                true
            }
            _ => false,
        }
    }

    fn item(&mut self, item: &Value, done: bool, out: &mut Vec<Entry>) {
        let id = str_at(item, "id").unwrap_or("").to_string();
        let kind = str_at(item, "type").unwrap_or("");
        let text = |key| str_at(item, key).unwrap_or("").trim().to_string();
        match kind {
            "agent_message" if done => out.push(Entry::Text { text: text("text") }),
            "reasoning" if done => out.push(Entry::Thinking { text: text("text") }),
            "error" if done => out.push(Entry::Error {
                text: text("message"),
            }),
            "command_execution" | "file_change" | "mcp_tool_call" | "web_search" => {
                let call = call(kind, item);
                if !done {
                    self.started.insert(id);
                    out.push(call);
                    return;
                }
                if !self.started.remove(&id) {
                    out.push(call);
                }
                if let Some(result) = result(kind, item) {
                    out.push(result);
                }
            }
            _ => {}
        }
    }
}

fn call(kind: &str, item: &Value) -> Entry {
    let (name, args) = match kind {
        "command_execution" => ("shell".to_string(), args_line(item.get("command"))),
        "file_change" => {
            let paths: Vec<String> = item
                .get("changes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| {
                    let kind = str_at(c, "kind").unwrap_or("update");
                    format!("{kind} {}", str_at(c, "path").unwrap_or("?"))
                })
                .collect();
            ("patch".to_string(), paths.join(", "))
        }
        "mcp_tool_call" => {
            let name = match (str_at(item, "server"), str_at(item, "tool")) {
                (Some(s), Some(t)) => format!("{s}.{t}"),
                _ => "mcp".to_string(),
            };
            (name, args_line(item.get("arguments")))
        }
        _ => ("web_search".to_string(), args_line(item.get("query"))),
    };
    Entry::ToolCall { name, args }
}

fn result(kind: &str, item: &Value) -> Option<Entry> {
    let failed = str_at(item, "status") == Some("failed");
    match kind {
        "command_execution" => {
            let code = item.get("exit_code").and_then(Value::as_i64);
            let output = str_at(item, "aggregated_output").unwrap_or("");
            let mut text = trim_block(output, RESULT_LINES, RESULT_CHARS);
            if let Some(code) = code.filter(|c| *c != 0) {
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&format!("exit code {code}"));
            }
            Some(Entry::ToolResult {
                text,
                error: failed || code.is_some_and(|c| c != 0),
            })
        }
        _ if failed => Some(Entry::ToolResult {
            text: "failed".to_string(),
            error: true,
        }),
        _ => None,
    }
}
