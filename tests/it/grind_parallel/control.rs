//! Stopping a parallel run: Ctrl-C once lets the running sessions finish and land and keeps the
//! slots for `--resume` (with as many slots or fewer); SIGTERM aborts every running session
//! (each recorded with its work saved); the consecutive-failure limit counts completions in
//! order; a session ending never ends a sibling's agent.

use super::*;

/// The agent of `ctrl_c_while_three_run`: sessions 1 to 3 meet, then wait for `$MARKS/go`.
const WAIT_FOR_GO: &str = r#"if [ "$PITBOSS_SEQ" -le 3 ]; then
  barrier met 3
  n=0
  until [ -e "$MARKS/go" ]; do
    n=$((n+1)); if [ $n -gt 600 ]; then echo "no go"; exit 9; fi
    sleep 0.05
  done
fi
git rev-parse --absolute-git-dir > "$MARKS/gitdir-$PITBOSS_SEQ"
echo "$PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "session $PITBOSS_SEQ"
"#;

/// `git pitboss grind --max-iterations 6` (human output) with an agent of [`WAIT_FOR_GO`]:
/// Ctrl-C once (SIGINT to the process group, as a terminal sends it) while sessions 1 to 3 run,
/// and once grind said it stops after them, they may finish.
fn ctrl_c_while_three_run(p: &Project) -> Output {
    let mut cmd = p.sb.git_pitboss();
    cmd.args(["grind", "--max-iterations", "6"])
        .env("MARKS", p.marks())
        .stdin(Stdio::null());
    let mut g = Grind::spawn(p, cmd, "first");
    for seq in 1..=3 {
        p.wait_mark(&format!("met-{seq}"), &mut g);
    }
    g.signal_group(nix::sys::signal::Signal::SIGINT);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !g.stderr().contains("stopping: no new session starts") {
        assert!(std::time::Instant::now() < deadline, "{}", g.stderr());
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::write(p.marks().join("go"), "").unwrap();
    g.wait(Duration::from_secs(60));
    g.output()
}

/// Ctrl-C once while three sessions run: no new session starts, the three finish and land, the
/// run is `aborted` and its slots stay (worktrees and slot branches); `--resume` runs its
/// sessions in those same slot worktrees and, finished, removes them all.
#[test]
fn slots_stay_after_ctrl_c_and_resume_reuses_then_removes_them() {
    let p = project(3, "", &[("work", SAFE)], WAIT_FOR_GO);
    let out = ctrl_c_while_three_run(&p);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    // NB: git, which got the Ctrl-C too, passes it on, waits for grind, then dies of it itself:
    // a shell says 130, not grind's 2.
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(2), "{ctx}");
    let recs = jsonl(&p, &run);
    assert_eq!(
        statuses(&recs),
        ["ok"; 3],
        "no new session after Ctrl-C: {ctx}"
    );
    for r in &recs {
        assert_eq!(landing(r)["result"], "landed", "{ctx}");
    }
    assert_eq!(p.state(&run)["status"], "aborted", "{ctx}");
    let (worktrees, branches) = slots_left(&p, &run);
    // Slots 1 to 3, and slot 0, the run's own worktree on the run branch.
    assert_eq!(worktrees.len(), 4, "{worktrees:?}\n{ctx}");
    for k in 1..=3 {
        let b = format!("pitboss-slot/{run}/{k}");
        assert!(branches.contains(&b), "{b} not in {branches:?}\n{ctx}");
    }
    let gitdir = |seq: u64| p.mark(&format!("gitdir-{seq}"));
    let before: BTreeSet<String> = (1..=3).map(gitdir).collect();
    assert_eq!(before.len(), 3, "{before:?}");

    let out = grind(&p, &["--resume", &run]);
    let ctx = context(&p, &run, &out);
    assert_eq!(out.status.code(), Some(0), "{ctx}");
    let recs = jsonl(&p, &run);
    assert_eq!(seqs(&recs), [1, 2, 3, 4, 5, 6], "{ctx}");
    assert_eq!(statuses(&recs), ["ok"; 6], "{ctx}");
    for seq in 4..=6 {
        assert!(
            before.contains(&gitdir(seq)),
            "session {seq} ran in {} and not in a slot of before {before:?}",
            gitdir(seq)
        );
    }
    assert_eq!(p.state(&run)["status"], "finished", "{ctx}");
    assert_eq!(slots_left(&p, &run), (vec![], vec![]), "{ctx}");
    assert_eq!(branch_commits(&p, &run).len(), 6, "{ctx}");
}

/// SIGTERM to `git pitboss grind` while three sessions run: each is `aborted`, its committed
/// and uncommitted work saved as a patch, none of it on the run branch; the run is `aborted`
/// and `--resume` goes on with seq 4.
#[test]
fn sigterm_aborts_every_running_session_and_saves_each_ones_work() {
    let p = project(
        3,
        "",
        &[("work", SAFE)],
        r#"if [ "$PITBOSS_SEQ" -le 3 ]; then
  barrier met 3
  echo "committed by $PITBOSS_SEQ" > "committed-$PITBOSS_SEQ.txt"
  git add . && git commit -q -m "session $PITBOSS_SEQ"
  echo "left by $PITBOSS_SEQ" > "left-$PITBOSS_SEQ.txt"
  touch "$MARKS/ready-$PITBOSS_SEQ"
  sleep 60
fi
echo "$PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "session $PITBOSS_SEQ"
"#,
    );
    let mut g = Grind::spawn(&p, grind_cmd(&p, &["--max-iterations", "6"]), "first");
    for seq in 1..=3 {
        p.wait_mark(&format!("ready-{seq}"), &mut g);
    }
    // To git, which passes it on to grind (as `kill <pid>` of what the user started does).
    g.signal(nix::sys::signal::Signal::SIGTERM);
    g.wait(Duration::from_secs(60));
    let out = g.output();
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["aborted"; 3], "{ctx}");
    assert_eq!(branch_commits(&p, &run), vec![], "{ctx}");
    for seq in 1..=3u64 {
        let patch = p
            .patch(&run, seq)
            .unwrap_or_else(|| panic!("no patch {seq}\n{ctx}"));
        assert!(
            patch.contains(&format!("+committed by {seq}"))
                && patch.contains(&format!("+left by {seq}")),
            "{patch}"
        );
    }
    assert_eq!(p.state(&run)["status"], "aborted", "{ctx}");
    let out = grind(&p, &["--resume", &run]);
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(seqs(&recs), [1, 2, 3, 4, 5, 6], "{ctx}");
    assert_eq!(statuses(&recs[3..]), ["ok"; 3], "{ctx}");
    assert_eq!(slots_left(&p, &run), (vec![], vec![]), "{ctx}");
}

/// `consecutive_failure_limit = 2` with three sessions failing at once: no session starts
/// once two failures in a row are recorded (one may start after the first, which is no limit
/// yet), and every session that did start is recorded.
#[test]
fn the_failure_limit_counts_completions_and_stops_dispatch() {
    let p = project(
        3,
        "consecutive_failure_limit = 2\n",
        &[("work", SAFE)],
        r#"echo "$PITBOSS_SEQ" >> "$MARKS/starts"
if [ "$PITBOSS_SEQ" -le 3 ]; then barrier met 3; fi
exit 1
"#,
    );
    let out = grind(&p, &["--max-iterations", "10"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    let starts = std::fs::read_to_string(p.marks().join("starts")).unwrap();
    assert_eq!(starts.lines().count(), recs.len(), "{starts}\n{ctx}");
    assert!(statuses(&recs).iter().all(|s| *s == "error"), "{ctx}");
    let mut failures = 0;
    for e in events(&out) {
        match e["event"].as_str() {
            Some("session_finished") => failures += 1,
            Some("session_started") => assert!(failures < 2, "{e} after 2 failures\n{ctx}"),
            _ => {}
        }
    }
    assert_eq!(
        run_summary(&out)["stop"]["reason"],
        serde_json::json!({"budget": "consecutive_failures", "limit": 2}),
        "{ctx}"
    );
    // (Its prompts are not committed: that warning is the only one.)
    let warned = diag(&out);
    let warned = warned
        .lines()
        .filter(|l| l.contains("warning") && !l.contains("not committed"));
    assert_eq!(warned.count(), 0, "{ctx}");
}

/// Many sessions four at a time whose agents exit at once, so sessions keep ending while
/// others start: no agent is taken for an orphan of another session and ended. (Before the
/// fix, a session ending while no other agent was registered ended every child of grind, a
/// sibling's agent caught between its spawn and its registration too: "killed by signal 15".)
#[test]
fn sessions_ending_while_others_start_never_end_a_sibling() {
    let p = project(4, "", &[("work", SAFE)], "exit 0\n");
    let out = grind(&p, &["--max-iterations", "32"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(recs.len(), 32, "{ctx}");
    let killed: Vec<&Value> = recs
        .iter()
        .filter(|r| r["status"] != recs[0]["status"])
        .collect();
    assert!(killed.is_empty(), "{killed:?}\n{ctx}");
    assert_ne!(recs[0]["status"], "error", "{ctx}");
}

/// A run stopped with three slots, resumed with two or with one (sequential): it goes on, and
/// finished, leaves none of the three slots or slot branches behind.
#[test]
fn a_resume_with_fewer_slots_still_removes_every_slot() {
    for resumed_with in ["2", "1"] {
        let p = project(3, "", &[("work", SAFE)], WAIT_FOR_GO);
        let out = ctrl_c_while_three_run(&p);
        let run = p.only_run();
        assert_eq!(slots_left(&p, &run).0.len(), 4, "{}", diag(&out));
        let out = grind(&p, &["--resume", &run, "--max-parallel", resumed_with]);
        let ctx = context(&p, &run, &out);
        assert_eq!(statuses(&jsonl(&p, &run)), ["ok"; 6], "{ctx}");
        assert_eq!(p.state(&run)["status"], "finished", "{ctx}");
        assert_eq!(
            slots_left(&p, &run),
            (vec![], vec![]),
            "{resumed_with}: {ctx}"
        );
    }
}

/// The agent of the two tests below: session 1 runs a minute, session 2 commits and ends.
const ONE_RUNS_ONE_WAITS: &str = r#"if [ "$PITBOSS_SEQ" = 1 ]; then
  touch "$MARKS/ready-1"
  sleep 60
fi
echo "$PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "session $PITBOSS_SEQ"
touch "$MARKS/done-$PITBOSS_SEQ"
"#;

/// SIGTERM while session 1 runs and session 2, done, waits in the landing queue behind it.
fn sigterm_with_one_queued(p: &Project, iterations: &str) -> (String, Vec<Value>, Value) {
    let mut g = Grind::spawn(p, grind_cmd(p, &["--max-iterations", iterations]), "first");
    p.wait_mark("ready-1", &mut g);
    p.wait_mark("done-2", &mut g);
    let out_file = p.sb.path("first.out");
    let queued = || std::fs::read_to_string(&out_file).unwrap_or_default();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !queued().contains("\"queued\"") {
        assert!(std::time::Instant::now() < deadline, "{}", queued());
        std::thread::sleep(Duration::from_millis(20));
    }
    g.signal(nix::sys::signal::Signal::SIGTERM);
    g.wait(Duration::from_secs(60));
    let out = g.output();
    let run = p.only_run();
    (context(p, &run, &out), jsonl(p, &run), p.state(&run))
}

/// A session waiting to land whose verify command the user's abort cuts is `aborted`, not an
/// `error` of its verify: nothing is known of its work, which is kept off the branch and saved;
/// the stop reason names both sessions the abort cut short.
#[test]
fn an_abort_during_a_queued_sessions_verify_is_an_abort_not_a_failed_verify() {
    let p = project(
        2,
        "verify_command = \"sleep 1\"\n",
        &[("work", "parallel_safe: true\nverify: true\n")],
        ONE_RUNS_ONE_WAITS,
    );
    let (ctx, recs, state) = sigterm_with_one_queued(&p, "3");
    assert_eq!(statuses(&recs), ["aborted", "aborted"], "{ctx}");
    let why = recs[1]["summary"].as_str().unwrap_or_default();
    assert!(why.contains("while its verify command ran"), "{ctx}");
    assert_eq!(landing(&recs[1])["result"], "nothing", "{ctx}");
    let run = p.only_run();
    let patch = p
        .patch(&run, 2)
        .unwrap_or_else(|| panic!("no patch\n{ctx}"));
    assert!(patch.contains("+2"), "{patch}");
    assert!(branch_commits(&p, &run).is_empty(), "{ctx}");
    let reason = state["stop_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("aborted sessions 1, 2"), "{reason}\n{ctx}");
}

/// SIGTERM once the iteration budget was spent at dispatch: the run is `aborted` (the user cut
/// session 1), as a sequential run says, not `finished`; session 2, done before, lands.
#[test]
fn sigterm_after_the_last_dispatch_is_not_a_finished_run() {
    let p = project(2, "", &[("work", SAFE)], ONE_RUNS_ONE_WAITS);
    let (ctx, recs, state) = sigterm_with_one_queued(&p, "2");
    assert_eq!(statuses(&recs), ["aborted", "ok"], "{ctx}");
    assert_eq!(state["status"], "aborted", "{ctx}");
    let reason = state["stop_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("aborted session 1"), "{reason}\n{ctx}");
}
