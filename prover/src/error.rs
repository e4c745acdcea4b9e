//! The errors of `zkinfer-prover`.

use std::path::PathBuf;
use thiserror::Error;

/// Why a proof could not be made.
#[derive(Debug, Error)]
pub enum ProverError {
    /// The model cannot be laid out as a circuit.
    #[error(transparent)]
    Circuit(#[from] zkinfer_circuits::CircuitError),

    /// Inference failed (an input or activation beyond its bound).
    #[error(transparent)]
    Model(#[from] zkinfer_models::ModelError),

    /// The verifier key could not be built, or the fresh proof did not verify.
    #[error(transparent)]
    Verify(#[from] zkinfer_verifier::VerifyError),

    /// Freshly generated IPA parameters do not match the pinned digest:
    /// this build derives other parameters than every verifier.
    #[error("generated IPA parameters: {0}")]
    Params(#[from] zkinfer_verifier::params::ParamsError),

    /// halo2 failed while generating keys or proving.
    #[error("{stage}: {message}")]
    Halo2 {
        /// `proving key` or `proof`.
        stage: &'static str,
        /// halo2's error.
        message: String,
    },

    /// A model proven in parts: a segment that is not one, or provers
    /// that are not its segments'.
    #[error("{0}")]
    Chain(String),

    /// A model's segment is not a valid model.
    #[error(transparent)]
    Quant(#[from] zkinfer_quant::QuantError),

    /// A model cannot be exported, or a package is malformed.
    #[error("{0}")]
    Export(String),

    /// A package's `package.json` is malformed or of another version.
    #[error("{}: {reason}", path.display())]
    PackageFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A file could not be read or written.
    #[error("{}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// `Result` with [`ProverError`].
pub type Result<T, E = ProverError> = std::result::Result<T, E>;
