//! The real Gemini CLI in a real grind (`git pitboss grind`, `[agent] backend = "gemini"`),
//! against the mock Gemini API (`tests/support/mock_gemini.rs`) on 127.0.0.1: the scripted
//! model has it write a file and commit it with its shell tool; the session must be `ok`, its
//! record must carry the tokens the mock reported (converted to the ledger's disjoint counts),
//! the model actually used, an estimated cost, the session id and the CLI's version, and the
//! commit must be on the run branch.
//!
//! The CLI is looked for at `$PITBOSS_GEMINI_BIN`, else `.tools/gemini/node_modules/.bin/gemini`
//! (installed by `.ci/run`). `record_fixtures` (ignored) re-records
//! `tests/fixtures/gemini/write-and-commit.jsonl`.

mod common;
mod support;

use common::*;
use serde_json::{Value, json};
use support::cli::real_cli;
use support::mock_gemini::MockGemini;

const VERSION: &str = "0.61.0";
const FAKE_KEY: &str = "AIzaSyTEST-gemini-000000000000000000";
const MODEL: &str = "gemini-2.5-flash";

fn gemini_bin() -> Option<std::path::PathBuf> {
    real_cli(
        "Gemini CLI",
        "PITBOSS_GEMINI_BIN",
        ".tools/gemini/node_modules/.bin/gemini",
        &format!("npm install --prefix .tools/gemini @google/gemini-cli@{VERSION}"),
    )
}

fn script() -> Value {
    json!([
        {"shell": "printf 'hello from gemini\\n' > GEMINI.txt && git add GEMINI.txt && git commit -qm 'gemini: add GEMINI.txt'",
         "usage": {"prompt": 1000, "cached": 100, "candidates": 50, "thoughts": 20}},
        {"text": "Wrote GEMINI.txt and committed it.",
         "usage": {"prompt": 1100, "cached": 900, "candidates": 30, "thoughts": 0}}
    ])
}

fn setup(sb: &Sandbox, gemini: &std::path::Path) {
    let prompts = sb.repo.join(".pitboss/grind/prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    std::fs::write(
        prompts.join("write.md"),
        "---\nname: write\ndescription: writes a file\n---\nCreate GEMINI.txt and commit it.\n",
    )
    .unwrap();
    std::fs::write(
        sb.repo.join(".pitboss/config.toml"),
        format!(
            "[agent]\nbackend = \"gemini\"\nbinary = \"{}\"\n",
            gemini.display()
        ),
    )
    .unwrap();
    let settings = sb.home.join(".gemini");
    std::fs::create_dir_all(&settings).unwrap();
    std::fs::write(
        settings.join("settings.json"),
        r#"{"security":{"auth":{"selectedType":"gemini-api-key"}}}"#,
    )
    .unwrap();
}

#[test]
fn a_grind_session_through_real_gemini_commits_and_records_its_tokens() {
    let Some(gemini) = gemini_bin() else { return };
    let sb = Sandbox::new();
    let mock = MockGemini::start(script(), MODEL).unwrap();
    setup(&sb, &gemini);
    let out = run_with_stdin(
        sb.pitboss()
            .env("GOOGLE_GEMINI_BASE_URL", mock.base_url())
            .env("GEMINI_API_KEY", FAKE_KEY)
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
    assert_eq!(r["status"], "ok", "{r}\n{transcript}");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(r["agent"], "gemini");
    assert_eq!(r["agent_version"], VERSION);
    assert_eq!(r["model"], MODEL, "the model that answered, not `auto`");
    assert!(
        r["agent_session_id"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{r}"
    );
    // Main model: 2100 prompt of which 1000 cached, 80 response + 20 thinking. The CLI's side
    // calls (answered as gemini-2.5-flash-lite) add 10 input and 2 output each.
    let side = mock
        .requests()
        .iter()
        .filter(|q| q.turn.is_none() && q.method == "POST")
        .count() as u64;
    let t = &r["tokens"];
    assert_eq!(t["input"], 1100 + 10 * side, "{r}");
    assert_eq!(t["cache_read"], 1000);
    assert_eq!(t["output"], 100 + 2 * side);
    assert_eq!(t["reasoning"], 20);
    assert_eq!(r["cost_source"], "estimated");
    assert_eq!(r["price_table"], "builtin-2026-11");
    assert_eq!(r["summary"], "Wrote GEMINI.txt and committed it.");

    let branch = format!("refs/heads/pitboss/grind/{run}");
    let subject = sb.git(&["log", "-1", "--format=%s", &branch]);
    assert_eq!(
        subject.trim(),
        "gemini: add GEMINI.txt",
        "the agent's own commit"
    );
    assert_eq!(
        sb.git(&["show", &format!("{branch}:GEMINI.txt")]),
        "hello from gemini\n"
    );
    let prompt_sent = mock.requests().iter().any(|q| {
        q.body
            .to_string()
            .contains("Create GEMINI.txt and commit it.")
    });
    assert!(prompt_sent, "the prompt reached the model through stdin");
    assert!(!transcript.contains(FAKE_KEY));
}

/// Re-records `tests/fixtures/gemini/write-and-commit.jsonl` from the real CLI.
#[test]
#[ignore = "re-records a fixture; run by hand"]
fn record_fixtures() {
    let Some(gemini) = gemini_bin() else { return };
    let sb = Sandbox::new();
    let mock = MockGemini::start(script(), MODEL).unwrap();
    setup(&sb, &gemini);
    let out = std::process::Command::new(&gemini)
        .current_dir(&sb.repo)
        .env("HOME", &sb.home)
        .env("GOOGLE_GEMINI_BASE_URL", mock.base_url())
        .env("GEMINI_API_KEY", FAKE_KEY)
        .env("GEMINI_CLI_TRUST_WORKSPACE", "true")
        .args(["--output-format", "stream-json", "--approval-mode", "yolo"])
        .stdin(std::fs::File::open(sb.repo.join(".pitboss/grind/prompts/write.md")).unwrap())
        .output()
        .unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gemini/write-and-commit.jsonl");
    std::fs::write(path, out.stdout).unwrap();
}

/// Gemini's exit codes become readable error texts (no real CLI needed: a script that exits
/// as the CLI does without credentials).
#[test]
fn an_auth_failure_exit_code_is_explained_in_the_record() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let fake = sb.path("gemini");
    let stderr_fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gemini/no-auth.stderr");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\n[ \"$1\" = --version ] && {{ echo {VERSION}; exit 0; }}\ncat >/dev/null\ncat '{}' >&2\nexit 41\n",
            stderr_fixture.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    setup(&sb, &fake);
    let out = run_with_stdin(
        sb.pitboss()
            .args(["grind", "--max-iterations", "1", "--json"]),
        "",
    );
    let r = stdout(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["event"] == "session_finished")
        .map(|e| e["record"].clone())
        .unwrap_or_else(|| panic!("{}", stderr(&out)));
    assert_eq!(r["status"], "error");
    assert_eq!(r["exit_code"], 41);
    assert_eq!(r["agent_version"], VERSION);
    let summary = r["summary"].as_str().unwrap();
    assert!(
        summary.contains("gemini could not authenticate (exit 41): set GEMINI_API_KEY")
            && summary.contains("Please set an Auth method"),
        "{summary}"
    );
}
