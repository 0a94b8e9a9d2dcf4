//! Finding a real agent CLI for the tests that drive one: `$<env_var>`, else the copy `.ci/run`
//! installs under `.tools/`. A test that needs one carries
//! `#[cfg_attr(pitboss_lacks = "<cli>", ignore = "…")]`: the build script marks it ignored when
//! the CLI was absent at build time, so the runner's summary counts it as skipped (never as
//! passed). A test that runs and finds no CLI fails: under `CI=true` (nothing is ignored there),
//! or when the CLI went away after the tests were built.
//! Also the project, the run and the record reading that the real-CLI grinds share.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use super::server::Request;

/// The CLI's path; panics, saying how to install it, when it is not here.
pub fn real_cli(what: &str, env_var: &str, default: &str, install: &str) -> PathBuf {
    let path = match std::env::var_os(env_var) {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join(default),
    };
    assert!(
        path.exists(),
        "{what} is not installed: {} does not exist. Install it with\n  {install}\n\
         or point {env_var} at one (CI always has it; elsewhere the build script marks this test \
         ignored when it is absent: `touch build.rs` after removing it)",
        path.display()
    );
    path
}

/// `grind` for one session with JSON events: how the real-CLI tests run an agent.
pub const GRIND_ONCE: [&str; 4] = ["grind", "--max-iterations", "1", "--json"];

/// The project a real-CLI grind runs in `repo`: one prompt, `write`, asking for `task`, and a
/// `.pitboss/config.toml` whose `[agent]` table holds `agent_toml`.
pub fn grind_project(repo: &Path, task: &str, agent_toml: &str) {
    let prompts = repo.join(".pitboss/grind/prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    std::fs::write(
        prompts.join("write.md"),
        format!("---\nname: write\ndescription: writes a file\n---\n{task}\n"),
    )
    .unwrap();
    std::fs::write(
        repo.join(".pitboss/config.toml"),
        format!("[agent]\n{agent_toml}"),
    )
    .unwrap();
}

/// The `write` prompt of [`grind_project`], as stdin for a CLI run by hand.
pub fn prompt_stdin(repo: &Path) -> std::fs::File {
    std::fs::File::open(repo.join(".pitboss/grind/prompts/write.md")).unwrap()
}

/// The record of the session a `grind --json` run finished; panics with its output if none.
pub fn session_record(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["event"] == "session_finished")
        .map(|e| e["record"].clone())
        .unwrap_or_else(|| {
            panic!(
                "no session: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// Where a run's first session transcript is, for `git show`.
pub fn transcript_ref(run: &str) -> String {
    format!("refs/pitboss/grind/{run}:transcripts/00/session-0001.log")
}

/// Writes a re-recorded fixture, `rel` below `tests/fixtures`.
pub fn write_fixture(rel: &str, bytes: &[u8]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::write(path, bytes).unwrap();
}

/// The full name of `run`'s code branch, as its `run.json` records it (`git` runs git in the
/// repository and returns its stdout).
pub fn run_branch(git: impl Fn(&[&str]) -> String, run: &str) -> String {
    let meta: Value = serde_json::from_str(&git(&[
        "show",
        &format!("refs/pitboss/grind/{run}:run.json"),
    ]))
    .unwrap();
    let branch = meta["branch"].as_str().expect("the run has a branch");
    // A full ref name (older runs recorded the short `pitboss/grind/<id>`).
    if branch.starts_with("refs/") {
        branch.to_string()
    } else {
        format!("refs/heads/{branch}")
    }
}

/// The paths the run branch changed against `main`: the session's work, and nothing else.
pub fn run_branch_changes(git: impl Fn(&[&str]) -> String, run: &str) -> Vec<String> {
    let branch = run_branch(&git, run);
    let base = git(&["merge-base", "main", &branch]);
    git(&["diff", "--name-only", base.trim(), &branch])
        .lines()
        .map(str::to_string)
        .collect()
}

/// Asserts that the tip of `run`'s branch is the agent's own commit: its `subject`, and `file`
/// holding `contents`. `git` runs git in the repository and returns its stdout.
pub fn assert_agent_commit(
    git: impl Fn(&[&str]) -> String,
    run: &str,
    (subject, file, contents): (&str, &str, &str),
) {
    let branch = run_branch(&git, run);
    let got = git(&["log", "-1", "--format=%s", &branch]);
    assert_eq!(got.trim(), subject, "the agent's own commit");
    assert_eq!(git(&["show", &format!("{branch}:{file}")]), contents);
}

/// Whether `prompt` reached the model, in the body of any request the mock answered.
pub fn prompt_reached(requests: &[Request], prompt: &str) -> bool {
    requests.iter().any(|q| q.body.to_string().contains(prompt))
}
