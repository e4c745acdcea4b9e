//! The layers a quantized model is made of, with typed parameters.

use crate::function::TableFunction;
use crate::tensor::{Scale, Shape, Tensor};
use serde::{Deserialize, Serialize};

/// One operation of the graph. Every op reads integer tensors and writes one
/// integer tensor; its semantics are in [`crate::forward`] and
/// [`crate::ops`]. Model files write each op as `{"op": name, ...fields}`
/// ([`crate::format`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// `y = W·x + b` on a vector; output at scale `s_x + s_w`.
    Linear(Linear),
    /// 2-D convolution of a `[c, h, w]` image; output at scale `s_x + s_w`.
    Conv2d(Conv2d),
    /// `max(x, 0)`.
    Relu,
    /// Sum over each pooling window (same scale, wider bound).
    SumPool2d(Pool2d),
    /// Rounded mean over each pooling window ([`crate::ops::div_round`]).
    AvgPool2d(Pool2d),
    /// Maximum over each pooling window.
    MaxPool2d(Pool2d),
    /// Reshape to a vector.
    Flatten,
    /// Reshape to the given shape (same number of elements).
    Reshape {
        /// The new shape.
        shape: Shape,
    },
    /// Element-wise sum of two tensors of the same shape and scale.
    Add,
    /// Element-wise product of two tensors of the same shape; output at
    /// scale `s_a + s_b` (a [`Rescale`] usually follows, as after a
    /// linear layer).
    Mul,
    /// Matrix product of two activations, `[…, m, k] × […, k, n] → […,
    /// m, n]` over equal leading (batch) dims: attention's `Q·Kᵀ` and
    /// `weights·V`. Output at scale `s_a + s_b`, exact (a [`Rescale`]
    /// usually follows).
    #[cfg(feature = "transformers")]
    MatMul,
    /// Rounding division of the first tensor by the second, element by
    /// element, `round(a·2^shift / s)` ([`crate::ops::divide`]), the
    /// divisor positive (checked at run time): a softmax's normalisation.
    /// Output at scale `s_a + shift − s_s`, within `bits`.
    #[cfg(feature = "transformers")]
    Divide(Divide),
    /// Rounding shift to a smaller scale, with a declared output bound.
    Rescale(Rescale),
    /// A function through a lookup table over a bounded domain.
    Table(TableActivation),
    /// Values moved, not computed: each output element is one input
    /// element, or zero ([`Select`]).
    Select(Select),
}

impl Op {
    /// The op's name as written in model files.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Linear(_) => "linear",
            Op::Conv2d(_) => "conv2d",
            Op::Relu => "relu",
            Op::SumPool2d(_) => "sum_pool2d",
            Op::AvgPool2d(_) => "avg_pool2d",
            Op::MaxPool2d(_) => "max_pool2d",
            Op::Flatten => "flatten",
            Op::Reshape { .. } => "reshape",
            Op::Add => "add",
            Op::Mul => "mul",
            #[cfg(feature = "transformers")]
            Op::MatMul => "matmul",
            #[cfg(feature = "transformers")]
            Op::Divide(_) => "divide",
            Op::Rescale(_) => "rescale",
            Op::Table(t) => t.function.name(),
            Op::Select(_) => "select",
        }
    }

    /// How many input tensors the op reads.
    pub fn arity(&self) -> std::ops::RangeInclusive<usize> {
        match self {
            Op::Add | Op::Mul => 2..=2,
            #[cfg(feature = "transformers")]
            Op::MatMul | Op::Divide(_) => 2..=2,
            Op::Select(_) => 1..=Select::MAX_INPUTS,
            _ => 1..=1,
        }
    }

    /// Number of weight and bias parameters.
    pub fn parameter_count(&self) -> usize {
        match self {
            Op::Linear(l) => l.weight.data.len() + l.bias.len(),
            Op::Conv2d(c) => c.weight.data.len() + c.bias.len(),
            _ => 0,
        }
    }
}

/// A fully connected layer. `weight` has shape `[out, in]`; `bias` has `out`
/// entries at the accumulator scale `s_x + weight_scale`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Linear {
    /// `[out_features, in_features]`, row-major.
    pub weight: Tensor,
    /// The scale of `weight`.
    pub weight_scale: Scale,
    /// One bias per output, at the accumulator scale.
    pub bias: Vec<i64>,
}

impl Linear {
    /// `out_features`.
    pub fn out_features(&self) -> usize {
        self.weight.shape.dims().first().copied().unwrap_or(0)
    }

    /// `in_features`.
    pub fn in_features(&self) -> usize {
        self.weight.shape.dims().get(1).copied().unwrap_or(0)
    }
}

/// A 2-D convolution (cross-correlation, as in PyTorch) with zero padding,
/// grouped or depthwise when `groups > 1`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conv2d {
    /// `[out_channels, in_channels / groups, kernel_h, kernel_w]`,
    /// row-major.
    pub weight: Tensor,
    /// The scale of `weight`.
    pub weight_scale: Scale,
    /// One bias per output channel, at the accumulator scale.
    pub bias: Vec<i64>,
    /// `[stride_h, stride_w]`.
    pub stride: [usize; 2],
    /// Zero padding `[pad_h, pad_w]` on each side.
    pub padding: [usize; 2],
    /// Channel groups: output channel `o` reads only the input channels of
    /// group `o / (out_channels / groups)`. Depthwise: `groups` = input
    /// channels.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub groups: usize,
}

fn one() -> usize {
    1
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

/// An op that only moves values: transposes, slices, concatenations,
/// splits, squeezes, zero, edge and reflect padding, nearest-neighbour
/// upsampling. Output element `j` is element `indices[j]` of the inputs
/// laid end to end (every element of the first input, then of the second,
/// …), or zero where the index is `None`. Its inputs share one scale; the
/// circuit proves it with no rows, as the output cells are the input
/// cells (and the circuit's constant zero).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Select {
    /// The output's shape.
    pub shape: Shape,
    /// One source per output element, row-major.
    pub indices: Vec<Option<usize>>,
}

impl Select {
    /// The most inputs one select may read (a concatenation of 64 tensors).
    pub const MAX_INPUTS: usize = 64;
}

/// The dimensions of a [`Op::MatMul`]: `batch` products of an `[m, k]`
/// and a `[k, n]` matrix, each operand row-major after its batch index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatMulDims {
    /// The product of the leading dims.
    pub batch: usize,
    /// Rows of the left operand.
    pub m: usize,
    /// The shared (summed) dimension.
    pub k: usize,
    /// Columns of the right operand.
    pub n: usize,
}

impl MatMulDims {
    /// The dims of `a × b`, or why the shapes do not multiply: both of
    /// rank 2 or more, the same leading dims, `a`'s last equal to `b`'s
    /// second to last.
    pub fn of(shape_a: &Shape, shape_b: &Shape) -> Result<Self, String> {
        let (a, b) = (shape_a.dims(), shape_b.dims());
        let refuse = || Err(format!("multiplies matrices {shape_a} and {shape_b}"));
        if a.len() < 2 || a.len() != b.len() || a[..a.len() - 2] != b[..b.len() - 2] {
            return refuse();
        }
        let [m, k] = [a[a.len() - 2], a[a.len() - 1]];
        let [kb, n] = [b[b.len() - 2], b[b.len() - 1]];
        if k != kb || k == 0 {
            return refuse();
        }
        Ok(MatMulDims {
            batch: a[..a.len() - 2].iter().product(),
            m,
            k,
            n,
        })
    }

    /// The output's shape: the leading dims of `a`, then `[m, n]`.
    pub fn output(&self, a: &Shape) -> Shape {
        let mut dims = a.dims()[..a.dims().len() - 2].to_vec();
        dims.extend([self.m, self.n]);
        Shape(dims)
    }

    /// Output element `e`'s terms: `(index into a, index into b)` for each
    /// `l < k`, in order.
    pub fn terms(&self, e: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let (b, i, j) = (e / (self.m * self.n), e / self.n % self.m, e % self.n);
        (0..self.k).map(move |l| ((b * self.m + i) * self.k + l, (b * self.k + l) * self.n + j))
    }

    /// The number of output elements.
    pub fn outputs(&self) -> usize {
        self.batch * self.m * self.n
    }
}

/// A pooling window, with optional padding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool2d {
    /// `[kernel_h, kernel_w]`.
    pub kernel: [usize; 2],
    /// `[stride_h, stride_w]`.
    pub stride: [usize; 2],
    /// `[pad_h, pad_w]` on each side, at most half the kernel: padded
    /// positions are left out of every window (a maximum never sees them,
    /// a sum adds nothing).
    #[serde(default, skip_serializing_if = "is_zero_pair")]
    pub padding: [usize; 2],
    /// Average pools only: divide by the whole kernel area, padded
    /// positions included (ONNX's `count_include_pad = 1`); otherwise by
    /// the number of positions inside the image.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub count_include_pad: bool,
}

impl Pool2d {
    /// A window without padding.
    pub fn new(kernel: [usize; 2], stride: [usize; 2]) -> Self {
        Pool2d {
            kernel,
            stride,
            ..Pool2d::default()
        }
    }

    /// Whether any side is padded.
    pub fn is_padded(&self) -> bool {
        !is_zero_pair(&self.padding)
    }

    /// The divisor of an average over `window` (the positions inside the
    /// image that one output reads).
    pub fn divisor(&self, window: usize) -> i64 {
        if self.count_include_pad {
            (self.kernel[0] * self.kernel[1]) as i64
        } else {
            window as i64
        }
    }
}

fn is_zero_pair(pair: &[usize; 2]) -> bool {
    *pair == [0, 0]
}

/// A rounding shift `y = rescale(x, shift)` whose output must fit in `bits`
/// (checked at run time and proven by the circuit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rescale {
    /// Number of bits shifted out; the output scale is `s_x - shift`.
    pub shift: u32,
    /// Declared signed bit width of the output.
    pub bits: u32,
}

/// The parameters of [`Op::Divide`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Divide {
    /// The quotient's extra precision: `y = round(a·2^shift / s)`.
    pub shift: u32,
    /// Declared signed bit width of the quotient (checked at run time and
    /// proven by the circuit).
    pub bits: u32,
}

/// A function over a bounded integer domain, given by its table:
/// `y = values[x + 2^(input_bits-1)]` for `x` in `[-2^(input_bits-1),
/// 2^(input_bits-1))`. The input tensor's bound must lie inside the domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableActivation {
    /// The function tabulated (the values are its outputs, as calibration
    /// rounded them; the integer semantics is the table).
    pub function: TableFunction,
    /// The domain's signed bit width; the table has `2^input_bits` entries.
    pub input_bits: u32,
    /// The scale of the table's outputs.
    pub output_scale: Scale,
    /// The outputs, one per domain point, smallest input first.
    pub values: Vec<i64>,
}

impl TableActivation {
    /// The largest domain a table may have (2^16 entries).
    pub const MAX_INPUT_BITS: u32 = 16;

    /// The smallest input of the domain.
    pub fn domain_min(&self) -> i64 {
        -(1i64 << (self.input_bits - 1))
    }

    /// `f(x)`; `None` outside the domain.
    pub fn lookup(&self, x: i64) -> Option<i64> {
        let index = x.checked_sub(self.domain_min())?;
        usize::try_from(index)
            .ok()
            .and_then(|i| self.values.get(i).copied())
    }
}
