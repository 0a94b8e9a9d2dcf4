//! The landing queue as a user sees it: sessions that ran at once land one at a time in
//! dispatch order, an agent's own commits as authored, leftovers committed with trailers; a
//! conflict, a failed session or a verify command failing on the replayed result keeps that
//! session's work off the branch, whole, as a patch in the run ref.

use super::*;

/// Four sessions meet at a barrier (so they run at once), write a file each and commit; the
/// later ones finish first. All four land, in dispatch order: the run branch's commits are in
/// seq order, and each record's landing names its commit, which is on the branch.
#[test]
fn four_sessions_at_once_all_land_in_dispatch_order() {
    let p = project(
        4,
        "",
        &[("work", SAFE)],
        r#"log start
barrier met 4
sleep "0.$((5 - PITBOSS_SEQ))"
echo "file of $PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
git add "file-$PITBOSS_SEQ.txt" && git commit -q -m "session $PITBOSS_SEQ"
log end
"#,
    );
    let out = grind(&p, &["--max-iterations", "4"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(seqs(&recs), [1, 2, 3, 4], "{ctx}");
    assert_eq!(statuses(&recs), ["ok"; 4], "{ctx}");
    let commits = branch_commits(&p, &run);
    let subjects: Vec<&str> = commits.iter().map(|c| c.1.as_str()).collect();
    assert_eq!(
        subjects,
        ["session 1", "session 2", "session 3", "session 4"],
        "{ctx}"
    );
    let slots: BTreeSet<u64> = recs.iter().map(|r| r["slot"].as_u64().unwrap()).collect();
    assert_eq!(
        slots.len(),
        4,
        "four sessions at once need four slots\n{ctx}"
    );
    for (r, c) in recs.iter().zip(&commits) {
        let l = landing(r);
        assert_eq!(l["result"], "landed", "{ctx}");
        assert_eq!(l["commits"].as_array().unwrap().len(), 1, "{ctx}");
        // The landed commit is the branch's own commit of that session, in its place.
        assert_eq!(l["commits"][0], c.0.as_str(), "{ctx}");
    }
    // Each landed onto the tip the previous landing left.
    assert_eq!(
        landing(&recs[0])["onto"],
        p.sb.git(&["rev-parse", "main"]).trim(),
        "{ctx}"
    );
    for i in 1..4 {
        assert_eq!(
            landing(&recs[i])["onto"],
            commits[i - 1].0.as_str(),
            "{ctx}"
        );
    }
    // They ran at once: every one started before any ended.
    let iv = intervals(&p);
    let last_start = iv.values().map(|v| v.0).max().unwrap();
    let first_end = iv.values().map(|v| v.1).min().unwrap();
    assert_eq!(iv.len(), 4, "{ctx}");
    assert!(last_start < first_end, "{iv:?}");
    // Session 4 ended first (0.3 s before session 1): it said it waits to land behind 1.
    let queued: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["event"] == "queued")
        .collect();
    assert!(
        queued.iter().any(|e| e["seq"] == 4 && e["behind"] == 1),
        "{queued:?}\n{ctx}"
    );
    assert!(
        queued.iter().all(|e| e["seq"] != 1),
        "the oldest never waits: {queued:?}"
    );
    // The branch holds the four files.
    for seq in 1..=4 {
        assert_eq!(
            p.sb.git(&["show", &format!("{}:file-{seq}.txt", p.branch(&run))]),
            format!("file of {seq}\n")
        );
    }
    // A finished run leaves no slot behind.
    assert_eq!(p.state(&run)["status"], "finished", "{ctx}");
    assert_eq!(slots_left(&p, &run), (vec![], vec![]), "{ctx}");
}

/// Two sessions start from the same tip and edit the same line: the first lands; the second
/// is an `error` whose landing is a `conflict` naming the file and the session it collided
/// with; its work is saved as a patch that applies to the tip both started from and not to
/// the branch it could not land on.
#[test]
fn two_sessions_editing_one_line_one_lands_one_conflicts_with_its_patch_kept() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        &format!("barrier met 2\n{EDIT_LINE}"),
    );
    shared_file(&p);
    let base = p.sb.git(&["rev-parse", "main"]).trim().to_string();
    let out = grind(&p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["ok", "error"], "{ctx}");
    let (first, second) = (landing(&recs[0]), landing(&recs[1]));
    assert_eq!(first["result"], "landed", "{ctx}");
    assert_eq!(first["onto"], base.as_str(), "{ctx}");
    let tip = p.sb.git(&["rev-parse", &p.branch(&run)]).trim().to_string();
    assert_eq!(first["commits"], serde_json::json!([tip]), "{ctx}");
    assert_eq!(second["result"], "conflict", "{ctx}");
    assert_eq!(second["onto"], tip.as_str(), "{ctx}");
    assert_eq!(second["files"], serde_json::json!(["shared.txt"]), "{ctx}");
    assert_eq!(second["collided_with"], serde_json::json!([1]), "{ctx}");
    assert!(second.get("commits").is_none(), "{ctx}");
    let summary = recs[1]["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("shared.txt") && summary.contains("session 1"),
        "{ctx}"
    );
    // `log` marks the session once: its summary already says it conflicts.
    let log = p.sb.ok(&["log", &run], "");
    let line = log.lines().nth(1).unwrap_or_default();
    assert!(line.contains("  conflicts with the run branch"), "{log}");
    assert!(!line.contains("conflict conflicts"), "{log}");
    // The branch holds the first session's line only.
    assert_eq!(
        p.sb.git(&["show", &format!("{}:shared.txt", p.branch(&run))]),
        "one\nedited by 1\nthree\n"
    );
    assert_eq!(branch_commits(&p, &run).len(), 1, "{ctx}");
    // The second session's work, saved in the run ref.
    let patch = p
        .patch(&run, 2)
        .unwrap_or_else(|| panic!("no patch\n{ctx}"));
    assert!(patch.contains("+edited by 2"), "{patch}");
    assert!(
        applies(&p, &base, &patch),
        "the patch does not apply to {base}\n{patch}"
    );
    assert!(
        !applies(&p, &tip, &patch),
        "the patch applies to {tip}\n{patch}"
    );
    // `show` says it to a person.
    let show = p.sb.ok(&["show", &run, "2"], "");
    assert!(
        show.contains("conflict onto") && show.contains("shared.txt"),
        "{show}"
    );
    assert_eq!(slots_left(&p, &run), (vec![], vec![]), "{ctx}");
}

/// A session of two commits, the first of which would apply and the second conflicts: none
/// of it lands (a landing is all or nothing), and its patch holds both, against its base.
#[test]
fn a_conflict_keeps_all_of_the_sessions_commits_off_the_branch() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        &format!(
            r#"barrier met 2
if [ "$PITBOSS_SEQ" = 2 ]; then
  echo mine > own-2.txt && git add own-2.txt && git commit -q -m "session 2 adds own-2.txt"
fi
{EDIT_LINE}"#
        ),
    );
    shared_file(&p);
    let base = p.sb.git(&["rev-parse", "main"]).trim().to_string();
    let out = grind(&p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["ok", "error"], "{ctx}");
    assert_eq!(landing(&recs[1])["result"], "conflict", "{ctx}");
    let subjects: Vec<String> = branch_commits(&p, &run).into_iter().map(|c| c.1).collect();
    assert_eq!(subjects, ["session 1 edits line 2"], "{ctx}");
    let patch = p
        .patch(&run, 2)
        .unwrap_or_else(|| panic!("no patch\n{ctx}"));
    assert!(
        patch.contains("+mine") && patch.contains("+edited by 2"),
        "{patch}"
    );
    assert!(applies(&p, &base, &patch), "{patch}");
}

/// An agent that commits by itself three times, in each of two sessions at once: all six
/// commits land, each with its author, date and whole message.
#[test]
fn an_agents_own_commits_all_land_with_author_and_message() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        r#"barrier met 2
for i in 1 2 3; do
  echo "$PITBOSS_SEQ/$i" > "s$PITBOSS_SEQ-$i.txt"
  git add "s$PITBOSS_SEQ-$i.txt"
  GIT_AUTHOR_NAME="Agent $PITBOSS_SEQ" GIT_AUTHOR_EMAIL="agent$PITBOSS_SEQ@example.com" \
  GIT_AUTHOR_DATE="2026-01-0$PITBOSS_SEQ 10:0$i:00 +0000" \
    git commit -q -m "s$PITBOSS_SEQ step $i" -m "why $PITBOSS_SEQ/$i"
done
"#,
    );
    let out = grind(&p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["ok", "ok"], "{ctx}");
    let log = p.sb.git(&[
        "log",
        "--reverse",
        "--format=%H|%an|%ae|%at|%B",
        "-z",
        &format!("main..{}", p.branch(&run)),
    ]);
    let commits: Vec<Vec<&str>> = log
        .split('\0')
        .filter(|c| !c.is_empty())
        .map(|c| c.splitn(5, '|').collect())
        .collect();
    assert_eq!(commits.len(), 6, "{ctx}\n{log}");
    let mut k = 0;
    for seq in 1..=2u64 {
        let l = landing(&recs[seq as usize - 1]);
        assert_eq!(l["result"], "landed", "{ctx}");
        let landed = l["commits"].as_array().unwrap();
        assert_eq!(landed.len(), 3, "{ctx}");
        for i in 1..=3 {
            let c = &commits[k];
            assert_eq!(landed[i - 1], c[0], "{ctx}");
            assert_eq!(c[1], format!("Agent {seq}"), "{log}");
            assert_eq!(c[2], format!("agent{seq}@example.com"), "{log}");
            let date = chrono::DateTime::parse_from_rfc3339(&format!("2026-01-0{seq}T10:0{i}:00Z"));
            assert_eq!(c[3], date.unwrap().timestamp().to_string(), "{log}");
            assert_eq!(
                c[4].trim_end(),
                format!("s{seq} step {i}\n\nwhy {seq}/{i}"),
                "{log}"
            );
            k += 1;
        }
    }
    // The second session's commits sit on the first's, each with its file.
    for seq in 1..=2 {
        for i in 1..=3 {
            assert_eq!(
                p.sb.git(&["show", &format!("{}:s{seq}-{i}.txt", p.branch(&run))]),
                format!("{seq}/{i}\n")
            );
        }
    }
}

/// A `verify: true` prompt whose verify command fails when a file named `bad` exists: the
/// session that made it is an `error` with landing `verify_failed`, its work saved as a patch,
/// the branch without it; the other session lands.
#[test]
fn verify_failing_at_landing_keeps_that_session_off_the_branch() {
    let p = project(
        2,
        "verify_command = \"test ! -e bad\"\n",
        &[("work", "parallel_safe: true\nverify: true\n")],
        r#"barrier met 2
if [ "$PITBOSS_SEQ" = 1 ]; then f=bad; else f=good; fi
echo "made by $PITBOSS_SEQ" > "$f"
git add "$f" && git commit -q -m "session $PITBOSS_SEQ adds $f"
"#,
    );
    let base = p.sb.git(&["rev-parse", "main"]).trim().to_string();
    let out = grind(&p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["error", "ok"], "{ctx}");
    assert_eq!(landing(&recs[0])["result"], "verify_failed", "{ctx}");
    assert_eq!(landing(&recs[1])["result"], "landed", "{ctx}");
    // The second landed onto the base: the first never reached the branch.
    assert_eq!(landing(&recs[1])["onto"], base.as_str(), "{ctx}");
    let subjects: Vec<String> = branch_commits(&p, &run).into_iter().map(|c| c.1).collect();
    assert_eq!(subjects, ["session 2 adds good"], "{ctx}");
    let tree = p.sb.git(&["ls-tree", "--name-only", &p.branch(&run)]);
    assert!(!tree.lines().any(|f| f == "bad"), "{tree}");
    let patch = p
        .patch(&run, 1)
        .unwrap_or_else(|| panic!("no patch\n{ctx}"));
    assert!(patch.contains("+made by 1"), "{patch}");
    assert!(applies(&p, &base, &patch), "{patch}");
    assert_eq!(p.patch(&run, 2), None);
}

/// The verify command runs on what the branch would hold after the landing, not on the
/// session alone: each session passes by itself, but the second one's result (with the
/// first's file already landed) fails, so it is `verify_failed`.
#[test]
fn verify_at_landing_runs_on_the_replayed_result() {
    let p = project(
        2,
        "verify_command = \"test ! -e a.txt || test ! -e b.txt\"\n",
        &[("work", "parallel_safe: true\nverify: true\n")],
        r#"barrier met 2
if [ "$PITBOSS_SEQ" = 1 ]; then f=a.txt; else f=b.txt; fi
echo "made by $PITBOSS_SEQ" > "$f"
git add "$f" && git commit -q -m "session $PITBOSS_SEQ adds $f"
"#,
    );
    let out = grind(&p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["ok", "error"], "{ctx}");
    assert_eq!(landing(&recs[0])["result"], "landed", "{ctx}");
    assert_eq!(landing(&recs[1])["result"], "verify_failed", "{ctx}");
    let subjects: Vec<String> = branch_commits(&p, &run).into_iter().map(|c| c.1).collect();
    assert_eq!(subjects, ["session 1 adds a.txt"], "{ctx}");
    assert!(
        p.patch(&run, 2).is_some_and(|d| d.contains("+made by 2")),
        "{ctx}"
    );
}

/// Three at once: one leaves its work uncommitted (`dirty`: pitboss commits it with trailers,
/// and it lands), one fails (its work saved as a patch, nothing of it on the branch), one commits;
/// the failed one does not keep the others from landing.
#[test]
fn leftovers_land_and_a_failed_session_lands_nothing_beside_others() {
    let p = project(
        3,
        "",
        &[("work", SAFE)],
        r#"barrier met 3
echo "work of $PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
case "$PITBOSS_SEQ" in
  1) ;;
  2) echo '{"summary":"could not do it"}' > "$PITBOSS_RESULT_FILE"; exit 3 ;;
  *) git add . && git commit -q -m "session $PITBOSS_SEQ" ;;
esac
"#,
    );
    let out = grind(&p, &["--max-iterations", "3"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["dirty", "error", "ok"], "{ctx}");
    assert_eq!(landing(&recs[0])["result"], "landed", "{ctx}");
    assert_eq!(landing(&recs[1])["result"], "nothing", "{ctx}");
    assert_eq!(landing(&recs[2])["result"], "landed", "{ctx}");
    let commits = branch_commits(&p, &run);
    assert_eq!(commits.len(), 2, "{ctx}");
    let message = p.sb.git(&["log", "-1", "--format=%B", &commits[0].0]);
    assert!(
        message.starts_with("pitboss: work left uncommitted by session 0001")
            && message.contains(&format!("Pitboss-Run: {run}"))
            && message.contains("Pitboss-Session: 1"),
        "{message}"
    );
    assert_eq!(commits[1].1, "session 3", "{ctx}");
    let tree = p.sb.git(&["ls-tree", "--name-only", &p.branch(&run)]);
    assert!(!tree.contains("file-2.txt"), "{tree}");
    let patch = p
        .patch(&run, 2)
        .unwrap_or_else(|| panic!("no patch\n{ctx}"));
    assert!(patch.contains("+work of 2"), "{patch}");
    assert_eq!(slots_left(&p, &run), (vec![], vec![]), "{ctx}");
}

/// The README's recipe for a conflict, as written: `show` names the patch, the patch applies at
/// the tip the summary names, and the rebase onto the run branch stops on the conflicting file.
#[test]
fn the_readmes_recipe_takes_a_conflict_up_by_hand() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        &format!("barrier met 2\n{EDIT_LINE}"),
    );
    shared_file(&p);
    let out = grind(&p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(landing(&recs[1])["result"], "conflict", "{ctx}");
    let show = p.sb.ok(&["show", &run, "2"], "");
    assert!(show.contains("patches/00/session-0002.patch"), "{show}");
    let summary = recs[1]["summary"].as_str().unwrap();
    let tip = summary
        .split("a patch that applies to ")
        .nth(1)
        .and_then(|t| t.split(',').next())
        .unwrap_or_else(|| panic!("no tip in {summary:?}"));
    let patch = p.sb.git(&[
        "show",
        &format!("refs/pitboss/grind/{run}:patches/00/session-0002.patch"),
    ]);
    std::fs::write(p.repo().join("../s.patch"), patch).unwrap();
    p.sb.git(&["switch", "-q", "-c", "redo-2", tip]);
    p.sb.git(&["apply", "--index", "../s.patch"]);
    p.sb.git(&["commit", "-q", "-m", "session 2, by hand"]);
    assert_eq!(
        std::fs::read_to_string(p.repo().join("shared.txt")).unwrap(),
        "one\nedited by 2\nthree\n"
    );
    let rebase =
        p.sb.git_output_in(p.repo(), &["rebase", &format!("pitboss/{run}")]);
    assert!(!rebase.status.success(), "the rebase met no conflict");
    let conflicted = p.sb.git(&["diff", "--name-only", "--diff-filter=U"]);
    assert_eq!(conflicted, "shared.txt\n");
}
