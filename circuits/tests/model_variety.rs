//! Every op the circuit supports, in small models, under MockProver; and
//! the bundled digits models at their planned k.

mod common;

use common::node;
use halo2_proofs::dev::MockProver;
use std::sync::Arc;
use zkinfer_circuits::diagnose::failure_names;
use zkinfer_circuits::{CircuitError, Fp, ModelCircuit, ModelConfig, Profile, Visibility};
use zkinfer_quant::{
    Conv2d, Divide, Op, Pool2d, QuantizedModel, Rescale, Scale, Select, Shape, TableActivation,
    TableFunction, Tensor, TensorSpec,
};

fn image(c: usize, h: usize, w: usize, bits: u32) -> TensorSpec {
    TensorSpec {
        shape: Shape(vec![c, h, w]),
        scale: Scale(4),
        bits,
    }
}

/// A deterministic input within the model's bound.
fn input_for(model: &QuantizedModel, seed: i64) -> Tensor {
    let spec = model.input();
    let half = 1i64 << (spec.bits - 1);
    let data = (0..spec.shape.numel() as i64)
        .map(|i| (i * 37 + seed * 101).rem_euclid(2 * half) - half)
        .collect();
    Tensor::new(spec.shape.clone(), data).unwrap()
}

/// MockProver's verdict on the reference trace, and with the last output
/// changed by one.
fn check(
    model: QuantizedModel,
    visibility: Visibility,
    profile: Profile,
) -> (Vec<String>, Vec<String>) {
    let model = Arc::new(model);
    let trace = model.forward(&input_for(&model, 1)).expect("within bounds");
    let circuit = ModelCircuit::with_profile(model, visibility, profile)
        .unwrap()
        .with_trace(trace.clone())
        .unwrap();
    let k = circuit.plan().k;
    let instances = circuit.instances(&trace);
    let run = |instances: Vec<Fp>| {
        let prover = MockProver::run(k, &circuit, vec![instances]).expect("fits its planned k");
        failure_names(
            &ModelConfig::of(profile),
            prover.verify().err().unwrap_or_default(),
        )
    };
    let mut forged = instances.clone();
    *forged.last_mut().unwrap() += Fp::one();
    (run(instances), run(forged))
}

/// In every profile: the honest trace passes, a changed output fails, and
/// a sample of changed cells fails.
fn assert_proves(model: QuantizedModel) {
    for profile in Profile::ALL {
        for visibility in [Visibility::Public, Visibility::Private] {
            let (honest, forged) = check(model.clone(), visibility, profile);
            assert!(
                honest.is_empty(),
                "{} ({profile}): {honest:?}",
                model.name()
            );
            assert_eq!(forged, vec!["copy"], "{} ({profile})", model.name());
        }
        assert_every_sampled_cell_matters(model.clone(), profile, 400);
    }
}

/// Witness mutation: changing any one of a seeded sample of advice cells
/// (by +1) makes MockProver fail. The input is public: a private input is
/// the prover's free choice, and with it every derived cell would follow.
fn assert_every_sampled_cell_matters(model: QuantizedModel, profile: Profile, samples: usize) {
    let model = Arc::new(model);
    let trace = model.forward(&input_for(&model, 1)).unwrap();
    let circuit = ModelCircuit::with_profile(model.clone(), Visibility::Public, profile)
        .unwrap()
        .with_trace(trace.clone())
        .unwrap();
    let (k, instances) = (circuit.plan().k, circuit.instances(&trace));
    MockProver::run(k, &circuit, vec![instances.clone()]).unwrap();
    let cells = circuit.assigned_cells();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..samples.min(cells) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let index = (state % cells as u64) as usize;
        let prover = MockProver::run(
            k,
            &circuit.tampered(index, Fp::one()),
            vec![instances.clone()],
        )
        .unwrap();
        assert!(
            prover.verify().is_err(),
            "{} ({profile}): advice cell {index} of {cells} changed by one went unnoticed",
            model.name()
        );
    }
}

fn conv(oc: usize, ic: usize, k: usize, stride: [usize; 2], padding: [usize; 2]) -> Op {
    let n = oc * ic * k * k;
    Op::Conv2d(Conv2d {
        weight: Tensor::new(
            [oc, ic, k, k],
            (0..n as i64).map(|i| (i * 5 % 11) - 5).collect(),
        )
        .unwrap(),
        weight_scale: Scale(3),
        bias: (0..oc as i64).map(|o| o * 13 - 7).collect(),
        stride,
        padding,
        groups: 1,
    })
}

fn rescale(shift: u32, bits: u32) -> Op {
    Op::Rescale(Rescale { shift, bits })
}

#[test]
fn conv_relu_maxpool() {
    let nodes = vec![
        node(&[0], conv(3, 2, 3, [1, 2], [1, 0])),
        node(&[1], rescale(4, 10)),
        node(&[2], Op::Relu),
        node(&[3], Op::MaxPool2d(Pool2d::new([2, 2], [1, 1]))),
        node(&[4], Op::Flatten),
    ];
    assert_proves(QuantizedModel::new("conv", image(2, 5, 6, 8), nodes, None).unwrap());
}

/// A depthwise convolution (each channel its own 3×3 kernel) then a
/// grouped 1×1 one (two groups of two channels).
#[test]
fn grouped_convolutions() {
    let grouped = |oc: usize, icg: usize, k: usize, groups: usize| {
        Op::Conv2d(Conv2d {
            weight: Tensor::new(
                [oc, icg, k, k],
                (0..(oc * icg * k * k) as i64)
                    .map(|i| (i * 7 % 13) - 6)
                    .collect(),
            )
            .unwrap(),
            weight_scale: Scale(3),
            bias: (0..oc as i64).map(|o| o * 5 - 9).collect(),
            stride: [1, 1],
            padding: [1, 1],
            groups,
        })
    };
    let nodes = vec![
        node(&[0], grouped(4, 1, 3, 4)),
        node(&[1], rescale(4, 10)),
        node(&[2], Op::Relu),
        node(
            &[3],
            Op::Conv2d(Conv2d {
                padding: [0, 0],
                ..match grouped(4, 2, 1, 2) {
                    Op::Conv2d(c) => c,
                    _ => unreachable!(),
                }
            }),
        ),
    ];
    assert_proves(QuantizedModel::new("grouped", image(4, 4, 4, 8), nodes, None).unwrap());
}

/// Selects: a transpose, and a concatenation of two tensors with zeros —
/// no rows, the outputs are input cells and the constant zero — feeding a
/// dot product and published.
#[test]
fn selects() {
    let select = |shape: Vec<usize>, indices: Vec<Option<usize>>| {
        Op::Select(Select {
            shape: Shape(shape),
            indices,
        })
    };
    let input = TensorSpec {
        shape: Shape(vec![2, 3]),
        scale: Scale(2),
        bits: 8,
    };
    let nodes = vec![
        node(
            &[0],
            select(vec![3, 2], [0, 3, 1, 4, 2, 5].map(Some).to_vec()),
        ),
        node(&[0], Op::Relu),
        node(
            &[1, 2],
            select(
                vec![8],
                vec![
                    Some(0),
                    None,
                    Some(7),
                    Some(11),
                    None,
                    Some(3),
                    Some(3),
                    Some(6),
                ],
            ),
        ),
        node(
            &[3],
            Op::Linear(zkinfer_quant::Linear {
                weight: Tensor::new([3, 8], (0..24).map(|i| (i % 7) - 3).collect()).unwrap(),
                weight_scale: Scale(1),
                bias: vec![1, -2, 3],
            }),
        ),
        node(&[4], select(vec![4], vec![Some(2), None, Some(0), Some(0)])),
    ];
    assert_proves(QuantizedModel::new("selects", input, nodes, None).unwrap());
}

#[test]
fn pools_and_residual_add() {
    let nodes = vec![
        node(&[0], Op::SumPool2d(Pool2d::new([2, 2], [2, 2]))),
        node(&[0], Op::AvgPool2d(Pool2d::new([2, 2], [2, 2]))),
        node(&[0], Op::AvgPool2d(Pool2d::new([3, 3], [1, 1]))),
        node(&[3], Op::Relu),
        node(&[3, 4], Op::Add),
        node(&[2], rescale(0, 9)),
        node(
            &[6],
            Op::Reshape {
                shape: Shape(vec![4, 1]),
            },
        ),
    ];
    let model = QuantizedModel::new("pools", image(1, 4, 4, 8), nodes, None).unwrap();
    assert_proves(model);
}

/// Padded pools: a maximum that never sees the padding, averages whose
/// edge windows divide by the positions inside the image (3, 4, 6, 9 on
/// this 4×4 image) or by the whole kernel, and a padded window sum.
#[test]
fn padded_pools() {
    let padded = |kernel, stride, padding| Pool2d {
        padding,
        ..Pool2d::new(kernel, stride)
    };
    let nodes = vec![
        node(&[0], Op::MaxPool2d(padded([3, 3], [1, 1], [1, 1]))),
        node(&[1], Op::AvgPool2d(padded([3, 3], [1, 1], [1, 1]))),
        node(
            &[2],
            Op::AvgPool2d(Pool2d {
                count_include_pad: true,
                ..padded([2, 3], [2, 1], [1, 1])
            }),
        ),
        node(&[3], Op::SumPool2d(padded([2, 2], [1, 1], [1, 0]))),
        node(&[4], rescale(1, 9)),
    ];
    let model = QuantizedModel::new("padded", image(1, 4, 4, 8), nodes, None).unwrap();
    assert_proves(model);
}

#[test]
fn table_activations() {
    let table = |function: TableFunction| TableActivation {
        function,
        input_bits: 6,
        output_scale: Scale(5),
        values: (-32..32)
            .map(|x| (function.eval(x as f64 / 8.0) * 32.0).round() as i64)
            .collect(),
    };
    let nodes = vec![
        node(&[0], rescale(2, 6)),
        node(&[1], Op::Table(table(TableFunction::Sigmoid))),
        node(&[1], Op::Table(table(TableFunction::Tanh))),
        node(&[2, 3], Op::Add),
        // A gate: sigmoid(x) times tanh(x), rescaled (a product of two
        // activations, as GELU and squeeze-excite blocks write it).
        node(&[2, 3], Op::Mul),
        node(&[5], rescale(5, 8)),
    ];
    let input = TensorSpec {
        shape: Shape(vec![5]),
        scale: Scale(5),
        bits: 8,
    };
    assert_proves(QuantizedModel::new("tables", input, nodes, None).unwrap());
}

/// Attention's two products of activations, without the softmax: scores
/// `Q·Kᵀ` per head (the input as Q, K and V), rescaled, then `scores·V`.
#[test]
fn attention_products() {
    let (heads, tokens, d) = (2, 4, 3);
    let transpose = Op::Select(Select {
        shape: Shape(vec![heads, d, tokens]),
        indices: (0..heads * d * tokens)
            .map(|j| {
                let (h, l, t) = (j / (d * tokens), j / tokens % d, j % tokens);
                Some((h * tokens + t) * d + l)
            })
            .collect(),
    });
    let nodes = vec![
        node(&[0], transpose),
        node(&[0, 1], Op::MatMul),
        node(&[2], rescale(8, 9)),
        node(&[3, 0], Op::MatMul),
        node(&[4], rescale(9, 10)),
    ];
    let input = TensorSpec {
        shape: Shape(vec![heads, tokens, d]),
        scale: Scale(4),
        bits: 8,
    };
    let model = QuantizedModel::new("attention", input, nodes, None).unwrap();
    assert_eq!(model.specs()[2].shape, Shape(vec![heads, tokens, tokens]));
    assert_proves(model);
}

/// A softmax as the importer writes it, with the exact division: an exp
/// table over x − max (positive entries), each row's sum broadcast back,
/// and each exp over its row's sum at 2^-6.
#[test]
fn softmax_with_a_proved_division() {
    let exp = TableActivation {
        function: TableFunction::Exp,
        input_bits: 6,
        output_scale: Scale(5),
        values: (-32..32)
            .map(|x| ((x.min(0) as f64 / 8.0).exp() * 32.0).round().max(1.0) as i64)
            .collect(),
    };
    let broadcast = Op::Select(Select {
        shape: Shape(vec![1, 2, 4]),
        indices: (0..8).map(|j| Some(j / 4)).collect(),
    });
    let row_max = Pool2d::new([1, 4], [1, 4]);
    let negate = Op::Conv2d(Conv2d {
        weight: Tensor::new([1, 1, 1, 1], vec![-1]).unwrap(),
        weight_scale: Scale(0),
        bias: vec![0],
        stride: [1, 1],
        padding: [0, 0],
        groups: 1,
    });
    let nodes = vec![
        node(&[0], Op::MaxPool2d(row_max)),
        node(&[1], negate),
        node(&[2], broadcast.clone()),
        node(&[0, 3], Op::Add),
        node(&[4], rescale(0, 6)),
        node(&[5], Op::Table(exp)),
        node(&[6], Op::SumPool2d(row_max)),
        node(&[7], broadcast),
        node(&[6, 8], Op::Divide(Divide { shift: 6, bits: 8 })),
    ];
    let input = TensorSpec {
        shape: Shape(vec![1, 2, 4]),
        scale: Scale(3),
        bits: 5,
    };
    let model = QuantizedModel::new("softmax", input, nodes, None).unwrap();
    assert_proves(model);
}

/// Every table function, each in a model of its own: the honest witness
/// passes and a changed output fails (the table chip's own tests forge its
/// cells; what differs between functions is only the values).
#[test]
fn every_table_function_proves() {
    for &function in TableFunction::ALL {
        // Filled as calibration fills tables (undefined inputs read the
        // smallest step's value).
        let values: Vec<i64> = (-16..16)
            .map(|x| (function.eval(function.floor(x as f64 / 4.0, 0.25)) * 16.0).round() as i64)
            .collect();
        let table = TableActivation {
            function,
            input_bits: 5,
            output_scale: Scale(4),
            values,
        };
        let nodes = vec![node(&[0], rescale(3, 5)), node(&[1], Op::Table(table))];
        let input = TensorSpec {
            shape: Shape(vec![6]),
            scale: Scale(5),
            bits: 8,
        };
        let model = QuantizedModel::new(function.name(), input, nodes, None).unwrap();
        // Table functions have no dot rows: the compact profile covers them.
        let (honest, forged) = check(model, Visibility::Public, Profile::Compact);
        assert!(honest.is_empty(), "{function}: {honest:?}");
        assert_eq!(forged, vec!["copy"], "{function}");
    }
}

#[test]
fn unsupported_parameters_are_named() {
    let input = TensorSpec {
        shape: Shape(vec![3]),
        scale: Scale(0),
        bits: 8,
    };
    let wide = QuantizedModel::new(
        "wide",
        input.clone(),
        vec![node(&[0], rescale(20, 8))],
        None,
    )
    .unwrap();
    let err = ModelCircuit::new(Arc::new(wide), Visibility::Public).unwrap_err();
    assert!(
        matches!(
            err,
            CircuitError::Unsupported {
                node: 0,
                op: "rescale",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("20-bit"), "{err}");
    let too_wide_input = TensorSpec { bits: 20, ..input };
    let model =
        QuantizedModel::new("in", too_wide_input, vec![node(&[0], Op::Relu)], None).unwrap();
    let err = ModelCircuit::new(Arc::new(model), Visibility::Public).unwrap_err();
    assert!(err.to_string().contains("input"), "{err}");
}

#[test]
fn bundled_models_fit_k9_and_prove_under_mockprover() {
    for (name, text) in [
        (
            "digits-mlp",
            include_str!("../../models/bundled/digits-mlp/model.json"),
        ),
        (
            "digits-cnn",
            include_str!("../../models/bundled/digits-cnn/model.json"),
        ),
    ] {
        let model = QuantizedModel::from_json(text).unwrap();
        let circuit = ModelCircuit::new(Arc::new(model.clone()), Visibility::Public).unwrap();
        let plan = circuit.plan();
        assert_eq!(plan.k, 9, "{name}: {plan:#?}");
        // A digit-like input: pixels 0..16 at the input scale.
        let scale = model.input().scale.0;
        let pixels: Vec<f64> = (0..64).map(|i| ((i * 7) % 17) as f64 / 16.0).collect();
        let _ = scale;
        let x = model.quantize_input(&pixels).unwrap();
        let trace = model.forward(&x).unwrap();
        let circuit = circuit.with_trace(trace.clone()).unwrap();
        let prover = MockProver::run(plan.k, &circuit, vec![circuit.instances(&trace)]).unwrap();
        assert_eq!(prover.verify(), Ok(()), "{name}");
    }
}
