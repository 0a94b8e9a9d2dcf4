//! Stopping and resuming a grind from outside: Ctrl-C once and twice, SIGKILL of grind itself
//! mid-session followed by `--resume`, a second grind on the same run, and `git pitboss skip`.

mod common;

use std::time::Duration;

use common::*;

fn finished(child: std::process::Child) -> std::process::Output {
    child.wait_with_output().unwrap()
}

#[test]
fn one_ctrl_c_finishes_the_session_then_stops_and_resume_goes_on() {
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("sleep", "")]);
    let child = sb.grind_spawn(&dir, &["--max-iterations", "5"], &[("AGENT_SLEEP", "1")]);
    let grind_pid = child.id();
    let (run, seq, _) = sb.wait_for_agent(Duration::from_secs(20));
    assert_eq!(seq, 1);
    kill(grind_pid, "INT");
    let out = finished(child);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let records = sb.records(&run);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["status"], "ok", "the session ran to its end");
    let ls: Vec<serde_json::Value> = serde_json::from_str(&sb.ok(&["ls", "--json"], "")).unwrap();
    assert_eq!(ls[0]["status"], "aborted");
    let wt = sb.repo.join(format!(".git/pitboss/worktrees/{run}/0"));
    assert!(wt.is_dir(), "the worktree is kept for --resume");
    // Resume with a budget from the new command line: the seq goes on, same branch.
    let out = sb.grind(&dir, &["--resume", &run, "--max-iterations", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let records = sb.records(&run);
    assert_eq!(
        records
            .iter()
            .map(|r| r["seq"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2]
    );
    let subjects = sb.git(&[
        "log",
        "--format=%s",
        &format!("main..refs/heads/pitboss/grind/{run}"),
    ]);
    assert_eq!(subjects, "agent: slept 2\nagent: slept 1\n");
    assert!(!wt.exists(), "a finished run's worktree is removed");
}

#[test]
fn two_ctrl_c_abort_the_session_and_save_its_work() {
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("sleep", "")]);
    let child = sb.grind_spawn(&dir, &["--max-iterations", "5"], &[("AGENT_SLEEP", "307")]);
    let grind_pid = child.id();
    let (run, _, _) = sb.wait_for_agent(Duration::from_secs(20));
    // Something for the patch.
    std::fs::write(
        sb.repo
            .join(format!(".git/pitboss/worktrees/{run}/0/half-done.txt")),
        "half\n",
    )
    .unwrap();
    kill(grind_pid, "INT");
    std::thread::sleep(Duration::from_millis(200));
    kill(grind_pid, "INT");
    let out = finished(child);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let records = sb.records(&run);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["status"], "aborted");
    let patch = sb.git(&[
        "show",
        &format!("refs/pitboss/grind/{run}:patches/00/session-0001.patch"),
    ]);
    assert!(patch.contains("+half"), "{patch}");
    assert!(!process_alive("sleep 307"), "the aborted agent survived");
}

#[test]
fn sigterm_aborts_like_a_second_ctrl_c() {
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("sleep", "")]);
    let child = sb.grind_spawn(&dir, &["--max-iterations", "5"], &[("AGENT_SLEEP", "311")]);
    let grind_pid = child.id();
    let (run, _, _) = sb.wait_for_agent(Duration::from_secs(20));
    kill(grind_pid, "TERM");
    let out = finished(child);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(sb.records(&run)[0]["status"], "aborted");
    assert!(!process_alive("sleep 311"));
}

#[test]
fn sigkill_of_grind_mid_session_then_resume_loses_nothing() {
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("sleep", "")]);
    // Two sessions first, so the killed one is seq 3.
    let out = sb.grind(&dir, &["--max-iterations", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let run = sb.only_run();
    let child = sb.grind_spawn(
        &dir,
        &["--resume", &run, "--max-iterations", "5"],
        &[("AGENT_SLEEP", "313")],
    );
    let grind_pid = child.id();
    let (_, seq, agent_pid) = sb.wait_for_agent(Duration::from_secs(20));
    assert_eq!(seq, 3);
    let wt = sb.repo.join(format!(".git/pitboss/worktrees/{run}/0"));
    std::fs::write(wt.join("interrupted.txt"), "unsaved\n").unwrap();
    // The transcript is flushed to disk every 500 ms; give it one flush before the kill.
    std::thread::sleep(Duration::from_millis(800));
    kill(grind_pid, "KILL");
    let _ = finished(child);
    assert!(
        process_alive("sleep 313"),
        "the agent outlives a SIGKILLed grind (its own group)"
    );
    let _ = agent_pid;
    // Resume: the orphan is ended, the interrupted session is recorded, the seq goes on.
    let out = sb.grind(&dir, &["--resume", &run, "--max-iterations", "4"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        !process_alive("sleep 313"),
        "the orphaned agent was not ended"
    );
    let records = sb.records(&run);
    let got: Vec<(u64, &str)> = records
        .iter()
        .map(|r| (r["seq"].as_u64().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(got, [(1, "ok"), (2, "ok"), (3, "aborted"), (4, "ok")]);
    let patch = sb.git(&[
        "show",
        &format!("refs/pitboss/grind/{run}:patches/00/session-0003.patch"),
    ]);
    assert!(patch.contains("+unsaved"), "{patch}");
    let t = sb.ok(&["show", &run, "3", "--transcript"], "");
    assert!(
        t.contains("working slowly"),
        "the partial transcript is kept: {t:?}"
    );
    assert!(!wt.exists());
    let fsck = sb.git_output_in(&sb.repo, &["fsck", "--strict", "--no-dangling"]);
    assert!(fsck.status.success(), "{}", stderr(&fsck));
}

#[test]
fn a_second_grind_on_a_live_run_is_refused_with_the_holders_pid() {
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("sleep", "")]);
    let child = sb.grind_spawn(&dir, &["--max-iterations", "1"], &[("AGENT_SLEEP", "2")]);
    let holder = child.id();
    let (run, _, _) = sb.wait_for_agent(Duration::from_secs(20));
    let before = sb.pitboss_refs();
    let second = sb.grind(&dir, &["--resume", &run]);
    assert_eq!(second.status.code(), Some(4), "{}", stderr(&second));
    let err = stderr(&second);
    assert!(
        err.contains(&format!("already being ground by process {holder}")),
        "{err}"
    );
    assert_eq!(sb.pitboss_refs(), before, "the refused grind wrote nothing");
    let out = finished(child);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn git_pitboss_skip_ends_the_live_session_as_skipped() {
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("sleep", "")]);
    // Nothing to skip yet.
    assert_eq!(sb.run(&["skip"], "").status.code(), Some(4));
    let child = sb.grind_spawn(&dir, &["--max-iterations", "1"], &[("AGENT_SLEEP", "317")]);
    let (run, _, _) = sb.wait_for_agent(Duration::from_secs(20));
    let out = sb.run(&["skip"], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = finished(child);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sb.records(&run)[0]["status"], "skipped");
    assert!(!process_alive("sleep 317"));
    // A run that is not being ground has no session to skip.
    let err = sb.run(&["skip", &run], "");
    assert_eq!(err.status.code(), Some(4));
    assert!(
        stderr(&err).contains("not being ground"),
        "{}",
        stderr(&err)
    );
}
