//! [`VerifierKey`]: a model's verifying key, rebuilt deterministically from
//! its public description (halo2_proofs 0.4 cannot serialize keys).

use crate::error::{Result, VerifyError};
use halo2_proofs::dev::CircuitCost;
use halo2_proofs::plonk::{keygen_vk, VerifyingKey};
use halo2_proofs::poly::commitment::Params;
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
        let model_digest = model.digest().to_hex();
        let circuit = ModelCircuit::new(Arc::new(model), visibility)
            .map_err(|e| VerifyError::Key(e.to_string()))?;
        if params.k() != circuit.plan().k {
            return Err(VerifyError::Key(format!(
                "parameters for k = {}, the circuit needs k = {}",
                params.k(),
                circuit.plan().k
            )));
        }
        let vk = keygen_vk(&params, &circuit).map_err(|e| VerifyError::Key(e.to_string()))?;
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

/// SHA-256 of `format!("{:?}", vk.pinned())`: the domain, the fixed and
/// permutation commitments and the constraint system.
pub fn vk_digest(vk: &VerifyingKey<vesta::Affine>) -> String {
    let pinned = format!("{:?}", vk.pinned());
    Sha256::digest(pinned.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
