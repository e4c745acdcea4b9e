//! What the prover's tests share: the ONNX fixtures and their calibration
//! samples.

#![allow(dead_code)] // each test binary uses part of it

use std::path::PathBuf;

/// A file of `models/fixtures/onnx/`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../models/fixtures/onnx")
        .join(name)
}

/// A JSON file of the fixtures.
pub fn fixture_json(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

/// The imported float model of `<name>.onnx`.
pub fn float_model(name: &str) -> zkinfer_models::FloatModel {
    let bytes = std::fs::read(fixture(&format!("{name}.onnx"))).unwrap();
    zkinfer_models::onnx::import_onnx(&bytes, name)
        .unwrap()
        .model
}

/// The calibration samples of `<name>` (EZKL's `input_data`, 64 floats a
/// sample).
pub fn samples(name: &str) -> Vec<Vec<f32>> {
    let flat: Vec<f32> = fixture_json(&format!("{name}.calibration.json"))["input_data"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    flat.chunks(64).map(<[f32]>::to_vec).collect()
}
