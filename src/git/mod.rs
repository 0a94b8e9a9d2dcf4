//! The only module that touches `git2` (house style 8).
//!
//! [`Repo`] wraps a `git2::Repository` and offers exactly the operations the rest of the crate
//! needs: opening with plain-spoken errors, identity, objects, trees and compare-and-swap ref
//! updates, and (in [`remote`]) the `git` subprocess for network work. Every error names the
//! ref, path or object it was about. `NotFound` becomes `Ok(None)`
//! wherever a caller can reasonably ask "is it there?".

mod checkouts;
mod code_merge;
mod diffstat;
mod fast_import;
mod graph;
mod intact;
mod lock_holders;
mod names;
mod objects;
mod oid;
mod porcelain;
mod provenance;
mod refs;
mod remote;
mod replay;
mod settings_guard;
mod snapshot;
mod stale_locks;
mod text_merge;
mod worktree;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub(crate) use code_merge::TreeMerge;
pub(crate) use diffstat::FileStat;
pub(crate) use fast_import::{FastImport, FileChange, FileData};
pub(crate) use names::{BranchName, RefName, short_branch};
pub use objects::TreeEdit;
pub(crate) use objects::{CommitInfo, TreeEntryKind};
pub use oid::Oid;
pub(crate) use porcelain::{PushFlag, PushLine, Rejection, parse_ls_remote, parse_push_porcelain};
pub(crate) use provenance::ChangedFile;
pub use refs::CasOutcome;
pub(crate) use refs::RaceKind;
pub(crate) use remote::{NetCommand, NetError, default_remote};
pub(crate) use replay::DriverUse;
pub use replay::{MergeDrivers, Replay};
pub(crate) use settings_guard::SettingsSnapshot;
pub(crate) use snapshot::Snapshot;
pub(crate) use worktree::{BaseError, WorktreeState, init_with_files};

/// An error from git, naming what was being done and to what.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("not a git repository (or any parent up to the filesystem root): {path}")]
    NotARepository { path: PathBuf },
    #[error(
        "{path} uses {feature}, which git-pitboss cannot read yet (libgit2 does not support it)"
    )]
    Unsupported {
        path: PathBuf,
        feature: &'static str,
    },
    #[error("{what}: {source}")]
    Git {
        what: String,
        #[source]
        source: git2::Error,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("git fast-import failed: {why}")]
    FastImport { why: String },
    /// `git blame` refused what it was asked (an unknown file, a bad revision, a bad `-L`):
    /// the question's fault, not the repository's.
    #[error("git blame failed: {why}")]
    Blame { why: String },
    #[error("commit {0} is missing from the object store")]
    MissingCommit(Oid),
}

impl GitError {
    /// Whether git2 found the ref (or file) locked by another writer.
    pub fn is_locked(&self) -> bool {
        matches!(self, GitError::Git { source, .. } if source.code() == git2::ErrorCode::Locked)
    }

    pub(crate) fn git(what: impl Into<String>) -> impl FnOnce(git2::Error) -> GitError {
        let what = what.into();
        move |source| GitError::Git { what, source }
    }
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> GitError {
        let what = what.into();
        move |source| GitError::Io { what, source }
    }
}

pub(crate) type Result<T, E = GitError> = std::result::Result<T, E>;

/// Who commits: the user's git identity, or `pitboss <pitboss@localhost>` when none is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub email: String,
}

impl Identity {
    pub fn fallback() -> Self {
        Identity {
            name: "pitboss".into(),
            email: "pitboss@localhost".into(),
        }
    }
}

/// An open repository.
pub struct Repo {
    inner: git2::Repository,
    /// Held shared while we move a ref; see [`refs`] for why.
    writers_lock: OnceLock<std::io::Result<File>>,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo")
            .field("path", &self.inner.path())
            .finish()
    }
}

impl Repo {
    /// Finds the repository containing `start` (like git does from a subdirectory).
    pub fn discover(start: &Path) -> Result<Repo> {
        Self::check_format(start)?;
        match git2::Repository::discover(start) {
            Ok(inner) => Ok(Repo::wrap(inner)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Err(GitError::NotARepository {
                path: start.to_path_buf(),
            }),
            Err(e) => Err(Self::explain_open_error(start, e)),
        }
    }

    /// Opens the repository at exactly `path` (a work tree or a git dir).
    pub fn open(path: &Path) -> Result<Repo> {
        Self::check_format(path)?;
        match git2::Repository::open(path) {
            Ok(inner) => Ok(Repo::wrap(inner)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Err(GitError::NotARepository {
                path: path.to_path_buf(),
            }),
            Err(e) => Err(Self::explain_open_error(path, e)),
        }
    }

    fn wrap(inner: git2::Repository) -> Repo {
        Repo {
            inner,
            writers_lock: OnceLock::new(),
        }
    }

    /// NB: libgit2 refuses repositories with `extensions.refStorage=reftable` or
    /// `extensions.objectFormat=sha256` with a generic "unsupported extension" message, and only
    /// once it has found them. We look at the config of the repository we are about to open
    /// first, so the user reads what the problem is and what to do about it.
    fn check_format(start: &Path) -> Result<()> {
        let Ok(path) = git2::Repository::discover_path(start, None::<&Path>) else {
            return Ok(());
        };
        let config = path.join("config");
        let Ok(cfg) = git2::Config::open(&config) else {
            return Ok(());
        };
        let get = |key: &str| cfg.get_string(key).ok().map(|v| v.to_ascii_lowercase());
        if get("extensions.refstorage").as_deref() == Some("reftable") {
            return Err(GitError::Unsupported {
                path,
                feature: "the reftable ref format (extensions.refStorage=reftable)",
            });
        }
        if get("extensions.objectformat").as_deref() == Some("sha256") {
            return Err(GitError::Unsupported {
                path,
                feature: "SHA-256 object names (extensions.objectFormat=sha256)",
            });
        }
        Ok(())
    }

    fn explain_open_error(path: &Path, e: git2::Error) -> GitError {
        let msg = e.message().to_ascii_lowercase();
        if msg.contains("refstorage") || msg.contains("reftable") {
            GitError::Unsupported {
                path: path.to_path_buf(),
                feature: "the reftable ref format (extensions.refStorage=reftable)",
            }
        } else if msg.contains("objectformat") || msg.contains("sha256") {
            GitError::Unsupported {
                path: path.to_path_buf(),
                feature: "SHA-256 object names (extensions.objectFormat=sha256)",
            }
        } else {
            GitError::Git {
                what: format!("cannot open the repository at {}", path.display()),
                source: e,
            }
        }
    }

    /// The `.git` directory of this work tree (for a linked worktree, its private dir).
    pub fn git_dir(&self) -> &Path {
        self.inner.path()
    }

    /// The directory shared by all worktrees: where refs, objects and our own state live.
    pub fn common_dir(&self) -> &Path {
        self.inner.commondir()
    }

    /// Whether this is a shallow clone (its history stops at grafted commits).
    pub fn is_shallow(&self) -> bool {
        self.inner.is_shallow()
    }

    /// The top of the work tree, `None` for a bare repository.
    pub fn workdir(&self) -> Option<&Path> {
        self.inner.workdir()
    }

    /// The user's git identity (`user.name`, `user.email`), or the pitboss fallback.
    pub fn identity(&self) -> Identity {
        let Ok(cfg) = self.inner.config() else {
            return Identity::fallback();
        };
        let name = cfg
            .get_string("user.name")
            .ok()
            .filter(|s| !s.trim().is_empty());
        let email = cfg
            .get_string("user.email")
            .ok()
            .filter(|s| !s.trim().is_empty());
        match (name, email) {
            (Some(name), Some(email)) => Identity { name, email },
            (Some(name), None) => Identity {
                name,
                email: Identity::fallback().email,
            },
            (None, Some(email)) => Identity {
                name: Identity::fallback().name,
                email,
            },
            (None, None) => Identity::fallback(),
        }
    }

    /// A string from git config, `None` when unset.
    pub fn config_string(&self, key: &str) -> Result<Option<String>> {
        let cfg = self
            .inner
            .config()
            .map_err(GitError::git("cannot read git config"))?;
        match cfg.get_string(key) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(GitError::git(format!("cannot read git config {key}"))(e)),
        }
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    use super::*;

    /// A fresh repository in a temp dir with a fixed identity.
    pub(crate) fn temp_repo() -> (tempfile::TempDir, Repo) {
        let dir = tempfile::tempdir().expect("tempdir");
        let inner = git2::Repository::init(dir.path()).expect("init");
        {
            let mut cfg = inner.config().expect("config");
            cfg.set_str("user.name", "Test User").expect("name");
            cfg.set_str("user.email", "test@example.com")
                .expect("email");
        }
        (dir, Repo::wrap(inner))
    }

    /// Runs the `git` binary in `dir` with no system or global configuration and a fixed
    /// identity, and returns its standard output; panics when git fails. For tests that check
    /// what git itself sees (here, since only git/ starts `git`).
    pub(crate) fn git_cli(dir: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("git's output is UTF-8")
    }

    /// The paths libgit2 reports as changed or untracked in the work tree at `dir`, untracked
    /// directories not entered: the view of pitboss's own dirtiness check.
    pub(crate) fn libgit2_status_paths(dir: &Path) -> Vec<String> {
        let repo = git2::Repository::open(dir).expect("open");
        let mut opts = git2::StatusOptions::new();
        opts.include_untracked(true).recurse_untracked_dirs(false);
        let st = repo.statuses(Some(&mut opts)).expect("statuses");
        st.iter()
            .filter_map(|e| e.path().ok().map(String::from))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_a_repository_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = Repo::open(dir.path()).unwrap_err();
        assert!(matches!(err, GitError::NotARepository { .. }), "{err}");
    }

    #[test]
    fn reftable_and_sha256_are_refused_plainly() {
        let dir = tempfile::tempdir().unwrap();
        for (name, ext, value) in [
            ("rt", "refstorage", "reftable"),
            ("sha", "objectformat", "sha256"),
        ] {
            let p = dir.path().join(name);
            git2::Repository::init(&p).unwrap();
            let cfg_path = p.join(".git/config");
            let mut cfg = git2::Config::open(&cfg_path).unwrap();
            cfg.set_i32("core.repositoryformatversion", 1).unwrap();
            cfg.set_str(&format!("extensions.{ext}"), value).unwrap();
            let err = Repo::discover(&p.join(".git")).unwrap_err().to_string();
            assert!(err.contains(value), "{err}");
            assert!(err.contains("cannot read"), "{err}");
        }
    }

    #[test]
    fn identity_falls_back() {
        let (_d, repo) = testutil::temp_repo();
        assert_eq!(repo.identity().name, "Test User");
        assert_eq!(Identity::fallback().email, "pitboss@localhost");
    }
}

impl Repo {
    /// Whether `path` (relative to the top of the work tree) is ignored by git here.
    pub fn is_ignored(&self, path: &str) -> Result<bool> {
        self.inner
            .is_path_ignored(std::path::Path::new(path))
            .map_err(GitError::git(format!(
                "cannot tell whether {path} is ignored"
            )))
    }

    /// Whether the file at `path` (relative to the top of the work tree) is in HEAD exactly as
    /// it is in the work tree: `false` when it is untracked, ignored, staged or edited.
    pub fn committed_as_is(&self, path: &str) -> Result<bool> {
        match self.inner.status_file(std::path::Path::new(path)) {
            Ok(status) => Ok(status.is_empty()),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(false),
            Err(e) => Err(GitError::git(format!(
                "cannot tell whether {path} is committed"
            ))(e)),
        }
    }

    /// Runs `git maintenance run --auto --quiet` at a safe point (after an import, at the end
    /// of a run), so long runs do not leave tens of thousands of loose objects. Best effort:
    /// a failure here loses nothing and is not reported.
    pub fn maintenance_auto(&self) {
        let _ = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(self.common_dir())
            .args(["maintenance", "run", "--auto", "--quiet"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// Why nothing can be written under `path` now, if the reason is its file system: read-only
/// (`EROFS`) or full (`ENOSPC`). `None` when it looks writable (or cannot be asked).
pub(crate) fn fs_condition(path: &Path) -> Option<std::io::Error> {
    use nix::sys::statvfs::{FsFlags, statvfs};
    let st = statvfs(path).ok()?;
    if st.flags().contains(FsFlags::ST_RDONLY) {
        Some(std::io::Error::from_raw_os_error(
            nix::errno::Errno::EROFS as i32,
        ))
    } else if st.blocks_available() == 0 {
        Some(std::io::Error::from_raw_os_error(
            nix::errno::Errno::ENOSPC as i32,
        ))
    } else {
        None
    }
}

/// The id git gives a blob with these bytes (`git hash-object`), written nowhere.
pub(crate) fn blob_id(bytes: &[u8]) -> String {
    git2::Oid::hash_object(git2::ObjectType::Blob, bytes)
        .map(|o| o.to_string())
        .unwrap_or_default()
}
