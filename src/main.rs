//! `zkinfer`: quantized neural-network inference you can prove.
//!
//! The binary is thin: [`cli`] parses the command line, each module under
//! [`commands`] runs one subcommand, and errors are reported here, once,
//! with their context (`error: <what>: <why>`; with `--json` also as JSON on
//! stdout, see [`failure`]), and exit code 2.

mod cli;
mod commands;
mod failure;
mod outputs;
mod progress;
mod report;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let json = cli.json;
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            failure::report(&err, json);
            ExitCode::from(2)
        }
    }
}
