//! Readable transcripts: each backend's raw stream turned into neutral [`Entry`] values.
//!
//! A stored transcript is the agent's output byte for byte (Claude Code's stream-json, Codex's
//! JSONL events, …), which is exact but unreadable. `show --pretty`, `watch` and the HTML report
//! all want the same thing from it: what the assistant said, which tools it called with which
//! arguments, what came back, errors and the final figures. So each backend has one pure parser
//! here, line by line ([`Reader`], for a transcript that is still growing) or whole
//! ([`entries`]); the presenters (ANSI in `cli/`, ratatui in `watch`, HTML in the report) only
//! style entries. Nothing here panics on any input: a line no parser understands is shown as a
//! [`Entry::Plain`] line, never dropped.

mod aider;
mod claude;
mod codex;
mod gemini;
mod shorten;
#[cfg(test)]
mod tests;

use serde::Serialize;

pub(crate) use shorten::{one_line_short, trim_block};

/// The longest tool-call argument text kept, in characters.
pub(crate) const ARGS_CHARS: usize = 160;
/// A tool result keeps at most this many lines …
pub(crate) const RESULT_LINES: usize = 6;
/// … and this many characters.
pub(crate) const RESULT_CHARS: usize = 600;

/// Which parser reads a transcript: the agent that wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Backend {
    Claude,
    Codex,
    Gemini,
    Aider,
    /// Any command agent and the built-in demo: plain output lines.
    Plain,
}

impl Backend {
    /// The backend of an agent name as runs record it (`claude`, `codex`, …); anything else
    /// (`command`, `demo`, a name from the future) reads as plain lines.
    pub(crate) fn from_agent(name: Option<&str>) -> Backend {
        match name.map(str::trim) {
            Some("claude") => Backend::Claude,
            Some("codex") => Backend::Codex,
            Some("gemini") => Backend::Gemini,
            Some("aider") => Backend::Aider,
            _ => Backend::Plain,
        }
    }
}

/// One readable piece of a transcript.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Entry {
    /// Context: the model and agent version at the start, a rate-limit notice, pitboss's
    /// truncation marker.
    Note { text: String },
    /// What the assistant said (full text, possibly several lines).
    Text { text: String },
    /// The model's reasoning, when the agent shows it.
    Thinking { text: String },
    /// A tool call: its name and its arguments on one shortened line.
    ToolCall { name: String, args: String },
    /// What a tool returned, trimmed to a few lines; `error` when the tool failed.
    ToolResult { text: String, error: bool },
    /// An error the agent reported.
    Error { text: String },
    /// How the session ended, with the figures the agent gave.
    Finish(Finish),
    /// A line the agent wrote on stderr.
    Stderr { text: String },
    /// A line no parser reads (command agents' output, text between events, unknown lines).
    Plain { text: String },
}

/// The agent's own closing figures; `None` where it gave none.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Finish {
    pub ok: bool,
    pub text: Option<String>,
    pub turns: Option<u64>,
    /// Fresh input only: cache reads and writes are counted apart, as the record splits them.
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cache_read_tokens: Option<u64>,
    pub cache_write_tokens: Option<u64>,
    pub cost_usd: Option<f64>,
    pub duration_ms: Option<u64>,
}

impl Finish {
    /// `✓ done · 3 turns · 1440 in / 82 out / 6200 cache read / 3200 cache write · $0.0323 ·
    /// 0.2s`: the figures the agent gave, on one line (the terminal and the HTML report show
    /// the same), tokens split into the classes the session record keeps.
    pub(crate) fn line(&self) -> String {
        let f = self;
        let mut parts = vec![if f.ok { "✓ done" } else { "✗ failed" }.to_string()];
        if let Some(t) = f.turns {
            parts.push(format!("{t} turn{}", if t == 1 { "" } else { "s" }));
        }
        match (f.input_tokens, f.output_tokens) {
            (None, None) => {}
            (i, o) => {
                let mut t = format!(
                    "{} in / {} out",
                    i.map_or("?".into(), |n| n.to_string()),
                    o.map_or("?".into(), |n| n.to_string())
                );
                for (n, what) in [
                    (f.cache_read_tokens, "cache read"),
                    (f.cache_write_tokens, "cache write"),
                ] {
                    if let Some(n) = n.filter(|n| *n > 0) {
                        t.push_str(&format!(" / {n} {what}"));
                    }
                }
                parts.push(t);
            }
        }
        if let Some(c) = f.cost_usd {
            parts.push(format!("${c:.4}"));
        }
        if let Some(ms) = f.duration_ms {
            parts.push(format!("{:.1}s", ms as f64 / 1000.0));
        }
        parts.join(" · ")
    }
}

/// The readable form of a whole transcript.
pub(crate) fn entries(backend: Backend, transcript: &[u8]) -> Vec<Entry> {
    let mut reader = Reader::new(backend);
    let mut out = Vec::new();
    for line in transcript.split(|&b| b == b'\n') {
        reader.line(line, &mut out);
    }
    reader.finish(&mut out);
    out
}

/// Reads a transcript a line at a time (for a transcript that is still being written).
#[derive(Debug)]
pub(crate) struct Reader {
    backend: Backend,
    codex: codex::State,
    gemini: gemini::State,
}

impl Reader {
    pub(crate) fn new(backend: Backend) -> Reader {
        Reader {
            backend,
            codex: codex::State::default(),
            gemini: gemini::State::default(),
        }
    }

    /// One line of the transcript (with or without its newline); appends what it shows.
    pub(crate) fn line(&mut self, line: &[u8], out: &mut Vec<Entry>) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches(['\n', '\r']);
        if let Some(rest) = text.strip_prefix("[stderr] ") {
            self.flush(out);
            out.push(Entry::Stderr {
                text: rest.to_string(),
            });
            return;
        }
        if text.starts_with("[pitboss] ") {
            self.flush(out);
            out.push(Entry::Note {
                text: text.to_string(),
            });
            return;
        }
        if self.backend == Backend::Plain || self.backend == Backend::Aider {
            if self.backend == Backend::Aider {
                aider::line(text, out);
            } else if !text.is_empty() {
                out.push(Entry::Plain {
                    text: text.to_string(),
                });
            }
            return;
        }
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return;
        }
        let value = match serde_json::from_str::<serde_json::Value>(trimmed) {
            Ok(v) if v.is_object() => v,
            _ => {
                self.flush(out);
                out.push(Entry::Plain {
                    text: text.to_string(),
                });
                return;
            }
        };
        let known = match self.backend {
            Backend::Claude => claude::event(&value, out),
            Backend::Codex => self.codex.event(&value, out),
            Backend::Gemini => self.gemini.event(&value, out),
            Backend::Aider | Backend::Plain => false,
        };
        if !known {
            self.flush(out);
            out.push(Entry::Plain {
                text: one_line_short(trimmed, ARGS_CHARS),
            });
        }
    }

    /// Emits what a parser still holds (Gemini's text arrives in pieces).
    pub(crate) fn flush(&mut self, out: &mut Vec<Entry>) {
        self.gemini.flush(out);
    }

    /// The end of the transcript.
    pub(crate) fn finish(&mut self, out: &mut Vec<Entry>) {
        self.flush(out);
    }
}

/// A string field of a JSON object.
fn str_at<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(|x| x.as_str())
}

/// A count field of a JSON object.
fn u64_at(v: &serde_json::Value, key: &str) -> Option<u64> {
    v.get(key).and_then(|x| x.as_u64())
}

/// Tool arguments on one short line: the one argument that says what the call does when there
/// is one (a command, a path, a pattern), else the compact JSON of all of them.
fn args_line(input: Option<&serde_json::Value>) -> String {
    let Some(input) = input else {
        return String::new();
    };
    if let Some(s) = input.as_str() {
        return one_line_short(s, ARGS_CHARS);
    }
    for key in [
        "command",
        "cmd",
        "file_path",
        "path",
        "absolute_path",
        "pattern",
        "url",
        "query",
        "prompt",
    ] {
        if let Some(s) = str_at(input, key) {
            return one_line_short(s, ARGS_CHARS);
        }
    }
    if let Some(cmd) = input.get("command").and_then(|c| c.as_array()) {
        let words: Vec<&str> = cmd.iter().filter_map(|w| w.as_str()).collect();
        return one_line_short(&words.join(" "), ARGS_CHARS);
    }
    one_line_short(&input.to_string(), ARGS_CHARS)
}
