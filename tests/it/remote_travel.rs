//! A run travels whole: its history (`refs/pitboss/grind/<id>`) and its code (the branch it
//! records) go together through push, fetch and sync, across three clones of one bare remote
//! (by path, and over `git daemon`). Runs are made by real grinds with a fake agent (a shell
//! script), resumed on other clones, merged, deleted on the remote.

use std::path::{Path, PathBuf};

use crate::support::remote::{Bare, Daemon};
use crate::support::*;

/// The fake agent: appends a line naming `$CLONE` and the session to the file its prompt
/// names (`own` → `$CLONE.txt`, `clash` → `shared.txt`), and commits it.
const AGENT: &str = r#"#!/bin/sh
set -eu
if [ "${FAIL_AT:-0}" = "$PITBOSS_SEQ" ]; then echo "failing on purpose"; exit 3; fi
case "$PITBOSS_PROMPT" in
  own*) f="$CLONE.txt" ;;
  *) f=shared.txt ;;
esac
echo "$CLONE session $PITBOSS_SEQ" >> "$f"
git add "$f"
git commit -q -m "agent: $CLONE session $PITBOSS_SEQ"
echo "$CLONE wrote $f" > "$PITBOSS_SUMMARY_FILE"
"#;

/// A clone set up to grind: the agent, one prompt (`prompt`) in a prompts folder of its own.
pub(crate) fn project(sb: &Sandbox, prompt: &str) -> PathBuf {
    let agent = sb.path("agent.sh");
    std::fs::write(&agent, AGENT).unwrap();
    let dir = sb.path(&format!("prompts-{prompt}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{prompt}.md")),
        format!("---\nname: {prompt}\ndescription: test prompt\n---\nDo it.\n"),
    )
    .unwrap();
    std::fs::create_dir_all(sb.repo.join(".pitboss")).unwrap();
    std::fs::write(
        sb.repo.join(".pitboss/config.toml"),
        format!(
            "[agent]\nbackend = \"command\"\ncommand = \"sh {}\"\n",
            agent.display()
        ),
    )
    .unwrap();
    // Keep the project's own files out of `git status` in the user's checkout.
    std::fs::write(sb.repo.join(".git/info/exclude"), ".pitboss/\n").unwrap();
    dir
}

/// One session of a new run (`resume`: None) or of a resumed one (whose budget already holds
/// one session), as clone `clone`.
pub(crate) fn grind(
    sb: &Sandbox,
    clone: &str,
    prompts: &Path,
    resume: Option<&str>,
) -> std::process::Output {
    let mut cmd = sb.git_pitboss();
    cmd.args(["grind", "--json", "--prompts-dir"])
        .arg(prompts)
        .env("CLONE", clone);
    match resume {
        Some(run) => cmd.args(["--resume", run, "--max-iterations", "2"]),
        None => cmd.args(["--max-iterations", "1"]),
    };
    run_with_stdin(&mut cmd, "")
}

/// A (who starts the run and pushes it with `main`), and B and C cloned from the remote.
pub(crate) fn team(url: &str) -> (Sandbox, Sandbox, Sandbox, String) {
    let a = Sandbox::new();
    a.git(&["remote", "add", "origin", url]);
    a.git(&["push", "-q", "origin", "main"]);
    let prompts = project(&a, "own");
    let out = grind(&a, "a", &prompts, None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let run = a.only_run();
    let pushed = a.ok(&["push"], "");
    assert!(
        pushed.contains(&format!("created     branch refs/heads/pitboss/{run}")),
        "{pushed}"
    );
    let b = Sandbox::clone_of(url);
    let c = Sandbox::clone_of(url);
    (a, b, c, run)
}

/// `git <args>` in `sb`, asserting success and that git printed no warning.
fn git_quiet(sb: &Sandbox, args: &[&str]) -> String {
    let out = sb.git_output_in(&sb.repo, args);
    let err = stderr(&out);
    assert!(out.status.success(), "git {args:?}: {err}");
    assert!(
        !err.contains("warning") && !err.contains("ambiguous"),
        "git {args:?}: {err}"
    );
    stdout(&out)
}

/// Every code commit the run's records name is in `sb`'s object store.
fn records_name_only_present_commits(sb: &Sandbox, run: &str) {
    for r in sb.records(run) {
        if let Some(c) = r["commit"].as_str() {
            let t = sb.git(&["cat-file", "-t", c]);
            assert_eq!(t.trim(), "commit", "session {} names {c}", r["seq"]);
        }
    }
}

#[test]
fn a_run_travels_whole_over_git_daemon_and_resumes_on_another_clone() {
    let bare = Bare::new();
    let daemon = Daemon::serve(bare.dir.path());
    let url = daemon.url("remote.git");
    let (a, b, c, run) = team(&url);
    let branch = format!("pitboss/{run}");
    let full = format!("refs/heads/{branch}");

    // The short name means the branch, to git and to a git user, with no warning.
    assert_eq!(
        git_quiet(&a, &["rev-parse", &branch]),
        a.git(&["rev-parse", &full])
    );
    let run_json: serde_json::Value =
        serde_json::from_str(&a.git(&["show", &format!("refs/pitboss/grind/{run}:run.json")]))
            .unwrap();
    assert_eq!(run_json["branch"], full.as_str());

    // B: fetch brings the run and its branch (tracking ref and local branch).
    let out = b.git_pitboss().args(["fetch"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        said.contains(&format!("created    run {run} (1 session)")),
        "{said}"
    );
    assert!(
        said.contains(&format!("created    branch {full}")),
        "{said}"
    );
    assert_eq!(b.git(&["rev-parse", &full]), a.git(&["rev-parse", &full]));
    assert_eq!(
        b.git(&[
            "rev-parse",
            &format!("refs/pitboss-remotes/origin/heads/{branch}")
        ]),
        a.git(&["rev-parse", &full])
    );
    let json: serde_json::Value = serde_json::from_str(&b.ok(&["fetch", "--json"], "")).unwrap();
    assert_eq!(json["branches"][0]["branch"], full);
    assert_eq!(json["branches"][0]["outcome"], "up-to-date");

    // B resumes it: the session lands on the fetched branch.
    let prompts = project(&b, "own");
    let out = grind(&b, "b", &prompts, Some(&run));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(b.records(&run).len(), 2);
    let log = git_quiet(&b, &["log", "--format=%s", &branch]);
    assert!(
        log.starts_with("agent: b session 2\nagent: a session 1\n"),
        "{log}"
    );
    let out = b.git_pitboss().args(["push"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("updated     branch {full}")),
        "{}",
        stdout(&out)
    );

    // C: ls --remote shows the code beside the run; after a fetch, plain git does what a
    // git user means with the short name.
    let ls = c.ok(&["ls", "--remote"], "");
    assert!(ls.contains(&format!("{full}: not here")), "{ls}");
    // The obvious plain fetch takes the code, not the run's history.
    git_quiet(
        &c,
        &["fetch", "-q", "origin", &format!("{branch}:{branch}")],
    );
    assert_eq!(c.git(&["rev-parse", &full]), b.git(&["rev-parse", &full]));
    c.ok(&["fetch"], "");
    let ls = c.ok(&["ls", "--remote"], "");
    assert!(ls.contains(&format!("{full}: up to date")), "{ls}");
    let diff = git_quiet(&c, &["diff", "--stat", "main", &branch]);
    assert!(diff.contains("a.txt") && diff.contains("b.txt"), "{diff}");
    assert!(!diff.contains("run.json"), "{diff}");
    git_quiet(&c, &["merge", "-q", "--ff-only", &branch]);
    assert_eq!(
        std::fs::read_to_string(c.repo.join("b.txt")).unwrap(),
        "b session 2\n"
    );
    records_name_only_present_commits(&c, &run);

    // A, whose stopped run keeps the branch checked out in its slot: fetch follows it there.
    let out = a.git_pitboss().args(["fetch"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("updated    branch {full} (1 new commit)")),
        "{}",
        stdout(&out)
    );
    assert_eq!(a.git(&["rev-parse", &full]), b.git(&["rev-parse", &full]));
    drop(daemon);
}

/// Rewrites run `run`'s history in `sb` so that its `run.json` records `branch` (the name runs
/// had before `pitboss/<id>`), and renames the branch to it.
fn make_legacy(sb: &Sandbox, run: &str) {
    let run_ref = format!("refs/pitboss/grind/{run}");
    let commits = sb.git(&["rev-list", "--reverse", &run_ref]);
    let mut parent: Option<String> = None;
    for c in commits.lines() {
        let meta = sb.git(&["show", &format!("{c}:run.json")]);
        let mut meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
        meta["branch"] = format!("pitboss/grind/{run}").into();
        let meta = meta.to_string();
        std::fs::write(sb.path("run.json"), &meta).unwrap();
        let blob = sb.git(&["hash-object", "-w", sb.path("run.json").to_str().unwrap()]);
        let tree = sb.git(&["ls-tree", c]);
        let tree: String = tree
            .lines()
            .map(|l| {
                if l.ends_with("\trun.json") {
                    format!("100644 blob {}\trun.json\n", blob.trim())
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        let mut mk = std::process::Command::new("git");
        mk.current_dir(&sb.repo).arg("mktree");
        let tree = stdout(&run_with_stdin(&mut mk, &tree));
        let msg = sb.git(&["log", "-1", "--format=%B", c]);
        let mut args = vec!["commit-tree".to_string(), tree.trim().to_string()];
        if let Some(p) = &parent {
            args.extend(["-p".to_string(), p.clone()]);
        }
        args.extend(["-m".to_string(), msg.trim().to_string()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        parent = Some(sb.git(&args).trim().to_string());
    }
    sb.git(&["update-ref", &run_ref, parent.as_deref().unwrap()]);
    sb.git(&[
        "branch",
        "-m",
        &format!("pitboss/{run}"),
        &format!("pitboss/grind/{run}"),
    ]);
}

#[test]
fn a_run_with_the_old_branch_name_resumes_on_another_clone() {
    let bare = Bare::new();
    let url = bare.path_url();
    let a = Sandbox::new();
    a.git(&["remote", "add", "origin", &url]);
    a.git(&["push", "-q", "origin", "main"]);
    let prompts = project(&a, "own");
    let out = grind(&a, "a", &prompts, None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let run = a.only_run();
    make_legacy(&a, &run);
    let old = format!("refs/heads/pitboss/grind/{run}");
    let pushed = a.ok(&["push"], "");
    assert!(
        pushed.contains(&format!("created     branch {old}")),
        "{pushed}"
    );

    let b = Sandbox::clone_of(&url);
    let said = b.ok(&["fetch"], "");
    assert!(said.contains(&format!("created    branch {old}")), "{said}");
    let prompts = project(&b, "own");
    let out = grind(&b, "b", &prompts, Some(&run));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(b.records(&run).len(), 2);
    let log = b.git(&["log", "--format=%s", &old]);
    assert!(log.starts_with("agent: b session 2\n"), "{log}");
    assert!(
        b.git(&["branch", "--list", &format!("pitboss/{run}")])
            .is_empty()
    );
    records_name_only_present_commits(&b, &run);
    let pushed = b.ok(&["push"], "");
    assert!(
        pushed.contains(&format!("updated     branch {old}")),
        "{pushed}"
    );
}

#[test]
fn resume_takes_the_branch_from_a_tracking_ref_and_refuses_when_it_is_nowhere() {
    let bare = Bare::new();
    let url = bare.path_url();
    let (_a, b, c, run) = team(&url);
    let full = format!("refs/heads/pitboss/{run}");
    let tracking = format!("refs/pitboss-remotes/origin/heads/pitboss/{run}");

    // B: the branch is missing here, its tracking ref is not: resume creates it from there.
    b.ok(&["fetch"], "");
    b.git(&["update-ref", "-d", &full]);
    let prompts = project(&b, "own");
    let out = grind(&b, "b", &prompts, Some(&run));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let log = b.git(&["log", "--format=%s", &full]);
    assert!(
        log.starts_with("agent: b session 2\nagent: a session 1\n"),
        "{log}"
    );

    // C: neither the branch nor its tracking ref: the dry run and the run refuse alike.
    c.ok(&["fetch"], "");
    c.git(&["update-ref", "-d", &full]);
    c.git(&["update-ref", "-d", &tracking]);
    let prompts = project(&c, "own");
    let mut dry = c.git_pitboss();
    dry.args(["grind", "--dry-run", "--resume", &run, "--prompts-dir"])
        .arg(&prompts);
    let out = run_with_stdin(&mut dry, "");
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("its branch {full} is neither here")),
        "{err}"
    );
    assert!(err.contains(&format!("git pitboss fetch {run}")), "{err}");
    let before = c.pitboss_refs();
    let out = grind(&c, "c", &prompts, Some(&run));
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("its branch {full} is neither here")),
        "{err}"
    );
    assert!(err.contains(&format!("git pitboss fetch {run}")), "{err}");
    assert_eq!(c.pitboss_refs(), before, "nothing written");
}

/// A and B both resume the run (each writes its own file), then sync in the given order.
fn resume_on_two_clones_then_sync(a_first: bool) {
    let bare = Bare::new();
    let url = bare.path_url();
    let (a, b, _c, run) = team(&url);
    let full = format!("refs/heads/pitboss/{run}");
    let run_ref = format!("refs/pitboss/grind/{run}");
    b.ok(&["fetch"], "");
    let pa = project(&a, "own");
    let pb = project(&b, "own");
    assert_eq!(grind(&a, "a", &pa, Some(&run)).status.code(), Some(0));
    assert_eq!(grind(&b, "b", &pb, Some(&run)).status.code(), Some(0));
    let (first, second) = if a_first { (&a, &b) } else { (&b, &a) };
    for (sb, merges) in [(first, false), (second, true), (first, false)] {
        let out = sb.git_pitboss().args(["sync"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        if merges {
            let said = stdout(&out);
            assert!(said.contains(&format!("merged     run {run}")), "{said}");
            assert!(
                said.contains(&format!("merged     branch {full}")),
                "{said}"
            );
        }
    }
    for r in [&run_ref, &full] {
        assert_eq!(a.git(&["rev-parse", r]), b.git(&["rev-parse", r]), "{r}");
        assert_eq!(bare.git(&["rev-parse", r]), a.git(&["rev-parse", r]), "{r}");
    }
    let merge = a.git(&["log", "-1", "--format=%an <%ae> %P", &full]);
    assert!(merge.starts_with("pitboss <pitboss@localhost> "), "{merge}");
    let parents: Vec<&str> = merge.split_whitespace().skip(2).collect();
    assert_eq!(parents.len(), 2, "{merge}");
    assert!(parents[0] < parents[1], "parents ordered by id: {merge}");
    for sb in [&a, &b] {
        assert_eq!(sb.records(&run).len(), 3);
        records_name_only_present_commits(sb, &run);
        for f in ["a.txt", "b.txt"] {
            sb.git(&["cat-file", "-e", &format!("{full}:{f}")]);
        }
    }
}

#[test]
fn two_clones_resume_the_same_run_and_sync_a_first() {
    resume_on_two_clones_then_sync(true);
}

#[test]
fn two_clones_resume_the_same_run_and_sync_b_first() {
    resume_on_two_clones_then_sync(false);
}

#[test]
fn a_code_conflict_fails_every_sync_until_merged_by_hand() {
    let bare = Bare::new();
    let url = bare.path_url();
    let (a, b, _c, run) = team(&url);
    let full = format!("refs/heads/pitboss/{run}");
    let tracking = format!("refs/pitboss-remotes/origin/heads/pitboss/{run}");
    b.ok(&["fetch"], "");
    let pa = project(&a, "clash");
    let pb = project(&b, "clash");
    assert_eq!(grind(&a, "a", &pa, Some(&run)).status.code(), Some(0));
    assert_eq!(grind(&b, "b", &pb, Some(&run)).status.code(), Some(0));
    a.ok(&["sync"], "");
    let run_tip = b.git(&["rev-parse", &format!("refs/pitboss/grind/{run}")]);
    let code_tip = b.git(&["rev-parse", &full]);
    for _ in 0..2 {
        let out = b.git_pitboss().args(["sync"]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let said = stdout(&out);
        assert!(
            said.contains(&format!(
                "conflict   run {run}: code diverged (conflicts in shared.txt); nothing merged"
            )),
            "{said}"
        );
        let err = stderr(&out);
        // The last word names what resolves the conflict, never the sync that just failed.
        let last = err.lines().last().unwrap_or_default();
        assert!(
            last.contains(&format!("merge {tracking} into pitboss/{run} by hand")),
            "{err}"
        );
        assert!(!err.contains("merges diverged runs"), "{err}");
        assert!(err.contains(&format!("git merge {tracking}")), "{err}");
        // The run finished, so no slot has the branch: the user's checkout can switch to it.
        assert!(
            err.contains(&format!("\n  git switch pitboss/{run}\n")),
            "{err}"
        );
        // Nothing merged: the history and the code are as they were; the remote's tip waits.
        assert_eq!(
            b.git(&["rev-parse", &format!("refs/pitboss/grind/{run}")]),
            run_tip
        );
        assert_eq!(b.git(&["rev-parse", &full]), code_tip);
        assert_eq!(
            b.git(&["rev-parse", &tracking]),
            a.git(&["rev-parse", &full])
        );
    }
    // By hand, as the hint says.
    let wt = b.repo.clone();
    b.git(&["switch", "-q", &format!("pitboss/{run}")]);
    let merged = b.git_output_in(&wt, &["merge", "-q", &tracking]);
    assert!(!merged.status.success());
    std::fs::write(wt.join("shared.txt"), "a and b\n").unwrap();
    b.git_in(&wt, &["commit", "-q", "-am", "merge by hand"]);
    let out = b.git_pitboss().args(["sync"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = a.git_pitboss().args(["sync"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(a.git(&["rev-parse", &full]), b.git(&["rev-parse", &full]));
    assert_eq!(
        a.git(&["rev-parse", &format!("refs/pitboss/grind/{run}")]),
        b.git(&["rev-parse", &format!("refs/pitboss/grind/{run}")])
    );
    records_name_only_present_commits(&a, &run);
}

#[test]
fn a_run_deleted_on_the_remote_stays_deleted() {
    let bare = Bare::new();
    let url = bare.path_url();
    let (a, b, c, run) = team(&url);
    b.ok(&["fetch"], "");
    c.ok(&["fetch"], "");
    a.ok(&["rm", &run, "--remote", "origin"], "");
    assert!(!bare.runs().contains(&run));

    for sb in [&b, &c] {
        let out = sb.git_pitboss().args(["fetch"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("run {run} is no longer on origin: deleted there")),
            "{}",
            stderr(&out)
        );
        let out = sb.git_pitboss().args(["sync"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("not pushing run {run}: it was deleted on origin")),
            "{}",
            stderr(&out)
        );
        sb.ok(&["push"], "");
        assert!(!bare.runs().contains(&run), "pushed back");
        let ls = sb.ok(&["ls", "--remote"], "");
        assert!(ls.contains("deleted on origin"), "{ls}");
        let out = sb.git_pitboss().args(["ls"]).output().unwrap();
        assert!(
            stderr(&out).contains(&format!("run {run} was deleted on origin")),
            "{}",
            stderr(&out)
        );
    }
    // Naming it publishes it again, and says so; then it is an ordinary run again.
    let out = c.ok(&["push", &run], "");
    assert!(out.contains("pushed again because you named it"), "{out}");
    assert!(bare.runs().contains(&run));
    let ls = c.ok(&["ls", "--remote"], "");
    assert!(!ls.contains("deleted on origin"), "{ls}");
    let out = b.git_pitboss().args(["fetch"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ls = b.ok(&["ls", "--remote"], "");
    assert!(!ls.contains("deleted on origin"), "{ls}");
}

#[test]
fn sync_does_not_merge_a_history_whose_code_this_clone_lacks() {
    let bare = Bare::new();
    let url = bare.path_url();
    let (a, b, _c, run) = team(&url);
    b.ok(&["fetch"], "");
    let pa = project(&a, "own");
    let pb = project(&b, "own");
    assert_eq!(grind(&a, "a", &pa, Some(&run)).status.code(), Some(0));
    assert_eq!(grind(&b, "b", &pb, Some(&run)).status.code(), Some(0));
    // A publishes its sessions without the code they name.
    a.ok(&["push", "--no-branch"], "");
    let run_ref = format!("refs/pitboss/grind/{run}");
    let before = b.git(&["rev-parse", &run_ref]);
    let out = b.git_pitboss().args(["sync"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        said.contains("its sessions name code commits this repository does not have"),
        "{said}"
    );
    assert_eq!(b.git(&["rev-parse", &run_ref]), before);
    records_name_only_present_commits(&b, &run);
}

#[test]
fn a_stopped_runs_slot_follows_its_branch_when_fetch_moves_it() {
    let bare = Bare::new();
    let url = bare.path_url();
    let a = Sandbox::new();
    a.git(&["remote", "add", "origin", &url]);
    a.git(&["push", "-q", "origin", "main"]);
    let pa = project(&a, "own");
    // Session 1 lands, session 2 fails: the run stops and keeps its slot for --resume.
    let mut cmd = a.git_pitboss();
    cmd.args([
        "grind",
        "--json",
        "--consecutive-failure-limit",
        "1",
        "--prompts-dir",
    ])
    .arg(&pa)
    .envs([("CLONE", "a"), ("FAIL_AT", "2")]);
    let out = run_with_stdin(&mut cmd, "");
    // Exit 5: stopped by the failure limit.
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let run = a.only_run();
    let full = format!("refs/heads/pitboss/{run}");
    let slot = a.repo.join(format!(".git/pitboss/worktrees/{run}/0"));
    assert!(slot.is_dir(), "the stopped run keeps its slot");
    a.ok(&["push"], "");

    let b = Sandbox::clone_of(&url);
    b.ok(&["fetch"], "");
    let pb = project(&b, "own");
    let mut cmd = b.git_pitboss();
    cmd.args([
        "grind",
        "--json",
        "--resume",
        &run,
        "--max-iterations",
        "3",
        "--prompts-dir",
    ])
    .arg(&pb)
    .env("CLONE", "b");
    let out = run_with_stdin(&mut cmd, "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    b.ok(&["push"], "");

    // A's fetch moves the branch under its clean slot, and the slot follows.
    let said = a.ok(&["fetch"], "");
    assert!(
        said.contains(&format!("updated    branch {full}")),
        "{said}"
    );
    let tip = b.git(&["rev-parse", &full]);
    assert_eq!(a.git(&["rev-parse", &full]), tip);
    assert_eq!(a.git_in(&slot, &["rev-parse", "HEAD"]), tip);
    assert!(a.git_in(&slot, &["status", "--porcelain"]).is_empty());
    assert_eq!(
        std::fs::read_to_string(slot.join("b.txt")).unwrap(),
        "b session 3\n"
    );
    // And A's resume goes on from there.
    let mut cmd = a.git_pitboss();
    cmd.args([
        "grind",
        "--json",
        "--resume",
        &run,
        "--max-iterations",
        "4",
        "--prompts-dir",
    ])
    .arg(&pa)
    .env("CLONE", "a");
    let out = run_with_stdin(&mut cmd, "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let log = a.git(&["log", "--format=%s", &full]);
    assert!(
        log.starts_with("agent: a session 4\nagent: b session 3\nagent: a session 1\n"),
        "{log}"
    );
}
