//! `ls` in a clone whose remote holds runs (issue 22): a fresh `git clone` brings the runs'
//! branches but not the runs, so `ls` points at `git pitboss fetch` instead of "start one with
//! grind", from what the clone already knows (no network: the remote is gone when it asks).
//! And `ls` fails (exit 1) when the run namespace holds refs that are not runs.

use crate::support::remote::Bare;
use crate::support::*;

#[test]
fn ls_in_a_fresh_clone_points_at_fetch_without_asking_the_remote() {
    let bare = Bare::new();
    let url = bare.path_url();
    let a = Sandbox::new();
    a.git(&["remote", "add", "origin", &url]);
    a.record_session(RUN, "docs", 1);
    a.git(&["branch", &format!("pitboss/{RUN}")]);
    a.git(&["push", "-q", "origin", "main"]);
    a.ok(&["push"], "");

    let b = Sandbox::clone_of(&url);
    // Moved away: whatever ls says, it says without the remote.
    let away = bare.dir.path().join("away.git");
    std::fs::rename(&bare.path, &away).unwrap();
    let out = b.git_pitboss().args(["ls"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(!err.contains("start one with"), "{err}");
    assert!(
        err.contains(
            "no runs here yet, but origin has 1 run: `git pitboss fetch origin` brings them"
        ),
        "{err}"
    );
    std::fs::rename(&away, &bare.path).unwrap();
    b.ok(&["fetch"], "");
    let ls = b.ok(&["ls"], "");
    assert!(ls.contains(RUN), "{ls}");

    // A clone of a remote without runs, or of none, is told to start one.
    let c = Sandbox::new();
    let out = c.git_pitboss().args(["ls"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no runs yet: start one with"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn ls_fails_on_refs_that_are_not_runs() {
    let sb = Sandbox::new();
    sb.record_session(RUN, "docs", 1);
    let head = sb.git(&["rev-parse", "HEAD"]);
    sb.git(&["update-ref", "refs/pitboss/grind/junk", head.trim()]);
    for args in [&["ls"][..], &["ls", "--json"][..]] {
        let out = sb.git_pitboss().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).contains(RUN), "{}", stdout(&out));
        assert!(
            stderr(&out).contains("ignoring refs/pitboss/grind/junk"),
            "{}",
            stderr(&out)
        );
    }
}
