//! `zkinfer prove`: infer in candle, prove the trace, check the proof, write
//! the bundle.

use crate::cli::ProveArgs;
use crate::outputs;
use crate::progress::Phase;
use crate::report::{self, outln};
use anyhow::{bail, Context};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;
use zkinfer_models::load_quantized_model;
use zkinfer_prover::export::Estimates;
use zkinfer_prover::{bundle_json, write_atomically, KeySource, PkCache, Prover, VkCache};
use zkinfer_verifier::verify;

#[derive(Serialize)]
struct ProveOutput {
    proof: String,
    model: String,
    model_digest: String,
    vk_digest: String,
    k: u32,
    /// The layout profile proven in.
    profile: zkinfer_circuits::Profile,
    class: usize,
    outputs: Vec<f64>,
    outputs_int: Vec<i64>,
    scale: i32,
    proof_bytes: usize,
    /// `fixed`, `committed` or `polycommit`.
    weight_visibility: &'static str,
    /// The weights' commitment, when they are committed (a field element)
    /// or polycommit (curve points).
    #[serde(skip_serializing_if = "Option::is_none")]
    model_commitment: Option<String>,
    /// The input's commitment, when it is committed.
    #[serde(skip_serializing_if = "Option::is_none")]
    input_commitment: Option<String>,
    /// Its blinding element: the prover's secret, which opens it.
    #[serde(skip_serializing_if = "Option::is_none")]
    blinding: Option<String>,
    /// The output's commitment, when it is committed (the outputs above
    /// are then the prover's own, in no proof).
    #[serde(skip_serializing_if = "Option::is_none")]
    output_commitment: Option<String>,
    /// Its blinding element, which opens it.
    #[serde(skip_serializing_if = "Option::is_none")]
    output_blinding: Option<String>,
    /// `cached` when the verifying key came from the cache, else `built`.
    verifying_key: &'static str,
    /// `cached` when the proving key came from the cache, else `built`.
    proving_key: &'static str,
    timings_ms: Timings,
}

#[derive(Serialize)]
struct Timings {
    params: f64,
    keygen: f64,
    prove: f64,
    verify: f64,
}

pub(super) fn ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1e4).round() / 10.0
}

/// Where each input's bundle goes: `--out` itself for one input, else
/// `<out>/<input name>.proof.json`.
pub(super) fn bundle_paths(args: &ProveArgs) -> anyhow::Result<Vec<PathBuf>> {
    if args.input.len() == 1 {
        return Ok(vec![args.out.clone()]);
    }
    let mut seen = std::collections::BTreeSet::new();
    let paths = args
        .input
        .iter()
        .map(|input| {
            let stem = input
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !seen.insert(stem.clone()) {
                bail!(
                    "two inputs are named {stem:?}: their proofs would share {}",
                    args.out.join(format!("{stem}.proof.json")).display()
                );
            }
            Ok(args.out.join(format!("{stem}.proof.json")))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(paths)
}

/// Refuses a bundle path that is one of the command's inputs (the input
/// file, the model file), then creates the output folder if there is one.
pub(super) fn check_outputs(args: &ProveArgs, paths: &[PathBuf]) -> anyhow::Result<()> {
    let model_files = outputs::model_inputs(&args.model);
    let mut inputs: Vec<outputs::Input> = args
        .input
        .iter()
        .map(|p| ("--input", p.as_path()))
        .collect();
    inputs.extend(model_files.iter().map(|p| ("--model", p.as_path())));
    let flag = if args.input.len() == 1 {
        "--out"
    } else {
        "proof"
    };
    for path in paths {
        outputs::refuse_overwriting_inputs(flag, path, &inputs)?;
    }
    if args.input.len() > 1 {
        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("creating {}", args.out.display()))?;
    }
    Ok(())
}

/// `--blinding`, read.
pub(super) fn blinding(args: &ProveArgs) -> anyhow::Result<Option<zkinfer_circuits::Fp>> {
    args.blinding
        .as_deref()
        .map(|hex| {
            zkinfer_circuits::field::from_hex(hex).with_context(|| {
                format!("--blinding {hex:?} is not a field element (64 hex digits, little-endian)")
            })
        })
        .transpose()
}

pub fn run(args: &ProveArgs, json: bool) -> anyhow::Result<()> {
    if args.per_layer || !args.cut_at.is_empty() {
        return super::chain::prove(args, json);
    }
    if args.max_k.is_some() {
        bail!("--max-k groups the segments of a model proven in parts: use it with --per-layer or --cut-at");
    }
    let model = load_quantized_model(&args.model)
        .with_context(|| format!("loading model {:?}", args.model))?;
    let q = model.quantized;
    // Every input is read before anything is proven.
    let inputs = args
        .input
        .iter()
        .map(|path| super::read_input(&q, &args.model, path))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let visibility = super::visibility(&args.model, args.private_input, args.committed_input)?;
    let blinding = blinding(args)?;
    let weights = super::weights(&args.model, args.weights_visibility)?;
    let weights_secret = super::weights_secret(&args.model, args.weights_secret.as_deref())?;
    let output_visibility = match args.committed_output {
        true => zkinfer_circuits::Visibility::Committed,
        false => zkinfer_circuits::Visibility::Public,
    };
    let io = [visibility, output_visibility];
    let circuit = super::plan_circuit_io(&args.model, &q, io, weights, args.profile)
        .with_context(|| format!("planning the circuit of {}", model.source))?;
    let k = circuit.plan().k;
    let paths = bundle_paths(args)?;
    check_outputs(args, &paths)?;

    let t = Instant::now();
    let params_cache = super::params_cache(&args.params);
    let params = super::load_params(&params_cache, k)?;
    let params_ms = ms(t);
    let t = Instant::now();
    let name = report::printable(&model.source);
    let estimates = Estimates::of(circuit.plan());
    // Keys are cached beside the parameters: verifying keys as their
    // checked commitments (VkCache), proving keys as their checksummed
    // polynomials (PkCache).
    let vk_cache = VkCache::new(params_cache.dir());
    let pk_cache = PkCache::new(params_cache.dir());
    // What the progress line promises: reading both keys, or building.
    let cached = vk_cache
        .cached_digest(&circuit)
        .is_some_and(|digest| pk_cache.dir().join(PkCache::file_name(&digest)).exists());
    let (prover, vk_source, pk_source) = Phase::run(
        match cached {
            true => format!("reading the cached keys of {name} (k = {k})"),
            false => format!(
                "generating the keys of {name} (k = {k}, {})",
                Estimates::about(estimates.keygen_seconds)
            ),
        },
        || Prover::for_circuit_cached(&model.source, circuit, params, &vk_cache, &pk_cache),
    )?;
    let prover = prover.with_weights_secret(weights_secret);
    for (what, source) in [("verifying", &vk_source), ("proving", &pk_source)] {
        if let Some(warning) = source.warning(what, params_cache.dir()) {
            eprintln!("{warning}");
        }
    }
    let keygen_ms = ms(t);
    let scale = q.output().scale;
    let mut outs = vec![];
    for ((x, input), path) in inputs.iter().zip(&args.input).zip(&paths) {
        let t = Instant::now();
        let proved = Phase::run(
            format!(
                "proving {name} on {} (k = {k}, {})",
                input.display(),
                Estimates::about(estimates.prove_seconds)
            ),
            || prover.prove_with_blinding(x, blinding),
        )
        .with_context(|| format!("proving {} on {}", model.source, input.display()))?;
        let prove_ms = ms(t);
        // A proof that does not verify is never written.
        let t = Instant::now();
        let claim = verify(prover.verifier_key(), &proved.bundle).with_context(|| {
            match pk_source {
                // Only a file written on purpose passes the checksum and
                // still proves wrongly; name it.
                KeySource::Cached => format!(
                    "checking the fresh proof (its proving key was read from {}: delete the \
                     file to generate the key again)",
                    pk_cache.path(prover.verifier_key()).display()
                ),
                _ => "checking the fresh proof".to_string(),
            }
        })?;
        let verify_ms = ms(t);
        write_atomically(path, bundle_json(&proved.bundle).as_bytes())?;
        outs.push(ProveOutput {
            proof: path.display().to_string(),
            model: model.source.clone(),
            model_digest: claim.model_digest,
            vk_digest: claim.vk_digest,
            k,
            profile: proved.bundle.profile,
            // The proven output; a committed one's values are the
            // prover's (the claim has its commitment only).
            class: match claim.output_commitment {
                None => claim.class,
                // The first largest, as a claim's.
                Some(_) => (proved.trace.output().data.iter().enumerate().rev())
                    .max_by_key(|&(_, v)| v)
                    .map_or(0, |(i, _)| i),
            },
            outputs: (proved.trace.output().data.iter())
                .map(|&v| scale.dequantize(v))
                .collect(),
            outputs_int: proved.trace.output().data.clone(),
            scale: scale.0,
            proof_bytes: proved.bundle.proof_bytes()?.len(),
            weight_visibility: weights.name(),
            model_commitment: proved.bundle.model_commitment.clone(),
            input_commitment: proved.bundle.input_commitment.clone(),
            blinding: proved.blinding.map(zkinfer_circuits::field::to_hex),
            output_commitment: claim.output_commitment,
            output_blinding: proved.output_blinding.map(zkinfer_circuits::field::to_hex),
            verifying_key: vk_source.name(),
            proving_key: pk_source.name(),
            timings_ms: Timings {
                params: params_ms,
                keygen: keygen_ms,
                prove: prove_ms,
                verify: verify_ms,
            },
        });
    }
    if json && outs.len() > 1 {
        return report::json(&outs);
    }
    if json {
        return report::json(&outs[0]);
    }
    for (out, input) in outs.iter().zip(&args.input) {
        outln!(
            "proved   {} on {} → class {}",
            report::printable(&out.model),
            input.display(),
            out.class
        );
        outln!("scores   {}", report::floats(&out.outputs));
        outln!("circuit  k = {}, vk {}", out.k, &out.vk_digest[..16]);
        outln!(
            "time     params {:.1} ms, keygen {:.1} ms, prove {:.1} ms, verify {:.1} ms",
            out.timings_ms.params,
            out.timings_ms.keygen,
            out.timings_ms.prove,
            out.timings_ms.verify
        );
        if let Some(commitment) = &out.model_commitment {
            outln!("weights  {}: {commitment}", out.weight_visibility);
        }
        if let (Some(commitment), Some(r)) = (&out.input_commitment, &out.blinding) {
            outln!("input    committed: {commitment}");
            outln!("blinding {r} (keep it secret: it opens the commitment)");
        }
        if let (Some(commitment), Some(r)) = (&out.output_commitment, &out.output_blinding) {
            outln!("output   committed: {commitment} (the scores above are in no proof)");
            outln!("blinding {r} (the output's: with the integers, it opens the commitment)");
        }
        outln!("wrote    {} ({} proof bytes)", out.proof, out.proof_bytes);
    }
    Ok(())
}
