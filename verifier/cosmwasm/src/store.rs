//! [`CwStore`]: `zkinfer_verifier::contract::ContractStore` on cw-storage-plus
//! maps in the contract's storage.

use cosmwasm_std::{Order, StdError, Storage};
use cw_storage_plus::{Bound, Item, Map};
use zkinfer_verifier::contract::{
    Attestation, Config, ContractError, ContractStore, ParamsUpload, RegisteredModel, Retirement,
};

const CONFIG: Item<Config> = Item::new("config");
const MODELS: Map<&str, RegisteredModel> = Map::new("models");
const NEXT_SEQ: Item<u64> = Item::new("next_seq");
const ATTESTATIONS: Map<u64, Attestation> = Map::new("attestations");
const BY_INPUT: Map<(&str, &str), u64> = Map::new("by_input");
const BY_PROOF: Map<&str, u64> = Map::new("by_proof");
const BY_MODEL: Map<(&str, u64), ()> = Map::new("by_model");
/// Retired models; a key of its own, so contracts instantiated before
/// retirement existed read as having none.
const RETIRED: Map<&str, Retirement> = Map::new("retired");
/// IPA parameters uploaded by the admin: their state per `k`, and their
/// chunks under `(k, index)`. Chunks are stored as raw bytes (the map only
/// derives their keys): JSON would triple a megabyte of points.
const PARAMS: Map<u32, ParamsUpload> = Map::new("params");
const PARAMS_CHUNKS: Map<(u32, u32), ()> = Map::new("params_chunks");

type Result<T> = std::result::Result<T, ContractError>;

fn store_err(e: StdError) -> ContractError {
    ContractError::Store(e.to_string())
}

/// Reads, shared by the mutable and the read-only store.
fn read<'a>(storage: &'a dyn Storage) -> Reader<'a> {
    Reader(storage)
}

struct Reader<'a>(&'a dyn Storage);

impl Reader<'_> {
    fn config(&self) -> Result<Option<Config>> {
        CONFIG.may_load(self.0).map_err(store_err)
    }
    fn model(&self, id: &str) -> Result<Option<RegisteredModel>> {
        MODELS.may_load(self.0, id).map_err(store_err)
    }
    fn model_ids(&self) -> Result<Vec<String>> {
        MODELS
            .keys(self.0, None, None, Order::Ascending)
            .collect::<std::result::Result<_, _>>()
            .map_err(store_err)
    }
    fn retirement(&self, id: &str) -> Result<Option<Retirement>> {
        RETIRED.may_load(self.0, id).map_err(store_err)
    }
    fn next_seq(&self) -> Result<u64> {
        Ok(NEXT_SEQ.may_load(self.0).map_err(store_err)?.unwrap_or(0))
    }
    fn attestation(&self, seq: u64) -> Result<Option<Attestation>> {
        ATTESTATIONS.may_load(self.0, seq).map_err(store_err)
    }
    fn output_of(&self, model_id: &str, input_digest: &str) -> Result<Option<u64>> {
        BY_INPUT
            .may_load(self.0, (model_id, input_digest))
            .map_err(store_err)
    }
    fn proof_seen(&self, proof_digest: &str) -> Result<Option<u64>> {
        BY_PROOF.may_load(self.0, proof_digest).map_err(store_err)
    }
    fn attestations_of(
        &self,
        model_id: &str,
        start_after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Attestation>> {
        let seqs: Vec<u64> = BY_MODEL
            .prefix(model_id)
            .keys(
                self.0,
                start_after.map(Bound::exclusive),
                None,
                Order::Ascending,
            )
            .take(limit)
            .collect::<std::result::Result<_, _>>()
            .map_err(store_err)?;
        seqs.into_iter()
            .map(|s| ATTESTATIONS.load(self.0, s).map_err(store_err))
            .collect()
    }
    fn params_upload(&self, k: u32) -> Result<Option<ParamsUpload>> {
        PARAMS.may_load(self.0, k).map_err(store_err)
    }
    fn params_uploads(&self) -> Result<Vec<ParamsUpload>> {
        PARAMS
            .range(self.0, None, None, Order::Ascending)
            .map(|r| r.map(|(_, u)| u))
            .collect::<std::result::Result<_, _>>()
            .map_err(store_err)
    }
    fn params_chunk(&self, k: u32, index: u32) -> Result<Option<Vec<u8>>> {
        Ok(self.0.get(&PARAMS_CHUNKS.key((k, index))))
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
    };
}

impl ContractStore for CwStore<'_> {
    reads!();

    fn set_config(&mut self, config: &Config) -> Result<()> {
        CONFIG.save(self.storage, config).map_err(store_err)
    }
    fn put_model(&mut self, model: &RegisteredModel) -> Result<()> {
        MODELS
            .save(self.storage, &model.model_id, model)
            .map_err(store_err)
    }
    fn put_retirement(&mut self, model_id: &str, retirement: &Retirement) -> Result<()> {
        RETIRED
            .save(self.storage, model_id, retirement)
            .map_err(store_err)
    }
    fn put_attestation(&mut self, a: &Attestation) -> Result<()> {
        if a.seq != self.next_seq()? {
            return Err(ContractError::Store(format!(
                "sequence {} out of order",
                a.seq
            )));
        }
        ATTESTATIONS
            .save(self.storage, a.seq, a)
            .map_err(store_err)?;
        BY_INPUT
            .save(self.storage, (&a.model_id, &a.input_digest), &a.seq)
            .map_err(store_err)?;
        BY_PROOF
            .save(self.storage, &a.proof_digest, &a.seq)
            .map_err(store_err)?;
        BY_MODEL
            .save(self.storage, (&a.model_id, a.seq), &())
            .map_err(store_err)?;
        NEXT_SEQ.save(self.storage, &(a.seq + 1)).map_err(store_err)
    }
    fn put_params_upload(&mut self, upload: &ParamsUpload) -> Result<()> {
        PARAMS
            .save(self.storage, upload.k, upload)
            .map_err(store_err)
    }
    fn put_params_chunk(&mut self, k: u32, index: u32, bytes: &[u8]) -> Result<()> {
        self.storage.set(&PARAMS_CHUNKS.key((k, index)), bytes);
        Ok(())
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
