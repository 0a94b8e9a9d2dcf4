//! One grind session through the real Claude Code CLI, against the mock Anthropic Messages API
//! on 127.0.0.1 (tests/it/support/mock_anthropic.rs): the CLI writes and commits a file with its
//! own Bash tool, and the session must come out `ok` with the CLI's reported tokens and
//! `total_cost_usd`, and the agent's commit on the run branch.
//!
//! The CLI is `$PITBOSS_CLAUDE_BIN`, else `.tools/claude/node_modules/.bin/claude` (installed by
//! `.ci/run`). Locally a missing CLI is reported loudly and the test passes; under `CI=true` it
//! fails, because CI always installs it.

use std::path::{Path, PathBuf};

use crate::support::mock_anthropic::MockAnthropic;
use crate::support::*;
use serde_json::json;

fn claude_bin() -> PathBuf {
    crate::support::cli::real_cli(
        "Claude Code CLI",
        "PITBOSS_CLAUDE_BIN",
        ".tools/claude/node_modules/.bin/claude",
        "npm install --prefix .tools/claude @anthropic-ai/claude-code@2.1.197",
    )
}

/// A project whose agent is the real CLI.
fn claude_project(sb: &Sandbox, bin: &Path) -> PathBuf {
    let prompts = sb.path("prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    std::fs::write(
        prompts.join("hello.md"),
        "---\nname: hello\ndescription: adds hello.txt\n---\nCreate hello.txt and commit it.\n",
    )
    .unwrap();
    std::fs::create_dir_all(sb.repo.join(".pitboss")).unwrap();
    std::fs::write(
        sb.repo.join(".pitboss/config.toml"),
        format!(
            "[agent]\nbackend = \"claude\"\nbinary = \"{}\"\n",
            bin.display()
        ),
    )
    .unwrap();
    prompts
}

/// `git pitboss grind` with the environment that makes the CLI talk to the mock only.
fn claude_grind(
    sb: &Sandbox,
    mock: &MockAnthropic,
    prompts: &Path,
    args: &[&str],
) -> std::process::Command {
    let claude_home = sb.home.join(".claude");
    std::fs::create_dir_all(&claude_home).unwrap();
    let mut cmd = sb.pitboss();
    cmd.args([
        "grind",
        "--json",
        "--prompts-dir",
        prompts.to_str().unwrap(),
    ])
    .args(args)
    .env("CLAUDE_CONFIG_DIR", &claude_home)
    .env("ANTHROPIC_BASE_URL", mock.base_url())
    .env("DISABLE_AUTOUPDATER", "1")
    .env("DISABLE_TELEMETRY", "1")
    .env("DISABLE_ERROR_REPORTING", "1")
    .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
    // CI runs as root, where bypassPermissions needs this (see docs/agents.md).
    .env("IS_SANDBOX", "1")
    .env_remove("ANTHROPIC_API_KEY")
    .env_remove("ANTHROPIC_AUTH_TOKEN")
    .env_remove("CLAUDE_CODE_OAUTH_TOKEN");
    cmd
}

#[test]
#[cfg_attr(
    pitboss_lacks = "claude",
    ignore = "Claude Code CLI not installed (see CONTRIBUTING.md)"
)]
fn a_grind_session_through_the_real_claude_code_cli() {
    let bin = claude_bin();
    let sb = Sandbox::new();
    let mock = MockAnthropic::start(json!([
        {
            "content": [
                {"type": "text", "text": "I'll add the file and commit it."},
                {"type": "tool_use", "name": "Bash", "input": {
                    "command": "printf 'hello from the mock agent\\n' > hello.txt && git add hello.txt && git commit -q -m 'Add hello.txt'",
                    "description": "Write and commit hello.txt"}}
            ],
            "usage": {"input_tokens": 1000, "output_tokens": 50, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        },
        {
            "content": [{"type": "text", "text": "Added hello.txt and committed it."}],
            "usage": {"input_tokens": 200, "output_tokens": 20, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        }
    ]))
    .unwrap();
    let prompts = claude_project(&sb, &bin);
    let mut cmd = claude_grind(&sb, &mock, &prompts, &["--max-iterations", "1"]);
    cmd.env(
        "ANTHROPIC_API_KEY",
        "sk-ant-test-0000000000000000000000000000",
    );
    let out = run_with_stdin(&mut cmd, "");
    let run = sb.only_run();
    let transcript = sb.ok(&["show", &run, "1", "--transcript"], "");
    assert_eq!(out.status.code(), Some(0), "{}\n{transcript}", stderr(&out));
    let r = &sb.records(&run)[0];
    assert_eq!(r["status"], "ok", "{r}\n{transcript}");
    assert_eq!(r["agent"], "claude");
    assert_eq!(r["cost_source"], "reported");
    assert!(r["cost_usd"].as_f64().unwrap() > 0.0, "{r}");
    assert_eq!(
        (
            r["tokens"]["input"].as_u64(),
            r["tokens"]["output"].as_u64()
        ),
        (Some(1200), Some(70)),
        "{r}"
    );
    assert_eq!(r["summary"], "Added hello.txt and committed it.");
    assert!(r["agent_session_id"].is_string(), "{r}");
    let branch = format!("refs/heads/pitboss/{run}");
    assert_eq!(
        sb.git(&["log", "-1", "--format=%s", &branch]).trim(),
        "Add hello.txt"
    );
    assert_eq!(
        sb.git(&["show", &format!("{branch}:hello.txt")]),
        "hello from the mock agent\n"
    );
    assert_eq!(
        r["commit"].as_str().unwrap(),
        sb.git(&["rev-parse", &branch]).trim()
    );
    assert_eq!(
        crate::support::cli::run_branch_changes(|a| sb.git(a), &run),
        ["hello.txt"],
        "nothing of Claude Code's own lands on the run branch"
    );
    // The secret key never reached the run.
    assert!(!transcript.contains("sk-ant-test-0000000000000000000000000000"));
    // Read readably: the stream of the real CLI, not the fixture.
    let pretty = sb.ok(&["show", &run, "1", "--pretty"], "");
    assert!(
        pretty.contains("I'll add the file and commit it."),
        "{pretty}"
    );
    assert!(
        pretty.contains("→ Bash printf 'hello from the mock agent"),
        "{pretty}"
    );
    assert!(
        pretty.contains("Added hello.txt and committed it."),
        "{pretty}"
    );
    assert!(pretty.contains("✓ done"), "{pretty}");
    assert!(!pretty.contains(r#"{"type""#), "raw events left: {pretty}");
}

#[test]
#[cfg_attr(
    pitboss_lacks = "claude",
    ignore = "Claude Code CLI not installed (see CONTRIBUTING.md)"
)]
fn a_usage_limit_stops_the_run_with_stop_on_rate_limit() {
    let bin = claude_bin();
    let sb = Sandbox::new();
    // Resets 2027-01-01T00:00:00Z: far past any test.
    let mock = MockAnthropic::start(json!([{
        "error": {
            "status": 429,
            "headers": {
                "anthropic-ratelimit-unified-status": "rejected",
                "anthropic-ratelimit-unified-reset": "1798761600",
                "anthropic-ratelimit-unified-representative-claim": "five_hour",
                "retry-after": "3600"
            },
            "body": {"type": "error", "error": {"type": "rate_limit_error", "message": "This request would exceed your account's rate limit."}}
        }
    }]))
    .unwrap();
    let prompts = claude_project(&sb, &bin);
    let mut cmd = claude_grind(
        &sb,
        &mock,
        &prompts,
        &["--max-iterations", "5", "--stop-on-rate-limit"],
    );
    cmd.env(
        "CLAUDE_CODE_OAUTH_TOKEN",
        "sk-ant-oat01-test-000000000000000000000000",
    );
    let out = run_with_stdin(&mut cmd, "");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let run = sb.only_run();
    let records = sb.records(&run);
    assert_eq!(
        records.len(),
        1,
        "the run stopped at the limit instead of burning sessions"
    );
    assert_eq!(records[0]["status"], "error");
    assert_eq!(records[0]["rate_limited"], true);
    let fin = events(&out)
        .into_iter()
        .find(|e| e["event"] == "run_finished")
        .unwrap();
    assert_eq!(fin["summary"]["stop"]["cause"], "rate_limited");
    assert_eq!(fin["summary"]["stop"]["until"], "2027-01-01T00:00:00Z");
    let ls: Vec<serde_json::Value> = serde_json::from_str(&sb.ok(&["ls", "--json"], "")).unwrap();
    assert_eq!(ls[0]["status"], "stopped");
}
