//! Bad input gets a clear one-line error naming the thing, exit 4, and writes nothing.

use crate::support::record::RecordJson;
use crate::support::*;

/// Runs the command, expects exit 4, an `error:` first line containing every needle, and no
/// change to any run ref.
fn refused(sb: &Sandbox, args: &[&str], stdin: &str, needles: &[&str]) -> String {
    let before = sb.pitboss_refs();
    let out = sb.run(args, stdin);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{args:?}: {err}");
    let first = err.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: "), "{args:?}: {err}");
    for n in needles {
        assert!(first.contains(n), "{args:?}: {n:?} not in {first:?}");
    }
    assert_eq!(sb.pitboss_refs(), before, "{args:?} wrote something");
    err
}

fn seeded() -> Sandbox {
    let sb = Sandbox::new();
    for id in [RUN, "20261124T100000Z-abce"] {
        sb.ok(&["record", id, "--create"], &record_json("p", "ok", None));
    }
    sb
}

#[test]
fn run_ids_and_prefixes() {
    let sb = seeded();
    refused(&sb, &["log", "nope"], "", &["run nope does not exist"]);
    refused(&sb, &["log", "a/../b"], "", &["'/'"]);
    refused(&sb, &["show", "--", "-x"], "", &["cannot start with '-'"]);
    refused(&sb, &["log", "x.lock"], "", &[".lock"]);
    refused(&sb, &["log", "has space"], "", &["a space"]);
    refused(&sb, &["log", "bad\u{1}id"], "", &["control character"]);
    refused(&sb, &["log", &"a".repeat(80)], "", &["too long"]);
    let err = refused(
        &sb,
        &["log", "20261124T100000Z-abc"],
        "",
        &["ambiguous", RUN, "20261124T100000Z-abce"],
    );
    assert!(err.contains("hint: type more characters"), "{err}");
    refused(
        &sb,
        &["record", "bad..id", "--create"],
        &record_json("p", "ok", None),
        &["'..'"],
    );
    refused(
        &sb,
        &["import", sb.repo.to_str().unwrap(), "--id", "x/y"],
        "",
        &["'/'"],
    );
}

#[test]
fn records() {
    let sb = seeded();
    refused(
        &sb,
        &["record", RUN],
        "{not json",
        &["malformed record", "line 1"],
    );
    refused(
        &sb,
        &["record", RUN],
        &record_json("p", "fantastic", None),
        &["field `status`", "fantastic"],
    );
    refused(
        &sb,
        &["record", RUN],
        r#"{"prompt":"p","status":"ok","ended_at":"2026-01-01T00:00:00Z"}"#,
        &["started_at"],
    );
    refused(
        &sb,
        &["record", RUN],
        r#"{"prompt":"p","status":"ok","started_at":"noon","ended_at":"2026-01-01T00:00:00Z"}"#,
        &["field `started_at`", "RFC 3339"],
    );
    let dup = RecordJson::new("p").field("seq", 1).json();
    let err = refused(&sb, &["record", RUN], &dup, &["already has a session 1"]);
    assert!(err.contains("hint: leave `seq` out"), "{err}");
    let other = RecordJson::new("p").field("run_id", "someone-else").json();
    refused(&sb, &["record", RUN], &other, &["someone-else"]);
    refused(
        &sb,
        &["record", RUN, "--transcript", "/nonexistent/t.log"],
        &record_json("p", "ok", None),
        &["/nonexistent/t.log"],
    );
    refused(&sb, &["show", RUN, "7"], "", &["no session 7"]);
}

/// `record --create` refused for its record (or its transcript) creates no empty run: exit 4
/// means nothing was written.
#[test]
fn refused_record_create_writes_no_run() {
    let sb = seeded();
    let new = "20261124T110000Z-beef";
    let other = RecordJson::new("p").field("run_id", "someone-else").json();
    refused(&sb, &["record", new, "--create"], &other, &["someone-else"]);
    let backwards = RecordJson::new("p")
        .field("ended_at", "2025-01-01T00:00:00Z")
        .json();
    refused(&sb, &["record", new, "--create"], &backwards, &["ended_at"]);
}

#[test]
fn import_directories() {
    let sb = seeded();
    let dir = sb.path("d");
    std::fs::create_dir_all(dir.join("transcripts")).unwrap();
    std::fs::write(dir.join("transcripts/session-0001.log"), "x").unwrap();
    refused(
        &sb,
        &["import", dir.to_str().unwrap()],
        "",
        &["state.json is missing"],
    );
    std::fs::write(dir.join("state.json"), r#"{"status":"finished"}"#).unwrap();
    refused(
        &sb,
        &["import", dir.to_str().unwrap()],
        "",
        &["sessions.jsonl is missing"],
    );
    let second = ORIGINAL_LINE
        .replace(r#""seq":1"#, r#""seq":2"#)
        .replace("session-0001", "session-0002");
    std::fs::write(
        dir.join("sessions.jsonl"),
        format!("{ORIGINAL_LINE}\n{}\n", &second[..40]),
    )
    .unwrap();
    refused(
        &sb,
        &["import", dir.to_str().unwrap()],
        "",
        &["sessions.jsonl:2:"],
    );
    std::fs::write(
        dir.join("sessions.jsonl"),
        format!("{ORIGINAL_LINE}\n{ORIGINAL_LINE}\n"),
    )
    .unwrap();
    refused(
        &sb,
        &["import", dir.to_str().unwrap()],
        "",
        &["sessions.jsonl:2:", "session 1 appears twice"],
    );
    std::fs::write(
        dir.join("sessions.jsonl"),
        format!("{ORIGINAL_LINE}\n{second}\n"),
    )
    .unwrap();
    refused(
        &sb,
        &["import", dir.to_str().unwrap()],
        "",
        &["sessions.jsonl:2:", "session-0002.log", "missing"],
    );
    let evil = second.replace("transcripts/session-0002.log", "../../etc/passwd");
    std::fs::write(
        dir.join("sessions.jsonl"),
        format!("{ORIGINAL_LINE}\n{evil}\n"),
    )
    .unwrap();
    refused(
        &sb,
        &["import", dir.to_str().unwrap()],
        "",
        &["leaves the run directory"],
    );
    std::fs::write(dir.join("state.json"), "[]").unwrap();
    std::fs::write(dir.join("sessions.jsonl"), format!("{ORIGINAL_LINE}\n")).unwrap();
    refused(
        &sb,
        &["import", dir.to_str().unwrap()],
        "",
        &["state.json", "object"],
    );
    refused(
        &sb,
        &["import", sb.path("nowhere").to_str().unwrap()],
        "",
        &["nowhere is missing"],
    );
    // An export target that is not empty.
    std::fs::write(sb.path("full"), "").unwrap();
    refused(
        &sb,
        &["export", RUN, sb.path("d").to_str().unwrap()],
        "",
        &["not empty"],
    );
}

#[test]
fn repositories_git2_cannot_open() {
    let sb = Sandbox::new();
    let plain = sb.path("plain");
    std::fs::create_dir_all(&plain).unwrap();
    // Stop discovery at the temp dir, so an enclosing repository is never found.
    let out = run_with_stdin(
        sb.pitboss_in(&plain)
            .env("GIT_CEILING_DIRECTORIES", sb.dir.path())
            .args(["ls"]),
        "",
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("error: not a git repository"),
        "{}",
        stderr(&out)
    );
    for (name, flag, needle) in [
        ("rt", "--ref-format=reftable", "reftable"),
        ("sha", "--object-format=sha256", "SHA-256"),
    ] {
        let p = sb.path(name);
        sb.git_in(sb.dir.path(), &["init", "-q", flag, p.to_str().unwrap()]);
        let out = run_with_stdin(sb.pitboss_in(&p).args(["ls"]), "");
        assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.starts_with("error: ") && err.contains(needle) && err.contains("cannot read"),
            "{err}"
        );
    }
}

#[test]
fn unknown_commands_and_flags_are_usage_errors() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&["frobnicate"], "").status.code(), Some(64));
    assert_eq!(sb.run(&["log"], "").status.code(), Some(64));
    assert_eq!(
        sb.run(&["log", "x", "--jsonl", "--md"], "").status.code(),
        Some(64)
    );
    assert_eq!(sb.run(&["--help"], "").status.code(), Some(0));
}

#[test]
fn a_record_over_the_shared_cap_is_refused() {
    let sb = seeded();
    let big = record_json("p", "ok", Some(&"x".repeat(1536 * 1024)));
    let err = refused(
        &sb,
        &["record", RUN],
        &big,
        &["a record may be at most 1048576 bytes"],
    );
    assert!(err.contains("hint: shorten the summary"), "{err}");
}

/// `import` never reads a file outside the run directory: a transcript, scratchpad, patch or
/// state that is a symlink, or sits under a symlinked directory, is refused by name, and what
/// it points at reaches no object.
#[test]
fn import_refuses_symlinks_anywhere_in_the_run_directory() {
    use std::os::unix::fs::symlink;
    let sb = Sandbox::new();
    let outside = sb.path("outside");
    std::fs::create_dir_all(&outside).unwrap();
    const PRIVATE: &str = "PRIVATE-KEY-MATERIAL-0xdeadbeef";
    for f in [
        "session-0001.log",
        "session-0001.patch",
        "scratchpad.md",
        "state.json",
    ] {
        let body = if f == "state.json" {
            format!(r#"{{"status":"finished","note":"{PRIVATE}"}}"#)
        } else {
            PRIVATE.to_string()
        };
        std::fs::write(outside.join(f), body).unwrap();
    }
    let fresh = |name: &str| {
        let dir = sb.path(name);
        std::fs::create_dir_all(dir.join("transcripts")).unwrap();
        std::fs::write(dir.join("transcripts/session-0001.log"), "log").unwrap();
        std::fs::write(dir.join("state.json"), r#"{"status":"finished"}"#).unwrap();
        std::fs::write(dir.join("sessions.jsonl"), format!("{ORIGINAL_LINE}\n")).unwrap();
        dir
    };
    type Spoil<'a> = &'a dyn Fn(&std::path::Path);
    let cases: [(&str, Spoil<'_>, &str); 5] = [
        (
            "transcript",
            &|d| {
                std::fs::remove_file(d.join("transcripts/session-0001.log")).unwrap();
                symlink(
                    outside.join("session-0001.log"),
                    d.join("transcripts/session-0001.log"),
                )
                .unwrap();
            },
            "transcripts/session-0001.log is a symlink",
        ),
        (
            "transcripts-dir",
            &|d| {
                std::fs::remove_dir_all(d.join("transcripts")).unwrap();
                std::fs::create_dir_all(outside.join("transcripts")).unwrap();
                std::fs::copy(
                    outside.join("session-0001.log"),
                    outside.join("transcripts/session-0001.log"),
                )
                .unwrap();
                symlink(outside.join("transcripts"), d.join("transcripts")).unwrap();
            },
            "transcripts is a symlink",
        ),
        (
            "patches-dir",
            &|d| {
                std::fs::create_dir_all(outside.join("patches")).unwrap();
                std::fs::copy(
                    outside.join("session-0001.patch"),
                    outside.join("patches/session-0001.patch"),
                )
                .unwrap();
                symlink(outside.join("patches"), d.join("patches")).unwrap();
            },
            "patches is a symlink",
        ),
        (
            "scratchpad",
            &|d| {
                symlink(outside.join("scratchpad.md"), d.join("scratchpad.md")).unwrap();
            },
            "scratchpad.md is a symlink",
        ),
        (
            "state",
            &|d| {
                std::fs::remove_file(d.join("state.json")).unwrap();
                symlink(outside.join("state.json"), d.join("state.json")).unwrap();
            },
            "state.json is a symlink",
        ),
    ];
    for (name, spoil, want) in cases {
        let dir = fresh(name);
        spoil(&dir);
        let out = sb
            .git_pitboss()
            .args(["import", dir.to_str().unwrap(), "--id", RUN])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(4), "{name}: {err}");
        assert!(err.contains(want), "{name}: {err}");
        assert_eq!(sb.pitboss_refs(), "", "{name} wrote a run");
    }
    let objects = sb.git_output_in(&sb.repo, &["cat-file", "--batch-all-objects", "--batch"]);
    assert!(!String::from_utf8_lossy(&objects.stdout).contains(PRIVATE));
    // The same directory without links imports.
    let dir = fresh("plain");
    let out = sb
        .git_pitboss()
        .args(["import", dir.to_str().unwrap(), "--id", RUN])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Runs `git pitboss <args>` as users do, expects exit `code`, an `error:` first line holding
/// every needle, and no change to any run ref.
fn fails_via_git(sb: &Sandbox, args: &[&str], stdin: &str, code: i32, needles: &[&str]) -> String {
    let before = sb.pitboss_refs();
    let out = run_with_stdin(sb.git_pitboss().args(args), stdin);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    let first = err.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: "), "{args:?}: {err}");
    for n in needles {
        assert!(first.contains(n), "{args:?}: {n:?} not in {first:?}");
    }
    assert_eq!(sb.pitboss_refs(), before, "{args:?} wrote something");
    err
}

/// Issue 11's error table: a NUL in a record is bad input naming the field, at every door.
#[test]
fn a_nul_in_a_record_is_refused_naming_the_field() {
    let sb = seeded();
    let nul = record_json("p", "ok", Some("before\u{0}after"));
    assert!(nul.contains("\\u0000"), "{nul}");
    fails_via_git(
        &sb,
        &["record", RUN],
        &nul,
        4,
        &["field `summary`: contains a NUL character"],
    );
    let dir = sb.path("nul-run");
    std::fs::create_dir_all(dir.join("transcripts")).unwrap();
    std::fs::write(dir.join("transcripts/session-0001.log"), "x").unwrap();
    std::fs::write(dir.join("state.json"), r#"{"status":"finished"}"#).unwrap();
    let line = ORIGINAL_LINE.replace(r#""prompt":"fp-hunter""#, r#""prompt":"fp\u0000hunter""#);
    std::fs::write(dir.join("sessions.jsonl"), format!("{line}\n")).unwrap();
    fails_via_git(
        &sb,
        &["import", dir.to_str().unwrap(), "--id", "nul-run"],
        "",
        4,
        &[
            "sessions.jsonl:1:",
            "field `prompt`: contains a NUL character",
        ],
    );
}

/// Issue 11's error table: `export` onto a file or a symlink says so, exit 4, and leaves no
/// temporary directory behind.
#[test]
fn export_onto_a_file_or_a_symlink_is_refused_and_leaves_nothing() {
    let sb = seeded();
    let out = sb.path("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("file"), "mine").unwrap();
    std::fs::create_dir_all(out.join("empty")).unwrap();
    std::os::unix::fs::symlink(out.join("empty"), out.join("to-empty")).unwrap();
    std::os::unix::fs::symlink(out.join("nowhere"), out.join("dangling")).unwrap();
    for (name, what) in [
        ("file", "is a file"),
        ("to-empty", "is a symbolic link"),
        ("dangling", "is a symbolic link"),
    ] {
        let target = out.join(name);
        fails_via_git(
            &sb,
            &["export", RUN, target.to_str().unwrap()],
            "",
            4,
            &[name, what, "not a directory"],
        );
        let left: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".pitboss-export-"))
            .collect();
        assert!(left.is_empty(), "export onto {name} left {left:?}");
    }
    assert_eq!(std::fs::read_to_string(out.join("file")).unwrap(), "mine");
    assert!(
        std::fs::read_dir(out.join("empty"))
            .unwrap()
            .next()
            .is_none()
    );
}

/// Issue 11's error table: `record --transcript` of a directory is bad input, not exit 70.
#[test]
fn record_transcript_of_a_directory_is_refused() {
    let sb = seeded();
    let dir = sb.path("a-dir");
    std::fs::create_dir_all(&dir).unwrap();
    fails_via_git(
        &sb,
        &["record", RUN, "--transcript", dir.to_str().unwrap()],
        &record_json("p", "ok", None),
        4,
        &["a-dir is not a file"],
    );
}

/// What teammates' `fetch` refuses, `record` and `import` refuse too (one validator).
#[test]
fn record_and_import_keep_the_store_rules() {
    let sb = seeded();
    let with = |key: &str, value: serde_json::Value| {
        let mut v: serde_json::Value = serde_json::from_str(&record_json("p", "ok", None)).unwrap();
        v[key] = value;
        v.to_string()
    };
    let cases = [
        (with("seq", u64::MAX.into()), "`seq`"),
        (with("cost_usd", (-0.5).into()), "`cost_usd`"),
        (
            with("ended_at", "2026-04-30T18:00:00Z".into()),
            "`ended_at`",
        ),
        (with("commit", "not-a-sha".into()), "`commit`"),
    ];
    for (record, field) in &cases {
        let err = refused(
            &sb,
            &["record", RUN],
            record,
            &["breaks the store's rules", field],
        );
        assert!(err.contains("hint: "), "{err}");
    }
    let big = sb.path("big.log");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len((64 << 20) + 1).unwrap();
    refused(
        &sb,
        &["record", RUN, "--transcript", big.to_str().unwrap()],
        &record_json("p", "ok", None),
        &["transcript is 64.0 MiB, over the 64.0 MiB cap"],
    );
    // The same record through import.
    let dir = sb.path("imp");
    std::fs::create_dir_all(dir.join("transcripts")).unwrap();
    std::fs::write(dir.join("transcripts/session-0001.log"), "x").unwrap();
    std::fs::write(dir.join("state.json"), r#"{"status":"finished"}"#).unwrap();
    let negative = ORIGINAL_LINE.replace(r#""cost_usd":0.0123"#, r#""cost_usd":-1"#);
    std::fs::write(dir.join("sessions.jsonl"), format!("{negative}\n")).unwrap();
    refused(
        &sb,
        &["import", dir.to_str().unwrap()],
        "",
        &["breaks the store's rules", "`cost_usd`"],
    );
    std::fs::write(dir.join("sessions.jsonl"), format!("{ORIGINAL_LINE}\n")).unwrap();
    std::fs::write(dir.join("scratchpad.md"), vec![b'x'; (16 << 20) + 1]).unwrap();
    refused(
        &sb,
        &["import", dir.to_str().unwrap()],
        "",
        &["scratchpad is 16.0 MiB, over the 16.0 MiB cap"],
    );
}
