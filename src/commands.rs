//! One module per subcommand; [`run`] dispatches.

mod contract;
mod eval;
mod export;
mod infer;
mod mock;
mod models;
mod prove;
mod quantize;
mod verify;

use crate::cli::{Cli, Command};
use std::process::ExitCode;

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Models => models::run(cli.json),
        Command::Infer(args) => infer::run(&args, cli.json),
        Command::Eval(args) => eval::run(&args, cli.json),
        Command::Quantize(args) => quantize::run(&args, cli.json),
        Command::Prove(args) => prove::run(&args, cli.json),
        Command::Export(args) => export::run(&args, cli.json),
        Command::Inspect(args) => export::inspect(&args, cli.json),
        // These two report a failed check with exit code 1.
        Command::Verify(args) => return verify::run(&args, cli.json),
        Command::Mock(args) => return mock::run(&args, cli.json),
        Command::Contract(command) => return contract::run(command, cli.json),
    }?;
    Ok(ExitCode::SUCCESS)
}

/// The model input, quantized, with a warning for values outside what
/// calibration saw.
fn read_input(
    model: &zkinfer_quant::QuantizedModel,
    path: &std::path::Path,
) -> anyhow::Result<zkinfer_quant::Tensor> {
    use anyhow::Context;
    let values = zkinfer_models::input::read_single(path, model.input().shape.numel())?;
    let x = model
        .quantize_input(&values)
        .with_context(|| format!("{}", path.display()))?;
    if let Some(cal) = model.calibration() {
        if let Some((i, v)) = values
            .iter()
            .enumerate()
            .find(|(_, &v)| v < cal.input_min || v > cal.input_max)
        {
            eprintln!(
                "warning: {}: value {i} is {v}, outside the calibration range [{}, {}]; \
                 the output may be less accurate",
                path.display(),
                cal.input_min,
                cal.input_max
            );
        }
    }
    Ok(x)
}

/// The input visibility: private when asked, else what a package folder
/// given as `--model` was exported with, else public.
fn visibility(model: &str, private_input: bool) -> zkinfer_circuits::Visibility {
    use zkinfer_circuits::Visibility;
    if private_input {
        return Visibility::Private;
    }
    zkinfer_prover::export::Package::read(std::path::Path::new(model))
        .map(|p| p.input_visibility)
        .unwrap_or(Visibility::Public)
}

/// The parameter cache the command line points at.
fn params_cache(args: &crate::cli::ParamsArgs) -> zkinfer_prover::ParamsCache {
    zkinfer_prover::ParamsCache::new(
        args.params_dir
            .clone()
            .unwrap_or_else(zkinfer_prover::ParamsCache::default_dir),
    )
}

/// Loads IPA parameters for `k`, saying so on a terminal when they must be
/// generated (that takes more than a second from k = 12 on).
fn load_params(
    cache: &zkinfer_prover::ParamsCache,
    k: u32,
) -> anyhow::Result<zkinfer_verifier::IpaParams> {
    use std::io::IsTerminal;
    if !cache.contains(k) && k >= 12 && std::io::stderr().is_terminal() {
        eprintln!(
            "generating IPA parameters for k = {k} (once; cached in {})...",
            cache.dir().display()
        );
    }
    let (params, source) = cache.load(k)?;
    match source {
        zkinfer_prover::ParamsSource::GeneratedNotCached(why) => eprintln!(
            "warning: could not cache IPA parameters in {}: {why}",
            cache.dir().display()
        ),
        zkinfer_prover::ParamsSource::Repaired(why) => {
            eprintln!("warning: cached IPA parameters refused and regenerated — {why}")
        }
        _ => {}
    }
    Ok(params)
}
