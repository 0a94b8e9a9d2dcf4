//! A whole run through the real binary: six sessions over three prompts whose order the
//! weights and `every` fix, each doing something different with its work (commit it, leave it
//! for pitboss, change nothing), all sharing the scratchpad. What the user sees afterwards:
//! the records, the run branch (agent commits as they were, leftovers committed by pitboss with
//! trailers), the run ref's history, transcripts and scratchpad, their own checkout untouched,
//! the worktree gone, exit 0.

use crate::support::grind::*;

/// `commit` commits its own file, `leave` leaves one for pitboss, `note` changes nothing. Every
/// session shows what it was given, prints to both streams, appends to the scratchpad and
/// reports tokens and cost.
const AGENT: &str = r#"
cat > "$MARKS/input-$PITBOSS_SEQ"
echo "out $PITBOSS_SEQ $PITBOSS_PROMPT"
echo "err $PITBOSS_SEQ" >&2
echo "seq $PITBOSS_SEQ prompt $PITBOSS_PROMPT" >> "$PITBOSS_SCRATCHPAD"
case "$PITBOSS_PROMPT" in
  commit)
    echo "$PITBOSS_SEQ" > "commit-$PITBOSS_SEQ.txt"
    git add "commit-$PITBOSS_SEQ.txt"
    git commit -q -m "agent: commit-$PITBOSS_SEQ"
    ;;
  leave)
    echo "$PITBOSS_SEQ" > "leave-$PITBOSS_SEQ.txt"
    ;;
esac
echo "summary of session $PITBOSS_SEQ" > "$PITBOSS_SUMMARY_FILE"
printf '{"tokens":{"input":%d,"output":10},"cost_usd":0.001}\n' "$((PITBOSS_SEQ * 100))" > "$PITBOSS_RESULT_FILE"
"#;

#[test]
fn six_sessions_over_three_prompts_land_records_commits_transcripts_and_scratchpad() {
    let p = Project::new();
    p.prompt("commit", "weight: 2\n")
        .prompt("leave", "")
        .prompt("note", "every: 2\n")
        .agent(AGENT);
    let before = Checkout::busy(&p.sb);
    let base = p.sb.git(&["rev-parse", "HEAD"]).trim().to_string();

    let out = p.grind(&["--max-iterations", "6"]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let run = p.only_run();

    // Rotation 1: commit, leave, commit; rotation 2 (`note` takes part): commit, leave, note.
    let records = p.records(&run);
    assert_eq!(seqs(&records), [1, 2, 3, 4, 5, 6]);
    let prompts: Vec<&str> = records
        .iter()
        .map(|r| r["prompt"].as_str().unwrap())
        .collect();
    assert_eq!(
        prompts,
        ["commit", "leave", "commit", "commit", "leave", "note"]
    );
    assert_eq!(
        statuses(&records),
        ["ok", "dirty", "ok", "ok", "dirty", "ok"]
    );
    for r in &records {
        let seq = r["seq"].as_u64().unwrap();
        assert_eq!(r["run_id"], run.as_str());
        assert_eq!(r["summary"], format!("summary of session {seq}"), "{r}");
        assert_eq!(r["tokens"]["input"], seq * 100);
        assert_eq!(r["tokens"]["output"], 10);
        assert_eq!(r["cost_usd"], 0.001);
        assert_eq!(r["cost_source"], "reported");
        assert_eq!(r["exit_code"], 0);
        assert_eq!(r["agent"], "command");
    }

    // The branch: the agent's commits as it made them, pitboss's for the leftovers, nothing
    // for `note`; each record names its commit.
    assert_eq!(
        p.branch_subjects(&run),
        [
            "agent: commit-1",
            "pitboss: work left uncommitted by session 0002 (leave)",
            "agent: commit-3",
            "agent: commit-4",
            "pitboss: work left uncommitted by session 0005 (leave)",
        ]
    );
    let branch = p.branch(&run);
    let shas: Vec<String> =
        p.sb.git(&[
            "log",
            "--reverse",
            "--format=%H",
            &format!("{base}..{branch}"),
        ])
        .lines()
        .map(str::to_string)
        .collect();
    let commits: Vec<Option<&str>> = records.iter().map(|r| r["commit"].as_str()).collect();
    assert_eq!(
        commits,
        [
            Some(shas[0].as_str()),
            Some(&shas[1]),
            Some(&shas[2]),
            Some(&shas[3]),
            Some(&shas[4]),
            None
        ]
    );
    let agent_commit =
        p.sb.git(&["show", "-s", "--format=%an <%ae>%n%B", &shas[0]]);
    assert_eq!(
        agent_commit.trim_end(),
        "Test User <test@example.com>\nagent: commit-1",
        "agent commits are kept as they are"
    );
    let trailers =
        p.sb.git(&["show", "-s", "--format=%(trailers:only,unfold)", &shas[4]]);
    assert_eq!(
        trailers.trim_end(),
        format!("Pitboss-Run: {run}\nPitboss-Session: 5\nPitboss-Prompt: leave")
    );
    let files = p.sb.git(&["ls-tree", "--name-only", &branch]);
    for f in [
        "commit-1.txt",
        "leave-2.txt",
        "commit-3.txt",
        "commit-4.txt",
        "leave-5.txt",
    ] {
        assert!(files.lines().any(|l| l == f), "{f} missing from\n{files}");
    }

    // The run ref: one commit per session between the start and the end.
    let history = p.sb.git(&[
        "log",
        "--reverse",
        "--format=%s",
        &format!("refs/pitboss/grind/{run}"),
    ]);
    let history: Vec<&str> = history.lines().collect();
    assert_eq!(history.len(), 8, "{history:?}");
    assert_eq!(history[0], format!("run {run} started"));
    assert_eq!(history[2], "session 0002 leave: dirty");
    assert_eq!(history[6], "session 0006 note: ok");
    assert!(
        history[7].starts_with(&format!("run {run} finished (")),
        "{history:?}"
    );
    assert_eq!(p.state(&run)["status"], "finished");

    // Transcripts: both streams, in the session they belong to.
    for seq in 1..=6u64 {
        let t = p.transcript(&run, seq);
        assert!(
            t.contains(&format!("out {seq} {}\n", prompts[seq as usize - 1])),
            "{seq}: {t}"
        );
        assert!(t.contains(&format!("[stderr] err {seq}\n")), "{seq}: {t}");
        assert!(!t.contains(&format!("out {}", seq + 1)), "{seq}: {t}");
    }

    // The scratchpad has every session's line, and each session was given the notes of the
    // ones before it with its own prompt.
    let pad = p.run_file(&run, "scratchpad.md").unwrap();
    let expected: String = (1..=6)
        .map(|s| format!("seq {s} prompt {}\n", prompts[s - 1]))
        .collect();
    assert_eq!(pad, expected);
    let input = std::fs::read_to_string(p.marks().join("input-5")).unwrap();
    assert!(input.contains("seq 4 prompt commit"), "{input}");
    assert!(input.contains("Do the leave thing."), "{input}");

    // The user's checkout, index and stash are as they were; the worktree is gone.
    assert_eq!(Checkout::capture(&p.sb), before);
    assert!(!p.worktree_registered(&run));
    assert!(!p.worktree(&run).exists());
    let s = run_summary(&out);
    assert_eq!(s["sessions"], 6);
    assert_eq!(s["status"], "finished");
    assert!(s["worktree_kept"].is_null());
}

/// An agent that switches branches (or detaches HEAD) in the worktree before it commits: its
/// work still lands on the run branch, the worktree goes back on the run branch, and the next
/// sessions' resets move the run branch, not the agent's.
#[test]
fn work_committed_on_another_branch_or_a_detached_head_lands_on_the_run_branch() {
    let p = Project::new();
    p.prompt("a", "").agent(
        r#"
case "$PITBOSS_SEQ" in
  1) git checkout -q -b side ;;
  3) git checkout -q --detach ;;
esac
echo "$PITBOSS_SEQ" > "f-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "agent $PITBOSS_SEQ"
"#,
    );
    let out = p.grind(&["--max-iterations", "4"]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let run = p.only_run();
    assert_eq!(
        p.branch_subjects(&run),
        ["agent 1", "agent 2", "agent 3", "agent 4"]
    );
    let branch = p.branch(&run);
    for r in p.records(&run) {
        let c = r["commit"].as_str().expect("every session committed");
        p.sb.git(&["merge-base", "--is-ancestor", c, &branch]);
    }
    // The agent's own branch is its business: left where it put its commit.
    assert_eq!(
        p.sb.git(&["log", "-1", "--format=%s", "side"]).trim(),
        "agent 1"
    );
}

/// grind's start line says which program each session runs and where that came from.
#[test]
fn the_start_line_names_the_program_and_where_it_came_from() {
    let p = Project::new();
    p.prompt("a", "").agent("echo hi");
    let out =
        p.sb.git_pitboss()
            .args(["grind", "--max-iterations", "1"])
            .output()
            .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let agent = p.sb.path("agent.sh");
    assert!(
        err.contains(&format!(
            "  program  sh {} (named in .pitboss/config.toml)",
            agent.display()
        )),
        "{err}"
    );
    let json = p.grind(&["--max-iterations", "1"]);
    let started = events(&json)
        .into_iter()
        .find(|e| e["event"] == "run_started")
        .unwrap();
    assert_eq!(started["program_from"], "config", "{started}");
    assert_eq!(started["program"], format!("sh {}", agent.display()));
}

/// The start-up check of relative programs is a guess, and a guess must not refuse valid shell:
/// a redirection glued to its program, assignments, quoted text and a comment all run.
#[test]
fn valid_shell_in_agent_cmd_is_not_refused_as_a_missing_file() {
    let p = Project::new();
    p.prompt("work", "").agent("");
    let cmd = "cat>/dev/null; FOO=1 echo \"done; ./not-a-program\" 2>&1 # ./nor-this";
    let out = p.grind(&["--agent-cmd", cmd, "--max-iterations", "1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let run = p.only_run();
    assert_eq!(p.records(&run)[0]["status"], "ok", "{err}");
    // A program that certainly names a missing file is still refused, before anything is written.
    let out = p.grind(&["--agent-cmd", "./nope.sh >/dev/null", "--dry-run"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("names ./nope.sh, which does not exist"),
        "{err}"
    );
}

/// A working directory whose name is not UTF-8 (the shell's `PWD` then is not either) runs
/// `grind` and `gc` as any other: no panic (exit 101).
#[test]
fn a_working_directory_that_is_not_utf8_runs_grind_and_gc() {
    use std::os::unix::ffi::OsStrExt;
    let p = Project::new();
    p.prompt("work", "")
        .agent("echo done > \"$PITBOSS_SUMMARY_FILE\"\n");
    let dir = p
        .repo()
        .join(std::ffi::OsStr::from_bytes(b"caf\xe9-latin1"));
    std::fs::create_dir_all(&dir).unwrap();
    for args in [&["grind", "--max-iterations", "1"][..], &["gc"]] {
        let mut cmd = p.sb.pitboss();
        cmd.current_dir(&dir).env("PWD", &dir).args(args);
        let out = crate::support::run_with_stdin(&mut cmd, "");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            crate::support::stderr(&out)
        );
    }
    let run = p.only_run();
    assert_eq!(p.records(&run)[0]["status"], "ok");
}
