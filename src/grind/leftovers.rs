//! Work found in a run's kept worktree when the run is resumed: someone edited it by hand
//! between two grinds, or a process an agent left behind wrote to it. The first session of the
//! resumed grind resets the worktree to the run branch, which would delete that work without a
//! word; so it is saved first, as `patches/<bucket>/resume-<seq>.patch` in the run ref (`<seq>`:
//! the session it came before), and a warning says where.
//!
//! (The work of a session that grind itself was running when it died is not this: `--resume`
//! records that session as `aborted` with its work as the session's own patch, first.)

use super::context::Ctx;
use super::error::GrindError;
use super::event::{GrindEvent, GrindObserver};
use super::kept;
use super::slot::Slot;
use crate::store::{RunUpdate, Seq};

/// Saves uncommitted (or off-branch) work of the kept worktree in the run ref (as the patch of
/// the session after `last_seq`), then puts the worktree back on the run branch's tip.
pub(super) fn save_leftovers(
    ctx: &Ctx,
    slot: &Slot,
    last_seq: u64,
    obs: &mut dyn GrindObserver,
) -> Result<(), GrindError> {
    let Some(tip) = ctx.repo.branch_tip(&ctx.branch)? else {
        return Ok(());
    };
    // NB: a parallel grind that died left slot 0's branch at the last landing and its files
    // at the tip it started from (`slot-0-tip`): only what differs from those files is work.
    let home = crate::rundir::RunDir::new(ctx.repo.common_dir(), &ctx.run).slot0_tip();
    let recorded = std::fs::read_to_string(&home)
        .ok()
        .and_then(|t| t.trim().parse::<crate::git::Oid>().ok());
    // A tip that is gone (a gc'd object) or not on the branch any more is no base: the branch's
    // tip is. A git failure to answer is an error, never taken for "not an ancestor".
    let since = match recorded {
        Some(b) if ctx.repo.has_object(b) && ctx.repo.is_ancestor(b, tip)? => b,
        _ => tip,
    };
    let _ = std::fs::remove_file(&home);
    let wt = slot.repo();
    let state = wt.worktree_state()?;
    let on_branch = wt.current_branch()?.as_ref() == Some(&ctx.branch);
    if !state.dirty && state.head == tip && on_branch {
        return Ok(());
    }
    let name = format!("resume-{:04}", last_seq + 1);
    if let Some(patch) = kept::save(ctx, wt, since, name)? {
        let path = Seq(last_seq + 1).resume_patch_path();
        let local = kept::kept_ref_in(&patch)
            .map(|r| {
                format!(" (for reading only: the work is kept whole on this machine only at {r})")
            })
            .unwrap_or_default();
        ctx.store.update_run(
            &ctx.run,
            RunUpdate {
                subject: format!(
                    "run {}: work found in its worktree at resume saved as {path}",
                    ctx.run
                ),
                files: vec![(path.clone(), patch)],
                ..Default::default()
            },
        )?;
        obs.event(&GrindEvent::Warning {
            message: format!(
                "the run's worktree {} had changes no session made; they are saved as \
                     {path} in the run ref (`git show {}:{path}`){local}, and the worktree is \
                     back on the run branch",
                slot.path.display(),
                ctx.run.ref_name()
            ),
        });
    }
    wt.attach_head(&ctx.branch)?;
    wt.reset_hard_clean(tip)?;
    Ok(())
}
