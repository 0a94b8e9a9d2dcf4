//! Writing runs: create, append a session, run-level updates (bulk import: `import.rs`). Every write is
//! one commit published by one compare-and-swap of the run ref; a lost race re-reads the tip
//! and rebuilds (bounded, with jittered backoff).

use std::io::Read;
use std::time::{Duration, Instant};

use super::check::Caps;
use super::id::{RunId, Seq};
use super::message::{run_message, session_message};
use super::paths::{RUN_JSON, SCRATCHPAD, STATE_JSON};
use super::record::SessionRecord;
use super::record_line::RENUMBERED_FROM;
use super::rules::{BlobKind, MAX_SEQ, check_blob_size, check_session};
use super::run::{RunMeta, RunState, RunStatus};
use super::{Result, Run, RunStore, StoreError};
use crate::git::{CasOutcome, Oid, TreeEdit};

/// How long a writer keeps retrying a contended ref before giving up.
const RETRY_DEADLINE: Duration = Duration::from_secs(60);
/// How long a ref lock may block us before we look at whether its writer is gone.
const LOCK_PATIENCE: Duration = Duration::from_secs(4);
/// Longest single backoff sleep.
const MAX_BACKOFF_MS: u64 = 40;

/// Where a session's transcript comes from.
pub enum TranscriptSource<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// Streamed into the object store, never held whole in memory.
    Reader(&'a mut dyn Read),
    /// A blob already written to this repository.
    Blob(Oid),
    /// A file, streamed like `Reader`.
    File(std::path::PathBuf),
    /// A file already open (the import reads its directory in one place), streamed.
    Opened(std::fs::File),
}

/// One session to append. A `record.seq` of 0 means "the next seq"; an empty `run_id` or
/// `transcript_path` is filled in.
pub struct SessionAppend<'a> {
    pub record: SessionRecord,
    pub transcript: TranscriptSource<'a>,
    /// The scratchpad after the session; `None` leaves it as it was.
    pub scratchpad: Option<&'a str>,
    /// The unmerged work of the session, stored under `patches/`.
    pub patch: Option<&'a [u8]>,
    /// The scheduler's state after the session; `None` leaves it as it was.
    pub scheduler: Option<serde_json::Value>,
    /// Other keys of `state.json` to set (the grind loop's budget state); others are kept.
    pub state_extra: std::collections::BTreeMap<String, serde_json::Value>,
}

/// What an append published.
#[derive(Debug, Clone, PartialEq)]
pub struct Appended {
    pub seq: u64,
    pub commit: Oid,
    pub record: SessionRecord,
}

/// A run-level commit (`run <id> finished: …`, `scratchpad updated`, …).
#[derive(Debug, Clone, Default)]
pub struct RunUpdate {
    pub subject: String,
    pub body: Option<String>,
    pub status: Option<RunStatus>,
    /// `Some(None)` clears the stop reason.
    pub stop_reason: Option<Option<String>>,
    pub scratchpad: Option<String>,
    pub scheduler: Option<serde_json::Value>,
    /// Other keys of `state.json` to set; others are kept.
    pub state_extra: std::collections::BTreeMap<String, serde_json::Value>,
    /// Files to add or replace (path in the run's tree, content), e.g. a resume patch.
    pub files: Vec<(String, Vec<u8>)>,
}

/// What an append does when its record's seq is already taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnTaken {
    Refuse,
    NextFree,
}

/// The blobs of a session being appended.
struct SessionBlobs {
    transcript: Oid,
    /// The scratchpad, when the session changed it.
    scratch: Option<Oid>,
    patch: Option<Oid>,
}

/// What a build step hands to the compare-and-swap loop.
struct Built {
    tree: Oid,
    message: String,
}

impl RunStore<'_> {
    /// Creates a run: the root commit `run <id> started` with `run.json`, `state.json` and an
    /// empty `scratchpad.md`. Refuses a run that exists.
    pub fn create_run(&self, meta: RunMeta) -> Result<Run> {
        let id = meta.id.clone();
        let refname = id.ref_name();
        if self.repo.ref_target(&refname)?.is_some() {
            return Err(StoreError::RunExists(id));
        }
        let now = self.clock.now();
        let state = RunState::new(now);
        let (tree, _) = self.root_tree(&meta, &state, "")?;
        let msg = run_message(&format!("run {id} started"), None, &id, &state.status);
        let commit = self
            .repo
            .write_commit(tree, &[], &msg, &self.identity, now)?;
        match self.repo.cas_ref(
            &refname,
            commit,
            None,
            &format!("pitboss: run {id} started"),
        )? {
            CasOutcome::Updated => Ok(Run {
                id: {
                    self.note_written(&id, commit);
                    id
                },
                tip: commit,
                meta,
                state,
            }),
            CasOutcome::Raced(_) => Err(StoreError::RunExists(id)),
        }
    }

    fn root_tree(&self, meta: &RunMeta, state: &RunState, scratchpad: &str) -> Result<(Oid, Oid)> {
        let mut meta_json = serde_json::to_string_pretty(meta)
            .expect("our own plain data always serialises to JSON");
        meta_json.push('\n');
        let meta_blob = self.repo.write_blob(meta_json.as_bytes())?;
        let state_blob = self.repo.write_blob(state.to_json().as_bytes())?;
        let pad_blob = self.repo.write_blob(scratchpad.as_bytes())?;
        let tree = self.repo.write_flat_tree(&[
            (RUN_JSON, meta_blob),
            (SCRATCHPAD, pad_blob),
            (STATE_JSON, state_blob),
        ])?;
        Ok((tree, meta_blob))
    }

    /// Appends one session (record, transcript, scratchpad, patch, state) as one commit. A
    /// record whose seq is taken is refused ([`StoreError::DuplicateSeq`]).
    pub fn append_session(&self, id: &RunId, s: SessionAppend<'_>) -> Result<Appended> {
        self.append(id, s, OnTaken::Refuse)
    }

    /// Like [`append_session`](Self::append_session), for a writer that fixed its seq before
    /// the session and cannot have it refused at the end (the grind loop): when another writer
    /// took that seq meanwhile (`record`, a `sync` bringing a teammate's session), the session
    /// takes the next free seq instead, its transcript and patch move with it, and the record
    /// says `renumbered_from` (as a merge does). [`Appended::seq`] is the seq it got.
    pub fn append_session_renumbering(&self, id: &RunId, s: SessionAppend<'_>) -> Result<Appended> {
        self.append(id, s, OnTaken::NextFree)
    }

    fn append(&self, id: &RunId, mut s: SessionAppend<'_>, on_taken: OnTaken) -> Result<Appended> {
        if s.record.run_id.is_empty() {
            s.record.run_id = id.to_string();
        } else if s.record.run_id != id.as_str() {
            return Err(StoreError::RunMismatch {
                run: id.clone(),
                record_run: s.record.run_id.clone(),
            });
        }
        let blobs = self.session_blobs(id, &s.record, s.transcript, s.scratchpad, s.patch)?;
        let wanted_seq = s.record.seq;
        let fill_path = s.record.transcript_path.is_empty()
            || (wanted_seq != 0
                && s.record.transcript_path == Seq(wanted_seq).record_transcript_path());
        let original = s.record;
        let (commit, record) = self.cas_loop(id, |tip_tree, state| {
            let mut record = original.clone();
            let seq = self.seq_to_take(id, tip_tree, state, wanted_seq, on_taken)?;
            if wanted_seq != 0 && seq != wanted_seq {
                // NB: as in a merge, a value of a shape we do not read is left as it is.
                if record.renumbered_from.is_none() && !record.extra.contains_key(RENUMBERED_FROM) {
                    record.renumbered_from = Some(wanted_seq);
                }
            }
            record.seq = seq;
            if fill_path {
                record.transcript_path = Seq(seq).record_transcript_path();
            }
            let mut state = state.clone();
            state.last_session_seq = state.last_session_seq.max(seq);
            state.consumed.add(&record);
            state.last_updated_at = self.clock.now();
            if let Some(v) = &s.scheduler {
                state.scheduler = v.clone();
            }
            for (k, v) in &s.state_extra {
                state.extra.insert(k.clone(), v.clone());
            }
            state.refresh_stop_reason();
            let tree = self.session_tree(tip_tree, &record, &state, &blobs)?;
            Ok((
                Built {
                    tree,
                    message: session_message(&record, id, &state.status),
                },
                record.clone(),
            ))
        })?;
        Ok(Appended {
            seq: record.seq,
            commit,
            record,
        })
    }

    /// Checks a session's record against the rules and its scratchpad, patch and transcript
    /// against the size caps, and writes them as blobs (content-addressed: they do not depend
    /// on the seq the session gets, so they are written once, outside the CAS loop).
    fn session_blobs(
        &self,
        id: &RunId,
        record: &SessionRecord,
        transcript: TranscriptSource<'_>,
        scratchpad: Option<&str>,
        patch: Option<&[u8]>,
    ) -> Result<SessionBlobs> {
        let invalid = |why: String| StoreError::Invalid {
            run: id.clone(),
            seq: record.seq,
            why,
        };
        check_session(record).map_err(invalid)?;
        let caps = Caps::default();
        if let Some(p) = scratchpad {
            check_blob_size(BlobKind::Scratchpad, p.len() as u64, &caps).map_err(invalid)?;
        }
        if let Some(p) = patch {
            check_blob_size(BlobKind::Patch, p.len() as u64, &caps).map_err(invalid)?;
        }
        let transcript = self.write_transcript(transcript)?;
        check_blob_size(
            BlobKind::Transcript,
            self.repo.blob_size(transcript)? as u64,
            &caps,
        )
        .map_err(invalid)?;
        let scratch = scratchpad
            .map(|p| self.repo.write_blob(p.as_bytes()))
            .transpose()?;
        let patch = patch.map(|p| self.repo.write_blob(p)).transpose()?;
        Ok(SessionBlobs {
            transcript,
            scratch,
            patch,
        })
    }

    /// The seq a session gets on the tip whose tree is `tip_tree`: the one it asks for when
    /// free; when taken, refused or the next free one after the run's last (as `on_taken`
    /// says); the next free one when it asks for none (0).
    fn seq_to_take(
        &self,
        id: &RunId,
        tip_tree: Oid,
        state: &RunState,
        wanted_seq: u64,
        on_taken: OnTaken,
    ) -> Result<u64> {
        let taken = |n: u64| -> Result<bool> {
            Ok(self
                .repo
                .tree_entry(tip_tree, &Seq(n).record_path())?
                .is_some())
        };
        if wanted_seq != 0 && !taken(wanted_seq)? {
            return Ok(wanted_seq);
        }
        if wanted_seq != 0 && on_taken == OnTaken::Refuse {
            return Err(StoreError::DuplicateSeq {
                run: id.clone(),
                seq: wanted_seq,
            });
        }
        let mut n = state.last_session_seq.max(wanted_seq);
        loop {
            n = match n.checked_add(1).filter(|n| *n <= MAX_SEQ) {
                Some(n) => n,
                None => {
                    return Err(StoreError::Invalid {
                        run: id.clone(),
                        seq: wanted_seq,
                        why: format!("no seq is left after {}", state.last_session_seq),
                    });
                }
            };
            if !taken(n)? {
                return Ok(n);
            }
        }
    }

    /// The tip's tree with a session added: its record line, transcript and patch at its seq,
    /// the new state, and the scratchpad when the session changed it.
    fn session_tree(
        &self,
        tip_tree: Oid,
        record: &SessionRecord,
        state: &RunState,
        blobs: &SessionBlobs,
    ) -> Result<Oid> {
        let seq = record.seq;
        let mut line = record.to_line();
        line.push('\n');
        let mut edits = vec![
            TreeEdit::Blob {
                path: Seq(seq).record_path(),
                oid: self.repo.write_blob(line.as_bytes())?,
            },
            TreeEdit::Blob {
                path: Seq(seq).transcript_path(),
                oid: blobs.transcript,
            },
            TreeEdit::Blob {
                path: STATE_JSON.into(),
                oid: self.repo.write_blob(state.to_json().as_bytes())?,
            },
        ];
        if let Some(p) = blobs.scratch {
            edits.push(TreeEdit::Blob {
                path: SCRATCHPAD.into(),
                oid: p,
            });
        }
        if let Some(p) = blobs.patch {
            edits.push(TreeEdit::Blob {
                path: Seq(seq).patch_path(),
                oid: p,
            });
        }
        Ok(self.repo.edit_tree(Some(tip_tree), &edits)?)
    }

    /// A run-level commit: status, stop reason, scratchpad or scheduler state.
    pub fn update_run(&self, id: &RunId, u: RunUpdate) -> Result<Oid> {
        let scratch = u
            .scratchpad
            .as_deref()
            .map(|p| self.repo.write_blob(p.as_bytes()))
            .transpose()?;
        let files = u
            .files
            .iter()
            .map(|(path, bytes)| Ok((path.clone(), self.repo.write_blob(bytes)?)))
            .collect::<Result<Vec<_>>>()?;
        let (commit, ()) = self.cas_loop(id, |tip_tree, state| {
            let mut state = state.clone();
            if let Some(st) = &u.status {
                state.status = st.clone();
            }
            if let Some(r) = &u.stop_reason {
                state.stop_reason = r.clone();
                // A new reason that is not an iteration stop must not be re-rendered as one.
                state.extra.remove(super::run::STOP_ITERATIONS_KEY);
            }
            if let Some(v) = &u.scheduler {
                state.scheduler = v.clone();
            }
            for (k, v) in &u.state_extra {
                state.extra.insert(k.clone(), v.clone());
            }
            state.last_updated_at = self.clock.now();
            let mut edits = vec![TreeEdit::Blob {
                path: STATE_JSON.into(),
                oid: self.repo.write_blob(state.to_json().as_bytes())?,
            }];
            if let Some(p) = scratch {
                edits.push(TreeEdit::Blob {
                    path: SCRATCHPAD.into(),
                    oid: p,
                });
            }
            for (path, oid) in &files {
                edits.push(TreeEdit::Blob {
                    path: path.clone(),
                    oid: *oid,
                });
            }
            let tree = self.repo.edit_tree(Some(tip_tree), &edits)?;
            let message = run_message(&u.subject, u.body.as_deref(), id, &state.status);
            Ok((Built { tree, message }, ()))
        })?;
        Ok(commit)
    }

    /// Re-reads the tip, builds a commit on it with `build`, and swaps the ref; retries on a
    /// lost race. `build` gets the tip's tree and state and must be repeatable.
    fn cas_loop<T>(
        &self,
        id: &RunId,
        mut build: impl FnMut(Oid, &RunState) -> Result<(Built, T)>,
    ) -> Result<(Oid, T)> {
        let refname = id.ref_name();
        let started = Instant::now();
        let mut locked_since: Option<Instant> = None;
        let mut attempt: u32 = 0;
        loop {
            self.guard_tip(id)?;
            let run = self.open_run(id)?;
            let tip_tree = self.tip_tree(&run)?;
            let (built, extra) = build(tip_tree, &run.state)?;
            let now = self.clock.now();
            let commit = self.repo.write_commit(
                built.tree,
                &[run.tip],
                &built.message,
                &self.identity,
                now,
            )?;
            let subject = built.message.lines().next().unwrap_or_default();
            match self.repo.cas_ref(
                &refname,
                commit,
                Some(run.tip),
                &format!("pitboss: {subject}"),
            )? {
                CasOutcome::Updated => {
                    self.note_written(id, commit);
                    return Ok((commit, extra));
                }
                CasOutcome::Raced(kind) => {
                    tracing::debug!(target: "pitboss::store", run = %id, attempt, ?kind, "run ref moved under an append; retrying");
                    if kind == crate::git::RaceKind::Locked {
                        let since = *locked_since.get_or_insert_with(Instant::now);
                        if since.elapsed() >= LOCK_PATIENCE {
                            self.check_stale_lock(id, &refname)?;
                            locked_since = None;
                        }
                    } else {
                        locked_since = None;
                    }
                    if started.elapsed() >= RETRY_DEADLINE {
                        return Err(StoreError::Contention {
                            run: id.clone(),
                            attempts: attempt + 1,
                        });
                    }
                    self.backoff(attempt);
                    attempt += 1;
                }
            }
        }
    }

    /// A lock that has blocked us for a while: remove it when its writer is provably gone,
    /// otherwise say exactly which file it is.
    fn check_stale_lock(&self, id: &RunId, refname: &str) -> Result<()> {
        match self.repo.check_stale_ref_lock(refname)? {
            Some(info) if !info.removed && info.age >= Duration::from_secs(30) => {
                Err(StoreError::StaleLock {
                    run: id.clone(),
                    path: info.path,
                    age_secs: info.age.as_secs(),
                    holder: info
                        .holder
                        .unwrap_or_else(|| "it could not be removed".into()),
                })
            }
            _ => Ok(()),
        }
    }

    fn write_transcript(&self, t: TranscriptSource<'_>) -> Result<Oid> {
        Ok(match t {
            TranscriptSource::Empty => self.repo.write_blob(b"")?,
            TranscriptSource::Bytes(b) => self.repo.write_blob(b)?,
            TranscriptSource::Reader(r) => self.repo.write_blob_from(r)?,
            TranscriptSource::Blob(oid) => oid,
            TranscriptSource::File(path) => {
                let what = || format!("cannot read transcript {}", path.display());
                let mut f = std::fs::File::open(&path).map_err(crate::git::GitError::io(what()))?;
                let len = f
                    .metadata()
                    .map_err(crate::git::GitError::io(what()))?
                    .len();
                self.repo.write_blob_sized(&mut f, len)?
            }
            TranscriptSource::Opened(mut f) => {
                let len = f
                    .metadata()
                    .map_err(crate::git::GitError::io("cannot read a transcript"))?
                    .len();
                self.repo.write_blob_sized(&mut f, len)?
            }
        })
    }

    fn backoff(&self, attempt: u32) {
        let cap = (1u64 << attempt.min(6)).min(MAX_BACKOFF_MS);
        let ms = self.entropy.next_u64() % (cap + 1);
        let micros = ms * 1000 + self.entropy.next_u64() % 1000;
        std::thread::sleep(Duration::from_micros(micros));
    }
}
