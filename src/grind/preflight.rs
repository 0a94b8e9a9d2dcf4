//! Checks made before a run starts that the plan alone cannot make, shared by the dry run, the
//! real run and `git pitboss agents`, so all three say the same thing:
//!
//! - Claude Code refuses `bypassPermissions` (the default mode pitboss gives it) when run as
//!   root without `IS_SANDBOX=1`: every session would fail at once.
//! - A relative agent command, hook or verify script runs in the session's worktree, a checkout
//!   of the base commit: a file that is only in the user's checkout (not committed) or nowhere
//!   is missing there, and every session fails.
//!
//! The caller reads the user id and the environment (the library does not); the relative-path
//! check reads git through [`Repo`].

use super::plan::{Plan, PlannedAgent};
use crate::agent::DEFAULT_PERMISSION_MODE;
use crate::config::Backend;
use crate::git::{GitError, Oid, Repo};

/// Why Claude Code will refuse every session here, if it will.
pub fn root_bypass(agent: &PlannedAgent, is_root: bool, is_sandbox_set: bool) -> Option<String> {
    if agent.backend.value != Backend::Claude || !is_root || is_sandbox_set {
        return None;
    }
    let mode = agent
        .permission_mode
        .as_ref()
        .map_or(DEFAULT_PERMISSION_MODE, |m| m.value.as_str());
    (mode == "bypassPermissions").then(|| {
        "Claude Code refuses permission mode bypassPermissions as root unless IS_SANDBOX=1 is \
         set: every session would fail"
            .to_string()
    })
}

/// The hint that goes with [`root_bypass`].
pub const ROOT_BYPASS_HINT: &str = "if this machine is a sandbox, run with IS_SANDBOX=1 in the \
     environment (`IS_SANDBOX=1 git pitboss grind …`); otherwise run as another user, or set \
     another permission_mode in [agent] of .pitboss/config.toml";

/// Interpreters whose next word is the script they run.
const INTERPRETERS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "python", "python3", "node", "ruby", "perl",
];

/// The relative file paths a shell command line names: words with a `/` that are not absolute,
/// home-relative, options or URLs, and the script after an interpreter (`sh agent.sh`). Pure.
pub fn relative_paths(command: &str) -> Vec<String> {
    let words: Vec<&str> = command
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')'))
        .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let after_interpreter = i > 0 && INTERPRETERS.contains(&words[i - 1]);
        let looks_like_path = w.contains('/') || after_interpreter;
        let excluded = w.starts_with('/')
            || w.starts_with('~')
            || w.starts_with('-')
            || w.starts_with('$')
            || w.contains("://")
            || w.contains('=')
            || w.contains('*');
        if looks_like_path && !excluded && !out.iter().any(|o| o == w) {
            out.push(w.to_string());
        }
    }
    out
}

/// One command of the plan that names a file its worktree will not have.
#[derive(Debug, Clone, PartialEq)]
pub struct MissingFile {
    /// `the agent command`, `the pre_session hook`, `verify_command`.
    pub what: String,
    pub path: String,
    /// Whether the file is in the user's checkout (then it only needs committing).
    pub uncommitted: bool,
}

impl std::fmt::Display for MissingFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why = if self.uncommitted {
            "is in your checkout but not in the base commit, and sessions run in a worktree of \
             the base commit: commit it, or give an absolute path"
        } else {
            "does not exist in the base commit (sessions run in a worktree of it): fix the \
             path, or give an absolute one"
        };
        write!(f, "{} names {}, which {why}", self.what, self.path)
    }
}

/// The commands a session runs in its worktree, with what to call each.
fn commands(plan: &Plan) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if plan.agent.backend.value == Backend::Command {
        out.push((
            "the agent command".to_string(),
            plan.agent.program.value.clone(),
        ));
    }
    for (name, hook) in [
        ("pre_session", &plan.hooks.pre_session.value),
        ("post_session", &plan.hooks.post_session.value),
        ("on_failure", &plan.hooks.on_failure.value),
    ] {
        if let Some(cmd) = hook {
            out.push((format!("the {name} hook"), cmd.clone()));
        }
    }
    let verifies = plan.runnable().any(|p| p.prompt.verify);
    if let (true, Some(cmd)) = (verifies, &plan.verify_command) {
        out.push(("verify_command".to_string(), cmd.clone()));
    }
    out
}

/// The relative files the plan's commands name that the base commit does not hold.
pub fn missing_files(repo: &Repo, plan: &Plan, base: Oid) -> Result<Vec<MissingFile>, GitError> {
    let Some(tree) = repo.commit_info(base)?.map(|c| c.tree) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (what, cmd) in commands(plan) {
        for path in relative_paths(&cmd) {
            let clean = path.trim_start_matches("./");
            if clean.is_empty() || clean.starts_with("../") {
                continue;
            }
            if repo
                .tree_entry(tree, clean.trim_end_matches('/'))?
                .is_none()
            {
                out.push(MissingFile {
                    what: what.clone(),
                    uncommitted: plan.root.join(clean).exists(),
                    path,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_of_a_command_line() {
        assert_eq!(relative_paths("./agent.sh --fast"), ["./agent.sh"]);
        assert_eq!(relative_paths("sh agent.sh"), ["agent.sh"]);
        assert_eq!(
            relative_paths("make check && hooks/notify.sh \"$PITBOSS_STATUS\""),
            ["hooks/notify.sh"]
        );
        assert!(relative_paths("/usr/bin/true; ~/bin/x; cargo test --lib").is_empty());
        assert!(relative_paths("curl https://example.com/x -o /tmp/y").is_empty());
        assert!(relative_paths("sh -c 'exit 0'").is_empty());
    }
}
