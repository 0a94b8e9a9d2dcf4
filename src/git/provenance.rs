//! The git side of "what did the spend buy?" (`stats`, `blame`, `why`): patch ids of commits
//! and of whole tree-to-tree changes, which files a change touches, whether a change applies to
//! a tree (forwards or backwards), and `git blame --porcelain` through the git binary.
//!
//! NB: libgit2's `apply_to_tree` writes the blobs it produces into the object database. The
//! checks here must write nothing to the user's repository, so they run on a [`Repo::scratch`]
//! handle whose writes go to an in-memory pack (`mempack`) that is dropped with the handle.
//!
//! Blame goes through the `git` binary rather than `git2::Repository::blame_file`: git's own
//! blame is much faster on long histories (it is the figure the benchmark compares against),
//! and it takes the options users know (`-L`, a revision) as they are.

use std::process::{Command, Stdio};

use super::objects::entry_kind;
use super::{GitError, Oid, Repo, Result, TreeEntryKind};

/// One file a change touches: its path and its entry (blob and mode) before and after
/// (`None`: absent). The mode is part of the change: `chmod +x` keeps the blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    pub path: String,
    pub old: Option<(Oid, TreeEntryKind)>,
    pub new: Option<(Oid, TreeEntryKind)>,
}

impl Repo {
    /// Another handle on this repository whose object writes stay in memory. Reads see the
    /// repository's objects and the ones written through this handle.
    pub fn scratch(&self) -> Result<Repo> {
        let inner = git2::Repository::open(self.inner.path()).map_err(GitError::git(format!(
            "cannot open {}",
            self.inner.path().display()
        )))?;
        {
            let odb = inner
                .odb()
                .map_err(GitError::git("cannot open the object database"))?;
            // Above the loose (1) and packed (2) backends, so every write lands here.
            odb.add_new_mempack_backend(999)
                .map_err(GitError::git("cannot add an in-memory object store"))?;
        }
        Ok(Repo::wrap(inner))
    }

    /// The commit a revision names (`main`, `HEAD~2`, a sha), `None` when it names none.
    pub fn rev_commit(&self, rev: &str) -> Result<Option<Oid>> {
        match self.inner.revparse_single(rev) {
            Ok(obj) => match obj.peel_to_commit() {
                Ok(c) => Ok(Some(Oid::from(c.id()))),
                Err(_) => Ok(None),
            },
            Err(e)
                if e.code() == git2::ErrorCode::NotFound
                    || e.code() == git2::ErrorCode::Ambiguous
                    || e.class() == git2::ErrorClass::Invalid =>
            {
                Ok(None)
            }
            Err(e) => Err(GitError::git(format!("cannot resolve {rev:?}"))(e)),
        }
    }

    fn find_tree_opt(&self, tree: Option<Oid>) -> Result<Option<git2::Tree<'_>>> {
        tree.map(|t| {
            self.inner
                .find_tree(t.raw())
                .map_err(GitError::git(format!("cannot read tree {t}")))
        })
        .transpose()
    }

    pub(super) fn tree_diff(&self, old: Option<Oid>, new: Option<Oid>) -> Result<git2::Diff<'_>> {
        let (a, b) = (self.find_tree_opt(old)?, self.find_tree_opt(new)?);
        let mut opts = git2::DiffOptions::new();
        opts.show_binary(true);
        self.inner
            .diff_tree_to_tree(a.as_ref(), b.as_ref(), Some(&mut opts))
            .map_err(GitError::git(format!(
                "cannot diff {} and {}",
                old.map_or("the empty tree".into(), |o| o.to_string()),
                new.map_or("the empty tree".into(), |o| o.to_string())
            )))
    }

    /// The patch id of the change from tree `old` (`None`: empty) to tree `new`; `None` when
    /// the trees are the same. Equal patch ids mean the same change, whatever the line numbers.
    pub fn diff_patch_id(&self, old: Option<Oid>, new: Oid) -> Result<Option<Oid>> {
        if old == Some(new) {
            return Ok(None);
        }
        let diff = self.tree_diff(old, Some(new))?;
        if diff.deltas().len() == 0 {
            return Ok(None);
        }
        diff.patchid(None)
            .map(|p| Some(Oid::from(p)))
            .map_err(GitError::git(format!(
                "cannot compute the patch id of {new}"
            )))
    }

    /// The patch id of a commit's change against its first parent (the empty tree for a root
    /// commit); `None` for a commit that changes nothing.
    pub fn commit_patch_id(&self, commit: Oid) -> Result<Option<Oid>> {
        let c = self
            .inner
            .find_commit(commit.raw())
            .map_err(GitError::git(format!("cannot read commit {commit}")))?;
        let parent_tree = match c.parent_ids().next() {
            Some(p) => Some(
                self.inner
                    .find_commit(p)
                    .map_err(GitError::git(format!("cannot read commit {p}")))?
                    .tree_id()
                    .into(),
            ),
            None => None,
        };
        self.diff_patch_id(parent_tree, c.tree_id().into())
    }

    /// The files that differ between two trees, with their blobs on each side.
    pub fn changed_files(&self, old: Option<Oid>, new: Oid) -> Result<Vec<ChangedFile>> {
        let diff = self.tree_diff(old, Some(new))?;
        let side = |f: git2::DiffFile<'_>| {
            Some(f.id())
                .filter(|o| !o.is_zero())
                .map(|o| (Oid::from(o), entry_kind(i32::from(f.mode()))))
        };
        Ok(diff
            .deltas()
            .map(|d| ChangedFile {
                path: d
                    .new_file()
                    .path()
                    .or_else(|| d.old_file().path())
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                old: side(d.old_file()),
                new: side(d.new_file()),
            })
            .collect())
    }

    /// Applies the change from tree `from` to tree `to` onto tree `base`, as `git apply`
    /// would (context must match); the resulting tree, or `None` when it does not apply.
    /// Use it on a [`Repo::scratch`] handle: libgit2 writes the result's objects.
    pub fn apply_change(
        &self,
        base: Oid,
        from: Option<Oid>,
        to: Option<Oid>,
    ) -> Result<Option<Oid>> {
        let diff = self.tree_diff(from, to)?;
        let base_tree = self
            .inner
            .find_tree(base.raw())
            .map_err(GitError::git(format!("cannot read tree {base}")))?;
        let mut index = match self.inner.apply_to_tree(&base_tree, &diff, None) {
            Ok(i) => i,
            // NB: a change to a file the tree lacks fails with NotFound of class Index, not
            // with ApplyFail.
            Err(e)
                if e.code() == git2::ErrorCode::ApplyFail
                    || e.class() == git2::ErrorClass::Patch
                    || e.class() == git2::ErrorClass::Index =>
            {
                return Ok(None);
            }
            Err(e) => return Err(GitError::git(format!("cannot apply a change to {base}"))(e)),
        };
        index
            .write_tree_to(&self.inner)
            .map(|t| Some(Oid::from(t)))
            .map_err(GitError::git("cannot write the applied tree"))
    }

    /// The blob's bytes, `None` when the object database has no such blob.
    pub fn blob_if_present(&self, oid: Oid) -> Result<Option<Vec<u8>>> {
        match self.inner.find_blob(oid.raw()) {
            Ok(b) => Ok(Some(b.content().to_vec())),
            Err(e)
                if e.code() == git2::ErrorCode::NotFound
                    || e.class() == git2::ErrorClass::Invalid =>
            {
                Ok(None)
            }
            Err(e) => Err(GitError::git(format!("cannot read blob {oid}"))(e)),
        }
    }

    /// `git blame --porcelain <args…>` run in this work tree: its standard output, or
    /// [`GitError::Blame`] with the error git printed (an unknown file, a bad revision, a bad
    /// `-L`).
    pub fn blame_porcelain(&self, args: &[String]) -> Result<Vec<u8>> {
        let dir = self.workdir().unwrap_or_else(|| self.git_dir());
        let out = Command::new("git")
            .current_dir(dir)
            .args(["blame", "--porcelain"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(GitError::io("cannot run git blame"))?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(GitError::Blame {
                why: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            })
        }
    }
}

impl Repo {
    /// The first-parent chain from `tip` (newest first) down to, not including, the first
    /// commit in `stop`; `None` when no stop commit comes within `limit` commits.
    ///
    /// NB: much cheaper than a revwalk that hides `stop`: libgit2 reads every ancestor of a
    /// hidden commit it reaches, which made one walk per session cost the whole history.
    pub fn first_parent_chain(
        &self,
        tip: Oid,
        stop: &[Oid],
        limit: usize,
    ) -> Result<Option<Vec<Oid>>> {
        let mut out = Vec::new();
        let mut at = tip;
        while out.len() < limit {
            if stop.contains(&at) {
                return Ok(Some(out));
            }
            let c = self
                .inner
                .find_commit(at.raw())
                .map_err(GitError::git(format!("cannot read commit {at}")))?;
            out.push(at);
            match c.parent_id(0) {
                Ok(p) => at = Oid::from(p),
                Err(_) => return Ok(None),
            }
        }
        Ok(None)
    }

    /// Commits reachable from `tip` but from none of `hide` (missing ones are skipped), newest
    /// first, at most `limit` of them.
    pub fn commits_not_in_any(&self, tip: Oid, hide: &[Oid], limit: usize) -> Result<Vec<Oid>> {
        let what = || format!("cannot walk the history of {tip}");
        let mut walk = self.inner.revwalk().map_err(GitError::git(what()))?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL)
            .map_err(GitError::git(what()))?;
        walk.push(tip.raw()).map_err(GitError::git(what()))?;
        for h in hide {
            if self.is_commit(*h) {
                walk.hide(h.raw()).map_err(GitError::git(what()))?;
            }
        }
        walk.take(limit)
            .map(|r| r.map(Oid::from).map_err(GitError::git(what())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::temp_repo;
    use super::super::{Identity, TreeEdit};
    use super::*;

    fn tree(repo: &Repo, files: &[(&str, &str)]) -> Oid {
        let edits: Vec<TreeEdit> = files
            .iter()
            .map(|(p, c)| TreeEdit::Blob {
                path: p.to_string(),
                oid: repo.write_blob(c.as_bytes()).unwrap(),
            })
            .collect();
        repo.edit_tree(None, &edits).unwrap()
    }

    #[test]
    fn patch_ids_ignore_where_a_change_sits() {
        let (_d, repo) = temp_repo();
        // The same change with the same context, further down the file.
        let a = tree(&repo, &[("f", "c\nd\n1\n2\n3\n")]);
        let b = tree(&repo, &[("f", "c\nd\n1\n2\nX\n")]);
        let a2 = tree(&repo, &[("f", "0\n0\n0\n0\nc\nd\n1\n2\n3\n")]);
        let b2 = tree(&repo, &[("f", "0\n0\n0\n0\nc\nd\n1\n2\nX\n")]);
        let p = repo.diff_patch_id(Some(a), b).unwrap().unwrap();
        assert_eq!(repo.diff_patch_id(Some(a2), b2).unwrap(), Some(p));
        assert_eq!(repo.diff_patch_id(Some(a), a).unwrap(), None);
        let c = repo
            .write_commit(
                b,
                &[],
                "m",
                &Identity::fallback(),
                chrono::DateTime::UNIX_EPOCH,
            )
            .unwrap();
        assert!(repo.commit_patch_id(c).unwrap().is_some());
    }

    #[test]
    fn apply_forwards_and_backwards_in_memory_only() {
        let (_d, repo) = temp_repo();
        let a = tree(&repo, &[("f", "1\n2\n3\n4\n5\n")]);
        let b = tree(&repo, &[("f", "1\n2\nX\n4\n5\n")]);
        let other = tree(&repo, &[("f", "1\n2\nY\n4\n5\n")]);
        let scratch = repo.scratch().unwrap();
        assert_eq!(scratch.apply_change(b, Some(b), Some(a)).unwrap(), Some(a));
        assert_eq!(scratch.apply_change(a, Some(a), Some(b)).unwrap(), Some(b));
        assert_eq!(scratch.apply_change(other, Some(b), Some(a)).unwrap(), None);
        assert_eq!(scratch.apply_change(other, Some(a), Some(b)).unwrap(), None);
        let moved = tree(&repo, &[("f", "1\n2\n3\n4\n5\n6\n")]);
        let out = scratch
            .apply_change(moved, Some(a), Some(b))
            .unwrap()
            .unwrap();
        // The applied tree exists only in the scratch handle's memory.
        assert!(scratch.tree_entry(out, "f").unwrap().is_some());
        assert!(repo.tree_entry(out, "f").is_err() || repo.tree_entry(out, "f").unwrap().is_none());
        let files = repo.changed_files(Some(a), b).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, "f");
    }
}
