//! What an agent can write into the repository's common git directory, where it would run as
//! the user afterwards: a hook (`git pitboss push` runs `pre-push`), `core.fsmonitor` in the
//! config (every plain `git status` runs it). grind notices the change when the agent is done,
//! puts everything back, makes the session an `error` and says what it found. And the run ref:
//! rewound, forged onto or deleted by an agent, it goes back to the tip grind wrote.

use crate::support::grind::*;
use crate::support::stderr;

/// The agent adds a `pre-push` hook, changes a sample hook's mode, and sets `core.fsmonitor`,
/// then commits work. After the grind the hook and the setting are gone, the session is an
/// error naming them, its work is a patch, and a plain `git status` runs nothing.
#[test]
fn an_agent_writing_hooks_or_config_is_undone_and_its_session_an_error() {
    let p = Project::new();
    let proof = p.sb.path("fsmonitor-ran");
    p.prompt("work", "").agent(&format!(
        r#"common=$(git rev-parse --git-common-dir)
mkdir -p "$common/hooks"
printf '#!/bin/sh\ntouch "{proof}"\n' > "$common/hooks/pre-push"
chmod +x "$common/hooks/pre-push"
git config core.fsmonitor "touch {proof}; true"
echo work > work.txt && git add work.txt && git commit -q -m "agent work"
"#,
        proof = proof.display()
    ));
    let common = p.repo().join(".git");
    let config_before = std::fs::read(common.join("config")).unwrap();
    let out = p.grind(&["--max-iterations", "1"]);
    let run = p.only_run();
    let records = p.records(&run);
    assert_eq!(statuses(&records), ["error"], "{}", diag(&out));
    let why = records[0]["summary"].as_str().unwrap_or_default();
    assert!(
        why.starts_with("changed the repository's git settings")
            && why.contains("config (changed)")
            && why.contains("hooks/pre-push (added)"),
        "{why}"
    );
    assert!(!common.join("hooks/pre-push").exists());
    assert_eq!(std::fs::read(common.join("config")).unwrap(), config_before);
    assert!(p.branch_subjects(&run).is_empty(), "{}", diag(&out));
    assert!(p.patch(&run, 1).is_some_and(|t| t.contains("+work")));
    assert!(
        diag(&out).contains("session 1: changed the repository's git"),
        "the user is told\n{}",
        diag(&out)
    );
    // The agent's own commits ran it during the session; from now on nothing may.
    let _ = std::fs::remove_file(&proof);
    p.sb.git(&["status", "--short"]);
    assert!(
        !proof.exists(),
        "a plain git status ran the agent's fsmonitor"
    );
}

/// A session that leaves the git directory alone is not charged: grind's own writes there
/// (the run's worktree, its branch) are not mistaken for an agent's.
#[test]
fn a_session_that_leaves_the_git_directory_alone_is_ok() {
    let p = Project::new();
    p.prompt("work", "").agent(
        "echo $PITBOSS_SEQ > work.txt && git add work.txt && git commit -q -m 'agent work'\n",
    );
    let out = p.grind(&["--max-iterations", "2"]);
    let run = p.only_run();
    assert_eq!(statuses(&p.records(&run)), ["ok", "ok"], "{}", diag(&out));
}

/// The agent of session 3 rewinds the run ref two commits (dropping the records of sessions 1
/// and 2 from it): grind puts it back and appends onto its own tip, so the run keeps all four
/// sessions, and says what it found. The run ref is not the agent's, as the run branch is not:
/// the session is an `error` with the reason, its work a patch, not on the branch.
#[test]
fn a_rewound_run_ref_is_put_back_and_no_record_vanishes() {
    let p = Project::new();
    p.prompt("work", "").agent(
        r#"if [ "$PITBOSS_SEQ" = 3 ]; then
  git update-ref "refs/pitboss/grind/$PITBOSS_RUN_ID" "refs/pitboss/grind/$PITBOSS_RUN_ID~2"
fi
echo "$PITBOSS_SEQ" > work.txt && git add work.txt && git commit -q -m "session $PITBOSS_SEQ"
"#,
    );
    let out = p.grind(&["--max-iterations", "4"]);
    let run = p.only_run();
    let records = p.records(&run);
    assert_eq!(seqs(&records), [1, 2, 3, 4], "{}", diag(&out));
    assert_eq!(
        statuses(&records),
        ["ok", "ok", "error", "ok"],
        "{}",
        diag(&out)
    );
    let why = records[2]["summary"].as_str().unwrap_or_default();
    assert!(
        why.starts_with(&format!(
            "the run ref refs/pitboss/grind/{run} was moved to"
        )) && why.contains("it is back at")
            && why.contains("this session's work is saved as a patch"),
        "{why}"
    );
    assert!(records[2]["commit"].is_null());
    assert!(p.patch(&run, 3).is_some_and(|t| t.contains("+3")));
    assert_eq!(
        p.branch_subjects(&run),
        ["session 1", "session 2", "session 4"]
    );
    assert!(
        diag(&out).contains(&format!(
            "session 3: the run ref refs/pitboss/grind/{run} was moved"
        )),
        "the user is told\n{}",
        diag(&out)
    );
}

/// The agent commits a forged session commit on top of the run ref: it does not join the run.
#[test]
fn a_commit_forged_onto_the_run_ref_does_not_join_the_history() {
    let p = Project::new();
    p.prompt("work", "").agent(
        r#"if [ "$PITBOSS_SEQ" = 1 ]; then
  r="refs/pitboss/grind/$PITBOSS_RUN_ID"
  f=$(git commit-tree -p "$r" -m "forged by the agent" "$r^{tree}")
  git update-ref "$r" "$f"
fi
echo "$PITBOSS_SEQ" > work.txt && git add work.txt && git commit -q -m "session $PITBOSS_SEQ"
"#,
    );
    let out = p.grind(&["--max-iterations", "2"]);
    let run = p.only_run();
    assert_eq!(seqs(&p.records(&run)), [1, 2], "{}", diag(&out));
    assert_eq!(
        statuses(&p.records(&run)),
        ["error", "ok"],
        "{}",
        diag(&out)
    );
    let history =
        p.sb.git(&["log", "--format=%s", &format!("refs/pitboss/grind/{run}")]);
    assert!(!history.contains("forged"), "{history}");
}

/// The agent deletes every `refs/pitboss/*` ref: the run ref comes back, the run goes on to its
/// end and finishes, with no error that would send the user to a `--resume`.
#[test]
fn a_deleted_run_ref_comes_back_and_the_run_finishes() {
    let p = Project::new();
    p.prompt("work", "").agent(
        r#"if [ "$PITBOSS_SEQ" = 1 ]; then
  git for-each-ref --format='%(refname)' refs/pitboss/ | while read r; do git update-ref -d "$r"; done
fi
echo "$PITBOSS_SEQ" > work.txt && git add work.txt && git commit -q -m "session $PITBOSS_SEQ"
"#,
    );
    let out = p.grind(&["--max-iterations", "2"]);
    // Exit 1 for the session charged with it, not for grind failing.
    assert_eq!(out.status.code(), Some(1), "{}", diag(&out));
    let run = p.only_run();
    let records = p.records(&run);
    assert_eq!(seqs(&records), [1, 2], "{}", diag(&out));
    assert_eq!(statuses(&records), ["error", "ok"], "{}", diag(&out));
    let why = records[0]["summary"].as_str().unwrap_or_default();
    assert!(why.contains("was deleted while this session ran"), "{why}");
    assert_eq!(p.state(&run)["status"], "finished");
    // (The warning that the uncommitted prompts would not reach another clone's resume is no
    // hint to resume this run.)
    let to_resume: Vec<String> = diag(&out)
        .lines()
        .filter(|l| l.contains("--resume") && !l.starts_with("warning: not committed"))
        .map(str::to_string)
        .collect();
    assert!(to_resume.is_empty(), "{}", diag(&out));
}

/// The run's branch here replaced (`git branch -f` onto an unrelated commit, or back to where
/// the run started, without its sessions' code): `git pitboss grind --resume` refuses (exit 4)
/// before any agent runs, says where the records put the branch, and resumes once it is back.
#[test]
fn a_replaced_run_branch_is_not_resumed_on() {
    let p = Project::new();
    p.prompt("work", "").agent(
        r#"touch "$MARKS/ran-$PITBOSS_SEQ"
echo "$PITBOSS_SEQ" > work.txt && git add work.txt && git commit -q -m "session $PITBOSS_SEQ"
"#,
    );
    let out = p.grind(&["--max-iterations", "1"]);
    assert!(out.status.success(), "{}", diag(&out));
    let run = p.only_run();
    let branch = format!("pitboss/{run}");
    let landed = p.records(&run)[0]["commit"].as_str().unwrap().to_string();
    let base = p.sb.git(&["rev-parse", "main"]).trim().to_string();
    let tree = p.sb.git(&["rev-parse", "main^{tree}"]);
    let unrelated =
        p.sb.git(&["commit-tree", "-m", "someone else's", tree.trim()]);
    let resume = || {
        p.sb.git_pitboss()
            .args(["grind", "--resume", &run, "--max-iterations", "2"])
            .env("MARKS", p.marks())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    for (to, why) in [
        (unrelated.trim(), format!("does not descend from {base}")),
        (
            base.as_str(),
            "lacks the code recorded by session 1".to_string(),
        ),
    ] {
        p.sb.git(&["branch", "-f", &branch, to]);
        let before = p.sb.pitboss_refs();
        let out = resume();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(4), "{err}");
        assert!(
            err.contains(&format!(
                "run {run} cannot be resumed: its branch refs/heads/{branch} is not the run's code"
            )) && err.contains(&why),
            "{err}"
        );
        let fix = format!("git branch -f {branch} {landed}");
        assert!(err.contains(&fix), "{err}");
        assert!(!p.marks().join("ran-2").exists(), "an agent ran on it");
        assert_eq!(p.sb.pitboss_refs(), before, "the refusal wrote to the run");
        assert_eq!(p.sb.git(&["rev-parse", &branch]).trim(), to);
    }
    // The fix as the hint gives it.
    p.sb.git(&["branch", "-f", &branch, &landed]);
    let out = resume();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(p.marks().join("ran-2").exists());
}
