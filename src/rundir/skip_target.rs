//! Which running session `git pitboss skip <run> [<seq>]` (and the `s` of `watch`) ends: the
//! in-flight markers (`current.json`, whose `seq` names the session) say which sessions run and
//! where their files are, the skip file of one session is beside its marker. A sequential run
//! has its marker in `<common>/pitboss/runs/<id>/`; a parallel run one per busy slot, in
//! `<common>/pitboss/runs/<id>/slot-<k>/`. Pure but for reading those files.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::RunDir;
use super::lock::{LockError, RunLock};
use crate::git::Repo;
use crate::store::RunId;

/// A session a grind is running now, as its marker tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunningSession {
    pub seq: u64,
    /// The slot of a parallel run's session (`None`: a sequential run).
    pub slot: Option<u32>,
    /// The directory of its marker, where its skip file goes.
    pub dir: PathBuf,
}

/// What a skip asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Skipped {
    /// The session asked to end (`None`: no marker was found, and the run's skip file was
    /// written for whichever session runs, as before markers were read).
    pub session: Option<RunningSession>,
    /// The skip file written.
    pub path: PathBuf,
}

/// What was asked of a live grind (it names what a refusal could not do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Request {
    /// End a running session (`git pitboss skip`, the `s` of `watch`).
    Skip,
    /// Stop after the running session (the `d` of `watch`).
    Drain,
}

/// Why no session was asked to end, or the run to drain.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SkipError {
    #[error("run {run} is not being ground right now{}", match .request {
        Request::Skip => ": no session to skip",
        Request::Drain => "",
    })]
    NotRunning { run: RunId, request: Request },
    #[error("session {seq} of run {run} is not running ({})", running_now(.running))]
    NoSuchSession {
        run: RunId,
        seq: u64,
        running: Vec<u64>,
    },
    #[error("{} of run {run} are running", sessions(.running))]
    Which { run: RunId, running: Vec<u64> },
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Whether a live grind holds run `id` (its lock is held), so that a request has someone to
/// answer it.
fn held(repo: &Repo, id: &RunId, request: Request) -> Result<(), SkipError> {
    match RunLock::acquire(repo.common_dir(), id.as_str(), std::process::id()) {
        Ok(lock) => {
            drop(lock);
            Err(SkipError::NotRunning {
                run: id.clone(),
                request,
            })
        }
        Err(LockError::Held { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn write(path: PathBuf, text: &str) -> Result<PathBuf, SkipError> {
    match std::fs::write(&path, text) {
        Ok(()) => Ok(path),
        Err(source) => Err(SkipError::Write { path, source }),
    }
}

/// Asks the live grind of `id` to finish its running session and stop (the `d` of `watch`):
/// writes the drain file ([`RunDir::drain`]). Refuses when no grind holds the run. Asking
/// again changes nothing.
pub(crate) fn request_drain(repo: &Repo, id: &RunId) -> Result<PathBuf, SkipError> {
    held(repo, id, Request::Drain)?;
    let path = RunDir::new(repo.common_dir(), id).drain();
    write(path, "drain requested by `git pitboss watch`\n")
}

/// Asks the live grind of `id` to end one running session as `skipped`: the one of `seq`, or
/// with none named the only one running (several: refused, naming them). Writes the skip file
/// beside that session's in-flight marker. Refuses when no grind holds the run (there is no
/// session to skip).
pub(crate) fn request_skip(
    repo: &Repo,
    id: &RunId,
    seq: Option<u64>,
) -> Result<Skipped, SkipError> {
    held(repo, id, Request::Skip)?;
    let dir = RunDir::new(repo.common_dir(), id);
    let session = choose(id, running_sessions(dir.path()), seq)?;
    // No marker and no seq: a sequential grind between sessions (or one older than markers);
    // the run's own skip file, as always.
    let path = match &session {
        Some(s) => crate::agent::SessionFiles::in_dir(&s.dir).skip,
        None => dir.skip_file(),
    };
    let path = write(path, "skip requested by `git pitboss skip`\n")?;
    Ok(Skipped { session, path })
}

/// `sessions 4, 5 and 6`.
pub(crate) fn sessions(seqs: &[u64]) -> String {
    let words: Vec<String> = seqs.iter().map(u64::to_string).collect();
    match words.as_slice() {
        [] => "no session".into(),
        [one] => format!("session {one}"),
        [rest @ .., last] => format!("sessions {} and {last}", rest.join(", ")),
    }
}

fn running_now(seqs: &[u64]) -> String {
    match seqs {
        [] => "no session is running".into(),
        [_] => format!("{} is", sessions(seqs)),
        _ => format!("{} are", sessions(seqs)),
    }
}

/// The part of a marker read here (the rest is the engine's).
#[derive(Deserialize)]
struct Marker {
    seq: u64,
    /// Its agent is gone and it only waits to land: nothing to skip.
    #[serde(default)]
    settled: bool,
}

/// The sessions running in the run whose working directory is `run_dir`, by seq: the marker
/// in `run_dir` itself and those in its `slot-<k>` directories. A marker that cannot be read
/// (being written, or gone since the listing) is not a running session.
pub(crate) fn running_sessions(run_dir: &Path) -> Vec<RunningSession> {
    let mut found: Vec<RunningSession> = Vec::new();
    if let Some(seq) = marker_seq(run_dir) {
        found.push(RunningSession {
            seq,
            slot: None,
            dir: run_dir.to_path_buf(),
        });
    }
    for (slot, dir) in super::slot_dirs_in(run_dir) {
        if let Some(seq) = marker_seq(&dir) {
            found.push(RunningSession {
                seq,
                slot: Some(slot),
                dir,
            });
        }
    }
    found.sort_by_key(|s| s.seq);
    found
}

fn marker_seq(dir: &Path) -> Option<u64> {
    let text = std::fs::read(super::session::marker(dir)).ok()?;
    serde_json::from_slice::<Marker>(&text)
        .ok()
        .filter(|m| !m.settled)
        .map(|m| m.seq)
}

/// The session to end: the one of `seq`, or with none named the only one running. `Ok(None)`
/// when none runs and none was named (a grind between two sessions).
pub(crate) fn choose(
    run: &RunId,
    running: Vec<RunningSession>,
    seq: Option<u64>,
) -> Result<Option<RunningSession>, SkipError> {
    let seqs = || running.iter().map(|s| s.seq).collect::<Vec<_>>();
    match seq {
        Some(seq) => match running.iter().find(|s| s.seq == seq) {
            Some(s) => Ok(Some(s.clone())),
            None => Err(SkipError::NoSuchSession {
                run: run.clone(),
                seq,
                running: seqs(),
            }),
        },
        None if running.len() > 1 => Err(SkipError::Which {
            run: run.clone(),
            running: seqs(),
        }),
        None => Ok(running.into_iter().next()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(dir: &Path, seq: u64) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            super::super::session::marker(dir),
            format!(r#"{{"seq":{seq},"prompt":"p","started_at":"2026-01-01T00:00:00Z","base":"abc","agent_pid":7,"slot":1}}"#),
        )
        .unwrap();
    }

    fn run() -> RunId {
        RunId::parse("20261124T100000Z-abcd").unwrap()
    }

    #[test]
    fn the_markers_of_a_parallel_run_are_found_in_its_slot_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        marker(&dir.join("slot-2"), 6);
        marker(&dir.join("slot-0"), 4);
        marker(&dir.join("slot-1"), 5);
        // An idle slot, a half-written marker and a directory of another name are not.
        std::fs::create_dir_all(dir.join("slot-3")).unwrap();
        std::fs::create_dir_all(dir.join("slot-4")).unwrap();
        std::fs::write(dir.join("slot-4/current.json"), "{\"se").unwrap();
        marker(&dir.join("transcripts"), 9);
        let found = running_sessions(dir);
        let seen: Vec<(u64, Option<u32>)> = found.iter().map(|s| (s.seq, s.slot)).collect();
        assert_eq!(seen, [(4, Some(0)), (5, Some(1)), (6, Some(2))]);
        assert_eq!(found[2].dir, dir.join("slot-2"));

        let s = choose(&run(), found.clone(), Some(5)).unwrap().unwrap();
        assert_eq!((s.seq, s.dir), (5, dir.join("slot-1")));
        let e = choose(&run(), found.clone(), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "sessions 4, 5 and 6 of run 20261124T100000Z-abcd are running"
        );
        let e = choose(&run(), found, Some(9)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "session 9 of run 20261124T100000Z-abcd is not running (sessions 4, 5 and 6 are)"
        );
    }

    #[test]
    fn a_session_done_and_waiting_to_land_is_not_running() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        marker(&dir.join("slot-1"), 4);
        std::fs::create_dir_all(dir.join("slot-2")).unwrap();
        std::fs::write(
            dir.join("slot-2/current.json"),
            r#"{"seq":5,"prompt":"p","started_at":"2026-01-01T00:00:00Z","base":"abc","slot":2,"settled":true}"#,
        )
        .unwrap();
        let found = running_sessions(dir);
        assert_eq!(found.iter().map(|s| s.seq).collect::<Vec<_>>(), [4]);
        let e = choose(&run(), found, Some(5)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "session 5 of run 20261124T100000Z-abcd is not running (session 4 is)"
        );
    }

    #[test]
    fn a_sequential_run_has_its_marker_in_the_run_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        assert!(running_sessions(dir).is_empty());
        assert_eq!(choose(&run(), Vec::new(), None).unwrap(), None);
        let e = choose(&run(), Vec::new(), Some(3)).unwrap_err();
        assert!(e.to_string().ends_with("(no session is running)"), "{e}");

        marker(dir, 3);
        let found = running_sessions(dir);
        assert_eq!(
            found,
            [RunningSession {
                seq: 3,
                slot: None,
                dir: dir.to_path_buf()
            }]
        );
        // The only one running needs no seq.
        assert_eq!(choose(&run(), found.clone(), None).unwrap().unwrap().seq, 3);
        let e = choose(&run(), found, Some(2)).unwrap_err();
        assert!(e.to_string().ends_with("(session 3 is)"), "{e}");
    }

    #[test]
    fn lists_of_sessions_read_as_english() {
        assert_eq!(sessions(&[4]), "session 4");
        assert_eq!(sessions(&[4, 5]), "sessions 4 and 5");
        assert_eq!(sessions(&[4, 5, 6]), "sessions 4, 5 and 6");
    }

    /// One refusal for a run no grind holds, worded for what was asked (`git pitboss skip`
    /// and the keys of `watch` say the same).
    #[test]
    fn a_run_not_held_refuses_skip_and_drain_alike() {
        let (_dir, repo) = crate::git::testutil::temp_repo();
        let e = request_skip(&repo, &run(), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "run 20261124T100000Z-abcd is not being ground right now: no session to skip"
        );
        let e = request_drain(&repo, &run()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "run 20261124T100000Z-abcd is not being ground right now"
        );
    }
}
