//! `git pitboss watch` as a person sees it: a real `git pitboss grind` with a fake agent that
//! works until the test releases it, the dashboard in a tmux pane of a fixed size (keys sent,
//! the screen read back), and the events file it follows. Also the one-shot snapshot a pipe
//! gets, and the refusal when no run is running.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::grind::*;
use crate::support::tmux::Tmux;
use crate::support::{stderr, stdout};

/// Prints what it does, leaves `started-<seq>`, works until `release-<seq>` appears (at most
/// 30 s), then writes its summary.
const AGENT: &str = r#"
echo "working on $PITBOSS_PROMPT in session $PITBOSS_SEQ"
touch "$MARKS/started-$PITBOSS_SEQ"
i=0
while [ ! -e "$MARKS/release-$PITBOSS_SEQ" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
echo "step two of $PITBOSS_PROMPT"
echo "tidied $PITBOSS_PROMPT in $PITBOSS_SEQ" > "$PITBOSS_SUMMARY_FILE"
"#;

fn project() -> Project {
    let p = Project::new();
    p.prompt("lint", "").prompt("docs", "").agent(AGENT);
    p.sb.git(&["add", "-A"]);
    p.sb.git(&["commit", "-q", "-m", "prompts"]);
    p
}

/// `git pitboss grind` as a user starts it (through git), in the background.
fn grind(p: &Project, args: &[&str]) -> Grind {
    let mut cmd = p.sb.git_pitboss();
    cmd.arg("grind")
        .args(args)
        .env("MARKS", p.marks())
        .stdin(Stdio::null());
    Grind::spawn(p, cmd, "grind")
}

fn release(p: &Project, seq: u64) {
    std::fs::write(p.marks().join(format!("release-{seq}")), "").unwrap();
}

/// `git pitboss watch <args>` in a 120 x 40 pane; the pane says how watch exited.
fn watch(p: &Project, args: &str) -> Tmux {
    let env: Command = p.sb.git_pitboss();
    Tmux::start(
        p.sb.dir.path(),
        p.repo(),
        &env,
        &format!("git pitboss watch {args}; echo watch-exited-$?; sleep 60"),
        120,
        40,
    )
}

#[test]
#[cfg_attr(
    pitboss_lacks = "tmux",
    ignore = "tmux not installed (apt-get install tmux)"
)]
fn watch_follows_a_live_grind_and_quitting_leaves_it_running() {
    let p = project();
    let mut g = grind(&p, &["--max-iterations", "3", "--max-cost", "5"]);
    p.wait_mark("started-1", &mut g);
    let run = p.only_run();
    let t = watch(&p, "");
    // Header, gauges, the live session on top, its transcript as it is written.
    let screen = t.wait_text(&[
        &format!("run {run}"),
        "agent command",
        &format!("branch pitboss/{run}"),
        "iterations",
        "1 of 3",
        "$0.00 of $5.00",
        "0001",
        "running",
        "transcript of session 0001",
        "working on",
    ]);
    let prompt1 = if screen.contains("working on lint") {
        "lint"
    } else {
        "docs"
    };
    assert!(screen.contains("q quit"), "{screen}");
    // Session 1 ends: its row says ok with its summary, the totals count it, session 2 is live.
    release(&p, 1);
    p.wait_mark("started-2", &mut g);
    let screen = t.wait_text(&[
        "0002",
        "2 of 3",
        &format!("tidied {prompt1} in 1"),
        "per prompt",
    ]);
    let row1 = screen.lines().find(|l| l.contains("0001")).unwrap();
    assert!(row1.contains("ok") && row1.contains("unknown"), "{screen}");
    let row2 = screen.lines().find(|l| l.contains("0002")).unwrap();
    assert!(row2.contains("running"), "{screen}");
    let above = screen.find("0002").unwrap() < screen.find("0001").unwrap();
    assert!(above, "the live session is on top:\n{screen}");
    // Selecting session 1 shows its stored transcript.
    t.keys(&["Down"]);
    t.wait_text(&[
        "transcript of session 0001",
        &format!("step two of {prompt1}"),
    ]);
    // Help, then quit: watch exits 0 and the run goes on.
    t.keys(&["?"]);
    t.wait_text(&["drain: finish the running session"]);
    t.keys(&["Escape"]);
    t.wait_for("the help closed", |s| {
        !s.contains("drain: finish the running session")
    });
    t.keys(&["q"]);
    t.wait_text(&["watch-exited-0"]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        g.child.try_wait().unwrap().is_none(),
        "grind stopped with watch"
    );
    release(&p, 2);
    p.wait_mark("started-3", &mut g);
    release(&p, 3);
    assert_eq!(
        g.wait(Duration::from_secs(60)).code(),
        Some(0),
        "{}",
        g.stderr()
    );
    assert_eq!(statuses(&p.records(&run)), ["ok", "ok", "ok"]);
}

#[test]
#[cfg_attr(
    pitboss_lacks = "tmux",
    ignore = "tmux not installed (apt-get install tmux)"
)]
fn skip_and_drain_keys_act_on_the_run() {
    let p = project();
    let mut g = grind(&p, &["--max-iterations", "5"]);
    p.wait_mark("started-1", &mut g);
    let run = p.only_run();
    let t = watch(&p, &run[..10]);
    t.wait_for("session 1 running", |s| {
        s.lines()
            .any(|l| l.contains("0001") && l.contains("running"))
    });
    t.keys(&["s"]);
    t.wait_text(&["asked the grind to skip session 0001"]);
    p.wait_mark("started-2", &mut g);
    t.wait_for("session 1 skipped", |s| {
        s.lines()
            .any(|l| l.contains("0001") && l.contains("skipped"))
    });
    t.keys(&["d"]);
    t.wait_text(&["draining: the run stops after this session"]);
    // The session in progress finishes as usual; no other starts.
    release(&p, 2);
    let code = g.wait(Duration::from_secs(60)).code();
    assert_eq!(
        statuses(&p.records(&run)),
        ["skipped", "ok"],
        "{}",
        g.stderr()
    );
    assert_eq!(
        code,
        Some(2),
        "a drained run stops as one Ctrl-C does (exit 2)"
    );
    assert!(
        g.stderr()
            .contains("drained from `git pitboss watch`: stopping"),
        "{}",
        g.stderr()
    );
    // Watch stays, showing the run stopped by the user, and no longer what was asked of the
    // grind that has gone.
    t.wait_text(&["aborted", "stopped by the user"]);
    t.wait_for("the drain message gone", |s| !s.contains("draining:"));
    t.keys(&["q"]);
    t.wait_text(&["watch-exited-0"]);
}

/// A drain after a Ctrl-C in grind's terminal still lets the running session finish: it is
/// no second SIGINT (which would abort the session), and asking twice is asking once.
#[test]
#[cfg_attr(
    pitboss_lacks = "tmux",
    ignore = "tmux not installed (apt-get install tmux)"
)]
fn drain_after_a_ctrl_c_in_grinds_terminal_does_not_abort_the_session() {
    let p = project();
    let mut g = grind(&p, &["--max-iterations", "5"]);
    p.wait_mark("started-1", &mut g);
    let run = p.only_run();
    let t = watch(&p, &run);
    t.wait_for("session 1 running", |s| {
        s.lines()
            .any(|l| l.contains("0001") && l.contains("running"))
    });
    g.signal_group(nix::sys::signal::Signal::SIGINT);
    // Well past the window in which two SIGINTs count as one keypress.
    std::thread::sleep(grind_run_keypress_window() + Duration::from_millis(500));
    t.keys(&["d"]);
    t.wait_text(&["draining: the run stops after this session"]);
    t.keys(&["d"]);
    t.wait_text(&["already asked"]);
    release(&p, 1);
    g.wait(Duration::from_secs(60));
    assert_eq!(statuses(&p.records(&run)), ["ok"], "{}", g.stderr());
    t.wait_text(&["aborted", "stopped by the user"]);
}

fn grind_run_keypress_window() -> Duration {
    Duration::from_secs(1)
}

#[test]
fn watch_without_a_running_run_says_so_and_a_pipe_gets_a_snapshot() {
    let p = project();
    let out = p.sb.git_pitboss().arg("watch").output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("no run is running here"), "{err}");
    assert!(err.contains("git pitboss watch <run>"), "{err}");
    // A finished run, read from its ref: a static snapshot on a pipe.
    for seq in 1..=2 {
        release(&p, seq);
    }
    let out = p.grind(&["--max-iterations", "2"]);
    assert!(out.status.success(), "{}", diag(&out));
    let run = p.only_run();
    let out =
        p.sb.git_pitboss()
            .args(["watch", &run])
            .env("COLUMNS", "100")
            .env("LINES", "30")
            .output()
            .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let screen = stdout(&out);
    assert_eq!(screen.lines().count(), 30, "{screen}");
    assert!(
        !screen.contains('\x1b'),
        "no escape codes on a pipe: {screen:?}"
    );
    for needle in [
        &format!("run {run}") as &str,
        "finished",
        "iterations",
        "2 of 2",
        "sessions (2)",
        "transcript of session 0002",
        "step two of",
    ] {
        assert!(screen.contains(needle), "{needle}:\n{screen}");
    }
}

#[test]
fn the_events_file_holds_the_same_events_as_json_output() {
    // A run that stops (not finished) keeps its working directory, and so its events file; a
    // finished run's goes with its worktree.
    let p = Project::new();
    p.prompt("lint", "").agent("echo trying; exit 1\n");
    let out = p.grind(&["--max-iterations", "3", "--consecutive-failure-limit", "2"]);
    assert_eq!(out.status.code(), Some(5), "{}", diag(&out));
    let run = p.only_run();
    let file = p
        .repo()
        .join(format!(".git/pitboss/runs/{run}/events.jsonl"));
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(written, stdout(&out), "events file and --json differ");
    let kinds: Vec<String> = events(&out)
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds.first().map(String::as_str), Some("run_started"));
    assert_eq!(kinds.last().map(String::as_str), Some("run_finished"));
    let started = &events(&out)[0];
    assert_eq!(started["limits"]["max_iterations"], 3);
    assert_eq!(started["spent_iterations"], 0);
    let session = events(&out)
        .into_iter()
        .find(|e| e["event"] == "session_started")
        .unwrap();
    assert!(session["started_at"].is_string(), "{session}");
}

#[test]
#[cfg_attr(
    pitboss_lacks = "tmux",
    ignore = "tmux not installed (apt-get install tmux)"
)]
fn grinds_live_line_shows_the_prompt_progress_against_the_budget_and_the_cost() {
    let p = project();
    let env: Command = p.sb.git_pitboss();
    let t = Tmux::start(
        p.sb.dir.path(),
        p.repo(),
        &env,
        &format!(
            "MARKS={} git pitboss grind --max-iterations 3 --max-cost 5; echo grind-exited-$?; sleep 60",
            p.marks().display()
        ),
        120,
        20,
    );
    let screen = t.wait_text(&["1 of 3  running", "$0.0000 of $5.00"]);
    let line = screen.lines().find(|l| l.contains("1 of 3")).unwrap();
    let prompt = if line.contains("0001 docs") {
        "docs"
    } else {
        "lint"
    };
    assert!(
        line.contains(&format!("0001 {prompt}  1 of 3  running")),
        "{screen}"
    );
    release(&p, 1);
    let other = if prompt == "docs" { "lint" } else { "docs" };
    // The finished session's line, then the next session's live line; no cost is known (the
    // command agent reports none), so the run's cost says so.
    let screen = t.wait_text(&[
        &format!("0002 {other}  2 of 3  running"),
        "unknown of $5.00",
    ]);
    assert!(
        screen.contains(&format!("tidied {prompt} in 1")),
        "{screen}"
    );
    release(&p, 2);
    release(&p, 3);
    t.wait_text(&["grind-exited-0"]);
}

/// With `NO_COLOR` the dashboard has no colour, and the selected row is reversed whole (a
/// colour change under `NO_COLOR` once reset it halfway along the row).
#[test]
#[cfg_attr(
    pitboss_lacks = "tmux",
    ignore = "tmux not installed (apt-get install tmux)"
)]
fn no_color_keeps_the_selected_row_reversed_and_drops_colours() {
    let p = project();
    release(&p, 1);
    let mut g = grind(&p, &["--max-iterations", "1"]);
    assert_eq!(
        g.wait(Duration::from_secs(60)).code(),
        Some(0),
        "{}",
        g.stderr()
    );
    let run = p.only_run();
    let env = {
        let mut c = p.sb.git_pitboss();
        c.env("NO_COLOR", "1");
        c
    };
    let t = Tmux::start(
        p.sb.dir.path(),
        p.repo(),
        &env,
        &format!("git pitboss watch {run}; sleep 60"),
        120,
        30,
    );
    t.wait_text(&["0001", "q quit"]);
    let screen = t.capture_escaped();
    let row = screen.lines().find(|l| l.contains("0001")).unwrap();
    let reversed = &row[row.find("\u{1b}[7m").expect(row)..];
    let end = reversed.find("\u{1b}[0m").or(reversed.find("\u{1b}[m"));
    let inside = &reversed[..end.unwrap_or(reversed.len())];
    assert!(
        inside.contains("ok") && inside.contains("tidied"),
        "the whole row is reversed: {row:?}"
    );
    assert!(!screen.contains("\u{1b}[38;"), "no colours: {screen:?}");
}

/// On a narrow terminal grind's live line is cut to the width: a line that wrapped would
/// leave a row behind at every redraw.
#[test]
#[cfg_attr(
    pitboss_lacks = "tmux",
    ignore = "tmux not installed (apt-get install tmux)"
)]
fn grinds_live_line_fits_a_narrow_terminal() {
    let p = Project::new();
    let long = "a-prompt-with-a-long-name-here";
    p.prompt(long, "").agent(AGENT);
    p.sb.git(&["add", "-A"]);
    p.sb.git(&["commit", "-q", "-m", "prompts"]);
    let env: Command = p.sb.git_pitboss();
    let t = Tmux::start(
        p.sb.dir.path(),
        p.repo(),
        &env,
        &format!(
            "MARKS={} git pitboss grind --max-iterations 1 --max-cost 5; echo grind-exited-$?; sleep 60",
            p.marks().display()
        ),
        60,
        20,
    );
    let screen = t.wait_text(&["1 of 1  running 3s"]);
    let rows = screen
        .lines()
        .filter(|l| l.contains(&format!("0001 {long}  1 of 1")))
        .count();
    assert_eq!(rows, 1, "one live line, redrawn in place:\n{screen}");
    release(&p, 1);
    t.wait_text(&["grind-exited-0"]);
}

/// A parallel grind: the three running sessions on top, each with its slot; `s` skips the
/// selected one only, and the other two go on and land.
#[test]
#[cfg_attr(
    pitboss_lacks = "tmux",
    ignore = "tmux not installed (apt-get install tmux)"
)]
fn watch_shows_sessions_side_by_side_and_skips_the_selected_one() {
    let p = Project::new();
    p.prompt("lint", "parallel_safe: true\n").agent(AGENT);
    p.sb.git(&["add", "-A"]);
    p.sb.git(&["commit", "-q", "-m", "prompts"]);
    let mut g = grind(&p, &["--max-iterations", "3", "--max-parallel", "3"]);
    for seq in 1..=3 {
        p.wait_mark(&format!("started-{seq}"), &mut g);
    }
    let run = p.only_run();
    let t = watch(&p, "");
    let screen = t.wait_for("three running sessions with their slot", |s| {
        s.contains("slot") && s.lines().filter(|l| l.contains(" running ")).count() == 3
    });
    let rows: Vec<&str> = (screen.lines())
        .filter(|l| l.contains(" running "))
        .collect();
    for (row, seq) in rows.iter().zip([3, 2, 1]) {
        assert!(
            row.contains(&format!("000{seq}")),
            "newest first:\n{screen}"
        );
    }
    // The second row is session 2.
    t.keys(&["Down"]);
    t.keys(&["s"]);
    t.wait_text(&["asked the grind to skip session 0002"]);
    release(&p, 1);
    release(&p, 3);
    g.wait(Duration::from_secs(30));
    let out = g.output();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(statuses(&p.records(&run)), ["ok", "skipped", "ok"]);
}
