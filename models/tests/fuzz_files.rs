//! Fuzzing the float-model files and input files:
//!
//! * `arch.json` (10⁴ cases): extreme values in every field, and
//!   structure-aware mutations of the bundled architectures and one with
//!   every layer kind. An architecture that parses gets weights of the
//!   shapes it asks for, runs in candle and is quantized on two samples:
//!   the quantizer's checks are fuzzed through it.
//! * safetensors (10⁴ cases): the bundled weights with a mutated header
//!   (extreme shapes and offsets, other dtypes), a mutated length prefix,
//!   or mutated bytes, loaded against the bundled architectures.
//! * input files (10⁴ cases): mutations of `examples/inputs/*.json`, read
//!   for several model sizes and quantized at the digits models' inputs.
//!
//! A case passes when it is refused with an error or accepted and usable.
//! Zero panics.

use candle_core::{DType, Device, Tensor};
use serde_json::Value;
use std::collections::HashMap;
use zkinfer_fuzz::{
    cases, extreme_field_cases, extreme_u64, mutate_bytes, mutate_json, mutate_json_text, run,
    show_bytes, Rng,
};
use zkinfer_models::bundled::BundledModel;
use zkinfer_models::input::parse_samples;
use zkinfer_models::{quantize, Architecture, FloatModel, FloatOp, QuantizeOptions};

const ARCHS: &[&str] = &[
    include_str!("../bundled/digits-mlp/arch.json"),
    include_str!("../bundled/digits-cnn/arch.json"),
    ZOO,
];

/// Every layer kind, with a residual.
const ZOO: &str = r#"{ "format": "zkinfer/arch@1", "name": "zoo", "input_shape": [2, 6, 6],
  "layers": [
    { "op": "conv2d", "name": "c", "in_channels": 2, "out_channels": 3, "kernel": [3, 3],
      "stride": [1, 1], "padding": [1, 1] },
    { "op": "relu" },
    { "op": "add", "inputs": [2, 1] },
    { "op": "max_pool2d", "kernel": [2, 2] },
    { "op": "avg_pool2d", "kernel": [2, 1], "stride": [1, 1] },
    { "op": "sigmoid" },
    { "op": "tanh" },
    { "op": "reshape", "shape": [3, 6] },
    { "op": "flatten" },
    { "op": "linear", "name": "fc", "in_features": 18, "out_features": 4 } ] }"#;

const WEIGHTS: &[&[u8]] = &[
    include_bytes!("../bundled/digits-mlp/weights.safetensors"),
    include_bytes!("../bundled/digits-cnn/weights.safetensors"),
];

const INPUTS: &[&str] = &[
    include_str!("../../examples/inputs/digit-0.json"),
    include_str!("../../examples/inputs/digit-7.ezkl.json"),
    include_str!("../../examples/inputs/calibration-100.ezkl.json"),
    r#"{"inputs": [[0.5, 1, 2, 3], [4, 5, 6, 7]]}"#,
];

/// Deterministic weights of the shapes an architecture asks for; none for a
/// layer whose weight would be large (the model is then refused for the
/// missing tensor).
fn weights_for(arch: &Architecture) -> HashMap<String, Tensor> {
    let mut params = HashMap::new();
    let mut add = |name: &str, dims: Vec<usize>| {
        let Some(n) = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) else {
            return;
        };
        if n > 1 << 16 {
            return;
        }
        let data: Vec<f32> = (0..n).map(|i| ((i % 7) as f32 - 3.0) * 0.1).collect();
        params.insert(
            name.to_string(),
            Tensor::from_vec(data, dims, &Device::Cpu).unwrap(),
        );
    };
    for layer in &arch.layers {
        match &layer.op {
            FloatOp::Linear {
                name,
                in_features,
                out_features,
            } => {
                add(&format!("{name}.weight"), vec![*out_features, *in_features]);
                add(&format!("{name}.bias"), vec![*out_features]);
            }
            FloatOp::Conv2d {
                name,
                in_channels,
                out_channels,
                kernel,
                ..
            } => {
                add(
                    &format!("{name}.weight"),
                    vec![*out_channels, *in_channels, kernel[0], kernel[1]],
                );
                add(&format!("{name}.bias"), vec![*out_channels]);
            }
            _ => {}
        }
    }
    params
}

/// A model that was accepted must run, and quantize or say why not.
fn run_float(model: &FloatModel) {
    let numel: usize = model.arch().input_shape.iter().product();
    let mut dims = vec![1];
    dims.extend(&model.arch().input_shape);
    let x = Tensor::zeros(dims, DType::F32, &Device::Cpu).unwrap();
    let _ = model.forward(&x);
    let samples = vec![vec![0.0; numel], vec![1.0; numel]];
    if let Ok(quantized) = quantize(model, &samples, &QuantizeOptions::default()) {
        let input = quantized.quantize_input(&vec![0.5; numel]).unwrap();
        let _ = quantized.forward(&input);
    }
}

fn arch_case(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let Ok(arch) = Architecture::from_json(text) else {
        return false;
    };
    let params = weights_for(&arch);
    match FloatModel::new(arch, params) {
        Ok(model) => {
            run_float(&model);
            true
        }
        Err(_) => false,
    }
}

fn docs(texts: &[&str]) -> Vec<Value> {
    texts
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect()
}

#[test]
fn every_arch_seed_builds_and_quantizes() {
    for text in ARCHS {
        let arch = Architecture::from_json(text).unwrap();
        let model = FloatModel::new(arch.clone(), weights_for(&arch)).unwrap();
        let numel: usize = arch.input_shape.iter().product();
        quantize(&model, &[vec![0.5; numel]], &QuantizeOptions::default()).unwrap();
    }
}

#[test]
fn extreme_values_in_every_arch_field_are_refused_or_usable() {
    let mut rng = Rng::new(0xa4c4_0001);
    for doc in docs(ARCHS) {
        let cases = extreme_field_cases(&doc, &mut rng);
        run(
            "arch.json extreme fields",
            rng.next_u64(),
            cases.len(),
            |_, i| cases[i].clone(),
            |(_, doc)| arch_case(doc.to_string().as_bytes()),
            |(what, _)| what.clone(),
        );
    }
}

#[test]
fn fuzzed_arch_files_never_panic() {
    let seeds = docs(ARCHS);
    let report = run(
        "arch.json",
        0xa4c4_0002,
        cases(10_000),
        |rng, i| mutate_json_text(rng, &seeds[i % seeds.len()]),
        |bytes| arch_case(bytes),
        |bytes| show_bytes(bytes),
    );
    assert!(report.accepted > report.cases / 50, "{report:?}");
}

/// The header of a safetensors file and the data after it.
fn split_safetensors(bytes: &[u8]) -> (Value, &[u8]) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    (header, &bytes[8 + n..])
}

fn safetensors_case(rng: &mut Rng, index: usize) -> (usize, Vec<u8>) {
    let which = index % WEIGHTS.len();
    let bytes = WEIGHTS[which];
    let (header, data) = split_safetensors(bytes);
    let out = match rng.below(4) {
        0 | 1 => {
            let mut header = mutate_json(rng, &header);
            if rng.one_in(3) {
                // Another dtype for one tensor.
                if let Some(map) = header.as_object_mut().filter(|m| !m.is_empty()) {
                    let keys: Vec<String> = map.keys().cloned().collect();
                    let dtype =
                        rng.pick(&["F64", "F16", "BF16", "I64", "U8", "BOOL", "F8_E4M3", "X"]);
                    if let Some(tensor) = map[rng.pick(&keys)].as_object_mut() {
                        tensor.insert("dtype".into(), (*dtype).into());
                    }
                }
            }
            let text = serde_json::to_vec(&header).unwrap();
            let mut out = (text.len() as u64).to_le_bytes().to_vec();
            out.extend(text);
            out.extend(data);
            out
        }
        2 => {
            let mut out = bytes.to_vec();
            out[..8].copy_from_slice(&extreme_u64(rng).to_le_bytes());
            out
        }
        _ => mutate_bytes(rng, bytes, WEIGHTS),
    };
    (which, out)
}

#[test]
fn fuzzed_safetensors_never_panic() {
    let archs: Vec<Architecture> = ["digits-mlp", "digits-cnn"]
        .iter()
        .map(|name| {
            BundledModel::find(name)
                .unwrap()
                .float()
                .unwrap()
                .arch()
                .clone()
        })
        .collect();
    run(
        "safetensors",
        0x5afe_0001,
        cases(10_000),
        safetensors_case,
        |(which, bytes)| match FloatModel::from_bytes(archs[*which].clone(), bytes) {
            Ok(model) => {
                run_float(&model);
                true
            }
            Err(_) => false,
        },
        |(_, bytes)| show_bytes(&bytes[..bytes.len().min(600)]),
    );
}

#[test]
fn fuzzed_input_files_never_panic() {
    let seeds = docs(INPUTS);
    let models: Vec<_> = ["digits-mlp", "digits-cnn"]
        .iter()
        .map(|name| BundledModel::find(name).unwrap().quantized().unwrap())
        .collect();
    let report = run(
        "input files",
        0x1e70_0001,
        cases(10_000),
        |rng, i| {
            let numel = *rng.pick(&[64, 64, 64, 4, 1, 0, 65]);
            (numel, mutate_json_text(rng, &seeds[i % seeds.len()]))
        },
        |(numel, bytes)| {
            let Ok(text) = std::str::from_utf8(bytes) else {
                return false;
            };
            let Ok(samples) = parse_samples(text, *numel) else {
                return false;
            };
            for sample in samples.iter().take(3) {
                for model in &models {
                    // Refused (out of range) or quantized: never a panic.
                    let _ = model.quantize_input(sample);
                }
            }
            true
        },
        |(numel, bytes)| format!("numel {numel}: {}", show_bytes(bytes)),
    );
    assert!(report.accepted > report.cases / 10, "{report:?}");
}

// --- Regressions -----------------------------------------------------------

#[test]
fn an_input_shape_whose_product_overflows_is_refused() {
    // Flatten multiplied 2^32 · 2^32 · 2 (found by the arch.json fuzzer).
    let text = r#"{ "format": "zkinfer/arch@1", "name": "x", "input_shape": [4294967296, 4294967296, 2],
        "layers": [ { "op": "flatten" } ] }"#;
    let err = Architecture::from_json(text).unwrap_err().to_string();
    assert!(err.contains("has more than 16777216 elements"), "{err}");
}

#[test]
fn a_reshape_whose_product_overflows_does_not_match() {
    // 2^62 · 4 · 4 wrapped to 0; it must not equal anything.
    let text = r#"{ "format": "zkinfer/arch@1", "name": "x", "input_shape": [4],
        "layers": [ { "op": "reshape", "shape": [4611686018427387904, 4, 4] } ] }"#;
    let arch = Architecture::from_json(text).unwrap();
    let err = FloatModel::new(arch, HashMap::new())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot reshape [4] to [4611686018427387904, 4, 4]"),
        "{err}"
    );
}
