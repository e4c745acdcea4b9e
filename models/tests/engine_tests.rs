//! The candle engine against the reference forward pass: bit-exact on the
//! bundled models and on random models covering every op.

use proptest::prelude::*;
use zkinfer_models::bundled::BUNDLED;
use zkinfer_models::dataset::{digits, Split};
use zkinfer_models::train::SplitMix64;
use zkinfer_models::{Engine, ModelError};
use zkinfer_quant::{
    ops, Conv2d, Divide, Linear, Node, Op, Pool2d, QuantError, QuantizedModel, Rescale, Scale,
    Select, Shape, TableActivation, TableFunction, Tensor, TensorSpec,
};

#[test]
fn bundled_models_match_the_reference_on_every_digit() {
    let mut inputs = digits(Split::Train).unwrap().inputs;
    inputs.extend(digits(Split::Test).unwrap().inputs);
    assert_eq!(inputs.len(), 1797);
    for bundled in BUNDLED {
        let model = bundled.quantized().unwrap();
        let xs: Vec<Tensor> = inputs
            .iter()
            .map(|x| {
                let v: Vec<f64> = x.iter().map(|&p| p as f64).collect();
                model.quantize_input(&v).unwrap()
            })
            .collect();
        let traces = Engine::default().run_batch(&model, &xs).unwrap();
        for (n, (x, trace)) in xs.iter().zip(&traces).enumerate() {
            let reference = model.forward(x).unwrap();
            assert_eq!(trace, &reference, "{} digit {n}", bundled.name);
        }
        // Single runs take the same path as batches.
        assert_eq!(Engine::default().run(&model, &xs[7]).unwrap(), traces[7]);
    }
}

/// Builds a random valid model from a seed, node by node.
struct RandomModel {
    rng: SplitMix64,
    input: TensorSpec,
    nodes: Vec<Node>,
    specs: Vec<TensorSpec>,
}

impl RandomModel {
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.rng.below((hi - lo + 1) as usize) as i64
    }

    fn size(&mut self, lo: usize, hi: usize) -> usize {
        self.int(lo as i64, hi as i64) as usize
    }

    fn ints(&mut self, n: usize, lo: i64, hi: i64) -> Vec<i64> {
        (0..n).map(|_| self.int(lo, hi)).collect()
    }

    /// Appends a node if the graph stays valid; returns whether it did.
    fn push(&mut self, op: Op, inputs: Vec<usize>) -> bool {
        let mut nodes = self.nodes.clone();
        nodes.push(Node { inputs, op });
        match QuantizedModel::new("random", self.input.clone(), nodes.clone(), None) {
            Ok(m) => {
                self.specs = m.specs().to_vec();
                self.nodes = nodes;
                true
            }
            Err(_) => false,
        }
    }

    fn last(&self) -> (usize, TensorSpec) {
        (self.specs.len() - 1, self.specs.last().unwrap().clone())
    }

    /// A rescale that usually cannot overflow, and sometimes can.
    fn rescale(&mut self, x: usize, bits_in: u32) {
        let shift = self.size(0, 6) as u32;
        let safe = (bits_in.saturating_sub(shift) + 1).max(2);
        let bits = if self.rng.below(8) == 0 {
            safe.saturating_sub(2).max(2)
        } else {
            safe
        };
        self.push(Op::Rescale(Rescale { shift, bits }), vec![x]);
    }

    fn generate(seed: u64) -> (QuantizedModel, SplitMix64) {
        let mut g = RandomModel {
            rng: SplitMix64(seed),
            input: TensorSpec {
                shape: Shape(vec![1]),
                scale: Scale(0),
                bits: 2,
            },
            nodes: vec![],
            specs: vec![],
        };
        let shape = if g.rng.below(2) == 0 {
            vec![g.size(1, 16)]
        } else {
            vec![g.size(1, 3), g.size(2, 7), g.size(2, 7)]
        };
        g.input = TensorSpec {
            shape: Shape(shape),
            scale: Scale(g.int(0, 6) as i32),
            bits: g.size(3, 10) as u32,
        };
        g.specs = vec![g.input.clone()];
        let steps = g.size(1, 7);
        for _ in 0..steps {
            let (x, spec) = g.last();
            let image = spec.shape.rank() == 3;
            match g.rng.below(16) {
                0 | 1 if !image => {
                    let (out, inp) = (g.size(1, 8), spec.shape.numel());
                    let weight = Tensor::new([out, inp], g.ints(out * inp, -8, 8)).unwrap();
                    let bias = g.ints(out, -50, 50);
                    let weight_scale = Scale(g.int(0, 4) as i32);
                    if g.push(
                        Op::Linear(Linear {
                            weight,
                            weight_scale,
                            bias,
                        }),
                        vec![x],
                    ) {
                        let (y, s) = g.last();
                        g.rescale(y, s.bits);
                    }
                }
                0 | 1 => {
                    let ic = spec.shape.dims()[0];
                    // Sometimes grouped (depthwise when groups = ic).
                    let groups = if g.rng.below(3) == 0 { ic } else { 1 };
                    let oc = groups * g.size(1, 3);
                    let (kh, kw) = (g.size(1, 3), g.size(1, 3));
                    let icg = ic / groups;
                    let weight =
                        Tensor::new([oc, icg, kh, kw], g.ints(oc * icg * kh * kw, -8, 8)).unwrap();
                    let conv = Conv2d {
                        weight,
                        weight_scale: Scale(g.int(0, 4) as i32),
                        bias: g.ints(oc, -50, 50),
                        stride: [g.size(1, 2), g.size(1, 2)],
                        padding: [g.size(0, 1), g.size(0, 1)],
                        groups,
                    };
                    if g.push(Op::Conv2d(conv), vec![x]) {
                        let (y, s) = g.last();
                        g.rescale(y, s.bits);
                    }
                }
                2 => {
                    g.push(Op::Relu, vec![x]);
                }
                3 => {
                    let bits = spec.bits;
                    g.rescale(x, bits);
                }
                4..=6 if image => {
                    let kernel = [g.size(1, 3), g.size(1, 3)];
                    // Padding up to half the kernel, often none.
                    let padding = kernel.map(|k| g.size(0, k / 2 + 1).min(k / 2));
                    let mut pool = Pool2d {
                        padding,
                        ..Pool2d::new(kernel, [g.size(1, 2), g.size(1, 2)])
                    };
                    let op = match g.rng.below(3) {
                        0 => Op::SumPool2d(pool),
                        1 => {
                            pool.count_include_pad = g.rng.below(2) == 0;
                            Op::AvgPool2d(pool)
                        }
                        _ => Op::MaxPool2d(pool),
                    };
                    g.push(op, vec![x]);
                }
                // A residual: add this tensor to its own ReLU.
                7 if g.push(Op::Relu, vec![x]) => {
                    let (r, _) = g.last();
                    g.push(Op::Add, vec![x, r]);
                }
                8 => {
                    let input_bits = g.size(3, 8) as u32;
                    let shift = spec.bits.saturating_sub(input_bits - 1);
                    if g.push(
                        Op::Rescale(Rescale {
                            shift,
                            bits: input_bits,
                        }),
                        vec![x],
                    ) {
                        let (t, _) = g.last();
                        let values = g.ints(1 << input_bits, -100, 100);
                        let all = TableFunction::ALL;
                        let function = all[g.rng.below(all.len()) as usize];
                        let table = TableActivation {
                            function,
                            input_bits,
                            output_scale: Scale(g.int(0, 6) as i32),
                            values,
                        };
                        let op = Op::Table(table);
                        g.push(op, vec![t]);
                    }
                }
                9 => {
                    g.push(Op::Flatten, vec![x]);
                }
                // A select over this tensor and, sometimes, an earlier one:
                // a shuffle with repeats and zeros, as a transpose, slice,
                // concatenation or padding would be.
                11 => {
                    let mut inputs = vec![x];
                    if g.rng.below(2) == 0 {
                        inputs.push(g.rng.below(x + 1) as usize);
                    }
                    let available: usize = inputs.iter().map(|&i| g.specs[i].shape.numel()).sum();
                    let n = g.size(1, 24);
                    let indices = (0..n)
                        .map(|_| (g.rng.below(6) != 0).then(|| g.rng.below(available) as usize))
                        .collect();
                    let shape = if n.is_multiple_of(2) {
                        vec![2, n / 2]
                    } else {
                        vec![n]
                    };
                    let select = Select {
                        shape: Shape(shape),
                        indices,
                    };
                    g.push(Op::Select(select), inputs);
                }
                10 if !image => {
                    let n = spec.shape.numel();
                    g.push(
                        Op::Reshape {
                            shape: Shape(vec![1, 1, n]),
                        },
                        vec![x],
                    );
                }
                // This tensor as an [m, k] matrix times its transpose
                // (attention's Q·Kᵀ), rescaled.
                12 => {
                    let n = spec.shape.numel();
                    let k = (1..=n.min(6))
                        .rev()
                        .find(|k| n.is_multiple_of(*k))
                        .unwrap_or(1);
                    let m = n / k;
                    let matrix = Op::Reshape {
                        shape: Shape(vec![m, k]),
                    };
                    let transpose = Select {
                        shape: Shape(vec![k, m]),
                        indices: (0..n).map(|j| Some((j % m) * k + j / m)).collect(),
                    };
                    if g.push(matrix, vec![x]) {
                        let (a, _) = g.last();
                        g.push(Op::Select(transpose), vec![a]);
                        let (t, _) = g.last();
                        if g.push(Op::MatMul, vec![a, t]) {
                            let (y, s) = g.last();
                            g.rescale(y, s.bits);
                        }
                    }
                }
                // A product of two activations: this tensor gated by its
                // own ReLU.
                13 if g.push(Op::Relu, vec![x]) => {
                    let (r, _) = g.last();
                    if g.push(Op::Mul, vec![x, r]) {
                        let (y, s) = g.last();
                        g.rescale(y, s.bits);
                    }
                }
                // This tensor over a table of it whose entries are
                // positive, or sometimes 0: the refusal of a divisor below
                // 1 must match too.
                14 => {
                    let input_bits = g.size(3, 6) as u32;
                    let shift = spec.bits.saturating_sub(input_bits - 1);
                    let domain = Op::Rescale(Rescale {
                        shift,
                        bits: input_bits,
                    });
                    if g.push(domain, vec![x]) {
                        let (t, _) = g.last();
                        let lowest = g.int(0, 2);
                        let table = TableActivation {
                            function: TableFunction::Reciprocal,
                            input_bits,
                            output_scale: Scale(g.int(0, 4) as i32),
                            values: g.ints(1 << input_bits, lowest, 60),
                        };
                        if g.push(Op::Table(table), vec![t]) {
                            let (s, _) = g.last();
                            let shift = g.size(0, 4) as u32;
                            let divide = Divide {
                                shift,
                                bits: spec.bits + shift,
                            };
                            g.push(Op::Divide(divide), vec![x, s]);
                        }
                    }
                }
                _ => {}
            }
        }
        if g.nodes.is_empty() {
            g.push(Op::Relu, vec![0]);
        }
        let model = QuantizedModel::new("random", g.input.clone(), g.nodes.clone(), None).unwrap();
        (model, g.rng)
    }
}

fn random_input(model: &QuantizedModel, rng: &mut SplitMix64) -> Tensor {
    let spec = model.input();
    let (lo, hi) = ops::bits_range(spec.bits);
    let data = (0..spec.shape.numel())
        .map(|_| lo + rng.below((hi - lo + 1) as usize) as i64)
        .collect();
    Tensor::new(spec.shape.clone(), data).unwrap()
}

fn bound_error(e: ModelError) -> String {
    match e {
        ModelError::Quant(
            q @ (QuantError::BoundExceeded { .. } | QuantError::NonPositiveDivisor { .. }),
        ) => q.to_string(),
        other => panic!("the engine failed for another reason: {other}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn engine_equals_reference_on_random_models(seed in any::<u64>()) {
        let (model, mut rng) = RandomModel::generate(seed);
        let inputs: Vec<Tensor> = (0..3).map(|_| random_input(&model, &mut rng)).collect();
        let engine = Engine::default();
        for x in &inputs {
            match (model.forward(x), engine.run(&model, x)) {
                (Ok(reference), Ok(trace)) => prop_assert_eq!(reference, trace),
                (Err(r), Err(e)) => prop_assert_eq!(r.to_string(), bound_error(e)),
                (r, e) => prop_assert!(false, "reference {:?} but engine {:?}", r.map(|_| ()), e.map(|_| ())),
            }
        }
        let references: Result<Vec<_>, _> = inputs.iter().map(|x| model.forward(x)).collect();
        if let Ok(references) = references {
            prop_assert_eq!(references, engine.run_batch(&model, &inputs).unwrap());
        }
    }
}

/// The generator must exercise every op, or the property above proves
/// less than it claims.
#[test]
fn random_models_cover_every_op() {
    let mut seen = std::collections::BTreeSet::new();
    let mut exceeded = 0;
    for seed in 0..256u64 {
        let (model, mut rng) = RandomModel::generate(seed);
        seen.extend(model.nodes().iter().map(|n| n.op.name()));
        let x = random_input(&model, &mut rng);
        exceeded += model.forward(&x).is_err() as usize;
    }
    let all = [
        "linear",
        "conv2d",
        "relu",
        "sum_pool2d",
        "avg_pool2d",
        "max_pool2d",
        "flatten",
        "reshape",
        "add",
        "mul",
        "matmul",
        "divide",
        "rescale",
        "sigmoid",
        "tanh",
    ];
    for op in all {
        assert!(seen.contains(op), "no random model has a {op} node");
    }
    assert!(
        exceeded > 0 && exceeded < 128,
        "{exceeded} of 256 exceed a bound"
    );
}
