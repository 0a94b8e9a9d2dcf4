//! A mock of the Anthropic Messages API, for driving the real Claude Code CLI in tests.
//!
//! It listens on 127.0.0.1 (a free port, through `server.rs`), speaks just enough HTTP/1.1
//! (keep-alive, content-length or chunked request bodies), and answers `POST /v1/messages` from
//! a *script*: a JSON list of turns. The turn served is the number of assistant messages already
//! in the request, so the mock is stateless and retries or side requests cannot make it skip a
//! turn.
//! A turn is either a reply (`content` blocks of `text` and `tool_use`, streamed as server-sent
//! events: message_start, content_block_start/delta/stop, message_delta, message_stop, with
//! `usage`) or an `error` (status, headers, JSON body), e.g. a 429 with rate-limit headers.
//! Requests without tools (the CLI's small side calls) get a short text reply, `count_tokens`
//! gets a count, anything else a `200 {}`.

use serde_json::{Value, json};

use super::http::http;
use super::server::MockServer;
pub use super::server::Request;

/// A running mock; stops when dropped.
pub struct MockAnthropic {
    server: MockServer,
}

impl MockAnthropic {
    /// Starts the mock with `script` (a JSON array of turns).
    pub fn start(script: Value) -> std::io::Result<MockAnthropic> {
        let turns = script.as_array().cloned().unwrap_or_default();
        let server =
            MockServer::start(move |method, path, body| respond(method, path, body, &turns))?;
        Ok(MockAnthropic { server })
    }

    /// `http://127.0.0.1:<port>`, for `ANTHROPIC_BASE_URL`.
    pub fn base_url(&self) -> String {
        self.server.url()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }
}

/// Reads a script file and replaces `{{KEY}}` placeholders with JSON-escaped values.
pub fn load_script(path: &std::path::Path, vars: &[(&str, &str)]) -> Value {
    let mut text = std::fs::read_to_string(path).expect("script file");
    for (k, v) in vars {
        let escaped = serde_json::to_string(v).unwrap();
        text = text.replace(&format!("{{{{{k}}}}}"), &escaped[1..escaped.len() - 1]);
    }
    serde_json::from_str(&text).expect("script is JSON")
}

fn json_response(value: &Value) -> Vec<u8> {
    http(200, "application/json", &[], value.to_string().as_bytes())
}

fn respond(method: &str, path: &str, body: &Value, turns: &[Value]) -> (Option<usize>, Vec<u8>) {
    if method != "POST" || !path.starts_with("/v1/messages") {
        return (None, json_response(&json!({})));
    }
    if path.contains("count_tokens") {
        return (None, json_response(&json!({"input_tokens": 42})));
    }
    let model = body.get("model").cloned().unwrap_or(json!("claude-mock"));
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let has_tools = body
        .get("tools")
        .and_then(Value::as_array)
        .is_some_and(|t| !t.is_empty());
    if !has_tools || turns.is_empty() {
        let side = json!({"content": [{"type": "text", "text": "ok"}],
                          "usage": {"input_tokens": 10, "output_tokens": 2}});
        return (None, reply(&side, &model, stream, 0));
    }
    let messages = body.get("messages").and_then(Value::as_array);
    let turn = messages
        .map(|m| m.iter().filter(|m| m["role"] == "assistant").count())
        .unwrap_or(0)
        .min(turns.len() - 1);
    let script = &turns[turn];
    if let Some(err) = script.get("error") {
        let status = err.get("status").and_then(Value::as_u64).unwrap_or(500) as u16;
        let headers: Vec<(String, String)> = err
            .get("headers")
            .and_then(Value::as_object)
            .map(|h| {
                let value = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
                h.iter().map(|(k, v)| (k.clone(), value(v))).collect()
            })
            .unwrap_or_default();
        let body = err.get("body").cloned().unwrap_or(json!({}));
        return (
            Some(turn),
            http(
                status,
                "application/json",
                &headers,
                body.to_string().as_bytes(),
            ),
        );
    }
    (Some(turn), reply(script, &model, stream, turn))
}

/// A scripted reply as a JSON message or as server-sent events.
fn reply(script: &Value, model: &Value, stream: bool, turn: usize) -> Vec<u8> {
    let blocks: Vec<Value> = script
        .get("content")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let usage = script.get("usage").cloned().unwrap_or(json!({}));
    let n = |k: &str| usage.get(k).and_then(Value::as_u64).unwrap_or(0);
    let blocks: Vec<Value> = blocks
        .into_iter()
        .enumerate()
        .map(|(i, mut b)| {
            if b["type"] == "tool_use" && b.get("id").is_none() {
                b["id"] = json!(format!("toolu_mock_{turn}_{i}"));
            }
            b
        })
        .collect();
    let stop_reason = if blocks.iter().any(|b| b["type"] == "tool_use") {
        "tool_use"
    } else {
        "end_turn"
    };
    let id = format!("msg_mock_{turn}");
    let full_usage = json!({
        "input_tokens": n("input_tokens"), "output_tokens": n("output_tokens"),
        "cache_creation_input_tokens": n("cache_creation_input_tokens"),
        "cache_read_input_tokens": n("cache_read_input_tokens"),
    });
    if !stream {
        let msg = json!({"id": id, "type": "message", "role": "assistant", "model": model,
            "content": blocks, "stop_reason": stop_reason, "stop_sequence": null, "usage": full_usage});
        return json_response(&msg);
    }
    let mut start_usage = full_usage.clone();
    start_usage["output_tokens"] = json!(1);
    let mut events = vec![(
        "message_start",
        json!({"type": "message_start", "message": {"id": id, "type": "message", "role": "assistant",
            "model": model, "content": [], "stop_reason": null, "stop_sequence": null, "usage": start_usage}}),
    )];
    for (i, b) in blocks.iter().enumerate() {
        let (start, delta) = if b["type"] == "tool_use" {
            (
                json!({"type": "tool_use", "id": b["id"], "name": b["name"], "input": {}}),
                json!({"type": "input_json_delta", "partial_json": b["input"].to_string()}),
            )
        } else {
            (
                json!({"type": "text", "text": ""}),
                json!({"type": "text_delta", "text": b["text"]}),
            )
        };
        events.push((
            "content_block_start",
            json!({"type": "content_block_start", "index": i, "content_block": start}),
        ));
        events.push((
            "content_block_delta",
            json!({"type": "content_block_delta", "index": i, "delta": delta}),
        ));
        events.push((
            "content_block_stop",
            json!({"type": "content_block_stop", "index": i}),
        ));
    }
    events.push((
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null},
            "usage": {"output_tokens": n("output_tokens")}}),
    ));
    events.push(("message_stop", json!({"type": "message_stop"})));
    let body: String = events
        .iter()
        .map(|(e, d)| format!("event: {e}\ndata: {d}\n\n"))
        .collect();
    http(
        200,
        "text/event-stream",
        &[("cache-control".into(), "no-cache".into())],
        body.as_bytes(),
    )
}
