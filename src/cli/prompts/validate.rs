//! `git pitboss prompts validate`: check every prompt, every rotation and the config at once.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::cli::project::{self, Paths};
use crate::cli::{CliResult, Ctx, ExitStatus, ui};
use crate::plan;

/// Check all prompts, rotations and .pitboss/config.toml.
///
/// Prints one line per problem (`path:line: `field`: what is wrong`) and exits 1 when any is
/// an error; warnings (unknown config keys, shadowed prompts) do not fail the check. Every `.md`
/// file that is not read as a prompt (a README, a hidden file) is listed with why.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Check the prompts in DIR instead of the project's and the global ones.
    #[arg(long, value_name = "DIR")]
    prompts_dir: Option<PathBuf>,
}

pub(crate) fn cmd_validate(ctx: &Ctx, args: ValidateArgs) -> CliResult {
    let (_repo, root) = project::root(ctx)?;
    let paths = Paths::new(Some(root.clone()));
    let req = project::request(ctx, root, args.prompts_dir.as_deref());
    let v = plan::validate(&req);
    let mut out = ui::stdout();
    for p in &v.problems {
        writeln!(out, "{}", paths.problem(p))?;
    }
    for s in &v.discovery.shadowed {
        let (w, h) = (paths.show(&s.winner), paths.show(&s.hidden));
        writeln!(
            out,
            "warning: {h}: `name`: shadowed by the project prompt {w}"
        )?;
    }
    for sk in &v.discovery.skipped {
        writeln!(out, "skipped {}: {}", paths.show(&sk.path), sk.why)?;
    }
    out.flush()?;
    let errors = v.problems.iter().filter(|p| p.is_error()).count();
    let config = v
        .config_path
        .as_deref()
        .map_or("no config file".to_string(), |c| paths.show(c));
    let checked = format!(
        "{} prompt(s), {} rotation(s) and {config}",
        v.discovery.prompts.len(),
        v.rotations.len()
    );
    if errors > 0 {
        ctx.ui.status(&format!("{errors} problem(s) in {checked}"));
        return Ok(ExitStatus::Failed);
    }
    ctx.ui.status(&format!("ok: {checked}"));
    Ok(ExitStatus::Success)
}
