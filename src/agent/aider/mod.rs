//! The `aider` backend: Aider, one message per session.
//!
//! We run `aider --message-file <composed prompt> --yes-always --no-pretty --no-stream
//! --no-check-update --no-gitignore --no-analytics …`: the prompt goes by file, never in argv;
//! `--yes-always` because nobody is there to answer; `--no-pretty --no-stream` so its output is
//! plain lines [`AiderParser`] can read; `--no-gitignore` because Aider would otherwise append
//! `.aider*` to the repository's `.gitignore`, and the user's files are not ours to edit;
//! `--no-analytics` and `--no-check-update` so a session sends nothing but the model's requests.
//! Aider commits each edit itself (the loop finds those commits on the run branch, as with any
//! agent) and reports dollars, recorded as `reported`.

mod parse;

use std::path::{Path, PathBuf};

pub(crate) use parse::AiderParser;

use super::adapter::{Adapter, SessionContext, StreamParser};
use super::invocation::Invocation;

/// The flags every session gets, after `--message-file <file>`. Aider's chat and input
/// histories go to `/dev/null`: by default it writes `.aider.*` files into the worktree, where
/// (with `--no-gitignore`) they would be committed as the session's work; the transcript keeps
/// the conversation anyway.
pub const AIDER_FLAGS: [&str; 10] = [
    "--yes-always",
    "--no-pretty",
    "--no-stream",
    "--no-check-update",
    "--no-gitignore",
    "--no-analytics",
    "--chat-history-file",
    "/dev/null",
    "--input-history-file",
    "/dev/null",
];

/// Where Aider 0.86 keeps its repo-map cache (`RepoMap.TAGS_CACHE_DIR`, under the repository's
/// root). pitboss hides it from git in the worktree (see `own_files`); `--map-tokens 0` would
/// avoid it only by switching the repo map off, which changes what the model sees.
pub(crate) const AIDER_TAGS_CACHE: &str = ".aider.tags.cache.v4";

/// Runs Aider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AiderAdapter {
    /// `aider` on `PATH` unless configured (`agent.binary`).
    pub binary: PathBuf,
    /// `--model`, when configured (`openai/gpt-4.1`, `sonnet`, …).
    pub model: Option<String>,
    /// Passed through after ours (`--openai-api-base …`, `--edit-format whole`).
    pub extra_args: Vec<String>,
}

impl AiderAdapter {
    #[cfg(test)]
    pub(crate) fn new(binary: impl Into<PathBuf>) -> Self {
        AiderAdapter {
            binary: binary.into(),
            model: None,
            extra_args: Vec::new(),
        }
    }
}

impl Adapter for AiderAdapter {
    fn name(&self) -> &str {
        "aider"
    }

    fn program(&self) -> &Path {
        &self.binary
    }

    fn invocation(&self, ctx: &SessionContext<'_>) -> Invocation {
        // NB: stdin stays /dev/null: with `--yes-always` Aider asks nothing, and a closed stdin
        // ends it at once if it ever does.
        Invocation::new(&self.binary, ctx.worktree)
            .arg("--message-file")
            .arg(ctx.input_file)
            .args(AIDER_FLAGS)
            .flag_opt("--model", self.model.as_ref())
            .args(&self.extra_args)
            .envs(ctx.env)
    }

    fn parser(&self, _ctx: &SessionContext<'_>) -> Box<dyn StreamParser> {
        Box::new(AiderParser::new())
    }

    fn tested_version(&self) -> Option<&'static str> {
        Some("0.86.2")
    }

    /// Its repo-map cache, at the top of the git work tree; Aider has no option to move it.
    fn own_dirs(&self) -> &'static [&'static str] {
        &[AIDER_TAGS_CACHE]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::adapter::test_context;
    use crate::agent::invocation::StdinFrom;

    #[test]
    fn invocation_takes_the_prompt_by_file_never_argv() {
        let ctx = test_context();
        let adapter = AiderAdapter {
            model: Some("openai/gpt-4.1".into()),
            extra_args: vec!["--edit-format".into(), "whole".into()],
            ..AiderAdapter::new("/opt/aider")
        };
        let inv = adapter.invocation(&ctx);
        assert_eq!(
            inv.display(),
            "/opt/aider --message-file /tmp/in --yes-always --no-pretty --no-stream \
             --no-check-update --no-gitignore --no-analytics --chat-history-file /dev/null \
             --input-history-file /dev/null --model openai/gpt-4.1 --edit-format whole"
        );
        assert_eq!(inv.stdin, StdinFrom::Null);
        assert_eq!(
            inv.env_set.get("PITBOSS_SEQ").map(String::as_str),
            Some("1")
        );
    }
}
