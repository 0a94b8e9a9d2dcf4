//! `git pitboss grind --dry-run`: everything a run would do, resolved and checked, with nothing
//! run and nothing written. Exit 0 when a real run could start, 4 with the reasons otherwise.
//!
//! It reads the config, prompts and rotations ([`crate::plan`]), git (the base commit,
//! read-only), `PATH` (is the agent there?) and, with `--resume`, the stored run; then it asks
//! the scheduler for its next 20 picks and the budgets whether a session could start now.

use std::path::{Path, PathBuf};

use super::GrindArgs;
use super::dry_report::{self, Report};
use super::resume;
use super::run::latest_resumable;
use crate::cli::errors::refusal_hint;
use crate::cli::project::Paths;
use crate::cli::resolve::open_run;
use crate::cli::{CliResult, Ctx, ExitStatus};
use crate::git::Repo;
use crate::grind::error::Refusal;
use crate::grind::reopen;
use crate::grind::resume::ResumePoint;
use crate::plan::at_start::{self, BudgetsAtStart, Standing};
use crate::plan::budget::Spent;
use crate::plan::{self, PlanRequest};
use crate::store::{Run, RunId, RunStore};

/// How many picks the dry run shows.
pub(crate) const PREVIEW_PICKS: usize = 20;

/// The report of a dry run whose plan could not be made: its problems and warnings.
fn finish_unplanned(
    ctx: &Ctx,
    args: &GrindArgs,
    e: &plan::PlanError,
    paths: &Paths,
    found: &Findings,
) -> CliResult {
    let problems: Vec<String> = e.problems.iter().map(|p| paths.bare(p)).collect();
    let warnings: Vec<String> = e.warnings.iter().map(|p| paths.bare(p)).collect();
    finish(
        ctx,
        args,
        &Report::failed(problems, warnings),
        paths,
        &found.hints,
    )
}

pub(crate) fn cmd_dry_run(
    ctx: &Ctx,
    args: &GrindArgs,
    repo: &Repo,
    mut req: PlanRequest,
) -> CliResult {
    let paths = Paths::new(Some(req.root.clone()));
    let now = ctx.clock.now();
    let mut found = Findings::default();
    let resuming = match &args.resume {
        Some(run) => Some(start_resume(ctx, repo, run, &mut req, &mut found)?),
        None => None,
    };
    let plan = match plan::plan(&req) {
        Ok(mut plan) => {
            if let Some(r) = &resuming {
                crate::grind::resume::check_plan(&r.prepared, &r.run, &mut plan)?;
                if !args.quiet {
                    resume::say_overridden(ctx, &r.run, &r.prepared);
                }
            }
            plan
        }
        Err(e) => return finish_unplanned(ctx, args, &e, &paths, &found),
    };
    let resume_id = resuming.as_ref().map(|r| r.run.id.clone());
    let resume = resuming.map(|r| r.point);
    let base = base_of(args, repo, resume.as_ref(), &mut found);
    let agent_found = locate_agent(&plan, &req.root, &mut found);
    let base_oid = match (&resume, &base) {
        (None, Some((c, _))) => c.parse().ok(),
        _ => None,
    };
    for (p, hint) in super::preflight::problems(repo, &plan, base_oid) {
        found.problems.push(format!("{p} ({hint})"));
    }
    let spent = resume.as_ref().map(|r| r.spent).unwrap_or_default();
    let preview = preview_picks(
        &plan,
        resume.as_ref(),
        resume_id.as_ref(),
        &spent,
        &mut found,
    );
    let at = BudgetsNow {
        plan: &plan,
        resume: resume.as_ref(),
        resume_id: resume_id.as_ref(),
        spent: &spent,
        now,
    };
    let mut budgets = check_budgets(&at, repo, &paths, &mut found);
    budgets
        .warnings
        .extend(super::preflight::uncommitted_inputs(repo, &plan));
    let report = Report {
        ready: found.problems.is_empty(),
        problems: found.problems,
        warnings: budgets.warnings,
        workspace: Some(dry_report::Workspace {
            root: req.root.clone(),
            common_dir: clean(repo.common_dir()),
            base_commit: base.as_ref().map(|b| b.0.clone()),
            base_branch: base.and_then(|b| b.1),
            agent_found,
            now,
        }),
        plan: Some(plan),
        session_limits: budgets.session_limits,
        picks: preview.picks,
        iterations_left: preview.iterations_left,
        state: preview.state,
        resume,
        spent,
        stop: budgets.stop,
    };
    finish(ctx, args, &report, &paths, &found.hints)
}

/// What stops a real run from starting, and the hints that go with them, in the order found.
#[derive(Default)]
struct Findings {
    problems: Vec<String>,
    hints: Vec<String>,
}

/// The run `--resume` takes up: where it left off, and what resuming changed in the request.
struct Resuming {
    point: ResumePoint,
    run: Run,
    prepared: crate::grind::resume::Resumed,
}

/// Loads the run to resume, notes why a real resume would refuse it, and makes the request go
/// on as the run started (unless told otherwise).
fn start_resume(
    ctx: &Ctx,
    repo: &Repo,
    arg: &str,
    req: &mut PlanRequest,
    found: &mut Findings,
) -> CliResult<Resuming> {
    let reopen::Look {
        run,
        point,
        refusal,
    } = load_resume(ctx, repo, arg)?;
    if let Some(r) = refusal {
        found.problems.push(r.to_string());
        found.hints.push(refusal_hint(&r));
    }
    // A resumed run goes on as it started, unless told otherwise.
    let prepared = crate::grind::resume::prepare(repo, &run, req)?;
    Ok(Resuming {
        point,
        run,
        prepared,
    })
}

/// The commit (and branch) the run would start from: the resumed run's, or `--base`'s (else
/// HEAD's), noting a problem when it cannot be resolved.
fn base_of(
    args: &GrindArgs,
    repo: &Repo,
    resume: Option<&ResumePoint>,
    found: &mut Findings,
) -> Option<(String, Option<String>)> {
    match resume {
        Some(r) => r.base_commit.clone().map(|c| (c, r.base_branch.clone())),
        None => match repo.resolve_base(args.base.as_deref()) {
            Ok(b) => Some((b.commit.to_string(), b.branch)),
            Err(e) => {
                let what = args
                    .base
                    .as_deref()
                    .map_or("HEAD".to_string(), |b| format!("--base {b}"));
                found
                    .problems
                    .push(format!("cannot start from {what}: {e}"));
                None
            }
        },
    }
}

/// Where the agent program is, found as `grind` will find it: a path relative to the project
/// root, else on `PATH` (`None` for an agent with no program), noting a problem when it is not
/// there.
fn locate_agent(plan: &plan::Plan, root: &Path, found: &mut Findings) -> Option<PathBuf> {
    let path_var = std::env::var_os("PATH");
    let located = (plan.agent.binary())
        .map(|b| crate::agent::locate(Path::new(b), path_var.as_deref(), root));
    if let (Some(program), Some(None)) = (plan.agent.binary(), &located) {
        found.problems.push(format!(
            "the agent program `{program}` is not on PATH (install it, set [agent] binary, or pass --agent-cmd)"
        ));
    }
    located.flatten()
}

/// The scheduler's next picks, and the state they start from.
struct Preview {
    picks: Vec<crate::plan::scheduler::Pick>,
    /// Sessions the iteration budget still allows (the preview stops there).
    iterations_left: Option<u64>,
    /// The scheduler state the picks start from, as JSON.
    state: serde_json::Value,
}

/// The scheduler's next picks ([`at_start::preview`]), noting a problem when no prompt can run
/// again.
fn preview_picks(
    plan: &plan::Plan,
    resume: Option<&ResumePoint>,
    resume_id: Option<&RunId>,
    spent: &Spent,
    found: &mut Findings,
) -> Preview {
    let state = resume.map(|r| r.scheduler.clone()).unwrap_or_default();
    let p = at_start::preview(plan, state.clone(), spent, PREVIEW_PICKS);
    if let Some(e) = p.error {
        found.problems.push(e.to_string());
    }
    if p.exhausted {
        found
            .problems
            .push("no prompt can run again: every prompt has reached its max_runs".into());
        if let Some(run) = resume_id {
            found
                .hints
                .push(refusal_hint(&Refusal::Exhausted { run: run.clone() }));
        }
    }
    Preview {
        picks: p.picks,
        iterations_left: p.iterations_left,
        state: state.to_json(),
    }
}

/// What the budgets are checked against: the plan, the run resumed (if one is) and what it
/// spent, at `now`.
struct BudgetsNow<'a> {
    plan: &'a plan::Plan,
    resume: Option<&'a ResumePoint>,
    resume_id: Option<&'a RunId>,
    spent: &'a Spent,
    now: chrono::DateTime<chrono::Utc>,
}

/// The budgets as a run starting (or resuming) now would see them ([`at_start`], as the real
/// run checks them), noting a problem when one is already spent; with the plan's warnings and
/// what a resume would do with uncommitted changes.
fn check_budgets(
    at: &BudgetsNow<'_>,
    repo: &Repo,
    paths: &Paths,
    found: &mut Findings,
) -> BudgetsAtStart {
    let standing = Standing {
        started_at: at.resume.map_or(at.now, |r| r.started_at),
        spent: at.spent,
        fired: at.resume.map(|r| &r.budget_state),
    };
    let mut b = at_start::budgets_at_start(at.plan, standing, at.now);
    if let Some(reason) = &b.stop {
        found
            .problems
            .push(format!("a budget is already spent: {reason}"));
        if let Some(run) = at.resume_id {
            found.hints.push(refusal_hint(&Refusal::BudgetSpent {
                run: run.clone(),
                reason: reason.clone(),
            }));
        }
    }
    let mut warnings: Vec<String> = at.plan.warnings.iter().map(|p| paths.bare(p)).collect();
    warnings.append(&mut b.warnings);
    if let Some(w) = at.resume_id.and_then(|id| kept_changes(repo, id)) {
        warnings.push(w);
    }
    b.warnings = warnings;
    b
}

/// Prints the report (unless `--quiet`) and the verdict; exit 0 when ready, 4 otherwise.
fn finish(
    ctx: &Ctx,
    args: &GrindArgs,
    report: &Report,
    paths: &Paths,
    hints: &[String],
) -> CliResult {
    if !args.quiet {
        let mut out = crate::cli::ui::stdout();
        if args.json {
            dry_report::write_json(&mut out, report)?;
        } else {
            dry_report::write_human(&mut out, report, paths, &ctx.ui)?;
        }
        std::io::Write::flush(&mut out)?;
        for w in &report.warnings {
            ctx.ui.warn(w);
        }
    }
    if report.ready {
        if !args.quiet && !args.json {
            ctx.ui
                .status("dry run: a run could start; nothing was run or written");
        }
        return Ok(ExitStatus::Success);
    }
    for p in &report.problems {
        ctx.ui.status(&format!("error: {p}"));
    }
    for h in hints {
        ctx.ui.status(&format!("hint: {h}"));
    }
    if !args.quiet {
        ctx.ui.status(&format!(
            "dry run: a run could not start ({} problem(s))",
            report.problems.len()
        ));
    }
    Ok(ExitStatus::Refused)
}

/// The stored run to resume (`""`: the newest a real `--resume` would take up), where it
/// left off, and why the real run would refuse it, if it would ([`reopen::look`]).
fn load_resume(ctx: &Ctx, repo: &Repo, arg: &str) -> CliResult<reopen::Look> {
    let store = RunStore::new(repo, ctx.clock.as_ref(), ctx.entropy.as_ref());
    let id = if arg.is_empty() {
        latest_resumable(&store)?.to_string()
    } else {
        arg.to_string()
    };
    let run = open_run(&store, &id)?;
    Ok(reopen::look(repo, &store, run)?)
}

/// What a resume would do with uncommitted changes in the run's kept worktree.
fn kept_changes(repo: &Repo, id: &RunId) -> Option<String> {
    reopen::dirty_worktree(repo, id).map(|path| {
        format!(
            "the run's worktree {} has uncommitted changes: a resume keeps them as a patch in \
             the run ref, then resets the worktree to the run branch",
            path.display()
        )
    })
}

fn clean(p: &Path) -> PathBuf {
    p.components().collect()
}
