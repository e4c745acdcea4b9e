//! [`ChainProver`]: a model proven in parts, one proof per segment, linked
//! by commitments of the tensors between them ([`zkinfer_verifier::chain`]
//! says what the chain proves).
//!
//! The candle engine runs the whole model once; each segment's proof
//! covers its slice of that trace, and needs only that segment's keys. Segment `i`'s output and segment
//! `i + 1`'s input are committed with one fresh blinding element, so both
//! proofs make the same commitment public. Segments share nothing else:
//! they could be proven on different machines in any order (here, one
//! after the other).

use crate::choose::{self, ProfileChoice};
use crate::error::{ProverError, Result};
use crate::prove::{random_blinding, Prover, VERSION};
use std::sync::Arc;
use zkinfer_circuits::{Fp, ModelCircuit, Visibility};
use zkinfer_models::Engine;
use zkinfer_quant::{QuantizedModel, Tensor, TensorId, Trace};
use zkinfer_verifier::chain::{segment_circuit, segment_ends};
use zkinfer_verifier::{ProofBundle, ProofChain, CHAIN_FORMAT};

/// Where `prove --per-layer` cuts a model: its block boundaries
/// ([`QuantizedModel::block_cuts`]) whose tensors a segment's input can
/// take (its bound checks are at most 16 bits wide).
pub fn layer_cuts(model: &QuantizedModel) -> Vec<TensorId> {
    let max = zkinfer_circuits::chips::range::MAX_RANGE_BITS;
    model
        .block_cuts()
        .into_iter()
        .filter(|&t| model.specs()[t].bits <= max)
        .collect()
}

/// The circuits of a model's segments cut at `cuts` (the first segment's
/// input as `input` says), each in the profile `choice` picks for it.
pub fn plan_segments(
    model: &QuantizedModel,
    cuts: &[TensorId],
    input: Visibility,
    choice: ProfileChoice,
) -> Result<Vec<ModelCircuit>> {
    let ends = segment_ends(model, cuts)?;
    (0..ends.len())
        .map(|index| {
            let (from, to) = ends[index];
            let segment = model.segment(from, to)?;
            let visibility = if index == 0 {
                input
            } else {
                Visibility::Committed
            };
            let profile = choose::plan(&segment, visibility, choice)?.profile;
            Ok(segment_circuit(model, cuts, index, input, profile)?)
        })
        .collect()
}

/// The fewest of `cuts` that keep every segment within `2^max_k` rows:
/// from the input, each segment runs to the farthest cut (or the output)
/// it still fits to, in the profile `choice` picks. A model's block
/// boundaries grouped so: as few proofs as the largest one allows, each
/// no larger than `max_k` (peak memory and proving time follow `k`). An
/// error names a segment between two consecutive cuts that alone needs
/// more.
pub fn fit_cuts(
    model: &QuantizedModel,
    cuts: &[TensorId],
    input: Visibility,
    choice: ProfileChoice,
    max_k: u32,
) -> Result<Vec<TensorId>> {
    let output = model.nodes().len();
    let ends: Vec<TensorId> = segment_ends(model, cuts)?.iter().map(|e| e.1).collect();
    let k_of = |from: TensorId, to: TensorId| -> Result<u32> {
        let segment = model.segment(from, to)?;
        let visibility = [
            if from == 0 {
                input
            } else {
                Visibility::Committed
            },
            if to == output {
                Visibility::Public
            } else {
                Visibility::Committed
            },
        ];
        let profile = choose::plan(&segment, visibility[0], choice)?.profile;
        let fixed = zkinfer_circuits::WeightVisibility::Fixed;
        let (plan, _) =
            zkinfer_circuits::CircuitPlan::with_output(&segment, visibility, fixed, profile)?;
        Ok(plan.k)
    };
    let (mut kept, mut from, mut next) = (vec![], 0, 0);
    while next < ends.len() {
        let k = k_of(from, ends[next])?;
        if k > max_k {
            return Err(ProverError::Chain(format!(
                "tensors {from}..{} need k = {k} as one segment, above --max-k {max_k}",
                ends[next]
            )));
        }
        // Extend while the longer segment still fits.
        let mut to = next;
        while to + 1 < ends.len() && k_of(from, ends[to + 1]).is_ok_and(|k| k <= max_k) {
            to += 1;
        }
        if ends[to] != output {
            kept.push(ends[to]);
        }
        (from, next) = (ends[to], to + 1);
    }
    Ok(kept)
}

/// Proves inferences of a model in parts, one segment at a time: a
/// caller that loads each segment's keys only while it proves that
/// segment ([`Self::start`], [`Self::prove_segment`], [`Self::finish`])
/// holds one proving key at a time, so the largest segment, not the
/// model, bounds memory.
pub struct ChainProver {
    name: String,
    model: Arc<QuantizedModel>,
    cuts: Vec<TensorId>,
    ends: Vec<(TensorId, TensorId)>,
}

/// One inference being proven segment by segment.
#[derive(Clone, Debug)]
pub struct ChainRun {
    trace: Trace,
    /// Each segment's input blinding (the first: the caller's, or `None`
    /// for a fresh one), then the last segment's output's (`None`).
    blindings: Vec<Option<Fp>>,
    bundles: Vec<ProofBundle>,
    seconds: Vec<f64>,
    first_blinding: Option<Fp>,
}

/// A proof chain and the inference it proves.
#[derive(Clone, Debug)]
pub struct ProvedChain {
    /// The chain to hand to a verifier.
    pub chain: ProofChain,
    /// Every tensor of the inference.
    pub trace: Trace,
    /// A committed input's blinding element (the prover's secret).
    pub blinding: Option<Fp>,
    /// Each segment's proving time, in seconds.
    pub seconds: Vec<f64>,
}

impl ChainProver {
    /// A chain prover of `model` cut at `cuts` (cuts of the model, in
    /// increasing order).
    pub fn new(name: &str, model: Arc<QuantizedModel>, cuts: Vec<TensorId>) -> Result<Self> {
        let ends = segment_ends(&model, &cuts)?;
        Ok(ChainProver {
            name: name.to_string(),
            model,
            cuts,
            ends,
        })
    }

    /// The tensors the model is cut at.
    pub fn cuts(&self) -> &[TensorId] {
        &self.cuts
    }

    /// Each segment's first and last tensor.
    pub fn ends(&self) -> &[(TensorId, TensorId)] {
        &self.ends
    }

    /// The segments' circuits ([`plan_segments`]).
    pub fn circuits(&self, input: Visibility, choice: ProfileChoice) -> Result<Vec<ModelCircuit>> {
        plan_segments(&self.model, &self.cuts, input, choice)
    }

    /// Runs the candle engine on the whole model, and draws each link's
    /// blinding element; a committed input is blinded by `blinding` when
    /// given (else a fresh random element).
    pub fn start(&self, input: &Tensor, blinding: Option<Fp>) -> Result<ChainRun> {
        let trace = Engine::default().run(&self.model, input)?;
        let mut blindings = vec![blinding];
        blindings.extend((1..self.ends.len()).map(|_| Some(random_blinding())));
        blindings.push(None);
        Ok(ChainRun {
            trace,
            blindings,
            bundles: vec![],
            seconds: vec![],
            first_blinding: None,
        })
    }

    /// Proves the run's next segment with `prover`, that segment's prover
    /// (checked); returns its proving time in seconds.
    pub fn prove_segment(&self, run: &mut ChainRun, prover: &Prover) -> Result<f64> {
        let index = run.bundles.len();
        let &(from, to) = self.ends.get(index).ok_or_else(|| {
            ProverError::Chain(format!(
                "the chain's {} segments are proven",
                self.ends.len()
            ))
        })?;
        let expected = self.model.segment(from, to)?.digest().to_hex();
        if prover.verifier_key().model_digest() != expected {
            return Err(ProverError::Chain(format!(
                "the prover given for segment {index} is not that of tensors {from}..{to}"
            )));
        }
        let start = std::time::Instant::now();
        let blindings = [run.blindings[index], run.blindings[index + 1]];
        let proved = prover.prove_blinded(run.trace.segment(from, to), blindings)?;
        let seconds = start.elapsed().as_secs_f64();
        if index == 0 {
            run.first_blinding = proved.blinding;
        }
        run.bundles.push(proved.bundle);
        run.seconds.push(seconds);
        Ok(seconds)
    }

    /// The chain of a run whose every segment is proven.
    pub fn finish(&self, run: ChainRun) -> Result<ProvedChain> {
        if run.bundles.len() != self.ends.len() {
            return Err(ProverError::Chain(format!(
                "{} of the chain's {} segments are proven",
                run.bundles.len(),
                self.ends.len()
            )));
        }
        Ok(ProvedChain {
            chain: ProofChain {
                format: CHAIN_FORMAT.to_string(),
                zkinfer_version: VERSION.to_string(),
                model: self.name.clone(),
                model_digest: self.model.digest().to_hex(),
                cuts: self.cuts.clone(),
                segments: run.bundles,
            },
            trace: run.trace,
            blinding: run.first_blinding,
            seconds: run.seconds,
        })
    }

    /// Proves one inference with every segment's prover at hand.
    pub fn prove(
        &self,
        input: &Tensor,
        blinding: Option<Fp>,
        provers: &[Prover],
    ) -> Result<ProvedChain> {
        let mut run = self.start(input, blinding)?;
        for prover in provers {
            self.prove_segment(&mut run, prover)?;
        }
        self.finish(run)
    }
}
