//! What a remote may not do with a run's code branch (issue 29): replace it with a tree the run
//! never recorded (a fresh clone has nothing to compare with, and `--resume` would start agents
//! and the verify command on it), or move the user's own `pitboss/<name>` branch through a
//! "run" of that name. And the hint `sync` gives for a diverged branch checked out here works.

use crate::remote_travel::{grind, project, team};
use crate::support::remote::Bare;
use crate::support::*;

/// A fresh clone of the remote after `a` replaced the run's branch there with `tip`.
fn fresh_clone_after_replacing(
    a: &Sandbox,
    url: &str,
    run: &str,
    tip: &str,
) -> (Sandbox, std::process::Output) {
    a.git(&[
        "push",
        "-q",
        "-f",
        "origin",
        &format!("{tip}:refs/heads/pitboss/{run}"),
    ]);
    let c = Sandbox::clone_of(url);
    let out = c.git_pitboss().args(["fetch"]).output().unwrap();
    (c, out)
}

/// Fetch refuses to create the branch, and `--resume` (dry run and real) refuses the remote's
/// copy: no agent starts, nothing is written.
fn refused_everywhere(c: &Sandbox, run: &str, out: &std::process::Output, why: &str) {
    let full = format!("refs/heads/pitboss/{run}");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    let said = stdout(out);
    assert!(
        said.contains(&format!("refused    branch {full}: not the run's code")),
        "{said}"
    );
    assert!(said.contains(why), "{said}");
    assert!(stderr(out).contains("does not hold run"), "{}", stderr(out));
    assert_eq!(c.tip(&full), "", "the branch was created");
    let prompts = project(c, "own");
    let mut dry = c.git_pitboss();
    dry.args(["grind", "--dry-run", "--resume", run, "--prompts-dir"])
        .arg(&prompts);
    let out = run_with_stdin(&mut dry, "");
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not the run's code"),
        "{}",
        stderr(&out)
    );
    let before = c.pitboss_refs();
    let out = grind(c, "c", &prompts, Some(run));
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "refs/pitboss-remotes/origin/heads/pitboss/{run} is not the run's code"
        )),
        "{err}"
    );
    assert!(err.contains(why), "{err}");
    assert_eq!(c.pitboss_refs(), before, "nothing written");
    assert_eq!(c.tip(&full), "", "the branch was created");
    assert!(!c.repo.join("c.txt").exists());
}

#[test]
fn a_branch_unrelated_to_the_run_is_not_created_nor_resumed() {
    let bare = Bare::new();
    let url = bare.path_url();
    let (a, _b, _c, run) = team(&url);
    let tree = a.git(&["write-tree"]);
    let tree = tree.trim();
    let orphan = a.git(&["commit-tree", tree, "-m", "someone else's tree"]);
    let (c, out) = fresh_clone_after_replacing(&a, &url, &run, orphan.trim());
    refused_everywhere(&c, &run, &out, "does not descend from");
}

#[test]
fn a_branch_without_the_recorded_sessions_is_not_created_nor_resumed() {
    let bare = Bare::new();
    let url = bare.path_url();
    let (a, _b, _c, run) = team(&url);
    // The run's base with one commit of someone else on top: related, but session 1's code
    // is not in it.
    a.git(&[
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "not the agent's work",
    ]);
    let other = a.git(&["rev-parse", "HEAD"]);
    let (c, out) = fresh_clone_after_replacing(&a, &url, &run, other.trim());
    refused_everywhere(&c, &run, &out, "lacks the code recorded by session 1");
}

#[test]
fn a_remote_run_named_like_the_users_branch_does_not_move_it() {
    let bare = Bare::new();
    let url = bare.path_url();
    let user = Sandbox::new();
    user.git(&["remote", "add", "origin", &url]);
    user.git(&["push", "-q", "origin", "main"]);
    user.git(&["branch", "pitboss/feature"]);
    user.git(&["push", "-q", "origin", "pitboss/feature"]);
    let mine = user.tip("refs/heads/pitboss/feature");

    // Someone records a run called `feature` and moves the branch of that name on the remote.
    let m = Sandbox::clone_of(&url);
    m.git(&["fetch", "-q", "origin", "pitboss/feature"]);
    m.git(&["checkout", "-q", "-b", "pitboss/feature", "FETCH_HEAD"]);
    m.git(&["commit", "-q", "--allow-empty", "-m", "theirs"]);
    m.record_session("feature", "p", 1);
    m.git(&[
        "push",
        "-q",
        "origin",
        "pitboss/feature",
        "refs/pitboss/grind/feature",
    ]);

    let out = user.git_pitboss().args(["fetch"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("feature"), "{}", stdout(&out));
    assert_eq!(
        user.tip("refs/heads/pitboss/feature"),
        mine,
        "the user's branch moved"
    );
    let out = user.git_pitboss().args(["sync"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        user.tip("refs/heads/pitboss/feature"),
        mine,
        "the user's branch moved"
    );
}

#[test]
fn sync_with_a_diverged_branch_checked_out_hints_a_merge_that_works() {
    let bare = Bare::new();
    let url = bare.path_url();
    let (a, b, _c, run) = team(&url);
    let full = format!("refs/heads/pitboss/{run}");
    b.ok(&["fetch"], "");
    // A resumes the run and pushes; B works on the run's branch by hand in its checkout.
    let prompts = project(&a, "own");
    let out = grind(&a, "a", &prompts, Some(&run));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    a.ok(&["push"], "");
    b.git(&["switch", "-q", &format!("pitboss/{run}")]);
    std::fs::write(b.repo.join("by-hand.txt"), "mine\n").unwrap();
    b.git(&["add", "by-hand.txt"]);
    b.git(&["commit", "-q", "-m", "by hand"]);

    let out = b.git_pitboss().args(["sync"]).output().unwrap();
    let err = stderr(&out);
    assert!(!err.contains("--ff-only"), "{err}");
    // Do what the hint says, line by line.
    let cmds: Vec<&str> = err
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("git "))
        .collect();
    assert_eq!(cmds.len(), 2, "{err}");
    assert!(
        cmds[0].contains(" merge refs/pitboss-remotes/origin/heads/"),
        "{err}"
    );
    let repo = b.repo.to_str().unwrap().to_string();
    for cmd in cmds {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        assert_eq!(words[0], "git");
        if words[1] == "pitboss" {
            let out = b.git_pitboss().args(&words[2..]).output().unwrap();
            assert_eq!(out.status.code(), Some(0), "{cmd}: {}", stderr(&out));
        } else {
            assert_eq!(words[1], "-C", "{cmd}");
            assert_eq!(words[2].trim_end_matches('/'), repo.trim_end_matches('/'));
            b.git(&["merge", "-q", "--no-edit", words[4]]);
        }
    }
    assert_eq!(b.tip(&full), bare.git(&["rev-parse", &full]).trim());
    let log = b.git(&["log", "--format=%s", &full]);
    assert!(
        log.contains("by hand") && log.contains("agent: a session 2"),
        "{log}"
    );
}

/// Issue 22: work a resume saved (`patches/<bucket>/resume-<seq>.patch`, found by hand in the
/// run's worktree) belongs to no session; a `sync` that merges the run's diverged histories
/// keeps it, on both clones.
#[test]
fn sync_keeps_the_work_saved_at_a_resume() {
    let bare = Bare::new();
    let url = bare.path_url();
    let a = Sandbox::new();
    a.git(&["remote", "add", "origin", &url]);
    a.git(&["push", "-q", "origin", "main"]);
    let pa = project(&a, "own");
    // Session 2 fails and the failure limit stops the run: it keeps its worktree.
    let mut cmd = a.git_pitboss();
    cmd.args(["grind", "--json", "--max-iterations", "3"])
        .args(["--consecutive-failure-limit", "1", "--prompts-dir"])
        .arg(&pa)
        .envs([("CLONE", "a"), ("FAIL_AT", "2")]);
    let out = run_with_stdin(&mut cmd, "");
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let run = a.only_run();
    let run_ref = format!("refs/pitboss/grind/{run}");
    a.ok(&["push"], "");
    let b = Sandbox::clone_of(&url);
    b.ok(&["fetch"], "");

    // Work by hand in A's kept worktree: the resume saves it before its session.
    let wt = a.repo.join(".git/pitboss/worktrees").join(&run).join("0");
    std::fs::write(wt.join("a.txt"), "edited by hand\n").unwrap();
    let resume = |sb: &Sandbox, clone: &str| {
        let prompts = project(sb, "own");
        let mut cmd = sb.git_pitboss();
        cmd.args(["grind", "--json", "--resume", &run, "--max-iterations", "3"])
            .arg("--prompts-dir")
            .arg(&prompts)
            .env("CLONE", clone);
        let out = run_with_stdin(&mut cmd, "");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    };
    resume(&a, "a");
    let saved = "patches/00/resume-0003.patch";
    let patch = a.git(&["show", &format!("{run_ref}:{saved}")]);
    assert!(patch.contains("edited by hand"), "{patch}");
    resume(&b, "b");

    for sb in [&a, &b, &a] {
        let out = sb.git_pitboss().args(["sync"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    for sb in [&a, &b] {
        assert_eq!(sb.records(&run).len(), 4);
        let kept = sb.git_output_in(&sb.repo, &["show", &format!("{run_ref}:{saved}")]);
        assert_eq!(stdout(&kept), patch, "the resume's patch was dropped");
    }
    assert_eq!(a.tip(&run_ref), b.tip(&run_ref));
}
