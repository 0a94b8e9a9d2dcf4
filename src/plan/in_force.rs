//! The budgets a run last ran with, as every view shows them (issue 22: two views never
//! disagree about one fact). A resume can change any limit (`--resume … --max-iterations 5` on
//! a run started with 4), so `run.json`'s `started_with` is only how the run began: each grind
//! that takes the run up keeps the limits in force in `state.json` under [`LIMITS_STATE_KEY`],
//! and an iteration stop keeps its own limit under [`crate::store::STOP_ITERATIONS_KEY`], the
//! one its stop reason names (which wins, so a gauge never contradicts the reason above it,
//! even after a sync brought in another clone's state).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::started::StartedWith;
use crate::plan::budget::Limits;
use crate::store::{RunMeta, RunState, STOP_ITERATIONS_KEY};

/// The `state.json` key of the limits in force when a grind last took the run up or stopped.
pub(crate) const LIMITS_STATE_KEY: &str = "limits";

/// The limits a view shows; `None`: no limit known.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct InForce {
    pub max_iterations: Option<u64>,
    pub until: Option<DateTime<Utc>>,
    pub max_cost_usd: Option<f64>,
    pub max_tokens: Option<u64>,
}

/// What `state.json` keeps of `limits`.
pub(crate) fn to_state(l: &Limits) -> Value {
    serde_json::to_value(l).expect("the limits are plain data, which always serialise")
}

/// The limits a stored run last ran with: its state's, or (a run no grind has stored them for
/// yet, or one made before they were kept) those it was started with.
pub(crate) fn read(meta: &RunMeta, state: &RunState) -> InForce {
    let mut l = match state.extra.get(LIMITS_STATE_KEY).filter(|v| v.is_object()) {
        Some(v) => InForce {
            max_iterations: v.get("max_iterations").and_then(Value::as_u64),
            until: v
                .get("until")
                .and_then(Value::as_str)
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc)),
            max_cost_usd: v.get("max_cost_usd").and_then(Value::as_f64),
            max_tokens: v.get("max_tokens").and_then(Value::as_u64),
        },
        None => StartedWith::read(meta).map_or_else(InForce::default, |s| InForce {
            max_iterations: s.max_iterations,
            until: s.until,
            max_cost_usd: s.max_cost_usd,
            max_tokens: s.max_tokens,
        }),
    };
    if let Some(n) = state.extra.get(STOP_ITERATIONS_KEY).and_then(Value::as_u64) {
        l.max_iterations = Some(n);
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RunId;

    #[test]
    fn the_state_wins_over_the_start_and_the_stop_limit_over_both() {
        let t = Utc::now();
        let mut meta = RunMeta::minimal(RunId::parse("20260101T000000Z-abcd").unwrap(), t);
        meta.extra.insert(
            crate::plan::started::STARTED_WITH_KEY.into(),
            serde_json::json!({"max_iterations": 4, "max_cost_usd": 1.0}),
        );
        let mut state = RunState::new(t);
        assert_eq!(read(&meta, &state).max_iterations, Some(4));
        let limits = Limits {
            max_iterations: Some(5),
            max_tokens: Some(900),
            ..Default::default()
        };
        state
            .extra
            .insert(LIMITS_STATE_KEY.into(), to_state(&limits));
        let l = read(&meta, &state);
        assert_eq!(l.max_iterations, Some(5));
        assert_eq!(l.max_cost_usd, None, "the resume ran with no cost limit");
        assert_eq!(l.max_tokens, Some(900));
        state.extra.insert(STOP_ITERATIONS_KEY.into(), 7.into());
        assert_eq!(read(&meta, &state).max_iterations, Some(7));
    }
}
