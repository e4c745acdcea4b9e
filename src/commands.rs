//! One module per subcommand; [`run`] dispatches.

mod eval;
mod infer;
mod models;
mod quantize;

use crate::cli::{Cli, Command};
use std::process::ExitCode;

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Models => models::run(cli.json),
        Command::Infer(args) => infer::run(&args, cli.json),
        Command::Eval(args) => eval::run(&args, cli.json),
        Command::Quantize(args) => quantize::run(&args, cli.json),
    }?;
    Ok(ExitCode::SUCCESS)
}
