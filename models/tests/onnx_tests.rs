//! ONNX import against the fixtures (`models/fixtures/onnx/`): the imported
//! float graph reproduces onnx's reference evaluator, and bad files get
//! clear errors.

use candle_core::{Device, Tensor};
use std::path::PathBuf;
use zkinfer_models::onnx::import_onnx;
use zkinfer_models::ModelError;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/onnx")
        .join(name)
}

fn read_json(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

/// A JSON array of numbers, as f32.
fn f32s(v: &serde_json::Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

fn softmax(row: &[f32]) -> Vec<f32> {
    let max = row.iter().copied().fold(f32::MIN, f32::max);
    let exp: Vec<f32> = row.iter().map(|v| (v - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.iter().map(|v| v / sum).collect()
}

#[test]
fn every_fixture_matches_its_reference_outputs() {
    for (name, softmaxed) in [
        ("mlp", true),
        ("cnn_bn_pool", false),
        ("sigmoid_tanh", false),
        ("residual", false),
    ] {
        let bytes = std::fs::read(fixture(&format!("{name}.onnx"))).unwrap();
        let imported = import_onnx(&bytes, name).unwrap();
        assert_eq!(imported.dropped_softmax, softmaxed, "{name}");
        let model = imported.model;
        let (x, n) = calibration_batch(name, &model.arch().input_shape);
        let ours = model
            .forward(&x)
            .unwrap()
            .flatten_from(1)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        let reference = read_json(&format!("{name}.reference.json"));
        let reference = reference["outputs"].as_array().unwrap();
        assert_eq!(reference.len(), n, "{name}");
        let mut worst = 0f32;
        for (row, want) in ours.iter().zip(reference) {
            let row = if softmaxed { softmax(row) } else { row.clone() };
            for (a, b) in row.iter().zip(want.as_array().unwrap()) {
                worst = worst.max((a - b.as_f64().unwrap() as f32).abs());
            }
        }
        assert!(
            worst < 1e-4,
            "{name}: largest difference from onnx's reference evaluator is {worst}"
        );
    }
}

#[test]
fn batch_norm_is_folded_and_layers_are_as_exported() {
    let bytes = std::fs::read(fixture("cnn_bn_pool.onnx")).unwrap();
    let model = import_onnx(&bytes, "cnn").unwrap().model;
    let ops: Vec<&str> = model.arch().layers.iter().map(|l| l.op.name()).collect();
    assert_eq!(
        ops,
        [
            "conv2d",
            "relu",
            "max_pool2d",
            "conv2d",
            "relu",
            "avg_pool2d",
            "flatten",
            "linear"
        ]
    );
    let bytes = std::fs::read(fixture("residual.onnx")).unwrap();
    let model = import_onnx(&bytes, "residual").unwrap().model;
    let ops: Vec<&str> = model.arch().layers.iter().map(|l| l.op.name()).collect();
    assert_eq!(
        ops,
        [
            "conv2d",
            "relu",
            "conv2d",
            "add",
            "relu",
            "avg_pool2d",
            "flatten",
            "linear"
        ]
    );
}

fn onnx_error(bytes: &[u8]) -> String {
    match import_onnx(bytes, "bad") {
        Err(e @ ModelError::Onnx(_)) => e.to_string(),
        other => panic!("expected an ONNX error, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn an_unsupported_op_names_the_node_and_what_is_supported() {
    // leaky_relu.onnx was written when LeakyRelu had no circuit op: it is
    // exact now, α·x + (1 − α)·relu(x), from a ReLU, scales and a sum.
    let bytes = std::fs::read(fixture("leaky_relu.onnx")).unwrap();
    let model = import_onnx(&bytes, "leaky").unwrap().model;
    let ops: Vec<&str> = model.arch().layers.iter().map(|l| l.op.name()).collect();
    assert!(ops.contains(&"relu") && ops.contains(&"add"), "{ops:?}");
    let sine = g::model(13, &[g::node("Sin", &["x"], &["y"], vec![])], &[], &[1, 4]);
    let err = onnx_error(&sine);
    assert!(err.contains("(Sin, opset 13)"), "{err}");
    assert!(err.contains("supported: Gemm, MatMul"), "{err}");
    assert_eq!(err.lines().count(), 1);
    // Every unsupported node at once, not just the first.
    let two = g::model(
        13,
        &[
            g::node("Sin", &["x"], &["s"], vec![]),
            g::node("Cos", &["s"], &["y"], vec![]),
        ],
        &[],
        &[1, 4],
    );
    let err = onnx_error(&two);
    for part in [
        "2 nodes cannot be imported",
        "(Sin, opset 13)",
        "(Cos, opset 13)",
    ] {
        assert!(err.contains(part), "{part}: {err}");
    }
}

#[test]
fn truncated_and_malformed_files_are_refused() {
    let bytes = std::fs::read(fixture("mlp.onnx")).unwrap();
    for cut in [1, 10, bytes.len() / 2, bytes.len() - 1] {
        let err = onnx_error(&bytes[..cut]);
        assert!(
            err.contains("not a readable ONNX model"),
            "cut at {cut}: {err}"
        );
    }
    assert!(onnx_error(b"").contains("no graph"));
    assert!(onnx_error(b"{\"input\": [1, 2]}").contains("not a readable ONNX model"));
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(onnx_error(&noise).contains("not a readable ONNX model"));
}

/// A minimal protobuf writer for hand-made hostile ONNX files.
mod pb {
    /// A varint.
    pub fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    /// A length-delimited field.
    pub fn bytes(field: u64, value: &[u8], out: &mut Vec<u8>) {
        varint(field << 3 | 2, out);
        varint(value.len() as u64, out);
        out.extend_from_slice(value);
    }

    /// A varint field.
    pub fn int(field: u64, value: u64, out: &mut Vec<u8>) {
        varint(field << 3, out);
        varint(value, out);
    }

    /// `ValueInfoProto` of a float tensor of `dims`.
    pub fn value_info(name: &str, dims: &[u64]) -> Vec<u8> {
        value_info_of(name, dims, 1)
    }

    /// `ValueInfoProto` of a tensor of `dims` and element type `elem_type`
    /// (1 float, 7 int64).
    pub fn value_info_of(name: &str, dims: &[u64], elem_type: u64) -> Vec<u8> {
        let mut shape = vec![];
        for &d in dims {
            let mut dim = vec![];
            int(1, d, &mut dim);
            bytes(1, &dim, &mut shape);
        }
        let mut tensor = vec![];
        int(1, elem_type, &mut tensor);
        bytes(2, &shape, &mut tensor);
        let mut ty = vec![];
        bytes(1, &tensor, &mut ty);
        let mut v = vec![];
        bytes(1, name.as_bytes(), &mut v);
        bytes(2, &ty, &mut v);
        v
    }

    /// A model at opset 13 whose graph reads `x` ([1, 4]) and writes `y`
    /// through one node `op_type(inputs) -> outputs`.
    pub fn model(op_type: &str, inputs: &[&str], outputs: &[&str]) -> Vec<u8> {
        let mut node = vec![];
        for i in inputs {
            bytes(1, i.as_bytes(), &mut node);
        }
        for o in outputs {
            bytes(2, o.as_bytes(), &mut node);
        }
        bytes(3, b"hostile", &mut node);
        bytes(4, op_type.as_bytes(), &mut node);
        let mut graph = vec![];
        bytes(1, &node, &mut graph);
        bytes(11, &value_info("x", &[1, 4]), &mut graph);
        bytes(12, &value_info("y", &[1, 4]), &mut graph);
        model_of(&graph, 13)
    }

    /// A `ModelProto` (IR version 8) holding `graph`, importing `opset`.
    pub fn model_of(graph: &[u8], opset: u64) -> Vec<u8> {
        let mut op = vec![];
        int(2, opset, &mut op);
        let mut model = vec![];
        int(1, 8, &mut model);
        bytes(7, graph, &mut model);
        bytes(8, &op, &mut model);
        model
    }
}

/// Regression (wave 1): nodes with fewer inputs than their op reads made
/// `zkinfer export` panic. Every such node is now a one-line error naming it.
#[test]
fn nodes_missing_inputs_or_outputs_are_refused_by_name() {
    // The writer's own file imports: the harness is sound.
    assert!(import_onnx(&pb::model("Relu", &["x"], &["y"]), "ok").is_ok());
    for (op, inputs) in [
        ("Gemm", &["x"][..]),
        ("MatMul", &["x"]),
        ("Conv", &["x"]),
        ("Relu", &[]),
        ("Identity", &[]),
        ("Sigmoid", &[""]),
        ("BatchNormalization", &["x"]),
        ("Add", &["x"]),
        ("Reshape", &["x"]),
        ("Flatten", &[]),
        ("MaxPool", &[]),
        ("GlobalAveragePool", &[]),
        ("Softmax", &[]),
    ] {
        let err = onnx_error(&pb::model(op, inputs, &["y"]));
        assert!(
            err.contains("\"hostile\"") && err.contains(op),
            "{op}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{op}: {err}");
        // A node whose first input is missing fails on it; one with a
        // vector input may fail on the shape first.
        if inputs.iter().all(|i| i.is_empty()) || matches!(op, "Gemm" | "MatMul") {
            assert!(err.contains("needs input"), "{op}: {err}");
        }
    }
    let err = onnx_error(&pb::model("Relu", &["x"], &[]));
    assert!(err.contains("no output"), "{err}");
}

/// A graph whose output is its input (an `Identity`) proves nothing: the
/// message says so instead of naming "the last layer's output".
#[test]
fn a_graph_that_computes_nothing_is_refused_with_what_to_do() {
    let err = onnx_error(&pb::model("Identity", &["x"], &["y"]));
    assert!(err.contains("\"y\" is the graph input itself"), "{err}");
    assert!(err.contains("at least one layer"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

// --- The corpus of real exports (`fixtures/onnx/corpus/`) -----------------

/// A corpus fixture's entry in `manifest.json`.
struct Entry {
    name: String,
    exporter: String,
    imports: bool,
    unsupported: Vec<String>,
    softmax_output: bool,
}

fn manifest() -> Vec<Entry> {
    let m = read_json("corpus/manifest.json");
    assert_eq!(m["format"], "zkinfer/onnx-corpus@1");
    m["fixtures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| Entry {
            name: f["name"].as_str().unwrap().to_string(),
            exporter: f["exporter"].as_str().unwrap().to_string(),
            imports: f["imports"].as_bool().unwrap(),
            unsupported: f["unsupported"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o.as_str().unwrap().to_string())
                .collect(),
            softmax_output: f["softmax_output"].as_bool().unwrap(),
        })
        .collect()
}

/// The calibration inputs of a fixture, as a batch.
fn calibration_batch(name: &str, input_shape: &[usize]) -> (Tensor, usize) {
    let calibration = read_json(&format!("{name}.calibration.json"));
    let flat = f32s(&calibration["input_data"][0]);
    let numel: usize = input_shape.iter().product();
    let n = flat.len() / numel;
    let mut dims = vec![n];
    dims.extend(input_shape);
    (Tensor::from_vec(flat, dims, &Device::Cpu).unwrap(), n)
}

/// Every corpus fixture either imports and reproduces onnxruntime's
/// outputs in candle, or is refused with exactly the op types the manifest
/// records (so a fixture starts being checked against onnxruntime the day
/// its last missing op lands).
#[test]
fn every_corpus_fixture_matches_onnxruntime_or_is_refused_as_the_manifest_says() {
    let entries = manifest();
    assert!(entries.len() >= 20, "{} fixtures", entries.len());
    let mut imported = 0;
    let mut failures = vec![];
    for e in &entries {
        let name = &e.name;
        let bytes = std::fs::read(fixture(&format!("corpus/{name}.onnx"))).unwrap();
        let inspection = zkinfer_models::onnx::inspect_onnx(&bytes).unwrap();
        assert!(
            inspection.problems.is_empty(),
            "{name}: {:?}",
            inspection.problems
        );
        match import_onnx(&bytes, name) {
            Ok(imported_model) => {
                imported += 1;
                assert!(inspection.imports, "{name}");
                assert_eq!(imported_model.dropped_softmax, e.softmax_output, "{name}");
                let model = imported_model.model;
                let (x, n) =
                    calibration_batch(&format!("corpus/{name}"), &model.arch().input_shape);
                let ours = model
                    .forward(&x)
                    .unwrap()
                    .flatten_from(1)
                    .unwrap()
                    .to_vec2::<f32>()
                    .unwrap();
                let reference = read_json(&format!("corpus/{name}.reference.json"));
                let reference = reference["outputs"].as_array().unwrap();
                assert_eq!(reference.len(), n, "{name}");
                let (mut worst, mut scale) = (0f32, 1f32);
                for (row, want) in ours.iter().zip(reference) {
                    let row = if e.softmax_output {
                        softmax(row)
                    } else {
                        row.clone()
                    };
                    let want = f32s(want);
                    assert_eq!(row.len(), want.len(), "{name}");
                    for (a, b) in row.iter().zip(&want) {
                        worst = worst.max((a - b).abs());
                        scale = scale.max(b.abs());
                    }
                }
                // f32 throughout; folded weights round once more than
                // onnxruntime's.
                assert!(
                    worst <= 2e-6 * scale,
                    "{name} ({}): largest difference from onnxruntime is {worst} (outputs up to {scale})",
                    e.exporter
                );
                eprintln!("{name}: candle vs onnxruntime, worst difference {worst:e} (outputs up to {scale})");
                if !e.imports {
                    failures.push(format!(
                        "{name} imports now: set \"imports\": true and clear its unsupported ops in the manifest"
                    ));
                }
            }
            Err(err) => {
                assert!(!inspection.imports, "{name}");
                let mut refused: Vec<String> = inspection
                    .unsupported()
                    .map(|n| n.op_type.clone())
                    .collect();
                refused.sort();
                refused.dedup();
                if e.imports || refused != e.unsupported {
                    failures.push(format!(
                        "{name} ({}): refused for {refused:?}, the manifest expects {}: {err}",
                        e.exporter,
                        if e.imports {
                            "it to import".to_string()
                        } else {
                            format!("{:?}", e.unsupported)
                        }
                    ));
                    continue;
                }
                // One message lists every unsupported node.
                let message = err.to_string();
                for node in inspection.unsupported() {
                    assert!(
                        message.contains(&format!("{:?}", node.name)),
                        "{name}: {message}"
                    );
                }
                assert_eq!(message.lines().count(), 1, "{name}");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(imported >= 12, "only {imported} corpus fixtures import");
}

// --- Opset forms, hand-encoded ----------------------------------------------

/// A protobuf writer for small graphs at any opset, with every attribute
/// kind the importer reads.
mod g {
    use super::pb::{bytes, int, value_info, varint};

    /// An attribute.
    pub enum A {
        Int(&'static str, i64),
        Ints(&'static str, Vec<i64>),
        Float(&'static str, f32),
    }

    /// A node in the default domain (or `domain`).
    pub fn node(op: &str, inputs: &[&str], outputs: &[&str], attrs: Vec<A>) -> Vec<u8> {
        node_in("", op, inputs, outputs, attrs)
    }

    pub fn node_in(
        domain: &str,
        op: &str,
        inputs: &[&str],
        outputs: &[&str],
        attrs: Vec<A>,
    ) -> Vec<u8> {
        let mut n = vec![];
        for i in inputs {
            bytes(1, i.as_bytes(), &mut n);
        }
        for o in outputs {
            bytes(2, o.as_bytes(), &mut n);
        }
        bytes(3, format!("/{op}_{}", outputs[0]).as_bytes(), &mut n);
        bytes(4, op.as_bytes(), &mut n);
        for a in attrs {
            let mut b = vec![];
            match a {
                A::Int(name, v) => {
                    bytes(1, name.as_bytes(), &mut b);
                    int(3, v as u64, &mut b);
                }
                A::Ints(name, vs) => {
                    bytes(1, name.as_bytes(), &mut b);
                    for v in vs {
                        int(8, v as u64, &mut b);
                    }
                }
                A::Float(name, v) => {
                    bytes(1, name.as_bytes(), &mut b);
                    varint(2 << 3 | 5, &mut b);
                    b.extend(v.to_le_bytes());
                }
            }
            bytes(5, &b, &mut n);
        }
        if !domain.is_empty() {
            bytes(7, domain.as_bytes(), &mut n);
        }
        n
    }

    /// An int64 (`ints`) or float initializer.
    pub fn init(name: &str, dims: &[i64], ints: &[i64], floats: &[f32]) -> Vec<u8> {
        let mut t = vec![];
        for &d in dims {
            int(1, d as u64, &mut t);
        }
        int(2, if floats.is_empty() { 7 } else { 1 }, &mut t);
        let mut raw = vec![];
        for &v in ints {
            raw.extend(v.to_le_bytes());
        }
        for &v in floats {
            raw.extend(v.to_le_bytes());
        }
        bytes(8, name.as_bytes(), &mut t);
        bytes(9, &raw, &mut t);
        t
    }

    /// A model at `opset` reading `x` of `dims` and writing `y`.
    pub fn model(opset: u64, nodes: &[Vec<u8>], inits: &[Vec<u8>], dims: &[u64]) -> Vec<u8> {
        let mut graph = vec![];
        for n in nodes {
            bytes(1, n, &mut graph);
        }
        for i in inits {
            bytes(5, i, &mut graph);
        }
        bytes(11, &value_info("x", dims), &mut graph);
        bytes(12, &value_info("y", &[]), &mut graph);
        super::pb::model_of(&graph, opset)
    }
}

use g::A;

/// A float model's output on `input`, flattened.
fn forward_flat(model: &zkinfer_models::FloatModel, input: &Tensor) -> Vec<f32> {
    model
        .forward(input)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap()
}

fn layer_ops(bytes: &[u8]) -> Vec<String> {
    let imported = import_onnx(bytes, "t").unwrap_or_else(|e| panic!("{e}"));
    imported
        .model
        .arch()
        .layers
        .iter()
        .map(|l| l.op.name().to_string())
        .collect()
}

fn unsupported_of(bytes: &[u8]) -> Vec<(String, String)> {
    let inspection = zkinfer_models::onnx::inspect_onnx(bytes).unwrap();
    inspection
        .unsupported()
        .map(|n| (n.op_type.clone(), n.unsupported().unwrap().to_string()))
        .collect()
}

#[test]
fn opsets_outside_7_to_18_are_refused_naming_the_opset() {
    for opset in [6, 19] {
        let bytes = g::model(
            opset,
            &[g::node("Relu", &["x"], &["y"], vec![])],
            &[],
            &[1, 4],
        );
        let err = onnx_error(&bytes);
        assert!(
            err.contains(&format!("opset {opset}: zkinfer imports opsets 7 to 18")),
            "{err}"
        );
        // inspect still reports the nodes.
        let inspection = zkinfer_models::onnx::inspect_onnx(&bytes).unwrap();
        assert!(!inspection.imports && inspection.nodes.len() == 1);
    }
    for opset in [7, 18] {
        let bytes = g::model(
            opset,
            &[g::node("Relu", &["x"], &["y"], vec![])],
            &[],
            &[1, 4],
        );
        assert_eq!(layer_ops(&bytes), ["relu"]);
    }
}

#[test]
fn squeeze_and_unsqueeze_axes_are_attributes_before_13_and_inputs_from_13() {
    let attr = g::model(
        11,
        &[
            g::node("Unsqueeze", &["x"], &["u"], vec![A::Ints("axes", vec![2])]),
            g::node("Squeeze", &["u"], &["s"], vec![A::Ints("axes", vec![-1])]),
            g::node("Relu", &["s"], &["y"], vec![]),
        ],
        &[],
        &[1, 4],
    );
    let input = g::model(
        13,
        &[
            g::node("Unsqueeze", &["x", "a"], &["u"], vec![]),
            g::node("Squeeze", &["u", "b"], &["s"], vec![]),
            g::node("Relu", &["s"], &["y"], vec![]),
        ],
        &[
            g::init("a", &[1], &[2], &[]),
            g::init("b", &[1], &[-1], &[]),
        ],
        &[1, 4],
    );
    for bytes in [attr, input] {
        assert_eq!(layer_ops(&bytes), ["reshape", "flatten", "relu"]);
    }
}

#[test]
fn slice_and_split_read_attributes_or_inputs_by_opset() {
    // A reshape target sliced out of a constant: [9, 1, -1, 9][1..3] = [1, -1].
    let target = g::init("t", &[4], &[9, 1, -1, 9], &[]);
    let attr = g::model(
        9,
        &[
            g::node(
                "Slice",
                &["t"],
                &["s"],
                vec![A::Ints("starts", vec![1]), A::Ints("ends", vec![3])],
            ),
            g::node("Reshape", &["x", "s"], &["y"], vec![]),
        ],
        std::slice::from_ref(&target),
        &[1, 2, 3],
    );
    let input = g::model(
        10,
        &[
            g::node("Slice", &["t", "st", "en", "ax", "sp"], &["s"], vec![]),
            g::node("Reshape", &["x", "s"], &["y"], vec![]),
        ],
        &[
            target.clone(),
            g::init("st", &[1], &[1], &[]),
            g::init("en", &[1], &[3], &[]),
            g::init("ax", &[1], &[0], &[]),
            g::init("sp", &[1], &[1], &[]),
        ],
        &[1, 2, 3],
    );
    // Split [9, 1, -1, 9] into [1] + [2] + [1]: the middle is the target.
    let split_attr = g::model(
        11,
        &[
            g::node(
                "Split",
                &["t"],
                &["p", "s", "q"],
                vec![A::Ints("split", vec![1, 2, 1])],
            ),
            g::node("Reshape", &["x", "s"], &["y"], vec![]),
        ],
        std::slice::from_ref(&target),
        &[1, 2, 3],
    );
    let split_input = g::model(
        13,
        &[
            g::node("Split", &["t", "n"], &["p", "s", "q"], vec![]),
            g::node("Reshape", &["x", "s"], &["y"], vec![]),
        ],
        &[target, g::init("n", &[3], &[1, 2, 1], &[])],
        &[1, 2, 3],
    );
    for bytes in [attr, input, split_attr, split_input] {
        assert_eq!(layer_ops(&bytes), ["flatten"]);
    }
}

#[test]
fn softmax_is_dropped_only_when_it_normalises_the_whole_output() {
    // Before opset 13, Softmax(axis = 1) on [1, 2, 2, 2] normalises the
    // flattened [1, 8]: dropping it keeps the argmax. From 13 it normalises
    // channels per pixel: dropping it would change what is proven, so it
    // is written out (max, exp, sum, division) and computed.
    let w = g::init("w", &[2, 2, 1, 1], &[], &[1.0, 0.5, -0.5, 2.0]);
    let graph = |opset| {
        g::model(
            opset,
            &[
                g::node(
                    "Conv",
                    &["x", "w"],
                    &["c"],
                    vec![A::Ints("kernel_shape", vec![1, 1])],
                ),
                g::node("Softmax", &["c"], &["y"], vec![A::Int("axis", 1)]),
            ],
            std::slice::from_ref(&w),
            &[1, 2, 2, 2],
        )
    };
    let imported = import_onnx(&graph(11), "s").unwrap();
    assert!(imported.dropped_softmax);
    let kept = import_onnx(&graph(13), "s").unwrap();
    assert!(!kept.dropped_softmax);
    let ops: Vec<&str> = kept
        .model
        .arch()
        .layers
        .iter()
        .map(|l| l.op.name())
        .collect();
    for op in ["max_pool2d", "exp", "div"] {
        assert!(ops.contains(&op), "{op} in {ops:?}");
    }
    // Per pixel, the softmax of the two channels c0 = x0 + 0.5·x1 and
    // c1 = -0.5·x0 + 2·x1 (x0, x1: the input's channels).
    let x = [0.5f32, -1.0, 2.0, 0.0, 1.0, 0.25, -0.5, 3.0];
    let input = Tensor::from_vec(x.to_vec(), (1, 2, 2, 2), &Device::Cpu).unwrap();
    let y = kept.model.forward(&input).unwrap().flatten_all().unwrap();
    let y = y.to_vec1::<f32>().unwrap();
    for p in 0..4 {
        let (x0, x1) = (x[p], x[4 + p]);
        let (c0, c1) = (x0 + 0.5 * x1, -0.5 * x0 + 2.0 * x1);
        let want0 = 1.0 / (1.0 + (c1 - c0).exp());
        assert!(
            (y[p] - want0).abs() < 1e-6,
            "pixel {p}: {} vs {want0}",
            y[p]
        );
        assert!((y[4 + p] - (1.0 - want0)).abs() < 1e-6, "pixel {p}");
    }
}

#[test]
fn dropout_ratio_forms_and_training_mode() {
    let w = g::init("w", &[4, 2], &[], &[1.0; 8]);
    let graph = |opset, dropout: Vec<u8>, inits: Vec<Vec<u8>>| {
        let mut all = vec![w.clone()];
        all.extend(inits);
        g::model(
            opset,
            &[g::node("MatMul", &["x", "w"], &["h"], vec![]), dropout],
            &all,
            &[1, 4],
        )
    };
    // Opset 10: ratio attribute; 12: ratio and training_mode inputs.
    let old = graph(
        10,
        g::node("Dropout", &["h"], &["y"], vec![A::Float("ratio", 0.5)]),
        vec![],
    );
    assert_eq!(layer_ops(&old), ["linear"]);
    let ratio = g::init("r", &[], &[], &[0.5]);
    let off = g::init("t", &[], &[0], &[]);
    let eval = graph(
        12,
        g::node("Dropout", &["h", "r", "t"], &["y"], vec![]),
        vec![ratio.clone(), off],
    );
    assert_eq!(layer_ops(&eval), ["linear"]);
    let on = g::init("t", &[], &[1], &[]);
    let train = graph(
        12,
        g::node("Dropout", &["h", "r", "t"], &["y"], vec![]),
        vec![ratio, on],
    );
    let refused = unsupported_of(&train);
    assert!(
        refused.len() == 1 && refused[0].1.contains("training mode"),
        "{refused:?}"
    );
}

#[test]
fn identity_anywhere_and_a_foreign_domain() {
    let w = g::init("w", &[4, 2], &[], &[1.0; 8]);
    let bytes = g::model(
        13,
        &[
            g::node("Identity", &["x"], &["i"], vec![]),
            g::node("MatMul", &["i", "w"], &["h"], vec![]),
            g::node("Identity", &["h"], &["y"], vec![]),
        ],
        std::slice::from_ref(&w),
        &[1, 4],
    );
    assert_eq!(layer_ops(&bytes), ["linear"]);
    let foreign = g::model(
        13,
        &[
            g::node("MatMul", &["x", "w"], &["h"], vec![]),
            g::node_in("com.microsoft", "FusedGelu", &["h"], &["y"], vec![]),
        ],
        &[w],
        &[1, 4],
    );
    let refused = unsupported_of(&foreign);
    assert!(
        refused.len() == 1 && refused[0].1.contains("domain \"com.microsoft\""),
        "{refused:?}"
    );
}

/// Affine maps fold where the algebra is exact; where it is not (a shift
/// before a padded conv, a Mul after a Relu) they become a layer of their
/// own — a depthwise 1×1 convolution over the elements — and compute the
/// same.
#[test]
fn affine_rewrites_fold_only_where_exact() {
    let w = g::init("w", &[1, 2, 3, 3], &[], &[0.25; 18]);
    let scale = g::init("s", &[1, 2, 1, 1], &[], &[2.0, -1.0]);
    let conv = |input: &str| {
        g::node(
            "Conv",
            &[input, "w"],
            &["y"],
            vec![
                A::Ints("kernel_shape", vec![3, 3]),
                A::Ints("pads", vec![1, 1, 1, 1]),
            ],
        )
    };
    let scaled = g::model(
        13,
        &[g::node("Mul", &["x", "s"], &["m"], vec![]), conv("m")],
        &[w.clone(), scale.clone()],
        &[1, 2, 4, 4],
    );
    let model = import_onnx(&scaled, "t").unwrap().model;
    // Against the unfolded computation: conv(x · s) with all-0.25 weights.
    let x: Vec<f32> = (0..32).map(|i| i as f32 / 8.0).collect();
    let input = Tensor::from_vec(x.clone(), (1, 2, 4, 4), &Device::Cpu).unwrap();
    let got = forward_flat(&model, &input);
    let at = |c: usize, i: i64, j: i64| {
        if (0..4).contains(&i) && (0..4).contains(&j) {
            x[c * 16 + i as usize * 4 + j as usize]
        } else {
            0.0
        }
    };
    for (k, &v) in got.iter().enumerate() {
        let (i, j) = ((k / 4) as i64, (k % 4) as i64);
        let mut want = 0.0;
        for di in -1..=1 {
            for dj in -1..=1 {
                want += 0.25 * (2.0 * at(0, i + di, j + dj) - at(1, i + di, j + dj));
            }
        }
        assert!((v - want).abs() < 1e-5, "{k}: {v} vs {want}");
    }
    let shifted = g::model(
        13,
        &[g::node("Add", &["x", "s"], &["m"], vec![]), conv("m")],
        &[w, scale.clone()],
        &[1, 2, 4, 4],
    );
    assert!(unsupported_of(&shifted).is_empty());
    assert_eq!(
        layer_ops(&shifted),
        ["reshape", "conv2d", "reshape", "conv2d"],
        "the shift is a layer, then the conv"
    );
    let model = import_onnx(&shifted, "t").unwrap().model;
    let got = forward_flat(&model, &input);
    for (k, &v) in got.iter().enumerate() {
        let (i, j) = ((k / 4) as i64, (k % 4) as i64);
        let mut want = 0.0;
        for di in -1..=1 {
            for dj in -1..=1 {
                // The padding is zero after the shift, not the shift.
                let (y, x) = (i + di, j + dj);
                let inside = (0..4).contains(&y) && (0..4).contains(&x);
                for (c, s) in [(0, 2.0), (1, -1.0)] {
                    if inside {
                        want += 0.25 * (at(c, y, x) + s);
                    }
                }
            }
        }
        assert!((v - want).abs() < 1e-4, "{k}: {v} vs {want}");
    }
    let after_relu = g::model(
        13,
        &[
            g::node("Relu", &["x"], &["r"], vec![]),
            g::node("Mul", &["r", "s"], &["y"], vec![]),
        ],
        &[scale],
        &[1, 2, 4, 4],
    );
    assert!(unsupported_of(&after_relu).is_empty());
    let model = import_onnx(&after_relu, "t").unwrap().model;
    let got = forward_flat(&model, &input);
    for (k, &v) in got.iter().enumerate() {
        let s = if k < 16 { 2.0 } else { -1.0 };
        assert_eq!(v, x[k].max(0.0) * s, "{k}");
    }
}

/// tf2onnx transposes NCHW back to NHWC before a flatten: the transpose
/// folds into the linear layer's weight columns, and nowhere else.
#[test]
fn a_transpose_folds_only_into_the_linear_layer_after_it() {
    // x [1, 2, 1, 3] → Transpose(0, 2, 3, 1) → [1, 1, 3, 2] → Flatten → MatMul.
    let w: Vec<f32> = (0..6).map(|i| i as f32).collect();
    let wi = g::init("w", &[6, 1], &[], &w);
    let bytes = g::model(
        13,
        &[
            g::node(
                "Transpose",
                &["x"],
                &["t"],
                vec![A::Ints("perm", vec![0, 2, 3, 1])],
            ),
            g::node("Flatten", &["t"], &["f"], vec![]),
            g::node("MatMul", &["f", "w"], &["y"], vec![]),
        ],
        std::slice::from_ref(&wi),
        &[1, 2, 1, 3],
    );
    let model = import_onnx(&bytes, "t").unwrap().model;
    let x: Vec<f32> = vec![1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0];
    let input = Tensor::from_vec(x.clone(), (1, 2, 1, 3), &Device::Cpu).unwrap();
    let got = forward_flat(&model, &input);
    // The transposed order is (w, c): x[0], x[3], x[1], x[4], x[2], x[5].
    let order = [0, 3, 1, 4, 2, 5];
    let want: f32 = order.iter().enumerate().map(|(i, &j)| w[i] * x[j]).sum();
    assert_eq!(got, [want]);
    let before_relu = g::model(
        13,
        &[
            g::node(
                "Transpose",
                &["x"],
                &["t"],
                vec![A::Ints("perm", vec![0, 2, 3, 1])],
            ),
            g::node("Relu", &["t"], &["y"], vec![]),
        ],
        &[],
        &[1, 2, 1, 3],
    );
    // Elsewhere it is a select: no rows in the circuit.
    assert!(unsupported_of(&before_relu).is_empty());
    assert_eq!(layer_ops(&before_relu), ["select", "relu"]);
    let model = import_onnx(&before_relu, "t").unwrap().model;
    let signed: Vec<f32> = x
        .iter()
        .enumerate()
        .map(|(i, v)| if i % 2 == 0 { *v } else { -v })
        .collect();
    let input = Tensor::from_vec(signed.clone(), (1, 2, 1, 3), &Device::Cpu).unwrap();
    let got = forward_flat(&model, &input);
    let want: Vec<f32> = order.iter().map(|&j| signed[j].max(0.0)).collect();
    assert_eq!(got, want);
}

/// PyTorch's SiLU, `x * sigmoid(x)`, is one table of `x`: the sigmoid the
/// product read is not kept as a layer of its own.
#[test]
fn silu_is_one_table() {
    let w = g::init(
        "w",
        &[4, 3],
        &[],
        &[
            0.5, -1.0, 0.25, 2.0, 0.0, -0.5, 1.0, 1.5, -2.0, 0.75, 0.5, -0.25,
        ],
    );
    let bytes = g::model(
        13,
        &[
            g::node("MatMul", &["x", "w"], &["h"], vec![]),
            g::node("Sigmoid", &["h"], &["s"], vec![]),
            g::node("Mul", &["h", "s"], &["y"], vec![]),
        ],
        &[w],
        &[1, 4],
    );
    assert_eq!(layer_ops(&bytes), ["linear", "silu"]);
    let inspection = zkinfer_models::onnx::inspect_onnx(&bytes).unwrap();
    assert!(inspection.imports);
    let model = import_onnx(&bytes, "t").unwrap().model;
    let x = [1.0f32, -2.0, 0.5, 3.0];
    let input = Tensor::from_vec(x.to_vec(), (1, 4), &Device::Cpu).unwrap();
    let got = forward_flat(&model, &input);
    let wv = [
        0.5f32, -1.0, 0.25, 2.0, 0.0, -0.5, 1.0, 1.5, -2.0, 0.75, 0.5, -0.25,
    ];
    for (j, &v) in got.iter().enumerate() {
        let h: f32 = (0..4).map(|i| x[i] * wv[i * 3 + j]).sum();
        let want = h / (1.0 + (-h).exp());
        assert!((v - want).abs() < 1e-5, "{j}: {v} vs {want}");
    }
}

/// Sub and Mul of two tensors, one broadcast: `(x - relu(x)) · g` with a
/// per-row gate `g` of shape [2, 1] over a [2, 3] tensor.
#[test]
fn sub_and_mul_of_two_tensors_broadcast() {
    let w = g::init("w", &[3, 1], &[], &[0.5, -1.0, 2.0]);
    let bytes = g::model(
        13,
        &[
            g::node("Relu", &["x"], &["r"], vec![]),
            g::node("Sub", &["x", "r"], &["d"], vec![]),
            g::node("MatMul", &["x", "w"], &["gate"], vec![]),
            g::node("Mul", &["d", "gate"], &["y"], vec![]),
        ],
        &[w],
        &[1, 2, 3],
    );
    let inspection = zkinfer_models::onnx::inspect_onnx(&bytes).unwrap();
    assert!(inspection.imports, "{}", inspection.refusal());
    let model = import_onnx(&bytes, "t").unwrap().model;
    let x = [1.0f32, -2.0, 0.5, -3.0, 4.0, -0.25];
    let input = Tensor::from_vec(x.to_vec(), (1, 2, 3), &Device::Cpu).unwrap();
    let got = forward_flat(&model, &input);
    for (j, &v) in got.iter().enumerate() {
        let row = &x[j / 3 * 3..j / 3 * 3 + 3];
        let gate = row[0] * 0.5 - row[1] + row[2] * 2.0;
        let want = x[j].min(0.0) * gate;
        assert!((v - want).abs() < 1e-5, "{j}: {v} vs {want}");
    }
}

/// `MatMul` of a `[2, 3, 4]` tensor by constants of rank 1, 2 and 3 (one
/// matrix per batch index, or one broadcast), against numpy's semantics
/// computed by hand.
#[test]
fn matmul_by_constants_of_any_rank() {
    let x: Vec<f32> = (0..24).map(|i| (i as f32 * 0.37).sin()).collect();
    let input = Tensor::from_vec(x.clone(), (1, 2, 3, 4), &Device::Cpu).unwrap();
    for w_dims in [vec![4i64], vec![4, 5], vec![2, 4, 5], vec![1, 4, 2]] {
        let n = w_dims.iter().product::<i64>() as usize;
        let w: Vec<f32> = (0..n).map(|i| (i as f32 * 0.61).cos()).collect();
        let bytes = g::model(
            13,
            &[g::node("MatMul", &["x", "w"], &["y"], vec![])],
            &[g::init("w", &w_dims, &[], &w)],
            &[1, 2, 3, 4],
        );
        let model = import_onnx(&bytes, "t")
            .unwrap_or_else(|e| panic!("{w_dims:?}: {e}"))
            .model;
        let got = forward_flat(&model, &input);
        let m = if w_dims.len() == 1 {
            1
        } else {
            w_dims[w_dims.len() - 1] as usize
        };
        let batched = w_dims.len() == 3 && w_dims[0] == 2;
        let mut want = vec![];
        for b in 0..2 {
            for r in 0..3 {
                for o in 0..m {
                    let matrix = if batched { b * 4 * m } else { 0 };
                    want.push(
                        (0..4)
                            .map(|c| x[(b * 3 + r) * 4 + c] * w[matrix + c * m + o])
                            .sum::<f32>(),
                    );
                }
            }
        }
        assert_eq!(got.len(), want.len(), "{w_dims:?}");
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() < 1e-5, "{w_dims:?}: {got:?} vs {want:?}");
        }
    }
}

/// Two graph inputs and two graph outputs (`multi_io_op13`, made by
/// `corpus/make_corpus.py multi_io`): the inputs are fed as one vector,
/// their concatenation in graph order, and the outputs proven as one, their
/// flattened concatenation — which matches onnxruntime's, sample by sample.
#[test]
fn several_inputs_and_outputs_are_one_vector_each_in_graph_order() {
    let bytes = std::fs::read(fixture("multi_io_op13.onnx")).unwrap();
    let inspection = zkinfer_models::onnx::inspect_onnx(&bytes).unwrap();
    assert!(inspection.imports, "{}", inspection.refusal());
    let names: Vec<&str> = inspection.inputs.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["image", "features"]);
    assert_eq!(inspection.outputs, ["logits", "aux"]);
    let model = import_onnx(&bytes, "multi_io").unwrap().model;
    assert_eq!(model.arch().input_shape, vec![64 + 4]);
    let text = std::fs::read_to_string(fixture("multi_io_op13.calibration.json")).unwrap();
    let samples = zkinfer_models::input::parse_samples_of(&text, &[64, 4]).unwrap();
    let reference = read_json("multi_io_op13.reference.json");
    let reference = reference["outputs"].as_array().unwrap();
    assert_eq!(samples.len(), reference.len());
    for (sample, want) in samples.iter().zip(reference) {
        let x = sample.iter().map(|&v| v as f32).collect::<Vec<_>>();
        let x = Tensor::from_vec(x, (1, 68), &Device::Cpu).unwrap();
        let got = forward_flat(&model, &x);
        let want = f32s(want);
        assert_eq!(got.len(), 12);
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() <= 1e-5, "{got:?} vs {want:?}");
        }
    }
}

/// nanoGPT's mask before a softmax that is the model's output: the softmax
/// is kept (dropping it would prove logits with the masked positions
/// live), and the masked position gets probability 0.
#[test]
fn a_masked_softmax_at_the_output_is_computed_not_dropped() {
    let condition = g::init("keep", &[1, 1, 3], &[1, 1, 0], &[]);
    let fill = g::init("fill", &[], &[], &[f32::NEG_INFINITY]);
    let model = g::model(
        13,
        &[
            g::node("Where", &["keep", "x", "fill"], &["masked"], vec![]),
            g::node("Softmax", &["masked"], &["y"], vec![A::Int("axis", -1)]),
        ],
        &[condition, fill],
        &[1, 1, 3],
    );
    let imported = import_onnx(&model, "masked").unwrap();
    assert!(!imported.dropped_softmax);
    let input = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], (1, 1, 3), &Device::Cpu).unwrap();
    let y = imported
        .model
        .forward(&input)
        .unwrap()
        .flatten_all()
        .unwrap();
    let y = y.to_vec1::<f32>().unwrap();
    let (e1, e2) = (1f32.exp(), 2f32.exp());
    let want = [e1 / (e1 + e2), e2 / (e1 + e2), 0.0];
    for (got, want) in y.iter().zip(want) {
        assert!((got - want).abs() < 1e-6, "{y:?} vs {want}");
    }
    // Anything else reading the masked scores is refused, naming why.
    let relu = g::model(
        13,
        &[
            g::node("Where", &["keep", "x", "fill"], &["masked"], vec![]),
            g::node("Relu", &["masked"], &["y"], vec![]),
        ],
        &[
            g::init("keep", &[1, 1, 3], &[1, 1, 0], &[]),
            g::init("fill", &[], &[], &[f32::NEG_INFINITY]),
        ],
        &[1, 1, 3],
    );
    let refused = unsupported_of(&relu);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].1.contains("masked with -inf"), "{refused:?}");
}

// --- Transformers: token ids, GELU written out -----------------------------

/// The tiny GPT (`fixtures/tiny_gpt/`): its integer input, read by a
/// `Gather` of the embedding table, imports as one-hot rows times the
/// table, its two tanh GELUs written out as one table each, and the float
/// graph reproduces onnxruntime's logits for the recorded contexts.
#[test]
fn token_ids_import_as_one_hot_rows_and_the_tiny_gpt_matches_onnxruntime() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/tiny_gpt");
    let bytes = std::fs::read(dir.join("tiny_gpt.onnx")).unwrap();
    let imported = import_onnx(&bytes, "tiny_gpt").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(imported.inspection.token_vocab, Some(35));
    assert_eq!(imported.model.arch().input_shape, [16, 35]);
    let ops = layer_ops(&bytes);
    assert_eq!(
        ops.iter().filter(|o| *o == "gelu_tanh").count(),
        2,
        "{ops:?}"
    );
    assert!(!ops.iter().any(|o| o == "tanh"), "{ops:?}");
    let held: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("tiny_gpt.heldout.json")).unwrap())
            .unwrap();
    let logits = held["logits"].as_array().unwrap();
    assert!(logits.len() >= 8);
    for (context, want) in held["contexts"].as_array().unwrap().iter().zip(logits) {
        let text = serde_json::json!({ "tokens": context }).to_string();
        let rows = zkinfer_models::input::parse_samples(&text, 16 * 35).unwrap();
        let x: Vec<f32> = rows[0].iter().map(|&v| v as f32).collect();
        let input = Tensor::from_vec(x, (1, 16, 35), &Device::Cpu).unwrap();
        let got = forward_flat(&imported.model, &input);
        let want = f32s(want);
        let worst = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(worst < 1e-3, "{worst}: {got:?} vs {want:?}");
    }
}

/// An integer input read by anything but a `Gather` of a constant table
/// is refused, naming the input and its reader.
#[test]
fn an_integer_input_read_as_a_number_is_refused() {
    let mut graph = vec![];
    pb::bytes(1, &g::node("Relu", &["ids"], &["y"], vec![]), &mut graph);
    pb::bytes(11, &pb::value_info_of("ids", &[1, 4], 7), &mut graph);
    pb::bytes(12, &pb::value_info("y", &[1, 4]), &mut graph);
    let model = pb::model_of(&graph, 13);
    let err = onnx_error(&model);
    for needle in [
        "input \"ids\" holds integers",
        "token ids",
        "(Relu) reads it",
    ] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
}

/// GELU written out, in PyTorch's erf form with the operands of the
/// product swapped, imports as one GELU table (and computes GELU); with a
/// coefficient a little off it is not GELU, and stays node by node.
#[test]
fn gelu_written_out_is_one_table_and_a_near_miss_is_not() {
    let gelu = |divisor: f32| {
        g::model(
            13,
            &[
                g::node("Div", &["x", "root2"], &["d"], vec![]),
                g::node("Erf", &["d"], &["e"], vec![]),
                g::node("Add", &["e", "one"], &["a"], vec![]),
                g::node("Mul", &["a", "x"], &["m"], vec![]),
                g::node("Mul", &["m", "half"], &["y"], vec![]),
            ],
            &[
                g::init("root2", &[], &[], &[divisor]),
                g::init("one", &[], &[], &[1.0]),
                g::init("half", &[], &[], &[0.5]),
            ],
            &[1, 4],
        )
    };
    let exact = gelu(std::f32::consts::SQRT_2);
    let ops = layer_ops(&exact);
    assert!(
        ops.contains(&"gelu".to_string()) && !ops.contains(&"erf".to_string()),
        "{ops:?}"
    );
    let model = import_onnx(&exact, "gelu").unwrap().model;
    let xs = [-2.5f32, -0.5, 0.7, 3.0];
    let y = forward_flat(&model, &Tensor::new(&[xs], &Device::Cpu).unwrap());
    for (x, y) in xs.iter().zip(y) {
        let want = 0.5 * x * (1.0 + libm::erff(x / std::f32::consts::SQRT_2));
        assert!((y - want).abs() < 1e-5, "GELU({x}) = {want}, got {y}");
    }
    let near = layer_ops(&gelu(1.5));
    assert!(
        near.contains(&"erf".to_string()) && !near.contains(&"gelu".to_string()),
        "{near:?}"
    );
}
