//! A `dirty` session's leftovers, checked before pitboss commits them.
//!
//! Work an agent commits is the user's code and is left as it is; but what an agent leaves
//! uncommitted, pitboss commits for it, on a branch that is pushed. So pitboss looks first: when
//! what the session added holds anything the redactor would replace, the leftovers are saved as
//! a redacted patch in the run instead, and the user is warned.

use crate::git::Oid;

use crate::grind::run::{GrindError, GrindEvent, GrindObserver, Loop};

impl Loop<'_> {
    /// pitboss commits a `dirty` session's leftovers itself, and runs are pushed: when they
    /// hold anything the redactor would replace, they are saved as a redacted patch instead,
    /// the worktree goes back to the agent's last commit, and the user is told.
    pub(super) fn leftovers_hold_a_secret(
        &self,
        seq: u64,
        head: Oid,
        patch: &mut Option<Vec<u8>>,
        obs: &mut dyn GrindObserver,
    ) -> Result<bool, GrindError> {
        let wt = self.slot.repo();
        let leftovers = wt.patch_since(head)?;
        // Only what the session added: a secret-shaped fixture already in the code, shown as
        // context around an edit, is not the session's doing.
        let added: Vec<u8> = leftovers
            .split(|&b| b == b'\n')
            .filter(|l| l.starts_with(b"+") && !l.starts_with(b"+++"))
            .flat_map(|l| l.iter().copied().chain([b'\n']))
            .collect();
        if !self.redactor.finds_secret(&added) {
            return Ok(false);
        }
        *patch = Some(self.cap_patch(&leftovers));
        wt.reset_hard_clean(head)?;
        obs.event(&GrindEvent::Warning {
            message: format!(
                "session {seq}: the work it left uncommitted holds what looks like a secret; \
                 saved as a redacted patch (`git pitboss show {} {seq}`), not committed to the \
                 run branch",
                self.run
            ),
        });
        Ok(true)
    }
}
