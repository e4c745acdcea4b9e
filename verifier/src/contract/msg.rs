//! Messages, responses and the records the contract keeps.

use crate::bundle::ProofBundle;
use crate::key::VerifierKey;
use serde::{Deserialize, Serialize};
#[cfg(feature = "committed-weights")]
use zkinfer_circuits::WeightVisibility;
use zkinfer_circuits::{Profile, Visibility};
use zkinfer_quant::QuantizedModel;

/// The largest model description `register_model` accepts.
pub const MAX_MODEL_BYTES: usize = 512 * 1024;
/// The largest page of `attestations`.
pub const MAX_PAGE: u32 = 100;
/// The longest reason `retire_model` accepts, in bytes.
pub const MAX_REASON_LEN: usize = 256;
/// The most commitments a [`ModelKey`] may claim (a circuit has a few
/// dozen columns): bounds the points decoded before the circuit is built.
pub const MAX_KEY_COMMITMENTS: usize = 256;
/// The most parameter bytes one `upload_params` message carries.
pub const MAX_PARAMS_CHUNK: usize = 256 * 1024;

/// Sets the admin, who alone registers and retires models.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstantiateMsg {
    /// The admin's address.
    pub admin: String,
}

/// A model's public description and its verifying key's commitments: what
/// the contract needs to rebuild the key and check it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelKey {
    /// The quantized model's bytes, base64
    /// ([`zkinfer_quant::QuantizedModel::to_bytes`]: its canonical
    /// encoding, whose SHA-256 is the model digest, then its name and table
    /// parameters).
    pub model: String,
    /// Whether proofs carry the input.
    pub input_visibility: Visibility,
    /// The declared verifying key digest; the model id.
    pub vk_digest: String,
    /// How the weights enter the circuit (absent: fixed). With polycommit
    /// weights `model` is the architecture (every weight at its declared
    /// width's extreme, as `zkinfer export` writes it): the key serves
    /// every set of weights of it, and the weights a proof may use are
    /// the ones accepted with `accept_weights`.
    #[cfg(feature = "committed-weights")]
    #[serde(default, skip_serializing_if = "WeightVisibility::is_fixed")]
    pub weight_visibility: WeightVisibility,
    /// The declared k.
    pub k: u32,
    /// The circuit's layout profile (absent: compact, the profile of every
    /// key registered before profiles existed).
    #[serde(default, skip_serializing_if = "Profile::is_compact")]
    pub profile: Profile,
    /// The key's fixed and permutation commitments, base64
    /// ([`VerifierKey::commitments`]): `register_model` checks them against
    /// the model's circuit all at once instead of computing each. Required
    /// to register; absent from models stored before registrations carried
    /// them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitments: Option<String>,
}

impl ModelKey {
    /// The description of a key built by zkinfer: what `zkinfer export`
    /// writes to `verifier_key.json`.
    pub fn of(key: &VerifierKey) -> Self {
        ModelKey {
            model: crate::base64::encode(&key.circuit().model().to_bytes()),
            input_visibility: key.circuit().plan().input_visibility,
            vk_digest: key.vk_digest().to_string(),
            #[cfg(feature = "committed-weights")]
            weight_visibility: key.circuit().plan().weight_visibility,
            k: key.circuit().plan().k,
            profile: key.circuit().profile(),
            commitments: Some(crate::base64::encode(&key.commitments())),
        }
    }

    /// The model its bytes describe, validated.
    pub fn quantized(&self) -> Result<QuantizedModel, String> {
        let bytes = crate::base64::decode(&self.model)
            .ok_or("verifier_key.model is not canonical base64 (the model's bytes)")?;
        QuantizedModel::from_bytes(&bytes).map_err(|e| e.to_string())
    }
}

/// State-changing messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecuteMsg {
    /// Admin only: register a model.
    RegisterModel {
        /// A label.
        name: String,
        /// Its public description.
        verifier_key: ModelKey,
        /// With polycommit weights: who may accept and retire weights
        /// besides the admin (the model's owner; a valid address).
        #[cfg(feature = "committed-weights")]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner: Option<String>,
    },
    /// Verify a proof and record its output.
    SubmitInference {
        /// The model id (vk digest).
        model_id: String,
        /// The proof.
        proof_bundle: Box<ProofBundle>,
    },
    /// Admin only: retire a model whose key was found unsound. It stays
    /// registered and its attestations stay readable, marked retired; it
    /// takes no new proofs, and its key can never be registered again.
    RetireModel {
        /// The model id (vk digest).
        model_id: String,
        /// Why: 1 to [`MAX_REASON_LEN`] bytes, no control characters.
        reason: String,
    },
    /// Admin only: upload the IPA parameters for `k`, in chunks of at most
    /// [`MAX_PARAMS_CHUNK`] bytes, once per `k`. The last chunk completes
    /// them: the whole must match the SHA-256 pinned for `k`
    /// ([`crate::params`]), else it is refused. Verification then reads
    /// them from storage instead of deriving them (70 % of a submission's
    /// cost when derived).
    UploadParams {
        /// The circuit size they are for.
        k: u32,
        /// This chunk's index: the number of chunks uploaded so far, or 0
        /// to start over.
        chunk: u32,
        /// The chunk's bytes, base64.
        data: String,
        /// Whether this chunk completes the parameters.
        last: bool,
    },
    /// Admin or the model's owner: accept a set of weights of a polycommit
    /// model — its Pedersen commitment, what `zkinfer commit --polycommit`
    /// prints. Proofs whose weights open to it are then attested; a weight
    /// update is another `accept_weights`, under the same key.
    #[cfg(feature = "committed-weights")]
    AcceptWeights {
        /// The model id (vk digest).
        model_id: String,
        /// The commitment: one curve point per weight column, 64 hex digits
        /// each.
        model_commitment: String,
        /// A label: 1 to 128 bytes, no control characters.
        label: String,
    },
    /// Admin or the model's owner: retire a set of weights. Its proofs are
    /// refused from then on; its attestations stay readable, marked
    /// retired; it cannot be accepted again.
    #[cfg(feature = "committed-weights")]
    RetireWeights {
        /// The model id (vk digest).
        model_id: String,
        /// The weights' id ([`crate::contract::weights_id`]).
        weights_id: String,
        /// Why: 1 to [`MAX_REASON_LEN`] bytes, no control characters.
        reason: String,
    },
}

/// Read-only messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum QueryMsg {
    /// The admin.
    Config {},
    /// A registered model.
    Model {
        /// Its id.
        model_id: String,
    },
    /// Every registered model id, and whether it is retired.
    Models {},
    /// One attestation.
    Attestation {
        /// Its sequence number.
        seq: u64,
    },
    /// A model's attestations, oldest first.
    Attestations {
        /// The model id.
        model_id: String,
        /// Start after this sequence number.
        start_after: Option<u64>,
        /// At most this many (default 10, at most [`MAX_PAGE`]).
        limit: Option<u32>,
    },
    /// Which IPA parameters are stored, and uploads in progress.
    Params {},
    /// The verified output for an input: what a consumer contract reads.
    Output {
        /// The model id.
        model_id: String,
        /// [`crate::contract::input_digest`] of the input integers.
        input_digest: String,
        /// With polycommit weights: which weights ([`AcceptedWeights`]'s
        /// id); each set of weights has its own output for an input.
        #[cfg(feature = "committed-weights")]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weights_id: Option<String>,
    },
    /// A polycommit model's accepted weights (retired ones included),
    /// ordered by id.
    #[cfg(feature = "committed-weights")]
    Weights {
        /// The model id.
        model_id: String,
        /// Start after this weights id.
        start_after: Option<String>,
        /// At most this many (default 10, at most [`MAX_PAGE`]).
        limit: Option<u32>,
    },
}

/// The state of the IPA parameters for one `k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamsUpload {
    /// The circuit size.
    pub k: u32,
    /// Chunks stored.
    pub chunks: u32,
    /// Bytes stored.
    pub bytes: u64,
    /// Whether the chunks are complete and matched the pinned digest.
    pub complete: bool,
}

/// The contract's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Who registers and retires models.
    pub admin: String,
}

/// A registered model as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredModel {
    /// The model id (vk digest).
    pub model_id: String,
    /// A label.
    pub name: String,
    /// Its public description.
    pub key: ModelKey,
    /// The model digest.
    pub model_digest: String,
    /// With polycommit weights: who may accept and retire weights besides
    /// the admin.
    #[cfg(feature = "committed-weights")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The verifying key's commitments, base64, as states from before
    /// [`ModelKey::commitments`] kept them; `None` in newer states, whose
    /// key holds them. A model with neither has its key rebuilt in full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitments: Option<String>,
}

/// Why and when a model was retired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retirement {
    /// The admin's reason.
    pub reason: String,
    /// The contract's next sequence number when the model was retired: every
    /// attestation of the model has a lower one (the contract has no clock;
    /// this orders the retirement among the attestations).
    pub at_seq: u64,
}

/// A registered model, as queries describe it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The model id (vk digest).
    pub model_id: String,
    /// A label.
    pub name: String,
    /// The model digest.
    pub model_digest: String,
    /// The circuit's k.
    pub k: u32,
    /// Whether proofs carry the input.
    pub input_visibility: Visibility,
    /// How the weights enter the circuit (absent: fixed).
    #[cfg(feature = "committed-weights")]
    #[serde(default, skip_serializing_if = "WeightVisibility::is_fixed")]
    pub weight_visibility: WeightVisibility,
    /// With polycommit weights: who may accept and retire weights besides
    /// the admin.
    #[cfg(feature = "committed-weights")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Input shape.
    pub input_shape: Vec<usize>,
    /// Output shape.
    pub output_shape: Vec<usize>,
    /// Output scale.
    pub output_scale: i32,
    /// Gas [`crate::contract::verification_gas`] charges per proof.
    pub verification_gas: u64,
    /// Set once the model is retired: its attestations are not to be
    /// trusted.
    pub retired: Option<Retirement>,
}

/// One entry of `models`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSummary {
    /// The model id (vk digest).
    pub model_id: String,
    /// Set once the model is retired.
    pub retired: Option<Retirement>,
}

/// A verified inference, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// Sequence number, from 0.
    pub seq: u64,
    /// The model id.
    pub model_id: String,
    /// SHA-256 of the public input integers; for private inputs, of the proof.
    pub input_digest: String,
    /// SHA-256 of the proof bytes.
    pub proof_digest: String,
    /// With polycommit weights: the id of the accepted weights the proof
    /// opened to.
    #[cfg(feature = "committed-weights")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_id: Option<String>,
    /// The output integers.
    pub output: Vec<i64>,
    /// The output scale.
    pub output_scale: i32,
    /// Argmax of the output.
    pub class: usize,
    /// Who submitted it.
    pub submitter: String,
}

/// An attestation, as the contract returns it (from queries and from
/// `submit_inference`): the record and whether its model was retired since.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestationInfo {
    /// The record; its fields appear at the top level in JSON.
    #[serde(flatten)]
    pub attestation: Attestation,
    /// Set when the model was retired: the admin found its key unsound, so
    /// this output was proven under a circuit that may accept false ones.
    pub model_retired: Option<Retirement>,
    /// Set when the weights the proof used were retired since (superseded
    /// or withdrawn by the admin or the model's owner).
    #[cfg(feature = "committed-weights")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_retired: Option<Retirement>,
}

impl Attestation {
    /// What the output-by-input index keys this attestation under, beside
    /// its model id: its input digest, prefixed with its weights' id for
    /// polycommit weights.
    #[cfg(feature = "committed-weights")]
    pub fn input_index(&self) -> std::borrow::Cow<'_, str> {
        input_index(&self.input_digest, self.weights_id.as_deref())
    }

    /// What the output-by-input index keys this attestation under, beside
    /// its model id: its input digest.
    #[cfg(not(feature = "committed-weights"))]
    pub fn input_index(&self) -> &str {
        &self.input_digest
    }
}

/// What the output-by-input index keys an input under, beside the model
/// id: the input digest, prefixed with the weights' id for polycommit
/// weights (each set of weights has its own output).
#[cfg(feature = "committed-weights")]
pub fn input_index<'a>(
    input_digest: &'a str,
    weights_id: Option<&str>,
) -> std::borrow::Cow<'a, str> {
    match weights_id {
        Some(id) => format!("{id}/{input_digest}").into(),
        None => input_digest.into(),
    }
}

/// A set of weights accepted for a polycommit model.
#[cfg(feature = "committed-weights")]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedWeights {
    /// Its id: [`crate::contract::weights_id`] of the commitment.
    pub weights_id: String,
    /// The commitment, lowercase hex (one point per weight column).
    pub model_commitment: String,
    /// The label it was accepted with.
    pub label: String,
    /// The contract's next sequence number when it was accepted: its
    /// attestations have this one or a higher one.
    pub accepted_at_seq: u64,
    /// Set once retired.
    pub retired: Option<Retirement>,
}

/// An event, as chains log them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// `zkinfer_instantiate`, `zkinfer_register`, `zkinfer_attest`,
    /// `zkinfer_retire`, `zkinfer_params`, `zkinfer_accept_weights` or
    /// `zkinfer_retire_weights`.
    pub kind: String,
    /// Key-value attributes.
    pub attributes: Vec<(String, String)>,
}

/// What a handled message returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// Events emitted.
    pub events: Vec<Event>,
    /// The attestation recorded, if any.
    pub attestation: Option<AttestationInfo>,
    /// The deterministic gas estimate of the work done.
    pub gas: u64,
}

/// What a query returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryResponse {
    /// For `config`.
    Config(Config),
    /// For `model`.
    Model(ModelInfo),
    /// For `models`.
    Models(Vec<ModelSummary>),
    /// For `attestation` and `output`.
    Attestation(AttestationInfo),
    /// For `attestations`.
    Attestations(Vec<AttestationInfo>),
    /// For `params`: every `k` with parameters stored or being uploaded.
    Params(Vec<ParamsUpload>),
    /// For `weights`.
    #[cfg(feature = "committed-weights")]
    Weights(Vec<AcceptedWeights>),
}
