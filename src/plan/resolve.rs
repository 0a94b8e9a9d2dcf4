//! The resolution itself: load, choose, apply precedence, collect every problem.

use super::agent;
use super::{
    CliBudgets, Origin, Plan, PlanError, PlanRequest, PlannedBudgets, PlannedHooks, PlannedPrompt,
    PlannedRotation, RotationChoice, Sourced, prompt_dirs, rotations_dir,
};
use crate::config::{self, BudgetTable, Config};
use crate::fields::{Problem, ProblemKind};
use crate::plan::discover::{Discovery, discover};
use crate::plan::prompt::Prompt;
use crate::plan::rotation::{self, RotationEntry, RotationFile};
use crate::plan::scheduler::Backoff;

pub(super) fn resolve(req: &PlanRequest) -> Result<Plan, PlanError> {
    let config_path = req.root.join(config::CONFIG_FILE);
    let (config, config_problems) = Config::load(&config_path);
    let (mut warnings, mut problems): (Vec<Problem>, Vec<Problem>) =
        config_problems.into_iter().partition(|p| !p.is_error());

    let discovery = discover(&prompt_dirs(req, &config));
    problems.extend(discovery.problems.iter().cloned());
    for s in &discovery.shadowed {
        let msg = format!("shadowed by the project prompt {}", s.winner.display());
        warnings.push(
            Problem::file(&s.hidden, ProblemKind::Invalid(msg))
                .at(None, Some("name"))
                .warning(),
        );
    }

    let (rot, chosen_by) = match choose_rotation(req, &config, &config_path) {
        Ok(r) => r,
        Err(mut ps) => {
            problems.append(&mut ps);
            (None, "built-in")
        }
    };
    let rot_budgets = rot.as_ref().map(|r| r.budgets.clone()).unwrap_or_default();
    let budgets = resolve_budgets(&req.budgets, &rot_budgets, &config);

    let selected = select_prompts(&discovery, rot.as_ref(), &mut problems);
    let mut prompts: Vec<PlannedPrompt> = selected
        .into_iter()
        .map(|(prompt, entry)| plan_prompt(prompt, entry, &discovery, &budgets))
        .collect();
    apply_tag_filters(req, &mut prompts, &mut warnings);
    check_prompts(&prompts, &config, &discovery, &mut problems);

    let max_parallel = resolve_max_parallel(req, rot.as_ref(), &config, &prompts, &mut warnings);

    let hooks = resolve_hooks(rot.as_ref(), &config);

    let backoff = resolve_backoff(req, &config);

    let agent = resolve_agent(req, &config, &config_path, &mut problems);
    if let Some(a) = &agent {
        check_cost_caps(a, &budgets, &prompts, &mut problems);
    }

    let rotation = PlannedRotation {
        name: rot.as_ref().map(|r| r.name.clone()),
        path: rot.as_ref().map(|r| r.path.clone()),
        chosen_by,
        description: rot.as_ref().and_then(|r| r.description.clone()),
        max_parallel,
    };
    match agent {
        Some(agent) if problems.is_empty() => Ok(Plan {
            root: req.root.clone(),
            config_path: config_path.exists().then_some(config_path),
            searched: discovery.searched.clone(),
            skipped: discovery.skipped.clone(),
            prompts,
            rotation,
            budgets,
            hooks,
            agent,
            verify_command: config.grind.verify_command.clone(),
            backoff,
            tags: req.tags.clone(),
            skip_tags: req.skip_tags.clone(),
            warnings,
            config,
        }),
        _ => Err(PlanError { problems, warnings }),
    }
}

/// `max_parallel`, with a warning when no prompt could run beside another.
fn resolve_max_parallel(
    req: &PlanRequest,
    rot: Option<&RotationFile>,
    config: &Config,
    prompts: &[PlannedPrompt],
    warnings: &mut Vec<Problem>,
) -> Sourced<u32> {
    let max_parallel = first(
        [
            (req.max_parallel, Origin::Cli("--max-parallel")),
            (rot.and_then(|r| r.max_parallel), Origin::Rotation),
            (config.grind.max_parallel, Origin::Config),
        ],
        (config::DEFAULT_MAX_PARALLEL, Origin::Default),
    );
    if max_parallel.value > 1 && super::slots(max_parallel.value, prompts) == 1 {
        let msg = format!(
            "max_parallel is {} but no prompt sets `parallel_safe: true`, so sessions will run one at a time",
            max_parallel.value
        );
        warnings.push(Problem::general(ProblemKind::Invalid(msg)).warning());
    }
    max_parallel
}

/// The session hooks: rotation over `[grind.hooks]`.
fn resolve_hooks(rot: Option<&RotationFile>, config: &Config) -> PlannedHooks {
    let rot_hooks = rot.map(|r| r.hooks.clone()).unwrap_or_default();
    let cfg_hooks = &config.grind.hooks;
    let hook = |r: &Option<String>, c: &Option<String>| {
        first_opt([(r.clone(), Origin::Rotation), (c.clone(), Origin::Config)])
    };
    PlannedHooks {
        pre_session: hook(&rot_hooks.pre_session, &cfg_hooks.pre_session),
        post_session: hook(&rot_hooks.post_session, &cfg_hooks.post_session),
        on_failure: hook(&rot_hooks.on_failure, &cfg_hooks.on_failure),
        timeout_seconds: first(
            [
                (rot_hooks.timeout_seconds, Origin::Rotation),
                (cfg_hooks.timeout_seconds, Origin::Config),
            ],
            (config::DEFAULT_HOOK_TIMEOUT_SECONDS, Origin::Default),
        ),
    }
}

/// The scheduler's back-off: command line over `[grind]`; off unless `backoff_after` is set.
fn resolve_backoff(req: &PlanRequest, config: &Config) -> Sourced<Option<Backoff>> {
    let after = first(
        [
            (req.backoff_after, Origin::Cli("--backoff-after")),
            (config.grind.backoff_after, Origin::Config),
        ],
        (0, Origin::Default),
    );
    let skip = req
        .backoff_skip
        .or(config.grind.backoff_skip)
        .unwrap_or(config::DEFAULT_BACKOFF_SKIP);
    Sourced::new(
        (after.value > 0).then_some(Backoff {
            after: after.value,
            skip_turns: skip,
        }),
        after.from,
    )
}

/// The agent, with its price file loaded; a problem when either cannot be used.
fn resolve_agent(
    req: &PlanRequest,
    config: &Config,
    config_path: &std::path::Path,
    problems: &mut Vec<Problem>,
) -> Option<agent::PlannedAgent> {
    let price_file = config.price_file.as_ref().and_then(|rel| {
        let path = req.root.join(rel);
        crate::plan::prices::PriceFile::load(&path)
            .map_err(|why| {
                let msg = format!("the price file {} is not usable: {why}", path.display());
                let field = Some("budgets.price_file");
                problems
                    .push(Problem::file(config_path, ProblemKind::Invalid(msg)).at(None, field));
            })
            .ok()
    });
    match agent::resolve(&req.agent, &config.agent, &config.pricing) {
        Ok(a) => Some(agent::PlannedAgent {
            price_file: price_file.map(std::sync::Arc::new),
            ..a
        }),
        Err(msg) => {
            let field = Some("agent.command");
            problems.push(Problem::file(config_path, ProblemKind::Invalid(msg)).at(None, field));
            None
        }
    }
}

/// A cap that nothing enforces would be a promise not kept: refuse it up front.
fn check_cost_caps(
    a: &agent::PlannedAgent,
    budgets: &PlannedBudgets,
    prompts: &[PlannedPrompt],
    problems: &mut Vec<Problem>,
) {
    let Some(why) = super::cost_cap::cap_unenforceable(a.backend.value) else {
        return;
    };
    let capped = std::iter::once(&budgets.max_session_cost_usd)
        .chain(
            prompts
                .iter()
                .filter(|p| p.excluded.is_none())
                .map(|p| &p.max_session_cost_usd),
        )
        .find(|c| c.value.is_some());
    if let Some(c) = capped {
        let msg = format!(
            "max_session_cost_usd (from {}) cannot be enforced: {why}; remove it, or use an \
             agent that streams its usage (claude, codex, gemini, aider)",
            c.from
        );
        problems.push(Problem::general(ProblemKind::Invalid(msg)));
    }
}

/// The highest-precedence value that is set, or the default.
fn first<T, const N: usize>(layers: [(Option<T>, Origin); N], default: (T, Origin)) -> Sourced<T> {
    layers
        .into_iter()
        .find_map(|(v, o)| v.map(|v| Sourced::new(v, o)))
        .unwrap_or(Sourced::new(default.0, default.1))
}

/// Like [`first`] for limits where "unset" means unlimited.
fn first_opt<T, const N: usize>(layers: [(Option<T>, Origin); N]) -> Sourced<Option<T>> {
    layers
        .into_iter()
        .find_map(|(v, o)| v.map(|v| Sourced::new(Some(v), o)))
        .unwrap_or(Sourced::new(None, Origin::Default))
}

fn resolve_budgets(cli: &CliBudgets, rot: &BudgetTable, config: &Config) -> PlannedBudgets {
    let cfg = &config.grind.budgets;
    let session_seconds = first_opt([
        (rot.max_session_seconds, Origin::Rotation),
        (cfg.max_session_seconds, Origin::Config),
    ]);
    PlannedBudgets {
        max_iterations: first_opt([
            (cli.max_iterations, Origin::Cli("--max-iterations")),
            (rot.max_iterations, Origin::Rotation),
            (cfg.max_iterations, Origin::Config),
        ]),
        until: first_opt([(cli.until, Origin::Cli("--until"))]),
        max_cost_usd: first_opt([
            (cli.max_cost_usd, Origin::Cli("--max-cost")),
            (rot.max_cost_usd, Origin::Rotation),
            (cfg.max_cost_usd, Origin::Config),
        ]),
        max_tokens: first_opt([
            (cli.max_tokens, Origin::Cli("--max-tokens")),
            (rot.max_tokens, Origin::Rotation),
            (cfg.max_tokens, Origin::Config),
        ]),
        consecutive_failure_limit: first(
            [
                (
                    cli.consecutive_failure_limit,
                    Origin::Cli("--consecutive-failure-limit"),
                ),
                (rot.consecutive_failure_limit, Origin::Rotation),
                (config.grind.consecutive_failure_limit, Origin::Config),
            ],
            (config::DEFAULT_CONSECUTIVE_FAILURE_LIMIT, Origin::Default),
        ),
        max_session_seconds: match session_seconds.value {
            Some(_) => session_seconds,
            None => Sourced::new(Some(config::DEFAULT_MAX_SESSION_SECONDS), Origin::Default),
        },
        max_session_cost_usd: first_opt([
            (rot.max_session_cost_usd, Origin::Rotation),
            (cfg.max_session_cost_usd, Origin::Config),
        ]),
        min_session_seconds: first(
            [
                (rot.min_session_seconds, Origin::Rotation),
                (cfg.min_session_seconds, Origin::Config),
            ],
            (config::DEFAULT_MIN_SESSION_SECONDS, Origin::Default),
        ),
    }
}

/// The rotation file to use (`None`: the built-in one) and how it was chosen.
fn choose_rotation(
    req: &PlanRequest,
    config: &Config,
    config_path: &std::path::Path,
) -> Result<(Option<RotationFile>, &'static str), Vec<Problem>> {
    let dir = rotations_dir(&req.root);
    let (path, chosen_by) = match (&req.rotation, &config.grind.default_rotation) {
        (Some(RotationChoice::Path(p)), _) => (p.clone(), "--rotation"),
        (Some(RotationChoice::Name(n)), _) => (dir.join(format!("{n}.toml")), "--rotation"),
        (None, Some(n)) => (dir.join(format!("{n}.toml")), "default_rotation"),
        (None, None) => (
            dir.join(format!("{}.toml", config::DEFAULT_ROTATION)),
            "default file",
        ),
    };
    if path.is_file() {
        return rotation::load(&path).map(|r| (Some(r), chosen_by));
    }
    if chosen_by == "default file" {
        return Ok((None, "built-in"));
    }
    let available: Vec<String> = rotation::list(&dir)
        .iter()
        .map(|p| rotation::name_of(p))
        .collect();
    let msg = if available.is_empty() {
        format!(
            "there is no rotation {} (and none in {})",
            path.display(),
            config::ROTATIONS_DIR
        )
    } else {
        format!(
            "there is no rotation {} (available: {})",
            path.display(),
            available.join(", ")
        )
    };
    // `--rotation` names a file that is not there; `default_rotation` is a config mistake.
    let problem = if chosen_by == "--rotation" {
        Problem::file(&path, ProblemKind::Invalid(msg))
    } else {
        Problem::file(config_path, ProblemKind::Invalid(msg))
            .at(None, Some("grind.default_rotation"))
    };
    Err(vec![problem])
}

/// The prompts of the rotation, with their entries; unknown names are problems.
fn select_prompts<'a>(
    discovery: &'a Discovery,
    rot: Option<&'a RotationFile>,
    problems: &mut Vec<Problem>,
) -> Vec<(&'a Prompt, Option<&'a RotationEntry>)> {
    match rot {
        Some(r) if !r.prompts.is_empty() => {
            problems.extend(r.check_prompts(discovery.prompts.iter().map(|p| p.name.as_str())));
            r.prompts
                .iter()
                .filter_map(|e| discovery.get(e.name.as_str()).map(|p| (p, Some(e))))
                .collect()
        }
        _ => discovery.prompts.iter().map(|p| (p, None)).collect(),
    }
}

fn plan_prompt(
    prompt: &Prompt,
    entry: Option<&RotationEntry>,
    discovery: &Discovery,
    budgets: &PlannedBudgets,
) -> PlannedPrompt {
    let over = |o: Option<u32>, own: u32| match o {
        Some(v) => Sourced::new(v, Origin::Rotation),
        None => Sourced::new(own, Origin::Prompt),
    };
    let max_runs = match entry.and_then(|e| e.max_runs_override) {
        Some(v) => Sourced::new(Some(v), Origin::Rotation),
        None => Sourced::new(prompt.max_runs, Origin::Prompt),
    };
    let seconds = match prompt.max_session_seconds {
        Some(s) => Sourced::new(Some(s), Origin::Prompt),
        None => budgets.max_session_seconds.clone(),
    };
    let cost = match prompt.max_session_cost_usd {
        Some(c) => Sourced::new(Some(c), Origin::Prompt),
        None => budgets.max_session_cost_usd.clone(),
    };
    PlannedPrompt {
        prompt: prompt.clone(),
        shadows: discovery
            .shadow_of(prompt.name.as_str())
            .map(|s| s.hidden.clone()),
        weight: over(entry.and_then(|e| e.weight_override), prompt.weight),
        every: over(entry.and_then(|e| e.every_override), prompt.every),
        max_runs,
        max_session_seconds: seconds,
        max_session_cost_usd: cost,
        excluded: None,
    }
}

fn apply_tag_filters(
    req: &PlanRequest,
    prompts: &mut [PlannedPrompt],
    warnings: &mut Vec<Problem>,
) {
    for tag in req.tags.iter().chain(&req.skip_tags) {
        if !prompts.iter().any(|p| p.prompt.tags.contains(tag)) {
            let msg = format!("no prompt of the rotation has the tag `{tag}`");
            warnings.push(Problem::general(ProblemKind::Invalid(msg)).warning());
        }
    }
    for p in prompts.iter_mut() {
        let tags = &p.prompt.tags;
        if let Some(t) = req.skip_tags.iter().find(|t| tags.contains(t)) {
            p.excluded = Some(format!("--skip-tag {t}"));
        } else if !req.tags.is_empty() && !req.tags.iter().any(|t| tags.contains(t)) {
            p.excluded = Some(format!("--tag {}", req.tags.join(",")));
        }
    }
}

fn check_prompts(
    prompts: &[PlannedPrompt],
    config: &Config,
    discovery: &Discovery,
    problems: &mut Vec<Problem>,
) {
    if config.grind.verify_command.is_none() {
        for p in prompts
            .iter()
            .filter(|p| p.excluded.is_none() && p.prompt.verify)
        {
            let msg = "`verify: true` needs `verify_command` in [grind] of .pitboss/config.toml"
                .to_string();
            problems.push(
                Problem::file(&p.prompt.path, ProblemKind::Invalid(msg)).at(None, Some("verify")),
            );
        }
    }
    if !problems.is_empty() {
        return;
    }
    let dirs: Vec<String> = discovery
        .searched
        .iter()
        .map(|(_, d, _)| d.display().to_string())
        .collect();
    let where_ = dirs.join(", ");
    if prompts.is_empty() {
        let msg = format!("no prompts found (looked in {where_})");
        let at = discovery
            .searched
            .first()
            .map(|(_, d, _)| d.clone())
            .unwrap_or_default();
        problems.push(Problem::file(&at, ProblemKind::Invalid(msg)));
    } else if prompts.iter().all(|p| p.excluded.is_some()) {
        let msg = "every prompt is excluded by --tag/--skip-tag".to_string();
        problems.push(Problem::general(ProblemKind::Invalid(msg)));
    }
}
