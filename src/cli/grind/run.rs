//! The real `git pitboss grind` (not the dry run): resolve the plan and the run to resume,
//! wire Ctrl-C and SIGTERM to the loop's controls, draw progress, and map how the run stopped
//! to the documented exit code.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::GrindArgs;
use super::output::observer;
use super::resume;
use crate::cli::project::Paths;
use crate::cli::resolve::open_run;
use crate::cli::{CliError, CliResult, Ctx, ExitStatus};
use crate::git::Repo;
use crate::grind::reopen;
use crate::grind::request::{GrindControls, GrindRequest};
use crate::grind::run::grind;
use crate::grind::summary::{GrindSummary, StopCause};
use crate::plan::at_start::{self, Standing};
use crate::plan::budget::{Spent, StopReason};
use crate::plan::started::StartedWith;
use crate::plan::{self, PlanRequest};
use crate::store::{RunId, RunStore};

pub(crate) fn cmd_grind_run(
    ctx: &Ctx,
    args: &GrindArgs,
    repo: &Repo,
    mut req: PlanRequest,
) -> CliResult {
    let store = RunStore::new(repo, ctx.clock.as_ref(), ctx.entropy.as_ref());
    let resume = match &args.resume {
        None => None,
        Some(arg) => Some(resume_target(&store, arg)?),
    };
    let (plan, new_run) = plan_run(ctx, args, &store, resume.as_ref(), &mut req)?;
    if !args.quiet
        && let Some(w) = super::preflight::uncommitted_inputs(repo, &plan)
    {
        ctx.ui.warn(&w);
    }
    refuse_unstartable(ctx, args, repo, &plan, new_run)?;
    let controls = GrindControls::default();
    supervise(ctx, args, &plan, &controls)?;
    let env: BTreeMap<String, String> = crate::cli::project::env_text();
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
        started_with: new_run.then(|| StartedWith::of(&req, &plan)),
    };
    let mut obs = super::output::WithEventsFile {
        file: crate::grind::events_file::EventsFile::new(repo.common_dir()),
        inner: observer(ctx, args.json, args.quiet),
    };
    let summary = grind(
        repo,
        ctx.clock.as_ref(),
        ctx.entropy.as_ref(),
        &plan,
        &greq,
        &controls,
        &mut obs,
    );
    // What no session could be told to own (without cgroups) ends with grind, not after it.
    let strays = crate::agent::end_strays(crate::agent::ProcessLimits::default().grace);
    if strays > 0 {
        ctx.ui.warn(&format!(
            "ended {strays} process(es) left running that no session could be told to have \
             started (an emptied environment, detached between two scans)"
        ));
    }
    let summary = summary?;
    let status = exit_status(&summary);
    if args.pr || args.require_pr {
        let stdout = !args.json && !args.quiet;
        let pr = crate::cli::share::pr::after_grind(
            ctx,
            &store,
            &summary.run,
            status,
            args.require_pr,
            stdout,
        );
        return Ok(pr);
    }
    Ok(status)
}

/// The plan of the run, made as the resumed run (if `resume` names one) started unless told
/// otherwise; prints the plan's problems and warnings. Also returns whether the run is new
/// (so what it started with is recorded).
fn plan_run(
    ctx: &Ctx,
    args: &GrindArgs,
    store: &RunStore<'_>,
    resume: Option<&RunId>,
    req: &mut PlanRequest,
) -> CliResult<(plan::Plan, bool)> {
    let repo = store.repo();
    let resumed = match resume {
        Some(id) => {
            let run = store.open_run(id)?;
            let r = crate::grind::resume::prepare(repo, &run, req)?;
            Some((run, r))
        }
        None => None,
    };
    let paths = Paths::new(Some(req.root.clone()));
    let mut plan = plan::plan(req).map_err(|e| {
        for p in &e.problems {
            ctx.ui.status(&format!("error: {}", paths.bare(p)));
        }
        CliError::user(anyhow::anyhow!("the run cannot start: {} problem(s) in the prompts, rotation or config", e.problems.len()))
            .hint("`git pitboss prompts validate` lists them; `git pitboss grind --dry-run` shows the whole plan")
    })?;
    if let Some((run, r)) = &resumed {
        crate::grind::resume::check_plan(r, run, &mut plan)?;
        if !args.quiet {
            resume::say_overridden(ctx, run, r);
        }
    }
    if !args.quiet {
        for w in &plan.warnings {
            ctx.ui.warn(&paths.bare(w));
        }
    }
    Ok((plan, resumed.is_none()))
}

/// Refuses, before anything is written, what the dry run checks beyond the plan: the first
/// problem is the error (with its hint), the others are printed above it.
fn refuse_unstartable(
    ctx: &Ctx,
    args: &GrindArgs,
    repo: &Repo,
    plan: &plan::Plan,
    new_run: bool,
) -> CliResult<()> {
    // (A resumed run's worktree holds the run branch, not the base: only new runs are checked
    // for files missing from the base.)
    let base = if new_run {
        repo.resolve_base(args.base.as_deref())
            .ok()
            .map(|b| b.commit)
    } else {
        None
    };
    let mut problems = super::preflight::problems(repo, plan, base);
    // A new run that could not start a single session (`--until` closer than
    // min_session_seconds) is refused, as the dry run does, rather than made and stopped. (A
    // resumed run's budgets are checked by the engine as it takes the run up.)
    let now = ctx.clock.now();
    let fresh = Standing {
        started_at: now,
        spent: &Spent::default(),
        fired: None,
    };
    if new_run && let Some(reason) = at_start::budgets_at_start(plan, fresh, now).stop {
        problems.push((
            format!("a budget is already spent: {reason}"),
            "give a later --until, or lower [grind.budgets] min_session_seconds".to_string(),
        ));
    }
    if let Some((_, hint)) = problems.first() {
        for (p, _) in &problems[1..] {
            ctx.ui.status(&format!("error: {p}"));
        }
        return Err(CliError::user(anyhow::anyhow!("{}", problems[0].0)).hint(hint.clone()));
    }
    Ok(())
}

/// Wires Ctrl-C and SIGTERM to `controls`, and makes this process the subreaper of the
/// agents' processes.
fn supervise(
    ctx: &Ctx,
    args: &GrindArgs,
    plan: &plan::Plan,
    controls: &GrindControls,
) -> CliResult<()> {
    // A parallel grind says itself, above its live lines, what one Ctrl-C does to its sessions
    // (a line printed from here would be drawn over by their block).
    let parallel = plan.slots() > 1;
    install_signal_handlers(controls, ctx, args.quiet || args.json, parallel);
    // Descendants of agents that `setsid` stay ours, so each session's end ends them too.
    if !cgroups_wanted()? {
        crate::agent::no_cgroups();
    }
    if let Err(e) = crate::agent::become_subreaper() {
        ctx.ui.warn(&format!(
            "cannot become the subreaper of the agents' processes ({e}): a process an agent \
             detaches with setsid may outlive its session"
        ));
    }
    Ok(())
}

/// Whether sessions run in cgroups of their own where the machine allows: `PITBOSS_CGROUPS`
/// unset, empty, `auto` or `on`: yes; `off`: no (the fallback, see docs/agents.md).
fn cgroups_wanted() -> CliResult<bool> {
    let value = std::env::var_os("PITBOSS_CGROUPS").unwrap_or_default();
    match value.to_string_lossy().as_ref() {
        "" | "auto" | "on" => Ok(true),
        "off" => Ok(false),
        other => Err(CliError::user(anyhow::anyhow!(
            "PITBOSS_CGROUPS is {other:?}: it must be auto, on or off"
        ))
        .hint("unset it to have sessions in cgroups where the machine allows")),
    }
}

/// `--resume` without a value: the newest run that grind made and that can go on; with one,
/// that run.
fn resume_target(store: &RunStore<'_>, arg: &str) -> CliResult<RunId> {
    if !arg.is_empty() {
        return Ok(open_run(store, arg)?.id);
    }
    latest_resumable(store)
}

/// The run a bare `--resume` means (the real run and the dry run agree).
pub(crate) fn latest_resumable(store: &RunStore<'_>) -> CliResult<RunId> {
    reopen::latest_resumable(store)
        ?
        .ok_or_else(|| {
            CliError::user(anyhow::anyhow!(
                "there is no run to resume: no run made by `git pitboss grind` is stopped or aborted with its branch here"
            ))
            .hint("`git pitboss ls` lists runs; `git pitboss grind --resume <run>` names one")
        })
}

/// How close together two SIGINTs must come to be one keypress.
///
/// Under `git pitboss`, one Ctrl-C reaches us twice: the terminal sends SIGINT to its whole
/// foreground process group (git and us), and git passes the one it got on to its child too
/// (git's run-command cleanup). Both arrive within milliseconds; a person who wants the session
/// aborted presses again after reading "Ctrl-C again to abort it now", seconds later. One
/// second keeps both apart with room for a loaded machine, where git may run its handler late.
/// (Telling git's copy from the terminal's by its sender would miss the case where git alone is
/// signalled, `kill -INT <git's pid>`, which then reaches us only once.)
pub(crate) const KEYPRESS_WINDOW: Duration = Duration::from_secs(1);

/// Ctrl-C once: finish the current session, then stop. Again (after [`KEYPRESS_WINDOW`]): abort
/// it now. SIGTERM, or SIGHUP (the terminal closed, an ssh session dropped): abort it now.
/// An aborted session is recorded with its transcript and its work as a patch, and the run
/// stays resumable.
fn install_signal_handlers(controls: &GrindControls, ctx: &Ctx, quiet: bool, parallel: bool) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut watched = vec![SIGINT, SIGTERM];
    // Under `nohup` the hang-up is ignored on purpose: keep it so.
    if !ignored_at_start(SIGHUP) {
        watched.push(SIGHUP);
    }
    let Ok(mut signals) = signal_hook::iterator::Signals::new(watched) else {
        ctx.ui
            .warn("cannot watch for Ctrl-C; stop the run with `kill` if needed");
        return;
    };
    let controls = controls.clone();
    let ui = ctx.ui;
    std::thread::spawn(move || {
        let mut first_keypress: Option<Instant> = None;
        for sig in signals.forever() {
            controls.stop_after_session.store(true, Ordering::SeqCst);
            if sig == SIGINT {
                match first_keypress {
                    None => {
                        first_keypress = Some(Instant::now());
                        if !quiet && !parallel {
                            ui.status(
                                "\nstopping after this session (Ctrl-C again to abort it now)",
                            );
                        }
                        continue;
                    }
                    // The same keypress, passed on by git.
                    Some(t) if t.elapsed() < KEYPRESS_WINDOW => continue,
                    Some(_) => {}
                }
            }
            if !quiet && !parallel && !controls.agent.abort_requested() {
                ui.status("\naborting the session");
            }
            controls.agent.request_abort();
        }
    });
}

/// Whether `sig` was ignored when we started (`nohup` ignores SIGHUP), read from
/// `/proc/self/status` (`SigIgn`, a hex mask with bit `sig - 1`): the only way to ask without
/// `unsafe`. Where it cannot be read, nothing counts as ignored.
fn ignored_at_start(sig: i32) -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| sig > 0 && mask & (1 << (sig - 1)) != 0)
}

/// The documented exit codes of a run that went to its end.
pub(crate) fn exit_status(s: &GrindSummary) -> ExitStatus {
    match &s.stop {
        StopCause::User { .. } => ExitStatus::Aborted,
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
