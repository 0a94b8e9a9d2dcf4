//! `git pitboss agents [--json]`: each agent backend, whether its program is found, its version,
//! the effective model and settings. What to run when a session will not start.

use std::io::Write;
use std::time::Duration;

use clap::Args;

use crate::cli::grind::preflight::ROOT_BYPASS_HINT;
use crate::cli::project;
use crate::cli::ui::{self, Style};
use crate::cli::{CliResult, Ctx, ExitStatus};
use crate::config::{self, Backend, Config};
use crate::grind::agents::{AgentInfo, AgentsRequest, describe};
use crate::plan::{AgentOverride, resolve_agent};

/// How long an agent may take to print its version.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Show each agent backend: its program and version, the model and settings a run would use.
///
/// Exits 0 when the backend `grind` would use (`[agent] backend`, else Claude Code) is ready,
/// 1 when it is not.
#[derive(Debug, Args)]
pub(crate) struct AgentsArgs {
    /// One JSON array of backends.
    #[arg(long)]
    json: bool,
}

pub(crate) fn cmd_agents(ctx: &Ctx, args: AgentsArgs) -> CliResult {
    let (repo, root) = project::root(ctx)?;
    let (config, problems) = Config::load(&root.join(config::CONFIG_FILE));
    for p in &problems {
        ctx.ui.warn(&p.to_string());
    }
    let trusted = trusted(&repo);
    let mut infos = describe(&AgentsRequest {
        config: &config,
        path_var: std::env::var_os("PATH"),
        root,
        probe_timeout: PROBE_TIMEOUT,
        trusted,
    });
    root_bypass(&config, &mut infos);
    let mut out = ui::stdout();
    if args.json {
        render_json(&mut out, &infos)?;
    } else {
        render_text(ctx, &mut out, &infos)?;
    }
    out.flush()?;
    let ready = infos.iter().any(|i| i.selected && i.problem.is_none());
    Ok(if ready {
        ExitStatus::Success
    } else {
        ExitStatus::Failed
    })
}

/// `agents --json`: every backend's facts.
fn render_json(out: &mut impl Write, infos: &[AgentInfo]) -> CliResult<()> {
    serde_json::to_writer_pretty(&mut *out, infos)?;
    writeln!(out)?;
    Ok(())
}

/// `agents`: a block per backend, a blank line between.
fn render_text(ctx: &Ctx, out: &mut impl Write, infos: &[AgentInfo]) -> std::io::Result<()> {
    for (i, info) in infos.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        human(ctx, out, info)?;
    }
    Ok(())
}

/// Claude Code as root with bypassPermissions and no IS_SANDBOX: the same refusal grind gives.
fn root_bypass(config: &Config, infos: &mut [AgentInfo]) {
    let over = AgentOverride {
        backend: Some(Backend::Claude),
        command: None,
    };
    let Ok(planned) = resolve_agent(&over, &config.agent, &config.pricing) else {
        return;
    };
    if let Some(p) = crate::cli::grind::preflight::root_bypass(&planned) {
        for info in infos.iter_mut().filter(|i| i.backend == Backend::Claude) {
            let refusal = format!("{p} ({ROOT_BYPASS_HINT})");
            info.problem = Some(match info.problem.take() {
                Some(first) => format!("{first}; {refusal}"),
                None => refusal,
            });
        }
    }
}

fn human(ctx: &Ctx, out: &mut impl Write, info: &AgentInfo) -> std::io::Result<()> {
    let mark = if info.selected {
        " (used by grind without --agent)"
    } else {
        ""
    };
    let state = match &info.problem {
        Some(_) => ctx.ui.paint(Style::Bad, "not ready"),
        None => ctx.ui.paint(Style::Good, "ready"),
    };
    writeln!(out, "{}{mark}: {state}", info.backend)?;
    if let Some(p) = &info.program {
        match &info.found {
            Some(f) => writeln!(out, "  program:  {p} ({})", f.display())?,
            None => writeln!(out, "  program:  {p}")?,
        }
    }
    if let Some(v) = &info.version {
        writeln!(out, "  version:  {v}")?;
    }
    if info.found.is_some() || info.problem.is_some() && info.program.is_some() {
        let model = info.model.as_deref().unwrap_or("the agent's default");
        writeln!(out, "  model:    {model}")?;
    }
    for (k, s) in &info.settings {
        writeln!(out, "  {k}: {} ({})", s.value, s.from)?;
    }
    if let Some(p) = &info.problem {
        writeln!(out, "  problem:  {p}")?;
    }
    if let Some(w) = &info.warning {
        writeln!(out, "  warning:  {w}")?;
    }
    if let Some(n) = &info.not_run {
        writeln!(out, "  not run:  {n}")?;
        writeln!(
            out,
            "            if you trust this repository: git config {TRUST_KEY} true"
        )?;
    }
    Ok(())
}

/// The git config key by which a user says a repository's own programs may be run by
/// diagnostics. Only the user's config can set it (a clone brings no `.git/config`).
pub(crate) const TRUST_KEY: &str = "pitboss.trusted";

/// Whether the user trusts this repository: `pitboss.trusted` in the repository's own
/// `.git/config` or the user's global config.
pub(crate) fn trusted(repo: &crate::git::Repo) -> bool {
    repo.config_string(TRUST_KEY)
        .ok()
        .flatten()
        .is_some_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "true" | "yes" | "on" | "1"
            )
        })
}
