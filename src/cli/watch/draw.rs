//! How `git pitboss watch` looks: one ratatui widget drawn from the [`Dashboard`] — the header
//! (run, agent, model, branch, rotation), a gauge per budget in force, the sessions table (the
//! live session on top), per-prompt totals, the selected session's readable transcript
//! (following its end), and a line of keys. The same widget draws the one-shot text snapshot
//! printed when stdout is not a terminal.
//!
//! Text from agents and records goes through [`terminal_safe`]: ratatui writes cells, but a
//! control character in a cell would still reach the terminal.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Widget};

use super::cols::{Fitted, fit, fit_spans, session_columns, totals_columns};
use super::fit::{cut_at_word, keys_text, more_line, split_heights, totals_shown, wrap_words};
use crate::agent::readable::Entry;
use crate::cli::escape::{one_line, terminal_safe};
use crate::watch::Dashboard;

/// What the screen shows besides the data.
pub struct Screen<'a> {
    pub d: &'a Dashboard,
    /// The selected row of the sessions table, and the first row shown.
    pub selected: usize,
    pub top: usize,
    /// The selected session's transcript, as lines.
    pub transcript: &'a [Line<'static>],
    /// The selected session's seq, for the transcript's title.
    pub transcript_seq: Option<u64>,
    pub help: bool,
    /// The answer to the last key (skip asked, drain asked, …).
    pub message: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// The rows of the sessions table that a screen of `total_height` lines shows for `d` (its
/// gauges and prompt totals take their lines first; borders and the heading row taken off):
/// what keeps the selected row in view.
pub(crate) fn table_capacity(d: &Dashboard, total_height: u16, now: DateTime<Utc>) -> usize {
    let s = split_heights(total_height, d.gauges(now).len(), d.prompt_totals().len());
    s.table.saturating_sub(3) as usize
}

impl Widget for &Screen<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let gauges = self.d.gauges(self.now);
        let totals = self.d.prompt_totals();
        let s = split_heights(area.height, gauges.len(), totals.len());
        let [head, table, prompts, transcript, keys] = Layout::vertical([
            Constraint::Length(s.header),
            Constraint::Length(s.table),
            Constraint::Length(s.totals),
            Constraint::Length(s.transcript),
            Constraint::Length(1),
        ])
        .areas(area);
        self.header(head, buf, &gauges, s.facts);
        self.sessions(table, buf);
        if s.totals > 0 {
            prompt_totals(prompts, buf, &totals);
        }
        self.transcript(transcript, buf);
        self.keys(keys, buf);
        if self.help {
            help(area, buf);
        }
    }
}

impl Screen<'_> {
    /// The run line, the facts line when `facts` (a short pane leaves it out), the gauges.
    fn header(
        &self,
        area: Rect,
        buf: &mut Buffer,
        gauges: &[crate::watch::model::Gauge],
        facts: bool,
    ) {
        let d = self.d;
        let bold = Style::new().add_modifier(Modifier::BOLD);
        let dim = Style::new().fg(Color::DarkGray);
        let opt = |v: &Option<String>| {
            v.as_deref()
                .map_or("-".to_string(), |s| one_line(s).into_owned())
        };
        let status = if d.grinding || d.status != "running" {
            d.status.clone()
        } else if !d.live.is_empty() {
            // Its events file is here, its grind is not: it died.
            format!(
                "interrupted: its grind is gone (take it up with `git pitboss grind --resume {}`)",
                d.run
            )
        } else {
            "running (no grind here: interrupted, or ground elsewhere)".into()
        };
        let mut first = vec![
            Span::styled(format!("run {}", d.run), bold),
            Span::raw("  "),
            Span::styled(status, status_style(&d.status)),
        ];
        if let Some(r) = d.stop_reason.as_deref().filter(|_| d.status != "running") {
            // A narrow pane cuts the reason after a word, with a sign.
            let used: usize = first.iter().map(|s| s.width()).sum();
            let room = usize::from(area.width).saturating_sub(used);
            let reason = cut_at_word(&format!(" ({})", one_line(r)), room);
            first.push(Span::styled(reason, dim));
        }
        if let Some((until, reason)) = &d.waiting {
            first.push(Span::styled(
                format!(
                    "  waiting until {} ({})",
                    until.format("%H:%M:%S UTC"),
                    one_line(reason)
                ),
                Style::new().fg(Color::Yellow),
            ));
        }
        let second = vec![
            Span::styled("agent ", dim),
            Span::raw(opt(&d.agent)),
            Span::styled("  model ", dim),
            Span::raw(opt(&d.model)),
            Span::styled("  branch ", dim),
            Span::raw(crate::git::short_branch(&opt(&d.branch)).to_string()),
            Span::styled("  rotation ", dim),
            Span::raw(opt(&d.rotation)),
        ];
        // Past the edge, the run line and the facts line end in `…`.
        let width = usize::from(area.width);
        let mut lines = vec![Line::from(fit_spans(first, width))];
        if facts {
            lines.push(Line::from(fit_spans(second, width)));
        }
        let below = lines.len() as u16;
        Paragraph::new(lines).render(area, buf);
        for (i, g) in gauges.iter().enumerate() {
            let y = area.y + below + i as u16;
            if y >= area.bottom() {
                break;
            }
            let color = if g.ratio >= 1.0 {
                Color::Red
            } else if g.ratio >= 0.8 {
                Color::Yellow
            } else {
                Color::Green
            };
            let line = Rect::new(area.x, y, area.width, 1);
            // The bar gives way to the numbers in a narrow pane (label, space, text).
            let width = usize::from(area.width);
            let room = width.saturating_sub(12 + g.text.chars().count());
            if room > 0 {
                Paragraph::new(gauge_line(g, room.min(30), color)).render(line, buf);
            } else {
                // No room for a bar: the label and the numbers, cut after a whole word.
                let text = cut_at_word(&format!("{} {}", g.label, g.text), width);
                Paragraph::new(text).render(line, buf);
            }
        }
    }

    fn sessions(&self, area: Rect, buf: &mut Buffer) {
        let d = self.d;
        let n = area.height.saturating_sub(3) as usize;
        let rows = d.rows(self.top, n, self.now);
        let (cols, order) = session_columns(&rows, d.has_slots());
        // The status column is coloured by the status.
        let status = cols.iter().position(|c| c.labels[0] == "status");
        let fitted = fit(&cols, area.width.saturating_sub(2), &order);
        let body = rows.iter().enumerate().map(|(i, r)| {
            let mut style = Style::new();
            if r.live {
                style = style.fg(Color::Cyan);
            }
            if self.top + i == self.selected {
                style = style.add_modifier(Modifier::REVERSED);
            }
            let cells = fitted.iter().map(|c| {
                let text = c.cells[i].clone();
                if Some(c.index) == status {
                    Cell::from(Span::styled(text, status_style(&r.status)))
                } else {
                    Cell::from(text)
                }
            });
            Row::new(cells.collect::<Vec<_>>()).style(style)
        });
        let title = format!(" sessions ({}) ", d.row_count());
        fitted_table(body, &fitted)
            .block(Block::new().borders(Borders::ALL).title(title))
            .render(area, buf);
    }

    fn transcript(&self, area: Rect, buf: &mut Buffer) {
        let title = match self.transcript_seq {
            Some(seq) => format!(" transcript of session {seq:04} "),
            None => " transcript ".to_string(),
        };
        let block = Block::new().borders(Borders::ALL).title(title);
        let inner = block.inner(area);
        block.render(area, buf);
        if self.transcript.is_empty() && self.transcript_seq.is_some() {
            // Said, as `show --pretty` says it: a blank box reads as "watch is broken".
            let note = cut_at_word("(the transcript is empty)", inner.width as usize);
            Paragraph::new(Line::from(Span::styled(
                note,
                Style::new().fg(Color::DarkGray),
            )))
            .render(inner, buf);
            return;
        }
        // Follow the end: the last lines that fit, wrapped at the width.
        let tail = tail_wrapped(self.transcript, inner.width as usize, inner.height as usize);
        Paragraph::new(tail).render(inner, buf);
    }

    fn keys(&self, area: Rect, buf: &mut Buffer) {
        let width = usize::from(area.width);
        let text = match self.message {
            Some(m) => Line::from(Span::styled(
                cut_at_word(m, width),
                Style::new().fg(Color::Yellow),
            )),
            None => Line::from(Span::styled(
                keys_text(self.d.grinding, area.width),
                Style::new().fg(Color::DarkGray),
            )),
        };
        Paragraph::new(text).render(area, buf);
    }
}

/// `iterations [██████░░░░░░] 2 of 4`: a bar of `width` cells that reads as well in a text
/// snapshot as on a terminal.
pub(crate) fn gauge_line(
    g: &crate::watch::model::Gauge,
    width: usize,
    color: Color,
) -> Line<'static> {
    let filled = ((g.ratio * width as f64).round() as usize).min(width);
    Line::from(vec![
        Span::styled(format!("{:<11}", g.label), Style::new().fg(Color::DarkGray)),
        Span::styled("█".repeat(filled), Style::new().fg(color)),
        Span::styled("░".repeat(width - filled), Style::new().fg(Color::DarkGray)),
        Span::raw(format!(" {}", g.text)),
    ])
}

/// The per-prompt box: the totals that fit, then a line saying how many did not.
fn prompt_totals(area: Rect, buf: &mut Buffer, totals: &[crate::watch::model::PromptTotal]) {
    let (shown, more) = totals_shown(area.height, totals.len());
    let (cols, order) = totals_columns(&totals[..shown]);
    let fitted = fit(&cols, area.width.saturating_sub(2), &order);
    let rows = (0..shown).map(|i| Row::new(fitted.iter().map(|c| c.cells[i].clone())));
    let block = Block::new().borders(Borders::ALL).title(" per prompt ");
    if shown == 0 {
        block.render(area, buf);
    } else {
        fitted_table(rows, &fitted).block(block).render(area, buf);
    }
    // Across the whole row, not in the prompt column: under the rows shown, above the border
    // (in a box of one line, that line alone).
    let y = area.y + if shown == 0 { 1 } else { 2 + shown as u16 };
    if more > 0 && y + 1 < area.bottom() && area.width > 2 {
        let line = Rect::new(area.x + 1, y, area.width - 2, 1);
        let text = cut_at_word(&more_line(shown, more), usize::from(line.width));
        Paragraph::new(Span::styled(text, Style::new().fg(Color::DarkGray))).render(line, buf);
    }
}

/// The keys, wrapped at words to the pane; when the pane is too short for all of them, the
/// lines that fit and one saying how many did not.
fn help(area: Rect, buf: &mut Buffer) {
    const LINES: [&str; 8] = [
        "q, Esc    quit watch (the run goes on)",
        "↑ ↓ k j   select a session",
        "PgUp PgDn Home End   move faster",
        "s         skip the selected running session (as `git pitboss skip <run> <seq>`)",
        "d         drain: finish the running session, then stop the run (as one Ctrl-C in grind's terminal)",
        "?, h      this help (any key closes it)",
        "",
        "The view follows the run's events file and its run ref.",
    ];
    let w = 64.min(area.width);
    let inner = usize::from(w.saturating_sub(2));
    let mut lines = wrap_words(&LINES, inner);
    let h = (lines.len() as u16 + 2).min(area.height);
    let room = usize::from(h.saturating_sub(2));
    if lines.len() > room {
        let kept = room.saturating_sub(1);
        let more = lines.len() - kept;
        lines.truncate(kept);
        lines.push(format!("… {more} more lines: a taller pane shows them"));
    }
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    Clear.render(r, buf);
    let text = lines.iter().map(|l| Line::from(cut_at_word(l, inner)));
    Paragraph::new(text.collect::<Vec<_>>())
        .block(Block::new().borders(Borders::ALL).title(" keys "))
        .render(r, buf);
}

/// A table of `fitted` columns with their headings, bold.
fn fitted_table<'a>(rows: impl IntoIterator<Item = Row<'a>>, fitted: &[Fitted]) -> Table<'a> {
    let widths = fitted.iter().map(|c| Constraint::Length(c.width));
    let header = Row::new(fitted.iter().map(|c| c.label.clone()));
    Table::new(rows, widths).header(header.style(Style::new().add_modifier(Modifier::BOLD)))
}

fn status_style(status: &str) -> Style {
    match status {
        "ok" | "finished" => Style::new().fg(Color::Green),
        "running" => Style::new().fg(Color::Cyan),
        "error" | "timeout" | "aborted" | "failed" | "interrupted" => Style::new().fg(Color::Red),
        "dirty" | "skipped" | "stopped" => Style::new().fg(Color::Yellow),
        _ => Style::new(),
    }
}

/// Takes every colour off a drawn screen, keeping bold and reverse (`NO_COLOR`). Done here,
/// not left to crossterm: with `NO_COLOR` it turns a colour change into `ESC [ m`, a full reset
/// that also ends the reverse of the selected row halfway along.
pub(crate) fn without_colors(buf: &mut Buffer) {
    for cell in buf.content.iter_mut() {
        cell.fg = Color::Reset;
        cell.bg = Color::Reset;
    }
}

/// A transcript's entries as styled lines.
pub(crate) fn transcript_lines(entries: &[Entry]) -> Vec<Line<'static>> {
    let dim = Style::new().fg(Color::DarkGray);
    let tool = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
    let red = Style::new().fg(Color::Red);
    let mut out = Vec::new();
    let mut push = |style: Style, prefix: &str, text: &str| {
        let text = terminal_safe(text);
        for (i, l) in text.lines().enumerate() {
            let p = if i == 0 { prefix } else { "  " };
            out.push(Line::from(Span::styled(format!("{p}{l}"), style)));
        }
    };
    for e in entries {
        match e {
            Entry::Note { text } => push(dim, "· ", text),
            Entry::Text { text } => push(Style::new(), "", text),
            Entry::Thinking { text } => push(dim.add_modifier(Modifier::ITALIC), "┆ ", text),
            Entry::ToolCall { name, args } => push(tool, "→ ", &format!("{name} {args}")),
            Entry::ToolResult { text, error } => push(if *error { red } else { dim }, "  ← ", text),
            Entry::Error { text } => push(red.add_modifier(Modifier::BOLD), "✗ ", text),
            Entry::Finish(f) => {
                let style = if f.ok { Color::Green } else { Color::Red };
                push(
                    Style::new().fg(style).add_modifier(Modifier::BOLD),
                    "",
                    &f.line(),
                );
                if let Some(t) = &f.text {
                    push(Style::new(), "  ", t);
                }
            }
            Entry::Stderr { text } => push(Style::new().fg(Color::Yellow), "[stderr] ", text),
            Entry::Plain { text } => push(Style::new(), "", text),
        }
    }
    out
}

/// The last `height` rows of `lines` cut at `width` characters (each line is one styled span,
/// as [`transcript_lines`] makes them); only the tail is wrapped, however long the transcript.
pub(crate) fn tail_wrapped(
    lines: &[Line<'static>],
    width: usize,
    height: usize,
) -> Vec<Line<'static>> {
    let width = width.max(1);
    let mut out: Vec<Line<'static>> = Vec::new();
    for line in lines.iter().rev() {
        if out.len() >= height {
            break;
        }
        let style = line.spans.first().map(|s| s.style).unwrap_or_default();
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        let chars: Vec<char> = text.chars().collect();
        let mut rows: Vec<Line<'static>> = chars
            .chunks(width)
            .map(|c| Line::from(Span::styled(c.iter().collect::<String>(), style)))
            .collect();
        if rows.is_empty() {
            rows.push(Line::default());
        }
        for r in rows.into_iter().rev() {
            out.push(r);
        }
    }
    out.truncate(height);
    out.reverse();
    out
}

/// The screen as plain text (the snapshot printed when stdout is not a terminal).
pub(crate) fn to_text(screen: &Screen<'_>, width: u16, height: u16) -> String {
    let area = Rect::new(0, 0, width, height);
    let mut buf = Buffer::empty(area);
    screen.render(area, &mut buf);
    let mut out = String::new();
    for y in 0..height {
        let mut line = String::new();
        for x in 0..width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::model::Gauge;

    /// The capacity the key handling scrolls by is the rows the screen draws, gauges and
    /// per-prompt totals included: else the selected row scrolls out of sight.
    #[test]
    fn the_table_capacity_is_the_rows_drawn() {
        let mut d = Dashboard::default();
        d.limits.max_iterations = Some(10);
        d.limits.max_cost_usd = Some(1.0);
        for seq in 1..=9 {
            let prompt = ["lint", "docs", "tidy"][seq as usize % 3];
            let r = serde_json::json!({"seq": seq, "run_id": "r", "prompt": prompt,
                "started_at": "2026-01-01T00:00:00Z", "ended_at": "2026-01-01T00:01:00Z",
                "status": "ok", "summary": "s", "commit": null,
                "tokens": {"input": 1, "output": 1}, "cost_usd": 0.01, "transcript_path": "t"});
            d.add_record(serde_json::from_value(r).unwrap());
        }
        let now = chrono::Utc::now();
        for height in [22u16, 24, 40] {
            let screen = Screen {
                d: &d,
                selected: 0,
                top: 0,
                transcript: &[],
                transcript_seq: None,
                help: false,
                message: None,
                now,
            };
            let text = to_text(&screen, 100, height);
            let drawn = text.lines().filter(|l| l.starts_with("│000")).count();
            assert_eq!(
                table_capacity(&d, height, now),
                drawn,
                "{height} lines:\n{text}"
            );
            // Skip and drain are offered only while a grind runs the run.
            assert!(!text.contains("s skip") && text.contains("no grind runs this run here"));
            let live = Dashboard {
                grinding: true,
                ..d.clone()
            };
            let screen = Screen { d: &live, ..screen };
            assert!(to_text(&screen, 100, height).contains("s skip session · d drain"));
        }
    }

    #[test]
    fn the_transcript_keeps_its_last_rows_wrapped_at_the_width() {
        let lines: Vec<Line<'static>> = ["one", "two", "a long line of ten", ""]
            .iter()
            .map(|s| Line::from(s.to_string()))
            .collect();
        let text =
            |v: Vec<Line<'static>>| -> Vec<String> { v.iter().map(|l| l.to_string()).collect() };
        assert_eq!(
            text(tail_wrapped(&lines, 8, 4)),
            ["a long l", "ine of t", "en", ""]
        );
        assert_eq!(text(tail_wrapped(&lines, 80, 10)).len(), 4);
    }

    #[test]
    fn a_gauge_reads_in_plain_text() {
        let g = Gauge {
            label: "iterations",
            ratio: 0.5,
            text: "2 of 4".into(),
        };
        assert_eq!(
            gauge_line(&g, 10, Color::Green).to_string(),
            "iterations █████░░░░░ 2 of 4"
        );
    }
}
