//! The parts of a git directory that run code as the user: `hooks/` (every commit, push and
//! checkout runs them), `config` (`core.hooksPath`, `core.fsmonitor`, `core.sshCommand`,
//! aliases, filters: any plain `git status` runs what it names), `info/` (attributes naming
//! filters and drivers), and the worktrees' `config.worktree`. An agent works in a worktree of
//! the user's repository, so without a sandbox it can write all of them; what it writes then
//! runs as the user through `git pitboss push`, `pr`, `sync` and every `git` they type.
//!
//! [`Repo::snapshot_settings`] copies them (a few kilobytes) before the agent runs;
//! [`SettingsSnapshot::restore`] puts back whatever differs afterwards (added files removed,
//! changed or deleted ones written again, modes included) and names what it found.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{GitError, Repo, Result};

/// Directories of the common git directory kept whole.
const DIRS: [&str; 2] = ["hooks", "info"];
/// Files of the common git directory kept.
const FILES: [&str; 2] = ["config", "config.worktree"];

/// One kept path as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kept {
    Dir,
    File { bytes: Vec<u8>, mode: u32 },
    Link(PathBuf),
}

/// The settings of a repository's common git directory at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsSnapshot {
    root: PathBuf,
    kept: BTreeMap<String, Kept>,
}

impl Repo {
    /// The common git directory's hooks, config and info as they are now.
    pub fn snapshot_settings(&self) -> Result<SettingsSnapshot> {
        SettingsSnapshot::take(self.common_dir())
    }
}

impl SettingsSnapshot {
    fn take(root: &Path) -> Result<SettingsSnapshot> {
        let mut kept = BTreeMap::new();
        for f in FILES {
            read(root, f, &mut kept)?;
        }
        for d in DIRS {
            read(root, d, &mut kept)?;
        }
        // Each linked worktree's own config (`extensions.worktreeConfig`).
        let admin = root.join("worktrees");
        if let Ok(names) = std::fs::read_dir(&admin) {
            for name in names.flatten() {
                let rel = format!(
                    "worktrees/{}/config.worktree",
                    name.file_name().to_string_lossy()
                );
                read(root, &rel, &mut kept)?;
            }
        }
        Ok(SettingsSnapshot {
            root: root.to_path_buf(),
            kept,
        })
    }

    /// Puts back every kept path that differs now, and names each (`hooks/pre-push (added)`,
    /// `config (changed)`, `hooks/post-checkout (deleted)`), sorted. Empty: nothing changed.
    pub fn restore(&self) -> Result<Vec<String>> {
        let now = SettingsSnapshot::take(&self.root)?;
        if now.kept == self.kept {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        // Added paths go first, deepest first, so a directory is empty when it goes.
        for (rel, what) in now.kept.iter().rev() {
            if !self.kept.contains_key(rel) {
                remove(&self.root.join(rel), what)?;
                found.push(format!("{rel} (added)"));
            }
        }
        // Then what was there, parents before children (the map's order).
        for (rel, was) in &self.kept {
            let state = match now.kept.get(rel) {
                Some(is) if is == was => continue,
                Some(is) => {
                    if !matches!((is, was), (Kept::Dir, Kept::Dir)) {
                        remove(&self.root.join(rel), is)?;
                    }
                    "changed"
                }
                None => "deleted",
            };
            write(&self.root.join(rel), was)?;
            if !matches!(was, Kept::Dir) || state == "deleted" {
                found.push(format!("{rel} ({state})"));
            }
        }
        found.sort();
        Ok(found)
    }
}

/// Adds `rel` under `root` (and, for a directory, everything in it) to `kept`; absent is fine.
fn read(root: &Path, rel: &str, kept: &mut BTreeMap<String, Kept>) -> Result<()> {
    let path = root.join(rel);
    let what = || format!("cannot read {}", path.display());
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(GitError::io(what())(e)),
    };
    let ty = meta.file_type();
    if ty.is_symlink() {
        let to = std::fs::read_link(&path).map_err(GitError::io(what()))?;
        kept.insert(rel.to_string(), Kept::Link(to));
    } else if ty.is_dir() {
        kept.insert(rel.to_string(), Kept::Dir);
        for e in std::fs::read_dir(&path).map_err(GitError::io(what()))? {
            let e = e.map_err(GitError::io(what()))?;
            let child = format!("{rel}/{}", e.file_name().to_string_lossy());
            read(root, &child, kept)?;
        }
    } else {
        let bytes = std::fs::read(&path).map_err(GitError::io(what()))?;
        kept.insert(
            rel.to_string(),
            Kept::File {
                bytes,
                mode: mode(&meta),
            },
        );
    }
    Ok(())
}

#[cfg(unix)]
fn mode(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode(_: &std::fs::Metadata) -> u32 {
    0
}

fn remove(path: &Path, what: &Kept) -> Result<()> {
    let res = match what {
        Kept::Dir => std::fs::remove_dir_all(path),
        _ => std::fs::remove_file(path),
    };
    match res {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(GitError::io(format!("cannot remove {}", path.display()))(e))
        }
        _ => Ok(()),
    }
}

fn write(path: &Path, was: &Kept) -> Result<()> {
    let what = || format!("cannot put back {}", path.display());
    match was {
        Kept::Dir => std::fs::create_dir_all(path).map_err(GitError::io(what())),
        Kept::File { bytes, mode: m } => {
            std::fs::write(path, bytes).map_err(GitError::io(what()))?;
            set_mode(path, *m).map_err(GitError::io(what()))
        }
        Kept::Link(to) => link(to, path).map_err(GitError::io(what())),
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, m: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(m))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn link(to: &Path, path: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(to, path)
}

#[cfg(not(unix))]
fn link(_: &Path, _: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_an_agent_adds_changes_or_deletes_is_put_back_and_named() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        std::fs::create_dir_all(root.join("hooks")).unwrap();
        std::fs::write(root.join("config"), "[core]\n").unwrap();
        std::fs::write(root.join("hooks/pre-commit.sample"), "#!/bin/sh\n").unwrap();
        let before = SettingsSnapshot::take(root).unwrap();
        assert_eq!(before.restore().unwrap(), Vec::<String>::new());
        std::fs::write(root.join("config"), "[core]\nfsmonitor = evil\n").unwrap();
        std::fs::remove_file(root.join("hooks/pre-commit.sample")).unwrap();
        std::fs::create_dir_all(root.join("info")).unwrap();
        std::fs::write(root.join("info/attributes"), "* filter=x\n").unwrap();
        std::fs::write(root.join("hooks/pre-push"), "evil\n").unwrap();
        assert_eq!(
            before.restore().unwrap(),
            [
                "config (changed)",
                "hooks/pre-commit.sample (deleted)",
                "hooks/pre-push (added)",
                "info (added)",
                "info/attributes (added)",
            ]
        );
        assert_eq!(SettingsSnapshot::take(root).unwrap(), before);
    }
}
