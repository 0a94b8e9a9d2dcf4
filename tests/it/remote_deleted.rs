//! Issue 22: a `push` that no `fetch` preceded must not create again a run, or a run branch,
//! that a teammate deleted on the remote since this repository last saw it, also when the copy
//! here diverged from what it last saw there (where a lease cannot guard the push). It leaves it
//! out, says why, and names the command that pushes it anyway. Real bare remotes.

use crate::support::remote::Bare;
use crate::support::*;

const RUN: &str = "20261124T100000Z-abcd";
const BRANCH: &str = "refs/heads/pitboss/20261124T100000Z-abcd";

fn with_remote(bare: &Bare) -> Sandbox {
    let sb = Sandbox::new();
    sb.git(&["remote", "add", "origin", &bare.path_url()]);
    sb
}

fn branches(bare: &Bare) -> String {
    let out = bare.git(&["for-each-ref", "--format=%(refname)", "refs/heads/pitboss/"]);
    out.trim().to_string()
}

#[test]
fn a_diverged_run_deleted_on_the_remote_is_not_pushed_again_unless_named() {
    let bare = Bare::new();
    let a = with_remote(&bare);
    a.record_session(RUN, "p", 1);
    a.ok(&["push"], "");
    // B appends and pushes; A appends its own session before it fetches: diverged.
    let b = with_remote(&bare);
    b.ok(&["fetch"], "");
    b.record_session(RUN, "q", 2);
    b.ok(&["push"], "");
    a.record_session(RUN, "r", 3);
    a.pb(&["fetch"]);
    // B deletes the run on the remote; A has not fetched since.
    b.ok(&["rm", RUN, "--remote", "origin"], "");
    assert!(bare.runs().is_empty());

    let out = a.pb(&["push"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!(
            "not pushing run {RUN}: it was deleted on origin since this repository last fetched from it (`git pitboss push origin {RUN}` pushes it anyway)"
        )),
        "{err}"
    );
    assert!(bare.runs().is_empty(), "recreated: {}", bare.runs());
    // Remembered: the next push leaves it out without asking the remote.
    let out = a.pb(&["push"]);
    assert!(
        stderr(&out).contains("it was deleted on origin"),
        "{}",
        stderr(&out)
    );
    assert!(bare.runs().is_empty());
    // Named, it goes.
    let out = a.ok(&["push", "origin", RUN], "");
    assert!(out.contains("pushed again because you named it"), "{out}");
    assert_eq!(bare.runs().lines().count(), 1);
}

#[test]
fn a_run_branch_deleted_on_the_remote_is_not_pushed_again_unless_named() {
    let bare = Bare::new();
    let a = with_remote(&bare);
    a.record_session(RUN, "p", 1);
    a.git(&["branch", "pitboss/20261124T100000Z-abcd"]);
    a.ok(&["push"], "");
    assert_eq!(branches(&bare), BRANCH, "the branch went with its run");
    let said = format!(
        "not pushing branch pitboss/{RUN} of run {RUN}: it was deleted on origin since this repository last fetched from it (`git pitboss push origin {RUN}` pushes it anyway)"
    );
    // A teammate deletes the branch with plain git; A extends it (a fast-forward of what it
    // last saw), then appends a session, and pushes.
    let b = Sandbox::clone_of(&bare.path_url());
    b.git(&["push", "-q", "origin", &format!(":{BRANCH}")]);
    a.git(&["checkout", "-q", "pitboss/20261124T100000Z-abcd"]);
    a.git(&["commit", "-q", "--allow-empty", "-m", "more work"]);
    a.record_session(RUN, "q", 2);
    for _ in 0..2 {
        let out = a.pb(&["push"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(stderr(&out).contains(&said), "{}", stderr(&out));
        assert_eq!(branches(&bare), "", "recreated");
    }
    // Named, the run takes its branch along.
    a.ok(&["push", "origin", RUN], "");
    assert_eq!(branches(&bare), BRANCH);

    // Deleted again, and A's branch diverged from what it last saw (amended): no lease can
    // guard that push, and it still leaves the branch out.
    b.git(&["push", "-q", "origin", &format!(":{BRANCH}")]);
    a.git(&[
        "commit",
        "-q",
        "--amend",
        "--allow-empty",
        "-m",
        "more work, amended",
    ]);
    let out = a.pb(&["push"]);
    assert!(stderr(&out).contains(&said), "{}", stderr(&out));
    assert_eq!(branches(&bare), "", "recreated");
}
