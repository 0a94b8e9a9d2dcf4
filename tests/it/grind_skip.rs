//! Skipping a session: the agent creates `$PITBOSS_SKIP_FILE` ("nothing to do"), or the user
//! runs `git pitboss skip` from another terminal while the agent works. The session is recorded
//! `skipped`, its work does not land, and the run goes on with the next session (exit 0: a
//! skip is not a failure).

use std::time::{Duration, Instant};

use crate::support::grind::*;

#[test]
fn an_agent_that_creates_the_skip_file_is_skipped_and_the_run_goes_on() {
    let p = Project::new();
    p.prompt("a", "").agent(
        r#"
echo "tried $PITBOSS_SEQ" > "tried-$PITBOSS_SEQ.txt"
if [ "$PITBOSS_SEQ" = 1 ]; then
  echo "nothing to do here" > "$PITBOSS_SKIP_FILE"
  exit 0
fi
git add . && git commit -q -m "agent: session $PITBOSS_SEQ"
"#,
    );
    let out = p.grind(&["--max-iterations", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let run = p.only_run();
    let records = p.records(&run);
    assert_eq!(statuses(&records), ["skipped", "ok"]);
    assert!(records[0]["commit"].is_null());
    assert_eq!(p.branch_subjects(&run), ["agent: session 2"]);
    let files = p.sb.git(&["ls-tree", "--name-only", &p.branch(&run)]);
    assert!(!files.contains("tried-1.txt"), "{files}");
}

#[test]
fn git_pitboss_skip_from_another_process_ends_the_running_session() {
    let p = Project::new();
    p.prompt("a", "").agent(
        r#"
echo "$$" > "$MARKS/pid-$PITBOSS_SEQ"
touch "$MARKS/started-$PITBOSS_SEQ"
if [ "$PITBOSS_SEQ" = 1 ]; then sleep 30; fi
echo "done $PITBOSS_SEQ" > "done-$PITBOSS_SEQ.txt"
"#,
    );
    let mut g = Grind::spawn(&p, p.grind_cmd(&["--max-iterations", "2"]), "grind");
    p.wait_mark("started-1", &mut g);
    let run = p.only_run();
    let t = Instant::now();
    // No run named: the newest running one.
    let skip = p.sb.run(&["skip"], "");
    assert!(skip.status.success(), "{}", diag(&skip));
    assert!(
        String::from_utf8_lossy(&skip.stderr).contains(&run),
        "{}",
        diag(&skip)
    );
    g.wait(Duration::from_secs(30));
    assert!(
        t.elapsed() < Duration::from_secs(15),
        "took {:?}",
        t.elapsed()
    );
    let out = g.output();
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let records = p.records(&run);
    assert_eq!(statuses(&records), ["skipped", "dirty"]);
    assert!(wait_gone(
        p.mark("pid-1").parse().unwrap(),
        Duration::from_secs(5)
    ));
    assert_eq!(p.branch_subjects(&run).len(), 1, "only session 2 landed");

    // With no grind holding the run there is nothing to skip.
    let late = p.sb.run(&["skip", &run], "");
    assert!(!late.status.success(), "{}", diag(&late));
    assert!(
        String::from_utf8_lossy(&late.stderr).contains("not being ground"),
        "{}",
        diag(&late)
    );
}

/// `git pitboss skip <run> <seq>` names the session to end: a seq that is not running is
/// refused, naming the one that is; the running one is ended. The refusals of a parallel run
/// (several running, say which) are read from the markers of its slot directories, made here
/// beside the real grind's own (the parallel engine writes them there).
#[test]
fn skip_with_a_seq_ends_that_session_and_an_unknown_or_unsaid_one_is_refused() {
    let p = Project::new();
    p.prompt("a", "").agent(
        r#"
touch "$MARKS/started-$PITBOSS_SEQ"
if [ "$PITBOSS_SEQ" = 1 ]; then sleep 30; fi
"#,
    );
    let mut g = Grind::spawn(&p, p.grind_cmd(&["--max-iterations", "1"]), "grind");
    p.wait_mark("started-1", &mut g);
    let run = p.only_run();
    let skip = |args: &[&str]| {
        let mut cmd = p.sb.git_pitboss();
        cmd.arg("skip").args(args);
        crate::support::run_with_stdin(&mut cmd, "")
    };

    let wrong = skip(&[&run, "7"]);
    assert_eq!(wrong.status.code(), Some(4), "{}", diag(&wrong));
    let err = String::from_utf8_lossy(&wrong.stderr).into_owned();
    assert!(
        err.contains(&format!(
            "session 7 of run {run} is not running (session 1 is)"
        )),
        "{err}"
    );

    // Two more sessions side by side, as a parallel run's slots have them.
    let run_dir = p.repo().join(".git/pitboss/runs").join(&run);
    for (slot, seq) in [(0, 4), (1, 5)] {
        let dir = run_dir.join(format!("slot-{slot}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("current.json"),
            format!(r#"{{"seq":{seq},"prompt":"a","started_at":"2026-01-01T00:00:00Z","base":"x","agent_pid":null,"slot":{slot}}}"#),
        )
        .unwrap();
    }
    let unsaid = skip(&[&run]);
    assert_eq!(unsaid.status.code(), Some(4), "{}", diag(&unsaid));
    let err = String::from_utf8_lossy(&unsaid.stderr).into_owned();
    assert!(
        err.contains(&format!("sessions 1, 4 and 5 of run {run} are running")),
        "{err}"
    );
    assert!(
        err.contains(&format!("git pitboss skip {run} <seq>")),
        "{err}"
    );
    let five = skip(&[&run, "5"]);
    assert!(five.status.success(), "{}", diag(&five));
    assert!(
        String::from_utf8_lossy(&five.stderr).contains("skip session 0005 (slot 1)"),
        "{}",
        diag(&five)
    );
    assert!(run_dir.join("slot-1/skip").exists());
    assert!(!run_dir.join("skip").exists(), "session 1 goes on");
    std::fs::remove_dir_all(run_dir.join("slot-0")).unwrap();
    std::fs::remove_dir_all(run_dir.join("slot-1")).unwrap();

    let t = Instant::now();
    let one = skip(&[&run, "1"]);
    assert!(one.status.success(), "{}", diag(&one));
    assert!(
        String::from_utf8_lossy(&one.stderr)
            .contains(&format!("asked run {run} to skip session 0001")),
        "{}",
        diag(&one)
    );
    g.wait(Duration::from_secs(30));
    assert!(
        t.elapsed() < Duration::from_secs(15),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(statuses(&p.records(&run)), ["skipped"]);
}

/// A parallel run of three sessions side by side: `skip <run>` alone is refused (three run),
/// `skip <run> 2` ends session 2 only; the other two finish and land. Its `--json` events
/// carry each session's slot and each landing.
#[test]
fn skip_of_one_of_three_sessions_side_by_side_ends_that_one_only() {
    let p = Project::new();
    p.prompt("a", "parallel_safe: true\n").agent(
        r#"
echo "$$" > "$MARKS/pid-$PITBOSS_SEQ"
touch "$MARKS/started-$PITBOSS_SEQ"
i=0
while [ ! -f "$MARKS/go" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
echo "$PITBOSS_SEQ" > "f-$PITBOSS_SEQ.txt"
git add "f-$PITBOSS_SEQ.txt" && git commit -q -m "agent: session $PITBOSS_SEQ"
"#,
    );
    let mut g = Grind::spawn(
        &p,
        p.grind_cmd(&["--max-iterations", "3", "--max-parallel", "3"]),
        "grind",
    );
    for seq in 1..=3 {
        p.wait_mark(&format!("started-{seq}"), &mut g);
    }
    let run = p.only_run();
    let skip = |args: &[&str]| {
        let mut cmd = p.sb.git_pitboss();
        cmd.arg("skip").args(args);
        crate::support::run_with_stdin(&mut cmd, "")
    };
    let unsaid = skip(&[&run]);
    assert_eq!(unsaid.status.code(), Some(4), "{}", diag(&unsaid));
    let err = String::from_utf8_lossy(&unsaid.stderr).into_owned();
    assert!(
        err.contains(&format!("sessions 1, 2 and 3 of run {run} are running")),
        "{err}"
    );
    let two = skip(&[&run, "2"]);
    assert!(two.status.success(), "{}", diag(&two));
    assert!(
        String::from_utf8_lossy(&two.stderr).contains("skip session 0002 (slot "),
        "{}",
        diag(&two)
    );
    assert!(
        wait_gone(p.mark("pid-2").parse().unwrap(), Duration::from_secs(10)),
        "session 2's agent ended"
    );
    for seq in [1, 3] {
        assert!(!process_gone(
            p.mark(&format!("pid-{seq}")).parse().unwrap()
        ));
    }
    std::fs::write(p.marks().join("go"), "").unwrap();
    g.wait(Duration::from_secs(30));
    let out = g.output();
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let records = p.records(&run);
    assert_eq!(statuses(&records), ["ok", "skipped", "ok"]);
    let mut subjects = p.branch_subjects(&run);
    subjects.sort();
    assert_eq!(subjects, ["agent: session 1", "agent: session 3"]);

    let events = events(&out);
    let slots: Vec<bool> = (events.iter())
        .filter(|e| e["event"] == "session_started")
        .map(|e| e["slot"].is_u64())
        .collect();
    assert_eq!(slots, [true, true, true]);
    let mut landings: Vec<(u64, String)> = (events.iter())
        .filter(|e| e["event"] == "landing")
        .map(|e| {
            assert!(e["slot"].is_u64() && e["ms"].is_u64(), "{e}");
            let result = e["landing"]["result"].as_str().unwrap_or("").to_string();
            (e["seq"].as_u64().unwrap(), result)
        })
        .collect();
    landings.sort();
    assert_eq!(
        landings,
        [
            (1, "landed".to_string()),
            (2, "nothing".to_string()),
            (3, "landed".to_string())
        ]
    );
    // The closing row counts only sessions that were to land: the skipped one was not (its
    // landing event says "nothing", and its record says skipped).
    assert_eq!(
        run_summary(&out)["landings"],
        serde_json::json!({"landed": 2, "conflict": 0, "verify_failed": 0, "nothing": 0})
    );
}
