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

/// Runs `quantize` on the bundled MLP with `calibration` into `out`.
fn quantize_into(calibration: &Path, out: &Path, extra: &[&str]) -> common::Run {
    let dir = bundled_dir("digits-mlp");
    let mut args: Vec<std::ffi::OsString> = vec![
        "quantize".into(),
        "--arch".into(),
        dir.join("arch.json").into(),
        "--weights".into(),
        dir.join("weights.safetensors").into(),
        "--calibration".into(),
        calibration.into(),
        "--out".into(),
        out.into(),
    ];
    args.extend(extra.iter().map(Into::into));
    zkinfer(args)
}

/// `--out` equal to an input is refused, naming both; an existing file
/// that is not a zkinfer model is kept unless `--force`; a model is
/// replaced.
#[test]
fn quantize_refuses_to_overwrite_an_input_or_a_foreign_file() {
    let scratch = Scratch::new();
    let samples: Vec<Vec<f64>> = held_out_sample(12).iter().map(|d| d.input()).collect();
    let cal = scratch.write_json("calibration.json", &json!({ "inputs": samples }));
    let cal_text = std::fs::read(&cal).unwrap();

    let run = quantize_into(&cal, &cal, &["--force"]);
    run.assert_error(&["--out", "--calibration", cal.to_str().unwrap(), "same file"]);
    assert_eq!(std::fs::read(&cal).unwrap(), cal_text);

    // The architecture, through a path of its own.
    let arch_copy = scratch.join("arch.json");
    std::fs::copy(bundled_dir("digits-mlp").join("arch.json"), &arch_copy).unwrap();
    let dir = bundled_dir("digits-mlp");
    let run = zkinfer([
        "quantize".as_ref(),
        "--arch".as_ref(),
        arch_copy.as_os_str(),
        "--weights".as_ref(),
        dir.join("weights.safetensors").as_os_str(),
        "--calibration".as_ref(),
        cal.as_os_str(),
        "--out".as_ref(),
        scratch.path().join(".").join("arch.json").as_os_str(),
    ]);
    run.assert_error(&["--out", "--arch", arch_copy.to_str().unwrap(), "same file"]);

    let notes = scratch.write("notes.json", "{\"mine\": true}\n");
    let run = quantize_into(&cal, &notes, &[]);
    run.assert_error(&[notes.to_str().unwrap(), "not a zkinfer model", "--force"]);
    assert_eq!(
        std::fs::read_to_string(&notes).unwrap(),
        "{\"mine\": true}\n"
    );
    let run = quantize_into(&cal, &notes, &["--force"]);
    run.assert_success();
    assert_eq!(run.stderr, "", "{run:#?}");
    // Now a model: replaced without --force.
    quantize_into(&cal, &notes, &[]).assert_success();
}

/// A calibration set of one sample, or of one value everywhere, quantizes
/// but warns: the agreement it reports says nothing.
#[test]
fn quantize_warns_about_a_tiny_or_constant_calibration_set() {
    let scratch = Scratch::new();
    let out = scratch.join("model.json");
    let one = scratch.write_json(
        "one.json",
        &json!({ "input": held_out_sample(1)[0].input() }),
    );
    let run = quantize_into(&one, &out, &[]);
    run.assert_success();
    assert!(
        run.stderr.starts_with("warning: ")
            && run.stderr.contains(one.to_str().unwrap())
            && run.stderr.contains("only 1 calibration sample"),
        "{run:#?}"
    );
    let mut constant: Vec<Vec<f64>> = held_out_sample(12).iter().map(|d| d.input()).collect();
    for s in &mut constant {
        s.iter_mut().for_each(|v| *v = 0.5);
    }
    let constant = scratch.write_json("constant.json", &json!({ "inputs": constant }));
    let run = quantize_into(&constant, &out, &[]);
    assert!(
        run.stderr.contains("every calibration value is 0.5"),
        "{run:#?}"
    );
}

/// Calibrating on a file and inferring on that same file never warns that
/// a value is outside the calibration range: the range is recorded in f32,
/// and 0.1 or 0.7 are not f32 values.
#[test]
fn the_calibration_file_itself_is_inside_the_calibration_range() {
    let scratch = Scratch::new();
    let mut values = vec![0.3; 64];
    values[0] = 0.1; // its f32 is above 0.1: the recorded minimum
    values[1] = 0.7; // its f32 is below 0.7: the recorded maximum
    let input = scratch.write_input("x.json", &values);
    let model = scratch.join("model.json");
    quantize_into(&input, &model, &[]).assert_success();
    let run = zkinfer([
        "infer".as_ref(),
        "--model".as_ref(),
        model.as_os_str(),
        "--input".as_ref(),
        input.as_os_str(),
    ]);
    run.assert_success();
    assert_eq!(run.stderr, "", "{run:#?}");
}
