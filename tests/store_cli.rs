//! The run store through the real binary and plain git: what users and their tools see.

mod common;

use common::*;

fn seed_run(sb: &Sandbox) {
    std::fs::write(sb.path("t1.log"), "first transcript\n").unwrap();
    sb.ok(
        &[
            "record",
            RUN,
            "--create",
            "--transcript",
            sb.path("t1.log").to_str().unwrap(),
        ],
        &record_json("fp-hunter", "ok", Some("fixed the foo bug")),
    );
    sb.ok(&["record", RUN], &record_json("docs", "error", None));
    sb.ok(
        &["record", "20261124"],
        &record_json("fp-hunter", "dirty", Some("left work\n\nsecond paragraph")),
    );
}

#[test]
fn plain_git_reads_a_run() {
    let sb = Sandbox::new();
    seed_run(&sb);
    let refname = format!("refs/pitboss/grind/{RUN}");
    let statuses = sb.git(&[
        "log",
        "--format=%(trailers:key=Pitboss-Status,valueonly)%x00",
        &refname,
    ]);
    let statuses: Vec<&str> = statuses
        .split('\0')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(statuses, vec!["dirty", "error", "ok"]);
    let subjects = sb.git(&["log", "--format=%s", &refname]);
    assert_eq!(
        subjects,
        format!(
            "session 0003 fp-hunter: dirty\nsession 0002 docs: error\nsession 0001 fp-hunter: ok\nrun {RUN} started\n"
        )
    );
    let first = sb.git(&["show", &format!("{refname}:sessions/00/0001.jsonl")]);
    assert!(
        first.starts_with(r#"{"seq":1,"run_id":"20261124T100000Z-abcd","prompt":"fp-hunter""#),
        "{first}"
    );
    assert_eq!(first.lines().count(), 1);
    assert_eq!(
        sb.git(&[
            "show",
            &format!("{refname}:transcripts/00/session-0001.log")
        ]),
        "first transcript\n"
    );
    // Every trailer of the contract is there.
    let body = sb.git(&["log", "-1", "--format=%B", &format!("{refname}~1")]);
    for t in [
        "Pitboss-Run: 20261124T100000Z-abcd",
        "Pitboss-Session: 2",
        "Pitboss-Prompt: docs",
        "Pitboss-Status: error",
        "Pitboss-Commit: none",
        "Pitboss-Tokens: 1000 in / 500 out",
        "Pitboss-Cost-USD: 0.0123",
        "Pitboss-Schema: 1",
    ] {
        assert!(body.contains(t), "missing {t:?} in\n{body}");
    }
    // One reflog entry per commit.
    assert_eq!(sb.git(&["reflog", "show", &refname]).lines().count(), 4);
    // fsck --strict is clean.
    let fsck = sb.git_output_in(&sb.repo, &["fsck", "--strict", "--no-dangling"]);
    assert!(fsck.status.success(), "{}", stderr(&fsck));
    assert!(!String::from_utf8_lossy(&fsck.stdout).contains("error"));
    // gc --prune=now loses nothing.
    let before = sb.ok(&["log", RUN, "--jsonl"], "");
    sb.git(&["gc", "-q", "--prune=now"]);
    assert_eq!(sb.ok(&["log", RUN, "--jsonl"], ""), before);
    assert_eq!(before.lines().count(), 3);
}

#[test]
fn log_formats_and_show() {
    let sb = Sandbox::new();
    seed_run(&sb);
    let md = sb.ok(&["log", RUN, "--md"], "");
    assert!(
        md.starts_with("# Sessions\n\n## session-0001 — fp-hunter (ok)\n"),
        "{md}"
    );
    assert!(
        md.contains("- summary:\n\n    left work\n\n    second paragraph\n\n"),
        "{md}"
    );
    let json: Vec<serde_json::Value> =
        serde_json::from_str(&sb.ok(&["log", RUN, "--json"], "")).unwrap();
    assert_eq!(json.len(), 3);
    assert_eq!(json[1]["status"], "error");
    let human = sb.ok(&["log", RUN], "");
    assert_eq!(human.lines().count(), 3);
    assert!(
        human.lines().next().unwrap().contains("fixed the foo bug"),
        "{human}"
    );
    let show = sb.ok(&["show", RUN], "");
    assert!(
        show.contains("sessions  3 (1 dirty, 1 error, 1 ok)"),
        "{show}"
    );
    assert!(show.contains("cost      $0.0369"), "{show}");
    assert_eq!(
        sb.ok(&["show", RUN, "1", "--transcript"], ""),
        "first transcript\n"
    );
    let one: serde_json::Value =
        serde_json::from_str(&sb.ok(&["show", RUN, "2", "--json"], "")).unwrap();
    assert_eq!(one["prompt"], "docs");
    let ls: Vec<serde_json::Value> = serde_json::from_str(&sb.ok(&["ls", "--json"], "")).unwrap();
    assert_eq!(ls.len(), 1);
    assert_eq!(ls[0]["id"], RUN);
    assert_eq!(ls[0]["sessions"], 3);
    let table = sb.ok(&["ls"], "");
    assert!(table.starts_with("ID "), "{table}");
    assert!(table.lines().nth(1).unwrap().starts_with(RUN), "{table}");
}

#[test]
fn ls_on_empty_repo_says_so() {
    let sb = Sandbox::new();
    let out = sb.run(&["ls"], "");
    assert!(out.status.success());
    assert!(stdout(&out).is_empty());
    assert!(stderr(&out).contains("no runs yet"));
    assert_eq!(sb.ok(&["ls", "--json"], "").trim(), "[]");
}

#[test]
fn export_import_round_trip_across_repositories() {
    let a = Sandbox::new();
    seed_run(&a);
    let dir = a.path("exported");
    a.ok(&["export", RUN, dir.to_str().unwrap()], "");
    for f in [
        "state.json",
        "sessions.jsonl",
        "sessions.md",
        "scratchpad.md",
        "transcripts/session-0001.log",
        "transcripts/session-0003.log",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("sessions.md")).unwrap(),
        a.ok(&["log", RUN, "--md"], "")
    );
    let b = Sandbox::new();
    let out = b.ok(&["import", dir.to_str().unwrap()], "");
    assert_eq!(out.trim(), RUN);
    assert_eq!(
        b.ok(&["log", RUN, "--jsonl"], ""),
        a.ok(&["log", RUN, "--jsonl"], "")
    );
    assert_eq!(
        b.ok(&["show", RUN, "1", "--transcript"], ""),
        "first transcript\n"
    );
    // The same again is refused, and changes nothing.
    let before = b.pitboss_refs();
    let again = b.run(&["import", dir.to_str().unwrap()], "");
    assert_eq!(again.status.code(), Some(4));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    assert_eq!(b.pitboss_refs(), before);
    // Under another id it works.
    b.ok(&["import", dir.to_str().unwrap(), "--id", "copy"], "");
    assert_eq!(
        b.ok(&["log", "copy", "--json"], "")
            .matches("\"seq\"")
            .count(),
        3
    );
}

#[test]
fn file_based_records_import_unchanged() {
    let sb = Sandbox::new();
    let dir = sb.path("old-run");
    std::fs::create_dir_all(dir.join("transcripts")).unwrap();
    let second = ORIGINAL_LINE
        .replace(r#""seq":1"#, r#""seq":2"#)
        .replace(r#""status":"ok""#, r#""status":"error""#)
        .replace(
            r#""summary":"fixed the foo bug in bar.rs""#,
            r#""summary":null"#,
        )
        .replace(
            r#""commit":"abc1234000000000000000000000000000000001""#,
            r#""commit":null"#,
        )
        .replace("session-0001.log", "session-0002.log");
    std::fs::write(
        dir.join("sessions.jsonl"),
        format!("{ORIGINAL_LINE}\n{second}\n"),
    )
    .unwrap();
    std::fs::write(dir.join("state.json"), r#"{"status":"finished","started_at":"2026-04-30T18:00:00Z","last_updated_at":"2026-04-30T18:07:00Z","last_session_seq":2}"#).unwrap();
    std::fs::write(dir.join("scratchpad.md"), "- remember bar.rs\n").unwrap();
    std::fs::write(dir.join("transcripts/session-0001.log"), "one\n").unwrap();
    std::fs::write(dir.join("transcripts/session-0002.log"), "two\n").unwrap();
    assert_eq!(sb.ok(&["import", dir.to_str().unwrap()], "").trim(), "rid");
    assert_eq!(
        sb.ok(&["log", "rid", "--jsonl"], ""),
        format!("{ORIGINAL_LINE}\n{second}\n")
    );
    let md = sb.ok(&["log", "rid", "--md"], "");
    assert!(md.contains("## session-0002 — fp-hunter (error)\n"), "{md}");
    let ls: Vec<serde_json::Value> = serde_json::from_str(&sb.ok(&["ls", "--json"], "")).unwrap();
    assert_eq!(ls[0]["status"], "finished");
    assert_eq!(ls[0]["sessions"], 2);
    let out = sb.path("again");
    sb.ok(&["export", "rid", out.to_str().unwrap()], "");
    assert_eq!(
        std::fs::read_to_string(out.join("scratchpad.md")).unwrap(),
        "- remember bar.rs\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("sessions.jsonl")).unwrap(),
        format!("{ORIGINAL_LINE}\n{second}\n")
    );
}

#[test]
fn identity_is_the_users_or_the_pitboss_fallback() {
    let sb = Sandbox::new();
    sb.ok(
        &["record", "with-user", "--create"],
        &record_json("p", "ok", None),
    );
    assert_eq!(
        sb.git(&[
            "log",
            "-1",
            "--format=%an <%ae>",
            "refs/pitboss/grind/with-user"
        ]),
        "Test User <test@example.com>\n"
    );
    sb.git(&["config", "--unset", "user.name"]);
    sb.git(&["config", "--unset", "user.email"]);
    sb.ok(
        &["record", "no-user", "--create"],
        &record_json("p", "ok", None),
    );
    assert_eq!(
        sb.git(&[
            "log",
            "-1",
            "--format=%an <%ae>|%cn <%ce>",
            "refs/pitboss/grind/no-user"
        ]),
        "pitboss <pitboss@localhost>|pitboss <pitboss@localhost>\n"
    );
}

/// `git update-ref --stdin` between `prepare` and `commit` holds the run ref's lock for as long
/// as its driver likes, with the lock file open in no process. An append waits for it (past
/// the 4 s after which it looks at stale locks) and never removes it; git's transaction then
/// commits cleanly, and the append goes through after it.
#[test]
fn a_live_git_transaction_keeps_its_lock() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let sb = Sandbox::new();
    sb.ok(&["record", RUN, "--create"], &record_json("p", "ok", None));
    let refname = format!("refs/pitboss/grind/{RUN}");
    let tip = sb.git(&["rev-parse", &refname]).trim().to_string();
    let mut git = Command::new("git")
        .args(["update-ref", "--stdin"])
        .current_dir(&sb.repo)
        .env("HOME", &sb.home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut to_git = git.stdin.take().unwrap();
    let mut from_git = BufReader::new(git.stdout.take().unwrap());
    let mut reply = |line: &str| -> String {
        let mut s = String::new();
        assert!(
            from_git.read_line(&mut s).unwrap() > 0,
            "{line}: git said nothing"
        );
        s
    };
    write!(to_git, "start\nupdate {refname} {tip} {tip}\nprepare\n").unwrap();
    to_git.flush().unwrap();
    assert_eq!(reply("start"), "start: ok\n");
    assert_eq!(reply("prepare"), "prepare: ok\n");
    let lock = sb.repo.join(".git").join(format!("{refname}.lock"));
    assert!(lock.exists());

    let mut record = sb.git_pitboss();
    record
        .args(["record", RUN])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut record = record.spawn().unwrap();
    record
        .stdin
        .take()
        .unwrap()
        .write_all(record_json("q", "ok", None).as_bytes())
        .unwrap();
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(6));
    assert!(lock.exists(), "the live transaction's lock was removed");
    assert!(record.try_wait().unwrap().is_none(), "record did not wait");

    writeln!(to_git, "commit").unwrap();
    to_git.flush().unwrap();
    assert_eq!(reply("commit"), "commit: ok\n");
    drop(to_git);
    assert!(git.wait().unwrap().success());

    let out = record.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "2");
    assert!(started.elapsed() >= Duration::from_secs(6));
    let log = sb.git(&["reflog", "show", "--format=%H", &refname]);
    let run_tip = sb.git(&["rev-parse", &refname]).trim().to_string();
    assert_eq!(log.lines().next(), Some(run_tip.as_str()), "{log}");
    for oid in log.lines() {
        sb.git(&["cat-file", "-e", &format!("{oid}^{{commit}}")]);
    }
}

/// `git gc --prune=now` beside an append can delete the commit a run ref was just moved to.
/// `ls` and `log` then say the run is damaged and give the command that restores its newest
/// intact commit from the reflog; running it brings the run back.
#[test]
fn a_run_whose_tip_commit_is_missing_is_reported_damaged() {
    let sb = Sandbox::new();
    sb.ok(&["record", RUN, "--create"], &record_json("p", "ok", None));
    sb.ok(&["record", RUN], &record_json("q", "ok", None));
    let refname = format!("refs/pitboss/grind/{RUN}");
    let tip = sb.git(&["rev-parse", &refname]).trim().to_string();
    let before = sb
        .git(&["rev-parse", &format!("{tip}~1")])
        .trim()
        .to_string();
    std::fs::remove_file(
        sb.repo
            .join(format!(".git/objects/{}/{}", &tip[..2], &tip[2..])),
    )
    .unwrap();
    let restore = format!("git update-ref {refname} {before} {tip}");

    let out = sb.run(&["ls"], "");
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "run {RUN} is damaged: its tip commit {tip} is missing from the object store"
        )),
        "{err}"
    );
    assert!(err.contains(&restore), "{err}");
    assert!(!err.contains("update-ref -d"), "{err}");

    let out = sb.run(&["log", RUN], "");
    assert_eq!(out.status.code(), Some(4));
    let err = stderr(&out);
    assert!(
        err.contains("is damaged") && err.contains(&restore),
        "{err}"
    );

    let args: Vec<&str> = restore.split(' ').skip(1).collect();
    sb.git(&args);
    let records: Vec<serde_json::Value> =
        serde_json::from_str(&sb.ok(&["log", RUN, "--json"], "")).unwrap();
    assert_eq!(records.len(), 1);
    assert!(sb.ok(&["ls"], "").contains(RUN));
}
