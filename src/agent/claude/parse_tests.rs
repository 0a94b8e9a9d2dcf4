//! Tests of the Claude stream parser on fixtures recorded from the real CLI
//! (`tests/fixtures/claude/`, see its README for which are recorded and which derived).

use super::*;

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/claude/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse_with_stderr(text: &str, stderr: &str) -> (ParsedStream, Vec<AgentEvent>) {
    let mut parser = Box::new(ClaudeParser::new(start()));
    let mut events = Vec::new();
    for line in text.lines() {
        parser.line(Stream::Stdout, line, true, &mut events);
    }
    for line in stderr.lines() {
        parser.line(Stream::Stderr, line, true, &mut events);
    }
    (parser.finish(stderr), events)
}

fn parse(name: &str) -> (ParsedStream, Vec<AgentEvent>) {
    parse_with_stderr(&fixture(name), "")
}

fn tools(events: &[AgentEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::ToolUse { name } => Some(name.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_successful_session() {
    let (parsed, events) = parse("write-and-commit.jsonl");
    let r = parsed.report.unwrap();
    assert!(!r.is_error);
    assert_eq!(
        r.summary.as_deref(),
        Some("Wrote hello.txt and committed it.")
    );
    assert_eq!(r.num_turns, Some(3));
    assert_eq!(
        r.tokens,
        Tokens {
            input: 1440,
            output: 82,
            cache_read: 6200,
            cache_write: 3200,
            reasoning: 0
        }
    );
    assert!(r.cost_usd.is_some_and(|c| c > 0.0));
    assert_eq!(r.cost_source, CostSource::Reported);
    assert_eq!(r.agent_version.as_deref(), Some("2.1.197"));
    assert_eq!(r.model.as_deref(), Some("claude-opus-4-8"));
    assert!(r.agent_session_id.is_some());
    assert!(parsed.rate_limit.is_none());
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    assert_eq!(tools(&events), ["Write", "Bash"]);
    assert!(matches!(&events[0], AgentEvent::Init { version: Some(v), .. } if v == "2.1.197"));
    assert!(events.contains(&AgentEvent::Text {
        text: "I'll create the file first.".into()
    }));
    assert!(matches!(
        events.last(),
        Some(AgentEvent::Result {
            is_error: false,
            ..
        })
    ));
}

#[test]
fn the_result_is_seen_only_once_it_came() {
    let text = fixture("write-and-commit.jsonl");
    let mut parser = ClaudeParser::new(start());
    let mut events = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for line in &lines[..lines.len() - 1] {
        parser.line(Stream::Stdout, line, true, &mut events);
        assert!(!parser.result_seen());
    }
    parser.line(Stream::Stdout, lines[lines.len() - 1], true, &mut events);
    assert!(parser.result_seen());
}

#[test]
fn garbage_lines_unknown_events_and_fields_are_tolerated_and_counted() {
    let (clean, clean_events) = parse("write-and-commit.jsonl");
    let (parsed, events) = parse("garbage.jsonl");
    assert_eq!(parsed.report, clean.report);
    assert_eq!(tools(&events), tools(&clean_events));
    let w = parsed.warnings.join("\n");
    assert!(
        w.contains("4 stdout line(s) from claude were not JSON"),
        "{w}"
    );
    assert!(w.contains("Warning: could not load some plugin"), "{w}");
    assert!(w.contains("future_event×2"), "{w}");
}

#[test]
fn a_missing_result_is_an_error_with_the_stderr_tail_and_estimated_tokens() {
    let stderr = "Error: something broke\n    at somewhere\n";
    let (parsed, _) = parse_with_stderr(&fixture("no-result.jsonl"), stderr);
    let r = parsed.report.unwrap();
    assert!(r.is_error);
    let err = r.error_text.unwrap();
    assert!(
        err.starts_with("claude ended without a final result event"),
        "{err}"
    );
    assert!(
        err.contains("Error: something broke | at somewhere"),
        "{err}"
    );
    assert_eq!(r.cost_source, CostSource::Unknown);
    assert_eq!(r.cost_usd, None);
    // Input and cache counts of the three assistant messages (each counted once).
    assert_eq!(
        (r.tokens.input, r.tokens.cache_write, r.tokens.cache_read),
        (1440, 3200, 6200)
    );
    assert!(parsed.rate_limit.is_none());
}

#[test]
fn refusal_as_root_says_how_to_fix_it() {
    let stderr = "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons";
    let (parsed, _) = parse_with_stderr("", stderr);
    let err = parsed.report.unwrap().error_text.unwrap();
    assert!(err.contains("IS_SANDBOX=1"), "{err}");
}

#[test]
fn an_error_result_carries_subtype_and_errors() {
    let (parsed, _) = parse("max-turns.jsonl");
    let r = parsed.report.unwrap();
    assert!(r.is_error);
    assert_eq!(
        r.error_text.as_deref(),
        Some("claude ended with error_max_turns: Reached maximum number of turns (1)")
    );
    assert_eq!(r.summary, None);
    assert_eq!(r.num_turns, Some(2));
    assert_eq!(
        (r.tokens.input, r.tokens.output, r.tokens.cache_write),
        (1200, 40, 3000)
    );
    assert!(r.cost_usd.is_some());
    assert!(parsed.rate_limit.is_none());
}

#[test]
fn a_usage_limit_comes_with_its_reset_time() {
    let (parsed, events) = parse("usage-limit.jsonl");
    let limit = parsed.rate_limit.unwrap();
    assert_eq!(
        limit.until.unwrap().to_rfc3339(),
        "2027-01-01T00:00:00+00:00"
    );
    assert!(
        limit.message.contains("hit your session limit"),
        "{}",
        limit.message
    );
    let r = parsed.report.unwrap();
    assert!(r.is_error);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, AgentEvent::RateLimited { until: Some(_) }))
    );
}

#[test]
fn an_api_rate_limit_without_reset_time() {
    let (parsed, _) = parse("api-rate-limit.jsonl");
    let limit = parsed.rate_limit.unwrap();
    assert_eq!(limit.until, None);
    assert!(limit.message.contains("429"), "{}", limit.message);
}

#[test]
fn the_legacy_usage_limit_text() {
    let (parsed, _) = parse("legacy-usage-limit.jsonl");
    let limit = parsed.rate_limit.unwrap();
    assert_eq!(limit.until.unwrap().timestamp(), 1_750_708_800);
    // And on stderr, with no result at all.
    let (parsed, _) = parse_with_stderr("", "Claude AI usage limit reached|1750708800\n");
    assert_eq!(
        parsed.rate_limit.unwrap().until.unwrap().timestamp(),
        1_750_708_800
    );
}

#[test]
fn a_rejected_limit_that_the_session_got_past_is_not_a_limit() {
    let mut text = String::from(
        r#"{"type":"rate_limit_event","rate_limit_info":{"status":"rejected","resetsAt":1798761600}}"#,
    );
    text.push('\n');
    text.push_str(&fixture("write-and-commit.jsonl"));
    let (parsed, _) = parse_with_stderr(&text, "");
    assert!(parsed.rate_limit.is_none());
    assert!(!parsed.report.unwrap().is_error);
}

#[test]
fn over_long_lines_are_counted_once_not_parsed() {
    let mut parser = Box::new(ClaudeParser::new(start()));
    let mut events = Vec::new();
    parser.line(
        Stream::Stdout,
        r#"{"type":"user","message":{"content":"#,
        false,
        &mut events,
    );
    parser.line(Stream::Stdout, "more", false, &mut events);
    parser.line(Stream::Stdout, r#""x"}}"#, true, &mut events);
    for line in fixture("write-and-commit.jsonl").lines() {
        parser.line(Stream::Stdout, line, true, &mut events);
    }
    let parsed = parser.finish("");
    assert_eq!(
        parsed.warnings,
        ["1 stdout line(s) from claude were too long to parse"]
    );
    assert!(!parsed.report.unwrap().is_error);
}

#[test]
fn usage_falls_back_to_usage_when_model_usage_is_absent() {
    let line = r#"{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"ok","total_cost_usd":0.5,"usage":{"input_tokens":7,"output_tokens":3,"cache_read_input_tokens":2,"cache_creation_input_tokens":1}}"#;
    let (parsed, _) = parse_with_stderr(line, "");
    let r = parsed.report.unwrap();
    assert_eq!(
        r.tokens,
        Tokens {
            input: 7,
            output: 3,
            cache_read: 2,
            cache_write: 1,
            reasoning: 0
        }
    );
    assert_eq!(r.cost_usd, Some(0.5));
}
