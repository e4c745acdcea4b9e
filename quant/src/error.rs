//! The errors of `zkinfer-quant`.

use thiserror::Error;

/// Everything that can go wrong when building, reading or running a quantized
/// model. Each variant names the node, tensor element or field at fault.
#[derive(Debug, Error)]
pub enum QuantError {
    /// The model's structure is inconsistent (shapes, scales, arity, bounds).
    #[error("node {node} ({op}): {reason}")]
    InvalidNode {
        /// Index of the node in `nodes`.
        node: usize,
        /// The node's op name.
        op: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// The model as a whole is inconsistent.
    #[error("invalid model: {0}")]
    InvalidModel(String),

    /// A tensor value left the integer bound its spec declares: calibration
    /// underestimated this activation.
    #[error(
        "{tensor} element {index} is {value}, outside its declared {bits}-bit bound \
         [{min}, {max}]; recalibrate with more representative data or widen the bound"
    )]
    BoundExceeded {
        /// Which tensor, e.g. `"input"` or `"node 3 (rescale)"`.
        tensor: String,
        /// Flat index of the element.
        index: usize,
        /// The offending value.
        value: i64,
        /// The declared bit width.
        bits: u32,
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },

    /// The input has the wrong number of elements.
    #[error("input has {got} values, the model expects {expected} (shape {shape})")]
    InputLength {
        /// Elements given.
        got: usize,
        /// Elements expected.
        expected: usize,
        /// The model's input shape.
        shape: String,
    },

    /// A division's divisor is not positive.
    #[cfg(feature = "transformers")]
    #[error(
        "{tensor}: divisor {index} is {value}; a division by a value computed at run time needs \
         a positive one"
    )]
    NonPositiveDivisor {
        /// Which tensor divides, e.g. `"node 3 (divide)"`.
        tensor: String,
        /// Flat index of the element.
        index: usize,
        /// The divisor.
        value: i64,
    },

    /// An input value is NaN or infinite.
    #[error("input value {index} is {value}, not a finite number")]
    NonFiniteInput {
        /// Flat index of the element.
        index: usize,
        /// The value.
        value: f64,
    },

    /// An input value cannot be represented within the model's input bound.
    #[error(
        "input value {index} is {value}, outside the model's input range [{min}, {max}] \
         ({bits}-bit integers at scale {scale})"
    )]
    InputOutOfRange {
        /// Flat index of the element.
        index: usize,
        /// The value.
        value: f64,
        /// Smallest representable value.
        min: f64,
        /// Largest representable value.
        max: f64,
        /// Integer bit width of the input.
        bits: u32,
        /// The input scale, as `2^-s`.
        scale: String,
    },

    /// A model's bytes ([`crate::QuantizedModel::from_bytes`]) do not
    /// decode.
    #[error("model bytes, at byte {at}: {reason}")]
    Bytes {
        /// Where decoding stopped.
        at: usize,
        /// What was expected there.
        reason: String,
    },

    /// A model file has another format or version.
    #[error("unsupported format {found:?}: this zkinfer reads {expected:?}")]
    Format {
        /// The `format` field found.
        found: String,
        /// The format this build reads.
        expected: &'static str,
    },

    /// A model file is not valid JSON or misses fields.
    #[error("malformed model file")]
    Json(#[from] serde_json::Error),

    /// The digest in a model file does not match its contents.
    #[error("digest mismatch: the file says {stored}, its contents hash to {computed}; the file was edited or corrupted")]
    DigestMismatch {
        /// The digest written in the file.
        stored: String,
        /// The digest of the contents.
        computed: String,
    },
}

/// `Result` with [`QuantError`].
pub type Result<T, E = QuantError> = std::result::Result<T, E>;
