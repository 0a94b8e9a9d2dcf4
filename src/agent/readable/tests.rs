//! The readable parsers on the transcripts recorded from the real CLIs (`tests/fixtures/`), and
//! on input no agent should write.

use super::*;

fn fixture(path: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn text(t: &str) -> Entry {
    Entry::Text { text: t.into() }
}

fn call(name: &str, args: &str) -> Entry {
    Entry::ToolCall {
        name: name.into(),
        args: args.into(),
    }
}

#[test]
fn claude_write_and_commit() {
    let e = entries(Backend::Claude, &fixture("claude/write-and-commit.jsonl"));
    assert_eq!(
        e[..6],
        [
            Entry::Note {
                text: "model claude-opus-4-8[1m], Claude Code 2.1.197".into()
            },
            text("I'll create the file first."),
            call("Write", "/tmp/.tmpZZM3Tf/repo/hello.txt"),
            Entry::ToolResult {
                text: "File created successfully at: /tmp/.tmpZZM3Tf/repo/hello.txt (file state is current in your context — no need to Read it back)".into(),
                error: false
            },
            call("Bash", "git add hello.txt && git commit -q -m 'Add hello.txt'"),
            Entry::ToolResult {
                text: "(Bash completed with no output)".into(),
                error: false
            },
        ]
    );
    assert_eq!(e[6], text("Wrote hello.txt and committed it."));
    assert_eq!(
        e[7],
        Entry::Finish(Finish {
            ok: true,
            text: None,
            turns: Some(3),
            input_tokens: Some(1440),
            output_tokens: Some(82),
            cache_read_tokens: Some(6200),
            cache_write_tokens: Some(3200),
            cost_usd: Some(0.03235),
            duration_ms: Some(212),
        })
    );
    assert_eq!(e.len(), 8);
}

#[test]
fn claude_max_turns_is_a_failed_finish() {
    let e = entries(Backend::Claude, &fixture("claude/max-turns.jsonl"));
    let Some(Entry::Finish(f)) = e.last() else {
        panic!("no finish: {e:?}")
    };
    assert!(!f.ok);
    assert_eq!(f.text.as_deref(), Some("error_max_turns"));
}

#[test]
fn claude_garbage_keeps_every_unknown_line() {
    let e = entries(Backend::Claude, &fixture("claude/garbage.jsonl"));
    let plain: Vec<&str> = e
        .iter()
        .filter_map(|e| match e {
            Entry::Plain { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        plain,
        [
            "Warning: could not load some plugin",
            r#"{"type":"future_event","payload":{"x":1}}"#,
            "[1,2,3]",
            "{not json at all",
            r#"{"type":"future_event"}"#,
            "trailing text after the result",
        ]
    );
    assert!(e.iter().any(|e| matches!(e, Entry::Finish(f) if f.ok)));
}

#[test]
fn claude_rate_limits_and_errors_show() {
    for name in [
        "usage-limit.jsonl",
        "api-rate-limit.jsonl",
        "no-result.jsonl",
    ] {
        let e = entries(Backend::Claude, &fixture(&format!("claude/{name}")));
        assert!(!e.is_empty(), "{name}");
    }
    let e = entries(Backend::Claude, &fixture("claude/usage-limit.jsonl"));
    assert!(
        e.iter()
            .any(|e| matches!(e, Entry::Note { text } if text.starts_with("rate limit"))),
        "{e:?}"
    );
}

#[test]
fn codex_write_and_commit() {
    let e = entries(Backend::Codex, &fixture("codex/write-and-commit.jsonl"));
    assert_eq!(
        e,
        [
            Entry::Error {
                text: "Model metadata for `gpt-5-codex` not found. Defaulting to fallback metadata; this can degrade performance and cause issues.".into()
            },
            call(
                "shell",
                r#"/bin/bash -lc "printf 'hello from codex\\n' > CODEX.md && git add CODEX.md && git commit -qm 'codex: add CODEX.md'""#
            ),
            Entry::ToolResult {
                text: String::new(),
                error: false
            },
            text("Wrote CODEX.md and committed it."),
            Entry::Finish(Finish {
                ok: true,
                input_tokens: Some(2500),
                output_tokens: Some(100),
                ..Finish::default()
            }),
        ]
    );
}

#[test]
fn codex_server_error_ends_failed() {
    let e = entries(Backend::Codex, &fixture("codex/server-error.jsonl"));
    let notes = e
        .iter()
        .filter(|e| matches!(e, Entry::Note { text } if text.starts_with("Reconnecting")))
        .count();
    assert_eq!(notes, 2);
    assert!(
        matches!(e.last(), Some(Entry::Finish(f)) if !f.ok && f.text.as_deref().unwrap_or("").contains("high demand"))
    );
}

#[test]
fn codex_failed_command_is_an_error_result() {
    let line = br#"{"type":"item.completed","item":{"id":"i","type":"command_execution","command":"false","aggregated_output":"boom\n","exit_code":1,"status":"failed"}}"#;
    assert_eq!(
        entries(Backend::Codex, line),
        [
            call("shell", "false"),
            Entry::ToolResult {
                text: "boom\nexit code 1".into(),
                error: true
            }
        ]
    );
}

#[test]
fn gemini_write_and_commit() {
    let e = entries(Backend::Gemini, &fixture("gemini/write-and-commit.jsonl"));
    assert_eq!(
        e,
        [
            Entry::Note {
                text: "model auto".into()
            },
            call(
                "run_shell_command",
                r"printf 'hello from gemini\n' > GEMINI.txt && git add GEMINI.txt && git commit -qm 'gemini: add GEMINI.txt'"
            ),
            Entry::ToolResult {
                text: String::new(),
                error: false
            },
            text("Wrote GEMINI.txt and committed it."),
            Entry::Finish(Finish {
                ok: true,
                input_tokens: Some(2110),
                output_tokens: Some(82),
                duration_ms: Some(582),
                ..Finish::default()
            }),
        ]
    );
}

#[test]
fn gemini_joins_text_deltas() {
    let s = b"{\"type\":\"message\",\"role\":\"assistant\",\"content\":\"Hel\",\"delta\":true}\n\
{\"type\":\"message\",\"role\":\"assistant\",\"content\":\"lo\",\"delta\":true}\n";
    assert_eq!(entries(Backend::Gemini, s), [text("Hello")]);
}

#[test]
fn aider_write_and_commit() {
    let e = entries(Backend::Aider, &fixture("aider/write-and-commit.log"));
    assert!(e.contains(&call("edit", "AIDER.md")), "{e:?}");
    assert!(e.contains(&call("commit", "4c1df11 feat: add AIDER.md")));
    assert!(e.contains(&Entry::Note {
        text: "Tokens: 800 sent, 60 received. Cost: $0.0021 message, $0.0021 session.".into()
    }));
    assert!(e.contains(&Entry::Plain {
        text: "Creating the file.".into()
    }));
}

#[test]
fn plain_lines_stderr_and_the_truncation_marker() {
    let s = b"did a thing\n[stderr] oops\n\n[pitboss] transcript truncated: 5 bytes\nlast\n";
    assert_eq!(
        entries(Backend::from_agent(Some("command")), s),
        [
            Entry::Plain {
                text: "did a thing".into()
            },
            Entry::Stderr {
                text: "oops".into()
            },
            Entry::Note {
                text: "[pitboss] transcript truncated: 5 bytes".into()
            },
            Entry::Plain {
                text: "last".into()
            },
        ]
    );
    assert_eq!(Backend::from_agent(Some("demo")), Backend::Plain);
    assert_eq!(Backend::from_agent(None), Backend::Plain);
}

#[test]
fn malformed_input_never_panics() {
    let nasty: &[&[u8]] = &[
        b"",
        b"\n\n\n",
        b"\xff\xfe\x00garbage\n",
        b"{\"type\":null}\n{\"type\":\"assistant\",\"message\":7}\n",
        b"{\"type\":\"user\",\"message\":{\"content\":[{\"type\":\"tool_result\",\"content\":[1,{\"text\":2}]}]}}\n",
        b"{\"type\":\"result\",\"usage\":\"x\",\"num_turns\":-1,\"errors\":[1]}\n",
        b"{\"type\":\"item.completed\",\"item\":null}\n{\"type\":\"item.started\",\"item\":{\"type\":\"file_change\",\"changes\":7}}\n",
        b"{\"type\":\"tool_result\",\"error\":\"x\"}\n{\"type\":\"result\",\"stats\":[]}\n",
        b"{\"type\":\"message\",\"role\":\"assistant\",\"content\":\"\xc3\",\"delta\":true}",
        b"[stderr]\n[stderr] \xff\n",
    ];
    for backend in [
        Backend::Claude,
        Backend::Codex,
        Backend::Gemini,
        Backend::Aider,
        Backend::Plain,
    ] {
        for input in nasty {
            let _ = entries(backend, input);
        }
    }
    // A line that is not JSON at all in a JSON stream is kept, not lost.
    assert_eq!(
        entries(Backend::Codex, b"\xff not json"),
        [Entry::Plain {
            text: "\u{fffd} not json".into()
        }]
    );
}

#[test]
fn codex_usage_limit_is_an_error_and_a_failed_finish() {
    let e = entries(Backend::Codex, &fixture("codex/usage-limit.jsonl"));
    assert!(
        e.iter()
            .any(|e| matches!(e, Entry::Error { text } if text.starts_with("You’ve hit your usage limit"))),
        "{e:?}"
    );
    assert!(matches!(e.last(), Some(Entry::Finish(f)) if !f.ok));
}

#[test]
fn aider_cached_run_reads_the_same() {
    let e = entries(
        Backend::Aider,
        &fixture("aider/write-and-commit-cached.log"),
    );
    assert!(
        e.iter()
            .any(|e| matches!(e, Entry::ToolCall { name, .. } if name == "edit")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|e| matches!(e, Entry::ToolCall { name, .. } if name == "commit"))
    );
}

#[test]
fn gemini_without_auth_is_its_stderr() {
    // As a transcript stores it: each stderr line behind the `[stderr] ` prefix.
    let mut transcript = Vec::new();
    for line in fixture("gemini/no-auth.stderr").split(|&b| b == b'\n') {
        if !line.is_empty() {
            transcript.extend_from_slice(b"[stderr] ");
            transcript.extend_from_slice(line);
            transcript.push(b'\n');
        }
    }
    let e = entries(Backend::Gemini, &transcript);
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        matches!(&e[1], Entry::Stderr { text } if text.starts_with("Please set an Auth method"))
    );
}
