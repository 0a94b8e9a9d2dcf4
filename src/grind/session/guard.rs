//! The run branch belongs to the landing queue of a parallel run: agents work on slot branches,
//! and only the queue moves `pitboss/<id>`, by compare-and-swap from the tip it last left. An
//! agent can still reach the branch (`git update-ref refs/heads/pitboss/<id> …`, `git push .
//! HEAD:pitboss/<id>`, a reset in slot 0): replaying onto whatever tip the queue then finds
//! would drop sessions already recorded `landed`, or carry the run onto an unrelated root.
//!
//! So the queue checks the branch against the tip it expects whenever an agent has just ended
//! and before every landing; when it moved, the branch goes back (the commit it pointed at is
//! named, so nothing the agent made there is out of reach) and the session is an `error`. This
//! is the parallel twin of the sequential run's "rewrote the run branch" (`decide.rs`).
//!
//! The git directory's hooks and config are guarded the same way, in every run: a snapshot
//! before the agents, compared afterwards, put back (`git/settings_guard.rs`); and so is the
//! run ref, checked as each agent ends (`store/written.rs` puts it back): before, an agent that
//! rewound it got an `ok` while one that moved the run branch got an `error`. The words for the
//! session charged with a change are here.

use crate::git::{CasOutcome, Oid};
use crate::grind::context::Ctx;
use crate::grind::error::GrindError;
use crate::store::RestoredRef;

/// The run branch was found off the tip the queue expected, and put back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::grind) struct Moved {
    /// The tip the queue last left, where the branch is again.
    pub(in crate::grind) expected: Oid,
    /// Where it was found (`None`: deleted).
    pub(in crate::grind) found: Option<Oid>,
}

/// Puts the run branch back at `expected` when it is anywhere else (or gone), and says where it
/// was. `Ok(None)`: it is where the queue left it.
pub(in crate::grind) fn hold_branch(ctx: &Ctx, expected: Oid) -> Result<Option<Moved>, GrindError> {
    let branch_ref = ctx.branch.ref_name();
    // NB: a few tries, in case the mover is still at it; past them the run stops rather than
    // land onto a branch it cannot hold.
    for _ in 0..3 {
        let found = ctx.repo.branch_tip(&ctx.branch)?;
        if found == Some(expected) {
            return Ok(None);
        }
        let msg = format!(
            "pitboss: put the run branch of run {} back where the landing queue left it",
            ctx.run
        );
        if let CasOutcome::Updated = ctx.repo.cas_ref(&branch_ref, expected, found, &msg)? {
            return Ok(Some(Moved { expected, found }));
        }
    }
    Err(GrindError::BranchUnheld {
        branch: ctx.branch.to_string(),
        tip: expected.to_string(),
    })
}

impl Moved {
    /// Why the session it is charged to is an `error`, in words.
    pub(in crate::grind) fn reason(&self) -> String {
        let short = |o: Oid| o.to_string()[..12].to_string();
        let found = match self.found {
            Some(to) => format!("moved to {} (that commit is left as it is)", short(to)),
            None => "deleted".to_string(),
        };
        format!(
            "the run branch was {found} while this session ran, off {}, the tip the landing \
             queue last left; it is back there, and this session's work is saved as a patch",
            short(self.expected)
        )
    }
}

/// Why a session is an `error` when the run ref moved while it ran: the run ref is the run's
/// record, written by pitboss alone (`store/written.rs` put it back), as the run branch is the
/// landing queue's.
pub(in crate::grind) fn run_ref_reason(r: &RestoredRef) -> String {
    let short = |o: Oid| o.to_string()[..12].to_string();
    let found = match r.found {
        Some(to) => format!("moved to {} (that commit is left as it is)", short(to)),
        None => "deleted".to_string(),
    };
    format!(
        "the run ref {} was {found} while this session ran; it is the run's record, not the \
         agent's to write: it is back at {}, the tip grind wrote, and this session's work is \
         saved as a patch",
        r.refname,
        short(r.tip)
    )
}

/// Why a session is an `error` for changing the git directory's settings (`found`, as
/// [`crate::git::SettingsSnapshot::restore`] names them). `with`: the sessions that ran beside it
/// when the change was found (which of them made it cannot be told).
pub(in crate::grind) fn settings_reason(found: &[String], with: &[u64]) -> String {
    let shown: Vec<&str> = found.iter().take(5).map(String::as_str).collect();
    let more = found.len().saturating_sub(shown.len());
    let list = if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    };
    let who = match with {
        [] => String::new(),
        seqs => format!(
            " (found while sessions {} also ran: which of them did it cannot be told, so each \
             is charged with it)",
            seqs.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!(
        "changed the repository's git settings, which would run as the user: {list}{who}; all \
         put back as they were, and its work is saved as a patch"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn the_reason_names_both_tips_or_the_deletion() {
        let a = Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap();
        let b = Oid::from_str("fedcba9876543210fedcba9876543210fedcba98").unwrap();
        let moved = Moved {
            expected: a,
            found: Some(b),
        };
        assert_eq!(
            moved.reason(),
            "the run branch was moved to fedcba987654 (that commit is left as it is) while this \
             session ran, off 0123456789ab, the tip the landing queue last left; it is back \
             there, and this session's work is saved as a patch"
        );
        let gone = Moved {
            expected: a,
            found: None,
        };
        assert!(
            gone.reason()
                .starts_with("the run branch was deleted while")
        );
    }
}
