//! The real Aider in a real grind (`git pitboss grind`, `[agent] backend = "aider"`), against
//! the mock chat-completions API (`tests/it/support/mock_openai.rs`) on 127.0.0.1: the scripted
//! model answers with a whole-file edit, Aider writes the file and commits it itself (its
//! commit-message call also goes to the mock); the session must be `ok`, its record must carry
//! the tokens and the dollars Aider printed (`reported`), and Aider's commit must be on the run
//! branch, and nothing else: Aider's own files (its repo-map cache) stay out of the work. It is
//! configured as the docs say (model and API base in `[agent]`), with its repo map on.
//! `--no-gitignore` keeps the repository's `.gitignore` untouched.
//!
//! Aider is looked for at `$PITBOSS_AIDER_BIN`, else `.tools/aider/bin/aider` (a virtual
//! environment made by `.ci/run`). `record_fixtures` (ignored) re-records
//! `tests/fixtures/aider/write-and-commit-cached.log`.

use crate::support::cli::{
    GRIND_ONCE, assert_agent_commit, grind_project, real_cli, run_branch, run_branch_changes,
    session_record, transcript_ref, write_fixture,
};
use crate::support::mock_openai::MockOpenAi;
use crate::support::*;
use serde_json::{Value, json};

const VERSION: &str = "0.86.2";
const FAKE_KEY: &str = "sk-test-aider-00000000000000000000000";
const MODEL: &str = "openai/gpt-4.1";

fn aider_bin() -> std::path::PathBuf {
    real_cli(
        "Aider",
        "PITBOSS_AIDER_BIN",
        ".tools/aider/bin/aider",
        &format!(
            "python3 -m venv .tools/aider && .tools/aider/bin/pip install aider-chat=={VERSION}"
        ),
    )
}

/// One reply in Aider's default edit format for the model (`diff` for gpt-4.1): a new file
/// as a SEARCH/REPLACE block with an empty search. Its usage has both an Anthropic-style cache
/// write and a cache hit (400 uncached + 300 read + 100 written = 800 prompt tokens), which
/// Aider prints as "900 sent, 100 cache write, 300 cache hit" with `Cost:` on its own line.
fn script() -> Value {
    json!([
        {"text": "Creating the file.\n\nAIDER.md\n```\n<<<<<<< SEARCH\n=======\nhello from aider\n>>>>>>> REPLACE\n```\n",
         "commit_message": "feat: add AIDER.md",
         "usage": {"input_tokens": 400, "cache_read_input_tokens": 300,
                   "cache_creation_input_tokens": 100, "output_tokens": 60}}
    ])
}

/// The `[agent]` args the docs give: the API base, nothing friendlier (no `--map-tokens 0`, no
/// `--edit-format`).
fn args(mock: &MockOpenAi) -> Vec<String> {
    vec!["--openai-api-base".to_string(), mock.base_url()]
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
#[cfg_attr(
    pitboss_lacks = "aider",
    ignore = "Aider not installed (see CONTRIBUTING.md)"
)]
fn a_grind_session_through_real_aider_commits_and_records_its_cost() {
    let aider = aider_bin();
    let sb = Sandbox::new();
    let mock = MockOpenAi::start(script()).unwrap();
    setup(&sb, &aider, &mock);
    let out = run_with_stdin(
        sb.git_pitboss()
            .env("OPENAI_API_KEY", FAKE_KEY)
            .args(GRIND_ONCE),
        "",
    );
    let r = session_record(&out);
    let run = r["run_id"].as_str().unwrap();
    let transcript = sb.git(&["show", &transcript_ref(run)]);
    assert_eq!(
        r["status"], "ok",
        "a clean session is `ok`, not `dirty`: {r}\n{transcript}"
    );
    assert!(
        transcript.contains("Repo-map: using"),
        "the repo map (and so its cache) is on, as users run Aider: {transcript}"
    );
    assert_eq!(r["agent"], "aider");
    assert_eq!(r["agent_version"], VERSION);
    assert_eq!(r["model"], MODEL);
    // Disjoint counts that add up to what the mock sent: 800 prompt (400 + 300 + 100), 60 out.
    let t = &r["tokens"];
    assert_eq!(
        (
            &t["input"],
            &t["cache_read"],
            &t["cache_write"],
            &t["output"]
        ),
        (&json!(400), &json!(300), &json!(100), &json!(60)),
        "{r}"
    );
    assert_eq!(
        r["cost_source"], "reported",
        "the `Cost:` line of its own is read: {r}"
    );
    assert!(r["cost_usd"].as_f64().unwrap() > 0.0, "{r}");

    let commit = ("feat: add AIDER.md", "AIDER.md", "hello from aider\n");
    assert_agent_commit(|a| sb.git(a), run, commit);
    assert_eq!(
        run_branch_changes(|a| sb.git(a), run),
        ["AIDER.md"],
        "nothing of Aider's own (its repo-map cache, histories) lands on the run branch"
    );
    assert_eq!(
        sb.git(&[
            "show",
            &format!("{}:.gitignore", run_branch(|a| sb.git(a), run))
        ]),
        "target/\n",
        "--no-gitignore: the user's .gitignore is untouched"
    );
    assert!(!transcript.contains(FAKE_KEY));
    // Read readably: Aider's edit and commit picked out of its text.
    let pretty = sb.ok(&["show", run, "1", "--pretty"], "");
    assert!(pretty.contains("→ edit "), "{pretty}");
    assert!(pretty.contains("→ commit "), "{pretty}");
}

/// Re-records `tests/fixtures/aider/write-and-commit-cached.log` (Aider's stdout) from the real
/// CLI.
#[test]
#[ignore = "re-records a fixture; run by hand"]
fn record_fixtures() {
    let aider = aider_bin();
    let sb = Sandbox::new();
    let mock = MockOpenAi::start(script()).unwrap();
    setup(&sb, &aider, &mock);
    let out = std::process::Command::new(&aider)
        .current_dir(&sb.repo)
        .env("HOME", &sb.home)
        .env("OPENAI_API_KEY", FAKE_KEY)
        .arg("--message-file")
        .arg(sb.repo.join(".pitboss/grind/prompts/write.md"))
        .args(pitboss::testing::AIDER_FLAGS)
        .args(["--model", MODEL])
        .args(args(&mock))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).replace(&mock.base_url(), "http://127.0.0.1:PORT/v1");
    write_fixture("aider/write-and-commit-cached.log", text.as_bytes());
}
