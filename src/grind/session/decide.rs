//! A session's status (pure), decided from three sources checked against each other: how the
//! agent's process ended, what the agent reported in its event stream or result file, and what
//! git says about the worktree (did HEAD move, is the tree dirty).
//!
//! - `skipped`, `aborted`, `timeout`: the session was ended by the skip file or
//!   `git pitboss skip`, by the user, or by its time limit. Its work is not landed.
//! - `error`: the agent exited non-zero or by a signal, reported an error, hit a usage limit,
//!   or (Claude Code) never reported a result. A zero exit code does not override a reported
//!   error. Its work is not landed.
//! - `dirty`: the agent finished cleanly but left uncommitted changes (pitboss commits them).
//! - `ok`: the agent finished cleanly and left a clean tree (with or without commits).

use crate::agent::SessionEnd;
use crate::store::SessionStatus;

/// What the loop knows once the agent is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub end: SessionEnd,
    /// The agent said it failed (an error result, a malformed result file, no result at all).
    pub reported_error: bool,
    /// The agent hit a usage limit.
    pub rate_limited: bool,
    /// The worktree's HEAD is no longer the commit the session started from.
    pub head_moved: bool,
    /// Uncommitted changes or untracked files in the worktree.
    pub dirty: bool,
}

/// The status, whether the work lands on the run branch, and why, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: SessionStatus,
    /// Land the work (ok/dirty) or save it as a patch and reset (everything else).
    pub land: bool,
    /// Why the status is what it is, when it is not plain success.
    pub reason: Option<String>,
}

pub fn classify(f: &Facts) -> Verdict {
    let fail = |status, reason: String| Verdict {
        status,
        land: false,
        reason: Some(reason),
    };
    match f.end {
        SessionEnd::Skipped => return fail(SessionStatus::Skipped, "skipped on request".into()),
        SessionEnd::Aborted => return fail(SessionStatus::Aborted, "aborted by the user".into()),
        SessionEnd::TimedOut => return fail(SessionStatus::Timeout, "hit its time limit".into()),
        SessionEnd::Exited { code } if code != 0 => {
            return fail(
                SessionStatus::Error,
                format!("the agent exited with code {code}"),
            );
        }
        SessionEnd::Signalled { signal } => {
            return fail(
                SessionStatus::Error,
                format!("the agent was killed by signal {signal}"),
            );
        }
        SessionEnd::Exited { .. } | SessionEnd::EndedAfterResult => {}
    }
    if f.rate_limited {
        return fail(SessionStatus::Error, "the agent hit a usage limit".into());
    }
    if f.reported_error {
        return fail(SessionStatus::Error, "the agent reported an error".into());
    }
    if f.dirty {
        return Verdict {
            status: SessionStatus::Dirty,
            land: true,
            reason: Some("the agent left uncommitted changes; pitboss committed them".into()),
        };
    }
    Verdict {
        status: SessionStatus::Ok,
        land: true,
        reason: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(end: SessionEnd) -> Facts {
        Facts {
            end,
            reported_error: false,
            rate_limited: false,
            head_moved: false,
            dirty: false,
        }
    }

    #[test]
    fn process_end_comes_first() {
        for (end, status) in [
            (SessionEnd::Skipped, SessionStatus::Skipped),
            (SessionEnd::Aborted, SessionStatus::Aborted),
            (SessionEnd::TimedOut, SessionStatus::Timeout),
            (SessionEnd::Exited { code: 2 }, SessionStatus::Error),
            (SessionEnd::Signalled { signal: 9 }, SessionStatus::Error),
        ] {
            let mut f = facts(end);
            f.dirty = true;
            f.head_moved = true;
            let v = classify(&f);
            assert_eq!(v.status, status, "{end:?}");
            assert!(!v.land);
            assert!(v.reason.is_some());
        }
    }

    #[test]
    fn a_clean_exit_does_not_hide_a_reported_error_or_a_limit() {
        let mut f = facts(SessionEnd::Exited { code: 0 });
        f.reported_error = true;
        assert_eq!(classify(&f).status, SessionStatus::Error);
        let mut f = facts(SessionEnd::EndedAfterResult);
        f.rate_limited = true;
        assert_eq!(classify(&f).status, SessionStatus::Error);
    }

    #[test]
    fn clean_sessions_are_ok_or_dirty_and_land() {
        let mut f = facts(SessionEnd::Exited { code: 0 });
        assert_eq!(
            classify(&f),
            Verdict {
                status: SessionStatus::Ok,
                land: true,
                reason: None
            }
        );
        f.head_moved = true;
        assert_eq!(classify(&f).status, SessionStatus::Ok);
        f.dirty = true;
        let v = classify(&f);
        assert_eq!(v.status, SessionStatus::Dirty);
        assert!(v.land);
    }
}
