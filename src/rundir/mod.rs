//! The run's working directory and the other files pitboss keeps beside the repository under
//! `<git-common-dir>/pitboss/`: the one place their names are spelled (STYLE.md, habit 20).
//!
//! ```text
//! <common>/pitboss/runs/<id>/             RunDir: events.jsonl, drain, slot-0-tip, and a
//!                                         sequential run's session files (below)
//! <common>/pitboss/runs/<id>/slot-<k>/    a parallel run's session files for slot k
//!     current.json  hook.pid  session-NNNN.log  scratchpad.md summary.md skip result.json
//! <common>/pitboss/locks/<id>.lock        the run lock ([`lock`])
//! <common>/pitboss/started/<id>.json      how the run started, unredacted, this clone only
//! <common>/pitboss/worktrees/<id>/<k>     the run's slot worktrees
//! ```
//!
//! The agent's own files (scratchpad, summary, skip, result, and the live transcript it streams)
//! are named by [`crate::agent::SessionFiles`] and [`crate::agent::live_transcript`], which the
//! agent contract documents. Everything else asks here, so views (`gc`, `watch`, `skip`) read
//! the engine's files without importing it; [`interrupted`] is the one judgment made of them
//! (a `running` run whose grind is gone).

use std::path::{Path, PathBuf};

use crate::store::RunId;

pub(crate) mod interrupted;
pub(crate) mod lock;
pub(crate) mod skip_target;
pub(crate) mod slots;

/// `<common>/pitboss`: everything pitboss keeps outside git's object and ref stores.
pub(crate) fn pitboss_dir(common_dir: &Path) -> PathBuf {
    common_dir.join("pitboss")
}

/// `<common>/pitboss/runs`: the runs' working directories.
pub(crate) fn runs_dir(common_dir: &Path) -> PathBuf {
    pitboss_dir(common_dir).join(RUNS)
}

/// `<common>/pitboss/locks`: the run locks.
pub(crate) fn locks_dir(common_dir: &Path) -> PathBuf {
    pitboss_dir(common_dir).join(LOCKS)
}

/// `<common>/pitboss/locks/<run>.lock`: the lock of `run`; it exists once a grind (or `rm`)
/// has taken the lock here.
pub(crate) fn lock_file(common_dir: &Path, run: &str) -> PathBuf {
    locks_dir(common_dir).join(format!("{run}{LOCK_SUFFIX}"))
}

/// `<common>/pitboss/started`: how runs started, one `<id>.json` each.
pub(crate) fn started_dir(common_dir: &Path) -> PathBuf {
    pitboss_dir(common_dir).join(STARTED)
}

/// `<common>/pitboss/started/<id>.json`.
pub(crate) fn started_file(common_dir: &Path, id: &RunId) -> PathBuf {
    started_dir(common_dir).join(format!("{}{STARTED_SUFFIX}", id.as_str()))
}

/// `<common>/pitboss/worktrees`: the slot worktrees of every run.
pub(crate) fn worktrees_dir(common_dir: &Path) -> PathBuf {
    pitboss_dir(common_dir).join(WORKTREES)
}

/// `<common>/pitboss/worktrees/<id>`: the slot worktrees of run `id`.
pub(crate) fn run_worktrees(common_dir: &Path, id: &RunId) -> PathBuf {
    worktrees_dir(common_dir).join(id.as_str())
}

/// `<common>/pitboss/worktrees/<id>/<k>`: slot `k`'s worktree.
pub(crate) fn slot_worktree(common_dir: &Path, id: &RunId, k: u32) -> PathBuf {
    run_worktrees(common_dir, id).join(k.to_string())
}

/// `<common>/pitboss/events`: where older versions kept the runs' event logs (gc clears it).
pub(crate) fn old_events_dir(common_dir: &Path) -> PathBuf {
    pitboss_dir(common_dir).join("events")
}

const RUNS: &str = "runs";
const LOCKS: &str = "locks";
const STARTED: &str = "started";
const WORKTREES: &str = "worktrees";
/// The end of a lock file's name, after the run id.
pub(crate) const LOCK_SUFFIX: &str = ".lock";
/// The end of a started-with copy's name, after the run id.
pub(crate) const STARTED_SUFFIX: &str = ".json";

/// A run's working directory, `<common>/pitboss/runs/<id>/`: its events, the drain file, the
/// tip slot 0's files were made from, a sequential run's session files and a parallel run's
/// `slot-<k>` directories. Made by the grind; removed when the run ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunDir {
    path: PathBuf,
}

impl RunDir {
    pub(crate) fn new(common_dir: &Path, id: &RunId) -> RunDir {
        RunDir {
            path: runs_dir(common_dir).join(id.as_str()),
        }
    }

    /// The directory itself.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Slot `k`'s session files of a parallel run: `slot-<k>/`.
    pub(crate) fn slot_dir(&self, k: u32) -> PathBuf {
        self.path.join(format!("{SLOT_PREFIX}{k}"))
    }

    /// The session directory of a session: slot `k`'s for a parallel run's, the run's own
    /// for a sequential run's (`None`).
    pub(crate) fn session_dir(&self, slot: Option<u32>) -> PathBuf {
        match slot {
            Some(k) => self.slot_dir(k),
            None => self.path.clone(),
        }
    }

    /// The slots that have a session directory (`slot-<k>`), with it, by number.
    pub(crate) fn slot_dirs(&self) -> Vec<(u32, PathBuf)> {
        slot_dirs_in(&self.path)
    }

    /// The drain file: while it exists, the grind starts no new session and stops once the
    /// running one ends. A file rather than a signal so that asking twice (or after a Ctrl-C in
    /// grind's terminal) never turns into an abort, as a second SIGINT would.
    pub(crate) fn drain(&self) -> PathBuf {
        self.path.join("drain")
    }

    /// The skip file of a sequential run's live session (`PITBOSS_SKIP_FILE`).
    pub(crate) fn skip_file(&self) -> PathBuf {
        crate::agent::SessionFiles::in_dir(&self.path).skip
    }

    /// `events.jsonl`: the live grind's events, for `watch`.
    pub(crate) fn events(&self) -> PathBuf {
        self.path.join(EVENTS_FILE)
    }

    /// `slot-0-tip`: the tip a parallel grind made slot 0's files from.
    pub(crate) fn slot0_tip(&self) -> PathBuf {
        self.path.join("slot-0-tip")
    }
}

/// The `slot-<k>` directories in `run_dir`, by number.
fn slot_dirs_in(run_dir: &Path) -> Vec<(u32, PathBuf)> {
    let mut ks: Vec<(u32, PathBuf)> = std::fs::read_dir(run_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let k = e
                .file_name()
                .to_str()?
                .strip_prefix(SLOT_PREFIX)?
                .parse()
                .ok()?;
            Some((k, e.path()))
        })
        .collect();
    ks.sort_unstable_by_key(|(k, _)| *k);
    ks
}

/// The name of the events file in a run's working directory.
const EVENTS_FILE: &str = "events.jsonl";

const SLOT_PREFIX: &str = "slot-";

/// The files of a session directory (a run's working directory, or one of its `slot-<k>`).
pub(crate) mod session {
    use std::path::{Path, PathBuf};

    /// The in-flight marker: which session runs there, since when, from which tip.
    pub(crate) fn marker(dir: &Path) -> PathBuf {
        dir.join("current.json")
    }

    /// The process group of the hook running there, so that a `--resume` after a crash ends a
    /// hook the dead grind left running.
    pub(crate) fn hook_pid(dir: &Path) -> PathBuf {
        dir.join("hook.pid")
    }

    /// The work of a session kept off the branch, as its patch, written before its worktree is
    /// reset and removed once the record that stores it is appended: a grind killed in between
    /// leaves it for `--resume`.
    pub(crate) fn saved_work(dir: &Path) -> PathBuf {
        dir.join("saved-work.patch")
    }

    /// Session `seq`'s live transcript: `session-NNNN.log`, where the agent's session
    /// streams it ([`crate::agent::live_transcript`]).
    pub(crate) fn log(dir: &Path, seq: u64) -> PathBuf {
        crate::agent::live_transcript(dir, seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> RunId {
        RunId::parse("20261124T100000Z-abcd").unwrap()
    }

    #[test]
    fn the_files_are_where_they_always_were() {
        let c = Path::new("/c");
        let d = RunDir::new(c, &id());
        let run = "/c/pitboss/runs/20261124T100000Z-abcd";
        assert_eq!(d.path(), Path::new(run));
        assert_eq!(d.slot_dir(2), Path::new(&format!("{run}/slot-2")));
        assert_eq!(d.drain(), Path::new(&format!("{run}/drain")));
        assert_eq!(d.skip_file(), Path::new(&format!("{run}/skip")));
        assert_eq!(d.events(), Path::new(&format!("{run}/events.jsonl")));
        assert_eq!(d.slot0_tip(), Path::new(&format!("{run}/slot-0-tip")));
        assert_eq!(
            session::log(&d.slot_dir(1), 7),
            Path::new(&format!("{run}/slot-1/session-0007.log"))
        );
        assert_eq!(lock_file(c, "r1"), Path::new("/c/pitboss/locks/r1.lock"));
        assert_eq!(
            started_file(c, &id()),
            Path::new("/c/pitboss/started/20261124T100000Z-abcd.json")
        );
        assert_eq!(
            slot_worktree(c, &id(), 3),
            Path::new("/c/pitboss/worktrees/20261124T100000Z-abcd/3")
        );
    }

    #[test]
    fn slot_directories_are_found_by_number() {
        let tmp = tempfile::tempdir().unwrap();
        let d = RunDir::new(tmp.path(), &id());
        for n in ["slot-10", "slot-2", "slot-x", "transcripts"] {
            std::fs::create_dir_all(d.path().join(n)).unwrap();
        }
        let ks: Vec<u32> = d.slot_dirs().into_iter().map(|(k, _)| k).collect();
        assert_eq!(ks, [2, 10]);
    }
}
