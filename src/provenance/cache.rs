//! The on-disk cache of the provenance index: one JSON file under
//! `<git-common-dir>/pitboss/cache/`, shared by every worktree of the repository.
//!
//! It only ever saves work: a missing, unreadable or older-format file is rebuilt from the
//! run refs, and a failed write loses nothing but time. Writes go to a temporary file renamed
//! into place, so a reader never sees half a file.

use std::path::{Path, PathBuf};

use serde::{Serialize, de::DeserializeOwned};

/// Bumped whenever the cached shapes or their meaning change; an older file is ignored and
/// rebuilt (2: a session's own commits no longer cross other sessions' commits).
pub(crate) const FORMAT: u32 = 2;

/// Where the cache lives.
pub(crate) fn cache_path(common_dir: &Path) -> PathBuf {
    common_dir
        .join("pitboss")
        .join("cache")
        .join("provenance.json")
}

/// The cached value, `None` when there is none usable.
pub(crate) fn load<T: DeserializeOwned>(path: &Path) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Saves the value; best effort (see the module comment).
pub(crate) fn save<T: Serialize>(path: &Path, value: &T) {
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) else {
        return;
    };
    if serde_json::to_writer(std::io::BufWriter::new(tmp.as_file_mut()), value).is_ok() {
        let _ = tmp.persist(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_ignores_garbage() {
        let d = tempfile::tempdir().unwrap();
        let p = cache_path(d.path());
        assert_eq!(load::<Vec<u32>>(&p), None);
        save(&p, &vec![1u32, 2]);
        assert_eq!(load::<Vec<u32>>(&p), Some(vec![1, 2]));
        std::fs::write(&p, "{not json").unwrap();
        assert_eq!(load::<Vec<u32>>(&p), None);
    }
}
