//! `zkinfer quantize`: a float model of one's own → a quantized model file.

use crate::cli::QuantizeArgs;
use crate::report::{self, outln};
use anyhow::Context;
use serde::Serialize;
use std::path::Path;
use zkinfer_models::{input, quantize, FloatModel, QuantizeOptions};

#[derive(Serialize)]
struct QuantizeOutput {
    out: String,
    name: String,
    digest: String,
    calibration_samples: usize,
    parameters: usize,
    tensors: Vec<TensorRow>,
}

#[derive(Serialize)]
struct TensorRow {
    tensor: String,
    shape: Vec<usize>,
    scale: i32,
    bits: u32,
}

pub fn run(args: &QuantizeArgs, json: bool) -> anyhow::Result<()> {
    let float = FloatModel::load(&args.arch, &args.weights)?;
    let numel: usize = float.arch().input_shape.iter().product();
    let samples: Vec<Vec<f32>> = input::read_samples(&args.calibration, numel)?
        .into_iter()
        .map(|s| s.into_iter().map(|v| v as f32).collect())
        .collect();
    let options = QuantizeOptions {
        weight_bits: args.weight_bits,
        activation_bits: args.activation_bits,
        headroom_bits: args.headroom_bits,
        ..QuantizeOptions::default()
    };
    let model = quantize(&float, &samples, &options)
        .with_context(|| format!("quantizing with {}", args.calibration.display()))?;
    write_atomically(&args.out, model.to_json().as_bytes())?;

    let out = QuantizeOutput {
        out: args.out.display().to_string(),
        name: model.name().to_string(),
        digest: model.digest().to_hex(),
        calibration_samples: samples.len(),
        parameters: model.parameter_count(),
        tensors: model
            .specs()
            .iter()
            .enumerate()
            .map(|(id, spec)| TensorRow {
                tensor: model.tensor_label(id),
                shape: spec.shape.0.clone(),
                scale: spec.scale.0,
                bits: spec.bits,
            })
            .collect(),
    };
    if json {
        return report::json(&out);
    }
    let rows: Vec<Vec<String>> = out
        .tensors
        .iter()
        .map(|t| {
            vec![
                t.tensor.clone(),
                format!("{:?}", t.shape),
                format!("2^-{}", t.scale),
                t.bits.to_string(),
            ]
        })
        .collect();
    report::table(&["tensor", "shape", "scale", "bits"], &rows);
    outln!(
        "wrote {} ({}, {} parameters, calibrated on {} samples, digest {})",
        out.out,
        out.name,
        out.parameters,
        out.calibration_samples,
        out.digest
    );
    Ok(())
}

/// Writes a file so that a crash leaves either the old file or the new one:
/// a temporary file beside it, flushed to disk, then renamed over it.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().context("--out needs a file name")?;
    let tmp = dir.join(format!(".{}.tmp", name.to_string_lossy()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().with_context(|| format!("writing {}", path.display()))
}
