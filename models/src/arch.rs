//! The architecture file (`"format": "zkinfer/arch@1"`): a float model's
//! layers, without weights. Weights live in a safetensors file under
//! PyTorch's names, `<layer name>.weight` and `<layer name>.bias`.
//!
//! ```json
//! { "format": "zkinfer/arch@1", "name": "digits-cnn", "input_shape": [1, 8, 8],
//!   "layers": [
//!     { "op": "conv2d", "name": "conv", "in_channels": 1, "out_channels": 4,
//!       "kernel": [3, 3], "stride": [1, 1], "padding": [1, 1] },
//!     { "op": "relu" },
//!     { "op": "flatten" },
//!     { "op": "linear", "name": "fc", "in_features": 256, "out_features": 10 } ] }
//! ```
//!
//! Each layer reads the previous layer's output unless it lists `inputs`:
//! tensor ids where 0 is the model input and `i + 1` the output of layer `i`
//! (`add` takes two, for residual connections).

use crate::error::{ModelError, Result};
use serde::{Deserialize, Serialize};
use zkinfer_quant::{Pool2d, TableFunction, MAX_ELEMENTS};

/// The `format` field of architecture files.
pub const ARCH_FORMAT: &str = "zkinfer/arch@1";

/// A float layer op.
///
/// Architecture files write an activation as `{"op": "activation",
/// "function": "gelu"}` (and read the older `{"op": "sigmoid"}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum FloatOp {
    /// Fully connected: weight `[out, in]`, bias `[out]`.
    Linear {
        /// Weight prefix in the safetensors file.
        name: String,
        /// Input size.
        in_features: usize,
        /// Output size.
        out_features: usize,
    },
    /// 2-D convolution: weight `[out, in / groups, kh, kw]`, bias `[out]`.
    Conv2d {
        /// Weight prefix in the safetensors file.
        name: String,
        /// Input channels.
        in_channels: usize,
        /// Output channels.
        out_channels: usize,
        /// `[kh, kw]`.
        kernel: [usize; 2],
        /// `[sh, sw]`.
        #[serde(default = "one_pair")]
        stride: [usize; 2],
        /// Zero padding `[ph, pw]` on each side.
        #[serde(default)]
        padding: [usize; 2],
        /// Channel groups (depthwise: `groups = in_channels`).
        #[serde(default = "one", skip_serializing_if = "is_one")]
        groups: usize,
    },
    /// `max(x, 0)`.
    Relu,
    /// Max pooling; padded positions are never the maximum.
    MaxPool2d {
        /// `[kh, kw]`.
        kernel: [usize; 2],
        /// `[sh, sw]`; defaults to the kernel.
        stride: Option<[usize; 2]>,
        /// `[ph, pw]` on each side, at most half the kernel.
        #[serde(default, skip_serializing_if = "is_zero_pair")]
        padding: [usize; 2],
    },
    /// Average pooling.
    AvgPool2d {
        /// `[kh, kw]`.
        kernel: [usize; 2],
        /// `[sh, sw]`; defaults to the kernel.
        stride: Option<[usize; 2]>,
        /// `[ph, pw]` on each side, at most half the kernel.
        #[serde(default, skip_serializing_if = "is_zero_pair")]
        padding: [usize; 2],
        /// Divide by the kernel area, padding included, rather than by the
        /// positions inside the image (ONNX's `count_include_pad`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        count_include_pad: bool,
    },
    /// Reshape to a vector.
    Flatten,
    /// Reshape (same number of elements).
    Reshape {
        /// The new shape (no batch dimension).
        shape: Vec<usize>,
    },
    /// Element-wise sum of two tensors.
    Add,
    /// Element-wise product of two tensors of the same shape.
    Mul,
    /// Matrix product of two tensors, `[…, m, k] × […, k, n]`, with the
    /// same leading dims (attention's `Q·Kᵀ` and `weights·V`).
    #[serde(rename = "matmul")]
    MatMul,
    /// Element-wise quotient of two tensors of the same shape, the divisor
    /// positive (a softmax's normalisation).
    Div,
    /// An element-wise function, quantized as a lookup table.
    Activation {
        /// The function.
        function: TableFunction,
    },
    /// Values moved, not computed (transpose, slice, concat, pad, …): the
    /// same map as the quantized [`zkinfer_quant::Select`].
    Select {
        /// The output shape (no batch dimension).
        shape: Vec<usize>,
        /// One source per output element in the inputs laid end to end;
        /// `null` is zero.
        indices: Vec<Option<usize>>,
    },
}

/// The number of elements of a shape, when it is at most [`MAX_ELEMENTS`]
/// (checked: a product that overflows is `None`, never a wrapped count).
pub fn numel(shape: &[usize]) -> Option<usize> {
    shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
}

fn one_pair() -> [usize; 2] {
    [1, 1]
}

fn one() -> usize {
    1
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

fn is_zero_pair(pair: &[usize; 2]) -> bool {
    *pair == [0, 0]
}

impl FloatOp {
    /// The op's name in architecture files.
    pub fn name(&self) -> &'static str {
        match self {
            FloatOp::Linear { .. } => "linear",
            FloatOp::Conv2d { .. } => "conv2d",
            FloatOp::Relu => "relu",
            FloatOp::MaxPool2d { .. } => "max_pool2d",
            FloatOp::AvgPool2d { .. } => "avg_pool2d",
            FloatOp::Flatten => "flatten",
            FloatOp::Reshape { .. } => "reshape",
            FloatOp::Add => "add",
            FloatOp::Mul => "mul",
            FloatOp::MatMul => "matmul",
            FloatOp::Div => "div",
            FloatOp::Select { .. } => "select",
            FloatOp::Activation { function } => function.name(),
        }
    }

    /// The window of a pooling layer, as the quantized model states it.
    pub fn pool(&self) -> Option<Pool2d> {
        match *self {
            FloatOp::MaxPool2d {
                kernel,
                stride,
                padding,
            } => Some(Pool2d {
                padding,
                ..Pool2d::new(kernel, stride.unwrap_or(kernel))
            }),
            FloatOp::AvgPool2d {
                kernel,
                stride,
                padding,
                count_include_pad,
            } => Some(Pool2d {
                padding,
                count_include_pad,
                ..Pool2d::new(kernel, stride.unwrap_or(kernel))
            }),
            _ => None,
        }
    }

    fn arity(&self) -> std::ops::RangeInclusive<usize> {
        match self {
            FloatOp::Add | FloatOp::Mul | FloatOp::MatMul | FloatOp::Div => 2..=2,
            FloatOp::Select { .. } => 1..=zkinfer_quant::Select::MAX_INPUTS,
            _ => 1..=1,
        }
    }
}

/// One layer and the tensors it reads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FloatLayer {
    /// Tensor ids read; empty means "the previous layer's output".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<usize>,
    /// What the layer computes.
    #[serde(flatten)]
    pub op: FloatOp,
}

impl FloatLayer {
    /// A layer reading the previous layer's output.
    pub fn new(op: FloatOp) -> Self {
        FloatLayer { inputs: vec![], op }
    }

    /// The tensor ids this layer (number `index`) reads.
    pub fn input_ids(&self, index: usize) -> Vec<usize> {
        if self.inputs.is_empty() {
            vec![index]
        } else {
            self.inputs.clone()
        }
    }
}

/// A float model's architecture.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Architecture {
    /// Always [`ARCH_FORMAT`].
    pub format: String,
    /// The model's name.
    pub name: String,
    /// The input shape, without a batch dimension.
    pub input_shape: Vec<usize>,
    /// The layers in evaluation order; the last one is the output.
    pub layers: Vec<FloatLayer>,
}

impl Architecture {
    /// A new architecture of the current format.
    pub fn new(name: &str, input_shape: Vec<usize>, layers: Vec<FloatLayer>) -> Self {
        Architecture {
            format: ARCH_FORMAT.to_string(),
            name: name.to_string(),
            input_shape,
            layers,
        }
    }

    /// Parses and checks an architecture file's text.
    pub fn from_json(text: &str) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| ModelError::Arch(format!("malformed JSON: {e}")))?;
        let format = value.get("format").and_then(|f| f.as_str()).unwrap_or("");
        if format != ARCH_FORMAT {
            return Err(ModelError::Arch(format!(
                "unsupported format {format:?}: this zkinfer reads {ARCH_FORMAT:?}"
            )));
        }
        let arch: Architecture = serde_json::from_value(upgrade_activations(value))
            .map_err(|e| ModelError::Arch(e.to_string()))?;
        arch.check_wiring()?;
        Ok(arch)
    }

    /// The architecture file's text.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("an architecture serializes");
        text.push('\n');
        text
    }

    /// Checks arities and that every layer reads earlier tensors. Shapes are
    /// checked when weights are attached ([`crate::FloatModel::new`]).
    pub fn check_wiring(&self) -> Result<()> {
        if self.input_shape.is_empty() || self.input_shape.contains(&0) {
            return Err(ModelError::Arch(format!(
                "input_shape {:?} must be non-empty with positive dimensions",
                self.input_shape
            )));
        }
        if numel(&self.input_shape).is_none() {
            return Err(ModelError::Arch(format!(
                "input_shape {:?} has more than {MAX_ELEMENTS} elements",
                self.input_shape
            )));
        }
        if self.layers.is_empty() {
            return Err(ModelError::Arch("no layers".into()));
        }
        for (i, layer) in self.layers.iter().enumerate() {
            let ids = layer.input_ids(i);
            let arity = layer.op.arity();
            if !arity.contains(&ids.len()) {
                let takes = if arity.start() == arity.end() {
                    arity.start().to_string()
                } else {
                    format!("{} to {}", arity.start(), arity.end())
                };
                return Err(ModelError::Arch(format!(
                    "layer {i} ({}) takes {takes} input(s), {} given",
                    layer.op.name(),
                    ids.len()
                )));
            }
            if let Some(bad) = ids.iter().find(|&&id| id > i) {
                return Err(ModelError::Arch(format!(
                    "layer {i} ({}) reads tensor {bad}, which is not computed before it",
                    layer.op.name()
                )));
            }
        }
        Ok(())
    }
}

/// Files written before activations had one op spell them `{"op":
/// "sigmoid"}`: read that as `{"op": "activation", "function": "sigmoid"}`.
fn upgrade_activations(mut value: serde_json::Value) -> serde_json::Value {
    let layers = value.get_mut("layers").and_then(|l| l.as_array_mut());
    for layer in layers.into_iter().flatten() {
        let Some(layer) = layer.as_object_mut() else {
            continue;
        };
        let op = layer.get("op").and_then(|op| op.as_str()).unwrap_or("");
        if matches!(op, "sigmoid" | "tanh") && !layer.contains_key("function") {
            let function = serde_json::Value::from(op);
            layer.insert("function".into(), function);
            layer.insert("op".into(), "activation".into());
        }
    }
    value
}
