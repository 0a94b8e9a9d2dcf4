//! Bad input gets a clear one-line error naming the thing, exit 4, and writes nothing.

mod common;

use common::*;

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
    let dup = record_json("p", "ok", None).replacen('{', r#"{"seq":1,"#, 1);
    let err = refused(&sb, &["record", RUN], &dup, &["already has a session 1"]);
    assert!(err.contains("hint: leave `seq` out"), "{err}");
    let other = record_json("p", "ok", None).replacen('{', r#"{"run_id":"someone-else","#, 1);
    refused(&sb, &["record", RUN], &other, &["someone-else"]);
    refused(
        &sb,
        &["record", RUN, "--transcript", "/nonexistent/t.log"],
        &record_json("p", "ok", None),
        &["/nonexistent/t.log"],
    );
    refused(&sb, &["show", RUN, "7"], "", &["no session 7"]);
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
