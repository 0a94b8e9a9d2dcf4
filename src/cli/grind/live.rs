//! The live lines `grind` redraws on a terminal, one per running session:
//!
//! ```text
//!   0003 fix-lints  3 of 10  running 1m12s  15200 tok  Bash  $0.4200 of $5.00
//! ```
//!
//! the session, its prompt, which session of `--max-iterations` it is (`3 of 10`, or `3`
//! with no iteration budget), the elapsed time, the tokens and last tool the agent reported, and
//! the run's known cost so far against `--max-cost` (or alone with no cost budget; `≥` when
//! some sessions have no known cost). A session of a parallel run names its slot after its seq
//! (`0004 slot 2  docs  …`), and the lines of the sessions running side by side are redrawn in
//! place as one block ([`frame`]), oldest first. Pure: the observer feeds it events and prints
//! what it returns.

use std::collections::BTreeMap;

use crate::cli::ledger::run_cost_short;
use crate::cli::resolve::duration;
use crate::grind::event::GrindEvent;

/// What the live lines know of the run, kept up to date from the events.
#[derive(Debug, Default, Clone)]
pub(crate) struct LiveState {
    /// The running sessions by seq.
    running: BTreeMap<u64, Running>,
    /// Sessions dispatched so far, the running ones included.
    iterations: u64,
    max_iterations: Option<u64>,
    max_cost_usd: Option<f64>,
    /// Known cost of the run's finished sessions, how many there are, how many of unknown cost.
    cost_usd: f64,
    sessions: u64,
    unknown_cost_sessions: u64,
}

/// One running session, as its last progress event left it.
#[derive(Debug, Default, Clone)]
struct Running {
    slot: Option<u32>,
    prompt: String,
    elapsed_ms: u64,
    tokens: Option<u64>,
    tool: Option<String>,
    /// Its agent is done and it waits to land behind this older session.
    queued_behind: Option<u64>,
    /// Which session of the run's budget it is (the count when it started): beside others,
    /// each line keeps its own, not the number started since.
    pick: u64,
}

impl LiveState {
    /// Folds in what the events say about the run.
    pub(crate) fn observe(&mut self, e: &GrindEvent) {
        match e {
            GrindEvent::RunStarted {
                limits,
                spent_iterations,
                spent_cost_usd,
                spent_unknown_cost_sessions,
                ..
            } => {
                self.iterations = *spent_iterations;
                self.max_iterations = limits.max_iterations;
                self.max_cost_usd = limits.max_cost_usd;
                self.cost_usd = *spent_cost_usd;
                self.unknown_cost_sessions = *spent_unknown_cost_sessions;
                self.sessions = *spent_iterations;
            }
            GrindEvent::SessionStarted {
                seq, slot, prompt, ..
            } => {
                let prompt = crate::cli::escape::one_line(prompt).into_owned();
                self.iterations += 1;
                self.running.insert(
                    *seq,
                    Running {
                        slot: *slot,
                        prompt,
                        pick: self.iterations,
                        ..Running::default()
                    },
                );
            }
            GrindEvent::Progress {
                seq,
                elapsed_ms,
                last_tool,
                tokens,
                ..
            } => {
                if let Some(r) = self.running.get_mut(seq) {
                    r.elapsed_ms = *elapsed_ms;
                    r.tokens = *tokens;
                    r.tool.clone_from(last_tool);
                }
            }
            GrindEvent::Queued { seq, behind, .. } => {
                if let Some(r) = self.running.get_mut(seq) {
                    r.queued_behind = Some(*behind);
                }
            }
            GrindEvent::SessionFinished {
                record,
                run_cost_usd,
                run_sessions,
                run_unknown_cost_sessions,
                ..
            } => {
                self.running.remove(&record.seq);
                self.cost_usd = *run_cost_usd;
                self.sessions = *run_sessions;
                self.unknown_cost_sessions = *run_unknown_cost_sessions;
            }
            GrindEvent::RunFinished { .. } => self.running.clear(),
            _ => {}
        }
    }

    /// One line per running session, oldest first (without carriage returns or clearing).
    pub(crate) fn lines(&self) -> Vec<String> {
        self.running
            .iter()
            .map(|(seq, r)| self.line(*seq, r))
            .collect()
    }

    fn line(&self, seq: u64, r: &Running) -> String {
        let n = match self.max_iterations {
            Some(max) => format!("{} of {max}", r.pick),
            None => r.pick.to_string(),
        };
        let slot = r.slot.map(|k| format!(" slot {k} ")).unwrap_or_default();
        let tokens = r.tokens.map(|t| format!("  {t} tok")).unwrap_or_default();
        let tool = r
            .tool
            .as_ref()
            .map(|t| format!("  {t}"))
            .unwrap_or_default();
        let spent = run_cost_short(self.cost_usd, self.unknown_cost_sessions, self.sessions);
        let cost = match self.max_cost_usd {
            Some(max) => format!("  {spent} of ${max:.2}"),
            None if self.sessions == 0 => String::new(),
            None => format!("  {spent}"),
        };
        let elapsed = duration((r.elapsed_ms / 1000) as i64);
        match r.queued_behind {
            Some(b) => format!(
                "  {seq:04}{slot} {}  {n}  done in {elapsed}, lands after {b:04}{tokens}{cost}",
                r.prompt
            ),
            None => format!(
                "  {seq:04}{slot} {}  {n}  running {elapsed}{tokens}{tool}{cost}",
                r.prompt
            ),
        }
    }
}

/// `line` cut to fit a terminal of `columns` (a column spare: writing the last one wraps on
/// some terminals). A wrapped live line cannot be redrawn in place (the cursor moves up by
/// rows, and a wrapped line is two), so each redraw would leave a row behind.
pub(crate) fn fit_width(line: &str, columns: u16) -> String {
    let max = usize::from(columns.max(2)) - 1;
    if line.chars().count() <= max {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// The block cut to a terminal of `columns` × `rows`: each line to the width, and no more
/// lines than the screen has rows but one (a block taller than the screen scrolls, and the
/// rows scrolled off cannot be redrawn), the last saying how many are not shown.
pub(crate) fn fit_block(lines: &[String], columns: u16, rows: u16) -> Vec<String> {
    let max = usize::from(rows.max(2)) - 1;
    let mut out: Vec<String> = Vec::with_capacity(lines.len().min(max));
    if lines.len() <= max {
        out.extend(lines.iter().map(|l| fit_width(l, columns)));
    } else {
        let shown = max - 1;
        out.extend(lines[..shown].iter().map(|l| fit_width(l, columns)));
        let more = format!("  … and {} more running", lines.len() - shown);
        out.push(fit_width(&more, columns));
    }
    out
}

/// What erases a block of `rows` rows drawn by [`frame`] (the cursor at the end of its last
/// row), leaving the cursor at the start of its first row: clear the row, then up and clear,
/// row by row.
pub(crate) fn erase(rows: usize) -> String {
    if rows == 0 {
        return String::new();
    }
    let mut s = String::from("\r\x1b[2K");
    for _ in 1..rows {
        s.push_str("\x1b[1A\x1b[2K");
    }
    s
}

/// What replaces a block of `prev_rows` rows by `lines`: the erase, then the lines, with no
/// newline after the last (the cursor stays on the block, so the next erase finds it).
pub(crate) fn frame(prev_rows: usize, lines: &[String]) -> String {
    let mut s = erase(prev_rows);
    s.push_str(&lines.join("\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::budget::Limits;

    #[test]
    fn a_live_line_is_cut_to_the_terminal_width() {
        assert_eq!(fit_width("  0001 docs  1 of 3", 80), "  0001 docs  1 of 3");
        assert_eq!(fit_width("abcdef", 5), "abc…");
        assert_eq!(fit_width("ééééé", 5), "ééé…");
        assert_eq!(fit_width("abcd", 5), "abcd");
    }

    fn started(max_iterations: Option<u64>, max_cost_usd: Option<f64>, spent: u64) -> GrindEvent {
        GrindEvent::RunStarted {
            run: crate::store::RunId::parse("20260101T000000Z-abcd").unwrap(),
            branch: "refs/heads/pitboss/x".into(),
            worktree: "/w".into(),
            agent: "command".into(),
            program: "sh".into(),
            program_from: "default".into(),
            resumed: spent > 0,
            model: None,
            rotation: None,
            limits: Box::new(Limits {
                max_iterations,
                max_cost_usd,
                ..Limits::default()
            }),
            spent_iterations: spent,
            spent_cost_usd: 0.0,
            spent_tokens: 0,
            spent_unknown_cost_sessions: 0,
            max_parallel: 1,
        }
    }

    fn session(seq: u64, slot: Option<u32>, prompt: &str) -> GrindEvent {
        GrindEvent::SessionStarted {
            seq,
            slot,
            prompt: prompt.into(),
            rotation: 0,
            started_at: chrono::DateTime::UNIX_EPOCH,
            timeout_seconds: None,
        }
    }

    fn progress(
        seq: u64,
        slot: Option<u32>,
        ms: u64,
        tokens: Option<u64>,
        tool: &str,
    ) -> GrindEvent {
        GrindEvent::Progress {
            seq,
            slot,
            elapsed_ms: ms,
            last_tool: (!tool.is_empty()).then(|| tool.to_string()),
            text: None,
            tokens,
            cost_usd: None,
        }
    }

    fn finished(seq: u64, slot: Option<u32>, run_sessions: u64) -> GrindEvent {
        let record: crate::store::SessionRecord = serde_json::from_str(&format!(
            r#"{{"seq":{seq},"run_id":"r","prompt":"p","started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T00:01:05Z","status":"ok","commit":null,"tokens":{{"input":1,"output":1,"by_role":{{}}}},"cost_usd":0.5,"transcript_path":"t"}}"#
        ))
        .unwrap();
        assert_eq!(record.slot, None);
        let record = crate::store::SessionRecord { slot, ..record };
        GrindEvent::SessionFinished {
            record: Box::new(record),
            patch_saved: false,
            work_kept_at: None,
            run_cost_usd: 0.5,
            run_sessions,
            run_unknown_cost_sessions: 0,
        }
    }

    #[test]
    fn prompt_progress_against_the_iteration_budget_and_cost_against_the_cost_budget() {
        let mut s = LiveState::default();
        s.observe(&started(Some(10), Some(5.0), 0));
        s.observe(&session(1, None, "fix-lints"));
        s.observe(&progress(1, None, 72_500, Some(15200), "Bash"));
        assert_eq!(
            s.lines(),
            ["  0001 fix-lints  1 of 10  running 1m12s  15200 tok  Bash  $0.0000 of $5.00"]
        );
    }

    #[test]
    fn without_budgets_a_count_and_the_cost_once_known() {
        let mut s = LiveState::default();
        s.observe(&started(None, None, 0));
        s.observe(&session(1, None, "docs"));
        s.observe(&progress(1, None, 4000, None, ""));
        assert_eq!(s.lines(), ["  0001 docs  1  running 4s"]);
        // A resumed run: its sessions so far count, and so does their cost.
        s.observe(&started(None, None, 2));
        s.observe(&finished(1, None, 2));
        s.observe(&session(3, None, "docs"));
        s.observe(&progress(3, None, 4000, None, ""));
        assert_eq!(s.lines(), ["  0003 docs  3  running 4s  $0.5000"]);
    }

    #[test]
    fn a_resumed_run_whose_cost_is_unknown_says_unknown_not_zero() {
        let mut s = LiveState::default();
        let mut e = started(None, None, 3);
        if let GrindEvent::RunStarted {
            spent_unknown_cost_sessions,
            ..
        } = &mut e
        {
            *spent_unknown_cost_sessions = 3;
        }
        s.observe(&e);
        s.observe(&session(4, None, "docs"));
        s.observe(&progress(4, None, 3000, None, ""));
        assert_eq!(s.lines(), ["  0004 docs  4  running 3s  unknown"]);
    }

    #[test]
    fn sessions_side_by_side_get_a_line_each_with_their_slot_oldest_first() {
        let mut s = LiveState::default();
        s.observe(&started(Some(10), None, 0));
        s.observe(&session(4, Some(2), "lint"));
        s.observe(&session(5, Some(0), "docs"));
        s.observe(&session(6, Some(1), "tests"));
        // Interleaved: each update goes to its own line.
        s.observe(&progress(6, Some(1), 2000, None, "Edit"));
        s.observe(&progress(4, Some(2), 9000, Some(300), "Bash"));
        s.observe(&progress(5, Some(0), 5000, None, ""));
        s.observe(&progress(6, Some(1), 3000, Some(40), "Read"));
        assert_eq!(
            s.lines(),
            [
                "  0004 slot 2  lint  1 of 10  running 9s  300 tok  Bash",
                "  0005 slot 0  docs  2 of 10  running 5s",
                "  0006 slot 1  tests  3 of 10  running 3s  40 tok  Read",
            ]
        );
        // A finished session leaves the block; the others stay, and so does the count.
        s.observe(&finished(5, Some(0), 1));
        assert_eq!(
            s.lines(),
            [
                "  0004 slot 2  lint  1 of 10  running 9s  300 tok  Bash  $0.5000",
                "  0006 slot 1  tests  3 of 10  running 3s  40 tok  Read  $0.5000",
            ]
        );
        s.observe(&GrindEvent::Warning {
            message: "x".into(),
        });
        assert_eq!(s.lines().len(), 2);
    }

    #[test]
    fn a_block_is_redrawn_in_place_by_going_up_its_rows() {
        assert_eq!(erase(0), "");
        assert_eq!(erase(1), "\r\x1b[2K");
        assert_eq!(erase(3), "\r\x1b[2K\x1b[1A\x1b[2K\x1b[1A\x1b[2K");
        let lines = ["a".to_string(), "b".to_string()];
        // The first frame draws; the next one erases the two rows first; no newline after
        // the last row, so the cursor stays on the block.
        assert_eq!(frame(0, &lines), "a\nb");
        assert_eq!(frame(2, &lines[..1]), "\r\x1b[2K\x1b[1A\x1b[2Ka");
    }

    #[test]
    fn a_block_taller_than_the_screen_says_how_many_it_leaves_out() {
        let lines: Vec<String> = (1..=6).map(|i| format!("  000{i} p")).collect();
        assert_eq!(fit_block(&lines, 80, 24), lines);
        assert_eq!(
            fit_block(&lines, 80, 4),
            ["  0001 p", "  0002 p", "  … and 4 more running"]
        );
        assert_eq!(fit_block(&lines[..1], 6, 4), ["  00…"]);
    }

    #[test]
    fn a_session_done_and_waiting_to_land_says_so_instead_of_running() {
        let mut st = LiveState::default();
        st.observe(&started(Some(4), None, 0));
        st.observe(&session(1, Some(1), "docs"));
        st.observe(&session(2, Some(2), "lint"));
        st.observe(&progress(2, Some(2), 3_000, Some(120), "Bash"));
        st.observe(&GrindEvent::Queued {
            seq: 2,
            slot: 2,
            behind: 1,
        });
        let lines = st.lines();
        assert!(lines[0].contains("running"), "{lines:?}");
        assert_eq!(
            lines[1], "  0002 slot 2  lint  2 of 4  done in 3s, lands after 0001  120 tok",
            "{lines:?}"
        );
    }
}
