//! Tests of the Aider output parser (`tests/fixtures/aider/README.md`).

use super::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/aider/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse_text(text: &str) -> (ParsedStream, Vec<AgentEvent>) {
    let mut parser = Box::new(AiderParser::new());
    let mut events = Vec::new();
    for line in text.lines() {
        parser.line(Stream::Stdout, line, true, &mut events);
    }
    (parser.finish(""), events)
}

#[test]
fn counts_with_suffixes() {
    assert_eq!(count("800"), Some(800));
    assert_eq!(count("2.3k"), Some(2300));
    assert_eq!(count("12k"), Some(12000));
    assert_eq!(count("1.1M"), Some(1_100_000));
    assert_eq!(count("many"), None);
}

#[test]
fn token_lines_with_and_without_cache() {
    assert_eq!(
        tokens_line("Tokens: 800 sent, 60 received. Cost: $0.0026 message, $0.0026 session."),
        Some((800, 0, 0, 60, Some(0.0026)))
    );
    assert_eq!(
        tokens_line(
            "Tokens: 2.3k sent, 1.2k cache write, 800 cache hit, 120 received. Cost: $0.01 message, $0.04 session."
        ),
        Some((2300, 1200, 800, 120, Some(0.04)))
    );
    assert_eq!(
        tokens_line("Tokens: 10 sent, 2 received."),
        Some((10, 0, 0, 2, None))
    );
    assert_eq!(tokens_line("Tokens: nonsense"), None);
}

#[test]
fn errors_and_rate_limits() {
    let text = "Aider v0.86.2\nlitellm.RateLimitError: RateLimitError: OpenAIException - quota\n";
    let (p, _) = parse_text(text);
    let r = p.report.unwrap();
    assert!(r.is_error);
    assert!(p.rate_limit.is_some());
    assert_eq!(r.agent_version.as_deref(), Some("0.86.2"));
    assert_eq!(r.cost_source, CostSource::Unknown);
    let (p, _) =
        parse_text("litellm.AuthenticationError: AuthenticationError: OpenAIException - 401\n");
    assert!(
        p.report
            .unwrap()
            .error_text
            .unwrap()
            .contains("OPENAI_API_KEY")
    );
    assert!(p.rate_limit.is_none());
}

#[test]
fn a_recorded_session_reports_version_model_tokens_cost_and_its_commit() {
    let (p, events) = parse_text(&fixture("write-and-commit.log"));
    let r = p.report.unwrap();
    assert!(!r.is_error, "{r:?}");
    assert_eq!(r.agent_name, "aider");
    assert_eq!(r.agent_version.as_deref(), Some("0.86.2"));
    assert_eq!(r.model.as_deref(), Some("openai/gpt-4.1"));
    assert_eq!((r.tokens.input, r.tokens.output), (800, 60));
    assert_eq!(r.cost_usd, Some(0.0021));
    assert_eq!(r.cost_source, CostSource::Reported);
    let summary = r.summary.unwrap();
    assert!(summary.contains("aider edited AIDER.md"), "{summary}");
    assert!(summary.contains("feat: add AIDER.md"), "{summary}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, AgentEvent::ToolUse { name } if name == "commit"))
    );
    assert!(p.rate_limit.is_none());
}

#[test]
fn a_cost_line_of_its_own_after_tokens_is_the_reported_cost() {
    let (p, _) = parse_text(
        "Tokens: 900 sent, 100 cache write, 300 cache hit, 60 received.\n\
         Cost: $0.0014 message, $0.0014 session.\n",
    );
    let r = p.report.unwrap();
    assert_eq!(r.cost_usd, Some(0.0014));
    assert_eq!(r.cost_source, CostSource::Reported);
    assert_eq!(
        session_cost("Cost: $0.01 message, $0.04 session."),
        Some(0.04)
    );
    assert_eq!(session_cost("Cost: nothing"), None);
}

/// Aider 0.86.2 prints litellm's prompt tokens (uncached + read + write) plus the write once
/// more: 400 uncached + 300 read + 100 write is "900 sent".
#[test]
fn a_recorded_reply_with_both_caches_gives_disjoint_counts() {
    let (p, _) = parse_text(&fixture("write-and-commit-cached.log"));
    let r = p.report.unwrap();
    assert!(!r.is_error, "{r:?}");
    let t = r.tokens;
    assert_eq!(
        (t.input, t.cache_read, t.cache_write, t.output),
        (400, 300, 100, 60)
    );
    assert_eq!(
        t.input + t.cache_read + t.cache_write,
        800,
        "the prompt tokens the mock sent"
    );
    assert_eq!(r.cost_usd, Some(0.0014));
    assert_eq!(r.cost_source, CostSource::Reported);
    assert_eq!(uncached_input(100, 80, 0), 0, "never below zero");
}
