//! The one dispatcher of a run's sessions, for k = 1..n slots ([`crate::plan::Plan::slots`]
//! says how many; it is the one answer to "is this run parallel?"). Each session is dispatched,
//! runs its agent, settles, and lands through the same stages (`session/`), one landing at a
//! time, oldest dispatch first; the run stops by one stop order ([`Dispatcher::halt_now`]).
//!
//! **One slot** (a sequential run). The session works in the run's own worktree, on the run
//! branch itself, on the grind's own thread: its work is on the branch as soon as the agent
//! commits, so its landing has nothing to replay, only its verify command to run. The git
//! settings and the run ref are checked as its agent ends, and a change is its alone.
//!
//! **k slots** (`max_parallel` > 1 and a prompt with `parallel_safe: true`). Up to k sessions
//! at once, each in a slot worktree of its own on a slot branch, landed on the run branch by
//! the queue, which proves every landing. The grind's own thread is the dispatcher and the
//! landing queue; each session's agent runs in a thread of its own (a scoped thread with its
//! own repository handle, since git2 does not share one across threads), which sends its
//! progress back as events and, once its agent is gone and its work is settled on its slot
//! branch, the settled session.
//!
//! - **Dispatch.** A session is dispatched when a slot is free, no budget is spent (counting
//!   the usage of the sessions still running, and iterations at dispatch, so `--max-iterations
//!   5` dispatches exactly 5), the drain file and the user's Ctrl-C are absent, and the
//!   scheduler has a prompt. Only prompts with `parallel_safe: true` run beside others: any
//!   other waits until every slot is idle and then runs alone. Its seq is reserved then.
//! - **Landing queue.** Sessions land one at a time in dispatch order, oldest first, as soon as
//!   the oldest is settled: no session waits behind a younger one, and records are appended in
//!   seq order, so seqs stay dense. What a landing does is in `session/landing.rs`. The queue
//!   lands only onto the tip it last left: a run branch moved by anyone else is put back and
//!   the move charged to a session (`session/guard.rs`).
//! - **Budgets.** One cost and token fuse ([`Fuse`]) across every live session.
//! - **Control.** Ctrl-C once (or a drain): no new dispatch, running sessions finish and land.
//!   Twice, SIGTERM or SIGHUP: every running session is aborted and recorded with its
//!   transcript and patch. `git pitboss skip <run> <seq>` ends one session (its slot's skip
//!   file). A fault of git or the store stops dispatch, cuts every running session, records
//!   them, then ends the grind with the error.
//!
//! Parallel sessions run in slots 1 to k. Slot 0, the run's own worktree, stays on the run
//! branch and runs no session: while the run branch is checked out there, git refuses to check
//! it out anywhere else, so nobody starts working on a branch the queue moves under them (`git
//! checkout pitboss/<id>` says where it is checked out, as in a sequential run). Its files
//! follow the landings only at the grind's end, when it is reset to the tip.

mod halt;
mod holds;
pub(super) mod slots;
mod threads;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;

use chrono::{DateTime, Utc};

use threads::Msg;

use super::context::{Ctx, Progress};
use super::error::GrindError;
use super::event::{GrindEvent, GrindObserver};
use super::fuse::Fuse;
use super::session::{self, Dispatch, Held, LandedEntry, Parallel, Settled};
use super::slot::Slot;
use super::summary::StopCause;
use crate::git::{Oid, SettingsSnapshot};
use crate::plan::scheduler::Pick;
use crate::rundir::RunDir;

/// A dispatched session not yet recorded.
struct Live {
    slot: u32,
    /// It runs alone (its prompt is not `parallel_safe`).
    alone: bool,
    /// How many sessions had landed when it was dispatched (those after it may collide).
    landed_before: usize,
    controls: crate::agent::Controls,
    settled: Option<Result<Settled, GrindError>>,
    /// What it is charged with, found (and undone) as its agent ended or while it ran: a move
    /// of the run branch, a change of the git settings (in words).
    charges: Vec<String>,
}

/// Why dispatch stopped, before it is turned into the run's [`StopCause`].
enum Halt {
    Cause(StopCause),
    /// The user's Ctrl-C or signal (drained or aborted is told from the records at the end).
    User,
}

/// Runs the run's sessions, k at a time, until something stops it. `slot0` is the run's own
/// worktree: with one slot the sessions work there; with k it holds the run branch and is made
/// clean at the tip at the end. It comes back for the run's end.
///
/// Each turn of the loop: land what is settled, oldest first; dispatch while a slot is free;
/// when nothing runs, stop (or wait out a usage limit); else collect the sessions' news.
pub(super) fn run(
    ctx: &Ctx,
    slot0: Slot,
    progress: &mut Progress,
    first_seq: u64,
    obs: &mut dyn GrindObserver,
) -> Result<(StopCause, Slot), GrindError> {
    let (mut d, home) = Dispatcher::start(ctx, progress, slot0)?;
    let shared = ctx.shared();
    let git_dir = ctx.repo.git_dir().to_path_buf();
    let (tx, rx) = mpsc::channel::<Msg>();
    let result = std::thread::scope(|scope| {
        loop {
            d.land_ready(progress, obs);
            let home = d.dispatch(progress, obs, &mut |slot, s| {
                threads::spawn_session(scope, &tx, &shared, &git_dir, slot, s)
            });
            if let Some((slot, s)) = home {
                // The run branch's session, on this thread: its events are live.
                let seq = s.seq();
                let settled = session::run_home(ctx, slot, s, obs);
                d.settled(seq, settled, obs);
            }
            if d.live.is_empty() {
                match d.stop_when_idle(progress, first_seq, obs) {
                    Some(end) => return end,
                    None => continue,
                }
            }
            if d.live.values().any(|l| l.settled.is_none()) {
                d.collect(&rx, obs);
            }
        }
    });
    progress.in_flight = None;
    match home {
        Home::Slots { slot0, tip_file } => {
            tidy_home(ctx, &slot0, progress, &tip_file, obs)?;
            Ok((result?, slot0))
        }
        Home::Sessions => {
            // NB: a fault ends the grind with its error and nothing more is done here (the
            // slot may have gone with the session that failed).
            let stop = result?;
            let slot0 = match d.free.remove(&0) {
                Some(slot) => slot,
                None => Slot::open(ctx.repo, &ctx.run, &ctx.branch)?,
            };
            Ok((stop, slot0))
        }
    }
}

/// What the run's own worktree (slot 0) does in this run.
enum Home {
    /// It is the one slot: sessions work there, on the run branch (it is among the free slots).
    Sessions,
    /// It holds the run branch while k slots work; `tip_file` notes the tip its files stay at.
    Slots { slot0: Slot, tip_file: PathBuf },
}

/// Slot 0's branch moved with every landing while its files stayed: makes them the tip's
/// again, so a sequential grind or `--resume` finds it clean. Whatever someone changed there
/// by hand meanwhile (against the files it had, noted in `home`, the `slot-0-tip` file) is
/// saved first; then `home` goes.
fn tidy_home(
    ctx: &Ctx,
    slot0: &Slot,
    progress: &Progress,
    home: &Path,
    obs: &mut dyn GrindObserver,
) -> Result<(), GrindError> {
    if slot0.path.join(".git").exists() {
        super::leftovers::save_leftovers(ctx, slot0, progress.last_seq, obs)?;
    }
    let _ = std::fs::remove_file(home);
    Ok(())
}

/// Where a parallel grind notes the tip slot 0's files were made from:
/// `<common>/pitboss/runs/<id>/slot-0-tip`.
pub(super) fn home_tip_file(ctx: &Ctx) -> std::path::PathBuf {
    RunDir::new(ctx.repo.common_dir(), &ctx.run).slot0_tip()
}

/// The dispatcher's state.
struct Dispatcher<'c, 'a> {
    ctx: &'c Ctx<'a>,
    k: u32,
    fuse: Arc<Fuse>,
    /// Idle slots, opened (a slot not in here and not live is opened when next needed).
    free: BTreeMap<u32, Slot>,
    /// Dispatched sessions not yet recorded, by seq (the queue's order).
    live: BTreeMap<u64, Live>,
    /// Every landing of this grind, in order.
    landed: Vec<LandedEntry>,
    /// The run branch's tip as the queue last left it: the only tip it lands onto.
    tip: Oid,
    /// The git directory's hooks and config as the run found them (`git/settings_guard.rs`);
    /// with one slot each session snapshots them itself, as its agent starts.
    settings: Option<SettingsSnapshot>,
    halt: Option<Halt>,
    /// A fault of git or the store: no new dispatch; the grind ends with it.
    fatal: Option<GrindError>,
    /// A session hit a usage limit: no new dispatch; the grind waits once the slots are idle.
    rate_limit: Option<Option<DateTime<Utc>>>,
    drained_said: bool,
    abort_said: bool,
    /// The seq the next dispatch reserves, at least.
    next_seq: u64,
}

impl<'c, 'a> Dispatcher<'c, 'a> {
    /// The dispatcher of a run about to dispatch its sessions, with what slot 0 does in it.
    /// With k slots, the file that notes the tip slot 0's files stay at (see
    /// [`home_tip_file`]) is written now.
    fn start(
        ctx: &'c Ctx<'a>,
        progress: &mut Progress,
        slot0: Slot,
    ) -> Result<(Self, Home), GrindError> {
        let k = ctx.plan.slots();
        let fuse = Arc::new(Fuse::new(
            &ctx.budgets.limits,
            progress.spent.cost_usd,
            progress.spent.tokens,
        ));
        let tip = ctx
            .repo
            .branch_tip(&ctx.branch)?
            .ok_or_else(|| GrindError::BranchGone {
                branch: ctx.branch.to_string(),
            })?;
        let mut free = BTreeMap::new();
        let (home, settings) = if k == 1 {
            free.insert(0, slot0);
            (Home::Sessions, None)
        } else {
            // Kept in `state.json` (see `Progress::in_flight`); a run of one slot leaves it out.
            progress.in_flight = Some(Vec::new());
            // Slot 0's files stay at the tip the grind starts from while its branch moves: say
            // which, so that a `--resume` after a crash tells them from work done there by hand.
            let tip_file = home_tip_file(ctx);
            std::fs::write(&tip_file, tip.to_string()).map_err(GrindError::io(format!(
                "cannot write {}",
                tip_file.display()
            )))?;
            let settings = Some(ctx.repo.snapshot_settings()?);
            (Home::Slots { slot0, tip_file }, settings)
        };
        let d = Dispatcher {
            ctx,
            k,
            fuse,
            free,
            live: BTreeMap::new(),
            landed: Vec::new(),
            tip,
            settings,
            halt: None,
            fatal: None,
            rate_limit: None,
            drained_said: false,
            abort_said: false,
            next_seq: 0,
        };
        Ok((d, home))
    }
}

impl Dispatcher<'_, '_> {
    /// Whether the run has one slot: its sessions work on the run branch, on this thread.
    fn one_slot(&self) -> bool {
        self.k == 1
    }

    /// Dispatches what can start now (nothing after a fault); a fault doing it is [`Self::fail`].
    /// A parallel session is handed to `spawn` as soon as it is prepared (its agent starts
    /// while the next slot is made ready); a one-slot run's session is returned, for the caller
    /// to run on this thread.
    fn dispatch(
        &mut self,
        progress: &mut Progress,
        obs: &mut dyn GrindObserver,
        spawn: &mut dyn FnMut(Slot, session::Session),
    ) -> Option<(Slot, session::Session)> {
        let mut home = None;
        if self.fatal.is_none()
            && let Err(e) = self.dispatch_all(progress, obs, spawn, &mut home)
        {
            self.fail(e);
        }
        home
    }

    /// Nothing runs: how the grind ends (`Some`), in this order: a fault, what the wait for a
    /// usage limit's reset says, what stopped dispatch, else the scheduler exhausted. `None`
    /// when the usage limit has been waited out and dispatch goes on.
    fn stop_when_idle(
        &mut self,
        progress: &Progress,
        first_seq: u64,
        obs: &mut dyn GrindObserver,
    ) -> Option<Result<StopCause, GrindError>> {
        let ctx = self.ctx;
        if let Some(e) = self.fatal.take() {
            return Some(Err(e));
        }
        if let Some(limit) = self.rate_limit.take() {
            return halt::wait_for_reset(ctx, &progress.spent, limit, obs).map(Ok);
        }
        Some(Ok(match self.halt.take() {
            Some(Halt::Cause(c)) => c,
            Some(Halt::User) => StopCause::user(ctx, progress, first_seq),
            // Nothing runs and nothing could start, yet nothing says stop: the scheduler is
            // exhausted.
            None => StopCause::Exhausted,
        }))
    }

    /// Lands the oldest sessions while they are settled.
    fn land_ready(&mut self, progress: &mut Progress, obs: &mut dyn GrindObserver) {
        while self
            .live
            .first_key_value()
            .is_some_and(|(_, l)| l.settled.is_some())
        {
            let Some((seq, live)) = self.live.pop_first() else {
                break;
            };
            let settled = match live.settled {
                Some(Ok(st)) => st,
                Some(Err(e)) => {
                    // The slot went with the thread: it is opened again when next needed.
                    self.fail(e);
                    continue;
                }
                None => continue,
            };
            let since = &self.landed[live.landed_before.min(self.landed.len())..];
            // Out of the in-flight list in the append that records it (an error leaves it in,
            // unrecorded: a `--resume` then knows its pick was made).
            let in_flight = progress.in_flight.clone();
            if let Some(f) = progress.in_flight.as_mut() {
                f.retain(|s| *s != seq);
            }
            let held = Held {
                expected: self.tip,
                charges: live.charges,
            };
            let landed = session::land_settled(self.ctx, progress, settled, since, held, obs);
            if landed.is_err() {
                progress.in_flight = in_flight;
            }
            match landed {
                Ok(l) => {
                    self.fuse
                        .settle(seq, progress.spent.cost_usd, progress.spent.tokens);
                    if let Some(e) = l.landed {
                        self.tip = e.after;
                    }
                    self.landed.extend(l.landed);
                    self.free.insert(l.slot.index, l.slot);
                    if let Some(limit) = l.run.rate_limit {
                        self.rate_limit.get_or_insert(limit);
                    }
                    for w in self.ctx.budgets.warnings(
                        &progress.spent,
                        self.ctx.clock.now(),
                        &mut progress.budget_state,
                    ) {
                        obs.event(&GrindEvent::Warning { message: w.message });
                    }
                }
                Err(e) => self.fail(e),
            }
        }
    }

    /// A fault: no new dispatch, every running session cut (recorded as it ends), and the
    /// grind ends with the first error.
    fn fail(&mut self, e: GrindError) {
        for l in self.live.values() {
            l.controls.request_cut();
        }
        self.fatal.get_or_insert(e);
    }

    /// Dispatches sessions while a slot is free and nothing says stop: each to `spawn`, or the
    /// one-slot run's into `home`.
    fn dispatch_all(
        &mut self,
        progress: &mut Progress,
        obs: &mut dyn GrindObserver,
        spawn: &mut dyn FnMut(Slot, session::Session),
        home: &mut Option<(Slot, session::Session)>,
    ) -> Result<(), GrindError> {
        let ctx = self.ctx;
        if ctx.controls.agent.abort_requested() && !self.abort_said && !self.live.is_empty() {
            self.abort_said = true;
            obs.event(&GrindEvent::Warning {
                message: format!(
                    "aborting the {} running session(s): each is recorded with its transcript \
                     and its work as a patch",
                    self.live.len()
                ),
            });
        }
        loop {
            // The user's stop wins over a budget or an exhausted scheduler that stopped dispatch
            // before it, as in a sequential run: the run is `aborted`, resumable.
            let user_now = ctx.controls.stopping() && !matches!(self.halt, Some(Halt::User));
            if self.halt.is_none() || user_now {
                self.halt = self.halt_now(progress, obs);
            }
            if self.halt.is_some() || self.rate_limit.is_some() {
                return Ok(());
            }
            if self.live.len() as u32 >= self.k || self.live.values().any(|l| l.alone) {
                return Ok(());
            }
            let mut next = progress.scheduler.clone();
            let (prompt, rotation) = match next.next_pick() {
                Pick::Exhausted => {
                    if self.live.is_empty() {
                        self.halt = Some(Halt::Cause(StopCause::Exhausted));
                    }
                    return Ok(());
                }
                Pick::Run {
                    prompt, rotation, ..
                } => (prompt, rotation),
            };
            let safe = ctx
                .plan
                .prompt(&prompt)
                .is_some_and(|p| p.prompt.parallel_safe);
            if !safe && !self.live.is_empty() {
                // It runs alone: wait until the slots are idle.
                return Ok(());
            }
            self.check_before_dispatch(obs);
            if self.fatal.is_some() {
                return Ok(());
            }
            progress.scheduler = next;
            let (slot, s) = self.start_one(progress, &prompt, rotation, safe, obs)?;
            if self.one_slot() {
                *home = Some((slot, s));
                // Its one slot is taken: nothing more starts before it lands.
                return Ok(());
            }
            spawn(slot, s);
        }
    }

    /// Dispatches one session of `prompt`: counted, its seq reserved, prepared in a slot.
    fn start_one(
        &mut self,
        progress: &mut Progress,
        prompt: &str,
        rotation: u64,
        safe: bool,
        obs: &mut dyn GrindObserver,
    ) -> Result<(Slot, session::Session), GrindError> {
        let ctx = self.ctx;
        progress.dispatched();
        // Reserved now: the next after the last recorded and every live one.
        let seq = (progress.last_seq + 1).max(self.next_seq);
        self.next_seq = seq + 1;
        let slot = self.take_slot()?;
        let (controls, parallel) = if self.one_slot() {
            // The user's skip is this session's: it is the only one.
            (ctx.controls.agent.for_session(), None)
        } else {
            let controls = ctx.controls.agent.for_parallel_session();
            self.fuse.register(seq, controls.clone());
            let p = Parallel {
                slot: slot.index,
                controls: controls.clone(),
                fuse: self.fuse.clone(),
                snapshot: progress.scratchpad.clone(),
            };
            (controls, Some(p))
        };
        let d = Dispatch {
            prompt,
            rotation,
            seq,
            parallel,
        };
        let s = session::prepare(ctx, &slot, progress, d, obs)?;
        if let Some(f) = progress.in_flight.as_mut() {
            f.push(seq);
        }
        self.live.insert(
            seq,
            Live {
                slot: slot.index,
                alone: !safe,
                landed_before: self.landed.len(),
                controls,
                settled: None,
                charges: Vec::new(),
            },
        );
        Ok((slot, s))
    }

    /// The lowest free slot, opened when it is not yet.
    fn take_slot(&mut self) -> Result<Slot, GrindError> {
        if let Some((_, slot)) = self.free.pop_first() {
            return Ok(slot);
        }
        if self.one_slot() {
            // The run's own worktree, opened again (a session before deleted it).
            return Slot::open(self.ctx.repo, &self.ctx.run, &self.ctx.branch);
        }
        let busy: Vec<u32> = self.live.values().map(|l| l.slot).collect();
        // Slot 0 keeps the run branch checked out (see the module's comment).
        let k = (1..=self.k).find(|i| !busy.contains(i)).unwrap_or(self.k);
        Slot::open_parallel(self.ctx.repo, &self.ctx.run, k, self.tip)
    }
}
