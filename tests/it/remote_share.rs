//! Sharing runs between two clones through a real remote: a bare repository by path, by
//! `file://` URL, and served by a real `git daemon` over `git://`.

use crate::support::remote::{Bare, Daemon};
use crate::support::*;

/// A pushes a run (and its branch), B fetches it and sees the same records and commits, B
/// appends and pushes, A fetches and fast-forwards.
fn round_trip(url: &str, bare: &Bare) {
    let a = Sandbox::new();
    a.git(&["remote", "add", "origin", url]);
    std::fs::write(a.path("t.log"), "transcript one\n").unwrap();
    a.ok(
        &[
            "record",
            RUN,
            "--create",
            "--transcript",
            a.path("t.log").to_str().unwrap(),
        ],
        &remote::session_json("fp-hunter", 1),
    );
    a.record_session(RUN, "docs", 2);
    a.git(&["branch", &format!("pitboss/grind/{RUN}")]);
    a.git(&["push", "-q", "origin", "main"]);

    let out = a.pb(&["push"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = stdout(&out);
    assert!(
        report.contains(&format!("created     run {RUN} (2 sessions)")),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "created     branch refs/heads/pitboss/grind/{RUN}"
        )),
        "{report}"
    );
    let run_ref = format!("refs/pitboss/grind/{RUN}");
    let tracking = format!("refs/pitboss-remotes/origin/grind/{RUN}");
    assert_eq!(a.tip(&tracking), a.tip(&run_ref));
    assert!(bare.runs().contains(&a.tip(&run_ref)));
    // A second push with nothing new runs no git push at all.
    let again = a.pb(&["push"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(stdout(&again).is_empty(), "{}", stdout(&again));
    assert!(
        stderr(&again).contains("nothing to push"),
        "{}",
        stderr(&again)
    );

    // B: a plain clone has no runs; fetch brings them.
    let b = Sandbox::clone_of(url);
    assert!(b.pitboss_refs().is_empty());
    assert!(
        b.tip(&format!("refs/remotes/origin/pitboss/grind/{RUN}"))
            .len()
            == 40
    );
    let out = b.pb(&["fetch"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("created    run {RUN} (2 sessions)")),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        b.ok(&["log", RUN, "--jsonl"], ""),
        a.ok(&["log", RUN, "--jsonl"], "")
    );
    assert_eq!(b.ok(&["ls", "--json"], ""), a.ok(&["ls", "--json"], ""));
    assert_eq!(
        b.git(&["log", "--format=%H %s", &run_ref]),
        a.git(&["log", "--format=%H %s", &run_ref])
    );
    assert_eq!(
        b.ok(&["show", RUN, "1", "--transcript"], ""),
        "transcript one\n"
    );
    assert_eq!(b.git(&["reflog", "show", &run_ref]).lines().count(), 1);

    // B appends and pushes; A sees it without fetching objects, then fast-forwards.
    b.record_session(RUN, "lint", 3);
    let out = b.pb(&["push", "--no-branch"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("updated     run {RUN} (3 sessions)")),
        "{}",
        stdout(&out)
    );
    let ls = a.ok(&["ls", "--remote"], "");
    assert!(ls.contains("unknown (fetch to compare)"), "{ls}");
    let out = a.pb(&["fetch", "origin", &RUN[..10]]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("updated    run {RUN} (1 new commit)")),
        "{}",
        stdout(&out)
    );
    assert_eq!(a.tip(&run_ref), b.tip(&run_ref));
    assert_eq!(a.ok(&["log", RUN, "--jsonl"], "").lines().count(), 3);
    let ls = a.ok(&["ls", "--remote", "origin"], "");
    assert_eq!(
        ls,
        format!(
            "ID                     HERE     STATE       CODE\n\
             {RUN}  yes      up to date  refs/heads/pitboss/grind/{RUN}: up to date\n"
        )
    );
    let listed: serde_json::Value =
        serde_json::from_str(&a.ok(&["ls", "--remote", "--json"], "")).unwrap();
    assert_eq!(listed[0]["id"], RUN);
    assert_eq!(listed[0]["here"], "yes");
    assert_eq!(listed[0]["relation"], "same");
    assert_eq!(
        listed[0]["branch"]["name"],
        format!("refs/heads/pitboss/grind/{RUN}")
    );
    assert_eq!(listed[0]["branch"]["relation"], "same");
}

#[test]
fn round_trip_through_a_bare_repository_by_path() {
    let bare = Bare::new();
    round_trip(&bare.path_url(), &bare);
}

#[test]
fn round_trip_through_a_file_url() {
    let bare = Bare::new();
    round_trip(&bare.file_url(), &bare);
}

#[test]
fn round_trip_through_git_daemon() {
    let bare = Bare::new();
    let daemon = Daemon::serve(bare.dir.path());
    round_trip(&daemon.url("remote.git"), &bare);
}

#[test]
fn a_url_on_the_command_line_gets_its_own_tracking_namespace() {
    let bare = Bare::new();
    let a = Sandbox::new();
    a.record_session(RUN, "p", 1);
    let url = bare.file_url();
    let out = a.pb(&["push", &url, RUN]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let refs = a.git(&[
        "for-each-ref",
        "--format=%(refname)",
        "refs/pitboss-remotes/",
    ]);
    assert!(refs.starts_with("refs/pitboss-remotes/url-"), "{refs}");
    assert!(
        refs.trim_end().ends_with(&format!("/grind/{RUN}")),
        "{refs}"
    );
    let all = a.pb(&["push", &url, "--all"]);
    assert_eq!(all.status.code(), Some(0), "{}", stderr(&all));
    assert!(
        stdout(&all).contains(&format!("up to date  run {RUN}")),
        "{}",
        stdout(&all)
    );
    let both = a.pb(&["push", &url, RUN, "--all"]);
    assert_eq!(both.status.code(), Some(4), "{}", stderr(&both));
    assert!(stderr(&both).contains("not both"), "{}", stderr(&both));
    // No remote config was written.
    let cfg = a.git_output_in(&a.repo, &["config", "--get-regexp", "^remote\\."]);
    assert!(cfg.stdout.is_empty(), "{}", stdout(&cfg));
}

#[test]
fn five_clones_pushing_at_once_all_land() {
    let bare = Bare::new();
    let url = bare.path_url();
    let clones: Vec<Sandbox> = (0..5)
        .map(|i| {
            let sb = Sandbox::new();
            sb.git(&["remote", "add", "origin", &url]);
            sb.record_session(&format!("20261124T10000{i}Z-abcd"), "p", i);
            sb
        })
        .collect();
    let outs: Vec<std::process::Output> = std::thread::scope(|s| {
        let handles: Vec<_> = clones
            .iter()
            .map(|sb| s.spawn(|| sb.pb(&["push"])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for o in &outs {
        assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
    }
    assert_eq!(bare.runs().lines().count(), 5, "{}", bare.runs());
    let b = Sandbox::clone_of(&url);
    b.ok(&["fetch"], "");
    let ls: Vec<serde_json::Value> = serde_json::from_str(&b.ok(&["ls", "--json"], "")).unwrap();
    assert_eq!(ls.len(), 5);
}

#[test]
fn default_remote_and_clear_errors() {
    let sb = Sandbox::new();
    sb.record_session(RUN, "p", 1);
    let out = sb.pb(&["push"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("error: no remote to share runs with"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("hint: add one with `git remote add origin <url>`"));
    let out = sb.pb(&["fetch", "nowhere-remote-name-x", RUN]);
    // An unknown first word is taken as a run, and there is still no remote.
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));

    let team = Bare::new();
    let other = Bare::new();
    sb.git(&["remote", "add", "team", &team.path_url()]);
    sb.git(&["remote", "add", "other", &other.path_url()]);
    sb.git(&["config", "branch.main.pushRemote", "other"]);
    sb.ok(&["push"], "");
    assert!(!other.runs().is_empty());
    assert!(team.runs().is_empty());
    sb.git(&["config", "pitboss.remote", "team"]);
    sb.ok(&["push"], "");
    assert!(!team.runs().is_empty());
    sb.git(&["config", "pitboss.remote", "gone"]);
    let out = sb.pb(&["push"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("\"gone\" is not a remote of this repository (remotes: "),
        "{}",
        stderr(&out)
    );
    let unreachable = sb.pb(&["ls", "--remote", "/nonexistent/remote.git"]);
    assert_eq!(unreachable.status.code(), Some(4));
    assert!(
        stderr(&unreachable).contains("git ls-remote /nonexistent/remote.git failed"),
        "{}",
        stderr(&unreachable)
    );
    assert!(stderr(&unreachable).contains("hint: check the remote's address"));
}

#[test]
fn fetch_all_fetches_from_every_remote() {
    let (one, two) = (Bare::new(), Bare::new());
    for (bare, id) in [(&one, "run-one"), (&two, "run-two")] {
        let sb = Sandbox::new();
        sb.record_session(id, "p", 1);
        sb.ok(&["push", &bare.path_url()], "");
    }
    let b = Sandbox::new();
    let out = b.pb(&["fetch", "--all"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    b.git(&["remote", "add", "one", &one.path_url()]);
    b.git(&["remote", "add", "two", &two.file_url()]);
    let out = b.pb(&["fetch", "--all", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let reports: Vec<serde_json::Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["runs"][0]["run"], "run-one");
    assert_eq!(reports[0]["runs"][0]["outcome"], "created");
    assert_eq!(reports[1]["runs"][0]["run"], "run-two");
    assert_eq!(b.pitboss_refs().lines().count(), 2);
    assert!(!b.tip("refs/pitboss-remotes/two/grind/run-two").is_empty());
    let out = b.pb(&["fetch", "one", "run-one", "no-such-run"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: run no-such-run is not on one"),
        "{}",
        stderr(&out)
    );
}

/// A run deleted on the remote between fetch's listing and its download: the fetch still
/// brings the others (git fetch fails as a whole on a named ref that is gone).
#[test]
fn a_run_deleted_on_the_remote_while_fetching_does_not_fail_the_fetch() {
    let bare = Bare::new();
    let a = Sandbox::new();
    a.git(&["remote", "add", "origin", &bare.path_url()]);
    a.record_session("keep", "p", 1);
    a.record_session("vanish", "p", 2);
    a.ok(&["push"], "");
    let b = Sandbox::new();
    b.git(&["remote", "add", "origin", &bare.path_url()]);
    // The second upload-pack (fetch's download, after its listing) first deletes `vanish`.
    let script = b.path("upload-pack.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nn=$(cat '{count}' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '{count}'\n\
             if [ $n = 2 ]; then git --git-dir='{bare}' update-ref -d refs/pitboss/grind/vanish; fi\n\
             exec git-upload-pack \"$@\"\n",
            count = b.path("count").display(),
            bare = bare.path.display()
        ),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .args(["+x", script.to_str().unwrap()])
        .status()
        .unwrap();
    b.git(&[
        "config",
        "remote.origin.uploadpack",
        script.to_str().unwrap(),
    ]);
    let out = b.pb(&["fetch"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("created    run keep"),
        "{}",
        stdout(&out)
    );
    assert!(!b.tip("refs/pitboss/grind/keep").is_empty());
    assert!(b.tip("refs/pitboss/grind/vanish").is_empty());
    assert_eq!(b.git(&["for-each-ref", "refs/pitboss-incoming/"]), "");
}
