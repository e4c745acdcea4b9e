//! [`ContractStore`]: the contract's storage, as the handlers see it; and
//! [`MemoryStore`], the native one (serializable, for `zkinfer contract`).

use crate::contract::error::ContractError;
#[cfg(feature = "committed-weights")]
use crate::contract::msg::AcceptedWeights;
use crate::contract::msg::{Attestation, Config, ParamsUpload, RegisteredModel, Retirement};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

type Result<T> = std::result::Result<T, ContractError>;

/// Keyed storage. Implementations: [`MemoryStore`], and cw-storage-plus maps
/// in the CosmWasm contract.
pub trait ContractStore {
    /// The configuration, once instantiated.
    fn config(&self) -> Result<Option<Config>>;
    /// Sets the configuration.
    fn set_config(&mut self, config: &Config) -> Result<()>;
    /// A registered model.
    fn model(&self, model_id: &str) -> Result<Option<RegisteredModel>>;
    /// Registers a model.
    fn put_model(&mut self, model: &RegisteredModel) -> Result<()>;
    /// Every registered model id, sorted.
    fn model_ids(&self) -> Result<Vec<String>>;
    /// A model's retirement, if it was retired.
    fn retirement(&self, model_id: &str) -> Result<Option<Retirement>>;
    /// Retires a model.
    fn put_retirement(&mut self, model_id: &str, retirement: &Retirement) -> Result<()>;
    /// The next sequence number (the number of attestations).
    fn next_seq(&self) -> Result<u64>;
    /// An attestation.
    fn attestation(&self, seq: u64) -> Result<Option<Attestation>>;
    /// Records an attestation with its indexes (by model and input, by
    /// proof), and advances the sequence number.
    fn put_attestation(&mut self, attestation: &Attestation) -> Result<()>;
    /// The attestation for a (model, input index), if any: the index is
    /// [`Attestation::input_index`].
    fn output_of(&self, model_id: &str, input_index: &str) -> Result<Option<u64>>;
    /// The attestation recording a proof digest, if any.
    fn proof_seen(&self, proof_digest: &str) -> Result<Option<u64>>;
    /// A model's attestations after `start_after`, oldest first.
    fn attestations_of(
        &self,
        model_id: &str,
        start_after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Attestation>>;
    /// The IPA parameters' state for `k`, if any chunk was uploaded.
    fn params_upload(&self, k: u32) -> Result<Option<ParamsUpload>>;
    /// Every `k` with parameters stored or being uploaded, ascending.
    fn params_uploads(&self) -> Result<Vec<ParamsUpload>>;
    /// Records the parameters' state for `k`.
    fn put_params_upload(&mut self, upload: &ParamsUpload) -> Result<()>;
    /// Chunk `index` of the parameters for `k` (index
    /// [`crate::contract::DECODED_PARAMS`]: the completed upload's
    /// parameters, uncompressed).
    fn params_chunk(&self, k: u32, index: u32) -> Result<Option<Vec<u8>>>;
    /// Stores chunk `index` of the parameters for `k`.
    fn put_params_chunk(&mut self, k: u32, index: u32, bytes: &[u8]) -> Result<()>;
    /// A polycommit model's accepted weights, by id. (The default: a store
    /// that keeps none, as the contract built without committed weights.)
    #[cfg(feature = "committed-weights")]
    fn weights(&self, _model_id: &str, _weights_id: &str) -> Result<Option<AcceptedWeights>> {
        Err(no_weights())
    }
    /// Records (or updates) accepted weights.
    #[cfg(feature = "committed-weights")]
    fn put_weights(&mut self, _model_id: &str, _weights: &AcceptedWeights) -> Result<()> {
        Err(no_weights())
    }
    /// A model's accepted weights after `start_after`, ordered by id.
    #[cfg(feature = "committed-weights")]
    fn weights_of(
        &self,
        _model_id: &str,
        _start_after: Option<&str>,
        _limit: usize,
    ) -> Result<Vec<AcceptedWeights>> {
        Err(no_weights())
    }
}

#[cfg(feature = "committed-weights")]
fn no_weights() -> ContractError {
    ContractError::Store("this store keeps no accepted weights".into())
}

/// The whole state in ordered maps: deterministic to serialize.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryStore {
    config: Option<Config>,
    models: BTreeMap<String, RegisteredModel>,
    attestations: Vec<Attestation>,
    by_input: BTreeMap<String, u64>,
    by_proof: BTreeMap<String, u64>,
    by_model: BTreeMap<String, Vec<u64>>,
    /// Absent from states without retirements: those read and write as
    /// before retirement existed. A binary older than retirement refuses a
    /// state that has some (an unknown field) rather than ignore them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    retired: BTreeMap<String, Retirement>,
    /// IPA parameters uploaded to the contract, by `k` (absent while none
    /// are: the native CLI derives them from its checked cache instead).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    params: BTreeMap<u32, ParamsUpload>,
    /// Their chunks, under `<k>/<index>`, base64.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    params_chunks: BTreeMap<String, String>,
    /// Polycommit models' accepted weights, under `<model id>/<weights id>`.
    #[cfg(feature = "committed-weights")]
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    weights: BTreeMap<String, AcceptedWeights>,
}

/// A key under a model: `<model id>/<rest>` (model ids are hex, so a
/// model's keys are contiguous in an ordered map).
fn model_scoped_key(model_id: &str, rest: &str) -> String {
    format!("{model_id}/{rest}")
}

impl ContractStore for MemoryStore {
    fn config(&self) -> Result<Option<Config>> {
        Ok(self.config.clone())
    }
    fn set_config(&mut self, config: &Config) -> Result<()> {
        self.config = Some(config.clone());
        Ok(())
    }
    fn model(&self, model_id: &str) -> Result<Option<RegisteredModel>> {
        Ok(self.models.get(model_id).cloned())
    }
    fn put_model(&mut self, model: &RegisteredModel) -> Result<()> {
        self.models.insert(model.model_id.clone(), model.clone());
        Ok(())
    }
    fn model_ids(&self) -> Result<Vec<String>> {
        Ok(self.models.keys().cloned().collect())
    }
    fn retirement(&self, model_id: &str) -> Result<Option<Retirement>> {
        Ok(self.retired.get(model_id).cloned())
    }
    fn put_retirement(&mut self, model_id: &str, retirement: &Retirement) -> Result<()> {
        self.retired
            .insert(model_id.to_string(), retirement.clone());
        Ok(())
    }
    fn next_seq(&self) -> Result<u64> {
        Ok(self.attestations.len() as u64)
    }
    fn attestation(&self, seq: u64) -> Result<Option<Attestation>> {
        Ok(usize::try_from(seq)
            .ok()
            .and_then(|i| self.attestations.get(i))
            .cloned())
    }
    fn put_attestation(&mut self, a: &Attestation) -> Result<()> {
        if a.seq != self.attestations.len() as u64 {
            return Err(ContractError::Store(format!(
                "sequence {} out of order",
                a.seq
            )));
        }
        self.by_input
            .insert(model_scoped_key(&a.model_id, &a.input_index()), a.seq);
        self.by_proof.insert(a.proof_digest.clone(), a.seq);
        self.by_model
            .entry(a.model_id.clone())
            .or_default()
            .push(a.seq);
        self.attestations.push(a.clone());
        Ok(())
    }
    fn output_of(&self, model_id: &str, input_index: &str) -> Result<Option<u64>> {
        Ok(self
            .by_input
            .get(&model_scoped_key(model_id, input_index))
            .copied())
    }
    fn proof_seen(&self, proof_digest: &str) -> Result<Option<u64>> {
        Ok(self.by_proof.get(proof_digest).copied())
    }
    fn attestations_of(
        &self,
        model_id: &str,
        start_after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Attestation>> {
        let seqs = self
            .by_model
            .get(model_id)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        Ok(seqs
            .iter()
            .filter(|&&s| start_after.is_none_or(|after| s > after))
            .take(limit)
            .filter_map(|&s| {
                usize::try_from(s)
                    .ok()
                    .and_then(|i| self.attestations.get(i))
                    .cloned()
            })
            .collect())
    }
    fn params_upload(&self, k: u32) -> Result<Option<ParamsUpload>> {
        Ok(self.params.get(&k).copied())
    }
    fn params_uploads(&self) -> Result<Vec<ParamsUpload>> {
        Ok(self.params.values().copied().collect())
    }
    fn put_params_upload(&mut self, upload: &ParamsUpload) -> Result<()> {
        self.params.insert(upload.k, *upload);
        Ok(())
    }
    fn params_chunk(&self, k: u32, index: u32) -> Result<Option<Vec<u8>>> {
        self.params_chunks
            .get(&format!("{k}/{index}"))
            .map(|text| {
                crate::base64::decode(text).ok_or_else(|| {
                    ContractError::Store(format!("parameter chunk {k}/{index} is not base64"))
                })
            })
            .transpose()
    }
    fn put_params_chunk(&mut self, k: u32, index: u32, bytes: &[u8]) -> Result<()> {
        self.params_chunks
            .insert(format!("{k}/{index}"), crate::base64::encode(bytes));
        Ok(())
    }
    #[cfg(feature = "committed-weights")]
    fn weights(&self, model_id: &str, weights_id: &str) -> Result<Option<AcceptedWeights>> {
        Ok(self
            .weights
            .get(&model_scoped_key(model_id, weights_id))
            .cloned())
    }
    #[cfg(feature = "committed-weights")]
    fn put_weights(&mut self, model_id: &str, weights: &AcceptedWeights) -> Result<()> {
        self.weights.insert(
            model_scoped_key(model_id, &weights.weights_id),
            weights.clone(),
        );
        Ok(())
    }
    #[cfg(feature = "committed-weights")]
    fn weights_of(
        &self,
        model_id: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AcceptedWeights>> {
        // Model ids and weights ids are hex: `/` sorts before every digit,
        // so a model's entries are contiguous and ordered by weights id.
        let prefix = format!("{model_id}/");
        Ok(self
            .weights
            .range(prefix.clone()..)
            .take_while(|(key, _)| key.starts_with(&prefix))
            .map(|(_, w)| w)
            .filter(|w| start_after.is_none_or(|after| w.weights_id.as_str() > after))
            .take(limit)
            .cloned()
            .collect())
    }
}
