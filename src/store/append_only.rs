//! Runs are append-only: a commit that comes from elsewhere (a remote's fast-forward, the other
//! side of a `sync`) may add sessions and rewrite `state.json` and `scratchpad.md`, but must
//! keep `run.json` and every record, transcript and patch the run already had, byte for byte.
//!
//! Without this, a remote could send a fast-forward that deletes every session and rewrites the
//! run's metadata, and `fetch` would follow it: each commit on its own passes the incoming checks
//! (`check.rs`), and a fast-forward replaces the local tip whole. The comparison walks the two
//! trees and skips every subtree whose id is the same on both sides, so it costs about the
//! buckets that changed, not the run's length.

use super::{Result, RunStore};
use crate::git::Oid;

/// The directories whose files are never changed or deleted once written.
const KEPT_DIRS: [&str; 3] = ["sessions", "transcripts", "patches"];

impl RunStore<'_> {
    /// Whether tree `new` keeps everything tree `old` holds that a run never rewrites:
    /// `Ok(Some(why))` names the first file it would delete or change.
    pub(super) fn keeps_history(&self, old: Oid, new: Oid) -> Result<Option<String>> {
        if old == new {
            return Ok(None);
        }
        let entry = |tree: Oid, path: &str| self.repo.tree_entry(tree, path);
        if entry(old, "run.json")?.map(|e| e.0) != entry(new, "run.json")?.map(|e| e.0) {
            return Ok(Some("it changes run.json, which never changes".into()));
        }
        for dir in KEPT_DIRS {
            let Some((old_dir, _)) = entry(old, dir)? else {
                continue;
            };
            let new_dir = entry(new, dir)?.map(|e| e.0);
            if new_dir == Some(old_dir) {
                continue;
            }
            for (bucket, old_bucket, _) in self.repo.tree_list(old_dir)? {
                let new_bucket = match new_dir {
                    Some(d) => entry(d, &bucket)?.map(|e| e.0),
                    None => None,
                };
                if new_bucket == Some(old_bucket) {
                    continue;
                }
                for (name, oid, kind) in self.repo.tree_list(old_bucket)? {
                    let path = format!("{dir}/{bucket}/{name}");
                    let now = match new_bucket {
                        Some(b) => entry(b, &name)?,
                        None => None,
                    };
                    match now {
                        None => return Ok(Some(format!("it deletes {path:?}"))),
                        Some(e) if e != (oid, kind) => {
                            return Ok(Some(format!("it changes {path:?}")));
                        }
                        Some(_) => {}
                    }
                }
            }
        }
        Ok(None)
    }
}
