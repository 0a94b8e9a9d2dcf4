//! A `--resume` that is itself killed halfway: grind dies mid-session, then the `--resume` that
//! recovers that session is killed (SIGKILL, by strace's fault injection) at its Nth `rename`,
//! for every N until one runs through. Every write git and pitboss make to refs, objects, the
//! index and the markers goes through a rename, so this kills it at each write. After each, a
//! plain `--resume` must still find the killed session's work and store it as a patch: nothing
//! may reset the work away before the record that saves it is on the run ref.
//!
//! strace is needed: a machine without it shows the test as skipped, loudly, except under
//! `CI=true` (`.ci/run` installs it), where that fails.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::support::grind::*;
use crate::support::path_with_binary;
use nix::sys::signal::Signal;

/// Session 1 leaves uncommitted work, commits early work on a branch of its own, then waits;
/// later ones do nothing.
const AGENT: &str = r#"
[ "$PITBOSS_SEQ" = 1 ] || exit 0
echo "partial output of $PITBOSS_SEQ"
echo "work of $PITBOSS_SEQ" > "work-$PITBOSS_SEQ.txt"
git checkout -q -b "side-$PITBOSS_SEQ"
echo "early $PITBOSS_SEQ" > "early-$PITBOSS_SEQ.txt"
git add "early-$PITBOSS_SEQ.txt" && git commit -q -m "agent: early commit $PITBOSS_SEQ"
touch "$MARKS/started-$PITBOSS_SEQ"
sleep 30 &
wait
"#;

/// `strace` on `PATH`; panics, saying how to install it, when it is not there. The test that
/// needs it is marked ignored by the build script where strace was absent at build time (never
/// under `CI=true`, where `.ci/run` installs it).
pub fn strace() -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("strace"))
                .find(|p| p.is_file())
        })
        .expect("strace is not installed: apt-get install strace (CI always has it)")
}

/// A run whose grind was SIGKILLed while its first session's agent worked.
fn crashed() -> (Project, String) {
    let p = Project::new();
    p.prompt("a", "").agent(AGENT);
    let mut g = Grind::spawn(&p, p.grind_cmd(&["--max-iterations", "3"]), "killed");
    p.wait_mark("started-1", &mut g);
    g.signal(Signal::SIGKILL);
    g.wait(Duration::from_secs(10));
    let run = p.only_run();
    (p, run)
}

/// `git pitboss <args>` under strace, SIGKILLed at its `n`th rename (each process its own
/// count); whether the injection fired, and the output.
fn killed_at_rename(strace: &PathBuf, p: &Project, n: u32, args: &[&str]) -> (bool, Output) {
    let log = p.sb.path(&format!("strace-{n}.log"));
    let inner = p.sb.git_pitboss();
    let mut cmd = Command::new(strace);
    cmd.arg("-f")
        .arg("-o")
        .arg(&log)
        .arg("-e")
        .arg("trace=rename,renameat,renameat2")
        .arg("-e")
        .arg(format!(
            "inject=rename,renameat,renameat2:signal=KILL:when={n}"
        ))
        .arg("git")
        .args(inner.get_args())
        .args(args)
        .current_dir(p.repo())
        .env("PATH", path_with_binary())
        .env("MARKS", p.marks())
        .stdin(Stdio::null());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) if k != "PATH" => cmd.env(k, v),
            None => cmd.env_remove(k),
            _ => &mut cmd,
        };
    }
    let out = cmd.output().unwrap();
    let trace = std::fs::read_to_string(&log).unwrap_or_default();
    (trace.contains("+++ killed by SIGKILL +++"), out)
}

#[test]
#[cfg_attr(
    pitboss_lacks = "strace",
    ignore = "strace not installed (see CONTRIBUTING.md)"
)]
fn a_resume_killed_at_any_write_still_saves_the_sessions_work() {
    let strace = strace();
    for n in 1.. {
        assert!(n < 400, "the resume never ran through");
        let (p, run) = crashed();
        let resume = ["grind", "--json", "--resume", &run, "--max-iterations", "2"];
        let (fired, out) = killed_at_rename(&strace, &p, n, &resume);
        if !fired {
            assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
        } else if p.state(&run)["status"] != "finished" {
            // The next, undisturbed `--resume` takes it up (with room for one more session:
            // the killed resume may have run its second one).
            let out = p.grind(&["--resume", &run, "--max-iterations", "3"]);
            let why = diag(&out);
            assert_eq!(out.status.code(), Some(0), "after rename {n}: {why}");
        }
        let records = p.records(&run);
        assert_eq!(statuses(&records)[0], "aborted", "after rename {n}");
        let patch = p.patch(&run, 1);
        assert!(
            patch
                .as_ref()
                .is_some_and(|t| t.contains("+work of 1") && t.contains("+early 1")),
            "killed at rename {n}, the session's work is lost: {patch:?}"
        );
        let files = p.sb.git(&["ls-tree", "--name-only", &p.branch(&run)]);
        assert!(
            !files.contains("work-1.txt") && !files.contains("early-1.txt"),
            "after rename {n}, unrecorded work on the run branch: {files}"
        );
        assert_eq!(p.state(&run)["status"], "finished", "after rename {n}");
        if !fired {
            eprintln!("the resume ran through after {} injections", n - 1);
            break;
        }
    }
}

/// A grind killed inside a landing's compare-and-swap leaves the run branch's `.lock`: later
/// landings take it for a stale lock (old, no holder) and land, instead of failing for the
/// rest of the run as "the run branch kept moving".
#[test]
fn a_stale_lock_on_the_run_branch_does_not_stop_landings() {
    use crate::support::parallel_grind::{landing_result, spawn};
    let p = crate::support::parallel_grind::project();
    let mut live = spawn(
        &p,
        &["--max-iterations", "2"],
        &[("AWAIT_1", "go-1"), ("AWAIT_2", "go-1")],
        "stale-lock",
    );
    p.wait_mark("started-1", &mut live.g);
    p.wait_mark("started-2", &mut live.g);
    let run = p.only_run();
    // What a writer killed between taking the ref's lock and renaming it into place leaves.
    let lock = p.repo().join(format!(".git/refs/heads/pitboss/{run}.lock"));
    std::fs::write(&lock, "0000000000000000000000000000000000000000\n").unwrap();
    std::fs::write(p.marks().join("go-1"), "").unwrap();
    live.g.wait(Duration::from_secs(60));
    let out = live.g.output();
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let records = p.records(&run);
    let landed: Vec<&str> = records.iter().map(landing_result).collect();
    assert_eq!(landed, ["landed", "landed"], "{}", diag(&out));
    let subjects = p.branch_subjects(&run);
    for s in ["agent: session 1", "agent: session 2"] {
        assert!(subjects.iter().any(|x| x == s), "{subjects:?}");
    }
    assert!(!lock.exists(), "the stale lock is gone");
}
