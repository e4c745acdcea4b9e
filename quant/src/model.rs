//! [`QuantizedModel`]: a validated graph of integer layers, with the shape,
//! scale and bound of every tensor derived from it.

use crate::error::{QuantError, Result};
use crate::layer::{Conv2d, Linear, Op, Pool2d, Select, TableActivation};
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
    check_scale("scale", input.scale)
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
        let arity = node.op.arity();
        if !arity.contains(&node.inputs.len()) {
            let takes = if arity.start() == arity.end() {
                arity.start().to_string()
            } else {
                format!("{} to {}", arity.start(), arity.end())
            };
            return Err(fail(format!(
                "takes {takes} input(s), {} given",
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
        check_scale("output scale", spec.scale).map_err(fail)?;
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

/// Refuses a scale outside `±`[`Scale::MAX_ABS`], naming the field.
fn check_scale(field: &str, scale: Scale) -> std::result::Result<(), String> {
    match scale.checked() {
        Some(_) => Ok(()),
        None => Err(format!(
            "{field} {} is out of range (|scale| ≤ {}: values are q / 2^scale)",
            scale.0,
            Scale::MAX_ABS
        )),
    }
}

/// `a + b` for the accumulator scale `s_x + s_w`, both checked first.
fn sum_scale(x: Scale, weight_scale: Scale) -> std::result::Result<Scale, String> {
    check_scale("weight_scale", weight_scale)?;
    // Both are within ±64, so the sum is an i32; its range is checked by the
    // caller with the other derived scales.
    Ok(Scale(x.0 + weight_scale.0))
}

/// The spec of an op's output, or why the op cannot apply to its inputs.
fn node_spec(op: &Op, args: &[&TensorSpec]) -> std::result::Result<TensorSpec, String> {
    let x = args[0];
    match op {
        Op::Linear(l) => linear_spec(l, x),
        Op::Conv2d(c) => conv2d_spec(c, x),
        Op::Relu => Ok(x.clone()),
        Op::SumPool2d(p) | Op::MaxPool2d(p) if p.count_include_pad => {
            Err("count_include_pad applies to average pools only".into())
        }
        Op::SumPool2d(p) => {
            let shape = pool_shape(p, &x.shape)?;
            // The window fits the image, whose size is bounded: no overflow,
            // but saturate anyway so a mistake shows as too many bits.
            let window = (p.kernel[0] as u128).saturating_mul(p.kernel[1] as u128);
            let max_abs = window.saturating_mul(1u128 << (x.bits - 1));
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
            if shape.numel() > MAX_ELEMENTS {
                return Err(format!(
                    "shape {shape} has more than {MAX_ELEMENTS} elements"
                ));
            }
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
        Op::Mul => {
            let y = args[1];
            if x.shape != y.shape {
                return Err(format!("multiplies shapes {} and {}", x.shape, y.shape));
            }
            let scale = sum_scale(x.scale, y.scale)?;
            // |a| ≤ 2^(bits_a - 1) and |b| ≤ 2^(bits_b - 1); both bits are
            // at most MAX_BITS, so the u128 product cannot overflow.
            let max_abs = (1u128 << (x.bits - 1)) * (1u128 << (y.bits - 1));
            Ok(TensorSpec {
                shape: x.shape.clone(),
                scale,
                bits: ops::bits_for_magnitude(max_abs),
            })
        }
        #[cfg(feature = "transformers")]
        Op::Divide(d) => {
            let s = args[1];
            if x.shape != s.shape {
                return Err(format!("divides shapes {} and {}", x.shape, s.shape));
            }
            // a·2^(shift+1) must fit 62 bits (the engine's i64, with room
            // for the divisor added).
            if x.bits + d.shift + 1 > 62 {
                return Err(format!(
                    "a {}-bit dividend shifted by {} needs more than 62 bits",
                    x.bits, d.shift
                ));
            }
            // Both scales are within ±64 and the shift within 61: an i32.
            Ok(TensorSpec {
                shape: x.shape.clone(),
                scale: Scale(x.scale.0 + d.shift as i32 - s.scale.0),
                bits: d.bits,
            })
        }
        #[cfg(feature = "transformers")]
        Op::MatMul => {
            let y = args[1];
            let dims = crate::layer::MatMulDims::of(&x.shape, &y.shape)?;
            let scale = sum_scale(x.scale, y.scale)?;
            // k ≤ MAX_ELEMENTS and each factor ≤ 2^(MAX_BITS − 1): the
            // saturating u128 product shows an overflow as too many bits.
            let max_abs = (dims.k as u128)
                .saturating_mul(1u128 << (x.bits - 1))
                .saturating_mul(1u128 << (y.bits - 1));
            Ok(TensorSpec {
                shape: dims.output(&x.shape),
                scale,
                bits: ops::bits_for_magnitude(max_abs),
            })
        }
        Op::Rescale(r) => {
            if r.shift > 62 {
                return Err(format!("shift {} is larger than 62", r.shift));
            }
            // shift ≤ 62 and |scale| ≤ 64: an i32 holds the difference.
            Ok(TensorSpec {
                shape: x.shape.clone(),
                scale: Scale(x.scale.0 - r.shift as i32),
                bits: r.bits,
            })
        }
        Op::Table(t) => table_spec(t, x),
        Op::Select(s) => select_spec(s, args),
    }
}

fn select_spec(s: &Select, args: &[&TensorSpec]) -> std::result::Result<TensorSpec, String> {
    if s.shape.numel() > MAX_ELEMENTS || s.indices.len() != s.shape.numel() {
        return Err(format!(
            "{} indices for shape {} (at most {MAX_ELEMENTS} elements)",
            s.indices.len(),
            s.shape
        ));
    }
    let scale = args[0].scale;
    if let Some(other) = args.iter().find(|a| a.scale != scale) {
        return Err(format!(
            "selects from scales {} and {}; rescale the inputs to one scale first",
            scale, other.scale
        ));
    }
    // Each input has at most MAX_ELEMENTS elements and there are at most
    // Select::MAX_INPUTS of them: no overflow.
    let available: usize = args.iter().map(|a| a.shape.numel()).sum();
    if let Some((j, i)) = s
        .indices
        .iter()
        .enumerate()
        .find_map(|(j, i)| i.filter(|&i| i >= available).map(|i| (j, i)))
    {
        return Err(format!(
            "element {j} reads index {i}, but its inputs hold {available} elements"
        ));
    }
    Ok(TensorSpec {
        shape: s.shape.clone(),
        scale,
        bits: args.iter().map(|a| a.bits).max().unwrap_or(1),
    })
}

/// `max_i Σ_j |w_ij|·2^(b-1) + |b_i|`, the largest accumulator magnitude.
/// Saturating: a sum beyond 2^128 reads as 129 bits, which is refused.
fn accumulator_bits<'a>(rows: impl Iterator<Item = (&'a [i64], i64)>, input_bits: u32) -> u32 {
    let x_max = 1u128 << (input_bits - 1);
    let max_abs = rows
        .map(|(w, b)| {
            let weights = w
                .iter()
                .fold(0u128, |sum, v| sum.saturating_add(v.unsigned_abs().into()));
            weights
                .saturating_mul(x_max)
                .saturating_add(b.unsigned_abs().into())
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
        scale: sum_scale(x.scale, l.weight_scale)?,
        bits: accumulator_bits(rows, x.bits),
    })
}

fn conv2d_spec(c: &Conv2d, x: &TensorSpec) -> std::result::Result<TensorSpec, String> {
    let dims = c.weight.shape.dims();
    if dims.len() != 4 || dims.contains(&0) {
        return Err(format!(
            "weight shape {} is not [out_channels, in_channels / groups, kh, kw]",
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
    let (oc, icg, kh, kw) = (dims[0], dims[1], dims[2], dims[3]);
    let groups = c.groups;
    if groups == 0 || oc % groups != 0 {
        return Err(format!(
            "{groups} groups do not divide {oc} output channels"
        ));
    }
    // icg · groups ≤ the input's channel count, itself bounded.
    let ic = icg.saturating_mul(groups);
    let [h, w] = match x.shape.dims() {
        &[channels, h, w] if channels == ic => [h, w],
        _ => {
            return Err(format!(
                "expects a [{ic}, h, w] image ({groups} groups of {icg} channels), its input has shape {}",
                x.shape
            ))
        }
    };
    if c.bias.len() != oc {
        return Err(format!("{} biases for {oc} output channels", c.bias.len()));
    }
    let [_, oh, ow] = conv2d_output([ic, h, w], oc, [kh, kw], c.stride, c.padding)?;
    let rows = c
        .weight
        .data
        .chunks(icg * kh * kw)
        .zip(c.bias.iter().copied());
    Ok(TensorSpec {
        shape: Shape(vec![oc, oh, ow]),
        scale: sum_scale(x.scale, c.weight_scale)?,
        bits: accumulator_bits(rows, x.bits),
    })
}

fn pool_shape(p: &Pool2d, x: &Shape) -> std::result::Result<Shape, String> {
    let &[c, h, w] = x.dims() else {
        return Err(format!(
            "expects a [c, h, w] image, its input has shape {x}"
        ));
    };
    Ok(Shape(pool2d_output(p, [c, h, w])?.to_vec()))
}

/// The output shape `[c, oh, ow]` of a pool over a `[c, h, w]` image:
/// [`window_output`], and a refusal of padding beyond half the kernel.
pub fn pool2d_output(p: &Pool2d, [c, h, w]: [usize; 3]) -> std::result::Result<[usize; 3], String> {
    for axis in 0..2 {
        if p.padding[axis] > p.kernel[axis] / 2 {
            return Err(format!(
                "padding {:?} is more than half the kernel {:?}: a window would hold only padding",
                p.padding, p.kernel
            ));
        }
    }
    let [oh, ow] = window_output([h, w], p.kernel, p.stride, p.padding)?;
    Ok([c, oh, ow])
}

/// Output height and width of a sliding window; refuses empty windows,
/// zero strides, windows larger than the padded image, and a padded image
/// of more than [`MAX_ELEMENTS`] cells (the engine materializes it). Every
/// sum is checked: a padding of 2^63 is an error, not a wrap to 0.
pub fn window_output(
    hw: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
) -> std::result::Result<[usize; 2], String> {
    let mut out = [0; 2];
    let mut padded = [0; 2];
    for axis in 0..2 {
        if kernel[axis] == 0 || stride[axis] == 0 {
            return Err(format!(
                "kernel {:?} and stride {:?} must be positive",
                kernel, stride
            ));
        }
        padded[axis] = padding[axis]
            .checked_mul(2)
            .and_then(|p| p.checked_add(hw[axis]))
            .ok_or_else(|| format!("padding {} is too large", padding[axis]))?;
    }
    if padded[0]
        .checked_mul(padded[1])
        .is_none_or(|cells| cells > MAX_ELEMENTS)
    {
        return Err(format!(
            "padding {:?} is too large: the padded input {}×{} has more than {MAX_ELEMENTS} cells",
            padding, padded[0], padded[1]
        ));
    }
    for axis in 0..2 {
        if padded[axis] < kernel[axis] {
            return Err(format!(
                "kernel {:?} is larger than the padded input {}×{}",
                kernel, padded[0], padded[1]
            ));
        }
        out[axis] = (padded[axis] - kernel[axis]) / stride[axis] + 1;
    }
    Ok(out)
}

/// The output shape `[oc, oh, ow]` of a convolution over a `[c, h, w]`
/// image: [`window_output`], and a refusal when the stride-1 convolution
/// the engines compute before subsampling would exceed [`MAX_ELEMENTS`].
pub fn conv2d_output(
    input: [usize; 3],
    out_channels: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
) -> std::result::Result<[usize; 3], String> {
    let [_, h, w] = input;
    let [oh, ow] = window_output([h, w], kernel, stride, padding)?;
    // window_output checked that h + 2·pad fits and is at least the kernel.
    let dense = [h, w]
        .iter()
        .zip(kernel)
        .zip(padding)
        .map(|((&n, k), p)| n + 2 * p + 1 - k)
        .try_fold(out_channels, |n, d| n.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS);
    if dense.is_none() {
        return Err(format!(
            "{out_channels} output channels over the padded input are more than \
             {MAX_ELEMENTS} values (kernel {kernel:?}, padding {padding:?})"
        ));
    }
    Ok([out_channels, oh, ow])
}

fn table_spec(t: &TableActivation, x: &TensorSpec) -> std::result::Result<TensorSpec, String> {
    if !t.function.is_valid() {
        return Err(format!(
            "the {} table has a parameter out of range",
            t.function
        ));
    }
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
    check_scale("output_scale", t.output_scale)?;
    Ok(TensorSpec {
        shape: x.shape.clone(),
        scale: t.output_scale,
        bits: ops::bits_for_magnitude(max_abs as u128),
    })
}
