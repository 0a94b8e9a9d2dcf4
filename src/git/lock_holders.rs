//! Who may still be holding a ref's `.lock` file, before anyone removes it.
//!
//! A lock's age says nothing about its writer: `git update-ref --stdin` holds its locks from
//! `prepare` until `commit` for as long as whoever drives it likes, and git closes a lock
//! file's descriptor as soon as it has written the new value, so the file is not among any
//! process's open files either (seen with git 2.47: a prepared transaction's `<ref>.lock` is open
//! in no `/proc/*/fd`). Removing such a lock let our write through and made git's `commit` fail,
//! leaving a reflog line for a value the ref never had.
//!
//! So a lock is taken for abandoned only when nothing could be holding it: no process has the
//! file open, and no git process is at work in this repository (its working directory inside
//! the repository, its work trees or its git directory, or its `GIT_DIR` there). Processes are
//! found in `/proc` (Linux). Where there is no `/proc`, or a git process cannot be inspected,
//! the answer is "cannot tell", and the lock is left alone and named instead.

use std::path::{Path, PathBuf};

/// Who may be holding a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Holder {
    /// Nothing could be holding it: its writer is gone.
    Nobody,
    /// This process may hold it (what and why, for the message).
    Process { pid: u32, why: String },
    /// We cannot tell (no `/proc`, or a process we may not inspect).
    Unknown(String),
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Holder::Nobody => f.write_str("no process holds it"),
            Holder::Process { pid, why } => write!(f, "process {pid} {why}"),
            Holder::Unknown(why) => f.write_str(why),
        }
    }
}

/// Looks for a process that may hold `lock`, a lock file in the repository whose directories
/// (work trees, git directory, common directory) are `repo_dirs`. This process is not counted.
pub(crate) fn lock_holder(lock: &Path, repo_dirs: &[PathBuf]) -> Holder {
    let proc = Path::new("/proc");
    if !proc.join("self/fd").is_dir() {
        return Holder::Unknown("the processes of this system cannot be inspected".into());
    }
    let Ok(entries) = std::fs::read_dir(proc) else {
        return Holder::Unknown("/proc cannot be read".into());
    };
    let lock = canonical(lock);
    let dirs: Vec<PathBuf> = repo_dirs.iter().map(|d| canonical(d)).collect();
    let me = std::process::id();
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let dir = e.path();
        if has_open(&dir, &lock) {
            return Holder::Process {
                pid,
                why: format!("({}) has it open", comm(&dir)),
            };
        }
        if let Some(why) = git_at_work(&dir, &dirs) {
            return Holder::Process { pid, why };
        }
    }
    Holder::Nobody
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

fn comm(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("comm"))
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Whether the process has `lock` open (a link in `/proc/<pid>/fd` names it).
fn has_open(dir: &Path, lock: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(dir.join("fd")) else {
        return false;
    };
    fds.flatten()
        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == lock))
}

/// Why the process may be a git writing to this repository, or `None` when it is not.
fn git_at_work(dir: &Path, repo_dirs: &[PathBuf]) -> Option<String> {
    let name = comm(dir);
    // `git-pitboss` writers take the shared writers lock around their ref updates instead.
    if !name.starts_with("git") || name.starts_with("git-pitboss") {
        return None;
    }
    let args: Vec<String> = std::fs::read(dir.join("cmdline"))
        .map(|b| {
            b.split(|&c| c == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default();
    if is_pitboss_wrapper(&args) {
        // `git pitboss …`: git waiting for its git-pitboss child.
        return None;
    }
    let inside = |p: &Path| repo_dirs.iter().any(|d| p.starts_with(d));
    let shown = args.join(" ");
    match std::fs::read_link(dir.join("cwd")) {
        Ok(cwd) if inside(&cwd) => {
            return Some(format!("(`{shown}`) is running in this repository"));
        }
        Ok(_) => {}
        // Gone meanwhile.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(_) => {
            return Some(format!(
                "(`{shown}`) is a git process whose directory cannot be inspected"
            ));
        }
    }
    let environ = std::fs::read(dir.join("environ")).unwrap_or_default();
    let git_dir = environ
        .split(|&c| c == 0)
        .find_map(|v| v.strip_prefix(b"GIT_DIR="))
        .map(|v| PathBuf::from(String::from_utf8_lossy(v).into_owned()));
    match git_dir {
        Some(d) if inside(&canonical(&d)) => {
            Some(format!("(`{shown}`) is working on this repository"))
        }
        _ => None,
    }
}

/// Whether `git …` arguments run the `pitboss` subcommand (after git's own options).
fn is_pitboss_wrapper(args: &[String]) -> bool {
    let mut rest = args.iter().skip(1);
    while let Some(a) = rest.next() {
        match a.as_str() {
            "-C" | "-c" | "--git-dir" | "--work-tree" | "--namespace" | "--config-env" => {
                rest.next();
            }
            o if o.starts_with('-') => {}
            sub => return sub == "pitboss",
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pitboss_wrappers_are_told_apart() {
        let v = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
        assert!(is_pitboss_wrapper(&v("git pitboss record x")));
        assert!(is_pitboss_wrapper(&v(
            "git -C /r -c a=b --no-pager pitboss ls"
        )));
        assert!(!is_pitboss_wrapper(&v("git update-ref --stdin")));
        assert!(!is_pitboss_wrapper(&v("git -C pitboss log")));
        assert!(!is_pitboss_wrapper(&v("git")));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn an_open_lock_has_a_holder_and_a_closed_one_none() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("x.lock");
        std::fs::write(&lock, b"").unwrap();
        // A child process that keeps the file open.
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg("exec 3<\"$0\"; exec sleep 30")
            .arg(&lock)
            .current_dir("/")
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let holder = loop {
            let h = lock_holder(&lock, &[dir.path().join("repo")]);
            if h != Holder::Nobody || std::time::Instant::now() > deadline {
                break h;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert!(
            matches!(&holder, Holder::Process { pid, .. } if *pid == child.id()),
            "{holder:?}"
        );
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(
            lock_holder(&lock, &[dir.path().join("repo")]),
            Holder::Nobody
        );
    }
}
