//! The errors of `zkinfer-circuits`.

use thiserror::Error;

/// Why a model cannot be laid out as a circuit.
#[derive(Debug, Error)]
pub enum CircuitError {
    /// A node uses a parameter outside what the circuit supports.
    #[error("node {node} ({op}): {reason}")]
    Unsupported {
        /// Index of the node.
        node: usize,
        /// The node's op.
        op: &'static str,
        /// What is out of reach, and the limit.
        reason: String,
    },

    /// The model needs more rows than the largest supported circuit.
    #[error(
        "the model needs {rows} rows; zkinfer circuits go up to k = {max_k} ({usable} usable rows)"
    )]
    TooLarge {
        /// Rows needed.
        rows: usize,
        /// Largest k.
        max_k: u32,
        /// Usable rows at that k.
        usable: usize,
    },

    /// A step would write values the circuit does not prove to be bounded
    /// integers (the bound invariant, [`crate::bounds`]).
    #[error("node {node} ({op}): {what}; the circuit would accept field-level forgeries")]
    Unbounded {
        /// Index of the node.
        node: usize,
        /// The node's op.
        op: &'static str,
        /// Which value is unproven.
        what: String,
    },

    /// The witness does not belong to this model (wrong shapes).
    #[error("witness: {0}")]
    Witness(String),
}

/// `Result` with [`CircuitError`].
pub type Result<T, E = CircuitError> = std::result::Result<T, E>;
