//! One cost and token fuse across every live session of a parallel run.
//!
//! A sequential session is cut when it alone spends what is left of `--max-cost` (its cost cap
//! is clamped to it). With k sessions at once, each clamped to what is left would let the run
//! spend up to k times that. So the running sessions share one fuse: each reports what it has
//! used so far (the usage its agent streams), the fuse adds it to what recorded sessions spent,
//! and when the sum reaches the run's cost or token limit it blows: every live session is cut
//! (its work saved as a patch, as a session cut at its own cap is) and no new one is
//! dispatched. What a session used moves from "live" to "spent" when it is recorded, so it is
//! never counted twice.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::agent::Controls;
use crate::plan::budget::Limits;

/// The shared fuse (behind an `Arc`, one per parallel grind).
pub(in crate::grind) struct Fuse {
    max_cost_usd: Option<f64>,
    max_tokens: Option<u64>,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    spent_cost_usd: f64,
    spent_tokens: u64,
    live: BTreeMap<u64, Live>,
    /// Why it blew, once it has.
    blown: Option<String>,
    /// It blew on the token budget (else on the cost budget).
    on_tokens: bool,
}

struct Live {
    cost_usd: f64,
    tokens: u64,
    controls: Controls,
    /// This session was cut because the fuse blew.
    cut: bool,
}

impl Fuse {
    pub(in crate::grind) fn new(limits: &Limits, spent_cost_usd: f64, spent_tokens: u64) -> Fuse {
        Fuse {
            max_cost_usd: limits.max_cost_usd,
            max_tokens: limits.max_tokens,
            inner: Mutex::new(Inner {
                spent_cost_usd,
                spent_tokens,
                ..Inner::default()
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panicking session thread cannot leave the sums half-written: every update is one
        // assignment. Poisoning is then no reason to lose the fuse.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A session starts: it is cut at once when the fuse has already blown.
    pub(in crate::grind) fn register(&self, seq: u64, controls: Controls) {
        let mut i = self.lock();
        let cut = i.blown.is_some();
        if cut {
            controls.request_cut();
        }
        i.live.insert(
            seq,
            Live {
                cost_usd: 0.0,
                tokens: 0,
                controls,
                cut,
            },
        );
    }

    /// What session `seq` has used so far (its running totals, not increments). Returns the
    /// reason when this update blew the fuse (every live session is then cut).
    pub(in crate::grind) fn update(
        &self,
        seq: u64,
        cost_usd: Option<f64>,
        tokens: Option<u64>,
    ) -> Option<String> {
        let mut i = self.lock();
        if let Some(l) = i.live.get_mut(&seq) {
            if let Some(c) = cost_usd.filter(|c| c.is_finite() && *c >= 0.0) {
                l.cost_usd = c;
            }
            if let Some(t) = tokens {
                l.tokens = t;
            }
        }
        if i.blown.is_some() {
            return None;
        }
        let (cost, tokens) = i.totals();
        let on_tokens = !self.max_cost_usd.is_some_and(|m| cost >= m);
        let why = match (self.max_cost_usd, self.max_tokens) {
            (Some(m), _) if cost >= m => format!(
                "the run's cost budget (${m:.2}) was reached by the sessions running at once \
                 (${cost:.4} with those already recorded)"
            ),
            (_, Some(m)) if tokens >= m => format!(
                "the run's token budget ({m}) was reached by the sessions running at once \
                 ({tokens} with those already recorded)"
            ),
            _ => return None,
        };
        i.blown = Some(why.clone());
        i.on_tokens = on_tokens;
        for l in i.live.values_mut() {
            l.cut = true;
            l.controls.request_cut();
        }
        Some(why)
    }

    /// Why session `seq` was cut by the fuse, when it was.
    pub(in crate::grind) fn cut_reason(&self, seq: u64) -> Option<String> {
        let i = self.lock();
        i.live.get(&seq).filter(|l| l.cut).and(i.blown.clone())
    }

    /// Session `seq` is recorded: what it used is now in the run's spent totals.
    pub(in crate::grind) fn settle(&self, seq: u64, spent_cost_usd: f64, spent_tokens: u64) {
        let mut i = self.lock();
        i.live.remove(&seq);
        i.spent_cost_usd = spent_cost_usd;
        i.spent_tokens = spent_tokens;
    }

    /// What the live sessions have used so far.
    pub(in crate::grind) fn live(&self) -> (f64, u64) {
        let i = self.lock();
        i.live
            .values()
            .fold((0.0, 0), |(c, t), l| (c + l.cost_usd, t + l.tokens))
    }

    /// Whether the fuse has blown. Once it has, no session may start, even when what the cut
    /// sessions' records say they used comes out below what they streamed.
    pub(in crate::grind) fn blown(&self) -> bool {
        self.lock().blown.is_some()
    }

    /// Whether it blew on the token budget rather than the cost budget.
    pub(in crate::grind) fn blown_on_tokens(&self) -> bool {
        self.lock().on_tokens
    }
}

impl Inner {
    fn totals(&self) -> (f64, u64) {
        self.live
            .values()
            .fold((self.spent_cost_usd, self.spent_tokens), |(c, t), l| {
                (c + l.cost_usd, t + l.tokens)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(cost: Option<f64>, tokens: Option<u64>) -> Limits {
        Limits {
            max_cost_usd: cost,
            max_tokens: tokens,
            ..Limits::default()
        }
    }

    #[test]
    fn the_sum_of_live_sessions_blows_the_fuse_and_cuts_them_all() {
        let fuse = Fuse::new(&limits(Some(1.0), None), 0.4, 0);
        let c: Vec<Controls> = (0..3)
            .map(|_| Controls::new().for_parallel_session())
            .collect();
        for (seq, ctl) in c.iter().enumerate() {
            fuse.register(seq as u64 + 1, ctl.clone());
        }
        assert_eq!(fuse.update(1, Some(0.2), None), None);
        assert_eq!(fuse.update(2, Some(0.2), None), None);
        assert!(c.iter().all(|c| !c.cut_requested()));
        // 0.4 spent + 0.2 + 0.2 + 0.2 = 1.0: reached.
        let why = fuse.update(3, Some(0.2), None).expect("blows");
        assert!(why.contains("$1.00"), "{why}");
        assert!(!fuse.blown_on_tokens());
        assert!(c.iter().all(|c| c.cut_requested()));
        assert!(fuse.blown());
        assert_eq!(fuse.cut_reason(2).as_deref(), Some(why.as_str()));
        // A session dispatched after it blew is cut at once.
        let late = Controls::new().for_parallel_session();
        fuse.register(4, late.clone());
        assert!(late.cut_requested());
    }

    #[test]
    fn recorded_usage_moves_from_live_to_spent_and_is_counted_once() {
        let fuse = Fuse::new(&limits(None, Some(1000)), 0.0, 100);
        fuse.register(1, Controls::new().for_parallel_session());
        fuse.register(2, Controls::new().for_parallel_session());
        assert_eq!(fuse.update(1, None, Some(400)), None);
        assert_eq!(fuse.live(), (0.0, 400));
        fuse.settle(1, 0.0, 500);
        assert_eq!(fuse.live(), (0.0, 0));
        // 500 spent + 499 live: under.
        assert_eq!(fuse.update(2, None, Some(499)), None);
        assert!(fuse.update(2, None, Some(500)).is_some());
        assert!(fuse.cut_reason(1).is_none(), "settled before it blew");
        assert!(fuse.blown_on_tokens());
        // What the cut session recorded may come out lower than it streamed: still blown.
        fuse.settle(2, 0.0, 900);
        assert!(fuse.blown(), "no session may start once it blew");
    }

    #[test]
    fn without_limits_it_never_blows() {
        let fuse = Fuse::new(&limits(None, None), 1e9, u64::MAX / 2);
        fuse.register(1, Controls::new().for_parallel_session());
        assert_eq!(fuse.update(1, Some(1e9), Some(1 << 40)), None);
        assert!(!fuse.blown());
    }
}
