//! The view of one run the template shows: figures worked out and formatted here, so the
//! template only lays them out.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{ReportError, ReportOptions, RunInput, charts};
use crate::agent::readable::{self, Entry};
use crate::provenance::Group;
use crate::store::{SessionRecord, rfc3339};

#[derive(Debug, Serialize)]
pub(crate) struct RunView {
    pub id: String,
    pub summary: Summary,
    pub charts: Vec<Chart>,
    pub yields: Vec<YieldRow>,
    pub yield_target: Option<String>,
    pub sessions: Vec<SessionView>,
    /// Sessions whose transcript the page does not carry.
    pub without_transcript: usize,
}

/// The summary figures, formatted.
#[derive(Debug, Serialize)]
pub(crate) struct Summary {
    pub status: String,
    pub stop_reason: Option<String>,
    pub agent: Option<String>,
    pub rotation: Option<String>,
    pub branch: Option<String>,
    pub base: Option<String>,
    pub base_commit: Option<String>,
    pub started: String,
    pub updated: String,
    pub wall: String,
    pub sessions: u64,
    pub by_status: Vec<(String, u64)>,
    pub tokens: u64,
    /// `1000 in / 500 out / 300 cache read / 100 cache write`, as `git pitboss show` says it
    /// (the cache parts only when there are some).
    pub tokens_parts: String,
    pub cost: String,
    pub cost_unknown: u64,
    pub budgets: Vec<(String, String)>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Chart {
    pub title: &'static str,
    pub svg: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct YieldRow {
    pub prompt: String,
    pub sessions: u64,
    pub statuses: String,
    pub landed: String,
    pub reached: String,
    pub cost: String,
    pub cost_per_landed: String,
    pub cost_per_reached: String,
    pub median: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct SessionView {
    pub seq: String,
    pub prompt: String,
    pub status: String,
    pub started: String,
    pub duration: String,
    pub tokens: u64,
    pub cost: String,
    pub commit: Option<String>,
    pub commit_short: Option<String>,
    pub summary: String,
    pub summary_short: String,
    /// The summary says more than its short form in the row.
    pub summary_long: bool,
    /// The slot of a parallel run's session.
    pub slot: Option<u32>,
    /// A parallel run's landing: its result (`landed`, `conflict`, …, also a CSS class) and
    /// the line `git pitboss show` prints for it.
    pub landing_result: Option<&'static str>,
    pub landing: Option<String>,
    pub transcript: Option<TranscriptView>,
}

#[derive(Debug, Serialize)]
pub(crate) struct TranscriptView {
    pub entries: Vec<EntryView>,
    /// Entries left out by the cap.
    pub cut: usize,
    pub command: String,
}

pub(crate) fn run_view(run: &RunInput<'_>, opts: &ReportOptions) -> Result<RunView, ReportError> {
    let id = run.meta.id.to_string();
    let sessions: Vec<SessionView> = run
        .records
        .iter()
        .map(|r| session_view(&id, r, run, opts))
        .collect();
    let without_transcript = sessions.iter().filter(|s| s.transcript.is_none()).count();
    Ok(RunView {
        summary: summary(run),
        charts: charts::all(run.records)?,
        yields: run.yields.iter().map(yield_row).collect(),
        yield_target: run.target.map(str::to_string),
        id,
        sessions,
        without_transcript,
    })
}

pub(crate) fn money(usd: f64) -> String {
    format!("${usd:.4}")
}

/// `1h02m`, `3m05s`, `12s`, as the CLI writes them.
pub(crate) fn duration(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

fn tokens_parts(t: &crate::usage::Tokens) -> String {
    let mut s = format!("{} in / {} out", t.input, t.output);
    if t.has_cache() {
        s.push_str(&format!(
            " / {} cache read / {} cache write",
            t.cache_read, t.cache_write
        ));
    }
    s
}

fn summary(run: &RunInput<'_>) -> Summary {
    let (meta, state, records) = (run.meta, run.state, run.records);
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    let (mut known, mut unknown) = (0.0, 0);
    let mut t = crate::usage::Tokens::default();
    for r in records {
        *by_status.entry(r.status.as_str().to_string()).or_default() += 1;
        match r.usage.known_cost() {
            Some(c) => known += c,
            None => unknown += 1,
        }
        t += r.usage.tokens;
    }
    let first = records.iter().map(|r| r.started_at).min();
    let last = records.iter().map(|r| r.ended_at).max();
    let wall = match (first, last) {
        (Some(a), Some(b)) => (b - a).num_seconds(),
        _ => (state.last_updated_at - state.started_at).num_seconds(),
    };
    let cost = match unknown {
        0 => money(known),
        u if u == records.len() as u64 => "unknown".to_string(),
        u => format!("{} + {u} unknown", money(known)),
    };
    Summary {
        status: state.status.as_str().to_string(),
        stop_reason: state.stop_reason.clone(),
        agent: meta.agent.clone(),
        rotation: meta.rotation.clone(),
        branch: meta.branch_shown(),
        base: meta.base_branch.clone(),
        base_commit: meta
            .base_commit_text()
            .as_deref()
            .map(|c| c.chars().take(12).collect()),
        started: rfc3339::format(&state.started_at),
        updated: rfc3339::format(&state.last_updated_at),
        wall: duration(wall),
        sessions: records.len() as u64,
        by_status: by_status.into_iter().collect(),
        tokens: t.total(),
        tokens_parts: tokens_parts(&t),
        cost,
        cost_unknown: unknown,
        budgets: budgets(
            &crate::plan::in_force::read(meta, state),
            records.len() as u64,
            known,
            t.total(),
        ),
    }
}

/// The budgets the run last ran with ([`crate::plan::in_force`], as `watch` shows them), each
/// against what was spent.
fn budgets(
    l: &crate::plan::in_force::InForce,
    sessions: u64,
    cost: f64,
    tokens: u64,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(n) = l.max_iterations {
        out.push(("iterations".into(), format!("{sessions} of {n}")));
    }
    if let Some(c) = l.max_cost_usd {
        out.push(("cost".into(), format!("{} of {}", money(cost), money(c))));
    }
    if let Some(t) = l.max_tokens {
        out.push(("tokens".into(), format!("{tokens} of {t}")));
    }
    if let Some(u) = l.until {
        out.push(("until".into(), rfc3339::format(&u)));
    }
    out
}

fn pct(n: u64, of: u64) -> String {
    if of == 0 {
        "-".into()
    } else {
        format!("{}%", (n as f64 * 100.0 / of as f64).round() as u64)
    }
}

fn per(v: Option<f64>, units: u64, unknown: u64) -> String {
    match v {
        None if units > 0 => "unknown".into(),
        None => "-".into(),
        Some(v) if unknown > 0 => format!("{}+?", money(v)),
        Some(v) => money(v),
    }
}

fn yield_row(g: &Group) -> YieldRow {
    let statuses: Vec<String> = g
        .by_status
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    let cost_per_landed =
        (g.landed > 0 && g.cost_unknown < g.sessions).then(|| g.cost_usd / g.landed as f64);
    YieldRow {
        prompt: g.key.clone(),
        sessions: g.sessions,
        statuses: statuses.join(", "),
        landed: format!("{} ({})", g.landed, pct(g.landed, g.sessions)),
        reached: match g.reach_unknown {
            // As `stats` counts them: unknown reach is unknown, never "0 (0%)".
            0 => format!("{} ({})", g.reached, pct(g.reached, g.sessions)),
            u if u == g.landed => "unknown".into(),
            u => format!(
                "{} ({}) + {u} unknown",
                g.reached,
                pct(g.reached, g.sessions)
            ),
        },
        cost: match g.cost_unknown {
            0 => money(g.cost_usd),
            u if u == g.sessions => "unknown".into(),
            u => format!("{} + {u} unknown", money(g.cost_usd)),
        },
        cost_per_landed: per(cost_per_landed, g.landed, g.cost_unknown),
        cost_per_reached: match g.reached {
            0 if g.reach_unknown > 0 => "unknown".into(),
            _ => per(g.cost_per_reached, g.reached, g.cost_unknown),
        },
        median: g.median_secs.map_or("-".into(), duration),
    }
}

fn session_view(
    run_id: &str,
    r: &SessionRecord,
    run: &RunInput<'_>,
    opts: &ReportOptions,
) -> SessionView {
    let summary = r.summary.clone().unwrap_or_default();
    let summary_short = readable::one_line_short(&summary, 100);
    let transcript = run.transcripts.get(&r.seq).map(|raw| {
        let agent = r.agent.as_deref().or(run.meta.agent.as_deref());
        let all = readable::entries(readable::Backend::from_agent(agent), raw);
        let (entries, cut) = cap(all, opts.transcript_chars);
        TranscriptView {
            entries: entries.into_iter().map(entry_view).collect(),
            cut,
            command: format!("git pitboss show {run_id} {} --pretty", r.seq),
        }
    });
    SessionView {
        seq: format!("{:04}", r.seq),
        prompt: r.prompt.clone(),
        status: r.status.as_str().to_string(),
        started: rfc3339::format(&r.started_at),
        duration: duration(r.duration_secs()),
        tokens: r.usage.tokens.total(),
        cost: r.usage.known_cost().map_or("unknown".into(), money),
        commit_short: r.commit_text().map(|c| c.chars().take(7).collect()),
        commit: r.commit_text(),
        summary_long: summary.trim() != summary_short,
        summary,
        summary_short,
        slot: r.slot,
        landing_result: r.landing.as_ref().map(|l| l.result.as_str()),
        landing: r.landing.as_ref().map(|l| l.describe()),
        transcript,
    }
}

/// One transcript entry as the page shows it: a kind (its CSS class), a label, and text.
#[derive(Debug, Serialize)]
pub(crate) struct EntryView {
    pub kind: &'static str,
    pub label: String,
    pub text: String,
}

fn entry_view(e: Entry) -> EntryView {
    let (kind, label, text) = match e {
        Entry::Note { text } => ("note", String::new(), text),
        Entry::Text { text } => ("text", String::new(), text),
        Entry::Thinking { text } => ("thinking", String::new(), text),
        Entry::ToolCall { name, args } => ("call", name, args),
        Entry::ToolResult { text, error } => (
            if error { "result error" } else { "result" },
            String::new(),
            text,
        ),
        Entry::Error { text } => ("error", String::new(), text),
        Entry::Finish(f) => (
            if f.ok { "finish" } else { "finish error" },
            f.line(),
            f.text.unwrap_or_default(),
        ),
        Entry::Stderr { text } => ("stderr", String::new(), text),
        Entry::Plain { text } => ("plain", String::new(), text),
    };
    EntryView { kind, label, text }
}

/// The entries up to `chars` characters of text, and how many were left out.
fn cap(entries: Vec<Entry>, chars: usize) -> (Vec<Entry>, usize) {
    let mut used = 0;
    let total = entries.len();
    let mut kept = Vec::new();
    for e in entries {
        let n = entry_chars(&e);
        if used + n > chars && !kept.is_empty() {
            break;
        }
        used += n;
        kept.push(e);
    }
    let cut = total - kept.len();
    (kept, cut)
}

fn entry_chars(e: &Entry) -> usize {
    match e {
        Entry::Note { text }
        | Entry::Text { text }
        | Entry::Thinking { text }
        | Entry::Error { text }
        | Entry::Stderr { text }
        | Entry::Plain { text }
        | Entry::ToolResult { text, .. } => text.len(),
        Entry::ToolCall { name, args } => name.len() + args.len(),
        Entry::Finish(f) => f.text.as_ref().map_or(0, String::len) + 40,
    }
}
