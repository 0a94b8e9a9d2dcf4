//! A mock of the OpenAI Responses API (`POST /v1/responses`), for driving the real Codex CLI in
//! tests. Codex ignores `OPENAI_BASE_URL`; point it here with a model provider in
//! `$CODEX_HOME/config.toml` (see [`MockOpenAi::codex_config`]).
//!
//! It answers from a *script*, a JSON list of turns. The turn served is the number of tool
//! results (`function_call_output`) already in the request's `input`, so the mock is stateless
//! and a retry cannot make it skip a turn. A turn is `{"shell": "<command>"}` (a call of the
//! shell tool the CLI offers: `exec_command`, `shell_command` or `shell`), `{"text": "…"}` (the
//! final answer), or `{"error": {"status": 500, "body": {…}}}`; each may carry `usage`
//! (`input_tokens`, `cached_tokens`, `output_tokens`, `reasoning_tokens`). Replies are
//! server-sent events: `response.created`, `response.output_item.added/done`,
//! `response.completed` with `usage`.
//!
//! It also speaks the chat-completions API (`POST /v1/chat/completions`, not streamed), which
//! Aider uses: the turn is the number of assistant messages in the request, the reply is the
//! turn's `text` with `usage` (`prompt_tokens` from `input_tokens`, `completion_tokens` from
//! `output_tokens`, cached tokens in `prompt_tokens_details`; with `cache_read_input_tokens` and
//! `cache_creation_input_tokens` in the turn's usage, those two fields too, Anthropic style,
//! `prompt_tokens` then being uncached + read + written). A request asking for a commit
//! message (Aider's own commits) gets the first turn's `commit_message`. Anything else gets
//! `200 {}`.

use serde_json::{Value, json};

use super::http::http;
use super::server::MockServer;
pub use super::server::Request;

/// A running mock; stops when dropped.
pub struct MockOpenAi {
    server: MockServer,
}

impl MockOpenAi {
    pub fn start(script: Value) -> std::io::Result<MockOpenAi> {
        let turns = script.as_array().cloned().unwrap_or_default();
        let server =
            MockServer::start(move |method, path, body| respond(method, path, body, &turns))?;
        Ok(MockOpenAi { server })
    }

    /// `http://127.0.0.1:<port>/v1`.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.server.url())
    }

    /// A `$CODEX_HOME/config.toml` that sends `model` to this mock, with the API key read from
    /// `env_key`, and no retries (a test wants the first answer).
    pub fn codex_config(&self, model: &str, env_key: &str) -> String {
        format!(
            "model = \"{model}\"\nmodel_provider = \"mock\"\n\n[model_providers.mock]\n\
             name = \"mock\"\nbase_url = \"{}\"\nenv_key = \"{env_key}\"\nwire_api = \"responses\"\n\
             supports_websockets = false\nrequest_max_retries = 0\nstream_max_retries = 0\n",
            self.base_url()
        )
    }

    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }
}

fn chat(body: &Value, turns: &[Value]) -> (Option<usize>, Vec<u8>) {
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let asks_commit_message = messages.iter().any(|m| {
        m.to_string()
            .to_ascii_lowercase()
            .contains("commit message")
    });
    let (turn, text, usage) = if asks_commit_message {
        let text = turns[0]["commit_message"]
            .as_str()
            .unwrap_or("chore: changes");
        (None, text.to_string(), json!({}))
    } else {
        let turn = messages
            .iter()
            .filter(|m| m["role"] == "assistant")
            .count()
            .min(turns.len() - 1);
        let text = turns[turn]["text"].as_str().unwrap_or("done").to_string();
        (Some(turn), text, turns[turn]["usage"].clone())
    };
    let n = |k: &str| usage.get(k).and_then(Value::as_u64).unwrap_or(0);
    // Anthropic-style cache counts, as litellm reports them for Anthropic and Bedrock (and a
    // litellm proxy passes on): `prompt_tokens` then *includes* the cache reads and writes.
    let (read, write) = (
        n("cache_read_input_tokens"),
        n("cache_creation_input_tokens"),
    );
    let prompt = n("input_tokens") + read + write;
    let mut usage_out = json!({"prompt_tokens": prompt, "completion_tokens": n("output_tokens"),
        "total_tokens": prompt + n("output_tokens"),
        "prompt_tokens_details": {"cached_tokens": n("cached_tokens") + read}});
    if usage.get("cache_read_input_tokens").is_some() {
        usage_out["cache_read_input_tokens"] = json!(read);
        usage_out["cache_creation_input_tokens"] = json!(write);
    }
    let reply = json!({"id": "chatcmpl-mock", "object": "chat.completion", "created": 1_798_761_600u64,
        "model": body["model"], "choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": text}}],
        "usage": usage_out});
    (
        turn,
        http(200, "application/json", &[], reply.to_string().as_bytes()),
    )
}

fn respond(method: &str, path: &str, body: &Value, turns: &[Value]) -> (Option<usize>, Vec<u8>) {
    if method == "POST" && path.ends_with("/chat/completions") && !turns.is_empty() {
        return chat(body, turns);
    }
    if method != "POST" || !path.ends_with("/responses") || turns.is_empty() {
        return (None, http(200, "application/json", &[], b"{}"));
    }
    let input = body.get("input").and_then(Value::as_array);
    let turn = input
        .map(|items| {
            items
                .iter()
                .filter(|i| i["type"] == "function_call_output")
                .count()
        })
        .unwrap_or(0)
        .min(turns.len() - 1);
    let script = &turns[turn];
    if let Some(err) = script.get("error") {
        let status = err.get("status").and_then(Value::as_u64).unwrap_or(500) as u16;
        let body = err.get("body").cloned().unwrap_or(json!({}));
        let bytes = body.to_string();
        return (
            Some(turn),
            http(status, "application/json", &[], bytes.as_bytes()),
        );
    }
    let tools: Vec<&str> = body
        .get("tools")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    let item = match (
        script.get("shell").and_then(Value::as_str),
        script.get("text"),
    ) {
        (Some(cmd), _) => {
            let (name, args) = if tools.contains(&"exec_command") {
                ("exec_command", json!({"cmd": cmd}))
            } else if tools.contains(&"shell_command") {
                ("shell_command", json!({"command": cmd}))
            } else {
                ("shell", json!({"command": ["bash", "-lc", cmd]}))
            };
            json!({"type": "function_call", "id": format!("fc_{turn}"),
                   "call_id": format!("call_{turn}"), "name": name,
                   "arguments": args.to_string()})
        }
        (None, text) => json!({"type": "message", "id": format!("msg_{turn}"), "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": text.cloned().unwrap_or(json!("done")),
                         "annotations": []}]}),
    };
    let usage = script.get("usage").cloned().unwrap_or(json!({}));
    let n = |k: &str| usage.get(k).and_then(Value::as_u64).unwrap_or(0);
    let id = format!("resp_{turn}");
    let events = [
        json!({"type": "response.created", "response": {"id": id}}),
        json!({"type": "response.output_item.added", "output_index": 0, "item": item}),
        json!({"type": "response.output_item.done", "output_index": 0, "item": item}),
        json!({"type": "response.completed", "response": {"id": id, "usage": {
            "input_tokens": n("input_tokens"),
            "input_tokens_details": {"cached_tokens": n("cached_tokens")},
            "output_tokens": n("output_tokens"),
            "output_tokens_details": {"reasoning_tokens": n("reasoning_tokens")},
            "total_tokens": n("input_tokens") + n("output_tokens")}}}),
    ];
    let body: String = events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap_or("")))
        .collect();
    (
        Some(turn),
        http(
            200,
            "text/event-stream",
            &[("cache-control".into(), "no-cache".into())],
            body.as_bytes(),
        ),
    )
}
