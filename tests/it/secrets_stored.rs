//! What `record --transcript` and `import` bring in is redacted before it is stored, like what
//! grind stores: records (summaries and every other string), transcripts, scratchpads,
//! `run.json` and patches. Checked over every object of the repository.

use std::process::Output;

use crate::support::{RUN, Sandbox, record_json, run_with_stdin};

/// A GitHub token, redacted by its shape.
const SHAPED: &str = "ghp_Zq8vLw3TnR5pX2kY7mJ4hB9cD6fG1sA0eUxy";
/// A secret of no known shape in a `*_TOKEN` variable of the importing process.
const NAMED: &str = "correct-horse-battery-staple-8812";

fn git_pitboss(sb: &Sandbox, args: &[&str], stdin: &str) -> Output {
    let mut cmd = sb.git_pitboss();
    cmd.args(args).env("DEPLOY_TOKEN", NAMED);
    run_with_stdin(&mut cmd, stdin)
}

fn all_objects(sb: &Sandbox) -> Vec<u8> {
    let out = sb.git_output_in(&sb.repo, &["cat-file", "--batch-all-objects", "--batch"]);
    assert!(out.status.success());
    out.stdout
}

fn assert_nowhere(sb: &Sandbox) {
    let all = all_objects(sb);
    for secret in [SHAPED, NAMED, "hunter2hunter2"] {
        assert!(
            !all.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} is in an object of the repository"
        );
    }
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn record_with_a_transcript_stores_both_redacted() {
    let sb = Sandbox::new();
    let transcript = sb.path("session.log");
    std::fs::write(
        &transcript,
        format!(
            "token {SHAPED}\nnamed {NAMED}\n{{\"password\": \"hunter2hunter2\"}}\nplain line\n"
        ),
    )
    .unwrap();
    let summary = format!("pushed with {SHAPED} and {NAMED}");
    let record = record_json("p", "ok", Some(&summary));
    let out = git_pitboss(
        &sb,
        &[
            "record",
            RUN,
            "--create",
            "--transcript",
            transcript.to_str().unwrap(),
        ],
        &record,
    );
    assert_eq!(ok(&out).trim(), "1");
    let log: serde_json::Value =
        serde_json::from_str(&ok(&git_pitboss(&sb, &["log", RUN, "--json"], ""))).unwrap();
    assert_eq!(log[0]["summary"], "pushed with [REDACTED] and [REDACTED]");
    let shown = ok(&git_pitboss(&sb, &["show", RUN, "1", "--transcript"], ""));
    assert_eq!(
        shown,
        "token [REDACTED]\nnamed [REDACTED]\n{\"password\": \"[REDACTED]\"}\nplain line\n"
    );
    assert_nowhere(&sb);
}

#[test]
fn import_stores_records_transcripts_scratchpad_run_json_and_patches_redacted() {
    let sb = Sandbox::new();
    // A run with nothing secret, exported to a directory a tool then wrote secrets into.
    let record = record_json("p", "ok", Some("innocent"));
    ok(&git_pitboss(&sb, &["record", RUN, "--create"], &record));
    let dir = sb.path("exported");
    ok(&git_pitboss(
        &sb,
        &["export", RUN, dir.to_str().unwrap()],
        "",
    ));
    let jsonl = dir.join("sessions.jsonl");
    let line = std::fs::read_to_string(&jsonl).unwrap();
    assert!(line.contains("\"innocent\""), "{line}");
    std::fs::write(
        &jsonl,
        line.replace("\"innocent\"", &format!("\"saw {SHAPED} and {NAMED}\"")),
    )
    .unwrap();
    let t = dir.join("transcripts/session-0001.log");
    std::fs::write(&t, format!("leak {SHAPED}\npassword=hunter2hunter2\n")).unwrap();
    std::fs::write(dir.join("scratchpad.md"), format!("note {NAMED}\n")).unwrap();
    let run_json = dir.join("run.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&run_json).unwrap()).unwrap();
    meta["started_with"] = serde_json::json!({"agent_cmd": format!("tool --token {SHAPED}")});
    std::fs::write(&run_json, meta.to_string()).unwrap();
    std::fs::create_dir_all(dir.join("patches")).unwrap();
    std::fs::write(
        dir.join("patches/session-0001.patch"),
        format!("diff --git a/x b/x\n+KEY={SHAPED}\n"),
    )
    .unwrap();

    let new = "20261124T100000Z-beef";
    ok(&git_pitboss(
        &sb,
        &["import", dir.to_str().unwrap(), "--id", new],
        "",
    ));
    let log: serde_json::Value =
        serde_json::from_str(&ok(&git_pitboss(&sb, &["log", new, "--json"], ""))).unwrap();
    assert_eq!(log[0]["summary"], "saw [REDACTED] and [REDACTED]");
    let shown = ok(&git_pitboss(&sb, &["show", new, "1", "--transcript"], ""));
    assert_eq!(shown, "leak [REDACTED]\npassword=[REDACTED]\n");
    let file = |path: &str| sb.git(&["show", &format!("refs/pitboss/grind/{new}:{path}")]);
    assert_eq!(file("scratchpad.md"), "note [REDACTED]\n");
    assert!(
        file("run.json").contains("\"tool --token [REDACTED]\""),
        "{}",
        file("run.json")
    );
    assert_eq!(
        file("patches/00/session-0001.patch"),
        "diff --git a/x b/x\n+KEY=[REDACTED]\n"
    );
    assert_nowhere(&sb);
}
