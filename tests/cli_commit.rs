//! `zkinfer commit`: an input's Poseidon commitment, the same as the
//! library computes from the quantized input; blinded by default with a
//! fresh element, by the one given, or not at all.

mod common;

use common::{read_json, repo_path, zkinfer};
use zkinfer_circuits::commitment::{commit, from_hex, to_hex};
use zkinfer_models::bundled::BundledModel;

const DIGIT_7: &str = "examples/inputs/digit-7.json";

fn commit_json(extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "--json",
        "commit",
        "--model",
        "digits-mlp",
        "--input",
        DIGIT_7,
    ];
    args.extend_from_slice(extra);
    zkinfer(args).json()
}

/// The library's commitment of digit 7 as digits-mlp quantizes it.
fn expected(blinding: Option<&str>) -> String {
    let model = BundledModel::find("digits-mlp")
        .unwrap()
        .quantized()
        .unwrap();
    let pixels: Vec<f64> = read_json(&repo_path(DIGIT_7))["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let x = model.quantize_input(&pixels).unwrap();
    let r = blinding.map(|hex| from_hex(hex).unwrap());
    to_hex(commit(&x.data, model.input().bits, r).unwrap())
}

#[test]
fn commit_prints_the_librarys_commitment() {
    let out = commit_json(&["--unblinded"]);
    assert_eq!(out["input_commitment"], expected(None), "{out}");
    assert!(out["blinding"].is_null(), "{out}");
    assert_eq!(
        (out["values"].as_u64(), out["bits"].as_u64()),
        (Some(64), Some(12))
    );

    let r = "0100000000000000000000000000000000000000000000000000000000000000";
    let blinded = commit_json(&["--blinding", r]);
    assert_eq!(blinded["input_commitment"], expected(Some(r)));
    assert_eq!(blinded["blinding"], r);
    assert_ne!(blinded["input_commitment"], out["input_commitment"]);
}

#[test]
fn a_fresh_blinding_is_random_and_printed() {
    let a = commit_json(&[]);
    let b = commit_json(&[]);
    assert_ne!(a["blinding"], b["blinding"]);
    assert_ne!(a["input_commitment"], b["input_commitment"]);
    let r = a["blinding"].as_str().unwrap();
    assert_eq!(
        a["input_commitment"],
        expected(Some(r)),
        "it opens with the printed blinding"
    );
}

#[test]
fn a_bad_blinding_or_both_flags_is_refused() {
    let run = zkinfer([
        "commit",
        "--model",
        "digits-mlp",
        "--input",
        DIGIT_7,
        "--blinding",
        "zz",
    ]);
    run.assert_error(&["--blinding", "\"zz\"", "64 hex digits"]);
    let above = "ff".repeat(32);
    let run = zkinfer([
        "commit",
        "--model",
        "digits-mlp",
        "--input",
        DIGIT_7,
        "--blinding",
        &above,
    ]);
    run.assert_error(&["--blinding", "not a field element"]);
    let run = zkinfer([
        "commit",
        "--model",
        "digits-mlp",
        "--input",
        DIGIT_7,
        "--blinding",
        "00",
        "--unblinded",
    ]);
    assert_eq!(run.code, Some(2), "{run:#?}");
}
