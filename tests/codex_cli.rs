//! The real Codex CLI in a real grind (`git pitboss grind`, `[agent] backend = "codex"`),
//! against the mock Responses API (`tests/support/mock_openai.rs`) on 127.0.0.1: the scripted
//! model has it write a file and commit it with its shell tool; the session must be `ok`, its
//! record must carry the tokens the mock reported (converted to the ledger's disjoint counts),
//! an estimated cost, the thread id and the CLI's version, and the commit must be on the run
//! branch.
//!
//! The CLI is looked for at `$PITBOSS_CODEX_BIN`, else `.tools/codex/node_modules/.bin/codex`
//! (installed by `.ci/run`). `record_fixtures` (ignored) re-records
//! `tests/fixtures/codex/write-and-commit.jsonl`.

mod common;
mod support;

use common::*;
use serde_json::{Value, json};
use support::cli::real_cli;
use support::mock_openai::MockOpenAi;

const VERSION: &str = "0.169.0";
const FAKE_KEY: &str = "sk-test-codex-0000000000000000000000";

fn codex_bin() -> Option<std::path::PathBuf> {
    real_cli(
        "Codex CLI",
        "PITBOSS_CODEX_BIN",
        ".tools/codex/node_modules/.bin/codex",
        &format!("npm install --prefix .tools/codex @openai/codex@{VERSION}"),
    )
}

fn script() -> Value {
    json!([
        {"shell": "printf 'hello from codex\\n' > CODEX.md && git add CODEX.md && git commit -qm 'codex: add CODEX.md'",
         "usage": {"input_tokens": 1200, "cached_tokens": 200, "output_tokens": 80, "reasoning_tokens": 30}},
        {"text": "Wrote CODEX.md and committed it.",
         "usage": {"input_tokens": 1300, "cached_tokens": 1000, "output_tokens": 20}}
    ])
}

fn project(sb: &Sandbox, codex: &std::path::Path, mock: &MockOpenAi) -> std::path::PathBuf {
    let prompts = sb.repo.join(".pitboss/grind/prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    std::fs::write(
        prompts.join("write.md"),
        "---\nname: write\ndescription: writes a file\n---\nCreate CODEX.md and commit it.\n",
    )
    .unwrap();
    std::fs::write(
        sb.repo.join(".pitboss/config.toml"),
        format!(
            "[agent]\nbackend = \"codex\"\nbinary = \"{}\"\nmodel = \"gpt-5-codex\"\n",
            codex.display()
        ),
    )
    .unwrap();
    let home = sb.path("codex-home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join("config.toml"),
        mock.codex_config("gpt-5-codex", "MOCK_OPENAI_KEY"),
    )
    .unwrap();
    home
}

#[test]
fn a_grind_session_through_real_codex_commits_and_records_its_tokens() {
    let Some(codex) = codex_bin() else { return };
    let sb = Sandbox::new();
    let mock = MockOpenAi::start(script()).unwrap();
    let home = project(&sb, &codex, &mock);
    let out = run_with_stdin(
        sb.pitboss()
            .env("CODEX_HOME", &home)
            .env("MOCK_OPENAI_KEY", FAKE_KEY)
            .args(["grind", "--max-iterations", "1", "--json"]),
        "",
    );
    let events: Vec<Value> = stdout(&out)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let r = events
        .iter()
        .find(|e| e["event"] == "session_finished")
        .map(|e| e["record"].clone())
        .unwrap_or_else(|| panic!("no session: {}\n{}", stdout(&out), stderr(&out)));
    let run = r["run_id"].as_str().unwrap();
    let transcript = sb.git(&[
        "show",
        &format!("refs/pitboss/grind/{run}:transcripts/00/session-0001.log"),
    ]);
    let outputs: Vec<String> = mock
        .requests()
        .iter()
        .flat_map(|q| q.body["input"].as_array().cloned().unwrap_or_default())
        .filter(|i| i["type"] == "function_call_output")
        .map(|i| i.to_string())
        .collect();
    assert_eq!(r["status"], "ok", "{r}\n{transcript}\n{outputs:?}");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(r["agent"], "codex");
    assert_eq!(r["agent_version"], format!("codex-cli {VERSION}"));
    assert_eq!(r["model"], "gpt-5-codex");
    assert!(
        r["agent_session_id"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{r}"
    );
    // 2500 input of which 1200 cached; 100 output of which 30 reasoning.
    assert_eq!(
        r["tokens"],
        json!({"input": 1300, "output": 100, "by_role": {}, "cache_read": 1200, "reasoning": 30}),
        "{r}"
    );
    assert_eq!(r["cost_source"], "estimated");
    assert_eq!(r["price_table"], "builtin-2026-11");
    let cost = r["cost_usd"].as_f64().unwrap();
    let want = (1300.0 * 1.25 + 100.0 * 10.0 + 1200.0 * 0.125) / 1e6;
    assert!((cost - want).abs() < 1e-12, "{cost} vs {want}");
    assert_eq!(r["summary"], "Wrote CODEX.md and committed it.");

    let branch = format!("refs/heads/pitboss/grind/{run}");
    let subject = sb.git(&["log", "-1", "--format=%s", &branch]);
    assert_eq!(
        subject.trim(),
        "codex: add CODEX.md",
        "the agent's own commit"
    );
    assert_eq!(
        sb.git(&["show", &format!("{branch}:CODEX.md")]),
        "hello from codex\n"
    );
    let prompt_sent = mock.requests().iter().any(|q| {
        q.body
            .to_string()
            .contains("Create CODEX.md and commit it.")
    });
    assert!(prompt_sent, "the prompt reached the model through stdin");
    assert!(!transcript.contains(FAKE_KEY));
    assert!(
        transcript.contains(r#""type":"command_execution""#),
        "the shell call shows in the stream: {transcript}"
    );
}

/// Re-records `tests/fixtures/codex/write-and-commit.jsonl` from the real CLI.
#[test]
#[ignore = "re-records a fixture; run by hand"]
fn record_fixtures() {
    let Some(codex) = codex_bin() else { return };
    let sb = Sandbox::new();
    let mock = MockOpenAi::start(script()).unwrap();
    let home = project(&sb, &codex, &mock);
    let out = std::process::Command::new(&codex)
        .current_dir(&sb.repo)
        .env("CODEX_HOME", &home)
        .env("MOCK_OPENAI_KEY", FAKE_KEY)
        .args(["exec", "--json", "--skip-git-repo-check", "--sandbox"])
        .args(["danger-full-access", "-c", "approval_policy=\"never\"", "-"])
        .stdin(std::fs::File::open(sb.repo.join(".pitboss/grind/prompts/write.md")).unwrap())
        .output()
        .unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/codex/write-and-commit.jsonl");
    std::fs::write(path, out.stdout).unwrap();
}
