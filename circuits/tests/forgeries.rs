//! Consistent forgeries against whole models, as an adversarial prover
//! would build them (`zkinfer_circuits::forgery`): the forged step's gates
//! and everything after it hold, and the claimed output is the forged one.
//! Each must still be refused.
//!
//! * wave 1's average-pool forgery: non-integer quotients whose errors a
//!   linear layer cancels (windows of 4 and 9);
//! * a randomized search: random small models covering every op, and more
//!   than 1,000 random forgeries of random hints — among them quotient
//!   shifts that the next layer cancels — all refused.

mod common;

use common::node;
use halo2_proofs::dev::MockProver;
use std::sync::Arc;
use zkinfer_circuits::diagnose::{failure_location, failure_name};
use zkinfer_circuits::forgery::{self, Forgery};
use zkinfer_circuits::{Fp, LoggedCell, ModelCircuit, ModelConfig, Profile, StepKind, Visibility};
use zkinfer_fuzz::Rng;
use zkinfer_quant::ops;
use zkinfer_quant::{
    Conv2d, Divide, Linear, Node, Op, Pool2d, QuantizedModel, Rescale, Scale, Select, Shape,
    TableActivation, TableFunction, Tensor, TensorSpec,
};

/// MockProver's failures as `(name, location)`.
fn failures(circuit: &ModelCircuit, instances: Vec<Fp>) -> Vec<(String, String)> {
    let prover = MockProver::run(circuit.plan().k, circuit, vec![instances]).expect("synthesis");
    let config = ModelConfig::of(circuit.profile());
    prover
        .verify()
        .err()
        .unwrap_or_default()
        .iter()
        .map(|f| (failure_name(&config, f), failure_location(f)))
        .collect()
}

/// A circuit with its honest witness, recorded; the log and the honest
/// public values.
fn recorded(
    model: QuantizedModel,
    input: Vec<i64>,
    profile: Profile,
) -> (ModelCircuit, Vec<LoggedCell>, Vec<Fp>) {
    let model = Arc::new(model);
    let input = Tensor::new(model.input().shape.clone(), input).unwrap();
    let trace = model.forward(&input).expect("the input is within bounds");
    let circuit = ModelCircuit::with_profile(model, Visibility::Public, profile)
        .unwrap()
        .with_trace(trace.clone())
        .unwrap()
        .recording();
    let instances = circuit.instances(&trace);
    assert!(
        failures(&circuit, instances.clone()).is_empty(),
        "the honest witness"
    );
    (circuit.clone(), circuit.assigned(), instances)
}

/// Runs a forgery with the public values it claims; returns what failed
/// and the claim. A first run records the claim; when it already fails a
/// gate or a lookup (which no instance changes), that is the verdict.
fn run_forged(
    circuit: &ModelCircuit,
    forgery: &Forgery,
    honest: &[Fp],
    full: bool,
) -> (Vec<(String, String)>, Vec<Fp>) {
    let forged = circuit.forged(forgery.edits.clone());
    let first = failures(&forged, honest.to_vec());
    let claimed = forged.public_cells();
    if !full && first.iter().any(|(name, _)| name != "copy") {
        return (first, claimed);
    }
    (failures(&forged, claimed.clone()), claimed)
}

// ---------------------------------------------------------------- wave 1

/// The input part of public values (the input is public here).
fn input_of(public: &[Fp], model: &QuantizedModel) -> Vec<i64> {
    public[..model.input().shape.numel()]
        .iter()
        .map(|v| zkinfer_circuits::field::to_i64(v).unwrap())
        .collect()
}

/// `[1, side, side]` → average pool (window `w`×`w`, stride `w`) → flatten →
/// linear 2 × 4 with weights that are multiples of `m` → rescale.
fn pool_into_linear(side: usize, w: usize, m: i64) -> QuantizedModel {
    let input = TensorSpec {
        shape: Shape(vec![1, side, side]),
        scale: Scale(4),
        bits: 8,
    };
    let weights = [5, -3, 7, 2, -4, 6, 1, -8].map(|x| x * m).to_vec();
    let nodes = vec![
        node(&[0], Op::AvgPool2d(Pool2d::new([w, w], [w, w]))),
        node(&[1], Op::Flatten),
        node(
            &[2],
            Op::Linear(Linear {
                weight: Tensor::new([2, 4], weights).unwrap(),
                weight_scale: Scale(3),
                bias: vec![3, -5],
            }),
        ),
        node(&[3], Op::Rescale(Rescale { shift: 2, bits: 16 })),
    ];
    QuantizedModel::new(format!("pool{w}-linear"), input, nodes, None).unwrap()
}

/// The forgery of the issue: remainder shifts `d` with `W·d ≡ 0 (mod n)`
/// make the linear layer's accumulators integers again, shifted by `W·d/n`;
/// the rescale and the public output are then an honest computation on a
/// wrong value. Only the quotients' bound refuses it.
fn assert_pool_forgery_refused(w: usize, m: i64, d: i64) {
    let n = (w * w) as i64;
    let side = 2 * w;
    let input: Vec<i64> = (0..side * side)
        .map(|i| (i as i64 * 29 + 11) % 200 - 100)
        .collect();
    let (circuit, log, honest) = recorded(pool_into_linear(side, w, m), input, Profile::Compact);
    let pool = circuit
        .steps()
        .iter()
        .position(|s| matches!(s.kind, StepKind::AvgPool { .. }))
        .unwrap();
    // The first pooled value's remainder decides the sign of the shift.
    let r = log
        .iter()
        .find(|c| c.step == Some(pool) && c.name == "r")
        .map(|c| zkinfer_circuits::field::to_i64(&c.value).unwrap())
        .unwrap();
    let d = if r >= d { d } else { -d };
    assert!((0..n).contains(&(r - d)), "the forged remainder fits");
    let forgery = forgery::shift_quotients(&circuit, &log, pool, &[(0, d)]).unwrap();
    let (failed, claimed) = run_forged(&circuit, &forgery, &honest, true);
    // The claim, computed independently: the linear layer's accumulators
    // shifted by W·(d, 0, 0, 0)/n — integers — then rescaled honestly.
    let model = circuit.model();
    let input = Tensor::new(model.input().shape.clone(), input_of(&honest, model)).unwrap();
    let trace = model.forward(&input).unwrap();
    let expected: Vec<Fp> = trace.tensors[3]
        .data
        .iter()
        .zip([5 * m, -4 * m])
        .map(|(&acc, w0)| {
            assert_eq!(w0 * d % n, 0, "W·d ≡ 0 (mod n)");
            zkinfer_circuits::field::fe(ops::rescale(acc + w0 * d / n, 2))
        })
        .collect();
    assert_eq!(
        &claimed[claimed.len() - 2..],
        &expected[..],
        "the forged claim"
    );
    assert_ne!(&claimed[..], &honest[..], "the forgery changes the output");
    // Every gate, lookup and copy holds except the quotient's range check.
    assert!(!failed.is_empty(), "{}: accepted", forgery.what);
    for (name, location) in &failed {
        assert!(
            name.contains("unit B") && location.contains("avg_pool2d"),
            "{}: failed at {name} in {location}, not only at the quotient's bound: {failed:?}",
            forgery.what
        );
    }
}

#[test]
fn wave_one_average_pool_forgery_is_refused_window_4() {
    // Even weights: W·(2, 0, 0, 0) ≡ 0 (mod 4).
    assert_pool_forgery_refused(2, 2, 2);
}

#[test]
fn wave_one_average_pool_forgery_is_refused_window_9() {
    // Weights in 3ℤ: W·(3, 0, 0, 0) ≡ 0 (mod 9).
    assert_pool_forgery_refused(3, 3, 3);
}

// ---------------------------------------------------- randomized search

/// A uniform integer in `[-m, m]`.
fn small(rng: &mut Rng, m: i64) -> i64 {
    rng.below((2 * m + 1) as usize) as i64 - m
}

/// Rows and columns swapped in each of `c` channels of `h × h`.
fn transpose(c: usize, h: usize) -> Op {
    let indices = (0..c * h * h)
        .map(|j| {
            let (ch, y, x) = (j / (h * h), j / h % h, j % h);
            Some((ch * h + x) * h + y)
        })
        .collect();
    Op::Select(Select {
        shape: Shape(vec![c, h, h]),
        indices,
    })
}

/// A random small model: a 2 × 6 × 6 image through one to three random
/// blocks (conv → rescale with or without a fused ReLU, sum pool →
/// rescale, a lone ReLU, max pool, average pool of 2×2 or 3×3, a table, a
/// residual add, padded 3×3 average and max pools, a depthwise conv, a
/// transpose, a product gated by its own ReLU, each channel times its
/// transpose, a softmax-like normalisation by the proved division), then,
/// half the time, a 2×2 average pool, and flatten → linear → rescale.
fn random_model(rng: &mut Rng, seed: u64) -> QuantizedModel {
    let mut nodes: Vec<Node> = vec![];
    let (mut c, mut h) = (2usize, 6usize);
    let mut last = 0usize; // tensor id
    let push = |nodes: &mut Vec<Node>, inputs: &[usize], op: Op| {
        nodes.push(node(inputs, op));
        nodes.len()
    };
    for _ in 0..1 + rng.below(3) {
        match rng.below(14) {
            0 => {
                let oc = 1 + rng.below(2);
                let weight = (0..oc * c * 9).map(|_| small(rng, 3)).collect();
                let conv = Op::Conv2d(Conv2d {
                    weight: Tensor::new([oc, c, 3, 3], weight).unwrap(),
                    weight_scale: Scale(2),
                    bias: (0..oc).map(|_| small(rng, 50)).collect(),
                    stride: [1, 1],
                    padding: [1, 1],
                    groups: 1,
                });
                last = push(&mut nodes, &[last], conv);
                last = push(
                    &mut nodes,
                    &[last],
                    Op::Rescale(Rescale { shift: 5, bits: 9 }),
                );
                if rng.below(2) == 0 {
                    last = push(&mut nodes, &[last], Op::Relu);
                }
                c = oc;
            }
            1 if h >= 2 => {
                let pool = Pool2d::new([2, 2], [1, 1]);
                last = push(&mut nodes, &[last], Op::SumPool2d(pool));
                last = push(
                    &mut nodes,
                    &[last],
                    Op::Rescale(Rescale { shift: 2, bits: 9 }),
                );
                h -= 1;
            }
            2 => last = push(&mut nodes, &[last], Op::Relu),
            3 if h >= 2 => {
                let pool = Pool2d::new([2, 2], [1, 1]);
                last = push(&mut nodes, &[last], Op::MaxPool2d(pool));
                h -= 1;
            }
            4 if h % 2 == 0 || h % 3 == 0 => {
                let w = if h % 3 == 0 && rng.below(2) == 0 {
                    3
                } else if h % 2 == 0 {
                    2
                } else {
                    3
                };
                let pool = Pool2d::new([w, w], [w, w]);
                last = push(&mut nodes, &[last], Op::AvgPool2d(pool));
                h /= w;
            }
            5 => {
                // Rescale into an 8-bit domain, then a table over it.
                last = push(
                    &mut nodes,
                    &[last],
                    Op::Rescale(Rescale { shift: 1, bits: 8 }),
                );
                let values = (-128..128)
                    .map(|x: i64| (x / 3).clamp(-20, 20) + 1)
                    .collect();
                let table = TableActivation {
                    function: TableFunction::Tanh,
                    input_bits: 8,
                    output_scale: Scale(3),
                    values,
                };
                last = push(&mut nodes, &[last], Op::Table(table));
            }
            7 => {
                // Edge windows divide by 4 or 6 (or all by 9): per-row
                // divisors for the quotient forgeries.
                let pool = Pool2d {
                    padding: [1, 1],
                    count_include_pad: rng.below(2) == 0,
                    ..Pool2d::new([3, 3], [1, 1])
                };
                last = push(&mut nodes, &[last], Op::AvgPool2d(pool));
            }
            8 => {
                let pool = Pool2d {
                    padding: [1, 1],
                    ..Pool2d::new([3, 3], [1, 1])
                };
                last = push(&mut nodes, &[last], Op::MaxPool2d(pool));
            }
            9 => {
                let weight = (0..c * 9).map(|_| small(rng, 3)).collect();
                let conv = Op::Conv2d(Conv2d {
                    weight: Tensor::new([c, 1, 3, 3], weight).unwrap(),
                    weight_scale: Scale(2),
                    bias: (0..c).map(|_| small(rng, 50)).collect(),
                    stride: [1, 1],
                    padding: [1, 1],
                    groups: c,
                });
                last = push(&mut nodes, &[last], conv);
                last = push(
                    &mut nodes,
                    &[last],
                    Op::Rescale(Rescale { shift: 4, bits: 9 }),
                );
            }
            10 => last = push(&mut nodes, &[last], transpose(c, h)),
            11 => {
                // x · relu(x), rescaled: a product of two activations.
                let gate = push(&mut nodes, &[last], Op::Relu);
                last = push(&mut nodes, &[last, gate], Op::Mul);
                last = push(
                    &mut nodes,
                    &[last],
                    Op::Rescale(Rescale { shift: 6, bits: 12 }),
                );
            }
            12 => {
                // Each channel times its transpose (attention's Q·Kᵀ
                // shape), rescaled: products of two activations summed.
                let transposed = push(&mut nodes, &[last], transpose(c, h));
                last = push(&mut nodes, &[last, transposed], Op::MatMul);
                last = push(
                    &mut nodes,
                    &[last],
                    Op::Rescale(Rescale { shift: 9, bits: 12 }),
                );
            }
            13 => {
                // A softmax's normalisation: a table of positive entries,
                // each over its row's sum (a window sum broadcast back) by
                // the proved division.
                last = push(
                    &mut nodes,
                    &[last],
                    Op::Rescale(Rescale { shift: 3, bits: 6 }),
                );
                let table = TableActivation {
                    function: TableFunction::Exp,
                    input_bits: 6,
                    output_scale: Scale(3),
                    values: (-32..32).map(|x: i64| 1 + (x + 32) / 2).collect(),
                };
                let e = push(&mut nodes, &[last], Op::Table(table));
                let row = Pool2d::new([1, h], [1, h]);
                let sums = push(&mut nodes, &[e], Op::SumPool2d(row));
                let broadcast = Op::Select(Select {
                    shape: Shape(vec![c, h, h]),
                    indices: (0..c * h * h).map(|j| Some(j / h)).collect(),
                });
                let sums = push(&mut nodes, &[sums], broadcast);
                let divide = Op::Divide(Divide { shift: 6, bits: 8 });
                last = push(&mut nodes, &[e, sums], divide);
            }
            _ => last = push(&mut nodes, &[last, last], Op::Add),
        }
    }
    // Half the models average-pool right before the final linear layer:
    // wave 1's shape, where a quotient shift can be cancelled.
    if h % 2 == 0 && rng.below(2) == 0 {
        let pool = Pool2d::new([2, 2], [2, 2]);
        last = push(&mut nodes, &[last], Op::AvgPool2d(pool));
        h /= 2;
    }
    last = push(&mut nodes, &[last], Op::Flatten);
    let features = c * h * h;
    let weight = (0..3 * features).map(|_| small(rng, 4)).collect();
    let linear = Op::Linear(Linear {
        weight: Tensor::new([3, features], weight).unwrap(),
        weight_scale: Scale(2),
        bias: vec![small(rng, 9), small(rng, 9), small(rng, 9)],
    });
    last = push(&mut nodes, &[last], linear);
    push(
        &mut nodes,
        &[last],
        Op::Rescale(Rescale { shift: 3, bits: 16 }),
    );
    let input = TensorSpec {
        shape: Shape(vec![2, 6, 6]),
        scale: Scale(4),
        bits: 8,
    };
    QuantizedModel::new(format!("random-{seed}"), input, nodes, None).expect("a valid model")
}

#[test]
fn randomized_forgery_search_finds_nothing() {
    let mut rng = Rng::new(0x2545_f491_4f6c_dd1d);
    let (mut tried, mut models, mut cancelling) = (0, 0, 0);
    let mut kinds = std::collections::BTreeSet::new();
    while tried < 1_200 {
        let seed = rng.next_u64();
        let model = random_model(&mut rng, seed);
        let input: Vec<i64> = (0..72).map(|_| small(&mut rng, 127)).collect();
        if model
            .forward(&Tensor::new([2, 6, 6], input.clone()).unwrap())
            .is_err()
        {
            continue; // a random model may overflow a declared bound
        }
        // Half the models in each profile: a profile is a new circuit.
        let profile = Profile::ALL[models % Profile::ALL.len()];
        models += 1;
        let (circuit, log, honest) = recorded(model, input, profile);
        kinds.extend(circuit.plan().layers.iter().map(|l| l.op.clone()));
        for _ in 0..60 {
            let forgery =
                forgery::random(&circuit, &log, || rng.next_u64()).expect("models have hints");
            cancelling += usize::from(forgery.what.contains("cancelling"));
            let (failed, _) = run_forged(&circuit, &forgery, &honest, false);
            assert!(
                !failed.is_empty(),
                "{}: forgery accepted: {}",
                circuit.model().name(),
                forgery.what
            );
            tried += 1;
        }
    }
    assert!(models >= 20, "{models} models");
    // Wave 1's kind among them: quotient shifts the next layer cancels.
    assert!(cancelling >= 20, "{cancelling} cancelling forgeries");
    for op in [
        "conv2d",
        "linear",
        "rescale",
        "rescale+relu",
        "relu",
        "sum_pool2d",
        "max_pool2d",
        "avg_pool2d",
        "tanh",
        "add",
        "mul",
        "matmul",
        "divide",
        "select",
        "flatten",
    ] {
        assert!(
            kinds.contains(op),
            "no random model has a {op} step: {kinds:?}"
        );
    }
}
