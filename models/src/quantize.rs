//! Post-training quantization with calibration: picks power-of-two scales
//! and bounds from what a float model computes on sample data, and builds a
//! [`QuantizedModel`].
//!
//! * Weights: per layer, the largest scale at which every weight fits in
//!   `weight_bits` (rounding half away from zero); biases at the accumulator
//!   scale `s_x + s_w`.
//! * Activations: each linear or conv layer is followed by a [`Rescale`] to
//!   the largest scale at which the calibrated maximum fits in
//!   `activation_bits - headroom_bits` bits; the declared bound is
//!   `activation_bits`, so inputs up to `2^headroom_bits` times larger than
//!   anything seen in calibration still fit.
//! * Tables (sigmoid, tanh, GELU, …): a rescale into a `table_bits` domain
//!   (exp: 12 bits), then a table whose outputs keep `activation_bits - 2`
//!   bits below their largest value; a function that grows without bound
//!   (exp, 1/x, 1/√x, ln) holds its value beyond its calibrated inputs, so
//!   that value is not set by inputs never seen.
//!
//! The result is refused when an accumulator could reach 2^53 (where the f64
//! engine stops being exact) or when a calibration sample leaves a bound.

use crate::arch::FloatOp;
use crate::error::{ModelError, Result};
use crate::float::FloatModel;
use candle_core::{Device, Tensor};
use zkinfer_quant::{
    self as quant, ops, Calibration, Conv2d, Linear, Node, Op, QuantizedModel, Rescale, Scale,
    Shape, TableActivation, TableFunction, TensorId, TensorSpec,
};

/// Bit budgets for quantization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuantizeOptions {
    /// Signed bits per weight.
    pub weight_bits: u32,
    /// Declared signed bits of every activation (the bound the circuit checks).
    pub activation_bits: u32,
    /// Bits of the activation bound kept free above the calibrated maximum.
    pub headroom_bits: u32,
    /// Signed bits of the domain of sigmoid and tanh tables.
    pub table_bits: u32,
}

impl Default for QuantizeOptions {
    fn default() -> Self {
        QuantizeOptions {
            weight_bits: 8,
            activation_bits: 12,
            headroom_bits: 1,
            table_bits: 8,
        }
    }
}

/// Quantizes a float model, calibrating on `samples` (flat inputs).
pub fn quantize(
    model: &FloatModel,
    samples: &[Vec<f32>],
    options: &QuantizeOptions,
) -> Result<QuantizedModel> {
    check_options(options)?;
    let batch = calibration_batch(model, samples)?;
    let floats = model.forward_all(&batch)?;
    let max_abs = floats
        .iter()
        .map(|t| Ok(t.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()? as f64))
        .collect::<Result<Vec<f64>>>()?;
    // The extremes of each tensor, signed: where a table that grows
    // without bound stops growing (below).
    let max_value = floats
        .iter()
        .map(|t| Ok(t.flatten_all()?.max(0)?.to_scalar::<f32>()? as f64))
        .collect::<Result<Vec<f64>>>()?;
    let min_value = floats
        .iter()
        .map(|t| Ok(t.flatten_all()?.min(0)?.to_scalar::<f32>()? as f64))
        .collect::<Result<Vec<f64>>>()?;
    let flat_input = batch.flatten_all()?;
    let calibration = Calibration {
        samples: samples.len(),
        input_min: flat_input.min(0)?.to_scalar::<f32>()? as f64,
        input_max: flat_input.max(0)?.to_scalar::<f32>()? as f64,
    };

    let act = options.activation_bits - options.headroom_bits;
    let input = TensorSpec {
        shape: Shape(model.arch().input_shape.clone()),
        scale: Scale(fit_scale(max_abs[0], act)),
        bits: options.activation_bits,
    };
    let mut graph = GraphBuilder::new(model.arch().name.clone(), input);
    // Float tensor id → quantized tensor id.
    let mut ids: Vec<TensorId> = vec![0];
    for (i, layer) in model.arch().layers.iter().enumerate() {
        let args: Vec<TensorId> = layer.input_ids(i).iter().map(|&f| ids[f]).collect();
        let x = args[0];
        // A linear or conv layer read only by a table activation rescales
        // straight into the table's domain: one rounding, not two.
        let (out_scale, out_bits) = if feeds_only_a_table(model, i) {
            let bits = options.table_bits;
            (
                Scale(fit_scale(max_abs[i + 1], bits - options.headroom_bits)),
                bits,
            )
        } else {
            (
                Scale(fit_scale(max_abs[i + 1], act)),
                options.activation_bits,
            )
        };
        let id = match &layer.op {
            FloatOp::Linear { name, .. } => {
                let s_x = graph.spec(x).scale;
                let (weight, bias) = model.weight_and_bias(name)?;
                let (weight, weight_scale, bias) = quantize_params(weight, bias, s_x, options)?;
                let acc = graph.push(
                    Op::Linear(Linear {
                        weight,
                        weight_scale,
                        bias,
                    }),
                    &[x],
                )?;
                graph.rescale_to(acc, out_scale, out_bits)?
            }
            FloatOp::Conv2d {
                name,
                stride,
                padding,
                groups,
                ..
            } => {
                let s_x = graph.spec(x).scale;
                let (weight, bias) = model.weight_and_bias(name)?;
                let (weight, weight_scale, bias) = quantize_params(weight, bias, s_x, options)?;
                let conv = Conv2d {
                    weight,
                    weight_scale,
                    bias,
                    stride: *stride,
                    padding: *padding,
                    groups: *groups,
                };
                let acc = graph.push(Op::Conv2d(conv), &[x])?;
                graph.rescale_to(acc, out_scale, out_bits)?
            }
            FloatOp::Relu => graph.push(Op::Relu, &[x])?,
            FloatOp::MaxPool2d { .. } => {
                graph.push(Op::MaxPool2d(layer.op.pool().expect("a pool")), &[x])?
            }
            FloatOp::AvgPool2d { .. } => {
                graph.push(Op::AvgPool2d(layer.op.pool().expect("a pool")), &[x])?
            }
            FloatOp::Flatten => graph.push(Op::Flatten, &[x])?,
            FloatOp::Reshape { shape } => graph.push(
                Op::Reshape {
                    shape: Shape(shape.clone()),
                },
                &[x],
            )?,
            FloatOp::Select { shape, indices } => {
                // Bring every input to the smallest of their scales.
                let scale = args
                    .iter()
                    .map(|&a| graph.spec(a).scale)
                    .min()
                    .expect("an input");
                let inputs = args
                    .iter()
                    .map(|&a| graph.rescale_down(a, scale))
                    .collect::<Result<Vec<_>>>()?;
                let select = quant::Select {
                    shape: Shape(shape.clone()),
                    indices: indices.clone(),
                };
                graph.push(Op::Select(select), &inputs)?
            }
            FloatOp::Add => {
                // Bring both sides to the smaller of the two scales.
                let scale = graph.spec(args[0]).scale.min(graph.spec(args[1]).scale);
                let a = graph.rescale_down(args[0], scale)?;
                let b = graph.rescale_down(args[1], scale)?;
                graph.push(Op::Add, &[a, b])?
            }
            FloatOp::Mul | FloatOp::MatMul => {
                // The exact product at scale s_a + s_b, then one rounding
                // to the calibrated output scale, as after a linear layer.
                let op = match layer.op {
                    FloatOp::Mul => Op::Mul,
                    _ => Op::MatMul,
                };
                let product = graph.push(op, &[args[0], args[1]])?;
                graph.rescale_to(product, out_scale, out_bits)?
            }
            FloatOp::Div => {
                // round(a·2^shift / s) lands at the calibrated output scale
                // directly: shift = out − s_a + s_s, the dividend shifted
                // down first if that is negative. The divisor at most 16
                // bits wide (its remainder's range check), shifted down if
                // wider — to 15 bits, so that rounding up cannot leave 16 —
                // and it must stay at least 1 (checked at run time).
                let mut s = args[1];
                let divisor = graph.spec(s).clone();
                if divisor.bits > MAX_DIVISOR_BITS {
                    let shift = divisor.bits - (MAX_DIVISOR_BITS - 1);
                    let scale = Scale(divisor.scale.0 - shift as i32);
                    s = graph.rescale_to(s, scale, MAX_DIVISOR_BITS)?;
                }
                let s_s = graph.spec(s).scale.0;
                let mut a = args[0];
                let mut shift = out_scale.0 - graph.spec(a).scale.0 + s_s;
                if shift < 0 {
                    a = graph.rescale_down(a, Scale(graph.spec(a).scale.0 + shift))?;
                    shift = 0;
                }
                let divide = zkinfer_quant::Divide {
                    shift: shift as u32,
                    bits: out_bits,
                };
                graph.push(Op::Divide(divide), &[a, s])?
            }
            FloatOp::Activation { function } => {
                // An exp table (a softmax's) gets a finer domain: its
                // relative error is its input step.
                let bits = match function {
                    TableFunction::Exp => options.table_bits.max(EXP_TABLE_BITS),
                    _ => options.table_bits,
                };
                let domain_scale = Scale(fit_scale(
                    max_abs[layer.input_ids(i)[0]],
                    bits - options.headroom_bits,
                ));
                let spec = graph.spec(x);
                let t = if spec.scale == domain_scale && spec.bits <= bits {
                    x
                } else {
                    graph.rescale_to(x, domain_scale, bits)?
                };
                let domain_scale = graph.spec(t).scale;
                // The domain is symmetric, and the output scale is set by
                // the largest value on it: a function that grows without
                // bound at one end would spend the output's bits on inputs
                // calibration never saw (an inverse square root at 0, where
                // variances of at least 0.7 come in, left 2 bits for its
                // outputs; exp at +64 when a softmax's `x − max` is never
                // positive). Beyond its calibrated inputs — half the
                // smallest for the positive inputs of 1/x, 1/√x and ln — such
                // a table holds its value at the edge.
                let input = layer.input_ids(i)[0];
                let lowest = min_value[input] / 2.0;
                let clamp = match function {
                    TableFunction::Exp => Clamp::Above(max_value[input]),
                    TableFunction::Rsqrt { .. }
                    | TableFunction::Reciprocal
                    | TableFunction::Log
                        if lowest > 0.0 =>
                    {
                        Clamp::Below(lowest)
                    }
                    _ => Clamp::None,
                };
                let table = build_table(*function, bits, domain_scale, clamp, options)?;
                graph.push(Op::Table(table), &[t])?
            }
        };
        ids.push(id);
    }
    let model = graph.finish(calibration)?;
    check_calibration_bounds(&model, samples)?;
    Ok(model)
}

/// Whether layer `i`'s output is read by exactly one layer, a sigmoid or tanh.
/// The widest divisor of a division: its remainder is range-checked in
/// `[0, 2s)` by one 16-bit range unit.
const MAX_DIVISOR_BITS: u32 = 16;

fn feeds_only_a_table(model: &FloatModel, i: usize) -> bool {
    let layers = &model.arch().layers;
    let mut readers = layers
        .iter()
        .enumerate()
        .filter(|(j, l)| l.input_ids(*j).contains(&(i + 1)));
    matches!(
        (readers.next(), readers.next()),
        (Some((_, l)), None) if matches!(l.op, FloatOp::Activation { .. })
    )
}

fn check_options(o: &QuantizeOptions) -> Result<()> {
    let ok = (2..=24).contains(&o.weight_bits)
        && (2..=32).contains(&o.activation_bits)
        && o.headroom_bits < o.activation_bits - 1
        && (2..=TableActivation::MAX_INPUT_BITS).contains(&o.table_bits)
        && o.headroom_bits < o.table_bits - 1;
    if ok {
        Ok(())
    } else {
        Err(ModelError::Calibration(format!(
            "unusable bit budget: {} weight bits (2 to 24), {} activation bits (2 to 32), \
             {} table bits (2 to {}), {} headroom bits (fewer than activation bits - 1 \
             and table bits - 1); change the option that is out of range",
            o.weight_bits,
            o.activation_bits,
            o.table_bits,
            TableActivation::MAX_INPUT_BITS,
            o.headroom_bits
        )))
    }
}

/// Checks the samples and stacks them into a batch `[n, ...input_shape]`.
fn calibration_batch(model: &FloatModel, samples: &[Vec<f32>]) -> Result<Tensor> {
    let shape = &model.arch().input_shape;
    let numel: usize = shape.iter().product();
    if samples.is_empty() {
        return Err(ModelError::Calibration(
            "the calibration set is empty".into(),
        ));
    }
    for (n, sample) in samples.iter().enumerate() {
        if sample.len() != numel {
            return Err(ModelError::Calibration(format!(
                "sample {n} has {} values, the model's input {shape:?} has {numel}",
                sample.len()
            )));
        }
        if let Some(i) = sample.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::Calibration(format!(
                "sample {n} value {i} is {}, not a finite number",
                sample[i]
            )));
        }
    }
    let flat: Vec<f32> = samples.iter().flatten().copied().collect();
    let mut dims = vec![samples.len()];
    dims.extend(shape);
    Ok(Tensor::from_vec(flat, dims, &Device::Cpu)?)
}

/// The largest scale `s` with `max_abs · 2^s ≤ 2^(bits-1) - 1`, so that the
/// largest magnitude still rounds into `bits` signed bits.
fn fit_scale(max_abs: f64, bits: u32) -> i32 {
    let limit = ((1u64 << (bits - 1)) - 1) as f64;
    if max_abs <= 0.0 || !max_abs.is_finite() {
        // Nothing to fit (an all-zero tensor): any scale will do.
        return bits as i32 - 2;
    }
    let mut s = (limit / max_abs).log2().floor() as i32;
    // Guard the floor against log2's last-bit error, both ways.
    while max_abs * 2f64.powi(s) > limit {
        s -= 1;
    }
    while max_abs * 2f64.powi(s + 1) <= limit {
        s += 1;
    }
    s.clamp(-30, 40)
}

fn quantize_params(
    weight: &Tensor,
    bias: &Tensor,
    s_x: Scale,
    o: &QuantizeOptions,
) -> Result<(quant::Tensor, Scale, Vec<i64>)> {
    let w: Vec<f32> = weight.flatten_all()?.to_vec1()?;
    let b: Vec<f32> = bias.flatten_all()?.to_vec1()?;
    if let Some(v) = w.iter().chain(&b).find(|v| !v.is_finite()) {
        return Err(ModelError::Weights(format!("a weight or bias is {v}")));
    }
    let max_abs = w.iter().map(|v| v.abs() as f64).fold(0.0, f64::max);
    let s_w = Scale(fit_scale(max_abs, o.weight_bits));
    let q = |v: f32, s: Scale| {
        ops::quantize(v as f64, s.0)
            .ok_or_else(|| ModelError::Weights(format!("{v} does not fit an integer at scale {s}")))
    };
    let wq = w.iter().map(|&v| q(v, s_w)).collect::<Result<Vec<_>>>()?;
    let acc_scale = Scale(s_x.0 + s_w.0);
    let bq = b
        .iter()
        .map(|&v| q(v, acc_scale))
        .collect::<Result<Vec<_>>>()?;
    let wt = quant::Tensor::new(weight.dims().to_vec(), wq).expect("same length as the weight");
    Ok((wt, s_w, bq))
}

/// Domain bits of an exp table: 4,096 entries. Its relative error between
/// two points is `e^(step/2) − 1`: 1.6 % at the tiny GPT's step of 1/32
/// (its scores' scale), where 256 entries over `[−128, 128)` had 28 %.
const EXP_TABLE_BITS: u32 = 12;

/// Where a table stops following its function ([`build_table`]).
#[derive(Clone, Copy, Debug)]
enum Clamp {
    /// Inputs above this read its value.
    Above(f64),
    /// Inputs below this read its value.
    Below(f64),
    None,
}

fn build_table(
    function: TableFunction,
    input_bits: u32,
    domain_scale: Scale,
    clamp: Clamp,
    o: &QuantizeOptions,
) -> Result<TableActivation> {
    let min = -(1i64 << (input_bits - 1));
    let step = domain_scale.dequantize(1);
    // Inputs beyond the clamp (rounded outwards to a domain point) read
    // its value.
    let clamped = |x: f64| match clamp {
        Clamp::Above(top) => x.min((top / step).ceil() * step),
        Clamp::Below(bottom) => x.max((bottom / step).floor().max(1.0) * step),
        Clamp::None => x,
    };
    // Inputs where the formula is undefined read the smallest step's value.
    let domain: Vec<f64> = (0..1i64 << input_bits)
        .map(|i| function.floor(clamped(domain_scale.dequantize(min + i)), step))
        .collect();
    // Outputs within ±1 (sigmoid, tanh, erf, …) keep two bits of headroom
    // below the activation width; larger ones give up one bit of scale per
    // doubling of their largest magnitude on the domain.
    let largest = domain
        .iter()
        .map(|&x| function.eval(x).abs())
        .fold(0.0f64, f64::max);
    if !largest.is_finite() {
        return Err(ModelError::Calibration(format!(
            "{function} is not finite on its calibrated domain [{}, {}]",
            domain[0],
            domain[domain.len() - 1]
        )));
    }
    let growth = largest.max(1.0).log2().ceil() as i32;
    let output_scale = Scale(o.activation_bits as i32 - 2 - growth);
    let values = domain
        .iter()
        .map(|&x| {
            ops::quantize(function.eval(x), output_scale.0).ok_or_else(|| {
                ModelError::Calibration(format!(
                    "{function}({x}) has no integer at scale {output_scale}"
                ))
            })
        })
        .collect::<Result<_>>()?;
    Ok(TableActivation {
        function,
        input_bits,
        output_scale,
        values,
    })
}

fn check_calibration_bounds(model: &QuantizedModel, samples: &[Vec<f32>]) -> Result<()> {
    for (n, sample) in samples.iter().enumerate() {
        let values: Vec<f64> = sample.iter().map(|&v| v as f64).collect();
        let input = model.quantize_input(&values)?;
        model
            .forward(&input)
            .map_err(|e| ModelError::Calibration(format!("sample {n}: {e}")))?;
    }
    Ok(())
}

/// Builds a graph node by node, validating as it goes so that each step can
/// read the scale and bound the previous steps produced.
struct GraphBuilder {
    name: String,
    input: TensorSpec,
    nodes: Vec<Node>,
    specs: Vec<TensorSpec>,
}

impl GraphBuilder {
    fn new(name: String, input: TensorSpec) -> Self {
        let specs = vec![input.clone()];
        GraphBuilder {
            name,
            input,
            nodes: vec![],
            specs,
        }
    }

    fn spec(&self, id: TensorId) -> &TensorSpec {
        &self.specs[id]
    }

    fn push(&mut self, op: Op, inputs: &[TensorId]) -> Result<TensorId> {
        self.nodes.push(Node {
            inputs: inputs.to_vec(),
            op,
        });
        let partial = QuantizedModel::new(&self.name, self.input.clone(), self.nodes.clone(), None)
            .map_err(|e| ModelError::Calibration(format!("cannot quantize this model: {e}")))?;
        self.specs = partial.specs().to_vec();
        Ok(self.nodes.len())
    }

    /// Rescales `x` to `scale` (or leaves its scale if it is already at or
    /// below it), declaring a `bits` bound.
    fn rescale_to(&mut self, x: TensorId, scale: Scale, bits: u32) -> Result<TensorId> {
        let shift = (self.spec(x).scale.0 - scale.0).max(0) as u32;
        self.push(Op::Rescale(Rescale { shift, bits }), &[x])
    }

    /// Rescales `x` down to `scale`; no node when it is already there.
    fn rescale_down(&mut self, x: TensorId, scale: Scale) -> Result<TensorId> {
        let spec = self.spec(x);
        let shift = (spec.scale.0 - scale.0) as u32;
        if shift == 0 {
            return Ok(x);
        }
        // Shifting right never widens a value: the rounded quotient of a
        // b-bit integer by 2^shift fits in b - shift + 1 bits.
        let bits = (spec.bits.saturating_sub(shift) + 1).max(2);
        self.push(Op::Rescale(Rescale { shift, bits }), &[x])
    }

    fn finish(self, calibration: Calibration) -> Result<QuantizedModel> {
        Ok(QuantizedModel::new(
            self.name,
            self.input,
            self.nodes,
            Some(calibration),
        )?)
    }
}
