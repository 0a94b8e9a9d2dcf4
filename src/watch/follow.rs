//! Following a file that another process appends to, line by line, as `tail -F` does: each
//! poll costs one `stat` when nothing changed; new complete lines are read from where the last
//! poll stopped; a half-written last line waits for its end; a file that shrank or was
//! replaced is read again from its start.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What a poll found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Polled {
    /// The file started anew (shrank or was replaced): what was read before is stale.
    pub restarted: bool,
    /// New complete lines, without their newline.
    pub lines: Vec<String>,
}

impl Polled {
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        !self.restarted && self.lines.is_empty()
    }
}

/// A reader of one growing file.
#[derive(Debug)]
pub(crate) struct Follower {
    path: PathBuf,
    offset: u64,
    inode: Option<u64>,
    partial: Vec<u8>,
}

impl Follower {
    pub(crate) fn new(path: &Path) -> Follower {
        Follower {
            path: path.to_path_buf(),
            offset: 0,
            inode: None,
            partial: Vec::new(),
        }
    }

    /// New lines since the last poll. A missing file is no news (a grind may not have
    /// written it yet, or the run is not live here).
    pub(crate) fn poll(&mut self) -> std::io::Result<Polled> {
        let mut out = Polled::default();
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        if self.inode.is_some_and(|i| i != meta.ino()) || meta.len() < self.offset {
            out.restarted = true;
            self.offset = 0;
            self.partial.clear();
        }
        self.inode = Some(meta.ino());
        if meta.len() == self.offset {
            return Ok(out);
        }
        let mut f = File::open(&self.path)?;
        f.seek(SeekFrom::Start(self.offset))?;
        let mut new = Vec::with_capacity((meta.len() - self.offset) as usize);
        f.read_to_end(&mut new)?;
        self.offset += new.len() as u64;
        out.lines = split_lines(&mut self.partial, &new);
        Ok(out)
    }
}

/// Appends `new` to `partial` and takes out every complete line; what follows the last newline
/// stays in `partial` for the next call. Invalid UTF-8 is replaced, never an error.
pub(crate) fn split_lines(partial: &mut Vec<u8>, new: &[u8]) -> Vec<String> {
    partial.extend_from_slice(new);
    let Some(last) = partial.iter().rposition(|&b| b == b'\n') else {
        return Vec::new();
    };
    let rest = partial.split_off(last + 1);
    let done = std::mem::replace(partial, rest);
    done[..done.len() - 1]
        .split(|&b| b == b'\n')
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn split_keeps_a_half_line_for_later() {
        let mut p = Vec::new();
        assert_eq!(split_lines(&mut p, b"a\nb"), vec!["a"]);
        assert_eq!(p, b"b");
        assert!(split_lines(&mut p, b"c").is_empty());
        assert_eq!(split_lines(&mut p, b"\n\nd\n"), vec!["bc", "", "d"]);
        assert!(p.is_empty());
    }

    #[test]
    fn follows_appends_and_restarts_when_the_file_shrinks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let mut f = Follower::new(&path);
        assert!(f.poll().unwrap().is_empty(), "no file yet: no news");
        let mut w = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        w.write_all(b"one\ntw").unwrap();
        assert_eq!(f.poll().unwrap().lines, vec!["one"]);
        assert!(f.poll().unwrap().is_empty(), "nothing new");
        w.write_all(b"o\n").unwrap();
        assert_eq!(f.poll().unwrap().lines, vec!["two"]);
        w.set_len(0).unwrap();
        w.write_all(b"x\n").unwrap();
        let p = f.poll().unwrap();
        assert!(p.restarted);
        assert_eq!(p.lines, vec!["x"]);
        // Replaced by another file (renamed over): read from its start.
        let other = dir.path().join("new");
        std::fs::write(&other, b"fresh\nlonger than before\n").unwrap();
        std::fs::rename(&other, &path).unwrap();
        let p = f.poll().unwrap();
        assert!(p.restarted);
        assert_eq!(p.lines, vec!["fresh", "longer than before"]);
    }
}
