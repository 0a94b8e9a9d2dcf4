//! Bulk writes through `git fast-import` (DESIGN §6): an import of thousands of sessions is one
//! stream of commits into git's own bulk loader, which writes one pack, instead of a pack
//! writer of our own.
//!
//! Nothing is half-visible at any moment. fast-import runs in a private bare repository under
//! `<git-common-dir>/pitboss/import/<label>-<pid>-<random>/` and commits onto a temporary ref
//! there (`refs/pitboss/tmp/<label>-<pid>`). Only when it has finished do we move its pack into
//! the repository's `objects/pack/` (the `.idx` last: git sees a pack by its index) and hand
//! back the tip, which the caller publishes with the usual compare-and-swap; the private
//! repository, with its temporary ref, is then removed. What a failure leaves:
//!
//! - our error or a panic: fast-import is killed and the private directory removed (Drop);
//! - `git-pitboss` killed outright: the private directory, holding fast-import's own
//!   `tmp_pack_*` (or, when fast-import saw its input end early, a finished but unreferenced
//!   pack and its `fast_import_crash_<pid>` report). No ref names any of it; the next import
//!   removes every such directory whose process is gone;
//! - killed after the pack moved but before the publish: an unreferenced pack in the
//!   repository, which `git gc` drops like any unreachable object.
//!
//! The stream carries every file inline (`M 100644 inline <path>`), so no marks table grows
//! with the run, and transcripts are copied from their files as they go: our memory stays flat.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::str::FromStr;
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};

use super::{GitError, Identity, Oid, Repo, Result};

/// The content of one file in a commit.
pub enum FileData<'a> {
    Bytes(&'a [u8]),
    /// Exactly this many bytes of a reader (a transcript file), streamed.
    Reader(&'a mut dyn Read, u64),
}

/// One file a commit puts at `path` (slash-separated, a regular file).
pub struct FileChange<'a> {
    pub path: String,
    pub data: FileData<'a>,
}

/// A running `git fast-import`; see the module doc. Dropping it unfinished aborts the import.
pub struct FastImport {
    child: Child,
    input: Option<BufWriter<ChildStdin>>,
    output: BufReader<ChildStdout>,
    stderr: Option<JoinHandle<String>>,
    refname: String,
    commits: u64,
    objects_pack: PathBuf,
    /// Removed when this value is dropped, after the child has ended.
    private: tempfile::TempDir,
}

/// The directory of private import repositories.
fn imports_dir(repo: &Repo) -> PathBuf {
    repo.common_dir().join("pitboss/import")
}

impl Repo {
    /// Starts `git fast-import` for a bulk write; `label` names the private repository and
    /// temporary ref (`import-<run-id>`).
    pub fn fast_import(&self, label: &str) -> Result<FastImport> {
        let base = imports_dir(self);
        std::fs::create_dir_all(&base)
            .map_err(GitError::io(format!("cannot create {}", base.display())))?;
        sweep_stale(&base);
        let pid = std::process::id();
        let private = tempfile::Builder::new()
            .prefix(&format!("{label}-{pid}-"))
            .tempdir_in(&base)
            .map_err(GitError::io(format!(
                "cannot create a directory in {}",
                base.display()
            )))?;
        init_private(private.path()).map_err(GitError::io(format!(
            "cannot create a private repository in {}",
            private.path().display()
        )))?;
        let mut child = Command::new("git")
            // NB: below this many objects fast-import writes loose objects instead of a pack;
            // we move exactly one kind of thing into the repository: packs.
            .args(["-c", "fastimport.unpackLimit=0", "--git-dir"])
            .arg(private.path())
            .args(["fast-import", "--quiet", "--done", "--date-format=raw"])
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_OBJECT_DIRECTORY")
            .env_remove("GIT_ALTERNATE_OBJECT_DIRECTORIES")
            .env_remove("GIT_COMMON_DIR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(GitError::io("cannot run git fast-import"))?;
        let (Some(input), Some(output), Some(mut err)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(GitError::FastImport {
                why: "its pipes could not be set up".into(),
            });
        };
        // Read stderr as it comes, so a chatty failure never blocks the child on a full pipe.
        let stderr = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = (&mut err).take(64 * 1024).read_to_end(&mut s);
            let _ = std::io::copy(&mut err, &mut std::io::sink());
            String::from_utf8_lossy(&s).into_owned()
        });
        Ok(FastImport {
            child,
            input: Some(BufWriter::with_capacity(256 * 1024, input)),
            output: BufReader::new(output),
            stderr: Some(stderr),
            refname: format!("refs/pitboss/tmp/{label}-{pid}"),
            commits: 0,
            objects_pack: self.common_dir().join("objects/pack"),
            private,
        })
    }
}

impl FastImport {
    /// Adds a commit on top of the previous one (the first has no parent) whose tree is the
    /// previous tree with `files` put in place.
    pub fn commit(
        &mut self,
        message: &str,
        who: &Identity,
        when: DateTime<Utc>,
        files: &mut [FileChange<'_>],
    ) -> Result<()> {
        for s in [&who.name, &who.email] {
            if s.contains(['<', '>', '\n']) {
                return Err(GitError::FastImport {
                    why: format!("invalid identity {} <{}>", who.name, who.email),
                });
            }
        }
        self.commits += 1;
        let head = format!(
            "commit {}\nmark :{}\nauthor {name} <{email}> {t} +0000\ncommitter {name} <{email}> {t} +0000\ndata {}\n",
            self.refname,
            self.commits,
            message.len(),
            name = who.name,
            email = who.email,
            t = when.timestamp(),
        );
        let written = match self.input.as_mut() {
            Some(w) => write_commit(w, &head, message, files),
            None => Err(Unwritten::Pipe(std::io::ErrorKind::BrokenPipe.into())),
        };
        match written {
            Ok(()) => Ok(()),
            Err(Unwritten::Changed(why)) => Err(GitError::FastImport { why }),
            Err(Unwritten::Pipe(e)) => Err(self.failed(e)),
        }
    }

    /// Ends the stream, waits for fast-import, moves its pack into the repository and returns
    /// the last commit (not yet referenced by any ref of the repository).
    pub fn finish(mut self) -> Result<Oid> {
        if self.commits == 0 {
            return Err(GitError::FastImport {
                why: "nothing to import".into(),
            });
        }
        let ask = format!("get-mark :{}\n", self.commits);
        let asked = match self.input.as_mut() {
            Some(w) => w.write_all(ask.as_bytes()).and_then(|()| w.flush()),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        };
        if let Err(e) = asked {
            return Err(self.failed(e));
        }
        let mut line = String::new();
        if let Err(e) = self.output.read_line(&mut line) {
            return Err(self.failed(e));
        }
        let tip = match Oid::from_str(line.trim()) {
            Ok(oid) if !line.trim().is_empty() => oid,
            _ => {
                let answer = format!("unexpected answer {:?}", line.trim());
                return Err(self.failed(answer));
            }
        };
        let done = match self.input.as_mut() {
            Some(w) => w.write_all(b"done\n").and_then(|()| w.flush()),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        };
        if let Err(e) = done {
            return Err(self.failed(e));
        }
        drop(self.input.take());
        let status = self
            .child
            .wait()
            .map_err(GitError::io("cannot wait for git fast-import"))?;
        let stderr = self.stderr.take().and_then(|h| h.join().ok());
        if !status.success() {
            return Err(GitError::FastImport {
                why: gist(stderr.as_deref(), &status.to_string()),
            });
        }
        move_packs(
            &self.private.path().join("objects/pack"),
            &self.objects_pack,
        )?;
        Ok(tip)
    }

    /// fast-import stopped reading (or we could not write): end it and say what it said.
    /// `e`: what went wrong on our side of the pipe (an I/O error, or an answer we cannot
    /// read), said when fast-import's own stderr says nothing.
    fn failed(&mut self, e: impl std::fmt::Display) -> GitError {
        drop(self.input.take());
        let status = self.child.wait();
        let stderr = self.stderr.take().and_then(|h| h.join().ok());
        let fallback = match status {
            Ok(s) if !s.success() => format!("it stopped ({s}) while we wrote to it: {e}"),
            _ => format!("cannot write to it: {e}"),
        };
        GitError::FastImport {
            why: gist(stderr.as_deref(), &fallback),
        }
    }
}

/// Why a commit did not make it into fast-import's stream.
enum Unwritten {
    /// The pipe failed (fast-import stopped, most likely: [`FastImport::failed`] asks it why).
    Pipe(std::io::Error),
    /// A file changed size while it was copied in; the stream is now out of step.
    Changed(String),
}

impl From<std::io::Error> for Unwritten {
    fn from(e: std::io::Error) -> Self {
        Unwritten::Pipe(e)
    }
}

/// Writes one commit (`head`, the commit command up to its message) and its files into
/// fast-import's stream.
fn write_commit(
    w: &mut impl Write,
    head: &str,
    message: &str,
    files: &mut [FileChange<'_>],
) -> std::result::Result<(), Unwritten> {
    w.write_all(head.as_bytes())?;
    w.write_all(message.as_bytes())?;
    w.write_all(b"\n")?;
    for f in files.iter_mut() {
        match &mut f.data {
            FileData::Bytes(b) => {
                write!(w, "M 100644 inline {}\ndata {}\n", f.path, b.len())?;
                w.write_all(b)?;
            }
            FileData::Reader(r, len) => {
                write!(w, "M 100644 inline {}\ndata {len}\n", f.path)?;
                let copied = std::io::copy(&mut r.take(*len), w)?;
                if copied != *len {
                    // The stream is now out of step: this import cannot go on.
                    return Err(Unwritten::Changed(format!(
                        "{} was {len} bytes when the import began and {copied} bytes when it was read",
                        f.path
                    )));
                }
            }
        }
        w.write_all(b"\n")?;
    }
    w.write_all(b"\n")?;
    Ok(())
}

impl Drop for FastImport {
    fn drop(&mut self) {
        // NB: a `Child` is not ended by dropping it. Kill fast-import before the private
        // directory goes, so it cannot finish a pack in a directory we are removing.
        if self.input.is_some() || self.stderr.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The least a bare repository needs for fast-import (no templates, no hooks: nothing there
/// runs, and a nearly full disk fails on what matters).
fn init_private(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("objects/pack"))?;
    std::fs::create_dir_all(dir.join("refs/heads"))?;
    std::fs::write(dir.join("HEAD"), "ref: refs/heads/main\n")?;
    std::fs::write(
        dir.join("config"),
        "[core]\n\trepositoryformatversion = 0\n\tbare = true\n",
    )
}

/// What fast-import said, in one line: its first `fatal:` or `error:` line (it repeats itself
/// when it dies), or everything, or `fallback` when it printed nothing.
fn gist(stderr: Option<&str>, fallback: &str) -> String {
    let text: Vec<&str> = stderr
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if let Some(l) = text.iter().find_map(|l| {
        l.strip_prefix("fatal: ")
            .or_else(|| l.strip_prefix("error: "))
    }) {
        return l.to_string();
    }
    if text.is_empty() {
        fallback.to_string()
    } else {
        text.join("; ")
    }
}

/// Moves `pack-*` files from `from` to `to`, each index after its pack (git finds a pack by its
/// index), skipping packs the repository already has (a pack's name is its content's hash).
fn move_packs(from: &Path, to: &Path) -> Result<()> {
    let rd =
        std::fs::read_dir(from).map_err(GitError::io(format!("cannot read {}", from.display())))?;
    let mut names: Vec<String> = rd
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("pack-") && !n.ends_with(".keep"))
        .collect();
    // `.idx` after everything else of the same pack.
    names.sort_by_key(|n| (n.ends_with(".idx"), n.clone()));
    std::fs::create_dir_all(to).map_err(GitError::io(format!("cannot create {}", to.display())))?;
    for n in names {
        let dest = to.join(&n);
        if dest.exists() {
            continue;
        }
        std::fs::rename(from.join(&n), &dest).map_err(GitError::io(format!(
            "cannot move the imported pack into {}",
            to.display()
        )))?;
    }
    Ok(())
}

/// Removes private import directories whose process is gone (`<label>-<pid>-<random>`): what a
/// killed import left (see the module doc). Best effort.
fn sweep_stale(base: &Path) {
    let Ok(rd) = std::fs::read_dir(base) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let mut parts = name.rsplitn(3, '-');
        let (_random, pid) = (parts.next(), parts.next());
        let Some(pid) = pid.and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        if pid > 0 && !process_alive(pid) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn process_alive(pid: i32) -> bool {
    use nix::errno::Errno;
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(Errno::ESRCH) => false,
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::temp_repo;
    use super::*;

    #[test]
    fn commits_land_in_a_pack_and_nothing_else_remains() {
        let (_d, repo) = temp_repo();
        let who = Identity::fallback();
        let when = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let mut fi = repo.fast_import("import-t").unwrap();
        fi.commit(
            "first\n",
            &who,
            when,
            &mut [FileChange {
                path: "a/00/0001.jsonl".into(),
                data: FileData::Bytes(b"one\n"),
            }],
        )
        .unwrap();
        let body = b"streamed bytes";
        let mut r = &body[..];
        fi.commit(
            "second\n",
            &who,
            when,
            &mut [FileChange {
                path: "b.log".into(),
                data: FileData::Reader(&mut r, body.len() as u64),
            }],
        )
        .unwrap();
        let tip = fi.finish().unwrap();
        let info = repo.commit_info(tip).unwrap().unwrap();
        assert_eq!(info.message, "second\n");
        assert_eq!(info.time, when);
        assert_eq!(info.parents.len(), 1);
        let (blob, _) = repo
            .tree_entry(info.tree, "a/00/0001.jsonl")
            .unwrap()
            .unwrap();
        assert_eq!(repo.read_blob(blob).unwrap(), b"one\n");
        let (blob, _) = repo.tree_entry(info.tree, "b.log").unwrap().unwrap();
        assert_eq!(repo.read_blob(blob).unwrap(), body);
        // No ref, no private directory, no loose object: only a pack.
        assert!(repo.inner.references().unwrap().next().is_none());
        let left: Vec<_> = std::fs::read_dir(imports_dir(&repo)).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
        let packs: Vec<String> = std::fs::read_dir(repo.common_dir().join("objects/pack"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(packs.iter().any(|n| n.ends_with(".idx")), "{packs:?}");
        assert!(!packs.iter().any(|n| n.starts_with("tmp_")), "{packs:?}");
    }

    #[test]
    fn an_abandoned_import_leaves_nothing_and_a_dead_ones_directory_is_swept() {
        let (_d, repo) = temp_repo();
        let mut fi = repo.fast_import("import-x").unwrap();
        fi.commit("m\n", &Identity::fallback(), Utc::now(), &mut [])
            .unwrap();
        drop(fi);
        let base = imports_dir(&repo);
        assert_eq!(std::fs::read_dir(&base).unwrap().count(), 0);
        // What an import killed outright leaves, under a pid that no longer runs.
        let dead = base.join("import-y-999999999-abc123");
        std::fs::create_dir_all(dead.join("objects/pack")).unwrap();
        std::fs::write(dead.join("objects/pack/tmp_pack_XyZ"), b"half").unwrap();
        let live = base.join(format!("import-z-{}-abc123", std::process::id()));
        std::fs::create_dir_all(&live).unwrap();
        let fi = repo.fast_import("import-w").unwrap();
        drop(fi);
        assert!(!dead.exists());
        assert!(live.exists());
    }

    #[test]
    fn a_short_reader_is_an_error_not_a_corrupt_stream() {
        let (_d, repo) = temp_repo();
        let mut fi = repo.fast_import("import-s").unwrap();
        let mut r = &b"abc"[..];
        let e = fi
            .commit(
                "m\n",
                &Identity::fallback(),
                Utc::now(),
                &mut [FileChange {
                    path: "t.log".into(),
                    data: FileData::Reader(&mut r, 10),
                }],
            )
            .unwrap_err();
        assert!(e.to_string().contains("10 bytes"), "{e}");
    }
}
