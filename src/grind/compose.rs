//! The agent's input for one session (pure): a short standing instruction, compact summaries of
//! the last few sessions, the scratchpad (capped, with a note when cut) and the prompt body.
//!
//! Why these parts: an unattended agent starts every session with no memory. The standing
//! instruction says how to behave in this loop (commit, summarise, use the scratchpad, skip
//! when there is nothing to do); recent records stop it from redoing or undoing the last
//! sessions' work; the scratchpad is the notes agents leave each other.

use std::fmt::Write as _;

use crate::store::SessionRecord;

/// How many earlier sessions the input summarises.
pub(crate) const RECENT_SESSIONS: usize = 5;
/// Most of the scratchpad the input carries; the newest part is kept when it is longer.
pub(crate) const SCRATCHPAD_CAP: usize = 16 * 1024;
/// Longest summary line per earlier session.
const SUMMARY_CAP: usize = 300;

/// What one session's input is made of.
#[derive(Debug, Clone)]
pub(crate) struct InputParts<'a> {
    pub run_id: &'a str,
    pub seq: u64,
    pub prompt_name: &'a str,
    pub prompt_body: &'a str,
    /// Earlier records of the run, oldest first (only the last few are used).
    pub recent: &'a [SessionRecord],
    pub scratchpad: &'a str,
}

/// Builds the agent's input.
pub(crate) fn compose(p: &InputParts<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "You are session {} of an unattended git-pitboss run ({}), working on the task `{}`.",
        p.seq, p.run_id, p.prompt_name
    );
    out.push_str(
        "Work in the current directory, a git worktree of the run's branch. Commit your work with \
         clear messages (anything left uncommitted is committed for you). When you are done, \
         write a short summary of what you did to the file named by $PITBOSS_SUMMARY_FILE. Add \
         notes that later sessions need to the shared scratchpad at $PITBOSS_SCRATCHPAD. If there \
         is nothing worth doing, create the file named by $PITBOSS_SKIP_FILE and stop.\n",
    );
    let recent = &p.recent[p.recent.len().saturating_sub(RECENT_SESSIONS)..];
    if !recent.is_empty() {
        out.push_str("\n## Recent sessions\n\n");
        for r in recent {
            let summary = r
                .summary
                .as_deref()
                .and_then(|s| s.lines().find(|l| !l.trim().is_empty()))
                .map(|s| shorten(s.trim(), SUMMARY_CAP))
                .unwrap_or_else(|| "(no summary)".into());
            let commit = r.commit_text();
            let commit = (commit.as_deref())
                .map(|c| &c[..c.len().min(7)])
                .unwrap_or("no commit");
            let _ = writeln!(
                out,
                "- session {} `{}` ({}, {commit}): {summary}",
                r.seq, r.prompt, r.status
            );
        }
    }
    let pad = p.scratchpad.trim();
    if !pad.is_empty() {
        out.push_str("\n## Scratchpad\n\n");
        if pad.len() > SCRATCHPAD_CAP {
            let cut = floor_char_boundary(pad, pad.len() - SCRATCHPAD_CAP);
            let start = pad[cut..].find('\n').map_or(cut, |i| cut + i + 1);
            let _ = writeln!(
                out,
                "(the scratchpad is {} bytes; only its last {} are shown: read the whole file at $PITBOSS_SCRATCHPAD)\n",
                pad.len(),
                pad.len() - start
            );
            out.push_str(&pad[start..]);
        } else {
            out.push_str(pad);
        }
        out.push('\n');
    }
    let _ = write!(
        out,
        "\n## Task: {}\n\n{}",
        p.prompt_name,
        p.prompt_body.trim()
    );
    out.push('\n');
    out
}

fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let cut = floor_char_boundary(s, max);
    format!("{}…", &s[..cut])
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seq: u64, summary: Option<&str>) -> SessionRecord {
        let mut r = SessionRecord::builder()
            .seq(seq)
            .prompt("lint")
            .commit("abcdef1234")
            .tokens(1, 1)
            .build();
        r.summary = summary.map(str::to_string);
        r
    }

    #[test]
    fn has_every_part_in_order() {
        let recent: Vec<_> = (1..=7)
            .map(|i| rec(i, Some(&format!("did thing {i}\nmore"))))
            .collect();
        let input = compose(&InputParts {
            run_id: "r1",
            seq: 8,
            prompt_name: "fix-lints",
            prompt_body: "Fix the lints.\n",
            recent: &recent,
            scratchpad: "- remember x\n",
        });
        assert!(input.starts_with("You are session 8 of an unattended git-pitboss run (r1), working on the task `fix-lints`."));
        assert!(!input.contains("did thing 2"), "only the last 5 sessions");
        assert!(
            input.contains("- session 3 `lint` (ok, abcdef1): did thing 3\n"),
            "{input}"
        );
        assert!(input.contains("## Scratchpad\n\n- remember x\n"));
        assert!(input.ends_with("## Task: fix-lints\n\nFix the lints.\n"));
        let i_recent = input.find("## Recent").unwrap();
        let i_pad = input.find("## Scratchpad").unwrap();
        assert!(i_recent < i_pad);
    }

    #[test]
    fn long_scratchpads_keep_their_end_with_a_note() {
        let pad: String = (0..5000).map(|i| format!("note line {i}\n")).collect();
        let input = compose(&InputParts {
            run_id: "r",
            seq: 1,
            prompt_name: "p",
            prompt_body: "b",
            recent: &[],
            scratchpad: &pad,
        });
        assert!(input.contains("only its last"), "{}", &input[..400]);
        assert!(input.contains("note line 4999\n"));
        assert!(!input.contains("note line 0\n"));
        assert!(input.len() < SCRATCHPAD_CAP + 2000);
        assert!(!input.contains("## Recent sessions"));
    }
}
