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
    fix_thread_count();
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

/// candle asks for its thread count before every matrix product, and
/// without `RAYON_NUM_THREADS` it counts physical cores by reading
/// `/proc/cpuinfo` each time: 70 % of the time of exporting a 300-layer
/// model went there. Counted once here, before any thread starts (rayon's
/// pool reads the same variable: the count is the one it would choose).
fn fix_thread_count() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
    }
}
