//! A mock of the Gemini API (`generativelanguage.googleapis.com`), for driving the real Gemini
//! CLI in tests: point it here with `GOOGLE_GEMINI_BASE_URL` and `GEMINI_API_KEY`, and
//! `{"security":{"auth":{"selectedType":"gemini-api-key"}}}` in `$HOME/.gemini/settings.json`.
//!
//! `POST …:streamGenerateContent` requests that offer tools are the agent's turns, answered
//! from a *script*: a JSON list of turns, the turn served being the number of
//! `functionResponse` parts already in `contents` (stateless: a retry cannot skip a turn). A
//! turn is `{"shell": "<command>"}` (a `run_shell_command` call) or `{"text": "…"}`, with
//! `usage` (`prompt`, `cached`, `candidates`, `thoughts`); `modelVersion` is the script's
//! `model`. Every other request (the CLI's routing and context calls, `generateContent` with a
//! JSON schema) gets a small well-formed answer, or the CLI retries; the answer to a JSON-schema
//! request is an object with every required property filled in.

use serde_json::{Map, Value, json};

use super::http::http;
use super::server::MockServer;
pub use super::server::Request;

/// A running mock; stops when dropped.
pub struct MockGemini {
    server: MockServer,
}

/// The model the side calls report.
const SIDE_MODEL: &str = "gemini-2.5-flash-lite";

impl MockGemini {
    /// `model` is the `modelVersion` the scripted turns report; with `""`, every answer reports
    /// the model its request asked for, as the real API does.
    pub fn start(script: Value, model: &str) -> std::io::Result<MockGemini> {
        let turns = script.as_array().cloned().unwrap_or_default();
        let model = model.to_string();
        let server = MockServer::start(move |method, path, body| {
            respond(method, path, body, &turns, &model)
        })?;
        Ok(MockGemini { server })
    }

    /// `http://127.0.0.1:<port>`, for `GOOGLE_GEMINI_BASE_URL`.
    pub fn base_url(&self) -> String {
        self.server.url()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }
}

/// A value of a JSON schema with every required property filled in.
fn fill(schema: &Value) -> Value {
    let kind = schema["type"].as_str().unwrap_or("").to_ascii_lowercase();
    match kind.as_str() {
        "object" => {
            let mut out = Map::new();
            if let Some(props) = schema["properties"].as_object() {
                for (k, v) in props {
                    out.insert(k.clone(), fill(v));
                }
            }
            Value::Object(out)
        }
        "array" => json!([]),
        "number" | "integer" => {
            let min = schema["minimum"].as_f64().unwrap_or(1.0);
            json!(min.max(1.0) as i64)
        }
        "boolean" => json!(false),
        _ => match schema["enum"].as_array().and_then(|e| e.first()) {
            Some(first) => first.clone(),
            None => json!("ok"),
        },
    }
}

fn candidate(parts: Value, usage: Value, model: &str) -> Value {
    json!({"candidates": [{"content": {"role": "model", "parts": parts},
                           "finishReason": "STOP", "index": 0}],
           "usageMetadata": usage, "modelVersion": model})
}

fn respond(
    method: &str,
    path: &str,
    body: &Value,
    turns: &[Value],
    model: &str,
) -> (Option<usize>, Vec<u8>) {
    if method != "POST" {
        return (None, http(200, "application/json", &[], b"{}"));
    }
    // `…/models/<model>:streamGenerateContent`: the model the CLI asked for.
    let requested = path
        .rsplit_once("/models/")
        .and_then(|(_, m)| m.split(':').next())
        .unwrap_or("");
    let (model, side_model) = if model.is_empty() {
        (requested, requested)
    } else {
        (model, SIDE_MODEL)
    };
    let stream = path.contains("streamGenerateContent");
    let has_tools = body["tools"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t["functionDeclarations"].is_array()));
    let (turn, answer) = if stream && has_tools && !turns.is_empty() {
        let done = body["contents"]
            .as_array()
            .map(|c| {
                c.iter()
                    .flat_map(|c| c["parts"].as_array().cloned().unwrap_or_default())
                    .filter(|p| p.get("functionResponse").is_some())
                    .count()
            })
            .unwrap_or(0);
        let turn = done.min(turns.len() - 1);
        let script = &turns[turn];
        let part = match script["shell"].as_str() {
            Some(cmd) => json!({"functionCall": {"name": "run_shell_command",
                                                 "args": {"command": cmd, "description": "run"}}}),
            None => json!({"text": script["text"].as_str().unwrap_or("done")}),
        };
        let u = &script["usage"];
        let n = |k: &str| u[k].as_u64().unwrap_or(0);
        let usage = json!({"promptTokenCount": n("prompt"), "cachedContentTokenCount": n("cached"),
            "candidatesTokenCount": n("candidates"), "thoughtsTokenCount": n("thoughts"),
            "totalTokenCount": n("prompt") + n("candidates") + n("thoughts")});
        (Some(turn), candidate(json!([part]), usage, model))
    } else {
        let config = &body["generationConfig"];
        let schema = config
            .get("responseJsonSchema")
            .or_else(|| config.get("responseSchema"));
        let text = match schema {
            Some(s) => fill(s).to_string(),
            None => "ok".to_string(),
        };
        let usage =
            json!({"promptTokenCount": 10, "candidatesTokenCount": 2, "totalTokenCount": 12});
        (None, candidate(json!([{"text": text}]), usage, side_model))
    };
    let response = if stream {
        let body = format!("data: {answer}\r\n\r\n");
        http(200, "text/event-stream", &[], body.as_bytes())
    } else {
        http(200, "application/json", &[], answer.to_string().as_bytes())
    };
    (turn, response)
}
