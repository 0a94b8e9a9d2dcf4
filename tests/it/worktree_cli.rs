//! `git pitboss worktree ls | prune`: the worktrees stopped runs keep, and their clean-up.

use std::time::Duration;

use crate::support::*;

#[test]
fn stopped_runs_keep_their_worktree_and_prune_removes_only_what_no_run_can_use() {
    let sb = Sandbox::new();
    assert!(stderr(&sb.run(&["worktree", "ls"], "")).contains("no run worktrees"));
    let dir = sb.agent_project(&[("sleep", "")]);
    let child = sb.grind_spawn(&dir, &["--max-iterations", "3"], &[("AGENT_SLEEP", "1")]);
    let (run, _, _) = sb.wait_for_agent(Duration::from_secs(20));
    kill(child.id(), "INT");
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(2));
    let slots: Vec<serde_json::Value> =
        serde_json::from_str(&sb.ok(&["worktree", "ls", "--json"], "")).unwrap();
    assert_eq!(slots.len(), 1, "{slots:?}");
    assert_eq!(slots[0]["run"], run.as_str());
    assert_eq!(slots[0]["run_status"], "aborted");
    assert_eq!(slots[0]["prunable"], false, "an aborted run can be resumed");
    // Nothing to prune while the run can go on.
    sb.ok(&["worktree", "prune"], "");
    let wt = std::path::PathBuf::from(slots[0]["path"].as_str().unwrap());
    assert!(wt.is_dir());
    // Once the run is deleted its worktree is prunable, but uncommitted work is kept unless forced.
    std::fs::write(wt.join("precious.txt"), "not committed\n").unwrap();
    sb.ok(&["rm", &run], "");
    let slots: Vec<serde_json::Value> =
        serde_json::from_str(&sb.ok(&["worktree", "ls", "--json"], "")).unwrap();
    assert_eq!(
        (slots[0]["prunable"].as_bool(), slots[0]["dirty"].as_bool()),
        (Some(true), Some(true))
    );
    let out = sb.run(&["worktree", "prune"], "");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("uncommitted work"),
        "{}",
        stderr(&out)
    );
    assert!(wt.join("precious.txt").is_file());
    let dry = sb.run(&["worktree", "prune", "--force", "--dry-run"], "");
    assert!(stderr(&dry).contains("would remove"), "{}", stderr(&dry));
    assert!(wt.is_dir());
    sb.ok(&["worktree", "prune", "--force"], "");
    assert!(!wt.exists());
    assert_eq!(sb.git(&["worktree", "list"]).lines().count(), 1);
    assert_eq!(sb.ok(&["worktree", "ls", "--json"], "").trim(), "[]");
}

/// A parallel run's slots (`pitboss-<id>-<k>` on `pitboss-slot/<id>/<k>`) say their slot, slot 0
/// too when it is back on the run branch; a sequential run's own worktree says none. The slot
/// worktree is added here with git, named and placed as the parallel engine makes them.
#[test]
fn the_slot_worktrees_of_a_parallel_run_show_their_slot() {
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("sleep", "")]);
    let child = sb.grind_spawn(&dir, &["--max-iterations", "3"], &[("AGENT_SLEEP", "1")]);
    let (run, _, _) = sb.wait_for_agent(Duration::from_secs(20));
    kill(child.id(), "INT");
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(2));

    let slots: Vec<serde_json::Value> =
        serde_json::from_str(&sb.ok(&["worktree", "ls", "--json"], "")).unwrap();
    assert_eq!(slots[0]["slot"], serde_json::Value::Null, "{slots:?}");
    assert!(!sb.ok(&["worktree", "ls"], "").contains("slot"));

    // `git worktree add` names a worktree after its directory, and `move` keeps the name.
    let name = format!("pitboss-{run}-2");
    let staging = sb.path(&name);
    let slot_dir = sb.repo.join(".git/pitboss/worktrees").join(&run).join("2");
    let branch = format!("pitboss-slot/{run}/2");
    let s = |p: &std::path::Path| p.display().to_string();
    sb.git(&["worktree", "add", "-q", "-b", &branch, &s(&staging)]);
    sb.git(&["worktree", "move", &s(&staging), &s(&slot_dir)]);

    let slots: Vec<serde_json::Value> =
        serde_json::from_str(&sb.ok(&["worktree", "ls", "--json"], "")).unwrap();
    let shown: Vec<(String, serde_json::Value, serde_json::Value)> = slots
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap().to_string(),
                v["slot"].clone(),
                v["run"].clone(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (format!("pitboss-{run}-0"), 0.into(), run.as_str().into()),
            (name.clone(), 2.into(), run.as_str().into()),
        ]
    );
    assert_eq!(slots[1]["branch"], branch.as_str());
    let text = sb.ok(&["worktree", "ls"], "");
    let line = text
        .lines()
        .find(|l| l.starts_with(&name))
        .unwrap_or_default();
    assert!(
        line.starts_with(&format!("{name}  slot 2  aborted")),
        "{text}"
    );
}

#[test]
fn prune_removes_a_parallel_runs_slots_and_slot_branches_once_the_run_is_gone() {
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("sleep", "parallel_safe: true\n")]);
    let child = sb.grind_spawn(
        &dir,
        &["--max-parallel", "2", "--max-iterations", "6"],
        &[("AGENT_SLEEP", "1")],
    );
    // Both slots busy, then Ctrl-C once: they finish and land, and the run stops resumable.
    let runs = sb.repo.join(".git/pitboss/runs");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let run = loop {
        let found = std::fs::read_dir(&runs).ok().and_then(|rd| {
            rd.flatten()
                .find(|e| (0..2).all(|k| e.path().join(format!("slot-{k}/current.json")).is_file()))
        });
        if let Some(e) = found {
            break e.file_name().to_string_lossy().into_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "two sessions never ran at once"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    kill(child.id(), "INT");
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(2));
    let slots: Vec<serde_json::Value> =
        serde_json::from_str(&sb.ok(&["worktree", "ls", "--json"], "")).unwrap();
    assert_eq!(slots.len(), 2, "{slots:?}");
    let numbers: Vec<&serde_json::Value> = slots.iter().map(|s| &s["slot"]).collect();
    assert_eq!(numbers, [0, 1], "{slots:?}");
    let branches = || sb.git(&["branch", "--list", "pitboss-slot/*"]);
    assert_eq!(branches().lines().count(), 2, "{}", branches());
    sb.ok(&["rm", &run], "");
    let out = sb.run(&["worktree", "prune"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("removed slot branch pitboss-slot/{run}/1")),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        branches().trim(),
        "",
        "the slot branches held nothing the run branch lacks"
    );
    assert_eq!(sb.git(&["worktree", "list"]).lines().count(), 1);
    assert!(
        sb.git(&["branch", "--list", &format!("pitboss/{run}")])
            .contains(&run),
        "the run branch is kept, as rm keeps it"
    );
}
