//! `git pitboss grind`: its flags, parsed into typed values here (house style 3), the dry run,
//! and the real run: signals, progress output and the exit code of the session loop.
//!
//! The files beside this one are its parts: the dry run and its report, the real run, what it
//! shows while it runs (`output`, `live`, `landing`), `--resume`, preflight, and `skip`, which
//! steers a running grind.

pub(super) mod dry_report;
pub(super) mod dry_run;
pub(super) mod landing;
pub(super) mod live;
pub(super) mod output;
pub(super) mod preflight;
pub(super) mod resume;
pub(super) mod run;
pub(super) mod skip;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::Args;

use crate::cli::project;
use crate::cli::{CliError, CliResult, Ctx};
use crate::config::Backend;
use crate::fields::check_name;
use crate::plan::{AgentOverride, CliBudgets, PlanRequest, RotationChoice};

/// Run coding agents in a loop over the prompts of a rotation, until a budget stops them.
///
/// Each session runs one prompt, picked by weighted fair rotation, in its own worktree; the
/// code lands on the branch pitboss/<run-id> and the session log on
/// refs/pitboss/grind/<run-id>. Budgets given here override the rotation's [budgets], which
/// override [grind.budgets] in .pitboss/config.toml. --dry-run shows exactly what a run would
/// do without running anything, and exits 0 when a run could start.
///
/// Exit codes: 0 done, 1 some sessions failed, 2 stopped by you, 3 a budget ran out, 4 could
/// not start, 5 too many failures in a row, 6 the pull request of --require-pr failed (see
/// docs/exit-codes.md).
#[derive(Debug, Args)]
pub(crate) struct GrindArgs {
    /// Resolve everything and print what a run would do, without running or changing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Print nothing but errors: no progress, no report (with --dry-run: nothing when a run
    /// could start, else only the reasons it could not).
    #[arg(long, short)]
    pub quiet: bool,

    /// The rotation: a name in .pitboss/grind/rotations/, or the path of a .toml file.
    #[arg(long, value_name = "NAME|FILE")]
    pub rotation: Option<String>,
    /// Use only the prompts in DIR (not the project's nor the global ones).
    #[arg(long, value_name = "DIR")]
    pub prompts_dir: Option<PathBuf>,
    /// Only prompts with this tag (repeatable: any of them).
    #[arg(long = "tag", value_name = "TAG", value_parser = parse_tag)]
    pub tags: Vec<String>,
    /// Leave out prompts with this tag (repeatable).
    #[arg(long = "skip-tag", value_name = "TAG", value_parser = parse_tag)]
    pub skip_tags: Vec<String>,

    /// The agent: claude, codex, gemini, aider, command or demo (other agents run with
    /// --agent-cmd).
    #[arg(long, value_name = "BACKEND", value_parser = Backend::parse)]
    pub agent: Option<Backend>,
    /// Run this command line as the agent (through `sh -c`, prompt on stdin): the `command`
    /// backend, so `--agent command` may be given with it, and no other --agent.
    #[arg(long, value_name = "COMMAND")]
    pub agent_cmd: Option<String>,
    /// Start the run branch from REV (default: HEAD, which must be on a branch).
    #[arg(long, value_name = "REV", conflicts_with = "resume")]
    pub base: Option<String>,
    /// Continue a stopped run where it left off, the way it was started (agent, rotation,
    /// prompts, command-line budgets) unless flags given here override it. Default: the newest
    /// run grind made that can go on.
    #[arg(long, value_name = "RUN", num_args = 0..=1, default_missing_value = "")]
    pub resume: Option<String>,
    /// Sessions that may run at once.
    #[arg(long, value_name = "N", value_parser = parse_at_least_one_u32)]
    pub max_parallel: Option<u32>,

    /// Stop after N sessions (counted when they start).
    #[arg(long, value_name = "N", value_parser = parse_count, allow_hyphen_values = true)]
    pub max_iterations: Option<u64>,
    /// Start no session after this time (RFC 3339, e.g. 2026-11-24T18:00:00Z); running
    /// sessions are cut off then too.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub until: Option<DateTime<Utc>>,
    /// Stop once sessions have cost this many US dollars.
    #[arg(long, value_name = "USD", value_parser = parse_usd, allow_hyphen_values = true)]
    pub max_cost: Option<f64>,
    /// Stop once sessions have used this many tokens (input + output + cache reads and writes).
    #[arg(long, value_name = "N", value_parser = parse_count, allow_hyphen_values = true)]
    pub max_tokens: Option<u64>,
    /// Stop after N failed sessions in a row (0: never).
    #[arg(long, value_name = "N", value_parser = parse_u32, allow_hyphen_values = true)]
    pub consecutive_failure_limit: Option<u32>,
    /// Back-off: after N sessions of a prompt in a row that changed nothing, skip its next
    /// turns (0: off).
    #[arg(long, value_name = "N", value_parser = parse_u32, allow_hyphen_values = true)]
    pub backoff_after: Option<u32>,
    /// Back-off: how many of its turns a prompt sits out.
    #[arg(long, value_name = "N", value_parser = parse_at_least_one_u32)]
    pub backoff_skip: Option<u32>,
    /// At an agent's usage limit, stop the run (resumable) instead of waiting for the reset.
    #[arg(long)]
    pub stop_on_rate_limit: bool,
    /// When the run finishes with exit 0, push it and open a pull request from its branch to
    /// its base (as `git pitboss pr` does). A pull request that fails is reported and leaves
    /// the exit code alone.
    #[arg(long, conflicts_with = "dry_run")]
    pub pr: bool,
    /// Like --pr, and exit 6 when the pull request could not be opened.
    #[arg(long, conflicts_with = "dry_run")]
    pub require_pr: bool,
}

pub(crate) fn cmd_grind(ctx: &Ctx, args: GrindArgs) -> CliResult {
    if let (Some(b), Some(_)) = (args.agent, &args.agent_cmd)
        && b != Backend::Command
    {
        return Err(CliError::user(anyhow::anyhow!(
            "--agent {} and --agent-cmd ask for two different agents",
            b.as_str()
        ))
        .hint("--agent-cmd runs the `command` backend: drop --agent, or give --agent command"));
    }
    if let Some(until) = args.until
        && until <= ctx.clock.now()
    {
        return Err(CliError::user(anyhow::anyhow!(
            "--until {} is in the past (it is now {})",
            until.to_rfc3339(),
            ctx.clock.now().format("%Y-%m-%dT%H:%M:%SZ")
        ))
        .hint(format!(
            "give a time in the future, like {}",
            (ctx.clock.now() + chrono::Duration::hours(8)).format("%Y-%m-%dT%H:00:00Z")
        )));
    }
    let (repo, root) = project::root(ctx)?;
    let req = request(ctx, &args, root);
    if args.dry_run {
        dry_run::cmd_dry_run(ctx, &args, &repo, req)
    } else {
        run::cmd_grind_run(ctx, &args, &repo, req)
    }
}

/// The plan request for these flags.
pub(crate) fn request(ctx: &Ctx, args: &GrindArgs, root: PathBuf) -> PlanRequest {
    let mut req = project::request(ctx, root, args.prompts_dir.as_deref());
    req.rotation = args.rotation.as_ref().map(|r| rotation_choice(ctx, r));
    req.budgets = CliBudgets {
        max_iterations: args.max_iterations,
        until: args.until,
        max_cost_usd: args.max_cost,
        max_tokens: args.max_tokens,
        consecutive_failure_limit: args.consecutive_failure_limit,
    };
    req.agent = AgentOverride {
        backend: args.agent,
        command: args.agent_cmd.clone(),
    };
    req.max_parallel = args.max_parallel;
    req.tags = args.tags.clone();
    req.skip_tags = args.skip_tags.clone();
    req.backoff_after = args.backoff_after;
    req.backoff_skip = args.backoff_skip;
    req
}

/// `--rotation nightly` names a rotation; `--rotation x.toml` or `--rotation dir/x` is a path.
pub(crate) fn rotation_choice(ctx: &Ctx, r: &str) -> RotationChoice {
    if r.ends_with(".toml") || r.contains('/') {
        RotationChoice::Path(ctx.cwd.join(r))
    } else {
        RotationChoice::Name(r.to_string())
    }
}

fn parse_count(s: &str) -> Result<u64, String> {
    match s.trim().parse::<i128>() {
        Ok(n) if n < 1 => Err(format!("must be at least 1 (got {n})")),
        Ok(n) => u64::try_from(n).map_err(|_| format!("{n} is too large")),
        Err(_) => Err(format!("{s:?} is not a whole number")),
    }
}

fn parse_u32(s: &str) -> Result<u32, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if n < 0 => Err(format!("must be 0 or more (got {n})")),
        Ok(n) => u32::try_from(n).map_err(|_| format!("{n} is too large")),
        Err(_) => Err(format!("{s:?} is not a whole number")),
    }
}

fn parse_at_least_one_u32(s: &str) -> Result<u32, String> {
    match parse_u32(s)? {
        0 => Err("must be at least 1".into()),
        n => Ok(n),
    }
}

fn parse_usd(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .trim_start_matches('$')
        .parse()
        .map_err(|_| format!("{s:?} is not an amount of US dollars (like 2.50)"))?;
    if !v.is_finite() {
        return Err(format!("{s:?} is not a finite amount"));
    }
    if v <= 0.0 {
        return Err(format!("must be more than 0 (got {v})"));
    }
    Ok(v)
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{s:?} is not an RFC 3339 time ({e}); expected a time like 2026-11-24T18:00:00Z or 2026-11-24T19:00:00+01:00"))
}

fn parse_tag(s: &str) -> Result<String, String> {
    check_name(s, "a tag").map(|()| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_amounts() {
        assert_eq!(parse_count("3"), Ok(3));
        assert_eq!(parse_count("0"), Err("must be at least 1 (got 0)".into()));
        assert!(parse_count("-2").unwrap_err().contains("at least 1"));
        assert!(parse_count("x").unwrap_err().contains("not a whole number"));
        assert_eq!(parse_usd("2.5"), Ok(2.5));
        assert_eq!(parse_usd("$10"), Ok(10.0));
        for bad in ["-1", "NaN", "inf", "0", "ten"] {
            assert!(parse_usd(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_u32("0"), Ok(0));
        assert!(parse_at_least_one_u32("0").is_err());
    }

    #[test]
    fn times_say_the_expected_format() {
        assert!(parse_time("2026-11-24T18:00:00Z").is_ok());
        assert_eq!(
            parse_time("2026-11-24T19:00:00+01:00").unwrap(),
            parse_time("2026-11-24T18:00:00Z").unwrap()
        );
        let e = parse_time("tomorrow").unwrap_err();
        assert!(
            e.contains("RFC 3339") && e.contains("2026-11-24T18:00:00Z"),
            "{e}"
        );
    }

    #[test]
    fn tags_are_names() {
        assert!(parse_tag("lint").is_ok());
        assert!(parse_tag("Lint Stuff").is_err());
    }
}
