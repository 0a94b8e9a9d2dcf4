//! `git pitboss demo`: a real run, offline, in a throwaway repository: a tiny project with two
//! prompts, three sessions of the built-in demo agent (`--max-parallel N`: side by side), and
//! what to look at afterwards.

use std::path::PathBuf;

use clap::Args;

use crate::cli::grind::output::observer;
use crate::cli::grind::run::exit_status;
use crate::cli::{CliError, CliResult, Ctx};
use crate::grind::request::{GrindControls, GrindRequest};
use crate::grind::run::grind;
use crate::plan::{self, AgentOverride, CliBudgets, PlanRequest};
use crate::scaffold::DEMO_PROJECT;

/// Run the built-in demo agent in a throwaway repository and show what a run leaves behind.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Make the demo repository here (an empty or new directory) instead of a temp directory.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// How many sessions to run.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=50))]
    sessions: u64,
    /// Run up to N sessions side by side: the notes sessions run beside each other and all
    /// land; the TODO sessions, which share one file, run alone.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=8))]
    max_parallel: u32,
}

pub(crate) fn cmd_demo(ctx: &Ctx, args: DemoArgs) -> CliResult {
    let dir = match &args.dir {
        Some(d) => {
            let d = ctx.cwd.join(d);
            if d.exists()
                && std::fs::read_dir(&d)
                    .map(|mut e| e.next().is_some())
                    .unwrap_or(true)
            {
                return Err(CliError::user(anyhow::anyhow!(
                    "{} exists and is not empty",
                    d.display()
                ))
                .hint("give a new directory, or leave out --dir to use a temporary one"));
            }
            d
        }
        None => tempfile::Builder::new()
            .prefix("pitboss-demo-")
            .tempdir()
            .map_err(|e| {
                CliError::internal(
                    anyhow::Error::new(e).context("cannot create a temporary directory"),
                )
            })?
            .keep(),
    };
    let who = crate::git::Identity::fallback();
    let repo =
        crate::git::init_with_files(&dir, DEMO_PROJECT, "demo project", &who, ctx.clock.now())?;
    ctx.ui
        .status(&format!("demo repository: {}\n", dir.display()));
    let req = PlanRequest {
        root: dir.clone(),
        agent: AgentOverride {
            backend: Some(crate::config::Backend::Demo),
            command: None,
        },
        budgets: CliBudgets {
            max_iterations: Some(args.sessions),
            ..CliBudgets::default()
        },
        max_parallel: (args.max_parallel > 1).then_some(args.max_parallel),
        ..PlanRequest::default()
    };
    let plan = plan::plan(&req).map_err(CliError::internal)?;
    let greq = GrindRequest {
        base: None,
        resume: None,
        env: crate::cli::project::env_text(),
        exe: std::env::current_exe()?,
        stop_on_rate_limit: true,
        pid: std::process::id(),
        started_with: Some(crate::plan::started::StartedWith::of(&req, &plan)),
    };
    let mut obs = observer(ctx, false, false);
    let controls = GrindControls::default();
    let summary = grind(
        &repo,
        ctx.clock.as_ref(),
        ctx.entropy.as_ref(),
        &plan,
        &greq,
        &controls,
        obs.as_mut(),
    )?;
    let id = &summary.run;
    ctx.ui.status(&format!(
        "\nLook around:\n  cd {}\n  git pitboss ls\n  git pitboss log {id}\n  git pitboss show {id} 1 --transcript\n  git log --oneline {}\n  git log refs/pitboss/grind/{id}",
        dir.display(),
        summary.branch
    ));
    Ok(exit_status(&summary))
}
