//! Whether objects a ref names are still there. `git gc --prune=now` beside a running write
//! can delete a commit the ref has just been moved to (git documents that prune as unsafe with
//! concurrent writers); the ref then names nothing, and its reflog is the way back.

use super::{GitError, Oid, Repo, Result};

impl Repo {
    /// Whether the object store has `oid` (of any kind).
    pub fn has_object(&self, oid: Oid) -> bool {
        self.inner.odb().is_ok_and(|odb| odb.exists(oid.raw()))
    }

    /// The values `name` had, newest first, from its reflog (none when it has no reflog).
    pub fn reflog_values(&self, name: &str) -> Result<Vec<Oid>> {
        let log = self
            .inner
            .reflog(name)
            .map_err(GitError::git(format!("cannot read the reflog of {name}")))?;
        Ok(log.iter().map(|e| e.id_new()).map(Oid::from).collect())
    }

    /// Whether `tip` and every commit and tree behind it can be read.
    pub fn history_intact(&self, tip: Oid) -> bool {
        let Ok(mut walk) = self.inner.revwalk() else {
            return false;
        };
        if walk.push(tip.raw()).is_err() {
            return false;
        }
        walk.all(|c| {
            c.ok()
                .and_then(|c| self.inner.find_commit(c).ok())
                .is_some_and(|c| self.inner.find_tree(c.tree_id()).is_ok())
        })
    }
}
