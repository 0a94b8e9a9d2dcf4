//! How a grind ends: why the run stopped ([`StopCause`], with the sentence its closing commit
//! and the CLI say) and what it reports ([`GrindSummary`], with a parallel run's
//! [`LandingCounts`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::plan::budget::StopReason;
use crate::store::{RunId, RunStatus, SessionRecord, SessionStatus};

/// Why a run stopped.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub(crate) enum StopCause {
    /// No prompt can run again.
    Exhausted,
    /// A budget or the consecutive-failure limit.
    Budget { reason: StopReason },
    /// The user asked (Ctrl-C, SIGTERM, SIGHUP, `d` in watch). `drained`: no session was cut
    /// short (one Ctrl-C or a drain let the session in progress finish); otherwise
    /// `aborted_session` is the session the user ended. Both are additive to the JSON summary
    /// (`{"cause":"user"}` before), so readers of `cause` alone see what they saw.
    User {
        drained: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        aborted_session: Option<u64>,
        /// Every session the user's abort cut short, when it was more than one (a parallel
        /// run's running sessions); `aborted_session` is the last of them.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        aborted_sessions: Vec<u64>,
        /// Of the aborted sessions, those whose work is saved as a patch in the run ref (the
        /// others had changed nothing); `None` when the run ref could not be read to tell.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        saved_patches: Option<Vec<u64>>,
    },
    /// A usage limit, with `--stop-on-rate-limit` (or a reset past `--until`).
    RateLimited { until: Option<DateTime<Utc>> },
}

impl StopCause {
    /// The run status this cause leaves behind: `finished` when there is nothing more to do,
    /// `aborted` or `stopped` (both resumable) otherwise.
    pub(crate) fn run_status(&self) -> RunStatus {
        match self {
            StopCause::Exhausted => RunStatus::Finished,
            StopCause::Budget {
                reason: StopReason::Iterations { .. },
            } => RunStatus::Finished,
            StopCause::User { .. } => RunStatus::Aborted,
            StopCause::Budget { .. } | StopCause::RateLimited { .. } => RunStatus::Stopped,
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            StopCause::Exhausted => "scheduler exhausted: no prompt can run again".into(),
            StopCause::Budget { reason } => reason.to_string(),
            // NB: both start "stopped by the user", as every run stopped by the user said
            // before the two were told apart; the status stays `aborted` for both, since
            // other clones and older versions read it.
            StopCause::User {
                aborted_session: Some(seq),
                aborted_sessions,
                saved_patches,
                ..
            } => {
                let aborted = match aborted_sessions.as_slice() {
                    [] => std::slice::from_ref(seq),
                    all => all,
                };
                aborted_reason(aborted, saved_patches.as_deref())
            }
            StopCause::User { .. } => "stopped by the user between sessions (drained: one Ctrl-C \
                                       or `d` in watch; no session was cut short)"
                .into(),
            StopCause::RateLimited { until: Some(t) } => {
                format!("usage limit reached (resets {})", t.to_rfc3339())
            }
            StopCause::RateLimited { until: None } => "usage limit reached".into(),
        }
    }
}

/// What a finished grind reports.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct GrindSummary {
    pub run: RunId,
    pub run_ref: String,
    pub branch: String,
    pub status: RunStatus,
    pub stop: StopCause,
    /// Sessions this grind ran (a resumed run counts only its own).
    pub sessions: u64,
    pub by_status: BTreeMap<String, u64>,
    /// The sessions' token total ([`crate::usage::Tokens::total`]) and its parts.
    pub tokens: u64,
    pub token_parts: crate::usage::Tokens,
    /// The known costs; `unknown_cost_sessions` sessions are not in it.
    pub cost_usd: f64,
    pub unknown_cost_sessions: u64,
    pub wall_seconds: u64,
    /// The worktree left for `--resume`, when the run can go on.
    pub worktree_kept: Option<PathBuf>,
    pub resumed: bool,
    /// What the landing queue did with this grind's sessions (parallel runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub landings: Option<LandingCounts>,
    /// The same counts for the whole run, the sessions of earlier grinds included: what the
    /// stop reason and the session lines' `(run …)` count. Equal to the above on a new run.
    pub run_sessions: u64,
    pub run_by_status: BTreeMap<String, u64>,
    pub run_tokens: u64,
    pub run_token_parts: crate::usage::Tokens,
    pub run_cost_usd: f64,
    pub run_unknown_cost_sessions: u64,
}

/// A parallel grind's landings, by result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct LandingCounts {
    pub landed: u64,
    pub conflict: u64,
    pub verify_failed: u64,
    pub nothing: u64,
}

impl LandingCounts {
    /// Counts the landings of `records` (`None` when none of them has one: a sequential run).
    pub(crate) fn of<'r>(
        records: impl IntoIterator<Item = &'r SessionRecord>,
    ) -> Option<LandingCounts> {
        use crate::store::LandingResult as L;
        let mut c = LandingCounts::default();
        let mut any = false;
        for r in records {
            let Some(l) = r.landing.as_ref() else {
                continue;
            };
            any = true;
            *match l.result {
                L::Landed => &mut c.landed,
                L::Conflict => &mut c.conflict,
                L::VerifyFailed => &mut c.verify_failed,
                // A failed session had work, and it was saved: its status counts it.
                L::Nothing if !landable(r.status) => continue,
                L::Nothing => &mut c.nothing,
            } += 1;
        }
        any.then_some(c)
    }
}

/// Whether a session of this status has its work landed (the others' is saved as a patch).
fn landable(status: SessionStatus) -> bool {
    matches!(status, SessionStatus::Ok | SessionStatus::Dirty)
}

impl GrindSummary {
    /// Whether any session of this grind failed (error or timeout).
    pub(crate) fn had_failures(&self) -> bool {
        ["error", "timeout"]
            .iter()
            .any(|s| self.by_status.get(*s).copied().unwrap_or(0) > 0)
    }
}

/// Why a run the user stopped by aborting `aborted` ended, and what became of their work: only
/// a session that had changed something has a patch (`saved`: those that do; `None` when the
/// run ref could not be read, so the reason claims nothing about patches).
fn aborted_reason(aborted: &[u64], saved: Option<&[u64]>) -> String {
    let list = |seqs: &[u64]| {
        seqs.iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    // NB: both start "stopped by the user", as every run stopped by the user said before the
    // drained and the aborted stop were told apart.
    let head = match aborted {
        [seq] => format!("stopped by the user, who aborted session {seq}"),
        all => format!("stopped by the user, who aborted sessions {}", list(all)),
    };
    let with: Vec<u64> = aborted
        .iter()
        .copied()
        .filter(|s| saved.is_some_and(|v| v.contains(s)))
        .collect();
    let fate = match (saved, aborted.len(), with.len()) {
        (None, _, _) => {
            "whether work was saved as a patch is unknown (the run ref did not read)".into()
        }
        (Some(_), 1, 1) => "its work is saved as a patch".into(),
        (Some(_), 1, _) => "it had changed nothing, so no patch was saved".into(),
        (Some(_), n, k) if n == k => "their work is saved as patches".into(),
        (Some(_), _, 0) => "none had changed anything, so no patch was saved".into(),
        (Some(_), _, _) => format!(
            "the work of session(s) {} is saved as patches; the others had changed nothing",
            list(&with)
        ),
    };
    format!("{head} (Ctrl-C twice, SIGTERM or SIGHUP): {fate}")
}

#[cfg(test)]
mod tests {
    use super::aborted_reason;

    #[test]
    fn the_reason_says_a_patch_was_saved_only_for_sessions_that_have_one() {
        let head = "stopped by the user, who aborted session 3 (Ctrl-C twice, SIGTERM or SIGHUP)";
        assert_eq!(
            aborted_reason(&[3], Some(&[3])),
            format!("{head}: its work is saved as a patch")
        );
        assert_eq!(
            aborted_reason(&[3], Some(&[])),
            format!("{head}: it had changed nothing, so no patch was saved")
        );
        assert!(aborted_reason(&[3], None).ends_with("is unknown (the run ref did not read)"));
        assert!(aborted_reason(&[2, 3], Some(&[2, 3])).ends_with("their work is saved as patches"));
        assert!(aborted_reason(&[2, 3], Some(&[3])).ends_with(
            "the work of session(s) 3 is saved as patches; the others had changed nothing"
        ));
        assert!(
            aborted_reason(&[2, 3], Some(&[]))
                .ends_with("none had changed anything, so no patch was saved")
        );
    }
}
