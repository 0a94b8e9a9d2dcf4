//! Branches and worktrees for grind sessions: the run branch, slot worktrees made and pruned
//! through git2, and the git side of a session's outcome (did HEAD move, is the tree dirty,
//! commit the leftovers, save the work as a patch, reset).
//!
//! NB (libgit2 worktrees): a worktree name cannot contain `/`; its path must not exist but its
//! parent must; a failed add leaves a stale `.git/worktrees/<name>` that blocks a retry with
//! the same name, so we prune it first; prune with `working_tree` deletes uncommitted work
//! without a word, so callers save it before they remove a worktree.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{BranchName, GitError, Identity, Oid, Repo, Result};

/// What `--base` resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseRev {
    pub commit: Oid,
    /// The branch name (`main`) when the rev named a local branch or HEAD is on one.
    pub branch: Option<String>,
}

/// Why a base cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BaseError {
    #[error("the repository has no commits yet")]
    NoCommits,
    #[error("HEAD is detached")]
    Detached,
    #[error("{0:?} does not name a commit")]
    NotFound(String),
    #[error(transparent)]
    Git(#[from] GitError),
}

/// The git side of a finished session, seen from its worktree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorktreeState {
    pub head: Oid,
    /// Tracked changes or untracked files (ignored files do not count).
    pub dirty: bool,
}

impl Repo {
    /// Resolves `--base`: `None` means HEAD, which must be on a branch.
    pub fn resolve_base(&self, rev: Option<&str>) -> std::result::Result<BaseRev, BaseError> {
        match rev {
            None => {
                let head = match self.inner.head() {
                    Ok(h) => h,
                    Err(e)
                        if e.code() == git2::ErrorCode::UnbornBranch
                            || e.code() == git2::ErrorCode::NotFound =>
                    {
                        return Err(BaseError::NoCommits);
                    }
                    Err(e) => return Err(GitError::git("cannot read HEAD")(e).into()),
                };
                if !head.is_branch() {
                    return Err(BaseError::Detached);
                }
                let commit = head
                    .peel_to_commit()
                    .map_err(GitError::git("cannot read the commit at HEAD"))?
                    .id();
                Ok(BaseRev {
                    commit: Oid::from(commit),
                    branch: head.shorthand().ok().map(str::to_string),
                })
            }
            Some(rev) => {
                let empty = self.inner.is_empty().map_err(GitError::git(
                    "cannot tell whether the repository has commits",
                ))?;
                if empty {
                    return Err(BaseError::NoCommits);
                }
                let obj = self
                    .inner
                    .revparse_single(rev)
                    .map_err(|_| BaseError::NotFound(rev.to_string()))?;
                let commit = obj
                    .peel_to_commit()
                    .map_err(|_| BaseError::NotFound(rev.to_string()))?
                    .id();
                let branch = self
                    .inner
                    .find_branch(rev, git2::BranchType::Local)
                    .ok()
                    .map(|_| rev.to_string());
                Ok(BaseRev {
                    commit: Oid::from(commit),
                    branch,
                })
            }
        }
    }

    /// Creates `refs/heads/<name>` at `target`; refuses when it exists.
    pub fn create_branch(&self, name: &BranchName, target: Oid) -> Result<()> {
        let commit = self
            .inner
            .find_commit(target.raw())
            .map_err(GitError::git(format!("cannot read commit {target}")))?;
        let full = name.ref_name();
        self.past_stale_locks(&[full.as_str()], || {
            self.inner.branch(name.as_str(), &commit, false).map(|_| ())
        })
        .map_err(GitError::git(format!("cannot create branch {name}")))?;
        Ok(())
    }

    /// The commit a local branch points at, `None` when there is no such branch.
    pub fn branch_tip(&self, name: &BranchName) -> Result<Option<Oid>> {
        self.ref_target(name.ref_name().as_str())
    }

    /// Adds a worktree called `name` at `path` with `branch` checked out. A stale registration
    /// of the same name (from an earlier failed add) is pruned first.
    pub fn add_worktree(&self, name: &str, path: &Path, branch: &BranchName) -> Result<()> {
        if let Ok(wt) = self.inner.find_worktree(name)
            && wt.validate().is_err()
        {
            let _ = wt.prune(Some(
                git2::WorktreePruneOptions::new()
                    .valid(true)
                    .working_tree(true),
            ));
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(GitError::io(format!("cannot create {}", parent.display())))?;
        }
        let reference = self
            .inner
            .find_reference(branch.ref_name().as_str())
            .map_err(GitError::git(format!("cannot find branch {branch}")))?;
        let mut opts = git2::WorktreeAddOptions::new();
        opts.reference(Some(&reference));
        self.inner
            .worktree(name, path, Some(&opts))
            .map_err(GitError::git(format!(
                "cannot add worktree {name} at {}",
                path.display()
            )))?;
        Ok(())
    }

    /// The registered path of worktree `name`, when it exists and is valid.
    pub fn worktree_path(&self, name: &str) -> Option<PathBuf> {
        let wt = self.inner.find_worktree(name).ok()?;
        wt.validate().ok()?;
        Some(wt.path().to_path_buf())
    }

    /// The path worktree `name` is registered at, whether or not its directory is still there.
    pub fn worktree_registered_path(&self, name: &str) -> Option<PathBuf> {
        let wt = self.inner.find_worktree(name).ok()?;
        Some(wt.path().to_path_buf())
    }

    /// Whether worktree `name` is locked (`git worktree lock`): git and libgit2 never prune it.
    pub fn worktree_locked(&self, name: &str) -> bool {
        self.inner
            .find_worktree(name)
            .ok()
            .is_some_and(|wt| !matches!(wt.is_locked(), Ok(git2::WorktreeLockStatus::Unlocked)))
    }

    /// Names of all registered worktrees.
    pub fn worktree_names(&self) -> Result<Vec<String>> {
        let names = self
            .inner
            .worktrees()
            .map_err(GitError::git("cannot list worktrees"))?;
        Ok(names
            .iter()
            .flatten()
            .flatten()
            .map(str::to_string)
            .collect())
    }

    /// Where a worktree being removed goes first: `<git-common-dir>/pitboss/trash/`. What is
    /// left there (by a process killed while removing) is no one's work: `git pitboss gc`
    /// deletes it.
    pub fn trash_dir(&self) -> PathBuf {
        self.common_dir().join("pitboss/trash")
    }

    /// Removes worktree `name` and its directory (callers save its work first). Missing is fine.
    ///
    /// NB: a process killed halfway must not leave half a worktree (a directory with half its
    /// files, or registered with half its admin files): git reads the deleted files as
    /// uncommitted work, and `git worktree add` refuses the path. So the directory, then the
    /// registration (`<common>/worktrees/<name>`) each go into the trash with one rename, and
    /// are deleted from there. Killed between the two, the worktree is registered with its
    /// directory gone (git's "prunable"; `git worktree add -f` puts it back, gc prunes it).
    pub fn remove_worktree(&self, name: &str) -> Result<()> {
        let Ok(wt) = self.inner.find_worktree(name) else {
            return Ok(());
        };
        let path = wt.path().to_path_buf();
        let admin = self.common_dir().join("worktrees").join(name);
        let trash = self
            .trash_dir()
            .join(format!("{name}.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&trash);
        if path.exists() {
            to_trash(&path, &trash.join("tree"));
        }
        if !(admin.is_dir() && to_trash(&admin, &trash.join("admin"))) {
            wt.prune(Some(
                git2::WorktreePruneOptions::new()
                    .valid(true)
                    .working_tree(true)
                    .locked(false),
            ))
            .map_err(GitError::git(format!("cannot remove worktree {name}")))?;
        }
        let _ = std::fs::remove_dir_all(&trash);
        let _ = std::fs::remove_dir(self.trash_dir()); // only when empty
        if path.exists() {
            let _ = std::fs::remove_dir_all(&path);
        }
        Ok(())
    }

    /// Changed and untracked (not ignored) paths of this work tree.
    fn statuses(&self) -> Result<git2::Statuses<'_>> {
        let mut opts = git2::StatusOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(false)
            .include_ignored(false);
        self.inner
            .statuses(Some(&mut opts))
            .map_err(GitError::git("cannot read the worktree status"))
    }

    /// HEAD and dirtiness of this work tree.
    pub fn worktree_state(&self) -> Result<WorktreeState> {
        let head = self
            .inner
            .head()
            .and_then(|h| h.peel_to_commit())
            .map_err(GitError::git("cannot read HEAD of the worktree"))?
            .id();
        let statuses = self.statuses()?;
        Ok(WorktreeState {
            head: Oid::from(head),
            dirty: !statuses.is_empty(),
        })
    }

    /// Commits every change in the work tree (new, modified, deleted; ignored files stay out)
    /// on top of HEAD. `None` when there was nothing to commit.
    pub fn commit_all(
        &self,
        message: &str,
        who: &Identity,
        when: DateTime<Utc>,
    ) -> Result<Option<Oid>> {
        let mut index = self
            .inner
            .index()
            .map_err(GitError::git("cannot read the index"))?;
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .map_err(GitError::git("cannot stage the worktree's changes"))?;
        index
            .update_all(["*"], None)
            .map_err(GitError::git("cannot stage the worktree's deletions"))?;
        index
            .write()
            .map_err(GitError::git("cannot write the index"))?;
        let tree = index
            .write_tree()
            .map_err(GitError::git("cannot write a tree"))?;
        let head = self.worktree_state()?.head;
        let head_tree = self.commit_info(head)?.map(|c| c.tree);
        if head_tree == Some(Oid::from(tree)) {
            return Ok(None);
        }
        let time = git2::Time::new(when.timestamp(), 0);
        let sig = git2::Signature::new(&who.name, &who.email, &time).map_err(GitError::git(
            format!("invalid identity {} <{}>", who.name, who.email),
        ))?;
        let tree = self
            .inner
            .find_tree(tree)
            .map_err(GitError::git("cannot read a tree"))?;
        let parent = self
            .inner
            .find_commit(head.raw())
            .map_err(GitError::git("cannot read HEAD"))?;
        let id = self
            .inner
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &[&parent])
            .map_err(GitError::git("cannot commit the worktree's changes"))?;
        Ok(Some(Oid::from(id)))
    }

    /// Everything in the work tree (commits since `base` and uncommitted changes, untracked
    /// files included) as one patch against `base`. Empty when there is no change.
    pub fn patch_since(&self, base: Oid) -> Result<Vec<u8>> {
        let tree = self
            .inner
            .find_commit(base.raw())
            .and_then(|c| c.tree())
            .map_err(GitError::git(format!("cannot read commit {base}")))?;
        let mut opts = git2::DiffOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .show_untracked_content(true)
            .show_binary(true);
        let diff = self
            .inner
            .diff_tree_to_workdir_with_index(Some(&tree), Some(&mut opts))
            .map_err(GitError::git("cannot diff the worktree"))?;
        let mut out = Vec::new();
        diff.print(git2::DiffFormat::Patch, |_, _, line| {
            if matches!(line.origin(), '+' | '-' | ' ') {
                out.push(line.origin() as u8);
            }
            out.extend_from_slice(line.content());
            true
        })
        .map_err(GitError::git("cannot format the worktree's diff"))?;
        Ok(out)
    }

    /// Moves HEAD's branch to `target` and makes the work tree match it exactly: tracked
    /// changes are reverted and untracked files removed (ignored files are left alone).
    pub fn reset_hard_clean(&self, target: Oid) -> Result<()> {
        let obj = self
            .inner
            .find_object(target.raw(), None)
            .map_err(GitError::git(format!("cannot read {target}")))?;
        // The branch it moves (its lock may be stale), when HEAD is on one.
        let branch = self
            .current_branch()?
            .map(|b| b.ref_name().to_string())
            .unwrap_or_default();
        self.past_stale_locks(&[&branch], || {
            self.inner.reset(&obj, git2::ResetType::Hard, None)
        })
        .map_err(GitError::git(format!(
            "cannot reset the worktree to {target}"
        )))?;
        let workdir = self.workdir().map(Path::to_path_buf);
        let statuses = self.statuses()?;
        if let Some(root) = workdir {
            for e in statuses.iter() {
                if e.status().contains(git2::Status::WT_NEW)
                    && let Ok(p) = e.path()
                {
                    let full = root.join(p);
                    let _ = if full.is_dir() {
                        std::fs::remove_dir_all(&full)
                    } else {
                        std::fs::remove_file(&full)
                    };
                }
            }
        }
        Ok(())
    }

    /// Commits reachable from `tip` but not from `base`, oldest first.
    pub fn commits_between(&self, base: Oid, tip: Oid) -> Result<Vec<Oid>> {
        let mut walk = self
            .inner
            .revwalk()
            .map_err(GitError::git("cannot walk history"))?;
        walk.push(tip.raw())
            .map_err(GitError::git(format!("cannot walk from {tip}")))?;
        walk.hide(base.raw())
            .map_err(GitError::git(format!("cannot hide {base}")))?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
            .map_err(GitError::git("cannot sort history"))?;
        walk.map(|r| {
            r.map(Oid::from)
                .map_err(GitError::git("cannot walk history"))
        })
        .collect()
    }

    /// Points HEAD of this work tree at `refs/heads/<branch>` again (an agent switched branches
    /// or detached it), leaving the index and the files as they are.
    pub fn attach_head(&self, branch: &BranchName) -> Result<()> {
        let name = branch.ref_name();
        self.past_stale_locks(&[], || self.inner.set_head(name.as_str()))
            .map_err(GitError::git(format!("cannot point HEAD at {name}")))
    }

    /// Whether `ancestor` is `descendant` or one of its ancestors.
    pub fn is_ancestor(&self, ancestor: Oid, descendant: Oid) -> Result<bool> {
        if ancestor == descendant {
            return Ok(true);
        }
        self.inner
            .graph_descendant_of(descendant.raw(), ancestor.raw())
            .map_err(GitError::git(format!(
                "cannot compare {ancestor} and {descendant}"
            )))
    }
}

/// Makes a new repository at `dir` (which must be empty or absent) holding `files`, with one
/// commit on branch `main` and the files checked out. Used by `git pitboss demo`.
pub(crate) fn init_with_files(
    dir: &Path,
    files: &[(&str, &str)],
    message: &str,
    who: &Identity,
    when: DateTime<Utc>,
) -> Result<Repo> {
    for (rel, text) in files {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)
                .map_err(GitError::io(format!("cannot create {}", parent.display())))?;
        }
        std::fs::write(&p, text).map_err(GitError::io(format!("cannot write {}", p.display())))?;
    }
    let mut opts = git2::RepositoryInitOptions::new();
    opts.initial_head("main");
    let inner = git2::Repository::init_opts(dir, &opts).map_err(GitError::git(format!(
        "cannot create a repository at {}",
        dir.display()
    )))?;
    let repo = Repo::wrap(inner);
    let mut index = repo
        .inner
        .index()
        .map_err(GitError::git("cannot read the index"))?;
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .map_err(GitError::git("cannot stage the files"))?;
    index
        .write()
        .map_err(GitError::git("cannot write the index"))?;
    let tree = index
        .write_tree()
        .map_err(GitError::git("cannot write a tree"))?;
    let commit = repo.write_commit(Oid::from(tree), &[], message, who, when)?;
    repo.cas_ref("refs/heads/main", commit, None, "initial commit")?;
    Ok(repo)
}

/// Moves `from` to `to` with one rename; false when it could not (another file system: the
/// caller deletes it in place).
fn to_trash(from: &Path, to: &Path) -> bool {
    to.parent()
        .is_some_and(|p| std::fs::create_dir_all(p).is_ok())
        && std::fs::rename(from, to).is_ok()
}

#[cfg(test)]
mod tests {
    use super::super::testutil::temp_repo;
    use super::*;

    fn seed(repo: &Repo, dir: &Path) -> Oid {
        std::fs::write(dir.join("a.txt"), "a\n").unwrap();
        let who = Identity::fallback();
        // The first commit of a repository: commit_all needs a HEAD, so build it by hand.
        let blob = repo.write_blob(b"a\n").unwrap();
        let tree = repo.write_flat_tree(&[("a.txt", blob)]).unwrap();
        let c = repo
            .write_commit(tree, &[], "init", &who, DateTime::UNIX_EPOCH)
            .unwrap();
        repo.cas_ref("refs/heads/main", c, None, "init").unwrap();
        repo.inner.set_head("refs/heads/main").unwrap();
        repo.inner
            .checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
            .unwrap();
        c
    }

    #[test]
    fn session_worktree_lifecycle() {
        let (dir, repo) = temp_repo();
        let base = seed(&repo, dir.path());
        let b = repo.resolve_base(None).unwrap();
        assert_eq!(
            b,
            BaseRev {
                commit: base,
                branch: Some("main".into())
            }
        );
        assert!(matches!(
            repo.resolve_base(Some("nope")),
            Err(BaseError::NotFound(_))
        ));
        let r1 = BranchName::new("pitboss/grind/r1").unwrap();
        repo.create_branch(&r1, base).unwrap();
        assert!(repo.create_branch(&r1, base).is_err());
        let wt_path = repo.common_dir().join("pitboss/worktrees/r1/0");
        repo.add_worktree("pitboss-r1-0", &wt_path, &r1).unwrap();
        assert_eq!(repo.worktree_path("pitboss-r1-0").unwrap(), wt_path);
        let wt = Repo::open(&wt_path).unwrap();
        assert_eq!(
            wt.worktree_state().unwrap(),
            WorktreeState {
                head: base,
                dirty: false
            }
        );

        // Leftover work is committed on the run branch.
        std::fs::write(wt_path.join("new.txt"), "new\n").unwrap();
        std::fs::write(wt_path.join("a.txt"), "changed\n").unwrap();
        assert!(wt.worktree_state().unwrap().dirty);
        let c = wt
            .commit_all("leftovers", &Identity::fallback(), DateTime::UNIX_EPOCH)
            .unwrap()
            .unwrap();
        assert_eq!(repo.branch_tip(&r1).unwrap(), Some(c));
        assert!(!wt.worktree_state().unwrap().dirty);
        assert_eq!(
            wt.commit_all("again", &Identity::fallback(), DateTime::UNIX_EPOCH)
                .unwrap(),
            None
        );
        assert_eq!(repo.commits_between(base, c).unwrap(), vec![c]);
        assert!(repo.is_ancestor(base, c).unwrap());

        // Failed work is saved as a patch and the worktree goes back.
        std::fs::write(wt_path.join("junk.txt"), "junk\n").unwrap();
        std::fs::write(wt_path.join("a.txt"), "broken\n").unwrap();
        let patch = String::from_utf8(wt.patch_since(c).unwrap()).unwrap();
        assert!(
            patch.contains("+junk") && patch.contains("-changed") && patch.contains("+broken"),
            "{patch}"
        );
        wt.reset_hard_clean(c).unwrap();
        assert!(!wt.worktree_state().unwrap().dirty);
        assert!(!wt_path.join("junk.txt").exists());
        assert_eq!(
            std::fs::read_to_string(wt_path.join("a.txt")).unwrap(),
            "changed\n"
        );

        // The user's checkout was never touched.
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a.txt")).unwrap(),
            "a\n"
        );
        assert!(!dir.path().join("new.txt").exists());

        repo.remove_worktree("pitboss-r1-0").unwrap();
        assert!(!wt_path.exists());
        assert!(repo.worktree_path("pitboss-r1-0").is_none());
    }
}
