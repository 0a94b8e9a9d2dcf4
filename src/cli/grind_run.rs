//! The real `git pitboss grind` (not the dry run): resolve the plan and the run to resume,
//! wire Ctrl-C and SIGTERM to the loop's controls, draw progress, and map how the run stopped
//! to the documented exit code.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use super::grind::GrindArgs;
use super::grind_output::observer;
use super::project::Paths;
use super::resolve::{open_run, store_err};
use crate::cli::{CliError, CliResult, Ctx, ExitStatus};
use crate::git::Repo;
use crate::grind::budget::StopReason;
use crate::grind::plan::{self, PlanRequest, RotationChoice};
use crate::grind::run::{GrindControls, GrindError, GrindRequest, GrindSummary, StopCause, grind};
use crate::store::{RunId, RunStore};

pub fn cmd_grind_run(ctx: &Ctx, args: &GrindArgs, repo: &Repo, mut req: PlanRequest) -> CliResult {
    let store = RunStore::new(repo, ctx.clock.as_ref(), ctx.entropy.as_ref());
    let resume = match &args.resume {
        None => None,
        Some(arg) => Some(resume_target(&store, arg)?),
    };
    if let (None, Some(id)) = (&req.rotation, &resume) {
        let run = store.open_run(id).map_err(store_err)?;
        if let Some(name) = run.meta.rotation {
            req.rotation = Some(RotationChoice::Name(name));
        }
    }
    let paths = Paths::new(Some(req.root.clone()));
    let plan = plan::plan(&req).map_err(|e| {
        for p in &e.problems {
            ctx.ui.status(&format!("error: {}", paths.bare(p)));
        }
        CliError::user(anyhow::anyhow!("the run cannot start: {} problem(s) in the prompts, rotation or config", e.problems.len()))
            .hint("`git pitboss prompts validate` lists them; `git pitboss grind --dry-run` shows the whole plan")
    })?;
    if !args.quiet {
        for w in &plan.warnings {
            ctx.ui.warn(&paths.bare(w));
        }
    }
    let controls = GrindControls::default();
    install_signal_handlers(&controls, ctx, args.quiet || args.json);
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let exe = std::env::current_exe().map_err(|e| {
        CliError::internal(anyhow::Error::new(e).context("cannot find the git-pitboss executable"))
    })?;
    let greq = GrindRequest {
        base: args.base.clone(),
        resume,
        env,
        exe,
        stop_on_rate_limit: args.stop_on_rate_limit,
        pid: std::process::id(),
    };
    let mut obs = observer(ctx, args.json, args.quiet);
    let summary = grind(
        repo,
        ctx.clock.as_ref(),
        ctx.entropy.as_ref(),
        &plan,
        &greq,
        &controls,
        obs.as_mut(),
    )
    .map_err(grind_err)?;
    Ok(exit_status(&summary))
}

/// `--resume` without a value: the newest run that can go on; with one, that run.
fn resume_target(store: &RunStore<'_>, arg: &str) -> CliResult<RunId> {
    if !arg.is_empty() {
        return Ok(open_run(store, arg)?.id);
    }
    let listing = store.list().map_err(store_err)?;
    listing
        .runs
        .into_iter()
        .filter(|r| r.status.as_str() != "finished")
        .max_by_key(|r| (r.started_at, r.id.clone()))
        .map(|r| r.id)
        .ok_or_else(|| {
            CliError::user(anyhow::anyhow!("there is no stopped run to resume"))
                .hint("`git pitboss ls` lists runs; `git pitboss grind --resume <run>` names one")
        })
}

/// Ctrl-C once: finish the current session, then stop. Twice, or SIGTERM: abort it now.
fn install_signal_handlers(controls: &GrindControls, ctx: &Ctx, quiet: bool) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        ctx.ui
            .warn("cannot watch for Ctrl-C; stop the run with `kill` if needed");
        return;
    };
    let controls = controls.clone();
    let ui = ctx.ui;
    std::thread::spawn(move || {
        for sig in signals.forever() {
            let first = !controls.stop_after_session.swap(true, Ordering::SeqCst);
            if sig == SIGINT && first {
                if !quiet {
                    ui.status("\nstopping after this session (Ctrl-C again to abort it now)");
                }
            } else {
                if !quiet {
                    ui.status("\naborting the session");
                }
                controls.agent.request_abort();
            }
        }
    });
}

pub fn grind_err(e: GrindError) -> CliError {
    let hint = match &e {
        // Only a lock another grind holds: one we cannot even open (a read-only repository)
        // is not a running grind, and the file-system hint of the exit funnel says so.
        GrindError::Lock(crate::grind::lock::LockError::Held { .. }) => Some(
            "wait for it to finish, or stop it (Ctrl-C in its terminal, or `kill <pid>`)"
                .to_string(),
        ),
        GrindError::Base(crate::git::BaseError::Detached) => {
            Some("check out a branch, or pass --base <branch>".into())
        }
        GrindError::Base(crate::git::BaseError::NoCommits) => {
            Some("make a first commit; the run branch starts from it".into())
        }
        GrindError::BranchExists(b) => {
            Some(format!("delete it (`git branch -D {b}`) or resume its run"))
        }
        GrindError::AgentMissing(_) => {
            Some("`git pitboss grind --dry-run` shows the agent a run would start".into())
        }
        _ => None,
    };
    let user = e.is_user_error();
    let mut err = if user {
        CliError::user(e)
    } else {
        CliError::internal(e)
    };
    if let Some(h) = hint {
        err = err.hint(h);
    }
    err
}

/// The documented exit codes of a run that went to its end.
pub fn exit_status(s: &GrindSummary) -> ExitStatus {
    match &s.stop {
        StopCause::User => ExitStatus::Aborted,
        StopCause::Budget { reason } if reason.is_failure_limit() => {
            ExitStatus::ConsecutiveFailures
        }
        StopCause::Budget {
            reason: StopReason::Iterations { .. },
        }
        | StopCause::Exhausted => {
            if s.had_failures() {
                ExitStatus::Failed
            } else {
                ExitStatus::Success
            }
        }
        StopCause::Budget { .. } | StopCause::RateLimited { .. } => ExitStatus::Budget,
    }
}
