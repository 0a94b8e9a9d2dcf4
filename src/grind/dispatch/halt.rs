//! How the dispatcher stops: the one stop order checked before each dispatch
//! ([`Dispatcher::halt_now`]), the user's stop told apart by what it cut short, and a
//! usage-limit wait bounded by `--until` and the user's signals.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Dispatcher, Halt};
use crate::grind::context::{Ctx, Progress};
use crate::grind::event::{GrindEvent, GrindObserver};
use crate::grind::summary::StopCause;
use crate::plan::budget::{Decision, Spent, StopReason};
use crate::rundir::RunDir;

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

impl Dispatcher<'_, '_> {
    /// What stops dispatch now, if anything: the one stop order of every run, checked before
    /// each dispatch: the user, the budgets (with what the running sessions spent so far), the
    /// drain file. (A drain comes after the budgets: a drain asked for during the run's last
    /// session leaves the run finished by its budget, which is what it is.)
    pub(super) fn halt_now(
        &mut self,
        progress: &Progress,
        obs: &mut dyn GrindObserver,
    ) -> Option<Halt> {
        let ctx = self.ctx;
        if ctx.controls.stopping() {
            if !ctx.controls.agent.abort_requested() && !self.live.is_empty() {
                obs.event(&GrindEvent::Warning {
                    message: format!(
                        "stopping: no new session starts; the {} running finish and land \
                         (Ctrl-C again to abort them now)",
                        self.live.len()
                    ),
                });
            }
            return Some(Halt::User);
        }
        let (live_cost, live_tokens) = self.fuse.live();
        let spent = Spent {
            cost_usd: progress.spent.cost_usd + live_cost,
            tokens: progress.spent.tokens + live_tokens,
            ..progress.spent
        };
        if let Decision::Stop(reason) = ctx.budgets.check(&spent, ctx.clock.now()) {
            return Some(Halt::Cause(StopCause::Budget { reason }));
        }
        // Blown by what the sessions streamed: their records may say a little less.
        if self.fuse.blown() {
            let l = &ctx.budgets.limits;
            let reason = match (l.max_cost_usd, l.max_tokens, self.fuse.blown_on_tokens()) {
                (_, Some(limit), true) => StopReason::Tokens {
                    limit,
                    spent: spent.tokens,
                },
                (Some(limit), _, _) => StopReason::Cost {
                    limit,
                    spent: spent.cost_usd,
                },
                _ => return None,
            };
            return Some(Halt::Cause(StopCause::Budget { reason }));
        }
        if RunDir::new(ctx.repo.common_dir(), &ctx.run)
            .drain()
            .exists()
        {
            if !self.drained_said {
                self.drained_said = true;
                let message = if self.live.is_empty() {
                    "drained from `git pitboss watch`: stopping"
                } else {
                    "drained from `git pitboss watch`: no new session starts; the running ones \
                     finish and land"
                };
                obs.event(&GrindEvent::Warning {
                    message: message.into(),
                });
            }
            return Some(Halt::Cause(StopCause::User {
                drained: true,
                aborted_session: None,
                aborted_sessions: Vec::new(),
                saved_patches: None,
            }));
        }
        None
    }
}
