//! The checks of [`crate::grind::preflight`] with this process's facts (user id, `IS_SANDBOX`),
//! and whether the repository is a shallow clone, as problems with their hints: the dry run lists them, the real run refuses with them (exit
//! 4, before anything is written).

use crate::git::{Oid, Repo};
use crate::grind::preflight;
use crate::plan::{Plan, PlannedAgent};

/// The hint that goes with [`root_bypass`].
pub(crate) const ROOT_BYPASS_HINT: &str = "if this machine is a sandbox, run with IS_SANDBOX=1 in the \
     environment (`IS_SANDBOX=1 git pitboss grind …`); otherwise run as another user, or set \
     another permission_mode in [agent] of .pitboss/config.toml";

/// Whether Claude Code would see a root user without `IS_SANDBOX` (its own test: the variable is
/// set at all).
pub(crate) fn root_bypass(agent: &PlannedAgent) -> Option<String> {
    let is_root = nix::unistd::geteuid().is_root();
    let sandbox = std::env::var_os("IS_SANDBOX").is_some_and(|v| !v.is_empty());
    preflight::root_bypass(agent, is_root, sandbox)
}

/// Every problem found, each with the hint that fixes it.
pub(crate) fn problems(repo: &Repo, plan: &Plan, base: Option<Oid>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    // NB: libgit2 cannot walk past a shallow clone's grafts: a run would start, then fail with
    // "object not found" on every resume and landing. Refuse it before anything is written.
    if repo.is_shallow() {
        out.push((
            "this repository is a shallow clone: sessions and resumes need its whole history"
                .to_string(),
            "fetch the rest of the history first: `git fetch --unshallow`".to_string(),
        ));
    }
    if let Some(p) = root_bypass(&plan.agent) {
        out.push((p, ROOT_BYPASS_HINT.to_string()));
    }
    if let Some(base) = base {
        match preflight::missing_files(repo, plan, base) {
            Ok(missing) => out.extend(missing.into_iter().map(|m| {
                let hint = if m.uncommitted {
                    format!("git add {} && git commit", m.path)
                } else {
                    "the path is relative to the top of the repository".to_string()
                };
                (m.to_string(), hint)
            })),
            Err(e) => out.push((
                format!("cannot read the base commit {base}: {e}"),
                "check the repository with `git fsck`".to_string(),
            )),
        }
    }
    out
}

/// The warning that the run's prompts, rotation or config are not in HEAD as they are, if so
/// (given once, by the dry run and the real run alike; it does not stop a run).
pub(crate) fn uncommitted_inputs(repo: &Repo, plan: &Plan) -> Option<String> {
    match crate::grind::inputs::not_committed(repo, plan) {
        Ok(files) => crate::grind::inputs::warning(&files),
        Err(e) => Some(format!(
            "cannot tell whether the prompts, rotation and config are committed: {e}"
        )),
    }
}
