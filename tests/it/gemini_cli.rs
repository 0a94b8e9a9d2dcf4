//! The real Gemini CLI in a real grind (`git pitboss grind`, `[agent] backend = "gemini"`),
//! against the mock Gemini API (`tests/it/support/mock_gemini.rs`) on 127.0.0.1: the scripted
//! model has it write a file and commit it with its shell tool; the session must be `ok`, its
//! record must carry the tokens the mock reported (converted to the ledger's disjoint counts),
//! the model actually used, an estimated cost, the session id and the CLI's version, and the
//! commit must be on the run branch.
//!
//! The CLI is looked for at `$PITBOSS_GEMINI_BIN`, else `.tools/gemini/node_modules/.bin/gemini`
//! (installed by `.ci/run`). `record_fixtures` (ignored) re-records
//! `tests/fixtures/gemini/write-and-commit.jsonl`.

use crate::support::cli::{
    GRIND_ONCE, assert_agent_commit, grind_project, prompt_reached, prompt_stdin, real_cli,
    run_branch_changes, session_record, transcript_ref, write_fixture,
};
use crate::support::mock_gemini::MockGemini;
use crate::support::*;
use serde_json::{Value, json};

const VERSION: &str = "0.61.0";
const FAKE_KEY: &str = "AIzaSyTEST-gemini-000000000000000000";
const MODEL: &str = "gemini-2.5-flash";

fn gemini_bin() -> std::path::PathBuf {
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
    grind_project(
        &sb.repo,
        "Create GEMINI.txt and commit it.",
        &format!("backend = \"gemini\"\nbinary = \"{}\"\n", gemini.display()),
    );
    let settings = sb.home.join(".gemini");
    std::fs::create_dir_all(&settings).unwrap();
    std::fs::write(
        settings.join("settings.json"),
        r#"{"security":{"auth":{"selectedType":"gemini-api-key"}}}"#,
    )
    .unwrap();
}

#[test]
#[cfg_attr(
    pitboss_lacks = "gemini",
    ignore = "Gemini CLI not installed (see CONTRIBUTING.md)"
)]
fn a_grind_session_through_real_gemini_commits_and_records_its_tokens() {
    let gemini = gemini_bin();
    let sb = Sandbox::new();
    let mock = MockGemini::start(script(), MODEL).unwrap();
    setup(&sb, &gemini);
    let out = run_with_stdin(
        sb.pitboss()
            .env("GOOGLE_GEMINI_BASE_URL", mock.base_url())
            .env("GEMINI_API_KEY", FAKE_KEY)
            .args(GRIND_ONCE),
        "",
    );
    let r = session_record(&out);
    let run = r["run_id"].as_str().unwrap();
    let transcript = sb.git(&["show", &transcript_ref(run)]);
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
    assert_eq!(r["price_table"], pitboss::testing::builtin_price_table());
    assert_eq!(r["summary"], "Wrote GEMINI.txt and committed it.");

    let commit = (
        "gemini: add GEMINI.txt",
        "GEMINI.txt",
        "hello from gemini\n",
    );
    assert_agent_commit(|a| sb.git(a), run, commit);
    assert_eq!(
        run_branch_changes(|a| sb.git(a), run),
        ["GEMINI.txt"],
        "nothing of Gemini CLI's own lands on the run branch"
    );
    assert!(
        prompt_reached(&mock.requests(), "Create GEMINI.txt and commit it."),
        "the prompt reached the model through stdin"
    );
    assert!(!transcript.contains(FAKE_KEY));
    // Read readably: the tool call and the closing figures.
    let pretty = sb.ok(&["show", run, "1", "--pretty"], "");
    assert!(pretty.contains("→ run_shell_command "), "{pretty}");
    assert!(pretty.contains("✓ done"), "{pretty}");
    assert!(!pretty.contains(r#"{"type""#), "raw events left: {pretty}");
}

/// With no model configured anywhere, as the README's quick set-up leaves it, the CLI routes to
/// its own defaults; the mock answers as the model each request asks for, as the real API does.
/// The session's model is one of those defaults, and it has a price.
#[test]
#[cfg_attr(
    pitboss_lacks = "gemini",
    ignore = "Gemini CLI not installed (see CONTRIBUTING.md)"
)]
fn a_default_gemini_session_is_priced() {
    let gemini = gemini_bin();
    let sb = Sandbox::new();
    let mock = MockGemini::start(script(), "").unwrap();
    setup(&sb, &gemini);
    let out = run_with_stdin(
        sb.git_pitboss()
            .env("GOOGLE_GEMINI_BASE_URL", mock.base_url())
            .env("GEMINI_API_KEY", FAKE_KEY)
            .args(GRIND_ONCE),
        "",
    );
    let r = session_record(&out);
    let run = r["run_id"].as_str().unwrap();
    assert_eq!(r["status"], "ok", "{r}");
    let model = r["model"].as_str().unwrap_or_default().to_string();
    eprintln!("the default Gemini session ran on {model}");
    let asked: Vec<String> = mock.requests().iter().map(|q| q.path.clone()).collect();
    assert!(
        asked
            .iter()
            .any(|p| p.contains(&format!("/models/{model}:"))),
        "the model the CLI asked for: {model} in {asked:?}"
    );
    assert_eq!(r["cost_source"], "estimated", "{model} has a price: {r}");
    assert_eq!(r["price_table"], pitboss::testing::builtin_price_table());
    assert!(r["cost_usd"].as_f64().unwrap() > 0.0, "{r}");
    assert_eq!(run_branch_changes(|a| sb.git(a), run), ["GEMINI.txt"]);
}

/// Re-records `tests/fixtures/gemini/write-and-commit.jsonl` from the real CLI.
#[test]
#[ignore = "re-records a fixture; run by hand"]
fn record_fixtures() {
    let gemini = gemini_bin();
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
        .stdin(prompt_stdin(&sb.repo))
        .output()
        .unwrap();
    write_fixture("gemini/write-and-commit.jsonl", &out.stdout);
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
    let r = session_record(&run_with_stdin(sb.pitboss().args(GRIND_ONCE), ""));
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
