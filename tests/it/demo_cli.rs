//! `git pitboss demo`: the README's first command, a real run on the built-in agent.

use crate::support::*;

#[test]
fn demo_runs_three_sessions_in_a_fresh_repository() {
    let sb = Sandbox::new();
    let dir = sb.path("demo");
    let out = run_with_stdin(
        sb.pitboss().args(["demo", "--dir", dir.to_str().unwrap()]),
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("Look around:"), "{err}");
    let ls: Vec<serde_json::Value> = serde_json::from_str(&stdout(&run_with_stdin(
        sb.pitboss_in(&dir).args(["ls", "--json"]),
        "",
    )))
    .unwrap();
    assert_eq!(ls.len(), 1);
    assert_eq!(ls[0]["sessions"], 3);
    assert_eq!(ls[0]["status"], "finished");
    let id = ls[0]["id"].as_str().unwrap();
    let records: Vec<serde_json::Value> = serde_json::from_str(&stdout(&run_with_stdin(
        sb.pitboss_in(&dir).args(["log", id, "--json"]),
        "",
    )))
    .unwrap();
    let prompts: Vec<&str> = records
        .iter()
        .map(|r| r["prompt"].as_str().unwrap())
        .collect();
    assert_eq!(prompts, ["fix-todos", "write-notes", "fix-todos"]);
    assert!(
        records.iter().all(|r| r["commit"].is_string()),
        "every demo session lands a commit"
    );
    // The agent's work is on the run branch, not in the checkout.
    // NB: `pitboss/grind/<id>` alone is ambiguous with the run ref refs/pitboss/grind/<id>.
    let branch = format!("refs/heads/pitboss/{id}");
    let todo = sb.git_in(&dir, &["show", &format!("{branch}:TODO.md")]);
    assert_eq!(todo.matches("DONE").count(), 2, "{todo}");
    assert!(
        !std::fs::read_to_string(dir.join("TODO.md"))
            .unwrap()
            .contains("DONE")
    );
    assert_eq!(
        sb.git_in(&dir, &["rev-list", "--count", &format!("main..{branch}")])
            .trim(),
        "3"
    );
    // A second demo into the same (now full) directory is refused.
    let again = run_with_stdin(
        sb.pitboss().args(["demo", "--dir", dir.to_str().unwrap()]),
        "",
    );
    assert_eq!(again.status.code(), Some(4));
}
