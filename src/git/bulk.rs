//! Bulk writes: many objects at once (an import of thousands of sessions) go to memory and
//! reach disk as one pack file, instead of one loose file per object.
//!
//! Why: an import of 10,000 sessions writes ~90,000 objects; as loose files that is ~90,000
//! file creations and renames, most of the import's time. A mempack backend on a private
//! handle of the repository takes the writes, and the handle logs the id of every object it
//! writes; `flush` packs exactly those objects. Memory is bounded by the caller flushing now
//! and then. Nothing is referenced by a ref until the caller publishes, so a crash in between
//! leaves only unreferenced objects.
//!
//! The log also says which object replaces which: [`Repo::edit_tree`] notes, for each tree it
//! rewrites and each top-level blob it replaces (`state.json`), the previous version at the
//! same path, and the pack writer stores the new one as a delta of it when both go into the
//! same pack. An import rewrites five trees and `state.json` per session, each a small edit of
//! the previous one; stored whole they made the packs twice as big as git's. (The root tree,
//! five entries of which three change, and an import's `state.json`, whose changed counters
//! are spread over the file, are noted too but their prefix-and-suffix deltas do not pay.)
//!
//! NB: libgit2's own `git_mempack_dump` packs everything reachable from the commits it holds,
//! including objects already on disk; after a first flush every later dump re-packed the whole
//! run (an import of 8,000 sessions took 14 s, growing quadratically). Packing the logged ids
//! keeps each flush proportional to what it holds; we write that pack ourselves (see `pack`
//! for why libgit2's packbuilder was too slow).

use std::cell::Cell;
use std::collections::HashMap;

use super::{GitError, Oid, Repo, Result, pack};

/// What a [`Bulk`] handle wrote since its last flush.
#[derive(Debug, Default)]
pub(crate) struct WriteLog {
    /// Every object written, in order (with repeats).
    pub ids: Vec<Oid>,
    /// An object to the one it replaces at the same path, for delta compression.
    pub replaces: HashMap<Oid, Oid>,
}

/// A repository handle whose object writes go to memory until [`Bulk::flush`].
pub struct Bulk<'a> {
    repo: &'a Repo,
    mempack: git2::Mempack<'a>,
    written: Cell<u64>,
}

impl<'a> Bulk<'a> {
    /// The handle to write through (reads see the pending objects too).
    pub fn repo(&self) -> &'a Repo {
        self.repo
    }

    /// Tells the bulk writer roughly how many bytes were just written; flushes to a pack when
    /// more than `limit` bytes are pending.
    pub fn note_written(&self, bytes: u64, limit: u64) -> Result<()> {
        self.written.set(self.written.get() + bytes);
        if self.written.get() > limit {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes everything pending as one pack (with its index) and empties the memory.
    pub fn flush(&self) -> Result<()> {
        let Some(log) = &self.repo.write_log else {
            return Ok(());
        };
        let log = std::mem::take(&mut *log.borrow_mut());
        if !log.ids.is_empty() {
            let odb = self
                .repo
                .inner
                .odb()
                .map_err(GitError::git("cannot open the object database"))?;
            let dir = self.repo.common_dir().join("objects/pack");
            pack::write_pack(&odb, &log.ids, &log.replaces, &dir)?;
        }
        self.mempack
            .reset()
            .map_err(GitError::git("cannot reset the in-memory object store"))?;
        self.written.set(0);
        Ok(())
    }
}

impl Repo {
    /// Runs `f` with a [`Bulk`] handle and flushes what it wrote as a pack at the end. On error
    /// nothing pending is flushed: the objects are dropped with the memory.
    pub fn with_bulk_writes<T, E: From<GitError>>(
        &self,
        f: impl FnOnce(&Bulk<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let mut repo = Repo::open(self.git_dir())?;
        repo.write_log = Some(std::cell::RefCell::new(WriteLog::default()));
        let odb = repo
            .inner
            .odb()
            .map_err(GitError::git("cannot open the object database"))?;
        // NB: a priority above the loose and pack backends (1 and 2) makes writes land here.
        let mempack = odb
            .add_new_mempack_backend(1000)
            .map_err(GitError::git("cannot create an in-memory object store"))?;
        let bulk = Bulk {
            repo: &repo,
            mempack,
            written: Cell::new(0),
        };
        let out = f(&bulk)?;
        bulk.flush()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::temp_repo;
    use super::super::{Identity, TreeEdit};

    #[test]
    fn bulk_objects_land_in_one_pack_and_are_readable() {
        let (dir, repo) = temp_repo();
        let commit = repo
            .with_bulk_writes(|bulk| {
                let r = bulk.repo();
                let mut tip = None;
                for i in 0..50 {
                    let b = r.write_blob(format!("blob {i}").as_bytes())?;
                    let t = r.edit_tree(
                        None,
                        &[TreeEdit::Blob {
                            path: format!("d/{i}"),
                            oid: b,
                        }],
                    )?;
                    let parents: Vec<_> = tip.into_iter().collect();
                    tip = Some(r.write_commit(
                        t,
                        &parents,
                        "m",
                        &Identity::fallback(),
                        chrono::DateTime::UNIX_EPOCH,
                    )?);
                    bulk.note_written(8, 200)?; // forces a few intermediate flushes
                }
                Ok::<_, super::GitError>(tip.unwrap())
            })
            .unwrap();
        // Readable through the original handle, and stored in packs, not loose files.
        assert!(repo.commit_info(commit).unwrap().is_some());
        let packs = std::fs::read_dir(dir.path().join(".git/objects/pack"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "pack")
            })
            .count();
        assert!(packs >= 2, "{packs} packs");
        let loose = std::fs::read_dir(dir.path().join(".git/objects"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().len() == 2)
            .count();
        assert_eq!(loose, 0);
        // git itself accepts what we packed.
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git")
                .current_dir(dir.path())
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "git {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        git(&["update-ref", "refs/pitboss/grind/bulk", &commit.to_string()]);
        git(&["fsck", "--strict", "--no-dangling"]);
    }

    #[test]
    fn rewritten_trees_and_top_level_blobs_are_packed_as_deltas() {
        // An import's shape: each step adds a file two levels down and rewrites state.json.
        let (dir, repo) = temp_repo();
        let padding = "x".repeat(300);
        let tree = repo
            .with_bulk_writes(|bulk| {
                let r = bulk.repo();
                let mut tree = None;
                for i in 0..300 {
                    let state = format!("{{\"last\": {i}, \"p\": \"{padding}\"}}");
                    let edits = [
                        TreeEdit::Blob {
                            path: format!("sessions/{:02}/{i:04}.jsonl", i / 100),
                            oid: r.write_blob(format!("record {i}").as_bytes())?,
                        },
                        TreeEdit::Blob {
                            path: "state.json".into(),
                            oid: r.write_blob(state.as_bytes())?,
                        },
                    ];
                    tree = Some(r.edit_tree(tree, &edits)?);
                }
                Ok::<_, super::GitError>(tree.unwrap())
            })
            .unwrap();
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git")
                .current_dir(dir.path())
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "git {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        let pack_dir = dir.path().join(".git/objects/pack");
        let idx: Vec<_> = std::fs::read_dir(&pack_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "idx"))
            .collect();
        assert_eq!(idx.len(), 1);
        let vp = git(&["verify-pack", "-v", idx[0].to_str().unwrap()]);
        // Per step: sessions/<bucket>/ and state.json, bar the first of each path (the bucket
        // trees start three times) and every 51st version. The root and sessions/ are too
        // small here for a delta to pay.
        let deltas = vp
            .lines()
            .filter(|l| l.split_whitespace().count() == 7)
            .count();
        assert!(deltas > 2 * 280, "{deltas} deltas\n{vp}");
        assert!(!vp.contains("chain length = 51"), "{vp}");
        // Every object reads back through a fresh handle, and git accepts the repository.
        git(&["update-ref", "refs/pitboss/t", &tree.to_string()]);
        git(&["fsck", "--strict", "--no-dangling"]);
        let fresh = git2::Repository::open(dir.path()).unwrap();
        let odb = fresh.odb().unwrap();
        let mut n = 0;
        for line in vp
            .lines()
            .filter(|l| l.split(' ').next().is_some_and(|w| w.len() == 40))
        {
            let id = git2::Oid::from_str(&line[..40]).unwrap();
            let obj = odb.read(id).unwrap();
            assert_eq!(git2::Oid::hash_object(obj.kind(), obj.data()).unwrap(), id);
            n += 1;
        }
        assert!(n > 1200, "{n}");
    }
}
