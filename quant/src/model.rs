//! [`QuantizedModel`]: a validated graph of integer layers, with the shape,
//! scale and bound of every tensor derived from it.

use crate::error::{QuantError, Result};
use crate::layer::{Conv2d, Linear, Op, Pool2d, TableActivation};
use crate::ops::{self, MAX_BITS};
use crate::tensor::{Scale, Shape};
use serde::{Deserialize, Serialize};

/// The most elements a tensor may have (16 Mi): far beyond what a circuit
/// proves, small enough that no model file makes zkinfer allocate wildly.
pub const MAX_ELEMENTS: usize = 1 << 24;

/// Identifies a tensor of the graph: 0 is the model input, `i + 1` the output
/// of node `i`.
pub type TensorId = usize;

/// Shape, scale and signed bit width of one tensor of the graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorSpec {
    /// The dimensions.
    pub shape: Shape,
    /// The scale: an integer `q` stands for `q / 2^scale`.
    pub scale: Scale,
    /// Every value lies in [`ops::bits_range`]`(bits)`.
    pub bits: u32,
}

impl TensorSpec {
    /// The smallest and largest integer allowed.
    pub fn range(&self) -> (i64, i64) {
        ops::bits_range(self.bits)
    }
}

/// One node: an op and the tensors it reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// The tensors read, by [`TensorId`]; each is the model input or the
    /// output of an earlier node.
    pub inputs: Vec<TensorId>,
    /// What the node computes.
    #[serde(flatten)]
    pub op: Op,
}

/// What calibration saw of the float model. Informational: it is not part of
/// the model's semantics and not covered by its digest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Number of calibration samples.
    pub samples: usize,
    /// Smallest input value seen.
    pub input_min: f64,
    /// Largest input value seen.
    pub input_max: f64,
}

/// A quantized model: integer weights, power-of-two scales, declared bounds,
/// and a graph of [`Node`]s whose last node is the output.
///
/// A value of this type is always valid: [`QuantizedModel::new`] (and
/// deserialization, which goes through it) checks arities, shapes, scales,
/// parameter counts and bounds, and refuses any accumulator that could reach
/// 2^53, where the candle engine's f64 arithmetic stops being exact.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantizedModel {
    name: String,
    input: TensorSpec,
    nodes: Vec<Node>,
    calibration: Option<Calibration>,
    specs: Vec<TensorSpec>,
}

impl QuantizedModel {
    /// Validates a graph and derives the spec of every tensor.
    pub fn new(
        name: impl Into<String>,
        input: TensorSpec,
        nodes: Vec<Node>,
        calibration: Option<Calibration>,
    ) -> Result<Self> {
        let specs = derive_specs(&input, &nodes)?;
        Ok(QuantizedModel {
            name: name.into(),
            input,
            nodes,
            calibration,
            specs,
        })
    }

    /// The model's name (a label; not part of its digest).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The input's shape, scale and bound.
    pub fn input(&self) -> &TensorSpec {
        &self.input
    }

    /// The nodes in evaluation order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// What calibration saw, if the model came from calibration.
    pub fn calibration(&self) -> Option<&Calibration> {
        self.calibration.as_ref()
    }

    /// The spec of every tensor, indexed by [`TensorId`].
    pub fn specs(&self) -> &[TensorSpec] {
        &self.specs
    }

    /// The output's shape, scale and bound.
    pub fn output(&self) -> &TensorSpec {
        self.specs.last().expect("a model has at least its input")
    }

    /// The number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        self.nodes.iter().map(|n| n.op.parameter_count()).sum()
    }

    /// A label for tensor `id` in messages: `input` or `node 3 (rescale)`.
    pub fn tensor_label(&self, id: TensorId) -> String {
        match id {
            0 => "input".to_string(),
            i => format!("node {} ({})", i - 1, self.nodes[i - 1].op.name()),
        }
    }

    pub(crate) fn into_parts(self) -> (String, TensorSpec, Vec<Node>, Option<Calibration>) {
        (self.name, self.input, self.nodes, self.calibration)
    }
}

fn derive_specs(input: &TensorSpec, nodes: &[Node]) -> Result<Vec<TensorSpec>> {
    check_bits(input.bits)
        .map_err(|reason| QuantError::InvalidModel(format!("input: {reason}")))?;
    if input.shape.numel() == 0 || input.shape.numel() > MAX_ELEMENTS {
        return Err(QuantError::InvalidModel(format!(
            "the input {} must have 1 to {MAX_ELEMENTS} elements",
            input.shape
        )));
    }
    if nodes.is_empty() {
        return Err(QuantError::InvalidModel("the model has no nodes".into()));
    }
    let mut specs = vec![input.clone()];
    for (index, node) in nodes.iter().enumerate() {
        let fail = |reason: String| QuantError::InvalidNode {
            node: index,
            op: node.op.name(),
            reason,
        };
        if node.inputs.len() != node.op.arity() {
            return Err(fail(format!(
                "takes {} input(s), {} given",
                node.op.arity(),
                node.inputs.len()
            )));
        }
        if let Some(&bad) = node.inputs.iter().find(|&&id| id > index) {
            return Err(fail(format!(
                "reads tensor {bad}, which is not computed before it (tensors 0..={index} are)"
            )));
        }
        let args: Vec<&TensorSpec> = node.inputs.iter().map(|&id| &specs[id]).collect();
        let spec = node_spec(&node.op, &args).map_err(fail)?;
        check_bits(spec.bits).map_err(fail)?;
        if spec.shape.numel() > MAX_ELEMENTS {
            return Err(fail(format!(
                "its output {} has more than {MAX_ELEMENTS} elements",
                spec.shape
            )));
        }
        specs.push(spec);
    }
    Ok(specs)
}

fn check_bits(bits: u32) -> std::result::Result<(), String> {
    if (1..=MAX_BITS).contains(&bits) {
        Ok(())
    } else if bits == 0 {
        Err("a bound of 0 bits holds nothing".into())
    } else {
        Err(format!(
            "values may need {bits} bits; zkinfer keeps every tensor within {MAX_BITS} bits \
             so that the f64 engine stays exact (use smaller scales or fewer weight bits)"
        ))
    }
}

/// The spec of an op's output, or why the op cannot apply to its inputs.
fn node_spec(op: &Op, args: &[&TensorSpec]) -> std::result::Result<TensorSpec, String> {
    let x = args[0];
    match op {
        Op::Linear(l) => linear_spec(l, x),
        Op::Conv2d(c) => conv2d_spec(c, x),
        Op::Relu => Ok(x.clone()),
        Op::SumPool2d(p) => {
            let shape = pool_shape(p, &x.shape)?;
            let window = (p.kernel[0] * p.kernel[1]) as u128;
            let max_abs = window * (1u128 << (x.bits - 1));
            Ok(TensorSpec {
                shape,
                scale: x.scale,
                bits: ops::bits_for_magnitude(max_abs),
            })
        }
        // A rounded mean or a maximum stays within the input's range.
        Op::AvgPool2d(p) | Op::MaxPool2d(p) => Ok(TensorSpec {
            shape: pool_shape(p, &x.shape)?,
            ..x.clone()
        }),
        Op::Flatten => Ok(TensorSpec {
            shape: Shape(vec![x.shape.numel()]),
            ..x.clone()
        }),
        Op::Reshape { shape } => {
            if shape.numel() != x.shape.numel() {
                return Err(format!(
                    "cannot reshape {} ({} elements) to {} ({} elements)",
                    x.shape,
                    x.shape.numel(),
                    shape,
                    shape.numel()
                ));
            }
            Ok(TensorSpec {
                shape: shape.clone(),
                ..x.clone()
            })
        }
        Op::Add => {
            let y = args[1];
            if x.shape != y.shape {
                return Err(format!("adds shapes {} and {}", x.shape, y.shape));
            }
            if x.scale != y.scale {
                return Err(format!(
                    "adds scales {} and {}; rescale one side first",
                    x.scale, y.scale
                ));
            }
            Ok(TensorSpec {
                shape: x.shape.clone(),
                scale: x.scale,
                bits: x.bits.max(y.bits) + 1,
            })
        }
        Op::Rescale(r) => {
            if r.shift > 62 {
                return Err(format!("shift {} is larger than 62", r.shift));
            }
            Ok(TensorSpec {
                shape: x.shape.clone(),
                scale: Scale(x.scale.0 - r.shift as i32),
                bits: r.bits,
            })
        }
        Op::Sigmoid(t) | Op::Tanh(t) => table_spec(t, x),
    }
}

/// `max_i Σ_j |w_ij|·2^(b-1) + |b_i|`, the largest accumulator magnitude.
fn accumulator_bits<'a>(rows: impl Iterator<Item = (&'a [i64], i64)>, input_bits: u32) -> u32 {
    let x_max = 1u128 << (input_bits - 1);
    let max_abs = rows
        .map(|(w, b)| {
            let weights: u128 = w.iter().map(|v| v.unsigned_abs() as u128).sum();
            weights * x_max + b.unsigned_abs() as u128
        })
        .max()
        .unwrap_or(0);
    ops::bits_for_magnitude(max_abs)
}

fn linear_spec(l: &Linear, x: &TensorSpec) -> std::result::Result<TensorSpec, String> {
    let dims = l.weight.shape.dims();
    if dims.len() != 2 || dims[0] == 0 || dims[1] == 0 {
        return Err(format!("weight shape {} is not [out, in]", l.weight.shape));
    }
    if l.weight.data.len() != l.weight.shape.numel() {
        return Err(format!(
            "weight has {} values for shape {}",
            l.weight.data.len(),
            l.weight.shape
        ));
    }
    let (out, inp) = (dims[0], dims[1]);
    if x.shape.dims() != [inp] {
        return Err(format!(
            "expects a vector of {inp} values, its input has shape {}",
            x.shape
        ));
    }
    if l.bias.len() != out {
        return Err(format!("{} biases for {out} outputs", l.bias.len()));
    }
    let rows = l.weight.data.chunks(inp).zip(l.bias.iter().copied());
    Ok(TensorSpec {
        shape: Shape(vec![out]),
        scale: Scale(x.scale.0 + l.weight_scale.0),
        bits: accumulator_bits(rows, x.bits),
    })
}

fn conv2d_spec(c: &Conv2d, x: &TensorSpec) -> std::result::Result<TensorSpec, String> {
    let dims = c.weight.shape.dims();
    if dims.len() != 4 || dims.contains(&0) {
        return Err(format!(
            "weight shape {} is not [out_channels, in_channels, kh, kw]",
            c.weight.shape
        ));
    }
    if c.weight.data.len() != c.weight.shape.numel() {
        return Err(format!(
            "weight has {} values for shape {}",
            c.weight.data.len(),
            c.weight.shape
        ));
    }
    let (oc, ic, kh, kw) = (dims[0], dims[1], dims[2], dims[3]);
    let [h, w] = match x.shape.dims() {
        &[channels, h, w] if channels == ic => [h, w],
        _ => {
            return Err(format!(
                "expects a [{ic}, h, w] image, its input has shape {}",
                x.shape
            ))
        }
    };
    if c.bias.len() != oc {
        return Err(format!("{} biases for {oc} output channels", c.bias.len()));
    }
    let [oh, ow] = window_output([h, w], [kh, kw], c.stride, c.padding)?;
    let rows = c
        .weight
        .data
        .chunks(ic * kh * kw)
        .zip(c.bias.iter().copied());
    Ok(TensorSpec {
        shape: Shape(vec![oc, oh, ow]),
        scale: Scale(x.scale.0 + c.weight_scale.0),
        bits: accumulator_bits(rows, x.bits),
    })
}

fn pool_shape(p: &Pool2d, x: &Shape) -> std::result::Result<Shape, String> {
    let &[c, h, w] = x.dims() else {
        return Err(format!(
            "expects a [c, h, w] image, its input has shape {x}"
        ));
    };
    let [oh, ow] = window_output([h, w], p.kernel, p.stride, [0, 0])?;
    Ok(Shape(vec![c, oh, ow]))
}

/// Output height and width of a sliding window; refuses empty windows,
/// zero strides and windows larger than the padded image.
pub fn window_output(
    hw: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
) -> std::result::Result<[usize; 2], String> {
    let mut out = [0; 2];
    for axis in 0..2 {
        if kernel[axis] == 0 || stride[axis] == 0 {
            return Err(format!(
                "kernel {:?} and stride {:?} must be positive",
                kernel, stride
            ));
        }
        let padded = hw[axis] + 2 * padding[axis];
        if padded < kernel[axis] {
            return Err(format!(
                "kernel {:?} is larger than the padded input {}×{}",
                kernel,
                hw[0] + 2 * padding[0],
                hw[1] + 2 * padding[1]
            ));
        }
        out[axis] = (padded - kernel[axis]) / stride[axis] + 1;
    }
    Ok(out)
}

fn table_spec(t: &TableActivation, x: &TensorSpec) -> std::result::Result<TensorSpec, String> {
    if !(1..=TableActivation::MAX_INPUT_BITS).contains(&t.input_bits) {
        return Err(format!(
            "table domain of {} bits; zkinfer allows 1 to {}",
            t.input_bits,
            TableActivation::MAX_INPUT_BITS
        ));
    }
    if t.values.len() != 1usize << t.input_bits {
        return Err(format!(
            "a {}-bit domain needs {} table values, {} given",
            t.input_bits,
            1usize << t.input_bits,
            t.values.len()
        ));
    }
    if x.bits > t.input_bits {
        return Err(format!(
            "its input may need {} bits but the table covers {}; rescale to at most {} bits first",
            x.bits, t.input_bits, t.input_bits
        ));
    }
    let max_abs = t.values.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0);
    Ok(TensorSpec {
        shape: x.shape.clone(),
        scale: t.output_scale,
        bits: ops::bits_for_magnitude(max_abs as u128),
    })
}
