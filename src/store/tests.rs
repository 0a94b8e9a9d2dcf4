//! Store tests on real temp repositories with a fixed identity and clock.

use super::write::Appended;
use super::*;
use crate::clock::{FixedClock, SeededEntropy};
use crate::git::testutil::temp_repo;

pub(super) fn t(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

pub(super) fn rec(prompt: &str, status: SessionStatus) -> SessionRecord {
    SessionRecord::builder()
        .seq(0)
        .run_id("")
        .prompt(prompt)
        .times("2026-04-30T18:05:00Z", "2026-04-30T18:06:30Z")
        .status(status)
        .summary(&format!("did {prompt}"))
        .tokens(100, 50)
        .cost(0.01)
        .transcript("")
        .build()
}

pub(super) fn append(
    store: &RunStore<'_>,
    id: &RunId,
    r: SessionRecord,
    transcript: &[u8],
) -> Result<Appended> {
    store.append_session(
        id,
        SessionAppend {
            record: r,
            transcript: TranscriptSource::Bytes(transcript),
            scratchpad: None,
            patch: None,
            scheduler: None,
            state_extra: Default::default(),
        },
    )
}

#[test]
fn create_append_read_back() {
    let (_d, repo) = temp_repo();
    let clock = FixedClock(t("2026-11-24T10:00:00Z"));
    let ent = SeededEntropy::new(1);
    let store = RunStore::new(&repo, &clock, &ent);
    let id = RunId::parse("20261124T100000Z-0001").unwrap();
    create_once(&store, &id, clock.0);
    append_two_refuse_the_rest(&store, &id);
    let run = store.open_run(&id).unwrap();
    read_back_two(&store, &repo, &run);
    tip_is_the_second(&repo, &run, &id);
    finish_and_list(&store, &id);
}

/// `create_append_read_back`: the run is created `running`; creating it again is refused.
fn create_once(store: &RunStore<'_>, id: &RunId, now: chrono::DateTime<chrono::Utc>) {
    let run = store.create_run(RunMeta::minimal(id.clone(), now)).unwrap();
    assert_eq!(run.state.status, RunStatus::Running);
    assert!(matches!(
        store.create_run(RunMeta::minimal(id.clone(), now)),
        Err(StoreError::RunExists(_))
    ));
}

/// `create_append_read_back`: two sessions append (seqs 1 and 2, bytes and a reader); a
/// duplicate seq and another run's record are refused.
fn append_two_refuse_the_rest(store: &RunStore<'_>, id: &RunId) {
    let a = append(store, id, rec("fp-hunter", SessionStatus::Ok), b"log one").unwrap();
    assert_eq!(a.seq, 1);
    assert_eq!(a.record.transcript_path, "transcripts/session-0001.log");
    let b = store
        .append_session(
            id,
            SessionAppend {
                record: rec("docs", SessionStatus::Error),
                transcript: TranscriptSource::Reader(&mut &b"log two"[..]),
                scratchpad: Some("notes\n"),
                patch: Some(b"diff --git a/x b/x\n"),
                scheduler: Some(serde_json::json!({"rotation": 2})),
                state_extra: Default::default(),
            },
        )
        .unwrap();
    assert_eq!(b.seq, 2);
    let mut dup = rec("x", SessionStatus::Ok);
    dup.seq = 2;
    assert!(matches!(
        append(store, id, dup, b""),
        Err(StoreError::DuplicateSeq { seq: 2, .. })
    ));
    let mut other = rec("x", SessionStatus::Ok);
    other.run_id = "someone-else".into();
    assert!(matches!(
        append(store, id, other, b""),
        Err(StoreError::RunMismatch { .. })
    ));
}

/// `create_append_read_back`: the state, records, transcripts, patches and scratchpad read
/// back as the two sessions left them.
fn read_back_two(store: &RunStore<'_>, repo: &crate::git::Repo, run: &Run) {
    assert_eq!(run.state.last_session_seq, 2);
    assert_eq!(run.state.consumed.sessions, 2);
    assert_eq!(run.state.consumed.tokens.input, 200);
    assert_eq!(run.state.scheduler, serde_json::json!({"rotation": 2}));
    let records = store.records(run).unwrap();
    assert_eq!(
        records.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(records[1].prompt, "docs");
    assert_eq!(store.record(run, 1).unwrap().unwrap().prompt, "fp-hunter");
    assert!(store.record(run, 9).unwrap().is_none());
    let tb = store.transcript_blob(run, 2).unwrap().unwrap();
    assert_eq!(repo.read_blob(tb).unwrap(), b"log two");
    assert!(store.patch_blob(run, 2).unwrap().is_some());
    assert!(store.patch_blob(run, 1).unwrap().is_none());
    assert_eq!(store.scratchpad(run).unwrap(), "notes\n");
}

/// `create_append_read_back`: the tip is the second session's commit, on the first's, with
/// its subject, summary and trailers; the run ref moved three times.
fn tip_is_the_second(repo: &crate::git::Repo, run: &Run, id: &RunId) {
    // Root commit has no parent; each later one has exactly the previous tip.
    let tip = repo.commit_info(run.tip).unwrap().unwrap();
    assert_eq!(tip.parents.len(), 1);
    assert!(
        tip.message
            .starts_with("session 0002 docs: error\n\ndid docs\n\n"),
        "{}",
        tip.message
    );
    assert_eq!(trailer(&tip.message, "Pitboss-Status"), Some("error"));
    assert_eq!(repo.reflog_len(&id.ref_name()).unwrap(), 3);
}

/// `create_append_read_back`: the finished run is listed finished, with its two sessions.
fn finish_and_list(store: &RunStore<'_>, id: &RunId) {
    store
        .update_run(
            id,
            RunUpdate {
                subject: format!("run {id} finished: finished (scheduler exhausted)"),
                status: Some(RunStatus::Finished),
                stop_reason: Some(Some("scheduler exhausted".into())),
                ..Default::default()
            },
        )
        .unwrap();
    let listing = store.list().unwrap();
    assert_eq!(listing.runs.len(), 1);
    assert_eq!(listing.runs[0].status, RunStatus::Finished);
    assert_eq!(listing.runs[0].sessions, 2);
}

#[test]
fn resolve_prefixes() {
    let (_d, repo) = temp_repo();
    let clock = FixedClock(t("2026-11-24T10:00:00Z"));
    let ent = SeededEntropy::new(1);
    let store = RunStore::new(&repo, &clock, &ent);
    for s in [
        "20261124T100000Z-aaaa",
        "20261124T100000Z-aabb",
        "20261125T000000Z-0000",
    ] {
        store
            .create_run(RunMeta::minimal(RunId::parse(s).unwrap(), clock.0))
            .unwrap();
    }
    assert_eq!(
        store.resolve("20261125").unwrap().as_str(),
        "20261125T000000Z-0000"
    );
    assert_eq!(
        store.resolve("20261124T100000Z-aab").unwrap().as_str(),
        "20261124T100000Z-aabb"
    );
    match store.resolve("20261124T100000Z-aa") {
        Err(StoreError::Ambiguous { candidates, .. }) => assert_eq!(candidates.len(), 2),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        store.resolve("1999"),
        Err(StoreError::RunNotFound(_))
    ));
    assert!(matches!(
        store.resolve("../x"),
        Err(StoreError::InvalidRunId(_))
    ));
}

#[test]
fn a_ref_that_is_not_a_run_is_named() {
    let (_d, repo) = temp_repo();
    let clock = FixedClock(t("2026-11-24T10:00:00Z"));
    let ent = SeededEntropy::new(1);
    let store = RunStore::new(&repo, &clock, &ent);
    let tree = repo.empty_tree().unwrap();
    let c = repo
        .write_commit(
            tree,
            &[],
            "hello",
            &crate::git::Identity::fallback(),
            clock.0,
        )
        .unwrap();
    repo.cas_ref("refs/pitboss/grind/bogus", c, None, "x")
        .unwrap();
    let err = store
        .open_run(&RunId::parse("bogus").unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("refs/pitboss/grind/bogus is not a git-pitboss run"),
        "{err}"
    );
    let listing = store.list().unwrap();
    assert_eq!(listing.runs.len(), 0);
    assert_eq!(listing.invalid.len(), 1);
}

#[test]
fn concurrent_threads_lose_nothing() {
    let (dir, repo) = temp_repo();
    let clock = FixedClock(t("2026-11-24T10:00:00Z"));
    let ent = SeededEntropy::new(1);
    let id = RunId::parse("20261124T100000Z-cccc").unwrap();
    RunStore::new(&repo, &clock, &ent)
        .create_run(RunMeta::minimal(id.clone(), clock.0))
        .unwrap();
    let threads: Vec<_> = (0..50)
        .map(|i| {
            let path = dir.path().to_path_buf();
            let id = id.clone();
            std::thread::spawn(move || {
                let repo = crate::git::Repo::open(&path).unwrap();
                let clock = FixedClock(t("2026-11-24T10:00:00Z"));
                let ent = SeededEntropy::new(i);
                let store = RunStore::new(&repo, &clock, &ent);
                append(
                    &store,
                    &id,
                    rec(&format!("p{i}"), SessionStatus::Ok),
                    format!("t{i}").as_bytes(),
                )
                .unwrap()
                .seq
            })
        })
        .collect();
    let mut seqs: Vec<u64> = threads.into_iter().map(|h| h.join().unwrap()).collect();
    seqs.sort();
    assert_eq!(seqs, (1..=50).collect::<Vec<_>>());
    let store = RunStore::new(&repo, &clock, &ent);
    let run = store.open_run(&id).unwrap();
    let records = store.records(&run).unwrap();
    assert_eq!(records.len(), 50);
    let mut prompts: Vec<_> = records.iter().map(|r| r.prompt.clone()).collect();
    prompts.sort();
    prompts.dedup();
    assert_eq!(prompts.len(), 50);
    // 50 session commits on top of the root.
    let mut n = 0;
    let mut cur = Some(run.tip);
    while let Some(c) = cur {
        n += 1;
        cur = repo
            .commit_info(c)
            .unwrap()
            .unwrap()
            .parents
            .first()
            .copied();
    }
    assert_eq!(n, 51);
}

#[test]
fn export_import_round_trip() {
    let (_d, repo) = temp_repo();
    let clock = FixedClock(t("2026-11-24T10:00:00Z"));
    let ent = SeededEntropy::new(1);
    let store = RunStore::new(&repo, &clock, &ent);
    let id = RunId::parse("20261124T100000Z-eeee").unwrap();
    store
        .create_run(RunMeta::minimal(id.clone(), clock.0))
        .unwrap();
    for i in 0..3 {
        append(
            &store,
            &id,
            rec(&format!("p{i}"), SessionStatus::Ok),
            format!("transcript {i}\n").as_bytes(),
        )
        .unwrap();
    }
    let run = store.open_run(&id).unwrap();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("exported");
    let report = layout::export_run(&store, &run, &target).unwrap();
    assert_eq!(report.sessions, 3);
    assert!(matches!(
        layout::export_run(&store, &run, &target),
        Err(layout::LayoutError::TargetNotEmpty(_))
    ));
    assert_eq!(
        std::fs::read_to_string(target.join("transcripts/session-0002.log")).unwrap(),
        "transcript 1\n"
    );
    let md = std::fs::read_to_string(target.join("sessions.md")).unwrap();
    assert_eq!(md, render_sessions_md(&store.records(&run).unwrap()));

    let rd = layout::read_run_dir(&target).unwrap();
    let new_id = RunId::parse("imported").unwrap();
    let imported = layout::import_run_dir(&store, rd, new_id.clone(), &Default::default()).unwrap();
    let a = store.records(&run).unwrap();
    let b = store.records(&imported).unwrap();
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        let mut y = y.clone();
        y.run_id = x.run_id.clone();
        assert_eq!(x, &y);
    }
    assert_eq!(imported.state.consumed, run.state.consumed);
    let tb = store.transcript_blob(&imported, 3).unwrap().unwrap();
    assert_eq!(repo.read_blob(tb).unwrap(), b"transcript 2\n");
    // Refused when it exists.
    let rd = layout::read_run_dir(&target).unwrap();
    assert!(matches!(
        layout::import_run_dir(&store, rd, new_id, &Default::default()),
        Err(layout::LayoutError::Store(StoreError::RunExists(_)))
    ));
}
