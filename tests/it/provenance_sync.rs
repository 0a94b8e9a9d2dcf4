//! Credit after a sync: two clones extend one run, each with a session that commits on the run
//! branch, and `sync` merges both the run (renumbering the later-started session) and the code
//! branch. Each session must be credited with exactly the commit its record names, and the
//! renumbered session, cherry-picked into `main`, must count as reached.

use crate::support::Sandbox;
use crate::support::grind::{Project, diag};
use crate::support::record::RecordJson;
use crate::support::remote::Bare;
use serde_json::Value;

/// The first session, made by a real grind (so the run has a base commit and a base branch).
const AGENT: &str = r#"
echo first > one.txt
git add one.txt
git commit -q -m first
echo '{"tokens":{"input":100,"output":50},"cost_usd":0.25}' > "$PITBOSS_RESULT_FILE"
"#;

/// Commits `file` on the run branch, records a session of `run` naming that commit (started
/// at 18:`minute`), and goes back to `main` (sync never moves a branch that is checked out).
fn session(sb: &Sandbox, run: &str, prompt: &str, file: &str, minute: u32) -> String {
    sb.git(&["checkout", "-q", &format!("pitboss/{run}")]);
    std::fs::write(sb.repo.join(file), format!("{prompt}\n")).unwrap();
    sb.git(&["add", file]);
    sb.git(&["commit", "-q", "-m", prompt]);
    let commit = sb.git(&["rev-parse", "HEAD"]).trim().to_string();
    sb.git(&["checkout", "-q", "main"]);
    let rec = RecordJson::new(prompt)
        .times(
            &format!("2026-04-30T18:{minute:02}:00Z"),
            &format!("2026-04-30T18:{minute:02}:30Z"),
        )
        .commit(Some(&commit))
        .tokens(100, 50, 0, 0)
        .cost(0.25, "reported")
        .json();
    sb.ok(&["record", run], &rec);
    commit
}

fn pb_json(sb: &Sandbox, args: &[&str]) -> Value {
    serde_json::from_str(&sb.ok(args, "")).expect("JSON output")
}

/// A records session 1 and pushes; B fetches; A adds a session started at minute 40, B one at
/// minute 20; B pushes, A syncs (A's session becomes 3, the branches are merged), and A
/// cherry-picks its own session's commit into `main`. Returns A and the three commits.
fn synced() -> (Bare, Project, String, [String; 3]) {
    let bare = Bare::new();
    let p = Project::new();
    p.prompt("first", "").agent(AGENT);
    let a = &p.sb;
    a.git(&["remote", "add", "origin", &bare.path_url()]);
    a.git(&["push", "-q", "origin", "main"]);
    let out = p.grind(&["--max-iterations", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let run = p.only_run();
    let c1 = p.records(&run)[0]["commit"].as_str().unwrap().to_string();
    a.ok(&["push"], "");
    let b = Sandbox::clone_of(&bare.path_url());
    b.ok(&["fetch"], "");
    let ca = session(a, &run, "on-a", "a.txt", 40);
    let cb = session(&b, &run, "on-b", "b.txt", 20);
    b.ok(&["push"], "");
    a.ok(&["sync"], "");
    let moved = pb_json(a, &["show", &run, "3", "--json"]);
    assert_eq!(moved["renumbered_from"], 2, "{moved}");
    assert_eq!(moved["commit"], ca.as_str(), "{moved}");
    a.git(&["cherry-pick", &ca]);
    (bare, p, run, [c1, cb, ca])
}

#[test]
fn a_renumbered_session_is_credited_with_its_own_commit_only() {
    let (_bare, p, run, [c1, cb, ca]) = synced();
    let a = &p.sb;
    // The code branch is the merge of both sides: every commit is on it.
    let log = a.git(&["log", "--format=%H", &format!("pitboss/{run}")]);
    for c in [&c1, &cb, &ca] {
        assert!(
            log.contains(c.as_str()),
            "{c} not on the run branch:\n{log}"
        );
    }
    let review = pb_json(a, &["review", &run, "--json"]);
    let commits: Vec<(u64, Vec<String>)> = review["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let c = s["commits"].as_array().unwrap();
            let c = c.iter().map(|c| c.as_str().unwrap().to_string()).collect();
            (s["seq"].as_u64().unwrap(), c)
        })
        .collect();
    assert_eq!(
        commits,
        vec![
            (1, vec![c1.clone()]),
            (2, vec![cb.clone()]),
            (3, vec![ca.clone()])
        ]
    );
    let reach: Vec<&str> = review["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reach"].as_str().unwrap())
        .collect();
    assert_eq!(reach, ["no", "no", "patch-id"], "{review}");
    assert_eq!(review["totals"]["reached"], 1);
    let md = a.ok(&["review", &run, "--md"], "");
    // The digest (the pull request's body) lists each commit once, under its own session.
    for c in [&c1, &cb, &ca] {
        assert_eq!(md.matches(&format!("`{}`", &c[..7])).count(), 1, "{md}");
    }

    // Only session 3's work is on main (cherry-picked: its patch id), by hand count.
    let stats = pb_json(
        a,
        &["stats", "--by", "prompt", "--target", "main", "--json"],
    );
    let reached: Vec<(String, u64, u64)> = stats["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap().to_string(),
                g["reached"].as_u64().unwrap(),
                g["reach_unknown"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reached,
        vec![
            ("first".into(), 0, 0),
            ("on-a".into(), 1, 0),
            ("on-b".into(), 0, 0),
        ],
        "{stats}"
    );
    assert_eq!(
        stats["total"]["reached_by"],
        serde_json::json!({"patch-id": 1})
    );
}
