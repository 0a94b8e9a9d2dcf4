//! `git pitboss gc`: list every run-related thing with what may happen to it and why; delete
//! what is safe, printing for each deletion the command that restores it.

use std::io::Write;

use anyhow::anyhow;
use clap::Args;

use crate::cli::resolve::with_store;
use crate::cli::ui::{self, Style};
use crate::cli::{CliError, CliResult, Ctx, ExitStatus};
use crate::gc::{self, Action, GcEvent, GcOptions, GcReport, Row};

/// Clean up what runs leave behind: branches, worktrees, working files, remote markers,
/// tombstones.
///
/// Every row says what the thing is, what gc does with it and why. A run branch goes when its
/// work reached the target (merged, or the same patches by squash, rebase or cherry-pick), and
/// only then: pushed is not landed (--pushed opts in). Worktrees and working files of finished or
/// deleted runs go; those of stopped runs stay for `grind --resume` (unless --stopped); a
/// worktree with uncommitted work stays (unless --force, which saves the work as a patch in the
/// run ref first). Nothing of a run a grind is working on is touched. Each deletion prints the
/// command that restores it, before it happens.
#[derive(Debug, Args)]
pub(crate) struct GcArgs {
    /// Print the table, delete nothing.
    #[arg(long, short = 'n')]
    dry_run: bool,
    /// Also remove worktrees with uncommitted work, after saving it as
    /// patches/<bucket>/resume-<seq>.patch in the run ref.
    #[arg(long)]
    force: bool,
    /// Let go of stopped (not finished) runs' worktrees, working files and branches, which are
    /// otherwise kept for `grind --resume`.
    #[arg(long)]
    stopped: bool,
    /// Also delete run branches whose work has not reached the target but whose every commit a
    /// remote has now (asked with `git ls-remote`, not a remote-tracking ref that may be stale).
    #[arg(long)]
    pushed: bool,
    /// Delete tombstones of runs deleted longer ago than this (`30d`, `12h`, `2w`); without
    /// it, tombstones are kept.
    #[arg(long, value_name = "AGE")]
    tombstones_older_than: Option<String>,
    /// The branch or revision work must have reached (default: each run's base branch).
    #[arg(long, value_name = "REV")]
    target: Option<String>,
    /// Print the table (and what was deleted) as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn cmd_gc(ctx: &Ctx, args: GcArgs) -> CliResult {
    let tombstones_older_than = match &args.tombstones_older_than {
        Some(s) => Some(parse_age(s).map_err(|m| {
            CliError::user(anyhow!(m)).hint("use a number and a unit: 30d, 12h or 2w")
        })?),
        None => None,
    };
    let env: Vec<(String, String)> = crate::cli::project::env_text();
    let opts = GcOptions {
        force: args.force,
        stopped: args.stopped,
        pushed: args.pushed,
        tombstones_older_than,
        target: args.target.clone(),
        now: ctx.clock.now(),
        redactor: crate::agent::Redactor::from_env(
            env.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        ),
    };
    with_store(ctx, |store| {
        let report = gc::plan(store, &opts)?;
        if args.dry_run {
            if args.json {
                render_json(&report)?;
            } else {
                render_plan_text(ctx, &report, &args)?;
            }
            return Ok(ExitStatus::Success);
        }
        let mut out = ui::stdout();
        let mut failed = false;
        let mut write_err = None;
        let report = gc::apply(store, report, &opts, std::process::id(), &mut |ev| {
            // Each line is flushed before the thing goes, so a crash never hides an undo.
            let res = match ev {
                // With --json, stdout is the one JSON document: the lines go to stderr.
                GcEvent::Deleting(row) if args.json => {
                    deleting_line(&mut std::io::stderr().lock(), ctx, row)
                }
                GcEvent::Deleting(row) => deleting_line(&mut out, ctx, row),
                GcEvent::Saved { row, path } => {
                    ctx.ui.status(&format!(
                        "saved the work in {} as {path} in {}",
                        row.thing,
                        row.run.as_ref().map(|r| r.ref_name()).unwrap_or_default()
                    ));
                    Ok(())
                }
                GcEvent::Skipped { row, why } => {
                    failed = true;
                    ctx.ui.warn(&format!("kept {}: {why}", row.thing));
                    Ok(())
                }
            };
            if let Err(e) = res.and_then(|()| out.flush()) {
                write_err.get_or_insert(e);
            }
        })?;
        if let Some(e) = write_err {
            return Err(e.into());
        }
        if args.json {
            render_json(&report)?;
        } else {
            render_kept_text(ctx, &report)?;
        }
        Ok(if failed {
            ExitStatus::Failed
        } else {
            ExitStatus::Success
        })
    })
}

/// `gc --dry-run`: the table of every thing with what would happen to it and why, then the
/// count under it.
fn render_plan_text(ctx: &Ctx, report: &GcReport, args: &GcArgs) -> CliResult<()> {
    let mut out = ui::stdout();
    if report.rows.is_empty() {
        ctx.ui.status("nothing of any run to clean up");
        return Ok(());
    }
    writeln!(
        out,
        "{:<11}  {:<12}  THING  STATE — REASON",
        "ACTION", "KIND"
    )?;
    for row in &report.rows {
        writeln!(out, "{}", table_line(ctx, row))?;
    }
    // The table first, then the count under it (stdout is buffered, stderr is not).
    out.flush()?;
    let n = report.rows.iter().filter(|r| r.will_delete()).count();
    if n == 0 {
        ctx.ui.status(&format!(
            "nothing would be deleted: all {} kept, each for the reason given",
            report.rows.len()
        ));
    } else {
        ctx.ui.status(&format!(
            "{n} of {} would be deleted; `{}` deletes them",
            report.rows.len(),
            same_gc(args)
        ));
    }
    Ok(())
}

/// `gc`, after the deletions (each printed as it went): the rows kept, then the footer.
fn render_kept_text(ctx: &Ctx, report: &GcReport) -> CliResult<()> {
    let mut out = ui::stdout();
    for row in report.rows.iter().filter(|r| r.action == Action::Keep) {
        writeln!(out, "{}", table_line(ctx, row))?;
    }
    // The rows first, then the footer under them (stdout is buffered, stderr is not).
    out.flush()?;
    footer(ctx, report);
    Ok(())
}

/// The command that deletes what this dry run showed: the same flags, without `--dry-run`.
fn same_gc(args: &GcArgs) -> String {
    let mut cmd = String::from("git pitboss gc");
    if args.force {
        cmd.push_str(" --force");
    }
    if args.stopped {
        cmd.push_str(" --stopped");
    }
    if args.pushed {
        cmd.push_str(" --pushed");
    }
    if let Some(age) = &args.tombstones_older_than {
        cmd.push_str(&format!(" --tombstones-older-than {}", shell_word(age)));
    }
    if let Some(t) = &args.target {
        cmd.push_str(&format!(" --target {}", shell_word(t)));
    }
    cmd
}

/// A word the shell reads back as it is.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./^@:".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `gc --json`: the report, planned or applied, as the one JSON document on stdout.
fn render_json(report: &GcReport) -> CliResult<()> {
    let mut out = ui::stdout();
    serde_json::to_writer_pretty(&mut out, report).map_err(std::io::Error::from)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// `<action>  <kind>  <thing>  <state> — <reason>`
fn table_line(ctx: &Ctx, row: &Row) -> String {
    let action = format!("{:<11}", row.action.as_str());
    let style = match row.action {
        Action::Keep => Style::Dim,
        _ => Style::Warn,
    };
    format!(
        "{}  {:<12}  {}  {} — {}",
        ctx.ui.paint(style, &action),
        row.kind.as_str(),
        row.thing,
        row.state,
        row.reason
    )
}

fn deleting_line(out: &mut impl Write, ctx: &Ctx, row: &Row) -> std::io::Result<()> {
    writeln!(
        out,
        "{} {} {} ({})",
        ctx.ui.paint(Style::Warn, "deleted"),
        row.kind.as_str(),
        row.thing,
        row.state
    )?;
    match &row.restore {
        Some(cmd) => writeln!(out, "  restore: {cmd}"),
        None => writeln!(out, "  restore: nothing to restore ({})", row.reason),
    }
}

fn footer(ctx: &Ctx, report: &GcReport) {
    let n = report.deleted();
    if n == 0 {
        ctx.ui.status("nothing deleted");
        return;
    }
    ctx.ui.status(&format!(
        "{n} deleted; to undo, run the restore commands above from the last one up"
    ));
    if report.deleted_unreachable() {
        ctx.ui.status(
            "note: the commits of a branch whose work reached the target by squash, rebase or \
             cherry-pick are now reachable from nothing; a reflog does not keep them (deleting a \
             branch deletes its reflog), so its restore command works only until `git gc` \
             prunes unreachable objects (by default two weeks after)",
        );
    }
}

/// `30d`, `12h`, `2w`, `90m` as a duration.
fn parse_age(s: &str) -> Result<chrono::Duration, String> {
    let bad = || format!("--tombstones-older-than {s:?} is not an age such as 30d, 12h or 2w");
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let d = match unit {
        "m" | "min" => chrono::Duration::try_minutes(n),
        "h" => chrono::Duration::try_hours(n),
        "d" => chrono::Duration::try_days(n),
        "w" => chrono::Duration::try_weeks(n),
        _ => None,
    };
    d.ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_have_a_unit() {
        assert_eq!(parse_age("30d").unwrap(), chrono::Duration::days(30));
        assert_eq!(parse_age("12h").unwrap(), chrono::Duration::hours(12));
        assert_eq!(parse_age("2w").unwrap(), chrono::Duration::weeks(2));
        assert_eq!(parse_age("0d").unwrap(), chrono::Duration::zero());
        for bad in ["30", "d", "3x", "-1d", ""] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn revisions_are_quoted_only_when_the_shell_would_change_them() {
        assert_eq!(shell_word("origin/main"), "origin/main");
        assert_eq!(shell_word("main~1"), "'main~1'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
