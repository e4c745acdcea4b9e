//! The candle engine: runs a [`QuantizedModel`] on integer tensors and
//! returns a [`Trace`] of every intermediate tensor, equal bit for bit to
//! [`QuantizedModel::forward`].
//!
//! candle has no integer matmul or convolution, so linear and conv layers,
//! products of two activations and window sums run on integer-valued f64
//! tensors. That is exact: the
//! model's validation bounds every accumulator, and every partial sum, below
//! 2^53. Everything else runs on i64.

use crate::error::Result;
use crate::kernels;
use candle_core::{DType, Device, Tensor};
use zkinfer_quant::{self as quant, Op, QuantizedModel, Trace};

/// Runs quantized models in candle on the CPU.
#[derive(Clone, Debug)]
pub struct Engine {
    device: Device,
}

impl Default for Engine {
    fn default() -> Self {
        Engine {
            device: Device::Cpu,
        }
    }
}

impl Engine {
    /// Runs one quantized input.
    pub fn run(&self, model: &QuantizedModel, input: &quant::Tensor) -> Result<Trace> {
        Ok(self
            .run_batch(model, std::slice::from_ref(input))?
            .pop()
            .expect("one input gives one trace"))
    }

    /// Runs a batch of quantized inputs; returns one trace per input.
    ///
    /// Every tensor is checked against its declared bound, as the reference
    /// pass does: an activation beyond its calibrated bound is an error.
    pub fn run_batch(
        &self,
        model: &QuantizedModel,
        inputs: &[quant::Tensor],
    ) -> Result<Vec<Trace>> {
        if inputs.is_empty() {
            return Ok(vec![]);
        }
        for input in inputs {
            model.check_tensor(0, input)?;
        }
        let mut dims = vec![inputs.len()];
        dims.extend(model.input().shape.dims());
        let flat: Vec<i64> = inputs.iter().flat_map(|t| t.data.iter().copied()).collect();
        let mut tensors = vec![Tensor::from_vec(flat, dims, &self.device)?];
        let mut traces: Vec<Trace> = inputs
            .iter()
            .map(|x| Trace {
                tensors: vec![x.clone()],
            })
            .collect();
        for (index, node) in model.nodes().iter().enumerate() {
            let args: Vec<&Tensor> = node.inputs.iter().map(|&id| &tensors[id]).collect();
            // A division checks its divisors first, as the reference pass
            // does.
            if let Op::Divide(_) = node.op {
                let spec = &model.specs()[node.inputs[1]];
                for n in 0..inputs.len() {
                    let divisor = quant::Tensor {
                        shape: spec.shape.clone(),
                        data: args[1].get(n)?.flatten_all()?.to_vec1::<i64>()?,
                    };
                    model.check_divisor(index, &divisor)?;
                }
            }
            let out = self.apply(&node.op, &args)?;
            // Check each node before the next one reads it, as the reference
            // pass does: a table must never be indexed out of its domain.
            let shape = &model.specs()[index + 1].shape;
            for (n, trace) in traces.iter_mut().enumerate() {
                let t = quant::Tensor {
                    shape: shape.clone(),
                    data: out.get(n)?.flatten_all()?.to_vec1::<i64>()?,
                };
                model.check_tensor(index + 1, &t)?;
                trace.tensors.push(t);
            }
            tensors.push(out);
        }
        Ok(traces)
    }

    fn ints(&self, values: &[i64], dims: Vec<usize>, dtype: DType) -> Result<Tensor> {
        let t = Tensor::from_vec(values.to_vec(), dims, &self.device)?;
        Ok(t.to_dtype(dtype)?)
    }

    fn apply(&self, op: &Op, args: &[&Tensor]) -> Result<Tensor> {
        let x = args[0];
        let batch = x.dim(0)?;
        let out = match op {
            Op::Linear(l) => {
                let w = self.ints(&l.weight.data, l.weight.shape.0.clone(), DType::F64)?;
                let b = self.ints(&l.bias, vec![l.bias.len()], DType::F64)?;
                let acc = x.to_dtype(DType::F64)?.matmul(&w.t()?)?.broadcast_add(&b)?;
                acc.to_dtype(DType::I64)?
            }
            Op::Conv2d(c) => {
                let w = self.ints(&c.weight.data, c.weight.shape.0.clone(), DType::F64)?;
                let b = self.ints(&c.bias, vec![1, c.bias.len(), 1, 1], DType::F64)?;
                let acc =
                    kernels::conv2d(&x.to_dtype(DType::F64)?, &w, c.stride, c.padding, c.groups)?;
                acc.broadcast_add(&b)?.to_dtype(DType::I64)?
            }
            Op::Relu => x.maximum(&x.zeros_like()?)?,
            Op::SumPool2d(p) => {
                kernels::window_sum(&x.to_dtype(DType::F64)?, p.kernel, p.stride, p.padding)?
                    .to_dtype(DType::I64)?
            }
            Op::AvgPool2d(p) => {
                let x = x.to_dtype(DType::F64)?;
                let sum =
                    kernels::window_sum(&x, p.kernel, p.stride, p.padding)?.to_dtype(DType::I64)?;
                // The divisor of each window: its area, or the positions
                // inside the image ([`zkinfer_quant::Pool2d::divisor`]).
                let n = if p.count_include_pad || !p.is_padded() {
                    let area = (p.kernel[0] * p.kernel[1]) as i64;
                    Tensor::full(area, sum.shape(), sum.device())?
                } else {
                    kernels::window_counts(&x, p.kernel, p.stride, p.padding)?
                        .to_dtype(DType::I64)?
                        .broadcast_as(sum.shape())?
                        .contiguous()?
                };
                let half = n.broadcast_div(&Tensor::new(2i64, n.device())?)?;
                kernels::floor_div_by(&sum.add(&half)?, &n)?
            }
            Op::MaxPool2d(p) => kernels::max_pool(x, p.kernel, p.stride, p.padding)?,
            Op::Flatten => x.flatten_from(1)?,
            Op::Reshape { shape } => {
                let mut dims = vec![batch];
                dims.extend(shape.dims());
                x.reshape(dims)?
            }
            Op::Add => x.add(args[1])?,
            Op::Mul => x.mul(args[1])?,
            // floor((a·2^(shift+1) + s) / 2s), the divisors checked
            // positive; the spec keeps a·2^(shift+1) within 62 bits.
            Op::Divide(d) => {
                let s = args[1];
                let m = Tensor::full(1i64 << (d.shift + 1), x.shape(), x.device())?;
                kernels::floor_div_by(&x.mul(&m)?.add(s)?, &s.add(s)?)?
            }
            // In f64, exact: the spec bounds every partial sum below 2^53.
            Op::MatMul => {
                let (a, b) = (x.to_dtype(DType::F64)?, args[1].to_dtype(DType::F64)?);
                a.contiguous()?
                    .matmul(&b.contiguous()?)?
                    .to_dtype(DType::I64)?
            }
            Op::Select(s) => kernels::select(args, s.shape.dims(), &s.indices)?,
            Op::Rescale(r) if r.shift == 0 => x.clone(),
            Op::Rescale(r) => {
                let half = Tensor::full(1i64 << (r.shift - 1), x.shape(), x.device())?;
                kernels::floor_div_i64(&x.add(&half)?, 1i64 << r.shift)?
            }
            Op::Table(t) => {
                let table = Tensor::new(t.values.as_slice(), &self.device)?;
                let offset = Tensor::full(t.domain_min(), x.shape(), x.device())?;
                let index = x.sub(&offset)?.flatten_all()?;
                table.index_select(&index, 0)?.reshape(x.shape())?
            }
        };
        Ok(out)
    }
}
