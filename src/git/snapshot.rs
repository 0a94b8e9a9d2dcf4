//! A worktree's work as a tree, without touching its index or files: the tree of `base` with
//! every change since (commits, uncommitted edits, untracked files; ignored files stay out)
//! written over it. Failed work is saved from it when a patch in the run cannot hold it
//! faithfully (it is too large, or holds a secret that must not be pushed): a commit of this tree
//! on a local ref keeps the work whole, binary files and all.
//!
//! NB: it is built from the same diff as [`Repo::patch_since`] (untracked files included), with a
//! tree update builder rather than an index, so the worktree's own index (which the agent may have
//! left half-staged) is never written.

use super::{GitError, Oid, Repo, Result};

/// One path the work changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// The path in the tree (lossy UTF-8 for names git allows and Rust strings do not).
    pub path: String,
    /// The new content's blob; `None` when the work deleted the path.
    pub blob: Option<Oid>,
    /// True when git sees the new content as binary (a patch carries it encoded, not as lines).
    pub binary: bool,
}

/// The work since a base, as a tree.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub tree: Oid,
    pub changed: Vec<Changed>,
}

impl Repo {
    /// The tree of `base` with the worktree's changes since `base` written over it (see the
    /// module doc). Writes blobs and trees, moves no ref, and leaves the worktree alone.
    pub fn snapshot_since(&self, base: Oid) -> Result<Snapshot> {
        let base_tree = self
            .inner
            .find_commit(base.raw())
            .and_then(|c| c.tree())
            .map_err(GitError::git(format!("cannot read commit {base}")))?;
        let workdir = self
            .workdir()
            .ok_or_else(|| GitError::Io {
                what: "cannot save the work".into(),
                source: std::io::Error::other("a bare repository has no work tree"),
            })?
            .to_path_buf();
        let mut opts = git2::DiffOptions::new();
        opts.include_untracked(true).recurse_untracked_dirs(true);
        let diff = self
            .inner
            .diff_tree_to_workdir_with_index(Some(&base_tree), Some(&mut opts))
            .map_err(GitError::git("cannot diff the worktree"))?;
        let mut up = git2::build::TreeUpdateBuilder::new();
        let mut changed = Vec::new();
        for delta in diff.deltas() {
            let Some(rel) = delta.new_file().path().or(delta.old_file().path()) else {
                continue;
            };
            let path = rel.to_string_lossy().into_owned();
            if delta.status() == git2::Delta::Deleted {
                up.remove(rel);
                changed.push(Changed {
                    path,
                    blob: None,
                    binary: false,
                });
                continue;
            }
            let mode = delta.new_file().mode();
            let blob = match mode {
                git2::FileMode::Link => {
                    let target = std::fs::read_link(workdir.join(rel))
                        .map_err(GitError::io(format!("cannot read the link {path}")))?;
                    let bytes = target.to_string_lossy().into_owned().into_bytes();
                    self.write_blob(&bytes)?
                }
                // A submodule's new commit is its id; there is no file to read.
                git2::FileMode::Commit => Oid::from(delta.new_file().id()),
                _ => Oid::from(
                    self.inner
                        .blob_path(&workdir.join(rel))
                        .map_err(GitError::git(format!("cannot store {path}")))?,
                ),
            };
            up.upsert(rel, blob.raw(), mode);
            let binary = mode != git2::FileMode::Commit
                && self
                    .inner
                    .find_blob(blob.raw())
                    .map_err(GitError::git(format!("cannot read {path} back")))?
                    .is_binary();
            changed.push(Changed {
                path,
                blob: Some(blob),
                binary,
            });
        }
        let tree = up
            .create_updated(&self.inner, &base_tree)
            .map_err(GitError::git("cannot write the work's tree"))?;
        Ok(Snapshot {
            tree: Oid::from(tree),
            changed,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn snapshot_holds_edits_untracked_and_binary_files_and_leaves_the_worktree() {
        let dir = tempfile::tempdir().unwrap();
        let who = crate::git::Identity::fallback();
        let repo = crate::git::init_with_files(
            dir.path(),
            &[("a.txt", "a\n")],
            "m",
            &who,
            chrono::Utc::now(),
        )
        .unwrap();
        let base = repo.worktree_state().unwrap().head;
        std::fs::write(dir.path().join("new.bin"), [0u8, 1, 2, 255, 0, 7]).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "hello\n").unwrap();
        let snap = repo.snapshot_since(base).unwrap();
        let bin = snap.changed.iter().find(|c| c.path == "new.bin").unwrap();
        assert!(bin.binary);
        assert_eq!(
            repo.read_blob(bin.blob.unwrap()).unwrap(),
            vec![0u8, 1, 2, 255, 0, 7]
        );
        let txt = snap.changed.iter().find(|c| c.path == "notes.txt").unwrap();
        assert!(!txt.binary);
        assert!(repo.tree_entry(snap.tree, "notes.txt").unwrap().is_some());
        // The worktree is as it was: both files still untracked.
        assert!(repo.worktree_state().unwrap().dirty);
    }
}
