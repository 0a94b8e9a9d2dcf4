//! Store tests of what sharing relies on: merging diverged tips deterministically, and the
//! checks on incoming runs. Real temp repositories, fixed identity and clock.

use super::merge::{MergeOutcome, Renumbered};
use super::tests::{append, rec, t};
use super::*;
use crate::clock::{FixedClock, SeededEntropy};
use crate::git::testutil::temp_repo;
use crate::git::{CasOutcome, TreeEdit};

/// A run with one session, then two diverged tips: `a` appends `a_prompt` (started late),
/// `b` appends `b_prompt` (started early). The ref is left at `a`.
fn diverged(store: &RunStore<'_>, id: &RunId) -> (Oid, Oid, Oid) {
    let repo = store.repo();
    store
        .create_run(RunMeta::minimal(id.clone(), t("2026-11-24T10:00:00Z")))
        .unwrap();
    append(store, id, rec("base", SessionStatus::Ok), b"base log").unwrap();
    let base = repo.ref_target(&id.ref_name()).unwrap().unwrap();
    let mut late = rec("on-a", SessionStatus::Ok);
    late.started_at = t("2026-04-30T19:00:00Z");
    late.ended_at = t("2026-04-30T19:01:00Z");
    let b_tip = {
        let mut early = rec("on-b", SessionStatus::Error);
        early.started_at = t("2026-04-30T18:30:00Z");
        early.ended_at = t("2026-04-30T18:31:00Z");
        append(store, id, early, b"b log").unwrap().commit
    };
    assert_eq!(
        repo.cas_ref(
            &id.ref_name(),
            base,
            Some(b_tip),
            "pitboss: rewind for the test"
        )
        .unwrap(),
        CasOutcome::Updated
    );
    // Another machine's writer: this store would put back the tip it wrote (`written.rs`).
    let other = RunStore::new(repo, store.clock, store.entropy);
    let a_tip = append(&other, id, late, b"a log").unwrap().commit;
    (base, a_tip, b_tip)
}

#[test]
fn merging_diverged_tips_is_deterministic_and_keeps_every_session() {
    let (_d, repo) = temp_repo();
    let clock = FixedClock(t("2026-11-24T10:00:00Z"));
    let ent = SeededEntropy::new(1);
    let store = RunStore::new(&repo, &clock, &ent);
    let id = RunId::parse("20261124T100000Z-0001").unwrap();
    let (_base, a, b) = diverged(&store, &id);

    let one = store.merge_tips(&id, a, b).unwrap();
    let two = store.merge_tips(&id, b, a).unwrap();
    assert_eq!(one, two);
    let MergeOutcome::Merged {
        commit,
        sessions,
        renumbered,
    } = one
    else {
        panic!("{one:?}")
    };
    assert_eq!(sessions, 3);
    // Both used seq 2; "on-b" started first and keeps it, "on-a" moves to 3.
    assert_eq!(renumbered, vec![Renumbered { from: 2, to: 3 }]);

    let info = repo.commit_info(commit).unwrap().unwrap();
    let mut parents = vec![a, b];
    parents.sort();
    assert_eq!(info.parents, parents);
    assert!(
        info.message.contains("Pitboss-Renumbered: 2 -> 3\n"),
        "{}",
        info.message
    );
    let newest = [a, b]
        .iter()
        .map(|c| repo.commit_info(*c).unwrap().unwrap().time)
        .max()
        .unwrap();
    assert_eq!(info.time, newest);

    let tip_before = repo.ref_target(&id.ref_name()).unwrap().unwrap();
    repo.cas_ref(&id.ref_name(), commit, Some(tip_before), "pitboss: merge")
        .unwrap();
    let run = store.open_run(&id).unwrap();
    let records = store.records(&run).unwrap();
    let prompts: Vec<&str> = records.iter().map(|r| r.prompt.as_str()).collect();
    assert_eq!(prompts, vec!["base", "on-b", "on-a"]);
    assert_eq!(records[2].renumbered_from, Some(2));
    assert_eq!(records[2].transcript_path, "transcripts/session-0003.log");
    assert_eq!(run.state.consumed.sessions, 3);
    assert_eq!(run.state.consumed.by_status["error"], 1);
    assert_eq!(run.state.last_session_seq, 3);
    let tb = store.transcript_blob(&run, 3).unwrap().unwrap();
    assert_eq!(repo.read_blob(tb).unwrap(), b"a log");
    // Appending after a merge takes the next free seq.
    assert_eq!(
        append(&store, &id, rec("after", SessionStatus::Ok), b"")
            .unwrap()
            .seq,
        4
    );
    // The merge passes the incoming checks itself (the other side will check it).
    assert_eq!(
        store
            .check_incoming(&id, commit, None, Caps::default())
            .unwrap(),
        None
    );
}

#[test]
fn unrelated_histories_and_run_json_conflicts_are_not_merged() {
    let (_d, repo) = temp_repo();
    let ent = SeededEntropy::new(1);
    let id = RunId::parse("r1").unwrap();
    let c1 = FixedClock(t("2026-11-24T10:00:00Z"));
    let s1 = RunStore::new(&repo, &c1, &ent);
    let first = s1
        .create_run(RunMeta::minimal(id.clone(), c1.0))
        .unwrap()
        .tip;
    assert!(repo.delete_ref_matching(&id.ref_name(), first).unwrap());
    let c2 = FixedClock(t("2026-11-25T10:00:00Z"));
    let s2 = RunStore::new(&repo, &c2, &ent);
    let second = s2
        .create_run(RunMeta::minimal(id.clone(), c2.0))
        .unwrap()
        .tip;
    assert_eq!(
        s2.merge_tips(&id, first, second).unwrap(),
        MergeOutcome::Unrelated
    );

    // Two children of `second` that each rewrote run.json differently.
    let tree = repo.commit_info(second).unwrap().unwrap().tree;
    let fork = |agent: &str| {
        let mut meta = RunMeta::minimal(id.clone(), c2.0);
        meta.agent = Some(agent.into());
        let blob = repo
            .write_blob(serde_json::to_string(&meta).unwrap().as_bytes())
            .unwrap();
        let tree = repo
            .edit_tree(
                Some(tree),
                &[TreeEdit::Blob {
                    path: "run.json".into(),
                    oid: blob,
                }],
            )
            .unwrap();
        repo.write_commit(
            tree,
            &[second],
            "fork",
            &crate::git::Identity::fallback(),
            c2.0,
        )
        .unwrap()
    };
    let (x, y) = (fork("x"), fork("y"));
    assert!(matches!(
        s2.merge_tips(&id, x, y).unwrap(),
        MergeOutcome::Conflict(why) if why.contains("run.json")
    ));
}

#[test]
fn incoming_checks_name_the_first_problem() {
    let (_d, repo) = temp_repo();
    let clock = FixedClock(t("2026-11-24T10:00:00Z"));
    let ent = SeededEntropy::new(1);
    let store = RunStore::new(&repo, &clock, &ent);
    let id = RunId::parse("r1").unwrap();
    store
        .create_run(RunMeta::minimal(id.clone(), clock.0))
        .unwrap();
    let good = append(&store, &id, rec("p", SessionStatus::Ok), &[b'x'; 2000])
        .unwrap()
        .commit;
    let caps = Caps::default();
    good_only_as_itself(&store, &id, good, caps);

    let tree = repo.commit_info(good).unwrap().unwrap().tree;
    let on_top = |edits: &[TreeEdit]| {
        let t2 = repo.edit_tree(Some(tree), edits).unwrap();
        repo.write_commit(t2, &[good], "x", &crate::git::Identity::fallback(), clock.0)
            .unwrap()
    };
    for (edits, needle) in bad_edits(&repo) {
        let c = on_top(&edits);
        let why = store.check_incoming(&id, c, None, caps).unwrap().unwrap();
        assert!(why.contains(needle), "{needle:?} not in {why:?}");
        // Only the commits the local tip lacks are checked; the bad one is among them.
        assert!(
            store
                .check_incoming(&id, c, Some(good), caps)
                .unwrap()
                .is_some()
        );
    }
    transcript_over_its_cap(&store, &id, good, caps);
}

/// `incoming_checks_name_the_first_problem`: a good run passes as itself, and is refused as
/// another run (its run.json names it).
fn good_only_as_itself(store: &RunStore<'_>, id: &RunId, good: Oid, caps: Caps) {
    assert_eq!(store.check_incoming(id, good, None, caps).unwrap(), None);
    let other = RunId::parse("r2").unwrap();
    let why = store
        .check_incoming(&other, good, None, caps)
        .unwrap()
        .unwrap();
    assert!(why.contains("run.json") && why.contains("r1"), "{why}");
}

/// `incoming_checks_name_the_first_problem`: edits that make a run's tree bad, each with
/// what the check must say of it.
fn bad_edits(repo: &crate::git::Repo) -> Vec<(Vec<TreeEdit>, &'static str)> {
    let blob = |b: &[u8]| repo.write_blob(b).unwrap();
    vec![
        (
            vec![TreeEdit::Blob {
                path: "evil.txt".into(),
                oid: blob(b"x"),
            }],
            "unexpected file \"evil.txt\"",
        ),
        (
            vec![TreeEdit::Blob {
                path: "sessions/00/0002.jsonl".into(),
                oid: blob(b"{\"seq\":2}"),
            }],
            "sessions/00/0002.jsonl: missing field",
        ),
        (
            vec![TreeEdit::Blob {
                path: "sessions/01/0002.jsonl".into(),
                oid: blob(b"{}"),
            }],
            "\"sessions/01/0002.jsonl\"",
        ),
        (
            vec![TreeEdit::Remove {
                path: "state.json".into(),
            }],
            "no state.json",
        ),
        (
            vec![TreeEdit::Blob {
                path: "transcripts/00/session-0002.log/x".into(),
                oid: blob(b"x"),
            }],
            "unexpected directory \"transcripts/00/session-0002.log\"",
        ),
    ]
}

/// `incoming_checks_name_the_first_problem`: a transcript over its cap is named, with the cap.
fn transcript_over_its_cap(store: &RunStore<'_>, id: &RunId, good: Oid, caps: Caps) {
    let small = Caps {
        transcript: 1000,
        ..caps
    };
    let why = store
        .check_incoming(id, good, None, small)
        .unwrap()
        .unwrap();
    assert!(
        why.contains("transcripts/00/session-0001.log") && why.contains("cap"),
        "{why}"
    );
}

/// A commit on `parent` that writes `text` to `path`, by someone, at `when`.
fn code_commit(
    repo: &crate::git::Repo,
    parent: Option<Oid>,
    path: &str,
    text: &str,
    when: &str,
) -> Oid {
    let base = parent.map(|p| repo.commit_info(p).unwrap().unwrap().tree);
    let blob = repo.write_blob(text.as_bytes()).unwrap();
    let tree = repo
        .edit_tree(
            base,
            &[TreeEdit::Blob {
                path: path.into(),
                oid: blob,
            }],
        )
        .unwrap();
    let who = crate::git::Identity {
        name: "Someone".into(),
        email: "someone@example.com".into(),
    };
    let parents: Vec<Oid> = parent.into_iter().collect();
    repo.write_commit(tree, &parents, "work", &who, t(when))
        .unwrap()
}

#[test]
fn merging_diverged_code_is_the_same_commit_in_either_order() {
    let (_d, repo) = temp_repo();
    let clock = FixedClock(t("2026-11-24T10:00:00Z"));
    let ent = SeededEntropy::new(1);
    let store = RunStore::new(&repo, &clock, &ent);
    let id = RunId::parse("20261124T100000Z-0001").unwrap();
    let base = code_commit(&repo, None, "a.txt", "a\n", "2026-11-24T09:00:00Z");
    let x = code_commit(&repo, Some(base), "x.txt", "x\n", "2026-11-24T09:30:00Z");
    let y = code_commit(&repo, Some(base), "y.txt", "y\n", "2026-11-24T09:10:00Z");

    let one = store.merge_code(&id, x, y).unwrap();
    assert_eq!(one, store.merge_code(&id, y, x).unwrap());
    let share::CodeMerge::Merged(m) = one else {
        panic!("{one:?}")
    };
    let info = repo.commit_info(m).unwrap().unwrap();
    let mut sorted = vec![x, y];
    sorted.sort();
    assert_eq!(info.parents, sorted, "parents ordered by object id");
    assert_eq!(info.time, t("2026-11-24T09:30:00Z"), "the later tip's time");
    assert!(info.message.contains(&format!("Pitboss-Run: {id}")));
    for p in ["a.txt", "x.txt", "y.txt"] {
        assert!(repo.tree_entry(info.tree, p).unwrap().is_some(), "{p}");
    }

    let c1 = code_commit(&repo, Some(base), "a.txt", "one\n", "2026-11-24T09:20:00Z");
    let c2 = code_commit(&repo, Some(base), "a.txt", "two\n", "2026-11-24T09:21:00Z");
    assert_eq!(
        store.merge_code(&id, c1, c2).unwrap(),
        share::CodeMerge::Conflicts(vec!["a.txt".into()])
    );
    let lone = code_commit(&repo, None, "z.txt", "z\n", "2026-11-24T09:00:00Z");
    assert_eq!(
        store.merge_code(&id, x, lone).unwrap(),
        share::CodeMerge::Unrelated
    );
}
