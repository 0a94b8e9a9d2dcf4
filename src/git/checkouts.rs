//! Which work trees have a branch checked out: the main one and every linked one. A branch
//! checked out in the user's checkout cannot be checked out in a run's worktree too (git and
//! libgit2 refuse), so `grind --resume` asks first and says where.

use std::path::PathBuf;

use super::{BranchName, GitError, Repo, Result};

impl Repo {
    /// The work trees (main and linked, valid ones) whose HEAD is `refs/heads/<branch>`: each
    /// with its worktree name (`None` for the main work tree) and path.
    pub fn checkouts_of(&self, branch: &BranchName) -> Result<Vec<(Option<String>, PathBuf)>> {
        let full = branch.ref_name();
        // A work tree with no HEAD has nothing checked out; one whose HEAD cannot be read
        // might have the branch, and saying "no" would let the branch move under it.
        let on_branch = |r: &git2::Repository| -> Result<bool> {
            match r.find_reference("HEAD") {
                Ok(h) => Ok(h.symbolic_target().ok().flatten() == Some(full.as_str())),
                Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(false),
                Err(e) => Err(GitError::git(format!(
                    "cannot read HEAD of the work tree at {}",
                    r.workdir().unwrap_or(r.path()).display()
                ))(e)),
            }
        };
        let mut out = Vec::new();
        // The main work tree: the repository at the common dir (none when it is bare).
        if let Ok(main) = git2::Repository::open(self.common_dir())
            && let Some(dir) = main.workdir()
            && on_branch(&main)?
        {
            out.push((None, dir.to_path_buf()));
        }
        let names = self
            .inner
            .worktrees()
            .map_err(GitError::git("cannot list worktrees"))?;
        for name in names.iter().flatten().flatten() {
            let Ok(wt) = self.inner.find_worktree(name) else {
                continue;
            };
            if wt.validate().is_err() {
                continue;
            }
            if let Ok(r) = git2::Repository::open_from_worktree(&wt)
                && on_branch(&r)?
            {
                out.push((Some(name.to_string()), wt.path().to_path_buf()));
            }
        }
        Ok(out)
    }
}
