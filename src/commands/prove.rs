//! `zkinfer prove`: infer in candle, prove the trace, check the proof, write
//! the bundle.

use crate::cli::ProveArgs;
use crate::report::{self, outln};
use anyhow::Context;
use serde::Serialize;
use std::time::Instant;
use zkinfer_models::load_model;
use zkinfer_prover::{bundle_json, write_atomically, Prover};
use zkinfer_verifier::{verify, VerifierKey};

#[derive(Serialize)]
struct ProveOutput {
    proof: String,
    model: String,
    model_digest: String,
    vk_digest: String,
    k: u32,
    class: usize,
    outputs: Vec<f64>,
    outputs_int: Vec<i64>,
    scale: i32,
    proof_bytes: usize,
    timings_ms: Timings,
}

#[derive(Serialize)]
struct Timings {
    params: f64,
    keygen: f64,
    prove: f64,
    verify: f64,
}

fn ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1e4).round() / 10.0
}

pub fn run(args: &ProveArgs, json: bool) -> anyhow::Result<()> {
    let model =
        load_model(&args.model).with_context(|| format!("loading model {:?}", args.model))?;
    let q = model.quantized;
    let x = super::read_input(&q, &args.input)?;
    let visibility = super::visibility(&args.model, args.private_input);
    let k = VerifierKey::k_for(&q, visibility)
        .with_context(|| format!("planning the circuit of {}", model.source))?;

    let t = Instant::now();
    let params = super::load_params(&super::params_cache(&args.params), k)?;
    let params_ms = ms(t);
    // Anything over a second says so on a terminal (from k = 12 on).
    if k >= 12 && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        eprintln!(
            "proving {} at k = {k}: keys, then the proof (about {:.0} s)...",
            model.source,
            0.4 * 2f64.powi(k as i32 - 9)
        );
    }
    let t = Instant::now();
    let prover = Prover::new(&model.source, q.clone(), visibility, params)?;
    let keygen_ms = ms(t);
    let t = Instant::now();
    let proved = prover
        .prove(&x)
        .with_context(|| format!("proving {} on {}", model.source, args.input.display()))?;
    let prove_ms = ms(t);
    // A proof that does not verify is never written.
    let t = Instant::now();
    let claim =
        verify(prover.verifier_key(), &proved.bundle).context("checking the fresh proof")?;
    let verify_ms = ms(t);
    write_atomically(&args.out, bundle_json(&proved.bundle).as_bytes())?;

    let scale = q.output().scale;
    let out = ProveOutput {
        proof: args.out.display().to_string(),
        model: model.source,
        model_digest: claim.model_digest,
        vk_digest: claim.vk_digest,
        k,
        class: claim.class,
        outputs: claim.output.iter().map(|&v| scale.dequantize(v)).collect(),
        outputs_int: claim.output,
        scale: scale.0,
        proof_bytes: proved.bundle.proof.len() / 2,
        timings_ms: Timings {
            params: params_ms,
            keygen: keygen_ms,
            prove: prove_ms,
            verify: verify_ms,
        },
    };
    if json {
        return report::json(&out);
    }
    outln!(
        "proved   {} on {} → class {}",
        out.model,
        args.input.display(),
        out.class
    );
    outln!("scores   {}", report::floats(&out.outputs));
    outln!("circuit  k = {}, vk {}", out.k, &out.vk_digest[..16]);
    outln!(
        "time     params {:.1} ms, keygen {:.1} ms, prove {:.1} ms, verify {:.1} ms",
        params_ms,
        keygen_ms,
        prove_ms,
        verify_ms
    );
    outln!("wrote    {} ({} proof bytes)", out.proof, out.proof_bytes);
    Ok(())
}
