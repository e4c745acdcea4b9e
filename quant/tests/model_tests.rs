//! Model validation, the model file, and the digest.

use sha2::{Digest, Sha256};
use zkinfer_quant::{
    Conv2d, Linear, Node, Op, Pool2d, QuantError, QuantizedModel, Rescale, Scale, Select, Shape,
    TableActivation, TableFunction, Tensor, TensorSpec,
};

fn vector(n: usize, scale: i32, bits: u32) -> TensorSpec {
    TensorSpec {
        shape: Shape(vec![n]),
        scale: Scale(scale),
        bits,
    }
}

fn linear(out: usize, inp: usize, w: i64, b: i64) -> Op {
    Op::Linear(Linear {
        weight: Tensor::new([out, inp], vec![w; out * inp]).unwrap(),
        weight_scale: Scale(3),
        bias: vec![b; out],
    })
}

fn node(inputs: &[usize], op: Op) -> Node {
    Node {
        inputs: inputs.to_vec(),
        op,
    }
}

/// linear 2→1 (weights [3, -2], bias 5, scale 2^-3) then rescale by 3.
fn tiny() -> QuantizedModel {
    let lin = Op::Linear(Linear {
        weight: Tensor::new([1, 2], vec![3, -2]).unwrap(),
        weight_scale: Scale(3),
        bias: vec![5],
    });
    QuantizedModel::new(
        "tiny",
        vector(2, 2, 8),
        vec![
            node(&[0], lin),
            node(&[1], Op::Rescale(Rescale { shift: 3, bits: 8 })),
        ],
        None,
    )
    .unwrap()
}

fn invalid(input: TensorSpec, nodes: Vec<Node>) -> String {
    QuantizedModel::new("bad", input, nodes, None)
        .unwrap_err()
        .to_string()
}

#[test]
fn specs_follow_the_graph() {
    let m = tiny();
    let specs = m.specs();
    assert_eq!(specs[1].scale, Scale(5)); // 2 + 3
                                          // |3|·128 + |-2|·128 + 5 = 645 needs 11 bits.
    assert_eq!(specs[1].bits, 11);
    assert_eq!(specs[2].scale, Scale(2));
    assert_eq!(m.output().bits, 8);
    assert_eq!(m.parameter_count(), 3);
}

#[test]
fn invalid_graphs_are_refused_with_the_node_named() {
    let err = invalid(vector(4, 0, 8), vec![node(&[0], linear(2, 3, 1, 0))]);
    assert!(
        err.contains("node 0 (linear)") && err.contains("vector of 3"),
        "{err}"
    );

    let err = invalid(vector(4, 0, 8), vec![node(&[1], Op::Relu)]);
    assert!(err.contains("not computed before it"), "{err}");

    let err = invalid(vector(4, 0, 8), vec![node(&[0], Op::Add)]);
    assert!(err.contains("takes 2 input(s), 1 given"), "{err}");

    let mut bad_bias = linear(2, 4, 1, 0);
    if let Op::Linear(l) = &mut bad_bias {
        l.bias.pop();
    }
    let err = invalid(vector(4, 0, 8), vec![node(&[0], bad_bias)]);
    assert!(err.contains("1 biases for 2 outputs"), "{err}");

    let conv = Op::Conv2d(Conv2d {
        weight: Tensor::new([1, 1, 3, 3], vec![1; 9]).unwrap(),
        weight_scale: Scale(0),
        bias: vec![0],
        stride: [1, 1],
        padding: [0, 0],
        groups: 1,
    });
    let err = invalid(vector(4, 0, 8), vec![node(&[0], conv)]);
    assert!(err.contains("[1, h, w] image"), "{err}");

    let pool = Op::MaxPool2d(Pool2d::new([5, 5], [1, 1]));
    let image = TensorSpec {
        shape: Shape(vec![1, 4, 4]),
        scale: Scale(0),
        bits: 8,
    };
    let err = invalid(image, vec![node(&[0], pool)]);
    assert!(err.contains("larger than the padded input"), "{err}");

    let err = invalid(
        vector(4, 0, 8),
        vec![
            node(&[0], Op::Rescale(Rescale { shift: 1, bits: 8 })),
            node(&[0, 1], Op::Add),
        ],
    );
    assert!(err.contains("adds scales"), "{err}");

    let err = invalid(
        vector(4, 0, 8),
        vec![node(
            &[0],
            Op::Reshape {
                shape: Shape(vec![3]),
            },
        )],
    );
    assert!(err.contains("cannot reshape"), "{err}");

    let err = invalid(vector(4, 0, 0), vec![node(&[0], Op::Relu)]);
    assert!(err.contains("input"), "{err}");

    let err = invalid(vector(4, 0, 8), vec![]);
    assert!(err.contains("no nodes"), "{err}");

    // Shapes whose element count overflows, or is absurd, are refused.
    let huge = TensorSpec {
        shape: Shape(vec![1 << 40, 1 << 40]),
        scale: Scale(0),
        bits: 8,
    };
    let err = invalid(huge, vec![node(&[0], Op::Relu)]);
    assert!(err.contains("elements"), "{err}");
    let err = invalid(
        vector(4, 0, 8),
        vec![node(
            &[0],
            Op::Reshape {
                shape: Shape(vec![1 << 62, 4, 4]),
            },
        )],
    );
    // 2^62·4·4 wraps to 0 in 64 bits: it must read as too many elements.
    assert!(err.contains("has more than 16777216 elements"), "{err}");
}

#[test]
fn accumulators_beyond_f64_exactness_are_refused() {
    // 30-bit inputs times 2^20 weights, summed 16 times: about 2^54.
    let wide = Op::Linear(Linear {
        weight: Tensor::new([1, 16], vec![1 << 20; 16]).unwrap(),
        weight_scale: Scale(0),
        bias: vec![0],
    });
    let err = invalid(vector(16, 0, 31), vec![node(&[0], wide)]);
    assert!(
        err.contains("node 0 (linear)") && err.contains("53 bits"),
        "{err}"
    );
}

#[test]
fn tables_must_cover_their_input_bound() {
    let table = |input_bits| TableActivation {
        function: TableFunction::Sigmoid,
        input_bits,
        output_scale: Scale(4),
        values: vec![7; 1 << input_bits],
    };
    let err = invalid(vector(3, 0, 8), vec![node(&[0], Op::Table(table(6)))]);
    assert!(err.contains("rescale to at most 6 bits"), "{err}");
    let mut short = table(8);
    short.values.pop();
    let err = invalid(vector(3, 0, 8), vec![node(&[0], Op::Table(short))]);
    assert!(err.contains("needs 256 table values, 255 given"), "{err}");
    let ok = QuantizedModel::new(
        "t",
        vector(3, 0, 8),
        vec![node(&[0], Op::Table(table(8)))],
        None,
    );
    assert_eq!(ok.unwrap().output().bits, 4); // |7| needs 4 bits
}

#[test]
fn forward_computes_the_documented_semantics() {
    let m = tiny();
    // x = [1.0, 0.25] at 2^-2 → [4, 1]; acc = 12 - 2 + 5 = 15; (15 + 4) >> 3 = 2.
    let x = m.quantize_input(&[1.0, 0.25]).unwrap();
    assert_eq!(x.data, vec![4, 1]);
    let trace = m.forward(&x).unwrap();
    assert_eq!(trace.tensors[1].data, vec![15]);
    assert_eq!(trace.output().data, vec![2]);
}

#[test]
fn activations_beyond_their_bound_are_an_error() {
    let m = QuantizedModel::new(
        "b",
        vector(1, 0, 8),
        vec![node(&[0], Op::Rescale(Rescale { shift: 0, bits: 4 }))],
        None,
    )
    .unwrap();
    let ok = m.forward(&Tensor::new([1], vec![7]).unwrap());
    assert!(ok.is_ok());
    let err = m.forward(&Tensor::new([1], vec![8]).unwrap()).unwrap_err();
    assert!(
        matches!(
            err,
            QuantError::BoundExceeded {
                value: 8,
                bits: 4,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("node 0 (rescale)"), "{err}");
}

#[test]
fn inputs_are_checked_before_quantization() {
    let m = tiny();
    let err = m.quantize_input(&[1.0]).unwrap_err();
    assert!(matches!(
        err,
        QuantError::InputLength {
            got: 1,
            expected: 2,
            ..
        }
    ));
    let err = m.quantize_input(&[1.0, f64::NAN]).unwrap_err();
    assert!(matches!(err, QuantError::NonFiniteInput { index: 1, .. }));
    // 8 bits at 2^-2 hold [-32, 31.75].
    assert!(m.quantize_input(&[31.75, -32.0]).is_ok());
    let err = m.quantize_input(&[0.0, 32.0]).unwrap_err();
    assert!(
        matches!(err, QuantError::InputOutOfRange { index: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("[-32, 31.75]"), "{err}");
}

#[test]
fn model_files_round_trip() {
    let m = tiny();
    let text = m.to_json();
    assert!(text.contains("\"format\": \"zkinfer/model@1\""));
    let back = QuantizedModel::from_json(&text).unwrap();
    assert_eq!(back, m);
    assert_eq!(back.to_json(), text);
}

#[test]
fn model_files_of_another_kind_or_state_are_refused() {
    let text = tiny().to_json();
    let err = QuantizedModel::from_json(&text.replace("model@1", "model@2")).unwrap_err();
    assert!(
        matches!(err, QuantError::Format { ref found, .. } if found == "zkinfer/model@2"),
        "{err}"
    );
    let err = QuantizedModel::from_json(&text[..text.len() / 2]).unwrap_err();
    assert!(matches!(&err, QuantError::Json(e) if e.is_eof()), "{err}");
    let err = QuantizedModel::from_json(r#"{"format": "zkinfer/proof@1"}"#).unwrap_err();
    assert!(matches!(err, QuantError::Format { .. }));
    let err = QuantizedModel::from_json(r#"{"format": "zkinfer/model@1"}"#).unwrap_err();
    assert!(
        matches!(&err, QuantError::Json(e) if e.to_string().contains("missing field")),
        "{err}"
    );
    // An edited weight no longer matches the digest.
    let edited = text.replacen("-2", "-3", 1);
    assert_ne!(edited, text);
    let err = QuantizedModel::from_json(&edited).unwrap_err();
    assert!(matches!(err, QuantError::DigestMismatch { .. }), "{err}");
    // An edited graph that is invalid names the node.
    let bad = text.replacen("\"bits\": 8\n    }", "\"bits\": 0\n    }", 1);
    assert!(QuantizedModel::from_json(&bad).is_err());
}

/// The digest, computed independently from the documented encoding.
#[test]
fn digest_is_sha256_of_the_documented_encoding() {
    let mut bytes: Vec<u8> = b"zkinfer/model@1\0".to_vec();
    let u64le = |b: &mut Vec<u8>, v: u64| b.extend(v.to_le_bytes());
    // Input spec: shape [2], scale 2 (i32), bits 8 (u32).
    u64le(&mut bytes, 1);
    u64le(&mut bytes, 2);
    bytes.extend(2i32.to_le_bytes());
    bytes.extend(8u32.to_le_bytes());
    u64le(&mut bytes, 2); // two nodes
                          // Node 0: inputs [0], tag 1 (linear), weight shape [1, 2] data [3, -2],
                          // weight scale 3, bias [5].
    u64le(&mut bytes, 1);
    u64le(&mut bytes, 0);
    bytes.push(1);
    u64le(&mut bytes, 2);
    u64le(&mut bytes, 1);
    u64le(&mut bytes, 2);
    u64le(&mut bytes, 2);
    bytes.extend(3i64.to_le_bytes());
    bytes.extend((-2i64).to_le_bytes());
    bytes.extend(3i32.to_le_bytes());
    u64le(&mut bytes, 1);
    bytes.extend(5i64.to_le_bytes());
    // Node 1: inputs [1], tag 10 (rescale), shift 3, bits 8.
    u64le(&mut bytes, 1);
    u64le(&mut bytes, 1);
    bytes.push(10);
    bytes.extend(3u32.to_le_bytes());
    bytes.extend(8u32.to_le_bytes());
    let expected: [u8; 32] = Sha256::digest(&bytes).into();
    assert_eq!(tiny().digest().0, expected);
}

#[test]
fn digest_names_semantics_not_labels() {
    let m = tiny();
    let (input, nodes) = (m.input().clone(), m.nodes().to_vec());
    let renamed = QuantizedModel::new("other name", input.clone(), nodes.clone(), None).unwrap();
    assert_eq!(renamed.digest(), m.digest());
    let mut changed = nodes.clone();
    if let Op::Linear(l) = &mut changed[0].op {
        l.bias[0] += 1;
    }
    let changed = QuantizedModel::new("tiny", input.clone(), changed, None).unwrap();
    assert_ne!(changed.digest(), m.digest());
    let mut rescaled = nodes;
    rescaled[1].op = Op::Rescale(Rescale { shift: 3, bits: 9 });
    let rescaled = QuantizedModel::new("tiny", input, rescaled, None).unwrap();
    assert_ne!(rescaled.digest(), m.digest());
}

/// A model with a tanh table and a GELU table.
fn with_tables() -> QuantizedModel {
    let table = |function| TableActivation {
        function,
        input_bits: 8,
        output_scale: Scale(4),
        values: (-128..128).map(|x: i64| x.clamp(-20, 20)).collect(),
    };
    let nodes = vec![
        node(&[0], Op::Table(table(TableFunction::Tanh))),
        node(&[1], Op::Table(table(TableFunction::Gelu))),
    ];
    QuantizedModel::new("tables", vector(3, 4, 8), nodes, None).unwrap()
}

/// Files written before tables were one op spelled a tanh table
/// `{"op": "tanh", …}`; they read as the same model with the same digest.
#[test]
fn older_table_spellings_read_the_same() {
    let m = with_tables();
    let text = m.to_json();
    assert!(text.contains("\"op\": \"table\""), "{text}");
    assert!(text.contains("\"function\": \"gelu\""), "{text}");
    let old = text.replacen(
        "\"op\": \"table\",\n      \"function\": \"tanh\"",
        "\"op\": \"tanh\"",
        1,
    );
    assert_ne!(old, text, "the first table is written op, then function");
    let back = QuantizedModel::from_json(&old).unwrap();
    assert_eq!(back, m);
    assert_eq!(back.digest(), m.digest());
}

/// Each table function has its own digest tag: the same values under
/// another function are another model.
#[test]
fn the_function_is_part_of_the_digest() {
    let m = with_tables();
    let mut nodes = m.nodes().to_vec();
    if let Op::Table(t) = &mut nodes[1].op {
        t.function = TableFunction::Erf;
    }
    let other = QuantizedModel::new("tables", m.input().clone(), nodes, None).unwrap();
    assert_ne!(other.digest(), m.digest());
}

/// A depthwise convolution reads only its own channel; a grouped one only
/// its group's. Computed by hand on a 2-channel 1×2 image.
#[test]
fn grouped_convolutions_read_their_group() {
    let spec = TensorSpec {
        shape: Shape(vec![2, 1, 2]),
        scale: Scale(0),
        bits: 8,
    };
    let conv = |oc: usize, weights: Vec<i64>, groups| {
        let icg = weights.len() / oc;
        Op::Conv2d(Conv2d {
            weight: Tensor::new([oc, icg, 1, 1], weights).unwrap(),
            weight_scale: Scale(0),
            bias: vec![1; oc],
            stride: [1, 1],
            padding: [0, 0],
            groups,
        })
    };
    let x = Tensor::new([2, 1, 2], vec![3, 4, 5, 6]).unwrap();
    let run = |op: Op| {
        let m = QuantizedModel::new("g", spec.clone(), vec![node(&[0], op)], None).unwrap();
        m.forward(&x).unwrap().output().data.clone()
    };
    // Depthwise: 2·[3, 4] + 1 and 10·[5, 6] + 1.
    assert_eq!(run(conv(2, vec![2, 10], 2)), vec![7, 9, 51, 61]);
    // Two groups of one input channel, two outputs each.
    assert_eq!(
        run(conv(4, vec![1, -1, 2, 3], 2)),
        vec![4, 5, -2, -3, 11, 13, 16, 19]
    );
    // Ungrouped, the same weights would read both channels.
    assert_eq!(run(conv(2, vec![1, 1, 0, 2], 1)), vec![9, 11, 11, 13]);
    let err = invalid(spec.clone(), vec![node(&[0], conv(3, vec![1, 1, 1], 2))]);
    assert!(
        err.contains("2 groups do not divide 3 output channels"),
        "{err}"
    );
    let err = invalid(spec, vec![node(&[0], conv(2, vec![1, 1], 0))]);
    assert!(err.contains("0 groups"), "{err}");
}

/// Padded pools, computed by hand on a 3×3 image: padding is never a
/// maximum and never a divisor unless `count_include_pad` says so.
#[test]
fn padded_pools_leave_the_padding_out() {
    let image = |values: Vec<i64>| Tensor::new([1, 3, 3], values).unwrap();
    let spec = TensorSpec {
        shape: Shape(vec![1, 3, 3]),
        scale: Scale(0),
        bits: 8,
    };
    let pool = |count_include_pad| Pool2d {
        padding: [1, 1],
        count_include_pad,
        ..Pool2d::new([3, 3], [1, 1])
    };
    let run = |op: Op, x: Vec<i64>| {
        let m = QuantizedModel::new("p", spec.clone(), vec![node(&[0], op)], None).unwrap();
        m.forward(&image(x)).unwrap().output().data.clone()
    };
    let negative: Vec<i64> = (1..=9).map(|v| -v).collect();
    // A zero-padded maximum would give 0 at every edge.
    assert_eq!(
        run(Op::MaxPool2d(pool(false)), negative),
        vec![-1, -1, -2, -1, -1, -2, -4, -4, -5]
    );
    let ones_to_nine: Vec<i64> = (1..=9).collect();
    // Corner (0, 0) reads 1, 2, 4, 5: 12 / 4 = 3, or 12 / 9 → 1 with padding
    // counted; the centre reads all nine: 45 / 9 = 5.
    let inside = run(Op::AvgPool2d(pool(false)), ones_to_nine.clone());
    assert_eq!(inside, vec![3, 4, 4, 5, 5, 6, 6, 7, 7]);
    let counted = run(Op::AvgPool2d(pool(true)), ones_to_nine);
    assert_eq!(counted, vec![1, 2, 2, 3, 5, 4, 3, 4, 3]);
    // More padding than half the kernel would make a window all padding.
    let wide = Pool2d {
        padding: [2, 0],
        ..Pool2d::new([3, 3], [1, 1])
    };
    let err = invalid(spec.clone(), vec![node(&[0], Op::MaxPool2d(wide))]);
    assert!(err.contains("more than half the kernel"), "{err}");
    let max_counting = Op::MaxPool2d(pool(true));
    let err = invalid(spec, vec![node(&[0], max_counting)]);
    assert!(err.contains("average pools only"), "{err}");
}

/// A select moves values: a transpose, a concatenation with zero padding,
/// computed by hand; mismatched scales and out-of-range indices are
/// refused.
#[test]
fn selects_move_values() {
    let spec = TensorSpec {
        shape: Shape(vec![2, 3]),
        scale: Scale(2),
        bits: 8,
    };
    let x = Tensor::new([2, 3], vec![1, 2, 3, 4, 5, 6]).unwrap();
    let select = |shape: Vec<usize>, indices: Vec<Option<usize>>| {
        Op::Select(Select {
            shape: Shape(shape),
            indices,
        })
    };
    // The transpose of [[1, 2, 3], [4, 5, 6]].
    let transpose = select(vec![3, 2], [0, 3, 1, 4, 2, 5].map(Some).to_vec());
    // x and its transpose end to end, the last column of each, with a zero
    // row between them.
    let concat = select(vec![5], vec![Some(2), Some(5), None, Some(10), Some(11)]);
    let nodes = vec![node(&[0], transpose), node(&[0, 1], concat)];
    let m = QuantizedModel::new("select", spec.clone(), nodes, None).unwrap();
    let trace = m.forward(&x).unwrap();
    assert_eq!(trace.tensors[1].data, vec![1, 4, 2, 5, 3, 6]);
    assert_eq!(trace.output().data, vec![3, 6, 0, 3, 6]);
    assert_eq!(m.output().scale, Scale(2));

    let out_of_range = select(vec![1], vec![Some(6)]);
    let err = invalid(spec.clone(), vec![node(&[0], out_of_range)]);
    assert!(
        err.contains("reads index 6, but its inputs hold 6"),
        "{err}"
    );
    let short = select(vec![2, 2], vec![Some(0); 3]);
    let err = invalid(spec.clone(), vec![node(&[0], short)]);
    assert!(err.contains("3 indices for shape"), "{err}");
    let rescaled = Op::Rescale(Rescale { shift: 1, bits: 8 });
    let mixed = select(vec![2], vec![Some(0), Some(6)]);
    let err = invalid(spec, vec![node(&[0], rescaled), node(&[0, 1], mixed)]);
    assert!(err.contains("rescale the inputs to one scale"), "{err}");
}

#[cfg(feature = "transformers")]
#[test]
fn matmul_multiplies_two_activations_per_batch_index() {
    let spec = TensorSpec {
        shape: Shape(vec![2, 2, 3]),
        scale: Scale(2),
        bits: 8,
    };
    let transpose = Op::Select(Select {
        shape: Shape(vec![2, 3, 2]),
        indices: (0..12)
            .map(|j| {
                let (b, l, i) = (j / 6, j / 2 % 3, j % 2);
                Some(b * 6 + i * 3 + l)
            })
            .collect(),
    });
    // x · xᵀ per batch index: the Gram matrices of the two 2 × 3 blocks.
    let nodes = vec![node(&[0], transpose), node(&[0, 1], Op::MatMul)];
    let m = QuantizedModel::new("gram", spec.clone(), nodes, None).unwrap();
    let x = Tensor::new([2, 2, 3], vec![1, 2, 3, 4, 5, 6, -1, 0, 2, 3, -2, 1]).unwrap();
    let trace = m.forward(&x).unwrap();
    assert_eq!(m.output().shape, Shape(vec![2, 2, 2]));
    assert_eq!(trace.output().data, vec![14, 32, 32, 77, 5, -1, -1, 14]);
    // Scales add; the bound is k · 2^7 · 2^7 = 3 · 2^14, so 17 bits.
    assert_eq!(m.output().scale, Scale(4));
    assert_eq!(m.output().bits, 17);

    // Shapes that do not multiply: x · x ([2, 3] by [2, 3]), and ranks or
    // batch dims that differ.
    let err = invalid(spec.clone(), vec![node(&[0, 0], Op::MatMul)]);
    assert!(
        err.contains("multiplies matrices [2×2×3] and [2×2×3]"),
        "{err}"
    );
    let flat = Op::Reshape {
        shape: Shape(vec![3, 4]),
    };
    let err = invalid(
        spec.clone(),
        vec![node(&[0], flat), node(&[0, 1], Op::MatMul)],
    );
    assert!(
        err.contains("multiplies matrices [2×2×3] and [3×4]"),
        "{err}"
    );
    let other_batch = Op::Reshape {
        shape: Shape(vec![4, 3, 1]),
    };
    let err = invalid(
        spec,
        vec![node(&[0], other_batch), node(&[0, 1], Op::MatMul)],
    );
    assert!(err.contains("(matmul)"), "{err}");
}

/// A softmax's normalisation: each element over its row's sum, with 8
/// more bits of precision, rounded half up; a divisor below 1 refused.
#[cfg(feature = "transformers")]
#[test]
fn divide_rounds_by_a_divisor_computed_at_run_time() {
    use zkinfer_quant::{ops, Divide};
    let spec = TensorSpec {
        shape: Shape(vec![2, 2]),
        scale: Scale(3),
        bits: 8,
    };
    // The divisors: each row's sum, broadcast (a conv of ones would do it
    // in a model; a select and an add do here).
    let swap = Op::Select(Select {
        shape: Shape(vec![2, 2]),
        indices: [1, 0, 3, 2].map(Some).to_vec(),
    });
    let divide = Op::Divide(Divide { shift: 8, bits: 10 });
    let nodes = vec![
        node(&[0], swap),
        node(&[0, 1], Op::Add),
        node(&[0, 2], divide),
    ];
    let m = QuantizedModel::new("normalise", spec.clone(), nodes, None).unwrap();
    // Scale 3 + 8 − 3: the quotient at 2^-8.
    assert_eq!(m.output().scale, Scale(8));
    let x = Tensor::new([2, 2], vec![1, 2, 3, 5]).unwrap();
    let y = m.forward(&x).unwrap();
    // 256/3 = 85.33 → 85, 512/3 = 170.67 → 171, 768/8 = 96, 1280/8 = 160.
    assert_eq!(y.output().data, vec![85, 171, 96, 160]);
    // Ties go up, negatives included: round(-1.5) = -1.
    assert_eq!(ops::divide(-3, 2, 0), -1);
    assert_eq!(ops::divide(3, 2, 0), 2);
    assert_eq!(ops::divide(-7, 3, 0), -2);

    let zero_sum = Tensor::new([2, 2], vec![1, -1, 3, 5]).unwrap();
    let err = m.forward(&zero_sum).unwrap_err().to_string();
    assert!(err.starts_with("node 2 (divide): divisor 0 is 0"), "{err}");
    let wrong_shapes = Op::Divide(Divide { shift: 0, bits: 8 });
    let flat = Op::Flatten;
    let err = invalid(
        spec.clone(),
        vec![node(&[0], flat), node(&[0, 1], wrong_shapes)],
    );
    assert!(err.contains("divides shapes"), "{err}");
    let too_far = Op::Divide(Divide { shift: 60, bits: 8 });
    let err = invalid(spec, vec![node(&[0, 0], too_far)]);
    assert!(err.contains("needs more than 62 bits"), "{err}");
}
