//! The Markdown digest of a reviewed run (`review --md`, the body of `pr`), made to fit a size
//! limit: GitHub refuses pull-request bodies over 65,536 characters.
//!
//! Fitting keeps the whole session table (every column, in seq order) and gives up detail in
//! this order: summaries are cut shorter and shorter, then dropped; then rows past the first
//! `k` are folded into one row that says how many sessions it holds and their statuses (the
//! largest `k` that fits, found by bisection). The list of changed files is always capped, so
//! a huge diff cannot crowd the sessions out. Pure: a [`Review`] in, a string out.
//!
//! Everything a run holds was written by agents or fetched from remotes, and a pull request's
//! body is read by people and by the forge: control characters are shown as visible escapes,
//! `@mentions` cannot notify anyone (a zero-width space follows the `@`), and brackets are
//! escaped so agent text cannot make links or load remote images.
//!
//! The limit is counted in bytes, never fewer than the characters (or UTF-16 units) a forge
//! counts, so a body that fits here fits there.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::review::{Review, ReviewSession};
use crate::escape::one_line;

/// GitHub's cap on a pull request's body.
pub(crate) const GITHUB_BODY_LIMIT: usize = 65_536;

/// Files listed in the diff stat before the rest are counted in one line.
const MAX_FILES: usize = 50;
/// Longest path shown (longer ones keep their end).
const MAX_PATH: usize = 120;
/// Summary lengths tried, longest first; 0 drops summaries.
const SUMMARY_STEPS: [usize; 7] = [1000, 400, 200, 100, 50, 20, 0];

/// How much detail one rendering keeps.
#[derive(Debug, Clone, Copy)]
struct Detail {
    summary_chars: usize,
    /// Rows of each table shown before the rest are folded.
    rows: usize,
    /// Stop writing once the digest is longer than this: it cannot fit any more, and a huge
    /// run must not cost a whole rendering per try.
    give_up_after: usize,
}

/// The digest, fitted into `limit` bytes. `None` only when even the fully folded digest does
/// not fit (a limit of a few hundred bytes).
pub(crate) fn markdown(review: &Review, limit: usize) -> Option<String> {
    let all = review.sessions.len();
    for summary_chars in SUMMARY_STEPS {
        let s = render(
            review,
            Detail {
                summary_chars,
                rows: all,
                give_up_after: limit,
            },
        );
        if s.len() <= limit {
            return Some(s);
        }
    }
    // Folding more rows never makes the digest longer: bisect the most rows that fit.
    let fits = |rows: usize| {
        let s = render(
            review,
            Detail {
                summary_chars: 0,
                rows,
                give_up_after: limit,
            },
        );
        (s.len() <= limit).then_some(s)
    };
    let mut best = fits(0)?;
    let (mut lo, mut hi) = (0usize, all);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        match fits(mid) {
            Some(s) => {
                best = s;
                lo = mid;
            }
            None => hi = mid - 1,
        }
    }
    Some(best)
}

fn render(r: &Review, d: Detail) -> String {
    let mut out = String::new();
    let _ = write_digest(&mut out, r, d);
    out
}

/// The digest with the detail `d` keeps; a table stops (and the digest with it) once the text
/// is longer than `d.give_up_after`, as it can no longer fit.
fn write_digest(out: &mut String, r: &Review, d: Detail) -> std::fmt::Result {
    write_header(out, r)?;
    write_files(out, r)?;
    if !write_sessions(out, r, d)? || !write_not_landed(out, r, d)? {
        return Ok(());
    }
    writeln!(
        out,
        "\n<sub>From the run's records, by git-pitboss: `git pitboss review {0}` · `git log {1}`</sub>",
        r.run, r.run_ref
    )
}

/// The title, the run's facts (rotation, agent, branches, status) and its totals.
fn write_header(out: &mut String, r: &Review) -> std::fmt::Result {
    let t = &r.totals;
    writeln!(out, "## pitboss run `{}`", r.run)?;
    writeln!(out)?;
    let mut facts = Vec::new();
    if let Some(rot) = &r.rotation {
        facts.push(format!("rotation **{}**", cell(rot)));
    }
    if let Some(a) = &r.agent {
        facts.push(format!("agent {}", code(a)));
    }
    match (&r.branch, &r.base_branch) {
        (Some(b), Some(base)) => facts.push(format!("{} → {}", code(b.as_str()), code(base))),
        (Some(b), None) => facts.push(format!("branch {}", code(b.as_str()))),
        _ => {}
    }
    if let Some(c) = &r.base_commit {
        facts.push(format!("from `{}`", short(c)));
    }
    let status = match &r.stop_reason {
        Some(why) => format!("run {} ({})", cell(&r.status), cell(why)),
        None => format!("run {}", cell(&r.status)),
    };
    facts.push(status);
    writeln!(out, "{}", facts.join(" · "))?;
    writeln!(out)?;
    writeln!(
        out,
        "**{}** ({}) · **{} landed**, {} not landed, {} · {} · {} tokens · {}",
        count(t.sessions, "session"),
        by_status(&t.by_status),
        t.landed,
        t.not_landed,
        t.reached_text(&r.base_branch.as_deref().map_or("the base".into(), code)),
        match r.branch_tip {
            Some(_) => format!(
                "{} changed, +{} −{}",
                count(t.files_changed, "file"),
                t.lines_added,
                t.lines_removed
            ),
            None => "no diff (the run branch is not here)".to_string(),
        },
        t.tokens,
        cost(t.cost_usd, t.cost_unknown, t.sessions),
    )?;
    Ok(())
}

/// The changed files, at most `MAX_FILES` of them (the rest counted).
fn write_files(out: &mut String, r: &Review) -> std::fmt::Result {
    if !r.files.is_empty() {
        let paths: Vec<String> = r
            .files
            .iter()
            .take(MAX_FILES)
            .map(|f| tail(&one_line(&f.path.replace('\n', " ")), MAX_PATH))
            .collect();
        // A path holding ``` must not close the block early: fence with a longer run.
        let fence = "`".repeat(longest_backticks(paths.iter().map(String::as_str)).max(2) + 1);
        writeln!(out, "\n### Files\n\n{fence}text")?;
        for (f, path) in r.files.iter().zip(&paths) {
            let change = if f.binary {
                "binary".to_string()
            } else {
                format!("+{} -{}", f.added, f.removed)
            };
            writeln!(out, "{change:>13}  {path}")?;
        }
        writeln!(out, "{fence}")?;
        if r.files.len() > MAX_FILES {
            let n = r.files.len() - MAX_FILES;
            writeln!(
                out,
                "\n… and {n} more file{}.",
                if n == 1 { "" } else { "s" }
            )?;
        }
    }
    Ok(())
}

/// The sessions table, rows past `d.rows` folded into one; false when it gave up because the
/// digest is already too long.
fn write_sessions(out: &mut String, r: &Review, d: Detail) -> Result<bool, std::fmt::Error> {
    writeln!(out, "\n### Sessions\n")?;
    if r.sessions.is_empty() {
        writeln!(out, "_No sessions recorded._")?;
    } else {
        writeln!(out, "| # | prompt | status | cost | commits | summary |")?;
        writeln!(out, "|--:|---|---|--:|---|---|")?;
        for s in r.sessions.iter().take(d.rows) {
            if out.len() > d.give_up_after {
                return Ok(false);
            }
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                s.seq,
                cell(&s.prompt),
                s.status.as_str(),
                s.cost_usd.map_or("unknown".into(), |c| format!("${c:.4}")),
                commits(s),
                summary(s, d.summary_chars),
            )?;
        }
        let rest: Vec<&ReviewSession> = r.sessions[d.rows.min(r.sessions.len())..].iter().collect();
        fold(out, &rest, &r.run, 6)?;
    }
    Ok(true)
}

/// The table of sessions whose work did not land, and where it is saved; false when it gave
/// up because the digest is already too long.
fn write_not_landed(out: &mut String, r: &Review, d: Detail) -> Result<bool, std::fmt::Error> {
    let not_landed: Vec<&ReviewSession> = r.sessions.iter().filter(|s| s.not_landed()).collect();
    if !not_landed.is_empty() {
        writeln!(out, "\n### Not landed\n")?;
        writeln!(out, "| # | prompt | status | saved work |")?;
        writeln!(out, "|--:|---|---|---|")?;
        for s in not_landed.iter().take(d.rows) {
            if out.len() > d.give_up_after {
                return Ok(false);
            }
            let saved = match &s.patch {
                Some(p) => code_cell(p),
                None => "not saved in the run".to_string(),
            };
            writeln!(
                out,
                "| {} | {} | {} | {saved} |",
                s.seq,
                cell(&s.prompt),
                s.status.as_str()
            )?;
        }
        fold(out, &not_landed[d.rows.min(not_landed.len())..], &r.run, 4)?;
    }
    Ok(true)
}

/// One row standing for the sessions left out of a table.
fn fold(out: &mut String, rest: &[&ReviewSession], run: &str, columns: usize) -> std::fmt::Result {
    let (Some(first), Some(last)) = (rest.first(), rest.last()) else {
        return Ok(());
    };
    let mut by = BTreeMap::new();
    for s in rest {
        *by.entry(s.status.as_str().to_string()).or_insert(0u64) += 1;
    }
    write!(
        out,
        "| {}–{} | _{} folded ({}) to fit: `git pitboss review {run}` lists them_ |",
        first.seq,
        last.seq,
        count(rest.len() as u64, "session"),
        by_status(&by),
    )?;
    writeln!(out, "{}", " |".repeat(columns.saturating_sub(2)))
}

fn commits(s: &ReviewSession) -> String {
    if !s.landed {
        return if s.patch.is_some() {
            "not landed (patch saved)".into()
        } else {
            "—".into()
        };
    }
    s.commits
        .iter()
        .map(|c| format!("`{}`", short(c)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn summary(s: &ReviewSession, max: usize) -> String {
    match &s.summary {
        Some(text) if max > 0 => {
            let one = text.split_whitespace().collect::<Vec<_>>().join(" ");
            cell(&shorten(&one, max))
        }
        _ => String::new(),
    }
}

/// Text safe inside a table cell: one line, no column breaks, no raw HTML, no control
/// characters, no mentions, no links or images.
fn cell(s: &str) -> String {
    one_line(&s.replace(['\n', '\r'], " "))
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('[', "\\[")
        .replace(']', "\\]")
        .replace('@', "@\u{200B}")
}

/// The longest run of backticks in any of `texts`.
fn longest_backticks<'a>(texts: impl Iterator<Item = &'a str>) -> usize {
    texts
        .flat_map(|t| t.split(|c| c != '`').map(str::len))
        .max()
        .unwrap_or(0)
}

/// An inline code span showing `s` as it is: fenced with more backticks than any run of them
/// inside, padded when it starts or ends with one.
fn code(s: &str) -> String {
    let one = one_line(&s.replace(['\n', '\r'], " ")).into_owned();
    let longest = longest_backticks(std::iter::once(one.as_str()));
    let fence = "`".repeat(longest + 1);
    let pad = if one.starts_with('`') || one.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{one}{pad}{fence}")
}

/// A code span in a table cell: a `|` there ends the cell even inside the span unless escaped
/// (GFM takes `\|` back to `|` there, and only there: outside a table the escape would show).
fn code_cell(s: &str) -> String {
    code(s).replace('|', "\\|")
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// The last `max` characters of a path, marked when cut.
fn tail(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    format!("…{}", s.chars().skip(n - max + 1).collect::<String>())
}

fn short(c: &str) -> &str {
    c.get(..7).unwrap_or(c)
}

fn count(n: u64, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

fn by_status(by: &BTreeMap<String, u64>) -> String {
    if by.is_empty() {
        return "none".into();
    }
    by.iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The same wording as the terminal's: a total that leaves sessions out says so.
fn cost(known: f64, unknown: u64, sessions: u64) -> String {
    match unknown {
        0 => format!("${known:.4}"),
        n if n >= sessions => format!("cost unknown ({} of unknown cost)", count(n, "session")),
        n => format!("≥ ${known:.4} ({} of unknown cost)", count(n, "session")),
    }
}

#[cfg(test)]
#[path = "digest_tests.rs"]
mod tests;
