//! The reference forward pass: plain-Rust integer inference that *defines*
//! what a [`QuantizedModel`] computes. The candle engine and the circuits
//! must agree with it bit for bit.

use crate::error::{QuantError, Result};
use crate::layer::{Conv2d, Linear, Op, Pool2d, TableActivation};
use crate::model::{window_output, QuantizedModel, TensorId};
use crate::ops;
use crate::tensor::{Shape, Tensor};

/// Every tensor of one inference: `tensors[0]` is the input, `tensors[i + 1]`
/// the output of node `i`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The tensors, indexed by [`TensorId`].
    pub tensors: Vec<Tensor>,
}

impl Trace {
    /// The model input.
    pub fn input(&self) -> &Tensor {
        &self.tensors[0]
    }

    /// The model output (the last node's tensor).
    pub fn output(&self) -> &Tensor {
        self.tensors
            .last()
            .expect("a trace holds at least the input")
    }
}

impl QuantizedModel {
    /// Quantizes a float input at the model's input scale (rounding half away
    /// from zero), refusing NaN, infinities, a wrong length, and values
    /// outside the input's declared bound.
    pub fn quantize_input(&self, values: &[f64]) -> Result<Tensor> {
        let spec = self.input();
        if values.len() != spec.shape.numel() {
            return Err(QuantError::InputLength {
                got: values.len(),
                expected: spec.shape.numel(),
                shape: spec.shape.to_string(),
            });
        }
        let (min, max) = spec.range();
        let data = values
            .iter()
            .enumerate()
            .map(|(index, &value)| {
                if !value.is_finite() {
                    return Err(QuantError::NonFiniteInput { index, value });
                }
                match ops::quantize(value, spec.scale.0) {
                    Some(q) if (min..=max).contains(&q) => Ok(q),
                    _ => Err(QuantError::InputOutOfRange {
                        index,
                        value,
                        min: spec.scale.dequantize(min),
                        max: spec.scale.dequantize(max),
                        bits: spec.bits,
                        scale: spec.scale.to_string(),
                    }),
                }
            })
            .collect::<Result<Vec<i64>>>()?;
        Ok(Tensor {
            shape: spec.shape.clone(),
            data,
        })
    }

    /// Checks that tensor `id` has its spec's shape and lies in its bound.
    pub fn check_tensor(&self, id: TensorId, tensor: &Tensor) -> Result<()> {
        let spec = &self.specs()[id];
        if tensor.shape != spec.shape {
            return Err(QuantError::InvalidModel(format!(
                "{} has shape {}, its spec says {}",
                self.tensor_label(id),
                tensor.shape,
                spec.shape
            )));
        }
        let (min, max) = spec.range();
        match tensor.data.iter().position(|v| !(min..=max).contains(v)) {
            None => Ok(()),
            Some(index) => Err(QuantError::BoundExceeded {
                tensor: self.tensor_label(id),
                index,
                value: tensor.data[index],
                bits: spec.bits,
                min,
                max,
            }),
        }
    }

    /// Runs the reference integer forward pass on a quantized input.
    ///
    /// Fails with [`QuantError::BoundExceeded`] when an activation leaves
    /// its declared bound (calibration underestimated it).
    pub fn forward(&self, input: &Tensor) -> Result<Trace> {
        self.check_tensor(0, input)?;
        let mut tensors = vec![input.clone()];
        for (index, node) in self.nodes().iter().enumerate() {
            let args: Vec<&Tensor> = node.inputs.iter().map(|&id| &tensors[id]).collect();
            let out_shape = self.specs()[index + 1].shape.clone();
            let out = apply(&node.op, &args, out_shape);
            self.check_tensor(index + 1, &out)?;
            tensors.push(out);
        }
        Ok(Trace { tensors })
    }
}

/// The reference semantics of one op. The model was validated, so shapes
/// agree and every index below is in bounds.
fn apply(op: &Op, args: &[&Tensor], out_shape: Shape) -> Tensor {
    let x = args[0];
    let data = match op {
        Op::Linear(l) => linear(l, x),
        Op::Conv2d(c) => conv2d(c, x, &out_shape),
        Op::Relu => x.data.iter().map(|&v| ops::relu(v)).collect(),
        Op::SumPool2d(p) => pool(p, x, &out_shape, |w| w.iter().sum()),
        Op::AvgPool2d(p) => {
            let n = (p.kernel[0] * p.kernel[1]) as i64;
            pool(p, x, &out_shape, |w| ops::div_round(w.iter().sum(), n))
        }
        Op::MaxPool2d(p) => pool(p, x, &out_shape, |w| {
            w.iter().copied().max().expect("windows are not empty")
        }),
        Op::Flatten | Op::Reshape { .. } => x.data.clone(),
        Op::Add => x
            .data
            .iter()
            .zip(&args[1].data)
            .map(|(a, b)| a + b)
            .collect(),
        Op::Rescale(r) => x.data.iter().map(|&v| ops::rescale(v, r.shift)).collect(),
        Op::Sigmoid(t) | Op::Tanh(t) => table(t, x),
    };
    Tensor {
        shape: out_shape,
        data,
    }
}

fn linear(l: &Linear, x: &Tensor) -> Vec<i64> {
    l.weight
        .data
        .chunks(l.in_features())
        .zip(&l.bias)
        .map(|(row, b)| row.iter().zip(&x.data).map(|(w, v)| w * v).sum::<i64>() + b)
        .collect()
}

fn conv2d(c: &Conv2d, x: &Tensor, out_shape: &Shape) -> Vec<i64> {
    let &[ic, h, w] = x.shape.dims() else {
        unreachable!("validated")
    };
    let &[oc, oh, ow] = out_shape.dims() else {
        unreachable!("validated")
    };
    let (kh, kw) = (c.weight.shape.0[2], c.weight.shape.0[3]);
    let mut out = Vec::with_capacity(oc * oh * ow);
    for o in 0..oc {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = c.bias[o];
                for i in 0..ic {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            // Padded coordinates; cells outside the image are zero.
                            let y = (oy * c.stride[0] + ky).checked_sub(c.padding[0]);
                            let xx = (ox * c.stride[1] + kx).checked_sub(c.padding[1]);
                            if let (Some(y), Some(xx)) = (y, xx) {
                                if y < h && xx < w {
                                    let weight = c.weight.data[((o * ic + i) * kh + ky) * kw + kx];
                                    acc += weight * x.data[(i * h + y) * w + xx];
                                }
                            }
                        }
                    }
                }
                out.push(acc);
            }
        }
    }
    out
}

fn pool(p: &Pool2d, x: &Tensor, out_shape: &Shape, reduce: impl Fn(&[i64]) -> i64) -> Vec<i64> {
    let &[c, h, w] = x.shape.dims() else {
        unreachable!("validated")
    };
    let [oh, ow] = window_output([h, w], p.kernel, p.stride, [0, 0]).expect("validated");
    debug_assert_eq!(out_shape.dims(), [c, oh, ow]);
    let mut window = Vec::with_capacity(p.kernel[0] * p.kernel[1]);
    let mut out = Vec::with_capacity(c * oh * ow);
    for ch in 0..c {
        for oy in 0..oh {
            for ox in 0..ow {
                window.clear();
                for ky in 0..p.kernel[0] {
                    for kx in 0..p.kernel[1] {
                        let (y, xx) = (oy * p.stride[0] + ky, ox * p.stride[1] + kx);
                        window.push(x.data[(ch * h + y) * w + xx]);
                    }
                }
                out.push(reduce(&window));
            }
        }
    }
    out
}

fn table(t: &TableActivation, x: &Tensor) -> Vec<i64> {
    x.data
        .iter()
        .map(|&v| {
            t.lookup(v)
                .expect("validated: the input bound lies in the domain")
        })
        .collect()
}
