//! The planner: what a run would do, decided without doing any of it. Prompts and their
//! discovery, rotations, the scheduler, budgets, prices and the session cost cap live here,
//! apart from the engine ([`crate::grind`]) that runs sessions, because they are pure: settings
//! files and plain values in, a decision out; no git, no clock reads, no processes, no
//! terminal (reading the settings files is the one I/O). It is called `plan` after its main
//! product, the [`Plan`], which the dry run prints and the engine runs, so that what the dry run
//! shows is what a run does. It depends on [`crate::config`], [`crate::fields`] and the agent
//! adapters' defaults ([`crate::agent`]), never on the engine or the store.
//!
//! How the engine uses it:
//!
//! 1. [`plan()`] resolves config, prompts, rotation and command line into a [`Plan`] (every
//!    effective value with its [`Origin`]), or every problem found.
//! 2. [`Plan::scheduler`] builds the [`Scheduler`] from a [`SchedulerState`] (default for a new
//!    run; the engine reads a stored one back). [`Scheduler::next_pick`] says which prompt
//!    runs next (or that none ever can); [`Scheduler::record_outcome`] feeds the back-off;
//!    [`SchedulerState::to_json`] is what goes into `state.json`'s `"scheduler"`.
//! 3. [`Plan::budgets`] gives the [`Budgets`]: [`Budgets::check`] before each dispatch (with
//!    sessions in flight counted in [`Spent::iterations`]), [`Budgets::session_limit`] and
//!    [`Budgets::session_cost_limit`] for each session ([`PlannedPrompt::session_budget`]),
//!    and [`Budgets::warnings`] after each session, whose [`BudgetState`] goes into
//!    `state.json`.
//!
//! # Resolution
//!
//! Config + prompts + rotation + command line → one [`Plan`], with the origin of every
//! effective value. Precedence, highest first:
//!
//! - run budgets and `consecutive_failure_limit`: command line > rotation `[budgets]` >
//!   `[grind.budgets]` (`[grind]` for the failure limit) > built-in default;
//! - a prompt's session limits: its frontmatter > rotation `[budgets]` > `[grind.budgets]` >
//!   built-in default (`max_session_seconds` 3600, no cost limit);
//! - `max_parallel`: command line > rotation > `[grind]` > 1; hooks: rotation > `[grind.hooks]`;
//! - weight, every and max_runs: rotation overrides > frontmatter.
//!
//! The rotation used: `--rotation`, else `[grind] default_rotation`, else
//! `.pitboss/grind/rotations/default.toml` when it exists, else a built-in rotation over every
//! discovered prompt.

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use self::budget::{Limits, SessionBudget};
use self::discover::{Discovery, PromptDirs, discover};
use self::prompt::Prompt;

use self::scheduler::{Backoff, Entry, SchedulerError};
use crate::config::{self, Config};
use crate::fields::{Problem, ProblemKind};

mod agent;
pub(crate) mod at_start;
pub(crate) mod budget;
pub(crate) mod cost_cap;
pub(crate) mod discover;
pub(crate) mod in_force;
mod price_file;
pub(crate) mod prices;
pub(crate) mod prompt;
mod resolve;
pub(crate) mod rotation;
pub(crate) mod scheduler;
pub(crate) mod started;

pub(crate) use agent::resolve as resolve_agent;
pub(crate) use agent::{AgentOverride, PlannedAgent};
pub(crate) use budget::{BudgetState, Budgets, Spent};
pub(crate) use scheduler::{Pick, Scheduler, SchedulerState};

/// Where an effective value came from. Serialised as its display text: `default`, `prompt`,
/// `rotation`, `config`, or the flag (`--max-cost`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Built into pitboss.
    Default,
    /// The prompt's frontmatter.
    Prompt,
    /// The rotation file.
    Rotation,
    /// `.pitboss/config.toml`.
    Config,
    /// A command-line flag.
    Cli(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::Prompt => f.write_str("prompt"),
            Origin::Rotation => f.write_str("rotation"),
            Origin::Config => f.write_str("config"),
            Origin::Cli(flag) => f.write_str(flag),
        }
    }
}

impl serde::Serialize for Origin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct Sourced<T> {
    pub value: T,
    pub from: Origin,
}

impl<T> Sourced<T> {
    pub(crate) fn new(value: T, from: Origin) -> Self {
        Sourced { value, from }
    }
}

/// Budget values given on the command line (already parsed and checked by the CLI).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct CliBudgets {
    pub max_iterations: Option<u64>,
    pub until: Option<DateTime<Utc>>,
    pub max_cost_usd: Option<f64>,
    pub max_tokens: Option<u64>,
    pub consecutive_failure_limit: Option<u32>,
}

/// Everything a plan is resolved from. Paths are absolute; the CLI reads `HOME` and the
/// working directory.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlanRequest {
    /// The top of the current work tree, where `.pitboss/` is.
    pub root: PathBuf,
    /// The user's home directory (for `~/.pitboss/grind/prompts`).
    pub home: Option<PathBuf>,
    /// `--prompts-dir`.
    pub prompts_dir: Option<PathBuf>,
    /// `--rotation`: a name in `.pitboss/grind/rotations/`, or a path to a `.toml` file.
    pub rotation: Option<RotationChoice>,
    pub budgets: CliBudgets,
    pub agent: AgentOverride,
    pub max_parallel: Option<u32>,
    /// `--tag`: only prompts with at least one of these tags.
    pub tags: Vec<String>,
    /// `--skip-tag`: no prompt with any of these tags.
    pub skip_tags: Vec<String>,
    pub backoff_after: Option<u32>,
    pub backoff_skip: Option<u32>,
}

/// How `--rotation` named a rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RotationChoice {
    Name(String),
    Path(PathBuf),
}

/// A prompt as the run will use it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct PlannedPrompt {
    #[serde(flatten)]
    pub prompt: Prompt,
    /// The global prompt this one hides, if any.
    pub shadows: Option<PathBuf>,
    pub weight: Sourced<u32>,
    pub every: Sourced<u32>,
    pub max_runs: Sourced<Option<u32>>,
    pub max_session_seconds: Sourced<Option<u64>>,
    pub max_session_cost_usd: Sourced<Option<f64>>,
    /// Why it will not run (`--tag`/`--skip-tag`), if so.
    pub excluded: Option<String>,
}

impl PlannedPrompt {
    pub(crate) fn name(&self) -> &str {
        self.prompt.name.as_str()
    }

    pub(crate) fn session_budget(&self) -> SessionBudget {
        SessionBudget {
            max_seconds: self.max_session_seconds.value,
            max_cost_usd: self.max_session_cost_usd.value,
        }
    }
}

/// The rotation in use.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct PlannedRotation {
    /// `None` for the built-in rotation over every prompt.
    pub name: Option<String>,
    pub path: Option<PathBuf>,
    /// How it was chosen: `--rotation`, `default_rotation`, `default file`, `built-in`.
    pub chosen_by: &'static str,
    pub description: Option<String>,
    pub max_parallel: Sourced<u32>,
}

/// Run budgets and default session limits, with origins.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct PlannedBudgets {
    pub max_iterations: Sourced<Option<u64>>,
    pub until: Sourced<Option<DateTime<Utc>>>,
    pub max_cost_usd: Sourced<Option<f64>>,
    pub max_tokens: Sourced<Option<u64>>,
    pub consecutive_failure_limit: Sourced<u32>,
    pub max_session_seconds: Sourced<Option<u64>>,
    pub max_session_cost_usd: Sourced<Option<f64>>,
    /// With `--until`, the least time left at which a session still starts.
    pub min_session_seconds: Sourced<u64>,
}

/// Hook commands (run by the loop through `sh -c` in the session worktree), with origins.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct PlannedHooks {
    pub pre_session: Sourced<Option<String>>,
    pub post_session: Sourced<Option<String>>,
    pub on_failure: Sourced<Option<String>>,
    pub timeout_seconds: Sourced<u64>,
}

/// Everything a run would do. See the module docs for precedence.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct Plan {
    pub root: PathBuf,
    /// The config file, when there is one.
    pub config_path: Option<PathBuf>,
    #[serde(skip)]
    pub config: Config,
    /// Prompt folders searched, in precedence order, and whether each exists.
    pub searched: Vec<(self::prompt::Source, PathBuf, bool)>,
    /// The `.md` files of those folders that are not prompts, with why.
    pub skipped: Vec<discover::Skipped>,
    /// Every prompt of the rotation (excluded ones included, with the reason).
    pub prompts: Vec<PlannedPrompt>,
    pub rotation: PlannedRotation,
    pub budgets: PlannedBudgets,
    pub hooks: PlannedHooks,
    pub agent: PlannedAgent,
    pub verify_command: Option<String>,
    pub backoff: Sourced<Option<Backoff>>,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    /// Things worth saying that do not stop a run (shadowed prompts, unknown config keys…).
    #[serde(skip)]
    pub warnings: Vec<Problem>,
}

/// Why a plan cannot be made: every problem found, plus the warnings gathered on the way.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{} problem(s) stop the run; the first: {}", problems.len(), problems.first().map(|p| p.to_string()).unwrap_or_default())]
pub(crate) struct PlanError {
    pub problems: Vec<Problem>,
    pub warnings: Vec<Problem>,
}

/// `max_parallel` sessions at once when some runnable prompt may run beside another
/// (`parallel_safe: true`), else one: with no such prompt every session would run alone, which
/// is a sequential run, and it runs as one.
pub(crate) fn slots(max_parallel: u32, prompts: &[PlannedPrompt]) -> u32 {
    let beside = prompts
        .iter()
        .any(|p| p.excluded.is_none() && p.prompt.parallel_safe);
    if beside { max_parallel.max(1) } else { 1 }
}

impl Plan {
    /// The run limits, for [`Budgets::new`].
    pub(crate) fn limits(&self) -> Limits {
        let b = &self.budgets;
        Limits {
            max_iterations: b.max_iterations.value,
            until: b.until.value,
            max_cost_usd: b.max_cost_usd.value,
            max_tokens: b.max_tokens.value,
            consecutive_failure_limit: b.consecutive_failure_limit.value,
            min_session_seconds: b.min_session_seconds.value,
        }
    }

    pub(crate) fn budgets(&self, started_at: DateTime<Utc>) -> Budgets {
        Budgets::new(self.limits(), started_at)
    }

    /// The prompts that can run (not excluded by tag filters).
    pub(crate) fn runnable(&self) -> impl Iterator<Item = &PlannedPrompt> {
        self.prompts.iter().filter(|p| p.excluded.is_none())
    }

    pub(crate) fn prompt(&self, name: &str) -> Option<&PlannedPrompt> {
        self.prompts.iter().find(|p| p.name() == name)
    }

    /// How many sessions of this run can run at once: the one answer to "is this run
    /// parallel?" (`> 1`), which the engine, the command line and the planner's warning share.
    pub(crate) fn slots(&self) -> u32 {
        slots(self.rotation.max_parallel.value, &self.prompts)
    }

    /// What the scheduler gets, overrides applied.
    pub(crate) fn scheduler_entries(&self) -> Vec<Entry> {
        self.runnable()
            .map(|p| Entry {
                name: p.name().to_string(),
                weight: p.weight.value,
                every: p.every.value,
                max_runs: p.max_runs.value,
            })
            .collect()
    }

    /// A scheduler starting from `state` (a fresh run: `SchedulerState::default()`).
    pub(crate) fn scheduler(&self, state: SchedulerState) -> Result<Scheduler, SchedulerError> {
        Scheduler::new(self.scheduler_entries(), self.backoff.value, state)
    }
}

/// Resolves a plan. Reads files (config, prompts, rotations) but nothing else: no git, no
/// clock, no environment.
pub(crate) fn plan(req: &PlanRequest) -> Result<Plan, PlanError> {
    resolve::resolve(req)
}

/// The prompt folders a request searches.
pub(crate) fn prompt_dirs(req: &PlanRequest, config: &Config) -> PromptDirs {
    let project = match &config.grind.prompts_dir {
        Some(dir) => req.root.join(dir),
        None => req.root.join(config::DEFAULT_PROMPTS_DIR),
    };
    PromptDirs {
        only: req.prompts_dir.clone(),
        project: Some(project),
        global: req.home.as_ref().map(|h| h.join(".pitboss/grind/prompts")),
    }
}

/// The rotations folder of a project.
pub(crate) fn rotations_dir(root: &Path) -> PathBuf {
    root.join(config::ROTATIONS_DIR)
}

/// Config, prompts and every rotation file checked together, as `prompts validate` does:
/// problems (errors and warnings, in file order) and what was looked at.
#[derive(Debug, Clone, Default)]
pub(crate) struct Validation {
    pub problems: Vec<Problem>,
    pub discovery: Discovery,
    pub rotations: Vec<PathBuf>,
    pub config_path: Option<PathBuf>,
}

/// Checks the config, every prompt and every rotation of the project.
pub(crate) fn validate(req: &PlanRequest) -> Validation {
    let config_path = req.root.join(config::CONFIG_FILE);
    let (config, mut problems) = Config::load(&config_path);
    let discovery = discover(&prompt_dirs(req, &config));
    problems.extend(discovery.problems.iter().cloned());
    let names: Vec<&str> = discovery.prompts.iter().map(|p| p.name.as_str()).collect();
    let rotations = rotation::list(&rotations_dir(&req.root));
    for path in &rotations {
        let (r, mut ps) = match crate::fields::read_text(path) {
            Ok(text) => rotation::parse_lenient(&text, path),
            Err(p) => (None, vec![p]),
        };
        if let Some(r) = r {
            ps.extend(r.check_prompts(names.iter().copied()));
        }
        ps.sort_by_key(|p| p.line);
        problems.extend(ps);
    }
    if config.grind.verify_command.is_none() {
        for p in discovery.prompts.iter().filter(|p| p.verify) {
            let msg = "`verify: true` needs `verify_command` in [grind] of .pitboss/config.toml";
            let problem = Problem::file(&p.path, ProblemKind::Invalid(msg.into()));
            problems.push(problem.at(None, Some("verify")));
        }
    }
    if let Some(default) = &config.grind.default_rotation
        && !rotations.iter().any(|p| rotation::name_of(p) == *default)
    {
        let msg = format!("no rotation named `{default}` in {}", config::ROTATIONS_DIR);
        problems.push(
            Problem::file(&config_path, ProblemKind::Invalid(msg))
                .at(None, Some("grind.default_rotation")),
        );
    }
    // File by file, in line order: the output reads like a compiler's.
    problems.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    Validation {
        problems,
        discovery,
        rotations,
        config_path: config_path.exists().then_some(config_path),
    }
}

#[cfg(test)]
mod tests;
