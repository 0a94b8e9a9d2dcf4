//! `git pitboss prompts new <name>`: write a commented prompt template, never over a file.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::cli::project::{self, Paths};
use crate::cli::{CliError, CliResult, Ctx, ExitStatus, ui};
use crate::config::{self, Config};
use crate::plan::discover::skip_reason;
use crate::plan::prompt::PromptName;
use crate::plan::prompt_dirs;
use crate::scaffold;

/// Create a prompt file from a commented template.
///
/// By default in the project's prompt folder (.pitboss/grind/prompts/, or [grind] prompts_dir);
/// with --global in ~/.pitboss/grind/prompts/; with --dir in DIR. Refuses to overwrite.
#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// The prompt's name: lower-case letters, digits, '-' and '_' (also the file name).
    #[arg(value_parser = parse_name)]
    name: PromptName,
    /// Create it in ~/.pitboss/grind/prompts/ (shared by all your projects).
    #[arg(long, conflicts_with = "dir")]
    global: bool,
    /// Create it in DIR.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// A valid name whose file discovery would skip (`readme`) is refused: `new` must not create a
/// prompt that is then dropped.
fn parse_name(s: &str) -> Result<PromptName, String> {
    let name = PromptName::parse(s)?;
    match skip_reason(&format!("{name}.md")) {
        Some(why) => Err(format!(
            "{name}.md would not be read as a prompt: {why}; choose another name"
        )),
        None => Ok(name),
    }
}

pub(crate) fn cmd_new(ctx: &Ctx, args: NewArgs) -> CliResult {
    let (dir, root) = if let Some(dir) = &args.dir {
        (ctx.cwd.join(dir), project::root_if_any(ctx))
    } else if args.global {
        let home = project::home().ok_or_else(|| {
            CliError::user(anyhow::anyhow!(
                "HOME is not set, so there is no global prompt folder"
            ))
            .hint("use --dir DIR, or set HOME")
        })?;
        (
            home.join(".pitboss/grind/prompts"),
            project::root_if_any(ctx),
        )
    } else {
        let (_repo, root) = project::root(ctx)?;
        let (config, _) = Config::load(&root.join(config::CONFIG_FILE));
        let req = project::request(ctx, root.clone(), None);
        let dir = prompt_dirs(&req, &config).project.unwrap_or_default();
        (dir, Some(root))
    };
    let paths = Paths::new(root);
    let path = dir.join(format!("{}.md", args.name));
    let text = scaffold::prompt_template(&args.name);
    let created = scaffold::write_new(&path, &text).map_err(|e| {
        CliError::internal(
            anyhow::Error::new(e).context(format!("cannot write {}", path.display())),
        )
    })?;
    if !created {
        return Err(
            CliError::user(anyhow::anyhow!("{} already exists", paths.show(&path)))
                .hint("edit that file, or choose another name"),
        );
    }
    let mut out = ui::stdout();
    writeln!(out, "created {}", paths.show(&path))?;
    out.flush()?;
    ctx.ui
        .status("next: describe the task in it, then `git pitboss prompts validate`");
    Ok(ExitStatus::Success)
}
