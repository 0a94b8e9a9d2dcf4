//! Every ref write pitboss makes, past a stale `.lock`. A writer killed inside a ref update
//! (a grind killed in a landing's compare-and-swap, a gc killed deleting a ref) leaves
//! `<ref>.lock`, or `index.lock`/`HEAD.lock` in a work tree's git directory, and libgit2 then
//! refuses that ref for good: each later landing would fail as a race, for the rest of the run.
//! The run ref's rule applies to them all ([`Repo::check_stale_ref_lock`]): a lock file that is
//! old enough and that no process holds is removed, and the write is tried again. A lock that
//! is still young is waited on until it is old enough to judge, unless someone holds it: then
//! it is a live writer, and the caller sees `Locked` as before (a race to retry, or an error
//! naming the file).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Repo;
use super::refs::STALE_LOCK_AGE;

/// How many stale locks one write clears before it gives up (a ref write takes at most two
/// lock files, the ref's and `packed-refs`; one more for a lock that reappears).
const CLEARS: usize = 3;

impl Repo {
    /// Runs the libgit2 write `op`; when it fails as `Locked` and one of the lock files a write
    /// of `refs` (full ref names, plus this work tree's `index` and `HEAD`) can take is stale,
    /// removes it and runs `op` again.
    pub(super) fn past_stale_locks<T>(
        &self,
        refs: &[&str],
        mut op: impl FnMut() -> std::result::Result<T, git2::Error>,
    ) -> std::result::Result<T, git2::Error> {
        let mut res = op();
        for _ in 0..CLEARS {
            match &res {
                Err(e) if e.code() == git2::ErrorCode::Locked => {}
                _ => return res,
            }
            if !self.clear_one_stale_lock(&self.lock_files(refs)) {
                return res;
            }
            res = op();
        }
        res
    }

    /// The lock files a write of `refs` (and of this work tree's index or HEAD) can leave.
    fn lock_files(&self, refs: &[&str]) -> Vec<PathBuf> {
        let common = self.common_dir();
        let mut files: Vec<PathBuf> = refs
            .iter()
            .filter(|r| !r.is_empty())
            .map(|r| common.join(format!("{r}.lock")))
            .collect();
        files.push(common.join("packed-refs.lock"));
        files.push(self.git_dir().join("index.lock"));
        files.push(self.git_dir().join("HEAD.lock"));
        files
    }

    /// Removes the first of `files` that exists and is stale, waiting (a few seconds at most)
    /// for a young one that nobody holds to be old enough. False when none was removed.
    fn clear_one_stale_lock(&self, files: &[PathBuf]) -> bool {
        for path in files.iter().filter(|p| p.exists()) {
            match self.check_stale_lock_file(path) {
                Ok(Some(info)) if info.removed => {
                    tracing::debug!(target: "pitboss::lock", path = %path.display(), age_secs = info.age.as_secs(), "removed a stale lock");
                    return true;
                }
                // Gone meanwhile: its writer finished.
                Ok(None) => return true,
                Ok(Some(info)) if info.holder.is_none() && info.age < STALE_LOCK_AGE => {
                    if self.lock_held(path) {
                        return false;
                    }
                    let wait = STALE_LOCK_AGE - info.age + Duration::from_millis(50);
                    tracing::debug!(target: "pitboss::lock", path = %path.display(), wait_ms = wait.as_millis() as u64, "waiting on a young lock nobody holds");
                    std::thread::sleep(wait);
                    return matches!(self.check_stale_lock_file(path), Ok(Some(i)) if i.removed)
                        || !path.exists();
                }
                _ => {}
            }
        }
        false
    }

    /// Whether a process (a pitboss writer, a git process) may hold `path` right now.
    fn lock_held(&self, path: &Path) -> bool {
        self.lock_holder_now(path).is_some()
    }
}
