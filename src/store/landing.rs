//! How a session of a parallel run landed on the run branch: the `landing` object of its record
//! (additive, absent in sequential runs). It is written only after the landing queue proved it
//! (every commit of the session has a patch-equivalent on the run branch), so a record that says
//! `landed` names commits that are on the branch.

use serde::{Deserialize, Serialize};

/// What the landing queue did with a session's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LandingResult {
    /// Replayed onto the run branch, moved by compare-and-swap, and proven by patch ids.
    Landed,
    /// It does not apply to the run branch's tip; its work is saved as the session's patch.
    Conflict,
    /// It applies, but the verify command failed on the result; its work is saved as a patch.
    VerifyFailed,
    /// There was nothing to land (no commit, no change), or the session's status kept it off
    /// the branch (its work, if any, is saved as a patch as in sequential runs).
    Nothing,
}

impl LandingResult {
    pub fn as_str(&self) -> &'static str {
        match self {
            LandingResult::Landed => "landed",
            LandingResult::Conflict => "conflict",
            LandingResult::VerifyFailed => "verify_failed",
            LandingResult::Nothing => "nothing",
        }
    }
}

/// The `landing` object of a session record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Landing {
    pub result: LandingResult,
    /// The run branch's tip the session was landed onto (or tried to be).
    pub onto: String,
    /// The commits it put on the run branch, oldest first (empty unless `landed`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<String>,
    /// For a conflict: the files that conflict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// For a conflict: the sessions (seqs) that landed since this one was dispatched and
    /// touched those files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collided_with: Vec<u64>,
    /// With `[grind] landing_merge_drivers = "respect"`: the files whose overlapping edits a
    /// merge driver of the repository's attributes resolved, and which driver.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drivers: Vec<crate::git::DriverUse>,
}
