//! `git pitboss prompts ls`: every prompt found, where it comes from, how often it runs, and
//! what it shadows.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::cli::project::{self, Paths};
use crate::cli::{CliResult, Ctx, ExitStatus, ui};
use crate::config::{self, Config};
use crate::fields::Problem;
use crate::plan::discover::{Discovery, discover};
use crate::plan::prompt::Prompt;
use crate::plan::{PlanRequest, prompt_dirs};

/// List prompts: name, source, weight, every, max_runs, flags, path, and what each shadows.
///
/// Prompts come from --prompts-dir alone when given; otherwise from the project's
/// .pitboss/grind/prompts/ and then ~/.pitboss/grind/prompts/, a project prompt hiding a
/// global one of the same name. Exits 1 when a prompt file or the config has a problem.
#[derive(Debug, Args)]
pub(crate) struct LsArgs {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
    /// List only the prompts in DIR.
    #[arg(long, value_name = "DIR")]
    prompts_dir: Option<PathBuf>,
}

/// One row of `prompts ls --json`.
#[derive(serde::Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    prompt: &'a Prompt,
    shadows: Option<&'a PathBuf>,
}

pub(crate) fn cmd_ls(ctx: &Ctx, args: LsArgs) -> CliResult {
    let root = project::root_if_any(ctx);
    let paths = Paths::new(root.clone());
    let (found, mut problems) = find(ctx, root.as_deref(), args.prompts_dir.as_deref());
    problems.extend(found.problems.iter().cloned());
    for s in &found.shadowed {
        ctx.ui.warn(&format!(
            "project prompt {} shadows {}",
            paths.show(&s.winner),
            paths.show(&s.hidden)
        ));
    }
    for sk in &found.skipped {
        ctx.ui
            .status(&format!("skipped {}: {}", paths.show(&sk.path), sk.why));
    }
    let mut out = ui::stdout();
    if args.json {
        let rows: Vec<Row> = found
            .prompts
            .iter()
            .map(|p| Row {
                prompt: p,
                shadows: found.shadow_of(p.name.as_str()).map(|s| &s.hidden),
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
    } else if found.prompts.is_empty() {
        let dirs: Vec<String> = found
            .searched
            .iter()
            .map(|(_, d, _)| paths.show(d))
            .collect();
        ctx.ui.status(&format!(
            "no prompts found (looked in {}); create one with `git pitboss prompts new <name>`",
            dirs.join(", ")
        ));
    } else {
        write_table(&mut out, &found, &paths)?;
    }
    out.flush()?;
    for p in &problems {
        ctx.ui.status(&paths.problem(p));
    }
    if problems.iter().any(|p| p.is_error()) {
        return Ok(ExitStatus::Failed);
    }
    Ok(ExitStatus::Success)
}

/// Discovers prompts the way `grind` would (the config may move the project's folder).
fn find(ctx: &Ctx, root: Option<&Path>, prompts_dir: Option<&Path>) -> (Discovery, Vec<Problem>) {
    let (config, problems) = root
        .map(|r| Config::load(&r.join(config::CONFIG_FILE)))
        .unwrap_or_default();
    let req = PlanRequest {
        root: root.map(Path::to_path_buf).unwrap_or_default(),
        home: project::home(),
        prompts_dir: prompts_dir.map(|d| ctx.cwd.join(d)),
        ..PlanRequest::default()
    };
    let mut dirs = prompt_dirs(&req, &config);
    if root.is_none() {
        dirs.project = None;
    }
    (discover(&dirs), problems)
}

fn write_table(out: &mut impl Write, found: &Discovery, paths: &Paths) -> std::io::Result<()> {
    let header = [
        "NAME", "SOURCE", "WEIGHT", "EVERY", "MAX_RUNS", "FLAGS", "PATH", "SHADOWS",
    ];
    let rows: Vec<[String; 8]> = found
        .prompts
        .iter()
        .map(|p| {
            [
                p.name.to_string(),
                p.source.to_string(),
                p.weight.to_string(),
                p.every.to_string(),
                p.max_runs.map_or("-".into(), |m| m.to_string()),
                flags(p),
                paths.show(&p.path),
                found
                    .shadow_of(p.name.as_str())
                    .map_or("-".into(), |s| paths.show(&s.hidden)),
            ]
        })
        .collect();
    write_columns(out, &header, &rows)
}

/// `verify,parallel-safe,#tag…`, or `-`.
pub(crate) fn flags(p: &Prompt) -> String {
    let mut f: Vec<String> = Vec::new();
    if p.verify {
        f.push("verify".into());
    }
    if p.parallel_safe {
        f.push("parallel-safe".into());
    }
    f.extend(p.tags.iter().map(|t| format!("#{t}")));
    if f.is_empty() {
        "-".into()
    } else {
        f.join(",")
    }
}

/// Left-aligned columns separated by two spaces; the last column is not padded.
pub(crate) fn write_columns<const N: usize>(
    out: &mut impl Write,
    header: &[&str; N],
    rows: &[[String; N]],
) -> std::io::Result<()> {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == N {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for row in rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}
