//! One grind session, start to end, in stages named for what happens to it. Every session goes
//! through the same stages, whether it works on the run branch itself (a run of one slot) or in
//! a slot of a parallel run:
//!
//! 1. [`prepare`]: reset the worktree, write the in-flight marker and the scratchpad, compose
//!    the input;
//! 2. [`agent_run`]: run the pre-session hook and the agent;
//! 3. [`after_agent`]: the worktree back on its branch, the status decided by one pure function
//!    from everything known ([`decide`]: the agent, git, the cost cap, the verify command), the
//!    work kept on the branch (leftovers committed with trailers) or saved as a patch;
//! 4. [`landing`]: the work on the run branch (replayed, verified, moved by compare-and-swap
//!    and proven for a parallel session; verified in place for a session of the run branch),
//!    or saved as a patch; then the post-session hooks ([`hooks`]);
//! 5. [`record`]: the record, built once, and the one append that publishes the session to the
//!    run ref.
//!
//! Each stage takes the run's read-only [`Ctx`], the [`Slot`] the session works in and the
//! [`Session`] value; only [`record`] changes the run's [`Progress`].
//!
//! A marker file (`current.json` in the session's files directory) says which session is in
//! flight and which process runs its agent. If grind itself dies mid-session, `--resume` finds
//! the marker and [`recover`]s: it ends the agent's process group if it still runs, records the
//! session (`aborted`, with its partial transcript and its work as a patch, unless its landing
//! is on the run branch), and goes on with the next seq.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::slot::Slot;
use crate::agent::{self, SessionSpec};
use crate::git::Oid;

mod after_agent;
mod agent_run;
mod decide;
mod guard;
mod hooks;
mod landing;
mod prepare;
mod record;
mod recover;

pub(super) use after_agent::{Settled, run_home, run_in_slot};
pub(super) use guard::{hold_branch, run_ref_reason, settings_reason};
pub(super) use landing::{Held, LandedEntry, land_settled};
pub(super) use prepare::prepare;
pub(super) use recover::recover;

/// The copy of the scratchpad a parallel session saw at dispatch, in its slot's files directory
/// (the base of the three-way merge of its edits, also after a crash).
const SNAPSHOT_FILE: &str = "scratchpad-at-dispatch.md";
/// Largest scratchpad kept.
const SCRATCHPAD_CAP: usize = 1 << 20;

/// What a finished session tells the loop.
pub(crate) struct SessionRun {
    /// `Some` when the agent hit a usage limit (with its reset time, when known).
    pub rate_limit: Option<Option<DateTime<Utc>>>,
}

/// The in-flight marker: which session runs, since when, from which tip, with which agent.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct InFlight {
    seq: u64,
    prompt: String,
    started_at: DateTime<Utc>,
    base: String,
    agent_pid: Option<u32>,
    /// The slot of a parallel run's session (absent: a sequential session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    slot: Option<u32>,
    /// A parallel session's agent is gone: it only waits to land (`skip` no longer applies).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    settled: bool,
    /// Written just before the landing queue moves the run branch: a `--resume` after a crash
    /// then records the session as landed if and only if the branch holds `tip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    landing: Option<PendingLanding>,
    /// Written by a `--resume` just before it appends the session's `aborted` record with its
    /// work as a patch, and only then puts the worktree back: a `--resume` killed in between
    /// leaves the work in place, and the next one finishes the reset once the record is stored.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    recovering: bool,
}

impl InFlight {
    /// Whether this session is among `records` (it was recorded before grind died, and only
    /// its marker was left). NB: by the session itself, not by its seq: another writer may
    /// have appended that seq meanwhile, and the session then went to the next free one.
    fn recorded_in(&self, records: &[crate::store::SessionRecord]) -> bool {
        records
            .iter()
            .any(|r| r.prompt == self.prompt && r.started_at == self.started_at)
    }
}

/// A landing about to move the run branch, with everything its record needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingLanding {
    /// The run branch's tip it lands onto, and the tip it moves it to.
    onto: String,
    tip: String,
    /// The session's record as it will be appended (one JSON line).
    record: String,
    /// The scratchpad as merged at this landing.
    scratchpad: String,
    /// Leftovers saved as a patch instead of committed (they looked like a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    patch: Option<String>,
}

/// What a session of a parallel run has that a session of the run branch does not (`None` in
/// [`Dispatch`] and [`Session`]: the session works on the run branch itself, in the run's own
/// worktree, on the grind's own thread).
pub(super) struct Parallel {
    /// Its slot's number.
    pub(super) slot: u32,
    /// Its own controls (its own skip and cut; the user's abort shared).
    pub(super) controls: agent::Controls,
    /// The run's cost and token fuse, shared by every live session.
    pub(super) fuse: std::sync::Arc<super::fuse::Fuse>,
    /// The scratchpad as it was at dispatch (what the session saw), for the three-way merge
    /// of its edits when it lands.
    pub(super) snapshot: String,
}

/// Which session to prepare: its prompt, rotation and seq, and for a parallel run its slot.
pub(super) struct Dispatch<'p> {
    pub(super) prompt: &'p str,
    pub(super) rotation: u64,
    pub(super) seq: u64,
    pub(super) parallel: Option<Parallel>,
}

/// One session in flight: what its stages hand on, in a value of its own (not in the run's
/// context, which every session shares).
pub(super) struct Session {
    /// Its seq, prompt, start and base, as the marker file has them.
    marker: InFlight,
    /// The run branch's tip when it started.
    base: Oid,
    /// What the agent is given.
    spec: SessionSpec,
    /// The output of its hooks and verify command, as transcript sections.
    hook_log: Vec<String>,
    /// Its slot, controls and the run's fuse, in a parallel run.
    parallel: Option<Parallel>,
}

impl Session {
    pub(super) fn seq(&self) -> u64 {
        self.marker.seq
    }

    fn prompt(&self) -> &str {
        &self.marker.prompt
    }
}

fn marker_path(slot: &Slot) -> PathBuf {
    crate::rundir::session::marker(slot.run_dir())
}

/// The scratchpad as stored after a session. Agents append to it, so when it outgrows
/// [`SCRATCHPAD_CAP`] its newest part is kept (what later sessions need, and what their input
/// shows), after a note that it was cut; before, the oldest part was kept and every later note
/// silently dropped. Only that part is read, however large the file grew.
fn read_scratchpad(path: &Path) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map_or(0, |m| m.len());
    let cap = SCRATCHPAD_CAP as u64;
    let cut = len > cap && file.seek(SeekFrom::Start(len - cap)).is_ok();
    let mut bytes = Vec::new();
    let _ = file.take(cap).read_to_end(&mut bytes);
    if !cut {
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    // Start at a line when one starts soon: half a line could be half a secret, which the
    // redactor would no longer recognise.
    let start = bytes[..bytes.len().min(4096)]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    format!(
        "[pitboss] scratchpad cut to its newest {cap} bytes; older notes were dropped\n{}",
        String::from_utf8_lossy(&bytes[start..])
    )
}

/// A summary as it may be stored. It goes into the session's commit message, which cannot hold
/// a NUL (git2 refuses the whole commit, and the run would end in an internal error), and is
/// printed on terminals; it can come from anything the agent printed (the last stderr line of a
/// crash may be binary junk). So control characters other than newline and tab become U+FFFD.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_scratchpad_over_its_cap_keeps_its_newest_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pad.md");
        std::fs::write(&path, "- small\n").unwrap();
        assert_eq!(super::read_scratchpad(&path), "- small\n");
        let mut big = String::new();
        let mut n = 0;
        while big.len() <= super::SCRATCHPAD_CAP {
            n += 1;
            big.push_str(&format!("- note {n}\n"));
        }
        std::fs::write(&path, &big).unwrap();
        let pad = super::read_scratchpad(&path);
        assert!(
            pad.starts_with("[pitboss] scratchpad cut"),
            "{}",
            &pad[..100]
        );
        assert!(pad.ends_with(&format!("- note {n}\n")));
        assert!(!pad.contains("- note 1\n"));
        let first = pad.lines().nth(1).unwrap();
        assert!(first.starts_with("- note "), "starts at a line: {first}");
        assert!(pad.len() <= super::SCRATCHPAD_CAP + 100);
        assert_eq!(super::read_scratchpad(&dir.path().join("none")), "");
    }

    #[test]
    fn summaries_lose_control_characters_but_keep_lines() {
        assert_eq!(
            super::printable("ok\tdone\nnext \u{1b}[31mred\0\r"),
            "ok\tdone\nnext \u{FFFD}[31mred\u{FFFD}\u{FFFD}"
        );
    }
}
