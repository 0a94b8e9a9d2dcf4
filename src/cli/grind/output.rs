//! What `grind` shows while it runs: on a terminal, one live line per running session (seq,
//! slot, prompt, `n of N`, elapsed, tokens so far when the agent reports them, last tool, cost
//! against the cost budget: [`super::live`]), redrawn in place as a block, with the
//! permanent lines (a line per finished session, per landing of a parallel run:
//! [`super::landing`], warnings) printed above it; then a closing table; `--json`, one
//! JSON event per line on stdout; `--quiet`, nothing but errors. Human output goes to stderr.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::cli::Ctx;
use crate::cli::escape::{one_line, terminal_safe};
use crate::cli::ledger;
use crate::cli::resolve::duration;
use crate::cli::ui::{Style, Ui};
use crate::grind::event::{GrindEvent, GrindObserver};
use crate::grind::summary::GrindSummary;

/// The observer for these flags.
pub(crate) fn observer(ctx: &Ctx, json: bool, quiet: bool) -> Box<dyn GrindObserver> {
    if json {
        Box::new(JsonLines {
            last: Default::default(),
        })
    } else if quiet {
        Box::new(Quiet)
    } else {
        Box::new(Human {
            ui: ctx.ui,
            live: std::io::stderr().is_terminal(),
            last_draw: None,
            shown: 0,
            state: Default::default(),
            patch_said: Default::default(),
        })
    }
}

struct Quiet;

impl GrindObserver for Quiet {
    fn event(&mut self, _: &GrindEvent) {}
}

/// One JSON object per event, on stdout; progress only when the agent's activity changes
/// (each session's on its own: sessions side by side interleave theirs).
struct JsonLines {
    /// The last tool and tokens written of each running session, by seq.
    last: std::collections::HashMap<u64, (Option<String>, Option<u64>)>,
}

impl GrindObserver for JsonLines {
    fn event(&mut self, e: &GrindEvent) {
        match e {
            GrindEvent::Progress {
                seq,
                last_tool,
                text,
                tokens,
                ..
            } => {
                let now = (last_tool.clone(), *tokens);
                let last = self.last.entry(*seq).or_default();
                if text.is_none() && *last == now {
                    return;
                }
                *last = now;
            }
            GrindEvent::SessionFinished { record, .. } => {
                self.last.remove(&record.seq);
            }
            _ => {}
        }
        let mut out = std::io::stdout().lock();
        if let Ok(line) = serde_json::to_string(e) {
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }
}

/// The end of a session's line that says where its unlanded work went, once per session:
/// `say_patch` is false when a line before already said it.
fn patch_note(work_kept_at: Option<&str>, say_patch: bool) -> String {
    match work_kept_at {
        Some(at) => format!(
            " (work kept whole on this machine only at {}; the run holds a copy for reading)",
            terminal_safe(at)
        ),
        None if say_patch => " (work saved as a patch)".to_string(),
        None => String::new(),
    }
}

struct Human {
    ui: Ui,
    /// Redraw a live line (stderr is a terminal).
    live: bool,
    last_draw: Option<Instant>,
    /// Rows of the live block on the screen now (the cursor at the end of its last).
    shown: usize,
    /// What the live lines show of the run.
    state: super::live::LiveState,
    /// Sessions whose landing line already said their work was saved as a patch: their
    /// session line does not say it again.
    patch_said: std::collections::HashSet<u64>,
}

impl Human {
    fn clear_live(&mut self) {
        if self.shown > 0 {
            // Never `eprint!`: it panics when the terminal is gone (SIGHUP), mid-run.
            let _ = write!(std::io::stderr(), "{}", super::live::erase(self.shown));
            self.shown = 0;
        }
    }

    /// Redraws the live block: one line per running session.
    fn draw_live(&mut self) {
        let lines = self.state.lines();
        let lines = match crossterm::terminal::size() {
            Ok((columns, rows)) => super::live::fit_block(&lines, columns, rows),
            Err(_) => lines,
        };
        let frame = super::live::frame(self.shown, &lines);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{frame}");
        let _ = err.flush();
        self.shown = lines.len();
    }

    /// A finished session's permanent line.
    fn say_finished(&mut self, e: &GrindEvent) {
        let GrindEvent::SessionFinished {
            record: r,
            patch_saved,
            work_kept_at,
            run_cost_usd,
            run_sessions,
            run_unknown_cost_sessions,
        } = e
        else {
            return;
        };
        let status = self.ui_paint(
            crate::cli::read::log::style(r.status),
            &format!("{:<7}", r.status.as_str()),
        );
        let summary = r
            .summary
            .as_deref()
            .and_then(|s| s.lines().find(|l| !l.trim().is_empty()))
            .unwrap_or("");
        let said = self.patch_said.remove(&r.seq) || summary.contains("saved as a patch");
        let patch = patch_note(work_kept_at.as_deref(), *patch_saved && !said);
        let slot = r.slot.map(|k| format!(" slot {k}")).unwrap_or_default();
        self.say(&format!(
            "{:04}{slot} {status} {:<16} {:>6} {:>8} tok {:>9} (run {})  {}{patch}",
            r.seq,
            one_line(&r.prompt),
            duration(r.duration_secs()),
            r.usage.tokens.total(),
            ledger::session_cost(r),
            ledger::run_cost_short(*run_cost_usd, *run_unknown_cost_sessions, *run_sessions),
            one_line(summary),
        ));
    }

    /// A permanent line, above the live block (which is drawn again below it, so that the
    /// sessions still running stay in view).
    fn say(&mut self, line: &str) {
        let redraw = self.shown > 0;
        self.clear_live();
        self.ui.status(line);
        if redraw {
            self.draw_live();
        }
    }
}

impl GrindObserver for Human {
    fn event(&mut self, e: &GrindEvent) {
        self.state.observe(e);
        match e {
            GrindEvent::RunStarted { .. } => self.say_run_started(e),
            GrindEvent::SessionStarted {
                seq,
                slot,
                prompt,
                rotation,
                timeout_seconds,
                ..
            } => {
                let limit = timeout_seconds
                    .map(|s| format!(", limit {}", duration(s as i64)))
                    .unwrap_or_default();
                if !self.live {
                    let slot = slot.map(|k| format!(" slot {k}")).unwrap_or_default();
                    self.say(&format!(
                        "session {seq:04}{slot} {prompt} (rotation {rotation}{limit})"
                    ));
                }
            }
            GrindEvent::Queued { .. } => {
                // Its live line says it waits to land.
                if self.live {
                    self.draw_live();
                }
            }
            GrindEvent::Progress { .. } => {
                // Sessions side by side each send theirs: one redraw of the block at most
                // every 200 ms shows them all.
                if !self.live
                    || self
                        .last_draw
                        .is_some_and(|t| t.elapsed() < Duration::from_millis(200))
                {
                    return;
                }
                self.last_draw = Some(Instant::now());
                self.draw_live();
            }
            GrindEvent::SessionFinished { .. } => self.say_finished(e),
            GrindEvent::Warning { message } => {
                let redraw = self.shown > 0;
                self.clear_live();
                self.ui.warn(&terminal_safe(message));
                if redraw {
                    self.draw_live();
                }
            }
            GrindEvent::Landing {
                seq,
                slot,
                landing,
                ms,
                not_landed,
                patch_saved,
            } => {
                let paint = |s, t: &str| self.ui_paint(s, t);
                let line = match not_landed {
                    Some(status) if landing.result == crate::store::LandingResult::Nothing => {
                        if *patch_saved {
                            self.patch_said.insert(*seq);
                        }
                        super::landing::not_landed_line(*seq, *slot, *status, *patch_saved)
                    }
                    _ => super::landing::landing_line(*seq, *slot, landing, *ms, paint),
                };
                self.say(&line);
            }
            GrindEvent::Waiting { until, reason } => {
                self.say(&format!("waiting until {} ({reason})", until.to_rfc3339()));
            }
            GrindEvent::RunFinished { summary } => {
                self.clear_live();
                self.closing_table(summary);
            }
        }
    }
}

impl Human {
    /// The lines that say a run starts (or resumes): with what agent and program, on what
    /// branch and worktree.
    fn say_run_started(&mut self, e: &GrindEvent) {
        let GrindEvent::RunStarted {
            run,
            branch,
            worktree,
            agent,
            program,
            program_from,
            resumed,
            ..
        } = e
        else {
            return;
        };
        let verb = if *resumed { "resuming" } else { "starting" };
        self.say(&format!("{verb} run {run} with the {agent} agent"));
        let from = match program_from.as_str() {
            "config" => "named in .pitboss/config.toml".to_string(),
            "default" => "the default".to_string(),
            flag => format!("from {flag}"),
        };
        self.say(&format!("  program  {} ({from})", terminal_safe(program)));
        self.say(&format!(
            "  branch   {branch}\n  worktree {}",
            worktree.display()
        ));
    }

    fn ui_paint(&self, style: Style, text: &str) -> String {
        if self.ui.color_stderr {
            Ui {
                color_stdout: true,
                ..self.ui
            }
            .paint(style, text)
        } else {
            text.to_string()
        }
    }

    fn closing_table(&self, s: &GrindSummary) {
        let [sessions, tokens, cost] = closing_totals(s);
        // Time and landings are this grind's own: said so when earlier grinds ran some sessions.
        let mine = if s.run_sessions != s.sessions {
            " (this grind)"
        } else {
            ""
        };
        let lines = [
            String::new(),
            format!("run {} {}: {}", s.run, s.status, s.stop.describe()),
            format!("  sessions  {sessions}"),
            format!("  tokens    {tokens}"),
            format!("  cost      {cost}"),
            format!("  wall time {}{mine}", duration(s.wall_seconds as i64)),
            match &s.landings {
                Some(c) => format!("  landings  {}{mine}", super::landing::landings_row(c)),
                None => String::new(),
            },
            format!("  run ref   {}", s.run_ref),
            format!("  branch    {}   (git log {})", s.branch, s.branch),
            format!(
                "  read it   git pitboss log {}   or   git log {}",
                s.run, s.run_ref
            ),
        ];
        // The first line is the blank one before the table; the landings row is empty in a
        // sequential run, and left out.
        for (i, l) in lines.into_iter().enumerate() {
            if i == 0 || !l.is_empty() {
                self.ui.status(&l);
            }
        }
        if let Some(wt) = &s.worktree_kept {
            self.ui.status(&format!(
                "  resume    {}   (worktree kept at {})",
                super::resume::resume_command(s),
                wt.display()
            ));
        }
    }
}

/// The closing table's sessions, tokens and cost: the run's totals, which the stop reason and
/// the session lines count, and this grind's part when earlier grinds ran some of them
/// (`6 (6 ok), 2 in this grind`).
fn closing_totals(s: &GrindSummary) -> [String; 3] {
    let by: Vec<String> = (s.run_by_status.iter())
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    let by = if by.is_empty() {
        "none".to_string()
    } else {
        by.join(", ")
    };
    let mut out = [
        format!("{} ({by})", s.run_sessions),
        ledger::tokens_with_parts(&s.run_token_parts),
        ledger::run_cost(s.run_cost_usd, s.run_unknown_cost_sessions, s.run_sessions),
    ];
    if s.run_sessions != s.sessions {
        let mine = [
            s.sessions.to_string(),
            s.tokens.to_string(),
            ledger::run_cost_short(s.cost_usd, s.unknown_cost_sessions, s.sessions),
        ];
        for (o, m) in out.iter_mut().zip(mine) {
            o.push_str(&format!(", {m} in this grind"));
        }
    }
    out
}

/// The events file (for `git pitboss watch`) beside the observer the flags chose: every event
/// goes to both, and a failure to write the file is said once, as a warning, and the run goes on.
pub(crate) struct WithEventsFile {
    pub file: crate::grind::events_file::EventsFile,
    pub inner: Box<dyn GrindObserver>,
}

impl GrindObserver for WithEventsFile {
    fn event(&mut self, e: &GrindEvent) {
        self.file.event(e);
        self.inner.event(e);
        if let Some((path, err)) = self.file.take_error() {
            self.inner.event(&GrindEvent::Warning {
                message: format!(
                    "cannot write the events file {}: {err} (`git pitboss watch` will not see this grind's live session)",
                    path.display()
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::grind::event::GrindEvent;
    use crate::grind::summary::{GrindSummary, LandingCounts, StopCause};
    use crate::store::{Landing, LandingResult, RunId, RunStatus};
    use serde_json::json;

    /// What `--json` prints of a parallel run: each session's slot, each landing, the counts.
    #[test]
    fn json_events_carry_the_slot_the_landing_and_the_counts() {
        let started = |slot| GrindEvent::SessionStarted {
            seq: 4,
            slot,
            prompt: "lint".into(),
            rotation: 1,
            started_at: chrono::DateTime::UNIX_EPOCH,
            timeout_seconds: None,
        };
        let v = serde_json::to_value(started(Some(2))).unwrap();
        assert_eq!(
            (&v["event"], &v["seq"], &v["slot"]),
            (&json!("session_started"), &json!(4), &json!(2))
        );
        // A sequential run's events are as they were: no slot key.
        let v = serde_json::to_value(started(None)).unwrap();
        assert!(v.get("slot").is_none(), "{v}");
        let progress = GrindEvent::Progress {
            seq: 4,
            slot: Some(2),
            elapsed_ms: 10,
            last_tool: None,
            text: None,
            tokens: None,
            cost_usd: None,
        };
        assert_eq!(serde_json::to_value(progress).unwrap()["slot"], json!(2));
        landing_event_in_full();
        summary_counts_landings_when_there_are_some();
    }

    fn landing_event_in_full() {
        let landing = GrindEvent::Landing {
            seq: 5,
            slot: 1,
            landing: Landing {
                result: LandingResult::Conflict,
                onto: "3f2a".into(),
                commits: Vec::new(),
                files: vec!["src/lib.rs".into()],
                collided_with: vec![4],
                drivers: Vec::new(),
            },
            ms: 12,
            not_landed: None,
            patch_saved: true,
        };
        assert_eq!(
            serde_json::to_value(landing).unwrap(),
            json!({"event": "landing", "seq": 5, "slot": 1, "ms": 12, "patch_saved": true, "landing": {
                "result": "conflict", "onto": "3f2a", "files": ["src/lib.rs"], "collided_with": [4]
            }})
        );
    }

    fn summary_counts_landings_when_there_are_some() {
        let mut summary = GrindSummary {
            run: RunId::parse("20260101T000000Z-abcd").unwrap(),
            run_ref: "refs/pitboss/grind/20260101T000000Z-abcd".into(),
            branch: "pitboss/x".into(),
            status: RunStatus::Finished,
            stop: StopCause::Exhausted,
            sessions: 2,
            by_status: Default::default(),
            tokens: 0,
            token_parts: Default::default(),
            cost_usd: 0.0,
            unknown_cost_sessions: 0,
            wall_seconds: 1,
            worktree_kept: None,
            resumed: false,
            landings: Some(LandingCounts {
                landed: 1,
                conflict: 1,
                verify_failed: 0,
                nothing: 0,
            }),
            run_sessions: 2,
            run_by_status: Default::default(),
            run_tokens: 0,
            run_token_parts: Default::default(),
            run_cost_usd: 0.0,
            run_unknown_cost_sessions: 0,
        };
        let finished = |s: &GrindSummary| {
            serde_json::to_value(GrindEvent::RunFinished {
                summary: Box::new(s.clone()),
            })
            .unwrap()
        };
        assert_eq!(
            finished(&summary)["summary"]["landings"],
            json!({"landed": 1, "conflict": 1, "verify_failed": 0, "nothing": 0})
        );
        summary.landings = None;
        assert!(finished(&summary)["summary"].get("landings").is_none());
    }
}
