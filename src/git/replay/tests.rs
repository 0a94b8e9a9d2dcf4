//! Replay, proof and changed paths on real repositories in temp dirs.

use super::*;
use crate::git::TreeEdit;
use crate::git::testutil::temp_repo;

/// A commit on `parents` (the first one's tree, edited: `Some(text)` writes a file, `None`
/// removes it), with an author and a committer of its own, at fixed times.
fn commit(repo: &Repo, parents: &[Oid], edits: &[(&str, Option<&str>)], msg: &str) -> Oid {
    let base = parents
        .first()
        .map(|p| repo.commit_info(*p).unwrap().unwrap().tree);
    let edits: Vec<TreeEdit> = edits
        .iter()
        .map(|(path, text)| match text {
            Some(t) => TreeEdit::Blob {
                path: path.to_string(),
                oid: repo.write_blob(t.as_bytes()).unwrap(),
            },
            None => TreeEdit::Remove {
                path: path.to_string(),
            },
        })
        .collect();
    let tree = repo.edit_tree(base, &edits).unwrap();
    commit_tree(repo, parents, tree, msg)
}

fn commit_tree(repo: &Repo, parents: &[Oid], tree: Oid, msg: &str) -> Oid {
    let author = git2::Signature::new(
        "Agent",
        "agent@example.com",
        &git2::Time::new(1_700_000_000, 60),
    )
    .unwrap();
    let committer = git2::Signature::new(
        "Pitboss",
        "pb@example.com",
        &git2::Time::new(1_700_000_100, -120),
    )
    .unwrap();
    let tree = repo.inner.find_tree(tree.raw()).unwrap();
    let parents: Vec<git2::Commit<'_>> = parents
        .iter()
        .map(|p| repo.inner.find_commit(p.raw()).unwrap())
        .collect();
    let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
    Oid::from(
        repo.inner
            .commit(None, &author, &committer, msg, &tree, &refs)
            .unwrap(),
    )
}

fn file(repo: &Repo, commit: Oid, path: &str) -> Option<String> {
    let tree = repo.commit_info(commit).unwrap().unwrap().tree;
    let (blob, _) = repo.tree_entry(tree, path).unwrap()?;
    Some(String::from_utf8(repo.read_blob(blob).unwrap()).unwrap())
}

fn parents(repo: &Repo, c: Oid) -> Vec<Oid> {
    repo.commit_info(c).unwrap().unwrap().parents
}

fn replayed(r: Replay) -> (Oid, Vec<Oid>) {
    match r {
        Replay::Replayed { tip, commits, .. } => (tip, commits),
        other => panic!("expected a replay, got {other:?}"),
    }
}

const TEN: &str = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";

#[test]
fn a_session_on_the_tip_fast_forwards_with_its_own_ids() {
    let (_d, repo) = temp_repo();
    let base = commit(&repo, &[], &[("a.txt", Some("a\n"))], "base");
    assert_eq!(
        repo.replay_onto(base, base, base, MergeDrivers::Text)
            .unwrap(),
        Replay::Nothing
    );
    let s1 = commit(&repo, &[base], &[("b.txt", Some("b\n"))], "s1");
    let s2 = commit(&repo, &[s1], &[("c.txt", Some("c\n"))], "s2");
    assert_eq!(
        repo.replay_onto(base, s2, base, MergeDrivers::Text)
            .unwrap(),
        Replay::Replayed {
            tip: s2,
            commits: vec![s1, s2],
            drivers: Vec::new(),
        }
    );
    assert!(repo.unproven(base, s2, base, s2).unwrap().is_empty());
}

#[test]
fn replay_onto_a_moved_tip_keeps_who_and_what_and_moves_no_ref() {
    let (_d, repo) = temp_repo();
    let base = commit(&repo, &[], &[("a.txt", Some("a\n"))], "base");
    let tip = commit(&repo, &[base], &[("t.txt", Some("t\n"))], "landed before");
    repo.cas_ref("refs/heads/run", tip, None, "t").unwrap();
    let msg = "subject\n\n  body kept as written\n\nTrailer: yes\n";
    let s1 = commit(&repo, &[base], &[("a.txt", Some("a2\n"))], msg);
    let (new_tip, commits) = replayed(repo.replay_onto(base, s1, tip, MergeDrivers::Text).unwrap());
    assert_eq!(commits, vec![new_tip]);
    assert_ne!(new_tip, s1);
    assert_eq!(parents(&repo, new_tip), vec![tip]);
    let (old, new) = (
        repo.inner.find_commit(s1.raw()).unwrap(),
        repo.inner.find_commit(new_tip.raw()).unwrap(),
    );
    assert_eq!(new.message_raw_bytes(), msg.as_bytes());
    for (a, b) in [
        (old.author(), new.author()),
        (old.committer(), new.committer()),
    ] {
        assert_eq!(
            (a.name(), a.email(), a.when()),
            (b.name(), b.email(), b.when())
        );
    }
    assert_eq!(file(&repo, new_tip, "a.txt").as_deref(), Some("a2\n"));
    assert_eq!(file(&repo, new_tip, "t.txt").as_deref(), Some("t\n"));
    assert_eq!(repo.ref_target("refs/heads/run").unwrap(), Some(tip));
    assert!(repo.unproven(base, s1, tip, new_tip).unwrap().is_empty());
}

#[test]
fn the_same_line_edited_twice_is_a_conflict_naming_the_commit_and_file() {
    let (_d, repo) = temp_repo();
    let base = commit(
        &repo,
        &[],
        &[("a.txt", Some(TEN)), ("z.txt", Some("z\n"))],
        "base",
    );
    let tip = commit(
        &repo,
        &[base],
        &[("a.txt", Some(&TEN.replace("5\n", "five\n")))],
        "t",
    );
    let s1 = commit(&repo, &[base], &[("b.txt", Some("b\n"))], "fine");
    let s2 = commit(
        &repo,
        &[s1],
        &[("a.txt", Some(&TEN.replace("5\n", "FIVE\n")))],
        "clash",
    );
    let s3 = commit(&repo, &[s2], &[("z.txt", Some("zz\n"))], "after");
    assert_eq!(
        repo.replay_onto(base, s3, tip, MergeDrivers::Text).unwrap(),
        Replay::Conflict {
            at: s2,
            files: vec!["a.txt".into()]
        }
    );
}

#[test]
fn a_change_already_on_the_tip_is_dropped_and_still_proven() {
    let (_d, repo) = temp_repo();
    let base = commit(&repo, &[], &[("a.txt", Some("a\n"))], "base");
    let tip = commit(
        &repo,
        &[base],
        &[("a.txt", Some("same\n"))],
        "other session",
    );
    let s1 = commit(&repo, &[base], &[("a.txt", Some("same\n"))], "same change");
    let s2 = commit(&repo, &[s1], &[("c.txt", Some("c\n"))], "new file");
    let (new_tip, commits) = replayed(repo.replay_onto(base, s2, tip, MergeDrivers::Text).unwrap());
    assert_eq!(commits.len(), 1, "only the new file's commit is made");
    assert_eq!(parents(&repo, new_tip), vec![tip]);
    assert_eq!(
        repo.commit_info(new_tip).unwrap().unwrap().message,
        "new file"
    );
    assert!(repo.unproven(base, s2, tip, new_tip).unwrap().is_empty());
    // Every commit already there: nothing to land.
    assert_eq!(
        repo.replay_onto(base, s1, tip, MergeDrivers::Text).unwrap(),
        Replay::Nothing
    );
    assert!(repo.unproven(base, s1, tip, tip).unwrap().is_empty());
}

#[test]
fn every_commit_of_a_session_lands_and_a_missing_one_is_unproven() {
    let (_d, repo) = temp_repo();
    let base = commit(&repo, &[], &[("a.txt", Some(TEN))], "base");
    // Another session changed line 3: within the diff context of line 5, not touching it.
    let tip = commit(
        &repo,
        &[base],
        &[("a.txt", Some(&TEN.replace("3\n", "three\n")))],
        "t",
    );
    let s1 = commit(
        &repo,
        &[base],
        &[("a.txt", Some(&TEN.replace("5\n", "five\n")))],
        "s1",
    );
    let s2 = commit(&repo, &[s1], &[("b.txt", Some("b\n"))], "s2");
    let s3 = commit(
        &repo,
        &[s2],
        &[("b.txt", None), ("c/d.txt", Some("d\n"))],
        "s3",
    );
    let (new_tip, commits) = replayed(repo.replay_onto(base, s3, tip, MergeDrivers::Text).unwrap());
    assert_eq!(commits.len(), 3);
    assert_eq!(parents(&repo, commits[0]), vec![tip]);
    assert_eq!(parents(&repo, commits[1]), vec![commits[0]]);
    assert_eq!(parents(&repo, commits[2]), vec![commits[1]]);
    let msgs: Vec<String> = commits
        .iter()
        .map(|c| repo.commit_info(*c).unwrap().unwrap().message)
        .collect();
    assert_eq!(msgs, ["s1", "s2", "s3"]);
    assert_eq!(
        file(&repo, new_tip, "a.txt").unwrap(),
        TEN.replace("3\n", "three\n").replace("5\n", "five\n")
    );
    assert_eq!(file(&repo, new_tip, "b.txt"), None);
    assert_eq!(file(&repo, new_tip, "c/d.txt").as_deref(), Some("d\n"));
    // s1's context moved, so git's patch id alone would not find it; the proof still does.
    assert_ne!(
        repo.patch_id(s1).unwrap(),
        repo.patch_id(commits[0]).unwrap()
    );
    assert_eq!(
        repo.patch_id(s2).unwrap(),
        repo.patch_id(commits[1]).unwrap()
    );
    assert!(repo.unproven(base, s3, tip, new_tip).unwrap().is_empty());
    // A branch that got only the first commit does not prove the other two.
    assert_eq!(
        repo.unproven(base, s3, tip, commits[0]).unwrap(),
        vec![s2, s3]
    );
    assert_eq!(repo.unproven(base, s3, tip, tip).unwrap(), vec![s1, s2, s3]);
}

#[test]
fn merges_in_a_session_replay_as_their_first_parent_change() {
    let (_d, repo) = temp_repo();
    let base = commit(&repo, &[], &[("a.txt", Some("a\n"))], "base");
    let tip = commit(&repo, &[base], &[("t.txt", Some("t\n"))], "landed before");
    let s1 = commit(&repo, &[base], &[("s.txt", Some("s\n"))], "s1");
    let side = commit(&repo, &[base], &[("b.txt", Some("b\n"))], "side");
    // The merge also fixes something of its own ("evil merge"): that change must land too.
    let merged = commit(
        &repo,
        &[s1, side],
        &[("b.txt", Some("b\n")), ("m.txt", Some("m\n"))],
        "merge",
    );
    let (new_tip, commits) = replayed(
        repo.replay_onto(base, merged, tip, MergeDrivers::Text)
            .unwrap(),
    );
    assert_eq!(commits.len(), 3, "s1, side, and the merge's own change");
    assert!(commits.iter().all(|c| parents(&repo, *c).len() == 1));
    for f in ["a.txt", "t.txt", "s.txt", "b.txt", "m.txt"] {
        assert!(file(&repo, new_tip, f).is_some(), "{f}");
    }
    assert!(
        repo.unproven(base, merged, tip, new_tip)
            .unwrap()
            .is_empty()
    );

    // A session that merged the run branch's new tip into itself: only its own change lands.
    let pulled = commit(
        &repo,
        &[s1, tip],
        &[("t.txt", Some("t\n"))],
        "merge the run branch",
    );
    let (new_tip, commits) = replayed(
        repo.replay_onto(base, pulled, tip, MergeDrivers::Text)
            .unwrap(),
    );
    assert_eq!(commits, vec![new_tip]);
    assert_eq!(parents(&repo, new_tip), vec![tip]);
    assert_eq!(repo.changed_paths(tip, new_tip).unwrap(), ["s.txt"]);
    assert!(
        repo.unproven(base, pulled, tip, new_tip)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_session_that_rewound_below_its_base_is_replayed_not_fast_forwarded() {
    let (_d, repo) = temp_repo();
    let b0 = commit(&repo, &[], &[("a.txt", Some("a\n"))], "b0");
    let b1 = commit(&repo, &[b0], &[("b.txt", Some("b\n"))], "b1");
    let x = commit(
        &repo,
        &[b0],
        &[("x.txt", Some("x\n"))],
        "agent reset and committed",
    );
    let (tip, commits) = replayed(repo.replay_onto(b1, x, b1, MergeDrivers::Text).unwrap());
    assert_eq!(commits, vec![tip]);
    assert_eq!(parents(&repo, tip), vec![b1]);
    assert!(file(&repo, tip, "b.txt").is_some() && file(&repo, tip, "x.txt").is_some());
}

#[test]
fn a_commit_empty_in_the_session_is_kept() {
    let (_d, repo) = temp_repo();
    let base = commit(&repo, &[], &[("a.txt", Some("a\n"))], "base");
    let tip = commit(&repo, &[base], &[("t.txt", Some("t\n"))], "t");
    let e = commit(&repo, &[base], &[], "a note, no change");
    let (new_tip, commits) = replayed(repo.replay_onto(base, e, tip, MergeDrivers::Text).unwrap());
    assert_eq!(commits, vec![new_tip]);
    assert_eq!(
        repo.commit_info(new_tip).unwrap().unwrap().message,
        "a note, no change"
    );
    assert!(repo.unproven(base, e, tip, new_tip).unwrap().is_empty());
}

#[test]
fn changed_paths_names_added_modified_and_removed_files() {
    let (_d, repo) = temp_repo();
    let a = commit(
        &repo,
        &[],
        &[
            ("a.txt", Some("a\n")),
            ("b.txt", Some("b\n")),
            ("k.txt", Some("k\n")),
        ],
        "a",
    );
    let b = commit(
        &repo,
        &[a],
        &[
            ("a.txt", Some("A\n")),
            ("b.txt", None),
            ("d/e.txt", Some("e\n")),
        ],
        "b",
    );
    assert_eq!(
        repo.changed_paths(a, b).unwrap(),
        ["a.txt", "b.txt", "d/e.txt"]
    );
    assert_eq!(
        repo.changed_paths(b, a).unwrap(),
        ["a.txt", "b.txt", "d/e.txt"]
    );
    assert!(repo.changed_paths(a, a).unwrap().is_empty());
}

/// A commit on `parent` with entries of any mode: `(path, Some((bytes, mode)))` writes one,
/// `(path, None)` removes it.
fn commit_modes(
    repo: &Repo,
    parent: Oid,
    edits: &[(&str, Option<(&str, git2::FileMode)>)],
    msg: &str,
) -> Oid {
    let mut tree = repo.commit_info(parent).unwrap().unwrap().tree;
    // Removals first, in an update of their own: the tree updater refuses to put a file where
    // a directory still is (and the other way round).
    for removing in [true, false] {
        let base = repo.inner.find_tree(tree.raw()).unwrap();
        let mut up = git2::build::TreeUpdateBuilder::new();
        for (path, entry) in edits {
            match entry {
                None if removing => {
                    up.remove(*path);
                }
                Some((text, mode)) if !removing => {
                    up.upsert(
                        *path,
                        repo.write_blob(text.as_bytes()).unwrap().raw(),
                        *mode,
                    );
                }
                _ => {}
            }
        }
        tree = Oid::from(up.create_updated(&repo.inner, &base).unwrap());
    }
    commit_tree(repo, &[parent], tree, msg)
}

#[test]
fn files_becoming_directories_modes_and_links_replay_as_git_would() {
    use git2::FileMode::{Blob, BlobExecutable, Link};
    let (_d, repo) = temp_repo();
    let base = commit(
        &repo,
        &[],
        &[
            ("x", Some("x\n")),
            ("y/b", Some("b\n")),
            ("d/only.txt", Some("o\n")),
            ("run.sh", Some("echo\n")),
        ],
        "base",
    );
    let tip = commit(&repo, &[base], &[("t.txt", Some("t\n"))], "t");
    // Each kind of change in a commit of its own, so each is replayed (and checked against
    // libgit2's whole-index write, in `pick`) on its own.
    let s1 = commit_modes(
        &repo,
        base,
        &[("x", None), ("x/a", Some(("a\n", Blob)))],
        "file to dir",
    );
    let s2 = commit_modes(
        &repo,
        s1,
        &[("y/b", None), ("y", Some(("y\n", Blob)))],
        "dir to file",
    );
    let s3 = commit_modes(&repo, s2, &[("d/only.txt", None)], "empties d");
    let s4 = commit_modes(
        &repo,
        s3,
        &[("run.sh", Some(("echo\n", BlobExecutable)))],
        "chmod +x",
    );
    let s5 = commit_modes(&repo, s4, &[("link", Some(("t.txt", Link)))], "a symlink");
    let s6 = commit_modes(
        &repo,
        s5,
        &[("link", Some(("now a file\n", Blob)))],
        "link to file",
    );
    let (new_tip, commits) = replayed(repo.replay_onto(base, s6, tip, MergeDrivers::Text).unwrap());
    assert_eq!(commits.len(), 6);
    let want = repo.commit_info(s6).unwrap().unwrap().tree;
    let got = repo.commit_info(new_tip).unwrap().unwrap().tree;
    let mut want = repo.tree_list(want).unwrap();
    want.push((
        "t.txt".into(),
        repo.write_blob(b"t\n").unwrap(),
        crate::git::TreeEntryKind::Blob,
    ));
    want.sort_by(|a, b| a.0.cmp(&b.0));
    let mut got = repo.tree_list(got).unwrap();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, want);
    assert_eq!(file(&repo, new_tip, "x/a").as_deref(), Some("a\n"));
    assert!(repo.unproven(base, s6, tip, new_tip).unwrap().is_empty());
}
