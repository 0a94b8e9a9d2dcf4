//! The file-based run directory of the earlier design, both ways: `export` writes it from a
//! run ref, `import` reads it into a new run ref.
//!
//! Layout: `run.json` (ours; optional on import), `state.json`, `sessions.jsonl` (one record a
//! line), `sessions.md` (rendered), `scratchpad.md`, `transcripts/session-NNNN.log`,
//! `patches/session-NNNN.patch` (ours; optional). Export writes into a temporary sibling and
//! renames it into place, so a crash never leaves a half-written directory. Import reads and
//! checks everything before it writes a single object.

use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use super::dir_read::{DirFileError, RunDirReader};
use super::id::{RunId, Seq};
use super::markdown::render_sessions_md;
use super::record::{SessionRecord, parse_record};
use super::run::{RunMeta, RunState, RunStatus};
use super::write::TranscriptSource;
use super::{Run, RunStore, StoreError};

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
    #[error("{what} {}: {source}", .path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    File(#[from] DirFileError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl LayoutError {
    pub fn is_user_error(&self) -> bool {
        match self {
            LayoutError::Io { .. } => false,
            LayoutError::Store(e) => e.is_user_error(),
            LayoutError::File(e) => e.is_user_error(),
            _ => true,
        }
    }
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> LayoutError {
    let path = path.to_path_buf();
    move |source| LayoutError::Io { what, path, source }
}

/// What `export` wrote.
#[derive(Debug, Clone)]
pub struct ExportReport {
    pub dir: PathBuf,
    pub sessions: usize,
    pub files: usize,
}

/// Writes `run` as a file-based run directory at `dir` (which must not exist, or be empty).
pub fn export_run(
    store: &RunStore<'_>,
    run: &Run,
    dir: &Path,
) -> Result<ExportReport, LayoutError> {
    if dir.exists() {
        let mut entries = fs::read_dir(dir).map_err(io("cannot read", dir))?;
        if entries.next().is_some() {
            return Err(LayoutError::TargetNotEmpty(dir.to_path_buf()));
        }
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io("cannot create", &parent))?;
    let tmp = tempfile::Builder::new()
        .prefix(".pitboss-export-")
        .tempdir_in(&parent)
        .map_err(io("cannot create a temporary directory in", &parent))?;
    let root = tmp.path();
    let mut files = 0;
    let write = |rel: &str, bytes: &[u8]| -> Result<(), LayoutError> {
        let p = root.join(rel);
        if let Some(d) = p.parent() {
            fs::create_dir_all(d).map_err(io("cannot create", d))?;
        }
        fs::write(&p, bytes).map_err(io("cannot write", &p))
    };
    let mut jsonl = String::new();
    let mut records = Vec::new();
    store.for_each_record(run, |r, line| {
        jsonl.push_str(line);
        jsonl.push('\n');
        records.push(r);
        Ok(())
    })?;
    for r in &records {
        let seq = Seq(r.seq);
        // NB: always the canonical name, whatever the record says: a record's path is data
        // from somewhere else and must not choose where we write.
        let p = root.join(seq.record_transcript_path());
        if let Some(d) = p.parent() {
            fs::create_dir_all(d).map_err(io("cannot create", d))?;
        }
        let mut f = fs::File::create(&p).map_err(io("cannot write", &p))?;
        if let Some(oid) = store.transcript_blob(run, r.seq)? {
            store
                .with_blob(oid, |b| f.write_all(b))
                .map_err(LayoutError::Store)?
                .map_err(io("cannot write", &p))?;
        }
        files += 1;
        if let Some(oid) = store.patch_blob(run, r.seq)? {
            let bytes = store.repo().read_blob(oid).map_err(StoreError::Git)?;
            write(&format!("patches/session-{}.patch", seq.padded()), &bytes)?;
            files += 1;
        }
    }
    let mut meta = serde_json::to_string_pretty(&run.meta).unwrap_or_default();
    meta.push('\n');
    write("run.json", meta.as_bytes())?;
    write("state.json", run.state.to_json().as_bytes())?;
    write("sessions.jsonl", jsonl.as_bytes())?;
    write("sessions.md", render_sessions_md(&records).as_bytes())?;
    write("scratchpad.md", store.scratchpad(run)?.as_bytes())?;
    files += 5;
    let kept = tmp.keep();
    if dir.exists() {
        fs::remove_dir(dir).map_err(io("cannot replace the empty directory", dir))?;
    }
    if let Err(e) = fs::rename(&kept, dir) {
        let _ = fs::remove_dir_all(&kept);
        return Err(io("cannot move the export into place at", dir)(e));
    }
    Ok(ExportReport {
        dir: dir.to_path_buf(),
        sessions: records.len(),
        files,
    })
}

/// A run directory, read and checked, ready to import.
#[derive(Debug)]
pub struct RunDir {
    pub dir: PathBuf,
    pub meta: Option<RunMeta>,
    pub state: RunState,
    pub scratchpad: String,
    /// Records with their transcript and patch files.
    pub sessions: Vec<(SessionRecord, PathBuf, Option<PathBuf>)>,
    /// A run id found in the directory itself (run.json, state.json or the records).
    pub found_id: Option<String>,
}

/// Reads and checks a run directory; nothing is written.
pub fn read_run_dir(dir: &Path) -> Result<RunDir, LayoutError> {
    if !dir.is_dir() {
        return Err(LayoutError::MissingFile(dir.to_path_buf()));
    }
    // Every file is read through `reader`: no symlinks, nothing outside `dir`.
    let reader = RunDirReader::new(dir)?;
    let jsonl_path = dir.join("sessions.jsonl");
    let state_path = dir.join("state.json");
    let read_text = |path: &Path| -> Result<String, LayoutError> {
        reader
            .read_to_string(reader.relative(path))?
            .ok_or_else(|| LayoutError::MissingFile(path.to_path_buf()))
    };
    let state_text = read_text(&state_path)?;
    let text = read_text(&jsonl_path)?;
    let mut sessions = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let r = parse_record(line).map_err(|why| LayoutError::BadLine {
            path: jsonl_path.clone(),
            line: n,
            why,
        })?;
        if r.seq == 0 {
            return Err(LayoutError::BadLine {
                path: jsonl_path.clone(),
                line: n,
                why: "seq must be 1 or more".into(),
            });
        }
        if seen.insert(r.seq, n).is_some() {
            return Err(LayoutError::DuplicateSeq {
                path: jsonl_path.clone(),
                line: n,
                seq: r.seq,
            });
        }
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
                path: jsonl_path.clone(),
                line: n,
                transcript: rel,
            });
        }
        let transcript = dir.join(rel_path);
        if reader.open(rel_path)?.is_none() {
            return Err(LayoutError::MissingTranscript {
                path: jsonl_path.clone(),
                line: n,
                seq: r.seq,
                transcript,
            });
        }
        let patch_rel = format!("patches/session-{}.patch", Seq(r.seq).padded());
        let patch = reader
            .open(Path::new(&patch_rel))?
            .map(|_| dir.join(&patch_rel));
        sessions.push((r, transcript, patch));
    }
    sessions.sort_by_key(|(r, _, _)| r.seq);
    let state_value: serde_json::Value =
        serde_json::from_str(&state_text).map_err(|e| LayoutError::BadFile {
            path: state_path.clone(),
            why: e.to_string(),
        })?;
    let first_start = sessions.first().map(|(r, _, _)| r.started_at);
    let last_end = sessions.iter().map(|(r, _, _)| r.ended_at).max();
    let state = state_from_value(&state_value, first_start, last_end).map_err(|why| {
        LayoutError::BadFile {
            path: state_path.clone(),
            why,
        }
    })?;
    let meta_path = dir.join("run.json");
    let meta = if let Some(t) = reader.read_to_string(Path::new("run.json"))? {
        Some(
            serde_json::from_str::<RunMeta>(&t).map_err(|e| LayoutError::BadFile {
                path: meta_path.clone(),
                why: e.to_string(),
            })?,
        )
    } else {
        None
    };
    let pad_path = dir.join("scratchpad.md");
    let scratchpad = reader
        .read_to_string(reader.relative(&pad_path))?
        .unwrap_or_default();
    let found_id = meta
        .as_ref()
        .map(|m| m.id.to_string())
        .or_else(|| {
            state_value
                .get("run_id")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .or_else(|| {
            sessions
                .first()
                .map(|(r, _, _)| r.run_id.clone())
                .filter(|s| !s.is_empty())
        });
    Ok(RunDir {
        dir: dir.to_path_buf(),
        meta,
        state,
        scratchpad,
        sessions,
        found_id,
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

/// Imports a checked run directory as run `id` (refused if it exists).
pub fn import_run_dir(store: &RunStore<'_>, rd: RunDir, id: RunId) -> Result<Run, LayoutError> {
    let mut meta = match rd.meta {
        Some(m) => m,
        None => RunMeta::minimal(id.clone(), rd.state.started_at),
    };
    meta.id = id;
    let source = rd.dir.display().to_string();
    let reader = RunDirReader::new(&rd.dir)?;
    let mut items = rd.sessions.into_iter().map(|(r, t, p)| {
        let patch = match p {
            // Read as it was checked: no symlinks, nothing outside the directory.
            Some(p) => reader.read(reader.relative(&p)).map_err(|e| {
                StoreError::Git(crate::git::GitError::Io {
                    what: e.to_string(),
                    source: std::io::Error::other("refused"),
                })
            })?,
            None => None,
        };
        Ok((r, TranscriptSource::File(t), patch))
    });
    Ok(store.import_run(meta, &rd.state, &rd.scratchpad, &mut items, &source)?)
}
