//! A parallel session's thread, and what the dispatcher hears from it: the thread runs the
//! session in its slot with a repository handle of its own and sends back its events and,
//! once its agent is gone and its work settled, the settled session; the dispatcher collects
//! them between its other steps.

use std::path::Path;
use std::sync::mpsc;
use std::thread::Scope;
use std::time::Duration;

use super::Dispatcher;
use crate::git::Repo;
use crate::grind::context::Shared;
use crate::grind::error::GrindError;
use crate::grind::event::{GrindEvent, GrindObserver};
use crate::grind::session::{self, Settled};
use crate::grind::slot::Slot;

/// How long the dispatcher waits for a session's news before it looks at the user's signals,
/// the drain file and the budgets again.
const TICK: Duration = Duration::from_millis(200);

/// What a session's thread sends the dispatcher.
pub(super) enum Msg {
    Event(Box<GrindEvent>),
    Settled(u64, Box<Result<Settled, GrindError>>),
}

/// Forwards a session thread's events to the dispatcher.
struct Forward(mpsc::Sender<Msg>);

impl GrindObserver for Forward {
    fn event(&mut self, e: &GrindEvent) {
        let _ = self.0.send(Msg::Event(Box::new(e.clone())));
    }
}

/// Starts the thread of the session `s`, dispatched to `slot`: it opens the repository at
/// `git_dir`, runs the session, and sends what it settled to `tx`.
pub(super) fn spawn_session<'scope>(
    scope: &'scope Scope<'scope, '_>,
    tx: &mpsc::Sender<Msg>,
    shared: &'scope Shared<'_>,
    git_dir: &'scope Path,
    slot: Slot,
    s: session::Session,
) {
    let tx = tx.clone();
    let seq = s.seq();
    scope.spawn(move || {
        // NB: the dispatcher waits for every session it dispatched, so a panic must still say
        // the session ended (as a fault, not silence).
        let run = std::panic::AssertUnwindSafe(|| {
            Repo::open(git_dir).map_err(GrindError::from).and_then(|r| {
                let ctx = shared.ctx(&r);
                session::run_in_slot(&ctx, slot, s, &mut Forward(tx.clone()))
            })
        });
        let settled = std::panic::catch_unwind(run).unwrap_or_else(|_| {
            Err(GrindError::Io {
                what: format!("the thread of session {seq} failed"),
                source: std::io::Error::other("it panicked"),
            })
        });
        let _ = tx.send(Msg::Settled(seq, Box::new(settled)));
    });
}

impl Dispatcher<'_, '_> {
    /// Waits up to a [`TICK`] for the sessions' news, then takes all there is: events go to
    /// `obs`, settled sessions to [`Self::settled`].
    pub(super) fn collect(&mut self, rx: &mpsc::Receiver<Msg>, obs: &mut dyn GrindObserver) {
        let first = match rx.recv_timeout(TICK) {
            Ok(m) => Some(m),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
        };
        for m in first
            .into_iter()
            .chain(std::iter::from_fn(|| rx.try_recv().ok()))
        {
            match m {
                Msg::Event(e) => obs.event(&e),
                Msg::Settled(seq, r) => self.settled(seq, *r, obs),
            }
        }
    }

    /// The session `seq` has settled (or failed to): what a parallel session's agent may have
    /// done to the run branch, the run ref and the git settings is checked, and it waits for
    /// its landing.
    pub(super) fn settled(
        &mut self,
        seq: u64,
        r: Result<Settled, GrindError>,
        obs: &mut dyn GrindObserver,
    ) {
        if self.one_slot() {
            // The run branch's session checked the git settings and the run ref itself as its
            // agent ended; the branch is its own.
            if let Some(l) = self.live.get_mut(&seq) {
                l.settled = Some(r);
            }
            return;
        }
        if r.is_ok() {
            self.hold_branch(&[seq], obs);
            self.hold_run_ref(&[seq], obs);
        }
        // Its agent and those still running: any of them may have done it.
        let running: Vec<u64> = self
            .live
            .iter()
            .filter(|(s, l)| **s == seq || l.settled.is_none())
            .map(|(s, _)| *s)
            .collect();
        self.hold_settings(&running, obs);
        let oldest = self.live.keys().next().copied();
        if let Some(l) = self.live.get_mut(&seq) {
            l.settled = Some(r);
            // It lands now when it is the oldest; otherwise say it waits.
            if let Some(behind) = oldest.filter(|o| *o != seq) {
                obs.event(&GrindEvent::Queued {
                    seq,
                    slot: l.slot,
                    behind,
                });
            }
        }
    }
}
