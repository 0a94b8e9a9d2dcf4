//! Edges of the landing queue an agent or a user can reach: the same change made twice, a
//! merge commit of the agent's own, a binary file both sessions change, a file one deletes and
//! the other edits, an agent that rewinds its slot branch below where it started, deletes its
//! slot or commits on a branch of its own, the user checking the run branch out mid-run.

use super::*;

/// Two sessions make the very same change: it lands once; the second session is `ok` with
/// nothing to land (its change is on the branch already), and no patch is needed.
#[test]
fn the_same_change_made_twice_lands_once() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        r#"barrier met 2
echo same > same.txt
git add same.txt && git commit -q -m "session $PITBOSS_SEQ adds same.txt"
"#,
    );
    let out = grind(&p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["ok", "ok"], "{ctx}");
    assert_eq!(landing(&recs[0])["result"], "landed", "{ctx}");
    assert_eq!(landing(&recs[1])["result"], "nothing", "{ctx}");
    assert_eq!(branch_commits(&p, &run).len(), 1, "{ctx}");
    assert_eq!(p.patch(&run, 2), None, "{ctx}");
    assert_eq!(slots_left(&p, &run), (vec![], vec![]), "{ctx}");
}

/// An agent that merges a branch of its own (`--no-ff`) while another session lands first: its
/// changes all land, replayed as a line (the merge commit, empty once its two sides are
/// replayed, is dropped as git's rebase drops it).
#[test]
fn an_agents_merge_commit_lands() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        r#"barrier met 2
if [ "$PITBOSS_SEQ" = 1 ]; then
  echo one > one.txt && git add one.txt && git commit -q -m "session 1"
else
  here=$(git rev-parse --abbrev-ref HEAD)
  git checkout -q -b "side-$PITBOSS_SEQ"
  echo side > side.txt && git add side.txt && git commit -q -m "side work"
  git checkout -q "$here"
  echo main > main.txt && git add main.txt && git commit -q -m "main work"
  git merge -q --no-ff -m "merge side" "side-$PITBOSS_SEQ"
fi
"#,
    );
    let out = grind(&p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["ok", "ok"], "{ctx}");
    assert_eq!(landing(&recs[1])["result"], "landed", "{ctx}");
    let ids: Vec<String> = branch_commits(&p, &run).into_iter().map(|c| c.0).collect();
    for c in landing(&recs[1])["commits"].as_array().unwrap() {
        assert!(
            ids.iter().any(|i| c == i),
            "{c} is not on the branch\n{ctx}"
        );
    }
    let tree = p.sb.git(&["ls-tree", "--name-only", &p.branch(&run)]);
    for f in ["one.txt", "side.txt", "main.txt"] {
        assert!(tree.lines().any(|l| l == f), "{f} not in {tree}\n{ctx}");
    }
    assert_eq!(slots_left(&p, &run), (vec![], vec![]), "{ctx}");
}

/// Both sessions change a binary file: the second conflicts, and its patch (binary) applies to
/// the tip it started from.
#[test]
fn a_binary_conflict_is_saved_as_a_patch_that_applies() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        r#"barrier met 2
printf 'bin\000ary %s\000\001\002' "$PITBOSS_SEQ" > blob.bin
git commit -q -am "session $PITBOSS_SEQ changes blob.bin"
"#,
    );
    std::fs::write(p.repo().join("blob.bin"), b"bin\0ary base\0\x01").unwrap();
    p.sb.git(&["add", "blob.bin"]);
    p.sb.git(&["commit", "-q", "-m", "binary file"]);
    let base = p.sb.git(&["rev-parse", "main"]).trim().to_string();
    let out = grind(&p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["ok", "error"], "{ctx}");
    assert_eq!(landing(&recs[1])["result"], "conflict", "{ctx}");
    assert_eq!(
        landing(&recs[1])["files"],
        serde_json::json!(["blob.bin"]),
        "{ctx}"
    );
    let patch = p
        .patch(&run, 2)
        .unwrap_or_else(|| panic!("no patch\n{ctx}"));
    assert!(applies(&p, &base, &patch), "{patch}");
}

/// One session deletes the file the other edits: the second conflicts on that file.
#[test]
fn a_delete_and_an_edit_of_one_file_conflict() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        &format!(
            r#"barrier met 2
if [ "$PITBOSS_SEQ" = 1 ]; then
  git rm -q shared.txt && git commit -q -m "session 1 deletes shared.txt"
else
{EDIT_LINE}fi
"#
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
    assert_eq!(
        landing(&recs[1])["files"],
        serde_json::json!(["shared.txt"]),
        "{ctx}"
    );
    assert_eq!(
        landing(&recs[1])["collided_with"],
        serde_json::json!([1]),
        "{ctx}"
    );
    let patch = p
        .patch(&run, 2)
        .unwrap_or_else(|| panic!("no patch\n{ctx}"));
    assert!(applies(&p, &base, &patch), "{patch}");
}

/// An agent that resets its slot branch below where it started and commits there: nothing of
/// the run branch is lost, its work is saved, and the other session lands.
#[test]
fn an_agent_rewinding_below_its_start_loses_nothing() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        r#"barrier met 2
if [ "$PITBOSS_SEQ" = 2 ]; then
  git reset -q --hard HEAD~1
  echo rewound > rewound.txt && git add rewound.txt && git commit -q -m "session 2 on an old base"
else
  echo one > one.txt && git add one.txt && git commit -q -m "session 1"
fi
"#,
    );
    shared_file(&p);
    let base = p.sb.git(&["rev-parse", "main"]).trim().to_string();
    let out = grind(&p, &["--max-iterations", "2"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(landing(&recs[0])["result"], "landed", "{ctx}");
    assert_eq!(recs[1]["status"], "error", "{ctx}");
    assert_eq!(landing(&recs[1])["result"], "nothing", "{ctx}");
    let why = recs[1]["summary"].as_str().unwrap_or_default();
    assert!(
        why.starts_with("rewound its slot branch below the tip it started from")
            && why.contains("the run branch is untouched"),
        "it names what it moved, its slot branch, not the run branch: {ctx}"
    );
    let tip = p.branch(&run);
    assert!(
        p.sb.git_output_in(p.repo(), &["merge-base", "--is-ancestor", &base, &tip])
            .status
            .success(),
        "the run branch lost its base\n{ctx}"
    );
    let tree = p.sb.git(&["ls-tree", "--name-only", &tip]);
    assert!(
        tree.contains("shared.txt") && tree.contains("one.txt"),
        "{tree}"
    );
    assert!(!tree.contains("rewound.txt"), "{tree}");
    let patch = p
        .patch(&run, 2)
        .unwrap_or_else(|| panic!("no patch\n{ctx}"));
    assert!(patch.contains("+rewound"), "{patch}");
}

/// The user tries to check the run branch out in their own checkout while a parallel run goes
/// on: git refuses, as during a sequential run, since slot 0 keeps it checked out (otherwise
/// each landing would move it under their work, and the run could not end cleanly). The
/// sessions land and the run ends `finished`.
#[test]
fn the_run_branch_cannot_be_checked_out_by_the_user_mid_run() {
    let p = project(
        2,
        "",
        &[("work", SAFE)],
        r#"barrier met 2
n=0
until [ -e "$MARKS/go" ]; do n=$((n+1)); [ $n -gt 600 ] && exit 9; sleep 0.05; done
echo "$PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
git add . && git commit -q -m "session $PITBOSS_SEQ"
"#,
    );
    let mut g = Grind::spawn(&p, grind_cmd(&p, &["--max-iterations", "2"]), "grind");
    p.wait_mark("met-1", &mut g);
    p.wait_mark("met-2", &mut g);
    let run = p.only_run();
    let tried =
        p.sb.git_output_in(&p.sb.repo, &["checkout", "-q", &format!("pitboss/{run}")]);
    assert!(
        !tried.status.success(),
        "git let the run branch be checked out"
    );
    let why = String::from_utf8_lossy(&tried.stderr);
    assert!(
        why.contains(&format!("pitboss/worktrees/{run}/0")),
        "git names slot 0: {why}"
    );
    std::fs::write(p.marks().join("go"), "").unwrap();
    g.wait(Duration::from_secs(60));
    let out = g.output();
    let ctx = context(&p, &run, &out);
    assert_eq!(statuses(&jsonl(&p, &run)), ["ok", "ok"], "{ctx}");
    assert_eq!(out.status.code(), Some(0), "{ctx}");
    assert_eq!(p.state(&run)["status"], "finished", "{ctx}");
}

/// Beside each other, an agent that deletes its slot worktree (an `error`; the slot is added
/// again and used by a later session) and one that commits on a branch of its own (its commits
/// are taken back onto its slot branch and land), while a third lands as usual.
#[test]
fn an_agent_deleting_its_slot_or_switching_branch_spoils_nothing_else() {
    let p = project(
        3,
        "",
        &[("work", SAFE)],
        r#"if [ "$PITBOSS_SEQ" -le 3 ]; then barrier met 3; fi
case "$PITBOSS_SEQ" in
  1) cd / && rm -rf "$PITBOSS_WORKTREE" ;;
  2) git checkout -q -b "feature-$PITBOSS_SEQ"
     echo two > two.txt && git add two.txt && git commit -q -m "session 2 on a branch of its own" ;;
  *) echo "$PITBOSS_SEQ" > "file-$PITBOSS_SEQ.txt"
     git add . && git commit -q -m "session $PITBOSS_SEQ" ;;
esac
"#,
    );
    let out = grind(&p, &["--max-iterations", "5"]);
    let run = p.only_run();
    let ctx = context(&p, &run, &out);
    let recs = jsonl(&p, &run);
    assert_eq!(statuses(&recs), ["error", "ok", "ok", "ok", "ok"], "{ctx}");
    let why = recs[0]["summary"].as_str().unwrap_or_default();
    assert!(why.contains("the agent deleted its worktree"), "{ctx}");
    let subjects: Vec<String> = branch_commits(&p, &run).into_iter().map(|c| c.1).collect();
    assert_eq!(
        subjects,
        [
            "session 2 on a branch of its own",
            "session 3",
            "session 4",
            "session 5"
        ],
        "{ctx}"
    );
    assert_eq!(p.state(&run)["status"], "finished", "{ctx}");
    assert_eq!(slots_left(&p, &run), (vec![], vec![]), "{ctx}");
}
