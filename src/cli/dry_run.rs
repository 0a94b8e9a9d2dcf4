//! `git pitboss grind --dry-run`: everything a run would do, resolved and checked, with nothing
//! run and nothing written. Exit 0 when a real run could start, 4 with the reasons otherwise.
//!
//! It reads the config, prompts and rotations ([`crate::plan`]), git (the base commit,
//! read-only), `PATH` (is the agent there?) and, with `--resume`, the stored run; then it asks
//! the scheduler for its next 20 picks and the budgets whether a session could start now.

use std::path::{Path, PathBuf};

use super::errors::refusal_hint;
use super::grind::GrindArgs;
use super::grind_resume;
use super::grind_run::latest_resumable;
use super::project::Paths;
use super::report::{self, Report};
use super::resolve::open_run;
use crate::cli::{CliResult, Ctx, ExitStatus};
use crate::git::Repo;
use crate::grind::reopen::{Refusal, check_branch};
use crate::grind::resume::{ResumePoint, resume_point};
use crate::plan::budget::Decision;
use crate::plan::{self, PlanRequest};
use crate::store::{Run, RunId, RunStore};

/// How many picks the dry run shows.
pub(crate) const PREVIEW_PICKS: usize = 20;

pub(crate) fn cmd_dry_run(
    ctx: &Ctx,
    args: &GrindArgs,
    repo: &Repo,
    mut req: PlanRequest,
) -> CliResult {
    let paths = Paths::new(Some(req.root.clone()));
    let now = ctx.clock.now();
    let mut problems: Vec<String> = Vec::new();
    let mut hints: Vec<String> = Vec::new();
    let mut resume_id = None;
    let mut resumed = None;
    let resume = match &args.resume {
        Some(run) => {
            let (point, refusal, run) = load_resume(ctx, repo, run)?;
            resume_id = Some(run.id.clone());
            if let Some(r) = refusal {
                problems.push(r.to_string());
                hints.push(refusal_hint(&r));
            }
            // A resumed run goes on as it started, unless told otherwise.
            let r = grind_resume::prepare(repo, &run, &mut req)?;
            resumed = Some((run, r));
            Some(point)
        }
        None => None,
    };
    let plan = match plan::plan(&req) {
        Ok(mut plan) => {
            if let Some((run, r)) = &resumed {
                grind_resume::check_plan(r, run, &mut plan)?;
                if !args.quiet {
                    grind_resume::say_overridden(ctx, run, r);
                }
            }
            plan
        }
        Err(e) => {
            let problems: Vec<String> = e.problems.iter().map(|p| paths.bare(p)).collect();
            let warnings: Vec<String> = e.warnings.iter().map(|p| paths.bare(p)).collect();
            return finish(
                ctx,
                args,
                &Report::failed(problems, warnings),
                &paths,
                &hints,
            );
        }
    };

    let base = match &resume {
        Some(r) => r.base_commit.clone().map(|c| (c, r.base_branch.clone())),
        None => match repo.resolve_base(args.base.as_deref()) {
            Ok(b) => Some((b.commit.to_string(), b.branch)),
            Err(e) => {
                let what = args
                    .base
                    .as_deref()
                    .map_or("HEAD".to_string(), |b| format!("--base {b}"));
                problems.push(format!("cannot start from {what}: {e}"));
                None
            }
        },
    };

    // Found as `grind` will find it: a path relative to the project root, else on `PATH`.
    let path_var = std::env::var_os("PATH");
    let found = (plan.agent.binary())
        .map(|b| crate::agent::locate(Path::new(b), path_var.as_deref(), &req.root));
    if let (Some(program), Some(None)) = (plan.agent.binary(), &found) {
        problems.push(format!(
            "the agent program `{program}` is not on PATH (install it, set [agent] binary, or pass --agent-cmd)"
        ));
    }

    let base_oid = match (&resume, &base) {
        (None, Some((c, _))) => c.parse().ok(),
        _ => None,
    };
    for (p, hint) in super::preflight::problems(repo, &plan, base_oid) {
        problems.push(format!("{p} ({hint})"));
    }

    let spent = resume.as_ref().map(|r| r.spent).unwrap_or_default();
    // The preview stops where the iteration budget would stop the run.
    let iterations_left = plan
        .budgets
        .max_iterations
        .value
        .map(|m| m.saturating_sub(spent.iterations));
    let preview = iterations_left.map_or(PREVIEW_PICKS, |n| PREVIEW_PICKS.min(n as usize));
    let state = resume
        .as_ref()
        .map(|r| r.scheduler.clone())
        .unwrap_or_default();
    let (picks, exhausted) = match plan.scheduler(state.clone()) {
        Ok(s) => (s.preview(preview), s.is_exhausted()),
        Err(e) => {
            problems.push(e.to_string());
            (Vec::new(), false)
        }
    };
    if exhausted {
        problems.push("no prompt can run again: every prompt has reached its max_runs".into());
        if let Some(run) = &resume_id {
            hints.push(refusal_hint(&Refusal::Exhausted { run: run.clone() }));
        }
    }

    let started = resume.as_ref().map_or(now, |r| r.started_at);
    let budgets = plan.budgets(started);
    let stop = match budgets.check(&spent, now) {
        Decision::Continue => None,
        Decision::Stop(reason) => {
            problems.push(format!("a budget is already spent: {reason}"));
            if let Some(run) = &resume_id {
                hints.push(refusal_hint(&Refusal::BudgetSpent {
                    run: run.clone(),
                    reason: reason.clone(),
                }));
            }
            Some(reason)
        }
    };
    // The 80% warnings a resumed run would give at its first check.
    let mut warnings: Vec<String> = plan.warnings.iter().map(|p| paths.bare(p)).collect();
    if let Some(r) = &resume {
        let mut fired = r.budget_state.clone();
        let due = budgets.warnings(&spent, now, &mut fired);
        warnings.extend(due.into_iter().map(|w| w.message));
    }
    if let Some(w) = resume_id.as_ref().and_then(|id| kept_changes(repo, id)) {
        warnings.push(w);
    }
    let session_limits: Vec<Option<u64>> = plan
        .prompts
        .iter()
        .map(|p| {
            budgets
                .session_limit(&p.session_budget(), now)
                .map(|d| d.as_secs())
        })
        .collect();

    let report = Report {
        ready: problems.is_empty(),
        problems,
        warnings,
        workspace: Some(report::Workspace {
            root: req.root.clone(),
            common_dir: clean(repo.common_dir()),
            base_commit: base.as_ref().map(|b| b.0.clone()),
            base_branch: base.and_then(|b| b.1),
            agent_found: found.flatten(),
            now,
        }),
        plan: Some(plan),
        session_limits,
        picks,
        iterations_left,
        state: state.to_json(),
        resume,
        spent,
        stop,
    };
    finish(ctx, args, &report, &paths, &hints)
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
        let mut out = super::ui::stdout();
        if args.json {
            report::write_json(&mut out, report)?;
        } else {
            report::write_human(&mut out, report, paths, &ctx.ui)?;
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
/// left off, and why the real run would refuse it, if it would.
fn load_resume(
    ctx: &Ctx,
    repo: &Repo,
    arg: &str,
) -> CliResult<(ResumePoint, Option<Refusal>, Run)> {
    let store = RunStore::new(repo, ctx.clock.as_ref(), ctx.entropy.as_ref());
    let id = if arg.is_empty() {
        latest_resumable(&store)?.to_string()
    } else {
        arg.to_string()
    };
    let run = open_run(&store, &id)?;
    let records = store.records(&run)?;
    let point = resume_point(&run, &records)?;
    let refusal = check_branch(repo, &store, &run)?.err();
    Ok((point, refusal, run))
}

/// What a resume would do with uncommitted changes in the run's kept worktree (it saves them
/// in the run ref before resetting it; see `grind::leftovers`).
fn kept_changes(repo: &Repo, id: &RunId) -> Option<String> {
    let path = repo
        .common_dir()
        .join("pitboss/worktrees")
        .join(id.as_str())
        .join("0");
    let wt = Repo::open(&path).ok()?;
    wt.worktree_state().ok()?.dirty.then(|| {
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
