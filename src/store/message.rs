//! Commit messages of a run ref: subjects and `Pitboss-*` trailers (DESIGN §3), written so
//! that `git log --format='%(trailers:key=Pitboss-Status,valueonly)'` reads them, and parsed
//! back where the tip's status is all we need.

use std::fmt::Write as _;

use super::id::RunId;
use super::record::SessionRecord;
use super::run::{RunStatus, SCHEMA};

/// Trailer values must stay on one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `session 0007 fp-hunter: ok`, the summary, then the trailers.
pub(crate) fn session_message(r: &SessionRecord, run: &RunId, run_status: &RunStatus) -> String {
    let mut m = format!(
        "session {:04} {}: {}\n\n",
        r.seq,
        one_line(&r.prompt),
        r.status
    );
    if let Some(s) = r.summary.as_deref()
        && !s.trim().is_empty()
    {
        m.push_str(s.trim_end());
        m.push_str("\n\n");
    }
    let _ = writeln!(m, "Pitboss-Run: {run}");
    let _ = writeln!(m, "Pitboss-Session: {}", r.seq);
    let _ = writeln!(m, "Pitboss-Prompt: {}", one_line(&r.prompt));
    let _ = writeln!(m, "Pitboss-Status: {}", r.status);
    let _ = writeln!(
        m,
        "Pitboss-Commit: {}",
        r.commit_text()
            .as_deref()
            .filter(|c| !c.is_empty())
            .unwrap_or("none")
    );
    // `Pitboss-Tokens` keeps DESIGN §3's `<input> in / <output> out`, read by people and
    // scripts alike. The cache counts, part of a session's total, go in a trailer of their own
    // (only when there are some), so the trailers together add up to that total and the
    // original trailer's format does not change.
    let t = &r.usage.tokens;
    let _ = writeln!(m, "Pitboss-Tokens: {} in / {} out", t.input, t.output);
    if t.has_cache() {
        let _ = writeln!(
            m,
            "Pitboss-Cache-Tokens: {} read / {} write",
            t.cache_read, t.cache_write
        );
    }
    if r.usage.cost_known() {
        let _ = writeln!(m, "Pitboss-Cost-USD: {:.4}", r.usage.cost_usd);
    } else {
        let _ = writeln!(m, "Pitboss-Cost-USD: unknown");
    }
    // The tip always carries the run's status, so `ls` reads one commit per run.
    let _ = writeln!(m, "Pitboss-Run-Status: {run_status}");
    let _ = writeln!(m, "Pitboss-Schema: {SCHEMA}");
    // NB: git cannot store a NUL in a commit message. Records read at a door are refused
    // (`parse_record`); text an agent gave us in this session is shown as U+2400 instead.
    if m.contains('\0') {
        m = m.replace('\0', "\u{2400}");
    }
    m
}

/// A run-level commit: `run <id> started`, `run <id> finished: <status> (<reason>)`, …
pub(crate) fn run_message(
    subject: &str,
    body: Option<&str>,
    run: &RunId,
    status: &RunStatus,
) -> String {
    let mut m = format!("{}\n\n", one_line(subject));
    if let Some(b) = body.filter(|b| !b.trim().is_empty()) {
        m.push_str(b.trim_end());
        m.push_str("\n\n");
    }
    let _ = writeln!(m, "Pitboss-Run: {run}");
    let _ = writeln!(m, "Pitboss-Run-Status: {status}");
    let _ = writeln!(m, "Pitboss-Schema: {SCHEMA}");
    m
}

/// The merge commit of two diverged tips of a run: which tips it joins, which sessions moved
/// and why, then the run-level trailers plus one `Pitboss-Renumbered: <old> -> <new>` per
/// moved session. Everything here derives from the two tips, so both machines write the same
/// message (see `merge.rs`).
pub(crate) fn merge_message(
    run: &RunId,
    first: (crate::git::Oid, usize),
    second: (crate::git::Oid, usize),
    sessions: usize,
    moved: &[(u64, u64, crate::git::Oid)],
    status: &RunStatus,
) -> String {
    let short = |o: crate::git::Oid| o.to_string()[..12].to_string();
    let mut m = format!("merge diverged run {run}: {sessions} sessions\n\n");
    let _ = writeln!(
        m,
        "Joins {} ({} sessions) and {} ({} sessions).",
        short(first.0),
        first.1,
        short(second.0),
        second.1
    );
    for (from, to, side) in moved {
        let _ = writeln!(
            m,
            "Session {from:04} of {} is now session {to:04}: both sides used {from:04}, and \
             the other one started first.",
            short(*side)
        );
    }
    m.push('\n');
    let _ = writeln!(m, "Pitboss-Run: {run}");
    for (from, to, _) in moved {
        let _ = writeln!(m, "Pitboss-Renumbered: {from} -> {to}");
    }
    let _ = writeln!(m, "Pitboss-Run-Status: {status}");
    let _ = writeln!(m, "Pitboss-Schema: {SCHEMA}");
    m
}

/// The value of the last trailer `key` in the message's final paragraph.
///
/// Not `git2::message_trailers_strs`: git's rules end the message at a `---` line (a patch
/// follows), so a summary holding a Markdown rule would hide every trailer after it.
pub(crate) fn trailer<'m>(message: &'m str, key: &str) -> Option<&'m str> {
    let last_para = message.trim_end().rsplit("\n\n").next()?;
    last_para
        .lines()
        .rev()
        .filter_map(|l| l.split_once(": "))
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::record::parse_record;

    #[test]
    fn session_message_has_subject_summary_and_trailers() {
        let line = r#"{"seq":7,"run_id":"r","prompt":"fp-hunter","started_at":"2026-04-30T18:05:00Z","ended_at":"2026-04-30T18:06:30Z","status":"ok","summary":"fixed it\n\nPitboss-Status: fake","commit":null,"tokens":{"input":1000,"output":500,"by_role":{}},"cost_usd":0.0123,"transcript_path":"t"}"#;
        let r = parse_record(line).unwrap();
        let run = RunId::parse("r").unwrap();
        let m = session_message(&r, &run, &RunStatus::Running);
        assert!(
            m.starts_with(
                "session 0007 fp-hunter: ok\n\nfixed it\n\nPitboss-Status: fake\n\nPitboss-Run: r\n"
            ),
            "{m}"
        );
        assert!(m.contains("Pitboss-Commit: none\n"));
        assert!(m.contains("Pitboss-Tokens: 1000 in / 500 out\n"));
        assert!(m.contains("Pitboss-Cost-USD: 0.0123\n"));
        assert!(m.ends_with("Pitboss-Schema: 1\n"));
        // A summary that imitates a trailer does not fool the reader of the last paragraph.
        assert_eq!(trailer(&m, "Pitboss-Status"), Some("ok"));
        assert_eq!(trailer(&m, "Pitboss-Run-Status"), Some("running"));
    }

    #[test]
    fn run_message_shape() {
        let run = RunId::parse("x1").unwrap();
        let m = run_message("run x1 started", None, &run, &RunStatus::Running);
        assert_eq!(
            m,
            "run x1 started\n\nPitboss-Run: x1\nPitboss-Run-Status: running\nPitboss-Schema: 1\n"
        );
        assert_eq!(trailer(&m, "pitboss-run"), Some("x1"));
        assert_eq!(trailer(&m, "Missing"), None);
    }

    #[test]
    fn a_rule_in_the_summary_hides_no_trailer() {
        let run = RunId::parse("x1").unwrap();
        let body = "did two things\n\n---\n\nand a note";
        let m = run_message("run x1 started", Some(body), &run, &RunStatus::Running);
        assert_eq!(trailer(&m, "Pitboss-Run"), Some("x1"));
    }
}
