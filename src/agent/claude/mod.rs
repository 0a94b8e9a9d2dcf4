//! The `claude` backend: Claude Code's CLI in print mode with its JSON event stream.
//!
//! We run `claude -p --output-format stream-json --verbose` with the composed prompt on stdin
//! and parse the stream with [`ClaudeParser`] (in `parse.rs`, tested on fixtures recorded from
//! the real CLI talking to a mock of the Messages API). The exit code alone is not trusted: the
//! final `result` event says whether the session succeeded and what it cost.
//!
//! Permission mode: pitboss runs unattended in a dedicated worktree, where a permission prompt
//! would hang the session forever and a denied `git commit` would waste it, so the default is
//! [`DEFAULT_PERMISSION_MODE`] (`bypassPermissions`). Users who want a fence choose `acceptEdits`
//! (file edits only) or `default` plus `--allowedTools` in the extra arguments. NB: Claude Code
//! refuses `bypassPermissions` when run as root unless `IS_SANDBOX=1` is set; we do not set it
//! behind the user's back, and the outcome's error text says how to fix it.

mod limits;
mod parse;

use std::path::{Path, PathBuf};

pub(crate) use parse::ClaudeParser;

use super::adapter::{Adapter, SessionContext, StreamParser};
use super::invocation::Invocation;

/// The permission mode used when the configuration names none.
pub(crate) const DEFAULT_PERMISSION_MODE: &str = "bypassPermissions";

/// Variables Claude Code sets for the shells it starts. If pitboss itself runs inside a Claude
/// Code session they would leak into our agent and make it think it is a nested child session
/// (sharing the parent's session id), so they are removed.
const NESTED_SESSION_VARS: [&str; 4] = [
    "CLAUDECODE",
    "CLAUDE_CODE_SESSION_ID",
    "CLAUDE_CODE_CHILD_SESSION",
    "CLAUDE_CODE_ENTRYPOINT",
];

/// Runs Claude Code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaudeAdapter {
    /// `claude` on `PATH` unless configured (`agent.binary`).
    pub binary: PathBuf,
    /// `--model`, when configured.
    pub model: Option<String>,
    /// `--permission-mode`.
    pub permission_mode: String,
    /// Passed through after ours (`--max-turns 30`, `--allowedTools …`).
    pub extra_args: Vec<String>,
}

impl Default for ClaudeAdapter {
    fn default() -> Self {
        ClaudeAdapter {
            binary: PathBuf::from("claude"),
            model: None,
            permission_mode: DEFAULT_PERMISSION_MODE.to_string(),
            extra_args: Vec::new(),
        }
    }
}

impl ClaudeAdapter {
    pub fn new(binary: impl Into<PathBuf>) -> Self {
        ClaudeAdapter {
            binary: binary.into(),
            ..ClaudeAdapter::default()
        }
    }
}

impl Adapter for ClaudeAdapter {
    fn name(&self) -> &str {
        "claude"
    }

    fn program(&self) -> &Path {
        &self.binary
    }

    fn invocation(&self, ctx: &SessionContext<'_>) -> Invocation {
        let mut inv = Invocation::new(&self.binary, ctx.worktree)
            .args(["-p", "--output-format", "stream-json", "--verbose"])
            .flag_opt("--model", self.model.as_ref())
            .arg("--permission-mode")
            .arg(&self.permission_mode)
            // Claude Code's own per-session budget (print mode only, which `-p` is).
            .flag_opt(
                "--max-budget-usd",
                ctx.max_cost_usd.map(|c| format!("{c:.4}")),
            )
            .args(&self.extra_args);
        for var in NESTED_SESSION_VARS {
            inv = inv.env_remove(var);
        }
        inv.envs(ctx.env).stdin_file(ctx.input_file)
    }

    fn parser(&self, ctx: &SessionContext<'_>) -> Box<dyn StreamParser> {
        Box::new(ClaudeParser::new(ctx.started_at))
    }

    fn tested_version(&self) -> Option<&'static str> {
        Some("2.1.197")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::adapter::test_context;
    use crate::agent::invocation::StdinFrom;

    #[test]
    fn invocation_has_stream_json_model_mode_extras_and_prompt_on_stdin() {
        let ctx = test_context();
        let adapter = ClaudeAdapter {
            model: Some("sonnet".into()),
            extra_args: vec!["--max-turns".into(), "30".into()],
            ..ClaudeAdapter::new("/opt/claude")
        };
        let inv = adapter.invocation(&ctx);
        assert_eq!(
            inv.display(),
            "/opt/claude -p --output-format stream-json --verbose --model sonnet \
             --permission-mode bypassPermissions --max-turns 30"
        );
        assert_eq!(inv.stdin, StdinFrom::File("/tmp/in".into()));
        assert!(inv.env_remove.iter().any(|v| v == "CLAUDECODE"));
        assert_eq!(
            inv.env_set.get("PITBOSS_SEQ").map(String::as_str),
            Some("1")
        );
        assert!(!adapter.reads_result_file());
    }
}
