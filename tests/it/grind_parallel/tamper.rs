//! What an agent of a parallel run can do to the run branch it does not own: reset it below
//! sessions already landed, or put it on a commit of its own. The landing queue lands only onto
//! the tip it last left: the branch goes back there, nothing landed is lost, and the session
//! that moved it is an `error` with its work saved as a patch.

use super::*;

/// Session 2 waits until session 1 has landed, then resets the run branch to where it started
/// (dropping session 1's landed commit) and commits work of its own in its slot. Session 1 stays
/// on the branch (it is recorded `landed`), session 2 does not land and its work is a patch.
#[test]
fn an_agent_resetting_the_run_branch_drops_no_landed_session() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        r#"barrier met 2
if [ "$PITBOSS_SEQ" = 1 ]; then
  echo one > one.txt && git add one.txt && git commit -q -m "session 1"
else
  n=0
  until git log --format=%s "pitboss/$PITBOSS_RUN_ID" | grep -q "^session 1$"; do
    n=$((n+1)); [ $n -gt 600 ] && exit 9; sleep 0.05
  done
  git update-ref "refs/heads/pitboss/$PITBOSS_RUN_ID" HEAD
  echo two > two.txt && git add two.txt && git commit -q -m "session 2"
fi
"#,
    );
    let (run, ctx, why, said) = first_lands_second_is_charged(&p);
    assert!(
        why.starts_with("the run branch was moved to") && why.contains("it is back there"),
        "{ctx}"
    );
    let patch = p
        .patch(&run, 2)
        .unwrap_or_else(|| panic!("no patch\n{ctx}"));
    assert!(patch.contains("+two"), "{patch}");
    assert!(
        said.contains("session 2: the run branch was moved"),
        "the user is told\n{ctx}"
    );
}

/// Session 1 puts the run branch on a root commit of its own (no history in common with the
/// run). The run stays on its base: session 2's work lands there, session 1 is an `error`.
#[test]
fn an_agent_putting_the_run_branch_on_another_root_does_not_carry_the_run_there() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        r#"barrier met 2
if [ "$PITBOSS_SEQ" = 1 ]; then
  root=$(echo root | git commit-tree "$(git mktree </dev/null)")
  git update-ref "refs/heads/pitboss/$PITBOSS_RUN_ID" "$root"
  echo one > one.txt && git add one.txt && git commit -q -m "session 1"
else
  sleep 1
  echo two > two.txt && git add two.txt && git commit -q -m "session 2"
fi
"#,
    );
    let base = p.sb.git(&["rev-parse", "main"]).trim().to_string();
    let out = grind(&p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["error", "ok"], "{ctx}");
    assert_eq!(landing(&recs[1])["result"], "landed", "{ctx}");
    assert_eq!(landing(&recs[1])["onto"], base.as_str(), "{ctx}");
    let tip = p.branch(&run);
    assert!(
        p.sb.git_output_in(p.repo(), &["merge-base", "--is-ancestor", &base, &tip])
            .status
            .success(),
        "the run branch left its base\n{ctx}"
    );
    let subjects: Vec<String> = branch_commits(&p, &run).into_iter().map(|c| c.1).collect();
    assert_eq!(subjects, ["session 2"], "{ctx}");
    assert!(
        p.patch(&run, 1).is_some_and(|t| t.contains("+one")),
        "{ctx}"
    );
}

/// Session 1 adds a hook to the common git directory while session 2 runs beside it: the hook
/// is removed, and both sessions are charged (which of them wrote it cannot be told), each
/// saying so; no work of theirs lands.
#[test]
fn a_hook_written_during_a_parallel_run_is_removed_and_charged_to_the_sessions_running() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        r#"barrier met 2
if [ "$PITBOSS_SEQ" = 1 ]; then
  common=$(git rev-parse --git-common-dir)
  printf '#!/bin/sh\nexit 0\n' > "$common/hooks/post-checkout"
fi
echo "$PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
git add "file-$PITBOSS_SEQ.txt" && git commit -q -m "session $PITBOSS_SEQ"
barrier done 2
"#,
    );
    let out = grind(&p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["error", "error"], "{ctx}");
    for r in &recs {
        let why = r["summary"].as_str().unwrap_or_default();
        assert!(
            why.contains("hooks/post-checkout (added)") && why.contains("cannot be told"),
            "{ctx}"
        );
    }
    assert!(!p.repo().join(".git/hooks/post-checkout").exists(), "{ctx}");
    assert!(branch_commits(&p, &run).is_empty(), "{ctx}");
}

/// `shared.txt merge=union` in `.gitattributes`, and two sessions rewrite its line 2.
fn union_project(extra_grind: &str) -> Project {
    let p = project(
        2,
        extra_grind,
        &[("work", SAFE)],
        &format!("barrier met 2\n{EDIT_LINE}"),
    );
    std::fs::write(p.repo().join(".gitattributes"), "shared.txt merge=union\n").unwrap();
    p.sb.git(&["add", ".gitattributes"]);
    shared_file(&p);
    p
}

/// A merge driver does not hide a conflict: with `merge=union`, the second session's rewrite
/// of the line the first one rewrote is a conflict, and the file holds one version only.
#[test]
fn overlapping_edits_conflict_whatever_merge_driver_the_attributes_name() {
    let p = union_project("");
    let out = grind(&p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["ok", "error"], "{ctx}");
    assert_eq!(landing(&recs[1])["result"], "conflict", "{ctx}");
    assert_eq!(
        landing(&recs[1])["files"],
        serde_json::json!(["shared.txt"]),
        "{ctx}"
    );
    let text =
        p.sb.git(&["show", &format!("{}:shared.txt", p.branch(&run))]);
    assert_eq!(text, "one\nedited by 1\nthree\n", "{ctx}");
}

/// `landing_merge_drivers = "respect"` opts back in: both land, the file holds both versions,
/// and the record, `show` and grind's landing line name the driver and the file.
#[test]
fn respected_merge_drivers_are_named_in_the_record_and_the_landing_line() {
    let p = union_project("landing_merge_drivers = \"respect\"\n");
    // Human output: the landing line is what a person reads.
    let mut cmd = p.sb.git_pitboss();
    cmd.args(["grind", "--max-iterations", "2"])
        .env("MARKS", p.marks())
        .stdin(Stdio::null());
    let mut g = Grind::spawn(&p, cmd, "grind");
    g.wait(Duration::from_secs(120));
    let out = g.output();
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["ok", "ok"], "{ctx}");
    assert_eq!(
        landing(&recs[1])["drivers"],
        serde_json::json!([{"path": "shared.txt", "driver": "union"}]),
        "{ctx}"
    );
    assert!(
        diag(&out).contains("overlapping edits resolved: shared.txt by merge=union"),
        "{ctx}"
    );
    let shown = p.sb.ok(&["show", &run, "2"], "");
    assert!(
        shown.contains("overlapping edits resolved: shared.txt by merge=union"),
        "{shown}"
    );
}

/// Session 2 waits until session 1 is recorded, then rewinds the run ref below that record and
/// commits work of its own: as with the run branch, the run ref goes back, session 1's record
/// stays, and session 2 is an `error` with its work saved as a patch.
#[test]
fn an_agent_rewinding_the_run_ref_is_an_error_like_one_moving_the_run_branch() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        r#"barrier met 2
r="refs/pitboss/grind/$PITBOSS_RUN_ID"
if [ "$PITBOSS_SEQ" = 1 ]; then
  echo one > one.txt && git add one.txt && git commit -q -m "session 1"
else
  n=0
  until git log --format=%s "$r" | grep -q "^session 0001"; do
    n=$((n+1)); [ $n -gt 600 ] && exit 9; sleep 0.05
  done
  git update-ref "$r" "$r~1"
  echo two > two.txt && git add two.txt && git commit -q -m "session 2"
fi
"#,
    );
    let (run, ctx, why, _) = first_lands_second_is_charged(&p);
    assert!(
        why.starts_with(&format!(
            "the run ref refs/pitboss/grind/{run} was moved to"
        )) && why.contains("it is back at"),
        "{ctx}"
    );
    let patch = p
        .patch(&run, 2)
        .unwrap_or_else(|| panic!("no patch\n{ctx}"));
    assert!(patch.contains("+two"), "{patch}");
}

/// Runs two sessions at once; the first lands, the second (whose agent moved something that is
/// not its own) is an `error` and the run branch holds only the first's work. Returns the run,
/// the context to print, the second session's summary and what grind printed on stdout.
fn first_lands_second_is_charged(p: &Project) -> (String, String, String, String) {
    let out = grind(p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(p, &run, &out);
    let recs = jsonl(p, &run);
    assert_eq!(statuses(&recs), ["ok", "error"], "{ctx}");
    assert_eq!(landing(&recs[0])["result"], "landed", "{ctx}");
    let subjects: Vec<String> = branch_commits(p, &run).into_iter().map(|c| c.1).collect();
    assert_eq!(subjects, ["session 1"], "{ctx}");
    let why = recs[1]["summary"].as_str().unwrap_or_default().to_string();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    (run, ctx, why, said)
}
