//! `sessions.md`, rendered on demand from the records, byte for byte as the file-based design
//! rendered it (never stored, never rewritten per append).

use std::fmt::Write as _;

use super::record::{SessionRecord, rfc3339};

/// Renders the records (already in seq order) as the original `sessions.md`.
pub(crate) fn render_sessions_md(records: &[SessionRecord]) -> String {
    let mut out = String::from("# Sessions\n\n");
    if records.is_empty() {
        out.push_str("_No sessions recorded yet._\n");
        return out;
    }
    for r in records {
        let _ = writeln!(out, "## session-{:04} — {} ({})", r.seq, r.prompt, r.status);
        out.push('\n');
        let _ = writeln!(out, "- started: {}", rfc3339::format(&r.started_at));
        let _ = writeln!(out, "- ended: {}", rfc3339::format(&r.ended_at));
        let _ = writeln!(out, "- duration: {}s", r.duration_secs());
        let commit = match r.commit_text().as_deref() {
            Some(c) if !c.is_empty() => c.chars().take(7).collect::<String>(),
            _ => "(none)".to_string(),
        };
        let _ = writeln!(out, "- commit: {commit}");
        // Only parallel runs' records have these: others render byte for byte as before.
        if let Some(k) = r.slot {
            let _ = writeln!(out, "- slot: {k}");
        }
        if let Some(l) = &r.landing {
            let _ = writeln!(out, "- landing: {}", l.describe());
        }
        // The cache parts appear only when there are some: records without them (all of the
        // file-based design's) render byte for byte as before.
        let t = &r.usage.tokens;
        let cache = if t.has_cache() {
            format!(
                " / cache read {} / cache write {}",
                t.cache_read, t.cache_write
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "- tokens: {} (in {} / out {}{cache})",
            t.total(),
            t.input,
            t.output
        );
        if r.usage.cost_known() {
            let _ = writeln!(out, "- cost: ${:.4}", r.usage.cost_usd);
        } else {
            out.push_str("- cost: unknown\n");
        }
        let _ = writeln!(out, "- transcript: {}", r.transcript_path);
        match r.summary.as_deref() {
            Some(s) if !s.trim().is_empty() => {
                out.push_str("- summary:\n\n");
                for line in s.trim_end_matches('\n').lines() {
                    if line.trim().is_empty() {
                        out.push('\n');
                    } else {
                        let _ = writeln!(out, "    {line}");
                    }
                }
                out.push('\n');
            }
            _ => out.push_str("- summary: (none)\n\n"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::record::{SessionStatus, parse_record};

    const ORIGINAL: &str = r#"{"seq":1,"run_id":"rid","prompt":"fp-hunter","started_at":"2026-04-30T18:05:00Z","ended_at":"2026-04-30T18:06:30Z","status":"ok","summary":"fixed the foo bug in bar.rs","commit":"abc1234000000000000000000000000000000001","tokens":{"input":1000,"output":500,"by_role":{"implementer":{"input":1000,"output":500}}},"cost_usd":0.0123,"transcript_path":"transcripts/session-0001.log"}"#;

    #[test]
    fn empty_log() {
        assert_eq!(
            render_sessions_md(&[]),
            "# Sessions\n\n_No sessions recorded yet._\n"
        );
    }

    #[test]
    fn byte_identical_to_the_original_renderer() {
        let first = parse_record(ORIGINAL).unwrap();
        let mut second = first.clone();
        second.seq = 2;
        second.status = SessionStatus::Error;
        second.summary = None;
        second.commit = None;
        second.transcript_path = "transcripts/session-0002.log".into();
        let expected = "# Sessions

## session-0001 — fp-hunter (ok)

- started: 2026-04-30T18:05:00Z
- ended: 2026-04-30T18:06:30Z
- duration: 90s
- commit: abc1234
- tokens: 1500 (in 1000 / out 500)
- cost: $0.0123
- transcript: transcripts/session-0001.log
- summary:

    fixed the foo bug in bar.rs

## session-0002 — fp-hunter (error)

- started: 2026-04-30T18:05:00Z
- ended: 2026-04-30T18:06:30Z
- duration: 90s
- commit: (none)
- tokens: 1500 (in 1000 / out 500)
- cost: $0.0123
- transcript: transcripts/session-0002.log
- summary: (none)

";
        assert_eq!(render_sessions_md(&[first, second]), expected);
    }

    #[test]
    fn multi_line_summaries_are_indented() {
        let mut r = parse_record(ORIGINAL).unwrap();
        r.summary = Some("line one\n\nline two\n".into());
        let md = render_sessions_md(&[r]);
        assert!(
            md.ends_with("- summary:\n\n    line one\n\n    line two\n\n"),
            "{md}"
        );
    }

    #[test]
    fn cache_tokens_and_unknown_costs_are_shown_as_such() {
        let mut r = parse_record(ORIGINAL).unwrap();
        r.usage.tokens.cache_read = 300;
        r.usage.tokens.cache_write = 100;
        r.usage.cost_source = Some(crate::usage::CostSource::Unknown);
        r.usage.cost_usd = 0.0;
        let md = render_sessions_md(&[r]);
        assert!(
            md.contains("- tokens: 1900 (in 1000 / out 500 / cache read 300 / cache write 100)\n"),
            "{md}"
        );
        assert!(md.contains("- cost: unknown\n"), "{md}");
    }

    #[test]
    fn slot_and_landing_follow_the_commit_when_there_are_some() {
        let mut r = parse_record(ORIGINAL).unwrap();
        r.slot = Some(2);
        r.landing = Some(crate::store::Landing {
            result: crate::store::LandingResult::Conflict,
            onto: "0123456789abcdef0123456789abcdef01234567".into(),
            commits: Vec::new(),
            files: vec!["src/a.rs".into()],
            collided_with: vec![1],
            drivers: Vec::new(),
        });
        let md = render_sessions_md(&[r]);
        assert!(
            md.contains(
                "- commit: abc1234\n- slot: 2\n- landing: conflict onto 0123456789ab: src/a.rs (collided with session 1)\n- tokens: "
            ),
            "{md}"
        );
    }
}
