//! How a run ends, through the real binary, by its exit code (README "Exit codes"): 3 when the
//! cost, token or time budget is spent (the agent's result file reports tokens and cost), 5 at
//! the consecutive-failure limit, 0 when the scheduler is exhausted (`max_runs`). A run stopped
//! by a budget can be resumed with a larger one.

use std::time::{Duration, Instant};

use crate::support::grind::*;

/// Reports 60 + 40 tokens and $0.02 per session, sleeping `$AGENT_SLEEP` first.
const SPENDER: &str = r#"
sleep "${AGENT_SLEEP:-0}"
echo '{"summary":"spent some","tokens":{"input":60,"output":40},"cost_usd":0.02}' > "$PITBOSS_RESULT_FILE"
"#;

fn spender() -> Project {
    let p = Project::new();
    p.prompt("spend", "").agent(SPENDER);
    p
}

fn stop_reason(p: &Project, run: &str) -> String {
    p.state(run)["stop_reason"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn the_cost_budget_stops_with_exit_3_and_a_resume_can_extend_it() {
    let p = spender();
    let out = p.grind(&["--max-cost", "0.05"]);
    assert_eq!(out.status.code(), Some(3), "{}", diag(&out));
    let run = p.only_run();
    assert_eq!(statuses(&p.records(&run)), ["ok", "ok", "ok"]);
    let s = run_summary(&out);
    assert_eq!(s["stop"]["cause"], "budget");
    assert_eq!(s["status"], "stopped");
    assert_eq!(s["cost_usd"], 0.06);
    assert_eq!(p.state(&run)["status"], "stopped");
    assert!(
        stop_reason(&p, &run).contains("cost budget reached"),
        "{}",
        stop_reason(&p, &run)
    );
    assert!(p.worktree_registered(&run), "kept for --resume");

    // $0.06 spent; $0.09 allows two more sessions.
    let out = p.grind(&["--resume", &run, "--max-cost", "0.09"]);
    assert_eq!(out.status.code(), Some(3), "{}", diag(&out));
    assert_eq!(seqs(&p.records(&run)), [1, 2, 3, 4, 5]);
}

#[test]
fn the_token_budget_stops_with_exit_3() {
    let p = spender();
    let out = p.grind(&["--max-tokens", "250"]);
    assert_eq!(out.status.code(), Some(3), "{}", diag(&out));
    let run = p.only_run();
    assert_eq!(p.records(&run).len(), 3);
    assert_eq!(
        stop_reason(&p, &run),
        "token budget reached (300 of 250 tokens)"
    );
    assert_eq!(run_summary(&out)["tokens"], 300);
}

#[test]
fn the_time_budget_stops_with_exit_3() {
    let p = spender();
    // Sessions of half a second are useful here: lower the minimum time left (default 60 s).
    let cfg = p.repo().join(".pitboss/config.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        format!("{text}[grind.budgets]\nmin_session_seconds = 0\n"),
    )
    .unwrap();
    let until = chrono::Utc::now() + chrono::Duration::milliseconds(2500);
    let until = until.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let t = Instant::now();
    let out = p.grind_with(&["--until", &until], &[("AGENT_SLEEP", "0.5")]);
    assert_eq!(out.status.code(), Some(3), "{}", diag(&out));
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );
    let run = p.only_run();
    let n = p.records(&run).len();
    // About five; fewer on a loaded machine.
    assert!((1..=7).contains(&n), "{n} sessions");
    assert!(
        stop_reason(&p, &run).contains("time budget reached"),
        "{}",
        stop_reason(&p, &run)
    );
}

#[test]
fn the_consecutive_failure_limit_stops_with_exit_5() {
    let p = Project::new();
    p.prompt("fail", "").agent("echo 'it broke' >&2\nexit 1\n");
    let out = p.grind(&["--consecutive-failure-limit", "2", "--max-iterations", "10"]);
    assert_eq!(out.status.code(), Some(5), "{}", diag(&out));
    let run = p.only_run();
    assert_eq!(statuses(&p.records(&run)), ["error", "error"]);
    assert_eq!(p.state(&run)["status"], "stopped");
    assert_eq!(stop_reason(&p, &run), "2 sessions failed in a row");
}

#[test]
fn an_exhausted_scheduler_ends_the_run_with_exit_0() {
    let p = Project::new();
    p.prompt("a", "max_runs: 2\n")
        .prompt("b", "max_runs: 1\n")
        .agent(SPENDER);
    let out = p.grind(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let run = p.only_run();
    let records = p.records(&run);
    let prompts: Vec<&str> = records
        .iter()
        .map(|r| r["prompt"].as_str().unwrap())
        .collect();
    assert_eq!(prompts, ["a", "b", "a"]);
    let s = run_summary(&out);
    assert_eq!(s["stop"]["cause"], "exhausted");
    assert_eq!(p.state(&run)["status"], "finished");
    assert!(!p.worktree(&run).exists());
}
