//! Fuzzing the ONNX importer (the hand-written protobuf reader and the
//! graph conversion): 10⁴ mutations of the committed fixtures — bit flips,
//! truncations, splices between fixtures, inserted varints, and
//! structure-aware edits that re-encode the protobuf with an extreme value
//! in a dimension or attribute. Every case must import or fail with an
//! error; an imported model must have shapes within zkinfer's limits and
//! run in candle. Zero panics.
//!
//! The constant folder gets a target of its own: random chains of the ops
//! it evaluates (`ConstantOfShape`, `Range`, `Tile`, `Expand`, `Reshape`,
//! `Slice`, `Gather`, `Concat`, …) over hostile shapes and values, which
//! must be evaluated or refused by the element budget, never allocate
//! gigabytes (the process's peak memory is checked) and never panic.

use candle_core::{Device, Tensor};
use zkinfer_fuzz::{cases, mutate_bytes, protobuf, run, show_bytes, Rng};
use zkinfer_models::onnx::import_onnx;

const FIXTURES: &[&[u8]] = &[
    include_bytes!("../fixtures/onnx/mlp.onnx"),
    include_bytes!("../fixtures/onnx/cnn_bn_pool.onnx"),
    include_bytes!("../fixtures/onnx/sigmoid_tanh.onnx"),
    include_bytes!("../fixtures/onnx/residual.onnx"),
    include_bytes!("../fixtures/onnx/leaky_relu.onnx"),
    // Real exports: shape arithmetic to fold, Pad, BatchNorm, skl2onnx's
    // label outputs, ConvTranspose and Resize, reductions, two inputs and
    // two outputs, a normalisation, and ops zkinfer refuses.
    include_bytes!("../fixtures/onnx/corpus/pad_conv_op11.onnx"),
    include_bytes!("../fixtures/onnx/corpus/cnn_view_flatten_op9.onnx"),
    include_bytes!("../fixtures/onnx/corpus/cnn_normalized_bn_op7.onnx"),
    include_bytes!("../fixtures/onnx/corpus/sklearn_mlp_op13.onnx"),
    include_bytes!("../fixtures/onnx/corpus/resnet_block_op13.onnx"),
    include_bytes!("../fixtures/onnx/corpus/keras_cnn_op13.onnx"),
    include_bytes!("../fixtures/onnx/corpus/autoencoder_op11.onnx"),
    include_bytes!("../fixtures/onnx/corpus/reductions_op18.onnx"),
    include_bytes!("../fixtures/onnx/multi_io_op13.onnx"),
    include_bytes!("../fixtures/onnx/corpus/instance_norm_op11.onnx"),
    include_bytes!("../fixtures/onnx/refused.onnx"),
];

/// Imports; a model that imports must run on a zero batch of one.
fn import_and_run(bytes: &[u8]) -> bool {
    let Ok(imported) = import_onnx(bytes, "fuzzed") else {
        return false;
    };
    let model = imported.model;
    for shape in model.shapes() {
        let numel = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        assert!(
            numel.is_some_and(|n| n <= zkinfer_quant::MAX_ELEMENTS),
            "{shape:?}"
        );
    }
    let mut dims = vec![1];
    dims.extend(&model.arch().input_shape);
    let x = Tensor::zeros(dims, candle_core::DType::F32, &Device::Cpu).unwrap();
    // candle may refuse what zkinfer's checks let through; it must not panic.
    let _ = model.forward(&x);
    true
}

fn mutate(rng: &mut Rng, index: usize) -> Vec<u8> {
    let seed = FIXTURES[index % FIXTURES.len()];
    if rng.below(3) > 0 {
        if let Some(bytes) = protobuf::mutate(rng, seed) {
            return bytes;
        }
    }
    mutate_bytes(rng, seed, FIXTURES)
}

#[test]
fn fuzzed_onnx_files_never_panic() {
    let report = run(
        "onnx",
        0x0441_0001,
        cases(10_000),
        mutate,
        |bytes| import_and_run(bytes),
        |bytes| show_bytes(bytes),
    );
    assert!(report.accepted > 0, "{report:?}");
}

#[test]
fn every_fixture_imports_before_mutation() {
    // The seeds are valid: the fuzzer starts deep in the importer.
    let imported = FIXTURES.iter().filter(|b| import_and_run(b)).count();
    // All but the one made of unsupported ops.
    assert_eq!(imported, FIXTURES.len() - 1);
}

// --- Regressions: hand-encoded graphs -----------------------------------

/// A protobuf field: number, then a varint or bytes.
fn field_varint(number: u64, v: u64) -> Vec<u8> {
    let mut out = zkinfer_fuzz::varint(number << 3);
    out.extend(zkinfer_fuzz::varint(v));
    out
}

fn field_bytes(number: u64, bytes: &[u8]) -> Vec<u8> {
    let mut out = zkinfer_fuzz::varint(number << 3 | 2);
    out.extend(zkinfer_fuzz::varint(bytes.len() as u64));
    out.extend(bytes);
    out
}

/// `ValueInfoProto { name, type.tensor_type.shape.dim[i].dim_value }`.
fn value_info(name: &str, dims: &[u64]) -> Vec<u8> {
    let shape: Vec<u8> = dims
        .iter()
        .flat_map(|&d| field_bytes(1, &field_varint(1, d)))
        .collect();
    let tensor = field_bytes(2, &shape);
    let mut out = field_bytes(1, name.as_bytes());
    out.extend(field_bytes(2, &field_bytes(1, &tensor)));
    out
}

/// `NodeProto` writing `y`, with int-list attributes.
fn node(op: &str, inputs: &[&str], attrs: &[(&str, &[i64])]) -> Vec<u8> {
    node_to(op, inputs, "y", attrs)
}

fn node_to(op: &str, inputs: &[&str], output: &str, attrs: &[(&str, &[i64])]) -> Vec<u8> {
    let mut out = vec![];
    for input in inputs {
        out.extend(field_bytes(1, input.as_bytes()));
    }
    out.extend(field_bytes(2, output.as_bytes()));
    out.extend(field_bytes(4, op.as_bytes()));
    for (name, ints) in attrs {
        let mut attr = field_bytes(1, name.as_bytes());
        for &v in *ints {
            attr.extend(field_varint(8, v as u64));
        }
        out.extend(field_bytes(5, &attr));
    }
    out
}

/// An int64 or float initializer.
fn initializer(name: &str, dims: &[i64], ints: &[i64], floats: &[f32]) -> Vec<u8> {
    let mut out = vec![];
    for &d in dims {
        out.extend(field_varint(1, d as u64));
    }
    out.extend(field_varint(2, if ints.is_empty() { 1 } else { 7 }));
    for &v in floats {
        let mut f = zkinfer_fuzz::varint(4 << 3 | 5);
        f.extend(v.to_le_bytes());
        out.extend(f);
    }
    for &v in ints {
        out.extend(field_varint(7, v as u64));
    }
    out.extend(field_bytes(8, name.as_bytes()));
    out
}

/// A model: opset 13, one node, graph input `x` of `input_dims`.
fn model(node: Vec<u8>, initializers: &[Vec<u8>], input_dims: &[u64]) -> Vec<u8> {
    graph(&[node], initializers, input_dims)
}

/// A model of several nodes, the last writing `y`.
fn graph(nodes: &[Vec<u8>], initializers: &[Vec<u8>], input_dims: &[u64]) -> Vec<u8> {
    let mut graph: Vec<u8> = nodes.iter().flat_map(|n| field_bytes(1, n)).collect();
    for init in initializers {
        graph.extend(field_bytes(5, init));
    }
    graph.extend(field_bytes(11, &value_info("x", input_dims)));
    graph.extend(field_bytes(12, &value_info("y", &[1])));
    let mut out = field_varint(1, 8);
    out.extend(field_bytes(7, &graph));
    out.extend(field_bytes(8, &field_varint(2, 13)));
    out
}

fn import_error(bytes: &[u8]) -> String {
    match import_onnx(bytes, "regression") {
        Ok(_) => panic!("the model must be refused"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn input_dimensions_whose_product_overflows_are_refused() {
    // Flatten multiplied 2^32 · 2^32 (an overflow panic; a wrap to 0 in
    // release builds without overflow checks).
    let bytes = model(node("Flatten", &["x"], &[]), &[], &[1, 1 << 32, 1 << 32]);
    let err = import_error(&bytes);
    assert!(err.contains("more than 16777216 elements"), "{err}");
}

#[test]
fn reshape_targets_whose_product_overflows_do_not_fit() {
    // The known dimensions' i64 product overflowed.
    let target = initializer("t", &[3], &[1, 1 << 62, 1 << 62], &[]);
    let bytes = model(node("Reshape", &["x", "t"], &[]), &[target], &[1, 4]);
    let err = import_error(&bytes);
    assert!(err.contains("does not fit 4 values"), "{err}");
}

#[test]
fn conv_pads_of_2_pow_62_are_refused() {
    let weight = initializer("w", &[1, 1, 1, 1], &[], &[1.0]);
    let pads: &[i64] = &[1 << 62, 0, 1 << 62, 0];
    let bytes = model(
        node("Conv", &["x", "w"], &[("pads", pads)]),
        &[weight],
        &[1, 1, 4, 4],
    );
    let err = import_error(&bytes);
    assert!(
        err.contains("padding [4611686018427387904, 0] is too large"),
        "{err}"
    );
}

#[test]
fn empty_weight_dimensions_are_refused() {
    // A MatMul with 0 outputs, then a BatchNormalization of 0 channels:
    // folding it divided the weight's length by 0 channels.
    let weight = initializer("w", &[4, 0], &[], &[]);
    let empty = ["s", "b", "m", "v"].map(|name| initializer(name, &[0], &[], &[]));
    let mut initializers = vec![weight];
    initializers.extend(empty);
    let bytes = graph(
        &[
            node_to("MatMul", &["x", "w"], "h", &[]),
            node("BatchNormalization", &["h", "s", "b", "m", "v"], &[]),
        ],
        &initializers,
        &[1, 4],
    );
    let err = import_error(&bytes);
    assert!(err.contains("with an empty dimension"), "{err}");
}

// --- The constant folder -------------------------------------------------

/// A hostile integer for a shape, a count or an index.
fn hostile(rng: &mut Rng) -> i64 {
    match rng.below(4) {
        0 => rng.below(5) as i64 - 1,
        1 => 1 << rng.below(40),
        2 => -(1 << rng.below(63)),
        _ => zkinfer_fuzz::extreme_u64(rng) as i64,
    }
}

/// A random chain of folded ops over hostile int64 initializers, ending
/// in a node that uses the folded value with the model input `x`.
fn folding_graph(rng: &mut Rng) -> Vec<u8> {
    let mut inits = vec![];
    let mut names: Vec<String> = vec![];
    for i in 0..1 + rng.below(3) {
        let len = rng.below(4);
        let values: Vec<i64> = (0..len).map(|_| hostile(rng)).collect();
        let name = format!("c{i}");
        inits.push(initializer(&name, &[len as i64], &values, &[]));
        names.push(name);
    }
    inits.push(initializer("f", &[2], &[], &[1.5, -2.0]));
    names.push("f".into());
    let ops: &[(&str, usize)] = &[
        ("ConstantOfShape", 1),
        ("Range", 3),
        ("Tile", 2),
        ("Expand", 2),
        ("Reshape", 2),
        ("Slice", 3),
        ("Gather", 2),
        ("Concat", 2),
        ("Unsqueeze", 2),
        ("Squeeze", 1),
        ("Add", 2),
        ("Mul", 2),
        ("Div", 2),
        ("Shape", 1),
        ("Transpose", 1),
        ("Cast", 1),
        ("Where", 3),
        ("Split", 1),
    ];
    let mut nodes = vec![];
    for n in 0..1 + rng.below(5) {
        let &(op, arity) = rng.pick(ops);
        let inputs: Vec<String> = (0..arity).map(|_| rng.pick(&names).clone()).collect();
        let input_refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let out = format!("v{n}");
        let axis = [hostile(rng) % 4];
        let attrs: Vec<(&str, &[i64])> = match op {
            "Gather" | "Concat" | "Split" => vec![("axis", &axis[..])],
            "Cast" => vec![("to", &[7][..])],
            "Transpose" if rng.one_in(2) => vec![("perm", &axis[..])],
            _ => vec![],
        };
        nodes.push(node_to(op, &input_refs, &out, &attrs));
        names.push(out);
    }
    let last = names.last().unwrap().clone();
    let end = if rng.one_in(2) { "Reshape" } else { "Add" };
    nodes.push(node(end, &["x", &last], &[]));
    graph(&nodes, &inits, &[1, 4])
}

/// The process's peak resident memory in bytes (Linux), if known.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[test]
fn fuzzed_constant_subgraphs_are_folded_or_refused_within_the_budget() {
    let report = run(
        "onnx-fold",
        0x0441_0f01,
        cases(10_000),
        |rng, _| folding_graph(rng),
        |bytes| {
            // inspect never fails on a decodable file; import agrees with it.
            let inspection = zkinfer_models::onnx::inspect_onnx(bytes).expect("decodable");
            let imported = import_and_run(bytes);
            assert_eq!(imported, inspection.imports);
            // Accepted: the folder evaluated the whole chain.
            let (_, chain) = inspection.nodes.split_last().expect("nodes");
            chain
                .iter()
                .all(|n| n.status == zkinfer_models::onnx::Status::Folded)
        },
        |bytes| show_bytes(bytes),
    );
    assert!(report.accepted > 0, "{report:?}");
    // The budget is 2^24 elements in all (128 MB of i64); a folder that
    // allocated what these shapes ask for would need terabytes.
    if let Some(peak) = peak_memory() {
        assert!(peak < 2 << 30, "peak memory {peak} bytes");
    }
}

#[test]
fn huge_constant_of_shape_range_tile_and_expand_are_refused_by_the_budget() {
    let huge = initializer("s", &[2], &[1 << 20, 1 << 20], &[]);
    let zero = initializer("z", &[], &[0], &[]);
    let big = initializer("b", &[], &[1 << 40], &[]);
    let one = initializer("o", &[], &[1], &[]);
    let small = initializer("m", &[1], &[3], &[]);
    let repeats = initializer("r", &[1], &[1 << 40], &[]);
    for (op, inputs) in [
        ("ConstantOfShape", &["s"][..]),
        ("Range", &["z", "b", "o"]),
        ("Tile", &["m", "r"]),
        ("Expand", &["m", "s"]),
    ] {
        let bytes = graph(
            &[
                node_to(op, inputs, "v", &[]),
                node("Reshape", &["x", "v"], &[]),
            ],
            &[
                huge.clone(),
                zero.clone(),
                big.clone(),
                one.clone(),
                small.clone(),
                repeats.clone(),
            ],
            &[1, 4],
        );
        let err = import_error(&bytes);
        assert!(
            err.contains(op) && err.contains("cannot be folded"),
            "{op}: {err}"
        );
        assert!(
            err.contains("larger than") || err.contains("elements"),
            "{op}: {err}"
        );
    }
    // Many tensors each within the per-tensor limit exhaust the total.
    let quarter = initializer("q", &[1], &[1 << 22], &[]);
    let nodes: Vec<Vec<u8>> = (0..6)
        .map(|i| node_to("ConstantOfShape", &["q"], &format!("v{i}"), &[]))
        .chain([node("Reshape", &["x", "v5"], &[])])
        .collect();
    let err = import_error(&graph(&nodes, &[quarter], &[1, 4]));
    assert!(err.contains("in all"), "{err}");
}

#[test]
fn pytorch_view_flatten_folds_into_one_reshape() {
    // Shape → Gather → Unsqueeze → Concat → Reshape, as x.view(x.size(0), -1).
    let index = initializer("i0", &[], &[0], &[]);
    let minus = initializer("m1", &[1], &[-1], &[]);
    let axes = initializer("a0", &[1], &[0], &[]);
    let bytes = graph(
        &[
            node_to("Shape", &["x"], "s", &[]),
            node_to("Gather", &["s", "i0"], "g", &[("axis", &[0])]),
            node_to("Unsqueeze", &["g", "a0"], "u", &[]),
            node_to("Concat", &["u", "m1"], "c", &[("axis", &[0])]),
            node("Reshape", &["x", "c"], &[]),
        ],
        &[index, minus, axes],
        &[1, 2, 3, 4],
    );
    let imported = import_onnx(&bytes, "view").unwrap();
    let ops: Vec<&str> = imported
        .model
        .arch()
        .layers
        .iter()
        .map(|l| l.op.name())
        .collect();
    assert_eq!(ops, ["flatten"]);
    let folded = imported
        .inspection
        .nodes
        .iter()
        .filter(|n| n.status == zkinfer_models::onnx::Status::Folded)
        .count();
    assert_eq!(folded, 4);
}
