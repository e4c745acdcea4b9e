//! [`CwStore`]: `zkinfer_verifier::contract::ContractStore` in the
//! contract's storage, with cw-storage-plus's key layout ([`crate::keys`]).

use crate::keys::{map_key, map_prefix, pair_key, pair_prefix};
use cosmwasm_std::{from_json, to_json_vec, Order, Storage};
use serde::de::DeserializeOwned;
use serde::Serialize;
#[cfg(feature = "committed-weights")]
use zkinfer_verifier::contract::AcceptedWeights;
use zkinfer_verifier::contract::{
    Attestation, Config, ContractError, ContractStore, ParamsUpload, RegisteredModel, Retirement,
};

/// Items (one value under their name) and maps (values keyed under their
/// namespace, [`crate::keys`]). Values are JSON.
const CONFIG: &str = "config";
const NEXT_SEQ: &str = "next_seq";
const MODELS: &str = "models";
const ATTESTATIONS: &str = "attestations";
/// (model id, input digest) → sequence number.
const BY_INPUT: &str = "by_input";
/// Proof digest → sequence number.
const BY_PROOF: &str = "by_proof";
/// (model id, sequence number) → `null`: a model's attestations in order.
const BY_MODEL: &str = "by_model";
/// Retired models; a namespace of its own, so contracts instantiated before
/// retirement existed read as having none.
const RETIRED: &str = "retired";
/// IPA parameters uploaded by the admin: their state per `k`, and their
/// chunks under `(k, index)`. Chunks are stored as raw bytes: JSON would
/// triple a megabyte of points.
const PARAMS: &str = "params";
const PARAMS_CHUNKS: &str = "params_chunks";
/// (model id, weights id) → a polycommit model's accepted weights.
#[cfg(feature = "committed-weights")]
const WEIGHTS: &str = "weights";

type Result<T> = std::result::Result<T, ContractError>;

fn load<T: DeserializeOwned>(storage: &dyn Storage, key: &[u8]) -> Result<Option<T>> {
    storage
        .get(key)
        .map(|bytes| from_json(&bytes).map_err(|e| ContractError::Store(e.to_string())))
        .transpose()
}

fn save<T: Serialize>(storage: &mut dyn Storage, key: &[u8], value: &T) -> Result<()> {
    let bytes = to_json_vec(value).map_err(|e| ContractError::Store(e.to_string()))?;
    storage.set(key, &bytes);
    Ok(())
}

/// Every (key, value) whose key starts with `prefix`, in key order; with
/// `after`, only those after `prefix ++ after`.
fn scan<'a>(
    storage: &'a dyn Storage,
    prefix: &[u8],
    after: Option<&[u8]>,
) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> + 'a {
    let start = match after {
        // The smallest key greater than prefix ++ after.
        Some(after) => [prefix, after, &[0]].concat(),
        None => prefix.to_vec(),
    };
    let prefix = prefix.to_vec();
    storage
        .range(Some(&start), None, Order::Ascending)
        .take_while(move |(key, _)| key.starts_with(&prefix))
}

fn u64_of(bytes: &[u8]) -> Result<u64> {
    bytes
        .try_into()
        .map(u64::from_be_bytes)
        .map_err(|_| ContractError::Store("a sequence number key is not 8 bytes".into()))
}

/// Reads, shared by the mutable and the read-only store.
fn read<'a>(storage: &'a dyn Storage) -> Reader<'a> {
    Reader(storage)
}

struct Reader<'a>(&'a dyn Storage);

impl Reader<'_> {
    fn config(&self) -> Result<Option<Config>> {
        load(self.0, CONFIG.as_bytes())
    }
    fn model(&self, id: &str) -> Result<Option<RegisteredModel>> {
        load(self.0, &map_key(MODELS, id))
    }
    fn model_ids(&self) -> Result<Vec<String>> {
        let prefix = map_prefix(MODELS);
        scan(self.0, &prefix, None)
            .map(|(key, _)| {
                String::from_utf8(key[prefix.len()..].to_vec())
                    .map_err(|_| ContractError::Store("a model id is not UTF-8".into()))
            })
            .collect()
    }
    fn retirement(&self, id: &str) -> Result<Option<Retirement>> {
        load(self.0, &map_key(RETIRED, id))
    }
    fn next_seq(&self) -> Result<u64> {
        Ok(load(self.0, NEXT_SEQ.as_bytes())?.unwrap_or(0))
    }
    fn attestation(&self, seq: u64) -> Result<Option<Attestation>> {
        load(self.0, &map_key(ATTESTATIONS, seq))
    }
    fn output_of(&self, model_id: &str, input_digest: &str) -> Result<Option<u64>> {
        load(self.0, &pair_key(BY_INPUT, model_id, input_digest))
    }
    fn proof_seen(&self, proof_digest: &str) -> Result<Option<u64>> {
        load(self.0, &map_key(BY_PROOF, proof_digest))
    }
    fn attestations_of(
        &self,
        model_id: &str,
        start_after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Attestation>> {
        let prefix = pair_prefix(BY_MODEL, model_id);
        let after = start_after.map(u64::to_be_bytes);
        let seqs: Vec<u64> = scan(self.0, &prefix, after.as_ref().map(|a| &a[..]))
            .take(limit)
            .map(|(key, _)| u64_of(&key[prefix.len()..]))
            .collect::<Result<_>>()?;
        seqs.into_iter()
            .map(|seq| {
                self.attestation(seq)?.ok_or_else(|| {
                    ContractError::Store(format!("attestation {seq} is indexed but missing"))
                })
            })
            .collect()
    }
    fn params_upload(&self, k: u32) -> Result<Option<ParamsUpload>> {
        load(self.0, &map_key(PARAMS, k))
    }
    fn params_uploads(&self) -> Result<Vec<ParamsUpload>> {
        scan(self.0, &map_prefix(PARAMS), None)
            .map(|(_, value)| from_json(&value).map_err(|e| ContractError::Store(e.to_string())))
            .collect()
    }
    fn params_chunk(&self, k: u32, index: u32) -> Result<Option<Vec<u8>>> {
        Ok(self.0.get(&pair_key(PARAMS_CHUNKS, k, index)))
    }
    #[cfg(feature = "committed-weights")]
    fn weights(&self, model_id: &str, weights_id: &str) -> Result<Option<AcceptedWeights>> {
        load(self.0, &pair_key(WEIGHTS, model_id, weights_id))
    }
    #[cfg(feature = "committed-weights")]
    fn weights_of(
        &self,
        model_id: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AcceptedWeights>> {
        let prefix = pair_prefix(WEIGHTS, model_id);
        scan(self.0, &prefix, start_after.map(str::as_bytes))
            .take(limit)
            .map(|(_, value)| from_json(&value).map_err(|e| ContractError::Store(e.to_string())))
            .collect()
    }
}

/// The contract's storage, for execute messages.
pub struct CwStore<'a> {
    storage: &'a mut dyn Storage,
}

impl<'a> CwStore<'a> {
    /// Wraps the contract's storage.
    pub fn new(storage: &'a mut dyn Storage) -> Self {
        CwStore { storage }
    }
}

/// The contract's storage, read-only, for queries.
pub struct CwStoreRef<'a> {
    storage: &'a dyn Storage,
}

impl<'a> CwStoreRef<'a> {
    /// Wraps the contract's storage.
    pub fn new(storage: &'a dyn Storage) -> Self {
        CwStoreRef { storage }
    }
}

macro_rules! reads {
    () => {
        fn config(&self) -> Result<Option<Config>> {
            read(self.storage).config()
        }
        fn model(&self, id: &str) -> Result<Option<RegisteredModel>> {
            read(self.storage).model(id)
        }
        fn model_ids(&self) -> Result<Vec<String>> {
            read(self.storage).model_ids()
        }
        fn retirement(&self, id: &str) -> Result<Option<Retirement>> {
            read(self.storage).retirement(id)
        }
        fn next_seq(&self) -> Result<u64> {
            read(self.storage).next_seq()
        }
        fn attestation(&self, seq: u64) -> Result<Option<Attestation>> {
            read(self.storage).attestation(seq)
        }
        fn output_of(&self, model_id: &str, input_digest: &str) -> Result<Option<u64>> {
            read(self.storage).output_of(model_id, input_digest)
        }
        fn proof_seen(&self, proof_digest: &str) -> Result<Option<u64>> {
            read(self.storage).proof_seen(proof_digest)
        }
        fn attestations_of(
            &self,
            model_id: &str,
            start_after: Option<u64>,
            limit: usize,
        ) -> Result<Vec<Attestation>> {
            read(self.storage).attestations_of(model_id, start_after, limit)
        }
        fn params_upload(&self, k: u32) -> Result<Option<ParamsUpload>> {
            read(self.storage).params_upload(k)
        }
        fn params_uploads(&self) -> Result<Vec<ParamsUpload>> {
            read(self.storage).params_uploads()
        }
        fn params_chunk(&self, k: u32, index: u32) -> Result<Option<Vec<u8>>> {
            read(self.storage).params_chunk(k, index)
        }
        #[cfg(feature = "committed-weights")]
        fn weights(&self, model_id: &str, weights_id: &str) -> Result<Option<AcceptedWeights>> {
            read(self.storage).weights(model_id, weights_id)
        }
        #[cfg(feature = "committed-weights")]
        fn weights_of(
            &self,
            model_id: &str,
            start_after: Option<&str>,
            limit: usize,
        ) -> Result<Vec<AcceptedWeights>> {
            read(self.storage).weights_of(model_id, start_after, limit)
        }
    };
}

impl ContractStore for CwStore<'_> {
    reads!();

    fn set_config(&mut self, config: &Config) -> Result<()> {
        save(self.storage, CONFIG.as_bytes(), config)
    }
    fn put_model(&mut self, model: &RegisteredModel) -> Result<()> {
        save(
            self.storage,
            &map_key(MODELS, model.model_id.as_str()),
            model,
        )
    }
    fn put_retirement(&mut self, model_id: &str, retirement: &Retirement) -> Result<()> {
        save(self.storage, &map_key(RETIRED, model_id), retirement)
    }
    fn put_attestation(&mut self, a: &Attestation) -> Result<()> {
        if a.seq != self.next_seq()? {
            return Err(ContractError::Store(format!(
                "sequence {} out of order",
                a.seq
            )));
        }
        let model = a.model_id.as_str();
        save(self.storage, &map_key(ATTESTATIONS, a.seq), a)?;
        save(
            self.storage,
            &pair_key(BY_INPUT, model, &*a.input_index()),
            &a.seq,
        )?;
        save(
            self.storage,
            &map_key(BY_PROOF, a.proof_digest.as_str()),
            &a.seq,
        )?;
        save(self.storage, &pair_key(BY_MODEL, model, a.seq), &())?;
        save(self.storage, NEXT_SEQ.as_bytes(), &(a.seq + 1))
    }
    fn put_params_upload(&mut self, upload: &ParamsUpload) -> Result<()> {
        save(self.storage, &map_key(PARAMS, upload.k), upload)
    }
    fn put_params_chunk(&mut self, k: u32, index: u32, bytes: &[u8]) -> Result<()> {
        self.storage.set(&pair_key(PARAMS_CHUNKS, k, index), bytes);
        Ok(())
    }
    #[cfg(feature = "committed-weights")]
    fn put_weights(&mut self, model_id: &str, weights: &AcceptedWeights) -> Result<()> {
        save(
            self.storage,
            &pair_key(WEIGHTS, model_id, weights.weights_id.as_str()),
            weights,
        )
    }
}

impl ContractStore for CwStoreRef<'_> {
    reads!();

    fn set_config(&mut self, _: &Config) -> Result<()> {
        Err(ContractError::Store("queries cannot write".into()))
    }
    fn put_model(&mut self, _: &RegisteredModel) -> Result<()> {
        Err(ContractError::Store("queries cannot write".into()))
    }
    fn put_retirement(&mut self, _: &str, _: &Retirement) -> Result<()> {
        Err(ContractError::Store("queries cannot write".into()))
    }
    fn put_attestation(&mut self, _: &Attestation) -> Result<()> {
        Err(ContractError::Store("queries cannot write".into()))
    }
    fn put_params_upload(&mut self, _: &ParamsUpload) -> Result<()> {
        Err(ContractError::Store("queries cannot write".into()))
    }
    fn put_params_chunk(&mut self, _: u32, _: u32, _: &[u8]) -> Result<()> {
        Err(ContractError::Store("queries cannot write".into()))
    }
}
