//! The reference forward pass: plain-Rust integer inference that *defines*
//! what a [`QuantizedModel`] computes. The candle engine and the circuits
//! must agree with it bit for bit.

use crate::error::{QuantError, Result};
use crate::layer::{Conv2d, Linear, Op, Pool2d, TableActivation};
use crate::model::{QuantizedModel, TensorId};
use crate::ops;
use crate::taps::{conv_taps, pool_windows};
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

    /// Refuses a divisor of node `node` that is not positive.
    #[cfg(feature = "transformers")]
    pub fn check_divisor(&self, node: usize, divisor: &Tensor) -> Result<()> {
        match divisor.data.iter().position(|&s| s < 1) {
            None => Ok(()),
            Some(index) => Err(QuantError::NonPositiveDivisor {
                tensor: self.tensor_label(node + 1),
                index,
                value: divisor.data[index],
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
            #[cfg(feature = "transformers")]
            if let Op::Divide(_) = node.op {
                self.check_divisor(index, args[1])?;
            }
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
        Op::Conv2d(c) => conv2d(c, x),
        Op::Relu => x.data.iter().map(|&v| ops::relu(v)).collect(),
        Op::SumPool2d(p) => pool(p, x, |w| w.iter().sum()),
        Op::AvgPool2d(p) => pool(p, x, |w| ops::div_round(w.iter().sum(), p.divisor(w.len()))),
        Op::MaxPool2d(p) => pool(p, x, |w| {
            w.iter().copied().max().expect("windows are not empty")
        }),
        Op::Flatten | Op::Reshape { .. } => x.data.clone(),
        Op::Add => x
            .data
            .iter()
            .zip(&args[1].data)
            .map(|(a, b)| a + b)
            .collect(),
        // The spec bounds the product within MAX_BITS: no overflow.
        Op::Mul => x
            .data
            .iter()
            .zip(&args[1].data)
            .map(|(a, b)| a * b)
            .collect(),
        // The spec bounds every partial sum within MAX_BITS: no overflow.
        // The divisors were checked positive (QuantizedModel::forward).
        #[cfg(feature = "transformers")]
        Op::Divide(d) => x
            .data
            .iter()
            .zip(&args[1].data)
            .map(|(&a, &s)| ops::divide(a, s, d.shift))
            .collect(),
        #[cfg(feature = "transformers")]
        Op::MatMul => {
            let y = &args[1].data;
            let dims = crate::layer::MatMulDims::of(&x.shape, &args[1].shape).expect("validated");
            (0..dims.outputs())
                .map(|e| dims.terms(e).map(|(a, b)| x.data[a] * y[b]).sum())
                .collect()
        }
        Op::Rescale(r) => x.data.iter().map(|&v| ops::rescale(v, r.shift)).collect(),
        Op::Table(t) => table(t, x),
        Op::Select(s) => {
            let all: Vec<i64> = args.iter().flat_map(|t| t.data.iter().copied()).collect();
            s.indices.iter().map(|i| i.map_or(0, |i| all[i])).collect()
        }
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

fn conv2d(c: &Conv2d, x: &Tensor) -> Vec<i64> {
    conv_taps(c, &x.shape)
        .iter()
        .map(|(taps, bias)| bias + taps.iter().map(|&(w, i)| w * x.data[i]).sum::<i64>())
        .collect()
}

fn pool(p: &Pool2d, x: &Tensor, reduce: impl Fn(&[i64]) -> i64) -> Vec<i64> {
    pool_windows(&x.shape, p)
        .iter()
        .map(|window| {
            let values: Vec<i64> = window.iter().map(|&i| x.data[i]).collect();
            reduce(&values)
        })
        .collect()
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
