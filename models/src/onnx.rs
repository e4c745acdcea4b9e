//! ONNX import: a `.onnx` file (as PyTorch's exporter writes it, opsets
//! 11–18, batch dimension 1) → an [`Architecture`] with its weights, i.e. a
//! [`FloatModel`].
//!
//! Supported: `Gemm`, `MatMul` (+ `Add` of a constant, folded into the
//! bias), `Add` of two tensors (residuals), `Relu`, `Conv`,
//! `BatchNormalization` (folded into the preceding conv or linear layer),
//! `MaxPool`, `AveragePool`, `GlobalAveragePool`, `Flatten`, `Reshape`,
//! `Sigmoid`, `Tanh`, `Identity`, `Dropout` (inference: identity), `Constant`,
//! and `Softmax` as the final node: it is dropped, and the circuit proves the
//! logits — the same argmax, without an exponential in the circuit.
//! Anything else is an error naming the node, its op type and this list.

mod import;
mod proto;

pub use import::{import_onnx, OnnxImport, SUPPORTED_OPS};
pub use proto::{DecodeError, ModelProto};
