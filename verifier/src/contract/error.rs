//! Contract errors: each refusal has its own variant.

use crate::error::VerifyError;
use thiserror::Error;

/// Why a message was refused. The store is unchanged whenever a handler
/// returns one.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ContractError {
    /// The message is not valid JSON of a known message, or misses fields.
    #[error("invalid message: {0}")]
    InvalidMessage(String),
    /// The contract was already instantiated.
    #[error("already instantiated")]
    AlreadyInstantiated,
    /// The contract was not instantiated.
    #[error("not instantiated")]
    NotInstantiated,
    /// Only the admin (for weights: or the model's owner) may do this.
    #[error("unauthorized: {sender} is not the admin")]
    Unauthorized {
        /// Who sent it.
        sender: String,
    },
    /// The contract has no IPA parameters for this `k` yet.
    #[error(
        "no IPA parameters for k = {0} in the contract: the admin uploads them with upload_params"
    )]
    NoParams(u32),
    /// The parameters for this `k` are stored already.
    #[error("the IPA parameters for k = {0} are stored already")]
    ParamsAlreadyStored(u32),
    /// The uploaded parameters are not the pinned `Params::new(k)`.
    #[error("the uploaded IPA parameters are refused: {0}")]
    ParamsRefused(#[from] crate::params::ParamsError),
    /// No model has this id.
    #[error("unknown model {0}")]
    UnknownModel(String),
    /// A model with this id is registered already.
    #[error("model {0} is already registered")]
    DuplicateModel(String),
    /// A model with this id is registered already, and was retired: its key
    /// was found unsound, so it cannot come back.
    #[error("model {model_id} is already registered, and was retired ({reason}): a retired key cannot be registered again")]
    DuplicateRetiredModel {
        /// The model id.
        model_id: String,
        /// Why it was retired.
        reason: String,
    },
    /// The model was retired: it takes no new proofs.
    #[error("model {model_id} was retired ({reason}): it takes no new proofs")]
    ModelRetired {
        /// The model id.
        model_id: String,
        /// Why it was retired.
        reason: String,
    },
    /// The model is retired already.
    #[error("model {model_id} is already retired ({reason})")]
    AlreadyRetired {
        /// The model id.
        model_id: String,
        /// Why it was retired.
        reason: String,
    },
    /// The model description is larger than the contract accepts.
    #[error("the verifier key is {bytes} bytes; the limit is {max}")]
    OversizeKey {
        /// Its size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The model description is invalid or cannot be laid out.
    #[error("invalid verifier key: {0}")]
    InvalidKey(String),
    /// The rebuilt verifying key is not the declared one.
    #[error("the rebuilt verifying key is {rebuilt} (k = {rebuilt_k}), the message declares {declared} (k = {declared_k})")]
    KeyMismatch {
        /// Declared digest.
        declared: String,
        /// Rebuilt digest.
        rebuilt: String,
        /// Declared k.
        declared_k: u32,
        /// Rebuilt k.
        rebuilt_k: u32,
    },
    /// The proof bundle is malformed.
    #[error("malformed proof bundle: {0}")]
    MalformedBundle(String),
    /// The bundle proves another model.
    #[error("the bundle is for model {found}, not {expected}")]
    WrongModel {
        /// The model id submitted to.
        expected: String,
        /// What the bundle proves.
        found: String,
    },
    /// The public inputs do not fit the model.
    #[error("public inputs do not match the model: {0}")]
    PublicInputMismatch(String),
    /// The proof does not verify.
    #[error("invalid proof")]
    InvalidProof,
    /// This proof, or this (model, input), is attested already.
    #[error("replay: {rule} (attestation {seq})")]
    Replay {
        /// Which rule: `same proof` or `same model and input`.
        rule: &'static str,
        /// The existing attestation.
        seq: u64,
    },
    /// No attestation has this sequence number, or none for this input.
    #[error("not found: {0}")]
    NotFound(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(String),
    /// Only the admin or the model's owner accepts and retires its weights.
    #[cfg(feature = "committed-weights")]
    #[error("unauthorized: {sender} is neither the admin nor the owner of model {model_id}")]
    NotWeightsAuthority {
        /// Who sent it.
        sender: String,
        /// The model id.
        model_id: String,
    },
    /// The weights are not among the model's accepted weights.
    #[cfg(feature = "committed-weights")]
    #[error("weights {weights_id} are not accepted for model {model_id}: the admin or the model's owner accepts them with accept_weights")]
    UnknownWeights {
        /// The model id.
        model_id: String,
        /// The weights' id.
        weights_id: String,
    },
    /// The weights were accepted already (or accepted and retired).
    #[cfg(feature = "committed-weights")]
    #[error("weights {weights_id} of model {model_id} were accepted already{}", .retired.as_ref().map(|r| format!(" and retired ({r}): retired weights cannot be accepted again")).unwrap_or_default())]
    DuplicateWeights {
        /// The model id.
        model_id: String,
        /// The weights' id.
        weights_id: String,
        /// Why they were retired, if they were.
        retired: Option<String>,
    },
    /// The weights were retired: they take no new proofs.
    #[cfg(feature = "committed-weights")]
    #[error(
        "weights {weights_id} of model {model_id} were retired ({reason}): they take no new proofs"
    )]
    WeightsRetired {
        /// The model id.
        model_id: String,
        /// The weights' id.
        weights_id: String,
        /// Why.
        reason: String,
    },
}

impl From<VerifyError> for ContractError {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::Malformed(m) => ContractError::MalformedBundle(m),
            VerifyError::WrongModel { expected, found } => {
                ContractError::WrongModel { expected, found }
            }
            VerifyError::WrongKey {
                expected, found, ..
            } => ContractError::WrongModel { expected, found },
            VerifyError::PublicInputMismatch(m) => ContractError::PublicInputMismatch(m),
            wrong @ VerifyError::WrongProfile { .. } => {
                ContractError::MalformedBundle(wrong.to_string())
            }
            wrong @ VerifyError::WrongVisibility { .. } => {
                ContractError::PublicInputMismatch(wrong.to_string())
            }
            VerifyError::Rejected => ContractError::InvalidProof,
            VerifyError::Key(m) => ContractError::InvalidKey(m),
            VerifyError::InBatch { error, .. } => (*error).into(),
        }
    }
}
