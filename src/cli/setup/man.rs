//! `git pitboss man`: writes the manual pages, generated from the clap definitions, so `git
//! pitboss --help` works. git turns `git pitboss --help` into `git help pitboss`, which opens
//! `man git-pitboss`: without a page, it fails ("No manual entry for git-pitboss").
//!
//! The default directory is `<prefix>/share/man/man1` beside the `bin/` this executable is in
//! (`~/.cargo/bin/git-pitboss` writes to `~/.cargo/share/man/man1`): man-db derives its search
//! path from `PATH`, looking in `../share/man` of each `bin` directory, so the pages are found
//! without setting `MANPATH`.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, CommandFactory};

use crate::cli::{Cli, CliError, CliResult, Ctx, ExitStatus, ui};

/// Write the manual pages (git-pitboss.1, git-pitboss-grind.1, …), so that `git pitboss --help`
/// and `git help pitboss` open them.
///
/// By default they go to share/man/man1 beside the bin directory this program is installed in,
/// where man finds them through PATH.
#[derive(Debug, Args)]
pub(crate) struct ManArgs {
    /// Write the pages into DIR instead (it is created if needed).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

pub(crate) fn cmd_man(ctx: &Ctx, args: ManArgs) -> CliResult {
    let dir = match args.dir {
        Some(d) => ctx.cwd.join(d),
        None => default_dir()?,
    };
    std::fs::create_dir_all(&dir).map_err(|e| {
        CliError::user(anyhow::Error::new(e).context(format!("cannot create {}", dir.display())))
            .hint("pass --dir with a directory you can write to")
    })?;
    let written = write_pages(&dir).map_err(|e| {
        CliError::user(anyhow::Error::new(e).context(format!("cannot write to {}", dir.display())))
            .hint("pass --dir with a directory you can write to")
    })?;
    let mut out = ui::stdout();
    for p in &written {
        writeln!(out, "{}", p.display())?;
    }
    out.flush()?;
    let root = dir.parent().unwrap_or(&dir);
    ctx.ui.status(&format!(
        "wrote {} manual pages; `git pitboss --help` opens them when man searches {} \
         (it does for share/man beside a bin directory on PATH; else add it to MANPATH)",
        written.len(),
        root.display()
    ));
    Ok(ExitStatus::Success)
}

/// `<exe>/../../share/man/man1`.
fn default_dir() -> CliResult<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| {
        CliError::internal(anyhow::Error::new(e).context("cannot find the git-pitboss executable"))
    })?;
    let prefix = exe.parent().and_then(|bin| bin.parent()).ok_or_else(|| {
        CliError::user(anyhow::anyhow!(
            "cannot tell the install prefix of {}",
            exe.display()
        ))
        .hint("pass --dir")
    })?;
    Ok(prefix.join("share/man/man1"))
}

/// Renders the page of the command and of every visible subcommand; returns the files.
fn write_pages(dir: &std::path::Path) -> std::io::Result<Vec<PathBuf>> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    let mut stack = vec![cmd];
    while let Some(c) = stack.pop() {
        stack.extend(c.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
        let man = clap_mangen::Man::new(c).manual("git-pitboss manual");
        out.push(man.generate_to(dir)?);
    }
    out.sort();
    Ok(out)
}
