//! The clone that started a run keeps its start values as given, secrets included, in
//! `<git-common-dir>/pitboss/started/<id>.json` (owner-only, never pushed). That copy must go
//! with the run: `git pitboss rm` deletes it, and `git pitboss gc` lists (and deletes) one whose
//! run is gone by other means as a row of its own.

use std::path::PathBuf;
use std::process::{Output, Stdio};

use serde_json::Value;

use crate::support::grind::*;

/// A GitHub token, as a user might put it on grind's command line.
const TOKEN: &str = "ghp_Zq8vLw3TnR5pX2kY7mJ4hB9cD6fG1sA0eUxy";

/// One finished run started with a token in `--agent-cmd`; returns its id and the path of
/// the local copy of its start values (which the test checks holds the token).
fn run_with_token(p: &Project) -> (String, PathBuf) {
    p.prompt("share", "").agent("true\n");
    let agent_cmd = format!("sh {} --token {TOKEN}", p.sb.path("agent.sh").display());
    let out = p.grind(&["--agent-cmd", &agent_cmd, "--max-iterations", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let run = p.only_run();
    let started = p.repo().join(format!(".git/pitboss/started/{run}.json"));
    let kept = std::fs::read_to_string(&started).expect("grind keeps the start values here");
    assert!(kept.contains(TOKEN), "{kept}");
    (run, started)
}

fn git_pitboss(p: &Project, args: &[&str]) -> Output {
    p.sb.git_pitboss()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn ok(p: &Project, args: &[&str]) -> String {
    let out = git_pitboss(p, args);
    assert!(
        out.status.success(),
        "git pitboss {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn rm_deletes_the_local_copy_of_the_start_values() {
    let p = Project::new();
    let (run, started) = run_with_token(&p);
    ok(&p, &["rm", &run]);
    assert!(
        !started.exists(),
        "rm left {} (it holds the token)",
        started.display()
    );
}

#[test]
fn gc_lists_and_deletes_the_start_values_of_a_run_deleted_otherwise() {
    let p = Project::new();
    let (run, started) = run_with_token(&p);
    // Deleted by hand (or by an older version's rm): the copy is an orphan now.
    p.sb.git(&["update-ref", "-d", &format!("refs/pitboss/grind/{run}")]);
    let v: Value = serde_json::from_str(&ok(&p, &["gc", "--dry-run", "--json"])).unwrap();
    let rows = v["rows"].as_array().unwrap();
    let thing = started.display().to_string();
    let row = rows
        .iter()
        .find(|r| r["thing"] == thing.as_str())
        .unwrap_or_else(|| panic!("no row of its own for {thing}: {rows:#?}"));
    assert_eq!(row["kind"], "files", "{row:#}");
    assert_eq!(row["action"], "delete", "{row:#}");
    assert_eq!(row["run"], run.as_str(), "{row:#}");
    assert!(started.exists(), "a dry run deletes nothing");

    let text = ok(&p, &["gc"]);
    assert!(!started.exists(), "gc left {thing}: {text}");
}
