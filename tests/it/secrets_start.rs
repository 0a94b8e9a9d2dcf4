//! A secret on grind's command line (`--agent-cmd 'tool --token …'`) never reaches the run's
//! `run.json`, which is pushed: `started_with` keeps it redacted. The clone that started the run
//! keeps the command as given (outside git), so a bare `--resume` there goes on with the real
//! token; a fresh clone that lacks it refuses and says which flag to pass again.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::support::Sandbox;
use crate::support::grind::*;

/// A GitHub token, redacted by its shape.
const TOKEN: &str = "ghp_Zq8vLw3TnR5pX2kY7mJ4hB9cD6fG1sA0eUxy";

/// Writes the arguments it was given to `$MARKS/args-<seq>`, so the test sees the real token
/// reached the agent.
const AGENT: &str = r#"printf '%s\n' "$*" > "$MARKS/args-$PITBOSS_SEQ""#;

fn git_pitboss_grind(sb: &Sandbox, p: &Project, args: &[&str]) -> Command {
    let mut cmd = sb.git_pitboss();
    cmd.arg("grind")
        .args(args)
        .env("MARKS", p.marks())
        .stdin(Stdio::null());
    cmd
}

fn run_bounded(p: &Project, cmd: Command) -> Output {
    let mut g = Grind::spawn(p, cmd, "grind");
    g.wait(Duration::from_secs(60));
    g.output()
}

#[test]
fn a_token_in_agent_cmd_is_redacted_in_run_json_and_resume_needs_it_again_elsewhere() {
    let p = Project::new();
    p.prompt("share", "").agent(AGENT);
    let agent_cmd = format!("sh {} --token {TOKEN}", p.sb.path("agent.sh").display());
    let first = ["--agent", "command", "--agent-cmd", &agent_cmd];
    let cmd = git_pitboss_grind(
        &p.sb,
        &p,
        &[&first[..], &["--max-iterations", "1"]].concat(),
    );
    let out = run_bounded(&p, cmd);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let run = p.only_run();
    let args1 = std::fs::read_to_string(p.marks().join("args-1")).unwrap();
    assert_eq!(args1.trim(), format!("--token {TOKEN}"));

    // What is pushed says [REDACTED] where the token was, and no object holds it.
    let json =
        p.sb.git(&["show", &format!("refs/pitboss/grind/{run}:run.json")]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let kept = v["started_with"]["agent_cmd"].as_str().unwrap();
    assert!(kept.ends_with("--token [REDACTED]"), "{json}");
    let objects =
        p.sb.git_output_in(&p.sb.repo, &["cat-file", "--batch-all-objects", "--batch"]);
    assert!(
        !objects
            .stdout
            .windows(TOKEN.len())
            .any(|w| w == TOKEN.as_bytes()),
        "the token is in an object of the repository"
    );

    // This clone kept the command as given: a bare resume goes on with the real token.
    let cmd = git_pitboss_grind(&p.sb, &p, &["--resume", &run, "--max-iterations", "2"]);
    let out = run_bounded(&p, cmd);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let args2 = std::fs::read_to_string(p.marks().join("args-2")).unwrap();
    assert_eq!(args2.trim(), format!("--token {TOKEN}"));

    // A fresh clone with the run (ref and branch) but not the local copy refuses, and says
    // what to pass again.
    let clone = Sandbox::clone_of(p.repo().to_str().unwrap());
    clone.git(&[
        "fetch",
        "-q",
        "origin",
        "refs/pitboss/*:refs/pitboss/*",
        &format!("refs/heads/pitboss/{run}:refs/heads/pitboss/{run}"),
    ]);
    let cmd = git_pitboss_grind(&clone, &p, &["--resume", &run, "--max-iterations", "3"]);
    let out = run_bounded(&p, cmd);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "refused: {}", diag(&out));
    assert!(err.contains("--agent-cmd"), "{err}");
    assert!(err.contains("[REDACTED]"), "{err}");
    assert!(err.contains("pass --agent-cmd again"), "{err}");
    assert!(!p.marks().join("args-3").exists(), "no session ran");
}
