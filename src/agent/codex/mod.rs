//! The `codex` backend: OpenAI's Codex CLI in `exec` mode with its JSON event stream.
//!
//! We run `codex exec --json --skip-git-repo-check … -` with the composed prompt on stdin and
//! parse the stream with [`CodexParser`] (in `parse.rs`, tested on fixtures recorded from the
//! real CLI talking to a mock of the Responses API).
//!
//! Unattended defaults: `approval_policy="never"` (an approval prompt would hang an unattended
//! session; a command the sandbox refuses fails and the agent sees why) and the
//! [`DEFAULT_SANDBOX`] `danger-full-access`, for the reason Claude Code runs with
//! `bypassPermissions`: the agent works in a worktree of its own and must be able to commit.
//! NB: measured with Codex 0.169, the `workspace-write` sandbox keeps a worktree's git data
//! read-only (it follows the worktree's `.git` file to `<git-dir>/worktrees/<name>` and protects
//! it, even when that directory is added with `--add-dir`), so `git commit` fails with
//! "Read-only file system". Users who want the fence set `[agent] sandbox = "workspace-write"`:
//! the agent then only edits files, and pitboss commits its work (the session is `dirty`).
//!
//! Configuration: pitboss does not write or move `$CODEX_HOME`. The user's own Codex config and
//! login apply; pitboss adds only command-line overrides. (A model provider of one's own, e.g. a
//! local proxy, goes in `$CODEX_HOME/config.toml` as usual.)

mod config;
mod parse;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use config::CODEX_DEFAULT_MODEL;

pub(crate) use parse::CodexParser;

use super::adapter::{Adapter, SessionContext, StreamParser};
use super::invocation::Invocation;

/// The sandbox used when the configuration names none.
pub(crate) const DEFAULT_SANDBOX: &str = "danger-full-access";

/// Runs the Codex CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CodexAdapter {
    /// `codex` on `PATH` unless configured (`agent.binary`).
    pub binary: PathBuf,
    /// `--model`, when configured.
    pub model: Option<String>,
    /// `--sandbox`.
    pub sandbox: String,
    /// Passed through after ours.
    pub extra_args: Vec<String>,
}

impl CodexAdapter {
    #[cfg(test)]
    pub(crate) fn new(binary: impl Into<PathBuf>) -> Self {
        CodexAdapter {
            binary: binary.into(),
            model: None,
            sandbox: DEFAULT_SANDBOX.to_string(),
            extra_args: Vec::new(),
        }
    }
}

impl Adapter for CodexAdapter {
    fn name(&self) -> &str {
        "codex"
    }

    fn program(&self) -> &Path {
        &self.binary
    }

    fn invocation(&self, ctx: &SessionContext<'_>) -> Invocation {
        Invocation::new(&self.binary, ctx.worktree)
            .args(["exec", "--json", "--skip-git-repo-check"])
            .flag_opt("--model", self.model.as_ref())
            .arg("--sandbox")
            .arg(&self.sandbox)
            .arg("-c")
            .arg("approval_policy=\"never\"")
            .args(&self.extra_args)
            .arg("-")
            .envs(ctx.env)
            .stdin_file(ctx.input_file)
    }

    fn parser(&self, _ctx: &SessionContext<'_>) -> Box<dyn StreamParser> {
        Box::new(CodexParser::new())
    }

    fn tested_version(&self) -> Option<&'static str> {
        Some("0.169.0")
    }

    fn probes_version(&self) -> bool {
        true
    }

    /// `codex exec --json` never names its model: unless `[agent] model` is passed, read it
    /// where Codex does (its arguments, profile, `$CODEX_HOME/config.toml`, its default).
    fn unnamed_model(&self, env: &BTreeMap<String, String>) -> Option<(String, String)> {
        if self.model.is_some() {
            return None;
        }
        let found = config::find_model(&self.extra_args, env, |p| std::fs::read_to_string(p).ok());
        Some((found.model, found.source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::adapter::test_context;
    use crate::agent::invocation::StdinFrom;

    #[test]
    fn invocation_is_exec_json_with_safe_defaults_and_prompt_on_stdin() {
        let ctx = test_context();
        let adapter = CodexAdapter {
            model: Some("gpt-5-codex".into()),
            extra_args: vec!["--oss".into()],
            ..CodexAdapter::new("/opt/codex")
        };
        let inv = adapter.invocation(&ctx);
        assert_eq!(
            inv.display(),
            "/opt/codex exec --json --skip-git-repo-check --model gpt-5-codex \
             --sandbox danger-full-access -c 'approval_policy=\"never\"' --oss -"
        );
        assert_eq!(inv.stdin, StdinFrom::File("/tmp/in".into()));
        assert_eq!(
            inv.env_set.get("PITBOSS_SEQ").map(String::as_str),
            Some("1")
        );
        let fenced = CodexAdapter {
            sandbox: "workspace-write".into(),
            ..adapter
        };
        assert!(
            fenced
                .invocation(&ctx)
                .display()
                .contains("--sandbox workspace-write")
        );
    }
}
