//! The stage a session of a parallel run goes through in its own thread once its agent is gone:
//! the slot back on its slot branch, the status decided ([`super::decide`], as in a sequential
//! session), and the work either committed on the slot branch (leftovers with trailers) for the
//! landing queue to take, or saved as a patch with the slot reset to where the session started.
//! Nothing here touches the run branch: only the landing queue moves it
//! ([`super::landing`]), one session at a time.

use super::decide::{Rewound, SessionFacts, Verdict, decide};
use super::land::{back_on_branch, commit_leftovers, facts, rewound, session_name};
use super::prepare::write_marker;
use super::{Session, agent_run};
use crate::agent::AgentOutcome;
use crate::git::Oid;
use crate::grind::context::Ctx;
use crate::grind::error::GrindError;
use crate::grind::event::GrindObserver;
use crate::grind::kept;
use crate::grind::slot::Slot;

/// A session of a parallel run whose agent is gone and whose work is on its slot branch
/// (`base..head`), or saved as a patch; waiting for the landing queue.
pub(in crate::grind) struct Settled {
    pub(super) s: Session,
    pub(super) slot: Slot,
    pub(super) facts: SessionFacts,
    pub(super) verdict: Verdict,
    /// The slot branch's head: the session's work is the commits `s.base..head`.
    pub(super) head: Oid,
    /// When its agent was gone and its work settled: the end its record gives, not the moment
    /// the queue came to it (it may wait there for older sessions).
    pub(super) ended_at: chrono::DateTime<chrono::Utc>,
    pub(super) patch: Option<Vec<u8>>,
    pub(super) outcome: Option<AgentOutcome>,
}

/// Runs the session's agent in its slot and settles its work there (the thread of one
/// session of a parallel run). `ctx` is the thread's own context.
pub(in crate::grind) fn run_in_slot(
    ctx: &Ctx,
    mut slot: Slot,
    mut s: Session,
    obs: &mut dyn GrindObserver,
) -> Result<Settled, GrindError> {
    let ran = agent_run::run(ctx, &slot, &mut s, obs)?;
    // Its agent is gone: from now on it only waits to land, which no skip can end.
    s.marker.settled = true;
    s.marker.agent_pid = None;
    write_marker(&slot, &s.marker)?;
    // NB: an agent can delete its own worktree; the slot is added again for the next session.
    let deleted = if slot.path.join(".git").exists() {
        None
    } else {
        let gone = slot.path.display().to_string();
        slot = Slot::open_parallel(ctx.repo, &ctx.run, slot.index, s.base)?;
        Some(gone)
    };
    back_on_branch(ctx, &slot, &slot.branch, s.base)?;
    let state = slot.repo().worktree_state()?;
    let rewound = rewound(&slot, s.base, state.head)?;
    let (mut facts, outcome) = facts(ran, deleted, &state, s.base);
    facts.rewound = rewound.map(|(lost, _)| Rewound {
        lost,
        base: s.base.to_string()[..12].to_string(),
        slot: true,
    });
    let verdict = decide(&facts);
    let patch = if verdict.land {
        commit_leftovers(ctx, &slot, &s, &state, obs)?
    } else {
        let since = rewound.map_or(s.base, |(_, to)| to);
        let patch = kept::save(ctx, slot.repo(), since, session_name(s.seq()))?;
        slot.repo().reset_hard_clean(s.base)?;
        patch
    };
    let head = slot.repo().worktree_state()?.head;
    Ok(Settled {
        s,
        slot,
        facts,
        verdict,
        head,
        ended_at: ctx.clock.now(),
        patch,
        outcome,
    })
}
