//! `zkinfer verify`: check a proof bundle against a model. Exit 0 when it
//! verifies, 1 when the proof is rejected, 2 when it cannot be checked.

use crate::cli::VerifyArgs;
use crate::report::{self, outln};
use anyhow::Context;
use serde::Serialize;
use std::process::ExitCode;
use zkinfer_models::load_model;
use zkinfer_verifier::{verify, ProofBundle, VerifierKey};

#[derive(Serialize)]
struct VerifyOutput {
    verified: bool,
    outputs: Vec<f64>,
    outputs_int: Vec<i64>,
    scale: i32,
    class: usize,
    model_digest: String,
    vk_digest: String,
    k: u32,
}

pub fn run(args: &VerifyArgs, json: bool) -> anyhow::Result<ExitCode> {
    let model =
        load_model(&args.model).with_context(|| format!("loading model {:?}", args.model))?;
    let text = zkinfer_models::read_text(&args.proof)?;
    let bundle =
        ProofBundle::from_json(&text).with_context(|| format!("{}", args.proof.display()))?;
    let q = model.quantized;
    let visibility = bundle.input_visibility;
    let k = VerifierKey::k_for(&q, visibility)?;
    let params = super::load_params(&super::params_cache(&args.params), k)?;
    let key = VerifierKey::new(q.clone(), visibility, params)?;
    match verify(&key, &bundle) {
        Ok(claim) => {
            let scale = q.output().scale;
            let out = VerifyOutput {
                verified: true,
                outputs: claim.output.iter().map(|&v| scale.dequantize(v)).collect(),
                outputs_int: claim.output,
                scale: claim.output_scale,
                class: claim.class,
                model_digest: claim.model_digest,
                vk_digest: claim.vk_digest,
                k: claim.k,
            };
            if json {
                report::json(&out)?;
            } else {
                outln!("verified {} → class {}", args.proof.display(), out.class);
                outln!("scores   {}", report::floats(&out.outputs));
                outln!("integers {:?} at scale 2^-{}", out.outputs_int, out.scale);
                outln!("model    {} ({})", model.source, &out.model_digest[..16]);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if e.is_rejection() => {
            if json {
                report::json(&serde_json::json!({ "verified": false, "error": e.to_string() }))?;
            }
            eprintln!("rejected: {}: {e}", args.proof.display());
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e).with_context(|| format!("{}", args.proof.display())),
    }
}
