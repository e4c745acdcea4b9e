//! Small candle building blocks shared by the float model and the integer
//! engine: convolution with per-axis stride and padding, window sums, and
//! table functions on floats.

use candle_core::{DType, Result, Tensor};
use zkinfer_quant::TableFunction;

/// Convolution of an `[n, c, h, w]` batch with `[o, c / groups, kh, kw]`
/// kernels, zero padding `padding` on each side and per-axis `stride`.
///
/// candle takes one padding and one stride for both axes; asymmetric ones are
/// applied here (explicit zero padding, and subsampling a stride-1 result).
pub fn conv2d(
    x: &Tensor,
    kernel: &Tensor,
    stride: [usize; 2],
    padding: [usize; 2],
    groups: usize,
) -> Result<Tensor> {
    let x = if padding[0] == padding[1] {
        x.clone()
    } else {
        x.pad_with_zeros(2, padding[0], padding[0])?
            .pad_with_zeros(3, padding[1], padding[1])?
    };
    let pad = if padding[0] == padding[1] {
        padding[0]
    } else {
        0
    };
    if stride[0] == stride[1] {
        return x.conv2d(kernel, pad, stride[0], 1, groups);
    }
    let full = x.conv2d(kernel, pad, 1, 1, groups)?;
    let full = subsample(&full, 2, stride[0])?;
    subsample(&full, 3, stride[1])
}

/// Keeps every `step`-th index of dimension `dim`, starting at 0.
fn subsample(x: &Tensor, dim: usize, step: usize) -> Result<Tensor> {
    if step == 1 {
        return Ok(x.clone());
    }
    let len = x.dim(dim)?;
    let keep: Vec<u32> = (0..len).step_by(step).map(|i| i as u32).collect();
    let ids = Tensor::new(keep.as_slice(), x.device())?;
    x.index_select(&ids, dim)
}

/// Sum over each `kernel` window of an `[n, c, h, w]` batch, zero padded:
/// a depthwise convolution with a kernel of ones, in the batch's float
/// dtype.
pub fn window_sum(
    x: &Tensor,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
) -> Result<Tensor> {
    let channels = x.dim(1)?;
    let ones = Tensor::ones((channels, 1, kernel[0], kernel[1]), x.dtype(), x.device())?;
    conv2d(x, &ones, stride, padding, channels)
}

/// How many positions inside the image each window of a padded pool over
/// an `[n, c, h, w]` batch reads: `[1, 1, oh, ow]`, in the batch's dtype.
pub fn window_counts(
    x: &Tensor,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
) -> Result<Tensor> {
    let (h, w) = (x.dim(2)?, x.dim(3)?);
    let ones = Tensor::ones((1, 1, h, w), x.dtype(), x.device())?;
    window_sum(&ones, kernel, stride, padding)
}

/// Max pooling of an `[n, c, h, w]` batch with padding that no window's
/// maximum sees: the edges are replicated, and every padded window also
/// holds the edge it copies (padding is at most half the kernel).
pub fn max_pool(
    x: &Tensor,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
) -> Result<Tensor> {
    let x = x
        .pad_with_same(2, padding[0], padding[0])?
        .pad_with_same(3, padding[1], padding[1])?;
    x.max_pool2d_with_stride((kernel[0], kernel[1]), (stride[0], stride[1]))
}

/// Floor division of an i64 tensor by a positive constant.
pub fn floor_div_i64(t: &Tensor, d: i64) -> Result<Tensor> {
    floor_div_by(t, &Tensor::full(d, t.shape(), t.device())?)
}

/// Floor division of an i64 tensor by positive i64 divisors of the same
/// shape.
///
/// candle's integer division truncates toward zero; where it rounded a
/// negative quotient up (`q·d > t`), step one down.
pub fn floor_div_by(t: &Tensor, divisor: &Tensor) -> Result<Tensor> {
    debug_assert_eq!(t.dtype(), DType::I64);
    let q = t.div(divisor)?;
    let rounded_up = q.mul(divisor)?.gt(t)?.to_dtype(DType::I64)?;
    q.sub(&rounded_up)
}

/// A select over a batch: each `[n, …]` input flattened per sample and laid
/// end to end, then output element `j` of every sample is element
/// `indices[j]` (zero for `None`), reshaped to `[n, shape…]`.
pub fn select(inputs: &[&Tensor], shape: &[usize], indices: &[Option<usize>]) -> Result<Tensor> {
    let batch = inputs[0].dim(0)?;
    let mut flat = inputs
        .iter()
        .map(|t| t.flatten_from(1))
        .collect::<Result<Vec<_>>>()?;
    // One zero column at the end stands for every `None`.
    flat.push(flat[0].narrow(1, 0, 1)?.zeros_like()?);
    let all = Tensor::cat(&flat, 1)?;
    let zero = all.dim(1)? - 1;
    let ids: Vec<u32> = indices.iter().map(|i| i.unwrap_or(zero) as u32).collect();
    let ids = Tensor::new(ids.as_slice(), all.device())?;
    let mut dims = vec![batch];
    dims.extend(shape);
    all.index_select(&ids, 1)?.reshape(dims)
}

/// A table function applied to a float tensor: its formula
/// ([`TableFunction::eval`]), with candle's own kernels where candle has
/// the function.
pub fn activation(x: &Tensor, function: TableFunction) -> Result<Tensor> {
    match function {
        TableFunction::Sigmoid => candle_nn::ops::sigmoid(x),
        TableFunction::Tanh => x.tanh(),
        other => {
            let values: Vec<f32> = x
                .flatten_all()?
                .to_dtype(DType::F32)?
                .to_vec1::<f32>()?
                .into_iter()
                .map(|v| other.eval(v as f64) as f32)
                .collect();
            Tensor::from_vec(values, x.shape(), x.device())?.to_dtype(x.dtype())
        }
    }
}
