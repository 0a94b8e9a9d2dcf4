//! A `git pitboss gc` killed at any of its writes (SIGKILL by strace's fault injection, at the
//! Nth rename, then the Nth unlink, …, for every N until one runs through). After each:
//! 1. the repository is consistent: the run's branch is there, or gone with the tombstone gc
//!    leaves; its worktree is there whole (registered, its work in it), or gone whole with its
//!    work saved in the run ref; the run ref itself stays;
//! 2. every restore command gc printed before it died, run as printed in a shell from the last
//!    one up, puts back what it names (one whose thing is still there may fail, changing
//!    nothing; one that meets the `.lock` a ref deletion killed halfway leaves works once the
//!    file git names is removed, as git says);
//! 3. a second `gc` finishes the job.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::faults::{WRITES, killed_at};
use crate::support::*;

/// A finished run whose branch was merged into main, put back in a worktree (as gc's restore
/// command does) holding uncommitted work: `gc --force` saves the work in the run, removes the
/// worktree, the run's working files and the branch. Returns the run, the worktree, the tip.
fn scene() -> (Sandbox, String, PathBuf, String) {
    let sb = Sandbox::new();
    let dir = sb.agent_project(&[("commit", "")]);
    sb.git(&["add", ".pitboss"]);
    sb.git(&["commit", "-q", "-m", "pitboss config"]);
    let out = sb
        .pitboss()
        .args(["grind", "--prompts-dir", dir.to_str().unwrap()])
        .args(["--max-iterations", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let run = sb.git(&[
        "for-each-ref",
        "--format=%(refname:lstrip=3)",
        "refs/pitboss/grind/",
    ]);
    let run = run.trim().to_string();
    let branch = format!("pitboss/{run}");
    sb.git(&["merge", "-q", "--no-ff", "-m", "merge run", &branch]);
    let tip = sb.git(&["rev-parse", &branch]).trim().to_string();
    let wt = sb.repo.join(format!(".git/pitboss/worktrees/{run}/0"));
    sb.git(&["worktree", "add", "-q", wt.to_str().unwrap(), &branch]);
    let wt = wt.canonicalize().unwrap();
    std::fs::write(wt.join("precious.txt"), "not committed\n").unwrap();
    (sb, run, wt, tip)
}

fn gc_cmd(sb: &Sandbox) -> Command {
    let mut cmd = sb.git_pitboss();
    cmd.args(["gc", "--force"]);
    cmd
}

fn has_ref(sb: &Sandbox, r: &str) -> bool {
    sb.git_output_in(&sb.repo, &["rev-parse", "--verify", "-q", r])
        .status
        .success()
}

fn registered(sb: &Sandbox, wt: &Path) -> bool {
    sb.git(&["worktree", "list", "--porcelain"])
        .lines()
        .any(|l| l == format!("worktree {}", wt.display()))
}

/// The saved work in the run, if it is there.
fn saved(sb: &Sandbox, run: &str) -> bool {
    let spec = format!("refs/pitboss/grind/{run}:patches/00/resume-0002.patch");
    let out = sb.git_output_in(&sb.repo, &["show", &spec]);
    out.status.success() && stdout(&out).contains("+not committed")
}

/// Point 1: every thing of the run is there whole or gone whole, the way gc says.
fn consistent(sb: &Sandbox, run: &str, wt: &Path, tip: &str, when: &str) {
    let branch = format!("refs/heads/pitboss/{run}");
    assert!(has_ref(sb, &format!("refs/pitboss/grind/{run}")), "{when}");
    if has_ref(sb, &branch) {
        assert_eq!(sb.git(&["rev-parse", &branch]).trim(), tip, "{when}");
    } else {
        let tomb = format!("refs/pitboss-tombstones/heads/pitboss/{run}");
        assert!(
            has_ref(sb, &tomb),
            "{when}: the branch is gone without its tombstone"
        );
    }
    if registered(sb, wt) && wt.exists() {
        let work = std::fs::read_to_string(wt.join("precious.txt"));
        assert_eq!(work.ok().as_deref(), Some("not committed\n"), "{when}");
        let st = sb.git_in(wt, &["status", "--porcelain"]);
        assert_eq!(
            st.trim(),
            "?? precious.txt",
            "{when}: a half-removed worktree"
        );
    } else {
        // Registered with its directory gone (git's "prunable") is gone the way gc says.
        assert!(
            !wt.exists(),
            "{when}: an unregistered worktree directory is left"
        );
        assert!(
            saved(sb, run),
            "{when}: the worktree is gone, its work not saved"
        );
    }
}

/// The `restore:` commands of gc's output.
fn restores(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("restore: "))
        .filter(|c| c.starts_with("git "))
        .map(str::to_string)
        .collect()
}

/// Point 2: runs them from the last one up, as printed.
fn restore(sb: &Sandbox, cmds: &[String], run: &str, wt: &Path, tip: &str, when: &str) {
    for c in cmds.iter().rev() {
        let branch_was = has_ref(sb, &format!("refs/heads/pitboss/{run}"));
        let wt_was = registered(sb, wt) && wt.exists();
        let mut sh = Command::new("sh");
        sh.args(["-c", c]).current_dir(&sb.repo);
        for (k, v) in sb.git_pitboss().get_envs() {
            match v {
                Some(v) => sh.env(k, v),
                None => sh.env_remove(k),
            };
        }
        let mut out = sh.output().unwrap();
        // A gc killed inside a ref deletion leaves that ref's `.lock`, as git does: git's
        // message names the file, and the command works once it is removed.
        let lock = sb.repo.join(format!(".git/refs/heads/pitboss/{run}.lock"));
        if !out.status.success()
            && stderr(&out).contains(&format!("{}': File exists", lock.display()))
        {
            std::fs::remove_file(&lock).unwrap();
            out = sh.output().unwrap();
        }
        let there = if c.starts_with("git branch ") {
            branch_was
        } else {
            wt_was
        };
        assert!(
            out.status.success() || there,
            "{when}: `{c}` failed and its thing is gone: {}",
            stderr(&out)
        );
    }
    consistent(sb, run, wt, tip, when);
    let printed = |what: &str| cmds.iter().any(|c| c.starts_with(what));
    if printed("git branch ") {
        assert!(has_ref(sb, &format!("refs/heads/pitboss/{run}")), "{when}");
    }
    if printed("git worktree ") {
        assert!(
            registered(sb, wt) && wt.exists(),
            "{when}: the worktree is not back"
        );
    }
}

/// Point 3: a second gc leaves what an undisturbed one leaves.
///
/// A ref lock the killed gc left is removed by the next write once it is old enough and no
/// process can hold it; a git process seen in the repository meanwhile makes gc refuse, saying
/// to run it again (on a loaded machine, the full suite, that happened). So gc is run again,
/// as its hint says, a few times while that is its answer; any other failure fails at once.
fn finished(sb: &Sandbox, run: &str, wt: &Path, when: &str) {
    let mut out = gc_cmd(sb).output().unwrap();
    for _ in 0..5 {
        if out.status.code() == Some(0) || !stderr(&out).contains("failed to lock file") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
        out = gc_cmd(sb).output().unwrap();
    }
    assert_eq!(out.status.code(), Some(0), "{when}: {}", stderr(&out));
    let tomb = format!("refs/pitboss-tombstones/heads/pitboss/{run}");
    assert!(!has_ref(sb, &format!("refs/heads/pitboss/{run}")), "{when}");
    assert!(has_ref(sb, &tomb), "{when}");
    assert!(!registered(sb, wt) && !wt.exists(), "{when}");
    assert!(saved(sb, run), "{when}");
    let left: Vec<String> = std::fs::read_dir(sb.repo.join(".git/pitboss"))
        .unwrap()
        .flatten()
        // (`started/<id>.json` stays while the run is here: `--resume` reads it)
        .filter(|d| d.file_name() != "started")
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .map(|e| e.path().display().to_string())
        .filter(|p| p.contains(run) || p.contains("trash"))
        .collect();
    assert!(left.is_empty(), "{when}: left behind: {left:?}");
}

#[test]
#[cfg_attr(
    pitboss_lacks = "strace",
    ignore = "strace not installed (see CONTRIBUTING.md)"
)]
fn gc_faults_a_gc_killed_at_any_write_can_be_undone_and_finished() {
    for call in WRITES {
        for n in 1.. {
            assert!(n < 200, "gc never ran through");
            if !killed_gc(call, n) {
                eprintln!("gc ran through after {} kills at {call}", n - 1);
                break;
            }
        }
    }
}

/// Kills gc at its `n`th `call`, twice: once to finish the job with a second gc, once to undo
/// it with the restore commands. Whether the kill happened.
fn killed_gc(call: &str, n: u32) -> bool {
    let when = format!("gc killed at {call} {n}");
    let (sb, run, wt, tip) = scene();
    let (fired, out) = killed_at(&gc_cmd(&sb), call, n, &sb.path("strace.log"));
    if !fired {
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    consistent(&sb, &run, &wt, &tip, &when);
    finished(&sb, &run, &wt, &when);
    let (sb, run, wt, tip) = scene();
    let (fired2, out) = killed_at(&gc_cmd(&sb), call, n, &sb.path("strace.log"));
    assert_eq!(fired, fired2, "{when}: the same gc twice");
    restore(&sb, &restores(&stdout(&out)), &run, &wt, &tip, &when);
    fired
}
