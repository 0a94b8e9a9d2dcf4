//! The dashboard's data, pure (house style 12): the run's header and budgets, its finished
//! sessions (records from the run ref or from `session_finished` events), the live sessions
//! (from the events file: one, or several side by side in a parallel run, their events
//! interleaved), and what the screen shows of them: gauges, table rows (the live sessions on
//! top, then the newest first, only the visible window formatted), per-prompt totals.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::store::{Run, SessionRecord};

/// Budgets in force, as far as the watcher knows them.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Limits {
    #[serde(default)]
    pub max_iterations: Option<u64>,
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
    #[serde(default)]
    pub max_cost_usd: Option<f64>,
    #[serde(default)]
    pub max_tokens: Option<u64>,
}

/// The events of the events file that the dashboard uses; others are ignored.
#[derive(Debug, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        #[serde(default)]
        agent: Option<String>,
        #[serde(default)]
        model: Option<String>,
        #[serde(default)]
        rotation: Option<String>,
        #[serde(default)]
        limits: Option<Limits>,
    },
    SessionStarted {
        seq: u64,
        #[serde(default)]
        slot: Option<u32>,
        prompt: String,
        #[serde(default)]
        started_at: Option<DateTime<Utc>>,
    },
    Progress {
        seq: u64,
        #[serde(default)]
        last_tool: Option<String>,
        #[serde(default)]
        tokens: Option<u64>,
        #[serde(default)]
        cost_usd: Option<f64>,
    },
    /// A parallel session's agent is done; it waits to land behind an older session.
    Queued {
        seq: u64,
        behind: u64,
    },
    SessionFinished {
        record: Box<SessionRecord>,
    },
    Waiting {
        until: DateTime<Utc>,
        reason: String,
    },
    RunFinished {},
    #[serde(other)]
    Other,
}

/// A session in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    pub seq: u64,
    /// Its slot worktree, in a parallel run.
    pub slot: Option<u32>,
    pub prompt: String,
    pub started_at: Option<DateTime<Utc>>,
    pub last_tool: Option<String>,
    pub tokens: Option<u64>,
    /// Its cost so far, when the agent's events tell it.
    pub cost_usd: Option<f64>,
    /// Its agent is done and it waits to land behind this older session (parallel runs).
    pub queued_behind: Option<u64>,
}

/// Totals of one prompt.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PromptTotal {
    pub prompt: String,
    pub sessions: u64,
    pub ok: u64,
    pub failed: u64,
    pub tokens: u64,
    pub cost_usd: f64,
    pub unknown_cost: u64,
    pub seconds: i64,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, Default)]
pub struct Dashboard {
    pub run: String,
    pub status: String,
    pub stop_reason: Option<String>,
    pub agent: Option<String>,
    pub model: Option<String>,
    pub branch: Option<String>,
    pub rotation: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub limits: Limits,
    /// Finished sessions by seq.
    pub done: BTreeMap<u64, SessionRecord>,
    /// The sessions in progress, by seq.
    pub live: BTreeMap<u64, Live>,
    pub waiting: Option<(DateTime<Utc>, String)>,
    /// Whether a grind holds the run now (the CLI sets it).
    pub grinding: bool,
}

impl Dashboard {
    /// The header fields from the run as stored (run.json, state.json).
    pub fn set_run(&mut self, run: &Run) {
        self.run = run.id.to_string();
        self.status = run.state.status.as_str().to_string();
        self.stop_reason = run.state.stop_reason.clone();
        self.agent = run.meta.agent.clone().or(self.agent.take());
        self.branch = run.meta.branch.clone();
        self.rotation = run.meta.rotation.clone().or(self.rotation.take());
        self.started_at = Some(run.state.started_at);
        if let Some(s) = crate::plan::started::StartedWith::read(&run.meta) {
            self.model = self.model.take().or(s.model);
        }
        // What the run last ran with, as `report` shows it; a live grind's `run_started`
        // event (folded in later) says the same.
        let f = crate::plan::in_force::read(&run.meta, &run.state);
        let l = &mut self.limits;
        l.max_iterations = l.max_iterations.or(f.max_iterations);
        l.until = l.until.or(f.until);
        l.max_cost_usd = l.max_cost_usd.or(f.max_cost_usd);
        l.max_tokens = l.max_tokens.or(f.max_tokens);
    }

    /// A finished session.
    pub fn add_record(&mut self, r: SessionRecord) {
        self.live.remove(&r.seq);
        if self.model.is_none() {
            self.model = r.model.clone();
        }
        self.done.insert(r.seq, r);
    }

    /// Folds one line of the events file in; returns whether anything changed.
    pub fn apply_line(&mut self, line: &str) -> bool {
        match serde_json::from_str::<Event>(line) {
            Ok(e) => self.apply(e),
            Err(_) => false,
        }
    }

    pub fn apply(&mut self, e: Event) -> bool {
        match e {
            Event::RunStarted {
                agent,
                model,
                rotation,
                limits,
            } => {
                self.agent = agent.or(self.agent.take());
                self.model = model.or(self.model.take());
                self.rotation = rotation.or(self.rotation.take());
                if let Some(l) = limits {
                    self.limits = l;
                }
            }
            Event::SessionStarted {
                seq,
                slot,
                prompt,
                started_at,
            } => {
                self.waiting = None;
                if !self.done.contains_key(&seq) {
                    self.live.insert(
                        seq,
                        Live {
                            seq,
                            slot,
                            prompt,
                            started_at,
                            last_tool: None,
                            tokens: None,
                            cost_usd: None,
                            queued_behind: None,
                        },
                    );
                }
            }
            Event::Progress {
                seq,
                last_tool,
                tokens,
                cost_usd,
            } => match self.live.get_mut(&seq) {
                Some(l) => {
                    l.last_tool = last_tool.or(l.last_tool.take());
                    l.tokens = tokens.or(l.tokens);
                    l.cost_usd = cost_usd.or(l.cost_usd);
                }
                None => return false,
            },
            Event::Queued { seq, behind } => match self.live.get_mut(&seq) {
                Some(l) => l.queued_behind = Some(behind),
                None => return false,
            },
            Event::SessionFinished { record } => self.add_record(*record),
            Event::Waiting { until, reason } => self.waiting = Some((until, reason)),
            Event::RunFinished {} => self.live.clear(),
            Event::Other => return false,
        }
        true
    }

    /// Sessions dispatched: finished plus the live ones.
    pub fn iterations(&self) -> u64 {
        (self.done.len() + self.live.len()) as u64
    }

    /// Known cost (with the live sessions' so far), and how many sessions have none.
    pub fn cost(&self) -> (f64, u64) {
        let mut c = crate::store::Consumed::default();
        for r in self.done.values() {
            c.add(r);
        }
        let live: f64 = self.live.values().filter_map(|l| l.cost_usd).sum();
        (c.cost_usd + live, c.unknown_cost_sessions)
    }

    /// Tokens as budgets count them (input, output, cache reads and writes).
    pub fn tokens(&self) -> u64 {
        self.done
            .values()
            .map(|r| r.usage.tokens.total())
            .sum::<u64>()
            + self.live.values().filter_map(|l| l.tokens).sum::<u64>()
    }

    /// One total per prompt, the most sessions first.
    pub fn prompt_totals(&self) -> Vec<PromptTotal> {
        let mut by: HashMap<&str, PromptTotal> = HashMap::new();
        for r in self.done.values() {
            let t = by.entry(r.prompt.as_str()).or_insert_with(|| PromptTotal {
                prompt: r.prompt.clone(),
                ..Default::default()
            });
            t.sessions += 1;
            if r.status.is_failure() {
                t.failed += 1;
            } else if r.status.as_str() == "ok" {
                t.ok += 1;
            }
            t.tokens += r.usage.tokens.total();
            if r.usage.cost_known() {
                t.cost_usd += r.usage.cost_usd;
            } else {
                t.unknown_cost += 1;
            }
            t.seconds += r.duration_secs();
        }
        let mut v: Vec<PromptTotal> = by.into_values().collect();
        v.sort_by(|a, b| b.sessions.cmp(&a.sessions).then(a.prompt.cmp(&b.prompt)));
        v
    }

    /// Whether any session shown ran in a slot of a parallel run (the table shows slots).
    pub fn has_slots(&self) -> bool {
        self.live.values().any(|l| l.slot.is_some()) || self.done.values().any(|r| r.slot.is_some())
    }

    /// The number of table rows (the live sessions, then every finished one).
    pub fn row_count(&self) -> usize {
        self.done.len() + self.live.len()
    }

    /// The seq shown at table row `i` (the live sessions first, newest first; then the
    /// finished ones, newest first).
    pub fn seq_at(&self, i: usize) -> Option<u64> {
        match self.live.keys().rev().nth(i) {
            Some(seq) => Some(*seq),
            None => self.done.keys().rev().nth(i - self.live.len()).copied(),
        }
    }

    /// The table row of `seq`, when it has one.
    pub fn index_of(&self, seq: u64) -> Option<usize> {
        if self.live.contains_key(&seq) {
            return Some(self.live.range(seq + 1..).count());
        }
        self.done
            .contains_key(&seq)
            .then(|| self.live.len() + self.done.range(seq + 1..).count())
    }

    /// The session `s` of `watch` ends: the selected one when it runs, else the only one
    /// running. `Err` with the seqs running when that says none (none runs, or several and a
    /// finished one is selected).
    pub fn skip_target(&self, selected: Option<u64>) -> Result<u64, Vec<u64>> {
        match selected {
            Some(seq) if self.live.contains_key(&seq) => Ok(seq),
            _ if self.live.len() == 1 => Ok(*self.live.keys().next().unwrap_or(&0)),
            _ => Err(self.live.keys().copied().collect()),
        }
    }

    /// Rows `from..from + n` of the table, formatted (the rest is never formatted: a run of
    /// 10,000 sessions costs no more per frame than a run of 20).
    pub fn rows(&self, from: usize, n: usize, now: DateTime<Utc>) -> Vec<Row> {
        let live = (self.live.values().rev()).map(|l| live_row(l, self.grinding, now));
        let done = self.done.values().rev().map(done_row);
        live.chain(done).skip(from).take(n).collect()
    }

    /// A gauge for each budget in force.
    pub fn gauges(&self, now: DateTime<Utc>) -> Vec<Gauge> {
        let mut g = Vec::new();
        let l = &self.limits;
        if let Some(max) = l.max_iterations {
            let n = self.iterations();
            g.push(Gauge::new(
                "iterations",
                n as f64,
                max as f64,
                format!("{n} of {max}"),
            ));
        }
        if let Some(max) = l.max_cost_usd {
            let (c, unknown) = self.cost();
            let more = if unknown > 0 { " (+ unknown)" } else { "" };
            g.push(Gauge::new(
                "cost",
                c,
                max,
                format!("${c:.2} of ${max:.2}{more}"),
            ));
        }
        if let Some(max) = l.max_tokens {
            let t = self.tokens();
            g.push(Gauge::new(
                "tokens",
                t as f64,
                max as f64,
                format!("{t} of {max}"),
            ));
        }
        if let (Some(until), Some(start)) = (l.until, self.started_at) {
            let total = (until - start).num_seconds().max(1) as f64;
            let used = (now.min(until) - start).num_seconds().max(0) as f64;
            let left = (until - now).num_seconds().max(0);
            g.push(Gauge::new(
                "until",
                used,
                total,
                format!(
                    "{} left (until {})",
                    short_duration(left),
                    until.format("%H:%M UTC")
                ),
            ));
        }
        g
    }
}

/// One budget's progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Gauge {
    pub label: &'static str,
    /// 0.0 ..= 1.0.
    pub ratio: f64,
    pub text: String,
}

impl Gauge {
    fn new(label: &'static str, used: f64, limit: f64, text: String) -> Gauge {
        let ratio = if limit > 0.0 { used / limit } else { 1.0 };
        Gauge {
            label,
            ratio: ratio.clamp(0.0, 1.0),
            text,
        }
    }
}

/// One row of the sessions table, formatted.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub seq: u64,
    /// The slot it ran in (parallel runs only).
    pub slot: Option<u32>,
    pub live: bool,
    pub prompt: String,
    pub status: String,
    pub duration: String,
    pub tokens: String,
    pub cost: String,
    /// The summary's first line; for the live session, its last tool.
    pub summary: String,
}

/// A session in progress; with no grind holding the run it is no longer running (its grind
/// died): `interrupted`, as `ls` says, with no time that keeps counting.
fn live_row(l: &Live, grinding: bool, now: DateTime<Utc>) -> Row {
    Row {
        seq: l.seq,
        slot: l.slot,
        live: true,
        prompt: l.prompt.clone(),
        status: match (grinding, l.queued_behind) {
            (false, _) => "interrupted",
            // Its agent is done; it lands once the older sessions have.
            (true, Some(_)) => "queued",
            (true, None) => "running",
        }
        .into(),
        duration: l
            .started_at
            .filter(|_| grinding)
            .map(|t| short_duration((now - t).num_seconds().max(0)))
            .unwrap_or_else(|| "-".into()),
        tokens: l
            .tokens
            .map(|t| t.to_string())
            .unwrap_or_else(|| "-".into()),
        cost: l
            .cost_usd
            .map(|c| format!("${c:.4}"))
            .unwrap_or_else(|| "-".into()),
        summary: l
            .last_tool
            .as_ref()
            .map(|t| format!("last tool: {t}"))
            .unwrap_or_default(),
    }
}

fn done_row(r: &SessionRecord) -> Row {
    Row {
        seq: r.seq,
        slot: r.slot,
        live: false,
        prompt: r.prompt.clone(),
        status: r.status.as_str().to_string(),
        duration: short_duration(r.duration_secs()),
        tokens: r.usage.tokens.total().to_string(),
        cost: if r.usage.cost_known() {
            format!("${:.4}", r.usage.cost_usd)
        } else {
            "unknown".into()
        },
        summary: r
            .summary
            .as_deref()
            .and_then(|s| s.lines().find(|l| !l.trim().is_empty()))
            .unwrap_or("")
            .trim()
            .to_string(),
    }
}

/// `42s`, `3m05s`, `2h07m`.
pub(crate) fn short_duration(secs: i64) -> String {
    let s = secs.max(0);
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
