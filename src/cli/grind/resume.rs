//! `grind --resume` on the command line: the run goes on the way it was started (see
//! [`crate::plan::started`]) unless the command line says otherwise, and grind says which
//! settings the command line overrode. The real run and the dry run share this.

use crate::cli::{CliError, CliResult, Ctx};
use crate::git::Repo;
use crate::grind::summary::{GrindSummary, StopCause};
use crate::plan::Plan;
use crate::plan::budget::StopReason;
use crate::plan::started::{Overridden, StartedWith};
use crate::plan::{PlanRequest, RotationChoice};
use crate::store::Run;

/// How a resumed run's request was completed.
#[derive(Debug, Default)]
pub(crate) struct Resumed {
    pub started: Option<StartedWith>,
    pub overridden: Vec<Overridden>,
    /// `--agent` or `--agent-cmd` was given on this command line.
    agent_given: bool,
}

/// Fills `req` from how `run` was started, where the command line left it unset: from this
/// clone's own copy of the start when it has one, else from `run.json`, whose values are
/// redacted; a redacted value the command line does not give again is refused.
pub(crate) fn prepare(repo: &Repo, run: &Run, req: &mut PlanRequest) -> CliResult<Resumed> {
    let agent_given = req.agent.backend.is_some() || req.agent.command.is_some();
    let local = StartedWith::read_local(repo.common_dir(), &run.id);
    let from_run_json = local.is_none();
    let started = local.or_else(|| StartedWith::read(&run.meta));
    let overridden = started.as_ref().map(|s| s.apply(req)).unwrap_or_default();
    if let Some(s) = started.as_ref().filter(|_| from_run_json) {
        refuse_redacted(run, s, &overridden)?;
    }
    // The rotation the run used, however it was chosen (`--rotation`, `default_rotation`, the
    // default file), unless told otherwise: a config changed since does not switch it.
    if let (None, Some(name)) = (&req.rotation, &run.meta.rotation) {
        req.rotation = Some(RotationChoice::Name(name.clone()));
    }
    Ok(Resumed {
        started,
        overridden,
        agent_given,
    })
}

/// Refuses a resume that would take a redacted value from `run.json` (a clone that did not
/// start the run has only those): it names the flags to give again.
fn refuse_redacted(run: &Run, s: &StartedWith, overridden: &[Overridden]) -> CliResult<()> {
    let missing: Vec<(&str, String)> = s
        .redacted_flags()
        .into_iter()
        .filter(|(flag, _, _)| !overridden.iter().any(|o| o.replaces(flag)))
        .map(|(_, shown, was)| (shown, was))
        .collect();
    let Some((first, _)) = missing.first() else {
        return Ok(());
    };
    let was: Vec<String> = missing.iter().map(|(f, v)| format!("{f} {v:?}")).collect();
    let flags: Vec<&str> = missing.iter().map(|(f, _)| *f).collect();
    Err(CliError::user(anyhow::anyhow!(
        "run {} was started with {}: the secret in it is not kept in the run (runs are pushed), \
         and this clone, which did not start the run, has no copy of it",
        run.id,
        was.join(" and ")
    ))
    .hint(format!(
        "pass {} again, in full: git pitboss grind --resume {} {first} '<as you started it>'",
        flags.join(" and "),
        run.id
    )))
}

/// Applies the kept model to the plan, and refuses to go on with another agent than the run's
/// own when nothing on the command line asked for it.
pub(crate) fn check_plan(r: &Resumed, run: &Run, plan: &mut Plan) -> CliResult<()> {
    if let Some(s) = &r.started {
        s.apply_model(plan);
    }
    let now = plan.agent.backend.value.as_str();
    if let Some(was) = &run.meta.agent
        && !r.agent_given
        && was != now
    {
        let how = if was == "command" {
            "--agent-cmd '<its command>'".to_string()
        } else {
            format!("--agent {was}")
        };
        return Err(CliError::user(anyhow::anyhow!(
            "run {} was started with the {was} agent; resuming it would use the {now} agent",
            run.id
        ))
        .hint(format!(
            "pass {how} to go on as it started, or --agent {now} to switch on purpose"
        )));
    }
    Ok(())
}

/// Says which settings of the start the command line overrode.
pub(crate) fn say_overridden(ctx: &Ctx, run: &Run, r: &Resumed) {
    if r.overridden.is_empty() {
        return;
    }
    let list: Vec<String> = r
        .overridden
        .iter()
        .map(|o| format!("{} (started with {})", o.flag, o.was))
        .collect();
    ctx.ui.status(&format!(
        "resuming run {} with what the command line overrides: {}",
        run.id,
        list.join(", ")
    ));
}

/// The command that takes a stopped run up again, as grind prints it at the end: the run goes
/// on as it started, so `--resume <run>` is enough, plus a larger budget when a budget stopped
/// it (the same one would refuse to start).
pub(crate) fn resume_command(s: &GrindSummary) -> String {
    let more = match &s.stop {
        StopCause::Budget {
            reason: StopReason::Cost { limit, .. },
        } => format!(" --max-cost {:.2}", limit * 2.0),
        StopCause::Budget {
            reason: StopReason::Tokens { limit, .. },
        } => format!(" --max-tokens {}", limit.saturating_mul(2)),
        StopCause::Budget {
            reason: StopReason::Time { .. },
        } => " --until <a later time>".to_string(),
        _ => String::new(),
    };
    format!("git pitboss grind --resume {}{more}", s.run)
}
