//! `export`: a run ref written out as the file-based run directory of the earlier design (see
//! `layout.rs` for the layout and the way back). It writes into a temporary sibling and
//! renames it into place, so a crash never leaves a half-written directory.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::id::Seq;
use super::layout::{LayoutError, io};
use super::markdown::render_sessions_md;
use super::paths::{RUN_JSON, SCRATCHPAD, SESSIONS_JSONL, SESSIONS_MD, STATE_JSON};
use super::record::SessionRecord;
use super::{Run, RunStore, StoreError};

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
    check_export_target(dir)?;
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
    let (jsonl, records, mut files) = export_sessions(store, run, root)?;
    let mut meta = serde_json::to_string_pretty(&run.meta)
        .expect("our own plain data always serialises to JSON");
    meta.push('\n');
    write_file(root, RUN_JSON, meta.as_bytes())?;
    write_file(root, STATE_JSON, run.state.to_json().as_bytes())?;
    write_file(root, SESSIONS_JSONL, jsonl.as_bytes())?;
    write_file(root, SESSIONS_MD, render_sessions_md(&records).as_bytes())?;
    write_file(root, SCRATCHPAD, store.scratchpad(run)?.as_bytes())?;
    files += 5;
    // Until the rename `tmp` removes itself on every error path.
    if dir.exists() {
        fs::remove_dir(dir).map_err(io("cannot replace the empty directory", dir))?;
    }
    let kept = tmp.keep();
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

/// Refuses an export target that is a symbolic link, a file, or a directory that is not
/// empty.
fn check_export_target(dir: &Path) -> Result<(), LayoutError> {
    // NB: look at the name itself, not through it: a symlink (even to an empty directory) or
    // a file would make the final rename fail after all the work, or write somewhere else.
    match fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => Err(LayoutError::TargetNotADirectory {
            path: dir.to_path_buf(),
            what: "a symbolic link",
        }),
        Ok(m) if !m.is_dir() => Err(LayoutError::TargetNotADirectory {
            path: dir.to_path_buf(),
            what: "a file",
        }),
        Ok(_) => {
            let mut entries = fs::read_dir(dir).map_err(io("cannot read", dir))?;
            if entries.next().is_some() {
                return Err(LayoutError::TargetNotEmpty(dir.to_path_buf()));
            }
            Ok(())
        }
        Err(_) => Ok(()),
    }
}

/// Writes `bytes` to `rel` under `root`, making its directories.
fn write_file(root: &Path, rel: &str, bytes: &[u8]) -> Result<(), LayoutError> {
    let p = root.join(rel);
    if let Some(d) = p.parent() {
        fs::create_dir_all(d).map_err(io("cannot create", d))?;
    }
    fs::write(&p, bytes).map_err(io("cannot write", &p))
}

/// Writes each session's transcript (and patch, if it has one) under `root`; returns the
/// records' lines as `sessions.jsonl` holds them, the records, and how many files it wrote.
fn export_sessions(
    store: &RunStore<'_>,
    run: &Run,
    root: &Path,
) -> Result<(String, Vec<SessionRecord>, usize), LayoutError> {
    let mut files = 0;
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
            write_file(root, &seq.dir_patch_path(), &bytes)?;
            files += 1;
        }
    }
    Ok((jsonl, records, files))
}
