//! The real Aider in a real grind (`git pitboss grind`, `[agent] backend = "aider"`), against
//! the mock chat-completions API (`tests/support/mock_openai.rs`) on 127.0.0.1: the scripted
//! model answers with a whole-file edit, Aider writes the file and commits it itself (its
//! commit-message call also goes to the mock); the session must be `ok`, its record must carry
//! the tokens and the dollars Aider printed (`reported`), and Aider's commit must be on the run
//! branch. `--no-gitignore` keeps the repository's `.gitignore` untouched.
//!
//! Aider is looked for at `$PITBOSS_AIDER_BIN`, else `.tools/aider/bin/aider` (a virtual
//! environment made by `.ci/run`). `record_fixtures` (ignored) re-records
//! `tests/fixtures/aider/write-and-commit.log`.

mod common;
mod support;

use common::*;
use serde_json::{Value, json};
use support::cli::{
    GRIND_ONCE, assert_agent_commit, grind_project, real_cli, session_record, transcript_ref,
    write_fixture,
};
use support::mock_openai::MockOpenAi;

const VERSION: &str = "0.86.2";
const FAKE_KEY: &str = "sk-test-aider-00000000000000000000000";
const MODEL: &str = "openai/gpt-4.1";

fn aider_bin() -> Option<std::path::PathBuf> {
    real_cli(
        "Aider",
        "PITBOSS_AIDER_BIN",
        ".tools/aider/bin/aider",
        &format!(
            "python3 -m venv .tools/aider && .tools/aider/bin/pip install aider-chat=={VERSION}"
        ),
    )
}

fn script() -> Value {
    json!([
        {"text": "Creating the file.\n\nAIDER.md\n```\nhello from aider\n```\n",
         "commit_message": "feat: add AIDER.md",
         "usage": {"input_tokens": 800, "output_tokens": 60}}
    ])
}

fn args(mock: &MockOpenAi) -> Vec<String> {
    [
        "--openai-api-base",
        &mock.base_url(),
        "--edit-format",
        "whole",
        "--no-show-model-warnings",
        "--map-tokens",
        "0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn setup(sb: &Sandbox, aider: &std::path::Path, mock: &MockOpenAi) {
    let args: Vec<String> = args(mock).iter().map(|a| format!("{a:?}")).collect();
    grind_project(
        &sb.repo,
        "Create AIDER.md saying hello.",
        &format!(
            "backend = \"aider\"\nbinary = \"{}\"\nmodel = \"{MODEL}\"\nargs = [{}]\n",
            aider.display(),
            args.join(", ")
        ),
    );
    std::fs::write(sb.repo.join(".gitignore"), "target/\n").unwrap();
    sb.git(&["add", ".gitignore"]);
    sb.git(&["commit", "-q", "-m", "gitignore"]);
}

#[test]
fn a_grind_session_through_real_aider_commits_and_records_its_cost() {
    let Some(aider) = aider_bin() else { return };
    let sb = Sandbox::new();
    let mock = MockOpenAi::start(script()).unwrap();
    setup(&sb, &aider, &mock);
    let out = run_with_stdin(
        sb.pitboss()
            .env("OPENAI_API_KEY", FAKE_KEY)
            .args(GRIND_ONCE),
        "",
    );
    let r = session_record(&out);
    let run = r["run_id"].as_str().unwrap();
    let transcript = sb.git(&["show", &transcript_ref(run)]);
    assert_eq!(r["status"], "ok", "{r}\n{transcript}");
    assert_eq!(r["agent"], "aider");
    assert_eq!(r["agent_version"], VERSION);
    assert_eq!(r["model"], MODEL);
    assert_eq!(r["tokens"]["input"], 800, "{r}");
    assert_eq!(r["tokens"]["output"], 60);
    assert_eq!(r["cost_source"], "reported");
    assert!(r["cost_usd"].as_f64().unwrap() > 0.0, "{r}");

    let commit = ("feat: add AIDER.md", "AIDER.md", "hello from aider\n");
    assert_agent_commit(|a| sb.git(a), run, commit);
    assert_eq!(
        sb.git(&["show", &format!("refs/heads/pitboss/{run}:.gitignore")]),
        "target/\n",
        "--no-gitignore: the user's .gitignore is untouched"
    );
    assert!(!transcript.contains(FAKE_KEY));
}

/// Re-records `tests/fixtures/aider/write-and-commit.log` (Aider's stdout) from the real CLI.
#[test]
#[ignore = "re-records a fixture; run by hand"]
fn record_fixtures() {
    let Some(aider) = aider_bin() else { return };
    let sb = Sandbox::new();
    let mock = MockOpenAi::start(script()).unwrap();
    setup(&sb, &aider, &mock);
    let out = std::process::Command::new(&aider)
        .current_dir(&sb.repo)
        .env("HOME", &sb.home)
        .env("OPENAI_API_KEY", FAKE_KEY)
        .arg("--message-file")
        .arg(sb.repo.join(".pitboss/grind/prompts/write.md"))
        .args(pitboss::agent::AIDER_FLAGS)
        .args(["--model", MODEL])
        .args(args(&mock))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).replace(&mock.base_url(), "http://127.0.0.1:PORT/v1");
    write_fixture("aider/write-and-commit.log", text.as_bytes());
}
