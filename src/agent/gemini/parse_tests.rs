//! Tests of the Gemini stream parser on fixtures recorded from the real CLI (0.61.0) talking to
//! a mock of the Gemini API (`tests/fixtures/gemini/README.md`).

use super::*;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/gemini/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse_text(text: &str, stderr: &str) -> (ParsedStream, Vec<AgentEvent>, bool) {
    let mut parser = Box::new(GeminiParser::new());
    let mut events = Vec::new();
    for line in text.lines() {
        parser.line(Stream::Stdout, line, true, &mut events);
    }
    let seen = parser.result_seen();
    (parser.finish(stderr), events, seen)
}

#[test]
fn a_successful_session_reports_session_model_tokens_and_summary() {
    let (p, events, seen) = parse_text(&fixture("write-and-commit.jsonl"), "");
    assert!(seen);
    let r = p.report.unwrap();
    assert!(!r.is_error, "{r:?}");
    assert_eq!(r.agent_name, "gemini");
    assert!(
        r.agent_session_id
            .as_deref()
            .unwrap()
            .starts_with("7fa2dee3")
    );
    assert_eq!(r.model.as_deref(), Some("gemini-2.5-flash"), "not `auto`");
    assert_eq!(
        r.summary.as_deref(),
        Some("Wrote GEMINI.txt and committed it.")
    );
    // gemini-2.5-flash: 2100 prompt of which 1000 cached, 80 response, total 2200 (so 20
    // thinking); the routing call on flash-lite: 10 in, 2 out.
    assert_eq!(
        r.tokens,
        Tokens {
            input: 1110,
            output: 102,
            cache_read: 1000,
            cache_write: 0,
            reasoning: 20
        }
    );
    assert_eq!(r.cost_source, CostSource::Unknown);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, AgentEvent::ToolUse { name } if name == "run_shell_command"))
    );
    assert!(p.rate_limit.is_none());
}

#[test]
fn no_result_is_an_error_with_stderr_and_auth_exit_codes_are_explained() {
    let stderr = fixture("no-auth.stderr");
    let (p, _, seen) = parse_text("", &stderr);
    assert!(!seen);
    let r = p.report.unwrap();
    assert!(r.is_error);
    assert!(r.error_text.unwrap().contains("Please set an Auth method"));
    assert!(exit_text(41).unwrap().contains("GEMINI_API_KEY"));
    assert!(exit_text(53).unwrap().contains("turn limit"));
    assert_eq!(exit_text(1), None);
}

#[test]
fn an_error_result_and_quota_exhaustion() {
    let text = r#"{"type":"init","session_id":"s","model":"gemini-2.5-pro"}
{"type":"error","severity":"warning","message":"Loop detected"}
{"type":"result","status":"error","error":{"type":"FatalTurnLimitedError","message":"Reached max session turns"},"stats":{"total_tokens":30,"input_tokens":20,"output_tokens":10,"cached":0,"input":20}}
"#;
    let (p, _, _) = parse_text(text, "");
    let r = p.report.unwrap();
    assert!(r.is_error);
    assert_eq!(
        r.error_text.as_deref(),
        Some("FatalTurnLimitedError: Reached max session turns")
    );
    assert_eq!(r.model.as_deref(), Some("gemini-2.5-pro"));
    assert_eq!((r.tokens.input, r.tokens.output), (20, 10));
    assert!(p.warnings.iter().any(|w| w.contains("Loop detected")));
    assert!(p.rate_limit.is_none());
    let quota = r#"{"type":"result","status":"error","error":{"type":"Error","message":"Quota exceeded for quota metric 'Generate Content API requests per minute'"}}"#;
    let (p, _, _) = parse_text(quota, "");
    assert!(p.rate_limit.is_some());
}

#[test]
fn garbage_and_unknown_events_are_tolerated() {
    let (p, _, _) = parse_text("Loaded cached credentials.\n{\"type\":\"new_thing\"}\n", "");
    assert!(p.warnings.iter().any(|w| w.contains("not JSON")));
    assert!(p.warnings.iter().any(|w| w.contains("new_thing×1")));
    assert!(p.report.unwrap().is_error);
}
