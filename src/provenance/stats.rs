//! The figures of `git pitboss stats`: sessions grouped by prompt, agent, model, run or day,
//! with their statuses, how many changed nothing, landed on the run branch and reached the
//! target, tokens, cost (known, and how many sessions of unknown cost), and median time.
//!
//! Pure: the index and the reach verdicts in, a report out.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::index::Index;
use super::reach::{Reach, ReachReport};

/// How sessions are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum GroupBy {
    #[default]
    Prompt,
    Agent,
    Model,
    Run,
    Day,
}

/// Which sessions count.
#[derive(Debug, Clone, Default)]
pub(crate) struct StatsOptions {
    pub by: GroupBy,
    /// Only sessions started at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only these runs (full ids); every run when empty.
    pub runs: Vec<String>,
    pub remote_runs: bool,
}

/// One group's figures. Shares are of `sessions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Group {
    pub key: String,
    pub sessions: u64,
    pub by_status: BTreeMap<String, u64>,
    /// Sessions that changed nothing (no commit, no saved patch).
    pub changed_nothing: u64,
    /// Sessions whose work is on the run branch.
    pub landed: u64,
    /// Sessions whose work reached the target, by how it was recognised.
    pub reached: u64,
    pub reached_by: BTreeMap<String, u64>,
    /// Landed sessions whose reaching the target cannot be decided (or has no target).
    pub reach_unknown: u64,
    pub tokens: u64,
    /// The sum of the known costs.
    pub cost_usd: f64,
    /// Sessions whose cost is not known (not counted in `cost_usd`).
    pub cost_unknown: u64,
    /// Known cost per session of known cost.
    pub cost_per_session: Option<f64>,
    /// Known cost of the whole group per session whose work reached the target.
    pub cost_per_reached: Option<f64>,
    pub median_secs: Option<i64>,
    #[serde(skip)]
    secs: Vec<i64>,
}

impl Group {
    fn add(&mut self, s: &super::SessionFacts, reach: Reach) {
        self.sessions += 1;
        *self
            .by_status
            .entry(s.status.as_str().to_string())
            .or_insert(0) += 1;
        if !s.changed() {
            self.changed_nothing += 1;
        }
        if reach != Reach::NotLanded {
            self.landed += 1;
        }
        if reach.reached() {
            self.reached += 1;
            *self.reached_by.entry(reach.as_str().into()).or_insert(0) += 1;
        }
        if matches!(reach, Reach::Unknown | Reach::NoTarget) {
            self.reach_unknown += 1;
        }
        self.tokens = self.tokens.saturating_add(s.tokens);
        match s.cost_usd {
            Some(c) => self.cost_usd += c,
            None => self.cost_unknown += 1,
        }
        self.secs.push(s.secs);
    }

    fn finish(&mut self) {
        let known = self.sessions - self.cost_unknown;
        self.cost_usd = clean(self.cost_usd);
        self.cost_per_session = (known > 0).then(|| clean(self.cost_usd / known as f64));
        // With no session of known cost there is no figure to divide: unknown, never $0.
        self.cost_per_reached =
            (self.reached > 0 && known > 0).then(|| clean(self.cost_usd / self.reached as f64));
        self.secs.sort_unstable();
        self.median_secs = median(&self.secs);
    }
}

/// A dollar figure without the noise of summing binary floats (0.1 + 0.2 is
/// 0.30000000000000004): rounded to a billionth of a dollar, far below any price.
fn clean(usd: f64) -> f64 {
    (usd * 1e9).round() / 1e9
}

/// The median of sorted values (the lower middle one for an even count: a real session time).
fn median(sorted: &[i64]) -> Option<i64> {
    if sorted.is_empty() {
        None
    } else {
        Some(sorted[(sorted.len() - 1) / 2])
    }
}

/// Every group, and the whole.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct StatsReport {
    pub by: &'static str,
    pub groups: Vec<Group>,
    pub total: Group,
    pub runs: usize,
}

impl GroupBy {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            GroupBy::Prompt => "prompt",
            GroupBy::Agent => "agent",
            GroupBy::Model => "model",
            GroupBy::Run => "run",
            GroupBy::Day => "day",
        }
    }
}

/// Groups the sessions of the index.
pub(crate) fn compute(index: &Index, reach: &ReachReport, opts: &StatsOptions) -> StatsReport {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut total = Group {
        key: "total".into(),
        ..Group::default()
    };
    let mut runs = 0;
    for run in index.runs(opts.remote_runs) {
        if !opts.runs.is_empty() && !opts.runs.contains(&run.id) {
            continue;
        }
        runs += 1;
        let verdicts = reach.get(&run.refname);
        for s in &run.sessions {
            if opts.since.is_some_and(|t| s.started_at < t) {
                continue;
            }
            let key = match opts.by {
                GroupBy::Prompt => s.prompt.clone(),
                GroupBy::Agent => s.agent.clone().unwrap_or_else(|| "(unknown)".into()),
                GroupBy::Model => s.model.clone().unwrap_or_else(|| "(unknown)".into()),
                GroupBy::Run => run.id.clone(),
                GroupBy::Day => s.started_at.format("%Y-%m-%d").to_string(),
            };
            let r = verdicts
                .and_then(|v| v.verdicts.get(&s.seq).copied())
                .unwrap_or(Reach::NotLanded);
            let g = groups.entry(key.clone()).or_insert_with(|| Group {
                key,
                ..Group::default()
            });
            g.add(s, r);
            total.add(s, r);
        }
    }
    let mut groups: Vec<Group> = groups.into_values().collect();
    for g in &mut groups {
        g.finish();
    }
    total.finish();
    StatsReport {
        by: opts.by.as_str(),
        groups,
        total,
        runs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_is_a_real_session_time() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5]), Some(5));
        assert_eq!(median(&[1, 2, 9, 10]), Some(2));
        assert_eq!(median(&[1, 2, 9]), Some(2));
    }
}
