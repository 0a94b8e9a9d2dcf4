//! Rejections and deletions against a real remote: a refusing pre-receive hook, `rm --remote`
//! with its lease (granted and refused), tombstones and `fetch --include-deleted`.

use crate::support::remote::Bare;
use crate::support::*;

const RUN_REF: &str = "refs/pitboss/grind/20261124T100000Z-abcd";
const TRACKING: &str = "refs/pitboss-remotes/origin/grind/20261124T100000Z-abcd";

fn with_remote(bare: &Bare) -> Sandbox {
    let sb = Sandbox::new();
    sb.git(&["remote", "add", "origin", &bare.path_url()]);
    sb
}

#[test]
fn a_refusing_hook_is_reported_and_exit_is_1() {
    let bare = Bare::new();
    bare.hook(
        "pre-receive",
        "#!/bin/sh\nwhile read old new ref; do case \"$ref\" in refs/pitboss/*) \
         echo \"runs are not welcome here: $ref\" >&2; exit 1;; esac; done\n",
    );
    let a = with_remote(&bare);
    a.record_session(RUN, "p", 1);
    let before = a.ok(&["log", RUN, "--jsonl"], "");
    let out = a.pb(&["push"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!(
            "rejected    run {RUN}: a hook on the remote refused it"
        )),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("remote: runs are not welcome here: refs/pitboss/grind/"),
        "{}",
        stderr(&out)
    );
    // Nothing lost or recorded as pushed.
    assert_eq!(a.ok(&["log", RUN, "--jsonl"], ""), before);
    assert!(a.tip(TRACKING).is_empty());
    assert!(bare.runs().is_empty());
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&a.pb(&["push", "--json"]))).unwrap();
    assert_eq!(json["refs"][0]["reason"]["kind"], "hook-declined");
}

#[test]
fn rm_deletes_here_and_there_and_the_tombstone_keeps_it_away() {
    let bare = Bare::new();
    let a = with_remote(&bare);
    a.record_session(RUN, "p", 1);
    a.git(&["branch", &format!("pitboss/grind/{RUN}")]);
    a.ok(&["push"], "");
    let b = with_remote(&bare);
    b.ok(&["fetch"], "");

    assert!(a.repo.join(".git/logs").join(RUN_REF).exists());
    let out = a.pb(&["rm", &RUN[..12], "--remote", "origin"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("deleted run {RUN} on origin")),
        "{err}"
    );
    assert!(err.contains(&format!("deleted run {RUN} here")), "{err}");
    assert!(
        err.contains(&format!("branch refs/heads/pitboss/grind/{RUN} is kept")),
        "{err}"
    );
    assert!(a.tip(RUN_REF).is_empty());
    assert!(a.tip(TRACKING).is_empty());
    assert!(
        !a.repo.join(".git/logs").join(RUN_REF).exists(),
        "reflog kept"
    );
    assert!(!bare.runs().contains(RUN));
    assert!(
        !a.tip(&format!("refs/pitboss-tombstones/grind/{RUN}"))
            .is_empty()
    );

    // B still has it: its fetch says it is gone there and keeps it; its default push leaves it
    // out, and naming it pushes it back.
    let out = b.pb(&["fetch"]);
    assert!(
        stderr(&out).contains(&format!("run {RUN} is no longer on origin")),
        "{}",
        stderr(&out)
    );
    assert!(!b.tip(RUN_REF).is_empty());
    b.ok(&["push"], "");
    assert!(!bare.runs().contains(RUN));
    let pushed = b.ok(&["push", RUN], "");
    assert!(
        pushed.contains("pushed again because you named it"),
        "{pushed}"
    );
    assert!(bare.runs().contains(RUN));
    // A does not take it back unless asked.
    let out = a.pb(&["fetch"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!(
            "deleted    run {RUN}: deleted here, not brought back"
        )),
        "{}",
        stdout(&out)
    );
    assert!(a.tip(RUN_REF).is_empty());
    let ls = a.ok(&["ls", "--remote"], "");
    assert!(ls.contains(&format!("{RUN}  deleted  -")), "{ls}");
    let out = a.pb(&["fetch", "--include-deleted"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!a.tip(RUN_REF).is_empty());
    assert!(
        a.tip(&format!("refs/pitboss-tombstones/grind/{RUN}"))
            .is_empty()
    );
    // rm without --remote leaves the remote alone.
    a.ok(&["rm", RUN], "");
    assert!(bare.runs().contains(RUN));
}

#[test]
fn rm_remote_is_refused_when_the_remote_moved_since_we_looked() {
    let bare = Bare::new();
    let a = with_remote(&bare);
    a.record_session(RUN, "p", 1);
    a.ok(&["push"], "");
    let b = with_remote(&bare);
    b.ok(&["fetch"], "");
    b.record_session(RUN, "q", 2);
    b.ok(&["push"], "");

    let before = a.tip(RUN_REF);
    let out = a.pb(&["rm", RUN, "--remote", "origin"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("origin refused to delete run 20261124T100000Z-abcd: the remote ref moved since it was last fetched; nothing was deleted"),
        "{}",
        stderr(&out)
    );
    assert_eq!(a.tip(RUN_REF), before);
    assert!(bare.runs().contains(&b.tip(RUN_REF)));
    assert!(
        a.tip(&format!("refs/pitboss-tombstones/grind/{RUN}"))
            .is_empty()
    );

    // Never seen on a remote: no lease to give, so no deletion.
    let c = with_remote(&bare);
    c.record_session("20261124T100000Z-ffff", "p", 1);
    let out = c.pb(&["rm", "20261124T100000Z-ffff", "--remote", "origin"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("has never been seen on origin"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("hint: run `git pitboss fetch origin` first"));
    assert!(!c.tip("refs/pitboss/grind/20261124T100000Z-ffff").is_empty());

    // A fetches, sees B's session, and then the lease holds.
    a.ok(&["fetch"], "");
    let out = a.pb(&["rm", RUN, "--remote", "origin"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(bare.runs().is_empty(), "{}", bare.runs());
}

#[test]
fn rm_of_an_unknown_run_is_refused() {
    let sb = Sandbox::new();
    let out = sb.pb(&["rm", "nope"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("run nope does not exist"),
        "{}",
        stderr(&out)
    );
}

/// What a remote's hook prints is the remote's words: pitboss shows its control characters as
/// escapes, so a hostile remote cannot retitle the window or clear the screen.
#[test]
fn a_hooks_terminal_escapes_are_shown_not_obeyed() {
    let bare = Bare::new();
    bare.hook(
        "pre-receive",
        "#!/bin/sh\nprintf 'hello \\033]0;pwned\\007\\033[2J there\\n' >&2; exit 1\n",
    );
    let a = with_remote(&bare);
    a.record_session(RUN, "p", 1);
    let out = a.pb(&["push"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("remote: hello \\e]0;pwned\\x07\\e[2J there"),
        "{err:?}"
    );
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
}

/// Issue 11's error table: a push that reached the remote but could not record its tracking
/// ref here (a concurrent fetch holds the ref's lock) says so and succeeds, instead of exit 70
/// with no word of the push; a fetch that meets the lock blames the lock, not the remote's
/// address.
#[test]
fn a_locked_tracking_ref_is_reported_as_what_it_is() {
    let bare = Bare::new();
    let a = with_remote(&bare);
    a.record_session(RUN, "p", 1);
    let lock = a.repo.join(format!(".git/{TRACKING}.lock"));
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(&lock, "").unwrap();
    // A concurrent writer holds it (the file open in a live process): a lock nobody holds
    // would be removed as stale once it is 3 s old.
    let mut holder = std::process::Command::new("sh")
        .args(["-c", "exec 3<\"$0\"; exec sleep 60"])
        .arg(&lock)
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let out = run_with_stdin(a.git_pitboss().args(["push"]), "");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        stdout(&out).contains(&format!("created     run {RUN}")),
        "{}",
        stdout(&out)
    );
    assert!(
        err.contains(&format!(
            "run {RUN} is on origin now, but its tracking ref could not be recorded here"
        )),
        "{err}"
    );
    assert!(
        err.contains("`git pitboss fetch origin` records it"),
        "{err}"
    );
    assert_eq!(bare.runs().lines().count(), 1, "{}", bare.runs());
    assert!(a.tip(TRACKING).is_empty());
    let out = run_with_stdin(a.git_pitboss().args(["fetch"]), "");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(70), "{err}");
    assert!(
        err.contains(&format!("cannot update ref {TRACKING}")) && err.contains(".lock"),
        "{err}"
    );
    assert!(
        err.contains("hint: another git process was updating the same refs"),
        "{err}"
    );
    assert!(!err.contains("remote's address"), "{err}");
    let _ = holder.kill();
    let _ = holder.wait();
    std::fs::remove_file(&lock).unwrap();
    a.ok(&["fetch"], "");
    assert_eq!(a.tip(TRACKING), a.tip(RUN_REF));
}

/// Issue 22: a run deleted on the remote (a teammate's `rm --remote`) is not created there
/// again by a later `push` that no `fetch` preceded; the push leases what it last saw. A run
/// that moved there instead is still the non-fast-forward it was, with the sync hint.
#[test]
fn a_push_without_a_fetch_does_not_recreate_a_run_deleted_there() {
    let bare = Bare::new();
    let a = with_remote(&bare);
    a.record_session(RUN, "p", 1);
    a.ok(&["push"], "");
    let b = with_remote(&bare);
    b.ok(&["fetch"], "");
    b.record_session(RUN, "q", 2);
    a.ok(&["rm", RUN, "--remote", "origin"], "");
    assert!(bare.runs().is_empty());

    let out = b.pb(&["push"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("not pushing run {RUN}: it was deleted on origin")),
        "{}",
        stderr(&out)
    );
    assert!(bare.runs().is_empty(), "recreated: {}", bare.runs());
    // Remembered like a fetch would: the next push leaves it out without asking.
    let out = b.pb(&["push"]);
    assert!(
        stderr(&out).contains("it was deleted on origin"),
        "{}",
        stderr(&out)
    );
    assert!(bare.runs().is_empty());
    // Naming it publishes it again.
    let out = b.ok(&["push", RUN], "");
    assert!(out.contains("pushed again because you named it"), "{out}");
    assert_eq!(bare.runs().lines().count(), 1);

    // Moved there instead (C appended and pushed): rejected as before, nothing marked.
    let c = with_remote(&bare);
    c.ok(&["fetch"], "");
    b.record_session(RUN, "r", 3);
    c.record_session(RUN, "s", 4);
    c.ok(&["push"], "");
    let out = b.pb(&["push"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("(non-fast-forward)"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("git pitboss sync origin"),
        "{}",
        stderr(&out)
    );
}
