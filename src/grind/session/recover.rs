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
use crate::grind::kept;
use crate::grind::run::{GrindError, GrindObserver};
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
    let Ok(m) = serde_json::from_str::<InFlight>(&text) else {
        let _ = std::fs::remove_file(&marker);
        return Ok(());
    };
    if m.recorded_in(&progress.records) {
        // It was recorded before grind died; only the marker was left.
        let _ = std::fs::remove_file(&marker);
        return Ok(());
    }
    if let Some(pid) = m.agent_pid {
        agent::end_leftover_group(pid, &slot.path);
    }
    count_again(progress, &m);
    let patch = save_work(ctx, slot, &m)?;
    let transcript_path = slot.run_dir().join(format!("session-{:04}.log", m.seq));
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
    progress.spent.iterations += 1;
    let mut after = progress.scheduler.clone();
    if matches!(after.next_pick(), Pick::Run { prompt, .. } if prompt == m.prompt) {
        progress.scheduler = after;
    }
}

/// The killed session's work as a patch (against where it started, when that is still on
/// the run branch), and the worktree reset there.
fn save_work(ctx: &Ctx, slot: &Slot, m: &InFlight) -> Result<Option<Vec<u8>>, GrindError> {
    let base = Oid::from_str(&m.base).ok();
    if let Some(b) = base {
        back_on_run_branch(ctx, slot, b)?;
    }
    let wt = slot.repo();
    let tip = wt.worktree_state()?.head;
    let base = base
        .filter(|b| ctx.repo.is_ancestor(*b, tip).unwrap_or(false))
        .unwrap_or(tip);
    let patch = kept::save(ctx, wt, base, session_name(m.seq))?;
    wt.reset_hard_clean(base)?;
    Ok(patch)
}
