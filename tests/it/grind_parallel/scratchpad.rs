//! The scratchpad of a parallel run: each session sees it as it was at its dispatch, and its
//! edits are merged into the run's at its landing, so no note is lost and none is doubled.

use super::*;

/// Three sessions at once each append a note to the scratchpad they saw at dispatch: the
/// run's scratchpad at the end holds all three notes, each once.
#[test]
fn every_parallel_sessions_scratchpad_note_is_kept_once() {
    let p = project(
        3,
        "",
        &[("work", SAFE)],
        r#"barrier met 3
echo "- note from session $PITBOSS_SEQ" >> "$PITBOSS_SCRATCHPAD"
echo "$PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "session $PITBOSS_SEQ"
"#,
    );
    let out = grind(&p, &["--max-iterations", "3"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    assert_eq!(statuses(&jsonl(&p, &run)), ["ok"; 3], "{ctx}");
    let pad = p.run_file(&run, "scratchpad.md").unwrap_or_default();
    for seq in 1..=3 {
        let note = format!("- note from session {seq}\n");
        assert_eq!(pad.matches(&note).count(), 1, "note {seq}:\n{pad}\n{ctx}");
    }
}

/// Two sessions each write a scratchpad of their own over the empty one: both are kept, once,
/// without markers (two insertions at one place contradict nothing).
#[test]
fn two_new_scratchpads_are_both_kept() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        r#"barrier met 2
echo "the plan of session $PITBOSS_SEQ" > "$PITBOSS_SCRATCHPAD"
echo "$PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "session $PITBOSS_SEQ"
"#,
    );
    let out = grind(&p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    assert_eq!(statuses(&jsonl(&p, &run)), ["ok", "ok"], "{ctx}");
    let pad = p.run_file(&run, "scratchpad.md").unwrap_or_default();
    assert_eq!(
        pad, "the plan of session 1\nthe plan of session 2\n",
        "{ctx}"
    );
}

/// Two sessions change the scratchpad's same line differently: both versions are kept,
/// between conflict markers naming the run's scratchpad and the session, neither lost. (A first
/// run writes the line both change; `--resume` then runs the two at once.)
#[test]
fn a_scratchpad_conflict_keeps_both_sides_between_markers() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        r#"if [ "$PITBOSS_SEQ" = 1 ]; then
  printf '# notes\n- plan: none\n- keep this\n' > "$PITBOSS_SCRATCHPAD"
else
  barrier met 2
  sed -i "s/^- plan: .*/- plan: by $PITBOSS_SEQ/" "$PITBOSS_SCRATCHPAD"
fi
echo "$PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "session $PITBOSS_SEQ"
"#,
    );
    let out = grind(&p, &["--max-iterations", "1"]);
    let run = p.only_run();
    assert_eq!(
        p.run_file(&run, "scratchpad.md").as_deref(),
        Some("# notes\n- plan: none\n- keep this\n"),
        "{}",
        diag(&out)
    );
    let out = grind(&p, &["--resume", &run, "--max-iterations", "3"]);
    let ctx = context(&p, &run, &out);
    assert_eq!(statuses(&jsonl(&p, &run)), ["ok", "ok", "ok"], "{ctx}");
    let pad = p.run_file(&run, "scratchpad.md").unwrap_or_default();
    for seq in 2..=3 {
        let plan = format!("- plan: by {seq}\n");
        assert_eq!(pad.matches(&plan).count(), 1, "{pad}\n{ctx}");
    }
    assert!(
        pad.contains("<<<<<<< ") && pad.contains(">>>>>>> session 3"),
        "{pad}"
    );
    assert_eq!(pad.matches("- keep this\n").count(), 1, "{pad}");
    assert!(!pad.contains("- plan: none"), "{pad}");
}
