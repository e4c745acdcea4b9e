//! `zkinfer eval` (held-out accuracy) and `zkinfer quantize` (reproducing the
//! bundled models from their float weights and the training split).

mod common;

use common::{bundled_dir, digits, held_out_sample, training_inputs, zkinfer, Scratch};
use serde_json::{json, Value};
use std::path::Path;

fn eval_json(model: &str) -> Value {
    zkinfer(["eval", "--model", model, "--json"]).json()
}

fn check_eval(model: &str, min_float_accuracy: f64) {
    let report = eval_json(model);
    let held_out = digits().iter().filter(|d| d.held_out()).count();
    assert_eq!(held_out, 360);
    assert_eq!(report["model"], model, "{report}");
    assert_eq!(report["samples"], json!(held_out), "{report}");
    let get = |key: &str| {
        let v = report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing: {report}"));
        assert!((0.0..=1.0).contains(&v), "{key} = {v}: {report}");
        v
    };
    let float = get("float_accuracy");
    let quantized = get("quantized_accuracy");
    let agreement = get("agreement");
    assert!(float >= min_float_accuracy, "{model}: {report}");
    assert!(
        (quantized - float).abs() <= 0.01,
        "{model}: quantization changed the accuracy by more than 1 point: {report}"
    );
    assert!(agreement >= 0.98, "{model}: {report}");
    // Accuracies are counts out of 360 samples.
    for v in [float, quantized, agreement] {
        let count = v * held_out as f64;
        assert!((count - count.round()).abs() < 1e-6, "{v}: {report}");
    }
}

#[test]
fn eval_mlp_on_the_held_out_split() {
    check_eval("digits-mlp", 0.95);
}

#[test]
fn eval_cnn_on_the_held_out_split() {
    check_eval("digits-cnn", 0.93);
}

#[test]
fn eval_text_mode_reports_the_sample_count() {
    let run = zkinfer(["eval", "--model", "digits-mlp"]);
    run.assert_success();
    assert!(serde_json::from_str::<Value>(&run.stdout).is_err());
    assert!(run.stdout.contains("360 samples"), "{}", run.stdout);
    assert!(run.stdout.contains("float accuracy"), "{}", run.stdout);
    assert!(run.stdout.contains("quantized accuracy"), "{}", run.stdout);
}

/// `models --json`'s entry for a bundled model.
fn listed(model: &str) -> Value {
    let list = zkinfer(["models", "--json"]).json();
    list.as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == model)
        .unwrap_or_else(|| panic!("{model} not listed: {list}"))
        .clone()
}

fn infer(model: &Path, input: &Path) -> Value {
    zkinfer([
        "infer".as_ref(),
        "--model".as_ref(),
        model.as_os_str(),
        "--input".as_ref(),
        input.as_os_str(),
        "--json".as_ref(),
    ])
    .json()
}

/// Quantizes a bundled model's float weights with `calibration` and checks
/// the result is the bundled model and runs like it.
fn quantize_reproduces_bundled(model: &str, calibration: &Value) {
    let scratch = Scratch::new();
    let cal = scratch.write_json("calibration.json", calibration);
    let out = scratch.join("quantized.json");
    let dir = bundled_dir(model);
    let run = zkinfer([
        "quantize".as_ref(),
        "--arch".as_ref(),
        dir.join("arch.json").as_os_str(),
        "--weights".as_ref(),
        dir.join("weights.safetensors").as_os_str(),
        "--calibration".as_ref(),
        cal.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--json".as_ref(),
    ]);
    let report = run.json();

    let expected = listed(model);
    let digest = &expected["digest"];
    assert_eq!(report["out"], out.to_str().unwrap(), "{report}");
    assert_eq!(report["name"], model, "{report}");
    assert_eq!(&report["digest"], digest, "{report}");
    assert_eq!(report["parameters"], expected["parameters"], "{report}");
    assert_eq!(
        report["calibration_samples"],
        json!(training_inputs().len()),
        "{report}"
    );

    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).expect("--out is not JSON");
    assert_eq!(written["format"], "zkinfer/model@1");
    assert_eq!(written["name"], model);
    assert_eq!(&written["digest"], digest, "the written model differs");

    // Only the calibration and the model are left: no temporary file.
    let mut entries: Vec<String> = std::fs::read_dir(scratch.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, ["calibration.json", "quantized.json"]);

    // The written model loads and runs exactly like the bundled one.
    for d in held_out_sample(3) {
        let input = scratch.write_input("input.json", &d.input());
        let ours = infer(&out, &input);
        let bundled = infer(Path::new(model), &input);
        assert_eq!(&ours["model_digest"], digest);
        for key in ["class", "outputs", "outputs_int", "scale"] {
            assert_eq!(ours[key], bundled[key], "row {}: {key}", d.index);
        }
    }
}

#[test]
fn quantize_mlp_reproduces_the_bundled_model() {
    quantize_reproduces_bundled("digits-mlp", &json!({ "inputs": training_inputs() }));
}

#[test]
fn quantize_mlp_with_ezkl_calibration_reproduces_the_bundled_model() {
    let concatenated: Vec<f64> = training_inputs().into_iter().flatten().collect();
    quantize_reproduces_bundled("digits-mlp", &json!({ "input_data": [concatenated] }));
}

#[test]
fn quantize_cnn_reproduces_the_bundled_model() {
    quantize_reproduces_bundled("digits-cnn", &json!({ "inputs": training_inputs() }));
}
