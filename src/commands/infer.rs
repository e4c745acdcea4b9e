//! `zkinfer infer`: quantized inference in candle on one input.

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
    class: usize,
    /// The outputs decoded to floats (`outputs_int / 2^scale`).
    outputs: Vec<f64>,
    outputs_int: Vec<i64>,
    scale: i32,
}

pub fn run(args: &InferArgs, json: bool) -> anyhow::Result<()> {
    let model = load_quantized_model(&args.model)
        .with_context(|| format!("loading model {:?}", args.model))?;
    let q = &model.quantized;
    let x = super::read_input(q, &args.model, &args.input)?;
    let trace = Engine::default()
        .run(q, &x)
        .with_context(|| format!("running {} on {}", model.source, args.input.display()))?;
    let out = trace.output();
    let scale = q.output().scale;
    let result = InferOutput {
        model: model.source.clone(),
        model_digest: q.digest().to_hex(),
        class: argmax(&out.data),
        outputs: out.data.iter().map(|&v| scale.dequantize(v)).collect(),
        outputs_int: out.data.clone(),
        scale: scale.0,
    };
    if json {
        return report::json(&result);
    }
    outln!(
        "model    {} ({})",
        report::printable(&result.model),
        &result.model_digest[..16]
    );
    outln!("class    {}", result.class);
    outln!("scores   {}", report::floats(&result.outputs));
    outln!("integers {:?} at scale {scale}", result.outputs_int);
    Ok(())
}
