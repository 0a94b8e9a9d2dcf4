//! What a parallel `grind` says of its landing queue: a line per landing, printed above the
//! live lines as the queue deals with each finished session,
//!
//! ```text
//! 0004 slot 2  landed  2 commits onto 3f2a9c1e0b7d  (38 ms)
//! 0005 slot 1  conflict  src/lib.rs (with 0004): saved as a patch  (12 ms)
//! 0006 slot 0  verify failed onto 9c1e0b7d3f2a: saved as a patch  (2.1 s)
//! ```
//!
//! and the closing table's `landings` row. Pure: the observer prints what these return.

use crate::cli::ui::Style;
use crate::grind::summary::LandingCounts;
use crate::store::{Landing, LandingResult, SessionStatus};

/// Files a conflict line names before it says how many more there are.
const FILES_SHOWN: usize = 3;

/// The line of one landing; `paint` colours the outcome.
pub(crate) fn landing_line(
    seq: u64,
    slot: u32,
    l: &Landing,
    ms: u64,
    paint: impl Fn(Style, &str) -> String,
) -> String {
    let onto = &l.onto[..l.onto.len().min(12)];
    let what = match l.result {
        LandingResult::Landed => {
            let n = l.commits.len();
            let commits = if n == 1 { "commit" } else { "commits" };
            // Overlapping edits a merge driver resolved (`landing_merge_drivers = "respect"`).
            let drivers: Vec<String> = l
                .drivers
                .iter()
                .map(|d| {
                    let path = crate::cli::escape::one_line(&d.path);
                    format!(
                        "{path} by merge={}",
                        crate::cli::escape::one_line(&d.driver)
                    )
                })
                .collect();
            let drivers = if drivers.is_empty() {
                String::new()
            } else {
                format!(", overlapping edits resolved: {}", drivers.join(", "))
            };
            format!(
                "{}  {n} {commits} onto {onto}{drivers}",
                paint(Style::Good, "landed")
            )
        }
        LandingResult::Conflict => {
            let mut files: Vec<String> = l
                .files
                .iter()
                .take(FILES_SHOWN)
                .map(|f| crate::cli::escape::one_line(f).into_owned())
                .collect();
            if l.files.len() > FILES_SHOWN {
                files.push(format!("{} more", l.files.len() - FILES_SHOWN));
            }
            let files = if files.is_empty() {
                format!("onto {onto}")
            } else {
                files.join(", ")
            };
            let with = if l.collided_with.is_empty() {
                String::new()
            } else {
                let seqs: Vec<String> = l.collided_with.iter().map(|s| format!("{s:04}")).collect();
                format!(" (with {})", seqs.join(", "))
            };
            format!(
                "{}  {files}{with}: saved as a patch",
                paint(Style::Bad, "conflict")
            )
        }
        LandingResult::VerifyFailed => format!(
            "{} onto {onto}: saved as a patch",
            paint(Style::Bad, "verify failed")
        ),
        LandingResult::Nothing => return format!("{seq:04} slot {slot}  nothing to land"),
    };
    format!("{seq:04} slot {slot}  {what}  ({})", took(ms))
}

/// The line of a session that was never to land (it failed, was cut or skipped): its status
/// says why, and whether its work was saved (issue 22: not "nothing to land", which it had).
pub(crate) fn not_landed_line(seq: u64, slot: u32, status: SessionStatus, saved: bool) -> String {
    let work = if saved {
        "its work saved as a patch"
    } else {
        "it left no work"
    };
    format!(
        "{seq:04} slot {slot}  not landed ({}): {work}",
        status.as_str()
    )
}

/// `38 ms`, `2.1 s`.
fn took(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// The closing table's row for a parallel grind: `3 landed, 1 conflict, 0 verify failed`,
/// and the sessions that had nothing to land when there are some.
pub(crate) fn landings_row(c: &LandingCounts) -> String {
    let conflicts = if c.conflict == 1 {
        "conflict"
    } else {
        "conflicts"
    };
    let mut row = format!(
        "{} landed, {} {conflicts}, {} verify failed",
        c.landed, c.conflict, c.verify_failed
    );
    if c.nothing > 0 {
        row.push_str(&format!(", {} with nothing to land", c.nothing));
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    fn landing(result: LandingResult) -> Landing {
        Landing {
            result,
            onto: "3f2a9c1e0b7d5511aa00bb11cc22dd33ee44ff55".into(),
            commits: Vec::new(),
            files: Vec::new(),
            collided_with: Vec::new(),
            drivers: Vec::new(),
        }
    }

    fn plain(_: Style, s: &str) -> String {
        s.to_string()
    }

    #[test]
    fn a_landing_says_how_many_commits_went_onto_which_tip_and_how_long_it_took() {
        let mut l = landing(LandingResult::Landed);
        l.commits = vec!["a".into(), "b".into()];
        assert_eq!(
            landing_line(4, 2, &l, 38, plain),
            "0004 slot 2  landed  2 commits onto 3f2a9c1e0b7d  (38 ms)"
        );
        l.commits.truncate(1);
        assert_eq!(
            landing_line(4, 2, &l, 2140, plain),
            "0004 slot 2  landed  1 commit onto 3f2a9c1e0b7d  (2.1 s)"
        );
    }

    #[test]
    fn a_conflict_names_its_files_and_the_sessions_it_collided_with() {
        let mut l = landing(LandingResult::Conflict);
        l.files = vec!["src/lib.rs".into()];
        l.collided_with = vec![4];
        assert_eq!(
            landing_line(5, 1, &l, 12, plain),
            "0005 slot 1  conflict  src/lib.rs (with 0004): saved as a patch  (12 ms)"
        );
        l.files = (1..=5).map(|i| format!("f{i}")).collect();
        l.collided_with = vec![2, 3];
        assert_eq!(
            landing_line(5, 1, &l, 12, plain),
            "0005 slot 1  conflict  f1, f2, f3, 2 more (with 0002, 0003): saved as a patch  (12 ms)"
        );
    }

    #[test]
    fn a_failed_verify_and_nothing_to_land() {
        assert_eq!(
            landing_line(6, 0, &landing(LandingResult::VerifyFailed), 40, plain),
            "0006 slot 0  verify failed onto 3f2a9c1e0b7d: saved as a patch  (40 ms)"
        );
        assert_eq!(
            landing_line(7, 3, &landing(LandingResult::Nothing), 1, plain),
            "0007 slot 3  nothing to land"
        );
    }

    #[test]
    fn a_session_never_to_land_says_why_and_where_its_work_went() {
        assert_eq!(
            not_landed_line(3, 1, SessionStatus::Error, true),
            "0003 slot 1  not landed (error): its work saved as a patch"
        );
        assert_eq!(
            not_landed_line(4, 2, SessionStatus::Skipped, false),
            "0004 slot 2  not landed (skipped): it left no work"
        );
    }

    #[test]
    fn the_closing_row_counts_landings_conflicts_and_failed_verifies() {
        let mut c = LandingCounts {
            landed: 3,
            conflict: 1,
            verify_failed: 0,
            nothing: 0,
        };
        assert_eq!(landings_row(&c), "3 landed, 1 conflict, 0 verify failed");
        c.conflict = 2;
        c.nothing = 1;
        assert_eq!(
            landings_row(&c),
            "3 landed, 2 conflicts, 0 verify failed, 1 with nothing to land"
        );
    }
}
