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

/// Floats a record carries come back exactly: `record` keeps them, and export → import →
/// export is byte-identical (serde_json's default parser rounds the last digit of some).
#[test]
fn floats_round_trip_exactly_through_record_export_and_import() {
    let sb = Sandbox::new();
    let exact = "0.011067500000000001";
    let line = record_json("fp-hunter", "ok", None).replace("0.0123", exact);
    let mut cmd = sb.git_pitboss();
    cmd.args(["record", RUN, "--create"]);
    let out = run_with_stdin(&mut cmd, &line);
    assert!(out.status.success(), "{}", stderr(&out));
    let stored = sb.ok(&["log", RUN, "--jsonl"], "");
    assert!(
        stored.contains(&format!("\"cost_usd\":{exact}")),
        "record changed the float: {stored}"
    );
    let first = sb.path("first");
    let second = sb.path("second");
    sb.ok(&["export", RUN, first.to_str().unwrap()], "");
    sb.ok(&["import", first.to_str().unwrap(), "--id", "copy"], "");
    sb.ok(&["export", "copy", second.to_str().unwrap()], "");
    let a = std::fs::read_to_string(first.join("sessions.jsonl")).unwrap();
    let b = std::fs::read_to_string(second.join("sessions.jsonl")).unwrap();
    assert!(a.contains(exact), "{a}");
    assert_eq!(a.replace(RUN, "copy"), b);
}

/// A run from elsewhere (imported here; fetched runs are the same) whose texts carry terminal
/// escapes: a window title, a screen clear, an OSC-8 link, a cursor move, a bidi override.
/// Human output shows them as visible escapes and never sends them to the terminal.
#[test]
fn terminal_escapes_in_a_run_are_shown_not_obeyed() {
    let sb = Sandbox::new();
    let dir = sb.path("hostile");
    std::fs::create_dir_all(dir.join("transcripts")).unwrap();
    std::fs::write(dir.join("transcripts/session-0001.log"), "log").unwrap();
    let evil = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}]8;;http://evil\u{1b}\\click\u{1b}[5A\u{202e}";
    let mut record: serde_json::Value = serde_json::from_str(ORIGINAL_LINE).unwrap();
    record["summary"] = evil.into();
    record["prompt"] = "fp\u{1b}[31mhunter".into();
    record["model"] = evil.into();
    std::fs::write(dir.join("sessions.jsonl"), format!("{record}\n")).unwrap();
    let state = serde_json::json!({"status": format!("fin{evil}"), "stop_reason": evil});
    std::fs::write(dir.join("state.json"), state.to_string()).unwrap();
    let out = sb
        .git_pitboss()
        .args(["import", dir.to_str().unwrap(), "--id", RUN])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for args in [
        vec!["log", RUN],
        vec!["log", RUN, "--md"],
        vec!["show", RUN],
        vec!["show", RUN, "1"],
        vec!["ls"],
    ] {
        let out = sb.git_pitboss().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'),
            "{args:?} printed a raw control character: {text:?}"
        );
        assert!(text.contains("\\e["), "{args:?}: {text}");
    }
}
