//! A parallel run (`max_parallel` 3) through `git pitboss grind`, as users run it, stopped
//! while three sessions run: by the run's cost or token budget, which the three reach together
//! (no further dispatch, all three cut, no overshoot past one report step); by `skip` of one of
//! them (it alone ends); by Ctrl-C once (no new dispatch, the running ones finish and land);
//! by Ctrl-C twice or SIGTERM (each aborted with its transcript and work, the run resumable).

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::support::grind::*;
use crate::support::parallel_grind::*;

/// A stand-in for Claude Code that, once three sessions run, streams a new assistant message
/// of 125,000 input tokens of `house-model` ($0.125 at $1 a million) every 0.5 s, sixty
/// times, then reports its result. Session 3 takes a second to end when told to (TERM), so
/// sessions 1 and 2 land and free their slots while it still runs.
const STREAMING_CLAUDE: &str = r#"#!/bin/sh
[ "$1" = --version ] && { echo '2.1.197 (Claude Code)'; exit 0; }
cat >/dev/null
[ "$PITBOSS_SEQ" = 3 ] && trap 'sleep 1; exit 143' TERM
echo "$$" > "$MARKS/pid-$PITBOSS_SEQ"
touch "$MARKS/started-$PITBOSS_SEQ"
echo '{"type":"system","subtype":"init","session_id":"s'"$PITBOSS_SEQ"'","model":"house-model","claude_code_version":"2.1.197"}'
while [ ! -e "$MARKS/started-1" ] || [ ! -e "$MARKS/started-2" ] || [ ! -e "$MARKS/started-3" ]; do
  sleep 0.02
done
echo "partial $PITBOSS_SEQ" > "partial-$PITBOSS_SEQ.txt"
i=0
while [ $i -lt 60 ]; do
  i=$((i + 1))
  echo '{"type":"assistant","message":{"id":"m'"$i"'","model":"house-model","role":"assistant","content":[{"type":"text","text":"step '"$i"'"}],"usage":{"input_tokens":125000,"output_tokens":0}}}'
  sleep 0.5
done
echo '{"type":"result","subtype":"success","is_error":false,"num_turns":60,"result":"done","total_cost_usd":7.5,"usage":{"input_tokens":7500000,"output_tokens":0}}'
"#;

/// One report step of [`STREAMING_CLAUDE`], in dollars and in tokens.
const STEP_USD: f64 = 0.125;
const STEP_TOKENS: u64 = 125_000;

/// Three sessions of [`STREAMING_CLAUDE`] run until the run's budget given by `budget` (cost
/// or tokens: about eight steps) is reached; returns the run and its records.
fn three_reach_the_budget(
    budget: &[&str],
    says: &str,
) -> (Project, String, Vec<serde_json::Value>) {
    let p = Project::new();
    p.prompt("work", "parallel_safe: true\n");
    let bin = p.sb.path("claude");
    std::fs::write(&bin, STREAMING_CLAUDE).unwrap();
    std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(
        p.repo().join(".pitboss/config.toml"),
        format!(
            "[agent]\nbackend = \"claude\"\nbinary = \"{}\"\n\n[grind]\nmax_parallel = 3\n\n\
             [budgets.pricing.\"house-model\"]\ninput = 1\noutput = 1\n",
            bin.display()
        ),
    )
    .unwrap();
    let t = Instant::now();
    // Each session alone stays far below the budget; the three together pass it at their third
    // step. Once sessions 1 and 2 have landed, what they recorded is still under it: only
    // counting what session 3 has used while it runs keeps the freed slots empty.
    let out = grind(&p, &[&["--max-iterations", "10"], budget].concat(), "grind");
    let took = t.elapsed();
    assert_eq!(out.status.code(), Some(3), "{}", diag(&out));
    assert!(took < Duration::from_secs(15), "not cut: took {took:?}");
    let started: Vec<String> = std::fs::read_dir(p.marks())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("started-"))
        .collect();
    assert_eq!(
        started.len(),
        3,
        "no session dispatched after the budget: {started:?}"
    );
    let run = p.only_run();
    let records = p.records(&run);
    assert_eq!(
        statuses(&records),
        ["timeout", "timeout", "timeout"],
        "{}",
        diag(&out)
    );
    for r in &records {
        let why = r["summary"].as_str().unwrap_or("");
        assert!(why.contains(says), "{r}");
        let seq = r["seq"].as_u64().unwrap();
        let patch = p.patch(&run, seq).expect("the cut session's work");
        assert!(patch.contains(&format!("+partial {seq}")), "{patch}");
        assert!(wait_gone(
            pid_mark(&p, &format!("pid-{seq}")),
            Duration::from_secs(5)
        ));
    }
    let s = run_summary(&out);
    assert_eq!(s["stop"]["cause"], "budget", "{s}");
    assert!(p.branch_subjects(&run).is_empty());
    (p, run, records)
}

#[test]
fn the_cost_budget_reached_by_three_running_sessions_cuts_them_and_dispatches_no_more() {
    let (p, run, records) =
        three_reach_the_budget(&["--max-cost", "1"], "the run's cost budget ($1.00)");
    let total: f64 = records
        .iter()
        .map(|r| r["cost_usd"].as_f64().unwrap())
        .sum();
    assert!(
        (1.0..=1.0 + STEP_USD + 1e-9).contains(&total),
        "recorded ${total} for a budget of $1 and steps of ${STEP_USD}"
    );
    let reason = p.state(&run)["stop_reason"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(reason.contains("cost budget"), "{reason}");
}

#[test]
fn the_token_budget_reached_by_three_running_sessions_cuts_them_and_dispatches_no_more() {
    let (p, run, records) = three_reach_the_budget(
        &["--max-tokens", "1000000"],
        "the run's token budget (1000000)",
    );
    let total: u64 = records
        .iter()
        .map(|r| r["tokens"]["input"].as_u64().unwrap() + r["tokens"]["output"].as_u64().unwrap())
        .sum();
    assert!(
        (1_000_000..=1_000_000 + STEP_TOKENS).contains(&total),
        "recorded {total} tokens for a budget of 1000000 and steps of {STEP_TOKENS}"
    );
    let reason = p.state(&run)["stop_reason"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(reason.contains("token budget"), "{reason}");
}

#[test]
fn skip_of_one_of_three_running_sessions_ends_it_alone() {
    let p = project();
    let (mut g, run) = three_held(&p, "3");
    let k = slot_of(&p, &run, 2);
    let out = crate::support::run_with_stdin(p.sb.git_pitboss().args(["skip", &run, "2"]), "");
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    assert!(
        crate::support::stderr(&out).contains(&format!("session 0002 (slot {k})")),
        "{}",
        diag(&out)
    );
    assert!(
        wait_gone(pid_mark(&p, "pid-2"), Duration::from_secs(10)),
        "session 2 was not ended"
    );
    assert!(
        !process_gone(pid_mark(&p, "pid-1")) && !process_gone(pid_mark(&p, "pid-3")),
        "the skip ended only session 2"
    );
    for m in ["go-1", "release"] {
        std::fs::write(p.marks().join(m), "").unwrap();
    }
    g.g.wait(Duration::from_secs(30));
    let out = g.g.output();
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let records = p.records(&run);
    assert_eq!(
        statuses(&records),
        ["ok", "skipped", "ok"],
        "{}",
        diag(&out)
    );
    assert_branch_and_ref_agree(&p, &run, &records);
    assert_eq!(landing_result(&records[0]), "landed");
    assert_eq!(landing_result(&records[2]), "landed");
    let files = p.sb.git(&["ls-tree", "--name-only", &p.branch(&run)]);
    assert!(
        !files.contains("early-2.txt") && !files.contains("work-2.txt"),
        "{files}"
    );
    for n in [1, 3] {
        assert!(files.contains(&format!("work-{n}.txt")), "{files}");
    }
}

#[test]
fn ctrl_c_twice_aborts_every_running_session_with_its_work() {
    let p = project();
    let (mut g, run) = three_held(&p, "10");
    signal(g.pitboss, Signal::SIGINT);
    // A second Ctrl-C, as a person presses it: after grind's one-second window in which a
    // second SIGINT is the same keypress passed on by git.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(g.g.child.try_wait().unwrap().is_none(), "{}", g.g.stderr());
    signal(g.pitboss, Signal::SIGINT);
    assert_every_session_aborted(&p, g, &run);
}

#[test]
fn sigterm_aborts_every_running_session_with_its_work() {
    let p = project();
    let (g, run) = three_held(&p, "10");
    signal(g.pitboss, Signal::SIGTERM);
    assert_every_session_aborted(&p, g, &run);
}

/// Grind, told to abort while sessions 1 to 3 run, ends soon with each `aborted` with its
/// transcript and work, its agent gone, nothing landed or dispatched; the run is `aborted`
/// and a `--resume` goes on.
fn assert_every_session_aborted(p: &Project, mut g: Live, run: &str) {
    let t = Instant::now();
    g.g.wait(Duration::from_secs(30));
    assert!(
        t.elapsed() < Duration::from_secs(15),
        "took {:?}",
        t.elapsed()
    );
    let out = g.g.output();
    let records = p.records(run);
    assert_eq!(
        statuses(&records),
        ["aborted", "aborted", "aborted"],
        "{}",
        diag(&out)
    );
    for r in &records {
        assert_aborted_with_work(p, run, r);
        let pid = pid_mark(p, &format!("pid-{}", r["seq"]));
        assert!(wait_gone(pid, Duration::from_secs(5)), "agent {pid} left");
    }
    assert!(
        !p.marks().join("started-4").exists(),
        "nothing dispatched after the abort"
    );
    assert_branch_and_ref_agree(p, run, &records);
    let s = run_summary(&out);
    assert_eq!(s["status"], "aborted", "{s}");
    assert_eq!(s["stop"]["cause"], "user", "{s}");
    assert_eq!(
        s["stop"]["aborted_sessions"],
        serde_json::json!([1, 2, 3]),
        "every session the abort cut short is named: {s}"
    );
    assert_eq!(
        p.state(run)["stop_reason"]
            .as_str()
            .map(|r| r.contains("aborted sessions 1, 2, 3")),
        Some(true),
        "{}",
        p.state(run)
    );
    assert_eq!(out.status.code(), Some(2), "{}", diag(&out));
    assert_eq!(p.state(run)["status"], "aborted", "resumable");

    let out = grind(p, &["--resume", run, "--max-iterations", "5"], "resumed");
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let records = p.records(run);
    assert_eq!(
        statuses(&records),
        ["aborted", "aborted", "aborted", "ok", "ok"],
        "{}",
        diag(&out)
    );
    assert_branch_and_ref_agree(p, run, &records);
    assert_slots_removed(p);
}

#[test]
fn ctrl_c_once_dispatches_no_more_and_lets_the_running_sessions_land() {
    let p = project();
    let (mut g, run) = three_held(&p, "10");
    signal(g.pitboss, Signal::SIGINT);
    std::thread::sleep(Duration::from_millis(300));
    // Session 1 ends and lands: its slot is free, yet nothing is dispatched to it.
    std::fs::write(p.marks().join("go-1"), "").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while p.records(&run).is_empty() {
        assert!(
            Instant::now() < deadline,
            "session 1 never landed\n{}",
            g.g.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Long enough for a dispatch the Ctrl-C failed to stop to show (the loop ticks at 0.2 s).
    std::thread::sleep(Duration::from_millis(600));
    assert!(
        !p.marks().join("started-4").exists(),
        "dispatched after Ctrl-C"
    );
    assert!(g.g.child.try_wait().unwrap().is_none(), "{}", g.g.stderr());
    std::fs::write(p.marks().join("release"), "").unwrap();
    g.g.wait(Duration::from_secs(30));
    let out = g.g.output();
    let records = p.records(&run);
    assert_eq!(statuses(&records), ["ok", "ok", "ok"], "{}", diag(&out));
    assert!(records.iter().all(|r| landing_result(r) == "landed"));
    assert!(
        !p.marks().join("started-4").exists(),
        "nothing dispatched after Ctrl-C"
    );
    assert_branch_and_ref_agree(&p, &run, &records);
    let s = run_summary(&out);
    assert_eq!(s["stop"]["cause"], "user", "{s}");
    assert_eq!(s["stop"]["drained"], true, "{s}");
    assert_eq!(out.status.code(), Some(2), "{}", diag(&out));
    assert_eq!(p.state(&run)["status"], "aborted", "resumable");
}
