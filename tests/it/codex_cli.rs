//! The real Codex CLI in a real grind (`git pitboss grind`, `[agent] backend = "codex"`),
//! against the mock Responses API (`tests/it/support/mock_openai.rs`) on 127.0.0.1: the scripted
//! model has it write a file and commit it with its shell tool; the session must be `ok`, its
//! record must carry the tokens the mock reported (converted to the ledger's disjoint counts),
//! an estimated cost, the thread id and the CLI's version, and the commit must be on the run
//! branch.
//!
//! The CLI is looked for at `$PITBOSS_CODEX_BIN`, else `.tools/codex/node_modules/.bin/codex`
//! (installed by `.ci/run`). `record_fixtures` (ignored) re-records
//! `tests/fixtures/codex/write-and-commit.jsonl`.

use crate::support::cli::{
    GRIND_ONCE, assert_agent_commit, grind_project, prompt_reached, prompt_stdin, real_cli,
    run_branch_changes, session_record, transcript_ref, write_fixture,
};
use crate::support::mock_openai::MockOpenAi;
use crate::support::*;
use serde_json::{Value, json};

const VERSION: &str = "0.169.0";
const FAKE_KEY: &str = "sk-test-codex-0000000000000000000000";

fn codex_bin() -> std::path::PathBuf {
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

/// The project as the docs set Codex up: `[agent] backend` only, the model (when any) and the
/// provider in Codex's own `$CODEX_HOME/config.toml`.
fn project(
    sb: &Sandbox,
    codex: &std::path::Path,
    mock: &MockOpenAi,
    model: Option<&str>,
) -> std::path::PathBuf {
    grind_project(
        &sb.repo,
        "Create CODEX.md and commit it.",
        &format!("backend = \"codex\"\nbinary = \"{}\"\n", codex.display()),
    );
    let home = sb.path("codex-home");
    std::fs::create_dir_all(&home).unwrap();
    let mut config = mock.codex_config(model.unwrap_or(""), "MOCK_OPENAI_KEY");
    if model.is_none() {
        config = config.replacen("model = \"\"\n", "", 1);
    }
    std::fs::write(home.join("config.toml"), config).unwrap();
    home
}

fn grind(sb: &Sandbox, home: &std::path::Path) -> std::process::Output {
    run_with_stdin(
        sb.git_pitboss()
            .env("CODEX_HOME", home)
            .env("MOCK_OPENAI_KEY", FAKE_KEY)
            .args(GRIND_ONCE),
        "",
    )
}

#[test]
#[cfg_attr(
    pitboss_lacks = "codex",
    ignore = "Codex CLI not installed (see CONTRIBUTING.md)"
)]
fn a_grind_session_through_real_codex_commits_and_records_its_tokens() {
    let codex = codex_bin();
    let sb = Sandbox::new();
    let mock = MockOpenAi::start(script()).unwrap();
    let home = project(&sb, &codex, &mock, Some("gpt-5-codex"));
    let out = grind(&sb, &home);
    let r = session_record(&out);
    let run = r["run_id"].as_str().unwrap();
    let transcript = sb.git(&["show", &transcript_ref(run)]);
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
    assert_eq!(
        r["model"], "gpt-5-codex",
        "read from Codex's own config.toml"
    );
    assert_eq!(
        r["model_source"],
        format!("codex config {}", home.join("config.toml").display())
    );
    let requests = mock.requests();
    let asked: Vec<&Value> = requests.iter().map(|q| &q.body["model"]).collect();
    assert!(asked.iter().all(|m| *m == "gpt-5-codex"), "{asked:?}");
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
    assert_eq!(r["price_table"], pitboss::testing::builtin_price_table());
    let cost = r["cost_usd"].as_f64().unwrap();
    let want = (1300.0 * 1.25 + 100.0 * 10.0 + 1200.0 * 0.125) / 1e6;
    assert!((cost - want).abs() < 1e-12, "{cost} vs {want}");
    assert_eq!(r["summary"], "Wrote CODEX.md and committed it.");

    let commit = ("codex: add CODEX.md", "CODEX.md", "hello from codex\n");
    assert_agent_commit(|a| sb.git(a), run, commit);
    assert_eq!(
        run_branch_changes(|a| sb.git(a), run),
        ["CODEX.md"],
        "nothing of Codex's own lands on the run branch"
    );
    assert!(
        prompt_reached(&mock.requests(), "Create CODEX.md and commit it."),
        "the prompt reached the model through stdin"
    );
    assert!(!transcript.contains(FAKE_KEY));
    assert!(
        transcript.contains(r#""type":"command_execution""#),
        "the shell call shows in the stream: {transcript}"
    );
    // Read readably: the shell call, the answer, the closing figures.
    let pretty = sb.ok(&["show", run, "1", "--pretty"], "");
    assert!(pretty.contains("→ shell "), "{pretty}");
    assert!(pretty.contains("✓ done"), "{pretty}");
    assert!(!pretty.contains(r#"{"type""#), "raw events left: {pretty}");
}

/// With no model anywhere, Codex runs its default; the record says which, and where that came
/// from, and prices it.
#[test]
#[cfg_attr(
    pitboss_lacks = "codex",
    ignore = "Codex CLI not installed (see CONTRIBUTING.md)"
)]
fn a_codex_session_without_a_model_is_priced_at_codexs_default() {
    let codex = codex_bin();
    let sb = Sandbox::new();
    let mock = MockOpenAi::start(script()).unwrap();
    let home = project(&sb, &codex, &mock, None);
    let r = session_record(&grind(&sb, &home));
    assert_eq!(r["status"], "ok", "{r}");
    let asked = mock.requests()[0].body["model"].clone();
    assert_eq!(
        asked,
        pitboss::testing::CODEX_DEFAULT_MODEL,
        "Codex's own default"
    );
    assert_eq!(r["model"], asked);
    assert_eq!(r["model_source"], "codex default (0.169.0)");
    assert_eq!(r["cost_source"], "estimated", "{r}");
    // 1300 uncached in, 1200 cache read, 100 out at gpt-6.1-sol's $2 / $0.10 / $10.
    let cost = r["cost_usd"].as_f64().unwrap();
    let want = (1300.0 * 2.0 + 1200.0 * 0.10 + 100.0 * 10.0) / 1e6;
    assert!((cost - want).abs() < 1e-12, "{cost} vs {want}");
}

/// Re-records `tests/fixtures/codex/write-and-commit.jsonl` from the real CLI.
#[test]
#[ignore = "re-records a fixture; run by hand"]
fn record_fixtures() {
    let codex = codex_bin();
    let sb = Sandbox::new();
    let mock = MockOpenAi::start(script()).unwrap();
    let home = project(&sb, &codex, &mock, Some("gpt-5-codex"));
    let out = std::process::Command::new(&codex)
        .current_dir(&sb.repo)
        .env("CODEX_HOME", &home)
        .env("MOCK_OPENAI_KEY", FAKE_KEY)
        .args(["exec", "--json", "--skip-git-repo-check", "--sandbox"])
        .args(["danger-full-access", "-c", "approval_policy=\"never\"", "-"])
        .stdin(prompt_stdin(&sb.repo))
        .output()
        .unwrap();
    write_fixture("codex/write-and-commit.jsonl", &out.stdout);
}
