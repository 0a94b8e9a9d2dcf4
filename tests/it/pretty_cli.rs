//! `git pitboss show <run> <seq> --pretty`: a session's transcript as a person reads it, from a
//! transcript recorded from the real Claude Code CLI, while `--transcript` stays byte-exact.

use crate::support::*;

fn claude_run(sb: &Sandbox) -> Vec<u8> {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/claude/write-and-commit.jsonl");
    let raw = std::fs::read(&fixture).unwrap();
    let mut record: serde_json::Value =
        serde_json::from_str(&record_json("write", "ok", Some("wrote it"))).unwrap();
    record["agent"] = "claude".into();
    let mut cmd = sb.git_pitboss();
    cmd.args(["record", RUN, "--create", "--transcript"])
        .arg(&fixture);
    let out = run_with_stdin(&mut cmd, &record.to_string());
    assert!(out.status.success(), "{}", stderr(&out));
    raw
}

#[test]
fn pretty_reads_a_claude_transcript_and_transcript_stays_exact() {
    let sb = Sandbox::new();
    let raw = claude_run(&sb);
    let exact = sb
        .git_pitboss()
        .args(["show", RUN, "1", "--transcript"])
        .output()
        .unwrap();
    assert_eq!(exact.stdout, raw);

    let pretty = sb
        .git_pitboss()
        .args(["show", RUN, "1", "--pretty"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(pretty.status.success(), "{}", stderr(&pretty));
    let text = stdout(&pretty);
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "· model claude-opus-4-8[1m], Claude Code 2.1.197",
            "I'll create the file first.",
            "→ Write /tmp/.tmpZZM3Tf/repo/hello.txt",
            "  ← File created successfully at: /tmp/.tmpZZM3Tf/repo/hello.txt (file state is current in your context — no need to Read it back)",
            "→ Bash git add hello.txt && git commit -q -m 'Add hello.txt'",
            "  ← (Bash completed with no output)",
            "Wrote hello.txt and committed it.",
            // The result's usage: 1440 input, 82 output, 6200 cache read, 3200 cache write
            // (as the record splits them; never cache reads added into "in").
            "✓ done · 3 turns · 1440 in / 82 out / 6200 cache read / 3200 cache write · $0.0323 · 0.2s",
        ]
    );
    assert!(!text.contains('\x1b'), "colour despite NO_COLOR: {text:?}");

    let forced = sb
        .git_pitboss()
        .args(["show", RUN, "1", "--pretty"])
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(
        stdout(&forced).contains("\x1b[32m"),
        "{:?}",
        stdout(&forced)
    );
}

#[test]
fn pretty_needs_a_session() {
    let sb = Sandbox::new();
    claude_run(&sb);
    let out = sb
        .git_pitboss()
        .args(["show", RUN, "--pretty"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64), "{}", stderr(&out));
    assert!(stderr(&out).contains("<SEQ>"), "{}", stderr(&out));
}

/// `why` on a line a Claude Code session wrote shows the transcript as `show --pretty` reads
/// it (the tool call that wrote the file), never raw stream-json.
#[test]
fn why_reads_a_claude_transcript_as_a_person_does() {
    let sb = Sandbox::new();
    std::fs::write(sb.repo.join("hello.txt"), "hello\n").unwrap();
    sb.git(&["add", "hello.txt"]);
    sb.git(&["commit", "-q", "-m", "Add hello.txt"]);
    let commit = sb.git(&["rev-parse", "HEAD"]).trim().to_string();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/claude/write-and-commit.jsonl");
    let mut record: serde_json::Value =
        serde_json::from_str(&record_json("write", "ok", Some("wrote it"))).unwrap();
    record["agent"] = "claude".into();
    record["commit"] = commit.into();
    let mut cmd = sb.git_pitboss();
    cmd.args(["record", RUN, "--create", "--transcript"])
        .arg(&fixture);
    let out = run_with_stdin(&mut cmd, &record.to_string());
    assert!(out.status.success(), "{}", stderr(&out));
    let out = sb
        .git_pitboss()
        .args(["why", "hello.txt:1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let why = stdout(&out);
    assert!(why.contains("session   1"), "{why}");
    assert!(
        why.contains("→ Write /tmp/.tmpZZM3Tf/repo/hello.txt"),
        "{why}"
    );
    assert!(!why.contains("{\"type\""), "raw stream-json: {why}");
}

/// A silent agent's session: `--pretty` said nothing at all and exited 0 (issue 22), which reads
/// as "it did not work". It says the transcript is empty, as a note like its other lines, while
/// `--transcript` prints the stored bytes: none.
#[test]
fn pretty_says_so_when_the_transcript_is_empty() {
    let p = crate::support::grind::Project::new();
    p.prompt("quiet", "").agent("true\n");
    let out = p.grind(&["--max-iterations", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let run = p.only_run();
    let show = |flag: &str| {
        p.sb.git_pitboss()
            .args(["show", &run, "1", flag])
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let exact = show("--transcript");
    assert!(exact.status.success(), "{}", stderr(&exact));
    assert_eq!(exact.stdout, b"");
    let pretty = show("--pretty");
    assert!(pretty.status.success(), "{}", stderr(&pretty));
    assert_eq!(
        stdout(&pretty),
        "· (the transcript is empty: the agent printed nothing)\n"
    );
    assert_eq!(stderr(&pretty), "");
    // watch's transcript box says it too, not a blank box.
    let screen =
        p.sb.git_pitboss()
            .args(["watch", &run, "--once"])
            .env("COLUMNS", "80")
            .env("LINES", "30")
            .output()
            .unwrap();
    assert!(screen.status.success(), "{}", stderr(&screen));
    let screen = stdout(&screen);
    assert!(screen.contains("transcript of session 0001"), "{screen}");
    assert!(screen.contains("(the transcript is empty)"), "{screen}");
}

/// A session recorded with no transcript (`record` without `--transcript`) by no agent grind
/// ran: whether anything was printed is not known, only that the transcript is empty.
#[test]
fn pretty_says_so_when_a_recorded_transcript_is_empty() {
    let sb = Sandbox::new();
    let mut cmd = sb.git_pitboss();
    cmd.args(["record", RUN, "--create"]);
    let out = run_with_stdin(&mut cmd, &record_json("write", "ok", None));
    assert!(out.status.success(), "{}", stderr(&out));
    let pretty = sb
        .git_pitboss()
        .args(["show", RUN, "1", "--pretty"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(pretty.status.success(), "{}", stderr(&pretty));
    assert_eq!(stdout(&pretty), "· (the transcript is empty)\n");
}
