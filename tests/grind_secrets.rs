//! Secrets an agent prints or writes down never reach the repository's objects, which are
//! pushed to shared remotes: not through transcripts (stdout and stderr), summaries and error
//! texts (records and session commit messages), the scratchpad, nor the patch of a failed
//! session's uncommitted work. Checked over every object of the repository, loose or packed,
//! reachable or not (`git cat-file --batch-all-objects --batch`).
//!
//! What the agent *commits* on the run branch is the user's code and is not redacted, so the
//! agent here commits only innocent files; and what it stages with `git add` is written to the
//! object store by git itself, so its secrets stay in files it never adds.

mod common;
mod grindkit;

use grindkit::*;

/// Grind's `ANTHROPIC_API_KEY` (redacted by the name of its variable and by its shape).
const API_KEY: &str = "sk-ant-api03-Zq8vLw3TnR5pX2kY7mJ4hB9cD6fG1sA0eU-QwErTyUiOp";
/// A token of a well-known shape in no variable (redacted by its shape).
const SHAPED: &str = "sk-proj-4fJ8kL2mN9pQ3rS7tV1wX5yZ0aB6cD";
/// A secret of no known shape in a `*_TOKEN` variable (redacted by the name).
const NAMED: &str = "correct-horse-battery-staple-8812";

/// Session 1 (`fail`) fails, session 2 (`share`) succeeds; both print the secrets on both
/// streams, write them into the scratchpad and their summary or error, and `fail` leaves them
/// in an uncommitted file.
const AGENT: &str = r#"
leak="key=$ANTHROPIC_API_KEY shaped=$SHAPED_SECRET named=$DEPLOY_TOKEN"
echo "stdout: $leak"
echo "stderr: $leak" >&2
echo "note of $PITBOSS_SEQ: $leak" >> "$PITBOSS_SCRATCHPAD"
case "$PITBOSS_PROMPT" in
  share)
    echo "innocent code" > code.txt
    git add code.txt && git commit -q -m "agent: innocent code"
    echo "summary: $leak" > "$PITBOSS_SUMMARY_FILE"
    ;;
  fail)
    echo "$leak" > leaked-config.txt
    printf '{"error":"failed with %s"}\n' "$leak" > "$PITBOSS_RESULT_FILE"
    echo "last words: $leak" >&2
    exit 1
    ;;
esac
"#;

#[test]
fn secrets_printed_or_written_by_agents_are_in_no_object_of_the_repository() {
    let p = Project::new();
    p.prompt("share", "").prompt("fail", "").agent(AGENT);
    let out = p.grind_with(
        &["--max-iterations", "2"],
        &[
            ("ANTHROPIC_API_KEY", API_KEY),
            ("SHAPED_SECRET", SHAPED),
            ("DEPLOY_TOKEN", NAMED),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", diag(&out));
    let run = p.only_run();
    let records = p.records(&run);
    assert_eq!(statuses(&records), ["error", "ok"], "{}", diag(&out));

    // The agent did print and write them: what is stored says [REDACTED] where they were.
    for seq in [1, 2] {
        let t = p.transcript(&run, seq);
        assert!(
            t.contains("stdout: key=[REDACTED] shaped=[REDACTED] named=[REDACTED]"),
            "{t}"
        );
        assert!(t.contains("[stderr] stderr: key=[REDACTED]"), "{t}");
    }
    let pad = p.run_file(&run, "scratchpad.md").unwrap();
    assert!(pad.contains("note of 1: key=[REDACTED]"), "{pad}");
    assert!(pad.contains("note of 2: key=[REDACTED]"), "{pad}");
    assert!(
        records[0]["summary"]
            .as_str()
            .unwrap()
            .contains("[REDACTED]")
    );
    assert!(
        records[1]["summary"]
            .as_str()
            .unwrap()
            .contains("[REDACTED]")
    );
    let patch = p.patch(&run, 1).expect("the failed session's work");
    assert!(patch.contains("+key=[REDACTED]"), "{patch}");
    assert_eq!(p.branch_subjects(&run), ["agent: innocent code"]);

    // No object holds any of them: blobs, trees, commits (messages), loose or packed.
    let objects =
        p.sb.git_output_in(&p.sb.repo, &["cat-file", "--batch-all-objects", "--batch"]);
    assert!(objects.status.success());
    let all = &objects.stdout;
    assert!(all.len() > 1000, "read {} bytes of objects", all.len());
    for secret in [API_KEY, SHAPED, NAMED] {
        assert!(
            !all.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} is in an object of the repository"
        );
    }
    // The same after the run's objects are packed.
    p.sb.git(&["gc", "-q", "--prune=now"]);
    let packed =
        p.sb.git_output_in(&p.sb.repo, &["cat-file", "--batch-all-objects", "--batch"]);
    for secret in [API_KEY, SHAPED, NAMED] {
        assert!(
            !packed
                .stdout
                .windows(secret.len())
                .any(|w| w == secret.as_bytes()),
            "{secret} is in a packed object"
        );
    }
}
