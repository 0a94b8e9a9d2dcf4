//! The pure parser of Aider's plain output (`--no-pretty --no-stream`, Aider 0.86), one line at
//! a time. Aider has no event stream; these lines are what we read (everything else is
//! transcript):
//! - `Aider v0.86.2`: the version;
//! - `Main model: openai/gpt-4.1 with whole edit format` (or `Model: …`): the main model;
//! - `Tokens: 2.3k sent, 1.2k cache write, 800 cache hit, 120 received. Cost: $0.0026 message,
//!   $0.0040 session.`: one per model reply. When a reply reports both a cache write and a
//!   cache hit, Aider prints `Cost: …` on a line of its own right after the `Tokens:` line.
//!   Counts of 1000 and more are printed rounded (`2.3k`, `12k`, `1.1M`), so they are
//!   approximate. The last `session` figure is the session's cost, `reported`;
//! - `Applied edit to <file>` and `Commit <sha> <message>`: Aider's edits and its own commits
//!   (they become the summary; the loop sees the commits on the branch);
//! - lines naming a `litellm.…Error` (`AuthenticationError`, `RateLimitError`,
//!   `NotFoundError`, …): the error; a rate-limit error is a usage limit without a reset time.

use crate::agent::adapter::{ParsedStream, StreamParser, first_line};
use crate::agent::observer::AgentEvent;
use crate::agent::outcome::{AgentReport, RateLimit};
use crate::agent::process::Stream;
use crate::usage::{CostSource, Tokens};

/// Parses one Aider session. Build one per session.
#[derive(Debug, Default)]
pub(crate) struct AiderParser {
    version: Option<String>,
    model: Option<String>,
    tokens: Tokens,
    session_cost: Option<f64>,
    replies: u64,
    edits: Vec<String>,
    commits: Vec<String>,
    error: Option<String>,
    rate_limited: bool,
}

/// `2.3k`, `12k`, `1.1M`, `800` as a count.
fn count(word: &str) -> Option<u64> {
    let w = word.trim().trim_end_matches(',');
    let (num, scale) = match w.chars().last()? {
        'k' | 'K' => (&w[..w.len() - 1], 1_000.0),
        'm' | 'M' => (&w[..w.len() - 1], 1_000_000.0),
        _ => (w, 1.0),
    };
    let v: f64 = num.parse().ok()?;
    Some((v * scale).round() as u64)
}

/// What `sent` means in Aider 0.86.2 with the litellm it pins (1.81): the input that was
/// neither read from nor written to a cache, from `sent`, `cache write` and `cache hit`.
///
/// Aider's `sent` is litellm's `prompt_tokens`, plus the cache write once more whenever the
/// usage carries Anthropic-style cache fields (`calculate_and_show_tokens_and_cost` in
/// `aider/coders/base_coder.py`). litellm's `prompt_tokens` already *includes* the cache reads
/// and writes: its Anthropic and Bedrock transformations add both to the provider's uncached
/// `input_tokens`, and DeepSeek's and OpenAI's counts include the cached part. So `sent` =
/// uncached + read + 2 × write, and 400 uncached + 300 read + 100 write is printed "900 sent".
/// (OpenAI-style cached tokens are not printed by Aider at all; they stay in `input`.)
fn uncached_input(sent: u64, write: u64, hit: u64) -> u64 {
    sent.saturating_sub(2 * write + hit)
}

/// `Cost: $0.01 message, $0.04 session.` (alone, or the end of a `Tokens:` line): the session
/// figure.
fn session_cost(text: &str) -> Option<f64> {
    text.trim().strip_prefix("Cost:")?.split(',').find_map(|p| {
        let p = p.trim().trim_end_matches('.');
        p.strip_suffix("session")?
            .trim()
            .strip_prefix('$')?
            .parse()
            .ok()
    })
}

/// One `Tokens: …` line: (sent, cache write, cache hit, received, session cost when the line
/// carries it).
fn tokens_line(line: &str) -> Option<(u64, u64, u64, u64, Option<f64>)> {
    let rest = line.strip_prefix("Tokens:")?;
    let (counts, cost) = match rest.find("Cost:") {
        Some(at) => (&rest[..at], Some(&rest[at..])),
        None => (rest, None),
    };
    let (mut sent, mut write, mut hit, mut received) = (0, 0, 0, 0);
    for part in counts.trim().trim_end_matches('.').split(", ") {
        let (n, what) = part.trim().split_once(' ')?;
        let n = count(n)?;
        match what.trim_end_matches('.') {
            "sent" => sent = n,
            "cache write" => write = n,
            "cache hit" => hit = n,
            "received" => received = n,
            _ => {}
        }
    }
    Some((sent, write, hit, received, cost.and_then(session_cost)))
}

impl AiderParser {
    pub(crate) fn new() -> Self {
        AiderParser::default()
    }

    fn text_line(&mut self, line: &str, events: &mut Vec<AgentEvent>) {
        if let Some(v) = line.strip_prefix("Aider v") {
            self.version = v.split_whitespace().next().map(str::to_string);
            events.push(AgentEvent::Init {
                model: None,
                version: self.version.clone(),
                session_id: None,
            });
        } else if let Some(m) = line
            .strip_prefix("Main model: ")
            .or_else(|| line.strip_prefix("Model: "))
            && self.model.is_none()
        {
            self.model = m.split_whitespace().next().map(str::to_string);
        } else if let Some((sent, write, hit, received, session)) = tokens_line(line) {
            self.replies += 1;
            self.tokens.input += uncached_input(sent, write, hit);
            self.tokens.cache_write += write;
            self.tokens.cache_read += hit;
            self.tokens.output += received;
            if session.is_some() {
                self.session_cost = session;
            }
        } else if let Some(cost) = session_cost(line) {
            // The `Cost:` line Aider prints on its own after a `Tokens:` line that has both a
            // cache write and a cache hit.
            self.session_cost = Some(cost);
        } else if let Some(file) = line.strip_prefix("Applied edit to ") {
            self.edits.push(file.trim().to_string());
            events.push(AgentEvent::ToolUse {
                name: "edit".to_string(),
            });
        } else if let Some(c) = line.strip_prefix("Commit ") {
            let looks_like_sha = c
                .split_whitespace()
                .next()
                .is_some_and(|s| s.len() >= 7 && s.chars().all(|ch| ch.is_ascii_hexdigit()));
            if looks_like_sha {
                self.commits.push(c.trim().to_string());
                events.push(AgentEvent::ToolUse {
                    name: "commit".to_string(),
                });
            }
        } else if line.contains("litellm.") && line.contains("Error") {
            self.rate_limited |= line.contains("RateLimitError");
            if self.error.is_none() {
                let mut e = first_line(line, 500);
                if line.contains("AuthenticationError") {
                    e.push_str(
                        " (set the API key of the model's provider for the agent: OPENAI_API_KEY, \
                         ANTHROPIC_API_KEY, GEMINI_API_KEY…)",
                    );
                }
                self.error = Some(e);
            }
        }
    }
}

impl StreamParser for AiderParser {
    fn line(&mut self, _stream: Stream, line: &str, complete: bool, events: &mut Vec<AgentEvent>) {
        if complete {
            let before = (self.tokens, self.session_cost);
            self.text_line(line.trim(), events);
            // Aider prints its usage after each reply: the running total, for a cost cap.
            if (self.tokens, self.session_cost) != before {
                events.push(AgentEvent::Usage {
                    tokens: self.tokens,
                    cost_usd: self.session_cost,
                });
            }
        }
    }

    fn result_seen(&self) -> bool {
        false
    }

    fn finish(self: Box<Self>, _stderr_tail: &str) -> ParsedStream {
        let mut summary = Vec::new();
        if !self.edits.is_empty() {
            summary.push(format!("aider edited {}", self.edits.join(", ")));
        }
        for c in &self.commits {
            summary.push(format!("commit {c}"));
        }
        let report = AgentReport {
            agent_name: "aider".to_string(),
            agent_version: self.version,
            model: self.model,
            tokens: self.tokens,
            cost_usd: self.session_cost,
            cost_source: if self.session_cost.is_some() {
                CostSource::Reported
            } else {
                CostSource::Unknown
            },
            num_turns: (self.replies > 0).then_some(self.replies),
            is_error: self.error.is_some(),
            error_text: self.error.clone(),
            summary: (!summary.is_empty()).then(|| summary.join("; ")),
            ..AgentReport::default()
        };
        let rate_limit = self.rate_limited.then(|| RateLimit {
            until: None,
            message: self.error.clone().unwrap_or_default(),
        });
        ParsedStream {
            report: Some(report),
            rate_limit,
            warnings: Vec::new(),
        }
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
