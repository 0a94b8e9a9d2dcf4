//! A session's fourth stage, once the agent is gone: the worktree back on the run branch, the
//! status decided ([`super::decide`]), and the work either landed on the run branch (leftovers
//! committed with trailers, the verify command run on the result) or saved as a patch, the
//! worktree reset to where the session started.
//!
//! A `dirty` session's leftovers are checked before pitboss commits them. Work an agent
//! commits is the user's code and is left as it is; but what an agent leaves uncommitted,
//! pitboss commits for it, on a branch that is pushed. So pitboss looks first: when what the
//! session added (lines, file names, binary contents) holds anything the redactor would
//! replace, the leftovers are not committed: they are kept whole on a local, never-pushed ref
//! ([`kept`]), the run holds a redacted copy for reading, and the user is warned.

use super::agent_run::Ran;
use super::decide::{AgentRan, Facts, Rewound, SessionFacts, Verdict, Verify, decide};
use super::{Session, hooks};
use crate::agent::AgentOutcome;
use crate::git::{BranchName, Oid, WorktreeState};
use crate::grind::context::Ctx;
use crate::grind::error::GrindError;
use crate::grind::event::{GrindEvent, GrindObserver};
use crate::grind::kept;
use crate::grind::slot::Slot;

/// What the session left: its status, what landed, what was saved instead.
pub(super) struct Landed {
    pub(super) verdict: Verdict,
    /// The run branch's new tip, when the session's work landed and moved it.
    pub(super) commit: Option<Oid>,
    /// Work saved as a patch instead (redacted, capped).
    pub(super) patch: Option<Vec<u8>>,
    /// What the agent reported (`None` when it did not run, or deleted its worktree).
    pub(super) outcome: Option<AgentOutcome>,
}

/// Decides the session's status and lands or saves its work.
pub(super) fn land(
    ctx: &Ctx,
    slot: &mut Slot,
    s: &mut Session,
    ran: Ran,
    settings: Option<String>,
    obs: &mut dyn GrindObserver,
) -> Result<Landed, GrindError> {
    // NB: an agent can delete its own worktree (`rm -rf "$PITBOSS_WORKTREE"`). Its work
    // there is gone, but the session is not: it is recorded as an error saying so, and
    // the slot is added again on the run branch for the next session.
    let deleted = if slot.path.join(".git").exists() {
        None
    } else {
        let gone = slot.path.display().to_string();
        *slot = Slot::open(ctx.repo, &ctx.run, &ctx.branch)?;
        Some(gone)
    };
    // Deleted under the session (`git update-ref -d`, `git branch -D` from another worktree):
    // the worktree's HEAD is then unborn, and the run stops on an error that says so, instead
    // of on git's "cannot read HEAD".
    if ctx.repo.branch_tip(&ctx.branch)?.is_none() {
        return Err(GrindError::BranchGone {
            branch: ctx.branch.to_string(),
        });
    }
    back_on_run_branch(ctx, slot, s.base)?;
    let state = slot.repo().worktree_state()?;
    let rewound = rewound(slot, s.base, state.head)?;
    let (mut facts, outcome) = facts(ran, deleted, &state, s.base);
    facts.rewound = rewound.map(|(lost, _)| Rewound {
        lost,
        base: s.base.to_string()[..12].to_string(),
        slot: false,
    });
    facts.settings = settings;
    let mut verdict = decide(&facts);
    let mut patch = None;
    if verdict.land {
        patch = commit_leftovers(ctx, slot, s, &state, obs)?;
        if ctx.plan.prompt(s.prompt()).is_some_and(|p| p.prompt.verify) {
            facts.verify = verify(ctx, slot, s, &verdict);
            verdict = decide(&facts);
        }
    }
    let wt = slot.repo();
    let mut commit = None;
    if verdict.land {
        let tip = wt.worktree_state()?.head;
        commit = (tip != s.base).then_some(tip);
    } else {
        let since = rewound.map_or(s.base, |(_, to)| to);
        patch = kept::save(ctx, wt, since, session_name(s.seq()))?;
        wt.reset_hard_clean(s.base)?;
    }
    Ok(Landed {
        verdict,
        commit,
        patch,
        outcome,
    })
}

/// The facts of the agent's run (the rewind and verify are filled in by the caller), and its
/// outcome when there is one to record.
pub(super) fn facts(
    ran: Ran,
    deleted: Option<String>,
    state: &WorktreeState,
    base: Oid,
) -> (SessionFacts, Option<AgentOutcome>) {
    let (agent, cost_cut, outcome) = match (ran, deleted) {
        (Ran::Agent { cost_cut, .. }, Some(path)) => {
            (AgentRan::WorktreeDeleted(path), cost_cut, None)
        }
        (Ran::PreHookFailed(_), Some(path)) => (AgentRan::WorktreeDeleted(path), None, None),
        (Ran::PreHookFailed(e), None) => (AgentRan::PreHookFailed(e.to_string()), None, None),
        (Ran::Agent { outcome, cost_cut }, None) => {
            let facts = Facts {
                end: outcome.end,
                reported_error: outcome.reported_error(),
                rate_limited: outcome.rate_limit.is_some(),
                head_moved: state.head != base,
                dirty: state.dirty,
            };
            (AgentRan::Ended(facts), cost_cut, Some(*outcome))
        }
    };
    let facts = SessionFacts {
        agent,
        cost_cut,
        rewound: None,
        settings: None,
        verify: Verify::NotRun,
    };
    (facts, outcome)
}

/// Commits what a landing session left uncommitted, with trailers; or, when it holds what
/// looks like a secret, keeps it on a local ref and returns the run's copy instead.
pub(super) fn commit_leftovers(
    ctx: &Ctx,
    slot: &Slot,
    s: &Session,
    state: &WorktreeState,
    obs: &mut dyn GrindObserver,
) -> Result<Option<Vec<u8>>, GrindError> {
    if !state.dirty {
        return Ok(None);
    }
    if let Some(patch) = leftovers_secret_patch(ctx, slot, s.seq(), state.head, obs)? {
        // Saved as a redacted patch instead; the worktree is back at the agent's HEAD.
        return Ok(Some(patch));
    }
    let (seq, prompt) = (s.seq(), s.prompt());
    let msg = format!(
        "pitboss: work left uncommitted by session {seq:04} ({prompt})\n\nPitboss-Run: {}\nPitboss-Session: {seq}\nPitboss-Prompt: {prompt}\n",
        ctx.run
    );
    slot.repo()
        .commit_all(&msg, &ctx.repo.identity(), ctx.clock.now())?;
    Ok(None)
}

/// Runs the verify command on work about to land.
pub(super) fn verify(ctx: &Ctx, slot: &Slot, s: &mut Session, verdict: &Verdict) -> Verify {
    let env = hooks::env(ctx, slot, &s.marker, Some(verdict.status));
    let cmd = &ctx.plan.verify_command;
    match hooks::run(ctx, slot, "verify", cmd, &env, &mut s.hook_log) {
        Ok(()) => Verify::Passed,
        Err(hooks::HookError::Aborted { .. }) => Verify::Aborted,
        Err(e) => Verify::Failed(e.to_string()),
    }
}

/// pitboss commits a `dirty` session's leftovers itself, and runs are pushed: when they
/// hold anything the redactor would replace, they are kept on a local ref instead (the run's
/// copy, redacted, is returned),
/// the worktree goes back to the agent's last commit, and the user is told.
fn leftovers_secret_patch(
    ctx: &Ctx,
    slot: &Slot,
    seq: u64,
    head: Oid,
    obs: &mut dyn GrindObserver,
) -> Result<Option<Vec<u8>>, GrindError> {
    let wt = slot.repo();
    // Only what the session added (added lines, file names, binary contents): a secret-shaped
    // fixture already in the code, shown as context around an edit, is not its doing.
    if !kept::holds_secret(wt, head, &ctx.redactor)? {
        return Ok(None);
    }
    let Some(kept) = kept::save(ctx, wt, head, session_name(seq))? else {
        return Ok(None);
    };
    let at = kept::kept_ref_in(&kept).unwrap_or_default();
    wt.reset_hard_clean(head)?;
    obs.event(&GrindEvent::Warning {
        message: format!(
            "session {seq}: the work it left uncommitted holds what looks like a secret, so it \
             is not committed to the run branch; it is kept whole on this machine only at {at} \
             (never pushed), and the run holds a redacted copy for reading \
             (`git pitboss show {} {seq}`)",
            ctx.run
        ),
    });
    Ok(Some(kept))
}

/// Puts the worktree back on the run branch after an agent switched branches or detached
/// HEAD (`git checkout -b`, `git switch --detach`). Otherwise its commits would land on no
/// run branch at all, and the next session's reset would move the agent's branch instead
/// of the run's. When HEAD went somewhere that descends from the session's `base`, the run
/// branch is fast-forwarded there, so those commits land (or are saved) like any others;
/// otherwise HEAD is only re-attached, and the work shows as changes against `base`. The
/// agent's own branch is left where it put it.
pub(super) fn back_on_run_branch(ctx: &Ctx, slot: &Slot, base: Oid) -> Result<(), GrindError> {
    back_on_branch(ctx, slot, &ctx.branch, base)
}

/// [`back_on_run_branch`] for any branch a slot works on (a parallel run's slot branch).
pub(super) fn back_on_branch(
    ctx: &Ctx,
    slot: &Slot,
    branch: &BranchName,
    base: Oid,
) -> Result<(), GrindError> {
    let wt = slot.repo();
    if wt.current_branch()?.as_ref() == Some(branch) {
        return Ok(());
    }
    let head = wt.worktree_state()?.head;
    if head != base && wt.is_ancestor(base, head)? {
        // A lost race (someone moved the run branch meanwhile) leaves it alone: the work
        // then shows as changes against it.
        ctx.repo.cas_ref(
            &branch.ref_name(),
            head,
            Some(base),
            &format!("pitboss: session work committed off the run branch ({head})"),
        )?;
    }
    wt.attach_head(branch)?;
    Ok(())
}

/// `Some((commits lost, where the agent's own work starts))` when the session left the run
/// branch at `head`, which does not descend from `base`, the tip the session started on.
pub(super) fn rewound(
    slot: &Slot,
    base: Oid,
    head: Oid,
) -> Result<Option<(usize, Oid)>, GrindError> {
    let wt = slot.repo();
    if wt.is_ancestor(base, head)? {
        return Ok(None);
    }
    let lost = wt.commits_between(head, base)?.len();
    // The agent's work is what it did after the point it went back to (for a plain
    // `reset --hard HEAD~2`, that point is HEAD itself).
    let from = wt.merge_base(base, head)?.unwrap_or(head);
    Ok(Some((lost, from)))
}

/// The name a session's saved work goes by (its patch file's, and its local ref's when it has
/// one): `session-0007`.
pub(super) fn session_name(seq: u64) -> String {
    format!("session-{seq:04}")
}
