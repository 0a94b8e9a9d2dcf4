//! What a run's sessions count against its budgets: the one rule, used by a live grind as its
//! sessions are dispatched and recorded ([`super::context::Progress::count`], the dispatchers,
//! the recovery of a killed session) and by `--resume` to rebuild the same figures from the
//! records ([`super::resume`]), so a run stopped and resumed stops where one never stopped
//! would have, with the same numbers.
//!
//! - **Iterations**: every session dispatched is one, whatever its end (`ok`, `dirty`, `error`,
//!   `timeout`, `skipped`, `aborted` by the user, or killed with its grind and recorded
//!   `aborted` by the `--resume` that recovers it): a live grind counts it when it is
//!   dispatched, a resume counts its record.
//! - **Tokens**: [`crate::usage::Tokens::total`] of each record, summed (saturating).
//! - **Cost**: each record's known cost ([`crate::usage::Usage::known_cost`]); an unknown,
//!   negative or non-finite cost adds nothing.
//! - **Failure streak** (`--consecutive-failure-limit`): an `error` or `timeout` adds one; a
//!   session that hit a usage limit, a `skipped` one and an `aborted` one (cut short: it says
//!   nothing of whether the agent works) neither add nor reset; any other resets it. A resume
//!   goes on with the streak its records end with, except after a stop *by* the failure limit:
//!   resuming then is the user saying the cause is fixed.

use crate::plan::Spent;
use crate::plan::budget::StopReason;
use crate::store::{SessionRecord, SessionStatus};

/// A session dispatched: one iteration, whatever its end.
pub(super) fn dispatched(spent: &mut Spent) {
    spent.iterations = spent.iterations.saturating_add(1);
}

/// A recorded session's usage and its place in the failure streak (its iteration was counted
/// when it was dispatched).
pub(super) fn settled(spent: &mut Spent, r: &SessionRecord) {
    spent.tokens = spent.tokens.saturating_add(r.usage.tokens.total());
    if let Some(cost) = r.usage.known_cost() {
        spent.cost_usd += cost;
    }
    let neutral =
        r.rate_limited || matches!(r.status, SessionStatus::Skipped | SessionStatus::Aborted);
    if neutral {
        // Neither a failure nor a success of the agent.
    } else if r.status.is_failure() {
        spent.consecutive_failures = spent.consecutive_failures.saturating_add(1);
    } else {
        spent.consecutive_failures = 0;
    }
}

/// What a run's records (in seq order) spent, counted as the live grind counted them; the
/// failure streak starts afresh when `stop_reason` (the run's last) is the failure limit's.
pub(super) fn from_records(records: &[SessionRecord], stop_reason: Option<&str>) -> Spent {
    let mut spent = Spent::default();
    for r in records {
        dispatched(&mut spent);
        settled(&mut spent, r);
    }
    if stop_reason.is_some_and(StopReason::is_failure_limit_text) {
        spent.consecutive_failures = 0;
    }
    spent
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u64, status: &str, cost: f64) -> SessionRecord {
        SessionRecord::builder()
            .seq(seq)
            .status(status.parse().unwrap())
            .tokens(10, 5)
            .cost(cost)
            .build()
    }

    /// Live (dispatch, then record) and rebuilt from the records: the same figures.
    #[test]
    fn live_and_resumed_counts_are_the_same() {
        let runs = [
            vec!["ok", "error", "error"],
            vec!["error", "aborted", "skipped", "error"],
            vec!["error", "ok", "timeout", "aborted"],
        ];
        for statuses in runs {
            let records: Vec<SessionRecord> = (1..)
                .zip(&statuses)
                .map(|(seq, s)| record(seq, s, 0.02))
                .collect();
            let mut live = Spent::default();
            for r in &records {
                dispatched(&mut live);
                settled(&mut live, r);
            }
            let resumed = from_records(&records, Some("stopped by the user"));
            assert_eq!(live, resumed, "{statuses:?}");
            assert_eq!(resumed.iterations, statuses.len() as u64);
            assert_eq!(resumed.tokens, 15 * statuses.len() as u64);
        }
        let streak = |s: &[&str]| {
            let records: Vec<_> = (1..).zip(s).map(|(q, s)| record(q, s, 0.0)).collect();
            from_records(&records, None).consecutive_failures
        };
        assert_eq!(streak(&["error", "aborted", "skipped", "error"]), 2);
        assert_eq!(streak(&["error", "ok", "timeout"]), 1);
    }

    #[test]
    fn a_resume_after_the_failure_limit_starts_a_fresh_streak() {
        let records: Vec<_> = (1..=3).map(|q| record(q, "error", 0.0)).collect();
        let reason = StopReason::ConsecutiveFailures { limit: 3 }.to_string();
        assert_eq!(
            from_records(&records, Some(&reason)).consecutive_failures,
            0
        );
        assert_eq!(from_records(&records, None).consecutive_failures, 3);
    }

    #[test]
    fn unknown_negative_and_non_finite_costs_add_nothing() {
        let mut unknown = record(1, "ok", 0.0);
        unknown.usage.cost_source = Some(crate::usage::CostSource::Unknown);
        let records = [
            record(2, "ok", 0.02),
            record(3, "ok", -5.0),
            record(4, "ok", f64::NAN),
            unknown,
        ];
        let s = from_records(&records, None);
        assert!((s.cost_usd - 0.02).abs() < 1e-12, "{}", s.cost_usd);
        assert_eq!(s.iterations, 4);
    }
}
