//! One module per subcommand; [`run`] dispatches.

mod chain;
mod commit;
mod contract;
mod eval;
mod export;
mod infer;
mod inspect;
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
        Command::Commit(args) => commit::run(&args, cli.json),
        Command::Export(args) => export::run(&args, cli.json),
        Command::Inspect(args) => match (&args.onnx, &args.package) {
            (Some(onnx), _) => inspect::onnx(onnx, cli.json),
            (None, Some(package)) => export::inspect(package, cli.json),
            (None, None) => Err(anyhow::anyhow!(
                "inspect needs a package folder or --onnx FILE"
            )),
        },
        // These two report a failed check with exit code 1.
        Command::Verify(args) => return verify::run(&args, cli.json),
        Command::Mock(args) => return mock::run(&args, cli.json),
        Command::Contract(command) => return contract::run(command, cli.json),
    }?;
    Ok(ExitCode::SUCCESS)
}

/// The model input, quantized, with a warning for values outside what
/// calibration saw. `model_arg` is the `--model` given: a package folder
/// says how many graph inputs the model concatenates.
fn read_input(
    model: &zkinfer_quant::QuantizedModel,
    model_arg: &str,
    path: &std::path::Path,
) -> anyhow::Result<zkinfer_quant::Tensor> {
    let mut samples = read_inputs(model, model_arg, path)?;
    if samples.len() != 1 {
        anyhow::bail!(
            "{}: holds {} samples, this command takes one",
            path.display(),
            samples.len()
        );
    }
    Ok(samples.remove(0))
}

/// Every sample of an input file, quantized ([`read_input`] for files of
/// several samples): a warning for the first value outside what
/// calibration saw.
fn read_inputs(
    model: &zkinfer_quant::QuantizedModel,
    model_arg: &str,
    path: &std::path::Path,
) -> anyhow::Result<Vec<zkinfer_quant::Tensor>> {
    use crate::failure::AtFileExt;
    let parts = input_parts(model_arg)?.unwrap_or_else(|| vec![model.input().shape.numel()]);
    let samples = zkinfer_models::input::read_samples_of(path, &parts)?;
    let mut warned = false;
    let several = samples.len() > 1;
    samples
        .iter()
        .enumerate()
        .map(|(j, values)| {
            let x = model.quantize_input(values).at_file(path)?;
            let Some(cal) = model.calibration() else {
                return Ok(x);
            };
            // Calibration ran in f32 and recorded its range as f32 values: a
            // value is compared as calibration would have seen it, so proving
            // the very file one calibrated on never warns.
            let seen = |v: f64| f64::from(v as f32);
            let outside = values
                .iter()
                .enumerate()
                .find(|(_, &v)| seen(v) < cal.input_min || seen(v) > cal.input_max);
            if let (Some((i, v)), false) = (outside, warned) {
                warned = true;
                eprintln!(
                    "warning: {}: {}value {i} is {v}, outside the calibration range [{}, {}]; \
                     the output may be less accurate",
                    path.display(),
                    if several {
                        format!("sample {j}, ")
                    } else {
                        String::new()
                    },
                    cal.input_min,
                    cal.input_max
                );
            }
            Ok(x)
        })
        .collect()
}

/// The values of each graph input of a package folder's model, when its
/// graph had several (`None`: one input, or not a package).
fn input_parts(model_arg: &str) -> anyhow::Result<Option<Vec<usize>>> {
    use zkinfer_prover::export::{Package, PACKAGE_FILE};
    let dir = std::path::Path::new(model_arg);
    if !dir.join(PACKAGE_FILE).exists() {
        return Ok(None);
    }
    Ok(Package::read(dir)?.input_parts())
}

/// Reads calibration samples (as f32, what calibration computes in), for
/// graph inputs of `parts` values each, and warns on stderr about a set
/// too small or constant to calibrate on.
fn read_calibration(path: &std::path::Path, parts: &[usize]) -> anyhow::Result<Vec<Vec<f32>>> {
    let samples = zkinfer_models::input::read_samples_of(path, parts)?;
    for warning in zkinfer_models::input::calibration_warnings(&samples) {
        eprintln!("warning: {}: {warning}", path.display());
    }
    Ok(samples
        .into_iter()
        .map(|s| s.into_iter().map(|v| v as f32).collect())
        .collect())
}

/// The input visibility: private or committed when asked, else what a
/// package folder given as `--model` was exported with, else public. A
/// package folder whose `package.json` cannot be read is an error, not a
/// silent "public".
fn visibility(
    model: &str,
    private_input: bool,
    committed_input: bool,
) -> anyhow::Result<zkinfer_circuits::Visibility> {
    use zkinfer_circuits::Visibility;
    use zkinfer_prover::export::{Package, PACKAGE_FILE};
    let dir = std::path::Path::new(model);
    if private_input {
        return Ok(Visibility::Private);
    }
    if committed_input {
        return Ok(Visibility::Committed);
    }
    if !dir.join(PACKAGE_FILE).exists() {
        return Ok(Visibility::Public);
    }
    Ok(Package::read(dir)?.input_visibility)
}

/// The weights' visibility: what `--weights-visibility` says, else what a
/// package folder given as `--model` was exported with, else fixed.
fn weights(
    model: &str,
    flag: Option<zkinfer_circuits::WeightVisibility>,
) -> anyhow::Result<zkinfer_circuits::WeightVisibility> {
    use zkinfer_prover::export::{Package, PACKAGE_FILE};
    let dir = std::path::Path::new(model);
    match flag {
        Some(weights) => Ok(weights),
        None if dir.join(PACKAGE_FILE).exists() => Ok(Package::read(dir)?.weight_visibility),
        None => Ok(zkinfer_circuits::WeightVisibility::Fixed),
    }
}

/// The polycommit weights' secret: `--weights-secret FILE`, else the
/// package's `weights_secret.txt` (which `export` writes), else none.
fn weights_secret(
    model: &str,
    flag: Option<&std::path::Path>,
) -> anyhow::Result<Option<zkinfer_circuits::polycommit::WeightsSecret>> {
    use zkinfer_prover::export::WEIGHTS_SECRET_FILE;
    let in_package = std::path::Path::new(model).join(WEIGHTS_SECRET_FILE);
    let path = match flag {
        Some(path) => path.to_path_buf(),
        None if in_package.is_file() => in_package,
        None => return Ok(None),
    };
    let text = zkinfer_models::read_text(&path)?;
    zkinfer_circuits::polycommit::WeightsSecret::from_hex(&text)
        .map(Some)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{}: not a weights secret (64 hex digits, as zkinfer export or zkinfer commit \
                 --new-weights-secret write)",
                path.display()
            )
        })
}

/// Writes a new random weights secret to `path`, readable by its owner
/// only; refuses an existing file (a secret is never replaced).
fn write_new_weights_secret(path: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::io::Write;
    let secret = zkinfer_prover::random_weights_secret();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| {
        format!(
            "writing the weights secret to {} (an existing file is never replaced)",
            path.display()
        )
    })?;
    file.write_all(format!("{}\n", secret.to_hex()).as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing the weights secret to {}", path.display()))
}

/// The layout profile to plan in: `--profile`, else a package folder's,
/// else auto.
fn profile_choice(
    model_arg: &str,
    flag: Option<zkinfer_prover::ProfileChoice>,
) -> anyhow::Result<zkinfer_prover::ProfileChoice> {
    use zkinfer_prover::export::{Package, PACKAGE_FILE};
    use zkinfer_prover::ProfileChoice;
    let dir = std::path::Path::new(model_arg);
    Ok(match flag {
        Some(choice) => choice,
        None if dir.join(PACKAGE_FILE).exists() => {
            ProfileChoice::Use(Package::read(dir)?.plan.profile)
        }
        None => ProfileChoice::Auto,
    })
}

/// The circuit of a model, in the layout profile `--profile` names, else
/// the package's, else the one the cost model says proves fastest (with
/// committed weights, the smallest `k`: [`zkinfer_prover::choose::plan_with`]).
fn plan_circuit(
    model_arg: &str,
    q: &zkinfer_quant::QuantizedModel,
    visibility: zkinfer_circuits::Visibility,
    weights: zkinfer_circuits::WeightVisibility,
    flag: Option<zkinfer_prover::ProfileChoice>,
) -> anyhow::Result<zkinfer_circuits::ModelCircuit> {
    let public = zkinfer_circuits::Visibility::Public;
    plan_circuit_io(model_arg, q, [visibility, public], weights, flag)
}

/// [`plan_circuit`] with the output's visibility too: `[input, output]`
/// (a committed output is public as its commitment).
fn plan_circuit_io(
    model_arg: &str,
    q: &zkinfer_quant::QuantizedModel,
    visibility: [zkinfer_circuits::Visibility; 2],
    weights: zkinfer_circuits::WeightVisibility,
    flag: Option<zkinfer_prover::ProfileChoice>,
) -> anyhow::Result<zkinfer_circuits::ModelCircuit> {
    let choice = profile_choice(model_arg, flag)?;
    let profile = zkinfer_prover::choose::plan_with(q, visibility[0], weights, choice)?.profile;
    let model = std::sync::Arc::new(q.clone());
    Ok(zkinfer_circuits::ModelCircuit::with_output(
        model, visibility, weights, profile,
    )?)
}

/// The parameter cache the command line points at.
fn params_cache(args: &crate::cli::ParamsArgs) -> zkinfer_prover::ParamsCache {
    zkinfer_prover::ParamsCache::new(
        args.params_dir
            .clone()
            .unwrap_or_else(zkinfer_prover::ParamsCache::default_dir),
    )
}

/// Loads IPA parameters for `k`, with progress when that is slow
/// (generating them takes seconds from k = 12 on).
fn load_params(
    cache: &zkinfer_prover::ParamsCache,
    k: u32,
) -> anyhow::Result<zkinfer_verifier::IpaParams> {
    let label = if cache.contains(k) {
        format!("reading IPA parameters for k = {k}")
    } else {
        format!(
            "generating IPA parameters for k = {k} (once, {}; cached in {})",
            zkinfer_prover::export::Estimates::about(
                zkinfer_prover::export::Estimates::params_seconds(k)
            ),
            cache.dir().display()
        )
    };
    let (params, source) = crate::progress::Phase::run(label, || cache.load(k))?;
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
