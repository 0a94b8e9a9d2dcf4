//! Recovery after a grind that died mid-session: the in-flight marker says which session was
//! running and which process ran its agent; `--resume` ends that agent if it still works in our
//! worktree, and records the session as `aborted` with its partial transcript and its work as a
//! patch, before the next session starts.

use super::land::{back_on_run_branch, session_name};
use super::record::{self, Ending, Publish};
use super::{InFlight, marker_path};
use crate::agent;
use crate::git::Oid;
use crate::grind::context::{Ctx, Progress};
use crate::grind::error::GrindError;
use crate::grind::event::GrindObserver;
use crate::grind::kept;
use crate::grind::slot::Slot;
use crate::plan::Pick;
use crate::store::SessionStatus;
use std::str::FromStr;

/// After a grind that died mid-session: end its agent if it still runs, and record the
/// session as `aborted` with its partial transcript and its work as a patch.
pub(in crate::grind) fn recover_interrupted(
    ctx: &Ctx,
    slot: &Slot,
    progress: &mut Progress,
    obs: &mut dyn GrindObserver,
) -> Result<(), GrindError> {
    // A hook the dead grind was running (a verify command, a post-session hook) goes too.
    super::hooks::end_leftover_hook(slot.run_dir(), &slot.path);
    let marker = marker_path(slot);
    let Ok(text) = std::fs::read_to_string(&marker) else {
        return Ok(());
    };
    let Ok(mut m) = serde_json::from_str::<InFlight>(&text) else {
        let _ = std::fs::remove_file(&marker);
        return Ok(());
    };
    let transcript_path = crate::rundir::session::log(slot.run_dir(), m.seq);
    if m.recorded_in(&progress.records) {
        // It was recorded before grind died; only the marker was left. When an earlier
        // `--resume` recorded it (its work is in the record's patch) and died before putting
        // the worktree back, that is finished now.
        if m.recovering {
            let base = work_base(ctx, slot, &m)?;
            slot.repo().reset_hard_clean(base)?;
            let _ = std::fs::remove_file(&transcript_path);
        }
        let _ = std::fs::remove_file(&marker);
        return Ok(());
    }
    if let Some(pid) = m.agent_pid {
        agent::end_leftover_group(pid, &slot.path);
    }
    count_again(progress, &m);
    // NB: the work stays in the worktree (and on the run branch, when the agent committed)
    // until the record that stores it as a patch is on the run ref: a `--resume` killed before
    // that finds it again.
    let base = work_base(ctx, slot, &m)?;
    let patch = work_patch(ctx, slot, base, m.seq)?;
    m.recovering = true;
    super::prepare::write_marker(slot, &m)?;
    let reason = "pitboss stopped during this session (its process ended); recovered by --resume"
        .to_string();
    let ending = Ending {
        status: SessionStatus::Aborted,
        summary: Some(reason),
        commit: None,
        outcome: None,
    };
    let publish = Publish {
        record: ctx.session_record(&m, ending),
        transcript: Some(transcript_path.clone()).filter(|p| p.is_file()),
        scratchpad: record::scratchpad(ctx, slot),
        patch,
        changed: false,
    };
    progress.append(ctx, publish, obs)?;
    slot.repo().reset_hard_clean(base)?;
    let _ = std::fs::remove_file(&transcript_path);
    let _ = std::fs::remove_file(&marker);
    Ok(())
}

/// The grind that died had picked this session and counted it as an iteration, but the
/// scheduler state and the count are stored only with an append, so both were lost. Count
/// them again, so the run goes on as if the session had been aborted by Ctrl-C: the same
/// budget used, the rotation where it was (not the killed prompt once more). The stored
/// state is the one before that pick, so its next pick is that session, unless the prompts
/// changed in between: then the scheduler is left as it is.
pub(super) fn count_again(progress: &mut Progress, m: &InFlight) {
    progress.dispatched();
    let mut after = progress.scheduler.clone();
    if matches!(after.next_pick(), Pick::Run { prompt, .. } if prompt == m.prompt) {
        progress.scheduler = after;
    }
}

/// Where the killed session started, when that is still on the run branch (else the
/// worktree's head), with the worktree back on the run branch.
fn work_base(ctx: &Ctx, slot: &Slot, m: &InFlight) -> Result<Oid, GrindError> {
    let base = Oid::from_str(&m.base).ok();
    if let Some(b) = base {
        back_on_run_branch(ctx, slot, b)?;
    }
    let head = slot.repo().worktree_state()?.head;
    let Some(b) = base.filter(|b| ctx.repo.is_commit(*b)) else {
        return Ok(head);
    };
    // NB: a failure to tell is an error, not "no": measuring from the worktree's HEAD would
    // store none of the session's commits and say it changed nothing.
    let on = slot
        .repo()
        .is_ancestor(b, head)
        .map_err(|source| GrindError::RecoveryUnsure {
            seq: m.seq,
            branch: format!("the HEAD of {}", slot.path.display()),
            source,
        })?;
    Ok(if on { b } else { head })
}

/// The killed session's work since `base` as the run keeps it (`kept`: the patch, or a note and
/// a readable copy when the work is kept whole on a local ref); `None` when it did nothing.
fn work_patch(ctx: &Ctx, slot: &Slot, base: Oid, seq: u64) -> Result<Option<Vec<u8>>, GrindError> {
    Ok(kept::save(ctx, slot.repo(), base, session_name(seq))?)
}
