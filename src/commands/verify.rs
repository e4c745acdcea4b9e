//! `zkinfer verify`: check a proof bundle against a model. Exit 0 when it
//! verifies, 1 when the proof is rejected, 2 when it cannot be checked.

use crate::cli::VerifyArgs;
use crate::report::{self, outln};
use anyhow::Context;
use serde::Serialize;
use std::process::ExitCode;
use zkinfer_models::load_model;
use zkinfer_quant::Scale;
use zkinfer_verifier::contract::input_digest;
use zkinfer_verifier::{
    verify, verify_batch, ProofBundle, VerifiedClaim, VerifierKey, VerifyError, Visibility,
};

#[derive(Serialize)]
struct VerifyOutput {
    verified: bool,
    /// `public` or `private`: what the proof says about the input.
    input_visibility: &'static str,
    /// SHA-256 of the proven input integers (as the contract records it);
    /// `null` for a private input, which no proof ties to any value.
    input_digest: Option<String>,
    outputs: Vec<f64>,
    outputs_int: Vec<i64>,
    scale: i32,
    class: usize,
    model_digest: String,
    vk_digest: String,
    k: u32,
}

impl VerifyOutput {
    fn new(claim: VerifiedClaim, output_scale: Scale) -> Self {
        VerifyOutput {
            verified: true,
            input_visibility: match claim.input {
                Some(_) => Visibility::Public.name(),
                None => Visibility::Private.name(),
            },
            input_digest: claim.input.as_deref().map(input_digest),
            outputs: claim
                .output
                .iter()
                .map(|&v| output_scale.dequantize(v))
                .collect(),
            outputs_int: claim.output,
            scale: claim.output_scale,
            class: claim.class,
            model_digest: claim.model_digest,
            vk_digest: claim.vk_digest,
            k: claim.k,
        }
    }
}

pub fn run(args: &VerifyArgs, json: bool) -> anyhow::Result<ExitCode> {
    let model =
        load_model(&args.model).with_context(|| format!("loading model {:?}", args.model))?;
    let bundles = args
        .proof
        .iter()
        .map(|path| {
            let text = zkinfer_models::read_text(path)?;
            ProofBundle::from_json(&text).with_context(|| format!("{}", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let q = model.quantized;
    // The verifier decides what is proven about the input, not the bundle.
    let visibility = super::visibility(&args.model, args.private_input);
    let k = VerifierKey::k_for(&q, visibility)?;
    let params = super::load_params(&super::params_cache(&args.params), k)?;
    let key = VerifierKey::new(q.clone(), visibility, params)?;
    let scale = q.output().scale;
    let batch = bundles.len() > 1;
    let result = if batch {
        verify_batch(&key, &bundles)
    } else {
        verify(&key, &bundles[0]).map(|c| vec![c])
    };
    match result {
        Ok(claims) => {
            let outs: Vec<VerifyOutput> = claims
                .into_iter()
                .map(|c| VerifyOutput::new(c, scale))
                .collect();
            if json && batch {
                report::json(&outs)?;
            } else if json {
                report::json(&outs[0])?;
            } else {
                for (path, out) in args.proof.iter().zip(&outs) {
                    outln!("verified {} → class {}", path.display(), out.class);
                    if !batch {
                        match &out.input_digest {
                            Some(digest) => outln!("input    public, digest {digest}"),
                            None => outln!(
                                "input    private: the proof shows that some input in the model's bound gives this output"
                            ),
                        }
                        outln!("scores   {}", report::floats(&out.outputs));
                        outln!("integers {:?} at scale 2^-{}", out.outputs_int, out.scale);
                        outln!("model    {} ({})", model.source, &out.model_digest[..16]);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            // Name the bundle at fault.
            let (path, error) = match e {
                VerifyError::InBatch { index, error } => (&args.proof[index], *error),
                other => (&args.proof[0], other),
            };
            if !error.is_rejection() {
                return Err(error).with_context(|| format!("{}", path.display()));
            }
            if json {
                report::json(
                    &serde_json::json!({ "verified": false, "error": error.to_string() }),
                )?;
            }
            eprintln!("rejected: {}: {error}", path.display());
            Ok(ExitCode::from(1))
        }
    }
}
