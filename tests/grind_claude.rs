//! One grind session with the real Claude Code CLI (`--agent claude`, its binary set in
//! `.pitboss/config.toml`), talking to the mock Messages API (`tests/support/mock_anthropic.rs`)
//! on 127.0.0.1, whose scripted replies make it write a file and `git commit` it with its Bash
//! tool. The session must be `ok`, its record must carry the tokens and `total_cost_usd` the CLI
//! reported (`cost_source: "reported"`), and the CLI's commit must be on the run branch.
//!
//! The CLI is looked for at `$PITBOSS_CLAUDE_BIN`, else `.tools/claude/node_modules/.bin/claude`
//! (`npm install --prefix .tools/claude @anthropic-ai/claude-code@2.1.197`). Without it the test
//! says so loudly and passes, except under `CI=true`, where the CLI is always installed and its
//! absence is a failure.

mod common;
mod grindkit;
mod support;

use std::path::{Path, PathBuf};

use grindkit::*;
use serde_json::json;
use support::mock_anthropic::MockAnthropic;

const FAKE_API_KEY: &str = "sk-ant-test-1111111111111111111111111111";

fn claude_bin() -> Option<PathBuf> {
    let path = match std::env::var_os("PITBOSS_CLAUDE_BIN") {
        Some(p) => PathBuf::from(p),
        None => {
            Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/claude/node_modules/.bin/claude")
        }
    };
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "the Claude Code CLI is not installed at {} (CI installs it with `npm install --prefix \
         .tools/claude @anthropic-ai/claude-code@2.1.197`)",
        path.display()
    );
    eprintln!(
        "\n==================== SKIPPED: Claude Code CLI not installed ====================\n\
         {} does not exist. Install it with\n  \
         npm install --prefix .tools/claude @anthropic-ai/claude-code@2.1.197\n\
         or point PITBOSS_CLAUDE_BIN at a claude binary. CI always has it.\n\
         ================================================================================\n",
        path.display()
    );
    None
}

/// Two turns: a Bash tool use that writes and commits `hello.txt` in the working directory (the
/// run's worktree, whose path the script need not know), then the closing text.
fn script() -> serde_json::Value {
    json!([
        {
            "content": [
                {"type": "text", "text": "I'll write the file and commit it."},
                {"type": "tool_use", "name": "Bash", "input": {
                    "command": "printf 'hello from the mock agent\\n' > hello.txt && git add hello.txt && git commit -q -m 'Add hello.txt'",
                    "description": "Write and commit hello.txt"
                }}
            ],
            "usage": {"input_tokens": 1200, "output_tokens": 40,
                      "cache_creation_input_tokens": 3000, "cache_read_input_tokens": 0}
        },
        {
            "content": [{"type": "text", "text": "Wrote hello.txt and committed it."}],
            "usage": {"input_tokens": 90, "output_tokens": 12,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 3200}
        }
    ])
}

#[test]
fn a_grind_session_of_the_real_claude_cli_commits_and_reports_its_cost() {
    let Some(bin) = claude_bin() else { return };
    let p = Project::new();
    p.prompt("hello", "max_session_seconds: 120\n");
    std::fs::write(
        p.repo().join(".pitboss/config.toml"),
        format!(
            "[agent]\nbackend = \"claude\"\nbinary = \"{}\"\n",
            bin.display()
        ),
    )
    .unwrap();
    let claude_home = p.sb.home.join(".claude");
    std::fs::create_dir_all(&claude_home).unwrap();
    let mock = MockAnthropic::start(script()).unwrap();

    let mut cmd = p.grind_cmd(&["--agent", "claude", "--max-iterations", "1"]);
    cmd.env("CLAUDE_CONFIG_DIR", &claude_home)
        .env("ANTHROPIC_BASE_URL", mock.base_url())
        .env("ANTHROPIC_API_KEY", FAKE_API_KEY)
        .env("DISABLE_AUTOUPDATER", "1")
        .env("DISABLE_TELEMETRY", "1")
        .env("DISABLE_ERROR_REPORTING", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        // CI runs as root, where bypassPermissions needs this (docs/agents.md).
        .env("IS_SANDBOX", "1");
    for v in [
        "ANTHROPIC_AUTH_TOKEN",
        "CLAUDE_CODE_OAUTH_TOKEN",
        "CLAUDE_CODE_USE_BEDROCK",
        "CLAUDECODE",
    ] {
        cmd.env_remove(v);
    }
    let mut g = Grind::spawn(&p, cmd, "claude");
    g.wait(std::time::Duration::from_secs(150));
    let out = g.output();
    let run = p.only_run();
    let records = p.records(&run);
    assert_eq!(records.len(), 1, "{}", diag(&out));
    let r = &records[0];
    assert_eq!(
        r["status"],
        "ok",
        "{r:#}\n{}\n{}",
        p.transcript(&run, 1),
        diag(&out)
    );
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    assert_eq!(r["agent"], "claude");
    assert_eq!(r["summary"], "Wrote hello.txt and committed it.");
    let t = &r["tokens"];
    assert_eq!(
        (
            &t["input"],
            &t["output"],
            &t["cache_write"],
            &t["cache_read"]
        ),
        (&json!(1290), &json!(52), &json!(3000), &json!(3200)),
        "{r:#}"
    );
    assert!(r["cost_usd"].as_f64().is_some_and(|c| c > 0.0), "{r:#}");
    assert_eq!(r["cost_source"], "reported");
    assert!(r["agent_version"].is_string() && r["agent_session_id"].is_string());

    // The CLI's commit is on the run branch, as it made it.
    assert_eq!(p.branch_subjects(&run), ["Add hello.txt"]);
    let branch = p.branch(&run);
    assert_eq!(
        p.sb.git(&["show", &format!("{branch}:hello.txt")]),
        "hello from the mock agent\n"
    );
    assert_eq!(
        r["commit"].as_str(),
        Some(p.sb.git(&["rev-parse", &branch]).trim())
    );
    let transcript = p.transcript(&run, 1);
    assert!(transcript.contains("\"type\":\"result\""), "{transcript}");
    assert!(!transcript.contains(FAKE_API_KEY));
    assert_eq!(
        mock.requests().iter().filter(|r| r.turn.is_some()).count(),
        2
    );
}
