//! [`ChainProver`]: a model proven in parts, one proof per segment, linked
//! by commitments of the tensors between them ([`zkinfer_verifier::chain`]
//! says what the chain proves).
//!
//! The candle engine runs the whole model once; each segment's proof
//! covers its slice of that trace. Segment `i`'s output and segment
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
use zkinfer_verifier::{ProofChain, CHAIN_FORMAT};

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

/// Proves inferences of a model in parts.
pub struct ChainProver {
    name: String,
    model: Arc<QuantizedModel>,
    cuts: Vec<TensorId>,
    segments: Vec<Prover>,
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
}

impl ChainProver {
    /// A chain prover from one prover per segment of `model` cut at
    /// `cuts` (keys of the circuits [`plan_segments`] gives), checked to
    /// be those segments'.
    pub fn new(
        name: &str,
        model: Arc<QuantizedModel>,
        cuts: Vec<TensorId>,
        segments: Vec<Prover>,
    ) -> Result<Self> {
        let ends = segment_ends(&model, &cuts)?;
        let mismatch = ends.len() != segments.len()
            || ends.iter().zip(&segments).any(|(&(from, to), prover)| {
                model
                    .segment(from, to)
                    .map(|s| s.digest().to_hex() != prover.verifier_key().model_digest())
                    .unwrap_or(true)
            });
        if mismatch {
            return Err(ProverError::Chain(format!(
                "the {} provers are not those of the model's {} segments",
                segments.len(),
                ends.len()
            )));
        }
        Ok(ChainProver {
            name: name.to_string(),
            model,
            cuts,
            segments,
        })
    }

    /// The segments' provers, in order.
    pub fn segments(&self) -> &[Prover] {
        &self.segments
    }

    /// Runs the candle engine on the whole model and proves each segment
    /// of its trace; a committed input is blinded by `blinding` when given
    /// (else a fresh random element), each link by a fresh random element.
    pub fn prove(&self, input: &Tensor, blinding: Option<Fp>) -> Result<ProvedChain> {
        let trace = Engine::default().run(&self.model, input)?;
        let ends = segment_ends(&self.model, &self.cuts)?;
        let mut input_blinding = blinding;
        let mut bundles = vec![];
        let mut first_blinding = None;
        for (index, (&(from, to), prover)) in ends.iter().zip(&self.segments).enumerate() {
            let last = index + 1 == ends.len();
            let output_blinding = (!last).then(random_blinding);
            let proved =
                prover.prove_blinded(trace.segment(from, to), [input_blinding, output_blinding])?;
            if index == 0 {
                first_blinding = proved.blinding;
            }
            input_blinding = proved.output_blinding;
            bundles.push(proved.bundle);
        }
        Ok(ProvedChain {
            chain: ProofChain {
                format: CHAIN_FORMAT.to_string(),
                zkinfer_version: VERSION.to_string(),
                model: self.name.clone(),
                model_digest: self.model.digest().to_hex(),
                cuts: self.cuts.clone(),
                segments: bundles,
            },
            trace,
            blinding: first_blinding,
        })
    }
}
