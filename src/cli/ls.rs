//! `git pitboss ls`: every run with its status, sessions, cost and last activity, read from
//! one commit per run.

use std::io::Write;

use clap::Args;

use super::resolve::{money, store_err, with_store};
use super::ui;
use crate::cli::{CliResult, Ctx, ExitStatus};

/// List runs: id, status, sessions, cost, last activity.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn cmd_ls(ctx: &Ctx, args: LsArgs) -> CliResult {
    with_store(ctx, |store| {
        let listing = store.list().map_err(store_err)?;
        for bad in &listing.invalid {
            ctx.ui
                .warn(&format!("ignoring {}: {}", bad.refname, bad.why));
        }
        let mut out = ui::stdout();
        if args.json {
            serde_json::to_writer_pretty(&mut out, &listing.runs).map_err(std::io::Error::from)?;
            writeln!(out)?;
        } else if listing.runs.is_empty() {
            ctx.ui.status(
                "no runs yet: start one with `git pitboss grind`, or try `git pitboss demo`",
            );
        } else {
            let w = listing
                .runs
                .iter()
                .map(|r| r.id.as_str().len())
                .max()
                .unwrap_or(2)
                .max(2);
            writeln!(
                out,
                "{:<w$}  {:<9} {:>8} {:>10}  LAST ACTIVITY",
                "ID", "STATUS", "SESSIONS", "COST"
            )?;
            for r in &listing.runs {
                let status = ctx.ui.paint(
                    status_style(r.status.as_str()),
                    &format!("{:<9}", r.status.as_str()),
                );
                writeln!(
                    out,
                    "{:<w$}  {} {:>8} {:>10}  {}",
                    r.id.as_str(),
                    status,
                    r.sessions,
                    money(r.consumed.cost_usd),
                    r.last_activity.format("%Y-%m-%d %H:%M:%SZ")
                )?;
            }
        }
        out.flush()?;
        Ok(ExitStatus::Success)
    })
}

fn status_style(s: &str) -> ui::Style {
    match s {
        "finished" => ui::Style::Good,
        "running" => ui::Style::Bold,
        "failed" | "aborted" => ui::Style::Bad,
        _ => ui::Style::Warn,
    }
}
