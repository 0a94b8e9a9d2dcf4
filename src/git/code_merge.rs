//! Code branches seen from git's side: merging two commits' trees in memory (no checkout, no
//! index file, no work tree touched) and finding the work trees that have a branch checked out.
//!
//! The merge is libgit2's three-way `merge_commits` into an in-memory index, written with
//! `write_tree_to` (NB: `write_tree` fails on an index that has no repository file behind it).
//! Callers order the two commits themselves, so two machines merging the same pair get the
//! same tree.

use std::path::PathBuf;

use super::{GitError, Oid, RefName, Repo, Result};

/// What merging two commits' trees gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeMerge {
    /// The merged tree, written to the object store.
    Clean(Oid),
    /// The paths that conflict (sorted, each once); nothing was written.
    Conflicts(Vec<String>),
}

impl Repo {
    /// Merges the trees of commits `ours` and `theirs` (three-way, against their merge base)
    /// without touching any work tree.
    pub fn merge_trees_in_memory(&self, ours: Oid, theirs: Oid) -> Result<TreeMerge> {
        let find = |oid: Oid| {
            self.inner
                .find_commit(oid.raw())
                .map_err(GitError::git(format!("cannot read commit {oid}")))
        };
        let (a, b) = (find(ours)?, find(theirs)?);
        let mut index = self
            .inner
            .merge_commits(&a, &b, None)
            .map_err(GitError::git(format!("cannot merge {ours} and {theirs}")))?;
        if index.has_conflicts() {
            let mut paths: Vec<String> = index
                .conflicts()
                .map_err(GitError::git("cannot list merge conflicts"))?
                .filter_map(|c| c.ok())
                .filter_map(|c| c.our.or(c.their).or(c.ancestor))
                .map(|e| String::from_utf8_lossy(&e.path).into_owned())
                .collect();
            paths.sort();
            paths.dedup();
            return Ok(TreeMerge::Conflicts(paths));
        }
        let tree = index
            .write_tree_to(&self.inner)
            .map_err(GitError::git("cannot write the merged tree"))?;
        Ok(TreeMerge::Clean(Oid::from(tree)))
    }

    /// The work trees (the main one and every linked one) whose HEAD is the branch `refname`
    /// (`refs/heads/…`). Read from the HEAD files, so a work tree whose directory is gone but
    /// whose registration remains still counts: moving its branch would strand it just the same.
    pub fn checked_out_in(&self, refname: &RefName) -> Result<Vec<PathBuf>> {
        let common = self.common_dir().to_path_buf();
        let points_here = |head: PathBuf| {
            std::fs::read_to_string(head)
                .ok()
                .and_then(|s| s.trim().strip_prefix("ref: ").map(str::to_string))
                .is_some_and(|r| r == refname.as_str())
        };
        let mut found = Vec::new();
        let main = git2::Repository::open(&common).ok();
        if let Some(main) = &main
            && !main.is_bare()
            && points_here(common.join("HEAD"))
        {
            found.push(main.workdir().map(PathBuf::from).unwrap_or(common.clone()));
        }
        for name in self.worktree_names()? {
            if points_here(common.join("worktrees").join(&name).join("HEAD")) {
                let path = self
                    .inner
                    .find_worktree(&name)
                    .map(|w| w.path().to_path_buf())
                    .unwrap_or_else(|_| common.join("worktrees").join(&name));
                found.push(path);
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::{Identity, TreeEdit};

    fn commit(repo: &Repo, parent: Option<Oid>, path: &str, text: &str) -> Oid {
        let base = parent.map(|p| repo.commit_info(p).unwrap().unwrap().tree);
        let blob = repo.write_blob(text.as_bytes()).unwrap();
        let tree = repo
            .edit_tree(
                base,
                &[TreeEdit::Blob {
                    path: path.into(),
                    oid: blob,
                }],
            )
            .unwrap();
        let parents: Vec<Oid> = parent.into_iter().collect();
        repo.write_commit(
            tree,
            &parents,
            "c",
            &Identity::fallback(),
            chrono::Utc::now(),
        )
        .unwrap()
    }

    #[test]
    fn clean_merges_write_a_tree_and_conflicts_name_their_paths() {
        let (_dir, repo) = crate::git::testutil::temp_repo();
        let base = commit(&repo, None, "a.txt", "a\n");
        let left = commit(&repo, Some(base), "l.txt", "l\n");
        let right = commit(&repo, Some(base), "r.txt", "r\n");
        let TreeMerge::Clean(tree) = repo.merge_trees_in_memory(left, right).unwrap() else {
            panic!("expected a clean merge");
        };
        for p in ["a.txt", "l.txt", "r.txt"] {
            assert!(repo.tree_entry(tree, p).unwrap().is_some(), "{p}");
        }
        let x = commit(&repo, Some(base), "a.txt", "x\n");
        let y = commit(&repo, Some(base), "a.txt", "y\n");
        assert_eq!(
            repo.merge_trees_in_memory(x, y).unwrap(),
            TreeMerge::Conflicts(vec!["a.txt".into()])
        );
    }
}
