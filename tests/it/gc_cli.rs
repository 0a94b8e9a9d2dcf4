//! `git pitboss gc`: the table of what runs left behind, the deletions it allows, and the
//! restore command printed for each, run in a shell.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

/// `git pitboss <args>` as users run it.
fn gp(sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Output {
    sb.git_pitboss()
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn gp_ok(sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = gp(sb, args, env);
    assert!(
        out.status.success(),
        "git pitboss {args:?} ({:?}): {}{}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// `gc --dry-run --json` as (kind, thing, action) rows, and the raw rows.
fn table(sb: &Sandbox, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["gc", "--dry-run", "--json"];
    args.extend_from_slice(extra);
    let v: Value = serde_json::from_str(&gp_ok(sb, &args, &[])).unwrap();
    assert_eq!(v["dry_run"], true);
    v["rows"].as_array().unwrap().clone()
}

fn row<'a>(rows: &'a [Value], thing: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["thing"] == thing)
        .unwrap_or_else(|| panic!("no row for {thing}: {rows:#?}"))
}

/// One finished run of one committing session, on a base of `main`; returns its id.
fn finished_run(sb: &Sandbox, dir: &Path) -> String {
    let before = run_ids(sb);
    let out = sb
        .pitboss()
        .args(["grind", "--prompts-dir", dir.to_str().unwrap()])
        .args(["--max-iterations", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ids: Vec<String> = run_ids(sb)
        .into_iter()
        .filter(|i| !before.contains(i))
        .collect();
    assert_eq!(ids.len(), 1);
    ids[0].clone()
}

fn run_ids(sb: &Sandbox) -> Vec<String> {
    sb.git(&[
        "for-each-ref",
        "--format=%(refname:lstrip=3)",
        "refs/pitboss/grind/",
    ])
    .lines()
    .map(str::to_string)
    .collect()
}

fn tip(sb: &Sandbox, r: &str) -> Option<String> {
    let out = sb.git_output_in(&sb.repo, &["rev-parse", "--verify", "-q", r]);
    out.status
        .success()
        .then(|| stdout(&out).trim().to_string())
}

/// Runs each `restore: <cmd>` line of gc's output in a shell, in reverse order.
fn restore_all(sb: &Sandbox, gc_out: &str) -> Vec<String> {
    let cmds: Vec<String> = gc_out
        .lines()
        .filter_map(|l| l.trim().strip_prefix("restore: git "))
        .map(|c| format!("git {c}"))
        .collect();
    for c in cmds.iter().rev() {
        let out = std::process::Command::new("sh")
            .args(["-c", c])
            .current_dir(&sb.repo)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", &sb.home)
            .output()
            .unwrap();
        assert!(out.status.success(), "{c}: {}", stderr(&out));
    }
    cmds
}

#[test]
fn branches_that_reached_main_by_merge_or_squash_go_and_unlanded_ones_stay() {
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("commit", "")]);
    sb.git(&["add", ".pitboss"]);
    sb.git(&["commit", "-q", "-m", "pitboss config"]);
    // Landed by a merge.
    let merged = finished_run(&sb, &dir);
    sb.git(&[
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "merge run",
        &format!("pitboss/{merged}"),
    ]);
    // Landed by a squash: the same patch, another commit.
    let squashed = finished_run(&sb, &dir);
    sb.git(&["merge", "-q", "--squash", &format!("pitboss/{squashed}")]);
    sb.git(&["commit", "-q", "-m", "squashed run"]);
    // Not landed at all.
    let open = finished_run(&sb, &dir);
    let tips: Vec<String> = [&merged, &squashed, &open]
        .iter()
        .map(|id| tip(&sb, &format!("refs/heads/pitboss/{id}")).unwrap())
        .collect();

    // A branch of the user's own in the same namespace is not gc's business.
    sb.git(&["branch", "pitboss/feature"]);

    let rows = table(&sb, &[]);
    assert!(
        !rows
            .iter()
            .any(|r| r["thing"] == "refs/heads/pitboss/feature")
    );
    let b = |id: &str| row(&rows, &format!("refs/heads/pitboss/{id}")).clone();
    assert_eq!(b(&merged)["action"], "delete");
    assert_eq!(b(&merged)["state"], "merged into main");
    assert_eq!(b(&squashed)["action"], "delete");
    assert_eq!(b(&squashed)["state"], "reached main: same patches");
    assert_eq!(b(&open)["action"], "keep");
    assert_eq!(b(&open)["state"], "1 commit nowhere else");
    assert!(
        b(&open)["reason"]
            .as_str()
            .unwrap()
            .starts_with("kept, always")
    );
    // The finished runs' working files go; no worktree is left by a finished run.
    for id in [&merged, &squashed, &open] {
        let files: Vec<&Value> = rows
            .iter()
            .filter(|r| r["kind"] == "files" && r["run"] == id.as_str())
            .collect();
        assert_eq!(files.len(), 1, "{rows:#?}");
        assert_eq!(files[0]["action"], "delete");
    }
    assert!(!rows.iter().any(|r| r["kind"] == "worktree"), "{rows:#?}");
    let deletable = rows.iter().filter(|r| r["action"] != "keep").count();
    assert_eq!(
        deletable, 5,
        "two branches and three runs' files: {rows:#?}"
    );
    // The dry run, in words, changed nothing.
    let human = gp(&sb, &["gc", "--dry-run"], &[]);
    assert!(human.status.success());
    let text = stdout(&human);
    assert!(
        text.lines().any(|l| l.starts_with("delete ")
            && l.contains(&format!("refs/heads/pitboss/{squashed}"))
            && l.contains("reached main: same patches")),
        "{text}"
    );
    assert!(
        stderr(&human).contains("5 of 6 would be deleted"),
        "{}",
        stderr(&human)
    );
    // Into one stream (a terminal, `2>&1`): the count comes under the table, and names the
    // command that deletes what this table shows, flags and all.
    let mut sh = std::process::Command::new("sh");
    sh.args([
        "-c",
        "git pitboss gc --dry-run --stopped --target main 2>&1",
    ])
    .current_dir(&sb.repo);
    for (k, v) in sb.git_pitboss().get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    let both = sh.output().unwrap();
    let both = stdout(&both);
    let last = both.lines().last().unwrap_or_default();
    assert!(both.starts_with("ACTION"), "{both}");
    assert_eq!(
        last, "5 of 6 would be deleted; `git pitboss gc --stopped --target main` deletes them",
        "{both}"
    );
    assert!(tip(&sb, &format!("refs/heads/pitboss/{merged}")).is_some());
    assert!(
        sb.repo
            .join(format!(".git/pitboss/locks/{merged}.lock"))
            .is_file()
    );

    // The real thing: exactly the safe rows go, each with its restore command.
    let out = gp_ok(&sb, &["gc"], &[]);
    assert_eq!(tip(&sb, &format!("refs/heads/pitboss/{merged}")), None);
    assert_eq!(tip(&sb, &format!("refs/heads/pitboss/{squashed}")), None);
    assert_eq!(
        tip(&sb, &format!("refs/heads/pitboss/{open}")),
        Some(tips[2].clone())
    );
    for id in [&merged, &squashed, &open] {
        assert!(!sb.repo.join(format!(".git/pitboss/runs/{id}")).exists());
        assert!(
            !sb.repo
                .join(format!(".git/pitboss/locks/{id}.lock"))
                .exists()
        );
        assert!(
            tip(&sb, &format!("refs/pitboss/grind/{id}")).is_some(),
            "runs stay"
        );
    }
    // (rows come in ref-name order; two runs started in the same second sort by their suffix)
    let mut restores = restore_all(&sb, &out);
    restores.sort();
    let mut want = vec![
        format!("git branch pitboss/{merged} {}", tips[0]),
        format!("git branch pitboss/{squashed} {}", tips[1]),
    ];
    want.sort();
    assert_eq!(restores, want, "{out}");
    assert_eq!(
        tip(&sb, &format!("refs/heads/pitboss/{merged}")),
        Some(tips[0].clone())
    );
    assert_eq!(
        tip(&sb, &format!("refs/heads/pitboss/{squashed}")),
        Some(tips[1].clone())
    );
    // A second gc finds the same branches again, and nothing else.
    let again = table(&sb, &[]);
    assert_eq!(
        again.iter().filter(|r| r["action"] != "keep").count(),
        2,
        "{again:#?}"
    );
    // A branch checked out in the user's checkout stays.
    sb.git(&["checkout", "-q", &format!("pitboss/{merged}")]);
    let rows = table(&sb, &[]);
    let b = row(&rows, &format!("refs/heads/pitboss/{merged}"));
    assert_eq!(b["action"], "keep");
    assert!(
        b["reason"]
            .as_str()
            .unwrap()
            .starts_with("it is checked out in "),
        "{b:#}"
    );
}

/// A run stopped by Ctrl-C in its first session: it keeps its worktree for `--resume`.
fn aborted_run(sb: &Sandbox) -> (String, PathBuf) {
    let dir = sb.agent_project(&[("sleep", "")]);
    let child = sb.grind_spawn(&dir, &["--max-iterations", "3"], &[("AGENT_SLEEP", "1")]);
    let (run, _, _) = sb.wait_for_agent(Duration::from_secs(20));
    kill(child.id(), "INT");
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(2));
    let wt = sb.repo.join(format!(".git/pitboss/worktrees/{run}/0"));
    assert!(wt.is_dir());
    (run, wt)
}

#[test]
fn stopped_runs_keep_their_worktree_and_force_saves_uncommitted_work_first() {
    let sb = Sandbox::new();
    let (run, wt) = aborted_run(&sb);
    let wt_s = wt.canonicalize().unwrap().display().to_string();
    let find = |rows: &[Value], kind: &str| -> Value {
        rows.iter()
            .find(|r| r["kind"] == kind && r["run"] == run.as_str())
            .unwrap_or_else(|| panic!("no {kind} row: {rows:#?}"))
            .clone()
    };
    // Kept for --resume: the worktree, the working files and the branch.
    let rows = table(&sb, &[]);
    for kind in ["worktree", "files", "branch"] {
        let r = find(&rows, kind);
        assert_eq!(r["action"], "keep", "{r:#}");
        assert!(r["reason"].as_str().unwrap().contains("--resume"), "{r:#}");
    }
    // --stopped lets a clean one go; uncommitted work keeps it unless --force.
    assert_eq!(
        find(&table(&sb, &["--stopped"]), "worktree")["action"],
        "delete"
    );
    // A worktree locked with `git worktree lock` stays (git would not prune it either).
    sb.git(&["worktree", "lock", &wt_s]);
    let r = find(&table(&sb, &["--stopped"]), "worktree");
    assert_eq!(r["action"], "keep", "{r:#}");
    assert!(
        r["reason"].as_str().unwrap().starts_with("it is locked"),
        "{r:#}"
    );
    sb.git(&["worktree", "unlock", &wt_s]);
    std::fs::write(wt.join("precious.txt"), "not committed\n").unwrap();
    let r = find(&table(&sb, &["--stopped"]), "worktree");
    assert_eq!(
        (r["action"].as_str(), r["state"].as_str()),
        (Some("keep"), Some("run aborted, uncommitted work"))
    );
    let out = gp(&sb, &["gc", "--stopped"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(wt.join("precious.txt").is_file(), "kept without --force");
    assert_eq!(
        find(&table(&sb, &["--stopped", "--force"]), "worktree")["action"],
        "save-and-delete"
    );

    let out = gp_ok(&sb, &["gc", "--stopped", "--force"], &[]);
    assert!(!wt.exists(), "{out}");
    let saved = sb.git(&[
        "show",
        &format!("refs/pitboss/grind/{run}:patches/00/resume-0002.patch"),
    ]);
    assert!(saved.contains("+not committed"), "{saved}");
    let restore = format!(
        "git worktree add -f {wt_s} pitboss/{run} && git show refs/pitboss/grind/{run}:patches/00/resume-0002.patch | git -C {wt_s} apply"
    );
    // Its session's commit is on no other branch and did not reach main: the branch is kept,
    // whatever the flags.
    let branch = format!("refs/heads/pitboss/{run}");
    let b = row(&table(&sb, &["--stopped", "--force"]), &branch).clone();
    assert_eq!(
        (b["action"].as_str(), b["state"].as_str()),
        (Some("keep"), Some("1 commit nowhere else")),
        "{b:#}"
    );
    assert_eq!(
        b["reason"],
        "kept, always: 1 of the run's commits is not on main, and no session that reached main made it (session 1 has not reached main)",
        "{b:#}"
    );
    assert!(tip(&sb, &branch).is_some());
    let restores = restore_all(&sb, &out);
    assert!(restores.contains(&restore), "{out}");
    assert_eq!(restores.len(), 1, "{out}");
    assert_eq!(
        std::fs::read_to_string(wt.join("precious.txt")).unwrap(),
        "not committed\n"
    );
    // Once the run is deleted, work in its worktree has nowhere to be saved: kept, even with
    // --force; a clean one goes.
    gp_ok(&sb, &["rm", &run], &[]);
    let r = find(&table(&sb, &["--force"]), "worktree");
    assert_eq!(r["action"], "keep", "{r:#}");
    assert!(
        r["reason"].as_str().unwrap().contains("nowhere to save it"),
        "{r:#}"
    );
    std::fs::remove_file(wt.join("precious.txt")).unwrap();
    let r = find(&table(&sb, &[]), "worktree");
    assert_eq!(
        (r["action"].as_str(), r["state"].as_str()),
        (Some("delete"), Some("run deleted, clean"))
    );
}

#[test]
fn a_worktree_put_back_by_its_restore_command_is_the_runs_own_again() {
    let sb = Sandbox::new();
    let (run, wt) = aborted_run(&sb);
    std::fs::write(wt.join("precious.txt"), "not committed\n").unwrap();
    let out = gp_ok(&sb, &["gc", "--stopped", "--force"], &[]);
    assert!(!wt.exists(), "{out}");
    restore_all(&sb, &out);
    assert!(wt.join("precious.txt").is_file());
    // git names the worktree after its directory (`0`), not `pitboss-<id>-0`: it is still the
    // run's own. `worktree ls` lists it, and `--resume` takes the run up in it instead of
    // refusing "its branch is checked out" there.
    let ls = gp_ok(&sb, &["worktree", "ls"], &[]);
    assert!(ls.contains(&run), "{ls}");
    let dir = sb.path("prompts");
    let out = gp(
        &sb,
        &[
            "grind",
            "--resume",
            &run,
            "--prompts-dir",
            dir.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Its work was saved in the run before the slot was used again, and the finished run's
    // worktree is gone with its registration.
    let saved = sb.git(&[
        "show",
        &format!("refs/pitboss/grind/{run}:patches/00/resume-0002.patch"),
    ]);
    assert!(saved.contains("+not committed"), "{saved}");
    assert!(!wt.exists());
    assert_eq!(
        sb.git(&["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        1
    );
}

#[test]
fn a_worktree_whose_head_has_commits_on_no_ref_stays_even_with_force() {
    let sb = Sandbox::new();
    let (run, wt) = aborted_run(&sb);
    let wt_s = wt.canonicalize().unwrap().display().to_string();
    let git_wt = |args: &[&str]| {
        let mut all = vec!["-C", wt_s.as_str()];
        all.extend_from_slice(args);
        sb.git(&all)
    };
    git_wt(&["switch", "-q", "--detach"]);
    std::fs::write(wt.join("detached.txt"), "committed on a detached HEAD\n").unwrap();
    git_wt(&["add", "detached.txt"]);
    git_wt(&["commit", "-q", "-m", "work on no branch"]);
    let commit = git_wt(&["rev-parse", "HEAD"]).trim().to_string();
    let rows = table(&sb, &["--stopped", "--force"]);
    let r = rows
        .iter()
        .find(|r| r["kind"] == "worktree" && r["run"] == run.as_str())
        .unwrap();
    assert_eq!(r["action"], "keep", "{r:#}");
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .starts_with("kept, always: its HEAD has 1 commit on no branch or tag"),
        "{r:#}"
    );
    gp_ok(&sb, &["gc", "--stopped", "--force"], &[]);
    assert!(wt.is_dir());
    // Still reachable: the worktree's HEAD holds it.
    assert_eq!(git_wt(&["rev-parse", "HEAD"]).trim(), commit);
    // On a remote-tracking ref only (maybe stale; a pruning fetch drops it), it is not.
    sb.git(&["update-ref", "refs/remotes/origin/stale", &commit]);
    let rows = table(&sb, &["--stopped", "--force"]);
    let r = rows
        .iter()
        .find(|r| r["kind"] == "worktree" && r["run"] == run.as_str())
        .unwrap();
    assert_eq!(r["action"], "keep", "{r:#}");
    // On a branch, it is somewhere else: the worktree may go (its branch stays).
    git_wt(&["branch", "keep-it"]);
    let rows = table(&sb, &["--stopped", "--force"]);
    let r = rows
        .iter()
        .find(|r| r["kind"] == "worktree" && r["run"] == run.as_str())
        .unwrap();
    assert_eq!(r["action"], "save-and-delete", "{r:#}");
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .starts_with("--force: what it holds (a detached HEAD) is saved"),
        "{r:#}"
    );
}

#[test]
fn a_running_grind_keeps_everything_of_its_run() {
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("sleep", "")]);
    let mut child = sb.grind_spawn(&dir, &["--max-iterations", "1"], &[("AGENT_SLEEP", "30")]);
    let (run, _, agent) = sb.wait_for_agent(Duration::from_secs(20));
    let wt = sb.repo.join(format!(".git/pitboss/worktrees/{run}/0"));
    std::fs::write(wt.join("wip.txt"), "the agent is writing\n").unwrap();
    let rows = table(&sb, &["--stopped", "--force"]);
    let mine: Vec<&Value> = rows.iter().filter(|r| r["run"] == run.as_str()).collect();
    assert_eq!(mine.len(), 3, "worktree, files, branch: {rows:#?}");
    for r in &mine {
        assert_eq!(r["action"], "keep", "{r:#}");
        let pid = child.id().to_string();
        assert!(
            r["reason"]
                .as_str()
                .unwrap()
                .contains(&format!("a grind is running it (process {pid})")),
            "{r:#}"
        );
    }
    let out = gp(&sb, &["gc", "--stopped", "--force"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("nothing deleted"), "{}", stderr(&out));
    assert!(wt.join("wip.txt").is_file());
    assert!(
        sb.repo
            .join(format!(".git/pitboss/runs/{run}/current.json"))
            .is_file()
    );
    assert!(
        sb.repo
            .join(format!(".git/pitboss/locks/{run}.lock"))
            .is_file()
    );
    assert!(tip(&sb, &format!("refs/heads/pitboss/{run}")).is_some());
    kill(child.id(), "INT");
    kill(agent, "KILL");
    let _ = child.wait();
}

#[test]
fn old_tombstones_and_markers_of_runs_gone_everywhere_go_and_come_back() {
    let sb = Sandbox::new();
    let remote = crate::support::remote::Bare::new();
    sb.git(&["remote", "add", "origin", &remote.path_url()]);
    let record = record_json("p", "ok", Some("s"));
    for id in ["r-old", "r-new", "r-gone"] {
        sb.ok(&["record", id, "--create"], &record);
    }
    sb.ok(&["push", "origin", "r-gone"], "");
    gp_ok(
        &sb,
        &["rm", "r-old"],
        &[("PITBOSS_NOW", "2026-01-01T00:00:00Z")],
    );
    gp_ok(
        &sb,
        &["rm", "r-new"],
        &[("PITBOSS_NOW", "2026-11-20T00:00:00Z")],
    );
    // Deleted on the remote: the fetch leaves a marker while the run is still here.
    remote.git(&["update-ref", "-d", "refs/pitboss/grind/r-gone"]);
    sb.ok(&["fetch", "origin"], "");
    let marker = "refs/pitboss-remotes/origin/gone/r-gone";
    assert!(tip(&sb, marker).is_some());

    let now = [("PITBOSS_NOW", "2026-11-24T00:00:00Z")];
    let dry = |extra: &[&str]| -> Vec<Value> {
        let mut args = vec!["gc", "--dry-run", "--json"];
        args.extend_from_slice(extra);
        let v: Value = serde_json::from_str(&gp_ok(&sb, &args, &now)).unwrap();
        v["rows"].as_array().unwrap().clone()
    };
    let rows = dry(&[]);
    assert_eq!(
        row(&rows, marker)["action"],
        "keep",
        "the run is here: {rows:#?}"
    );
    assert_eq!(
        row(&rows, "refs/pitboss-tombstones/grind/r-old")["action"],
        "keep"
    );
    let rows = dry(&["--tombstones-older-than", "30d"]);
    let old = row(&rows, "refs/pitboss-tombstones/grind/r-old");
    assert_eq!(
        (old["action"].as_str(), old["state"].as_str()),
        (Some("delete"), Some("deleted 327d ago"))
    );
    assert_eq!(
        row(&rows, "refs/pitboss-tombstones/grind/r-new")["action"],
        "keep"
    );
    // With the run deleted here too, its marker has nothing left to guard.
    gp_ok(&sb, &["rm", "r-gone"], &now);
    assert_eq!(row(&dry(&[]), marker)["action"], "delete");

    let before = (
        tip(&sb, marker).unwrap(),
        tip(&sb, "refs/pitboss-tombstones/grind/r-old").unwrap(),
    );
    // With --json, stdout is one JSON document; the deletions and restore commands go to
    // stderr as they happen.
    let out = gp(
        &sb,
        &["gc", "--json", "--tombstones-older-than", "30d"],
        &now,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["dry_run"], false);
    let deleted: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["deleted"] == true)
        .map(|r| r["thing"].as_str().unwrap())
        .collect();
    // `rm` took each run's lock: the lock files of the deleted runs go too.
    let locks = |id: &str| sb.repo.join(format!(".git/pitboss/locks/{id}.lock"));
    let mut want = vec![];
    for id in ["r-gone", "r-new", "r-old"] {
        assert!(!locks(id).exists());
        want.push(locks(id).display().to_string());
    }
    want.extend([
        marker.to_string(),
        "refs/pitboss-tombstones/grind/r-old".into(),
    ]);
    assert_eq!(deleted, want);
    assert_eq!(tip(&sb, marker), None);
    assert_eq!(tip(&sb, "refs/pitboss-tombstones/grind/r-old"), None);
    assert!(tip(&sb, "refs/pitboss-tombstones/grind/r-new").is_some());
    assert_eq!(restore_all(&sb, &stderr(&out)).len(), 2, "{}", stderr(&out));
    assert_eq!(tip(&sb, marker), Some(before.0));
    assert_eq!(
        tip(&sb, "refs/pitboss-tombstones/grind/r-old"),
        Some(before.1)
    );
    // A bad age is refused before anything is looked at.
    let bad = gp(&sb, &["gc", "--tombstones-older-than", "soon"], &[]);
    assert_eq!(bad.status.code(), Some(4), "{}", stderr(&bad));
}

#[test]
fn remote_copies_of_refused_runs_go_only_when_their_commits_are_elsewhere() {
    let sb = Sandbox::new();
    let remote = crate::support::remote::Bare::new();
    sb.git(&["remote", "add", "origin", &remote.path_url()]);
    // Two "runs" the fetch refuses (plain commits, not runs), with branches: one at main's
    // tip, one at a commit only the remote has.
    sb.git(&[
        "push",
        "-q",
        "origin",
        "main",
        "main:refs/heads/pitboss/20261124T100000Z-0bad",
        "main:refs/pitboss/grind/20261124T100000Z-0bad",
        "main:refs/pitboss/grind/20261124T100000Z-1057",
    ]);
    std::fs::write(sb.repo.join("g"), "x\n").unwrap();
    sb.git(&["add", "g"]);
    sb.git(&["commit", "-q", "-m", "only on the remote"]);
    sb.git(&[
        "push",
        "-q",
        "origin",
        "HEAD:refs/heads/pitboss/20261124T100000Z-1057",
    ]);
    sb.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let out = gp(&sb, &["fetch", "origin"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("refused"), "{}", stdout(&out));
    // With --pushed, the remote's branch, as `git ls-remote` lists it now, is another place
    // the commit is; git's own copy of it (a remote-tracking ref, maybe stale) never is.
    let git_copy = "refs/remotes/origin/pitboss/20261124T100000Z-1057";
    assert!(tip(&sb, git_copy).is_some());
    let rows = table(&sb, &["--pushed"]);
    let lost = row(
        &rows,
        "refs/pitboss-remotes/origin/heads/pitboss/20261124T100000Z-1057",
    );
    assert_eq!(lost["action"], "delete", "{lost:#}");
    assert!(
        lost["reason"]
            .as_str()
            .unwrap()
            .ends_with("every commit is on refs/heads/pitboss/20261124T100000Z-1057 on origin"),
        "{lost:#}"
    );
    let rows = table(&sb, &[]);
    let bad = row(
        &rows,
        "refs/pitboss-remotes/origin/heads/pitboss/20261124T100000Z-0bad",
    );
    assert_eq!(
        (bad["action"].as_str(), bad["state"].as_str()),
        (Some("delete"), Some("on other branches")),
        "{bad:#}"
    );
    let lost = row(
        &rows,
        "refs/pitboss-remotes/origin/heads/pitboss/20261124T100000Z-1057",
    );
    assert_eq!(
        (lost["action"].as_str(), lost["state"].as_str()),
        (Some("keep"), Some("1 commit nowhere else")),
        "{lost:#}"
    );
    let lost_tip = tip(
        &sb,
        "refs/pitboss-remotes/origin/heads/pitboss/20261124T100000Z-1057",
    );
    let out = gp_ok(&sb, &["gc"], &[]);
    assert_eq!(
        tip(
            &sb,
            "refs/pitboss-remotes/origin/heads/pitboss/20261124T100000Z-0bad"
        ),
        None
    );
    assert_eq!(
        tip(
            &sb,
            "refs/pitboss-remotes/origin/heads/pitboss/20261124T100000Z-1057"
        ),
        lost_tip
    );
    assert_eq!(restore_all(&sb, &out).len(), 1, "{out}");
    assert!(
        tip(
            &sb,
            "refs/pitboss-remotes/origin/heads/pitboss/20261124T100000Z-0bad"
        )
        .is_some()
    );
}
