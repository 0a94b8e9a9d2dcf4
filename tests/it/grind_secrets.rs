//! Secrets an agent prints or writes down never reach the repository's objects, which are
//! pushed to shared remotes: not through transcripts (stdout and stderr), summaries and error
//! texts (records and session commit messages), the scratchpad, nor the patch of a failed
//! session's uncommitted work. Checked over every object of the repository, loose or packed,
//! reachable or not (`git cat-file --batch-all-objects --batch`), once the one place meant to
//! hold them is gone: work that holds a secret is kept whole, on this machine only, on a local
//! ref `push` never sends (`refs/pitboss-local/work/…`, see `grind_kept.rs`).
//!
//! What the agent *commits* on the run branch is the user's code and is not redacted, so the
//! agent here commits only innocent files; and what it stages with `git add` is written to the
//! object store by git itself, so its secrets stay in files it never adds.

use crate::support::grind::*;

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

    // The failed work is kept whole on its local ref, the one place that holds the secrets
    // (the file the agent wrote them to). Without it, no object holds any of them: blobs,
    // trees, commits (messages), packed or loose.
    let local = format!("refs/pitboss-local/work/{run}/session-0001");
    let kept = p.sb.git(&["show", &format!("{local}:leaked-config.txt")]);
    assert!(kept.contains(API_KEY), "{kept}");
    p.sb.git(&["update-ref", "-d", &local]);
    p.sb.git(&["gc", "-q", "--prune=now"]);
    let packed =
        p.sb.git_output_in(&p.sb.repo, &["cat-file", "--batch-all-objects", "--batch"]);
    assert!(
        packed.stdout.len() > 1000,
        "read {} bytes",
        packed.stdout.len()
    );
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

/// Every object of the repository, loose or packed, as one byte string.
fn all_objects(p: &Project) -> Vec<u8> {
    let objects =
        p.sb.git_output_in(&p.sb.repo, &["cat-file", "--batch-all-objects", "--batch"]);
    assert!(objects.status.success());
    objects.stdout
}

fn holds(hay: &[u8], secret: &str) -> bool {
    hay.windows(secret.len()).any(|w| w == secret.as_bytes())
}

/// The shapes secret scanners agree on, none of them in a variable: redacted by shape alone.
const SHAPES: [&str; 11] = [
    "glpat-Xy12Ab34Cd56Ef78Gh90",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFU",
    "Bearer 9f8e7d6c5b4a39281706",
    "s3cr3tPassW0rd",
    "MIIEpAIBAAKCAQEAqzLx9nF2",
    "sk_live_51HxYzAbCdEfGhIjKlMnOp",
    "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "npm_abcdefghijklmnopqrstuvwxyz0123456789",
    "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "q8Zr3Lp0Vx7Nm2Kc5Tw9",
];

/// Prints each shape in the context it is usually found in.
const SHAPES_AGENT: &str = r#"
echo "gitlab glpat-Xy12Ab34Cd56Ef78Gh90"
echo "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFU"
echo "Authorization: Bearer 9f8e7d6c5b4a39281706"
echo "DATABASE=postgres://app:s3cr3tPassW0rd@db.example.com/app"
echo "-----BEGIN RSA PRIVATE KEY-----"
echo "MIIEpAIBAAKCAQEAqzLx9nF2"
echo "-----END RSA PRIVATE KEY-----"
echo "stripe sk_live_51HxYzAbCdEfGhIjKlMnOp" >&2
echo "google AIzaSyA1234567890abcdefghijklmnopqrstuv"
echo "npm npm_abcdefghijklmnopqrstuvwxyz0123456789"
echo "hf hf_abcdefghijklmnopqrstuvwxyzABCDEFGH"
echo "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
echo '{"signing_key": "q8Zr3Lp0Vx7Nm2Kc5Tw9"}'
"#;

#[test]
fn the_shapes_secret_scanners_know_are_redacted_without_being_named() {
    let p = Project::new();
    p.prompt("share", "").agent(SHAPES_AGENT);
    let out = p.grind(&["--max-iterations", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let run = p.only_run();
    let t = p.transcript(&run, 1);
    for shape in SHAPES {
        assert!(!t.contains(shape), "{shape} is in the transcript:\n{t}");
    }
    assert!(
        t.contains("postgres://app:[REDACTED]@db.example.com/app"),
        "{t}"
    );
    assert!(t.contains("Authorization: [REDACTED]"), "{t}");
    let all = all_objects(&p);
    for shape in SHAPES {
        assert!(!holds(&all, shape), "{shape} is in an object");
    }
}

/// The result file's every string is the agent's: a key in `model` (which also names the model
/// in the "not in the price table" warning), `session_id` and `agent_version`.
#[test]
fn every_string_of_the_result_file_is_redacted_warnings_too() {
    let p = Project::new();
    p.prompt("share", "").agent(
        r#"printf '{"model":"%s","session_id":"%s","agent_version":"%s","summary":"done","tokens":{"input":10,"output":5}}' \
  "$SHAPED_SECRET" "$DEPLOY_TOKEN" "glpat-Xy12Ab34Cd56Ef78Gh90" > "$PITBOSS_RESULT_FILE""#,
    );
    let out = p.grind_with(
        &["--max-iterations", "1"],
        &[("SHAPED_SECRET", SHAPED), ("DEPLOY_TOKEN", NAMED)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let record = &p.records(&p.only_run())[0];
    assert_eq!(record["model"], "[REDACTED]", "{record}");
    assert_eq!(record["agent_session_id"], "[REDACTED]", "{record}");
    assert_eq!(record["agent_version"], "[REDACTED]", "{record}");
    let printed = [&out.stdout[..], &out.stderr[..]].concat();
    let all = all_objects(&p);
    for secret in [SHAPED, NAMED, "glpat-Xy12Ab34Cd56Ef78Gh90"] {
        assert!(
            !holds(&printed, secret),
            "{secret} was printed:\n{}",
            diag(&out)
        );
        assert!(!holds(&all, secret), "{secret} is in an object");
    }
}

/// A line over the 1 MiB the readers hold is cut; a secret across the cut is still redacted.
#[test]
fn a_secret_across_the_cut_of_a_long_line_is_redacted_whole() {
    let p = Project::new();
    // 1 MiB minus 8 bytes of `x`, then the secret: the cut falls 8 bytes into it.
    p.prompt("share", "").agent(
        r#"head -c 1048568 /dev/zero | tr '\0' x; echo "$DEPLOY_TOKEN and more"; echo done"#,
    );
    let out = p.grind_with(&["--max-iterations", "1"], &[("DEPLOY_TOKEN", NAMED)]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let t = p.transcript(&p.only_run(), 1);
    assert!(t.contains("[REDACTED] and more"), "{}", &t[t.len() - 200..]);
    let all = all_objects(&p);
    for piece in [&NAMED[..8], &NAMED[8..]] {
        assert!(!holds(t.as_bytes(), piece), "{piece} is in the transcript");
        assert!(!holds(&all, piece), "{piece} is in an object");
    }
}

/// A `dirty` session's leftovers are committed by pitboss itself, and runs are pushed: when they
/// hold a secret they are kept on a local ref instead (the run holds a redacted copy to read),
/// with a warning.
#[test]
fn leftovers_that_hold_a_secret_are_saved_as_a_redacted_patch_not_committed() {
    let p = Project::new();
    p.prompt("share", "").agent(
        r#"echo "innocent code" > code.txt
git add code.txt && git commit -q -m "agent: innocent code"
echo "DEPLOY=$DEPLOY_TOKEN" > deploy.env
echo "more notes" > notes.txt"#,
    );
    let out = p.grind_with(&["--max-iterations", "1"], &[("DEPLOY_TOKEN", NAMED)]);
    assert_eq!(out.status.code(), Some(0), "{}", diag(&out));
    let run = p.only_run();
    assert_eq!(statuses(&p.records(&run)), ["dirty"]);
    assert_eq!(p.branch_subjects(&run), ["agent: innocent code"]);
    let patch = p.patch(&run, 1).expect("the leftovers, as a patch");
    assert!(patch.contains("+DEPLOY=[REDACTED]"), "{patch}");
    assert!(patch.contains("+more notes"), "{patch}");
    let warned = events(&out)
        .iter()
        .any(|e| e["event"] == "warning" && e["message"].as_str().unwrap().contains("secret"));
    assert!(warned, "{}", diag(&out));
    let local = format!("refs/pitboss-local/work/{run}/session-0001");
    let kept = p.sb.git(&["show", &format!("{local}:deploy.env")]);
    assert!(kept.contains(NAMED), "{kept}");
    p.sb.git(&["update-ref", "-d", &local]);
    p.sb.git(&["gc", "-q", "--prune=now"]);
    assert!(!holds(&all_objects(&p), NAMED));
}
