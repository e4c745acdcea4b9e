//! `zkinfer infer`: quantized inference in candle on one input, or on every
//! sample of a file of several.

use crate::cli::InferArgs;
use crate::report::{self, outln};
use anyhow::Context;
use serde::Serialize;
use zkinfer_models::dataset::argmax;
use zkinfer_models::{load_quantized_model, Engine};

#[derive(Serialize)]
struct InferOutput {
    model: String,
    model_digest: String,
    #[serde(flatten)]
    result: Inferred,
    scale: i32,
}

/// A file of several samples: one result each, in file order.
#[derive(Serialize)]
struct InferBatch {
    model: String,
    model_digest: String,
    samples: Vec<Inferred>,
    scale: i32,
}

#[derive(Serialize)]
struct Inferred {
    class: usize,
    /// The outputs decoded to floats (`outputs_int / 2^scale`).
    outputs: Vec<f64>,
    outputs_int: Vec<i64>,
}

pub fn run(args: &InferArgs, json: bool) -> anyhow::Result<()> {
    let model = load_quantized_model(&args.model)
        .with_context(|| format!("loading model {:?}", args.model))?;
    let q = &model.quantized;
    let inputs = super::read_inputs(q, &args.model, &args.input)?;
    let scale = q.output().scale;
    let engine = Engine::default();
    let mut results = inputs
        .iter()
        .enumerate()
        .map(|(j, x)| {
            let trace = engine.run(q, x).with_context(|| {
                let sample = if inputs.len() > 1 {
                    format!(" (sample {j})")
                } else {
                    String::new()
                };
                format!(
                    "running {} on {}{sample}",
                    model.source,
                    args.input.display()
                )
            })?;
            let out = trace.output();
            Ok(Inferred {
                class: argmax(&out.data),
                outputs: out.data.iter().map(|&v| scale.dequantize(v)).collect(),
                outputs_int: out.data.clone(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (model_name, digest) = (model.source.clone(), q.digest().to_hex());
    if json {
        return match results.len() {
            1 => report::json(&InferOutput {
                model: model_name,
                model_digest: digest,
                result: results.remove(0),
                scale: scale.0,
            }),
            _ => report::json(&InferBatch {
                model: model_name,
                model_digest: digest,
                samples: results,
                scale: scale.0,
            }),
        };
    }
    outln!(
        "model    {} ({})",
        report::printable(&model_name),
        &digest[..16]
    );
    for (j, r) in results.iter().enumerate() {
        if results.len() > 1 {
            outln!("sample   {j}");
        }
        outln!("class    {}", r.class);
        outln!("scores   {}", report::floats(&r.outputs));
        outln!("integers {:?} at scale {scale}", r.outputs_int);
    }
    Ok(())
}
