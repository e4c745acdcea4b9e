//! The errors of `zkinfer-verifier`: a malformed bundle is told apart from a
//! bundle for another model, a public-input mismatch and a rejected proof.

use thiserror::Error;

/// Why a proof bundle was not accepted.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum VerifyError {
    /// The bundle cannot be read: not JSON, another format or version,
    /// missing fields, proof bytes that are not hex.
    #[error("malformed proof bundle: {0}")]
    Malformed(String),

    /// The bundle proves another model.
    #[error("the bundle is for model {found}, this key verifies {expected}")]
    WrongModel {
        /// The key's model digest.
        expected: String,
        /// The bundle's model digest.
        found: String,
    },

    /// The bundle proves the model with another input visibility than the
    /// key's: a private-input proof says nothing about any particular
    /// input, so it never stands in for a public-input one (or back).
    #[error("the bundle proves the model with a {found} input; this key verifies proofs with a {expected} input")]
    WrongVisibility {
        /// The key's input visibility.
        expected: &'static str,
        /// The bundle's.
        found: &'static str,
    },

    /// Same model, another layout profile.
    #[error("the bundle was proven in the {found} layout profile; this key verifies the {expected} profile")]
    WrongProfile {
        /// The key's profile.
        expected: &'static str,
        /// The bundle's.
        found: &'static str,
    },

    /// Same model, another circuit: another `k` or zkinfer circuit version.
    #[error("the bundle was proven with verifying key {found} (k = {found_k}), this key is {expected} (k = {expected_k})")]
    WrongKey {
        /// The key's vk digest.
        expected: String,
        /// The bundle's vk digest.
        found: String,
        /// The key's k.
        expected_k: u32,
        /// The bundle's k.
        found_k: u32,
    },

    /// The public inputs do not have the model's shapes, scales or bounds.
    #[error("public inputs do not match the model: {0}")]
    PublicInputMismatch(String),

    /// The proof does not verify against the public inputs.
    #[error("the proof is invalid for these public inputs")]
    Rejected,

    /// The verifier key could not be built.
    #[error("cannot build the verifier key: {0}")]
    Key(String),

    /// One bundle of a batch failed.
    #[error("bundle {index} of the batch: {error}")]
    InBatch {
        /// Its index.
        index: usize,
        /// Why.
        error: Box<VerifyError>,
    },
}

/// Why a proof chain (a model proven in parts) was not accepted.
#[cfg(feature = "commitments")]
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ChainError {
    /// One segment's proof failed.
    #[error("segment {index} of the proof chain: {error}")]
    Segment {
        /// Its index.
        index: usize,
        /// Why.
        error: VerifyError,
    },
    /// Two segments' proofs verify but do not link: the input commitment
    /// of one is not the output commitment of the one before.
    #[error(
        "segment {index} of the proof chain does not continue segment {}: its input commitment \
         {input} is not the output commitment {output}",
        index - 1
    )]
    BrokenLink {
        /// The later segment.
        index: usize,
        /// The earlier segment's output commitment.
        output: String,
        /// The later segment's input commitment.
        input: String,
    },
    /// The chain as a whole does not fit the model.
    #[error(transparent)]
    Chain(#[from] VerifyError),
}

#[cfg(feature = "commitments")]
impl ChainError {
    /// Whether a proof was checked and failed, or the proofs do not link
    /// (exit code 1), as opposed to a chain that could not be checked
    /// (exit code 2).
    pub fn is_rejection(&self) -> bool {
        match self {
            ChainError::Segment { error, .. } | ChainError::Chain(error) => error.is_rejection(),
            ChainError::BrokenLink { .. } => true,
        }
    }
}

impl VerifyError {
    /// Whether the proof itself was checked and failed (exit code 1), as
    /// opposed to an input that could not be checked (exit code 2).
    pub fn is_rejection(&self) -> bool {
        match self {
            VerifyError::Rejected => true,
            VerifyError::InBatch { error, .. } => error.is_rejection(),
            _ => false,
        }
    }
}

/// `Result` with [`VerifyError`].
pub type Result<T, E = VerifyError> = std::result::Result<T, E>;
