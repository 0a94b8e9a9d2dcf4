//! `git pitboss gc` deletes a run branch only when its work reached the target: not because
//! pitboss' own refs (slot branches) hold its commits, not because a mode-only change looks
//! "applied", not because a push put it on a remote (unless `--pushed`, and then only what the
//! remote has now), and a branch it deleted is not brought back by the next `fetch` unless the
//! remote's copy moved on. Real repositories, real bare remotes, real grinds.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::support::remote::Bare;
use crate::support::*;

fn gp(sb: &Sandbox, args: &[&str]) -> Output {
    sb.git_pitboss().args(args).output().unwrap()
}

fn gp_ok(sb: &Sandbox, args: &[&str]) -> String {
    let out = gp(sb, args);
    assert!(
        out.status.success(),
        "git pitboss {args:?} ({:?}): {}{}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// The `gc --dry-run --json` row of the run branch of `id`.
fn branch_row(sb: &Sandbox, id: &str, extra: &[&str]) -> Value {
    let mut args = vec!["gc", "--dry-run", "--json"];
    args.extend_from_slice(extra);
    let v: Value = serde_json::from_str(&gp_ok(sb, &args)).unwrap();
    let name = format!("refs/heads/pitboss/{id}");
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["thing"] == name.as_str())
        .unwrap_or_else(|| panic!("no row for {name}: {v:#}"))
        .clone()
}

/// Every row of `gc --dry-run --json`.
fn table(sb: &Sandbox, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["gc", "--dry-run", "--json"];
    args.extend_from_slice(extra);
    let v: Value = serde_json::from_str(&gp_ok(sb, &args)).unwrap();
    v["rows"].as_array().unwrap().clone()
}

fn row<'a>(rows: &'a [Value], thing: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["thing"] == thing)
        .unwrap_or_else(|| panic!("no row for {thing}: {rows:#?}"))
}

fn tip(sb: &Sandbox, r: &str) -> Option<String> {
    let out = sb.git_output_in(&sb.repo, &["rev-parse", "--verify", "-q", r]);
    out.status
        .success()
        .then(|| stdout(&out).trim().to_string())
}

/// A project whose agent commits one line per session, its config committed on `main`.
fn project(sb: &Sandbox) -> std::path::PathBuf {
    let dir = sb.agent_project(&[("commit", "")]);
    sb.git(&["add", ".pitboss"]);
    sb.git(&["commit", "-q", "-m", "pitboss config"]);
    dir
}

/// One finished run of one session on a base of `main`; its id.
fn finished_run(sb: &Sandbox, dir: &Path) -> String {
    let out = sb
        .pitboss()
        .args(["grind", "--prompts-dir", dir.to_str().unwrap()])
        .args(["--max-iterations", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ids = sb.git(&[
        "for-each-ref",
        "--sort=-refname",
        "--format=%(refname:lstrip=3)",
        "refs/pitboss/grind/",
    ]);
    ids.lines().next().unwrap().to_string()
}

/// A sandbox with a bare `origin` and one finished, unlanded run pushed there.
fn pushed_run() -> (Sandbox, Bare, String) {
    let sb = Sandbox::new();
    let remote = Bare::new();
    sb.git(&["remote", "add", "origin", &remote.path_url()]);
    let dir = project(&sb);
    sb.git(&["push", "-q", "origin", "main"]);
    let id = finished_run(&sb, &dir);
    gp_ok(&sb, &["push", "origin", &id]);
    (sb, remote, id)
}

#[test]
fn slot_branches_are_pitboss_own_and_never_let_a_run_branch_go() {
    let sb = Sandbox::new();
    let dir = project(&sb);
    let id = finished_run(&sb, &dir);
    let branch = format!("pitboss/{id}");
    // What a parallel run's slot leaves behind: its branch, at the run branch's tip.
    sb.git(&["branch", &format!("pitboss-slot/{id}/1"), &branch]);
    let b = branch_row(&sb, &id, &["--stopped"]);
    assert_eq!(b["action"], "keep", "{b:#}");
    assert_eq!(b["state"], "1 commit nowhere else", "{b:#}");
    // The slot branch is gc's to show: its commits are on the run branch, so it may go.
    let slot = format!("refs/heads/pitboss-slot/{id}/1");
    let rows = table(&sb, &["--stopped"]);
    let s = row(&rows, &slot);
    assert_eq!(s["action"], "delete", "{s:#}");
    assert!(
        s["reason"]
            .as_str()
            .unwrap()
            .ends_with(&format!("every commit is on refs/heads/{branch}")),
        "{s:#}"
    );
    let before = tip(&sb, &branch);
    let out = gp_ok(&sb, &["gc", "--stopped"]);
    assert_eq!(tip(&sb, &branch), before);
    assert_eq!(tip(&sb, &slot), None, "{out}");
    // A slot branch with a commit of its own (a session cut before it landed) stays.
    sb.git(&["branch", &format!("pitboss-slot/{id}/2"), &branch]);
    sb.git(&["checkout", "-q", &format!("pitboss-slot/{id}/2")]);
    std::fs::write(sb.repo.join("cut.txt"), "cut\n").unwrap();
    sb.git(&["add", "cut.txt"]);
    sb.git(&["commit", "-q", "-m", "work of a cut session"]);
    sb.git(&["checkout", "-q", "main"]);
    let rows = table(&sb, &["--stopped"]);
    let s = row(&rows, &format!("refs/heads/pitboss-slot/{id}/2"));
    assert_eq!(s["action"], "keep", "{s:#}");
    assert_eq!(s["state"], "1 commit nowhere else", "{s:#}");
}

#[test]
fn a_session_that_only_changed_a_file_mode_has_not_reached_main() {
    let sb = Sandbox::new();
    let dir = project(&sb);
    std::fs::write(sb.repo.join("tool.sh"), "echo hi\n").unwrap();
    sb.git(&["add", "tool.sh"]);
    sb.git(&["commit", "-q", "-m", "a script, not executable yet"]);
    // An agent whose whole change is `chmod +x`: same blob, another mode.
    std::fs::write(
        sb.path("agent.sh"),
        "#!/bin/sh\nchmod +x tool.sh\ngit add tool.sh && git commit -q -m 'agent: make tool.sh executable'\n\
         echo 'made it executable' > \"$PITBOSS_SUMMARY_FILE\"\n",
    )
    .unwrap();
    let id = finished_run(&sb, &dir);
    let branch = format!("refs/heads/pitboss/{id}");
    let changed = sb.git(&["diff", "--summary", "main", &branch]);
    assert!(
        changed.contains("mode change 100644 => 100755"),
        "{changed}"
    );
    let row = branch_row(&sb, &id, &[]);
    assert_eq!(row["action"], "keep", "{row:#}");
    assert_eq!(row["state"], "1 commit nowhere else", "{row:#}");
    // Once main has the mode too, the work reached it.
    sb.git(&["update-index", "--chmod=+x", "tool.sh"]);
    sb.git(&["commit", "-q", "-m", "tool.sh is executable"]);
    let row = branch_row(&sb, &id, &[]);
    assert_eq!(row["action"], "delete", "{row:#}");
    assert_eq!(row["state"], "reached main: same patches", "{row:#}");
}

#[test]
fn a_pushed_branch_that_did_not_land_stays_unless_pushed_is_given() {
    let (sb, remote, id) = pushed_run();
    let branch = format!("refs/heads/pitboss/{id}");
    let run_tip = tip(&sb, &branch).unwrap();
    // The push left git's own remote-tracking copy: the commits are "on a remote".
    assert_eq!(
        tip(&sb, &format!("refs/remotes/origin/pitboss/{id}")),
        Some(run_tip.clone())
    );
    let row = branch_row(&sb, &id, &[]);
    assert_eq!(row["action"], "keep", "pushed is not landed: {row:#}");
    assert!(
        row["reason"].as_str().unwrap().contains("--pushed"),
        "{row:#}"
    );
    gp_ok(&sb, &["gc"]);
    assert_eq!(tip(&sb, &branch), Some(run_tip.clone()));

    // --pushed lets it go: the remote has every commit, as `git ls-remote` says now.
    let row = branch_row(&sb, &id, &["--pushed"]);
    assert_eq!(row["action"], "delete", "{row:#}");
    let out = gp_ok(&sb, &["gc", "--pushed"]);
    assert!(
        out.contains(&format!("restore: git branch pitboss/{id} {run_tip}")),
        "{out}"
    );
    assert_eq!(tip(&sb, &branch), None);
    assert!(remote.git(&["rev-parse", &branch]).starts_with(&run_tip));

    // The review says what happened: not "deleted after it landed".
    let text = gp_ok(&sb, &["review", &id]);
    assert!(!text.contains("after it landed"), "{text}");
    assert!(text.contains("has not reached main"), "{text}");

    // And the next fetch does not undo the gc.
    gp_ok(&sb, &["fetch", "origin"]);
    assert_eq!(tip(&sb, &branch), None);

    // pr says why the branch is gone, without claiming the work landed.
    let said = stderr(&gp(&sb, &["pr", &id]));
    assert!(said.contains("(pushed, not landed)"), "{said}");
    assert!(!said.contains("reached the target"), "{said}");
    assert!(
        said.contains(&format!("git branch pitboss/{id} {run_tip}")),
        "{said}"
    );
}

#[test]
fn a_branch_only_on_a_stale_remote_tracking_ref_is_nowhere_else() {
    let (sb, remote, id) = pushed_run();
    let branch = format!("refs/heads/pitboss/{id}");
    let run_tip = tip(&sb, &branch).unwrap();
    // The remote's branch is deleted (a closed pull request); the tracking ref stays stale.
    remote.git(&["update-ref", "-d", &branch]);
    assert_eq!(
        tip(&sb, &format!("refs/remotes/origin/pitboss/{id}")),
        Some(run_tip.clone())
    );
    for flags in [&[][..], &["--pushed"][..]] {
        let row = branch_row(&sb, &id, flags);
        assert_eq!(row["action"], "keep", "{flags:?}: {row:#}");
        // The stale tracking ref still has it: "pushed", never "nowhere else" beside it.
        let state = if flags.is_empty() {
            "1 commit on no local branch (pushed)"
        } else {
            "1 commit nowhere else"
        };
        assert_eq!(row["state"], state, "{flags:?}: {row:#}");
        let mut args = vec!["gc"];
        args.extend_from_slice(flags);
        gp_ok(&sb, &args);
        assert_eq!(tip(&sb, &branch), Some(run_tip.clone()), "{flags:?}");
    }
}

#[test]
fn a_branch_gc_deleted_after_it_landed_comes_back_only_when_the_remote_moves_on() {
    let (sb, remote, id) = pushed_run();
    let short = format!("pitboss/{id}");
    let branch = format!("refs/heads/{short}");
    sb.git(&["merge", "-q", "--no-ff", "-m", "merge the run", &short]);
    let out = gp_ok(&sb, &["gc"]);
    assert!(out.contains(&format!("deleted branch {branch}")), "{out}");
    assert_eq!(tip(&sb, &branch), None);

    // The remote still has the branch, at the tip gc deleted: fetch leaves it deleted.
    let fetched = gp_ok(&sb, &["fetch", "origin"]);
    assert_eq!(tip(&sb, &branch), None, "{fetched}");
    let review = gp_ok(&sb, &["review", &id]);
    assert!(review.contains("deleted after it landed"), "{review}");

    // Someone adds to the remote's branch: the next fetch brings the branch back.
    let work = tempfile::tempdir().unwrap();
    let clone = work.path().join("c");
    let ok = std::process::Command::new("git")
        .args(["clone", "-q", "-b", &short, &remote.path_url()])
        .arg(&clone)
        .status()
        .unwrap();
    assert!(ok.success());
    std::fs::write(clone.join("more.txt"), "more\n").unwrap();
    for args in [
        &["add", "more.txt"][..],
        &[
            "-c",
            "user.name=T",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-q",
            "-m",
            "more work",
        ],
        &["push", "-q", "origin", "HEAD"],
    ] {
        let st = std::process::Command::new("git")
            .args(args)
            .current_dir(&clone)
            .status()
            .unwrap();
        assert!(st.success(), "{args:?}");
    }
    let moved = remote.git(&["rev-parse", &branch]).trim().to_string();
    gp_ok(&sb, &["fetch", "origin"]);
    assert_eq!(tip(&sb, &branch), Some(moved));
}

#[test]
fn pr_of_a_run_whose_branch_gc_deleted_says_so_and_how_to_restore_it() {
    let (sb, _remote, id) = pushed_run();
    let short = format!("pitboss/{id}");
    let branch = format!("refs/heads/{short}");
    let was = tip(&sb, &branch).unwrap();
    sb.git(&["merge", "-q", "--no-ff", "-m", "merge the run", &short]);
    gp_ok(&sb, &["gc"]);
    assert_eq!(tip(&sb, &branch), None);

    // Not `fetch` (which leaves what gc deleted deleted): the branch's restoring command.
    let out = gp(&sb, &["pr", &id]);
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{said}");
    assert!(
        said.contains(&format!(
            "gc deleted {short} after its work reached the target"
        )),
        "{said}"
    );
    assert!(said.contains("merged into main"), "{said}");
    let restore = format!("git branch {short} {was}");
    assert!(said.contains(&restore), "{said}");
    assert!(!said.contains("git pitboss fetch"), "{said}");

    // The hint works: with the branch back, pr goes past it.
    sb.git(&["branch", &short, &was]);
    let said = stderr(&gp(&sb, &["pr", &id]));
    assert!(!said.contains("no branch here"), "{said}");
}

#[test]
fn review_of_a_run_whose_unlanded_branch_is_gone_does_not_say_it_landed() {
    let sb = Sandbox::new();
    let dir = project(&sb);
    let id = finished_run(&sb, &dir);
    // However it went (`gc --pushed`, `git branch -D`), the branch is gone and main lacks it.
    sb.git(&["branch", "-q", "-D", &format!("pitboss/{id}")]);
    let text = gp_ok(&sb, &["review", &id]);
    assert!(!text.contains("after it landed"), "{text}");
    assert!(
        text.contains("the work of 1 of its 1 session(s) with commits has not reached main"),
        "{text}"
    );
}

/// `gc --dry-run`, read as a person reads it, on a landed run, an unlanded pushed run and a run
/// whose grind was killed (its lock file left, held by no process): each line says what is true.
#[test]
fn gc_dry_run_says_plainly_why_each_thing_goes_or_stays() {
    let (sb, _remote, pushed) = pushed_run();
    // Another base, or the sandbox's fixed clock makes the same commit as the pushed run's.
    std::fs::write(sb.repo.join("more.txt"), "more\n").unwrap();
    sb.git(&["add", "more.txt"]);
    sb.git(&["commit", "-q", "-m", "more"]);
    // Other work, or it would be the same patch as the pushed run's (and that one "reached").
    let other = sb.path("other-prompts");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(
        other.join("leave.md"),
        "---\nname: leave\ndescription: leave work for pitboss to commit\n---\nLeave it.\n",
    )
    .unwrap();
    // (Two runs of one second sort by their random suffix: the new one is the other one.)
    finished_run(&sb, &other);
    let ids = sb.git(&[
        "for-each-ref",
        "--format=%(refname:lstrip=3)",
        "refs/pitboss/grind/",
    ]);
    let landed = ids.lines().find(|i| *i != pushed).unwrap().to_string();
    sb.git(&["merge", "-q", "--no-edit", &format!("pitboss/{landed}")]);
    let slow = sb.path("slow-prompts");
    std::fs::create_dir_all(&slow).unwrap();
    std::fs::write(
        slow.join("sleep.md"),
        "---\nname: sleep\ndescription: a slow session\n---\nSleep.\n",
    )
    .unwrap();
    let mut grind = sb.grind_spawn(&slow, &["--max-iterations", "1"], &[("AGENT_SLEEP", "30")]);
    let (killed, _, agent) = sb.wait_for_agent(std::time::Duration::from_secs(20));
    kill(grind.id(), "KILL");
    kill(agent, "KILL");
    let _ = grind.wait();
    let out = gp(&sb, &["gc", "--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let line = |thing: &str| -> String {
        table
            .lines()
            .find(|l| l.contains(&format!("  {thing}  ")))
            .unwrap_or_else(|| panic!("no line for {thing}:\n{table}"))
            .to_string()
    };
    let landed_branch = line(&format!("refs/heads/pitboss/{landed}"));
    assert!(
        landed_branch.starts_with("delete ")
            && landed_branch
                .ends_with("merged into main — reached the target: every commit is on main"),
        "{table}"
    );
    let lock = line(
        &sb.repo
            .join(format!(".git/pitboss/locks/{landed}.lock"))
            .display()
            .to_string(),
    );
    assert!(
        lock.starts_with("delete ")
            && lock.ends_with(
                "run finished — the run is finished, all of it in its ref: nothing reads its lock \
                 file (no process holds it) any more"
            ),
        "{table}"
    );
    // Pushed, not landed: never "nowhere else" beside "pushed".
    let unlanded = line(&format!("refs/heads/pitboss/{pushed}"));
    assert!(unlanded.starts_with("keep "), "{table}");
    assert!(
        unlanded.contains("  1 commit on no local branch (pushed) — kept: 1 of the run's commits is not on main, and no session that reached main made it (session 1 has not reached main); "),
        "{unlanded}"
    );
    assert!(
        unlanded.contains(&format!("refs/remotes/origin/pitboss/{pushed} has every commit of the branch (it was pushed; a remote-tracking ref can be stale), but pushed is not landed")),
        "{unlanded}"
    );
    assert!(!unlanded.contains("nowhere else"), "{unlanded}");
    // The killed grind's files: what a resume needs, and the lock named for what it is.
    let files = table
        .lines()
        .find(|l| l.contains(&format!("locks/{killed}.lock")))
        .unwrap_or_else(|| panic!("no files line of {killed}:\n{table}"));
    assert!(
        files.starts_with("keep ")
            && files.contains(&format!(
                "run interrupted — its grind ended without finishing the run (no process holds \
                 its lock); `git pitboss grind --resume {killed}` needs its working directory to \
                 record its last session and go on, so even --stopped keeps its working directory"
            )),
        "{files}"
    );
    assert!(!table.contains("from these first"), "{table}");
}
