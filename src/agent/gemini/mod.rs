//! The `gemini` backend: Google's Gemini CLI, headless, with its JSON event stream.
//!
//! We run `gemini --output-format stream-json --approval-mode yolo` with the composed prompt on
//! stdin (headless mode: stdin is not a terminal) and parse the stream with [`GeminiParser`]
//! (in `parse.rs`, tested on fixtures recorded from the real CLI talking to a mock of the
//! Gemini API). Its documented exit codes become readable error texts ([`exit_text`]).
//!
//! Unattended defaults: approval mode `yolo`, for the reason Claude Code runs with
//! `bypassPermissions` (a confirmation prompt would hang the session; it works in a worktree of
//! its own and must be able to commit), and the worktree trusted for the run
//! (`GEMINI_CLI_TRUST_WORKSPACE=true`: an untrusted folder makes headless Gemini ignore its
//! settings and refuse tools). pitboss does not touch `~/.gemini`: the user's settings and
//! login apply.

mod parse;

use std::path::{Path, PathBuf};

pub(crate) use parse::{GeminiParser, exit_text};

use super::adapter::{Adapter, SessionContext, StreamParser};
use super::invocation::Invocation;

/// The approval mode pitboss runs Gemini with.
pub(crate) const GEMINI_APPROVAL_MODE: &str = "yolo";

/// Runs the Gemini CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GeminiAdapter {
    /// `gemini` on `PATH` unless configured (`agent.binary`).
    pub binary: PathBuf,
    /// `--model`, when configured.
    pub model: Option<String>,
    /// Passed through after ours (a later `--approval-mode` wins).
    pub extra_args: Vec<String>,
}

#[cfg(test)]
impl GeminiAdapter {
    fn new(binary: impl Into<PathBuf>) -> Self {
        GeminiAdapter {
            binary: binary.into(),
            model: None,
            extra_args: Vec::new(),
        }
    }
}

impl Adapter for GeminiAdapter {
    fn name(&self) -> &str {
        "gemini"
    }

    fn program(&self) -> &Path {
        &self.binary
    }

    fn invocation(&self, ctx: &SessionContext<'_>) -> Invocation {
        Invocation::new(&self.binary, ctx.worktree)
            .args(["--output-format", "stream-json", "--approval-mode"])
            .arg(GEMINI_APPROVAL_MODE)
            .flag_opt("--model", self.model.as_ref())
            .args(&self.extra_args)
            .envs(ctx.env)
            .env("GEMINI_CLI_TRUST_WORKSPACE", "true")
            .stdin_file(ctx.input_file)
    }

    fn parser(&self, _ctx: &SessionContext<'_>) -> Box<dyn StreamParser> {
        Box::new(GeminiParser::new())
    }

    fn tested_version(&self) -> Option<&'static str> {
        Some("0.61.0")
    }

    fn probes_version(&self) -> bool {
        true
    }

    fn exit_text(&self, code: i32) -> Option<String> {
        exit_text(code).map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::adapter::test_context;
    use crate::agent::invocation::StdinFrom;

    #[test]
    fn invocation_is_headless_stream_json_trusted_with_prompt_on_stdin() {
        let ctx = test_context();
        let adapter = GeminiAdapter {
            model: Some("gemini-2.5-pro".into()),
            extra_args: vec!["--debug".into()],
            ..GeminiAdapter::new("/opt/gemini")
        };
        let inv = adapter.invocation(&ctx);
        assert_eq!(
            inv.display(),
            "/opt/gemini --output-format stream-json --approval-mode yolo --model gemini-2.5-pro --debug"
        );
        assert_eq!(inv.stdin, StdinFrom::File("/tmp/in".into()));
        assert_eq!(
            inv.env_set
                .get("GEMINI_CLI_TRUST_WORKSPACE")
                .map(String::as_str),
            Some("true")
        );
        assert!(adapter.exit_text(41).unwrap().contains("GEMINI_API_KEY"));
        assert_eq!(adapter.exit_text(1), None);
    }
}
