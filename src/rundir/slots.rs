//! The names of a run's slot worktrees and slot branches: the worktree of slot `k` is
//! registered as `pitboss-<id>-<k>` and lives at `<common>/pitboss/worktrees/<id>/<k>`
//! ([`super::slot_worktree`]); a parallel run's slot `k` has the branch
//! `pitboss-slot/<id>/<k>`. The engine makes them; `gc` and `worktree ls` read them back.

use std::path::Path;

use crate::git::{BranchName, Repo};
use crate::store::RunId;

/// Slot branches live under `refs/heads/pitboss-slot/<id>/<k>`: not under `pitboss/<id>/`,
/// which the run branch `pitboss/<id>` itself occupies as a file.
pub(crate) const SLOT_BRANCH_PREFIX: &str = "pitboss-slot/";

const WORKTREE_PREFIX: &str = "pitboss-";

/// The short name of slot `k`'s branch: `pitboss-slot/<id>/<k>`.
pub(crate) fn slot_branch(id: &RunId, k: u32) -> BranchName {
    BranchName::new(format!("{SLOT_BRANCH_PREFIX}{id}/{k}"))
        .expect("a run id is a valid ref name component")
}

/// The git worktree name of a run's slot `k`: `pitboss-<id>-<k>`.
pub(crate) fn worktree_name(id: &RunId, k: u32) -> String {
    format!("{WORKTREE_PREFIX}{id}-{k}")
}

/// Whether a worktree name is in pitboss's own form (`pitboss-…`), whatever run it names.
pub(crate) fn looks_like_ours(name: &str) -> bool {
    name.starts_with(WORKTREE_PREFIX)
}

/// The run of a slot worktree's name `pitboss-<id>-<slot>` (the inverse of
/// [`worktree_name`]; `worktree ls` and `gc` both read names with it).
pub(crate) fn run_of_name(name: &str) -> Option<RunId> {
    let rest = name.strip_prefix(WORKTREE_PREFIX)?;
    let (id, slot) = rest.rsplit_once('-')?;
    slot.bytes().all(|b| b.is_ascii_digit()).then_some(())?;
    RunId::parse(id).ok()
}

/// The run a worktree belongs to: by its name `pitboss-<id>-<slot>`, or by its place under
/// `<git-common-dir>/pitboss/worktrees/<id>/` (a restored one is named after its directory).
pub(crate) fn run_of_worktree(repo: &Repo, name: &str) -> Option<RunId> {
    run_of_name(name).or_else(|| {
        let p = repo.worktree_registered_path(name)?;
        run_of_place(&p, &super::worktrees_dir(repo.common_dir()))
    })
}

/// The run of a worktree at `p`, when `p` is under `slots` (canonical or not).
fn run_of_place(p: &Path, slots: &Path) -> Option<RunId> {
    let rel = p
        .strip_prefix(slots)
        .ok()
        .or_else(|| p.strip_prefix(slots.canonicalize().ok()?).ok())?;
    RunId::parse(rel.components().next()?.as_os_str().to_str()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_names_give_their_run_back() {
        let id = RunId::parse("20261124T100000Z-abcd").unwrap();
        assert_eq!(run_of_name(&worktree_name(&id, 0)), Some(id.clone()));
        assert_eq!(worktree_name(&id, 3), "pitboss-20261124T100000Z-abcd-3");
        assert_eq!(
            slot_branch(&id, 3).as_str(),
            "pitboss-slot/20261124T100000Z-abcd/3"
        );
        assert_eq!(run_of_name("pitboss-my-run-12").unwrap().as_str(), "my-run");
        assert!(run_of_name("feature-x").is_none());
        assert!(run_of_name("other-x-0").is_none());
        assert!(run_of_name("pitboss-x-y").is_none());
    }
}
