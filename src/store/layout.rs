//! The file-based run directory of the earlier design, both ways: `export` writes it from a
//! run ref (in `layout_export.rs`), `import` reads it into a new run ref.
//!
//! Layout: `run.json` (ours; optional on import), `state.json`, `sessions.jsonl` (one record a
//! line), `sessions.md` (rendered), `scratchpad.md`, `transcripts/session-NNNN.log`,
//! `patches/session-NNNN.patch` (ours; optional). Export writes into a temporary sibling and
//! renames it into place, so a crash never leaves a half-written directory. Import reads and
//! checks everything before it writes a single object.

use std::fs;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use super::dir_read::{DirFileError, RunDirReader};
use super::id::{RunId, Seq};
pub use super::layout_export::export_run;
use super::layout_redact::{redact_value, redacted_transcript};
use super::paths::{RUN_JSON, SCRATCHPAD, SESSIONS_JSONL, STATE_JSON};
use super::record::{SessionRecord, parse_record};
use super::run::{RunMeta, RunState, RunStatus};
use super::write::TranscriptSource;
use super::{Run, RunStore, StoreError};
use crate::agent::Redactor;

#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("{} is missing (a run directory needs state.json and sessions.jsonl)", .0.display())]
    MissingFile(PathBuf),
    #[error("{}:{line}: {why}", .path.display())]
    BadLine {
        path: PathBuf,
        line: usize,
        why: String,
    },
    #[error("{}: {why}", .path.display())]
    BadFile { path: PathBuf, why: String },
    #[error("{}:{line}: session {seq} appears twice", .path.display())]
    DuplicateSeq {
        path: PathBuf,
        line: usize,
        seq: u64,
    },
    #[error("{}:{line}: transcript path {transcript:?} leaves the run directory", .path.display())]
    UnsafePath {
        path: PathBuf,
        line: usize,
        transcript: String,
    },
    #[error("{}:{line}: transcript {} of session {seq} is missing", .path.display(), .transcript.display())]
    MissingTranscript {
        path: PathBuf,
        line: usize,
        seq: u64,
        transcript: PathBuf,
    },
    #[error("cannot tell which run id to import {} as: {why}", .dir.display())]
    NoRunId { dir: PathBuf, why: String },
    #[error("{} already exists and is not empty", .0.display())]
    TargetNotEmpty(PathBuf),
    #[error("{} is {what}, not a directory to export into", .path.display())]
    TargetNotADirectory { path: PathBuf, what: &'static str },
    #[error("{what} {}: {source}", .path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    File(#[from] DirFileError),
}

pub(super) fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> LayoutError {
    let path = path.to_path_buf();
    move |source| LayoutError::Io { what, path, source }
}

/// A run directory, read and checked, ready to import.
#[derive(Debug)]
pub(crate) struct RunDir {
    pub dir: PathBuf,
    /// Reads every file of `dir`: no symlinks, nothing outside it.
    reader: RunDirReader,
    pub meta: Option<RunMeta>,
    pub state: RunState,
    pub scratchpad: String,
    /// Where each record is in `sessions.jsonl`, in seq order. Only where: a long run's
    /// records are read again one at a time as they are imported, so memory stays flat.
    sessions: Vec<RecordAt>,
    /// A run id found in the directory itself (run.json, state.json or the records).
    pub found_id: Option<String>,
}

/// One record's place in `sessions.jsonl`.
#[derive(Debug, Clone, Copy)]
struct RecordAt {
    seq: u64,
    offset: u64,
    line: usize,
}

impl RunDir {
    /// How many sessions the directory holds.
    pub(crate) fn session_count(&self) -> usize {
        self.sessions.len()
    }
}

/// Every read of an import's run directory goes through these functions, and they through
/// [`RunDirReader`]: no symlink anywhere on the path, nothing outside the directory.
fn open_member(reader: &RunDirReader, path: &Path) -> Result<fs::File, LayoutError> {
    reader
        .open(reader.relative(path))?
        .ok_or_else(|| LayoutError::MissingFile(path.to_path_buf()))
}

/// Whether `path` is a regular file of the directory (a symlink there is an error, not "no").
fn has_member(reader: &RunDirReader, path: &Path) -> Result<bool, LayoutError> {
    Ok(reader.open(reader.relative(path))?.is_some())
}

fn read_member(reader: &RunDirReader, path: &Path) -> Result<Vec<u8>, LayoutError> {
    let mut bytes = Vec::new();
    open_member(reader, path)?
        .read_to_end(&mut bytes)
        .map_err(io("cannot read", path))?;
    Ok(bytes)
}

fn read_member_text(reader: &RunDirReader, path: &Path) -> Result<String, LayoutError> {
    String::from_utf8(read_member(reader, path)?).map_err(|_| LayoutError::BadFile {
        path: path.to_path_buf(),
        why: "not UTF-8 text".into(),
    })
}

/// Reads `sessions.jsonl` one line at a time from `reader`; `f` gets each non-blank line
/// with its 1-based number and byte offset.
fn for_each_line(
    path: &Path,
    reader: &mut impl BufRead,
    mut f: impl FnMut(&str, usize, u64) -> Result<(), LayoutError>,
) -> Result<(), LayoutError> {
    let mut buf = Vec::new();
    let (mut n, mut offset) = (0, 0u64);
    loop {
        buf.clear();
        let len = reader
            .read_until(b'\n', &mut buf)
            .map_err(io("cannot read", path))?;
        if len == 0 {
            return Ok(());
        }
        n += 1;
        let at = offset;
        offset += len as u64;
        let line = std::str::from_utf8(&buf).map_err(|_| LayoutError::BadLine {
            path: path.to_path_buf(),
            line: n,
            why: "not UTF-8 text".into(),
        })?;
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if !line.trim().is_empty() {
            f(line, n, at)?;
        }
    }
}

/// The one check every imported record goes through: the store's record validation.
fn checked_record(path: &Path, line: &str, n: usize) -> Result<SessionRecord, LayoutError> {
    let bad = |why: String| LayoutError::BadLine {
        path: path.to_path_buf(),
        line: n,
        why,
    };
    let r = parse_record(line).map_err(bad)?;
    if r.seq == 0 {
        return Err(bad("seq must be 1 or more".into()));
    }
    Ok(r)
}

/// The transcript file of a record, which must stay inside `dir`.
fn transcript_of(
    dir: &Path,
    jsonl: &Path,
    r: &SessionRecord,
    n: usize,
) -> Result<PathBuf, LayoutError> {
    let rel = if r.transcript_path.is_empty() {
        Seq(r.seq).record_transcript_path()
    } else {
        r.transcript_path.clone()
    };
    let rel_path = Path::new(&rel);
    if rel_path
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err(LayoutError::UnsafePath {
            path: jsonl.to_path_buf(),
            line: n,
            transcript: rel,
        });
    }
    Ok(dir.join(rel_path))
}

fn patch_of(reader: &RunDirReader, dir: &Path, seq: u64) -> Result<Option<PathBuf>, LayoutError> {
    let p = dir.join(Seq(seq).dir_patch_path());
    Ok(has_member(reader, &p)?.then_some(p))
}

/// Reads and checks a run directory; nothing is written. Records are checked here and read
/// again, one at a time, by [`import_run_dir`].
pub(crate) fn read_run_dir(dir: &Path) -> Result<RunDir, LayoutError> {
    if !dir.is_dir() {
        return Err(LayoutError::MissingFile(dir.to_path_buf()));
    }
    let reader = RunDirReader::new(dir)?;
    let jsonl_path = dir.join(SESSIONS_JSONL);
    let state_path = dir.join(STATE_JSON);
    for p in [&state_path, &jsonl_path] {
        if !has_member(&reader, p)? {
            return Err(LayoutError::MissingFile(p.clone()));
        }
    }
    let index = index_sessions(&reader, dir, &jsonl_path)?;
    let state_text = read_member_text(&reader, &state_path)?;
    let state_value: serde_json::Value =
        serde_json::from_str(&state_text).map_err(|e| LayoutError::BadFile {
            path: state_path.clone(),
            why: e.to_string(),
        })?;
    let first_start = index.first.as_ref().map(|(_, t, _)| *t);
    let state = state_from_value(&state_value, first_start, index.last_end).map_err(|why| {
        LayoutError::BadFile {
            path: state_path.clone(),
            why,
        }
    })?;
    let meta_path = dir.join(RUN_JSON);
    let meta = if has_member(&reader, &meta_path)? {
        let t = read_member_text(&reader, &meta_path)?;
        Some(
            serde_json::from_str::<RunMeta>(&t).map_err(|e| LayoutError::BadFile {
                path: meta_path.clone(),
                why: e.to_string(),
            })?,
        )
    } else {
        None
    };
    let pad_path = dir.join(SCRATCHPAD);
    let scratchpad = if has_member(&reader, &pad_path)? {
        read_member_text(&reader, &pad_path)?
    } else {
        String::new()
    };
    let found_id = meta
        .as_ref()
        .map(|m| m.id.to_string())
        .or_else(|| {
            state_value
                .get("run_id")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .or_else(|| index.first.map(|(_, _, id)| id).filter(|s| !s.is_empty()));
    Ok(RunDir {
        dir: dir.to_path_buf(),
        reader,
        meta,
        state,
        scratchpad,
        sessions: index.sessions,
        found_id,
    })
}

/// Where the records of `sessions.jsonl` are, and what the run's times and id default to.
struct SessionIndex {
    /// Each record's place, in seq order.
    sessions: Vec<RecordAt>,
    /// The first record by seq: its seq, start and run id.
    first: Option<(u64, chrono::DateTime<chrono::Utc>, String)>,
    /// The latest end of any record.
    last_end: Option<chrono::DateTime<chrono::Utc>>,
}

/// Checks every record of `sessions.jsonl` (each parses, has its transcript, and no seq comes
/// twice) and notes where each one is.
fn index_sessions(
    reader: &RunDirReader,
    dir: &Path,
    jsonl_path: &Path,
) -> Result<SessionIndex, LayoutError> {
    let mut sessions = Vec::new();
    let mut first: Option<(u64, chrono::DateTime<chrono::Utc>, String)> = None;
    let mut last_end = None;
    let mut lines = BufReader::new(open_member(reader, jsonl_path)?);
    for_each_line(jsonl_path, &mut lines, |line, n, offset| {
        let r = checked_record(jsonl_path, line, n)?;
        let transcript = transcript_of(dir, jsonl_path, &r, n)?;
        if !has_member(reader, &transcript)? {
            return Err(LayoutError::MissingTranscript {
                path: jsonl_path.to_path_buf(),
                line: n,
                seq: r.seq,
                transcript,
            });
        }
        if first.as_ref().is_none_or(|(s, _, _)| r.seq < *s) {
            first = Some((r.seq, r.started_at, r.run_id.clone()));
        }
        last_end = last_end.max(Some(r.ended_at));
        sessions.push(RecordAt {
            seq: r.seq,
            offset,
            line: n,
        });
        Ok(())
    })?;
    sessions.sort_by_key(|s| (s.seq, s.line));
    if let Some(w) = sessions.windows(2).find(|w| w[0].seq == w[1].seq) {
        return Err(LayoutError::DuplicateSeq {
            path: jsonl_path.to_path_buf(),
            line: w[1].line,
            seq: w[1].seq,
        });
    }
    Ok(SessionIndex {
        sessions,
        first,
        last_end,
    })
}

/// `state.json` as we write it, or as the file-based design wrote it: the fields we know are
/// taken, times default to the records', and everything else is kept.
fn state_from_value(
    v: &serde_json::Value,
    first_start: Option<chrono::DateTime<chrono::Utc>>,
    last_end: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<RunState, String> {
    let obj = v.as_object().ok_or("expected a JSON object")?;
    let time = |key: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
        match obj.get(key) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| Some(t.with_timezone(&chrono::Utc)))
                .map_err(|e| format!("field `{key}`: {s:?} is not an RFC 3339 time ({e})")),
            Some(other) => Err(format!(
                "field `{key}`: expected an RFC 3339 time, found {other}"
            )),
        }
    };
    let started_at = time("started_at")?.or(first_start).unwrap_or_default();
    let last_updated_at = time("last_updated_at")?.or(last_end).unwrap_or(started_at);
    let status = match obj.get("status") {
        Some(serde_json::Value::String(s)) => RunStatus::parse(s),
        None | Some(serde_json::Value::Null) => RunStatus::Finished,
        Some(other) => return Err(format!("field `status`: expected a string, found {other}")),
    };
    let mut state = RunState::new(started_at);
    state.status = status;
    state.last_updated_at = last_updated_at;
    state.stop_reason = obj
        .get("stop_reason")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    state.scheduler = obj
        .get("scheduler")
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    const DERIVED: [&str; 8] = [
        "status",
        "stop_reason",
        "scheduler",
        "consumed",
        "last_session_seq",
        "started_at",
        "last_updated_at",
        "run_id",
    ];
    for (k, val) in obj {
        if !DERIVED.contains(&k.as_str()) {
            state.extra.insert(k.clone(), val.clone());
        }
    }
    Ok(state)
}

/// Imports a checked run directory as run `id` (refused if it exists). Records are read
/// again from `sessions.jsonl` in seq order, one at a time, and their transcripts streamed.
pub(crate) fn import_run_dir(
    store: &RunStore<'_>,
    mut rd: RunDir,
    id: RunId,
    redactor: &Redactor,
) -> Result<Run, LayoutError> {
    let mut meta = match rd.meta {
        Some(m) => m,
        None => RunMeta::minimal(id.clone(), rd.state.started_at),
    };
    meta.id = id;
    // Runs are pushed: what the directory holds is redacted like what grind stores.
    redact_value(redactor, &mut meta);
    redact_value(redactor, &mut rd.state);
    if let std::borrow::Cow::Owned(s) = redactor.redact(&rd.scratchpad) {
        rd.scratchpad = s;
    }
    let source = rd.dir.display().to_string();
    let dir = rd.dir;
    let files = rd.reader;
    let jsonl_path = dir.join(SESSIONS_JSONL);
    let mut reader = BufReader::new(open_member(&files, &jsonl_path)?);
    let mut pos = 0u64;
    let mut next = |at: RecordAt| -> Result<_, LayoutError> {
        if at.offset != pos {
            reader
                .seek(SeekFrom::Start(at.offset))
                .map_err(io("cannot read", &jsonl_path))?;
        }
        let mut buf = Vec::new();
        let len = reader
            .read_until(b'\n', &mut buf)
            .map_err(io("cannot read", &jsonl_path))?;
        pos = at.offset + len as u64;
        let mut found = None;
        for_each_line(&jsonl_path, &mut &buf[..], |line, _, _| {
            found = Some(checked_record(&jsonl_path, line, at.line)?);
            Ok(())
        })?;
        let mut r = found
            .filter(|r| r.seq == at.seq)
            .ok_or_else(|| LayoutError::BadLine {
                path: jsonl_path.clone(),
                line: at.line,
                why: "changed while it was being imported".into(),
            })?;
        let transcript_path = transcript_of(&dir, &jsonl_path, &r, at.line)?;
        let transcript = open_member(&files, &transcript_path)?;
        let transcript = redacted_transcript(redactor, transcript, &transcript_path)?;
        redact_value(redactor, &mut r);
        let patch = patch_of(&files, &dir, r.seq)?
            .map(|p| read_member(&files, &p))
            .transpose()?
            .map(|p| redactor.redact_bytes(&p).into_owned());
        Ok((r, TranscriptSource::Opened(transcript), patch))
    };
    // A file of the directory that fails now is reported as itself, not as a store error.
    let failed = std::cell::RefCell::new(None);
    let mut items = rd.sessions.into_iter().map(|at| {
        next(at).map_err(|e| {
            let placeholder = StoreError::ImportSource { why: e.to_string() };
            *failed.borrow_mut() = Some(e);
            placeholder
        })
    });
    match store.import_run(meta, &rd.state, &rd.scratchpad, &mut items, &source) {
        Ok(run) => Ok(run),
        Err(e) => Err(failed.take().unwrap_or(LayoutError::Store(e))),
    }
}
