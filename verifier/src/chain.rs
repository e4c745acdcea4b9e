//! [`ProofChain`]: a model proven in parts (`"format":
//! "zkinfer/proof-chain@1"`), and [`verify_chain`].
//!
//! A model too large for one circuit (or proven by several machines) is
//! cut at tensors after which nothing earlier is read
//! ([`QuantizedModel::cuts`]) into segments, each proven on its own:
//!
//! ```text
//!  input ─▶ segment 0 ─▶ C_1 ─▶ segment 1 ─▶ C_2 ─▶ … ─▶ segment n ─▶ output
//!           (input as      │     (input       │          (output public)
//!            chosen)       └──── committed) ──┘
//! ```
//!
//! Segment `i`'s output and segment `i + 1`'s input are the same cut
//! tensor, committed with the same blinding element: its Poseidon
//! commitment `C_{i+1}` is a public input of both proofs. The verifier
//! checks every proof against its segment's key and that each output
//! commitment is the next input commitment; Poseidon's binding then makes
//! the chain one computation of the whole model, while the activations
//! between segments stay private (blinded).

use crate::bundle::ProofBundle;
use crate::error::{ChainError, Result, VerifyError};
use crate::key::VerifierKey;
use crate::verify::{verify, VerifiedClaim};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use zkinfer_circuits::{ModelCircuit, Profile, Visibility, WeightVisibility};
use zkinfer_quant::{QuantizedModel, TensorId};

/// The `format` field of proof chains.
pub const CHAIN_FORMAT: &str = "zkinfer/proof-chain@1";

/// The proofs of one inference of a model proven in parts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofChain {
    /// Always [`CHAIN_FORMAT`].
    pub format: String,
    /// The zkinfer version that proved it.
    pub zkinfer_version: String,
    /// The whole model's name (a label).
    pub model: String,
    /// The whole model's digest.
    pub model_digest: String,
    /// The tensors the model is cut at, in order: segment `i` runs from
    /// cut `i - 1` (the input for the first) to cut `i` (the output for
    /// the last).
    pub cuts: Vec<TensorId>,
    /// One proof per segment, in order.
    pub segments: Vec<ProofBundle>,
}

impl ProofChain {
    /// Parses a chain, checking its format first.
    pub fn from_json(text: &str) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| VerifyError::Malformed(format!("not JSON ({e})")))?;
        let format = value.get("format").and_then(|f| f.as_str()).unwrap_or("");
        if format != CHAIN_FORMAT {
            return Err(VerifyError::Malformed(format!(
                "format {format:?}; a proof chain is {CHAIN_FORMAT:?}"
            )));
        }
        serde_json::from_value(value).map_err(|e| VerifyError::Malformed(e.to_string()))
    }

    /// Whether a proof file's text is a chain (by its format), not one
    /// proof.
    pub fn is_chain(text: &str) -> bool {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v.get("format")?.as_str().map(|f| f == CHAIN_FORMAT))
            .unwrap_or(false)
    }
}

/// The segments of `model` cut at `cuts` (strictly increasing cuts of the
/// model): each segment's `(from, to)` tensors.
pub fn segment_ends(
    model: &QuantizedModel,
    cuts: &[TensorId],
) -> Result<Vec<(TensorId, TensorId)>> {
    let valid = model.cuts();
    if let Some(&bad) = cuts.iter().find(|t| !valid.contains(t)) {
        return Err(VerifyError::Malformed(format!(
            "tensor {bad} is not a cut of the model (its cuts: {valid:?})"
        )));
    }
    if cuts.windows(2).any(|w| w[0] >= w[1]) {
        return Err(VerifyError::Malformed(format!(
            "the cuts {cuts:?} are not in increasing order"
        )));
    }
    let mut ends = vec![0];
    ends.extend(cuts);
    ends.push(model.nodes().len());
    Ok(ends.windows(2).map(|w| (w[0], w[1])).collect())
}

/// The circuit of segment `index` of `model` cut at `cuts`: the first
/// segment's input as `input` says, every later one's committed; every
/// output committed but the last (public). The same for prover and
/// verifier: this is what the chain's keys are built from.
pub fn segment_circuit(
    model: &QuantizedModel,
    cuts: &[TensorId],
    index: usize,
    input: Visibility,
    profile: Profile,
) -> Result<ModelCircuit> {
    let ends = segment_ends(model, cuts)?;
    let &(from, to) = ends.get(index).ok_or_else(|| {
        VerifyError::Malformed(format!(
            "segment {index} of a model cut into {} segments",
            ends.len()
        ))
    })?;
    let segment = model
        .segment(from, to)
        .map_err(|e| VerifyError::Key(e.to_string()))?;
    let visibility = [
        if index == 0 {
            input
        } else {
            Visibility::Committed
        },
        if index + 1 == ends.len() {
            Visibility::Public
        } else {
            Visibility::Committed
        },
    ];
    ModelCircuit::with_output(
        Arc::new(segment),
        visibility,
        WeightVisibility::Fixed,
        profile,
    )
    .map_err(|e| VerifyError::Key(format!("segment {index} (tensors {from}..{to}): {e}")))
}

/// What a verified chain establishes: the whole model maps this input
/// (when public; or the input that opens its commitment) to this output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainClaim {
    /// The whole model's digest.
    pub model_digest: String,
    /// The first segment's claim: its input (or input commitment).
    pub first: VerifiedClaim,
    /// The last segment's claim: its output, scale and class are the
    /// model's.
    pub last: VerifiedClaim,
    /// The commitments linking the segments, in order (one per cut).
    pub links: Vec<String>,
    /// Every segment's claim, in order.
    pub segments: Vec<VerifiedClaim>,
}

/// Verifies a chain against the whole model and its segments' keys (built
/// from [`segment_circuit`] with each segment's bundle's profile): every
/// segment's proof, its key's segment and visibilities, and every link.
pub fn verify_chain(
    model: &QuantizedModel,
    chain: &ProofChain,
    keys: &[VerifierKey],
) -> Result<ChainClaim, ChainError> {
    if chain.format != CHAIN_FORMAT {
        return Err(VerifyError::Malformed(format!("format {:?}", chain.format)).into());
    }
    let digest = model.digest().to_hex();
    if chain.model_digest != digest {
        return Err(VerifyError::WrongModel {
            expected: digest,
            found: chain.model_digest.clone(),
        }
        .into());
    }
    let ends = segment_ends(model, &chain.cuts)?;
    if chain.segments.len() != ends.len() || keys.len() != ends.len() {
        return Err(VerifyError::Malformed(format!(
            "{} cuts make {} segments; the chain has {} proofs ({} keys)",
            chain.cuts.len(),
            ends.len(),
            chain.segments.len(),
            keys.len()
        ))
        .into());
    }
    let mut segments = vec![];
    for (index, ((key, bundle), &(from, to))) in
        keys.iter().zip(&chain.segments).zip(&ends).enumerate()
    {
        let in_segment = |error| ChainError::Segment { index, error };
        let expected = model
            .segment(from, to)
            .map_err(|e| in_segment(VerifyError::Key(e.to_string())))?
            .digest()
            .to_hex();
        let circuit = key.circuit();
        let plan = circuit.plan();
        let first_input = index == 0 && plan.input_visibility != Visibility::Committed;
        let shape_ok = key.model_digest() == expected
            && plan.weight_visibility == WeightVisibility::Fixed
            && (first_input || plan.input_visibility == Visibility::Committed)
            && circuit.output_committed() == (index + 1 < ends.len());
        if !shape_ok {
            return Err(in_segment(VerifyError::Key(format!(
                "the key given for segment {index} is not that of tensors {from}..{to} with \
                 committed links"
            ))));
        }
        segments.push(verify(key, bundle).map_err(in_segment)?);
    }
    let mut links = vec![];
    for (index, pair) in segments.windows(2).enumerate() {
        match (&pair[0].output_commitment, &pair[1].input_commitment) {
            (Some(out), Some(next)) if out == next => links.push(out.clone()),
            (out, next) => {
                return Err(ChainError::BrokenLink {
                    index: index + 1,
                    output: out.clone().unwrap_or_default(),
                    input: next.clone().unwrap_or_default(),
                })
            }
        }
    }
    Ok(ChainClaim {
        model_digest: digest,
        first: segments[0].clone(),
        last: segments.last().expect("a chain has a segment").clone(),
        links,
        segments,
    })
}
