//! Diverged runs: two clones append to the same run, `sync` in either order, and both end with
//! identical refs holding every session; two machines that merge on their own agree.

use crate::support::remote::Bare;
use crate::support::*;

const RUN_REF: &str = "refs/pitboss/grind/20261124T100000Z-abcd";

/// A and B share a run with one session, then each appends one: A's starts at minute 40,
/// B's at minute 20 (so B's keeps seq 2 in the merge).
fn diverged(bare: &Bare) -> (Sandbox, Sandbox) {
    let url = bare.path_url();
    let a = Sandbox::new();
    a.git(&["remote", "add", "origin", &url]);
    a.record_session(RUN, "base", 1);
    a.ok(&["push"], "");
    let b = Sandbox::new();
    b.git(&["remote", "add", "origin", &url]);
    b.ok(&["fetch"], "");
    assert_eq!(a.record_session(RUN, "on-a", 40), 2);
    assert_eq!(b.record_session(RUN, "on-b", 20), 2);
    (a, b)
}

fn prompts(sb: &Sandbox) -> Vec<String> {
    let v: Vec<serde_json::Value> =
        serde_json::from_str(&sb.ok(&["log", RUN, "--json"], "")).unwrap();
    v.iter()
        .map(|r| format!("{}:{}", r["seq"], r["prompt"].as_str().unwrap()))
        .collect()
}

fn converge(first: &Sandbox, second: &Sandbox, bare: &Bare) {
    for sb in [first, second, first] {
        let out = sb.pb(&["sync"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let tip = first.tip(RUN_REF);
    assert_eq!(second.tip(RUN_REF), tip);
    assert!(bare.runs().contains(&tip), "{}", bare.runs());
    let expected = vec!["1:base", "2:on-b", "3:on-a"];
    assert_eq!(prompts(first), expected);
    assert_eq!(prompts(second), expected);
    // git log reads it: a merge with two parents, then both sides' sessions.
    let log = first.git(&["log", "--format=%p|%s", RUN_REF]);
    let top = log.lines().next().unwrap();
    assert_eq!(
        top.split('|').next().unwrap().split(' ').count(),
        2,
        "{log}"
    );
    assert!(
        top.ends_with("merge diverged run 20261124T100000Z-abcd: 3 sessions"),
        "{log}"
    );
    let body = first.git(&["log", "-1", "--format=%B", RUN_REF]);
    assert!(body.contains("Pitboss-Renumbered: 2 -> 3"), "{body}");
    let moved: serde_json::Value =
        serde_json::from_str(&first.ok(&["show", RUN, "3", "--json"], "")).unwrap();
    assert_eq!(moved["renumbered_from"], 2);
    assert_eq!(moved["transcript_path"], "transcripts/session-0003.log");
    let show = first.ok(&["show", RUN], "");
    assert!(show.contains("sessions  3"), "{show}");
    // Nothing left to do on either side.
    for sb in [first, second] {
        let out = sb.pb(&["sync"]);
        assert_eq!(out.status.code(), Some(0));
        assert!(stderr(&out).contains("nothing to push"), "{}", stderr(&out));
    }
}

#[test]
fn sync_a_then_b() {
    let bare = Bare::new();
    let (a, b) = diverged(&bare);
    converge(&a, &b, &bare);
}

#[test]
fn sync_b_then_a() {
    let bare = Bare::new();
    let (a, b) = diverged(&bare);
    converge(&b, &a, &bare);
}

#[test]
fn fetch_leaves_a_diverged_run_and_push_is_rejected_with_nothing_lost() {
    let bare = Bare::new();
    let (a, b) = diverged(&bare);
    b.ok(&["push"], "");
    let before = a.tip(RUN_REF);
    let out = a.pb(&["fetch"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("diverged   run 20261124T100000Z-abcd: 1 commit here, 1 there"),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("hint: `git pitboss sync origin`"));
    assert_eq!(a.tip(RUN_REF), before);
    let out = a.pb(&["push"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("rejected    run 20261124T100000Z-abcd: diverged: the remote has sessions this repository does not (non-fast-forward)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(a.tip(RUN_REF), before);
    assert_eq!(prompts(&a), vec!["1:base", "2:on-a"]);
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&a.pb(&["push", "--json"]))).unwrap();
    assert_eq!(json["refs"][0]["outcome"], "rejected");
    assert_eq!(json["refs"][0]["reason"]["kind"], "diverged");
}

#[test]
fn two_machines_that_merge_on_their_own_make_the_same_commit() {
    // A's side goes to one remote and B's to another; each machine fetches the other's side
    // and merges it locally, with no shared merge to copy.
    let r1 = Bare::new();
    let (a, b) = diverged(&r1);
    let r2 = Bare::new();
    a.ok(&["push"], "");
    b.ok(&["push", &r2.path_url()], "");
    let out = a.pb(&["sync", &r2.path_url()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = b.pb(&["sync", "origin"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(a.tip(RUN_REF), b.tip(RUN_REF));
    assert_eq!(prompts(&a), prompts(&b));
    // The merge is not made by either user.
    let who = a.git(&["log", "-1", "--format=%an <%ae>|%cn <%ce>", RUN_REF]);
    assert_eq!(
        who.trim(),
        "pitboss <pitboss@localhost>|pitboss <pitboss@localhost>"
    );
}

/// A run stopped by its iteration budget, resumed on two clones (one session each): after the
/// sync holds 3 sessions, its stop reason counts 3, not the 2 either clone stopped at.
#[test]
fn a_synced_run_says_how_many_sessions_it_holds_in_its_stop_reason() {
    use crate::remote_travel::{grind, project, team};
    let bare = Bare::new();
    let (a, b, _c, run) = team(&bare.path_url());
    b.ok(&["fetch"], "");
    let (pa, pb) = (project(&a, "own"), project(&b, "own"));
    assert_eq!(grind(&a, "a", &pa, Some(&run)).status.code(), Some(0));
    assert_eq!(grind(&b, "b", &pb, Some(&run)).status.code(), Some(0));
    for sb in [&a, &b, &a] {
        let out = sb.pb(&["sync"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let want = "iteration budget reached (3 sessions; the budget was 2)";
    for sb in [&a, &b] {
        let show = sb.ok(&["show", &run], "");
        assert!(show.contains("sessions  3"), "{show}");
        assert!(show.contains(want), "{show}");
        let ls: serde_json::Value = serde_json::from_str(&sb.ok(&["ls", "--json"], "")).unwrap();
        assert_eq!(ls[0]["stop_reason"], want, "{ls}");
        // The gauge under that reason names the same budget (not the 1 the run started with).
        let out = sb.git_pitboss().args(["watch", &run, "--once"]).output();
        let watch = stdout(&out.unwrap());
        assert!(watch.contains(&format!("({want})")), "{watch}");
        assert!(watch.contains("3 of 2"), "{watch}");
    }
}
