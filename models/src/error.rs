//! The errors of `zkinfer-models`.

use std::path::PathBuf;
use thiserror::Error;
use zkinfer_quant::QuantError;

/// Everything that can go wrong loading, quantizing or running a model.
#[derive(Debug, Error)]
pub enum ModelError {
    /// A file could not be read or written.
    #[error("{}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },

    /// A quantized model file was refused.
    #[error("{}", path.display())]
    ModelFile {
        /// The file.
        path: PathBuf,
        /// Why it was refused.
        source: QuantError,
    },

    /// An architecture file is malformed or inconsistent.
    #[error("architecture: {0}")]
    Arch(String),

    /// An ONNX file cannot be imported: malformed, or an unsupported node.
    #[error("{0}")]
    Onnx(String),

    /// A weight is missing or has the wrong shape.
    #[error("weights: {0}")]
    Weights(String),

    /// Calibration data is unusable, or the model cannot be quantized.
    #[error("calibration: {0}")]
    Calibration(String),

    /// A data set or input file is malformed.
    #[error("data: {0}")]
    Data(String),

    /// No bundled model has this name and no file is at this path.
    #[error("no bundled model is named {0:?} and no model file or directory is at that path (bundled: {1})")]
    UnknownModel(String, String),

    /// The quantized model refused something (shapes, bounds, inputs).
    #[error(transparent)]
    Quant(#[from] QuantError),

    /// candle failed.
    #[error("candle")]
    Candle(#[from] candle_core::Error),
}

/// `Result` with [`ModelError`].
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
