//! Reading the files of a run directory given to `import`, and nothing outside it.
//!
//! The directory can come from anywhere (a download, a teammate's archive), and an imported run
//! is pushed to shared remotes by default: a transcript that is a symlink to `/etc/passwd` or
//! `~/.ssh/id_ed25519` must never be read into it. So every file is opened relative to the
//! directory with no symlink anywhere on its path: each component is checked with `lstat`, the
//! file itself is opened with `O_NOFOLLOW` (a symlink swapped in after the check does not open)
//! and `O_NONBLOCK` (a FIFO swapped in does not hang us), and the path the open descriptor
//! really names (`/proc/self/fd/N`) must lie inside the directory.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

/// Why a file of the run directory was not read.
#[derive(Debug, thiserror::Error)]
pub enum DirFileError {
    #[error("{} is a symlink; import reads only regular files inside the run directory", .0.display())]
    Symlink(PathBuf),
    #[error("{} is not a regular file", .0.display())]
    NotAFile(PathBuf),
    #[error("{} resolves to {}, outside the run directory", .path.display(), .resolved.display())]
    Outside { path: PathBuf, resolved: PathBuf },
    #[error("cannot read {}: not UTF-8 text", .0.display())]
    NotUtf8(PathBuf),
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Opens files inside one directory without following symlinks.
#[derive(Debug, Clone)]
pub(crate) struct RunDirReader {
    /// The directory as the user named it (for messages).
    given: PathBuf,
    /// The directory with every symlink resolved: what every file must lie under.
    root: PathBuf,
}

impl RunDirReader {
    pub(crate) fn new(dir: &Path) -> Result<Self, DirFileError> {
        let root = dir.canonicalize().map_err(|source| DirFileError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        Ok(RunDirReader {
            given: dir.to_path_buf(),
            root,
        })
    }

    /// Opens `rel` (a path inside the directory) for reading; `Ok(None)` when it does not exist.
    pub(crate) fn open(&self, rel: &Path) -> Result<Option<File>, DirFileError> {
        let shown = self.given.join(rel);
        let parts: Vec<Component<'_>> = rel.components().collect();
        let mut cur = self.root.clone();
        for (k, part) in parts.iter().enumerate() {
            let Component::Normal(name) = part else {
                return Err(DirFileError::Outside {
                    path: shown,
                    resolved: self.root.join(rel),
                });
            };
            cur.push(name);
            let meta = match fs::symlink_metadata(&cur) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(source) => {
                    return Err(DirFileError::Io {
                        path: shown,
                        source,
                    });
                }
            };
            let here = self.given.join(parts[..=k].iter().collect::<PathBuf>());
            if meta.file_type().is_symlink() {
                return Err(DirFileError::Symlink(here));
            }
            let last = k + 1 == parts.len();
            if (last && !meta.is_file()) || (!last && !meta.is_dir()) {
                return Err(DirFileError::NotAFile(here));
            }
        }
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
            .open(&cur)
            .map_err(|source| match source.raw_os_error() {
                Some(nix::libc::ELOOP) => DirFileError::Symlink(shown.clone()),
                _ => DirFileError::Io {
                    path: shown.clone(),
                    source,
                },
            })?;
        let meta = file.metadata().map_err(|source| DirFileError::Io {
            path: shown.clone(),
            source,
        })?;
        if !meta.is_file() {
            return Err(DirFileError::NotAFile(shown));
        }
        // NB: a directory on the path swapped for a symlink between our checks and the open is
        // caught here: the descriptor names the file it really opened.
        let fd_path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        if let Ok(resolved) = fs::read_link(&fd_path)
            && !resolved.starts_with(&self.root)
        {
            return Err(DirFileError::Outside {
                path: shown,
                resolved,
            });
        }
        Ok(Some(file))
    }

    /// The bytes of `rel`; `Ok(None)` when it does not exist. (The import reads through
    /// [`Self::open`]; this is how the tests exercise its refusals.)
    #[cfg(test)]
    fn read(&self, rel: &Path) -> Result<Option<Vec<u8>>, DirFileError> {
        let Some(mut file) = self.open(rel)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        io::Read::read_to_end(&mut file, &mut bytes).map_err(|source| DirFileError::Io {
            path: self.given.join(rel),
            source,
        })?;
        Ok(Some(bytes))
    }

    /// The text of `rel`; `Ok(None)` when it does not exist.
    #[cfg(test)]
    fn read_to_string(&self, rel: &Path) -> Result<Option<String>, DirFileError> {
        match self.read(rel)? {
            None => Ok(None),
            Some(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| DirFileError::NotUtf8(self.given.join(rel))),
        }
    }

    /// `path` (under the directory as given) relative to it.
    pub(crate) fn relative<'p>(&self, path: &'p Path) -> &'p Path {
        path.strip_prefix(&self.given).unwrap_or(path)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    fn symlinks_anywhere_on_the_path_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "private").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("transcripts")).unwrap();
        std::fs::write(d.join("transcripts/ok.log"), "fine").unwrap();
        symlink(
            outside.path().join("secret"),
            d.join("transcripts/link.log"),
        )
        .unwrap();
        symlink(outside.path(), d.join("patches")).unwrap();
        let r = RunDirReader::new(d).unwrap();
        assert_eq!(
            r.read_to_string(Path::new("transcripts/ok.log"))
                .unwrap()
                .unwrap(),
            "fine"
        );
        assert!(r.read(Path::new("transcripts/none.log")).unwrap().is_none());
        for rel in ["transcripts/link.log", "patches/secret"] {
            let e = r.read(Path::new(rel)).unwrap_err();
            assert!(matches!(e, DirFileError::Symlink(_)), "{rel}: {e}");
        }
        let e = r.read(Path::new("../x")).unwrap_err();
        assert!(matches!(e, DirFileError::Outside { .. }), "{e}");
        let e = r.read(Path::new("transcripts")).unwrap_err();
        assert!(matches!(e, DirFileError::NotAFile(_)), "{e}");
    }
}
