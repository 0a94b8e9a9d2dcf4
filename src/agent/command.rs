//! The `command` backend: any program, run with `sh -c`.
//!
//! `--agent command --agent-cmd '<shell command>'` is the escape hatch for every agent we do not
//! know (a script of your own, a CLI without an adapter). The command gets the composed prompt on
//! stdin and the `PITBOSS_*` variables; it may write a result file (see
//! [`super::result_file`]) and a summary file. Its output is free text, so the parser is the
//! [`TextParser`]; its exit code says whether it finished.

use std::path::{Path, PathBuf};

use super::adapter::{Adapter, SessionContext, StreamParser, TextParser};
use super::invocation::Invocation;

/// Runs a shell command as the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandAdapter {
    /// The shell command line, given to `sh -c` (never the prompt: that is on stdin).
    pub command: String,
    /// The shell; `sh` unless configured.
    pub shell: PathBuf,
}

impl CommandAdapter {
    pub fn new(command: impl Into<String>) -> Self {
        CommandAdapter {
            command: command.into(),
            shell: PathBuf::from("sh"),
        }
    }
}

impl Adapter for CommandAdapter {
    fn name(&self) -> &str {
        "command"
    }

    fn program(&self) -> &Path {
        &self.shell
    }

    fn config_key(&self) -> &str {
        "--agent-cmd"
    }

    fn reads_result_file(&self) -> bool {
        true
    }

    fn invocation(&self, ctx: &SessionContext<'_>) -> Invocation {
        Invocation::new(&self.shell, ctx.worktree)
            .arg("-c")
            .arg(&self.command)
            .envs(ctx.env)
            .stdin_file(ctx.input_file)
    }

    fn parser(&self, _ctx: &SessionContext<'_>) -> Box<dyn StreamParser> {
        Box::new(TextParser)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::agent::invocation::StdinFrom;

    #[test]
    fn invocation_is_sh_c_with_prompt_on_stdin_and_env() {
        let env: BTreeMap<String, String> = [("PITBOSS_SEQ".to_string(), "7".to_string())].into();
        let ctx = SessionContext {
            worktree: Path::new("/wt"),
            input_file: Path::new("/tmp/input"),
            env: &env,
            started_at: chrono::DateTime::UNIX_EPOCH,
            max_cost_usd: None,
        };
        let inv = CommandAdapter::new("make fix && git commit -am x").invocation(&ctx);
        assert_eq!(inv.program, PathBuf::from("sh"));
        assert_eq!(inv.args, ["-c", "make fix && git commit -am x"]);
        assert_eq!(inv.cwd, PathBuf::from("/wt"));
        assert_eq!(inv.stdin, StdinFrom::File("/tmp/input".into()));
        assert_eq!(
            inv.env_set.get("PITBOSS_SEQ").map(String::as_str),
            Some("7")
        );
    }
}
