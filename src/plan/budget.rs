//! Budgets: when a run stops, how long one session may take, and the 80% warnings. Pure (house
//! style 12): limits, a [`Spent`] summary and `now` in, a [`Decision`] out.
//!
//! - **Iterations** are counted when a session is *dispatched*: the loop asks [`Budgets::check`]
//!   with in-flight sessions already counted, so parallel sessions can never overshoot
//!   `--max-iterations`.
//! - **Time**: `--until` stops dispatching at that instant, and a session's wall-clock limit is
//!   clamped to what is left before it ([`Budgets::session_limit`]).
//! - **Tokens** are [`crate::usage::Tokens::total`] (input + output + cache writes + cache reads),
//!   summed over recorded sessions: the one definition every display uses too.
//! - **Cost** is the sum of what sessions recorded (reported by the agent, or estimated from
//!   `[budgets.pricing]`).
//! - **Consecutive failures**: the run stops after that many failed sessions in a row (0: never).
//!
//! Cost and tokens are only known when a session ends, so sessions already running when a
//! cost or token budget trips still finish and are recorded (they can overshoot); iterations and
//! time cannot.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// The limits of one run; `None` is unlimited.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub(crate) struct Limits {
    pub max_iterations: Option<u64>,
    pub until: Option<DateTime<Utc>>,
    pub max_cost_usd: Option<f64>,
    pub max_tokens: Option<u64>,
    /// 0 disables.
    pub consecutive_failure_limit: u32,
    /// With `until`: no session starts with less than this many seconds left.
    pub min_session_seconds: u64,
}

/// The limits of one session (from the prompt, or the budgets' defaults).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub(crate) struct SessionBudget {
    pub max_seconds: Option<u64>,
    pub max_cost_usd: Option<f64>,
}

/// What a run has used so far. The loop fills it from the store's sums plus in-flight sessions.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Spent {
    /// Sessions dispatched, including those still running.
    pub iterations: u64,
    /// [`crate::usage::Tokens::total`] summed over recorded sessions.
    pub tokens: u64,
    pub cost_usd: f64,
    /// Failed sessions since the last one that did not fail.
    pub consecutive_failures: u32,
}

/// Each budget that can warn and stop a run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BudgetKind {
    Iterations,
    Time,
    Cost,
    Tokens,
}

/// Why a run must stop dispatching.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "budget", rename_all = "snake_case")]
pub(crate) enum StopReason {
    /// `spent`: the sessions the run holds (more than `limit` when a resume lowered it).
    Iterations {
        limit: u64,
        spent: u64,
    },
    Time {
        until: DateTime<Utc>,
    },
    Cost {
        limit: f64,
        spent: f64,
    },
    Tokens {
        limit: u64,
        spent: u64,
    },
    ConsecutiveFailures {
        limit: u32,
    },
}

impl StopReason {
    /// True for the failure limit (exit 5), false for a spent budget (exit 3).
    pub(crate) fn is_failure_limit(&self) -> bool {
        matches!(self, StopReason::ConsecutiveFailures { .. })
    }

    /// Whether a stored stop reason is the failure limit's, as [`fmt::Display`] spells it
    /// (`3 sessions failed in a row`).
    pub(crate) fn is_failure_limit_text(text: &str) -> bool {
        text.strip_suffix(" sessions failed in a row")
            .is_some_and(|n| n.parse::<u32>().is_ok())
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::Iterations { limit, spent } => {
                f.write_str(&crate::store::iteration_stop_text(*spent, *limit))
            }
            StopReason::Time { until } => {
                write!(f, "time budget reached (until {})", until.to_rfc3339())
            }
            StopReason::Cost { limit, spent } => {
                write!(f, "cost budget reached (${spent:.4} of ${limit:.2})")
            }
            StopReason::Tokens { limit, spent } => {
                write!(f, "token budget reached ({spent} of {limit} tokens)")
            }
            StopReason::ConsecutiveFailures { limit } => {
                write!(f, "{limit} sessions failed in a row")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub(crate) enum Decision {
    Continue,
    Stop(StopReason),
}

/// An 80% warning, to be shown once.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct BudgetWarning {
    pub budget: BudgetKind,
    /// Share used, 0.8 ≤ used < 1.
    pub used: f64,
    pub message: String,
}

/// What the budgets remember between sessions (which warnings already fired). Serialisable, so
/// a resumed run does not warn twice.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub(crate) struct BudgetState {
    pub warned: BTreeSet<BudgetKind>,
}

/// The share of a budget at which the one warning fires.
pub(crate) const WARN_AT: f64 = 0.8;

/// A run's limits, anchored at the instant it started (the time budget's 80% is measured from
/// there).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Budgets {
    pub limits: Limits,
    pub started_at: DateTime<Utc>,
}

impl Budgets {
    pub(crate) fn new(limits: Limits, started_at: DateTime<Utc>) -> Budgets {
        Budgets { limits, started_at }
    }

    /// May another session be dispatched? `spent.iterations` must already count sessions in
    /// flight; the session about to start is not counted yet.
    pub(crate) fn check(&self, spent: &Spent, now: DateTime<Utc>) -> Decision {
        let l = &self.limits;
        let min_left = chrono::Duration::seconds(l.min_session_seconds.min(i64::MAX as u64) as i64);
        let stop = if let Some(until) = l.until.filter(|u| now + min_left >= *u) {
            Some(StopReason::Time { until })
        } else if let Some(limit) = l.max_iterations.filter(|m| spent.iterations >= *m) {
            Some(StopReason::Iterations {
                limit,
                spent: spent.iterations,
            })
        } else if let Some(limit) = l.max_cost_usd.filter(|m| spent.cost_usd >= *m) {
            Some(StopReason::Cost {
                limit,
                spent: spent.cost_usd,
            })
        } else if let Some(limit) = l.max_tokens.filter(|m| spent.tokens >= *m) {
            Some(StopReason::Tokens {
                limit,
                spent: spent.tokens,
            })
        } else if l.consecutive_failure_limit > 0
            && spent.consecutive_failures >= l.consecutive_failure_limit
        {
            Some(StopReason::ConsecutiveFailures {
                limit: l.consecutive_failure_limit,
            })
        } else {
            None
        };
        stop.map_or(Decision::Continue, Decision::Stop)
    }

    /// The wall-clock limit of a session starting `now`: the session's own limit, clamped to what
    /// is left before `--until` (zero when that has passed). `None`: no limit at all.
    pub(crate) fn session_limit(
        &self,
        session: &SessionBudget,
        now: DateTime<Utc>,
    ) -> Option<Duration> {
        let own = session.max_seconds.map(Duration::from_secs);
        let left = self
            .limits
            .until
            .map(|u| (u - now).to_std().unwrap_or(Duration::ZERO));
        match (own, left) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The cost limit of a session: its own limit, clamped to what is left of `--max-cost`.
    pub(crate) fn session_cost_limit(&self, session: &SessionBudget, spent: &Spent) -> Option<f64> {
        let left = self
            .limits
            .max_cost_usd
            .map(|m| (m - spent.cost_usd).max(0.0));
        match (session.max_cost_usd, left) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Share used of each limited budget (0 = untouched, 1 = spent).
    pub(crate) fn usage(&self, spent: &Spent, now: DateTime<Utc>) -> Vec<(BudgetKind, f64)> {
        let l = &self.limits;
        let ratio = |used: f64, limit: f64| if limit > 0.0 { used / limit } else { 1.0 };
        let mut out = Vec::new();
        if let Some(m) = l.max_iterations {
            out.push((
                BudgetKind::Iterations,
                ratio(spent.iterations as f64, m as f64),
            ));
        }
        if let Some(until) = l.until {
            let total = (until - self.started_at).num_milliseconds() as f64;
            let used = (now - self.started_at).num_milliseconds() as f64;
            out.push((BudgetKind::Time, ratio(used.max(0.0), total)));
        }
        if let Some(m) = l.max_cost_usd {
            out.push((BudgetKind::Cost, ratio(spent.cost_usd, m)));
        }
        if let Some(m) = l.max_tokens {
            out.push((BudgetKind::Tokens, ratio(spent.tokens as f64, m as f64)));
        }
        out
    }

    /// Warnings to show now: each budget warns once, when it first reaches 80% while still
    /// under 100% (a budget that jumps past 100% stops the run instead). `state` remembers what
    /// already fired.
    pub(crate) fn warnings(
        &self,
        spent: &Spent,
        now: DateTime<Utc>,
        state: &mut BudgetState,
    ) -> Vec<BudgetWarning> {
        let mut out = Vec::new();
        for (kind, used) in self.usage(spent, now) {
            if used < WARN_AT || state.warned.contains(&kind) {
                continue;
            }
            state.warned.insert(kind);
            if used >= 1.0 {
                continue;
            }
            let pct = (used * 100.0).floor();
            let l = &self.limits;
            let message = match kind {
                BudgetKind::Iterations => format!(
                    "{pct}% of the iteration budget used ({} of {} sessions)",
                    spent.iterations,
                    l.max_iterations.unwrap_or(0)
                ),
                BudgetKind::Time => format!(
                    "{pct}% of the time budget used (the run stops at {})",
                    l.until.map(|u| u.to_rfc3339()).unwrap_or_default()
                ),
                BudgetKind::Cost => format!(
                    "{pct}% of the cost budget used (${:.4} of ${:.2})",
                    spent.cost_usd,
                    l.max_cost_usd.unwrap_or(0.0)
                ),
                BudgetKind::Tokens => format!(
                    "{pct}% of the token budget used ({} of {} tokens)",
                    spent.tokens,
                    l.max_tokens.unwrap_or(0)
                ),
            };
            out.push(BudgetWarning {
                budget: kind,
                used,
                message,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, h, m, 0).unwrap()
    }

    fn budgets(limits: Limits) -> Budgets {
        Budgets::new(limits, t(10, 0))
    }

    #[test]
    fn unlimited_always_continues() {
        let b = budgets(Limits::default());
        let spent = Spent {
            iterations: 1_000_000,
            tokens: u64::MAX,
            cost_usd: 1e9,
            consecutive_failures: 1000,
        };
        assert_eq!(b.check(&spent, t(23, 0)), Decision::Continue);
        assert_eq!(b.session_limit(&SessionBudget::default(), t(11, 0)), None);
        assert!(b.usage(&spent, t(11, 0)).is_empty());
    }

    #[test]
    fn iterations_count_dispatches_so_parallel_cannot_overshoot() {
        let b = budgets(Limits {
            max_iterations: Some(3),
            ..Default::default()
        });
        let mut spent = Spent::default();
        let mut dispatched = 0;
        // Three slots ask at once; each dispatch is counted before the next check.
        while b.check(&spent, t(10, 0)) == Decision::Continue {
            spent.iterations += 1;
            dispatched += 1;
        }
        assert_eq!(dispatched, 3);
        assert_eq!(
            b.check(&spent, t(10, 0)),
            Decision::Stop(StopReason::Iterations { limit: 3, spent: 3 })
        );
    }

    #[test]
    fn each_budget_stops_at_its_limit() {
        let b = budgets(Limits {
            until: Some(t(12, 0)),
            max_cost_usd: Some(5.0),
            max_tokens: Some(1000),
            consecutive_failure_limit: 2,
            ..Default::default()
        });
        let ok = Spent::default();
        assert_eq!(b.check(&ok, t(11, 59)), Decision::Continue);
        assert_eq!(
            b.check(&ok, t(12, 0)),
            Decision::Stop(StopReason::Time { until: t(12, 0) })
        );
        let cost = Spent {
            cost_usd: 5.0,
            ..ok
        };
        assert!(matches!(
            b.check(&cost, t(11, 0)),
            Decision::Stop(StopReason::Cost { .. })
        ));
        let tokens = Spent { tokens: 1000, ..ok };
        assert!(matches!(
            b.check(&tokens, t(11, 0)),
            Decision::Stop(StopReason::Tokens { .. })
        ));
        let fails = Spent {
            consecutive_failures: 2,
            ..ok
        };
        let Decision::Stop(reason) = b.check(&fails, t(11, 0)) else {
            panic!()
        };
        assert!(reason.is_failure_limit());
        assert_eq!(reason.to_string(), "2 sessions failed in a row");
        let zero_disables = budgets(Limits::default());
        assert_eq!(zero_disables.check(&fails, t(11, 0)), Decision::Continue);
    }

    #[test]
    fn session_time_is_clamped_to_until() {
        let b = budgets(Limits {
            until: Some(t(12, 0)),
            ..Default::default()
        });
        let s = SessionBudget {
            max_seconds: Some(3600),
            max_cost_usd: None,
        };
        assert_eq!(
            b.session_limit(&s, t(10, 0)),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(
            b.session_limit(&s, t(11, 30)),
            Some(Duration::from_secs(1800))
        );
        assert_eq!(b.session_limit(&s, t(12, 30)), Some(Duration::ZERO));
        let unlimited = SessionBudget::default();
        assert_eq!(
            b.session_limit(&unlimited, t(11, 50)),
            Some(Duration::from_secs(600))
        );
    }

    #[test]
    fn session_cost_is_clamped_to_what_is_left() {
        let b = budgets(Limits {
            max_cost_usd: Some(10.0),
            ..Default::default()
        });
        let s = SessionBudget {
            max_seconds: None,
            max_cost_usd: Some(2.0),
        };
        let spent = |c| Spent {
            cost_usd: c,
            ..Default::default()
        };
        assert_eq!(b.session_cost_limit(&s, &spent(1.0)), Some(2.0));
        assert_eq!(b.session_cost_limit(&s, &spent(9.5)), Some(0.5));
        assert_eq!(b.session_cost_limit(&s, &spent(12.0)), Some(0.0));
        assert_eq!(
            b.session_cost_limit(&SessionBudget::default(), &spent(4.0)),
            Some(6.0)
        );
        assert_eq!(
            budgets(Limits::default()).session_cost_limit(&s, &spent(4.0)),
            Some(2.0)
        );
    }

    #[test]
    fn warnings_fire_once_at_eighty_percent() {
        let b = budgets(Limits {
            max_iterations: Some(10),
            until: Some(t(20, 0)),
            max_cost_usd: Some(1.0),
            max_tokens: Some(100),
            ..Default::default()
        });
        let mut state = BudgetState::default();
        let mut spent = Spent {
            iterations: 7,
            tokens: 79,
            cost_usd: 0.5,
            consecutive_failures: 0,
        };
        assert!(b.warnings(&spent, t(17, 0), &mut state).is_empty());
        spent.iterations = 8;
        spent.tokens = 85;
        let w = b.warnings(&spent, t(18, 0), &mut state);
        let kinds: Vec<_> = w.iter().map(|w| w.budget).collect();
        assert_eq!(
            kinds,
            [BudgetKind::Iterations, BudgetKind::Time, BudgetKind::Tokens]
        );
        assert_eq!(
            w[0].message,
            "80% of the iteration budget used (8 of 10 sessions)"
        );
        assert_eq!(
            w[2].message,
            "85% of the token budget used (85 of 100 tokens)"
        );
        spent.iterations = 9;
        assert!(
            b.warnings(&spent, t(19, 0), &mut state).is_empty(),
            "fired once only"
        );
        // Jumping straight past 100% does not warn (the run stops), but counts as fired.
        spent.cost_usd = 1.5;
        assert!(b.warnings(&spent, t(19, 0), &mut state).is_empty());
        assert!(state.warned.contains(&BudgetKind::Cost));
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(json, r#"{"warned":["iterations","time","cost","tokens"]}"#);
        assert_eq!(serde_json::from_str::<BudgetState>(&json).unwrap(), state);
    }
}
