//! `zkinfer infer`: quantized inference in candle on one input.

use crate::cli::InferArgs;
use crate::report::{self, outln};
use anyhow::Context;
use serde::Serialize;
use zkinfer_models::dataset::argmax;
use zkinfer_models::{input, load_model, Engine};

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
    let model =
        load_model(&args.model).with_context(|| format!("loading model {:?}", args.model))?;
    let q = &model.quantized;
    let values = input::read_single(&args.input, q.input().shape.numel())?;
    let x = q
        .quantize_input(&values)
        .with_context(|| format!("{}", args.input.display()))?;
    warn_outside_calibration(q, &values, &args.input.display().to_string());
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
    outln!("model    {} ({})", result.model, &result.model_digest[..16]);
    outln!("class    {}", result.class);
    outln!("scores   {}", report::floats(&result.outputs));
    outln!("integers {:?} at scale {scale}", result.outputs_int);
    Ok(())
}

/// Values inside the model's bound but outside what calibration saw are
/// accepted, with a warning: the model was never tuned for them.
fn warn_outside_calibration(q: &zkinfer_quant::QuantizedModel, values: &[f64], file: &str) {
    let Some(cal) = q.calibration() else { return };
    if let Some((i, v)) = values
        .iter()
        .enumerate()
        .find(|(_, &v)| v < cal.input_min || v > cal.input_max)
    {
        eprintln!(
            "warning: {file}: value {i} is {v}, outside the calibration range [{}, {}]; \
             the output may be less accurate",
            cal.input_min, cal.input_max
        );
    }
}
