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
        let calibration = read_json(&format!("{name}.calibration.json"));
        let flat: Vec<f32> = calibration["input_data"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let numel: usize = model.arch().input_shape.iter().product();
        let n = flat.len() / numel;
        let mut dims = vec![n];
        dims.extend(&model.arch().input_shape);
        let x = Tensor::from_vec(flat, dims, &Device::Cpu).unwrap();
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
    let err = onnx_error(&std::fs::read(fixture("unsupported.onnx")).unwrap());
    assert!(
        err.contains("\"/act/LeakyRelu\"") && err.contains("LeakyRelu"),
        "{err}"
    );
    assert!(err.contains("supported: Gemm, MatMul"), "{err}");
    assert_eq!(err.lines().count(), 1);
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
    fn varint(mut v: u64, out: &mut Vec<u8>) {
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

    /// `ValueInfoProto` of a float tensor `[1, n]`.
    pub fn value_info(name: &str, n: u64) -> Vec<u8> {
        let mut shape = vec![];
        for d in [1, n] {
            let mut dim = vec![];
            int(1, d, &mut dim);
            bytes(1, &dim, &mut shape);
        }
        let mut tensor = vec![];
        int(1, 1, &mut tensor);
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
        bytes(11, &value_info("x", 4), &mut graph);
        bytes(12, &value_info("y", 4), &mut graph);
        let mut opset = vec![];
        int(2, 13, &mut opset);
        let mut model = vec![];
        int(1, 8, &mut model);
        bytes(7, &graph, &mut model);
        bytes(8, &opset, &mut model);
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
    let flat: Vec<f32> = calibration["input_data"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
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
                    let want: Vec<f32> = want
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_f64().unwrap() as f32)
                        .collect();
                    assert_eq!(row.len(), want.len(), "{name}");
                    for (a, b) in row.iter().zip(&want) {
                        worst = worst.max((a - b).abs());
                        scale = scale.max(b.abs());
                    }
                }
                // f32 throughout; folded weights round once more than
                // onnxruntime's.
                assert!(
                    worst <= 2e-5 * scale,
                    "{name} ({}): largest difference from onnxruntime is {worst} (outputs up to {scale})",
                    e.exporter
                );
                eprintln!("{name}: candle vs onnxruntime, worst difference {worst:e} (outputs up to {scale})");
                if !e.imports {
                    eprintln!("{name} imports now: set \"imports\": true and clear its unsupported ops in the manifest");
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
