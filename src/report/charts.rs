//! The report's charts, drawn by plotters into SVG strings: cumulative cost and tokens over
//! time, the session timeline (one lane per slot), status and cost per prompt, and the
//! distribution of session durations.
//!
//! NB: plotters is built without its `ttf`/`ab_glyph` features, so it never looks for system
//! fonts; its SVG backend writes `<text>` elements (escaped) that the browser draws with its
//! own `sans-serif`. Charts stay a fixed size however long the run: lines are thinned to at
//! most a point per pixel and the timeline to at most one bar per pixel column and lane, so a
//! 10,000-session run draws charts no larger than a 1,000-session one.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ReportError;
use super::model::Chart;
use crate::store::{SessionRecord, SessionStatus};

const W: u32 = 560;
const H: u32 = 260;
const FONT: &str = "sans-serif";

/// Every chart of a run; none when the run has no session.
pub(crate) fn all(records: &[SessionRecord]) -> Result<Vec<Chart>, ReportError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![
        Chart {
            title: "Cumulative cost",
            svg: cumulative(records, "cost", |r| r.usage.known_cost().unwrap_or(0.0))?,
        },
        Chart {
            title: "Cumulative tokens",
            svg: cumulative(records, "tokens", |r| r.usage.tokens.total() as f64)?,
        },
        Chart {
            title: "Session timeline",
            svg: timeline(records)?,
        },
        Chart {
            title: "Status per prompt",
            svg: per_prompt(records, false)?,
        },
        Chart {
            title: "Cost per prompt",
            svg: per_prompt(records, true)?,
        },
        Chart {
            title: "Session durations",
            svg: durations(records)?,
        },
    ])
}

/// The colour of a status, the same as the page's CSS.
pub(crate) fn status_color(s: SessionStatus) -> RGBColor {
    match s.as_str() {
        "ok" => RGBColor(46, 160, 67),
        "dirty" => RGBColor(210, 153, 34),
        "error" => RGBColor(207, 34, 46),
        "timeout" => RGBColor(219, 109, 40),
        "aborted" => RGBColor(110, 119, 129),
        _ => RGBColor(175, 184, 193),
    }
}

fn err(chart: &'static str) -> impl Fn(String) -> ReportError {
    move |message| ReportError::Chart { chart, message }
}

/// Draws into a fresh SVG string.
fn svg(
    chart: &'static str,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<String, ReportError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(chart)(e.to_string()))?;
        draw(&root).map_err(err(chart))?;
        root.present().map_err(|e| err(chart)(e.to_string()))?;
    }
    Ok(out)
}

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// The time unit of a run's x axes: seconds for a short run, minutes, or hours.
#[derive(Debug, Clone, Copy)]
struct Unit {
    millis: f64,
    name: &'static str,
}

impl Unit {
    fn of(records: &[SessionRecord]) -> Unit {
        let start = start_of(records);
        let end = records.iter().map(|r| r.ended_at).max().unwrap_or(start);
        let ms = (end - start).num_milliseconds();
        let (millis, name) = match ms {
            ..=120_000 => (1_000.0, "seconds since the first session"),
            120_001..=7_200_000 => (60_000.0, "minutes since the first session"),
            _ => (3_600_000.0, "hours since the first session"),
        };
        Unit { millis, name }
    }

    fn at(self, t: DateTime<Utc>, start: DateTime<Utc>) -> f64 {
        (t - start).num_milliseconds() as f64 / self.millis
    }

    fn end(self, records: &[SessionRecord], start: DateTime<Utc>) -> f64 {
        let end = records.iter().map(|r| r.ended_at).max().unwrap_or(start);
        self.at(end, start).max(1.0)
    }
}

fn start_of(records: &[SessionRecord]) -> DateTime<Utc> {
    records
        .iter()
        .map(|r| r.started_at)
        .min()
        .unwrap_or_default()
}

fn cumulative(
    records: &[SessionRecord],
    what: &'static str,
    value: impl Fn(&SessionRecord) -> f64,
) -> Result<String, ReportError> {
    let start = start_of(records);
    let unit = Unit::of(records);
    let xmax = unit.end(records, start);
    let mut by_end: Vec<&SessionRecord> = records.iter().collect();
    by_end.sort_by_key(|r| r.ended_at);
    let mut points = vec![(0.0, 0.0)];
    let mut sum = 0.0;
    for r in by_end {
        sum += value(r);
        points.push((unit.at(r.ended_at, start), sum));
    }
    let points = thin(points, W as usize);
    let ymax = if sum > 0.0 { sum * 1.05 } else { 1.0 };
    let money = what == "cost";
    svg(if money { "cost" } else { "tokens" }, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(10)
            .x_label_area_size(32)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..xmax, 0.0..ymax)
            .map_err(s)?;
        chart
            .configure_mesh()
            .x_desc(unit.name)
            .label_style((FONT, 12))
            .y_label_formatter(&|v| match money {
                true => dollars(*v),
                false => short_count(*v, ymax),
            })
            .draw()
            .map_err(s)?;
        let color = if money {
            RGBColor(9, 105, 218)
        } else {
            RGBColor(130, 80, 223)
        };
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(s)?;
        Ok(())
    })
}

/// At most about one point per pixel column: the last point of each column.
fn thin(points: Vec<(f64, f64)>, columns: usize) -> Vec<(f64, f64)> {
    if points.len() <= columns {
        return points;
    }
    let xmax = points
        .iter()
        .map(|p| p.0)
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(columns + 1);
    let mut last_col = usize::MAX;
    for p in points {
        let col = ((p.0 / xmax) * columns as f64) as usize;
        if col == last_col {
            if let Some(l) = out.last_mut() {
                *l = p;
            }
        } else {
            out.push(p);
            last_col = col;
        }
    }
    out
}

/// The fewest decimals (from `min` to `max`) that write `x` exactly: an axis tick is a round
/// number (`2.5`, `0.0025`), so each label shows what it is and no two ticks read the same.
fn decimals(x: f64, min: usize, max: usize) -> usize {
    (min..max)
        .find(|d| {
            let scaled = x * 10f64.powi(*d as i32);
            (scaled - scaled.round()).abs() < 1e-6
        })
        .unwrap_or(max)
}

/// A count's axis label in the axis's one unit (`2.5k`, `5k`, `7.5k`): the unit comes from
/// the axis range, the decimals from the tick, never a per-value rounding (which drew
/// `3k, 2k, 2k, 2k`).
fn short_count(v: f64, max: f64) -> String {
    let (unit, suffix) = match max {
        m if m >= 1e10 => (1e9, "G"),
        m if m >= 1e7 => (1e6, "M"),
        m if m >= 1e4 => (1e3, "k"),
        _ => (1.0, ""),
    };
    let x = v / unit;
    format!("{x:.*}{suffix}", decimals(x, 0, 3))
}

/// A dollar axis label: cents at least, more when the tick needs them (`$0.0025`).
fn dollars(v: f64) -> String {
    format!("${v:.*}", decimals(v, 2, 6))
}

/// The slot a session ran in (`slot` in records of parallel runs); 0 otherwise.
fn slot(r: &SessionRecord) -> u64 {
    r.slot.map_or(0, u64::from)
}

/// How bad a status is, to pick the one a pixel column shows when sessions share it.
fn severity(s: SessionStatus) -> u8 {
    match s.as_str() {
        "error" => 5,
        "timeout" => 4,
        "aborted" => 3,
        "dirty" => 2,
        "ok" => 1,
        _ => 0,
    }
}

fn timeline(records: &[SessionRecord]) -> Result<String, ReportError> {
    let start = start_of(records);
    let unit = Unit::of(records);
    let xmax = unit.end(records, start);
    let lanes: Vec<u64> = {
        let mut l: Vec<u64> = records.iter().map(slot).collect();
        l.sort_unstable();
        l.dedup();
        l
    };
    let columns = W as usize;
    // Per lane and pixel column, the worst status of a session that covers it.
    let mut cells: BTreeMap<(usize, usize), SessionStatus> = BTreeMap::new();
    for r in records {
        let lane = lanes.binary_search(&slot(r)).unwrap_or(0);
        let a = (unit.at(r.started_at, start) / xmax * columns as f64) as usize;
        let b = (unit.at(r.ended_at, start) / xmax * columns as f64) as usize;
        for col in a..=b.min(columns) {
            let cell = cells.entry((lane, col)).or_insert(r.status);
            if severity(r.status) > severity(*cell) {
                *cell = r.status;
            }
        }
    }
    // Runs of equal cells become one bar.
    let mut bars: Vec<(usize, usize, usize, SessionStatus)> = Vec::new();
    for ((lane, col), st) in cells {
        match bars.last_mut() {
            Some(b) if b.0 == lane && b.2 + 1 == col && b.3 == st => b.2 = col,
            _ => bars.push((lane, col, col, st)),
        }
    }
    let n = lanes.len();
    svg("timeline", |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(10)
            .x_label_area_size(32)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..xmax, 0.0..n as f64)
            .map_err(s)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc(unit.name)
            .label_style((FONT, 12))
            .draw()
            .map_err(s)?;
        let to_x = |col: usize| col as f64 / columns as f64 * xmax;
        chart
            .draw_series(bars.iter().map(|&(lane, a, b, st)| {
                Rectangle::new(
                    [(to_x(a), lane as f64), (to_x(b + 1), lane as f64 + 1.0)],
                    status_color(st).filled(),
                )
            }))
            .map_err(s)?;
        let names: Vec<String> = lanes.iter().map(|l| format!("slot {l}")).collect();
        row_labels(root, &chart, &names)
    })
}

/// One prompt's sessions by status (keyed by severity, to stack them in order) and known cost.
type PromptRow = (BTreeMap<u8, (SessionStatus, u64)>, f64);

/// Per prompt: sessions by status (stacked), or known cost.
fn per_prompt(records: &[SessionRecord], cost: bool) -> Result<String, ReportError> {
    let mut prompts: BTreeMap<&str, PromptRow> = BTreeMap::new();
    for r in records {
        let e = prompts.entry(r.prompt.as_str()).or_default();
        e.0.entry(severity(r.status)).or_insert((r.status, 0)).1 += 1;
        e.1 += r.usage.known_cost().unwrap_or(0.0);
    }
    let names: Vec<String> = prompts.keys().map(|p| label(p)).collect();
    let rows: Vec<_> = prompts.into_values().collect();
    let xmax = rows
        .iter()
        .map(|(st, c)| {
            if cost {
                *c
            } else {
                st.values().map(|v| v.1).sum::<u64>() as f64
            }
        })
        .fold(0.0, f64::max);
    let xmax = if xmax > 0.0 { xmax * 1.05 } else { 1.0 };
    let n = rows.len();
    svg("per-prompt", |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(10)
            .x_label_area_size(32)
            .y_label_area_size(110)
            .build_cartesian_2d(0.0..xmax, 0.0..n as f64)
            .map_err(s)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc(if cost { "known cost (USD)" } else { "sessions" })
            .x_label_formatter(&|v| match cost {
                true => dollars(*v),
                false => whole(v),
            })
            .label_style((FONT, 12))
            .draw()
            .map_err(s)?;
        let mut bars = Vec::new();
        for (i, (statuses, c)) in rows.iter().enumerate() {
            let (y0, y1) = (i as f64, i as f64 + 1.0);
            if cost {
                let mut bar = Rectangle::new([(0.0, y0), (*c, y1)], RGBColor(9, 105, 218).filled());
                bar.set_margin(4, 4, 0, 0);
                bars.push(bar);
                continue;
            }
            let mut x = 0.0;
            for (_, (st, count)) in statuses.iter().rev() {
                let next = x + *count as f64;
                let mut bar = Rectangle::new([(x, y0), (next, y1)], status_color(*st).filled());
                bar.set_margin(4, 4, 0, 0);
                bars.push(bar);
                x = next;
            }
        }
        chart.draw_series(bars).map_err(s)?;
        row_labels(root, &chart, &names)
    })
}

/// Labels rows `0..names.len()` of a chart whose y axis counts rows (row `i` spans `i..i + 1`)
/// at their middle, left of the plot. Drawn by hand: plotters' segmented axis keeps an empty
/// row above the last one, and its numeric axis labels round values, not rows.
fn row_labels(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    chart: &ChartContext<'_, SVGBackend<'_>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    names: &[String],
) -> Result<(), String> {
    let style = TextStyle::from((FONT, 12).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Right, VPos::Center));
    for (i, name) in names.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(chart.x_range().start, i as f64 + 0.5));
        root.draw(&Text::new(name.clone(), (x - 6, y), style.clone()))
            .map_err(s)?;
    }
    Ok(())
}

/// A count's axis label: whole numbers only (a tick at 2.5 sessions is left blank rather than
/// rounded into a second "2").
fn whole(v: &f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        String::new()
    }
}

/// A prompt name fit for an axis label: no control characters, at most 16 characters.
fn label(name: &str) -> String {
    let clean: String = name.chars().filter(|c| !c.is_control()).collect();
    crate::agent::readable::one_line_short(&clean, 16)
}

/// Sessions per duration bucket: at most `BINS` buckets of the same whole number of seconds
/// (durations are whole seconds: a bucket of 0.35 s would hold some and not others at random).
/// Returns the bucket width in seconds and the count of each bucket, from 0 s.
pub(crate) fn duration_buckets(secs: &[i64]) -> (i64, Vec<u64>) {
    const BINS: i64 = 20;
    let max = secs.iter().copied().max().unwrap_or(0).max(0);
    let width = ((max + 1) + BINS - 1) / BINS;
    let mut counts = vec![0u64; (max / width + 1) as usize];
    for s in secs {
        counts[(s.max(&0) / width) as usize] += 1;
    }
    (width, counts)
}

fn durations(records: &[SessionRecord]) -> Result<String, ReportError> {
    let secs: Vec<i64> = records.iter().map(|r| r.duration_secs().max(0)).collect();
    let (w, counts) = duration_buckets(&secs);
    let width = w as f64;
    let max = counts.len() as f64 * width;
    let ymax = counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.1;
    svg("durations", |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(10)
            .x_label_area_size(32)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..max, 0.0..ymax)
            .map_err(s)?;
        chart
            .configure_mesh()
            .x_desc("session duration (seconds)")
            .x_label_formatter(&whole)
            .y_desc("sessions")
            .y_label_formatter(&whole)
            .label_style((FONT, 12))
            .draw()
            .map_err(s)?;
        chart
            .draw_series(
                counts
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| **c > 0)
                    .map(|(i, c)| {
                        let x0 = i as f64 * width;
                        let mut bar = Rectangle::new(
                            [(x0, 0.0), (x0 + width, *c as f64)],
                            RGBColor(31, 136, 61).filled(),
                        );
                        // A gap between buckets: full neighbours read as one block.
                        bar.set_margin(0, 0, 1, 1);
                        bar
                    }),
            )
            .map_err(s)?;
        Ok(())
    })
}

#[cfg(test)]
mod label_tests {
    use super::*;

    #[test]
    fn axis_labels_say_what_each_tick_is() {
        let ticks: Vec<String> = [0.0, 500.0, 1000.0, 1500.0, 2000.0, 2500.0, 3000.0]
            .iter()
            .map(|v| short_count(*v, 3150.0))
            .collect();
        assert_eq!(ticks, ["0", "500", "1000", "1500", "2000", "2500", "3000"]);
        let ticks: Vec<String> = [2500.0, 5000.0, 7500.0, 10000.0, 12500.0]
            .iter()
            .map(|v| short_count(*v, 13000.0))
            .collect();
        assert_eq!(ticks, ["2.5k", "5k", "7.5k", "10k", "12.5k"]);
        assert_eq!(dollars(0.0025), "$0.0025");
        assert_eq!(dollars(0.5), "$0.50");
        assert_eq!(dollars(1.0), "$1.00");
    }
}
