//! `zkinfer verify`: check a proof bundle against a model. Exit 0 when it
//! verifies, 1 when the proof is rejected, 2 when it cannot be checked.

use crate::cli::VerifyArgs;
use crate::failure::AtFileExt;
use crate::progress::Phase;
use crate::report::{self, outln};
use anyhow::Context;
use serde::Serialize;
use std::process::ExitCode;
use zkinfer_circuits::WeightVisibility;
use zkinfer_models::load_quantized_model;
use zkinfer_quant::Scale;
use zkinfer_verifier::contract::input_digest;
use zkinfer_verifier::{
    verify, verify_batch, ProofBundle, VerifiedClaim, VerifierKey, VerifyError, Visibility,
};

#[derive(Serialize)]
struct VerifyOutput {
    verified: bool,
    /// `public`, `private` or `committed`: what the proof says about the
    /// input.
    input_visibility: &'static str,
    /// `fixed` or `committed`: whether the key is the model's or its
    /// architecture's.
    weight_visibility: &'static str,
    /// The weights' commitment, when committed: the proof ties the output
    /// to the weights that open it.
    #[serde(skip_serializing_if = "Option::is_none")]
    model_commitment: Option<String>,
    /// The input's commitment, when committed: the proof ties the output
    /// to the input that opens it.
    #[serde(skip_serializing_if = "Option::is_none")]
    input_commitment: Option<String>,
    /// SHA-256 of the proven input integers (as the contract records it);
    /// `null` for a private input, which no proof ties to any value.
    input_digest: Option<String>,
    outputs: Vec<f64>,
    outputs_int: Vec<i64>,
    scale: i32,
    /// The argmax of the output; `null` for a committed output.
    class: Option<usize>,
    /// The output's commitment, when committed (`outputs` is then empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    output_commitment: Option<String>,
    model_digest: String,
    vk_digest: String,
    k: u32,
}

/// What a verified claim says of the input: `public`, `committed` or
/// `private`.
pub(super) fn input_visibility(claim: &VerifiedClaim) -> &'static str {
    match (&claim.input, &claim.input_commitment) {
        (Some(_), _) => Visibility::Public.name(),
        (None, Some(_)) => Visibility::Committed.name(),
        (None, None) => Visibility::Private.name(),
    }
}

impl VerifyOutput {
    fn new(claim: VerifiedClaim, output_scale: Scale, weights: WeightVisibility) -> Self {
        VerifyOutput {
            verified: true,
            input_visibility: input_visibility(&claim),
            weight_visibility: weights.name(),
            model_commitment: claim.model_commitment.clone(),
            input_commitment: claim.input_commitment.clone(),
            input_digest: claim.input.as_deref().map(input_digest),
            outputs: claim
                .output
                .iter()
                .map(|&v| output_scale.dequantize(v))
                .collect(),
            outputs_int: claim.output,
            scale: claim.output_scale,
            class: claim.output_commitment.is_none().then_some(claim.class),
            output_commitment: claim.output_commitment,
            model_digest: claim.model_digest,
            vk_digest: claim.vk_digest,
            k: claim.k,
        }
    }
}

pub fn run(args: &VerifyArgs, json: bool) -> anyhow::Result<ExitCode> {
    let model = load_quantized_model(&args.model)
        .with_context(|| format!("loading model {:?}", args.model))?;
    let texts = args
        .proof
        .iter()
        .map(|path| zkinfer_models::read_text(path))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(chain) = texts
        .iter()
        .find(|t| zkinfer_verifier::ProofChain::is_chain(t))
    {
        return super::chain::verify(args, &model, chain, json);
    }
    let bundles = texts
        .iter()
        .zip(&args.proof)
        .map(|(text, path)| ProofBundle::from_json(text).at_file(path))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let q = model.quantized;
    // Whether the weights are committed is the verifier's choice too; a
    // bundle of the other kind cannot be checked against its key.
    let weights = super::weights(&args.model, args.weights_visibility)?;
    for (bundle, path) in bundles.iter().zip(&args.proof) {
        let kind = match (&bundle.model_commitment, &bundle.weights_opening) {
            (None, _) => WeightVisibility::Fixed,
            (Some(_), None) => WeightVisibility::Committed,
            (Some(_), Some(_)) => WeightVisibility::Polycommit,
        };
        if kind != weights {
            anyhow::bail!(
                "{}'s weights are {} but this verifier expects {} weights (verify with \
                 --weights-visibility {})",
                path.display(),
                kind.name(),
                weights.name(),
                kind.name()
            );
        }
    }
    // The verifier decides what is proven about the input, not the bundle.
    let visibility = super::visibility(&args.model, args.private_input, args.committed_input)?;
    // The layout is the prover's choice (every profile proves the same
    // statement): the first bundle's, and every bundle must share it.
    let output = match args.committed_output {
        true => Visibility::Committed,
        false => Visibility::Public,
    };
    let circuit = zkinfer_circuits::ModelCircuit::with_output(
        std::sync::Arc::new(q.clone()),
        [visibility, output],
        weights,
        bundles[0].profile,
    )?;
    let k = circuit.plan().k;
    let params = super::load_params(&super::params_cache(&args.params), k)?;
    let key = Phase::run(format!("rebuilding the verifying key (k = {k})"), || {
        VerifierKey::for_circuit(circuit, params)
    })?;
    let scale = q.output().scale;
    // A proof about another committed input, or made with other committed
    // weights, is rejected before it is verified: whatever it proves, it
    // is not about what the verifier expects.
    type Found = fn(&ProofBundle) -> Option<&str>;
    let expectations: [(&str, &Option<String>, &str, Found); 2] = [
        (
            "--expect-input-commitment",
            &args.expect_input_commitment,
            "input",
            |b| b.input_commitment.as_deref(),
        ),
        (
            "--expect-model-commitment",
            &args.expect_model_commitment,
            "model",
            |b| b.model_commitment.as_deref(),
        ),
    ];
    let mut wrong: Vec<serde_json::Value> = vec![];
    for (flag, expected, what, found) in expectations {
        let Some(hex) = expected else { continue };
        // A field element, or polycommit weights' curve points, in the
        // one spelling they are printed in.
        let points = what == "model" && weights == WeightVisibility::Polycommit;
        let canonical = |hex: &str| match points {
            true => zkinfer_circuits::polycommit::from_hex(hex)
                .map(|p| zkinfer_circuits::polycommit::to_hex(&p)),
            false => zkinfer_circuits::field::from_hex(hex).map(zkinfer_circuits::field::to_hex),
        };
        let want = canonical(hex).with_context(|| match points {
            true => format!("{flag} {hex:?} is not curve points (64 hex digits each)"),
            false => format!("{flag} {hex:?} is not a field element (64 hex digits)"),
        })?;
        for (bundle, path) in bundles.iter().zip(&args.proof) {
            let found = found(bundle);
            if found.and_then(canonical).as_ref() != Some(&want) {
                let error = format!(
                    "it proves {what} commitment {}, not the expected {want}",
                    found.unwrap_or("(none)"),
                );
                eprintln!("rejected: {}: {error}", path.display());
                wrong.push(serde_json::json!({
                    "proof": path.display().to_string(), "verified": false, "error": error,
                }));
            }
        }
    }
    if !wrong.is_empty() {
        if json {
            report::json(&wrong)?;
        }
        return Ok(ExitCode::from(1));
    }
    if bundles.len() > 1 {
        return run_batch(args, &key, &bundles, scale, json);
    }
    let path = &args.proof[0];
    match Phase::run("verifying", || verify(&key, &bundles[0])) {
        Ok(claim) => {
            let out = VerifyOutput::new(claim, scale, weights);
            if json {
                report::json(&out)?;
            } else {
                match out.class {
                    Some(class) => outln!("verified {} → class {class}", path.display()),
                    None => outln!("verified {}", path.display()),
                }
                if let Some(commitment) = &out.model_commitment {
                    outln!(
                        "weights  {}: {commitment} (the output is the architecture's with the weights that open it)",
                        out.weight_visibility
                    );
                }
                match (&out.input_digest, &out.input_commitment) {
                    (Some(digest), _) => outln!("input    public, digest {digest}"),
                    (None, Some(commitment)) => outln!(
                        "input    committed: {commitment} (the output is the model's on the input that opens it)"
                    ),
                    (None, None) => outln!(
                        "input    private: the proof shows that some input in the model's bound gives this output"
                    ),
                }
                match &out.output_commitment {
                    Some(commitment) => outln!(
                        "output   committed: {commitment} (the model's output opens it; no value is shown)"
                    ),
                    None => {
                        outln!("scores   {}", report::floats(&out.outputs));
                        outln!(
                            "integers {:?} at scale {}",
                            out.outputs_int,
                            Scale(out.scale)
                        );
                    }
                }
                outln!(
                    "model    {} ({})",
                    report::printable(&model.source),
                    &out.model_digest[..16]
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) if error.is_rejection() => rejected(path, &error, json),
        Err(error) => Err(error).at_file(path),
    }
}

/// Reports a proof (or a chain) that was checked and rejected: exit 1,
/// and with `--json` what was rejected and why.
pub(super) fn rejected(
    path: &std::path::Path,
    error: &dyn std::fmt::Display,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if json {
        report::json(&serde_json::json!({
            "proof": path.display().to_string(),
            "verified": false,
            "error": error.to_string(),
        }))?;
    }
    eprintln!("rejected: {}: {error}", path.display());
    Ok(ExitCode::from(1))
}

/// Verifies several bundles at about the cost of one. When the batch
/// fails, each bundle is checked alone, so that every result is named:
/// `--json` prints `{proof, verified, error, …claim}` for each. Exit 2 if
/// any bundle cannot be checked, else 1 if any is rejected, else 0.
fn run_batch(
    args: &VerifyArgs,
    key: &VerifierKey,
    bundles: &[ProofBundle],
    scale: Scale,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let results: Vec<Result<VerifiedClaim, VerifyError>> =
        match Phase::run(format!("verifying {} proofs", bundles.len()), || {
            verify_batch(key, bundles)
        }) {
            Ok(claims) => claims.into_iter().map(Ok).collect(),
            Err(_) => Phase::run("checking each proof alone", || {
                bundles.iter().map(|b| verify(key, b)).collect()
            }),
        };
    // Each entry: `proof`, `verified`, `error` (null when verified), and
    // for a verified proof what a single verification prints.
    let mut entries = vec![];
    let (mut rejected, mut unchecked) = (false, false);
    for (path, result) in args.proof.iter().zip(results) {
        let proof = path.display().to_string();
        let mut entry = match result {
            Ok(claim) => {
                let claim = VerifyOutput::new(claim, scale, key.circuit().plan().weight_visibility);
                if !json {
                    match claim.class {
                        Some(class) => outln!("verified {proof} → class {class}"),
                        None => outln!("verified {proof}"),
                    }
                }
                serde_json::to_value(&claim)?
            }
            Err(e) => {
                if e.is_rejection() {
                    rejected = true;
                    eprintln!("rejected: {proof}: {e}");
                } else {
                    unchecked = true;
                    eprintln!("error: {proof}: {e}");
                }
                serde_json::json!({ "verified": false, "error": e.to_string() })
            }
        };
        if let Some(fields) = entry.as_object_mut() {
            fields.insert("proof".into(), proof.into());
            fields.entry("error").or_insert(serde_json::Value::Null);
        }
        entries.push(entry);
    }
    if json {
        report::json(&entries)?;
    }
    Ok(if unchecked {
        ExitCode::from(2)
    } else if rejected {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
