//! `zkinfer-quant`: the quantized model that zkinfer runs and proves, and
//! its exact integer semantics.
//!
//! This crate is shared by the candle engine (`zkinfer-models`), the
//! circuits and the verifier, so it depends on serde and SHA-256 only.
//!
//! * [`QuantizedModel`] — a validated graph of [`Node`]s ([`Op`]s with typed
//!   parameters such as [`Linear`] and [`Conv2d`]), the [`TensorSpec`]
//!   (shape, [`Scale`], bit bound) of every tensor, and its [`ModelDigest`].
//! * [`TableFunction`] — the functions table activations tabulate.
//! * [`ops`] — the rounding and bound rules, written down once.
//! * [`QuantizedModel::forward`] — the reference forward pass returning a
//!   [`Trace`] of every intermediate tensor: the definition of the semantics.
//! * [`QuantizedModel::cuts`], [`QuantizedModel::segment`] — a model cut
//!   into segments, for proofs of a model in parts.
//! * [`format`] — the versioned model file (`zkinfer/model@1`), and
//!   [`QuantizedModel::to_bytes`], the compact binary form a contract stores.
//!
//! ```
//! use zkinfer_quant::{Linear, Node, Op, QuantizedModel, Rescale, Scale, Shape, Tensor, TensorSpec};
//!
//! // y = rescale(2·x0 - x1 + 1, 1), inputs at scale 2^-2, 8-bit.
//! let input = TensorSpec { shape: Shape(vec![2]), scale: Scale(2), bits: 8 };
//! let nodes = vec![
//!     Node { inputs: vec![0], op: Op::Linear(Linear {
//!         weight: Tensor::new([1, 2], vec![2, -1]).unwrap(),
//!         weight_scale: Scale(1),
//!         bias: vec![1],
//!     }) },
//!     Node { inputs: vec![1], op: Op::Rescale(Rescale { shift: 1, bits: 8 }) },
//! ];
//! let model = QuantizedModel::new("tiny", input, nodes, None)?;
//! let x = model.quantize_input(&[1.0, 0.5])?; // [4, 2]
//! let trace = model.forward(&x)?;
//! assert_eq!(trace.output().data, vec![4]); // (8 - 2 + 1 + 1) >> 1
//! assert_eq!(model.output().scale, Scale(2));
//! # Ok::<(), zkinfer_quant::QuantError>(())
//! ```

#![deny(missing_docs, unsafe_code)]

mod bytes;
mod digest;
mod error;
pub mod format;
mod forward;
mod function;
mod layer;
mod model;
pub mod ops;
#[cfg(feature = "segments")]
mod segment;
pub mod taps;
mod tensor;

pub use digest::ModelDigest;
pub use error::{QuantError, Result};
pub use format::MODEL_FORMAT;
pub use forward::Trace;
pub use function::TableFunction;
pub use layer::{Conv2d, Divide, Linear, MatMulDims, Op, Pool2d, Rescale, Select, TableActivation};
pub use model::{
    conv2d_output, pool2d_output, window_output, Calibration, Node, QuantizedModel, TensorId,
    TensorSpec, MAX_ELEMENTS,
};
pub use tensor::{Scale, Shape, Tensor};
