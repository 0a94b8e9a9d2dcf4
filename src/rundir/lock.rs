//! One live grind per run: an advisory lock on `<git-common-dir>/pitboss/locks/<run-id>.lock`
//! ([`super::lock_file`]).
//!
//! The lock is an OS file lock (`flock`), released by the kernel when the process dies, so a
//! crashed or killed grind never leaves a lock that blocks its `--resume`. The file holds the
//! holder's pid, only to tell a second grind who holds it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LockError {
    #[error("run {run} is already being ground by process {pid}")]
    Held { run: String, pid: String },
    #[error("cannot use the run lock {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A held run lock; dropping it (or dying) releases it.
#[derive(Debug)]
pub(crate) struct RunLock {
    file: File,
    pub path: PathBuf,
}

impl RunLock {
    /// Takes the lock of `run` in `common_dir`, or says who holds it.
    pub(crate) fn acquire(common_dir: &Path, run: &str, pid: u32) -> Result<RunLock, LockError> {
        let dir = super::locks_dir(common_dir);
        let path = super::lock_file(common_dir, run);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io)?;
        if file.try_lock().is_err() {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let pid = holder.trim();
            return Err(LockError::Held {
                run: run.to_string(),
                pid: if pid.is_empty() {
                    "(unknown)".into()
                } else {
                    pid.to_string()
                },
            });
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{pid}").map_err(io)?;
        Ok(RunLock { file, path })
    }

    /// The pid of the live grind that holds `run`'s lock (`Some("(unknown)")` when the file
    /// does not say), or `None` when no process holds it: a run whose state says `running`
    /// and whose lock is free was interrupted (its grind died).
    ///
    /// NB: the probe takes a shared lock for an instant; a grind that starts in exactly that
    /// instant is refused as if the run were held, and says so (it never runs twice).
    pub(crate) fn holder(common_dir: &Path, run: &str) -> Option<String> {
        let mut file = File::open(super::lock_file(common_dir, run)).ok()?;
        if file.try_lock_shared().is_ok() {
            let _ = file.unlock();
            return None;
        }
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let pid = holder.trim();
        Some(if pid.is_empty() {
            "(unknown)".into()
        } else {
            pid.to_string()
        })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_with_the_pid_and_release_frees_it() {
        let dir = tempfile::tempdir().unwrap();
        let a = RunLock::acquire(dir.path(), "r1", 4242).unwrap();
        match RunLock::acquire(dir.path(), "r1", 1) {
            Err(LockError::Held { pid, .. }) => assert_eq!(pid, "4242"),
            other => panic!("{other:?}"),
        }
        // Another run is independent.
        let _b = RunLock::acquire(dir.path(), "r2", 1).unwrap();
        assert_eq!(RunLock::holder(dir.path(), "r1").as_deref(), Some("4242"));
        assert_eq!(RunLock::holder(dir.path(), "r3"), None, "never locked");
        drop(a);
        assert_eq!(RunLock::holder(dir.path(), "r1"), None, "released");
        RunLock::acquire(dir.path(), "r1", 7).unwrap();
    }
}
