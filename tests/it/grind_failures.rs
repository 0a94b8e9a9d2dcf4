//! Sessions that go wrong, one grind of one session each, through the real binary: an error
//! the agent reports, a non-zero exit, a crash, a hang, garbage output, and background
//! processes left behind. Failures are statuses (the run goes on to its end), their work is a
//! patch in the run ref and not on the branch, and the exit code is 1.

use std::time::{Duration, Instant};

use crate::support::grind::*;

/// Work every failing agent leaves: a commit of its own and an uncommitted edit.
const WORK: &str = r#"
echo committed > committed.txt && git add committed.txt && git commit -q -m "agent commit"
echo "half-done work" > work.txt
echo "last words on stderr" >&2
"#;

struct One {
    p: Project,
    out: std::process::Output,
    run: String,
    record: serde_json::Value,
    elapsed: Duration,
}

/// One session of the `work` prompt with this agent.
fn one(agent: &str, frontmatter: &str) -> One {
    let p = Project::new();
    p.prompt("work", frontmatter).agent(agent);
    let t = Instant::now();
    let out = p.grind(&["--max-iterations", "1"]);
    let elapsed = t.elapsed();
    let run = p.only_run();
    let mut records = p.records(&run);
    assert_eq!(records.len(), 1, "{}", diag(&out));
    One {
        record: records.remove(0),
        p,
        out,
        run,
        elapsed,
    }
}

/// The failed session's work is a patch in the run and not on the branch; the worktree is
/// gone with the finished run.
fn assert_work_saved_not_landed(o: &One) {
    assert!(o.record["commit"].is_null(), "{}", o.record);
    assert!(o.p.branch_subjects(&o.run).is_empty());
    let patch = o.p.patch(&o.run, 1).expect("a patch");
    assert!(patch.contains("+committed"), "{patch}");
    assert!(patch.contains("+half-done work"), "{patch}");
    assert!(!o.p.worktree(&o.run).exists());
    assert_eq!(o.p.state(&o.run)["status"], "finished");
}

#[test]
fn an_error_in_the_result_file_is_an_error_and_its_work_a_patch() {
    let o = one(
        &format!(
            "{WORK}\necho '{{\"error\":\"the build is red\",\"tokens\":{{\"input\":7,\"output\":3}}}}' > \"$PITBOSS_RESULT_FILE\"\n"
        ),
        "",
    );
    assert_eq!(o.out.status.code(), Some(1), "{}", diag(&o.out));
    assert_eq!(o.record["status"], "error");
    assert_eq!(o.record["exit_code"], 0);
    assert_eq!(o.record["tokens"]["input"], 7);
    let summary = o.record["summary"].as_str().unwrap();
    assert!(
        summary.contains("reported an error") && summary.contains("the build is red"),
        "{summary}"
    );
    assert_work_saved_not_landed(&o);
    let s = run_summary(&o.out);
    assert_eq!(s["by_status"]["error"], 1);
}

#[test]
fn a_non_zero_exit_is_an_error() {
    let o = one(&format!("{WORK}\nexit 3\n"), "");
    assert_eq!(o.out.status.code(), Some(1), "{}", diag(&o.out));
    assert_eq!(o.record["status"], "error");
    assert_eq!(o.record["exit_code"], 3);
    let summary = o.record["summary"].as_str().unwrap();
    assert!(
        summary.contains("exited with code 3") && summary.contains("last words on stderr"),
        "{summary}"
    );
    assert_work_saved_not_landed(&o);
    assert!(
        o.p.transcript(&o.run, 1)
            .contains("[stderr] last words on stderr")
    );
}

#[test]
fn a_crash_is_an_error() {
    let o = one(&format!("{WORK}\nkill -9 $$\necho unreachable\n"), "");
    assert_eq!(o.out.status.code(), Some(1), "{}", diag(&o.out));
    assert_eq!(o.record["status"], "error");
    // NB: the agent runs under `sh -c`, which reports its child's SIGKILL as exit code 137.
    let summary = o.record["summary"].as_str().unwrap();
    assert!(
        summary.contains("killed by signal 9") || summary.contains("exited with code 137"),
        "{summary}"
    );
    assert_work_saved_not_landed(&o);
    assert!(!o.p.transcript(&o.run, 1).contains("unreachable"));
}

#[test]
fn a_hang_is_cut_off_at_the_prompts_time_limit() {
    let o = one(
        &format!("{WORK}\necho \"$$\" > \"$MARKS/agent-pid\"\nsleep 30\n"),
        "max_session_seconds: 1\n",
    );
    assert_eq!(o.out.status.code(), Some(1), "{}", diag(&o.out));
    assert_eq!(o.record["status"], "timeout");
    assert!(
        o.record["summary"].as_str().unwrap().contains("time limit"),
        "{}",
        o.record
    );
    assert!(o.elapsed < Duration::from_secs(15), "took {:?}", o.elapsed);
    assert_work_saved_not_landed(&o);
    assert!(process_gone(o.p.mark("agent-pid").parse().unwrap()));
}

#[test]
fn garbage_output_is_kept_and_does_not_break_the_run() {
    // Random bytes (NULs, invalid UTF-8, escapes, carriage returns), a 3 MB line without a
    // newline, then a normal line; the last line of stderr (the summary, as the agent reports
    // none) holds a NUL, which a commit message cannot.
    let o = one(
        r#"
head -c 200000 /dev/urandom
printf '\033[31mred\033[0m\r\rnot json {"type":\n\000\377\376\n'
head -c 3000000 /dev/zero | tr '\0' 'x'
echo
echo "after the junk"
head -c 1000 /dev/urandom >&2
printf '\nbad\000byte\n' >&2
"#,
        "",
    );
    assert_eq!(o.out.status.code(), Some(0), "{}", diag(&o.out));
    assert_eq!(o.record["status"], "ok");
    assert_eq!(o.record["summary"], "bad\u{FFFD}byte");
    let t = o.p.transcript(&o.run, 1);
    assert!(
        t.contains("after the junk\n"),
        "the line after the junk is kept"
    );
    assert!(t.contains("not json"));
    let size: u64 =
        o.p.sb
            .git(&[
                "cat-file",
                "-s",
                &format!(
                    "refs/pitboss/grind/{}:transcripts/00/session-0001.log",
                    o.run
                ),
            ])
            .trim()
            .parse()
            .unwrap();
    assert!(
        (3_000_000..4_000_000).contains(&size),
        "transcript of {size} bytes"
    );
    // The long line was split, not dropped: all its bytes are there.
    assert!(t.matches('x').count() >= 3_000_000);
}

#[test]
fn background_processes_do_not_outlive_their_session() {
    // One keeps the agent's stdout open, one is detached from it; the agent exits at once.
    let o = one(
        r#"
sleep 300 &
echo "$!" > "$MARKS/bg-piped"
sleep 301 > /dev/null 2>&1 < /dev/null &
echo "$!" > "$MARKS/bg-detached"
echo "agent done"
"#,
        "",
    );
    assert_eq!(o.out.status.code(), Some(0), "{}", diag(&o.out));
    assert_eq!(o.record["status"], "ok");
    assert!(o.elapsed < Duration::from_secs(15), "took {:?}", o.elapsed);
    for mark in ["bg-piped", "bg-detached"] {
        let pid: i32 = o.p.mark(mark).parse().unwrap();
        assert!(
            wait_gone(pid, Duration::from_secs(5)),
            "{mark} (pid {pid}) outlived its session"
        );
    }
    assert!(o.p.transcript(&o.run, 1).contains("agent done"));
}

/// Issue 11's error table: an agent that deletes its own worktree made grind stop with exit 70
/// and the session unrecorded. It is an error session saying why, and the run goes on in a
/// worktree added again.
#[test]
fn an_agent_deleting_its_own_worktree_is_an_error_and_the_run_goes_on() {
    let p = Project::new();
    p.prompt("work", "").agent(
        "if [ \"$PITBOSS_SEQ\" = 1 ]; then cd / && rm -rf \"$PITBOSS_WORKTREE\"; \
         else echo more > more.txt && git add more.txt && git commit -q -m \"agent: more\"; fi\n",
    );
    let out = p.grind(&["--max-iterations", "2"]);
    assert_eq!(out.status.code(), Some(1), "{}", diag(&out));
    let run = p.only_run();
    let records = p.records(&run);
    assert_eq!(records.len(), 2, "{}", diag(&out));
    assert_eq!(records[0]["status"], "error");
    let summary = records[0]["summary"].as_str().unwrap();
    assert!(
        summary.contains("the agent deleted its worktree"),
        "{summary}"
    );
    assert_eq!(records[1]["status"], "ok", "{}", diag(&out));
    assert_eq!(p.branch_subjects(&run), vec!["agent: more".to_string()]);
    assert_eq!(p.state(&run)["status"], "finished");
}

/// Sessions 1 and 2 commit; session 3 throws both away (`git reset --hard HEAD~2`), then
/// commits work of its own on the rewound branch.
const REWINDER: &str = r#"
case "$PITBOSS_PROMPT" in
  *rewind*)
    git reset -q --hard HEAD~2
    echo "work after the rewind" > rewound.txt
    git add rewound.txt && git commit -q -m "agent: on the rewound branch" ;;
  *)
    echo "work $PITBOSS_SEQ" > "work-$PITBOSS_SEQ.txt"
    git add . && git commit -q -m "agent: session $PITBOSS_SEQ" ;;
esac
"#;

#[test]
fn an_agent_that_rewinds_the_run_branch_is_an_error_and_loses_no_earlier_session() {
    let p = Project::new();
    p.prompt("a", "")
        .prompt("b", "")
        .prompt("c-rewind", "")
        .agent(REWINDER);
    let out = crate::support::run_with_stdin(
        p.sb.git_pitboss()
            .args(["grind", "--json", "--max-iterations", "3"]),
        "",
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed session: {}",
        diag(&out)
    );
    let run = p.only_run();
    let records = p.records(&run);
    assert_eq!(statuses(&records), ["ok", "ok", "error"], "{}", diag(&out));
    assert_eq!(records[2]["prompt"], "c-rewind");
    let why = records[2]["summary"].as_str().unwrap();
    assert!(
        why.starts_with("rewrote the run branch: 2 commits of earlier sessions would be lost"),
        "{why}"
    );
    assert!(records[2]["commit"].is_null());
    // The earlier sessions' commits are all still on the branch.
    assert_eq!(
        p.branch_subjects(&run),
        ["agent: session 1", "agent: session 2"]
    );
    // The agent's own work is saved: what it did after the point it went back to.
    let patch = p.patch(&run, 3).expect("the rewinding session's work");
    assert!(patch.contains("+work after the rewind"), "{patch}");
    assert!(
        !patch.contains("-work 1"),
        "not the undoing of earlier work: {patch}"
    );
}

#[test]
fn processes_that_setsid_do_not_outlive_their_session() {
    // Both leave the agent's process group and session (our signals to the group miss them);
    // one keeps the agent's output open, one is detached from it, and the detached one forks a
    // child of its own. grind is their subreaper, so they are still ours to end.
    let o = one(
        r#"
setsid sh -c 'echo $$ > "$MARKS/sid-piped"; exec sleep 300' &
setsid sh -c 'sleep 302 & echo $! > "$MARKS/sid-grandchild"; echo $$ > "$MARKS/sid-detached"; exec sleep 301' > /dev/null 2>&1 < /dev/null &
while [ ! -s "$MARKS/sid-piped" ] || [ ! -s "$MARKS/sid-detached" ]; do sleep 0.01; done
echo "agent done"
"#,
        "",
    );
    let pids: Vec<(&str, i32)> = ["sid-piped", "sid-detached", "sid-grandchild"]
        .into_iter()
        .map(|m| (m, o.p.mark(m).trim().parse().unwrap()))
        .collect();
    let survivors: Vec<_> = pids
        .iter()
        .filter(|(_, pid)| !wait_gone(*pid, Duration::from_secs(5)))
        .collect();
    for (_, pid) in &survivors {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    assert!(
        survivors.is_empty(),
        "outlived their session: {survivors:?}"
    );
    assert_eq!(o.out.status.code(), Some(0), "{}", diag(&o.out));
    assert_eq!(o.record["status"], "ok");
    assert!(o.elapsed < Duration::from_secs(15), "took {:?}", o.elapsed);
    assert!(o.p.transcript(&o.run, 1).contains("agent done"));
}

/// Session 1 commits; session 2 deletes the run branch under grind (keeping its tip in
/// `$MARKS/tip`), so grind cannot go on and exits on an error.
const BRANCH_DELETER: &str = r#"
if [ "$PITBOSS_SEQ" = 2 ]; then
  git rev-parse HEAD > "$MARKS/tip"
  git update-ref -d "$(git symbolic-ref HEAD)"
else
  echo "work $PITBOSS_SEQ" > "work-$PITBOSS_SEQ.txt"
  git add . && git commit -q -m "agent: session $PITBOSS_SEQ"
fi
"#;

/// A grind that exits on an error after it took the run up left it `running` with no stop
/// reason: `ls` and `show` called it running (then interrupted), and `--resume` treated it as
/// a crash. It is recorded `failed` with the error as its stop reason, its lock released, and
/// once the cause is fixed `--resume` takes it up and finishes it.
#[test]
fn a_grind_that_exits_on_an_error_records_the_run_failed_with_the_error() {
    let p = Project::new();
    p.prompt("work", "").agent(BRANCH_DELETER);
    let out = p.grind(&["--max-iterations", "3"]);
    assert_eq!(out.status.code(), Some(70), "{}", diag(&out));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    // What grind said it failed on (the branch gone, not git's "cannot read HEAD" of the
    // worktree whose branch it was) is the stop reason.
    let error = err
        .lines()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or_else(|| panic!("no error line: {err}"));
    let run = p.only_run();
    assert_eq!(
        error,
        format!("the run branch pitboss/{run} is gone (deleted while the run went on)"),
        "{err}"
    );
    // With --json, grind's warnings are events.
    let said = format!(
        "run {run} recorded as failed; once the cause is fixed, `git pitboss grind --resume {run}` takes it up"
    );
    assert!(
        events(&out)
            .iter()
            .any(|e| e["event"] == "warning" && e["message"] == said.as_str()),
        "{}",
        diag(&out)
    );

    let state = p.state(&run);
    assert_eq!(state["status"], "failed", "{state}");
    let branch = format!("pitboss/{run}");
    let reason = format!("grind failed: {error}");
    assert_eq!(state["stop_reason"], reason);
    let show = p.sb.ok(&["show", &run], "");
    assert!(
        show.contains(&format!("status    failed ({reason})")),
        "{show}"
    );
    let ls = p.sb.run(&["ls"], "");
    assert_eq!(ls.status.code(), Some(0));
    let row = String::from_utf8_lossy(&ls.stdout).to_string();
    assert!(row.contains(&format!("{run}  failed ")), "{row}");
    assert!(
        !String::from_utf8_lossy(&ls.stderr).contains("interrupted"),
        "{}",
        String::from_utf8_lossy(&ls.stderr)
    );
    let subject = p.sb.git(&[
        "log",
        "-1",
        "--format=%s",
        &format!("refs/pitboss/grind/{run}"),
    ]);
    assert_eq!(
        subject.trim(),
        format!("run {run} finished: failed ({reason})")
    );

    // The cause fixed (the branch back), `--resume` takes the run up: the lock is free, and
    // the run goes on from the state it was recorded in.
    p.sb.git(&["branch", &branch, p.mark("tip").trim()]);
    let out = p.grind(&["--resume", &run, "--max-iterations", "4"]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let state = p.state(&run);
    assert_eq!(state["status"], "finished", "{state}");
    // The session the error cut off is recorded as after a crash; the run goes on after it.
    assert_eq!(statuses(&p.records(&run)), ["ok", "aborted", "ok", "ok"]);
    assert!(
        state["stop_reason"]
            .as_str()
            .is_some_and(|r| !r.contains("grind failed"))
    );
}

/// The agent's program vanishing mid-run (uninstalled, a path on a volume that went away) ends
/// the grind with exit 4, naming the program: the run is recorded `failed` with that error,
/// not left `running`.
#[test]
fn an_agent_program_that_vanishes_mid_run_leaves_the_run_failed_not_running() {
    let p = Project::new();
    p.prompt("work", "");
    // A Claude Code stand-in that removes itself during session 1 (which then has no result).
    let program = p.sb.path("claude");
    std::fs::write(&program, "#!/bin/sh\nrm -f \"$0\"\necho '{}'\n").unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        p.repo().join(".pitboss/config.toml"),
        format!(
            "[agent]\nbackend = \"claude\"\nbinary = \"{}\"\n",
            program.display()
        ),
    )
    .unwrap();
    let out = p.grind_with(&["--max-iterations", "3"], &[("IS_SANDBOX", "1")]);
    assert_eq!(out.status.code(), Some(4), "{}", diag(&out));
    let run = p.only_run();
    assert_eq!(statuses(&p.records(&run)), ["error"], "{}", diag(&out));
    let state = p.state(&run);
    assert_eq!(state["status"], "failed", "{state}");
    let reason = state["stop_reason"].as_str().unwrap();
    assert!(
        reason.starts_with(&format!(
            "grind failed: agent program `{}` not found",
            program.display()
        )),
        "{reason}"
    );
    let ls = p.sb.ok(&["ls"], "");
    assert!(ls.contains(&format!("{run}  failed ")), "{ls}");
}

/// Each failed session's lines say once, not on each of its lines, that its work was saved.
fn assert_saved_said_once_per_session(err: &str, sessions: u64) {
    for seq in 1..=sessions {
        let said = err
            .lines()
            .filter(|l| l.starts_with(&format!("{seq:04} ")) && l.contains("saved as a patch"))
            .count();
        assert_eq!(said, 1, "session {seq}:\n{err}");
    }
}

#[test]
fn work_saved_as_a_patch_is_said_once_per_session_side_by_side_and_one_at_a_time() {
    let p = Project::new();
    p.prompt("work", "parallel_safe: true\n")
        .agent(&format!("{WORK}\nexit 3\n"));
    for parallel in ["2", "1"] {
        let out = crate::support::run_with_stdin(
            p.sb.git_pitboss().args([
                "grind",
                "--max-iterations",
                "3",
                "--max-parallel",
                parallel,
                "--consecutive-failure-limit",
                "5",
            ]),
            "",
        );
        assert_eq!(out.status.code(), Some(1), "{}", diag(&out));
        assert_saved_said_once_per_session(&String::from_utf8_lossy(&out.stderr), 3);
    }
}
