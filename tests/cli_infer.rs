//! `zkinfer infer`: quantized inference on held-out digits, in every input
//! format, in JSON and text mode.

mod common;

use common::{argmax, bundled_dir, bundled_model_json, check_outputs, held_out_sample, zkinfer};
use common::{Digit, Scratch};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;

/// Held-out rows checked per model.
const ROWS: usize = 10;
/// Of which at least this many must be classified as labelled.
const MIN_CORRECT: usize = 8;

/// Runs `infer --json` and returns the parsed output.
fn infer_json(model: &str, input: &Path) -> Value {
    zkinfer([
        "infer".as_ref(),
        "--model".as_ref(),
        model.as_ref(),
        "--input".as_ref(),
        input.as_os_str(),
        "--json".as_ref(),
    ])
    .json()
}

/// Checks the structure and internal consistency of an `infer --json`
/// output; returns the class.
fn check_infer_output(out: &Value, model: &str, digest: &Value) -> usize {
    let keys: BTreeSet<&str> = out
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {out}"))
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = [
        "model",
        "model_digest",
        "class",
        "outputs",
        "outputs_int",
        "scale",
    ]
    .into();
    assert_eq!(keys, expected, "{out}");
    assert_eq!(out["model"], model, "{out}");
    assert_eq!(&out["model_digest"], digest, "{out}");

    let ints = check_outputs(out);
    argmax(&ints)
}

/// Runs a model on held-out rows with inputs written by `write`, checks every
/// output, and checks that most classes equal the labels.
fn classify_held_out(model: &str, write: impl Fn(&Scratch, &Digit) -> std::path::PathBuf) {
    let digest = bundled_model_json(model)["digest"].clone();
    let scratch = Scratch::new();
    let rows = held_out_sample(ROWS);
    let mut correct = 0;
    let mut results = vec![];
    for digit in &rows {
        assert!(digit.held_out());
        let path = write(&scratch, digit);
        let class = check_infer_output(&infer_json(model, &path), model, &digest);
        correct += usize::from(class == digit.label);
        results.push((digit.index, digit.label, class));
    }
    assert!(
        correct >= MIN_CORRECT,
        "{model}: {correct} of {ROWS} correct; (row, label, class): {results:?}"
    );
}

#[test]
fn mlp_classifies_held_out_digits() {
    classify_held_out("digits-mlp", |s, d| {
        s.write_input(&format!("row{}.json", d.index), &d.input())
    });
}

/// The input as a nested `1×8×8` image.
fn image(d: &Digit) -> Value {
    let rows: Vec<Vec<f64>> = d.input().chunks(8).map(<[f64]>::to_vec).collect();
    json!({ "input": [rows] })
}

#[test]
fn cnn_classifies_held_out_digits_given_as_images() {
    classify_held_out("digits-cnn", |s, d| {
        s.write_json(&format!("row{}.json", d.index), &image(d))
    });
}

#[test]
fn cnn_reads_a_nested_image_like_the_flat_input() {
    let scratch = Scratch::new();
    for d in held_out_sample(3) {
        let nested = scratch.write_json("nested.json", &image(&d));
        let flat = scratch.write_input("flat.json", &d.input());
        assert_eq!(
            infer_json("digits-cnn", &nested),
            infer_json("digits-cnn", &flat),
            "row {}",
            d.index
        );
    }
}

/// A file of several samples gets one result per sample, in file order,
/// each what `infer` gives that sample alone.
#[test]
fn a_file_of_several_samples_infers_each() {
    let scratch = Scratch::new();
    let digits = held_out_sample(3);
    let inputs: Vec<Vec<f64>> = digits.iter().map(Digit::input).collect();
    let several = scratch.write_json("several.json", &json!({ "inputs": inputs }));
    let batch = infer_json("digits-mlp", &several);
    let samples = batch["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 3, "{batch}");
    for (d, got) in digits.iter().zip(samples) {
        let alone = infer_json("digits-mlp", &scratch.write_input("one.json", &d.input()));
        for key in ["class", "outputs", "outputs_int"] {
            assert_eq!(got[key], alone[key], "row {}: {key}", d.index);
        }
        assert_eq!(batch["scale"], alone["scale"]);
        assert_eq!(batch["model_digest"], alone["model_digest"]);
    }
}

#[test]
fn ezkl_input_data_gives_the_same_result_as_input() {
    let scratch = Scratch::new();
    for model in ["digits-mlp", "digits-cnn"] {
        for d in held_out_sample(3) {
            let ezkl = scratch.write_json("ezkl.json", &json!({ "input_data": [d.input()] }));
            let ours = scratch.write_input("ours.json", &d.input());
            let from_ezkl = infer_json(model, &ezkl);
            check_infer_output(&from_ezkl, model, &bundled_model_json(model)["digest"]);
            assert_eq!(
                from_ezkl,
                infer_json(model, &ours),
                "{model}, row {}",
                d.index
            );
        }
    }
}

#[test]
fn text_mode_prints_the_class() {
    let scratch = Scratch::new();
    for model in ["digits-mlp", "digits-cnn"] {
        let d = &held_out_sample(ROWS)[1];
        let input = scratch.write_input("x.json", &d.input());
        let json_class = infer_json(model, &input)["class"].as_u64().unwrap();
        let run = zkinfer([
            "infer".as_ref(),
            "--model".as_ref(),
            model.as_ref(),
            "--input".as_ref(),
            input.as_os_str(),
        ]);
        run.assert_success();
        assert!(
            serde_json::from_str::<Value>(&run.stdout).is_err(),
            "text mode printed JSON:\n{}",
            run.stdout
        );
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with("class"))
            .unwrap_or_else(|| panic!("no line starting with \"class\":\n{}", run.stdout));
        let class: u64 = line["class".len()..]
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{line:?}: {e}"));
        assert_eq!(class, json_class, "{model}:\n{}", run.stdout);
    }
}

#[test]
fn a_model_file_or_directory_runs_like_the_bundled_name() {
    let scratch = Scratch::new();
    let d = &held_out_sample(ROWS)[2];
    let input = scratch.write_input("x.json", &d.input());
    for model in ["digits-mlp", "digits-cnn"] {
        let by_name = infer_json(model, &input);
        let dir = bundled_dir(model);
        let file = dir.join("model.json");
        for path in [dir, file] {
            let path = path.to_str().unwrap();
            let by_path = infer_json(path, &input);
            assert_eq!(by_path["model"], path);
            for key in ["model_digest", "class", "outputs", "outputs_int", "scale"] {
                assert_eq!(by_path[key], by_name[key], "{path}: {key}");
            }
        }
    }
}
