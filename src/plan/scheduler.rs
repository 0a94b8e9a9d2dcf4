//! The scheduler: which prompt runs next. Pure and deterministic (house style 12): entries and a
//! serialisable state in, a [`Pick`] out; no clock, no randomness, no I/O.
//!
//! **What a rotation is.** Rotations are numbered 1, 2, 3, …. A prompt *takes part* in rotation
//! `r` when `r` is a multiple of its `every` (so `every: 5` means rotations 5, 10, 15, …), it has
//! not reached `max_runs`, and it is not benched by the back-off. In a rotation each taking-part
//! prompt is picked exactly `weight` times, interleaved smoothly (the next pick goes to the prompt
//! whose next share is due soonest, `(2k+1)/2w` after `k` picks; ties go to the name that sorts
//! first). A rotation ends when every taking-part prompt has had its picks; the next pick opens
//! the next rotation. A rotation in which no prompt takes part is *skipped* (reported on the
//! following pick), never the end of the run: the scheduler is *exhausted* only when every prompt
//! has reached its `max_runs`, i.e. when nothing can ever run again.
//!
//! So weights 2:1 give `a, b, a` in every rotation (67/33 within ±1 over any number of picks), and
//! `a` (max_runs 3) with `b` (every 5) gives `a, a, a` in rotations 1–3, then `b` in rotations 5,
//! 10, 15, … with the rotations between skipped.
//!
//! Runs are counted when a prompt is picked (dispatched), like budget iterations. The optional
//! back-off benches a prompt whose last `after` sessions changed nothing: it sits out its next
//! `skip_turns` turns (rotations it would take part in). The loop reports outcomes with
//! [`Scheduler::record_outcome`].
//!
//! The whole state is a [`SchedulerState`], which serialises to JSON (the run store keeps it as
//! `state.json`'s `"scheduler"` value), so a resumed run picks exactly what the original would have.

use std::collections::BTreeMap;

/// One prompt as the scheduler sees it (overrides already applied).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Entry {
    pub name: String,
    pub weight: u32,
    pub every: u32,
    pub max_runs: Option<u32>,
}

/// Benches a prompt for `skip_turns` of its turns after `after` sessions in a row changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Backoff {
    pub after: u32,
    pub skip_turns: u32,
}

/// Everything the scheduler remembers. Maps are keyed by prompt name; unknown names (a prompt
/// removed before a resume) are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub(crate) struct SchedulerState {
    /// The rotation of the last pick; 0 before the first.
    pub rotation: u64,
    /// Picks made so far in `rotation`.
    pub picks_in_rotation: BTreeMap<String, u32>,
    /// Picks since the run started (what `max_runs` caps).
    pub runs: BTreeMap<String, u32>,
    /// Sessions in a row that changed nothing.
    pub unchanged_streak: BTreeMap<String, u32>,
    /// Benched prompts take part again from this rotation on.
    pub benched_until: BTreeMap<String, u64>,
    /// Picks made in all (the number of the last pick).
    pub picks: u64,
}

impl SchedulerState {
    pub(crate) fn to_json(&self) -> serde_json::Value {
        // NB: never `null` on failure: `from_json` reads `null` as a fresh state, which would
        // silently reset the rotation.
        serde_json::to_value(self)
            .expect("the scheduler state is plain data, which always serialises")
    }

    /// Reads a state stored by [`SchedulerState::to_json`]; `null` is a fresh state.
    pub(crate) fn from_json(value: &serde_json::Value) -> Result<SchedulerState, SchedulerError> {
        if value.is_null() {
            return Ok(SchedulerState::default());
        }
        serde_json::from_value(value.clone()).map_err(|e| SchedulerError::BadState(e.to_string()))
    }
}

/// Empty rotations skipped just before a pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Skipped {
    pub first: u64,
    pub last: u64,
}

/// What to run next.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Pick {
    Run {
        prompt: String,
        rotation: u64,
        /// 1 for the first pick of the run.
        pick: u64,
        skipped: Option<Skipped>,
    },
    /// No prompt can ever run again.
    Exhausted,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SchedulerError {
    #[error("the stored scheduler state cannot be read: {0}")]
    BadState(String),
    #[error("prompt `{0}` is in the rotation twice")]
    Duplicate(String),
    #[error("prompt `{name}`: {field} must be at least 1")]
    Zero { name: String, field: &'static str },
}

/// Picks prompts; see the module docs for the rules.
#[derive(Debug, Clone)]
pub(crate) struct Scheduler {
    entries: Vec<Entry>,
    backoff: Option<Backoff>,
    state: SchedulerState,
}

impl Scheduler {
    pub(crate) fn new(
        mut entries: Vec<Entry>,
        backoff: Option<Backoff>,
        state: SchedulerState,
    ) -> Result<Scheduler, SchedulerError> {
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        for (i, e) in entries.iter().enumerate() {
            if i > 0 && entries[i - 1].name == e.name {
                return Err(SchedulerError::Duplicate(e.name.clone()));
            }
            for (field, v) in [
                ("weight", e.weight),
                ("every", e.every),
                ("max_runs", e.max_runs.unwrap_or(1)),
            ] {
                if v == 0 {
                    return Err(SchedulerError::Zero {
                        name: e.name.clone(),
                        field,
                    });
                }
            }
        }
        let backoff = backoff.filter(|b| b.after > 0 && b.skip_turns > 0);
        Ok(Scheduler {
            entries,
            backoff,
            state,
        })
    }

    pub(crate) fn state(&self) -> &SchedulerState {
        &self.state
    }

    /// The next prompt to run, counted as run.
    pub(crate) fn next_pick(&mut self) -> Pick {
        let mut skipped = None;
        loop {
            if self.state.rotation > 0
                && let Some(i) = self.best_in_rotation()
            {
                let name = self.entries[i].name.clone();
                *self
                    .state
                    .picks_in_rotation
                    .entry(name.clone())
                    .or_default() += 1;
                *self.state.runs.entry(name.clone()).or_default() += 1;
                self.state.picks += 1;
                return Pick::Run {
                    prompt: name,
                    rotation: self.state.rotation,
                    pick: self.state.picks,
                    skipped,
                };
            }
            let from = self.state.rotation + 1;
            let Some(next) = self
                .entries
                .iter()
                .filter_map(|e| self.next_turn(e, from))
                .min()
            else {
                return Pick::Exhausted;
            };
            if next > from {
                skipped = Some(Skipped {
                    first: from,
                    last: next - 1,
                });
            }
            self.state.rotation = next;
            self.state.picks_in_rotation.clear();
        }
    }

    /// The next `n` picks, without changing this scheduler (outcomes are unknown, so the preview
    /// assumes no back-off is triggered). Stops after [`Pick::Exhausted`].
    pub(crate) fn preview(&self, n: usize) -> Vec<Pick> {
        let mut s = self.clone();
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let pick = s.next_pick();
            let done = pick == Pick::Exhausted;
            out.push(pick);
            if done {
                break;
            }
        }
        out
    }

    /// True when no prompt can ever run again.
    pub(crate) fn is_exhausted(&self) -> bool {
        self.entries.iter().all(|e| self.used_up(e))
    }

    /// Tells the back-off whether a finished session of `prompt` changed anything.
    pub(crate) fn record_outcome(&mut self, prompt: &str, changed: bool) {
        let Some(e) = self.entries.iter().find(|e| e.name == prompt) else {
            return;
        };
        if changed {
            self.state.unchanged_streak.remove(prompt);
            return;
        }
        let streak = self
            .state
            .unchanged_streak
            .entry(prompt.to_string())
            .or_default();
        *streak += 1;
        let Some(b) = self.backoff else { return };
        if *streak >= b.after {
            let every = u64::from(e.every);
            let next_turn = (self.state.rotation / every + 1) * every;
            let until = next_turn + u64::from(b.skip_turns) * every;
            self.state.benched_until.insert(prompt.to_string(), until);
            self.state.unchanged_streak.remove(prompt);
        }
    }

    fn used_up(&self, e: &Entry) -> bool {
        e.max_runs
            .is_some_and(|m| self.state.runs.get(&e.name).copied().unwrap_or(0) >= m)
    }

    fn benched_until(&self, e: &Entry) -> u64 {
        self.state.benched_until.get(&e.name).copied().unwrap_or(0)
    }

    /// The first rotation at or after `from` in which `e` takes part.
    fn next_turn(&self, e: &Entry, from: u64) -> Option<u64> {
        if self.used_up(e) {
            return None;
        }
        let every = u64::from(e.every);
        let start = from.max(self.benched_until(e)).max(1);
        Some(start.div_ceil(every) * every)
    }

    /// The entry due soonest in the current rotation, if any still has picks left.
    fn best_in_rotation(&self) -> Option<usize> {
        let r = self.state.rotation;
        let mut best: Option<(usize, u64)> = None;
        for (i, e) in self.entries.iter().enumerate() {
            let done = u64::from(
                self.state
                    .picks_in_rotation
                    .get(&e.name)
                    .copied()
                    .unwrap_or(0),
            );
            let takes_part = r.is_multiple_of(u64::from(e.every))
                && !self.used_up(e)
                && self.benched_until(e) <= r;
            if !takes_part || done >= u64::from(e.weight) {
                continue;
            }
            let due = 2 * done + 1;
            // Entries are sorted by name, so a strict comparison leaves ties to the first name.
            let sooner = match best {
                None => true,
                Some((j, best_due)) => {
                    due * u64::from(self.entries[j].weight) < best_due * u64::from(e.weight)
                }
            };
            if sooner {
                best = Some((i, due));
            }
        }
        best.map(|(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(name: &str, weight: u32, every: u32, max_runs: Option<u32>) -> Entry {
        Entry {
            name: name.into(),
            weight,
            every,
            max_runs,
        }
    }

    fn sched(entries: Vec<Entry>) -> Scheduler {
        Scheduler::new(entries, None, SchedulerState::default()).unwrap()
    }

    /// `name@rotation` for each pick, `-` for exhausted.
    fn run(s: &mut Scheduler, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| match s.next_pick() {
                Pick::Run {
                    prompt, rotation, ..
                } => format!("{prompt}@{rotation}"),
                Pick::Exhausted => "-".into(),
            })
            .collect()
    }

    #[test]
    fn weights_two_to_one_give_67_33_within_one() {
        let mut s = sched(vec![e("b", 1, 1, None), e("a", 2, 1, None)]);
        let mut a = 0i64;
        for n in 1..=300i64 {
            if let Pick::Run { prompt, .. } = s.next_pick() {
                a += i64::from(prompt == "a");
            }
            assert!(
                (3 * a - 2 * n).abs() <= 3,
                "after {n} picks a ran {a} times"
            );
            if n == 100 {
                assert_eq!(a, 67);
            }
        }
        assert_eq!(
            run(&mut sched(vec![e("a", 2, 1, None), e("b", 1, 1, None)]), 6),
            ["a@1", "b@1", "a@1", "a@2", "b@2", "a@2"]
        );
    }

    #[test]
    fn ties_go_to_the_name_that_sorts_first() {
        let mut s = sched(vec![
            e("zeta", 1, 1, None),
            e("alpha", 1, 1, None),
            e("mid", 1, 1, None),
        ]);
        assert_eq!(run(&mut s, 4), ["alpha@1", "mid@1", "zeta@1", "alpha@2"]);
    }

    #[test]
    fn shares_stay_within_one_pick_of_the_weights() {
        // Property over many weight sets: after any number of picks, each prompt's count is
        // within one pick of its exact share.
        let weights_sets: Vec<Vec<u32>> = (1..=5u32)
            .flat_map(|a| (1..=5u32).flat_map(move |b| (1..=4u32).map(move |c| vec![a, b, c])))
            .collect();
        for ws in weights_sets {
            let total: u32 = ws.iter().sum();
            let names: Vec<String> = (0..ws.len()).map(|i| format!("p{i}")).collect();
            let entries = names
                .iter()
                .zip(&ws)
                .map(|(n, w)| e(n, *w, 1, None))
                .collect();
            let mut s = sched(entries);
            let mut counts = vec![0u32; ws.len()];
            for n in 1..=(3 * total) {
                let Pick::Run { prompt, .. } = s.next_pick() else {
                    panic!()
                };
                let i = names.iter().position(|x| *x == prompt).unwrap();
                counts[i] += 1;
                for (c, w) in counts.iter().zip(&ws) {
                    let exact = f64::from(n) * f64::from(*w) / f64::from(total);
                    assert!(
                        (f64::from(*c) - exact).abs() <= 1.0,
                        "{ws:?} after {n}: {counts:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_takes_part_in_multiples_only() {
        let mut s = sched(vec![e("a", 1, 1, None), e("b", 1, 3, None)]);
        assert_eq!(run(&mut s, 6), ["a@1", "a@2", "a@3", "b@3", "a@4", "a@5"]);
    }

    #[test]
    fn empty_rotations_are_skipped_not_the_end() {
        // The case: a (max_runs 3) and b (every 5).
        let mut s = sched(vec![e("a", 1, 1, Some(3)), e("b", 1, 5, None)]);
        assert_eq!(run(&mut s, 6), ["a@1", "a@2", "a@3", "b@5", "b@10", "b@15"]);
        assert!(!s.is_exhausted());
        let mut s = sched(vec![e("a", 1, 1, Some(3)), e("b", 1, 5, None)]);
        let picks = s.preview(5);
        assert_eq!(
            picks[3],
            Pick::Run {
                prompt: "b".into(),
                rotation: 5,
                pick: 4,
                skipped: Some(Skipped { first: 4, last: 4 })
            }
        );
        assert!(matches!(
            picks[4],
            Pick::Run {
                skipped: Some(Skipped { first: 6, last: 9 }),
                ..
            }
        ));
        // Preview does not consume.
        assert_eq!(run(&mut s, 1), ["a@1"]);
    }

    #[test]
    fn first_pick_reports_leading_gap() {
        let mut s = sched(vec![e("b", 1, 4, None)]);
        assert!(matches!(
            s.next_pick(),
            Pick::Run {
                rotation: 4,
                skipped: Some(Skipped { first: 1, last: 3 }),
                ..
            }
        ));
    }

    #[test]
    fn exhausted_only_when_nothing_can_ever_run() {
        let mut s = sched(vec![e("a", 1, 1, Some(2)), e("b", 1, 1, Some(1))]);
        assert_eq!(run(&mut s, 5), ["a@1", "b@1", "a@2", "-", "-"]);
        assert!(s.is_exhausted());
        assert_eq!(sched(vec![]).next_pick(), Pick::Exhausted);
    }

    #[test]
    fn max_runs_cuts_a_rotation_short() {
        let mut s = sched(vec![e("a", 3, 1, Some(2)), e("b", 1, 1, None)]);
        assert_eq!(run(&mut s, 5), ["a@1", "a@1", "b@1", "b@2", "b@3"]);
    }

    #[test]
    fn huge_every_does_not_loop() {
        let mut s = sched(vec![e("a", 1, u32::MAX, None)]);
        assert_eq!(
            run(&mut s, 2),
            [
                format!("a@{}", u32::MAX),
                format!("a@{}", 2 * u64::from(u32::MAX))
            ]
        );
    }

    #[test]
    fn resumed_state_picks_what_the_original_would_have() {
        let entries = vec![
            e("a", 3, 1, Some(20)),
            e("b", 1, 2, None),
            e("c", 2, 3, Some(5)),
        ];
        let mut original = sched(entries.clone());
        let mut first = run(&mut original, 7);
        original.record_outcome("a", false);
        let json = serde_json::to_string(&original.state().to_json()).unwrap();
        first.extend(run(&mut original, 30));

        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let state = SchedulerState::from_json(&value).unwrap();
        let mut resumed = Scheduler::new(entries, None, state).unwrap();
        assert_eq!(run(&mut resumed, 30), first[7..]);
        assert_eq!(
            SchedulerState::from_json(&serde_json::Value::Null).unwrap(),
            SchedulerState::default()
        );
        assert!(SchedulerState::from_json(&serde_json::json!({"rotation": "x"})).is_err());
    }

    #[test]
    fn backoff_benches_a_prompt_that_changes_nothing() {
        let backoff = Some(Backoff {
            after: 2,
            skip_turns: 2,
        });
        let mut s = Scheduler::new(
            vec![e("a", 1, 1, None), e("b", 1, 1, None)],
            backoff,
            SchedulerState::default(),
        )
        .unwrap();
        assert_eq!(run(&mut s, 2), ["a@1", "b@1"]);
        s.record_outcome("a", false);
        assert_eq!(run(&mut s, 2), ["a@2", "b@2"]);
        s.record_outcome("a", false); // second in a row: a sits out rotations 3 and 4
        assert_eq!(run(&mut s, 4), ["b@3", "b@4", "a@5", "b@5"]);
        // A change resets the streak.
        s.record_outcome("b", false);
        s.record_outcome("b", true);
        s.record_outcome("b", false);
        assert_eq!(run(&mut s, 2), ["a@6", "b@6"]);
        // Without a back-off, streaks are still counted (so one can be enabled on resume).
        let mut plain = sched(vec![e("a", 1, 1, None)]);
        plain.record_outcome("a", false);
        assert_eq!(plain.state().unchanged_streak.get("a"), Some(&1));
        assert_eq!(run(&mut plain, 1), ["a@1"]);
    }

    #[test]
    fn invalid_entries_are_refused() {
        let err = Scheduler::new(
            vec![e("a", 1, 1, None), e("a", 2, 1, None)],
            None,
            SchedulerState::default(),
        );
        assert_eq!(err.unwrap_err(), SchedulerError::Duplicate("a".into()));
        let err = Scheduler::new(vec![e("a", 0, 1, None)], None, SchedulerState::default());
        assert!(
            err.unwrap_err()
                .to_string()
                .contains("weight must be at least 1")
        );
    }
}
