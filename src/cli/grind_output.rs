//! What `grind` shows while it runs: on a terminal, one live line per session (seq, prompt,
//! `n of N`, elapsed, tokens so far when the agent reports them, last tool, cost against the
//! cost budget: [`super::grind_live`]) and a line per finished session, then a closing table; `--json`, one
//! JSON event per line on stdout; `--quiet`, nothing but errors. Human output goes to stderr.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use super::escape::{one_line, terminal_safe};
use super::ledger;
use super::resolve::duration;
use super::ui::{Style, Ui};
use crate::cli::Ctx;
use crate::grind::run::{GrindEvent, GrindObserver, GrindSummary};

/// The observer for these flags.
pub(crate) fn observer(ctx: &Ctx, json: bool, quiet: bool) -> Box<dyn GrindObserver> {
    if json {
        Box::new(JsonLines {
            last_tool: None,
            last_tokens: None,
        })
    } else if quiet {
        Box::new(Quiet)
    } else {
        Box::new(Human {
            ui: ctx.ui,
            live: std::io::stderr().is_terminal(),
            last_draw: None,
            line_shown: false,
            state: Default::default(),
        })
    }
}

struct Quiet;

impl GrindObserver for Quiet {
    fn event(&mut self, _: &GrindEvent) {}
}

/// One JSON object per event, on stdout; progress only when the agent's activity changes.
struct JsonLines {
    last_tool: Option<String>,
    last_tokens: Option<u64>,
}

impl GrindObserver for JsonLines {
    fn event(&mut self, e: &GrindEvent) {
        if let GrindEvent::Progress {
            last_tool,
            text,
            tokens,
            ..
        } = e
        {
            if text.is_none() && *last_tool == self.last_tool && *tokens == self.last_tokens {
                return;
            }
            self.last_tool.clone_from(last_tool);
            self.last_tokens = *tokens;
        }
        let mut out = std::io::stdout().lock();
        if let Ok(line) = serde_json::to_string(e) {
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }
}

struct Human {
    ui: Ui,
    /// Redraw a live line (stderr is a terminal).
    live: bool,
    last_draw: Option<Instant>,
    line_shown: bool,
    /// What the live line shows of the run.
    state: super::grind_live::LiveState,
}

impl Human {
    fn clear_live(&mut self) {
        if self.line_shown {
            // Never `eprint!`: it panics when the terminal is gone (SIGHUP), mid-run.
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
            self.line_shown = false;
        }
    }

    fn say(&mut self, line: &str) {
        self.clear_live();
        self.ui.status(line);
    }
}

impl GrindObserver for Human {
    fn event(&mut self, e: &GrindEvent) {
        self.state.observe(e);
        match e {
            GrindEvent::RunStarted {
                run,
                branch,
                worktree,
                agent,
                program,
                program_from,
                resumed,
                ..
            } => {
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
            GrindEvent::SessionStarted {
                seq,
                prompt,
                rotation,
                timeout_seconds,
                ..
            } => {
                let limit = timeout_seconds
                    .map(|s| format!(", limit {}", duration(s as i64)))
                    .unwrap_or_default();
                if !self.live {
                    self.say(&format!(
                        "session {seq:04} {prompt} (rotation {rotation}{limit})"
                    ));
                }
            }
            GrindEvent::Progress {
                seq,
                elapsed_ms,
                last_tool,
                tokens,
                ..
            } => {
                if !self.live
                    || self
                        .last_draw
                        .is_some_and(|t| t.elapsed() < Duration::from_millis(200))
                {
                    return;
                }
                self.last_draw = Some(Instant::now());
                let line = self
                    .state
                    .line(*seq, *elapsed_ms, *tokens, last_tool.as_deref());
                let line = match crossterm::terminal::size() {
                    Ok((columns, _)) => super::grind_live::fit_width(&line, columns),
                    Err(_) => line,
                };
                let _ = write!(std::io::stderr(), "\r\x1b[2K{line}");
                let _ = std::io::stderr().flush();
                self.line_shown = true;
            }
            GrindEvent::SessionFinished {
                record: r,
                patch_saved,
                run_cost_usd,
                run_sessions,
                run_unknown_cost_sessions,
            } => {
                let status = self.ui_paint(
                    super::log::style(r.status),
                    &format!("{:<7}", r.status.as_str()),
                );
                let summary = r
                    .summary
                    .as_deref()
                    .and_then(|s| s.lines().find(|l| !l.trim().is_empty()))
                    .unwrap_or("");
                let patch = if *patch_saved {
                    " (work saved as a patch)"
                } else {
                    ""
                };
                self.say(&format!(
                    "{:04} {status} {:<16} {:>6} {:>8} tok {:>9} (run {})  {}{patch}",
                    r.seq,
                    one_line(&r.prompt),
                    duration(r.duration_secs()),
                    r.usage.tokens.total(),
                    ledger::session_cost(r),
                    ledger::run_cost_short(
                        *run_cost_usd,
                        *run_unknown_cost_sessions,
                        *run_sessions
                    ),
                    one_line(summary),
                ));
            }
            GrindEvent::Warning { message } => {
                self.clear_live();
                self.ui.warn(&terminal_safe(message));
            }
            GrindEvent::Landing {
                seq, slot, landing, ..
            } => {
                self.say(&format!(
                    "{seq:04} slot {slot}  {}  onto {}",
                    landing.result.as_str(),
                    &landing.onto[..landing.onto.len().min(12)]
                ));
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
        let by: Vec<String> = s
            .by_status
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        let by = if by.is_empty() {
            "none".to_string()
        } else {
            by.join(", ")
        };
        let lines = [
            String::new(),
            format!("run {} {}: {}", s.run, s.status, s.stop.describe()),
            format!("  sessions  {} ({by})", s.sessions),
            format!("  tokens    {}", ledger::tokens_with_parts(&s.token_parts)),
            format!(
                "  cost      {}",
                ledger::run_cost(s.cost_usd, s.unknown_cost_sessions, s.sessions)
            ),
            format!("  wall time {}", duration(s.wall_seconds as i64)),
            format!("  run ref   {}", s.run_ref),
            format!("  branch    {}   (git log {})", s.branch, s.branch),
            format!(
                "  read it   git pitboss log {}   or   git log {}",
                s.run, s.run_ref
            ),
        ];
        for l in lines {
            self.ui.status(&l);
        }
        if let Some(wt) = &s.worktree_kept {
            self.ui.status(&format!(
                "  resume    {}   (worktree kept at {})",
                super::grind_resume::resume_command(s),
                wt.display()
            ));
        }
    }
}

/// The events file (for `git pitboss watch`) beside the observer the flags chose: every event
/// goes to both, and a failure to write the file is said once, as a warning, and the run goes on.
pub(crate) struct WithEventsFile {
    pub file: crate::watch::EventsFile,
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
