//! `git pitboss agent-demo` (hidden): the process of the built-in demo agent.
//!
//! The `demo` backend re-invokes the `git-pitboss` binary with this subcommand, so the demo
//! agent is a real child process supervised like any other agent. This file only gathers its
//! inputs (stdin, `PITBOSS_*` variables, the working directory) and prints its log; the agent's
//! logic lives in `agent::demo`.

use std::io::{Read, Write};

use crate::agent::demo::{DemoInput, run_demo_agent};
use crate::cli::{CliError, CliResult, Ctx, ExitStatus, ui};

/// Run the built-in demo agent (used by `--agent demo`; not meant to be run by hand).
#[derive(Debug, clap::Args)]
pub(crate) struct AgentDemoArgs {}

pub(crate) fn cmd_agent_demo(ctx: &Ctx, _args: AgentDemoArgs) -> CliResult {
    let mut prompt = String::new();
    std::io::stdin().read_to_string(&mut prompt).map_err(|e| {
        CliError::internal(anyhow::Error::new(e).context("cannot read the prompt from stdin"))
    })?;
    let input = DemoInput::from_vars(|k| std::env::var(k).ok(), &ctx.cwd, prompt);
    let report = run_demo_agent(&input)
        .map_err(|e| CliError::internal(anyhow::Error::new(e).context("demo agent failed")))?;
    let mut out = ui::stdout();
    for line in &report.log {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(if report.failed {
        ExitStatus::Failed
    } else {
        ExitStatus::Success
    })
}
