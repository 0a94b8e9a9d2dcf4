//! The one place where an [`Invocation`] becomes a process (house style 11).
//!
//! `supervise` starts the agent in its own process group, streams its stdout and stderr line
//! by line to an `OutputHandler` on the caller's thread, and ends the *whole group* when it
//! must: on timeout, abort or skip, when the agent lingers after reporting its result, and when
//! its main process exits leaving descendants behind. Ending is always TERM to the group, a grace
//! period, then KILL to the group, so no descendant outlives its session. What left the group
//! (`setsid`) is ended with the session's cgroup where one can be made (`cgroup.rs`), else found
//! by the subreaper (`reaper.rs`) and told apart by the record of `ancestry.rs`.
//!
//! Memory stays bounded whatever the agent prints: readers cut lines at `max_line` bytes (a
//! megabyte-long line without a newline arrives as fragments) and hand them over through a
//! bounded channel, so a fast writer waits for us instead of piling up in memory.

mod ancestry;
mod cgroup;
mod lines;
mod reaper;

use std::fs::File;
use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::invocation::{Invocation, StdinFrom};
use super::observer::{AgentEvent, Controls, StopReason, TICK};
use super::outcome::SessionEnd;
pub(crate) use cgroup::turn_off as no_cgroups;
use lines::{MIN_LINE, Msg, spawn_reader};
pub(crate) use reaper::{become_subreaper, end_strays};

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Timing and size limits of one supervised process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessLimits {
    /// Wall-clock limit of the whole session; `None` for no limit.
    pub timeout: Option<Duration>,
    /// Between TERM and KILL to the process group.
    pub grace: Duration,
    /// How long an agent may keep running after it reported its final result.
    pub result_grace: Duration,
    /// Longest line handed over whole; longer ones arrive in fragments of at most this size.
    pub max_line: usize,
    /// How long to keep reading after the group is gone, for a process that left the group
    /// (`setsid`) and still holds our pipes. After that we stop reading and say so.
    pub drain: Duration,
}

impl Default for ProcessLimits {
    fn default() -> Self {
        ProcessLimits {
            timeout: None,
            grace: Duration::from_secs(5),
            result_grace: Duration::from_secs(10),
            max_line: 1024 * 1024,
            drain: Duration::from_secs(2),
        }
    }
}

/// Receives the output of a supervised process, on the supervising thread.
pub(crate) trait OutputHandler {
    /// One line without its newline; `complete` is false for a fragment of a longer line.
    /// Returns true once the agent's final result has been seen.
    fn line(&mut self, stream: Stream, line: &[u8], complete: bool) -> bool;
    /// Called about every [`TICK`].
    fn tick(&mut self, elapsed: Duration);
    /// Lifecycle events (spawned, stopping, killed, warnings).
    fn event(&mut self, event: AgentEvent);
}

/// How a supervised process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProcessEnd {
    pub end: SessionEnd,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub killed: bool,
    pub duration: Duration,
    pub warnings: Vec<String>,
}

/// How often the supervisor checks the process, the clock and the controls.
const POLL: Duration = Duration::from_millis(25);
/// Messages in flight between readers and the supervisor (each at most `max_line` bytes).
const CHANNEL: usize = 8;

fn command(inv: &Invocation) -> io::Result<Command> {
    let mut cmd = Command::new(&inv.program);
    cmd.args(&inv.args).current_dir(&inv.cwd);
    for name in &inv.env_remove {
        cmd.env_remove(name);
    }
    cmd.envs(&inv.env_set);
    cmd.stdin(match &inv.stdin {
        StdinFrom::Null => Stdio::null(),
        StdinFrom::File(p) => Stdio::from(File::open(p)?),
    });
    Ok(cmd)
}

/// Runs a short helper command to completion and captures its output (the demo agent's own
/// `git` calls). Not for agents: no group, no timeout.
pub(crate) fn run_to_completion(inv: &Invocation) -> io::Result<std::process::Output> {
    command(inv)?.output()
}

/// Runs a short probe (`<agent> --version`) and captures its output; `Ok(None)` when it did
/// not finish within `timeout` (it is then killed). Not for agents: no group, small output only.
pub(crate) fn run_probe(
    inv: &Invocation,
    timeout: Duration,
) -> io::Result<Option<std::process::Output>> {
    let mut child = command(inv)?
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let deadline = Instant::now() + timeout;
    loop {
        if child.try_wait()?.is_some() {
            return child.wait_with_output().map(Some);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(POLL);
    }
}

/// Starts `inv` in its own process group and supervises it until it and its group are gone.
/// `Err` only when it cannot be started (the kind tells a missing program) or the OS fails us.
pub(crate) fn supervise(
    inv: &Invocation,
    limits: &ProcessLimits,
    controls: &Controls,
    skip_file: Option<&Path>,
    handler: &mut dyn OutputHandler,
) -> io::Result<ProcessEnd> {
    let tag = inv
        .env_set
        .get("PITBOSS_SEQ")
        .map(|n| format!("PITBOSS_SEQ={n}"));
    // Without a cgroup (none can be made here), the subreaper's scans stand in.
    let mut cgroup = cgroup::Cgroup::create().ok().flatten();
    let starting = reaper::starting();
    let mut child = match spawn(inv, cgroup.as_ref()) {
        Err(_) if cgroup.is_some() => {
            // The child could not enter it (its write failed before exec: nothing ran).
            cgroup::turn_off();
            cgroup = None;
            spawn(inv, None)?
        }
        spawned => spawned?,
    };
    tracing::debug!(
        target: "pitboss::spawn",
        pid = child.id(),
        tag = %tag.as_deref().unwrap_or("-"),
        cgroup = cgroup.is_some(),
        program = %inv.program.display(),
        "agent started"
    );
    let owner = reaper::register(child.id() as i32, tag);
    drop(starting);
    let _registered = Registered(child.id() as i32, owner);
    let start = Instant::now();
    handler.event(AgentEvent::Spawned {
        pid: child.id(),
        command: inv.display(),
    });
    let pgid = Pid::from_raw(child.id() as i32);
    let (tx, rx) = sync_channel(CHANNEL);
    let max_line = limits.max_line.max(MIN_LINE);
    let readers =
        spawn_reader(child.stdout.take(), Stream::Stdout, max_line, tx.clone()).and_then(|out| {
            Ok([
                out,
                spawn_reader(child.stderr.take(), Stream::Stderr, max_line, tx)?,
            ])
        });
    let readers = match readers {
        Ok(r) => r,
        Err(e) => {
            // Without readers the agent would block on a full pipe: do not leave it behind.
            let _ = killpg(pgid, Signal::SIGKILL);
            let _ = child.wait();
            return Err(e);
        }
    };
    Supervisor {
        pgid,
        start,
        limits,
        controls,
        skip_file,
        stop: None,
        killed: false,
        status: None,
        group_gone_at: None,
        warnings: Vec::new(),
        owner,
        cgroup,
    }
    .run(&mut child, &rx, readers, handler)
}

/// `inv` started in a process group of its own (and in `cgroup`), its output piped.
fn spawn(inv: &Invocation, cgroup: Option<&cgroup::Cgroup>) -> io::Result<Child> {
    let mut cmd = command(inv)?;
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(cg) = cgroup {
        cg.place(&mut cmd)?;
    }
    cmd.spawn()
}

/// Takes a supervised child out of the reaper's registry however its supervision ends.
struct Registered(i32, u64);

impl Drop for Registered {
    fn drop(&mut self) {
        reaper::unregister(self.0);
        ancestry::end(self.1);
    }
}

struct Supervisor<'a> {
    pgid: Pid,
    start: Instant,
    limits: &'a ProcessLimits,
    controls: &'a Controls,
    skip_file: Option<&'a Path>,
    stop: Option<(StopReason, Instant)>,
    killed: bool,
    status: Option<ExitStatus>,
    group_gone_at: Option<Instant>,
    warnings: Vec<String>,
    /// The owner id of what this process starts, to tell its orphans from other sessions'.
    owner: u64,
    /// The cgroup the process and all it starts are in, where one could be made.
    cgroup: Option<cgroup::Cgroup>,
}

impl Supervisor<'_> {
    fn run(
        mut self,
        child: &mut Child,
        rx: &Receiver<Msg>,
        readers: [JoinHandle<()>; 2],
        handler: &mut dyn OutputHandler,
    ) -> io::Result<ProcessEnd> {
        let mut open = 2;
        let mut result_at: Option<Instant> = None;
        let mut last_check: Option<Instant> = None;
        let mut next_tick = self.start + TICK;
        let mut pipes_closed_at: Option<Instant> = None;
        loop {
            let received = if open > 0 {
                rx.recv_timeout(POLL)
            } else {
                // Both pipes are closed (the agent may still run): nothing to wait for but time.
                // NB: a process closes its pipes as it exits, a moment before it can be reaped;
                // poll finely for a short while so a quick agent does not cost a whole POLL.
                let closed = *pipes_closed_at.get_or_insert_with(Instant::now);
                let nap = if closed.elapsed() < Duration::from_millis(100) {
                    Duration::from_millis(1)
                } else {
                    POLL
                };
                std::thread::sleep(nap);
                Err(RecvTimeoutError::Timeout)
            };
            match received {
                Ok(Msg::Line(stream, bytes, complete)) => {
                    if handler.line(stream, &bytes, complete) && result_at.is_none() {
                        result_at = Some(Instant::now());
                    }
                }
                Ok(Msg::Eof) => open -= 1,
                Ok(Msg::Warning(w)) => self.warn(handler, w),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => open = 0,
            }
            let now = Instant::now();
            // Under a flood of output, look at the process only every POLL, not every line.
            if open > 0 && last_check.is_some_and(|t| now < t + POLL) {
                continue;
            }
            last_check = Some(now);
            if now >= next_tick {
                handler.tick(now - self.start);
                next_tick = now + TICK;
            }
            if self.status.is_none() {
                self.status = child.try_wait()?;
                if self.status.is_some() {
                    reaper::unregister(self.pgid.as_raw());
                }
            }
            self.step(now, result_at, handler);
            if self.status.is_some() && self.group_gone_at.is_none() && !group_alive(self.pgid) {
                self.group_gone_at = Some(now);
                if open > 0 {
                    // Someone outside the group holds our pipes: a descendant that left it.
                    self.end_adopted(handler);
                }
            }
            if let Some(gone) = self.group_gone_at {
                if open == 0 {
                    break;
                }
                if now.duration_since(gone) >= self.limits.drain {
                    // NB: a descendant that called setsid() left the group, so our signals do
                    // not reach it, and it still holds our pipes. We cannot end it; we stop
                    // waiting for it. The reader threads end when it closes the pipes.
                    self.warn(
                        handler,
                        "a process outside the agent's process group kept its output open; \
                         stopped reading"
                            .to_string(),
                    );
                    break;
                }
            }
        }
        self.end_adopted(handler);
        if open == 0 {
            for r in readers {
                let _ = r.join();
            }
        }
        Ok(self.finish())
    }

    /// Decides whether to start or escalate ending the group.
    fn step(&mut self, now: Instant, result_at: Option<Instant>, handler: &mut dyn OutputHandler) {
        if self.cgroup.is_none() && self.status.is_none() {
            reaper::note(); // who started what, while it is still attached
        }
        match self.stop {
            None => {
                // A session past its cost cap ends the way a session past its time limit does.
                let timed_out = self.limits.timeout.is_some_and(|t| now - self.start >= t)
                    || self.controls.cut_requested();
                let reason = if self.status.is_some() {
                    // The agent finished by itself; only leftovers in its group need ending.
                    group_alive(self.pgid).then_some(StopReason::LeftoverDescendants)
                } else if self.controls.abort_requested() {
                    Some(StopReason::Aborted)
                } else if self.controls.skip_requested() || self.skip_file.is_some_and(Path::exists)
                {
                    Some(StopReason::Skipped)
                } else if let Some(t) = result_at {
                    // The work is done: a timeout now only cuts the grace short.
                    let late = now - t >= self.limits.result_grace || timed_out;
                    late.then_some(StopReason::LingeredAfterResult)
                } else if timed_out {
                    Some(StopReason::TimedOut)
                } else {
                    None
                };
                if let Some(reason) = reason {
                    handler.event(AgentEvent::Stopping { reason });
                    self.signal(handler, Signal::SIGTERM);
                    self.stop = Some((reason, now));
                }
            }
            Some((_, since)) => {
                let still_running = self.status.is_none() || group_alive(self.pgid);
                if !self.killed && still_running && now - since >= self.limits.grace {
                    handler.event(AgentEvent::Killed);
                    self.signal(handler, Signal::SIGKILL);
                    self.killed = true;
                }
            }
        }
    }

    fn signal(&mut self, handler: &mut dyn OutputHandler, sig: Signal) {
        match killpg(self.pgid, sig) {
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(e) => self.warn(
                handler,
                format!("cannot send {sig} to the agent's group: {e}"),
            ),
        }
    }

    /// Ends the processes that left the agent's group and were re-parented to us (only when
    /// grind made itself their subreaper): no descendant outlives its session.
    fn end_adopted(&mut self, handler: &mut dyn OutputHandler) {
        let (n, left) = match &self.cgroup {
            Some(cg) => {
                let ended = cg.end(self.limits.grace);
                reaper::reap_where(|pid| cg.holds(pid));
                (ended.signalled, ended.left)
            }
            // NB: the agent's own group is not a leftover: a child of its shell that TERM
            // ended after the shell was re-parented to us, a zombie of that group (issue 22:
            // every timeout and skip was warned about one process).
            None => (
                reaper::end_adopted(Some(self.pgid), Some(self.owner), self.limits.grace),
                0,
            ),
        };
        if left > 0 {
            self.warn(
                handler,
                format!("{left} process(es) the agent left running could not be ended (KILL)"),
            );
        }
        if n > 0 {
            self.warn(
                handler,
                format!(
                    "ended {n} process(es) the agent left running outside its process group \
                     (setsid)"
                ),
            );
        }
    }

    fn warn(&mut self, handler: &mut dyn OutputHandler, message: String) {
        handler.event(AgentEvent::Warning {
            message: message.clone(),
        });
        self.warnings.push(message);
    }

    fn finish(self) -> ProcessEnd {
        let status = self
            .status
            .expect("the loop ends only after the agent exited");
        let by_itself = match (status.code(), status.signal()) {
            (Some(code), _) => SessionEnd::Exited { code },
            (None, Some(signal)) => SessionEnd::Signalled { signal },
            (None, None) => SessionEnd::Exited { code: -1 },
        };
        let end = match self.stop.map(|(r, _)| r) {
            Some(StopReason::TimedOut) => SessionEnd::TimedOut,
            Some(StopReason::Aborted) => SessionEnd::Aborted,
            Some(StopReason::Skipped) => SessionEnd::Skipped,
            Some(StopReason::LingeredAfterResult) => SessionEnd::EndedAfterResult,
            Some(StopReason::LeftoverDescendants) | None => by_itself,
        };
        tracing::debug!(target: "pitboss::spawn", ?end, killed = self.killed, ms = %format_args!("{:.1}", self.start.elapsed().as_secs_f64() * 1000.0), "agent ended");
        ProcessEnd {
            end,
            exit_code: status.code(),
            signal: status.signal(),
            killed: self.killed,
            duration: self.start.elapsed(),
            warnings: self.warnings,
        }
    }
}

/// True while a live (not zombie) process is left in the group.
///
/// NB: `killpg(pgid, 0)` also succeeds for a group of zombies, and orphaned descendants stay
/// zombies until init reaps them, which in containers can take seconds (or forever, with an init
/// that does not reap). So on Linux we look at the members' states in `/proc`. The leader has
/// been reaped when we ask, but a group id is not reused while the group has members, and Linux
/// hands out pids in sequence, so a stranger's group answering here is not a real risk.
fn group_alive(pgid: Pid) -> bool {
    if matches!(killpg(pgid, None), Err(Errno::ESRCH)) {
        return false;
    }
    live_members_in_proc(pgid).unwrap_or(true)
}

/// Whether `/proc` shows a non-zombie process in group `pgid`; `None` without a usable `/proc`.
fn live_members_in_proc(pgid: Pid) -> Option<bool> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let want = pgid.as_raw().to_string();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue; // exited while we looked
        };
        // `pid (comm) state ppid pgrp …`; comm may contain anything, so split at the last ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or("");
        let pgrp = fields.nth(1).unwrap_or("");
        if pgrp == want && state != "Z" && state != "X" {
            return Some(true);
        }
    }
    Some(false)
}

/// Ends the process group of an agent that a previous grind started and then lost (that grind
/// was killed): TERM, a short grace, KILL. Only when a live member of the group still works
/// inside `worktree` (its `/proc/<pid>/cwd`), so a reused process id never gets a stranger
/// killed. Returns whether it signalled anything.
pub(crate) fn end_leftover_group(pgid: u32, worktree: &Path) -> bool {
    let Ok(raw) = i32::try_from(pgid) else {
        return false;
    };
    let pg = Pid::from_raw(raw);
    let canon = std::fs::canonicalize(worktree).unwrap_or_else(|_| worktree.to_path_buf());
    let ours = std::fs::read_dir("/proc").ok().is_some_and(|rd| {
        rd.flatten().any(|entry| {
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let Some((_, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let mut f = rest.split_whitespace();
            let state = f.next().unwrap_or("");
            let pgrp = f.nth(1).unwrap_or("");
            pgrp == raw.to_string()
                && state != "Z"
                && std::fs::read_link(entry.path().join("cwd"))
                    .is_ok_and(|cwd| cwd.starts_with(&canon))
        })
    });
    if !ours {
        return false;
    }
    let _ = killpg(pg, Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline && group_alive(pg) {
        std::thread::sleep(POLL);
    }
    if group_alive(pg) {
        let _ = killpg(pg, Signal::SIGKILL);
    }
    true
}
