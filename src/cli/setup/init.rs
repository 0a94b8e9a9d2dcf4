//! `git pitboss init`: scaffold `.pitboss/` (config, an example prompt, a default rotation).

use std::io::Write;

use clap::Args;

use crate::cli::project::{self, Paths};
use crate::cli::{CliError, CliResult, Ctx, ExitStatus, ui};
use crate::scaffold;

/// Create .pitboss/config.toml (every key, commented: its default, or an example marked e.g.
/// when it has none), an example prompt and a default rotation in the current work tree.
///
/// Files that already exist are left alone, so running it again is safe; it says what it
/// created and what it skipped.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {}

pub(crate) fn cmd_init(ctx: &Ctx, _args: InitArgs) -> CliResult {
    let (_repo, root) = project::root(ctx)?;
    let steps = scaffold::init(&root).map_err(|e| {
        CliError::internal(
            anyhow::Error::new(e).context(format!("cannot write under {}", root.display())),
        )
    })?;
    let paths = Paths::new(Some(root));
    let mut out = ui::stdout();
    for s in &steps {
        let what = if s.created {
            "created"
        } else {
            "skipped (exists)"
        };
        writeln!(out, "{what:<17} {}", paths.show(&s.path))?;
    }
    out.flush()?;
    if steps.iter().any(|s| s.created) {
        ctx.ui
            .status("next: edit the prompt, then `git pitboss prompts validate` and `git pitboss grind --dry-run`");
    }
    Ok(ExitStatus::Success)
}
