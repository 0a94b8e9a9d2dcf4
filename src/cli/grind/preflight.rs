//! The checks of [`crate::grind::preflight`] with this process's facts (user id, `IS_SANDBOX`),
//! as problems with their hints: the dry run lists them, the real run refuses with them (exit
//! 4, before anything is written).

use crate::git::{Oid, Repo};
use crate::grind::preflight::{self, Facts, Problem};
use crate::plan::{Plan, PlannedAgent};

/// The hint that goes with [`root_bypass`].
pub(crate) const ROOT_BYPASS_HINT: &str = "if this machine is a sandbox, run with IS_SANDBOX=1 in the \
     environment (`IS_SANDBOX=1 git pitboss grind …`); otherwise run as another user, or set \
     another permission_mode in [agent] of .pitboss/config.toml";

/// This process's facts: whether Claude Code would see a root user without `IS_SANDBOX` (its
/// own test: the variable is set at all).
fn facts() -> Facts {
    Facts {
        is_root: nix::unistd::geteuid().is_root(),
        sandbox: std::env::var_os("IS_SANDBOX").is_some_and(|v| !v.is_empty()),
    }
}

/// Why Claude Code will refuse every session of this process, if it will.
pub(crate) fn root_bypass(agent: &PlannedAgent) -> Option<String> {
    let f = facts();
    preflight::root_bypass(agent, f.is_root, f.sandbox)
}

/// Every problem found, each with the hint that fixes it.
pub(crate) fn problems(repo: &Repo, plan: &Plan, base: Option<Oid>) -> Vec<(String, String)> {
    let found = preflight::problems(repo, plan, base, facts());
    found
        .into_iter()
        .map(|p| (p.to_string(), hint(&p)))
        .collect()
}

/// What fixes a problem.
fn hint(p: &Problem) -> String {
    match p {
        Problem::Shallow => "fetch the rest of the history first: `git fetch --unshallow`".into(),
        Problem::RootBypass(_) => ROOT_BYPASS_HINT.to_string(),
        Problem::Missing(m) if m.uncommitted => format!("git add {} && git commit", m.path),
        Problem::Missing(_) => "the path is relative to the top of the repository".into(),
        Problem::BaseUnreadable { .. } => "check the repository with `git fsck`".into(),
    }
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
