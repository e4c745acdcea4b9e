//! [`VerifierKey`]: a model's verifying key, rebuilt deterministically from
//! its public description (halo2_proofs 0.4 cannot serialize keys).

use crate::commitments::{self, KeyCommitments};
use crate::error::{Result, VerifyError};
use halo2_proofs::dev::CircuitCost;
use halo2_proofs::plonk::{
    keygen_vk, keygen_vk_from_commitments, keygen_vk_with_columns, VerifyingKey,
};
use halo2_proofs::poly::commitment::Params;
use pasta_curves::vesta;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use zkinfer_circuits::{ModelCircuit, Profile, Visibility};
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
}

impl VerifierKey {
    /// Builds the key of a model's circuit in the compact profile.
    /// `params` must be for the circuit's `k` ([`VerifierKey::k_for`]);
    /// they depend on nothing else and are derived locally: no setup, no
    /// download.
    pub fn new(model: QuantizedModel, visibility: Visibility, params: IpaParams) -> Result<Self> {
        Self::for_circuit(
            Self::plan_circuit(model, visibility, Profile::Compact)?,
            params,
        )
    }

    /// The circuit of a model in a layout profile, planned once: its plan
    /// gives the `k` to load parameters for, then [`Self::for_circuit`]
    /// keys it.
    pub fn plan_circuit(
        model: QuantizedModel,
        visibility: Visibility,
        profile: Profile,
    ) -> Result<ModelCircuit> {
        ModelCircuit::with_profile(Arc::new(model), visibility, profile)
            .map_err(|e| VerifyError::Key(e.to_string()))
    }

    /// [`Self::plan_circuit`] with the weights fixed or committed: with
    /// committed weights the circuit lays out the model's architecture,
    /// and its key serves every model of it.
    #[cfg(feature = "committed-weights")]
    pub fn plan_circuit_with(
        model: QuantizedModel,
        visibility: Visibility,
        weights: zkinfer_circuits::WeightVisibility,
        profile: Profile,
    ) -> Result<ModelCircuit> {
        ModelCircuit::with_options(Arc::new(model), visibility, weights, profile)
            .map_err(|e| VerifyError::Key(e.to_string()))
    }

    /// Builds the key of a circuit ([`Self::plan_circuit`]); `params` must be
    /// for its plan's `k`.
    pub fn for_circuit(circuit: ModelCircuit, params: IpaParams) -> Result<Self> {
        Self::check_k(&circuit, &params)?;
        let model_digest = circuit.model().digest().to_hex();
        let vk = keygen_vk(&params, &circuit).map_err(|e| VerifyError::Key(e.to_string()))?;
        Ok(Self::from_parts(circuit, params, vk, model_digest))
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
        let KeyCommitments { fixed, permutation } = KeyCommitments::from_bytes(commitments)?;
        let vk =
            keygen_vk_from_commitments(&params, &circuit, fixed, permutation).map_err(|e| {
                VerifyError::Key(format!(
                    "the stored commitments do not fit the circuit ({e})"
                ))
            })?;
        let key = Self::from_parts(circuit, params, vk, model_digest);
        if key.vk_digest != expected_vk_digest {
            return Err(VerifyError::Key(format!(
                "the stored commitments rebuild key {}, not {expected_vk_digest}",
                key.vk_digest
            )));
        }
        Ok(key)
    }

    /// The key of a circuit from commitments a registrar claims
    /// ([`Self::commitments`] of a key it built): the circuit is
    /// synthesized, and the claim is checked against its columns all at
    /// once ([`commitments::check`]) — one commitment's work instead of one
    /// per column. What a contract does at registration.
    pub fn from_checked_commitments(
        circuit: ModelCircuit,
        params: IpaParams,
        commitments: &[u8],
    ) -> Result<Self> {
        let model_digest = circuit.model().digest().to_hex();
        Self::check_k(&circuit, &params)?;
        let claimed = KeyCommitments::from_bytes(commitments)?;
        let (vk, columns) = keygen_vk_with_columns(
            &params,
            &circuit,
            claimed.fixed.clone(),
            claimed.permutation.clone(),
        )
        .map_err(|e| {
            VerifyError::Key(format!(
                "the commitments do not fit the circuit: {} fixed and {} permutation columns \
                 claimed ({e})",
                claimed.fixed.len(),
                claimed.permutation.len()
            ))
        })?;
        // The challenge binds the claim to the circuit: the model, the
        // input's visibility, (beyond compact, whose binding predates
        // profiles) the layout profile, and committed weights.
        let plan = circuit.plan();
        #[allow(unused_mut)]
        let mut binding = match plan.profile {
            Profile::Compact => format!("{model_digest} {}", plan.input_visibility.name()),
            profile => format!("{model_digest} {} {profile}", plan.input_visibility.name()),
        };
        // And the weights' visibility where they are a witness (the model
        // digest is then the architecture's).
        #[cfg(feature = "committed-weights")]
        if plan.weight_visibility.is_committed() {
            binding = format!("{binding} {}-weights", plan.weight_visibility.name());
        }
        // And a committed output (a segment of a model proven in parts).
        #[cfg(feature = "commitments")]
        if circuit.output_committed() {
            binding = format!("{binding} committed-output");
        }
        if !commitments::check(&params, &columns, &claimed, binding.as_bytes()) {
            return Err(VerifyError::Key(
                "the commitments are not those of the model's circuit".into(),
            ));
        }
        Ok(Self::from_parts(circuit, params, vk, model_digest))
    }

    /// The fixed and permutation commitments of the key, for
    /// [`Self::from_commitments`] and [`Self::from_checked_commitments`]
    /// ([`KeyCommitments::to_bytes`]).
    pub fn commitments(&self) -> Vec<u8> {
        KeyCommitments {
            fixed: self.vk.fixed_commitments().to_vec(),
            permutation: self.vk.permutation_commitments().to_vec(),
        }
        .to_bytes()
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
    ) -> Self {
        let vk_digest = vk_digest(&vk);
        VerifierKey {
            circuit,
            params,
            vk,
            vk_digest,
            model_digest,
        }
    }

    /// The `k` a model's circuit needs in a profile.
    pub fn k_for(model: &QuantizedModel, visibility: Visibility, profile: Profile) -> Result<u32> {
        zkinfer_circuits::CircuitPlan::for_profile(model, visibility, profile)
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

    /// The size of every proof of this circuit, in bytes: halo2's cost
    /// model counts its commitments and evaluations, laying the circuit
    /// out once more. (Verification needs no such count: it refuses a
    /// proof that its transcript does not read to the end.)
    pub fn proof_bytes(&self) -> usize {
        CircuitCost::<vesta::Point, ModelCircuit>::measure(self.params.k(), &self.circuit)
            .proof_size(1)
            .into()
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
