//! `git pitboss stats`: what did the spend buy? Sessions grouped by prompt, agent, model, run
//! or day, with the share that changed nothing, landed on the run branch and reached the
//! target, tokens, cost, cost per change that reached the target, and median session time.

use std::io::Write;

use anyhow::anyhow;
use clap::{Args, ValueEnum};

use crate::cli::resolve::{duration, money, with_store};
use crate::cli::ui;
use crate::cli::{CliError, CliResult, Ctx, ExitStatus};
use crate::provenance::{self, Group, GroupBy, StatsOptions, StatsReport, Target};

/// Show what the spend bought: sessions, cost, and the work that reached the target.
///
/// A session's work "reached the target" when it got there by a merge, a fast-forward, a
/// rebase or cherry-pick (same patch id), a squash of the whole run branch, or any way that
/// left its change applied in the target's tree; `unknown` when later edits make that
/// undecidable. The target is each run's base branch unless --target names one.
#[derive(Debug, Args)]
pub(crate) struct StatsArgs {
    /// Only these runs (full ids or unique prefixes); every run when none is given.
    runs: Vec<String>,
    /// How to group sessions.
    #[arg(long, value_enum, default_value = "prompt")]
    by: By,
    /// Only sessions started on or after this day (YYYY-MM-DD) or time (RFC 3339).
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// The branch or revision work must reach (default: each run's base branch).
    #[arg(long, value_name = "REV")]
    target: Option<String>,
    /// Add the runs fetched from remotes (refs/pitboss-remotes/*) that are not local runs.
    #[arg(long)]
    remote_runs: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum By {
    Prompt,
    Agent,
    Model,
    Run,
    Day,
}

/// `2026-11-24` (midnight UTC) or a full RFC 3339 time.
pub(super) fn parse_since(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
        .map_err(|_| format!("--since {s:?} is not a day (2026-11-24) or an RFC 3339 time"))
}

pub(crate) fn cmd_stats(ctx: &Ctx, args: StatsArgs) -> CliResult {
    let since = match &args.since {
        Some(s) => Some(parse_since(s).map_err(|m| {
            CliError::user(anyhow!(m))
                .hint("use --since 2026-11-24 or --since 2026-11-24T10:00:00Z")
        })?),
        None => None,
    };
    with_store(ctx, |store| {
        let mut runs = Vec::new();
        for r in &args.runs {
            runs.push(store.resolve(r)?.to_string());
        }
        let target = match &args.target {
            Some(t) => Target::Rev(t.clone()),
            None => Target::BaseBranch,
        };
        let opts = StatsOptions {
            by: match args.by {
                By::Prompt => GroupBy::Prompt,
                By::Agent => GroupBy::Agent,
                By::Model => GroupBy::Model,
                By::Run => GroupBy::Run,
                By::Day => GroupBy::Day,
            },
            since,
            runs,
            remote_runs: args.remote_runs,
        };
        let report = provenance::stats_of(store, &target, &opts)?;
        let mut out = ui::stdout();
        if args.json {
            render_json(&mut out, &report, args.target.as_deref())?;
        } else {
            render_text(&mut out, &report, args.target.as_deref())?;
        }
        out.flush()?;
        Ok(ExitStatus::Success)
    })
}

/// `stats --json`: the target asked for (`null`: each run's base branch), the grouping, and
/// the figures.
fn render_json(out: &mut impl Write, report: &StatsReport, target: Option<&str>) -> CliResult<()> {
    let v = serde_json::json!({
        "target": target,
        "by": report.by,
        "runs": report.runs,
        "groups": report.groups,
        "total": report.total,
    });
    serde_json::to_writer_pretty(&mut *out, &v)?;
    writeln!(out)?;
    Ok(())
}

fn pct(n: u64, of: u64) -> String {
    if of == 0 {
        "-".into()
    } else {
        format!("{}%", (n as f64 * 100.0 / of as f64).round() as u64)
    }
}

/// A cost that may leave some sessions out: `$1.2000`, `$1.2000 +2?`, `unknown`.
fn cost(known: f64, unknown: u64, sessions: u64) -> String {
    match unknown {
        0 => money(known),
        u if u == sessions => "unknown".into(),
        u => format!("{} +{u}?", money(known)),
    }
}

fn per(v: Option<f64>, unknown: u64) -> String {
    match v {
        None => "-".into(),
        Some(v) if unknown > 0 => format!("{}+?", money(v)),
        Some(v) => money(v),
    }
}

/// A per-unit cost: `-` when there are no units, `unknown` when none of their costs is known.
fn per_or_unknown(v: Option<f64>, unknown: u64, units: u64) -> String {
    match v {
        None if units > 0 => "unknown".into(),
        v => per(v, unknown),
    }
}

fn row(g: &Group) -> Vec<String> {
    let statuses: Vec<String> = g
        .by_status
        .iter()
        .map(|(k, v)| format!("{v} {}", crate::cli::escape::one_line(k)))
        .collect();
    vec![
        crate::cli::escape::one_line(&g.key).into_owned(),
        g.sessions.to_string(),
        statuses.join(", "),
        pct(g.changed_nothing, g.sessions),
        pct(g.landed, g.sessions),
        format!("{} ({})", g.reached, pct(g.reached, g.sessions)),
        g.reach_unknown.to_string(),
        g.tokens.to_string(),
        cost(g.cost_usd, g.cost_unknown, g.sessions),
        per_or_unknown(g.cost_per_session, g.cost_unknown, g.sessions),
        per_or_unknown(g.cost_per_reached, g.cost_unknown, g.reached),
        g.median_secs.map_or("-".into(), duration),
    ]
}

fn render_text(out: &mut impl Write, r: &StatsReport, target: Option<&str>) -> std::io::Result<()> {
    if r.total.sessions == 0 {
        writeln!(out, "No sessions recorded yet.")?;
        return Ok(());
    }
    let head: Vec<String> = [
        r.by,
        "sessions",
        "status",
        "nothing",
        "landed",
        "reached",
        "unknown",
        "tokens",
        "cost",
        "$/session",
        "$/reached",
        "median",
    ]
    .iter()
    .map(|s| s.to_uppercase())
    .collect();
    let mut rows = vec![head];
    rows.extend(r.groups.iter().map(row));
    let mut total = row(&r.total);
    total[0] = "TOTAL".into();
    rows.push(total);
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for (i, cells) in rows.iter().enumerate() {
        let mut line = String::new();
        for (c, cell) in cells.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            // Text columns left, figures right.
            if c == 0 || c == 2 || i == 0 {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            }
            line.push_str("  ");
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    let how: Vec<String> = r
        .total
        .reached_by
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    writeln!(out)?;
    writeln!(
        out,
        "{} run{}; target: {}; reached by: {}",
        r.runs,
        if r.runs == 1 { "" } else { "s" },
        target.unwrap_or("each run's base branch"),
        if how.is_empty() {
            "-".into()
        } else {
            how.join(", ")
        }
    )?;
    writeln!(
        out,
        "tokens = input + output + cache reads + cache writes; $/reached = cost / sessions whose work reached the target"
    )?;
    if r.total.cost_unknown > 0 {
        writeln!(
            out,
            "+N? = N sessions of unknown cost, not counted in the dollar figures"
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_days_and_times() {
        assert_eq!(
            parse_since("2026-11-24").unwrap().to_rfc3339(),
            "2026-11-24T00:00:00+00:00"
        );
        assert!(parse_since("2026-11-24T10:00:00Z").is_ok());
        assert!(parse_since("yesterday").is_err());
        assert_eq!(cost(1.0, 0, 3), "$1.0000");
        assert_eq!(cost(1.0, 1, 3), "$1.0000 +1?");
        assert_eq!(cost(0.0, 3, 3), "unknown");
        assert_eq!(pct(1, 3), "33%");
    }
}
