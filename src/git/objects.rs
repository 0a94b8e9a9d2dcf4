//! Objects: blobs (also streamed), trees edited by path, and commits built without moving
//! any ref (the caller publishes them with a compare-and-swap).

use std::io::{Read, Write};

use chrono::{DateTime, Utc};

use super::{GitError, Identity, Oid, Repo, Result};

/// One change to a tree, by slash-separated path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeEdit {
    /// Put a regular-file blob at the path (creating parent trees as needed).
    Blob { path: String, oid: Oid },
    /// Put a blob at the path with the given mode (a regular file, an executable, a link).
    Entry {
        path: String,
        oid: Oid,
        kind: TreeEntryKind,
    },
    /// Remove whatever is at the path.
    Remove { path: String },
}

/// What a tree entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeEntryKind {
    Blob,
    Executable,
    Tree,
    Symlink,
    Submodule,
}

/// A commit, read back.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub id: Oid,
    pub tree: Oid,
    pub parents: Vec<Oid>,
    pub message: String,
    pub time: DateTime<Utc>,
}

impl Repo {
    /// A failed object write, with the file system's condition when that is the reason.
    fn write_err(&self, what: &'static str) -> impl FnOnce(git2::Error) -> GitError + '_ {
        move |e| self.explain(GitError::git(what)(e))
    }

    /// NB: libgit2 reports some failed writes on a full disk as "no error" (its errno was
    /// gone by the time it formatted the message). When the object store's file system is
    /// full or read-only, that is the reason, and it is what the user reads.
    fn explain(&self, e: GitError) -> GitError {
        let what = match &e {
            GitError::Git { what, .. } | GitError::Io { what, .. } => what.clone(),
            _ => return e,
        };
        match super::fs_condition(&self.common_dir().join("objects")) {
            Some(source) => GitError::Io { what, source },
            None => e,
        }
    }

    pub fn write_blob(&self, data: &[u8]) -> Result<Oid> {
        let oid = self
            .inner
            .blob(data)
            .map_err(self.write_err("cannot write a blob"))?;
        Ok(Oid::from(oid))
    }

    /// Streams `reader` into a new blob without holding it whole in memory.
    pub fn write_blob_from(&self, reader: &mut dyn Read) -> Result<Oid> {
        let mut w = self
            .inner
            .blob_writer(None)
            .map_err(self.write_err("cannot write a blob"))?;
        copy_into(reader, &mut w, u64::MAX).map_err(|e| self.explain(e))?;
        let oid = w.commit().map_err(self.write_err("cannot write a blob"))?;
        Ok(Oid::from(oid))
    }

    /// Streams exactly `len` bytes of `reader` into a new blob.
    ///
    /// NB: libgit2's `blob_writer` (see [`Repo::write_blob_from`]) does not know the size up
    /// front, so it spools every blob into a temporary file under `objects/` first, and reads
    /// it back: one file created and deleted per transcript of an import. On a quiet disk that
    /// is ~0.1–0.2 s of a 10,000-transcript import; while ext4 was busy allocating inodes
    /// among many recent deletions it was over 5 s. With the size known, the object database
    /// takes the stream directly into the loose object file.
    pub fn write_blob_sized(&self, reader: &mut dyn Read, len: u64) -> Result<Oid> {
        let size = usize::try_from(len).map_err(|_| GitError::Io {
            what: format!("cannot write a blob of {len} bytes"),
            source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
        })?;
        let odb = self
            .inner
            .odb()
            .map_err(GitError::git("cannot open the object database"))?;
        let mut w = odb
            .writer(size, git2::ObjectType::Blob)
            .map_err(self.write_err("cannot write a blob"))?;
        let copied = copy_into(reader, &mut w, len).map_err(|e| self.explain(e))?;
        if copied != len {
            return Err(GitError::Io {
                what: format!("cannot write a blob: expected {len} bytes, read {copied}"),
                source: std::io::Error::from(std::io::ErrorKind::UnexpectedEof),
            });
        }
        let oid = w
            .finalize()
            .map_err(self.write_err("cannot write a blob"))?;
        Ok(Oid::from(oid))
    }

    pub fn read_blob(&self, oid: Oid) -> Result<Vec<u8>> {
        let blob = self
            .inner
            .find_blob(oid.raw())
            .map_err(GitError::git(format!("cannot read blob {oid}")))?;
        Ok(blob.content().to_vec())
    }

    /// Size of a blob without reading its content into our memory.
    pub fn blob_size(&self, oid: Oid) -> Result<usize> {
        let odb = self
            .inner
            .odb()
            .map_err(GitError::git("cannot open the object database"))?;
        let (size, _) = odb
            .read_header(oid.raw())
            .map_err(GitError::git(format!("cannot read object {oid}")))?;
        Ok(size)
    }

    /// Calls `f` with a blob's bytes, without copying them.
    pub fn with_blob<T>(&self, oid: Oid, f: impl FnOnce(&[u8]) -> T) -> Result<T> {
        let blob = self
            .inner
            .find_blob(oid.raw())
            .map_err(GitError::git(format!("cannot read blob {oid}")))?;
        Ok(f(blob.content()))
    }

    pub fn empty_tree(&self) -> Result<Oid> {
        let b = self
            .inner
            .treebuilder(None)
            .map_err(GitError::git("cannot build a tree"))?;
        b.write()
            .map(Oid::from)
            .map_err(GitError::git("cannot write a tree"))
    }

    /// The entry at `path` (slash-separated) inside tree `tree`, `None` when absent.
    pub fn tree_entry(&self, tree: Oid, path: &str) -> Result<Option<(Oid, TreeEntryKind)>> {
        let t = self
            .inner
            .find_tree(tree.raw())
            .map_err(GitError::git(format!("cannot read tree {tree}")))?;
        match t.get_path(std::path::Path::new(path)) {
            Ok(e) => Ok(Some((Oid::from(e.id()), entry_kind(e.filemode())))),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(GitError::git(format!("cannot read {path} in tree {tree}"))(
                e,
            )),
        }
    }

    /// The entries of one tree: name, id, kind, in git's order.
    pub fn tree_list(&self, tree: Oid) -> Result<Vec<(String, Oid, TreeEntryKind)>> {
        let t = self
            .inner
            .find_tree(tree.raw())
            .map_err(GitError::git(format!("cannot read tree {tree}")))?;
        let mut out = Vec::with_capacity(t.len());
        for e in t.iter() {
            let name = String::from_utf8_lossy(e.name_bytes()).into_owned();
            out.push((name, Oid::from(e.id()), entry_kind(e.filemode())));
        }
        Ok(out)
    }

    /// A tree of top-level blobs only (no empty tree object is written on the way).
    pub fn write_flat_tree(&self, entries: &[(&str, Oid)]) -> Result<Oid> {
        let mut b = self
            .inner
            .treebuilder(None)
            .map_err(GitError::git("cannot build a tree"))?;
        for (name, oid) in entries {
            b.insert(name, oid.raw(), i32::from(git2::FileMode::Blob))
                .map_err(GitError::git(format!("cannot add {name} to a tree")))?;
        }
        let oid = b.write().map_err(self.write_err("cannot write a tree"))?;
        Ok(Oid::from(oid))
    }

    /// `base` (or the empty tree) with `edits` applied; only the trees on the edited paths are
    /// rewritten, so the cost does not grow with the size of untouched directories.
    pub fn edit_tree(&self, base: Option<Oid>, edits: &[TreeEdit]) -> Result<Oid> {
        let base_tree = match base {
            Some(b) => self
                .inner
                .find_tree(b.raw())
                .map_err(GitError::git(format!("cannot read tree {b}")))?,
            None => {
                let e = self.empty_tree()?;
                self.inner
                    .find_tree(e.raw())
                    .map_err(GitError::git("cannot read the empty tree"))?
            }
        };
        let mut up = git2::build::TreeUpdateBuilder::new();
        for edit in edits {
            match edit {
                TreeEdit::Blob { path, oid } => {
                    up.upsert(path.as_str(), oid.raw(), git2::FileMode::Blob);
                }
                TreeEdit::Entry { path, oid, kind } => {
                    up.upsert(path.as_str(), oid.raw(), file_mode(*kind));
                }
                TreeEdit::Remove { path } => {
                    up.remove(path.as_str());
                }
            }
        }
        let root = up
            .create_updated(&self.inner, &base_tree)
            .map_err(self.write_err("cannot write the updated tree"))?;
        Ok(Oid::from(root))
    }

    /// Writes a commit object and moves no ref.
    pub fn write_commit(
        &self,
        tree: Oid,
        parents: &[Oid],
        message: &str,
        who: &Identity,
        when: DateTime<Utc>,
    ) -> Result<Oid> {
        let time = git2::Time::new(when.timestamp(), 0);
        let sig = git2::Signature::new(&who.name, &who.email, &time).map_err(GitError::git(
            format!("invalid identity {} <{}>", who.name, who.email),
        ))?;
        let tree = self
            .inner
            .find_tree(tree.raw())
            .map_err(GitError::git(format!("cannot read tree {tree}")))?;
        let parents = parents
            .iter()
            .map(|p| {
                self.inner
                    .find_commit(p.raw())
                    .map_err(GitError::git(format!("cannot read commit {p}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        let oid = self
            .inner
            .commit(None, &sig, &sig, message, &tree, &refs)
            .map_err(self.write_err("cannot write a commit"))?;
        Ok(Oid::from(oid))
    }

    /// Reads a commit; `None` when `oid` is not a commit (or does not exist).
    pub fn commit_info(&self, oid: Oid) -> Result<Option<CommitInfo>> {
        let c = match self.inner.find_commit(oid.raw()) {
            Ok(c) => c,
            Err(e)
                if e.code() == git2::ErrorCode::NotFound
                    || e.class() == git2::ErrorClass::Invalid =>
            {
                return Ok(None);
            }
            Err(e) => return Err(GitError::git(format!("cannot read commit {oid}"))(e)),
        };
        let time = DateTime::from_timestamp(c.time().seconds(), 0).unwrap_or_default();
        Ok(Some(CommitInfo {
            id: oid,
            tree: Oid::from(c.tree_id()),
            parents: c.parent_ids().map(Oid::from).collect(),
            message: String::from_utf8_lossy(c.message_bytes()).into_owned(),
            time,
        }))
    }

    /// Whether `oid` names a commit in this repository.
    pub fn is_commit(&self, oid: Oid) -> bool {
        matches!(
            self.inner.find_object(oid.raw(), None).map(|o| o.kind()),
            Ok(Some(git2::ObjectType::Commit))
        )
    }
}

/// Copies at most `limit` bytes of `reader` into one of libgit2's write streams.
///
/// NB: git2's stream writers turn every failure into a bare "Write error" (and a failed
/// blob stream was reported as "no error"), so the reason, such as a full disk or a read-only
/// file system, is taken from libgit2's own last error.
fn copy_into(reader: &mut dyn Read, w: &mut dyn Write, limit: u64) -> Result<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    while total < limit {
        let want = usize::try_from((limit - total).min(buf.len() as u64)).unwrap_or(buf.len());
        let n = match reader.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(GitError::io("cannot read the content of a blob")(e)),
        };
        if w.write_all(&buf[..n]).is_err() {
            return Err(GitError::git("cannot write a blob")(
                git2::Error::last_error(-1),
            ));
        }
        total += n as u64;
    }
    Ok(total)
}

/// The git file mode of an entry kind (the reverse of [`entry_kind`]).
fn file_mode(kind: TreeEntryKind) -> git2::FileMode {
    match kind {
        TreeEntryKind::Blob => git2::FileMode::Blob,
        TreeEntryKind::Executable => git2::FileMode::BlobExecutable,
        TreeEntryKind::Tree => git2::FileMode::Tree,
        TreeEntryKind::Symlink => git2::FileMode::Link,
        TreeEntryKind::Submodule => git2::FileMode::Commit,
    }
}

pub(super) fn entry_kind(mode: i32) -> TreeEntryKind {
    match mode {
        0o040000 => TreeEntryKind::Tree,
        0o100755 => TreeEntryKind::Executable,
        0o120000 => TreeEntryKind::Symlink,
        0o160000 => TreeEntryKind::Submodule,
        _ => TreeEntryKind::Blob,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::temp_repo;
    use super::*;

    #[test]
    fn edit_tree_adds_nested_paths_and_removes() {
        let (_d, repo) = temp_repo();
        let a = repo.write_blob(b"a").unwrap();
        let b = repo.write_blob_from(&mut &b"bb"[..]).unwrap();
        assert_eq!(repo.write_blob_sized(&mut &b"bb"[..], 2).unwrap(), b);
        assert_eq!(repo.write_blob_sized(&mut &b"bbb"[..], 2).unwrap(), b);
        assert!(repo.write_blob_sized(&mut &b"b"[..], 2).is_err());
        let t1 = repo
            .edit_tree(
                None,
                &[
                    TreeEdit::Blob {
                        path: "x/00/0001.jsonl".into(),
                        oid: a,
                    },
                    TreeEdit::Blob {
                        path: "top.md".into(),
                        oid: b,
                    },
                ],
            )
            .unwrap();
        assert_eq!(
            repo.tree_entry(t1, "x/00/0001.jsonl").unwrap().unwrap().0,
            a
        );
        assert_eq!(
            repo.tree_entry(t1, "x/00").unwrap().unwrap().1,
            TreeEntryKind::Tree
        );
        assert_eq!(repo.tree_entry(t1, "nope").unwrap(), None);
        let t2 = repo
            .edit_tree(
                Some(t1),
                &[TreeEdit::Remove {
                    path: "top.md".into(),
                }],
            )
            .unwrap();
        assert_eq!(repo.tree_list(t2).unwrap().len(), 1);
        assert_eq!(repo.read_blob(b).unwrap(), b"bb");
        assert_eq!(repo.blob_size(b).unwrap(), 2);
    }

    #[test]
    fn commits_round_trip() {
        let (_d, repo) = temp_repo();
        let t = repo.empty_tree().unwrap();
        let when = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let c = repo
            .write_commit(t, &[], "subject\n\nbody\n", &Identity::fallback(), when)
            .unwrap();
        let info = repo.commit_info(c).unwrap().unwrap();
        assert_eq!(info.message, "subject\n\nbody\n");
        assert_eq!(info.time, when);
        assert!(repo.is_commit(c));
        assert!(!repo.is_commit(t));
        assert!(repo.commit_info(t).unwrap().is_none());
    }
}
