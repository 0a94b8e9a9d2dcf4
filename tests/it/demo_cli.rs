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
    assert_eq!(prompts, ["write-notes", "fix-todos", "write-notes"]);
    assert!(
        records.iter().all(|r| r["commit"].is_string()),
        "every demo session lands a commit"
    );
    // The agent's work is on the run branch, not in the checkout.
    // NB: `pitboss/grind/<id>` alone is ambiguous with the run ref refs/pitboss/grind/<id>.
    let branch = format!("refs/heads/pitboss/{id}");
    let todo = sb.git_in(&dir, &["show", &format!("{branch}:TODO.md")]);
    assert_eq!(todo.matches("DONE").count(), 1, "{todo}");
    // Each notes session wrote a file of its own.
    let notes = sb.git_in(
        &dir,
        &["ls-tree", "--name-only", &format!("{branch}:notes")],
    );
    assert_eq!(
        notes.lines().collect::<Vec<_>>(),
        ["session-0001.md", "session-0003.md"]
    );
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

/// Landed and conflicting sessions of the demo's one run, as `log --json` and `stats --json`
/// count them (through `git pitboss`, in the demo's directory); checks that the two agree.
fn landings(sb: &Sandbox, dir: &std::path::Path) -> (usize, usize, usize) {
    let json = |args: &[&str]| -> serde_json::Value {
        let out = run_with_stdin(sb.git_pitboss_in(dir).args(args), "");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        serde_json::from_str(&stdout(&out)).unwrap()
    };
    let ls = json(&["ls", "--json"]);
    let id = ls[0]["id"].as_str().unwrap().to_string();
    let records = json(&["log", &id, "--json"]);
    let records = records.as_array().unwrap();
    let result = |r: &serde_json::Value| r["landing"]["result"].as_str().map(str::to_string);
    let landed = records
        .iter()
        .filter(|r| match result(r) {
            Some(res) => res == "landed",
            None => r["commit"].is_string(),
        })
        .count();
    let conflicts = records
        .iter()
        .filter(|r| result(r).as_deref() == Some("conflict"))
        .count();
    let stats = json(&["stats", "--json"]);
    assert_eq!(stats["total"]["landed"], landed, "{stats:#}");
    assert_eq!(stats["total"]["sessions"], records.len(), "{stats:#}");
    (landed, conflicts, records.len())
}

/// The README's demo command, as it is and side by side: every session lands (one conflict at
/// most would be allowed; none happens: the notes sessions write files of their own, and the
/// TODO sessions, which share a file, run alone), and the views count the same.
#[test]
fn the_demo_lands_every_session_one_at_a_time_and_side_by_side() {
    let sb = Sandbox::new();
    for (name, extra) in [
        ("plain", &[][..]),
        ("parallel", &["--max-parallel", "3", "--sessions", "9"][..]),
    ] {
        let dir = sb.path(name);
        let out = run_with_stdin(
            sb.git_pitboss()
                .args(["demo", "--dir", dir.to_str().unwrap()])
                .args(extra),
            "",
        );
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let (landed, conflicts, sessions) = landings(&sb, &dir);
        assert!(conflicts <= 1, "{name}: {}", stderr(&out));
        assert_eq!(landed + conflicts, sessions, "{name}: {}", stderr(&out));
        assert_eq!(conflicts, 0, "{name}: {}", stderr(&out));
        if name == "parallel" {
            assert_eq!(sessions, 9);
            let err = stderr(&out);
            // The closing table says the same, and sessions did run in other slots than 1.
            assert!(
                err.contains(&format!(
                    "landings  {landed} landed, 0 conflicts, 0 verify failed"
                )),
                "{err}"
            );
            assert!(err.contains(" slot 2 "), "{err}");
        }
    }
}
