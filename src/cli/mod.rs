//! The command line: clap definitions and dispatch. One file per command and one folder per
//! command group (house style 2): `grind/` (with `skip`), `watch/`, `read/` (the views),
//! `share/` (remotes, pull requests, export and import), `maintain/` (gc, rm, record), `setup/`
//! (init, agents, demo, man), `prompts/` and `worktree/`. Beside them, what every command
//! shares: the exit-code funnel (`exit.rs`, `errors.rs`), terminal output (`ui.rs`,
//! `ledger.rs`) and resolving the project and runs (`project.rs`, `resolve.rs`). This file is
//! only the enum, the shared context and the dispatch.

mod errors;
mod exit;
mod grind;
mod ledger;
mod maintain;
mod project;
mod prompts;
mod read;
mod resolve;
mod setup;
mod share;
mod ui;
mod watch;
mod worktree;

use crate::escape;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::clock::{Clock, Entropy, FixedClock, OsEntropy, SeededEntropy, SystemClock};
use crate::git::Repo;
pub(crate) use exit::{CliError, CliResult, ExitStatus};
pub(crate) use ui::Ui;

/// Run coding agents in an unattended loop and keep every run inside git.
///
/// Runs live on refs/pitboss/grind/<run-id> (one commit per session): read them with
/// `git pitboss ls`, `git pitboss log <run>` or plain `git log refs/pitboss/grind/<run-id>`.
#[derive(Debug, Parser)]
#[command(
    name = "git-pitboss",
    bin_name = "git pitboss",
    version,
    max_term_width = 100
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Ls(read::ls::LsArgs),
    Log(read::log::LogArgs),
    Show(read::show::ShowArgs),
    Record(maintain::record::RecordArgs),
    Export(share::export::ExportArgs),
    Import(share::import::ImportArgs),
    Init(setup::init::InitArgs),
    /// List, check and create the prompts `grind` rotates through.
    #[command(subcommand)]
    Prompts(prompts::PromptsCommand),
    Grind(Box<grind::GrindArgs>),
    Skip(grind::skip::SkipArgs),
    Watch(watch::WatchArgs),
    Agents(setup::agents::AgentsArgs),
    Demo(setup::demo::DemoArgs),
    #[command(subcommand)]
    Worktree(worktree::WorktreeCommand),
    #[command(name = "agent-demo", hide = true)]
    AgentDemo(setup::agent_demo::AgentDemoArgs),
    Push(share::push::PushArgs),
    Fetch(share::fetch::FetchArgs),
    Sync(share::sync::SyncArgs),
    Rm(maintain::rm::RmArgs),
    Man(setup::man::ManArgs),
    Stats(read::stats::StatsArgs),
    Blame(read::blame::BlameArgs),
    Why(read::why::WhyArgs),
    Review(read::review::ReviewArgs),
    Pr(share::pr::PrArgs),
    Gc(maintain::gc::GcArgs),
    #[command(name = "report")]
    HtmlReport(read::html_report::HtmlReportArgs),
}

/// What every command gets: where it runs, how it talks, and its clock and randomness.
pub(crate) struct Ctx {
    pub cwd: PathBuf,
    pub ui: Ui,
    pub clock: Box<dyn Clock>,
    pub entropy: Box<dyn Entropy>,
}

impl Ctx {
    fn from_env() -> CliResult<Ctx> {
        let cwd = std::env::current_dir().map_err(|e| {
            CliError::user(anyhow::Error::new(e).context("cannot read the current directory"))
        })?;
        // PITBOSS_NOW and PITBOSS_SEED make runs reproducible (tests, demos, bug reports).
        let clock: Box<dyn Clock> = match std::env::var("PITBOSS_NOW") {
            Ok(v) => {
                let t = chrono::DateTime::parse_from_rfc3339(&v).map_err(|e| {
                    CliError::user(anyhow::anyhow!(
                        "PITBOSS_NOW={v:?} is not an RFC 3339 time: {e}"
                    ))
                    .hint("use a time like 2026-11-24T10:00:00Z, or unset PITBOSS_NOW")
                })?;
                Box::new(FixedClock(t.with_timezone(&chrono::Utc)))
            }
            Err(_) => Box::new(SystemClock),
        };
        let entropy: Box<dyn Entropy> = match std::env::var("PITBOSS_SEED") {
            Ok(v) => {
                let seed = v.parse::<u64>().map_err(|_| {
                    CliError::user(anyhow::anyhow!("PITBOSS_SEED={v:?} is not a whole number"))
                        .hint("use a number like 42, or unset PITBOSS_SEED")
                })?;
                Box::new(SeededEntropy::new(seed))
            }
            Err(_) => Box::new(OsEntropy::default()),
        };
        Ok(Ctx {
            cwd,
            ui: Ui::from_env(),
            clock,
            entropy,
        })
    }

    /// The repository around the working directory.
    pub(crate) fn repo(&self) -> CliResult<Repo> {
        Repo::discover(&self.cwd).map_err(errors::discover_error)
    }
}

/// Entry point of the binary: parse, dispatch, and funnel the outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitStatus::Success.into()
                }
                _ => ExitStatus::Usage.into(),
            };
        }
    };
    init_log();
    exit::finish(Ctx::from_env().and_then(|ctx| dispatch(&ctx, cli.command)))
}

/// `PITBOSS_LOG` (read as `RUST_LOG` is: `debug`, `pitboss::landing=debug,pitboss::cas=trace`):
/// events with their timings on stderr, where time goes and where writers race (compare-and-swap
/// retries, lock waits, agent spawns, landings, network commands). Unset, nothing is installed
/// and each event costs one atomic load.
fn init_log() {
    let Some(spec) = std::env::var_os("PITBOSS_LOG") else {
        return;
    };
    let spec = spec.to_string_lossy();
    match tracing_subscriber::EnvFilter::try_new(spec.as_ref()) {
        Ok(filter) => {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .with_ansi(false)
                .try_init();
        }
        Err(e) => eprintln!(
            "warning: PITBOSS_LOG={spec:?} is not a log filter ({e}); no log\n\
             hint: PITBOSS_LOG=debug, or per area: PITBOSS_LOG=pitboss::landing=debug"
        ),
    }
}

fn dispatch(ctx: &Ctx, command: Command) -> CliResult {
    match command {
        Command::Ls(a) => read::ls::cmd_ls(ctx, a),
        Command::Log(a) => read::log::cmd_log(ctx, a),
        Command::Show(a) => read::show::cmd_show(ctx, a),
        Command::Record(a) => maintain::record::cmd_record(ctx, a),
        Command::Export(a) => share::export::cmd_export(ctx, a),
        Command::Import(a) => share::import::cmd_import(ctx, a),
        Command::Init(a) => setup::init::cmd_init(ctx, a),
        Command::Prompts(c) => prompts::dispatch(ctx, c),
        Command::Grind(a) => grind::cmd_grind(ctx, *a),
        Command::Skip(a) => grind::skip::cmd_skip(ctx, a),
        Command::Watch(a) => watch::cmd_watch(ctx, a),
        Command::Agents(a) => setup::agents::cmd_agents(ctx, a),
        Command::Demo(a) => setup::demo::cmd_demo(ctx, a),
        Command::Worktree(c) => worktree::dispatch(ctx, c),
        Command::AgentDemo(args) => setup::agent_demo::cmd_agent_demo(ctx, args),
        Command::Push(a) => share::push::cmd_push(ctx, a),
        Command::Fetch(a) => share::fetch::cmd_fetch(ctx, a),
        Command::Sync(a) => share::sync::cmd_sync(ctx, a),
        Command::Rm(a) => maintain::rm::cmd_rm(ctx, a),
        Command::Man(a) => setup::man::cmd_man(ctx, a),
        Command::Stats(a) => read::stats::cmd_stats(ctx, a),
        Command::Blame(a) => read::blame::cmd_blame(ctx, a),
        Command::Why(a) => read::why::cmd_why(ctx, a),
        Command::Review(a) => read::review::cmd_review(ctx, a),
        Command::Pr(a) => share::pr::cmd_pr(ctx, a),
        Command::Gc(a) => maintain::gc::cmd_gc(ctx, a),
        Command::HtmlReport(a) => read::html_report::cmd_html_report(ctx, a),
    }
}
