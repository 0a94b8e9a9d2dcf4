//! The live line `grind` redraws on a terminal while a session runs:
//!
//! ```text
//!   0003 fix-lints  3 of 10  running 1m12s  15200 tok  Bash  $0.4200 of $5.00
//! ```
//!
//! the session, its prompt, how far the run is against `--max-iterations` (`3 of 10`, or `3`
//! with no iteration budget), the elapsed time, the tokens and last tool the agent reported, and
//! the run's known cost so far against `--max-cost` (or alone with no cost budget; `≥` when
//! some sessions have no known cost). Pure: the observer feeds it events and prints the line.

use super::ledger::run_cost_short;
use super::resolve::duration;
use crate::grind::run::GrindEvent;

/// What the live line knows of the run, kept up to date from the events.
#[derive(Debug, Default, Clone)]
pub(crate) struct LiveState {
    prompt: String,
    /// Sessions dispatched so far, this one included.
    iterations: u64,
    max_iterations: Option<u64>,
    max_cost_usd: Option<f64>,
    /// Known cost of the run's finished sessions, how many there are, how many of unknown cost.
    cost_usd: f64,
    sessions: u64,
    unknown_cost_sessions: u64,
}

impl LiveState {
    /// Folds in what the events say about the run.
    pub(crate) fn observe(&mut self, e: &GrindEvent) {
        match e {
            GrindEvent::RunStarted {
                limits,
                spent_iterations,
                spent_cost_usd,
                ..
            } => {
                self.iterations = *spent_iterations;
                self.max_iterations = limits.max_iterations;
                self.max_cost_usd = limits.max_cost_usd;
                self.cost_usd = *spent_cost_usd;
                self.sessions = *spent_iterations;
            }
            GrindEvent::SessionStarted { prompt, .. } => {
                self.prompt = super::escape::one_line(prompt).into_owned();
                self.iterations += 1;
            }
            GrindEvent::SessionFinished {
                run_cost_usd,
                run_sessions,
                run_unknown_cost_sessions,
                ..
            } => {
                self.cost_usd = *run_cost_usd;
                self.sessions = *run_sessions;
                self.unknown_cost_sessions = *run_unknown_cost_sessions;
            }
            _ => {}
        }
    }

    /// The line for a progress update (without the carriage return and clearing).
    pub(crate) fn line(
        &self,
        seq: u64,
        elapsed_ms: u64,
        tokens: Option<u64>,
        tool: Option<&str>,
    ) -> String {
        let n = match self.max_iterations {
            Some(max) => format!("{} of {max}", self.iterations),
            None => self.iterations.to_string(),
        };
        let tokens = tokens.map(|t| format!("  {t} tok")).unwrap_or_default();
        let tool = tool.map(|t| format!("  {t}")).unwrap_or_default();
        let spent = run_cost_short(self.cost_usd, self.unknown_cost_sessions, self.sessions);
        let cost = match self.max_cost_usd {
            Some(max) => format!("  {spent} of ${max:.2}"),
            None if self.sessions == 0 => String::new(),
            None => format!("  {spent}"),
        };
        format!(
            "  {seq:04} {}  {n}  running {}{tokens}{tool}{cost}",
            self.prompt,
            duration((elapsed_ms / 1000) as i64)
        )
    }
}

/// `line` cut to fit a terminal of `columns` (a column spare: writing the last one wraps on
/// some terminals). A wrapped live line cannot be redrawn in place (the carriage return goes
/// back to its last row only), so each redraw would leave a row behind.
pub(crate) fn fit_width(line: &str, columns: u16) -> String {
    let max = usize::from(columns.max(2)) - 1;
    if line.chars().count() <= max {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_line_is_cut_to_the_terminal_width() {
        assert_eq!(fit_width("  0001 docs  1 of 3", 80), "  0001 docs  1 of 3");
        assert_eq!(fit_width("abcdef", 5), "abc…");
        assert_eq!(fit_width("ééééé", 5), "ééé…");
        assert_eq!(fit_width("abcd", 5), "abcd");
    }
    use crate::plan::budget::Limits;

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
            max_parallel: 1,
        }
    }

    fn session(seq: u64, prompt: &str) -> GrindEvent {
        GrindEvent::SessionStarted {
            seq,
            slot: None,
            prompt: prompt.into(),
            rotation: 0,
            started_at: chrono::DateTime::UNIX_EPOCH,
            timeout_seconds: None,
        }
    }

    #[test]
    fn prompt_progress_against_the_iteration_budget_and_cost_against_the_cost_budget() {
        let mut s = LiveState::default();
        s.observe(&started(Some(10), Some(5.0), 0));
        s.observe(&session(1, "fix-lints"));
        assert_eq!(
            s.line(1, 72_500, Some(15200), Some("Bash")),
            "  0001 fix-lints  1 of 10  running 1m12s  15200 tok  Bash  $0.0000 of $5.00"
        );
    }

    #[test]
    fn without_budgets_a_count_and_the_cost_once_known() {
        let mut s = LiveState::default();
        s.observe(&started(None, None, 0));
        s.observe(&session(1, "docs"));
        assert_eq!(s.line(1, 4000, None, None), "  0001 docs  1  running 4s");
        // A resumed run: its sessions so far count, and so does their cost.
        s.observe(&started(None, None, 2));
        s.observe(&session(3, "docs"));
        assert_eq!(
            s.line(3, 4000, None, None),
            "  0003 docs  3  running 4s  $0.0000"
        );
    }
}
