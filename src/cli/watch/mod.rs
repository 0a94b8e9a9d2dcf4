//! `git pitboss watch [<run>]`: a terminal dashboard of a run, live while a grind runs it here
//! (from any terminal of the machine), static for a finished or fetched run.
//!
//! The loop sleeps in crossterm's `poll` (a key, or 250 ms), then asks the [`Source`] what
//! changed (a `stat` of the events file and a read of the run ref) and draws only when something
//! did, or once a second while a session runs (its elapsed time): a few frames a second at most,
//! no subprocess, near-zero CPU when the run is quiet. Quitting never touches the run; `s` and
//! `d` act on it as `git pitboss skip` and one Ctrl-C do ([`crate::watch::control`]).
//!
//! When stdout is not a terminal (or with `--once`), it prints one text snapshot of the same
//! screen and exits: a pipe or a log gets the picture, not escape codes.
//!
//! How the dashboard looks is in `draw` (the widget), `fit` and `cols` (fitting a pane).

pub(super) mod cols;
pub(super) mod draw;
pub(super) mod fit;

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use clap::Args;
use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::text::Line;

use self::draw::{Screen, table_capacity, to_text, transcript_lines, without_colors};
use crate::agent::readable::{Backend, entries};
use crate::cli::resolve::{open_run, with_store};
use crate::cli::{CliError, CliResult, Ctx, ExitStatus};
use crate::rundir::lock::RunLock;
use crate::store::{RunId, RunStore};
use crate::watch::{Dashboard, Source, control};

/// Watch a run: a live dashboard of a running grind (any terminal of this machine), or a
/// finished or fetched run. Keys: q quit (the run goes on), s skip the selected running
/// session, d drain (finish it and stop), ? help. When stdout is not a terminal, prints one
/// text snapshot.
#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    /// The run (default: the newest run a grind is running here).
    run: Option<String>,
    /// Print one text snapshot of the dashboard and exit (what a pipe always gets); its size is
    /// $COLUMNS x $LINES, else 120 x 40. Below 30 x 8, the least it can draw, it draws 30 x 8.
    #[arg(long)]
    once: bool,
}

/// How often the data is looked at.
const POLL: Duration = Duration::from_millis(250);

pub(crate) fn cmd_watch(ctx: &Ctx, args: WatchArgs) -> CliResult {
    with_store(ctx, |store| {
        let id = match &args.run {
            Some(r) => open_run(store, r)?.id,
            None => newest_running(store)?,
        };
        let (src, mut d) = Source::open(store, &id)?;
        d.grinding = RunLock::holder(store.repo().common_dir(), id.as_str()).is_some();
        if args.once || !std::io::stdout().is_terminal() {
            return snapshot(ctx, src, &d);
        }
        if !std::io::stdin().is_terminal() {
            return Err(CliError::user(anyhow::anyhow!(
                "watch reads keys from a terminal, and its input is not one"
            ))
            .hint("run it in a terminal, or `git pitboss watch --once` for a text snapshot"));
        }
        Tui::new(store, src, d).run(ctx)
    })
}

/// The newest run that a live grind holds here ([`control::newest_live`]).
fn newest_running(store: &RunStore<'_>) -> CliResult<RunId> {
    control::newest_live(store)?.ok_or_else(|| {
        CliError::user(anyhow::anyhow!(
            "no run is running here: no grind is going on in this repository"
        ))
        .hint("`git pitboss watch <run>` shows any run, finished or fetched; `git pitboss ls` lists them")
    })
}

fn snapshot(ctx: &Ctx, src: Source<'_>, d: &Dashboard) -> CliResult {
    let (w, h) = (
        snapshot_size("COLUMNS", 120, MIN_SIZE.0)?,
        snapshot_size("LINES", 40, MIN_SIZE.1)?,
    );
    let seq = d.seq_at(0);
    let lines = match seq {
        Some(seq) => read_transcript(&src, d, seq)?,
        None => Vec::new(),
    };
    let screen = Screen {
        d,
        selected: 0,
        top: 0,
        transcript: &lines,
        transcript_seq: seq,
        help: false,
        message: None,
        now: ctx.clock.now(),
    };
    use std::io::Write;
    std::io::stdout().write_all(to_text(&screen, w, h).as_bytes())?;
    Ok(ExitStatus::Success)
}

/// The least a snapshot draws (columns, lines): the sessions table's seq, prompt and status,
/// the per-prompt box's prompt and sessions, a row of each, the key line.
const MIN_SIZE: (u16, u16) = (30, 8);

/// `$COLUMNS` or `$LINES` for a snapshot: `default` when unset or empty, at least `min`.
fn snapshot_size(var: &str, default: u16, min: u16) -> CliResult<u16> {
    let value = std::env::var_os(var).unwrap_or_default();
    let text = value.to_string_lossy();
    if text.trim().is_empty() {
        return Ok(default);
    }
    match text.trim().parse::<u16>() {
        Ok(n) => Ok(n.max(min)),
        Err(_) => Err(CliError::user(anyhow::anyhow!(
            "{var} is {text:?}: watch --once needs a whole number of {}",
            if var == "LINES" { "lines" } else { "columns" }
        ))
        .hint(format!(
            "unset {var} for {default}, or set it to the size you want"
        ))),
    }
}

fn read_transcript(src: &Source<'_>, d: &Dashboard, seq: u64) -> CliResult<Vec<Line<'static>>> {
    let live = d.live.get(&seq).map(|l| l.slot);
    let bytes = src.transcript(seq, live)?;
    let backend = Backend::from_agent(d.agent.as_deref());
    Ok(match bytes {
        Some(b) => transcript_lines(&entries(backend, &b)),
        None => vec![Line::from("(no transcript)")],
    })
}

/// The interactive dashboard.
struct Tui<'s> {
    store: &'s RunStore<'s>,
    src: Source<'s>,
    d: Dashboard,
    /// The selected session (`None`: the top row, which follows the live session).
    selected: Option<u64>,
    top: usize,
    help: bool,
    message: Option<String>,
    drained: bool,
    /// The transcript shown, and what it was read from (seq, live file stamp).
    transcript: Vec<Line<'static>>,
    transcript_key: Option<(u64, Option<(u64, std::time::SystemTime)>)>,
}

/// Puts the terminal back however the dashboard ends (an error, a panic unwinding).
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
        let _ = crossterm::execute!(
            std::io::stdout(),
            crossterm::terminal::LeaveAlternateScreen,
            crossterm::cursor::Show
        );
    }
}

impl<'s> Tui<'s> {
    fn new(store: &'s RunStore<'s>, src: Source<'s>, d: Dashboard) -> Tui<'s> {
        Tui {
            store,
            src,
            d,
            selected: None,
            top: 0,
            help: false,
            message: None,
            drained: false,
            transcript: Vec::new(),
            transcript_key: None,
        }
    }

    fn run(mut self, ctx: &Ctx) -> CliResult {
        crossterm::terminal::enable_raw_mode()?;
        let _restore = Restore;
        crossterm::execute!(
            std::io::stdout(),
            crossterm::terminal::EnterAlternateScreen,
            crossterm::cursor::Hide
        )?;
        let mut term = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
        // `NO_COLOR`, `CLICOLOR=0`, a dumb terminal: bold and reverse only.
        let no_color = !ctx.ui.color_stdout;
        let mut dirty = true;
        let mut last_poll = Instant::now();
        let mut last_lock_check = Instant::now();
        let mut drawn_second = 0;
        loop {
            let now = ctx.clock.now();
            // A running session's elapsed time moves once a second.
            let second = now.timestamp();
            if !self.d.live.is_empty() && second != drawn_second {
                dirty = true;
            }
            if dirty {
                let height = term.size()?.height;
                self.refresh_transcript()?;
                let selected = self.selected_index();
                let cap = table_capacity(&self.d, height, now).max(1);
                if selected < self.top {
                    self.top = selected;
                } else if selected >= self.top + cap {
                    self.top = selected + 1 - cap;
                }
                let screen = Screen {
                    d: &self.d,
                    selected,
                    top: self.top,
                    transcript: &self.transcript,
                    transcript_seq: self.d.seq_at(selected),
                    help: self.help,
                    message: self.message.as_deref(),
                    now,
                };
                term.draw(|f| {
                    f.render_widget(&screen, f.area());
                    if no_color {
                        without_colors(f.buffer_mut());
                    }
                })?;
                dirty = false;
                drawn_second = second;
            }
            let wait = POLL.saturating_sub(last_poll.elapsed());
            if event::poll(wait)? {
                match event::read()? {
                    Event::Key(k) if k.kind == KeyEventKind::Press => {
                        if !self.key(k) {
                            return Ok(ExitStatus::Success);
                        }
                        dirty = true;
                    }
                    Event::Resize(..) => dirty = true,
                    _ => {}
                }
            }
            if last_poll.elapsed() >= POLL {
                last_poll = Instant::now();
                dirty |= self.src.poll(&mut self.d)?;
                if self.transcript_stale() {
                    dirty = true;
                }
                if last_lock_check.elapsed() >= Duration::from_secs(1) {
                    last_lock_check = Instant::now();
                    let g = RunLock::holder(self.store.repo().common_dir(), self.src.id().as_str())
                        .is_some();
                    if self.d.grinding && !g {
                        // What was asked of the grind (skip, drain) is over with it.
                        self.message = None;
                    }
                    dirty |= g != self.d.grinding;
                    self.d.grinding = g;
                }
            }
        }
    }

    fn selected_index(&self) -> usize {
        let Some(seq) = self.selected else {
            return 0;
        };
        self.d.index_of(seq).unwrap_or(0)
    }

    fn select(&mut self, index: usize) {
        let last = self.d.row_count().saturating_sub(1);
        let i = index.min(last);
        self.selected = if i == 0 { None } else { self.d.seq_at(i) };
    }

    /// Handles a key; `false` to quit.
    fn key(&mut self, k: KeyEvent) -> bool {
        if self.help {
            self.help = false;
            return true;
        }
        self.message = None;
        let i = self.selected_index();
        match k.code {
            KeyCode::Char('q') | KeyCode::Esc => return false,
            KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => return false,
            KeyCode::Char('?') | KeyCode::Char('h') => self.help = true,
            KeyCode::Down | KeyCode::Char('j') => self.select(i + 1),
            KeyCode::Up | KeyCode::Char('k') => self.select(i.saturating_sub(1)),
            KeyCode::PageDown => self.select(i + 10),
            KeyCode::PageUp => self.select(i.saturating_sub(10)),
            KeyCode::Home | KeyCode::Char('g') => self.select(0),
            KeyCode::End | KeyCode::Char('G') => self.select(usize::MAX),
            KeyCode::Char('s') => self.skip(),
            KeyCode::Char('d') => self.drain(),
            _ => {}
        }
        true
    }

    /// Skips the selected running session (or the only one running); the others go on.
    fn skip(&mut self) {
        let id = self.src.id().clone();
        let selected = self.d.seq_at(self.selected_index());
        self.message = Some(match self.d.skip_target(selected) {
            Ok(seq) => match control::skip(self.store.repo(), &id, seq) {
                Ok(()) => format!("asked the grind to skip session {seq:04}"),
                Err(e) => format!("cannot skip: {e}"),
            },
            Err(running) if running.is_empty() => "cannot skip: no session is running".into(),
            Err(running) => format!(
                "cannot skip: {} running; select one",
                crate::rundir::skip_target::sessions(&running)
            ),
        });
    }

    fn drain(&mut self) {
        if self.drained {
            self.message = Some("already asked: the run stops after this session".into());
            return;
        }
        let id = self.src.id().clone();
        self.message = Some(match control::drain(self.store.repo(), &id) {
            Ok(()) => {
                self.drained = true;
                "draining: the run stops after this session".into()
            }
            Err(e) => format!("cannot drain: {e}"),
        });
    }

    /// Whether the transcript shown is not the selected session's as it is now.
    fn transcript_stale(&self) -> bool {
        self.transcript_key != Some(self.transcript_wanted())
    }

    fn transcript_wanted(&self) -> (u64, Option<(u64, std::time::SystemTime)>) {
        let seq = self.d.seq_at(self.selected_index()).unwrap_or(0);
        let stamp = (self.d.live.get(&seq)).and_then(|l| self.src.live_stamp(seq, l.slot));
        (seq, stamp)
    }

    fn refresh_transcript(&mut self) -> CliResult<()> {
        if !self.transcript_stale() {
            return Ok(());
        }
        let key = self.transcript_wanted();
        self.transcript = if self.d.row_count() == 0 {
            vec![Line::from("(no session yet)")]
        } else {
            read_transcript(&self.src, &self.d, key.0)?
        };
        self.transcript_key = Some(key);
        Ok(())
    }
}
