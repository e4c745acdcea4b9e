//! The plan's check of the bound invariant (`zkinfer_circuits::bounds`):
//! every op kind passes it, and a step that would leave a value unproven —
//! wave 1's average pool — is a plan error, not a silent gap.

mod common;

use common::node;
use zkinfer_circuits::bounds::{self, BoundProof};
use zkinfer_circuits::plan::steps;
use zkinfer_circuits::{CircuitError, CircuitPlan, Step, StepKind, Visibility};
use zkinfer_quant::{
    Conv2d, Linear, Op, Pool2d, QuantizedModel, Rescale, Scale, Shape, TableActivation,
    TableFunction, Tensor, TensorSpec,
};

/// One model with every op the circuit lays out.
fn every_op() -> QuantizedModel {
    let pool = |k| Pool2d::new([k, k], [1, 1]);
    let table = TableActivation {
        function: TableFunction::Tanh,
        input_bits: 8,
        output_scale: Scale(4),
        values: (-128..128).map(|x: i64| x.clamp(-16, 16)).collect(),
    };
    let nodes = vec![
        node(
            &[0],
            Op::Conv2d(Conv2d {
                weight: Tensor::new([2, 1, 3, 3], (0..18).map(|i| i % 5 - 2).collect()).unwrap(),
                weight_scale: Scale(2),
                bias: vec![1, -1],
                stride: [1, 1],
                padding: [1, 1],
                groups: 1,
            }),
        ),
        node(&[1], Op::Rescale(Rescale { shift: 4, bits: 9 })),
        node(&[2], Op::Relu),
        node(&[3], Op::Relu),
        node(&[4], Op::MaxPool2d(pool(2))),
        node(&[5], Op::SumPool2d(pool(2))),
        node(&[6], Op::Rescale(Rescale { shift: 2, bits: 8 })),
        node(&[7], Op::Table(table)),
        node(&[8, 8], Op::Add),
        node(&[9], Op::AvgPool2d(Pool2d::new([2, 2], [2, 2]))),
        node(&[10], Op::Flatten),
        node(
            &[11],
            Op::Linear(Linear {
                weight: Tensor::new([2, 8], (0..16).map(|i| i % 7 - 3).collect()).unwrap(),
                weight_scale: Scale(3),
                bias: vec![0, 4],
            }),
        ),
        node(&[12], Op::Rescale(Rescale { shift: 3, bits: 12 })),
        node(
            &[13],
            Op::Reshape {
                shape: Shape(vec![1, 2]),
            },
        ),
    ];
    let input = TensorSpec {
        shape: Shape(vec![1, 6, 6]),
        scale: Scale(4),
        bits: 8,
    };
    QuantizedModel::new("every-op", input, nodes, None).unwrap()
}

#[test]
fn every_op_kind_passes_and_says_how_its_output_is_bounded() {
    let plan = CircuitPlan::new(&every_op(), Visibility::Public).unwrap();
    let by_op: Vec<(&str, &[BoundProof])> = plan
        .layers
        .iter()
        .map(|l| (l.op.as_str(), l.bounds.as_slice()))
        .collect();
    use BoundProof::*;
    assert_eq!(
        by_op,
        vec![
            ("input bound", &[RangeCheck][..]),
            ("conv2d", &[Derived]),
            ("rescale+relu", &[RangeCheck, Derived]),
            ("relu", &[Derived]),
            ("max_pool2d", &[Derived]),
            ("sum_pool2d", &[Derived]),
            ("rescale", &[RangeCheck]),
            ("tanh", &[Lookup]),
            ("add", &[Derived]),
            ("avg_pool2d", &[RangeCheck]),
            ("flatten", &[RangeCheck]),
            ("linear", &[Derived]),
            ("rescale", &[RangeCheck]),
            ("reshape", &[RangeCheck]),
        ]
    );
}

/// What wave 1's circuit proved of an average pool's output: nothing.
fn wave_one(step: &Step) -> Vec<Option<BoundProof>> {
    match step.kind {
        StepKind::AvgPool { .. } => vec![Some(BoundProof::Unproven)],
        _ => step.bounds(),
    }
}

#[test]
fn an_unproven_output_is_a_plan_error() {
    let model = every_op();
    let steps = steps(&model).unwrap();
    assert!(bounds::check(&model, &steps, Step::bounds).is_ok());
    match bounds::check(&model, &steps, wave_one) {
        Err(CircuitError::Unbounded { node, op, what }) => {
            assert_eq!((node, op), (9, "avg_pool2d"));
            let bits = model.specs()[10].bits;
            let expected = format!("not proven to be an integer in its declared {bits}-bit range");
            assert!(what.contains(&expected), "{what}");
        }
        other => panic!("expected an unbounded step, got {other:?}"),
    }
    // The last rescale, unproven, is refused before the reshape after it
    // could publish it.
    let lying_rescale = |step: &Step| match step.nodes[..] {
        [12] => vec![Some(BoundProof::Unproven)],
        _ => step.bounds(),
    };
    let err = bounds::check(&model, &steps, lying_rescale).unwrap_err();
    assert!(err.to_string().starts_with("node 12 (rescale)"), "{err}");
    // A statement that does not cover every node of its step.
    let short = |step: &Step| match step.kind {
        StepKind::Rescale { relu: true, .. } => vec![Some(BoundProof::RangeCheck)],
        _ => step.bounds(),
    };
    let err = bounds::check(&model, &steps, short).unwrap_err();
    assert!(
        err.to_string().contains("states 1 outputs for 2 nodes"),
        "{err}"
    );
}
