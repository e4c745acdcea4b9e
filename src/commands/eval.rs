//! `zkinfer eval`: accuracy on the digits' held-out split.

use crate::cli::EvalArgs;
use crate::report::{self, outln};
use anyhow::{bail, Context};
use serde::Serialize;
use zkinfer_models::dataset::{digits, Split, DIGIT_PIXELS};
use zkinfer_models::{evaluate, load_model, EvalReport};

#[derive(Serialize)]
struct EvalOutput<'a> {
    model: &'a str,
    split: &'static str,
    #[serde(flatten)]
    report: EvalReport,
}

pub fn run(args: &EvalArgs, json: bool) -> anyhow::Result<()> {
    let model =
        load_model(&args.model).with_context(|| format!("loading model {:?}", args.model))?;
    let numel = model.quantized.input().shape.numel();
    if numel != DIGIT_PIXELS {
        bail!(
            "eval uses the bundled digits (64 inputs per sample); model {} takes {numel}",
            model.source
        );
    }
    let data = digits(Split::Test)?;
    let report = evaluate(&model, &data).with_context(|| format!("evaluating {}", model.source))?;
    let out = EvalOutput {
        model: &model.source,
        split: "digits held-out (row index % 5 == 0)",
        report,
    };
    if json {
        return report::json(&out);
    }
    let pct = |v: Option<f64>| {
        v.map_or("n/a (no float model)".to_string(), |v| {
            format!("{:.2} %", v * 100.0)
        })
    };
    outln!("model               {}", out.model);
    outln!(
        "data                {}, {} samples",
        out.split,
        out.report.samples
    );
    outln!("float accuracy      {}", pct(out.report.float_accuracy));
    outln!(
        "quantized accuracy  {}",
        pct(Some(out.report.quantized_accuracy))
    );
    outln!("agreement           {}", pct(out.report.agreement));
    Ok(())
}
