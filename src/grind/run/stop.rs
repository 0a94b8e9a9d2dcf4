//! How a run waits and ends: a usage-limit wait bounded by `--until` and the user's signals, and
//! the closing run commit that carries the run's status and why it stopped.

use super::*;

// NB: here rather than beside `StopCause` (grind/summary.rs), so that the vocabulary does not
// depend on the loop's context.
impl StopCause {
    /// The user's stop, told apart by whether this grind's last session was cut short
    /// (recorded `aborted`: only the user's abort records a session so).
    pub(in crate::grind) fn user(ctx: &Ctx, progress: &Progress, first_seq: u64) -> StopCause {
        // Only the user's abort ends a session of this grind as `aborted` (one a `--resume`
        // recovered is at or before `first_seq`); in a parallel run, every one that was running,
        // recorded in seq order among the younger sessions that landed.
        let aborted: Vec<u64> = progress
            .records
            .iter()
            .filter(|r| r.seq > first_seq && r.status == crate::store::SessionStatus::Aborted)
            .map(|r| r.seq)
            .collect();
        // NB: a session that had changed nothing stores no patch, so the stop reason asks the
        // run ref rather than saying "saved as a patch" of every aborted session.
        let saved_patches = ctx.store.open_run(&ctx.run).ok().and_then(|run| {
            aborted
                .iter()
                .map(|&seq| Ok(ctx.store.patch_blob(&run, seq)?.map(|_| seq)))
                .collect::<Result<Vec<_>, crate::store::StoreError>>()
                .ok()
                .map(|v| v.into_iter().flatten().collect())
        });
        StopCause::User {
            drained: aborted.is_empty(),
            aborted_session: aborted.last().copied(),
            aborted_sessions: if aborted.len() > 1 {
                aborted
            } else {
                Vec::new()
            },
            saved_patches,
        }
    }
}

/// Waits out a usage limit (bounded by `--until`), or says why the run must stop.
pub(in crate::grind) fn wait_for_reset(
    ctx: &Ctx,
    spent: &Spent,
    until: Option<DateTime<Utc>>,
    obs: &mut dyn GrindObserver,
) -> Option<StopCause> {
    let stop = StopCause::RateLimited { until };
    if ctx.req.stop_on_rate_limit {
        return Some(stop);
    }
    // No reset time (an API 429): wait a minute, as such an answer asks, then go on.
    let (resume_at, why) = match until {
        Some(reset) => (reset, "usage limit"),
        None => (
            ctx.clock.now() + chrono::Duration::seconds(60),
            "usage limit (no reset time given)",
        ),
    };
    // Wait only when a session could follow: every budget is checked as it will stand at
    // the reset (iterations, cost and tokens spent now stay spent; `--until` may pass).
    match ctx.budgets.check(spent, resume_at) {
        Decision::Continue => {}
        // Waiting would outlast the time budget: stop now, resumable.
        Decision::Stop(StopReason::Time { .. }) if until.is_some() => return Some(stop),
        Decision::Stop(reason) => return Some(StopCause::Budget { reason }),
    }
    sleep_until(ctx, resume_at, why, obs)
}

fn sleep_until(
    ctx: &Ctx,
    until: DateTime<Utc>,
    reason: &str,
    obs: &mut dyn GrindObserver,
) -> Option<StopCause> {
    obs.event(&GrindEvent::Waiting {
        until,
        reason: reason.to_string(),
    });
    while ctx.clock.now() < until {
        if ctx.controls.stopping() {
            // Between sessions: nothing to cut short.
            return Some(StopCause::User {
                drained: true,
                aborted_session: None,
                aborted_sessions: Vec::new(),
                saved_patches: None,
            });
        }
        let left = (until - ctx.clock.now()).to_std().unwrap_or_default();
        std::thread::sleep(left.min(Duration::from_millis(200)));
    }
    None
}

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
        crate::grind::parallel::slots::remove_slots(ctx, obs)?;
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
