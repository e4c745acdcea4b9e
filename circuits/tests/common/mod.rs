//! Model-building helpers the circuit tests share.

// Each test crate uses its own subset.
#![allow(dead_code)]

use halo2_proofs::dev::MockProver;
use std::sync::Arc;
use zkinfer_circuits::diagnose::failure_names;
use zkinfer_circuits::{Fp, ModelCircuit, ModelConfig, Profile, Visibility, WeightVisibility};
use zkinfer_quant::{
    Conv2d, Linear, Node, Op, Pool2d, QuantizedModel, Rescale, Scale, Shape, Tensor, TensorSpec,
};

/// A node reading `inputs`.
pub fn node(inputs: &[usize], op: Op) -> Node {
    Node {
        inputs: inputs.to_vec(),
        op,
    }
}

/// A linear layer with `out` outputs, weights row-major at scale 2^-3.
pub fn linear(out: usize, weights: Vec<i64>, bias: Vec<i64>) -> Op {
    let inp = weights.len() / out;
    Op::Linear(Linear {
        weight: Tensor::new([out, inp], weights).unwrap(),
        weight_scale: Scale(3),
        bias,
    })
}

/// `[1, 4, 4]` → conv 2×3×3 (padded) → rescale → relu → avg pool 2×2 →
/// flatten → linear 3 → rescale; `tweak` is added to one weight of each
/// layer and one bias.
pub fn convnet(tweak: i64) -> QuantizedModel {
    let input = TensorSpec {
        shape: Shape(vec![1, 4, 4]),
        scale: Scale(4),
        bits: 8,
    };
    let mut conv_w: Vec<i64> = (0..18).map(|i| (i * 7 % 15) - 7).collect();
    conv_w[4] += tweak;
    let mut fc_w: Vec<i64> = (0..24).map(|i| (i * 5 % 11) - 5).collect();
    fc_w[23] -= tweak;
    let nodes = vec![
        node(
            &[0],
            Op::Conv2d(Conv2d {
                weight: Tensor::new([2, 1, 3, 3], conv_w).unwrap(),
                weight_scale: Scale(3),
                bias: vec![30, -40 + tweak],
                stride: [1, 1],
                padding: [1, 1],
                groups: 1,
            }),
        ),
        node(&[1], Op::Rescale(Rescale { shift: 4, bits: 9 })),
        node(&[2], Op::Relu),
        node(&[3], Op::AvgPool2d(Pool2d::new([2, 2], [2, 2]))),
        node(&[4], Op::Flatten),
        node(&[5], linear(3, fc_w, vec![5, 0, -5])),
        node(&[6], Op::Rescale(Rescale { shift: 3, bits: 10 })),
    ];
    QuantizedModel::new("convnet", input, nodes, None).unwrap()
}

pub fn input() -> Tensor {
    Tensor::new([1, 4, 4], (0..16).map(|i| (i * 29 % 200) - 100).collect()).unwrap()
}

/// `model`'s circuit with its weights as `weights` say, and the trace of
/// [`input`].
pub fn with_weights(
    model: QuantizedModel,
    profile: Profile,
    weights: WeightVisibility,
) -> ModelCircuit {
    let model = Arc::new(model);
    let trace = model.forward(&input()).unwrap();
    ModelCircuit::with_options(model, Visibility::Public, weights, profile)
        .unwrap()
        .with_trace(trace)
        .unwrap()
}

pub fn instances(circuit: &ModelCircuit) -> Vec<Fp> {
    let trace = circuit.witness_model().forward(&input()).unwrap();
    circuit.instances(&trace)
}

pub fn mock(circuit: &ModelCircuit, instances: Vec<Fp>) -> Vec<String> {
    let k = circuit.plan().k;
    let prover = MockProver::run(k, circuit, vec![instances]).expect("synthesis succeeds");
    let config = ModelConfig::of_plan(circuit.plan());
    failure_names(&config, prover.verify().err().unwrap_or_default())
}

/// 3 → linear 2 → rescale, with weights as `visibility` says and the trace of one
/// input; the model, the circuit and its public inputs.
pub fn one_layer(
    weights: Vec<i64>,
    biases: Vec<i64>,
    rescale: Rescale,
    visibility: WeightVisibility,
) -> (Arc<QuantizedModel>, ModelCircuit, Vec<Fp>) {
    let input = TensorSpec {
        shape: Shape(vec![3]),
        scale: Scale(4),
        bits: 8,
    };
    let nodes = vec![
        node(&[0], linear(2, weights, biases)),
        node(&[1], Op::Rescale(rescale)),
    ];
    let model = Arc::new(QuantizedModel::new("one layer", input, nodes, None).unwrap());
    let trace = model
        .forward(&Tensor::new([3], vec![100, -50, 7]).unwrap())
        .unwrap();
    let circuit = ModelCircuit::with_options(
        model.clone(),
        Visibility::Public,
        visibility,
        Profile::Compact,
    )
    .unwrap()
    .with_trace(trace.clone())
    .unwrap();
    let claimed = circuit.instances(&trace);
    (model, circuit, claimed)
}

/// Every cell zkinfer's assigner numbers, changed by one, fails.
pub fn every_numbered_cell_fails(circuit: &ModelCircuit, claimed: &[Fp]) {
    every_numbered_cell_fails_but(circuit, claimed, &[]);
}

/// [`every_numbered_cell_fails`] for the cells not named in `free`: cells
/// whose change, with every witness derived from them following, is
/// another valid inference (polycommit's stored weights, which only the
/// opening proof binds).
pub fn every_numbered_cell_fails_but(circuit: &ModelCircuit, claimed: &[Fp], free: &[&str]) {
    let log = circuit.recording();
    mock(&log, claimed.to_vec());
    let cells = log.assigned();
    assert_eq!(
        cells.len(),
        log.assigned_cells(),
        "every numbered cell is logged"
    );
    for cell in cells.iter().filter(|c| !free.contains(&c.name)) {
        let failures = mock(&circuit.tampered(cell.index, Fp::one()), claimed.to_vec());
        assert!(
            !failures.is_empty(),
            "cell {} ({}) of {} changed by one went unnoticed",
            cell.index,
            cell.name,
            cells.len()
        );
    }
}

/// Every advice cell of `circuit`'s witness (a chip's own cells included,
/// which zkinfer's assigner does not number), changed by one after
/// synthesis, fails.
pub fn every_advice_cell_fails(circuit: &ModelCircuit, claimed: Vec<Fp>) {
    let mut prover = MockProver::run(circuit.plan().k, circuit, vec![claimed]).unwrap();
    assert_eq!(prover.verify(), Ok(()));
    for (column, row) in prover.assigned_advice_cells() {
        assert!(prover.add_to_advice(column, row, Fp::one()));
        assert!(
            prover.verify().is_err(),
            "advice column {column}, row {row} changed by one went unnoticed"
        );
        prover.add_to_advice(column, row, -Fp::one());
    }
}
