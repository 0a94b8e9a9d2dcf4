//! The end of a finished run's slots: every slot worktree but slot 0 (which the run's end
//! removes as in a sequential run) and every slot branch `pitboss-slot/<id>/<k>`, each only
//! when what it holds is on the run branch. A slot branch whose commits are not all on the run
//! branch is kept, with a warning that names it: its work exists nowhere else.

use crate::git::{BranchName, RefName};
use crate::grind::context::Ctx;
use crate::grind::error::GrindError;
use crate::grind::event::{GrindEvent, GrindObserver};
use crate::grind::slot::Slot;
use crate::rundir::slots::SLOT_BRANCH_PREFIX;

/// Removes the finished run's slots and slot branches that hold nothing the run branch lacks.
pub(in crate::grind) fn remove_slots(
    ctx: &Ctx,
    obs: &mut dyn GrindObserver,
) -> Result<(), GrindError> {
    let Some(tip) = ctx.repo.branch_tip(&ctx.branch)? else {
        return Ok(());
    };
    let prefix = BranchName::full_prefix(&format!("{SLOT_BRANCH_PREFIX}{}/", ctx.run));
    for (name, at) in ctx.repo.refs_with_prefix(&prefix)? {
        let name = RefName::from_git(name);
        let Some(k) = name
            .strip_prefix(&prefix)
            .and_then(|k| k.parse::<u32>().ok())
        else {
            continue;
        };
        let held = ctx.repo.is_ancestor(at, tip)? || {
            let base = ctx.repo.merge_base(at, tip)?.unwrap_or(tip);
            ctx.repo.unproven(base, at, base, tip)?.is_empty()
        };
        if !held {
            obs.event(&GrindEvent::Warning {
                message: format!(
                    "slot branch {} holds commits that are not on the run branch; it is kept \
                     (`git log {}..{}` shows them)",
                    name.short(),
                    ctx.branch,
                    name.short()
                ),
            });
            continue;
        }
        if k > 0 {
            let path = Slot::path_of_slot(ctx.repo, &ctx.run, k);
            let registered = ctx.repo.worktree_names()?.into_iter().find(|n| {
                ctx.repo
                    .worktree_path(n)
                    .is_some_and(|p| crate::grind::slot::same_path(&p, &path))
            });
            if let Some(n) = registered {
                ctx.repo.remove_worktree(&n)?;
            }
            let _ = std::fs::remove_dir_all(&path);
        } else if ctx.repo.checked_out_in(&name)?.iter().any(|p| p.exists()) {
            // Slot 0 is on the run branch again at a run's end; if not, leave it be.
            continue;
        }
        ctx.repo.delete_ref_matching(&name, at)?;
    }
    Ok(())
}
