//! Tests of the store's own rules at its doors: renumbering appends, the validator, and
//! append-only fast-forwards.

use super::rules::MAX_SEQ;
use super::tests::{rec, t};
use super::*;
use crate::clock::{FixedClock, SeededEntropy};
use crate::git::testutil::temp_repo;

fn setup(repo: &crate::git::Repo) -> (FixedClock, SeededEntropy) {
    let _ = repo;
    (FixedClock(t("2026-11-24T10:00:00Z")), SeededEntropy::new(7))
}

fn session<'a>(
    r: SessionRecord,
    transcript: &'a [u8],
    patch: Option<&'a [u8]>,
) -> SessionAppend<'a> {
    SessionAppend {
        record: r,
        transcript: TranscriptSource::Bytes(transcript),
        scratchpad: None,
        patch,
        scheduler: None,
        state_extra: Default::default(),
    }
}

#[test]
fn a_taken_seq_moves_to_the_next_free_one_with_its_transcript_and_patch() {
    let (_d, repo) = temp_repo();
    let (clock, ent) = setup(&repo);
    let store = RunStore::new(&repo, &clock, &ent);
    let id = RunId::parse("20261124T100000Z-0002").unwrap();
    store
        .create_run(RunMeta::minimal(id.clone(), clock.0))
        .unwrap();
    // Someone else took seq 1 while our session (planned as 1) ran.
    store
        .append_session(
            &id,
            session(rec("by-hand", SessionStatus::Ok), b"theirs", None),
        )
        .unwrap();
    let mut mine = rec("grind", SessionStatus::Error);
    mine.seq = 1;
    let taken = store.append_session(&id, session(mine.clone(), b"ours", Some(b"diff")));
    assert!(matches!(
        taken,
        Err(StoreError::DuplicateSeq { seq: 1, .. })
    ));
    let a = store
        .append_session_renumbering(&id, session(mine, b"ours", Some(b"diff")))
        .unwrap();
    assert_eq!(a.seq, 2);
    assert_eq!(a.record.renumbered_from, Some(1));
    assert!(a.record.to_line().ends_with(r#","renumbered_from":1}"#));
    assert_eq!(a.record.transcript_path, "transcripts/session-0002.log");
    let run = store.open_run(&id).unwrap();
    assert_eq!(run.state.last_session_seq, 2);
    assert_eq!(run.state.consumed.sessions, 2);
    let blob = |oid: Option<Oid>| repo.read_blob(oid.unwrap()).unwrap();
    assert_eq!(blob(store.transcript_blob(&run, 2).unwrap()), b"ours");
    assert_eq!(blob(store.transcript_blob(&run, 1).unwrap()), b"theirs");
    assert_eq!(blob(store.patch_blob(&run, 2).unwrap()), b"diff");
    assert_eq!(store.patch_blob(&run, 1).unwrap(), None);
    // A free seq is kept as it is, with no renumbering mark.
    let mut next = rec("grind", SessionStatus::Ok);
    next.seq = 3;
    let b = store
        .append_session_renumbering(&id, session(next, b"", None))
        .unwrap();
    assert_eq!(b.seq, 3);
    assert_eq!(b.record.renumbered_from, None);
    assert!(!b.record.to_line().contains("renumbered_from"));
}

#[test]
fn appends_keep_the_rules() {
    let (_d, repo) = temp_repo();
    let (clock, ent) = setup(&repo);
    let store = RunStore::new(&repo, &clock, &ent);
    let id = RunId::parse("20261124T100000Z-0003").unwrap();
    store
        .create_run(RunMeta::minimal(id.clone(), clock.0))
        .unwrap();
    let bad = |edit: fn(&mut SessionRecord)| {
        let mut r = rec("p", SessionStatus::Ok);
        edit(&mut r);
        match store.append_session(&id, session(r, b"", None)) {
            Err(StoreError::Invalid { why, .. }) => why,
            other => panic!("{other:?}"),
        }
    };
    assert!(bad(|r| r.seq = u64::MAX).contains("seq"));
    assert!(bad(|r| r.usage.cost_usd = -1.0).contains("cost_usd"));
    assert!(bad(|r| r.ended_at = t("2026-04-30T18:00:00Z")).contains("ended_at"));
    assert!(bad(|r| r.unread_commit = Some("not-a-sha".into())).contains("commit"));
    let big_pad = "x".repeat((16 << 20) + 1);
    let mut s = session(rec("p", SessionStatus::Ok), b"", None);
    s.scratchpad = Some(&big_pad);
    assert!(matches!(
        store.append_session(&id, s),
        Err(StoreError::Invalid { .. })
    ));
    let big = vec![b'x'; (64 << 20) + 1];
    let r = store.append_session(&id, session(rec("p", SessionStatus::Ok), &big, None));
    assert!(
        matches!(&r, Err(StoreError::Invalid { why, .. }) if why.contains("transcript")),
        "{r:?}"
    );
    // The last seq there is: the next one does not wrap to 0.
    let mut last = rec("p", SessionStatus::Ok);
    last.seq = MAX_SEQ;
    store.append_session(&id, session(last, b"", None)).unwrap();
    let r = store.append_session(&id, session(rec("p", SessionStatus::Ok), b"", None));
    assert!(
        matches!(&r, Err(StoreError::Invalid { why, .. }) if why.contains("no seq is left")),
        "{r:?}"
    );
    let run = store.open_run(&id).unwrap();
    assert_eq!(run.state.consumed.sessions, 1, "nothing else was written");
    assert!(store.record(&run, 0).unwrap().is_none());
}

#[test]
fn history_may_grow_and_renumber_but_not_lose_or_change_a_session() {
    use crate::git::TreeEdit;
    let (_d, repo) = temp_repo();
    let (clock, ent) = setup(&repo);
    let store = RunStore::new(&repo, &clock, &ent);
    let id = RunId::parse("20261124T100000Z-0004").unwrap();
    store
        .create_run(RunMeta::minimal(id.clone(), clock.0))
        .unwrap();
    store
        .append_session(&id, session(rec("a", SessionStatus::Ok), b"one", None))
        .unwrap();
    store
        .append_session(
            &id,
            session(rec("b", SessionStatus::Error), b"two", Some(b"p")),
        )
        .unwrap();
    let run = store.open_run(&id).unwrap();
    let old = store.tip_tree(&run).unwrap();
    let two = store.record(&run, 2).unwrap().unwrap();
    let blob = |b: &[u8]| repo.write_blob(b).unwrap();
    let put = |path: String, oid: Oid| TreeEdit::Blob { path, oid };
    let gone = |path: String| TreeEdit::Remove { path };
    // Session 2 moved to 3 the way a merge moves it (another session took 2).
    let mut moved = two.clone();
    moved.seq = 3;
    moved.transcript_path = Seq(3).record_transcript_path();
    moved.renumbered_from = Some(2);
    let mut other = rec("c", SessionStatus::Ok);
    other.seq = 2;
    other.run_id = id.to_string();
    let line = |r: &SessionRecord| blob(format!("{}\n", r.to_line()).as_bytes());
    let renumbered = |transcript: &[u8]| {
        repo.edit_tree(
            Some(old),
            &[
                put(Seq(2).record_path(), line(&other)),
                put(Seq(2).transcript_path(), blob(b"theirs")),
                gone(Seq(2).patch_path()),
                put(Seq(3).record_path(), line(&moved)),
                put(Seq(3).transcript_path(), blob(transcript)),
                put(Seq(3).patch_path(), blob(b"p")),
            ],
        )
        .unwrap()
    };
    assert_eq!(store.keeps_history(old, renumbered(b"two")).unwrap(), None);
    let why = store
        .keeps_history(old, renumbered(b"forged"))
        .unwrap()
        .unwrap();
    assert!(why.contains("sessions/00/0002.jsonl"), "{why}");
    let dropped = repo
        .edit_tree(Some(old), &[gone(Seq(1).transcript_path())])
        .unwrap();
    let why = store.keeps_history(old, dropped).unwrap().unwrap();
    assert_eq!(why, "it deletes \"transcripts/00/session-0001.log\"");
}
