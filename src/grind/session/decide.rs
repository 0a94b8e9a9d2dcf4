//! A session's status (pure), decided from three sources checked against each other: how the
//! agent's process ended, what the agent reported in its event stream or result file, and what
//! git says about the worktree (did HEAD move, is the tree dirty). [`classify`] judges the
//! agent; [`decide`] judges the whole session, adding what the loop found around it (the
//! pre-session hook, a deleted worktree, the cost cap, a rewritten run branch, the verify
//! command). [`decide`] is the only place a status is set: the loop calls it once the agent is
//! gone and, when the work would land and the prompt asks for verification, again with the
//! verify command's result.
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

/// Everything known about a session when its status is decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionFacts {
    pub agent: AgentRan,
    /// Why the session was cut at its cost cap, when it was.
    pub cost_cut: Option<String>,
    /// The session moved the run branch off the tip it started on.
    pub rewound: Option<Rewound>,
    /// The session changed the repository's hooks or config (put back since), in words.
    pub settings: Option<String>,
    pub verify: Verify,
}

/// Whether the agent ran, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AgentRan {
    Ended(Facts),
    /// The pre-session hook failed (its error, in words), so the agent never started.
    PreHookFailed(String),
    /// The agent deleted its own worktree (this path); its work there is gone.
    WorktreeDeleted(String),
}

/// A run branch moved back by the session: `lost` commits of earlier sessions would be lost;
/// the branch goes back to `base` (the first 12 hex digits of the tip the session started on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rewound {
    pub lost: usize,
    pub base: String,
    /// The session worked on a slot branch of a parallel run, not on the run branch itself
    /// (which it then never touched).
    pub slot: bool,
}

/// The verify command's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verify {
    /// Not run (yet): no verify for this prompt, or the work does not land.
    NotRun,
    Passed,
    /// It failed, in words.
    Failed(String),
    /// The user aborted it (Ctrl-C twice, SIGTERM, SIGHUP): nothing is known of the work.
    Aborted,
}

/// The session's status. The later facts win: the agent's end, then the cost cap (like a time
/// limit, its work does not land), then a rewritten run branch, then a failed verify command
/// (which can only fail work that would land).
pub(crate) fn decide(f: &SessionFacts) -> Verdict {
    let error = |reason: String| Verdict {
        status: SessionStatus::Error,
        land: false,
        reason: Some(reason),
    };
    let mut verdict = match &f.agent {
        AgentRan::Ended(facts) => classify(facts),
        AgentRan::PreHookFailed(why) => error(why.clone()),
        AgentRan::WorktreeDeleted(path) => error(format!(
            "the agent deleted its worktree {path}; whatever it did there is lost"
        )),
    };
    if let Some(why) = &f.cost_cut {
        verdict = Verdict {
            status: SessionStatus::Timeout,
            land: false,
            reason: Some(why.clone()),
        };
    }
    // The branch is the agent's, the history is not: a session that moved the run branch off
    // the tip it started on (`git reset --hard HEAD~2`, a rebase) would drop commits earlier
    // sessions landed. Its work is saved against the point it rewound to, and the branch goes
    // back where it was.
    if let Some(Rewound { lost, base, slot }) = &f.rewound {
        let commits = format!("{lost} commit{}", if *lost == 1 { "" } else { "s" });
        verdict = error(if *slot {
            format!(
                "rewound its slot branch below the tip it started from ({base}): landing it \
                 would drop {commits} of earlier sessions; the run branch is untouched and the \
                 session's work is saved as a patch"
            )
        } else {
            format!(
                "rewrote the run branch: {commits} of earlier sessions would be lost; the branch \
                 is back at {base} and the session's work is saved as a patch"
            )
        });
    }
    // What an agent writes into hooks or config runs as the user: whatever else it did, the
    // session is an error that says what it found.
    if let Some(why) = &f.settings {
        verdict = error(why.clone());
    }
    match &f.verify {
        Verify::Failed(why) if verdict.land => verdict = error(why.clone()),
        // Not a verdict on the work: the user stopped the run while it was being checked. Its
        // work is kept off the branch and saved, as an aborted session's is.
        Verify::Aborted if verdict.land => {
            verdict = Verdict {
                status: SessionStatus::Aborted,
                land: false,
                reason: Some("aborted by the user while its verify command ran".into()),
            }
        }
        _ => {}
    }
    verdict
}

/// What the loop knows once the agent is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Facts {
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
pub(crate) struct Verdict {
    pub status: SessionStatus,
    /// Land the work (ok/dirty) or save it as a patch and reset (everything else).
    pub land: bool,
    /// Why the status is what it is, when it is not plain success.
    pub reason: Option<String>,
}

pub(crate) fn classify(f: &Facts) -> Verdict {
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

    fn session(agent: AgentRan) -> SessionFacts {
        SessionFacts {
            agent,
            cost_cut: None,
            rewound: None,
            settings: None,
            verify: Verify::NotRun,
        }
    }

    fn clean() -> AgentRan {
        AgentRan::Ended(facts(SessionEnd::Exited { code: 0 }))
    }

    #[test]
    fn a_session_whose_agent_ran_is_what_the_agent_facts_say() {
        let mut dirty = facts(SessionEnd::Exited { code: 0 });
        dirty.dirty = true;
        for f in [
            facts(SessionEnd::TimedOut),
            dirty.clone(),
            facts(SessionEnd::Aborted),
        ] {
            assert_eq!(decide(&session(AgentRan::Ended(f.clone()))), classify(&f));
        }
        let mut s = session(AgentRan::Ended(dirty));
        s.verify = Verify::Passed;
        assert_eq!(decide(&s).status, SessionStatus::Dirty);
    }

    #[test]
    fn no_agent_run_is_an_error_that_says_why() {
        let v = decide(&session(AgentRan::PreHookFailed(
            "the pre_session hook `false` exited with code 1".into(),
        )));
        assert_eq!(
            v,
            Verdict {
                status: SessionStatus::Error,
                land: false,
                reason: Some("the pre_session hook `false` exited with code 1".into()),
            }
        );
        let v = decide(&session(AgentRan::WorktreeDeleted("/w/0".into())));
        assert_eq!(v.status, SessionStatus::Error);
        assert!(!v.land);
        assert_eq!(
            v.reason.as_deref(),
            Some("the agent deleted its worktree /w/0; whatever it did there is lost")
        );
    }

    #[test]
    fn a_cost_cut_is_a_timeout_whatever_the_agent_said() {
        for agent in [clean(), AgentRan::WorktreeDeleted("/w/0".into())] {
            let mut s = session(agent);
            s.cost_cut = Some("cut at its cost cap".into());
            let v = decide(&s);
            assert_eq!(v.status, SessionStatus::Timeout);
            assert!(!v.land);
            assert_eq!(v.reason.as_deref(), Some("cut at its cost cap"));
        }
    }

    #[test]
    fn a_rewritten_run_branch_wins_over_a_cost_cut_and_names_the_commits_lost() {
        let mut s = session(clean());
        s.cost_cut = Some("cut".into());
        s.rewound = Some(Rewound {
            lost: 1,
            base: "0123456789ab".into(),
            slot: false,
        });
        let v = decide(&s);
        assert_eq!(v.status, SessionStatus::Error);
        assert!(!v.land);
        assert_eq!(
            v.reason.as_deref(),
            Some(
                "rewrote the run branch: 1 commit of earlier sessions would be lost; the branch \
                 is back at 0123456789ab and the session's work is saved as a patch"
            )
        );
        s.rewound = Some(Rewound {
            lost: 2,
            base: "0123456789ab".into(),
            slot: false,
        });
        assert!(decide(&s).reason.unwrap().contains("2 commits of earlier"));
        s.rewound = Some(Rewound {
            lost: 2,
            base: "0123456789ab".into(),
            slot: true,
        });
        let why = decide(&s).reason.unwrap();
        assert!(
            why.starts_with("rewound its slot branch below the tip it started from")
                && why.contains("the run branch is untouched"),
            "{why}"
        );
    }

    #[test]
    fn changed_settings_make_an_error_whatever_the_agent_said() {
        let mut s = session(clean());
        s.settings = Some("changed hooks".into());
        let v = decide(&s);
        assert_eq!((v.status, v.land), (SessionStatus::Error, false));
        assert_eq!(v.reason.as_deref(), Some("changed hooks"));
    }

    #[test]
    fn a_failed_verify_fails_only_work_that_would_land() {
        let mut s = session(clean());
        s.verify = Verify::Failed("the verify command `make test` exited with code 2".into());
        let v = decide(&s);
        assert_eq!(v.status, SessionStatus::Error);
        assert!(!v.land);
        assert_eq!(
            v.reason.as_deref(),
            Some("the verify command `make test` exited with code 2")
        );
        // A session already failed keeps its own status and reason.
        let mut s = session(AgentRan::Ended(facts(SessionEnd::TimedOut)));
        s.verify = Verify::Failed("verify failed".into());
        assert_eq!(decide(&s), classify(&facts(SessionEnd::TimedOut)));
    }

    #[test]
    fn a_verify_the_user_aborted_is_an_abort_not_a_failure() {
        let mut s = session(clean());
        s.verify = Verify::Aborted;
        let v = decide(&s);
        assert_eq!((v.status, v.land), (SessionStatus::Aborted, false));
        assert_eq!(
            v.reason.as_deref(),
            Some("aborted by the user while its verify command ran")
        );
        let mut s = session(AgentRan::Ended(facts(SessionEnd::TimedOut)));
        s.verify = Verify::Aborted;
        assert_eq!(decide(&s), classify(&facts(SessionEnd::TimedOut)));
    }

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
