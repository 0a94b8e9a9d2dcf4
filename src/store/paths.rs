//! The file names of a run, in one place: the tree on its ref (`run.json`, `state.json`,
//! `scratchpad.md`, and `sessions/`, `transcripts/`, `patches/` bucketed by seq / 100) and the
//! file-based run directory that `export` writes and `import` reads (`sessions.jsonl`,
//! `sessions.md`, flat `transcripts/` and `patches/`).
//!
//! Readers, writers and checkers name files only through this module, so the layout (which
//! teammates' clones read too: see docs/run-format.md) cannot drift between them.

use super::id::Seq;

/// The run's identity and settings; written once, never changed.
pub(crate) const RUN_JSON: &str = "run.json";
/// Where the run stands (status, totals, scheduler and budget state).
pub(crate) const STATE_JSON: &str = "state.json";
/// The notes sessions pass on to each other.
pub(crate) const SCRATCHPAD: &str = "scratchpad.md";
/// One record per session: `sessions/<bucket>/<seq>.jsonl`.
pub(crate) const SESSIONS_DIR: &str = "sessions";
/// One transcript per session: `transcripts/<bucket>/session-<seq>.log`.
pub(crate) const TRANSCRIPTS_DIR: &str = "transcripts";
/// A session's work that was not committed: `patches/<bucket>/session-<seq>.patch`, and
/// `resume-<seq>.patch` for work found when the run was resumed.
pub(crate) const PATCHES_DIR: &str = "patches";
/// The directories of the tree whose files belong to one session each.
pub(crate) const SESSION_DIRS: [&str; 3] = [SESSIONS_DIR, TRANSCRIPTS_DIR, PATCHES_DIR];

/// The run directory's records, one a line.
pub(crate) const SESSIONS_JSONL: &str = "sessions.jsonl";
/// The run directory's records, rendered for people.
pub(crate) const SESSIONS_MD: &str = "sessions.md";

const RECORD_EXT: &str = ".jsonl";
const SESSION_PREFIX: &str = "session-";
const RESUME_PREFIX: &str = "resume-";
const TRANSCRIPT_EXT: &str = ".log";
const PATCH_EXT: &str = ".patch";

impl Seq {
    /// `sessions/<bucket>/<seq>.jsonl`
    pub(crate) fn record_path(self) -> String {
        format!(
            "{SESSIONS_DIR}/{}/{}{RECORD_EXT}",
            self.bucket(),
            self.padded()
        )
    }

    /// `transcripts/<bucket>/session-<seq>.log`
    pub(crate) fn transcript_path(self) -> String {
        format!(
            "{TRANSCRIPTS_DIR}/{}/{SESSION_PREFIX}{}{TRANSCRIPT_EXT}",
            self.bucket(),
            self.padded()
        )
    }

    /// `patches/<bucket>/session-<seq>.patch`
    pub(crate) fn patch_path(self) -> String {
        format!(
            "{PATCHES_DIR}/{}/{SESSION_PREFIX}{}{PATCH_EXT}",
            self.bucket(),
            self.padded()
        )
    }

    /// `patches/<bucket>/resume-<seq>.patch`: work found in a run's worktree when the run was
    /// resumed, before session `seq` (someone edited it by hand, or a process left it).
    pub(crate) fn resume_patch_path(self) -> String {
        format!(
            "{PATCHES_DIR}/{}/{RESUME_PREFIX}{}{PATCH_EXT}",
            self.bucket(),
            self.padded()
        )
    }

    /// The transcript path a record names, as in the file-based layout:
    /// `transcripts/session-<seq>.log`.
    pub(crate) fn record_transcript_path(self) -> String {
        format!(
            "{TRANSCRIPTS_DIR}/{SESSION_PREFIX}{}{TRANSCRIPT_EXT}",
            self.padded()
        )
    }

    /// A session's patch in the file-based layout: `patches/session-<seq>.patch`.
    pub(crate) fn dir_patch_path(self) -> String {
        format!("{PATCHES_DIR}/{SESSION_PREFIX}{}{PATCH_EXT}", self.padded())
    }

    /// Parses a record file name (`0007.jsonl`) back to its number.
    pub(crate) fn from_record_file(name: &str) -> Option<Seq> {
        let digits = name.strip_suffix(RECORD_EXT)?;
        if digits.len() < 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().map(Seq)
    }
}

/// The seq digits of a session's file in one of the [`SESSION_DIRS`] (`0007.jsonl`,
/// `session-0007.log`, `session-0007.patch`; `resume-0007.patch` too when `resume`), not yet
/// checked to be digits.
pub(crate) fn session_file_digits<'a>(dir: &str, name: &'a str, resume: bool) -> Option<&'a str> {
    match dir {
        SESSIONS_DIR => name.strip_suffix(RECORD_EXT),
        TRANSCRIPTS_DIR => name
            .strip_prefix(SESSION_PREFIX)?
            .strip_suffix(TRANSCRIPT_EXT),
        PATCHES_DIR => name
            .strip_prefix(SESSION_PREFIX)
            .or_else(|| name.strip_prefix(RESUME_PREFIX).filter(|_| resume))?
            .strip_suffix(PATCH_EXT),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_paths_are_bucketed() {
        assert_eq!(Seq(7).record_path(), "sessions/00/0007.jsonl");
        assert_eq!(Seq(12345).record_path(), "sessions/123/12345.jsonl");
        assert_eq!(
            Seq(100).transcript_path(),
            "transcripts/01/session-0100.log"
        );
        assert_eq!(Seq(3).patch_path(), "patches/00/session-0003.patch");
        assert_eq!(Seq(3).resume_patch_path(), "patches/00/resume-0003.patch");
        assert_eq!(
            Seq(1).record_transcript_path(),
            "transcripts/session-0001.log"
        );
        assert_eq!(Seq(2).dir_patch_path(), "patches/session-0002.patch");
        assert_eq!(Seq::from_record_file("0007.jsonl"), Some(Seq(7)));
        assert_eq!(Seq::from_record_file("12345.jsonl"), Some(Seq(12345)));
        assert_eq!(Seq::from_record_file("7.jsonl"), None);
        assert_eq!(Seq::from_record_file("00a7.jsonl"), None);
    }

    #[test]
    fn session_files_parse_back_to_their_digits() {
        for seq in [Seq(1), Seq(99), Seq(12345)] {
            for (path, resume) in [
                (seq.record_path(), false),
                (seq.transcript_path(), false),
                (seq.patch_path(), false),
                (seq.resume_patch_path(), true),
            ] {
                let mut parts = path.split('/');
                let (dir, _, name) = (parts.next().unwrap(), parts.next(), parts.next().unwrap());
                assert_eq!(
                    session_file_digits(dir, name, resume),
                    Some(seq.padded().as_str()),
                    "{path}"
                );
            }
        }
        assert_eq!(
            session_file_digits(PATCHES_DIR, "resume-0001.patch", false),
            None
        );
        assert_eq!(
            session_file_digits(PATCHES_DIR, "session-0001.log", true),
            None
        );
        assert_eq!(session_file_digits("other", "0001.jsonl", true), None);
    }
}
