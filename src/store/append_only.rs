//! Runs are append-only: a commit that comes from elsewhere (a remote's fast-forward, the other
//! side of a `sync`) may add sessions and rewrite `state.json` and `scratchpad.md`, but must
//! keep `run.json` and every session the run already had: its record, transcript and patch,
//! byte for byte. The one move allowed is the renumbering a merge (or a grind whose seq was
//! taken) makes: a session may reappear at a higher seq with `renumbered_from`, and is then
//! the same session by the identity merges use (`merge_plan.rs`): its record but for `seq`,
//! `transcript_path` and `renumbered_from`, its original seq, and the same transcript and
//! patch blobs.
//!
//! Without this, a remote could send a fast-forward that deletes every session and rewrites the
//! run's metadata, and `fetch` would follow it: each commit on its own passes the incoming checks
//! (`check.rs`), and a fast-forward replaces the local tip whole. The comparison walks the two
//! trees and skips every subtree whose id is the same on both sides, so it costs about what
//! changed, not the run's length.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::id::Seq;
use super::merge_plan::SideSession;
use super::paths::{RUN_JSON, SESSION_DIRS, session_file_digits};
use super::record::parse_record;
use super::{Result, RunStore};
use crate::git::{Oid, TreeEntryKind};

/// The directories whose files a run never changes or deletes once written.
const KEPT_DIRS: [&str; 3] = SESSION_DIRS;

/// The seq of a file of the layout (`0007.jsonl`, `session-0007.log`, `session-0007.patch`).
fn seq_of(dir: &str, name: &str) -> Option<u64> {
    session_file_digits(dir, name, false)?.parse().ok()
}

/// Files of one kept directory of a tree, as (path, blob), skipping buckets `skip` has with the
/// same id.
type Files = BTreeMap<String, (Oid, TreeEntryKind)>;

impl RunStore<'_> {
    /// Whether tree `new` keeps everything tree `old` holds that a run never rewrites:
    /// `Ok(Some(why))` names the first file whose session it deletes or changes.
    pub(super) fn keeps_history(&self, old: Oid, new: Oid) -> Result<Option<String>> {
        if old == new {
            return Ok(None);
        }
        let entry = |tree: Oid, path: &str| self.repo.tree_entry(tree, path);
        if entry(old, RUN_JSON)?.map(|e| e.0) != entry(new, RUN_JSON)?.map(|e| e.0) {
            return Ok(Some(format!("it changes {RUN_JSON}, which never changes")));
        }
        // Sessions whose files are gone or different at their place, by seq, with the first
        // such path; and the files `new` has that `old` has not (where moved sessions are).
        let mut lost: BTreeMap<u64, String> = BTreeMap::new();
        let mut added: BTreeSet<u64> = BTreeSet::new();
        for dir in KEPT_DIRS {
            let old_files = self.changed_files(old, new, dir)?;
            let new_files = self.changed_files(new, old, dir)?;
            for (path, e) in &old_files {
                if new_files.get(path) != Some(e) {
                    let seq = path.rsplit('/').next().and_then(|n| seq_of(dir, n));
                    lost.entry(seq.unwrap_or(0)).or_insert_with(|| path.clone());
                }
            }
            for (path, e) in &new_files {
                if old_files.get(path) != Some(e)
                    && let Some(seq) = path.rsplit('/').next().and_then(|n| seq_of(dir, n))
                {
                    added.insert(seq);
                }
            }
        }
        if lost.is_empty() {
            return Ok(None);
        }
        let mut moved = HashSet::new();
        for seq in added {
            if let Some(s) = self.side_session_at(new, seq)? {
                moved.insert(s.identity());
            }
        }
        for (seq, path) in lost {
            let kept = match self.side_session_at(old, seq)? {
                Some(s) => moved.contains(&s.identity()),
                None => false,
            };
            if !kept {
                let verb = if entry(new, &path)?.is_some() {
                    "changes"
                } else {
                    "deletes"
                };
                return Ok(Some(format!("it {verb} {path:?}")));
            }
        }
        Ok(None)
    }

    /// The files of `dir` in `tree` that sit in a bucket `other` does not have with the same id.
    fn changed_files(&self, tree: Oid, other: Oid, dir: &str) -> Result<Files> {
        let mut out = Files::new();
        let Some((here, _)) = self.repo.tree_entry(tree, dir)? else {
            return Ok(out);
        };
        let there = self.repo.tree_entry(other, dir)?.map(|e| e.0);
        if there == Some(here) {
            return Ok(out);
        }
        for (bucket, oid, _) in self.repo.tree_list(here)? {
            if let Some(t) = there
                && self.repo.tree_entry(t, &bucket)?.map(|e| e.0) == Some(oid)
            {
                continue;
            }
            for (name, leaf, kind) in self.repo.tree_list(oid)? {
                out.insert(format!("{dir}/{bucket}/{name}"), (leaf, kind));
            }
        }
        Ok(out)
    }

    /// The session at `seq` of `tree`, when it has a record that parses.
    fn side_session_at(&self, tree: Oid, seq: u64) -> Result<Option<SideSession>> {
        let seq = Seq(seq);
        let blob = |path: String| -> Result<Option<Oid>> {
            Ok(match self.repo.tree_entry(tree, &path)? {
                Some((oid, TreeEntryKind::Blob)) => Some(oid),
                _ => None,
            })
        };
        let Some(record_blob) = blob(seq.record_path())? else {
            return Ok(None);
        };
        let parsed = self.repo.with_blob(record_blob, |b| {
            std::str::from_utf8(b)
                .ok()
                .and_then(|t| parse_record(t.trim_end_matches('\n')).ok())
        })?;
        let Some(record) = parsed else {
            return Ok(None);
        };
        Ok(Some(SideSession {
            seq: seq.0,
            record,
            record_blob,
            transcript: blob(seq.transcript_path())?,
            patch: blob(seq.patch_path())?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::seq_of;

    #[test]
    fn seqs_of_layout_files() {
        assert_eq!(seq_of("sessions", "0007.jsonl"), Some(7));
        assert_eq!(seq_of("transcripts", "session-12345.log"), Some(12345));
        assert_eq!(seq_of("patches", "session-0001.patch"), Some(1));
        assert_eq!(seq_of("patches", "session-0001.log"), None);
    }
}
