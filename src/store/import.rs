//! Bulk import: a whole run written at once, streamed into `git fast-import` (see
//! `git::FastImport`) and published with one create-if-absent compare-and-swap. The commits are
//! exactly those appends would have made (DESIGN §3): the root commit, one commit per record
//! (record, transcript, `state.json`, patch) dated at the session's end, and a final run commit
//! with the imported status and scratchpad.

use chrono::{DateTime, Utc};

use super::check::Caps;
use super::id::{RunId, Seq};
use super::message::{run_message, session_message};
use super::paths::{RUN_JSON, SCRATCHPAD, STATE_JSON};
use super::record::SessionRecord;
use super::rules::{BlobKind, check_blob_size, check_session};
use super::run::{RunMeta, RunState};
use super::write::TranscriptSource;
use super::{Result, Run, RunStore, StoreError};
use crate::git::{CasOutcome, FastImport, FileChange, FileData};

impl RunStore<'_> {
    /// Writes a whole run at once (import): the root commit, one commit per record, and a final
    /// run commit with the imported status, streamed into `git fast-import` (see
    /// `git::FastImport`), then publishes the ref with one create-if-absent swap. Until the swap
    /// nothing is visible; a failure or a kill leaves no ref and no half-written pack.
    pub fn import_run(
        &self,
        meta: RunMeta,
        final_state: &RunState,
        scratchpad: &str,
        sessions: &mut dyn Iterator<
            Item = Result<(SessionRecord, TranscriptSource<'_>, Option<Vec<u8>>)>,
        >,
        source: &str,
    ) -> Result<Run> {
        let id = meta.id.clone();
        let refname = id.ref_name();
        if self.repo.ref_target(&refname)?.is_some() {
            return Err(StoreError::RunExists(id));
        }
        let mut stream = self.repo.fast_import(&format!("import-{id}"))?;
        let state = self.import_chain(
            &mut stream,
            &meta,
            final_state,
            scratchpad,
            sessions,
            source,
        )?;
        let tip = stream.finish()?;
        match self
            .repo
            .cas_ref(&refname, tip, None, &format!("pitboss: run {id} imported"))?
        {
            CasOutcome::Updated => Ok(Run {
                id,
                tip,
                meta,
                state,
            }),
            CasOutcome::Raced(_) => Err(StoreError::RunExists(id)),
        }
    }

    fn import_chain(
        &self,
        stream: &mut FastImport,
        meta: &RunMeta,
        final_state: &RunState,
        scratchpad: &str,
        sessions: &mut dyn Iterator<
            Item = Result<(SessionRecord, TranscriptSource<'_>, Option<Vec<u8>>)>,
        >,
        source: &str,
    ) -> Result<RunState> {
        let id = &meta.id;
        // The store's rules, the same for every door (record, import, grind, fetch).
        let caps = Caps::default();
        check_blob_size(BlobKind::Scratchpad, scratchpad.len() as u64, &caps).map_err(|why| {
            StoreError::CorruptRun {
                run: id.clone(),
                path: SCRATCHPAD.into(),
                why,
            }
        })?;
        let mut state = self.import_root(stream, meta, final_state.started_at)?;
        // Only the seqs are kept (8 bytes a session): memory stays flat however long the run.
        let mut seen = std::collections::HashSet::new();
        for item in sessions {
            let (mut record, transcript, patch) = item?;
            record.run_id = id.to_string();
            check_imported(id, &record, patch.as_deref(), &caps, &mut seen)?;
            let seq = Seq(record.seq);
            state.last_session_seq = state.last_session_seq.max(record.seq);
            state.consumed.add(&record);
            state.last_updated_at = record.ended_at;
            let mut line = record.to_line();
            line.push('\n');
            let state_json = state.to_json();
            let mut hold = TranscriptHold::default();
            let data = self.transcript_data(transcript, &mut hold)?;
            let size = match &data {
                FileData::Bytes(b) => b.len() as u64,
                FileData::Reader(_, len) => *len,
            };
            check_blob_size(BlobKind::Transcript, size, &caps).map_err(|why| {
                StoreError::Invalid {
                    run: id.clone(),
                    seq: record.seq,
                    why,
                }
            })?;
            let mut files = vec![
                file(&seq.record_path(), FileData::Bytes(line.as_bytes())),
                FileChange {
                    path: seq.transcript_path(),
                    data,
                },
                file(STATE_JSON, FileData::Bytes(state_json.as_bytes())),
            ];
            if let Some(p) = &patch {
                files.push(file(&seq.patch_path(), FileData::Bytes(p)));
            }
            let msg = session_message(&record, id, &state.status);
            stream.commit(&msg, &self.identity, record.ended_at, &mut files)?;
        }
        self.import_final(stream, id, &state, final_state, scratchpad, source)
    }

    /// The run's root commit (`run <id> started`: its metadata, an empty scratchpad and a
    /// new state at `started_at`); returns that state.
    fn import_root(
        &self,
        stream: &mut FastImport,
        meta: &RunMeta,
        started_at: DateTime<Utc>,
    ) -> Result<RunState> {
        let id = &meta.id;
        let state = RunState::new(started_at);
        let mut meta_json = serde_json::to_string_pretty(meta)
            .expect("our own plain data always serialises to JSON");
        meta_json.push('\n');
        let msg = run_message(&format!("run {id} started"), None, id, &state.status);
        stream.commit(
            &msg,
            &self.identity,
            started_at,
            &mut [
                file(RUN_JSON, FileData::Bytes(meta_json.as_bytes())),
                file(SCRATCHPAD, FileData::Bytes(b"")),
                file(STATE_JSON, FileData::Bytes(state.to_json().as_bytes())),
            ],
        )?;
        Ok(state)
    }

    /// A transcript as fast-import takes it: bytes, or a file of known length to stream.
    /// `hold` keeps what the data borrows (bytes read whole, a blob, an open file).
    fn transcript_data<'a: 'h, 'h>(
        &self,
        transcript: TranscriptSource<'a>,
        hold: &'h mut TranscriptHold,
    ) -> Result<FileData<'h>> {
        Ok(match transcript {
            TranscriptSource::Empty => FileData::Bytes(b""),
            TranscriptSource::Bytes(b) => FileData::Bytes(b),
            TranscriptSource::Reader(r) => {
                // NB: fast-import needs a blob's length before its bytes; a reader of
                // unknown length is read first (no import caller passes one).
                r.read_to_end(&mut hold.bytes)
                    .map_err(crate::git::GitError::io("cannot read a transcript"))?;
                FileData::Bytes(&hold.bytes)
            }
            TranscriptSource::Blob(oid) => {
                hold.bytes = self.repo.read_blob(oid)?;
                FileData::Bytes(&hold.bytes)
            }
            TranscriptSource::File(path) => {
                let what = || format!("cannot read transcript {}", path.display());
                let opened =
                    std::fs::File::open(&path).map_err(crate::git::GitError::io(what()))?;
                let len = opened
                    .metadata()
                    .map_err(crate::git::GitError::io(what()))?
                    .len();
                FileData::Reader(hold.opened.insert(opened), len)
            }
            TranscriptSource::Opened(f) => {
                let len = f
                    .metadata()
                    .map_err(crate::git::GitError::io("cannot read a transcript"))?
                    .len();
                FileData::Reader(hold.opened.insert(f), len)
            }
        })
    }

    /// The final commit (`run <id> imported`), which carries the imported status,
    /// scratchpad and scheduler state; returns that state.
    fn import_final(
        &self,
        stream: &mut FastImport,
        id: &RunId,
        state: &RunState,
        final_state: &RunState,
        scratchpad: &str,
        source: &str,
    ) -> Result<RunState> {
        let mut fin = state.clone();
        fin.status = final_state.status.clone();
        fin.stop_reason = final_state.stop_reason.clone();
        fin.scheduler = final_state.scheduler.clone();
        fin.extra = final_state.extra.clone();
        fin.last_updated_at = final_state.last_updated_at.max(state.last_updated_at);
        let now: DateTime<Utc> = self.clock.now();
        let msg = run_message(
            &format!("run {id} imported"),
            Some(&format!("Imported from {source}.")),
            id,
            &fin.status,
        );
        stream.commit(
            &msg,
            &self.identity,
            now,
            &mut [
                file(STATE_JSON, FileData::Bytes(fin.to_json().as_bytes())),
                file(SCRATCHPAD, FileData::Bytes(scratchpad.as_bytes())),
            ],
        )?;
        Ok(fin)
    }
}

/// What a transcript's file data borrows while its commit is written.
#[derive(Default)]
struct TranscriptHold {
    /// A transcript read whole (from a reader, or a blob).
    bytes: Vec<u8>,
    /// A transcript file, streamed.
    opened: Option<std::fs::File>,
}

/// Checks an imported record against the store's rules: a seq of 1 or more that no earlier
/// record of the import had, a valid record, and a patch within the size cap.
fn check_imported(
    id: &RunId,
    record: &SessionRecord,
    patch: Option<&[u8]>,
    caps: &Caps,
    seen: &mut std::collections::HashSet<u64>,
) -> Result<()> {
    let invalid = |why: String| StoreError::Invalid {
        run: id.clone(),
        seq: record.seq,
        why,
    };
    if record.seq == 0 {
        return Err(invalid("field `seq`: must be 1 or more".into()));
    }
    check_session(record).map_err(invalid)?;
    if let Some(p) = patch {
        check_blob_size(BlobKind::Patch, p.len() as u64, caps).map_err(invalid)?;
    }
    if !seen.insert(record.seq) {
        return Err(StoreError::DuplicateSeq {
            run: id.clone(),
            seq: record.seq,
        });
    }
    Ok(())
}

fn file<'a>(path: &str, data: FileData<'a>) -> FileChange<'a> {
    FileChange {
        path: path.to_string(),
        data,
    }
}
