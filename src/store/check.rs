//! Checks on runs that come from a remote, before anything here follows them.
//!
//! A remote is not trusted: whoever can push to it can send any objects under any ref name.
//! Before `fetch` creates or fast-forwards a local run, or `sync` merges one, every commit it
//! would bring in is checked here: each tree holds only the run layout of DESIGN §3 (regular
//! files at canonical paths, no symlinks, submodules, `..`, or anything else), `run.json`,
//! `state.json` and every record parse and name this run, every record keeps the store's rules
//! and every blob is under its size cap (`rules.rs`, the same checks every writer here makes). A run that fails is reported with the first problem and left alone; its objects stay
//! unreferenced (but for the tracking ref) until `git gc` drops them.
//!
//! Trees are shared between commits, so each (tree, path) and (blob, path) pair is checked
//! once: checking a whole new run costs about one pass over its distinct objects.

use std::collections::HashSet;

use super::id::{RunId, Seq};
use super::paths::{
    PATCHES_DIR, RUN_JSON, SCRATCHPAD, SESSION_DIRS, SESSIONS_DIR, STATE_JSON, TRANSCRIPTS_DIR,
    session_file_digits,
};
use super::record::parse_record;
use super::rules::{BlobKind, check_blob_size, check_session, mib};
use super::run::{RunMeta, RunState};
use super::{Result, RunStore};
use crate::git::{Oid, TreeEntryKind};

/// Size caps on the blobs of an incoming run (bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// One session record (`sessions/…/<seq>.jsonl`).
    pub record: u64,
    /// One transcript. Transcripts are redacted and capped by the writer; this is a backstop.
    pub transcript: u64,
    /// One unmerged patch.
    pub patch: u64,
    /// `run.json` and `state.json`.
    pub meta: u64,
    /// `scratchpad.md`.
    pub scratchpad: u64,
}

impl Default for Caps {
    fn default() -> Caps {
        const MIB: u64 = 1024 * 1024;
        Caps {
            record: MIB,
            transcript: 64 * MIB,
            patch: 64 * MIB,
            meta: MIB,
            scratchpad: 16 * MIB,
        }
    }
}

/// What a path in a run's tree is, by the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    RunJson,
    StateJson,
    Scratchpad,
    Record(Seq),
    Transcript(Seq),
    Patch(Seq),
}

/// The three directories of the layout.
const DIRS: [&str; 3] = SESSION_DIRS;

/// A top-level file name.
fn top_file(name: &str) -> Option<Slot> {
    match name {
        RUN_JSON => Some(Slot::RunJson),
        STATE_JSON => Some(Slot::StateJson),
        SCRATCHPAD => Some(Slot::Scratchpad),
        _ => None,
    }
}

/// Whether `name` is the canonical bucket name of some seq (`00`, `07`, `123`).
fn is_bucket(name: &str) -> bool {
    name.len() >= 2
        && name.bytes().all(|b| b.is_ascii_digit())
        && name.parse::<u64>().is_ok_and(|n| format!("{n:02}") == name)
}

/// A file inside `<dir>/<bucket>/`, only at its canonical name for a seq of that bucket.
fn leaf(dir: &str, bucket: &str, name: &str) -> Option<Slot> {
    let slot: fn(Seq) -> Slot = match dir {
        SESSIONS_DIR => Slot::Record,
        TRANSCRIPTS_DIR => Slot::Transcript,
        PATCHES_DIR => Slot::Patch,
        _ => return None,
    };
    let digits = session_file_digits(dir, name, true)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seq = Seq(digits.parse().ok()?);
    (seq.0 > 0 && seq.padded() == digits && seq.bucket() == bucket).then(|| slot(seq))
}

/// One check of one incoming run.
struct Checker<'s, 'a> {
    store: &'s RunStore<'a>,
    id: &'s RunId,
    caps: Caps,
    seen: HashSet<(Oid, String)>,
}

impl RunStore<'_> {
    /// Checks every commit reachable from `tip` that `known` (a local, trusted tip) does not
    /// have. `Ok(None)` when the run may be followed, `Ok(Some(why))` when it must not; `Err`
    /// only for faults of our own repository.
    pub fn check_incoming(
        &self,
        id: &RunId,
        tip: Oid,
        known: Option<Oid>,
        caps: Caps,
    ) -> Result<Option<String>> {
        if self.repo.commit_info(tip)?.is_none() {
            return Ok(Some(format!("{tip} is not a commit")));
        }
        let mut c = Checker {
            store: self,
            id,
            caps,
            seen: HashSet::new(),
        };
        for commit in self.repo.commits_not_in(tip, known)? {
            let Some(info) = self.repo.commit_info(commit)? else {
                return Ok(Some(format!("{commit} is not a commit")));
            };
            if let Some(why) = c.root(info.tree)? {
                let short = &commit.to_string()[..12];
                return Ok(Some(format!("commit {short}: {why}")));
            }
        }
        // Runs are append-only: what the two sides share must still be there, unchanged.
        if let Some(k) = known
            && let Some(base) = self.repo.merge_base(k, tip)?
            && let (Some(old), Some(new)) =
                (self.repo.commit_info(base)?, self.repo.commit_info(tip)?)
            && let Some(why) = self.keeps_history(old.tree, new.tree)?
        {
            return Ok(Some(format!(
                "runs are append-only, and {why} (as of {})",
                &base.to_string()[..12]
            )));
        }
        Ok(None)
    }
}

/// What a check of one object found: a problem that refuses the run, or none. Faults of our
/// own repository are the `Err` around it.
type Problem = Option<String>;

impl Checker<'_, '_> {
    fn first_visit(&mut self, oid: Oid, path: &str) -> bool {
        self.seen.insert((oid, path.to_string()))
    }

    fn root(&mut self, tree: Oid) -> Result<Problem> {
        if !self.first_visit(tree, "") {
            return Ok(None);
        }
        let entries = self.store.repo.tree_list(tree)?;
        for name in [RUN_JSON, STATE_JSON] {
            if !entries.iter().any(|(n, _, _)| n == name) {
                return Ok(Some(format!("the tree has no {name}")));
            }
        }
        for (name, oid, kind) in entries {
            let problem = match (top_file(&name), DIRS.contains(&name.as_str()), kind) {
                (Some(slot), _, TreeEntryKind::Blob) => self.blob(oid, &name, slot)?,
                (None, true, TreeEntryKind::Tree) => self.dir(oid, &name)?,
                _ => Some(unexpected(&name, kind)),
            };
            if problem.is_some() {
                return Ok(problem);
            }
        }
        Ok(None)
    }

    fn dir(&mut self, tree: Oid, dir: &str) -> Result<Problem> {
        if !self.first_visit(tree, dir) {
            return Ok(None);
        }
        for (bucket, oid, kind) in self.store.repo.tree_list(tree)? {
            let path = format!("{dir}/{bucket}");
            if kind != TreeEntryKind::Tree || !is_bucket(&bucket) {
                return Ok(Some(unexpected(&path, kind)));
            }
            if !self.first_visit(oid, &path) {
                continue;
            }
            for (name, leaf_oid, kind) in self.store.repo.tree_list(oid)? {
                let file = format!("{path}/{name}");
                let problem = match (leaf(dir, &bucket, &name), kind) {
                    (Some(slot), TreeEntryKind::Blob) => self.blob(leaf_oid, &file, slot)?,
                    _ => Some(unexpected(&file, kind)),
                };
                if problem.is_some() {
                    return Ok(problem);
                }
            }
        }
        Ok(None)
    }

    fn blob(&mut self, oid: Oid, path: &str, slot: Slot) -> Result<Problem> {
        if !self.first_visit(oid, path) {
            return Ok(None);
        }
        let kind = match slot {
            Slot::RunJson | Slot::StateJson => BlobKind::Meta,
            Slot::Scratchpad => BlobKind::Scratchpad,
            Slot::Record(_) => BlobKind::Record,
            Slot::Transcript(_) => BlobKind::Transcript,
            Slot::Patch(_) => BlobKind::Patch,
        };
        let size = self.store.repo.blob_size(oid)? as u64;
        if check_blob_size(kind, size, &self.caps).is_err() {
            let cap = kind.cap(&self.caps);
            return Ok(Some(format!(
                "{path} is {}, over the {} cap",
                mib(size),
                mib(cap)
            )));
        }
        let id = self.id;
        let parsed = match slot {
            Slot::RunJson => self
                .store
                .repo
                .with_blob(oid, |b| serde_json::from_slice::<RunMeta>(b))?
                .map_err(|e| e.to_string())
                .and_then(|m| match m.id == *id {
                    true => Ok(()),
                    false => Err(format!("it is for run {:?}", m.id.as_str())),
                }),
            Slot::StateJson => self
                .store
                .repo
                .with_blob(oid, |b| serde_json::from_slice::<RunState>(b).map(|_| ()))?
                .map_err(|e| e.to_string()),
            Slot::Record(seq) => self
                .store
                .repo
                .with_blob(oid, |b| check_record(b, seq, id))?,
            Slot::Scratchpad | Slot::Transcript(_) | Slot::Patch(_) => Ok(()),
        };
        Ok(parsed.err().map(|why| format!("{path}: {why}")))
    }
}

/// A record blob: one UTF-8 line that parses, for this seq and this run.
fn check_record(bytes: &[u8], seq: Seq, id: &RunId) -> std::result::Result<(), String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_string())?;
    let line = text.strip_suffix('\n').unwrap_or(text);
    if line.contains('\n') {
        return Err("more than one line".into());
    }
    let r = parse_record(line)?;
    if r.seq != seq.0 {
        return Err(format!("the record says seq {}", r.seq));
    }
    if r.run_id != id.as_str() {
        return Err(format!("the record is for run {:?}", r.run_id));
    }
    check_session(&r)
}

fn unexpected(path: &str, kind: TreeEntryKind) -> String {
    let what = match kind {
        TreeEntryKind::Blob => "file",
        TreeEntryKind::Executable => "executable file",
        TreeEntryKind::Tree => "directory",
        TreeEntryKind::Symlink => "symlink",
        TreeEntryKind::Submodule => "submodule",
    };
    // {:?}: a hostile name can hold control characters; never print them raw.
    format!("unexpected {what} {path:?} (not part of the run layout)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_names_are_canonical_only() {
        assert_eq!(top_file("run.json"), Some(Slot::RunJson));
        assert_eq!(top_file("../run.json"), None);
        assert!(is_bucket("00") && is_bucket("07") && is_bucket("123"));
        for bad in ["0", "007", "1a", "..", "", "-1"] {
            assert!(!is_bucket(bad), "{bad}");
        }
        assert_eq!(
            leaf("sessions", "00", "0007.jsonl"),
            Some(Slot::Record(Seq(7)))
        );
        assert_eq!(
            leaf("transcripts", "123", "session-12345.log"),
            Some(Slot::Transcript(Seq(12345)))
        );
        assert_eq!(
            leaf("patches", "01", "session-0100.patch"),
            Some(Slot::Patch(Seq(100)))
        );
        assert_eq!(
            leaf("patches", "00", "resume-0002.patch"),
            Some(Slot::Patch(Seq(2))),
            "work found in the worktree at a resume"
        );
        for (dir, bucket, name) in [
            ("sessions", "00", "7.jsonl"),
            ("sessions", "00", "00007.jsonl"),
            ("sessions", "01", "0007.jsonl"),
            ("sessions", "00", "0000.jsonl"),
            ("sessions", "00", "../0007.jsonl"),
            ("sessions", "00", "0007.jsonl/x"),
            ("transcripts", "00", "session-0007.jsonl"),
            ("patches", "00", "session-+007.patch"),
            ("patches", "00", "resume-0000.patch"),
            ("patches", "00", "other-0007.patch"),
            ("other", "00", "0007.jsonl"),
        ] {
            assert_eq!(leaf(dir, bucket, name), None, "{dir}/{bucket}/{name}");
        }
    }

    #[test]
    fn records_must_parse_and_match() {
        let id = RunId::parse("r1").unwrap();
        let line = r#"{"seq":3,"run_id":"r1","prompt":"p","started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T00:00:01Z","status":"ok"}"#;
        assert_eq!(
            check_record(format!("{line}\n").as_bytes(), Seq(3), &id),
            Ok(())
        );
        assert!(
            check_record(line.as_bytes(), Seq(4), &id)
                .unwrap_err()
                .contains("seq 3")
        );
        let other = RunId::parse("r2").unwrap();
        assert!(
            check_record(line.as_bytes(), Seq(3), &other)
                .unwrap_err()
                .contains("r1")
        );
        assert!(
            check_record(b"{}\n{}", Seq(3), &id)
                .unwrap_err()
                .contains("line")
        );
        assert!(
            check_record(b"\xff", Seq(3), &id)
                .unwrap_err()
                .contains("UTF-8")
        );
        assert!(check_record(b"{\"seq\":3}", Seq(3), &id).is_err());
    }

    #[test]
    fn unexpected_names_are_escaped() {
        let m = unexpected("x\u{1b}[31m", TreeEntryKind::Symlink);
        assert!(m.contains("symlink") && m.contains("\\u{1b}"), "{m}");
    }
}
