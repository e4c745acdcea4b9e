//! The handlers: validate everything, then write.

use crate::bundle::ProofBundle;
use crate::contract::error::ContractError;
use crate::contract::gas::SCHEDULE;
use crate::contract::msg::*;
use crate::contract::store::ContractStore;
use crate::key::{IpaParams, VerifierKey};
use crate::verify::verify;
use sha2::{Digest, Sha256};
use std::sync::Arc;
#[cfg(feature = "commitments")]
use zkinfer_circuits::Visibility;
use zkinfer_circuits::{CircuitPlan, ModelCircuit};
use zkinfer_quant::QuantizedModel;

type Result<T> = std::result::Result<T, ContractError>;

/// The largest k the contract rebuilds keys for (bounds a registration's
/// cost).
pub const MAX_CONTRACT_K: u32 = 16;
/// The longest model name.
pub const MAX_NAME_LEN: usize = 128;

/// Verifier keys rebuilt once per model per process, and the IPA
/// parameters they need, per k: read from the contract's storage (uploaded
/// once and checked against the pinned digest), or — natively, when the
/// storage has none — from a checked disk cache ([`KeyCache::with_params`]).
/// A contract never derives parameters itself: that was 70 % of a
/// submission's cost.
///
/// A process meets one or two models and one `k`: the caches are short
/// lists (a hash map's code costs the wasm module kilobytes).
#[derive(Default)]
pub struct KeyCache {
    keys: Vec<(String, Arc<VerifierKey>)>,
    params: Vec<(u32, IpaParams)>,
    native: Option<Native>,
}

/// What only a native cache does: derive parameters, and rebuild in full
/// the keys of models registered before registrations kept commitments.
/// Function values, so that a contract, which never makes a native cache,
/// carries neither in its module.
struct Native {
    derive: Box<dyn Fn(u32) -> IpaParams + Send + Sync>,
    rebuild: fn(ModelCircuit, IpaParams) -> crate::Result<VerifierKey>,
}

impl KeyCache {
    /// A cache that obtains parameters the storage lacks from `derive`
    /// (for example, a checked disk cache); they must be `Params::new(k)`'s.
    /// It also rebuilds in full the keys of models stored without their
    /// commitments (states written before registrations kept them).
    pub fn with_params(derive: impl Fn(u32) -> IpaParams + Send + Sync + 'static) -> Self {
        KeyCache {
            native: Some(Native {
                derive: Box::new(derive),
                rebuild: VerifierKey::for_circuit,
            }),
            ..KeyCache::default()
        }
    }

    fn params(&mut self, store: &dyn ContractStore, k: u32) -> Result<IpaParams> {
        if let Some((_, params)) = self.params.iter().find(|(at, _)| *at == k) {
            return Ok(params.clone());
        }
        let params = match store.params_upload(k)? {
            Some(upload) if upload.complete => stored_params(store, upload)?,
            _ => match &self.native {
                Some(native) => (native.derive)(k),
                None => return Err(ContractError::NoParams(k)),
            },
        };
        self.params.push((k, params.clone()));
        Ok(params)
    }

    /// The key of a registered model, rebuilt on first use.
    fn key(
        &mut self,
        store: &dyn ContractStore,
        model: &RegisteredModel,
    ) -> Result<Arc<VerifierKey>> {
        if let Some((_, key)) = self.keys.iter().find(|(id, _)| *id == model.model_id) {
            return Ok(key.clone());
        }
        let parsed = model.key.quantized().map_err(ContractError::Store)?;
        // The stored k picks the parameters to load: check it against the
        // circuit first, so a corrupted state cannot ask for 2^40 rows.
        let circuit =
            plan_of(&model.key, parsed).map_err(|e| ContractError::Store(e.to_string()))?;
        let k = circuit.plan().k;
        if k != model.key.k {
            return Err(ContractError::Store(format!(
                "model {}: the stored k = {} is not its circuit's k = {k}",
                model.model_id, model.key.k
            )));
        }
        let key = match model
            .key
            .commitments
            .as_ref()
            .or(model.commitments.as_ref())
        {
            Some(text) => {
                let bytes = crate::base64::decode(text).ok_or_else(|| {
                    ContractError::Store(format!("{}: commitments are not base64", model.model_id))
                })?;
                let params = self.params(store, k)?;
                VerifierKey::from_commitments(circuit, params, &bytes, &model.model_id)
                    .map_err(|e| ContractError::Store(e.to_string()))?
            }
            None => {
                let params = self.params(store, k)?;
                let rebuild = self.native.as_ref().map(|n| n.rebuild).ok_or_else(|| {
                    ContractError::Store(format!(
                        "model {} was stored without its key's commitments (registered by \
                         an older zkinfer); this contract verifies only keys it can rebuild \
                         from them",
                        model.model_id
                    ))
                })?;
                rebuild(circuit, params).map_err(|e| ContractError::Store(e.to_string()))?
            }
        };
        let key = Arc::new(key);
        self.keys.push((model.model_id.clone(), key.clone()));
        Ok(key)
    }
}

/// The chunks of an upload, concatenated.
fn uploaded_bytes(store: &dyn ContractStore, k: u32, chunks: u32) -> Result<Vec<u8>> {
    let mut bytes = vec![];
    for index in 0..chunks {
        let chunk = store.params_chunk(k, index)?.ok_or_else(|| {
            ContractError::Store(format!("parameter chunk {index} of k = {k} is missing"))
        })?;
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The chunk index under which a completed upload keeps its parameters
/// uncompressed ([`IpaParams::write_uncompressed`]). Uploaded chunks count
/// from 0 and stay far below it (an upload holds at most 2^(k+6) + 1024
/// bytes).
pub const DECODED_PARAMS: u32 = u32::MAX;

/// Parameters completed by an upload: their digest was checked then; here
/// they are only decoded — from the uncompressed copy the upload kept (no
/// square roots), or from the uploaded chunks in a state from before it.
fn stored_params(store: &dyn ContractStore, upload: ParamsUpload) -> Result<IpaParams> {
    let decoded = store.params_chunk(upload.k, DECODED_PARAMS)?;
    let params = match decoded {
        Some(bytes) => IpaParams::read_uncompressed(&mut &bytes[..]),
        None => IpaParams::read(&mut &uploaded_bytes(store, upload.k, upload.chunks)?[..]),
    }
    .map_err(|e| ContractError::Store(format!("stored parameters for k = {}: {e}", upload.k)))?;
    if params.k() != upload.k {
        return Err(ContractError::Store(format!(
            "stored parameters for k = {} are for k = {}",
            upload.k,
            params.k()
        )));
    }
    Ok(params)
}

/// SHA-256 of the public input integers: the domain tag
/// `zkinfer/input@1\0`, then each integer as 8 little-endian bytes. Hex.
pub fn input_digest(values: &[i64]) -> String {
    let mut h = Sha256::new();
    h.update(b"zkinfer/input@1\0");
    for v in values {
        h.update(v.to_le_bytes());
    }
    hex(&h.finalize())
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn admin_of(store: &dyn ContractStore) -> Result<Config> {
    store.config()?.ok_or(ContractError::NotInstantiated)
}

/// Sets the admin.
pub fn instantiate(store: &mut dyn ContractStore, msg: InstantiateMsg) -> Result<Response> {
    if store.config()?.is_some() {
        return Err(ContractError::AlreadyInstantiated);
    }
    if msg.admin.is_empty() || msg.admin.len() > MAX_NAME_LEN {
        return Err(ContractError::InvalidMessage(
            "admin must be 1 to 128 bytes".into(),
        ));
    }
    store.set_config(&Config {
        admin: msg.admin.clone(),
    })?;
    Ok(Response {
        events: vec![Event {
            kind: "zkinfer_instantiate".into(),
            attributes: vec![("admin".into(), msg.admin)],
        }],
        attestation: None,
        gas: 0,
    })
}

/// Parses and handles an execute message.
pub fn execute_json(
    store: &mut dyn ContractStore,
    cache: &mut KeyCache,
    sender: &str,
    msg: &[u8],
) -> Result<Response> {
    let msg: ExecuteMsg =
        serde_json::from_slice(msg).map_err(|e| ContractError::InvalidMessage(e.to_string()))?;
    execute(store, cache, sender, msg)
}

/// Handles an execute message.
pub fn execute(
    store: &mut dyn ContractStore,
    cache: &mut KeyCache,
    sender: &str,
    msg: ExecuteMsg,
) -> Result<Response> {
    match msg {
        ExecuteMsg::RegisterModel {
            name,
            verifier_key,
            #[cfg(feature = "committed-weights")]
            owner,
        } => {
            #[cfg(feature = "committed-weights")]
            check_owner(&verifier_key, owner.as_deref())?;
            register_model(
                store,
                cache,
                sender,
                name,
                verifier_key,
                #[cfg(feature = "committed-weights")]
                owner,
            )
        }
        ExecuteMsg::SubmitInference {
            model_id,
            proof_bundle,
        } => submit_inference(store, cache, sender, &model_id, &proof_bundle),
        ExecuteMsg::RetireModel { model_id, reason } => {
            retire_model(store, sender, model_id, reason)
        }
        ExecuteMsg::UploadParams {
            k,
            chunk,
            data,
            last,
        } => upload_params(store, sender, k, chunk, &data, last),
        #[cfg(feature = "committed-weights")]
        ExecuteMsg::AcceptWeights {
            model_id,
            model_commitment,
            label,
        } => super::weights::accept(store, sender, model_id, &model_commitment, label),
        #[cfg(feature = "committed-weights")]
        ExecuteMsg::RetireWeights {
            model_id,
            weights_id,
            reason,
        } => super::weights::retire(store, sender, model_id, weights_id, reason),
    }
}

/// A registration's owner: only polycommit models have one (it manages
/// their weights), 1 to [`MAX_NAME_LEN`] bytes.
#[cfg(feature = "committed-weights")]
fn check_owner(key: &ModelKey, owner: Option<&str>) -> Result<()> {
    match owner {
        Some(_) if key.weight_visibility != zkinfer_circuits::WeightVisibility::Polycommit => {
            Err(ContractError::InvalidMessage(format!(
                "owner: a model with {} weights has no owner (only polycommit models' weights \
                 are managed)",
                key.weight_visibility.name()
            )))
        }
        Some(owner) => check_text("owner", owner, MAX_NAME_LEN),
        None => Ok(()),
    }
}

/// A registration's weights: fixed, or polycommit with the model's
/// architecture — never its weights, which the owner registered to keep
/// private — in the message. Hashed (`committed`) weights are proven
/// against a Poseidon commitment the contract does not manage.
#[cfg(feature = "committed-weights")]
fn check_weights(key: &ModelKey, model: &QuantizedModel) -> Result<()> {
    match key.weight_visibility {
        zkinfer_circuits::WeightVisibility::Fixed => Ok(()),
        zkinfer_circuits::WeightVisibility::Committed => Err(ContractError::InvalidKey(
            "hashed (committed) weights are not verified by the contract; export the model \
             with polycommit weights"
                .into(),
        )),
        zkinfer_circuits::WeightVisibility::Polycommit => {
            let architecture = zkinfer_circuits::weights::architecture(model)
                .map_err(|e| ContractError::InvalidKey(e.to_string()))?;
            if architecture != *model {
                return Err(ContractError::InvalidKey(
                    "a polycommit registration carries the model's architecture (every weight \
                     at its width's extreme, as zkinfer export writes verifier_key.json), not \
                     its weights: registering them would publish them"
                        .into(),
                ));
            }
            Ok(())
        }
    }
}

/// The circuit a registered key describes (no witness).
pub(super) fn plan_of(key: &ModelKey, model: QuantizedModel) -> crate::Result<ModelCircuit> {
    #[cfg(feature = "committed-weights")]
    return VerifierKey::plan_circuit_with(
        model,
        key.input_visibility,
        key.weight_visibility,
        key.profile,
    );
    #[cfg(not(feature = "committed-weights"))]
    VerifierKey::plan_circuit(model, key.input_visibility, key.profile)
}

fn upload_params(
    store: &mut dyn ContractStore,
    sender: &str,
    k: u32,
    chunk: u32,
    data: &str,
    last: bool,
) -> Result<Response> {
    let config = admin_of(store)?;
    if sender != config.admin {
        return Err(ContractError::Unauthorized {
            sender: sender.into(),
        });
    }
    if !(1..=MAX_CONTRACT_K).contains(&k) {
        return Err(ContractError::InvalidMessage(format!(
            "k = {k}: this contract verifies circuits of k = 1 to {MAX_CONTRACT_K}"
        )));
    }
    let bytes = crate::base64::decode(data)
        .ok_or_else(|| ContractError::InvalidMessage("data is not canonical base64".into()))?;
    if bytes.is_empty() || bytes.len() > MAX_PARAMS_CHUNK {
        return Err(ContractError::InvalidMessage(format!(
            "a chunk holds 1 to {MAX_PARAMS_CHUNK} bytes, not {}",
            bytes.len()
        )));
    }
    let (chunks, so_far) = match store.params_upload(k)? {
        Some(upload) if upload.complete => return Err(ContractError::ParamsAlreadyStored(k)),
        _ if chunk == 0 => (0, 0),
        Some(upload) if upload.chunks == chunk => (upload.chunks, upload.bytes),
        upload => {
            return Err(ContractError::InvalidMessage(format!(
                "chunk {chunk} of k = {k}: the next chunk is {} (or 0 to start over)",
                upload.map_or(0, |u| u.chunks)
            )))
        }
    };
    // Parameters for k hold 2^(k+1) points of 32 bytes and a short header:
    // an upload cannot grow past that.
    let total = so_far + bytes.len() as u64;
    if total > (64u64 << k) + 1024 {
        return Err(ContractError::InvalidMessage(format!(
            "{total} bytes is more than the parameters for k = {k} hold"
        )));
    }
    if last {
        let mut whole = uploaded_bytes(store, k, chunks)?;
        whole.extend_from_slice(&bytes);
        let params = crate::params::read_params(k, &whole)?;
        // Checked once; kept with every point uncompressed, so that no
        // submission pays for the square roots of decompressing them.
        let mut decoded = vec![];
        params
            .write_uncompressed(&mut decoded)
            .map_err(|e| ContractError::Store(format!("parameters for k = {k}: {e}")))?;
        store.put_params_chunk(k, DECODED_PARAMS, &decoded)?;
    }
    store.put_params_chunk(k, chunks, &bytes)?;
    let upload = ParamsUpload {
        k,
        chunks: chunks + 1,
        bytes: total,
        complete: last,
    };
    store.put_params_upload(&upload)?;
    Ok(Response {
        events: vec![Event {
            kind: "zkinfer_params".into(),
            attributes: vec![
                ("k".into(), k.to_string()),
                ("chunk".into(), chunk.to_string()),
                ("bytes".into(), total.to_string()),
                ("complete".into(), last.to_string()),
            ],
        }],
        attestation: None,
        gas: 0,
    })
}

fn register_model(
    store: &mut dyn ContractStore,
    cache: &mut KeyCache,
    sender: &str,
    name: String,
    key: ModelKey,
    #[cfg(feature = "committed-weights")] owner: Option<String>,
) -> Result<Response> {
    let config = admin_of(store)?;
    if sender != config.admin {
        return Err(ContractError::Unauthorized {
            sender: sender.into(),
        });
    }
    if key.model.len() > MAX_MODEL_BYTES {
        return Err(ContractError::OversizeKey {
            bytes: key.model.len(),
            max: MAX_MODEL_BYTES,
        });
    }
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(ContractError::InvalidMessage(
            "name must be 1 to 128 bytes".into(),
        ));
    }
    if store.model(&key.vk_digest)?.is_some() {
        return Err(match store.retirement(&key.vk_digest)? {
            Some(retired) => ContractError::DuplicateRetiredModel {
                model_id: key.vk_digest,
                reason: retired.reason,
            },
            None => ContractError::DuplicateModel(key.vk_digest),
        });
    }
    // Its attestations would record a commitment, not an input: the
    // contract's records and queries are not built for that yet. (The wasm
    // build, without commitments, refuses it when planning the circuit.)
    #[cfg(feature = "commitments")]
    if key.input_visibility == Visibility::Committed {
        return Err(ContractError::InvalidKey(
            "committed inputs are not verified by the contract yet; register the model with a \
             public or private input"
                .into(),
        ));
    }
    let model = key.quantized().map_err(ContractError::InvalidKey)?;
    #[cfg(feature = "committed-weights")]
    check_weights(&key, &model)?;
    let model_digest = model.digest().to_hex();
    let circuit = plan_of(&key, model).map_err(|e| ContractError::InvalidKey(e.to_string()))?;
    let plan = circuit.plan().clone();
    if plan.k > MAX_CONTRACT_K {
        return Err(ContractError::InvalidKey(format!(
            "the circuit needs k = {}; this contract verifies up to k = {MAX_CONTRACT_K}",
            plan.k
        )));
    }
    // Check the cheap part of the declaration before the expensive rebuild.
    let mismatch = |rebuilt: String| ContractError::KeyMismatch {
        declared: key.vk_digest.clone(),
        rebuilt,
        declared_k: key.k,
        rebuilt_k: plan.k,
    };
    if key.k != plan.k {
        return Err(mismatch("(not rebuilt)".into()));
    }
    let commitments = key.commitments.as_deref().ok_or_else(|| {
        ContractError::InvalidMessage(
            "verifier_key.commitments is missing: zkinfer export writes it to \
             verifier_key.json"
                .into(),
        )
    })?;
    let commitments = crate::base64::decode(commitments).ok_or_else(|| {
        ContractError::InvalidMessage("verifier_key.commitments is not canonical base64".into())
    })?;
    if commitments.len() > 8 + 32 * MAX_KEY_COMMITMENTS {
        return Err(ContractError::InvalidMessage(format!(
            "verifier_key.commitments holds more than {MAX_KEY_COMMITMENTS} points"
        )));
    }
    let params = cache.params(store, plan.k)?;
    let rebuilt = VerifierKey::from_checked_commitments(circuit, params, &commitments)
        .map_err(|e| ContractError::InvalidKey(e.to_string()))?;
    if rebuilt.vk_digest() != key.vk_digest {
        return Err(mismatch(rebuilt.vk_digest().to_string()));
    }
    let registered = RegisteredModel {
        model_id: key.vk_digest.clone(),
        name: name.clone(),
        key,
        model_digest: model_digest.clone(),
        #[cfg(feature = "committed-weights")]
        owner,
        commitments: None,
    };
    store.put_model(&registered)?;
    cache
        .keys
        .push((registered.model_id.clone(), Arc::new(rebuilt)));
    Ok(Response {
        events: vec![Event {
            kind: "zkinfer_register".into(),
            attributes: vec![
                ("model_id".into(), registered.model_id),
                ("name".into(), name),
                ("model_digest".into(), model_digest),
                ("k".into(), plan.k.to_string()),
            ],
        }],
        attestation: None,
        gas: SCHEDULE.registration(&plan),
    })
}

fn submit_inference(
    store: &mut dyn ContractStore,
    cache: &mut KeyCache,
    sender: &str,
    model_id: &str,
    bundle: &ProofBundle,
) -> Result<Response> {
    admin_of(store)?;
    if sender.is_empty() || sender.len() > MAX_NAME_LEN {
        return Err(ContractError::InvalidMessage(
            "sender must be 1 to 128 bytes".into(),
        ));
    }
    let model = store
        .model(model_id)?
        .ok_or_else(|| ContractError::UnknownModel(model_id.to_string()))?;
    if let Some(retired) = store.retirement(model_id)? {
        return Err(ContractError::ModelRetired {
            model_id: model_id.to_string(),
            reason: retired.reason,
        });
    }
    if bundle.vk_digest != model.model_id || bundle.model_digest != model.model_digest {
        return Err(ContractError::WrongModel {
            expected: model.model_id.clone(),
            found: bundle.vk_digest.clone(),
        });
    }
    let proof = bundle.proof_bytes()?;
    let proof_digest = hex(&Sha256::digest(&proof));
    if let Some(seq) = store.proof_seen(&proof_digest)? {
        return Err(ContractError::Replay {
            rule: "same proof",
            seq,
        });
    }
    let input_digest = match &bundle.input {
        Some(input) => input_digest(&input.values),
        None => proof_digest.clone(),
    };
    #[cfg(feature = "committed-weights")]
    let weights_id = super::weights::submitted(store, &model, bundle)?;
    #[cfg(feature = "committed-weights")]
    let index = super::msg::input_index(&input_digest, weights_id.as_deref());
    #[cfg(not(feature = "committed-weights"))]
    let index = &input_digest;
    if let Some(seq) = store.output_of(model_id, &index)? {
        return Err(ContractError::Replay {
            rule: "same model and input",
            seq,
        });
    }
    let key = cache.key(store, &model)?;
    let claim = verify(&key, bundle)?;
    let attestation = Attestation {
        seq: store.next_seq()?,
        model_id: model_id.to_string(),
        input_digest,
        proof_digest,
        #[cfg(feature = "committed-weights")]
        weights_id,
        output: claim.output,
        output_scale: claim.output_scale,
        class: claim.class,
        submitter: sender.to_string(),
    };
    store.put_attestation(&attestation)?;
    #[allow(unused_mut)]
    let mut attributes = vec![
        ("model_id".into(), attestation.model_id.clone()),
        ("seq".into(), attestation.seq.to_string()),
        ("input_digest".into(), attestation.input_digest.clone()),
        ("class".into(), attestation.class.to_string()),
        ("submitter".into(), attestation.submitter.clone()),
    ];
    #[cfg(feature = "committed-weights")]
    if let Some(id) = &attestation.weights_id {
        attributes.push(("weights_id".into(), id.clone()));
    }
    Ok(Response {
        events: vec![Event {
            kind: "zkinfer_attest".into(),
            attributes,
        }],
        gas: SCHEDULE.verification(key.circuit().plan()),
        attestation: Some(AttestationInfo {
            attestation,
            model_retired: None,
            #[cfg(feature = "committed-weights")]
            weights_retired: None,
        }),
    })
}

/// Text a person reads in an event or a query (a reason, a label): so
/// printable and short.
pub(super) fn check_text(what: &str, text: &str, max: usize) -> Result<()> {
    if text.trim().is_empty() || text.len() > max {
        return Err(ContractError::InvalidMessage(format!(
            "{what} must be 1 to {max} bytes, not only spaces"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(ContractError::InvalidMessage(format!(
            "{what} must not contain control characters"
        )));
    }
    Ok(())
}

fn retire_model(
    store: &mut dyn ContractStore,
    sender: &str,
    model_id: String,
    reason: String,
) -> Result<Response> {
    let config = admin_of(store)?;
    if sender != config.admin {
        return Err(ContractError::Unauthorized {
            sender: sender.into(),
        });
    }
    check_text("reason", &reason, MAX_REASON_LEN)?;
    if store.model(&model_id)?.is_none() {
        return Err(ContractError::UnknownModel(model_id));
    }
    if let Some(retired) = store.retirement(&model_id)? {
        return Err(ContractError::AlreadyRetired {
            model_id,
            reason: retired.reason,
        });
    }
    let retirement = Retirement {
        reason: reason.clone(),
        at_seq: store.next_seq()?,
    };
    store.put_retirement(&model_id, &retirement)?;
    Ok(Response {
        events: vec![Event {
            kind: "zkinfer_retire".into(),
            attributes: vec![("model_id".into(), model_id), ("reason".into(), reason)],
        }],
        attestation: None,
        // Like `instantiate`: a few small writes, nothing the schedule
        // (verification and key rebuilds) measures.
        gas: 0,
    })
}

/// An attestation as queries return it: with its model's retirement.
fn attestation_info(
    store: &dyn ContractStore,
    attestation: Attestation,
) -> Result<AttestationInfo> {
    Ok(AttestationInfo {
        model_retired: store.retirement(&attestation.model_id)?,
        #[cfg(feature = "committed-weights")]
        weights_retired: super::weights::retirement(
            store,
            &attestation.model_id,
            attestation.weights_id.as_deref(),
        )?,
        attestation,
    })
}

/// Parses and answers a query.
pub fn query_json(store: &dyn ContractStore, msg: &[u8]) -> Result<QueryResponse> {
    let msg: QueryMsg =
        serde_json::from_slice(msg).map_err(|e| ContractError::InvalidMessage(e.to_string()))?;
    query(store, msg)
}

/// Answers a query.
pub fn query(store: &dyn ContractStore, msg: QueryMsg) -> Result<QueryResponse> {
    match msg {
        QueryMsg::Config {} => Ok(QueryResponse::Config(admin_of(store)?)),
        QueryMsg::Model { model_id } => {
            let m = store
                .model(&model_id)?
                .ok_or(ContractError::UnknownModel(model_id))?;
            let retired = store.retirement(&m.model_id)?;
            let parsed = m.key.quantized().map_err(ContractError::Store)?;
            #[cfg(feature = "committed-weights")]
            let plan = CircuitPlan::with_options(
                &parsed,
                m.key.input_visibility,
                m.key.weight_visibility,
                m.key.profile,
            )
            .map(|(plan, _)| plan);
            #[cfg(not(feature = "committed-weights"))]
            let plan = CircuitPlan::for_profile(&parsed, m.key.input_visibility, m.key.profile);
            let plan = plan.map_err(|e| ContractError::Store(e.to_string()))?;
            Ok(QueryResponse::Model(ModelInfo {
                model_id: m.model_id,
                name: m.name,
                model_digest: m.model_digest,
                k: m.key.k,
                input_visibility: m.key.input_visibility,
                #[cfg(feature = "committed-weights")]
                weight_visibility: m.key.weight_visibility,
                #[cfg(feature = "committed-weights")]
                owner: m.owner,
                input_shape: parsed.input().shape.0.clone(),
                output_shape: parsed.output().shape.0.clone(),
                output_scale: parsed.output().scale.0,
                verification_gas: SCHEDULE.verification(&plan),
                retired,
            }))
        }
        QueryMsg::Models {} => Ok(QueryResponse::Models(
            store
                .model_ids()?
                .into_iter()
                .map(|model_id| {
                    Ok(ModelSummary {
                        retired: store.retirement(&model_id)?,
                        model_id,
                    })
                })
                .collect::<Result<_>>()?,
        )),
        QueryMsg::Attestation { seq } => {
            let a = store
                .attestation(seq)?
                .ok_or_else(|| ContractError::NotFound(format!("attestation {seq}")))?;
            Ok(QueryResponse::Attestation(attestation_info(store, a)?))
        }
        QueryMsg::Attestations {
            model_id,
            start_after,
            limit,
        } => {
            if store.model(&model_id)?.is_none() {
                return Err(ContractError::UnknownModel(model_id));
            }
            let limit = limit.unwrap_or(10).min(MAX_PAGE) as usize;
            let retired = store.retirement(&model_id)?;
            #[allow(unused_mut)]
            let mut page: Vec<AttestationInfo> = store
                .attestations_of(&model_id, start_after, limit)?
                .into_iter()
                .map(|attestation| AttestationInfo {
                    attestation,
                    model_retired: retired.clone(),
                    #[cfg(feature = "committed-weights")]
                    weights_retired: None,
                })
                .collect();
            #[cfg(feature = "committed-weights")]
            for info in &mut page {
                let weights = info.attestation.weights_id.as_deref();
                info.weights_retired = super::weights::retirement(store, &model_id, weights)?;
            }
            Ok(QueryResponse::Attestations(page))
        }
        QueryMsg::Params {} => Ok(QueryResponse::Params(store.params_uploads()?)),
        QueryMsg::Output {
            model_id,
            input_digest,
            #[cfg(feature = "committed-weights")]
            weights_id,
        } => {
            #[cfg(feature = "committed-weights")]
            let index = super::msg::input_index(&input_digest, weights_id.as_deref());
            #[cfg(not(feature = "committed-weights"))]
            let index = &input_digest;
            let seq = store.output_of(&model_id, &index)?.ok_or_else(|| {
                ContractError::NotFound(format!("no output of {model_id} for input {input_digest}"))
            })?;
            let a = store.attestation(seq)?.ok_or_else(|| {
                ContractError::Store(format!("attestation {seq} is indexed but missing"))
            })?;
            Ok(QueryResponse::Attestation(attestation_info(store, a)?))
        }
        #[cfg(feature = "committed-weights")]
        QueryMsg::Weights {
            model_id,
            start_after,
            limit,
        } => Ok(QueryResponse::Weights(super::weights::list(
            store,
            model_id,
            start_after,
            limit,
        )?)),
    }
}
