//! A parallel run (`max_parallel` 3) through `git pitboss grind`, as users run it, when things go
//! wrong or the user steps in: grind SIGKILLed mid-landing, while a landing is verified, or with
//! sessions in flight, then `--resume` (the run branch and the run ref agree, every in-flight
//! session is `aborted` with its transcript and its own work as a patch, orphaned agents are
//! ended, seqs stay dense, the slots go at the end); the run's cost budget reached by three
//! sessions at once (no further dispatch, all three cut); `skip` of one of three sessions;
//! Ctrl-C once (finish and land), twice or SIGTERM (abort all, resumable).
//!
//! The fake agent is a shell script. Each session commits early work, leaves more uncommitted,
//! notes its pid and says it started; sessions named in `$SLEEPERS` then wait (on a background
//! sleep, or until `$MARKS/release` with `$HOLD`) and session N first waits for the marks in
//! `$AWAIT_N`; at the end it commits its work.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::Value;

use crate::support::grind::*;

const AGENT: &str = r#"
echo "partial output of $PITBOSS_SEQ"
echo "$$" > "$MARKS/pid-$PITBOSS_SEQ"
echo "note of $PITBOSS_SEQ" >> "$PITBOSS_SCRATCHPAD"
echo "early $PITBOSS_SEQ" > "early-$PITBOSS_SEQ.txt"
git add "early-$PITBOSS_SEQ.txt" && git commit -q -m "agent: early commit $PITBOSS_SEQ"
echo "work of $PITBOSS_SEQ" > "work-$PITBOSS_SEQ.txt"
touch "$MARKS/started-$PITBOSS_SEQ"
eval "await=\${AWAIT_$PITBOSS_SEQ:-}"
# Every wait is bounded: a test that fails leaves no agent behind for long.
n=0
for m in $await; do
  while [ ! -e "$MARKS/$m" ] && [ $n -lt 1500 ]; do sleep 0.02; n=$((n + 1)); done
done
case " ${SLEEPERS:-} " in
  *" $PITBOSS_SEQ "*)
    if [ -n "${HOLD:-}" ]; then
      while [ ! -e "$MARKS/release" ] && [ $n -lt 3000 ]; do sleep 0.02; n=$((n + 1)); done
    else
      sleep 30 &
      echo "$!" > "$MARKS/sleep-pid-$PITBOSS_SEQ"
      wait
    fi ;;
esac
git add . && git commit -q -m "agent: session $PITBOSS_SEQ"
"#;

/// A project whose one prompt may run beside others, grinding 3 at a time.
fn project() -> Project {
    let p = Project::new();
    p.prompt("work", "parallel_safe: true\n").agent(AGENT);
    add_config(&p, "[grind]\nmax_parallel = 3\n");
    p
}

fn add_config(p: &Project, extra: &str) {
    let cfg = p.repo().join(".pitboss/config.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, format!("{text}\n{extra}")).unwrap();
}

/// A grind run through git in the background, and the `git-pitboss` process git runs for it.
/// Dropped early (a failed test), it kills that process and lets held agents go.
struct Live {
    g: Grind,
    pitboss: i32,
    marks: PathBuf,
}

impl Drop for Live {
    fn drop(&mut self) {
        if self.g.status.is_none() {
            end_stray(self.pitboss);
        }
        for m in ["go-1", "release"] {
            let _ = std::fs::write(self.marks.join(m), "");
        }
    }
}

/// `git pitboss grind --json <args>` through git, in the background, with `$MARKS` and `env`.
fn spawn(p: &Project, args: &[&str], env: &[(&str, &str)], name: &str) -> Live {
    let mut cmd = p.sb.git_pitboss();
    cmd.arg("grind")
        .arg("--json")
        .args(args)
        .env("MARKS", p.marks())
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    let mut g = Grind::spawn(p, cmd, name);
    let pitboss = pitboss_pid(&mut g);
    Live {
        g,
        pitboss,
        marks: p.marks(),
    }
}

/// `git pitboss grind --json <args>` through git, to its end (bounded).
fn grind(p: &Project, args: &[&str], name: &str) -> Output {
    let mut l = spawn(p, args, &[], name);
    l.g.wait(Duration::from_secs(60));
    l.g.output()
}

/// The `git-pitboss` process git runs for `g` (git's one child).
fn pitboss_pid(g: &mut Grind) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = std::process::Command::new("ps")
            .args(["-o", "pid=", "--ppid", &g.pid().to_string()])
            .output()
            .unwrap();
        let pids: Vec<i32> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect();
        if let [pid] = pids[..] {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "git's children: {pids:?}\n{}",
            g.stderr()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn signal(pid: i32, sig: Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig).unwrap();
}

/// The live transcript of session `seq` in whichever slot runs it.
fn live_transcript(p: &Project, run: &str, seq: u64) -> Option<PathBuf> {
    let dir = p.repo().join(".git/pitboss/runs").join(run);
    (0..3)
        .map(|k| dir.join(format!("slot-{k}/session-{seq:04}.log")))
        .find(|f| f.is_file())
}

/// Waits until session `seq`'s partial output reached its live transcript.
fn wait_flushed(p: &Project, run: &str, seq: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let want = format!("partial output of {seq}");
    while !live_transcript(p, run, seq)
        .and_then(|f| std::fs::read_to_string(f).ok())
        .is_some_and(|t| t.contains(&want))
    {
        assert!(
            Instant::now() < deadline,
            "session {seq}'s transcript was never flushed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The slot whose in-flight marker names session `seq`.
fn slot_of(p: &Project, run: &str, seq: u64) -> u32 {
    let dir = p.repo().join(".git/pitboss/runs").join(run);
    (0..3)
        .find(|k| {
            std::fs::read_to_string(dir.join(format!("slot-{k}/current.json")))
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .is_some_and(|m| m["seq"] == seq)
        })
        .unwrap_or_else(|| panic!("no slot runs session {seq}"))
}

fn pid_mark(p: &Project, name: &str) -> i32 {
    p.mark(name).parse().unwrap()
}

/// Ends a stray process a test left behind (not an assertion).
fn end_stray(pid: i32) {
    if !process_gone(pid) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
    }
}

fn landing_result(r: &Value) -> &str {
    r["landing"]["result"].as_str().unwrap_or("")
}

/// A landing is recorded if and only if the branch holds it: the commits the run branch gained
/// since `main` are exactly the commits of the records that say `landed`; no other record names
/// a landed commit; seqs are 1..=n.
fn assert_branch_and_ref_agree(p: &Project, run: &str, records: &[Value]) {
    let n = records.len() as u64;
    assert_eq!(seqs(records), (1..=n).collect::<Vec<_>>(), "dense seqs");
    let on_branch: BTreeSet<String> =
        p.sb.git(&["rev-list", &format!("main..{}", p.branch(run))])
            .lines()
            .map(str::to_string)
            .collect();
    let mut landed = BTreeSet::new();
    for r in records {
        let commits: Vec<String> = r["landing"]["commits"]
            .as_array()
            .map(|a| a.iter().map(|c| c.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        if landing_result(r) == "landed" {
            assert!(!commits.is_empty(), "a landing with no commit: {r}");
            for c in commits {
                assert!(
                    on_branch.contains(&c),
                    "recorded landed, not on the branch: {r}"
                );
                landed.insert(c);
            }
        } else {
            assert!(commits.is_empty(), "commits of a session not landed: {r}");
        }
    }
    assert_eq!(
        on_branch, landed,
        "the branch holds exactly the landed sessions' commits"
    );
}

/// A finished run leaves no slot: no slot branch, no worktree but the user's checkout.
fn assert_slots_removed(p: &Project) {
    let refs = p.sb.git(&["for-each-ref", "refs/heads/pitboss-slot/"]);
    assert!(refs.is_empty(), "slot branches left: {refs}");
    let wts = p.sb.git(&["worktree", "list", "--porcelain"]);
    assert_eq!(wts.matches("worktree ").count(), 1, "{wts}");
}

/// The aborted session `seq` kept its partial transcript and its work (committed and not) as
/// a patch, and none of it is on the branch.
fn assert_aborted_with_work(p: &Project, run: &str, r: &Value) {
    let seq = r["seq"].as_u64().unwrap();
    assert_eq!(r["status"], "aborted", "{r}");
    assert!(r["commit"].is_null(), "{r}");
    assert_ne!(landing_result(r), "landed", "{r}");
    assert!(
        p.transcript(run, seq)
            .contains(&format!("partial output of {seq}")),
        "session {seq}'s transcript"
    );
    let patch = p
        .patch(run, seq)
        .unwrap_or_else(|| panic!("session {seq}'s work as a patch"));
    assert!(patch.contains(&format!("+early {seq}")), "{patch}");
    assert!(patch.contains(&format!("+work of {seq}")), "{patch}");
    let files = p.sb.git(&["ls-tree", "--name-only", &p.branch(run)]);
    assert!(!files.contains(&format!("early-{seq}.txt")), "{files}");
}

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
    let out = grind(&p, &["--resume", &run, "--max-iterations", "5"], "resumed");
    end_stray(pid_mark(&p, "hook-sleep-pid"));
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
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
    end_stray(pid_mark(&p, "verify-sleep-pid"));
    assert_eq!(
        p.branch_subjects(&run),
        ["agent: early commit 1", "agent: session 1"]
    );

    let out = grind(&p, &["--resume", &run, "--max-iterations", "2"], "resumed");
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

/// One report step of [`STREAMING_CLAUDE`], in dollars.
const STEP_USD: f64 = 0.125;

#[test]
fn the_cost_budget_reached_by_three_running_sessions_cuts_them_and_dispatches_no_more() {
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
    // Each session alone stays far below $1; the three together pass it at their third step.
    // Once sessions 1 and 2 have landed, what they recorded is still under $1: only counting
    // what session 3 has used while it runs keeps the freed slots empty.
    let out = grind(&p, &["--max-iterations", "10", "--max-cost", "1"], "grind");
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
        assert!(why.contains("the run's cost budget ($1.00)"), "{r}");
        let seq = r["seq"].as_u64().unwrap();
        let patch = p.patch(&run, seq).expect("the cut session's work");
        assert!(patch.contains(&format!("+partial {seq}")), "{patch}");
        assert!(wait_gone(
            pid_mark(&p, &format!("pid-{seq}")),
            Duration::from_secs(5)
        ));
    }
    let total: f64 = records
        .iter()
        .map(|r| r["cost_usd"].as_f64().unwrap())
        .sum();
    assert!(
        (1.0..=1.0 + STEP_USD + 1e-9).contains(&total),
        "recorded ${total} for a budget of $1 and steps of ${STEP_USD}"
    );
    let s = run_summary(&out);
    assert_eq!(s["stop"]["cause"], "budget", "{s}");
    let reason = p.state(&run)["stop_reason"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(reason.contains("cost budget"), "{reason}");
    assert!(p.branch_subjects(&run).is_empty());
}

/// A grind of three held sessions, once all three run: session 1 waits for `$MARKS/go-1`,
/// sessions 2 and 3 for `$MARKS/release`.
fn three_held(p: &Project, iterations: &str) -> (Live, String) {
    let mut g = spawn(
        p,
        &["--max-iterations", iterations],
        &[("SLEEPERS", "2 3"), ("HOLD", "1"), ("AWAIT_1", "go-1")],
        "grind",
    );
    for seq in [1, 2, 3] {
        p.wait_mark(&format!("started-{seq}"), &mut g.g);
    }
    let run = p.only_run();
    for seq in [1, 2, 3] {
        wait_flushed(p, &run, seq);
    }
    (g, run)
}

#[test]
fn skip_of_one_of_three_running_sessions_ends_it_alone() {
    let p = project();
    let (mut g, run) = three_held(&p, "3");
    // TODO-free stand-in for `git pitboss skip <run> 2` until it is on main: its slot's skip
    // file, which is what that command writes.
    let k = slot_of(&p, &run, 2);
    let skip = p
        .repo()
        .join(".git/pitboss/runs")
        .join(&run)
        .join(format!("slot-{k}/skip"));
    std::fs::write(&skip, "skip requested by the test\n").unwrap();
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
