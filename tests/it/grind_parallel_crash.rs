//! A parallel run (`max_parallel` 3) through `git pitboss grind`, as users run it, killed
//! (SIGKILL) mid-landing, while a landing is verified, or with sessions in flight, then
//! `--resume`: the run branch and the run ref agree (a landing is recorded if and only if the
//! branch holds it), every in-flight session is `aborted` with its transcript and its own work
//! as a patch, orphaned agents are ended, seqs stay dense, the slots go at the end.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::support::grind::*;
use crate::support::parallel_grind::*;

/// The post-session hook of session 1 says it runs (the run branch has moved, the record is
/// not appended yet), then sleeps.
const SLOW_HOOK: &str = r#"
if [ "$PITBOSS_SEQ" = 1 ]; then
  sleep 60 &
  echo "$!" > "$MARKS/hook-sleep-pid"
  touch "$MARKS/landing-1"
  wait
fi
"#;

#[test]
fn sigkill_mid_landing_then_resume_records_the_landing_and_aborts_the_rest() {
    let p = project();
    let hook = p.sb.path("hook.sh");
    std::fs::write(&hook, SLOW_HOOK).unwrap();
    add_config(
        &p,
        &format!("[grind.hooks]\npost_session = \"sh {}\"\n", hook.display()),
    );
    let mut g = spawn(
        &p,
        &["--max-iterations", "5"],
        &[("SLEEPERS", "2 3"), ("AWAIT_1", "started-2 started-3")],
        "killed",
    );
    p.wait_mark("landing-1", &mut g.g);
    let run = p.only_run();
    wait_flushed(&p, &run, 2);
    wait_flushed(&p, &run, 3);
    // Mid-landing: the branch holds session 1, the run ref does not record it yet.
    assert_eq!(
        p.branch_subjects(&run),
        ["agent: early commit 1", "agent: session 1"]
    );
    assert!(p.records(&run).is_empty());
    signal(g.pitboss, Signal::SIGKILL);
    g.g.wait(Duration::from_secs(10));
    let agents = [pid_mark(&p, "pid-2"), pid_mark(&p, "pid-3")];
    let sleepers = [pid_mark(&p, "sleep-pid-2"), pid_mark(&p, "sleep-pid-3")];
    assert!(
        agents
            .iter()
            .chain(&sleepers)
            .all(|pid| !process_gone(*pid)),
        "the orphaned agents outlive grind until the resume"
    );

    let t = Instant::now();
    let hook_sleep = pid_mark(&p, "hook-sleep-pid");
    assert!(
        !process_gone(hook_sleep),
        "the hook outlives grind until the resume"
    );
    let out = grind(&p, &["--resume", &run, "--max-iterations", "5"], "resumed");
    assert_ended_by_the_resume(hook_sleep, "the post_session hook");
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    // The resume tells the recovered landing as a live one is told.
    let landed_1 = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "landing" && e["seq"] == 1);
    assert_eq!(
        landed_1.map(|e| e["landing"]["result"].clone()),
        Some("landed".into()),
        "{}",
        diag(&out)
    );
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "took {:?}",
        t.elapsed()
    );
    for pid in agents.iter().chain(&sleepers) {
        assert!(
            wait_gone(*pid, Duration::from_secs(5)),
            "{pid} left running"
        );
    }
    let records = p.records(&run);
    assert_eq!(
        statuses(&records),
        ["ok", "aborted", "aborted", "ok", "ok"],
        "{}",
        diag(&out)
    );
    assert_branch_and_ref_agree(&p, &run, &records);
    // The session killed mid-landing is recorded as the landing it was.
    assert_eq!(landing_result(&records[0]), "landed", "{}", records[0]);
    assert!(p.transcript(&run, 1).contains("partial output of 1"));
    for r in &records[1..3] {
        assert_aborted_with_work(&p, &run, r);
    }
    assert_eq!(landing_result(&records[3]), "landed");
    assert_eq!(landing_result(&records[4]), "landed");
    // No note lost, none twice.
    let pad = p.run_file(&run, "scratchpad.md").unwrap();
    for n in 1..=5 {
        assert_eq!(pad.matches(&format!("note of {n}\n")).count(), 1, "{pad}");
    }
    assert_eq!(p.state(&run)["status"], "finished");
    assert_slots_removed(&p);
}

/// The verify command of session 2's landing says it runs, then sleeps (the slot holds
/// session 2's commits replayed onto the run branch, which holds session 1 by then).
const SLOW_VERIFY: &str = r#"
if [ "$PITBOSS_SEQ" = 2 ]; then
  sleep 60 &
  echo "$!" > "$MARKS/verify-sleep-pid"
  touch "$MARKS/verifying-2"
  wait
fi
"#;

#[test]
fn sigkill_during_the_verify_at_landing_then_resume_saves_only_the_sessions_own_work() {
    let p = project();
    p.prompt("work", "parallel_safe: true\nverify: true\n");
    let verify = p.sb.path("verify.sh");
    std::fs::write(&verify, SLOW_VERIFY).unwrap();
    add_config(
        &p,
        &format!(
            "verify_command = \"sh {}\"\n[grind.hooks]\npost_session = \"touch $MARKS/landed-$PITBOSS_SEQ\"\n",
            verify.display()
        ),
    );
    // Sessions 1 and 2 start from the same tip; 2 finishes once 1 has landed.
    let mut g = spawn(
        &p,
        &["--max-iterations", "2"],
        &[("AWAIT_2", "landed-1")],
        "killed",
    );
    p.wait_mark("verifying-2", &mut g.g);
    let run = p.only_run();
    signal(g.pitboss, Signal::SIGKILL);
    g.g.wait(Duration::from_secs(10));
    assert_eq!(
        p.branch_subjects(&run),
        ["agent: early commit 1", "agent: session 1"]
    );

    let verify_sleep = pid_mark(&p, "verify-sleep-pid");
    let out = grind(&p, &["--resume", &run, "--max-iterations", "2"], "resumed");
    assert_ended_by_the_resume(verify_sleep, "the verify command");
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let records = p.records(&run);
    assert_eq!(statuses(&records), ["ok", "aborted"], "{}", diag(&out));
    assert_branch_and_ref_agree(&p, &run, &records);
    assert_aborted_with_work(&p, &run, &records[1]);
    // Its own work only: not session 1's, which is on the branch.
    let patch = p.patch(&run, 2).unwrap();
    assert!(
        !patch.contains("+work of 1") && !patch.contains("+early 1"),
        "{patch}"
    );
    assert_slots_removed(&p);
}

#[test]
fn sigkill_with_three_sessions_in_flight_then_resume_aborts_each_and_goes_on() {
    let p = project();
    // Session 1 lands at once; 2 and 3 work on, and 4 (dispatched to the slot 1 freed) has
    // finished and waits in the landing queue behind them.
    let mut g = spawn(
        &p,
        &["--max-iterations", "6"],
        &[("SLEEPERS", "2 3")],
        "killed",
    );
    for seq in [2, 3, 4] {
        p.wait_mark(&format!("started-{seq}"), &mut g.g);
    }
    let run = p.only_run();
    for seq in [2, 3, 4] {
        wait_flushed(&p, &run, seq);
    }
    assert!(wait_gone(pid_mark(&p, "pid-4"), Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(statuses(&p.records(&run)), ["ok"]);
    assert!(
        !p.branch_subjects(&run)
            .contains(&"agent: session 4".to_string()),
        "session 4 waits behind 2 and 3"
    );
    signal(g.pitboss, Signal::SIGKILL);
    g.g.wait(Duration::from_secs(10));
    let orphans: Vec<i32> = [2, 3]
        .iter()
        .flat_map(|n| [format!("pid-{n}"), format!("sleep-pid-{n}")])
        .map(|m| pid_mark(&p, &m))
        .collect();
    assert!(
        orphans.iter().all(|pid| !process_gone(*pid)),
        "the orphaned agents outlive grind until the resume"
    );
    let before = p.sb.git(&["rev-parse", &p.branch(&run)]);

    let t = Instant::now();
    let out = grind(&p, &["--resume", &run, "--max-iterations", "6"], "resumed");
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "took {:?}",
        t.elapsed()
    );
    for pid in &orphans {
        assert!(
            wait_gone(*pid, Duration::from_secs(5)),
            "{pid} left running"
        );
    }
    let records = p.records(&run);
    assert_eq!(
        statuses(&records),
        ["ok", "aborted", "aborted", "aborted", "ok", "ok"],
        "{}",
        diag(&out)
    );
    assert_branch_and_ref_agree(&p, &run, &records);
    for r in &records[1..4] {
        assert_aborted_with_work(&p, &run, r);
    }
    // The resumed grind went on from the tip the killed one left.
    assert!(
        p.sb.git(&[
            "merge-base",
            "--is-ancestor",
            before.trim(),
            &p.branch(&run)
        ])
        .is_empty()
    );
    let subjects = p.branch_subjects(&run);
    for n in [1, 5, 6] {
        assert!(
            subjects.contains(&format!("agent: session {n}")),
            "{subjects:?}"
        );
    }
    assert_eq!(p.state(&run)["status"], "finished");
    assert_slots_removed(&p);
    let summary = run_summary(&out);
    assert_eq!(summary["status"], "finished", "{summary}");
}

/// `pid`, a process of a hook the killed grind was running, was ended by the `--resume`.
fn assert_ended_by_the_resume(pid: i32, what: &str) {
    let gone = wait_gone(pid, Duration::from_secs(5));
    end_stray(pid);
    assert!(gone, "the resume ends {what} the dead grind left running");
}

/// Session 2 fails while session 1's verify command runs (it waits in the queue behind it);
/// session 1's verify sleeps and says so.
const FAILING_AGENT: &str = r#"
echo "partial output of $PITBOSS_SEQ"
echo "early $PITBOSS_SEQ" > "early-$PITBOSS_SEQ.txt"
git add "early-$PITBOSS_SEQ.txt" && git commit -q -m "agent: early commit $PITBOSS_SEQ"
echo "work of $PITBOSS_SEQ" > "work-$PITBOSS_SEQ.txt"
touch "$MARKS/started-$PITBOSS_SEQ"
if [ "$PITBOSS_SEQ" = 2 ]; then exit 3; fi
n=0
while [ ! -e "$MARKS/failed-2" ] && [ $n -lt 1500 ]; do sleep 0.02; n=$((n + 1)); done
git add . && git commit -q -m "agent: session $PITBOSS_SEQ"
"#;

const VERIFY_1_SLEEPS: &str = r#"
if [ "$PITBOSS_SEQ" = 1 ]; then
  sleep 60 &
  echo "$!" > "$MARKS/verify-sleep-pid"
  touch "$MARKS/verifying-1"
  wait
fi
"#;

/// A failed session's work is saved as a patch and its slot reset as soon as its agent ends,
/// but it is recorded only when the queue comes to it. Killed while it waits there, grind used
/// to leave `--resume` a clean slot and nothing else: the work was in memory only. It is
/// written beside the session's marker before the reset, and the resume records it.
#[test]
fn sigkill_while_a_failed_session_waits_in_the_queue_then_resume_keeps_its_work() {
    let p = project();
    p.prompt("work", "parallel_safe: true\nverify: true\n")
        .agent(FAILING_AGENT);
    let verify = p.sb.path("verify.sh");
    std::fs::write(&verify, VERIFY_1_SLEEPS).unwrap();
    add_config(
        &p,
        &format!(
            "[grind]\nmax_parallel = 3\nverify_command = \"sh {}\"\n",
            verify.display()
        ),
    );
    let mut g = spawn(&p, &["--max-iterations", "2"], &[], "killed");
    p.wait_mark("started-2", &mut g.g);
    let run = p.only_run();
    // Session 2's agent failed and its slot was put back where it started: its work is no
    // longer in the slot.
    let slot2 = p.worktree(&run).with_file_name("2");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !slot2.join(".git").exists() || slot2.join("work-2.txt").exists() {
        assert!(Instant::now() < deadline, "slot 2 was never reset");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::write(p.marks().join("failed-2"), "").unwrap();
    p.wait_mark("verifying-1", &mut g.g);
    signal(g.pitboss, Signal::SIGKILL);
    g.g.wait(Duration::from_secs(10));
    assert!(p.records(&run).is_empty());

    let out = grind(&p, &["--resume", &run, "--max-iterations", "2"], "resumed");
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let records = p.records(&run);
    assert_eq!(statuses(&records), ["aborted", "aborted"], "{}", diag(&out));
    assert_branch_and_ref_agree(&p, &run, &records);
    for r in &records {
        assert_aborted_with_work(&p, &run, r);
    }
    assert_slots_removed(&p);
}
