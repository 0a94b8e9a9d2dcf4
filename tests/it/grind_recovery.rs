//! grind itself dies (SIGKILL) in the middle of a session, and `--resume` picks up the
//! pieces: the killed session is recorded `aborted` with its partial transcript, its work as a
//! patch and its scratchpad notes; the orphaned agent's process group is ended; the worktree is
//! taken up again; seq, rotation and budgets go on as if the session had been aborted. And one
//! live grind per run: a second `--resume` of a run being ground refuses, naming the holder.

use std::time::{Duration, Instant};

use crate::support::grind::*;
use nix::sys::signal::Signal;

/// Prints, leaves work and a note; with `$AGENT_SLEEP`, commits early work on a branch of its
/// own, says it started and waits on a background sleep; commits its work at the end.
const AGENT: &str = r#"
echo "partial output of $PITBOSS_SEQ"
echo "work of $PITBOSS_SEQ" > "work-$PITBOSS_SEQ.txt"
echo "note of $PITBOSS_SEQ" >> "$PITBOSS_SCRATCHPAD"
echo "$$" > "$MARKS/pid-$PITBOSS_SEQ"
if [ -n "${AGENT_SLEEP:-}" ]; then
  git checkout -q -b "side-$PITBOSS_SEQ"
  echo "early $PITBOSS_SEQ" > "early-$PITBOSS_SEQ.txt"
  git add "early-$PITBOSS_SEQ.txt" && git commit -q -m "agent: early commit $PITBOSS_SEQ"
  sleep "$AGENT_SLEEP" &
  echo "$!" > "$MARKS/sleep-pid-$PITBOSS_SEQ"
  touch "$MARKS/started-$PITBOSS_SEQ"
  wait
fi
git add . && git commit -q -m "agent: session $PITBOSS_SEQ"
"#;

fn project() -> Project {
    let p = Project::new();
    p.prompt("a", "").prompt("b", "").agent(AGENT);
    p
}

/// A grind whose sessions sleep 30 s, once its first session runs.
fn start_sleeping(p: &Project, name: &str) -> Grind {
    let mut cmd = p.grind_cmd(&["--max-iterations", "5"]);
    cmd.env("AGENT_SLEEP", "30");
    let mut g = Grind::spawn(p, cmd, name);
    p.wait_mark("started-1", &mut g);
    g
}

#[test]
fn sigkill_of_grind_mid_session_then_resume_loses_nothing() {
    let p = project();
    let mut g = start_sleeping(&p, "killed");
    let run = p.only_run();
    // Wait until the partial output reached the live transcript, then kill grind.
    let live =
        p.sb.repo
            .join(".git/pitboss/runs")
            .join(&run)
            .join("session-0001.log");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&live).is_ok_and(|t| t.contains("partial output of 1")) {
        assert!(
            Instant::now() < deadline,
            "the transcript was never flushed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    g.signal(Signal::SIGKILL);
    g.wait(Duration::from_secs(10));
    let agent: i32 = p.mark("pid-1").parse().unwrap();
    let sleeper: i32 = p.mark("sleep-pid-1").parse().unwrap();
    assert!(
        !process_gone(agent) && !process_gone(sleeper),
        "the orphaned agent outlives grind until the resume"
    );
    assert_eq!(
        p.state(&run)["status"],
        "running",
        "nobody recorded the end"
    );
    assert!(p.records(&run).is_empty());

    let t = Instant::now();
    let out = p.grind(&["--resume", &run, "--max-iterations", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    assert!(
        t.elapsed() < Duration::from_secs(15),
        "took {:?}",
        t.elapsed()
    );
    assert!(
        wait_gone(agent, Duration::from_secs(5)),
        "agent {agent} left"
    );
    assert!(
        wait_gone(sleeper, Duration::from_secs(5)),
        "its sleep {sleeper} left"
    );

    let records = p.records(&run);
    assert_eq!(seqs(&records), [1, 2, 3]);
    assert_eq!(statuses(&records), ["aborted", "ok", "ok"]);
    let prompts: Vec<&str> = records
        .iter()
        .map(|r| r["prompt"].as_str().unwrap())
        .collect();
    assert_eq!(
        prompts,
        ["a", "b", "a"],
        "the killed session counts as a pick and an iteration"
    );
    let why = records[0]["summary"].as_str().unwrap();
    assert!(why.contains("recovered by --resume"), "{why}");
    assert!(records[0]["commit"].is_null());
    assert!(p.transcript(&run, 1).contains("partial output of 1"));
    let patch = p.patch(&run, 1).expect("the killed session's work");
    assert!(patch.contains("+work of 1"), "{patch}");
    assert!(
        patch.contains("+early 1"),
        "its commit, made off the run branch: {patch}"
    );
    // Its work is not on the branch; the later sessions' is.
    assert_eq!(
        p.branch_subjects(&run),
        ["agent: session 2", "agent: session 3"]
    );
    let files = p.sb.git(&["ls-tree", "--name-only", &p.branch(&run)]);
    assert!(
        !files.contains("work-1.txt") && !files.contains("early-1.txt"),
        "{files}"
    );
    let pad = p.run_file(&run, "scratchpad.md").unwrap();
    assert_eq!(pad, "note of 1\nnote of 2\nnote of 3\n");
    assert_eq!(p.state(&run)["status"], "finished");
    assert!(!p.worktree(&run).exists());
    assert!(!p.worktree_registered(&run));
}

#[test]
fn a_second_grind_on_a_live_run_refuses_naming_the_holder() {
    let p = project();
    let mut g = start_sleeping(&p, "holder");
    let run = p.only_run();
    let before =
        p.sb.git(&["rev-parse", &format!("refs/pitboss/grind/{run}")]);

    let out = p.grind(&["--resume", &run, "--max-iterations", "1"]);
    assert_eq!(out.status.code(), Some(4), "{}", diag(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("process {}", g.pid())),
        "names the holder: {err}"
    );
    // It wrote nothing and the first grind goes on undisturbed.
    assert_eq!(
        p.sb.git(&["rev-parse", &format!("refs/pitboss/grind/{run}")]),
        before
    );
    assert!(g.child.try_wait().unwrap().is_none());
    assert!(!process_gone(p.mark("pid-1").parse().unwrap()));

    g.signal(Signal::SIGTERM);
    g.wait(Duration::from_secs(30));
    assert_eq!(g.code(), Some(2), "{}", g.stderr());
    assert_eq!(statuses(&p.records(&run)), ["aborted"]);

    // The same while the holder is itself a `--resume` of the stopped run.
    let mut cmd = p.grind_cmd(&["--resume", &run, "--max-iterations", "5"]);
    cmd.env("AGENT_SLEEP", "30");
    let mut g2 = Grind::spawn(&p, cmd, "resumer");
    p.wait_mark("started-2", &mut g2);
    let out = p.grind(&["--resume", &run]);
    assert_eq!(out.status.code(), Some(4), "{}", diag(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("process {}", g2.pid())),
        "{}",
        diag(&out)
    );
    g2.signal(Signal::SIGTERM);
    g2.wait(Duration::from_secs(30));
    assert_eq!(g2.code(), Some(2), "{}", g2.stderr());
    assert_eq!(statuses(&p.records(&run)), ["aborted", "aborted"]);
}

/// Session 1 of this agent appends a session of its own to the run mid-session (`git pitboss
/// record`, through git, as a teammate's `sync` would bring one); every session commits work.
const RECORDING_AGENT: &str = r#"
echo "transcript of grind session $PITBOSS_SEQ"
if [ "$PITBOSS_SEQ" = 1 ]; then
  printf '%s' '{"prompt":"by-hand","started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T00:00:05Z","status":"ok","summary":"recorded by hand"}' \
    | git pitboss record "$PITBOSS_RUN_ID" > "$MARKS/recorded" || exit 9
fi
echo "work of $PITBOSS_SEQ" > "work-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "agent: session $PITBOSS_SEQ"
"#;

#[test]
fn an_append_during_a_session_renumbers_the_session_and_loses_nothing() {
    let p = Project::new();
    p.prompt("a", "").agent(RECORDING_AGENT);
    let path = crate::support::path_with_binary();
    let path = path.to_str().unwrap();
    let out = p.grind_with(&["--max-iterations", "2"], &[("PATH", path)]);
    // Before: exit 4, "already has a session 1", and the session lost.
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let run = p.only_run();
    assert_eq!(p.mark("recorded").trim(), "1", "record took seq 1");
    let records = p.records(&run);
    assert_eq!(seqs(&records), [1, 2, 3], "{records:#?}");
    assert_eq!(records[0]["prompt"], "by-hand");
    // Grind's first session, moved to the next free seq with its transcript and patch.
    assert_eq!(records[1]["prompt"], "a");
    assert_eq!(records[1]["status"], "ok");
    assert_eq!(records[1]["renumbered_from"], 1);
    assert_eq!(
        records[1]["transcript_path"],
        "transcripts/session-0002.log"
    );
    assert!(
        p.transcript(&run, 2)
            .contains("transcript of grind session 1")
    );
    assert!(!p.transcript(&run, 1).contains("grind session"));
    // Its work landed, and the next session went on after it.
    assert_eq!(
        p.branch_subjects(&run),
        ["agent: session 1", "agent: session 3"]
    );
    assert!(
        p.transcript(&run, 3)
            .contains("transcript of grind session 3")
    );
    assert!(records[2].get("renumbered_from").is_none());
    let state = p.state(&run);
    assert_eq!(state["last_session_seq"], 3);
    assert_eq!(state["consumed"]["sessions"], 3);
    let warned = events(&out).iter().any(|e| {
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("recorded as session 2"))
    });
    assert!(warned, "{}", diag(&out));

    // --resume goes on after the last seq, with nothing lost (its iteration count is the
    // run's sessions, the recorded one included).
    let out = p.grind_with(
        &["--resume", &run, "--max-iterations", "4"],
        &[("PATH", path)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    assert_eq!(seqs(&p.records(&run)), [1, 2, 3, 4], "{}", diag(&out));
}

/// grind dies during a session after someone else appended that session's seq: `--resume`
/// still recovers the killed session (as `aborted`, under the next free seq), rather than
/// taking the other writer's record for it.
#[test]
fn resume_recovers_a_killed_session_whose_seq_was_taken() {
    let p = Project::new();
    p.prompt("a", "").agent(
        r#"
echo "partial output of $PITBOSS_SEQ"
if [ "$PITBOSS_SEQ" = 1 ]; then
  printf '%s' '{"prompt":"by-hand","started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T00:00:05Z","status":"ok"}' \
    | git pitboss record "$PITBOSS_RUN_ID" > "$MARKS/recorded" || exit 9
  touch "$MARKS/started-1"
  sleep 30
fi
"#,
    );
    let path = crate::support::path_with_binary();
    let mut cmd = p.grind_cmd(&["--max-iterations", "5"]);
    cmd.env("PATH", &path);
    let mut g = Grind::spawn(&p, cmd, "killed");
    p.wait_mark("started-1", &mut g);
    let run = p.only_run();
    let live =
        p.sb.repo
            .join(".git/pitboss/runs")
            .join(&run)
            .join("session-0001.log");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&live).is_ok_and(|t| t.contains("partial output of 1")) {
        assert!(
            Instant::now() < deadline,
            "the transcript was never flushed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    g.signal(Signal::SIGKILL);
    g.wait(Duration::from_secs(10));
    assert_eq!(seqs(&p.records(&run)), [1]);

    let out = p.grind_with(
        &["--resume", &run, "--max-iterations", "3"],
        &[("PATH", path.to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let records = p.records(&run);
    assert_eq!(seqs(&records), [1, 2, 3], "{records:#?}");
    assert_eq!(records[0]["prompt"], "by-hand");
    assert_eq!(records[1]["status"], "aborted");
    assert_eq!(records[1]["renumbered_from"], 1);
    assert!(p.transcript(&run, 2).contains("partial output of 1"));
}

/// `git pitboss <args>` through git, as users run it, with `$MARKS`.
fn through_git(p: &Project, args: &[&str]) -> std::process::Output {
    let mut cmd = p.sb.git_pitboss();
    cmd.args(args).env("MARKS", p.marks());
    crate::support::run_with_stdin(&mut cmd, "")
}

#[test]
fn rm_refuses_while_a_grind_holds_the_run_and_ls_show_say_interrupted_once_it_died() {
    let p = project();
    let mut g = start_sleeping(&p, "holder");
    let run = p.only_run();
    let before =
        p.sb.git(&["rev-parse", &format!("refs/pitboss/grind/{run}")]);

    let out = through_git(&p, &["rm", &run]);
    assert_eq!(out.status.code(), Some(4), "{}", diag(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("process {}", g.pid())) && err.contains("nothing was deleted"),
        "names the holder: {err}"
    );
    assert!(err.contains("hint: stop that grind first"), "{err}");
    assert_eq!(
        p.sb.git(&["rev-parse", &format!("refs/pitboss/grind/{run}")]),
        before,
        "the run is still there"
    );
    // While its grind lives, the run is `running`.
    let ls = through_git(&p, &["ls"]);
    assert!(
        String::from_utf8_lossy(&ls.stdout).contains(" running "),
        "{}",
        diag(&ls)
    );

    // grind dies without a word: the state still says running, but nothing runs it.
    g.signal(Signal::SIGKILL);
    g.wait(Duration::from_secs(10));
    let ls = through_git(&p, &["ls"]);
    assert_eq!(ls.status.code(), Some(0), "{}", diag(&ls));
    let table = String::from_utf8_lossy(&ls.stdout);
    assert!(table.contains(" interrupted "), "{table}");
    assert!(
        String::from_utf8_lossy(&ls.stderr)
            .contains(&format!("`git pitboss grind --resume {run}`")),
        "{}",
        diag(&ls)
    );
    let json = through_git(&p, &["ls", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v[0]["status"], "interrupted");
    let show = through_git(&p, &["show", &run]);
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(
        text.contains(&format!(
            "status    interrupted (its grind is gone; take it up with `git pitboss grind --resume {run}`)"
        )),
        "{text}"
    );
    assert_eq!(p.state(&run)["status"], "running", "nothing was written");

    // The resume command works as printed, and ends the orphaned agent on the way.
    let out = through_git(&p, &["grind", "--resume", &run, "--max-iterations", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    assert_eq!(statuses(&p.records(&run)), ["aborted", "ok"]);
    // Now `rm` may delete it.
    let out = through_git(&p, &["rm", &run]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
}

/// Fails (an error result) while `$MARKS/fail` exists, else commits a file.
const FIXABLE: &str = r#"
echo "session $PITBOSS_SEQ"
if [ -e "$MARKS/fail" ]; then
  echo '{"summary":"broken","tokens":{"input":1,"output":1}}' > "$PITBOSS_RESULT_FILE"
  exit 3
fi
echo "work $PITBOSS_SEQ" > "w-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "agent: session $PITBOSS_SEQ"
"#;

/// `git pitboss grind <args>` through git, with `$MARKS`.
fn grind_through_git(p: &Project, args: &[&str]) -> std::process::Output {
    through_git(p, &[&["grind"], args].concat())
}

/// The run branch a run records (run.json), as a full ref.
fn recorded_branch(p: &Project, run: &str) -> String {
    let meta: serde_json::Value =
        serde_json::from_str(&p.run_file(run, "run.json").unwrap()).unwrap();
    meta["branch"].as_str().unwrap().to_string()
}

/// The dry run and the real run refuse alike: exit 4, the same reason, a hint, nothing written.
fn assert_both_refuse(p: &Project, args: &[&str], why: &str, hint: &str) {
    let refs = p.sb.pitboss_refs();
    let mut dry = args.to_vec();
    dry.push("--dry-run");
    for (what, out) in [
        ("dry run", grind_through_git(p, &dry)),
        ("real run", grind_through_git(p, args)),
    ] {
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(4),
            "{what} {args:?}: {}",
            diag(&out)
        );
        assert!(err.contains(why), "{what} {args:?} says {why:?}: {err}");
        assert!(
            err.contains(&format!("hint: {hint}")),
            "{what} {args:?} hints {hint:?}: {err}"
        );
    }
    assert_eq!(p.sb.pitboss_refs(), refs, "{args:?}: nothing was written");
}

#[test]
fn resume_starts_a_fresh_streak_and_every_refusal_is_the_dry_runs_too() {
    let p = Project::new();
    p.prompt("a", "").agent(FIXABLE);
    std::fs::write(p.marks().join("fail"), "").unwrap();
    let out = grind_through_git(
        &p,
        &[
            "--json",
            "--consecutive-failure-limit",
            "2",
            "--max-iterations",
            "10",
        ],
    );
    assert_eq!(out.status.code(), Some(5), "{}", diag(&out));
    let run = p.only_run();
    assert_eq!(statuses(&p.records(&run)), ["error", "error"]);

    // The user fixed the cause: a resume starts a fresh streak, and the dry run agrees.
    std::fs::remove_file(p.marks().join("fail")).unwrap();
    let out = grind_through_git(&p, &["--resume", &run, "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));

    // A budget already spent: refused before anything is written (no resumed + finished pair).
    assert_both_refuse(
        &p,
        &["--resume", &run, "--max-iterations", "2"],
        "a budget is already spent: iteration budget reached (2 sessions)",
        "pass a larger --max-iterations (more than 2)",
    );

    let out = grind_through_git(&p, &["--resume", &run, "--json", "--max-iterations", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    assert_eq!(statuses(&p.records(&run)), ["error", "error", "ok"]);

    // The run branch checked out in the user's checkout (the finished run's worktree is gone).
    let branch = recorded_branch(&p, &run);
    let short = branch
        .strip_prefix("refs/heads/")
        .unwrap_or(&branch)
        .to_string();
    p.sb.git(&["checkout", "-q", &short]);
    assert_both_refuse(
        &p,
        &["--resume", &run, "--max-iterations", "5"],
        &format!("its branch {branch} is checked out at"),
        "switch that checkout to another branch",
    );

    // The run branch deleted.
    p.sb.git(&["checkout", "-q", "main"]);
    p.sb.git(&["branch", "-q", "-D", &short]);
    assert_both_refuse(
        &p,
        &["--resume", &run, "--max-iterations", "5"],
        &format!("its branch {branch} is neither here nor in any remote's copy"),
        &format!("`git pitboss fetch {run}` brings the run with its branch"),
    );

    // A run `record --create` made has no branch to go on with.
    let made = "20261124T100000Z-abcd";
    p.sb.ok(
        &["record", made, "--create"],
        &crate::support::record_json("a", "ok", Some("by hand")),
    );
    assert_both_refuse(
        &p,
        &["--resume", made],
        "was not made by `git pitboss grind`",
        &format!("`git pitboss log {made}` reads it"),
    );

    // A bare --resume takes up neither: there is nothing grind can continue.
    assert_both_refuse(
        &p,
        &["--resume"],
        "there is no run to resume",
        "`git pitboss ls` lists runs",
    );
}

#[test]
fn resume_saves_work_found_in_the_kept_worktree_as_a_patch_and_says_so() {
    let p = Project::new();
    p.prompt("a", "").agent(FIXABLE);
    std::fs::write(p.marks().join("fail"), "").unwrap();
    let out = grind_through_git(&p, &["--json", "--consecutive-failure-limit", "1"]);
    assert_eq!(out.status.code(), Some(5), "{}", diag(&out));
    let run = p.only_run();
    std::fs::remove_file(p.marks().join("fail")).unwrap();
    // Someone edits the kept worktree by hand between two grinds.
    let wt = p.worktree(&run);
    std::fs::write(wt.join("README"), "hello\nedited by hand\n").unwrap();
    std::fs::write(wt.join("handmade.txt"), "a new file by hand\n").unwrap();

    // The dry run says what the resume will do with them.
    let dry = grind_through_git(
        &p,
        &["--resume", &run, "--dry-run", "--max-iterations", "2"],
    );
    assert_eq!(dry.status.code(), Some(0), "{}", diag(&dry));
    assert!(
        String::from_utf8_lossy(&dry.stderr)
            .contains("has uncommitted changes: a resume keeps them"),
        "{}",
        diag(&dry)
    );
    let out = grind_through_git(&p, &["--resume", &run, "--json", "--max-iterations", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let path = "patches/00/resume-0002.patch";
    let warned = events(&out).into_iter().any(|e| {
        e["event"] == "warning"
            && e["message"]
                .as_str()
                .is_some_and(|m| m.contains(&format!("saved as {path} in the run ref")))
    });
    assert!(warned, "says so: {}", diag(&out));
    let patch = p.run_file(&run, path).expect("the hand-made work, saved");
    assert!(patch.contains("+edited by hand"), "{patch}");
    assert!(patch.contains("+a new file by hand"), "{patch}");
    assert_eq!(statuses(&p.records(&run)), ["error", "ok"]);
    // The session after it started from the run branch, without the hand-made work.
    let files =
        p.sb.git(&["ls-tree", "--name-only", &recorded_branch(&p, &run)]);
    assert!(!files.contains("handmade.txt"), "{files}");
    // The run with its new kind of patch is still a well-formed run (what fetch checks).
    let log = crate::support::run_with_stdin(p.sb.git_pitboss().args(["log", &run]), "");
    assert_eq!(log.status.code(), Some(0), "{}", diag(&log));
}

#[test]
fn a_run_resumes_as_it_started_and_the_printed_resume_command_works_as_printed() {
    let p = Project::new();
    // No config at all: without what the run remembers, a resume would use Claude Code and
    // find no prompts.
    let agent = p.sb.path("agent.sh");
    std::fs::write(&agent, FIXABLE).unwrap();
    let dir = p.sb.path("my-prompts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.md"),
        "---\nname: a\ndescription: the a prompt\n---\nDo a.\n",
    )
    .unwrap();
    std::fs::write(p.marks().join("fail"), "").unwrap();
    let cmd = format!("sh {}", agent.display());
    let out = grind_through_git(
        &p,
        &[
            "--agent-cmd",
            &cmd,
            "--prompts-dir",
            dir.to_str().unwrap(),
            "--max-iterations",
            "4",
            "--consecutive-failure-limit",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(5), "{}", diag(&out));
    let run = p.only_run();
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.trim_start().starts_with("resume "))
        .unwrap_or_else(|| panic!("a resume hint: {err}"));
    let printed = line.trim_start()["resume".len()..]
        .split("   (")
        .next()
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(printed, format!("git pitboss grind --resume {run}"));

    // The cause fixed, the command as printed (through git, from the shell's words).
    std::fs::remove_file(p.marks().join("fail")).unwrap();
    let words: Vec<&str> = printed.split_whitespace().collect();
    assert_eq!(words[..2], ["git", "pitboss"]);
    let mut as_printed = p.sb.git_pitboss();
    as_printed.args(&words[2..]).env("MARKS", p.marks());
    let out = crate::support::run_with_stdin(&mut as_printed, "");
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let records = p.records(&run);
    assert_eq!(
        statuses(&records),
        ["error", "ok", "ok", "ok"],
        "the same agent, prompts and --max-iterations 4"
    );
    assert!(
        records.iter().all(|r| r["agent"] == "command"),
        "{records:?}"
    );

    // What the command line gives overrides what the run started with, and grind says so.
    let out = grind_through_git(
        &p,
        &[
            "--resume",
            &run,
            "--max-iterations",
            "6",
            "--dry-run",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--max-iterations (started with 4)"),
        "says which: {err}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["agent"]["program"]["value"], cmd.as_str(), "{v}");
    assert_eq!(v["iterations_left"], 2);

    // Naming another agent is an override too; without a command it cannot go on.
    let out = grind_through_git(&p, &["--resume", &run, "--agent", "demo", "--dry-run"]);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains(&format!("--agent (started with --agent-cmd {cmd:?})")),
        "{}",
        diag(&out)
    );
    // Another command is named as the flag that gave it, `--agent-cmd`.
    let other = format!("{cmd} --other");
    let out = grind_through_git(&p, &["--resume", &run, "--agent-cmd", &other, "--dry-run"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(": --agent-cmd (started with --agent-cmd {cmd:?})")),
        "{}",
        diag(&out)
    );
}
