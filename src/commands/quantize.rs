//! `zkinfer quantize`: a float model of one's own → a quantized model file.

use crate::cli::QuantizeArgs;
use crate::outputs;
use crate::progress::Phase;
use crate::report::{self, outln};
use anyhow::Context;
use serde::Serialize;
use zkinfer_models::{quantize, FloatModel, QuantizeOptions};
use zkinfer_prover::write_atomically;

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
    outputs::refuse_overwriting_inputs(
        "--out",
        &args.out,
        &[
            ("--arch", &args.arch),
            ("--weights", &args.weights),
            ("--calibration", &args.calibration),
        ],
    )?;
    outputs::refuse_foreign_file(&args.out, "zkinfer/model@", "a zkinfer model", args.force)?;
    let float = FloatModel::load(&args.arch, &args.weights)?;
    let numel: usize = float.arch().input_shape.iter().product();
    let samples = super::read_calibration(&args.calibration, &[numel])?;
    let options = QuantizeOptions {
        weight_bits: args.weight_bits,
        activation_bits: args.activation_bits,
        headroom_bits: args.headroom_bits,
        ..QuantizeOptions::default()
    };
    let model = Phase::run(format!("calibrating on {} samples", samples.len()), || {
        quantize(&float, &samples, &options)
    })
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
                zkinfer_quant::Scale(t.scale).to_string(),
                t.bits.to_string(),
            ]
        })
        .collect();
    report::table(&["tensor", "shape", "scale", "bits"], &rows);
    outln!(
        "wrote {} ({}, {} parameters, calibrated on {} sample{}, digest {})",
        out.out,
        report::printable(&out.name),
        out.parameters,
        out.calibration_samples,
        if out.calibration_samples == 1 {
            ""
        } else {
            "s"
        },
        out.digest
    );
    Ok(())
}
