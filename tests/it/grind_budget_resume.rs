//! Issue 22: a live grind and `--resume` count a run's budgets by one rule (`grind/spent.rs`),
//! so a run stopped mid-way (one Ctrl-C, or its grind killed) and resumed stops where a run
//! never stopped does, with the same numbers, and its stop reason says what `log` counts.
//! Through the real binary: real signals, a fake agent that reports tokens and cost.

use std::time::Duration;

use nix::sys::signal::Signal;

use crate::support::grind::*;

/// $0.02 and 100 tokens a session; holds session N while `hold-N` exists and `release-N` does
/// not; fails (exit 1, reporting nothing) when `$FAIL` is set.
const AGENT: &str = r#"
touch "$MARKS/started-$PITBOSS_SEQ"
i=0
while [ -e "$MARKS/hold-$PITBOSS_SEQ" ] && [ ! -e "$MARKS/release-$PITBOSS_SEQ" ] && [ $i -lt 600 ]; do
  sleep 0.1; i=$((i+1))
done
if [ -n "$FAIL" ]; then echo "it broke" >&2; exit 1; fi
echo '{"summary":"spent some","tokens":{"input":60,"output":40},"cost_usd":0.02}' > "$PITBOSS_RESULT_FILE"
"#;

const BUDGETS: [&str; 4] = ["--max-iterations", "5", "--max-cost", "0.07"];

fn project() -> Project {
    let p = Project::new();
    p.prompt("a", "").prompt("b", "").agent(AGENT);
    p
}

/// A grind of `args` whose session `hold` waits for the test; returns when it has started.
fn start_holding(p: &Project, args: &[&str], env: &[(&str, &str)], hold: u64) -> Grind {
    std::fs::write(p.marks().join(format!("hold-{hold}")), "").unwrap();
    let mut cmd = p.grind_cmd(args);
    cmd.envs(env.iter().copied());
    let mut g = Grind::spawn(p, cmd, "first");
    p.wait_mark(&format!("started-{hold}"), &mut g);
    g
}

fn release(p: &Project, seq: u64) {
    std::fs::write(p.marks().join(format!("release-{seq}")), "").unwrap();
}

/// What `git pitboss log --json` counts: sessions, and the sum of their known costs.
fn logged(p: &Project, run: &str) -> (usize, f64) {
    let records = p.records(run);
    let cost = records
        .iter()
        .filter(|r| r["cost_source"] != "unknown")
        .filter_map(|r| r["cost_usd"].as_f64())
        .sum();
    (records.len(), cost)
}

/// What `git pitboss stats --json` totals: sessions and cost.
fn stats(p: &Project) -> (u64, f64) {
    let v: serde_json::Value = serde_json::from_str(&p.sb.ok(&["stats", "--json"], "")).unwrap();
    let t = &v["total"];
    (
        t["sessions"].as_u64().unwrap(),
        t["cost_usd"].as_f64().unwrap(),
    )
}

fn stop_reason(p: &Project, run: &str) -> String {
    p.state(run)["stop_reason"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn a_drained_and_resumed_run_stops_where_an_uninterrupted_one_does() {
    // Never interrupted: $0.02 a session, so the cost budget of $0.07 stops it after 4.
    let once = project();
    let out = once.grind(&BUDGETS);
    assert_eq!(out.status.code(), Some(3), "{}", diag(&out));
    let run = once.only_run();
    let (n, cost) = logged(&once, &run);
    assert_eq!(n, 4);
    assert!((cost - 0.08).abs() < 1e-9, "{cost}");
    let reason = "cost budget reached ($0.0800 of $0.07)";
    assert_eq!(stop_reason(&once, &run), reason);

    // One Ctrl-C during session 2: it finishes, the run stops; the resume goes on.
    let p = project();
    let mut g = start_holding(&p, &BUDGETS, &[], 2);
    g.signal_group(Signal::SIGINT);
    std::thread::sleep(Duration::from_millis(300));
    release(&p, 2);
    assert_eq!(
        g.wait(Duration::from_secs(30)).code(),
        Some(2),
        "{}",
        g.stderr()
    );
    let run = p.only_run();
    assert_eq!(logged(&p, &run).0, 2);
    let out = p.grind(&["--resume", &run]);
    assert_eq!(out.status.code(), Some(3), "{}", diag(&out));
    let (n, cost) = logged(&p, &run);
    assert_eq!(n, 4, "as many sessions as the run never stopped");
    assert!((cost - 0.08).abs() < 1e-9, "{cost}");
    assert_eq!(stop_reason(&p, &run), reason);
    let (sessions, cost) = stats(&p);
    assert_eq!(sessions, 4);
    assert!(
        (cost - 0.08).abs() < 1e-9,
        "the $0.0800 of the reason: {cost}"
    );
}

#[test]
fn a_killed_and_resumed_run_counts_the_killed_session_once() {
    let p = project();
    let mut g = start_holding(&p, &BUDGETS, &[], 2);
    g.signal(Signal::SIGKILL);
    g.wait(Duration::from_secs(30));
    let run = p.only_run();
    let out = p.grind(&["--resume", &run]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    // By hand: 1 ok ($0.02); 2 killed, recorded `aborted` by the resume (one iteration, no
    // known cost); 3, 4 and 5 ok: five iterations, $0.08 known, under the $0.07 only after 5.
    let records = p.records(&run);
    assert_eq!(statuses(&records), ["ok", "aborted", "ok", "ok", "ok"]);
    let (n, cost) = logged(&p, &run);
    assert_eq!(n, 5);
    assert!((cost - 0.08).abs() < 1e-9, "{cost}");
    assert_eq!(
        stop_reason(&p, &run),
        format!("iteration budget reached ({n} sessions)")
    );
    let (sessions, cost) = stats(&p);
    assert_eq!(sessions, 5);
    assert!((cost - 0.08).abs() < 1e-9, "{cost}");
}

#[test]
fn a_failure_streak_goes_on_across_a_resume_as_it_would_have_without_one() {
    let args = ["--max-iterations", "5", "--consecutive-failure-limit", "3"];
    // Never interrupted: three errors in a row stop it (exit 5).
    let once = project();
    let out = once.grind_with(&args, &[("FAIL", "1")]);
    assert_eq!(out.status.code(), Some(5), "{}", diag(&out));
    let run = once.only_run();
    assert_eq!(logged(&once, &run).0, 3);
    let reason = stop_reason(&once, &run);
    assert_eq!(reason, "3 sessions failed in a row");

    // Drained during session 2: two errors recorded; the resume's first error is the third.
    let p = project();
    let mut g = start_holding(&p, &args, &[("FAIL", "1")], 2);
    g.signal_group(Signal::SIGINT);
    std::thread::sleep(Duration::from_millis(300));
    release(&p, 2);
    assert_eq!(
        g.wait(Duration::from_secs(30)).code(),
        Some(2),
        "{}",
        g.stderr()
    );
    let run = p.only_run();
    let out = p.grind_with(&["--resume", &run], &[("FAIL", "1")]);
    assert_eq!(out.status.code(), Some(5), "{}", diag(&out));
    assert_eq!(statuses(&p.records(&run)), ["error", "error", "error"]);
    assert_eq!(stop_reason(&p, &run), reason);

    // After a stop *by* the limit, a resume is the user saying the cause is fixed: a fresh
    // streak, so it runs again.
    let out = p.grind(&["--resume", &run]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    assert_eq!(
        statuses(&p.records(&run)),
        ["error", "error", "error", "ok", "ok"]
    );
}
