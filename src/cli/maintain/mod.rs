//! The commands that change the run store by hand: `gc` (what runs leave behind), `rm` (a run,
//! here and on a remote) and `record` (plumbing: append one session record).

pub(super) mod gc;
pub(super) mod record;
pub(super) mod rm;
