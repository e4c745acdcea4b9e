//! `zkinfer-models`: float models, quantization, and the candle engine that
//! runs quantized models bit-exactly.
//!
//! * [`Architecture`] + safetensors weights → [`FloatModel`] (f32, candle).
//! * [`quantize()`] with [`QuantizeOptions`]: calibration on sample data →
//!   [`zkinfer_quant::QuantizedModel`].
//! * [`table_reports`]: how far each lookup table is from its function.
//! * [`Engine`]: runs a quantized model in candle and returns a
//!   [`zkinfer_quant::Trace`] equal to the reference forward pass.
//! * [`dataset`]: the bundled UCI digits and their fixed split;
//!   [`bundled`]: the models trained on them; [`load_model`] resolves
//!   `--model NAME|PATH`.
//! * [`input`]: input and calibration files (zkinfer's and EZKL's JSON).
//! * [`onnx`]: ONNX import (a hand-written protobuf reader; no `protoc`).
//! * [`train`]: deterministic training, used by `make models`.

#![deny(missing_docs, unsafe_code)]

pub mod arch;
#[cfg(feature = "bundled")]
pub mod bundled;
pub mod dataset;
mod engine;
mod error;
mod eval;
mod float;
pub mod input;
mod kernels;
mod load;
pub mod onnx;
mod quantize;
mod table_error;
pub mod train;

pub use arch::{Architecture, FloatLayer, FloatOp};
pub use engine::Engine;
pub use error::{ModelError, Result};
pub use eval::{compare_outputs, evaluate, EvalReport, OutputComparison};
pub use float::{weights_bytes, FloatModel};
pub use load::{files, read_quantized, read_text, LoadedModel};
#[cfg(feature = "bundled")]
pub use load::{load_model, load_quantized_model};
pub use quantize::{quantize, QuantizeOptions};
pub use table_error::{table_reports, TableReport};
