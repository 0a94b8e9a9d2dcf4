//! `git pitboss worktree ls`: each run worktree, its run's status, whether a grind is in it,
//! whether it holds uncommitted work, and whether `prune` would remove it. A slot worktree of a
//! parallel run (on its slot branch `pitboss-slot/<run-id>/<k>`, or its slot 0 back on the run
//! branch) says its slot number.

use std::io::Write;

use clap::Args;
use serde::Serialize;

use crate::cli::resolve::with_store;
use crate::cli::{CliResult, Ctx, ExitStatus, ui};
use crate::git::Repo;
use crate::grind::sweep::{self, SlotInfo};
use crate::store::RunId;

/// List the worktrees of runs.
#[derive(Debug, Args)]
pub(crate) struct LsArgs {
    /// Print a JSON array.
    #[arg(long)]
    json: bool,
}

/// A worktree as `ls` shows it: what the sweep knows, with its branch and slot.
#[derive(Serialize)]
struct Listed {
    #[serde(flatten)]
    info: SlotInfo,
    /// The branch checked out in it (`None`: detached, or the worktree is gone).
    branch: Option<crate::git::BranchName>,
    /// Its slot in a parallel run (`None`: a sequential run's worktree, on the run branch).
    slot: Option<u32>,
}

pub(crate) fn cmd_ls(ctx: &Ctx, args: LsArgs) -> CliResult {
    with_store(ctx, |store| {
        let mut slots: Vec<Listed> = sweep::list(store.repo(), store)?
            .into_iter()
            .map(|info| {
                let branch = info
                    .path
                    .is_dir()
                    .then(|| Repo::open(&info.path).ok()?.current_branch().ok()?)
                    .flatten();
                let slot = match (&branch, &info.run) {
                    (Some(b), Some(run)) => slot_of_branch(b.as_str(), run),
                    _ => None,
                };
                Listed { info, branch, slot }
            })
            .collect();
        // Slot 0 of a parallel run goes back on the run branch when the run stops; it is still
        // that run's slot 0 (a sequential run's one worktree says no slot).
        let parallel: Vec<RunId> = (slots.iter())
            .filter(|l| l.slot.is_some())
            .filter_map(|l| l.info.run.clone())
            .collect();
        for l in slots.iter_mut().filter(|l| l.slot.is_none()) {
            if l.info.run.as_ref().is_some_and(|r| parallel.contains(r)) {
                l.slot = l
                    .info
                    .path
                    .file_name()
                    .and_then(|n| n.to_str()?.parse().ok());
            }
        }
        // A run's worktrees together, in slot order (git lists them in no stable order).
        slots.sort_by(|a, b| {
            let key = |l: &Listed| (l.info.run.clone(), l.slot.unwrap_or(0), l.info.name.clone());
            key(a).cmp(&key(b))
        });
        let mut out = ui::stdout();
        if args.json {
            serde_json::to_writer_pretty(&mut out, &slots)?;
            writeln!(out)?;
        } else if slots.is_empty() {
            ctx.ui.status("no run worktrees");
        } else {
            for l in &slots {
                let s = &l.info;
                let status = s.run_status.as_deref().unwrap_or("run gone");
                let slot = l.slot.map(|k| format!("  slot {k}")).unwrap_or_default();
                let mut flags = Vec::new();
                if s.live {
                    flags.push("grind running");
                }
                if s.dirty {
                    flags.push("uncommitted work");
                }
                if s.prunable {
                    flags.push("prunable");
                }
                writeln!(
                    out,
                    "{}{slot}  {status}  {}  {}",
                    s.name,
                    flags.join(", "),
                    s.path.display()
                )?;
            }
        }
        out.flush()?;
        Ok(ExitStatus::Success)
    })
}

/// The slot of run `run` whose branch is `branch` (`pitboss-slot/<run-id>/<k>`).
fn slot_of_branch(branch: &str, run: &RunId) -> Option<u32> {
    branch
        .strip_prefix(crate::rundir::slots::SLOT_BRANCH_PREFIX)?
        .strip_prefix(run.as_str())?
        .strip_prefix('/')?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_branch_gives_its_slot_number() {
        let run = RunId::parse("20261124T100000Z-abcd").unwrap();
        assert_eq!(
            slot_of_branch("pitboss-slot/20261124T100000Z-abcd/3", &run),
            Some(3)
        );
        assert_eq!(slot_of_branch("pitboss/20261124T100000Z-abcd", &run), None);
        assert_eq!(
            slot_of_branch("pitboss-slot/20261124T100000Z-abce/3", &run),
            None
        );
        assert_eq!(
            slot_of_branch("pitboss-slot/20261124T100000Z-abcd/x", &run),
            None
        );
    }
}
