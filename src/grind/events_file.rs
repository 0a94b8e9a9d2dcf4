//! The events file: `<git-common-dir>/pitboss/runs/<run-id>/events.jsonl`, the same events as
//! `grind --json` (one JSON object per line), appended and flushed per event so that another
//! process (`git pitboss watch`) can follow a grind from any terminal of the machine.
//!
//! Bounded: a grind starts the file anew when it takes a run up, and again at the start of a
//! session once the file has passed [`CAP_BYTES`]. What is dropped is only what the run ref
//! already holds (finished sessions are records there); the running sessions' events are always
//! in the file (in a parallel run, the start of each session still running is written again
//! at the top of the new file). Progress events are written only when the agent's activity changes (as `--json`
//! does), not at every tick. A follower sees the file shrink and reads it again from the start.
//!
//! The file is a convenience: when it cannot be written the grind goes on, and the error is
//! kept for the CLI to warn about once.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::grind::event::{GrindEvent, GrindObserver};
use crate::store::RunId;

/// Past this size, the file starts anew at the next session start.
pub(crate) const CAP_BYTES: u64 = 4 << 20;

/// Where the live grind of `run` writes its events.
pub(crate) fn events_path(common_dir: &Path, run: &RunId) -> PathBuf {
    crate::rundir::RunDir::new(common_dir, run).events()
}

/// A [`GrindObserver`] that appends each event to the run's events file.
pub(crate) struct EventsFile {
    common_dir: PathBuf,
    cap: u64,
    file: Option<File>,
    path: Option<PathBuf>,
    written: u64,
    /// The last progress written of each running session (as `--json` filters it: only
    /// changes), and its `session_started` event, by seq.
    running: std::collections::BTreeMap<u64, Running>,
    error: Option<(PathBuf, std::io::Error)>,
}

impl EventsFile {
    /// Writes into the runs of the repository whose common dir is `common_dir` (the file is
    /// opened when the run is known, at `run_started`).
    pub(crate) fn new(common_dir: &Path) -> EventsFile {
        EventsFile::with_cap(common_dir, CAP_BYTES)
    }

    /// The same, starting anew past `cap` bytes (tests use a small one).
    pub(crate) fn with_cap(common_dir: &Path, cap: u64) -> EventsFile {
        EventsFile {
            common_dir: common_dir.to_path_buf(),
            cap,
            file: None,
            path: None,
            written: 0,
            running: Default::default(),
            error: None,
        }
    }

    /// The first error met (the file is not written from then on), to warn about once.
    pub(crate) fn take_error(&mut self) -> Option<(PathBuf, std::io::Error)> {
        self.error.take()
    }

    /// The file being written, once the run is known.
    #[cfg(test)]
    pub(crate) fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn open(&mut self, run: &RunId) {
        let path = events_path(&self.common_dir, run);
        let opened = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                OpenOptions::new()
                    .create(true)
                    .write(true)
                    .truncate(true)
                    .open(&path)
            })
            .and_then(|f| {
                // Append mode after the truncate: every write lands at the end even after a
                // restart below shortened the file.
                drop(f);
                OpenOptions::new().append(true).open(&path)
            });
        match opened {
            Ok(f) => self.file = Some(f),
            Err(e) => self.fail(path.clone(), e),
        }
        self.written = 0;
        self.path = Some(path);
    }

    fn fail(&mut self, path: PathBuf, e: std::io::Error) {
        self.file = None;
        if self.error.is_none() {
            self.error = Some((path, e));
        }
    }

    /// Whether `e` is worth a line: progress only when the tool, the tokens or the text
    /// changed.
    fn worth_writing(&mut self, e: &GrindEvent) -> bool {
        let GrindEvent::Progress {
            seq,
            last_tool,
            text,
            tokens,
            ..
        } = e
        else {
            return true;
        };
        let now = (last_tool.clone(), *tokens);
        let Some(r) = self.running.get_mut(seq) else {
            return true;
        };
        if text.is_none() && r.last_progress == now {
            return false;
        }
        r.last_progress = now;
        true
    }
}

impl GrindObserver for EventsFile {
    fn event(&mut self, e: &GrindEvent) {
        match e {
            GrindEvent::RunStarted { run, .. } => self.open(run),
            GrindEvent::SessionStarted { .. } if self.written >= self.cap => {
                if let Some(f) = &self.file
                    && let Err(err) = f.set_len(0)
                {
                    let path = self.path.clone().unwrap_or_default();
                    self.fail(path, err);
                }
                self.written = 0;
                // The sessions still running beside the one starting: their starts again.
                let again: Vec<GrindEvent> =
                    self.running.values().map(|r| r.started.clone()).collect();
                for e in &again {
                    self.write(e);
                }
            }
            _ => {}
        }
        match e {
            GrindEvent::SessionStarted { seq, .. } => {
                self.running.insert(
                    *seq,
                    Running {
                        started: e.clone(),
                        last_progress: (None, None),
                    },
                );
            }
            GrindEvent::SessionFinished { record, .. } => {
                self.running.remove(&record.seq);
            }
            GrindEvent::RunStarted { .. } | GrindEvent::RunFinished { .. } => {
                self.running.clear();
            }
            _ => {}
        }
        if !self.worth_writing(e) {
            return;
        }
        self.write(e);
    }
}

/// A session running, as the file knows it.
struct Running {
    started: GrindEvent,
    last_progress: (Option<String>, Option<u64>),
}

impl EventsFile {
    fn write(&mut self, e: &GrindEvent) {
        let Some(file) = self.file.as_mut() else {
            return;
        };
        let Ok(mut line) = serde_json::to_vec(e) else {
            return;
        };
        line.push(b'\n');
        // One write per line, so a follower never reads half of one.
        match file.write_all(&line).and_then(|()| file.flush()) {
            Ok(()) => self.written += line.len() as u64,
            Err(err) => {
                let path = self.path.clone().unwrap_or_default();
                self.fail(path, err);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RunId;

    fn started(run: &RunId) -> GrindEvent {
        GrindEvent::RunStarted {
            run: run.clone(),
            branch: "refs/heads/pitboss/x".into(),
            worktree: "/w".into(),
            agent: "command".into(),
            program: "sh".into(),
            program_from: "default".into(),
            resumed: false,
            model: None,
            rotation: None,
            limits: Default::default(),
            spent_iterations: 0,
            spent_cost_usd: 0.0,
            spent_tokens: 0,
            spent_unknown_cost_sessions: 0,
            max_parallel: 1,
        }
    }

    fn session(seq: u64) -> GrindEvent {
        GrindEvent::SessionStarted {
            seq,
            slot: None,
            prompt: "lint".into(),
            rotation: 0,
            started_at: chrono::DateTime::UNIX_EPOCH,
            timeout_seconds: None,
        }
    }

    fn progress(tool: Option<&str>) -> GrindEvent {
        progress_of(1, tool)
    }

    fn progress_of(seq: u64, tool: Option<&str>) -> GrindEvent {
        GrindEvent::Progress {
            seq,
            slot: None,
            elapsed_ms: 1,
            last_tool: tool.map(str::to_string),
            text: None,
            tokens: None,
            cost_usd: None,
        }
    }

    #[test]
    fn one_line_per_event_progress_only_on_change_and_a_fresh_start_past_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunId::parse("20260101T000000Z-abcd").unwrap();
        let mut f = EventsFile::with_cap(dir.path(), 600);
        f.event(&started(&run));
        let path = events_path(dir.path(), &run);
        assert_eq!(f.path(), Some(path.as_path()));
        f.event(&session(1));
        for tool in [None, Some("Bash"), Some("Bash"), Some("Read")] {
            f.event(&progress(tool));
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let kinds: Vec<String> = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["event"].to_string())
            .collect();
        assert_eq!(kinds.len(), 4, "run, session, Bash, Read:\n{text}");
        // Past the cap, the next session starts the file anew (a follower reads it again).
        for _ in 0..10 {
            f.event(&progress(Some("x")));
            f.event(&progress(Some("y")));
        }
        assert!(std::fs::metadata(&path).unwrap().len() > 600);
        f.event(&finished(1));
        f.event(&session(2));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains(r#""seq":2"#));
        assert!(f.take_error().is_none());
    }

    fn finished(seq: u64) -> GrindEvent {
        let record = serde_json::from_str(&format!(
            r#"{{"seq":{seq},"run_id":"r","prompt":"lint","started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T00:01:05Z","status":"ok","commit":null,"tokens":{{"input":1,"output":1,"by_role":{{}}}},"cost_usd":0,"transcript_path":"t"}}"#
        ))
        .unwrap();
        GrindEvent::SessionFinished {
            record: Box::new(record),
            patch_saved: false,
            work_kept_at: None,
            run_cost_usd: 0.0,
            run_sessions: seq,
            run_unknown_cost_sessions: 0,
        }
    }

    /// Sessions side by side: each one's progress is filtered on its own, and a fresh start
    /// of the file keeps the starts of those still running.
    #[test]
    fn sessions_side_by_side_keep_their_progress_and_their_start_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunId::parse("20260101T000000Z-abcd").unwrap();
        let mut f = EventsFile::with_cap(dir.path(), 600);
        f.event(&started(&run));
        let path = events_path(dir.path(), &run);
        for seq in [1, 2, 3] {
            f.event(&session(seq));
        }
        // The same activity in two sessions is news for each.
        f.event(&progress_of(1, Some("Bash")));
        f.event(&progress_of(2, Some("Bash")));
        f.event(&progress_of(1, Some("Bash")));
        let lines = |path: &Path| -> Vec<(String, u64)> {
            std::fs::read_to_string(path)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
                .map(|v| {
                    (
                        v["event"].as_str().unwrap().to_string(),
                        v["seq"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        };
        let progress: Vec<u64> = (lines(&path).into_iter())
            .filter(|(e, _)| e == "progress")
            .map(|(_, s)| s)
            .collect();
        assert_eq!(progress, [1, 2]);
        for _ in 0..10 {
            f.event(&progress_of(2, Some("x")));
            f.event(&progress_of(2, Some("y")));
        }
        f.event(&finished(2));
        f.event(&session(4));
        let started: Vec<(String, u64)> = lines(&path);
        let want: Vec<(String, u64)> = [1, 3, 4]
            .into_iter()
            .map(|s| ("session_started".to_string(), s))
            .collect();
        assert_eq!(started, want);
    }

    #[test]
    fn a_file_that_cannot_be_written_is_one_error_and_no_panic() {
        let dir = tempfile::tempdir().unwrap();
        // `pitboss` is a file: the run directory cannot be made.
        std::fs::write(dir.path().join("pitboss"), "").unwrap();
        let run = RunId::parse("20260101T000000Z-abcd").unwrap();
        let mut f = EventsFile::new(dir.path());
        f.event(&started(&run));
        f.event(&session(1));
        let (path, _) = f.take_error().expect("an error");
        assert!(path.ends_with("events.jsonl"));
        assert!(f.take_error().is_none(), "said once");
    }
}
