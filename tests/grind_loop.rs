//! `git pitboss grind` end to end with the command agent (a real shell script): what lands on
//! the run branch and the run ref, session by session, and how failures are recorded.

mod common;

use common::*;

#[test]
fn six_sessions_over_three_prompts_land_records_commits_transcripts_and_scratchpad() {
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("commit-a", ""), ("commit-b", ""), ("leave", "")]);
    std::fs::write(sb.repo.join("uncommitted.txt"), "the user's own work\n").unwrap();
    let head_before = sb.git(&["rev-parse", "HEAD"]);
    let out = sb.grind(&dir, &["--max-iterations", "6"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let run = sb.only_run();
    let records = sb.records(&run);
    let got: Vec<(u64, &str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["seq"].as_u64().unwrap(),
                r["prompt"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "commit-a", "ok"),
            (2, "commit-b", "ok"),
            (3, "leave", "dirty"),
            (4, "commit-a", "ok"),
            (5, "commit-b", "ok"),
            (6, "leave", "dirty"),
        ]
    );
    // Agent commits are kept as they are; leftovers are committed by pitboss with trailers.
    let branch = format!("refs/heads/pitboss/grind/{run}");
    let subjects = sb.git(&["log", "--format=%s", &format!("main..{branch}")]);
    assert_eq!(
        subjects
            .lines()
            .filter(|s| s.starts_with("agent: work"))
            .count(),
        4,
        "{subjects}"
    );
    let leftovers: Vec<&str> = subjects
        .lines()
        .filter(|s| s.starts_with("pitboss: work left uncommitted"))
        .collect();
    assert_eq!(leftovers.len(), 2, "{subjects}");
    let trailers = sb.git(&[
        "log",
        "--format=%(trailers:key=Pitboss-Session,valueonly)",
        "--grep=left uncommitted",
        &branch,
    ]);
    assert_eq!(trailers.split_whitespace().collect::<Vec<_>>(), ["6", "3"]);
    // Each record names its commit, which is on the branch.
    for r in &records {
        let c = r["commit"]
            .as_str()
            .expect("every session changed something");
        sb.git(&["merge-base", "--is-ancestor", c, &branch]);
    }
    assert_eq!(
        sb.git(&["show", &format!("{branch}:work.txt")]),
        "work 1\nwork 2\nwork 4\nwork 5\n"
    );
    // Transcripts and the scratchpad.
    let t = sb.ok(&["show", &run, "3", "--transcript"], "");
    assert!(t.contains("agent: session 3 prompt leave"), "{t}");
    let pad = sb.git(&["show", &format!("refs/pitboss/grind/{run}:scratchpad.md")]);
    for seq in 1..=6 {
        assert!(
            pad.contains(&format!("- note from session {seq} (")),
            "{pad}"
        );
    }
    // The user's checkout, index and HEAD are untouched; the worktree is gone.
    assert_eq!(sb.git(&["rev-parse", "HEAD"]), head_before);
    assert_eq!(
        std::fs::read_to_string(sb.repo.join("uncommitted.txt")).unwrap(),
        "the user's own work\n"
    );
    assert!(!sb.repo.join("work.txt").exists());
    assert_eq!(
        sb.git(&["status", "--porcelain", "--untracked-files=no"]),
        ""
    );
    assert_eq!(sb.git(&["worktree", "list"]).lines().count(), 1);
    let last = sb.git(&[
        "log",
        "-1",
        "--format=%s%n%(trailers:key=Pitboss-Run-Status,valueonly)",
        &format!("refs/pitboss/grind/{run}"),
    ]);
    assert!(
        last.starts_with(&format!(
            "run {run} finished: finished (iteration budget reached"
        )),
        "{last}"
    );
    let fsck = sb.git_output_in(&sb.repo, &["fsck", "--strict", "--no-dangling"]);
    assert!(fsck.status.success(), "{}", stderr(&fsck));
}

#[test]
fn failures_are_recorded_and_their_work_is_saved_as_a_patch() {
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[
        ("a-fail", ""),
        ("b-crash", ""),
        ("c-hang", "max_session_seconds: 1\n"),
        ("d-garbage", ""),
        ("e-bg", ""),
        ("f-skip", ""),
    ]);
    let out = sb.grind(
        &dir,
        &["--max-iterations", "6", "--consecutive-failure-limit", "0"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "a run with failed sessions exits 1: {}",
        stderr(&out)
    );
    let run = sb.only_run();
    let records = sb.records(&run);
    let statuses: Vec<&str> = records
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["error", "error", "timeout", "ok", "ok", "skipped"]
    );
    let (fail, crash, hang) = (&records[0], &records[1], &records[2]);
    assert!(
        fail["summary"]
            .as_str()
            .unwrap()
            .contains("exited with code 3"),
        "{fail}"
    );
    assert!(
        fail["summary"]
            .as_str()
            .unwrap()
            .contains("could not do it"),
        "{fail}"
    );
    assert_eq!(
        fail["tokens"]["input"], 100,
        "tokens reported before failing are kept"
    );
    assert_eq!(fail["exit_code"], 3);
    // The agent runs under `sh -c`, which reports its child's SIGKILL as exit code 137.
    let crashed = crash["summary"].as_str().unwrap();
    assert!(
        crashed.contains("signal 9") || crashed.contains("code 137"),
        "{crash}"
    );
    assert!(
        hang["summary"].as_str().unwrap().contains("time limit"),
        "{hang}"
    );
    for (seq, file) in [(1, "failed.txt"), (2, "crashed.txt")] {
        let patch = sb.git(&[
            "show",
            &format!("refs/pitboss/grind/{run}:patches/00/session-000{seq}.patch"),
        ]);
        assert!(
            patch.contains(&format!("+++ b/{file}")) && patch.contains("+partial"),
            "{patch}"
        );
        assert!(records[seq - 1]["commit"].is_null());
    }
    let branch = format!("refs/heads/pitboss/grind/{run}");
    let files = sb.git(&["ls-tree", "--name-only", &branch]);
    assert!(
        !files.contains("failed.txt") && !files.contains("crashed.txt"),
        "{files}"
    );
    // Garbage output is transcript text, not a crash.
    let garbage = sb.run(&["show", &run, "4", "--transcript"], "");
    assert!(garbage.status.success() && garbage.stdout.len() > 100_000);
    // A background grandchild does not outlive its session.
    assert!(
        !process_alive("sleep 303"),
        "the agent's background sleep survived"
    );
    assert!(
        !process_alive("sleep 60"),
        "the hung agent survived its timeout"
    );
}

#[test]
fn a_flood_of_output_is_capped_and_memory_stays_bounded() {
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("flood", "")]);
    let mut child = sb.grind_spawn(&dir, &["--max-iterations", "1"], &[]);
    let pid = child.id();
    let mut peak_kib = 0u64;
    while child.try_wait().unwrap().is_none() {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            && let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:"))
        {
            peak_kib = line
                .split_whitespace()
                .nth(1)
                .and_then(|v| v.parse().ok())
                .unwrap_or(peak_kib);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        peak_kib > 0 && peak_kib < 200 * 1024,
        "grind's peak RSS was {peak_kib} KiB for 200 MB of output"
    );
    let run = sb.only_run();
    let size: u64 = sb
        .git(&[
            "cat-file",
            "-s",
            &format!("refs/pitboss/grind/{run}:transcripts/00/session-0001.log"),
        ])
        .trim()
        .parse()
        .unwrap();
    assert!(
        size <= 22 << 20,
        "transcript of {size} bytes is over the 20 MiB cap"
    );
    let t = sb.ok(&["show", &run, "1", "--transcript"], "");
    assert!(t.contains("transcript truncated"), "no truncation marker");
}

#[test]
fn budgets_and_limits_pick_the_exit_code() {
    // Token budget: exit 3 after the session that crosses it.
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("tokens", "")]);
    let out = sb.grind(&dir, &["--max-tokens", "2000"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let run = sb.only_run();
    assert_eq!(sb.records(&run).len(), 2);
    let ls: Vec<serde_json::Value> = serde_json::from_str(&sb.ok(&["ls", "--json"], "")).unwrap();
    assert_eq!(ls[0]["status"], "stopped");
    assert_eq!(ls[0]["consumed"]["cost_usd"], 0.5);
    // Cost budget.
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("tokens", "")]);
    assert_eq!(
        sb.grind(&dir, &["--max-cost", "0.6"]).status.code(),
        Some(3)
    );
    assert_eq!(sb.records(&sb.only_run()).len(), 3);
    // Consecutive failures: exit 5.
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("fail", "")]);
    let out = sb.grind(
        &dir,
        &["--consecutive-failure-limit", "2", "--max-iterations", "10"],
    );
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert_eq!(sb.records(&sb.only_run()).len(), 2);
    // Scheduler exhausted (max_runs): exit 0, status finished, worktree removed.
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("commit", "max_runs: 2\n")]);
    let out = sb.grind(&dir, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ev = events(&out);
    let fin = ev.iter().find(|e| e["event"] == "run_finished").unwrap();
    assert_eq!(fin["summary"]["stop"]["cause"], "exhausted");
    assert_eq!(fin["summary"]["sessions"], 2);
    assert!(fin["summary"]["worktree_kept"].is_null());
}

#[test]
fn secrets_never_reach_the_repository() {
    let sb = Sandbox::new();
    let dir = sb.path("prompts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("leak.md"),
        "---\nname: leak\ndescription: prints secrets\n---\nLeak.\n",
    )
    .unwrap();
    let agent = sb.path("leak.sh");
    std::fs::write(
        &agent,
        r#"echo "my key is $ANTHROPIC_API_KEY"
echo "and a token: sk-proj-Zx8Qw3Er5Ty7Ui9Op1As2Df4Gh6Jk8Lz0"
echo "key $ANTHROPIC_API_KEY" >> "$PITBOSS_SCRATCHPAD"
echo "sk-proj-Zx8Qw3Er5Ty7Ui9Op1As2Df4Gh6Jk8Lz0" > notes.txt
echo "summary with $ANTHROPIC_API_KEY" > "$PITBOSS_SUMMARY_FILE"
exit 1
"#,
    )
    .unwrap();
    let secret = "sk-ant-api03-FAKEsecretVALUE0123456789abcdefABCDEF";
    let out = run_with_stdin(
        sb.pitboss()
            .env("ANTHROPIC_API_KEY", secret)
            .args([
                "grind",
                "--json",
                "--max-iterations",
                "1",
                "--prompts-dir",
                dir.to_str().unwrap(),
            ])
            .args(["--agent-cmd", &format!("sh {}", agent.display())]),
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let run = sb.only_run();
    let t = sb.ok(&["show", &run, "1", "--transcript"], "");
    assert!(t.contains("my key is [REDACTED]"), "{t}");
    // Every object of the repository, loose or packed.
    let all = std::process::Command::new("git")
        .current_dir(&sb.repo)
        .args(["cat-file", "--batch-all-objects", "--batch"])
        .output()
        .unwrap();
    let all = String::from_utf8_lossy(&all.stdout);
    assert!(all.contains("[REDACTED]"));
    assert!(!all.contains(secret), "the API key reached an object");
    assert!(
        !all.contains("sk-proj-Zx8Qw3Er5Ty7Ui9Op1As2Df4Gh6Jk8Lz0"),
        "the token reached an object"
    );
    assert!(!stdout(&out).contains(secret) && !stderr(&out).contains(secret));
}
