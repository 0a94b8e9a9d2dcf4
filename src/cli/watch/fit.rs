//! How `git pitboss watch` fits a pane smaller than its view: the heights of its parts (never
//! more lines than the pane has), the per-prompt totals that fit with a line saying how many
//! did not, the key line shortened to the width, and text wrapped or cut at a word with a sign.
//! Pure functions of sizes and strings, so a 10-line pane and a 40-column one are unit tests.
//!
//! What a short pane gives up, in order: the transcript, then the header's line of facts
//! (agent, model, branch, rotation: `git pitboss show` has them too). Budget gauges, a row of the
//! sessions table and the per-prompt box stay while they fit; what does not fit says so.

use ratatui::text::Line;

/// The lines of each part of the screen; with the key line they add up to the pane's height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Heights {
    /// Run line, facts line (when `facts`) and a line per gauge.
    pub header: u16,
    pub facts: bool,
    pub table: u16,
    pub totals: u16,
    pub transcript: u16,
}

/// A bordered table with a heading and one row.
const BOX_MIN: u16 = 4;

/// The heights for a pane of `h` lines with `gauges` gauges and `prompts` prompt totals.
pub(crate) fn split_heights(h: u16, gauges: usize, prompts: usize) -> Heights {
    let totals_min = if prompts == 0 { 0 } else { BOX_MIN };
    let gauges = gauges.min(usize::from(u16::MAX / 2)) as u16;
    let mut header = 2 + gauges;
    let facts = h >= header + 1 + BOX_MIN + totals_min;
    if !facts {
        header -= 1;
    }
    let header = header.min(h.saturating_sub(1));
    let body = h.saturating_sub(header + 1);
    if body < BOX_MIN + totals_min {
        // No room for a transcript: the table, then whatever box of totals still has a line.
        let totals = if body >= BOX_MIN + 3 && prompts > 0 {
            body - BOX_MIN
        } else {
            0
        };
        return Heights {
            header,
            facts,
            table: body - totals,
            totals,
            transcript: 0,
        };
    }
    let totals = if prompts == 0 {
        0
    } else {
        // At least one prompt's row: a box of borders and headings alone says nothing.
        (prompts as u16)
            .saturating_add(3)
            .min((body / 4).max(BOX_MIN))
    };
    let table = ((body - totals) * 2 / 5).clamp(BOX_MIN, body - totals);
    Heights {
        header,
        facts,
        table,
        totals,
        transcript: body - totals - table,
    }
}

/// Of `n` prompt totals, how many rows a box of `height` lines shows (borders and heading
/// taken off), and how many it leaves out (said on a line of their own, which takes a row; a
/// box with room for that line alone shows it without the heading).
pub(crate) fn totals_shown(height: u16, n: usize) -> (usize, usize) {
    if height <= 3 {
        return (0, n);
    }
    let rows = usize::from(height - 3);
    if n <= rows {
        (n, 0)
    } else {
        let shown = rows.saturating_sub(1);
        (shown, n - shown)
    }
}

/// The line that says how many prompt totals a box left out.
pub(crate) fn more_line(shown: usize, more: usize) -> String {
    if shown == 0 {
        format!("… {more} prompts")
    } else {
        format!("… {more} more")
    }
}

/// The key line for a pane `width` columns wide: the longest wording that fits (`? help` lists
/// every key whole), else the shortest cut at a word with a sign.
pub(crate) fn keys_text(grinding: bool, width: u16) -> String {
    // Skip and drain act on a grind: offered only while one runs the run here.
    let wordings: &[&str] = if grinding {
        &[
            "q quit · ↑↓ select · s skip session · d drain (finish and stop) · ? help",
            "q quit · ↑↓ select · s skip · d drain · ? help",
            "q quit · s skip · d drain · ? help",
            "q quit · ? help",
            "? help",
        ]
    } else {
        &[
            "q quit · ↑↓ select · ? help · no grind runs this run here",
            "q quit · ↑↓ select · ? help · no grind here",
            "q quit · ↑↓ select · ? help",
            "q quit · ? help",
            "? help",
        ]
    };
    let fits = |s: &&&str| width_of(s) <= usize::from(width);
    match wordings.iter().find(fits) {
        Some(s) => s.to_string(),
        None => cut_at_word(wordings[wordings.len() - 1], usize::from(width)),
    }
}

/// `text` in at most `width` columns: whole when it fits, else cut after its last whole word
/// that leaves room for `…` (cut inside a word only when its first word alone is too long).
pub(crate) fn cut_at_word(text: &str, width: usize) -> String {
    if width_of(text) <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let room = width - 1;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        if c == ' ' && width_of(text[..i].trim_end()) <= room {
            end = i;
        }
    }
    let head = if end > 0 {
        text[..end].trim_end().to_string()
    } else {
        // One word longer than the line: as much of it as fits.
        let mut s = String::new();
        for c in text.chars() {
            if width_of(&format!("{s}{c}")) > room {
                break;
            }
            s.push(c);
        }
        s
    };
    format!("{head}…")
}

/// `lines` wrapped at word boundaries to `width` columns, a continuation indented under the
/// text after its line's key column (`?, h      this help…`). A word longer than the width
/// keeps its own line (and is cut there by the pane).
pub(crate) fn wrap_words(lines: &[&str], width: usize) -> Vec<String> {
    let mut out = Vec::new();
    for line in lines {
        // The key column ends where a run of two spaces does.
        let indent = line
            .find("  ")
            .map_or(0, |i| i + line[i..].len() - line[i..].trim_start().len());
        let indent = if indent * 2 > width { 0 } else { indent };
        let (key, rest) = line.split_at(indent);
        let mut cur = key.to_string();
        let mut fresh = true;
        for word in rest.split(' ').filter(|w| !w.is_empty()) {
            if !fresh && width_of(&cur) + 1 + width_of(word) > width {
                out.push(std::mem::replace(&mut cur, " ".repeat(indent)));
                fresh = true;
            }
            if !fresh {
                cur.push(' ');
            }
            cur.push_str(word);
            fresh = false;
        }
        out.push(cur);
    }
    out
}

/// Columns `s` takes on a terminal.
pub(crate) fn width_of(s: &str) -> usize {
    Line::from(s).width()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heights_share_the_screen_and_the_table_always_has_rows() {
        let s = split_heights(40, 2, 3);
        assert_eq!(s.header, 4, "two header lines and a line per gauge");
        let sum = |s: Heights| s.header + s.table + s.totals + s.transcript + 1;
        assert_eq!(sum(s), 40, "with the key line, the whole screen");
        assert!(s.table >= 4 && s.transcript > s.table / 2, "{s:?}");
        assert_eq!(s.totals, 6, "three prompts, a heading and borders");
        // A tiny terminal still draws the table's box, titled with its count of sessions.
        assert_eq!(split_heights(8, 4, 0).table, 2);
        assert_eq!(split_heights(12, 4, 0).table, 4);
        // A short pane (a split of a 45-line terminal) still shows a prompt's totals.
        assert!(split_heights(22, 2, 2).totals >= 4);
        // An 80 x 24 terminal shows two prompts' totals whole.
        assert_eq!(split_heights(24, 1, 2).totals, 5);
    }

    #[test]
    fn a_short_pane_never_asks_for_more_lines_than_it_has() {
        for h in 1..60u16 {
            for gauges in 0..5 {
                for prompts in [0, 1, 12] {
                    let s = split_heights(h, gauges, prompts);
                    let sum = s.header + s.table + s.totals + s.transcript + 1;
                    assert!(sum <= h.max(1), "{h} lines: {s:?}");
                    if h >= 3 + gauges as u16 + 8 {
                        assert!(s.table >= 4, "{h} lines: {s:?}");
                    }
                }
            }
        }
        // 10 lines, a gauge, twelve prompts: the facts line goes, a box of totals stays.
        let s = split_heights(10, 1, 12);
        assert!(!s.facts, "{s:?}");
        assert_eq!((s.header, s.table, s.totals, s.transcript), (2, 4, 3, 0));
    }

    #[test]
    fn totals_that_do_not_fit_say_how_many_are_left_out() {
        assert_eq!(totals_shown(15, 12), (12, 0));
        assert_eq!(totals_shown(6, 12), (2, 10));
        assert_eq!(totals_shown(5, 12), (1, 11));
        assert_eq!(totals_shown(4, 12), (0, 12));
        assert_eq!(totals_shown(4, 1), (1, 0));
        assert_eq!(totals_shown(3, 12), (0, 12));
        assert_eq!(more_line(1, 11), "… 11 more");
        assert_eq!(more_line(0, 12), "… 12 prompts");
    }

    #[test]
    fn the_key_line_fits_the_width_whole() {
        for w in [120u16, 72, 57, 46, 40, 34, 20, 15, 6] {
            for grinding in [true, false] {
                let k = keys_text(grinding, w);
                assert!(width_of(&k) <= usize::from(w), "{w}: {k}");
                assert!(k.ends_with("help") || k.contains("? help"), "{w}: {k}");
            }
        }
        assert_eq!(keys_text(false, 40), "q quit · ↑↓ select · ? help");
        assert_eq!(keys_text(true, 40), "q quit · s skip · d drain · ? help");
        assert_eq!(keys_text(true, 4), "?…");
    }

    #[test]
    fn text_is_cut_after_a_whole_word_with_a_sign() {
        assert_eq!(
            cut_at_word("asked the grind to skip", 30),
            "asked the grind to skip"
        );
        assert_eq!(
            cut_at_word("asked the grind to skip", 16),
            "asked the grind…"
        );
        assert_eq!(cut_at_word("unbreakable", 5), "unbr…");
    }

    #[test]
    fn help_wraps_at_words_under_its_key_column() {
        let w = wrap_words(&["?, h      this help (any key closes it)"], 30);
        assert_eq!(w, ["?, h      this help (any key", "          closes it)"]);
        assert_eq!(wrap_words(&[""], 30), [""]);
    }
}
