//! What the budgets and the scheduler say of a run before its first session, new or resumed
//! from what it spent: the one answer that the dry run shows and that the real run refuses on,
//! so `grind --dry-run` and `grind` never disagree on whether a run could start.
//!
//! Pure, as the rest of the planner: the plan, what the run spent, its start and `now` in; a
//! value out.

use chrono::{DateTime, Utc};

use super::Plan;
use super::budget::{BudgetState, Decision, Spent, StopReason};
use super::scheduler::{Pick, SchedulerError, SchedulerState};

/// Where a run stands before its first session: a new run has spent nothing and started now; a
/// resumed run has what its records and `state.json` say.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Standing<'a> {
    pub started_at: DateTime<Utc>,
    pub spent: &'a Spent,
    /// The budget warnings the run already gave (a resumed run), so only the new ones are due.
    pub fired: Option<&'a BudgetState>,
}

/// What the budgets say before a first session.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BudgetsAtStart {
    /// The budget already spent, if one is: no session could start (a new run whose `--until`
    /// is closer than `min_session_seconds`, a resumed run that used its budget up).
    pub stop: Option<StopReason>,
    /// The 80% warnings a resumed run would give at its first check.
    pub warnings: Vec<String>,
    /// Each prompt's session time limit (seconds) for a session starting now, in plan order.
    pub session_limits: Vec<Option<u64>>,
}

/// Checks the budgets as a run standing at `at` would at `now`, before its first session.
pub(crate) fn budgets_at_start(
    plan: &Plan,
    at: Standing<'_>,
    now: DateTime<Utc>,
) -> BudgetsAtStart {
    let budgets = plan.budgets(at.started_at);
    let stop = match budgets.check(at.spent, now) {
        Decision::Continue => None,
        Decision::Stop(reason) => Some(reason),
    };
    let warnings = match at.fired {
        Some(fired) => {
            let mut fired = fired.clone();
            let due = budgets.warnings(at.spent, now, &mut fired);
            due.into_iter().map(|w| w.message).collect()
        }
        None => Vec::new(),
    };
    let session_limits = plan
        .prompts
        .iter()
        .map(|p| {
            budgets
                .session_limit(&p.session_budget(), now)
                .map(|d| d.as_secs())
        })
        .collect();
    BudgetsAtStart {
        stop,
        warnings,
        session_limits,
    }
}

/// The scheduler's next picks from a run's state.
#[derive(Debug)]
pub(crate) struct Preview {
    pub picks: Vec<Pick>,
    /// Sessions the iteration budget still allows (the preview stops there).
    pub iterations_left: Option<u64>,
    /// Whether no prompt can ever run again (every one reached its `max_runs`).
    pub exhausted: bool,
    /// Why the scheduler could not be built from the state, if it could not (no picks then).
    pub error: Option<SchedulerError>,
}

/// Asks the scheduler, from `state`, for its next picks: at most `max`, and no more than the
/// iteration budget still allows after `spent`.
pub(crate) fn preview(plan: &Plan, state: SchedulerState, spent: &Spent, max: usize) -> Preview {
    // The preview stops where the iteration budget would stop the run.
    let iterations_left = plan
        .budgets
        .max_iterations
        .value
        .map(|m| m.saturating_sub(spent.iterations));
    let n = iterations_left.map_or(max, |left| max.min(left as usize));
    let (picks, exhausted, error) = match plan.scheduler(state) {
        Ok(s) => (s.preview(n), s.is_exhausted(), None),
        Err(e) => (Vec::new(), false, Some(e)),
    };
    Preview {
        picks,
        iterations_left,
        exhausted,
        error,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::plan::{CliBudgets, PlanRequest, plan};

    /// The plan of a project with one prompt and these command-line budgets.
    fn plan_with(budgets: CliBudgets) -> (tempfile::TempDir, Plan) {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join(".pitboss/grind/prompts");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("a.md"),
            "---\nname: a\ndescription: a\n---\nDo a.\n",
        )
        .unwrap();
        let req = PlanRequest {
            root: t.path().to_path_buf(),
            budgets,
            ..Default::default()
        };
        let p = plan(&req).unwrap();
        (t, p)
    }

    #[test]
    fn a_new_run_whose_until_is_too_close_has_a_budget_spent() {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap();
        let (_t, p) = plan_with(CliBudgets {
            until: Some(now + chrono::Duration::seconds(5)),
            ..Default::default()
        });
        let fresh = Standing {
            started_at: now,
            spent: &Spent::default(),
            fired: None,
        };
        let b = budgets_at_start(&p, fresh, now);
        assert!(matches!(b.stop, Some(StopReason::Time { .. })), "{b:?}");
        assert!(b.warnings.is_empty());
        assert_eq!(b.session_limits.len(), 1);
        let later = budgets_at_start(&p, fresh, now - chrono::Duration::hours(1));
        assert_eq!(later.stop, None);
    }

    #[test]
    fn the_preview_stops_where_the_iteration_budget_would() {
        let (_t, p) = plan_with(CliBudgets {
            max_iterations: Some(3),
            ..Default::default()
        });
        let spent = Spent {
            iterations: 1,
            ..Default::default()
        };
        let v = preview(&p, SchedulerState::default(), &spent, 20);
        assert_eq!(v.iterations_left, Some(2));
        assert_eq!(v.picks.len(), 2);
        assert!(!v.exhausted && v.error.is_none());
        assert_eq!(
            preview(&p, SchedulerState::default(), &spent, 1)
                .picks
                .len(),
            1
        );
    }
}
