//! A model proven in parts: `zkinfer prove --per-layer` (or `--cut-at`)
//! writes a proof chain, one proof per segment; `zkinfer verify` checks a
//! chain whole ([`zkinfer_verifier::chain`]).

use crate::cli::{ProveArgs, VerifyArgs};
use crate::failure::AtFileExt;
use crate::progress::Phase;
use crate::report::{self, outln};
use anyhow::{bail, Context};
use serde::Serialize;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use zkinfer_circuits::{Profile, WeightVisibility};
use zkinfer_models::{load_quantized_model, LoadedModel};
use zkinfer_prover::chain::{fit_cuts, layer_cuts};
use zkinfer_prover::{chain_json, write_atomically, ChainProver, PkCache, Prover, VkCache};
use zkinfer_quant::QuantizedModel;
use zkinfer_verifier::chain::{segment_circuit, segment_ends};
use zkinfer_verifier::contract::input_digest;
use zkinfer_verifier::{verify_chain, ChainClaim, ProofChain, VerifierKey};

/// One segment, as reports show it.
#[derive(Serialize)]
struct SegmentReport {
    /// The tensors it runs between (its input, its output).
    tensors: [usize; 2],
    k: u32,
    profile: Profile,
    vk_digest: String,
    /// Bytes of its proof.
    proof_bytes: usize,
    /// Its proving time (prove only).
    #[serde(skip_serializing_if = "Option::is_none")]
    prove_ms: Option<f64>,
}

#[derive(Serialize)]
struct ProveChainOutput {
    proof: String,
    model: String,
    model_digest: String,
    segments: Vec<SegmentReport>,
    class: usize,
    outputs: Vec<f64>,
    outputs_int: Vec<i64>,
    scale: i32,
    /// The proofs' bytes in all.
    proof_bytes: usize,
    /// The input's commitment, when it is committed.
    #[serde(skip_serializing_if = "Option::is_none")]
    input_commitment: Option<String>,
    /// Its blinding element: the prover's secret, which opens it.
    #[serde(skip_serializing_if = "Option::is_none")]
    blinding: Option<String>,
    timings_ms: Timings,
}

#[derive(Serialize)]
struct Timings {
    keygen: f64,
    prove: f64,
    verify: f64,
}

/// The cuts `prove` was asked for: `--cut-at`, else the model's layer
/// boundaries (`--per-layer`).
fn cuts(args: &ProveArgs, q: &QuantizedModel, source: &str) -> anyhow::Result<Vec<usize>> {
    if !args.cut_at.is_empty() {
        return Ok(args.cut_at.clone());
    }
    let cuts = layer_cuts(q);
    if cuts.is_empty() {
        bail!(
            "{source} has no layer boundary to cut at (a tensor after which nothing earlier is \
             read, at most 16 bits wide; its cuts: {:?}): prove it whole, without --per-layer",
            q.cuts()
        );
    }
    Ok(cuts)
}

/// `zkinfer prove --per-layer` / `--cut-at`.
pub fn prove(args: &ProveArgs, json: bool) -> anyhow::Result<()> {
    let model = load_quantized_model(&args.model)
        .with_context(|| format!("loading model {:?}", args.model))?;
    let q = model.quantized.clone();
    let inputs = args
        .input
        .iter()
        .map(|path| super::read_input(&q, &args.model, path))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let visibility = super::visibility(&args.model, args.private_input, args.committed_input)?;
    let blinding = super::prove::blinding(args)?;
    let weights = super::weights(&args.model, args.weights_visibility)?;
    if weights != WeightVisibility::Fixed {
        bail!(
            "a model proven in parts has its weights fixed in each segment's key; {} weights \
             are not available with --per-layer or --cut-at",
            weights.name()
        );
    }
    let choice = super::profile_choice(&args.model, args.profile)?;
    let mut cuts = cuts(args, &q, &model.source)?;
    if let Some(max_k) = args.max_k {
        cuts = Phase::run(format!("grouping the segments to k ≤ {max_k}"), || {
            fit_cuts(&q, &cuts, visibility, choice, max_k)
        })
        .with_context(|| format!("cutting {} at {cuts:?}", model.source))?;
    }
    let chain = ChainProver::new(&model.source, Arc::new(q.clone()), cuts)?;
    let circuits = chain.circuits(visibility, choice).with_context(|| {
        format!(
            "planning the segments of {} cut at {:?}",
            model.source,
            chain.cuts()
        )
    })?;
    let paths = super::prove::bundle_paths(args)?;
    super::prove::check_outputs(args, &paths)?;

    let name = report::printable(&model.source);
    // Every inference first (the engine runs the whole model), then each
    // segment of every inference with that segment's keys alone: one
    // proving key in memory at a time.
    let mut runs = inputs
        .iter()
        .zip(&args.input)
        .map(|(x, input)| {
            chain
                .start(x, blinding)
                .with_context(|| format!("inferring {} on {}", model.source, input.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let params_cache = super::params_cache(&args.params);
    let vk_cache = VkCache::new(params_cache.dir());
    let pk_cache = PkCache::new(params_cache.dir());
    let count = circuits.len();
    let (mut keygen_ms, mut prove_ms) = (0.0, vec![0.0; runs.len()]);
    let mut keys = vec![];
    for (index, circuit) in circuits.into_iter().enumerate() {
        let t = Instant::now();
        let k = circuit.plan().k;
        let params = super::load_params(&params_cache, k)?;
        let (prover, vk_source, pk_source) = Phase::run(
            format!(
                "keys of segment {} of {count} of {name} (k = {k})",
                index + 1
            ),
            || Prover::for_circuit_cached(&model.source, circuit, params, &vk_cache, &pk_cache),
        )?;
        for (what, source) in [("verifying", &vk_source), ("proving", &pk_source)] {
            if let Some(warning) = source.warning(what, params_cache.dir()) {
                eprintln!("{warning}");
            }
        }
        keygen_ms += super::prove::ms(t);
        for ((run, input), ms) in runs.iter_mut().zip(&args.input).zip(&mut prove_ms) {
            let t = Instant::now();
            Phase::run(
                format!(
                    "proving segment {} of {count} of {name} on {} (k = {k})",
                    index + 1,
                    input.display()
                ),
                || chain.prove_segment(run, &prover),
            )
            .with_context(|| format!("proving {} on {}", model.source, input.display()))?;
            *ms += super::prove::ms(t);
        }
        keys.push(prover.verifier_key().clone());
    }
    let scale = q.output().scale;
    let mut outs = vec![];
    for (((run, path), prove_ms), input) in
        runs.into_iter().zip(&paths).zip(prove_ms).zip(&args.input)
    {
        let proved = chain.finish(run)?;
        // A chain that does not verify is never written.
        let t = Instant::now();
        let claim = verify_chain(&q, &proved.chain, &keys)
            .with_context(|| format!("checking the fresh proofs of {}", input.display()))?;
        let verify_ms = super::prove::ms(t);
        write_atomically(path, chain_json(&proved.chain).as_bytes())?;
        let segments = segment_reports(&proved.chain, chain.ends(), Some(&proved.seconds))?;
        outs.push(ProveChainOutput {
            proof: path.display().to_string(),
            model: model.source.clone(),
            model_digest: claim.model_digest.clone(),
            proof_bytes: segments.iter().map(|s| s.proof_bytes).sum(),
            segments,
            class: claim.last.class,
            outputs: dequantized(&claim.last.output, scale),
            outputs_int: claim.last.output.clone(),
            scale: scale.0,
            input_commitment: claim.first.input_commitment.clone(),
            blinding: proved.blinding.map(zkinfer_circuits::field::to_hex),
            timings_ms: Timings {
                keygen: keygen_ms,
                prove: prove_ms,
                verify: verify_ms,
            },
        });
    }
    if json {
        return match outs.len() {
            1 => report::json(&outs[0]),
            _ => report::json(&outs),
        };
    }
    for (out, input) in outs.iter().zip(&args.input) {
        let segments = match out.segments.len() {
            1 => "1 segment".to_string(),
            n => format!("{n} segments"),
        };
        outln!(
            "proved   {} on {} in {segments} → class {}",
            report::printable(&out.model),
            input.display(),
            out.class
        );
        outln!("scores   {}", report::floats(&out.outputs));
        print_segments(&out.segments);
        outln!(
            "time     keygen {:.1} ms, prove {:.1} ms, verify {:.1} ms",
            out.timings_ms.keygen,
            out.timings_ms.prove,
            out.timings_ms.verify
        );
        if let (Some(commitment), Some(r)) = (&out.input_commitment, &out.blinding) {
            outln!("input    committed: {commitment}");
            outln!("blinding {r} (keep it secret: it opens the commitment)");
        }
        outln!(
            "wrote    {} ({} proof bytes in all)",
            out.proof,
            out.proof_bytes
        );
    }
    Ok(())
}

/// Integers at `scale`, as floats.
fn dequantized(values: &[i64], scale: zkinfer_quant::Scale) -> Vec<f64> {
    values.iter().map(|&v| scale.dequantize(v)).collect()
}

fn segment_reports(
    chain: &ProofChain,
    ends: &[(usize, usize)],
    seconds: Option<&[f64]>,
) -> anyhow::Result<Vec<SegmentReport>> {
    chain
        .segments
        .iter()
        .zip(ends)
        .enumerate()
        .map(|(i, (bundle, &(from, to)))| {
            Ok(SegmentReport {
                tensors: [from, to],
                k: bundle.k,
                profile: bundle.profile,
                vk_digest: bundle.vk_digest.clone(),
                proof_bytes: bundle.proof_bytes()?.len(),
                prove_ms: seconds.map(|s| (s[i] * 1e4).round() / 10.0),
            })
        })
        .collect()
}

fn print_segments(segments: &[SegmentReport]) {
    for (i, s) in segments.iter().enumerate() {
        let time = s
            .prove_ms
            .map(|ms| format!(", proved in {:.1} s", ms / 1e3))
            .unwrap_or_default();
        outln!(
            "segment  {i}: tensors {}..{}, k = {}, {}, vk {}, {} B{time}",
            s.tensors[0],
            s.tensors[1],
            s.k,
            s.profile,
            &s.vk_digest[..16],
            s.proof_bytes
        );
    }
}

#[derive(Serialize)]
struct VerifyChainOutput {
    verified: bool,
    /// `public`, `private` or `committed`: what the chain says about the
    /// input.
    input_visibility: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    input_commitment: Option<String>,
    /// SHA-256 of the proven input integers; `null` unless public.
    input_digest: Option<String>,
    /// The commitments linking the segments.
    links: Vec<String>,
    segments: Vec<SegmentReport>,
    outputs: Vec<f64>,
    outputs_int: Vec<i64>,
    scale: i32,
    class: usize,
    model_digest: String,
}

/// `zkinfer verify` of a proof chain (one `--proof`).
pub fn verify(
    args: &VerifyArgs,
    model: &LoadedModel,
    text: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let path = &args.proof[0];
    if args.proof.len() > 1 {
        bail!(
            "{} is a proof chain: verify it alone (one --proof)",
            path.display()
        );
    }
    let chain = ProofChain::from_json(text).at_file(path)?;
    let q = &model.quantized;
    let weights = super::weights(&args.model, args.weights_visibility)?;
    if weights != WeightVisibility::Fixed || args.expect_model_commitment.is_some() {
        bail!(
            "{} is a proof chain, whose segments' weights are fixed in their keys: verify it \
             without committed weights",
            path.display()
        );
    }
    let visibility = super::visibility(&args.model, args.private_input, args.committed_input)?;
    let ends = segment_ends(q, &chain.cuts).at_file(path)?;
    if ends.len() != chain.segments.len() {
        bail!(
            "{}: {} cuts make {} segments, the chain has {} proofs",
            path.display(),
            chain.cuts.len(),
            ends.len(),
            chain.segments.len()
        );
    }
    let params_cache = super::params_cache(&args.params);
    let mut keys = vec![];
    for (index, bundle) in chain.segments.iter().enumerate() {
        let circuit =
            segment_circuit(q, &chain.cuts, index, visibility, bundle.profile).at_file(path)?;
        let k = circuit.plan().k;
        let params = super::load_params(&params_cache, k)?;
        let key = Phase::run(
            format!(
                "rebuilding the verifying key of segment {} of {} (k = {k})",
                index + 1,
                ends.len()
            ),
            || VerifierKey::for_circuit(circuit, params),
        )?;
        keys.push(key);
    }
    let result = Phase::run(format!("verifying {} proofs", keys.len()), || {
        verify_chain(q, &chain, &keys)
    });
    let claim = match result {
        Ok(claim) => claim,
        Err(error) if error.is_rejection() => return super::verify::rejected(path, &error, json),
        Err(error) => return Err(error).at_file(path),
    };
    if let Some(expected) = &args.expect_input_commitment {
        let want = zkinfer_circuits::field::from_hex(expected)
            .map(zkinfer_circuits::field::to_hex)
            .with_context(|| {
                format!(
                    "--expect-input-commitment {expected:?} is not a field element (64 hex \
                     digits)"
                )
            })?;
        if claim.first.input_commitment.as_ref() != Some(&want) {
            let found = claim.first.input_commitment.as_deref().unwrap_or("(none)");
            let error = format!("it proves input commitment {found}, not the expected {want}");
            return super::verify::rejected(path, &error, json);
        }
    }
    let out = verify_output(&chain, &ends, claim, q)?;
    if json {
        report::json(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "verified {} → class {} (a chain of {} proofs)",
        path.display(),
        out.class,
        out.segments.len()
    );
    print_segments(&out.segments);
    outln!(
        "links    {} commitments, each segment's output commitment the next one's input \
         commitment",
        out.links.len()
    );
    match (&out.input_digest, &out.input_commitment) {
        (Some(digest), _) => outln!("input    public, digest {digest}"),
        (None, Some(commitment)) => outln!(
            "input    committed: {commitment} (the output is the model's on the input that opens it)"
        ),
        (None, None) => outln!(
            "input    private: the chain shows that some input in the model's bound gives this output"
        ),
    }
    outln!("scores   {}", report::floats(&out.outputs));
    outln!(
        "integers {:?} at scale {}",
        out.outputs_int,
        zkinfer_quant::Scale(out.scale)
    );
    outln!(
        "model    {} ({})",
        report::printable(&model.source),
        &out.model_digest[..16]
    );
    Ok(ExitCode::SUCCESS)
}

fn verify_output(
    chain: &ProofChain,
    ends: &[(usize, usize)],
    claim: ChainClaim,
    q: &QuantizedModel,
) -> anyhow::Result<VerifyChainOutput> {
    let scale = q.output().scale;
    let first = &claim.first;
    Ok(VerifyChainOutput {
        verified: true,
        input_visibility: super::verify::input_visibility(first),
        input_commitment: first.input_commitment.clone(),
        input_digest: first.input.as_deref().map(input_digest),
        links: claim.links.clone(),
        segments: segment_reports(chain, ends, None)?,
        outputs: dequantized(&claim.last.output, scale),
        outputs_int: claim.last.output.clone(),
        scale: scale.0,
        class: claim.last.class,
        model_digest: claim.model_digest,
    })
}
