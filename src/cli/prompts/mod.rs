//! `git pitboss prompts …`: list, check and create prompt files.

mod ls;
mod new;
mod validate;

use clap::Subcommand;

use crate::cli::{CliResult, Ctx};

pub(crate) use ls::{flags, write_columns};

/// List, check and create the prompts `grind` rotates through.
#[derive(Debug, Subcommand)]
pub(crate) enum PromptsCommand {
    Ls(ls::LsArgs),
    Validate(validate::ValidateArgs),
    New(new::NewArgs),
}

pub(crate) fn dispatch(ctx: &Ctx, command: PromptsCommand) -> CliResult {
    match command {
        PromptsCommand::Ls(a) => ls::cmd_ls(ctx, a),
        PromptsCommand::Validate(a) => validate::cmd_validate(ctx, a),
        PromptsCommand::New(a) => new::cmd_new(ctx, a),
    }
}
