//! What a parallel run holds against its agents between its other steps: the run branch at the
//! tip the queue last left, the run ref, and the git settings as the run found them; a change
//! found is put back and charged to the sessions that could have made it.

use super::Dispatcher;
use crate::grind::event::{GrindEvent, GrindObserver};
use crate::grind::session;

impl Dispatcher<'_, '_> {
    /// Checks the run branch and, when it moved, puts it back and charges the move to `seqs`:
    /// as a session's agent has just ended, that session (the last agent to end; one still
    /// running may have done it, and is charged at its own landing if the branch moves again);
    /// before a dispatch, every session running (which of them did it cannot be told: the
    /// warning names them all).
    pub(super) fn hold_branch(&mut self, seqs: &[u64], obs: &mut dyn GrindObserver) {
        match session::hold_branch(self.ctx, self.tip) {
            Ok(None) => {}
            Ok(Some(m)) => self.charge(seqs, m.reason(), obs),
            Err(e) => self.fail(e),
        }
    }

    /// Checks the run ref and, when something other than pitboss moved it, puts it back and
    /// charges the move to `seqs`, as [`Self::hold_branch`] does for the run branch.
    pub(super) fn hold_run_ref(&mut self, seqs: &[u64], obs: &mut dyn GrindObserver) {
        match self.ctx.store.hold_tip(&self.ctx.run) {
            Ok(None) => {}
            Ok(Some(r)) => self.charge(seqs, session::run_ref_reason(&r), obs),
            Err(e) => self.fail(e.into()),
        }
    }

    /// Checks the git directory's hooks and config and, when they changed, puts them back and
    /// charges the change to `running`: every session whose agent ran since the last check
    /// (which of them made it cannot be told when they are several: the reason says so).
    pub(super) fn hold_settings(&mut self, running: &[u64], obs: &mut dyn GrindObserver) {
        let Some(settings) = &self.settings else {
            return;
        };
        match settings.restore() {
            Ok(found) if found.is_empty() => {}
            Ok(found) => {
                for seq in running {
                    let others: Vec<u64> = running.iter().copied().filter(|o| o != seq).collect();
                    let why = session::settings_reason(&found, &others);
                    self.charge(&[*seq], why, obs);
                }
                if running.is_empty() {
                    let why = session::settings_reason(&found, &[]);
                    self.charge(&[], why, obs);
                }
            }
            Err(e) => self.fail(e.into()),
        }
    }

    /// Before a dispatch: sessions start from the tip the queue left, never from one an agent
    /// put there, and with the git settings as the run found them.
    pub(super) fn check_before_dispatch(&mut self, obs: &mut dyn GrindObserver) {
        if self.one_slot() {
            // The run branch is its sessions' own, and each checks the rest as its agent ends.
            return;
        }
        let running: Vec<u64> = self.live.keys().copied().collect();
        self.hold_branch(&running, obs);
        self.hold_run_ref(&running, obs);
        let agents: Vec<u64> = self
            .live
            .iter()
            .filter(|(_, l)| l.settled.is_none())
            .map(|(s, _)| *s)
            .collect();
        self.hold_settings(&agents, obs);
    }

    /// Charges `seqs` with `why` (each becomes an `error` when it lands), and says so.
    pub(super) fn charge(&mut self, seqs: &[u64], why: String, obs: &mut dyn GrindObserver) {
        if seqs.is_empty() {
            obs.event(&GrindEvent::Warning {
                message: format!("no session was running, yet: {why}"),
            });
        }
        for seq in seqs {
            obs.event(&GrindEvent::Warning {
                message: format!("session {seq}: {why}"),
            });
            if let Some(l) = self.live.get_mut(seq) {
                l.charges.push(why.clone());
            }
        }
    }
}
