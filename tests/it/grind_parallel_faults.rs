//! A `--resume` of a parallel run that is itself killed halfway: grind dies (SIGKILL) with two
//! sessions in flight, session 1 with its work committed on its slot branch, session 2 with
//! its work uncommitted; then the `--resume` that recovers them is killed (SIGKILL, by strace's
//! fault injection) at its Nth rename, for every N until one runs through, then at its Nth
//! link, unlink, … After each, a plain `--resume` stores both sessions' work (a patch each,
//! neither landed) with truthful records, and nothing said "its work saved as a patch" of a
//! session whose patch is not in the run, or "it had changed nothing" of one that had.

use std::time::Duration;

use nix::sys::signal::Signal;

use crate::support::faults::{WRITES, killed_at};
use crate::support::grind::*;
use crate::support::parallel_grind::{
    add_config, assert_branch_and_ref_agree, landing_result, signal, spawn,
};

/// Session 1 commits its work, session 2 leaves it uncommitted; both then wait. Later
/// sessions do nothing.
const AGENT: &str = r#"
[ "$PITBOSS_SEQ" -le 2 ] || exit 0
echo "partial output of $PITBOSS_SEQ"
echo "work of $PITBOSS_SEQ" > "work-$PITBOSS_SEQ.txt"
if [ "$PITBOSS_SEQ" = 1 ]; then
  git add "work-1.txt" && git commit -q -m "agent: session 1"
fi
touch "$MARKS/started-$PITBOSS_SEQ"
sleep 30 &
wait
"#;

/// A parallel run whose grind was SIGKILLed with sessions 1 and 2 in flight.
fn crashed() -> (Project, String) {
    let p = Project::new();
    p.prompt("work", "parallel_safe: true\n").agent(AGENT);
    add_config(&p, "[grind]\nmax_parallel = 2\n");
    let mut live = spawn(&p, &["--max-iterations", "2"], &[], "killed");
    p.wait_mark("started-1", &mut live.g);
    p.wait_mark("started-2", &mut live.g);
    signal(live.pitboss, Signal::SIGKILL);
    live.g.wait(Duration::from_secs(10));
    let run = p.only_run();
    (p, run)
}

/// What the user was told about session `seq`'s work, checked against the run.
fn told_truthfully(p: &Project, run: &str, said: &str, when: &str) {
    for line in said.lines() {
        for seq in [1, 2] {
            if !line.contains(&format!("session {seq} (slot ")) {
                continue;
            }
            assert!(
                !line.contains("it had changed nothing"),
                "{when}: session {seq} had work: {line}"
            );
            if line.contains("its work saved as a patch") {
                assert!(p.patch(run, seq).is_some(), "{when}: no patch: {line}");
            }
        }
    }
}

fn resume_cmd(p: &Project, run: &str, iterations: &str) -> std::process::Command {
    let mut cmd = p.sb.git_pitboss();
    cmd.args([
        "grind",
        "--json",
        "--resume",
        run,
        "--max-iterations",
        iterations,
    ])
    .env("MARKS", p.marks());
    cmd
}

/// Kills the resume at its `n`th `call`, finishes with a plain resume, checks the run.
/// Whether the kill happened.
fn killed_resume(call: &str, n: u32) -> bool {
    let when = format!("resume killed at {call} {n}");
    let (p, run) = crashed();
    let log = p.sb.path("strace.log");
    let (fired, out) = killed_at(&resume_cmd(&p, &run, "2"), call, n, &log);
    let mut said = diag(&out);
    if !fired {
        assert_eq!(out.status.code(), Some(0), "{when}: {said}");
    }
    told_truthfully(&p, &run, &said, &when);
    if p.state(&run)["status"] != "finished" {
        // The next, undisturbed `--resume` takes it up (with room for one more session: the
        // killed one may have recorded both).
        let out = resume_cmd(&p, &run, "3").output().unwrap();
        said = diag(&out);
        assert_eq!(out.status.code(), Some(0), "{when}: {said}");
        told_truthfully(&p, &run, &said, &when);
    }
    let records = p.records(&run);
    assert_eq!(statuses(&records)[..2], ["aborted", "aborted"], "{when}");
    assert_branch_and_ref_agree(&p, &run, &records);
    for (seq, r) in [1, 2].iter().zip(&records) {
        assert!(r["commit"].is_null(), "{when}: {r}");
        assert_ne!(landing_result(r), "landed", "{when}: {r}");
        let patch = p.patch(&run, *seq);
        assert!(
            patch
                .as_ref()
                .is_some_and(|t| t.contains(&format!("+work of {seq}"))),
            "{when}: session {seq}'s work is lost: {patch:?}"
        );
    }
    let files = p.sb.git(&["ls-tree", "--name-only", &p.branch(&run)]);
    assert!(!files.contains("work-"), "{when}: unrecorded work: {files}");
    assert_eq!(p.state(&run)["status"], "finished", "{when}");
    fired
}

#[test]
#[cfg_attr(
    pitboss_lacks = "strace",
    ignore = "strace not installed (see CONTRIBUTING.md)"
)]
fn parallel_resume_faults_a_resume_killed_at_any_write_still_saves_both_sessions_work() {
    for call in WRITES {
        for n in 1.. {
            assert!(n < 400, "the resume never ran through");
            if !killed_resume(call, n) {
                eprintln!("the resume ran through after {} kills at {call}", n - 1);
                break;
            }
        }
    }
}
