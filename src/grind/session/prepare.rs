//! A session's first stage: the worktree reset to the run branch's tip, the in-flight marker
//! and the scratchpad written, and the agent's input composed, before anything runs.

use std::path::Path;

use super::{Dispatch, InFlight, Session, marker_path};
use crate::agent::{self, SessionSpec};
use crate::git::Oid;
use crate::grind::compose::{InputParts, compose};
use crate::grind::context::{Ctx, Progress};
use crate::grind::error::GrindError;
use crate::grind::event::{GrindEvent, GrindObserver};
use crate::grind::slot::Slot;

/// Readies the session `d` says (in sequential runs, `last_seq + 1`; in parallel ones, the seq
/// reserved at dispatch); says so to the observer.
pub(in crate::grind) fn prepare(
    ctx: &Ctx,
    slot: &Slot,
    progress: &Progress,
    d: Dispatch<'_>,
    obs: &mut dyn GrindObserver,
) -> Result<Session, GrindError> {
    let Dispatch {
        prompt,
        rotation,
        seq,
        parallel,
    } = d;
    let slot_no = parallel.as_ref().map(|p| p.slot);
    let planned = ctx.plan.prompt(prompt);
    let base = reset_to_tip(ctx, slot)?;
    let started_at = ctx.clock.now();
    let budget = planned.map(|p| p.session_budget());
    let timeout = budget
        .as_ref()
        .and_then(|b| ctx.budgets.session_limit(b, started_at));
    obs.event(&GrindEvent::SessionStarted {
        seq,
        slot: slot_no,
        prompt: prompt.to_string(),
        rotation,
        started_at,
        timeout_seconds: timeout.map(|d| d.as_secs()),
    });
    let marker = InFlight {
        seq,
        prompt: prompt.to_string(),
        started_at,
        base: base.to_string(),
        agent_pid: None,
        slot: slot_no,
        settled: false,
        landing: None,
        recovering: false,
    };
    write_marker(slot, &marker)?;
    let run_dir = slot.run_dir().to_path_buf();
    write_scratchpad(&run_dir, &progress.scratchpad, parallel.is_some())?;
    let input = compose(&InputParts {
        run_id: ctx.run.as_str(),
        seq,
        prompt_name: prompt,
        prompt_body: planned.map_or("", |p| p.prompt.body.as_str()),
        recent: &progress.records,
        scratchpad: &progress.scratchpad,
    });
    let mut spec = SessionSpec::new(ctx.run.as_str(), seq, prompt, &slot.path, &run_dir, input);
    if let Some(t) = timeout {
        spec = spec.with_timeout(t);
    }
    spec.redact_env = ctx.req.env.clone();
    spec.started_at = started_at;
    spec.max_cost_usd = match &parallel {
        // The run's cost budget is the fuse's, shared by the live sessions.
        Some(_) => budget.and_then(|b| b.max_cost_usd),
        None => budget
            .as_ref()
            .and_then(|b| ctx.budgets.session_cost_limit(b, &progress.spent)),
    };
    Ok(Session {
        marker,
        base,
        spec,
        hook_log: Vec::new(),
        parallel,
    })
}

/// The run branch's tip, the slot's worktree made clean at it.
fn reset_to_tip(ctx: &Ctx, slot: &Slot) -> Result<Oid, GrindError> {
    let branch = &ctx.branch;
    let base = ctx
        .repo
        .branch_tip(branch)?
        .ok_or_else(|| GrindError::BranchGone {
            branch: branch.to_string(),
        })?;
    let wt = slot.repo();
    // Sessions end clean, so this is usually a no-op; a status check is cheaper than a
    // forced checkout.
    let now_state = wt.worktree_state()?;
    if now_state.dirty || now_state.head != base {
        wt.reset_hard_clean(base)?;
    }
    Ok(base)
}

/// Writes the scratchpad the agent reads and edits in `run_dir` and, for a parallel session,
/// the copy it started from (to merge its edits into the run's at landing).
fn write_scratchpad(run_dir: &Path, scratchpad: &str, parallel: bool) -> Result<(), GrindError> {
    let files = agent::SessionFiles::in_dir(run_dir);
    std::fs::write(&files.scratchpad, scratchpad).map_err(GrindError::io(format!(
        "cannot write {}",
        files.scratchpad.display()
    )))?;
    if parallel {
        let copy = run_dir.join(super::SNAPSHOT_FILE);
        std::fs::write(&copy, scratchpad)
            .map_err(GrindError::io(format!("cannot write {}", copy.display())))?;
    }
    Ok(())
}

pub(super) fn write_marker(slot: &Slot, m: &InFlight) -> Result<(), GrindError> {
    let path = marker_path(slot);
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string(m)
        .expect("the in-flight marker is plain data, which always serialises");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(GrindError::io(format!("cannot write {}", path.display())))
}
