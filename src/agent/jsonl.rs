//! The JSON-lines front end shared by the parsers of agents that stream one JSON object a line
//! (`claude`, `codex`, `gemini`).
//!
//! It owns what does not depend on the agent's format: fragments of lines too long to parse,
//! blank lines, lines that are not JSON objects, event types the parser does not know, and the
//! warnings that count them. Each parser keeps its own event handling and its own view of stderr.

use std::collections::BTreeMap;

use serde_json::Value;

use super::adapter::first_line;
use super::process::Stream;

/// What one output line turned out to be.
#[derive(Debug)]
pub(crate) enum JsonLine<'a> {
    /// A JSON object: an event for the parser.
    Object(Value),
    /// A line that is not a JSON object (trimmed): counted, and the parser may look into it.
    Text(&'a str),
    /// A stderr line, as it came: not parsed, not counted.
    Stderr(&'a str),
    /// A blank line or a fragment of an over-long line: nothing to read.
    Skip,
}

/// Reads an agent's stdout lines as JSON objects and counts what it could not read.
#[derive(Debug, Default)]
pub(crate) struct JsonLines {
    not_json: u64,
    first_not_json: Option<String>,
    oversized: u64,
    in_fragment: bool,
    ignored: BTreeMap<String, u64>,
}

impl JsonLines {
    /// One output line, as [`super::adapter::StreamParser::line`] hands it over.
    pub(crate) fn line<'a>(
        &mut self,
        stream: Stream,
        line: &'a str,
        complete: bool,
    ) -> JsonLine<'a> {
        if stream == Stream::Stderr {
            return JsonLine::Stderr(line);
        }
        if !complete || self.in_fragment {
            // Part of a line too long to parse: count it once, at its first fragment.
            if !self.in_fragment {
                self.oversized += 1;
            }
            self.in_fragment = !complete;
            return JsonLine::Skip;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return JsonLine::Skip;
        }
        match serde_json::from_str::<Value>(trimmed) {
            Ok(v) if v.is_object() => JsonLine::Object(v),
            _ => {
                self.not_json += 1;
                if self.first_not_json.is_none() {
                    self.first_not_json = Some(first_line(trimmed, 120));
                }
                JsonLine::Text(trimmed)
            }
        }
    }

    /// Notes an event type the parser does not read (tolerated, and reported once by count).
    pub(crate) fn ignore(&mut self, kind: &str) {
        *self.ignored.entry(kind.to_string()).or_default() += 1;
    }

    /// The warnings about lines not read and events ignored, naming `agent`, appended to
    /// `warnings`.
    pub(crate) fn warnings(&self, agent: &str, warnings: &mut Vec<String>) {
        if let Some(first) = &self.first_not_json {
            warnings.push(format!(
                "{} stdout line(s) from {agent} were not JSON events (first: {first:?})",
                self.not_json
            ));
        }
        if self.oversized > 0 {
            warnings.push(format!(
                "{} stdout line(s) from {agent} were too long to parse",
                self.oversized
            ));
        }
        if !self.ignored.is_empty() {
            let kinds: Vec<String> = self
                .ignored
                .iter()
                .map(|(k, n)| format!("{k}×{n}"))
                .collect();
            warnings.push(format!(
                "ignored unknown {agent} events: {}",
                kinds.join(", ")
            ));
        }
    }
}

/// An event's `type`, `(no type)` when it has none.
pub(crate) fn event_type(v: &Value) -> &str {
    v.get("type").and_then(Value::as_str).unwrap_or("(no type)")
}

/// `v[key]` as a string, if it is one.
pub(crate) fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// `v[key]` as a count, 0 when absent.
pub(crate) fn u64_of(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// The last five non-blank lines of `stderr_tail` joined as `; stderr: a | b`, or nothing, to
/// follow a "no result" error.
pub(crate) fn stderr_suffix(stderr_tail: &str) -> String {
    let lines: Vec<&str> = stderr_tail
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    format!(
        "; stderr: {}",
        lines[lines.len().saturating_sub(5)..].join(" | ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_it_cannot_read() {
        let mut lines = JsonLines::default();
        assert!(matches!(
            lines.line(Stream::Stdout, r#"{"type":"a"}"#, true),
            JsonLine::Object(_)
        ));
        assert!(matches!(
            lines.line(Stream::Stdout, "  ", true),
            JsonLine::Skip
        ));
        assert!(matches!(
            lines.line(Stream::Stdout, " oops ", true),
            JsonLine::Text("oops")
        ));
        assert!(matches!(
            lines.line(Stream::Stdout, "[1]", true),
            JsonLine::Text("[1]")
        ));
        assert!(matches!(
            lines.line(Stream::Stdout, r#"{"a":"#, false),
            JsonLine::Skip
        ));
        assert!(matches!(
            lines.line(Stream::Stdout, r#"1}"#, true),
            JsonLine::Skip
        ));
        assert!(matches!(
            lines.line(Stream::Stderr, " e ", true),
            JsonLine::Stderr(" e ")
        ));
        lines.ignore("b");
        lines.ignore("b");
        let mut warnings = Vec::new();
        lines.warnings("x", &mut warnings);
        assert_eq!(
            warnings,
            [
                r#"2 stdout line(s) from x were not JSON events (first: "oops")"#,
                "1 stdout line(s) from x were too long to parse",
                "ignored unknown x events: b×2",
            ]
        );
        assert_eq!(stderr_suffix("\n a \n\nb\n"), "; stderr: a | b");
        assert_eq!(stderr_suffix(" \n"), "");
    }
}
