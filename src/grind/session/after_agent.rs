//! What every session goes through once its agent is gone, whether it ran in the run's own
//! worktree on the run branch (a run of one slot) or in a slot of a parallel run on its slot
//! branch: one path, [`settle`]. The worktree goes back on the branch the session works on, the
//! status is decided ([`super::decide`]), and the work is either kept on that branch for the
//! landing stage (leftovers committed with trailers) or saved as a patch with the worktree reset
//! to where the session started. Nothing here moves the run branch for a parallel session: only
//! the landing stage does ([`super::landing`]), one session at a time. A session of a run of one
//! slot works on the run branch itself, so its work is there already; its landing has nothing to
//! replay.
//!
//! A `dirty` session's leftovers are checked before pitboss commits them. Work an agent
//! commits is the user's code and is left as it is; but what an agent leaves uncommitted,
//! pitboss commits for it, on a branch that is pushed. So pitboss looks first: when what the
//! session added (lines, file names, binary contents) holds anything the redactor would
//! replace, the leftovers are not committed: they are kept whole on a local, never-pushed ref
//! ([`kept`]), the run holds a redacted copy for reading, and the user is warned.

use super::agent_run::{self, Ran};
use super::decide::{AgentRan, Facts, Rewound, SessionFacts, Verdict, Verify, decide};
use super::prepare::write_marker;
use super::{Session, guard, hooks};
use crate::agent::AgentOutcome;
use crate::git::{BranchName, Oid, WorktreeState};
use crate::grind::context::Ctx;
use crate::grind::error::GrindError;
use crate::grind::event::{GrindEvent, GrindObserver};
use crate::grind::kept;
use crate::grind::slot::Slot;

/// A session whose agent is gone and whose work is on the branch it works on (`base..head`),
/// or saved as a patch: what the landing stage takes.
pub(in crate::grind) struct Settled {
    pub(super) s: Session,
    pub(super) slot: Slot,
    pub(super) facts: SessionFacts,
    pub(super) verdict: Verdict,
    /// The branch's head: the session's work is the commits `s.base..head`.
    pub(super) head: Oid,
    /// When its agent was gone and its work settled: the end a parallel session's record gives,
    /// not the moment the queue came to it (it may wait there for older sessions).
    pub(super) ended_at: chrono::DateTime<chrono::Utc>,
    /// Leftovers saved as a patch instead of committed (they looked like a secret), or the work
    /// of a session that does not land.
    pub(super) patch: Option<Vec<u8>>,
    pub(super) outcome: Option<AgentOutcome>,
}

/// Runs the session's agent in the run's own worktree, on the run branch (a run of one slot,
/// on the grind's own thread), and settles its work there. The git directory's hooks and config
/// are snapshotted before the agent and put back after it, and the run ref is held: a change
/// found is this session's alone, so it goes into its verdict.
pub(in crate::grind) fn run_home(
    ctx: &Ctx,
    slot: Slot,
    mut s: Session,
    obs: &mut dyn GrindObserver,
) -> Result<Settled, GrindError> {
    let settings = ctx.repo.snapshot_settings()?;
    let ran = agent_run::run(ctx, &slot, &mut s, obs)?;
    let found = settings.restore()?;
    let settings_why = (!found.is_empty()).then(|| guard::settings_reason(&found, &[]));
    // The run ref is pitboss's, as the git settings are: moved by the agent, it goes back and
    // the session is an error, like a session that moved the run branch.
    let ref_why = ctx
        .store
        .hold_tip(&ctx.run)?
        .map(|r| guard::run_ref_reason(&r));
    for why in settings_why.iter().chain(&ref_why) {
        obs.event(&GrindEvent::Warning {
            message: format!("session {}: {why}", s.seq()),
        });
    }
    let changed = match (settings_why, ref_why) {
        (Some(a), Some(b)) => Some(format!("{a}; and {b}")),
        (a, b) => a.or(b),
    };
    settle(ctx, slot, s, ran, changed, obs)
}

/// Runs the session's agent in its slot and settles its work there (the thread of one session
/// of a parallel run; `ctx` is the thread's own context). What the agent may have done to the
/// run branch, the run ref and the git settings is checked by the dispatcher, which knows which
/// sessions were running beside it.
pub(in crate::grind) fn run_in_slot(
    ctx: &Ctx,
    slot: Slot,
    mut s: Session,
    obs: &mut dyn GrindObserver,
) -> Result<Settled, GrindError> {
    let ran = agent_run::run(ctx, &slot, &mut s, obs)?;
    // Its agent is gone: from now on it only waits to land, which no skip can end.
    s.marker.settled = true;
    s.marker.agent_pid = None;
    write_marker(&slot, &s.marker)?;
    settle(ctx, slot, s, ran, None, obs)
}

/// The one path after an agent: the worktree back on its branch, the status decided (with
/// `charge`, a change of the git settings or the run ref already found and undone), the work
/// kept on the branch or saved as a patch.
fn settle(
    ctx: &Ctx,
    mut slot: Slot,
    s: Session,
    ran: Ran,
    charge: Option<String>,
    obs: &mut dyn GrindObserver,
) -> Result<Settled, GrindError> {
    let home = s.parallel.is_none();
    // NB: an agent can delete its own worktree (`rm -rf "$PITBOSS_WORKTREE"`). Its work
    // there is gone, but the session is not: it is recorded as an error saying so, and
    // the slot is added again for the next session.
    let deleted = if slot.path.join(".git").exists() {
        None
    } else {
        let gone = slot.path.display().to_string();
        slot = if home {
            Slot::open(ctx.repo, &ctx.run, &ctx.branch)?
        } else {
            Slot::open_parallel(ctx.repo, &ctx.run, slot.index, s.base)?
        };
        Some(gone)
    };
    // The run branch deleted under a session that works on it (`git update-ref -d`, `git branch
    // -D` from another worktree): the worktree's HEAD is then unborn, and the run stops on an
    // error that says so, instead of on git's "cannot read HEAD". (A parallel session's agent
    // does not work on it: the dispatcher puts it back and charges the move.)
    if home && ctx.repo.branch_tip(&ctx.branch)?.is_none() {
        return Err(GrindError::BranchGone {
            branch: ctx.branch.to_string(),
        });
    }
    back_on_branch(ctx, &slot, &slot.branch, s.base)?;
    let state = slot.repo().worktree_state()?;
    let rewound = rewound(&slot, s.base, state.head)?;
    let (mut facts, outcome) = facts(ran, deleted, &state, s.base);
    facts.rewound = rewound.map(|(lost, _)| Rewound {
        lost,
        base: s.base.to_string()[..12].to_string(),
        slot: !home,
    });
    facts.settings = charge;
    let verdict = decide(&facts);
    let patch = if verdict.land {
        commit_leftovers(ctx, &slot, &s, &state, obs)?
    } else {
        let since = rewound.map_or(s.base, |(_, to)| to);
        let patch = kept::save(ctx, slot.repo(), since, session_name(s.seq()))?;
        hold_saved_work(&slot, patch.as_deref())?;
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

/// Puts the worktree back on `branch` (the run branch, or a parallel slot's branch) after an
/// agent switched branches or detached HEAD (`git checkout -b`, `git switch --detach`).
/// Otherwise its commits would land on no branch at all, and the next session's reset would
/// move the agent's branch instead. When HEAD went somewhere that descends from the session's
/// `base`, the branch is fast-forwarded there, so those commits land (or are saved) like any
/// others; otherwise HEAD is only re-attached, and the work shows as changes against `base`.
/// The agent's own branch is left where it put it.
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

/// Writes the work of a session kept off the branch (its patch) beside its marker before its
/// worktree is reset: until the record that stores the patch is appended, the patch is held in
/// memory only, and a grind killed in between would leave `--resume` a worktree with nothing
/// in it (`recover.rs` reads this file then; `record.rs` removes it after the append).
pub(super) fn hold_saved_work(slot: &Slot, patch: Option<&[u8]>) -> Result<(), GrindError> {
    let Some(patch) = patch else {
        return Ok(());
    };
    let path = crate::rundir::session::saved_work(slot.run_dir());
    let tmp = path.with_extension("patch.tmp");
    std::fs::write(&tmp, patch)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(GrindError::io(format!("cannot write {}", path.display())))
}

/// The name a session's saved work goes by (its patch file's, and its local ref's when it has
/// one): `session-0007`.
pub(super) fn session_name(seq: u64) -> String {
    format!("session-{seq:04}")
}
