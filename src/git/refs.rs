//! Refs: compare-and-swap updates, reflogs, listings, and stale `.lock` files.
//!
//! NB: `Repository::commit(Some(ref), …)` is not a compare-and-swap (two writers creating the
//! same ref at once both "succeed"), and a forced ref write loses concurrent appends. Callers
//! write the commit unattached and then move the ref here, with the value they built on as the
//! expected old value. A lost race is an [`CasOutcome::Raced`], not an error: the caller rebuilds.
//!
//! Stale locks: a `<ref>.lock` left by a writer that died blocks every later writer, in git
//! too. Every pitboss writer holds a *shared* OS lock on `<common-dir>/pitboss/writers.lock`
//! while it moves a ref. The OS releases it when the process dies, so it can never go stale.
//! Whoever then gets that lock *exclusively* knows no pitboss writer is in the middle of a ref
//! update. That says nothing about git's own writers, which can hold a lock for as long as they
//! like (`git update-ref --stdin` between `prepare` and `commit`): a lock is removed only when,
//! besides, no process has it open and no git process is at work in this repository
//! (`lock_holders.rs`); otherwise it is named, with who may hold it.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::lock_holders::{Holder, lock_holder};
use super::{GitError, Oid, Repo, Result};

/// How a compare-and-swap ref update ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CasOutcome {
    /// The ref now points at the new value.
    Updated,
    /// Someone else moved (or created, or locked) the ref first: re-read and rebuild.
    Raced(RaceKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RaceKind {
    /// The ref no longer has the value we expected.
    Modified,
    /// Another writer holds the ref's lock file right now.
    Locked,
    /// We expected to create the ref, but it exists.
    Exists,
}

/// A ref lock file that has outlived its writer, as far as we can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockInfo {
    pub path: PathBuf,
    pub age: Duration,
    /// True when we removed it ourselves because nothing could be holding it.
    pub removed: bool,
    /// Who may hold it, when it was kept.
    pub holder: Option<String>,
}

/// Lock files younger than this are never treated as stale.
pub(super) const STALE_LOCK_AGE: Duration = Duration::from_secs(3);

impl Repo {
    /// The commit a ref points at (peeling symbolic refs), `None` if there is no such ref.
    pub fn ref_target(&self, name: &str) -> Result<Option<Oid>> {
        match self.inner.refname_to_id(name) {
            Ok(id) => Ok(Some(Oid::from(id))),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(GitError::git(format!("cannot read ref {name}"))(e)),
        }
    }

    /// Every ref whose name starts with `prefix`, with its target, sorted by name.
    pub fn refs_with_prefix(&self, prefix: &str) -> Result<Vec<(String, Oid)>> {
        let glob = format!("{prefix}*");
        let iter = self
            .inner
            .references_glob(&glob)
            .map_err(GitError::git(format!("cannot list refs {glob}")))?;
        let mut out = Vec::new();
        for r in iter {
            let r = r.map_err(GitError::git(format!("cannot list refs {glob}")))?;
            let Ok(name) = r.name() else { continue };
            if let Some(target) = r.target() {
                out.push((name.to_string(), Oid::from(target)));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Moves `name` from `expected` (`None`: the ref must not exist yet) to `new`, writing a
    /// reflog entry with `message`.
    pub fn cas_ref(
        &self,
        name: &str,
        new: Oid,
        expected: Option<Oid>,
        message: &str,
    ) -> Result<CasOutcome> {
        let started = std::time::Instant::now();
        let outcome = self.cas_ref_once(name, new, expected, message);
        // NB: the time is formatted inside each event, so with PITBOSS_LOG off (no subscriber)
        // nothing is formatted on this path every append and landing takes.
        let ms = || format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0);
        match &outcome {
            Ok(CasOutcome::Updated) => {
                tracing::trace!(target: "pitboss::cas", r#ref = %name, %new, ms = %ms(), "ref moved")
            }
            Ok(CasOutcome::Raced(kind)) => {
                tracing::debug!(target: "pitboss::cas", r#ref = %name, ?kind, ms = %ms(), "compare-and-swap lost a race");
            }
            Err(e) => {
                tracing::debug!(target: "pitboss::cas", r#ref = %name, error = %e, ms = %ms(), "ref update failed")
            }
        }
        outcome
    }

    fn cas_ref_once(
        &self,
        name: &str,
        new: Oid,
        expected: Option<Oid>,
        message: &str,
    ) -> Result<CasOutcome> {
        let res = self.past_stale_locks(&[name], || {
            let _shared = self.writers_lock_shared();
            // NB: libgit2 writes a reflog for refs outside refs/heads only when one exists.
            self.inner.reference_ensure_log(name)?;
            match expected {
                None => self.inner.reference(name, new.raw(), false, message),
                Some(old) => {
                    self.inner
                        .reference_matching(name, new.raw(), true, old.raw(), message)
                }
            }
            .map(|_| ())
        });
        match res {
            Ok(()) => Ok(CasOutcome::Updated),
            Err(e) => match e.code() {
                git2::ErrorCode::Modified => Ok(CasOutcome::Raced(RaceKind::Modified)),
                git2::ErrorCode::Locked => Ok(CasOutcome::Raced(RaceKind::Locked)),
                git2::ErrorCode::Exists => Ok(CasOutcome::Raced(RaceKind::Exists)),
                // The ref vanished under an update: someone deleted it. Report a race so the
                // caller re-reads and finds out.
                git2::ErrorCode::NotFound if expected.is_some() => {
                    Ok(CasOutcome::Raced(RaceKind::Modified))
                }
                _ => Err(GitError::git(format!("cannot update ref {name}"))(e)),
            },
        }
    }

    /// Deletes `name` if it still points at `expected`. Returns false when it did not.
    pub fn delete_ref_matching(&self, name: &str, expected: Oid) -> Result<bool> {
        let res = self.past_stale_locks(&[name], || {
            let _shared = self.writers_lock_shared();
            let mut r = self.inner.find_reference(name)?;
            if r.target() != Some(expected.raw()) {
                return Ok(false);
            }
            r.delete().map(|()| true)
        });
        match res {
            Ok(deleted) => Ok(deleted),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(false),
            Err(e) => Err(GitError::git(format!("cannot delete ref {name}"))(e)),
        }
    }

    /// The messages of the reflog entries of `name` newer than the newest one that set it to
    /// `old`, newest first; `None` when no entry set it to `old` (or there is no reflog).
    pub fn reflog_since(&self, name: &str, old: Oid) -> Result<Option<Vec<String>>> {
        let log = self
            .inner
            .reflog(name)
            .map_err(GitError::git(format!("cannot read the reflog of {name}")))?;
        let mut out = Vec::new();
        for e in log.iter() {
            if e.id_new() == old.raw() {
                return Ok(Some(out));
            }
            out.push(String::from_utf8_lossy(e.message_bytes().unwrap_or_default()).into_owned());
        }
        Ok(None)
    }

    /// Number of entries in the reflog of `name` (0 when it has none).
    pub fn reflog_len(&self, name: &str) -> Result<usize> {
        let log = self
            .inner
            .reflog(name)
            .map_err(GitError::git(format!("cannot read the reflog of {name}")))?;
        Ok(log.len())
    }

    /// Looks at `<ref>.lock`; when it is old and no pitboss writer can be holding it, removes it.
    /// Returns `None` when there is no lock file.
    pub fn check_stale_ref_lock(&self, name: &str) -> Result<Option<LockInfo>> {
        self.check_stale_lock_file(&self.common_dir().join(format!("{name}.lock")))
    }

    /// [`Repo::check_stale_ref_lock`] for any lock file of the repository.
    pub(super) fn check_stale_lock_file(&self, path: &Path) -> Result<Option<LockInfo>> {
        let path = path.to_path_buf();
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(GitError::io(format!("cannot inspect {}", path.display()))(
                    e,
                ));
            }
        };
        // NB: a file's age is measured against the file system's own clock, not an injected one.
        let age = meta
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .unwrap_or_default();
        let mut removed = false;
        let mut holder = None;
        if age >= STALE_LOCK_AGE {
            holder = self.lock_holder_now(&path);
            if holder.is_none() {
                removed = match std::fs::remove_file(&path) {
                    Ok(()) => true,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
                    Err(_) => false,
                };
            }
        }
        Ok(Some(LockInfo {
            path,
            age,
            removed,
            holder,
        }))
    }

    /// Who may hold the lock file `path` now; `None` when nobody can.
    pub(super) fn lock_holder_now(&self, path: &Path) -> Option<String> {
        let Some(Ok(file)) = self.writers_lock_file() else {
            return Some("the pitboss writers lock cannot be opened".into());
        };
        if file.try_lock().is_err() {
            return Some("a git-pitboss writer is updating a ref".into());
        }
        // No pitboss writer is inside a ref update (they all hold the shared lock there); now
        // make sure no other process is.
        let holder = match lock_holder(path, &self.repo_dirs()) {
            Holder::Nobody => None,
            other => Some(other.to_string()),
        };
        let _ = file.unlock();
        holder
    }

    /// The directories a git process working on this repository runs in: the work tree, the
    /// git and common directories, and every linked work tree.
    fn repo_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = vec![
            self.git_dir().to_path_buf(),
            self.common_dir().to_path_buf(),
        ];
        dirs.extend(self.workdir().map(Path::to_path_buf));
        if let Ok(names) = self.inner.worktrees() {
            for name in names.iter().flatten().flatten() {
                if let Ok(wt) = self.inner.find_worktree(name) {
                    dirs.push(wt.path().to_path_buf());
                }
            }
        }
        dirs
    }

    fn writers_lock_file(&self) -> Option<&std::io::Result<File>> {
        let lock = self.writers_lock.get_or_init(|| {
            let dir = self.common_dir().join("pitboss");
            std::fs::create_dir_all(&dir)?;
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(dir.join("writers.lock"))
        });
        Some(lock)
    }

    /// Takes the shared writers lock for as long as the guard lives. Best effort: when the
    /// lock file cannot be made (a read-only repository), the update still proceeds and git's
    /// own lock files keep it safe; only stale-lock recovery is lost.
    fn writers_lock_shared(&self) -> Option<SharedGuard<'_>> {
        match self.writers_lock_file() {
            Some(Ok(f)) => {
                let started = std::time::Instant::now();
                let guard = f.lock_shared().ok().map(|()| SharedGuard(f));
                let waited = started.elapsed();
                if waited >= std::time::Duration::from_millis(1) {
                    tracing::debug!(target: "pitboss::lock", ms = %format_args!("{:.1}", waited.as_secs_f64() * 1000.0), "waited for the writers lock (gc holds it exclusively)");
                }
                guard
            }
            _ => None,
        }
    }
}

struct SharedGuard<'a>(&'a File);

impl Drop for SharedGuard<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::temp_repo;
    use super::*;

    fn some_commit(repo: &Repo, msg: &str, parent: Option<Oid>) -> Oid {
        let tree = repo.empty_tree().unwrap();
        let parents: Vec<Oid> = parent.into_iter().collect();
        repo.write_commit(
            tree,
            &parents,
            msg,
            &super::super::Identity::fallback(),
            chrono::DateTime::UNIX_EPOCH,
        )
        .unwrap()
    }

    #[test]
    fn cas_creates_updates_and_reports_races() {
        let (_d, repo) = temp_repo();
        let name = "refs/pitboss/test/x";
        let a = some_commit(&repo, "a", None);
        let b = some_commit(&repo, "b", Some(a));
        assert_eq!(
            repo.cas_ref(name, a, None, "create").unwrap(),
            CasOutcome::Updated
        );
        assert_eq!(
            repo.cas_ref(name, a, None, "create again").unwrap(),
            CasOutcome::Raced(RaceKind::Exists)
        );
        assert_eq!(
            repo.cas_ref(name, b, Some(b), "stale").unwrap(),
            CasOutcome::Raced(RaceKind::Modified)
        );
        assert_eq!(
            repo.cas_ref(name, b, Some(a), "move").unwrap(),
            CasOutcome::Updated
        );
        assert_eq!(repo.ref_target(name).unwrap(), Some(b));
        assert_eq!(repo.reflog_len(name).unwrap(), 2);
        assert_eq!(repo.refs_with_prefix("refs/pitboss/").unwrap().len(), 1);
    }

    #[test]
    fn a_held_lock_is_a_race_and_a_stale_one_is_removed() {
        let (_d, repo) = temp_repo();
        let name = "refs/pitboss/test/y";
        let a = some_commit(&repo, "a", None);
        repo.cas_ref(name, a, None, "create").unwrap();
        let b = some_commit(&repo, "b", Some(a));
        let lock = repo.common_dir().join(format!("{name}.lock"));
        std::fs::write(&lock, b"").unwrap();
        // Held (another pitboss writer is inside a ref update): a race, at once.
        let other = Repo::open(repo.workdir().unwrap()).unwrap();
        let held = other.writers_lock_shared();
        assert!(held.is_some());
        let t = std::time::Instant::now();
        assert_eq!(
            repo.cas_ref(name, b, Some(a), "move").unwrap(),
            CasOutcome::Raced(RaceKind::Locked)
        );
        assert!(t.elapsed() < STALE_LOCK_AGE, "{:?}", t.elapsed());
        drop(held);
        // Young: never removed.
        let info = repo.check_stale_ref_lock(name).unwrap().unwrap();
        assert!(!info.removed);
        // Old, and no writer holds the writers lock: removed.
        let old = SystemTime::now() - Duration::from_secs(60);
        File::options()
            .write(true)
            .open(&lock)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let info = repo.check_stale_ref_lock(name).unwrap().unwrap();
        assert!(info.removed, "{info:?}");
        assert!(!lock.exists());
        assert_eq!(
            repo.cas_ref(name, b, Some(a), "move").unwrap(),
            CasOutcome::Updated
        );
        assert_eq!(repo.check_stale_ref_lock(name).unwrap(), None);
    }

    #[test]
    fn a_young_lock_nobody_holds_is_waited_out_and_removed() {
        let (_d, repo) = temp_repo();
        let name = "refs/heads/pitboss/y";
        let a = some_commit(&repo, "a", None);
        repo.cas_ref(name, a, None, "create").unwrap();
        let b = some_commit(&repo, "b", Some(a));
        // What a grind killed inside this ref's update leaves.
        std::fs::write(repo.common_dir().join(format!("{name}.lock")), b"").unwrap();
        assert_eq!(
            repo.cas_ref(name, b, Some(a), "move").unwrap(),
            CasOutcome::Updated
        );
        assert_eq!(repo.ref_target(name).unwrap(), Some(b));
    }
}
