//! The commit graph and the refs that sharing needs: ahead/behind counts, merge bases,
//! walking the commits a fetch brought in, and the two ref writes that are not a
//! compare-and-swap (tracking refs, which mirror what a remote said, and deletions).
//!
//! NB: only remote-tracking refs and tombstones are written with [`Repo::set_ref`]; run refs
//! always move with [`Repo::cas_ref`] (DESIGN §3).

use super::{BranchName, GitError, Oid, RefName, Repo, Result};

impl Repo {
    /// How many commits `local` has that `upstream` lacks, and the other way round.
    pub fn ahead_behind(&self, local: Oid, upstream: Oid) -> Result<(usize, usize)> {
        self.inner
            .graph_ahead_behind(local.raw(), upstream.raw())
            .map_err(GitError::git(format!(
                "cannot compare {local} with {upstream}"
            )))
    }

    /// The best common ancestor of two commits, `None` for unrelated histories.
    pub fn merge_base(&self, a: Oid, b: Oid) -> Result<Option<Oid>> {
        match self.inner.merge_base(a.raw(), b.raw()) {
            Ok(o) => Ok(Some(Oid::from(o))),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(GitError::git(format!(
                "cannot find a merge base of {a} and {b}"
            ))(e)),
        }
    }

    /// The commits reachable from `tip` but not from `hide` (every one when `None`), newest
    /// first. (`commits_between` in `worktree.rs` is the oldest-first twin for a known base.)
    pub fn commits_not_in(&self, tip: Oid, hide: Option<Oid>) -> Result<Vec<Oid>> {
        let what = || format!("cannot walk the history of {tip}");
        let mut walk = self.inner.revwalk().map_err(GitError::git(what()))?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL)
            .map_err(GitError::git(what()))?;
        walk.push(tip.raw()).map_err(GitError::git(what()))?;
        if let Some(h) = hide {
            walk.hide(h.raw()).map_err(GitError::git(what()))?;
        }
        walk.map(|r| r.map(Oid::from).map_err(GitError::git(what())))
            .collect()
    }

    /// Points `name` at `oid` whatever it pointed at before. For tracking refs and tombstones
    /// only, never for run refs.
    pub fn set_ref(&self, name: &str, oid: Oid, message: &str) -> Result<()> {
        self.past_stale_locks(&[name], || {
            self.inner
                .reference(name, oid.raw(), true, message)
                .map(|_| ())
        })
        .map_err(GitError::git(format!("cannot update ref {name}")))
    }

    /// Deletes `name` (and its reflog); `false` when there was no such ref.
    pub fn delete_ref(&self, name: &str) -> Result<bool> {
        match self.inner.find_reference(name) {
            Ok(mut r) => {
                self.past_stale_locks(&[name], || r.delete())
                    .map_err(GitError::git(format!("cannot delete ref {name}")))?;
                Ok(true)
            }
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(false),
            Err(e) => Err(GitError::git(format!("cannot read ref {name}"))(e)),
        }
    }

    /// The branch `HEAD` points at (`main` for `refs/heads/main`, also when it has no commit
    /// yet), `None` when detached.
    pub fn current_branch(&self) -> Result<Option<BranchName>> {
        match self.inner.find_reference("HEAD") {
            Ok(head) => Ok(head
                .symbolic_target()
                .ok()
                .flatten()
                .and_then(|t| RefName::from_git(t).branch())),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(GitError::git("cannot read HEAD")(e)),
        }
    }

    /// The names of the configured remotes.
    pub fn remote_names(&self) -> Result<Vec<String>> {
        let names = self
            .inner
            .remotes()
            .map_err(GitError::git("cannot list remotes"))?;
        Ok(names
            .iter()
            .filter_map(|n| n.ok().flatten())
            .map(str::to_string)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::temp_repo;
    use super::super::{Identity, Repo};
    use super::*;

    fn commit(repo: &Repo, msg: &str, parents: &[Oid]) -> Oid {
        let t = repo.empty_tree().unwrap();
        repo.write_commit(
            t,
            parents,
            msg,
            &Identity::fallback(),
            chrono::DateTime::UNIX_EPOCH,
        )
        .unwrap()
    }

    #[test]
    fn counts_bases_and_walks() {
        let (_d, repo) = temp_repo();
        let a = commit(&repo, "a", &[]);
        let b = commit(&repo, "b", &[a]);
        let c = commit(&repo, "c", &[b]);
        let d = commit(&repo, "d", &[a]);
        let u = commit(&repo, "unrelated", &[]);
        assert_eq!(repo.ahead_behind(c, d).unwrap(), (2, 1));
        assert_eq!(repo.merge_base(c, d).unwrap(), Some(a));
        assert_eq!(repo.merge_base(c, u).unwrap(), None);
        assert_eq!(repo.commits_not_in(c, Some(a)).unwrap(), vec![c, b]);
        assert_eq!(repo.commits_not_in(c, None).unwrap().len(), 3);
    }

    #[test]
    fn set_and_delete_refs() {
        let (_d, repo) = temp_repo();
        let a = commit(&repo, "a", &[]);
        let b = commit(&repo, "b", &[]);
        let name = "refs/pitboss-remotes/o/grind/x";
        repo.set_ref(name, a, "t").unwrap();
        repo.set_ref(name, b, "t").unwrap();
        assert_eq!(repo.ref_target(name).unwrap(), Some(b));
        assert!(repo.delete_ref(name).unwrap());
        assert!(!repo.delete_ref(name).unwrap());
        // A fresh repository's HEAD names its unborn branch.
        assert!(repo.current_branch().unwrap().is_some());
        assert!(repo.remote_names().unwrap().is_empty());
    }
}
