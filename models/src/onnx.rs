//! ONNX import: a `.onnx` file, as PyTorch's exporters (legacy at opsets
//! 9–13, dynamo at 18), tf2onnx or skl2onnx write it (opsets 7–18, batch
//! dimension 1 or symbolic) → an [`crate::arch::Architecture`] with its
//! weights, i.e. a [`crate::FloatModel`].
//!
//! - [`proto`]: the protobuf reader;
//! - [`opset`]: attribute-vs-input forms across opsets, read into one form;
//! - [`fold`]: constant folding (shapes, arithmetic on initializers), with
//!   an element budget;
//! - [`rewrite`]: exact rewrites into existing layers (affine maps and
//!   BatchNormalization into a neighbouring Gemm/MatMul/Conv, zero Pad into
//!   a Conv's padding, a Transpose into the next linear layer's weight
//!   columns, `Clip(0, ∞)` and `Max(x, 0)` as Relu);
//! - [`conv_transpose`]: `ConvTranspose` as zero insertion (a select) and
//!   a conv with flipped kernels;
//! - [`embedding`]: token ids read by `Gather`s of constant tables, as
//!   one-hot rows times the table;
//! - [`gelu`]: GELU written out (erf or tanh form), recognised as one
//!   table;
//! - [`activation`]: activations that import as lookup tables;
//! - [`moves`]: ops that only move values (concat, slice, pad, …) as a
//!   select, their index map computed by the folder;
//! - [`reduce`]: reductions over any axes, as row-wise windows;
//! - [`resize`]: `Resize`/`Upsample` in nearest mode, a value move;
//! - [`pwl`]: piecewise-linear activations, exact, from ReLUs and sums;
//! - [`graph`]: the pass that decides each node, listing every unsupported
//!   one rather than stopping at the first (attention's products, softmax
//!   and masks in `graph/attention.rs`);
//! - [`report`]: what `zkinfer inspect --onnx` prints.
//!
//! A final `Softmax` is dropped (the circuit proves the logits: the same
//! argmax), and so are class labels derived from the scores (skl2onnx's
//! `ArgMax → ArrayFeatureExtractor → Cast`).

mod activation;
mod conv_transpose;
mod embedding;
mod fold;
mod gelu;
mod graph;
mod import;
mod moves;
mod opset;
mod proto;
mod pwl;
mod reduce;
mod report;
mod resize;
mod rewrite;

pub use fold::{FOLD_BUDGET, MAX_FOLDED_ELEMENTS};
pub use import::{import_onnx, inspect_onnx, OnnxImport, SUPPORTED_OPS};
pub use opset::OPSETS;
pub use proto::{DecodeError, ModelProto};
pub use report::{Inspection, NodeReport, Status, ValueShape};
