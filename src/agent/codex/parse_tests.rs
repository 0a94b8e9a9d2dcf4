//! Tests of the Codex stream parser on fixtures recorded from the real CLI (0.169.0) talking to
//! a mock of the Responses API (`tests/fixtures/codex/README.md`).

use super::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/codex/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse_text(text: &str, stderr: &str) -> (ParsedStream, Vec<AgentEvent>, bool) {
    let mut parser = Box::new(CodexParser::new());
    let mut events = Vec::new();
    for line in text.lines() {
        parser.line(Stream::Stdout, line, true, &mut events);
    }
    let seen = parser.result_seen();
    (parser.finish(stderr), events, seen)
}

fn parse(name: &str) -> (ParsedStream, Vec<AgentEvent>, bool) {
    parse_text(&fixture(name), "")
}

#[test]
fn a_completed_turn_reports_thread_tokens_and_the_last_message() {
    let (p, events, seen) = parse("write-and-commit.jsonl");
    assert!(seen);
    let r = p.report.unwrap();
    assert!(!r.is_error, "{r:?}");
    assert_eq!(r.agent_name, "codex");
    assert!(
        r.agent_session_id
            .as_deref()
            .unwrap()
            .starts_with("01a20c91")
    );
    assert_eq!(
        r.summary.as_deref(),
        Some("Wrote CODEX.md and committed it.")
    );
    // The mock reported 1200 + 1300 input of which 200 + 1000 cached, 80 + 20 output of which
    // 30 reasoning: input is the uncached part, reasoning stays inside output.
    assert_eq!(
        r.tokens,
        Tokens {
            input: 1300,
            output: 100,
            cache_read: 1200,
            cache_write: 0,
            reasoning: 30
        }
    );
    assert_eq!(r.cost_source, CostSource::Unknown);
    assert_eq!(r.num_turns, Some(1));
    assert!(p.rate_limit.is_none());
    assert!(
        events
            .iter()
            .any(|e| matches!(e, AgentEvent::ToolUse { name } if name == "command_execution"))
    );
    assert!(
        p.warnings.iter().any(|w| w.contains("Model metadata")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn reconnects_are_transient_and_the_final_error_fails_the_turn() {
    let (p, events, seen) = parse("server-error.jsonl");
    assert!(seen);
    let r = p.report.unwrap();
    assert!(r.is_error);
    assert!(r.error_text.unwrap().contains("high demand"));
    assert!(p.rate_limit.is_none());
    let retries = events
        .iter()
        .filter(
            |e| matches!(e, AgentEvent::Warning { message } if message.starts_with("Reconnecting")),
        )
        .count();
    assert_eq!(retries, 2);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("reconnected to its API 2 time(s)"))
    );
}

#[test]
fn a_usage_limit_comes_back_with_its_reset_time() {
    let (p, _, _) = parse("usage-limit.jsonl");
    let limit = p.rate_limit.expect("a usage limit");
    assert_eq!(
        limit.until.unwrap().to_rfc3339(),
        "2027-01-01T00:00:00+00:00"
    );
    assert!(limit.message.contains("usage limit"));
    assert!(p.report.unwrap().is_error);
}

#[test]
fn a_stream_cut_short_keeps_the_usage_seen_so_far() {
    // Killed after one completed turn of two: the first turn's tokens are kept.
    let text = fixture("write-and-commit.jsonl");
    let first_turn: String = text
        .lines()
        .take_while(|l| !l.contains("turn.completed"))
        .chain(text.lines().filter(|l| l.contains("turn.completed")))
        .chain(std::iter::once(r#"{"type":"turn.started"}"#))
        .map(|l| format!("{l}\n"))
        .collect();
    let (p, _, _) = parse_text(&first_turn, "Killed\n");
    let r = p.report.unwrap();
    assert_eq!(r.tokens.input, 1300);
    assert!(!r.is_error, "the completed turn is the session's result");
    let (p, _, seen) = parse_text(
        "{\"type\":\"thread.started\",\"thread_id\":\"t\"}\n",
        "oops\n",
    );
    assert!(!seen);
    let r = p.report.unwrap();
    assert!(r.is_error);
    assert!(
        r.error_text
            .unwrap()
            .contains("without a completed turn; stderr: oops")
    );
}

#[test]
fn garbage_and_unknown_events_are_tolerated() {
    let text = "not json\n{\"type\":\"future.event\"}\n{\"type\":\"item.completed\",\"item\":{\"type\":\"new_kind\"}}\n";
    let (p, _, _) = parse_text(text, "");
    assert!(p.warnings.iter().any(|w| w.contains("not JSON")));
    assert!(p.warnings.iter().any(|w| w.contains("future.event×1")));
}

#[test]
fn an_auth_failure_says_what_to_do() {
    let text = r#"{"type":"turn.failed","error":{"message":"unexpected status 401 Unauthorized: Missing bearer"}}"#;
    let (p, _, _) = parse_text(text, "");
    let e = p.report.unwrap().error_text.unwrap();
    assert!(e.contains("401") && e.contains("run `codex login`"), "{e}");
}

#[test]
fn reset_times_in_codex_words() {
    let t = usage_limit_reset("… or try again at Mar 3rd, 2027 2:05 PM.").unwrap();
    assert_eq!(t.to_rfc3339(), "2027-03-03T14:05:00+00:00");
    assert_eq!(usage_limit_reset("try again later"), None);
}
