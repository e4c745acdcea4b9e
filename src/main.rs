//! `zkinfer`: quantized neural-network inference you can prove.
//!
//! The binary is thin: [`cli`] parses the command line, each module under
//! [`commands`] runs one subcommand, and errors are reported here, once,
//! with their context (`error: <what>: <why>`), and exit code 2.

mod cli;
mod commands;
mod report;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
