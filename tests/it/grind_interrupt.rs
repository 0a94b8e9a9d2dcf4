//! Stopping a grind from the terminal, through the real binary, and going on with `--resume`.
//! Grind runs in a process group of its own, like a shell's foreground job, and Ctrl-C is
//! SIGINT to that whole group; the agent has its own group, so only grind sees it.
//!
//! - Ctrl-C once: the session finishes normally (its work lands), then the run stops:
//!   `aborted`, exit 2, worktree kept.
//! - Ctrl-C twice, or SIGTERM: the session is ended now and recorded `aborted`, its work a
//!   patch, exit 2.
//! - `--resume` continues the same run and branch, seq going on, with the budgets of the new
//!   command line.

use std::time::{Duration, Instant};

use crate::support::grind::*;
use nix::sys::signal::Signal;

/// Leaves uncommitted work, says it started, sleeps `$AGENT_SLEEP` seconds (0 by default),
/// then commits its work.
const AGENT: &str = r#"
echo "session $PITBOSS_SEQ $PITBOSS_PROMPT"
echo "work of $PITBOSS_SEQ" > "work-$PITBOSS_SEQ.txt"
echo "$$" > "$MARKS/pid-$PITBOSS_SEQ"
touch "$MARKS/started-$PITBOSS_SEQ"
sleep "${AGENT_SLEEP:-0}"
git add . && git commit -q -m "agent: session $PITBOSS_SEQ"
"#;

fn project() -> Project {
    let p = Project::new();
    p.prompt("a", "").prompt("b", "").agent(AGENT);
    p
}

/// The stop reasons of a run the user drained (one Ctrl-C: the session finished, then the run
/// stopped) and of one whose session 1 the user aborted: both runs are `aborted`, and only the
/// reason tells them apart.
const DRAINED: &str = "stopped by the user between sessions (drained: one Ctrl-C or `d` in watch; no session was cut short)";
const ABORTED_1: &str = "stopped by the user, who aborted session 1 (Ctrl-C twice, SIGTERM or SIGHUP): its work is saved as a patch";

/// What `git pitboss show <run>` says of the run's status.
fn shown_status(p: &Project, run: &str) -> String {
    let show = p.sb.ok(&["show", run], "");
    show.lines()
        .find(|l| l.starts_with("status "))
        .unwrap_or_else(|| panic!("{show}"))
        .to_string()
}

/// Starts a grind whose first session sleeps `sleep` seconds, and waits until it runs.
fn start(p: &Project, sleep: &str) -> Grind {
    let mut cmd = p.grind_cmd(&["--max-iterations", "5"]);
    cmd.env("AGENT_SLEEP", sleep);
    let mut g = Grind::spawn(p, cmd, "first");
    p.wait_mark("started-1", &mut g);
    g
}

/// The stopped run is resumable: `aborted`, its worktree kept and clean.
fn assert_stopped_resumable(p: &Project, run: &str) {
    assert_eq!(p.state(run)["status"], "aborted");
    assert!(p.worktree_registered(run));
    let wt = p.worktree(run);
    assert_eq!(p.sb.git_in(&wt, &["status", "--porcelain"]), "");
}

/// `--resume` (with `run`, or the newest stopped run) and fast sessions.
fn resume(p: &Project, run: Option<&str>, max_iterations: &str) -> std::process::Output {
    let mut args = vec!["--resume"];
    args.extend(run);
    args.extend(["--max-iterations", max_iterations]);
    p.grind(&args)
}

#[test]
fn ctrl_c_once_finishes_the_session_then_stops_and_resume_goes_on() {
    let p = project();
    let mut g = start(&p, "2");
    g.signal_group(Signal::SIGINT);
    g.wait(Duration::from_secs(30));
    let out = g.output();
    assert_eq!(out.status.code(), Some(2), "{}", diag(&out));
    let run = p.only_run();
    let records = p.records(&run);
    assert_eq!(statuses(&records), ["ok"], "the session finished normally");
    assert_eq!(p.branch_subjects(&run), ["agent: session 1"]);
    assert!(p.patch(&run, 1).is_none());
    let s = run_summary(&out);
    assert_eq!(s["status"], "aborted");
    assert_eq!(s["stop"]["cause"], "user");
    assert_eq!(s["stop"]["drained"], true);
    assert!(s["worktree_kept"].is_string());
    assert_stopped_resumable(&p, &run);
    assert_eq!(
        shown_status(&p, &run),
        format!("status    aborted ({DRAINED})")
    );

    // Budgets come from the new command line: 3 sessions in all, so 2 more.
    let out = resume(&p, Some(&run[..12]), "3");
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    assert_eq!(p.only_run(), run, "the same run");
    let records = p.records(&run);
    assert_eq!(seqs(&records), [1, 2, 3]);
    assert_eq!(statuses(&records), ["ok", "ok", "ok"]);
    let prompts: Vec<&str> = records
        .iter()
        .map(|r| r["prompt"].as_str().unwrap())
        .collect();
    assert_eq!(
        prompts,
        ["a", "b", "a"],
        "the rotation goes on where it was"
    );
    assert_eq!(
        p.branch_subjects(&run),
        ["agent: session 1", "agent: session 2", "agent: session 3"]
    );
    let s = run_summary(&out);
    assert_eq!(s["resumed"], true);
    assert_eq!(s["sessions"], 2);
    assert_eq!(p.state(&run)["status"], "finished");
    assert!(!p.worktree(&run).exists());
}

/// A session ended by the user: `aborted`, its work a patch, nothing on the branch, the
/// agent gone, soon.
fn assert_aborted_now(p: &Project, g: &Grind, since: Instant) -> String {
    let out = g.output();
    assert_eq!(out.status.code(), Some(2), "{}", diag(&out));
    assert!(
        since.elapsed() < Duration::from_secs(17),
        "took {:?}",
        since.elapsed()
    );
    let run = p.only_run();
    let records = p.records(&run);
    assert_eq!(statuses(&records), ["aborted"]);
    assert!(records[0]["commit"].is_null());
    assert!(p.branch_subjects(&run).is_empty());
    let patch = p.patch(&run, 1).expect("the aborted session's work");
    assert!(patch.contains("+work of 1"), "{patch}");
    assert!(wait_gone(
        p.mark("pid-1").parse().unwrap(),
        Duration::from_secs(5)
    ));
    assert!(p.transcript(&run, 1).contains("session 1 a"));
    assert_stopped_resumable(p, &run);
    run
}

#[test]
fn ctrl_c_twice_aborts_the_session_and_resume_goes_on() {
    let p = project();
    let mut g = start(&p, "30");
    let t = Instant::now();
    g.signal_group(Signal::SIGINT);
    // A second keypress, not the same one passed on by git (see the pty tests below).
    std::thread::sleep(Duration::from_millis(1500));
    g.signal_group(Signal::SIGINT);
    g.wait(Duration::from_secs(30));
    let run = assert_aborted_now(&p, &g, t);
    assert_eq!(p.state(&run)["stop_reason"], ABORTED_1);
    assert_eq!(
        shown_status(&p, &run),
        format!("status    aborted ({ABORTED_1})")
    );
    let s = run_summary(&g.output());
    assert_eq!(s["stop"]["drained"], false);
    assert_eq!(s["stop"]["aborted_session"], 1);

    let out = resume(&p, Some(&run), "2");
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let records = p.records(&run);
    assert_eq!(statuses(&records), ["aborted", "ok"]);
    assert_eq!(records[1]["prompt"], "b", "the aborted pick counts");
    // The resumed session starts from a clean tree: the aborted work is not in its commit.
    assert_eq!(p.branch_subjects(&run), ["agent: session 2"]);
    let files = p.sb.git(&["ls-tree", "--name-only", &p.branch(&run)]);
    assert!(!files.contains("work-1.txt"), "{files}");
}

#[test]
fn sigterm_aborts_the_session_and_a_bare_resume_finds_the_run() {
    let p = project();
    let mut g = start(&p, "30");
    let t = Instant::now();
    g.signal(Signal::SIGTERM);
    g.wait(Duration::from_secs(30));
    let run = assert_aborted_now(&p, &g, t);

    let out = resume(&p, None, "3");
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    assert_eq!(p.only_run(), run);
    assert_eq!(seqs(&p.records(&run)), [1, 2, 3]);
}

/// An aborted session that had changed nothing stores no patch, and the run's stop reason says
/// so instead of claiming its work is saved as a patch.
#[test]
fn an_aborted_session_that_changed_nothing_is_not_said_to_have_a_patch() {
    let p = Project::new();
    p.prompt("a", "").agent(
        r#"
touch "$MARKS/started-$PITBOSS_SEQ"
sleep 30
"#,
    );
    let mut cmd = p.sb.git_pitboss();
    cmd.args(["grind", "--json", "--max-iterations", "3"])
        .env("MARKS", p.marks())
        .stdin(std::process::Stdio::null());
    let mut g = Grind::spawn(&p, cmd, "idle");
    p.wait_mark("started-1", &mut g);
    g.signal_group(Signal::SIGTERM);
    g.wait(Duration::from_secs(30));
    // git itself ends by the signal (see `assert_git_ended_by`), after grind has recorded.
    let out = g.output();
    assert!(!out.status.success(), "{}", diag(&out));
    let run = p.only_run();
    assert_eq!(statuses(&p.records(&run)), ["aborted"]);
    assert!(p.patch(&run, 1).is_none(), "nothing changed, no patch");
    assert_eq!(
        p.state(&run)["stop_reason"],
        "stopped by the user, who aborted session 1 (Ctrl-C twice, SIGTERM or SIGHUP): it had \
         changed nothing, so no patch was saved"
    );
}

// On a real terminal, through git, as people run it.

use crate::support::pty::Terminal;
use std::os::unix::process::ExitStatusExt;

/// `git pitboss grind --max-iterations 5` on a new terminal, its sessions sleeping `sleep`
/// seconds; `--json` to the file `json` when given. Returns once the first session runs.
fn on_terminal(p: &Project, sleep: &str, json: Option<&std::path::Path>) -> Terminal {
    let mut cmd = p.sb.git_pitboss();
    cmd.args(["grind", "--max-iterations", "5"])
        .env("MARKS", p.marks())
        .env("AGENT_SLEEP", sleep);
    let stdout = json.map(|f| {
        cmd.arg("--json");
        std::fs::File::create(f).unwrap()
    });
    let mut t = Terminal::spawn(&cmd, stdout, true);
    let mark = p.marks().join("started-1");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !mark.exists() {
        if let Some(s) = t.child.try_wait().unwrap() {
            panic!("git pitboss grind exited ({s}) early:\n{}", t.screen());
        }
        assert!(
            Instant::now() < deadline,
            "no session started:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    t
}

/// The one child of process `pid` (`git-pitboss`, run by git).
fn child_of(pid: u32) -> i32 {
    let out = std::process::Command::new("ps")
        .args(["-o", "pid=", "--ppid", &pid.to_string()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let pids: Vec<i32> = text
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 1, "children of {pid}: {text}");
    pids[0]
}

/// git itself ends with the signal it passed on, whatever grind returned: the shell shows
/// 128 + the signal's number.
fn assert_git_ended_by(status: std::process::ExitStatus, sig: Signal) {
    assert!(
        status.signal() == Some(sig as i32) || status.code() == Some(128 + sig as i32),
        "git ended with {status}"
    );
}

#[test]
fn one_ctrl_c_on_a_terminal_through_git_finishes_the_session_then_stops() {
    let p = project();
    let json = p.sb.path("events.jsonl");
    let mut t = on_terminal(&p, "3", Some(&json));
    let grind = child_of(t.child.id());
    t.type_keys(b"\x03");
    // git passes its copy on from its signal handler, usually within microseconds (and the two
    // then merge into one delivery); on a busy machine it comes later, a separate delivery.
    std::thread::sleep(Duration::from_millis(300));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(grind), Signal::SIGINT).unwrap();
    let status = t.wait(Duration::from_secs(30));
    assert_git_ended_by(status, Signal::SIGINT);
    let run = p.only_run();
    let records = p.records(&run);
    assert_eq!(
        statuses(&records),
        ["ok"],
        "one keypress lets the session finish:\n{}",
        t.screen()
    );
    assert_eq!(p.branch_subjects(&run), ["agent: session 1"]);
    // The outcome is not lost with git's exit status: the run's stop reason and the last
    // `--json` event tell it.
    let state = p.state(&run);
    assert_eq!(state["stop_reason"], DRAINED);
    let events = std::fs::read_to_string(&json).unwrap();
    let last: serde_json::Value =
        serde_json::from_str(events.lines().last().expect("events")).unwrap();
    assert_eq!(last["event"], "run_finished", "{events}");
    assert_eq!(last["summary"]["stop"]["cause"], "user");
    assert_eq!(last["summary"]["status"], "aborted");
    assert_stopped_resumable(&p, &run);
}

#[test]
fn a_second_ctrl_c_seconds_later_aborts_the_session() {
    let p = project();
    let mut t = on_terminal(&p, "30", None);
    let since = Instant::now();
    t.type_keys(b"\x03");
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        t.child.try_wait().unwrap().is_none(),
        "the first keypress only asks to stop after the session:\n{}",
        t.screen()
    );
    t.type_keys(b"\x03");
    let status = t.wait(Duration::from_secs(30));
    assert_git_ended_by(status, Signal::SIGINT);
    assert!(
        since.elapsed() < Duration::from_secs(20),
        "{:?}",
        since.elapsed()
    );
    let screen = t.screen();
    assert_eq!(
        screen.matches("stopping after this session").count(),
        1,
        "{screen}"
    );
    assert_eq!(
        screen.matches("aborting the session").count(),
        1,
        "{screen}"
    );
    let run = p.only_run();
    assert_eq!(statuses(&p.records(&run)), ["aborted"]);
    let patch = p.patch(&run, 1).expect("the aborted session's work");
    assert!(patch.contains("+work of 1"), "{patch}");
    assert!(
        screen.contains(&format!("git pitboss grind --resume {run}")),
        "{screen}"
    );
    assert_stopped_resumable(&p, &run);
}

#[test]
fn closing_the_terminal_aborts_the_session_like_sigterm_and_loses_nothing() {
    let p = project();
    let mut cmd = p.sb.git_pitboss();
    cmd.args(["grind", "--max-iterations", "5"])
        .env("MARKS", p.marks())
        .env("AGENT_SLEEP", "30");
    // Nobody reads this terminal: what grind writes to it after the hang-up fails (EIO).
    let mut t = Terminal::spawn(&cmd, None, false);
    let mark = p.marks().join("started-1");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !mark.exists() {
        assert!(t.child.try_wait().unwrap().is_none(), "grind exited early");
        assert!(Instant::now() < deadline, "no session started");
        std::thread::sleep(Duration::from_millis(10));
    }
    let since = Instant::now();
    t.hang_up();
    let status = t.wait(Duration::from_secs(30));
    assert_git_ended_by(status, Signal::SIGHUP);
    assert!(
        since.elapsed() < Duration::from_secs(17),
        "{:?}",
        since.elapsed()
    );
    // Recorded like a SIGTERM: `aborted`, its transcript and its work kept, the agent gone.
    let run = p.only_run();
    let records = p.records(&run);
    assert_eq!(statuses(&records), ["aborted"]);
    assert!(records[0]["commit"].is_null());
    let patch = p.patch(&run, 1).expect("the aborted session's work");
    assert!(patch.contains("+work of 1"), "{patch}");
    assert!(p.transcript(&run, 1).contains("session 1 a"));
    assert!(wait_gone(
        p.mark("pid-1").parse().unwrap(),
        Duration::from_secs(5)
    ));
    assert_eq!(p.state(&run)["stop_reason"], ABORTED_1);
    assert_stopped_resumable(&p, &run);
    let out = resume(&p, Some(&run), "2");
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    assert_eq!(statuses(&p.records(&run)), ["aborted", "ok"]);
}
