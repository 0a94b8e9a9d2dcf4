//! `git pitboss ls`: every run with its status, sessions, cost and last activity, read from
//! one commit per run; with `--remote`, a remote's runs from `git ls-remote` compared with
//! ours, without fetching anything.

use std::io::Write;

use clap::Args;
use serde::Serialize;

use crate::cli::errors::damaged_hint;
use crate::cli::escape::one_line;
use crate::cli::ledger;
use crate::cli::resolve::with_store;
use crate::cli::share::remote::resolve_remote;
use crate::cli::ui;
use crate::cli::{CliResult, Ctx, ExitStatus};
use crate::rundir::interrupted;
use crate::store::share::{Here, Relation, RemoteListing};
use crate::store::{DamagedRun, RunId, RunListing, RunStore, RunSummary};

/// List runs: id, status, sessions, cost, last activity.
///
/// With --remote: the remote's runs (id, whether this repository has it, and how far ahead or
/// behind it is, counted in commits), read with `git ls-remote` without fetching anything.
#[derive(Debug, Args)]
pub(crate) struct LsArgs {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
    /// List a remote's runs instead (default remote when no name is given).
    #[arg(long, value_name = "REMOTE", num_args = 0..=1, default_missing_value = "")]
    remote: Option<String>,
}

pub(crate) fn cmd_ls(ctx: &Ctx, args: LsArgs) -> CliResult {
    with_store(ctx, |store| {
        if let Some(r) = &args.remote {
            return ls_remote(
                ctx,
                store,
                Some(r.as_str()).filter(|r| !r.is_empty()),
                args.json,
            );
        }
        let listing = load_listing(ctx, store)?;
        let mut out = ui::stdout();
        if args.json {
            render_json(&listing, &mut out)?;
        } else if listing.runs.is_empty() && listing.damaged.is_empty() {
            say_no_runs(ctx, store)?;
        } else {
            render_table(ctx, &listing, &mut out)?;
        }
        out.flush()?;
        if !args.json {
            note_interrupted(ctx, &listing.runs);
            crate::cli::share::remote_branch::note_deleted_on_remotes(ctx, store, &listing.runs)?;
        }
        // As `fetch` and `sync` do for a run that cannot be read here: done, and something
        // failed (exit 1). A ref in the run namespace that is not a run is one of those too.
        Ok(
            if listing.damaged.is_empty() && listing.invalid.is_empty() {
                ExitStatus::Success
            } else {
                ExitStatus::Failed
            },
        )
    })
}

/// The local runs, each with the status a reader shows (`interrupted` for a run nobody is
/// running any more), warning on stderr of the refs that are not runs and the runs that are
/// damaged.
fn load_listing(ctx: &Ctx, store: &RunStore<'_>) -> CliResult<RunListing> {
    let mut listing = store.list()?;
    interrupted::as_shown(store, &mut listing);
    for bad in &listing.invalid {
        ctx.ui
            .warn(&format!("ignoring {}: {}", bad.refname, bad.why));
    }
    for d in &listing.damaged {
        let e = crate::store::StoreError::Damaged(Box::new(d.clone()));
        ctx.ui.warn(&format!("{e}\nhint: {}", damaged_hint(d)));
    }
    Ok(listing)
}

/// `ls --json`: the runs as a JSON array.
fn render_json(listing: &RunListing, out: &mut dyn Write) -> CliResult<()> {
    // Damaged runs after the readable ones: an entry of their own shape, whose status
    // `damaged` no stored run has, so readers of `status` alone see them for what
    // they are.
    let entries: Vec<Entry> = (listing.runs.iter().map(Entry::Run))
        .chain(listing.damaged.iter().map(Entry::damaged))
        .collect();
    serde_json::to_writer_pretty(&mut *out, &entries)?;
    writeln!(out)?;
    Ok(())
}

/// `ls`: the runs as a table, the damaged ones last.
fn render_table(ctx: &Ctx, listing: &RunListing, out: &mut dyn Write) -> CliResult<()> {
    let w = (listing.runs.iter().map(|r| r.id.as_str().len()))
        .chain(listing.damaged.iter().map(|d| d.id.as_str().len()))
        .max()
        .unwrap_or(2)
        .max(2);
    // `interrupted` is wider than the stored statuses.
    let sw = listing
        .runs
        .iter()
        .map(|r| r.status.as_str().len())
        .fold(9, usize::max);
    let costs: Vec<String> = listing
        .runs
        .iter()
        .map(|r| {
            let c = &r.consumed;
            ledger::run_cost_short(c.cost_usd, c.unknown_cost_sessions, c.sessions)
        })
        .collect();
    let cw = costs
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0)
        .max(10);
    // The pull request column only when a run has one, so other tables read as before.
    let any_pr = listing.runs.iter().any(|r| r.pull_request.is_some());
    writeln!(
        out,
        "{:<w$}  {:<sw$} {:>8} {:>cw$}  LAST ACTIVITY{}",
        "ID",
        "STATUS",
        "SESSIONS",
        "COST",
        if any_pr { "         PULL REQUEST" } else { "" }
    )?;
    for (r, cost) in listing.runs.iter().zip(&costs) {
        let status = ctx.ui.paint(
            status_style(r.status.as_str()),
            &format!("{:<sw$}", one_line(r.status.as_str())),
        );
        let pr = match &r.pull_request {
            Some(url) if any_pr => format!("  {}", one_line(url)),
            _ => String::new(),
        };
        writeln!(
            out,
            "{:<w$}  {} {:>8} {:>cw$}  {}{pr}",
            r.id.as_str(),
            status,
            r.sessions,
            cost,
            r.last_activity.format("%Y-%m-%d %H:%M:%SZ")
        )?;
    }
    render_damaged_rows(ctx, &listing.damaged, (w, sw, cw), out)
}

/// The table rows of the runs that cannot be read, in columns `widths` (id, status, cost):
/// listed, not only warned about, because a run that cannot be read is still a run.
fn render_damaged_rows(
    ctx: &Ctx,
    damaged: &[DamagedRun],
    (w, sw, cw): (usize, usize, usize),
    out: &mut dyn Write,
) -> CliResult<()> {
    for d in damaged {
        let status = ctx
            .ui
            .paint(status_style(DAMAGED), &format!("{DAMAGED:<sw$}"));
        writeln!(
            out,
            "{:<w$}  {status} {:>8} {:>cw$}  its tip commit {} is missing",
            d.id.as_str(),
            "?",
            "?",
            &d.tip[..d.tip.len().min(12)]
        )?;
    }
    Ok(())
}

/// Under the table, on stderr: how to resume each interrupted run.
fn note_interrupted(ctx: &Ctx, runs: &[RunSummary]) {
    for r in runs {
        if r.status.as_str() == interrupted::INTERRUPTED {
            ctx.ui.status(&format!(
                "run {} was interrupted: {}",
                r.id,
                interrupted::resume_note(&r.id)
            ));
        }
    }
}

/// No runs here: where to get some. A clone of a remote that holds runs has none until
/// `fetch` (git does not bring them), so say so when this clone already knows of them.
fn say_no_runs(ctx: &Ctx, store: &RunStore<'_>) -> CliResult<()> {
    let known = crate::cli::share::remote_branch::remotes_with_runs(store)?;
    if known.is_empty() {
        ctx.ui
            .status("no runs yet: start one with `git pitboss grind`, or try `git pitboss demo`");
        return Ok(());
    }
    for (remote, n) in known {
        ctx.ui.status(&format!(
            "no runs here yet, but {remote} has {n} run{}: `git pitboss fetch {remote}` brings \
             them (`git pitboss ls --remote {remote}` lists them)",
            if n == 1 { "" } else { "s" }
        ));
    }
    Ok(())
}

/// The status `ls` gives a run whose ref cannot be read (see `store/damage.rs`).
const DAMAGED: &str = "damaged";

/// One element of `ls --json`: a run as read, or a damaged one with what is known of it.
#[derive(Serialize)]
#[serde(untagged)]
enum Entry<'a> {
    Run(&'a RunSummary),
    Damaged {
        id: &'a RunId,
        status: &'static str,
        /// The missing commit the run ref points at (`tip`, as for a readable run).
        tip: &'a str,
        damage: Damage<'a>,
    },
}

/// What is wrong with a damaged run, and the way back.
#[derive(Serialize)]
struct Damage<'a> {
    refname: &'a str,
    /// What is wrong, in the words `log` and `show` use for it.
    why: String,
    /// The newest earlier value of the ref whose history is intact, when the reflog has one:
    /// `git update-ref <refname> <restore> <tip>` brings the run back to it.
    restore: Option<&'a str>,
}

impl<'a> Entry<'a> {
    fn damaged(d: &'a DamagedRun) -> Entry<'a> {
        Entry::Damaged {
            id: &d.id,
            status: DAMAGED,
            tip: &d.tip,
            damage: Damage {
                refname: &d.refname,
                why: crate::store::StoreError::Damaged(Box::new(d.clone())).to_string(),
                restore: d.restore.as_deref(),
            },
        }
    }
}

fn ls_remote(ctx: &Ctx, store: &RunStore<'_>, remote: Option<&str>, json: bool) -> CliResult {
    let remote = resolve_remote(store, remote)?;
    let listing = store.list_remote(&remote)?;
    for bad in &listing.ignored {
        ctx.ui.warn(&format!(
            "ignoring {} on {}: {}",
            bad.refname, listing.remote, bad.why
        ));
    }
    let mut out = ui::stdout();
    if json {
        render_remote_json(&listing, &mut out)?;
    } else if listing.runs.is_empty() {
        ctx.ui.status(&format!("{} has no runs", listing.remote));
    } else {
        render_remote_table(&listing, &mut out)?;
    }
    out.flush()?;
    Ok(ExitStatus::Success)
}

/// `ls --remote --json`: the remote's runs as a JSON array.
fn render_remote_json(listing: &RemoteListing, out: &mut dyn Write) -> CliResult<()> {
    serde_json::to_writer_pretty(&mut *out, &listing.runs)?;
    writeln!(out)?;
    Ok(())
}

/// `ls --remote`: the remote's runs as a table: whether this repository has each, and how its
/// run and code branch compare.
fn render_remote_table(listing: &RemoteListing, out: &mut dyn Write) -> CliResult<()> {
    let w = listing
        .runs
        .iter()
        .map(|r| r.id.as_str().len())
        .max()
        .unwrap_or(2);
    let states: Vec<(String, String)> = listing
        .runs
        .iter()
        .map(|r| {
            let code = match &r.branch {
                Some(b) => match b.relation {
                    Relation::Absent => format!("{}: not here", b.name),
                    rel => format!("{}: {}", b.name, relation_text(rel, &listing.remote)),
                },
                None => "-".to_string(),
            };
            (relation_text(r.relation, &listing.remote), code)
        })
        .collect();
    let sw = states.iter().map(|s| s.0.len()).max().unwrap_or(5).max(5);
    writeln!(out, "{:<w$}  {:<7}  {:<sw$}  CODE", "ID", "HERE", "STATE")?;
    for (r, (state, code)) in listing.runs.iter().zip(&states) {
        let here = match r.here {
            Here::Yes => "yes",
            Here::No => "no",
            Here::Deleted => "deleted",
        };
        writeln!(
            out,
            "{:<w$}  {here:<7}  {state:<sw$}  {code}",
            r.id.as_str()
        )?;
    }
    Ok(())
}

/// A run's or branch's state against a remote's copy, in words.
fn relation_text(relation: Relation, remote: &str) -> String {
    match relation {
        Relation::Same => "up to date".to_string(),
        Relation::Differs { ahead, behind: 0 } => format!("ahead {ahead}"),
        Relation::Differs { ahead: 0, behind } => format!("behind {behind}"),
        Relation::Differs { ahead, behind } => {
            format!("diverged: ahead {ahead}, behind {behind}")
        }
        Relation::Unknown => "unknown (fetch to compare)".to_string(),
        Relation::Absent => "-".to_string(),
        Relation::DeletedThere => format!("deleted on {remote} (push leaves it out)"),
    }
}

fn status_style(s: &str) -> ui::Style {
    match s {
        "finished" => ui::Style::Good,
        "running" => ui::Style::Bold,
        "failed" | "aborted" | DAMAGED => ui::Style::Bad,
        _ => ui::Style::Warn,
    }
}
