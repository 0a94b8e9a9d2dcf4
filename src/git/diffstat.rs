//! `git diff --stat` of two commits, read with libgit2: each changed file with the lines it
//! adds and removes (or that it is binary). `review` shows what a run did to its base with it.

use super::{GitError, Oid, Repo, Result};

/// One changed file of a diff stat.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileStat {
    pub path: String,
    pub added: usize,
    pub removed: usize,
    /// Binary files have no line counts.
    pub binary: bool,
}

impl Repo {
    /// The files that differ between the trees of commits `old` and `new`, in path order.
    pub fn diff_stat(&self, old: Oid, new: Oid) -> Result<Vec<FileStat>> {
        let tree = |c: Oid| -> Result<Oid> {
            Ok(Oid::from(
                self.inner
                    .find_commit(c.raw())
                    .map_err(GitError::git(format!("cannot read commit {c}")))?
                    .tree_id(),
            ))
        };
        let diff = self.tree_diff(Some(tree(old)?), Some(tree(new)?))?;
        let mut out = Vec::with_capacity(diff.deltas().len());
        for (i, d) in diff.deltas().enumerate() {
            let path = d
                .new_file()
                .path()
                .or_else(|| d.old_file().path())
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            let patch = git2::Patch::from_diff(&diff, i)
                .map_err(GitError::git(format!("cannot diff {path}")))?;
            // NB: a delta knows it is binary only once its patch has loaded the content.
            let binary = patch.as_ref().is_none_or(|p| p.delta().flags().is_binary());
            let (added, removed) = match patch {
                Some(p) if !binary => {
                    let (_, a, r) = p
                        .line_stats()
                        .map_err(GitError::git(format!("cannot count the lines of {path}")))?;
                    (a, r)
                }
                _ => (0, 0),
            };
            out.push(FileStat {
                path,
                added,
                removed,
                binary,
            });
        }
        Ok(out)
    }
}
