//! How the dispatcher stops: the user's stop told apart by what it cut short, and a usage-limit
//! wait bounded by `--until` and the user's signals.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::grind::context::{Ctx, Progress};
use crate::grind::event::{GrindEvent, GrindObserver};
use crate::grind::summary::StopCause;
use crate::plan::budget::{Decision, Spent, StopReason};

// NB: here rather than beside `StopCause` (grind/summary.rs), so that the vocabulary does not
// depend on the loop's context.
impl StopCause {
    /// The user's stop, told apart by whether this grind's last session was cut short
    /// (recorded `aborted`: only the user's abort records a session so).
    pub(super) fn user(ctx: &Ctx, progress: &Progress, first_seq: u64) -> StopCause {
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
pub(super) fn wait_for_reset(
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
