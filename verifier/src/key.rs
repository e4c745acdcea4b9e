//! [`VerifierKey`]: a model's verifying key, rebuilt deterministically from
//! its public description (halo2_proofs 0.4 cannot serialize keys).

use crate::error::{Result, VerifyError};
use halo2_proofs::dev::CircuitCost;
use halo2_proofs::plonk::{keygen_vk, keygen_vk_from_commitments, VerifyingKey};
use halo2_proofs::poly::commitment::Params;
use pasta_curves::group::GroupEncoding;
use pasta_curves::vesta;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use zkinfer_circuits::{ModelCircuit, Visibility};
use zkinfer_quant::QuantizedModel;

/// IPA parameters over the Pasta curves (commitments on Vesta, circuits
/// over the Pallas base field).
pub type IpaParams = Params<vesta::Affine>;

/// Everything needed to verify proofs of one model.
#[derive(Clone, Debug)]
pub struct VerifierKey {
    circuit: ModelCircuit,
    params: IpaParams,
    vk: VerifyingKey<vesta::Affine>,
    vk_digest: String,
    model_digest: String,
    proof_bytes: usize,
}

impl VerifierKey {
    /// Builds the key of a model's circuit. `params` must be for the
    /// circuit's `k` ([`VerifierKey::k_for`]); they depend on nothing else
    /// and are derived locally: no setup, no download.
    pub fn new(model: QuantizedModel, visibility: Visibility, params: IpaParams) -> Result<Self> {
        Self::for_circuit(Self::plan_circuit(model, visibility)?, params)
    }

    /// The circuit of a model, planned once: its plan gives the `k` to
    /// load parameters for, then [`Self::for_circuit`] keys it.
    pub fn plan_circuit(model: QuantizedModel, visibility: Visibility) -> Result<ModelCircuit> {
        ModelCircuit::new(Arc::new(model), visibility).map_err(|e| VerifyError::Key(e.to_string()))
    }

    /// Builds the key of a circuit ([`Self::plan_circuit`]); `params` must be
    /// for its plan's `k`.
    pub fn for_circuit(circuit: ModelCircuit, params: IpaParams) -> Result<Self> {
        Self::check_k(&circuit, &params)?;
        let model_digest = circuit.model().digest().to_hex();
        let vk = keygen_vk(&params, &circuit).map_err(|e| VerifyError::Key(e.to_string()))?;
        Self::from_parts(circuit, params, vk, model_digest)
    }

    /// The key rebuilt from the commitments of an earlier [`Self::new`]
    /// ([`Self::commitments`]): the circuit is synthesized, nothing is
    /// committed — what a contract does on every call, for a fraction of
    /// the cost. The key is accepted only if its digest is
    /// `expected_vk_digest` (the pinned form includes the commitments).
    pub fn from_commitments(
        circuit: ModelCircuit,
        params: IpaParams,
        commitments: &[u8],
        expected_vk_digest: &str,
    ) -> Result<Self> {
        let model_digest = circuit.model().digest().to_hex();
        Self::check_k(&circuit, &params)?;
        let (fixed, permutation) = decode_commitments(commitments)?;
        let vk =
            keygen_vk_from_commitments(&params, &circuit, fixed, permutation).map_err(|e| {
                VerifyError::Key(format!(
                    "the stored commitments do not fit the circuit ({e})"
                ))
            })?;
        let key = Self::from_parts(circuit, params, vk, model_digest)?;
        if key.vk_digest != expected_vk_digest {
            return Err(VerifyError::Key(format!(
                "the stored commitments rebuild key {}, not {expected_vk_digest}",
                key.vk_digest
            )));
        }
        Ok(key)
    }

    /// The fixed and permutation commitments of the key, for
    /// [`Self::from_commitments`]: two little-endian `u32` counts, then
    /// every point compressed (32 bytes each).
    pub fn commitments(&self) -> Vec<u8> {
        let (fixed, permutation) = (
            self.vk.fixed_commitments(),
            self.vk.permutation_commitments(),
        );
        let mut bytes = Vec::with_capacity(8 + 32 * (fixed.len() + permutation.len()));
        bytes.extend_from_slice(&(fixed.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&(permutation.len() as u32).to_le_bytes());
        for point in fixed.iter().chain(permutation) {
            bytes.extend_from_slice(point.to_bytes().as_ref());
        }
        bytes
    }

    fn check_k(circuit: &ModelCircuit, params: &IpaParams) -> Result<()> {
        if params.k() != circuit.plan().k {
            return Err(VerifyError::Key(format!(
                "parameters for k = {}, the circuit needs k = {}",
                params.k(),
                circuit.plan().k
            )));
        }
        Ok(())
    }

    fn from_parts(
        circuit: ModelCircuit,
        params: IpaParams,
        vk: VerifyingKey<vesta::Affine>,
        model_digest: String,
    ) -> Result<Self> {
        let vk_digest = vk_digest(&vk);
        // Every proof of a circuit has the same size: halo2's cost model
        // counts its commitments and evaluations.
        let proof_bytes = CircuitCost::<vesta::Point, ModelCircuit>::measure(params.k(), &circuit)
            .proof_size(1)
            .into();
        Ok(VerifierKey {
            circuit,
            params,
            vk,
            vk_digest,
            model_digest,
            proof_bytes,
        })
    }

    /// The `k` a model's circuit needs.
    pub fn k_for(model: &QuantizedModel, visibility: Visibility) -> Result<u32> {
        zkinfer_circuits::CircuitPlan::new(model, visibility)
            .map(|p| p.k)
            .map_err(|e| VerifyError::Key(e.to_string()))
    }

    /// The model circuit (without a witness).
    pub fn circuit(&self) -> &ModelCircuit {
        &self.circuit
    }

    /// The IPA parameters.
    pub fn params(&self) -> &IpaParams {
        &self.params
    }

    /// The halo2 verifying key.
    pub fn vk(&self) -> &VerifyingKey<vesta::Affine> {
        &self.vk
    }

    /// SHA-256 of the verifying key's pinned form, hex: the circuit's name.
    pub fn vk_digest(&self) -> &str {
        &self.vk_digest
    }

    /// The model digest, hex.
    pub fn model_digest(&self) -> &str {
        &self.model_digest
    }

    /// The size of every proof of this circuit, in bytes.
    pub fn proof_bytes(&self) -> usize {
        self.proof_bytes
    }
}

/// The fixed and permutation commitments of [`VerifierKey::commitments`].
#[allow(clippy::type_complexity)]
fn decode_commitments(bytes: &[u8]) -> Result<(Vec<vesta::Affine>, Vec<vesta::Affine>)> {
    let malformed = |what: &str| VerifyError::Key(format!("stored commitments: {what}"));
    let count = |at: usize| -> Result<usize> {
        let word = bytes
            .get(at..at + 4)
            .ok_or_else(|| malformed("truncated"))?;
        Ok(u32::from_le_bytes(word.try_into().expect("4 bytes")) as usize)
    };
    let (fixed, permutation) = (count(0)?, count(4)?);
    let points = &bytes[8..];
    if fixed
        .checked_add(permutation)
        .and_then(|n| n.checked_mul(32))
        != Some(points.len())
    {
        return Err(malformed("the counts do not match the length"));
    }
    let mut decoded = points.chunks(32).map(|chunk| {
        let mut repr = <vesta::Affine as GroupEncoding>::Repr::default();
        repr.as_mut().copy_from_slice(chunk);
        Option::from(vesta::Affine::from_bytes(&repr)).ok_or_else(|| malformed("not a curve point"))
    });
    let fixed = decoded.by_ref().take(fixed).collect::<Result<Vec<_>>>()?;
    let permutation = decoded.collect::<Result<Vec<_>>>()?;
    Ok((fixed, permutation))
}

/// SHA-256 of `format!("{:?}", vk.pinned())`: the domain, the fixed and
/// permutation commitments and the constraint system.
pub fn vk_digest(vk: &VerifyingKey<vesta::Affine>) -> String {
    let pinned = format!("{:?}", vk.pinned());
    Sha256::digest(pinned.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
