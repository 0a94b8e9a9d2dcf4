//! How a run ends: the closing run commit that carries the run's status and why it stopped
//! (how the dispatcher stops, and waits out a usage limit, is `dispatch/halt.rs`).

use super::*;

/// The final run commit, the worktree, and the summary.
pub(super) fn finish(
    ctx: &Ctx,
    slot: Slot,
    progress: &Progress,
    this: ThisGrind,
    stop: StopCause,
    obs: &mut dyn GrindObserver,
) -> Result<GrindSummary, GrindError> {
    let status = stop.run_status();
    let why = stop.describe();
    ctx.store.update_run(
        &ctx.run,
        RunUpdate {
            subject: end_subject(&ctx.run, &status, &why),
            status: Some(status.clone()),
            stop_reason: Some(Some(why)),
            scheduler: Some(progress.scheduler.state().to_json()),
            state_extra: stop_extra(ctx, progress, &stop),
            ..Default::default()
        },
    )?;
    let worktree_kept = if status == RunStatus::Finished {
        crate::grind::dispatch::slots::remove_slots(ctx, obs)?;
        slot.remove(ctx.repo)?;
        let _ = std::fs::remove_dir_all(slot.run_dir());
        None
    } else {
        // Every session ends clean (its work landed or saved), so the worktree is ready.
        Some(slot.path.clone())
    };
    let mine: Vec<&SessionRecord> = progress
        .records
        .iter()
        .filter(|r| r.seq > this.first_seq)
        .collect();
    let c = crate::store::Consumed::from_records(mine.iter().copied());
    let all = crate::store::Consumed::from_records(progress.records.iter());
    let summary = GrindSummary {
        run: ctx.run.clone(),
        run_ref: ctx.run.ref_name(),
        branch: ctx.branch.ref_name().to_string(),
        status,
        stop,
        sessions: mine.len() as u64,
        by_status: c.by_status,
        tokens: c.tokens.total(),
        token_parts: c.tokens,
        cost_usd: c.cost_usd,
        unknown_cost_sessions: c.unknown_cost_sessions,
        wall_seconds: this.started.elapsed().as_secs(),
        worktree_kept,
        resumed: this.resumed,
        landings: super::LandingCounts::of(mine.iter().copied()),
        run_sessions: all.sessions,
        run_by_status: all.by_status,
        run_tokens: all.tokens.total(),
        run_token_parts: all.tokens,
        run_cost_usd: all.cost_usd,
        run_unknown_cost_sessions: all.unknown_cost_sessions,
    };
    obs.event(&GrindEvent::RunFinished {
        summary: Box::new(summary.clone()),
    });
    Ok(summary)
}

/// The closing commit's state fields: the budgets' state, the limits the run ran with (what
/// the views show), and the iteration limit when that is why the run stopped, so its reason can
/// follow the records after a sync adds sessions.
fn stop_extra(
    ctx: &Ctx,
    progress: &Progress,
    stop: &StopCause,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    let mut m = progress.state_extra();
    m.insert(
        crate::plan::in_force::LIMITS_STATE_KEY.to_string(),
        crate::plan::in_force::to_state(&ctx.budgets.limits),
    );
    if let StopCause::Budget {
        reason: StopReason::Iterations { limit, .. },
    } = stop
    {
        m.insert(
            crate::store::STOP_ITERATIONS_KEY.to_string(),
            (*limit).into(),
        );
    }
    m
}

/// Records a run whose grind failed (an error of git, the store, the agent's program or our
/// own files, after the run was taken up) as `failed`, with the error as its stop reason, so
/// `ls` and `show` do not call it running. Best effort: when the store itself cannot be
/// written (a full disk), the run stays `running` and, its lock released, reads as
/// interrupted, which `--resume` handles as it does a crash.
pub(super) fn record_failure(ctx: &Ctx, e: &GrindError, obs: &mut dyn GrindObserver) {
    // An error after the closing commit (removing a finished run's worktree) leaves the
    // recorded end as it is: the run did end so.
    if ctx
        .store
        .open_run(&ctx.run)
        .is_ok_and(|r| r.state.status != RunStatus::Running)
    {
        return;
    }
    // The reason goes into a ref that is pushed: an error may quote a path or git's words.
    let why = ctx.redactor.redact(&failure_reason(e)).into_owned();
    let recorded = ctx.store.update_run(
        &ctx.run,
        RunUpdate {
            subject: end_subject(&ctx.run, &RunStatus::Failed, &why),
            status: Some(RunStatus::Failed),
            stop_reason: Some(Some(why)),
            ..Default::default()
        },
    );
    let message = match recorded {
        Ok(_) => format!(
            "run {} recorded as failed; once the cause is fixed, `git pitboss grind --resume {}` \
             takes it up",
            ctx.run, ctx.run
        ),
        Err(w) => format!(
            "run {} could not be recorded as failed ({w}); it reads as interrupted, and \
             `git pitboss grind --resume {}` takes it up",
            ctx.run, ctx.run
        ),
    };
    obs.event(&GrindEvent::Warning { message });
}

/// `grind failed: <error>: <its causes>`, each cause once (many errors already name theirs).
pub(super) fn failure_reason(e: &GrindError) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text = format!("{text}: {s_text}");
        }
        source = s.source();
    }
    format!("grind failed: {text}")
}

/// The subject of a run's last commit: `run <id> finished: <status> (<reason>)`, and for a
/// finished run `run <id> finished (<reason>)` rather than "finished: finished".
pub(super) fn end_subject(run: &RunId, status: &RunStatus, why: &str) -> String {
    if *status == RunStatus::Finished {
        format!("run {run} finished ({why})")
    } else {
        format!("run {run} finished: {status} ({why})")
    }
}
