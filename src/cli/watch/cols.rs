//! How a table of `git pitboss watch` fits its width: numbers are never cut, text is cut with a
//! sign. Each column says what it may give up, and a table says in which order: a text column
//! narrows to its minimum (its cells then end in `…`), a column is dropped whole (its heading
//! goes with it, so nothing is shown cut). A heading too long for its column takes a shorter
//! wording (`sessions`, `sess`). Pure functions of strings and a width, so a 40-column pane is a
//! unit test.

use ratatui::text::Span;

use super::fit::{cut_at_word, width_of};
use crate::cli::escape::one_line;
use crate::watch::model::{PromptTotal, Row, short_duration};

/// Columns between two columns (ratatui's default spacing).
const SPACING: usize = 1;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Numbers (tokens, cost, time): shown whole or not at all.
    Number,
    /// Text up to `want` columns, cut with `…` down to `min`.
    Text { want: u16, min: u16 },
    /// Text that takes the width left over, dropped below `min`.
    Fill { min: u16 },
}

/// One column: its headings (longest first) and its cells.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub labels: &'static [&'static str],
    pub kind: Kind,
    pub cells: Vec<String>,
}

/// What a table gives up when it is too wide, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GiveUp {
    /// A text column narrows to its minimum.
    Narrow(usize),
    /// A column goes.
    Drop(usize),
}

/// A column as drawn: its index among the table's columns, width, heading and cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fitted {
    pub index: usize,
    pub width: u16,
    pub label: String,
    pub cells: Vec<String>,
}

fn cells_width(c: &Column) -> usize {
    c.cells.iter().map(|s| width_of(s)).max().unwrap_or(0)
}

fn shortest_label(c: &Column) -> usize {
    c.labels.iter().map(|l| width_of(l)).min().unwrap_or(0)
}

/// The width a column takes whole (`narrow`: narrowed, if it may be).
fn need(c: &Column, narrow: bool) -> usize {
    match c.kind {
        Kind::Number => cells_width(c).max(shortest_label(c)),
        Kind::Text { want, min } => {
            let whole = cells_width(c).max(shortest_label(c)).min(usize::from(want));
            if narrow {
                whole.min(usize::from(min))
            } else {
                whole
            }
        }
        Kind::Fill { min } => usize::from(min),
    }
}

/// The columns of `cols` that fit `width`, giving up what `order` says until they do; a table
/// that does not fit even then keeps what is left (the pane is below watch's minimum).
pub(crate) fn fit(cols: &[Column], width: u16, order: &[GiveUp]) -> Vec<Fitted> {
    let width = usize::from(width);
    let mut kept: Vec<bool> = vec![true; cols.len()];
    let mut narrow: Vec<bool> = vec![false; cols.len()];
    let total = |kept: &[bool], narrow: &[bool]| -> usize {
        let n = kept.iter().filter(|k| **k).count();
        let sum: usize = (0..cols.len())
            .filter(|i| kept[*i])
            .map(|i| need(&cols[i], narrow[i]))
            .sum();
        sum + n.saturating_sub(1) * SPACING
    };
    for step in order {
        if total(&kept, &narrow) <= width {
            break;
        }
        // An index past the table gives up nothing (never a panic in a view).
        match *step {
            GiveUp::Narrow(i) => narrow.get_mut(i).into_iter().for_each(|n| *n = true),
            GiveUp::Drop(i) => kept.get_mut(i).into_iter().for_each(|k| *k = false),
        }
    }
    let mut widths: Vec<usize> = (0..cols.len()).map(|i| need(&cols[i], narrow[i])).collect();
    let mut spare = width.saturating_sub(total(&kept, &narrow));
    // Spare columns: narrowed text first, then longer headings, then the filling column.
    for (i, c) in cols.iter().enumerate().filter(|(i, _)| kept[*i]) {
        if narrow[i] {
            let more = need(c, false).saturating_sub(widths[i]).min(spare);
            widths[i] += more;
            spare -= more;
        }
    }
    for (i, c) in cols.iter().enumerate().filter(|(i, _)| kept[*i]) {
        if !matches!(c.kind, Kind::Fill { .. }) {
            // The longest heading that the spare columns make room for, if any is longer.
            let room = widths[i] + spare;
            let label = c
                .labels
                .iter()
                .map(|l| width_of(l))
                .filter(|w| *w <= room)
                .max();
            let more = label.unwrap_or(0).saturating_sub(widths[i]);
            widths[i] += more;
            spare -= more;
        }
    }
    if let Some(i) =
        (0..cols.len()).find(|i| kept[*i] && matches!(cols[*i].kind, Kind::Fill { .. }))
    {
        widths[i] += spare;
    }
    (0..cols.len())
        .filter(|i| kept[*i])
        .map(|i| drawn(i, &cols[i], widths[i]))
        .collect()
}

/// Column `c` drawn `width` wide: the longest heading that fits, text cells cut with a sign.
fn drawn(index: usize, c: &Column, width: usize) -> Fitted {
    let label = c.labels.iter().find(|l| width_of(l) <= width).map_or_else(
        || cut_at_word(c.labels.last().unwrap_or(&""), width),
        |l| l.to_string(),
    );
    let cells = c.cells.iter().map(|s| cut_at_word(s, width)).collect();
    Fitted {
        index,
        width: width as u16,
        label,
        cells,
    }
}

/// `spans` in at most `width` columns: whole when they fit, else cut in the span that crosses
/// the edge and ended with `…` (in that span's style).
pub(crate) fn fit_spans(spans: Vec<Span<'static>>, width: usize) -> Vec<Span<'static>> {
    let total: usize = spans.iter().map(Span::width).sum();
    if total <= width {
        return spans;
    }
    let room = width.saturating_sub(1);
    let mut out = Vec::new();
    let mut used = 0;
    for span in spans {
        if used + span.width() <= room {
            used += span.width();
            out.push(span);
            continue;
        }
        let mut head = String::new();
        for c in span.content.chars() {
            if used + width_of(&format!("{head}{c}")) > room {
                break;
            }
            head.push(c);
        }
        out.push(Span::styled(format!("{head}…"), span.style));
        break;
    }
    if width == 0 {
        out.clear();
    }
    out
}

/// The sessions table's columns (seq, slot in a parallel run, prompt, status, time, tokens,
/// cost, summary) and what it gives up, in order: the summary, the time, the tokens, then the
/// prompt and status narrow.
pub(crate) fn session_columns(rows: &[Row], slots: bool) -> (Vec<Column>, Vec<GiveUp>) {
    let cells = |f: &dyn Fn(&Row) -> String| rows.iter().map(f).collect::<Vec<_>>();
    let mut cols = vec![col(
        &["seq"],
        Kind::Number,
        cells(&|r| format!("{:04}", r.seq)),
    )];
    if slots {
        let slot = |r: &Row| r.slot.map(|k| k.to_string()).unwrap_or_default();
        cols.push(col(&["slot", "sl"], Kind::Number, cells(&slot)));
    }
    let text = |want, min| Kind::Text { want, min };
    let prompt = |r: &Row| one_line(&r.prompt).into_owned();
    cols.extend([
        col(&["prompt"], text(20, 6), cells(&prompt)),
        col(
            &["status", "stat"],
            text(11, 6),
            cells(&|r| r.status.clone()),
        ),
        col(&["time"], Kind::Number, cells(&|r| r.duration.clone())),
        col(
            &["tokens", "tok"],
            Kind::Number,
            cells(&|r| r.tokens.clone()),
        ),
        col(&["cost"], Kind::Number, cells(&|r| r.cost.clone())),
        col(
            &["summary"],
            Kind::Fill { min: 8 },
            cells(&|r| one_line(&r.summary).into_owned()),
        ),
    ]);
    let k = usize::from(slots);
    let order = vec![
        GiveUp::Drop(6 + k),
        GiveUp::Drop(3 + k),
        GiveUp::Drop(4 + k),
        GiveUp::Narrow(1 + k),
        GiveUp::Narrow(2 + k),
    ];
    (cols, order)
}

/// The per-prompt box's columns (prompt, sessions, ok, failed, tokens, cost, time) and what it
/// gives up, in order: the time, the tokens, then the prompt narrows, then failed and ok go.
pub(crate) fn totals_columns(totals: &[PromptTotal]) -> (Vec<Column>, Vec<GiveUp>) {
    let cells = |f: &dyn Fn(&PromptTotal) -> String| totals.iter().map(f).collect::<Vec<_>>();
    let cost = |t: &PromptTotal| {
        if t.unknown_cost == 0 {
            format!("${:.4}", t.cost_usd)
        } else if t.unknown_cost == t.sessions {
            "unknown".into()
        } else {
            format!("≥ ${:.4}", t.cost_usd)
        }
    };
    let cols = vec![
        col(
            &["prompt"],
            Kind::Text { want: 20, min: 6 },
            cells(&|t| one_line(&t.prompt).into_owned()),
        ),
        col(
            &["sessions", "sess"],
            Kind::Number,
            cells(&|t| t.sessions.to_string()),
        ),
        col(&["ok"], Kind::Number, cells(&|t| t.ok.to_string())),
        col(
            &["failed", "fail"],
            Kind::Number,
            cells(&|t| t.failed.to_string()),
        ),
        col(
            &["tokens", "tok"],
            Kind::Number,
            cells(&|t| t.tokens.to_string()),
        ),
        col(&["cost"], Kind::Number, cells(&cost)),
        col(
            &["time"],
            Kind::Number,
            cells(&|t| short_duration(t.seconds)),
        ),
    ];
    let order = vec![
        GiveUp::Drop(6),
        GiveUp::Drop(4),
        GiveUp::Narrow(0),
        GiveUp::Drop(3),
        GiveUp::Drop(2),
    ];
    (cols, order)
}

fn col(labels: &'static [&'static str], kind: Kind, cells: Vec<String>) -> Column {
    Column {
        labels,
        kind,
        cells,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(labels: &'static [&'static str], kind: Kind, cells: &[&str]) -> Column {
        Column {
            labels,
            kind,
            cells: cells.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn table() -> Vec<Column> {
        vec![
            col(
                &["prompt"],
                Kind::Text { want: 20, min: 5 },
                &["retitle", "retitle2"],
            ),
            col(&["sessions", "sess"], Kind::Number, &["3", "12"]),
            col(&["cost"], Kind::Number, &["≥ $0.0123", "unknown"]),
            col(&["time"], Kind::Number, &["1m05s", "9s"]),
            col(
                &["summary"],
                Kind::Fill { min: 8 },
                &["a long summary of it"],
            ),
        ]
    }

    const ORDER: [GiveUp; 4] = [
        GiveUp::Drop(4),
        GiveUp::Drop(3),
        GiveUp::Narrow(0),
        GiveUp::Drop(2),
    ];

    #[test]
    fn spans_past_the_edge_end_in_a_sign() {
        let spans = || {
            vec![
                Span::raw("agent "),
                Span::raw("command"),
                Span::raw("  branch x"),
            ]
        };
        let text =
            |v: Vec<Span<'static>>| v.iter().map(|s| s.content.to_string()).collect::<String>();
        assert_eq!(text(fit_spans(spans(), 40)), "agent command  branch x");
        assert_eq!(text(fit_spans(spans(), 10)), "agent com…");
        assert_eq!(text(fit_spans(spans(), 6)), "agent…");
    }

    #[test]
    fn a_wide_table_shows_everything_whole() {
        let f = fit(&table(), 60, &ORDER);
        assert_eq!(f.len(), 5);
        assert_eq!(f[0].cells, ["retitle", "retitle2"]);
        assert_eq!(f[1].label, "sessions");
        assert_eq!(f[2].cells, ["≥ $0.0123", "unknown"]);
        let sum: usize = f.iter().map(|c| usize::from(c.width)).sum::<usize>() + 4;
        assert_eq!(sum, 60, "the summary takes the rest: {f:?}");
    }

    #[test]
    fn a_narrow_table_drops_columns_and_never_cuts_a_number() {
        for w in 10..60u16 {
            let f = fit(&table(), w, &ORDER);
            for c in &f {
                if c.index == 2 || c.index == 3 || c.index == 1 {
                    assert_eq!(c.cells, table()[c.index].cells, "{w}: {f:?}");
                }
                for s in c.cells.iter().chain([&c.label]) {
                    assert!(width_of(s) <= usize::from(c.width), "{w}: {f:?}");
                }
                if c.index == 0 {
                    for (s, whole) in c.cells.iter().zip(&table()[0].cells) {
                        assert!(s == whole || s.ends_with('…'), "{w}: {f:?}");
                    }
                }
            }
            let sum: usize = f.iter().map(|c| usize::from(c.width) + 1).sum::<usize>() - 1;
            assert!(sum <= usize::from(w), "{w}: {f:?}");
        }
        // 25 columns: the summary and the time go; the prompts stay whole and told apart.
        let f = fit(&table(), 25, &ORDER);
        assert_eq!(f.iter().map(|c| c.index).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(f[0].cells, ["retitle", "retitle2"]);
        assert_eq!(f[1].label, "sess");
        // 18: the cost goes too, which leaves the prompts whole.
        let f = fit(&table(), 18, &ORDER);
        assert_eq!(f.iter().map(|c| c.index).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(f[0].cells, ["retitle", "retitle2"]);
        // 12: nothing left to drop, the prompt column narrows, its names cut with a sign.
        let f = fit(&table(), 12, &ORDER);
        assert_eq!(f[0].cells, ["retitle", "retitl…"]);
    }
}
