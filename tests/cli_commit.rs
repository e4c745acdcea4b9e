//! `zkinfer commit`: an input's Poseidon commitment, the same as the
//! library computes from the quantized input; blinded by default with a
//! fresh element, by the one given, or not at all.

mod common;

use common::{read_json, repo_path, zkinfer};
use zkinfer_circuits::commitment::{commit, from_hex, to_hex};
use zkinfer_models::bundled::BundledModel;

const DIGIT_7: &str = "examples/inputs/digit-7.json";

/// `zkinfer [--json] commit` of digit 7 for digits-mlp, with `extra` flags.
fn commit_run(json: bool, extra: &[&str]) -> common::Run {
    let mut args = vec!["commit", "--model", "digits-mlp", "--input", DIGIT_7];
    if json {
        args.insert(0, "--json");
    }
    args.extend_from_slice(extra);
    zkinfer(args)
}

fn commit_json(extra: &[&str]) -> serde_json::Value {
    commit_run(true, extra).json()
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
    commit_run(false, &["--blinding", "zz"]).assert_error(&[
        "--blinding",
        "\"zz\"",
        "64 hex digits",
    ]);
    let above = "ff".repeat(32);
    commit_run(false, &["--blinding", &above]).assert_error(&["--blinding", "not a field element"]);
    let run = commit_run(false, &["--blinding", "00", "--unblinded"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
}

/// `prove --committed-input --blinding r` makes public exactly the
/// commitment `zkinfer commit --blinding r` prints, and no input value;
/// `verify --committed-input` accepts it and reports the commitment; a
/// verifier expecting a public input refuses it.
#[test]
fn a_committed_proof_carries_the_commitment_commit_prints() {
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("params");
    let proof = dir.path().join("committed.proof.json");
    let r = "0200000000000000000000000000000000000000000000000000000000000000";
    let params_arg = params.to_str().unwrap();
    let proof_arg = proof.to_str().unwrap();
    let proved = zkinfer([
        "--json",
        "prove",
        "--model",
        "digits-mlp",
        "--input",
        DIGIT_7,
        "--out",
        proof_arg,
        "--committed-input",
        "--blinding",
        r,
        "--params-dir",
        params_arg,
    ])
    .json();
    let printed = commit_json(&["--blinding", r]);
    assert_eq!(
        proved["input_commitment"], printed["input_commitment"],
        "{proved}"
    );
    assert_eq!(proved["blinding"], r);
    let bundle = read_json(&proof);
    assert_eq!(bundle["input_visibility"], "committed");
    assert!(bundle["input"].is_null(), "{bundle}");
    assert_eq!(bundle["input_commitment"], printed["input_commitment"]);

    let verified = zkinfer([
        "--json",
        "verify",
        "--model",
        "digits-mlp",
        "--proof",
        proof_arg,
        "--committed-input",
        "--params-dir",
        params_arg,
    ])
    .json();
    assert_eq!(verified["input_visibility"], "committed");
    assert_eq!(verified["input_commitment"], printed["input_commitment"]);
    assert_eq!(verified["class"], proved["class"]);
    // The commitment the verifier expects: this one passes, another is a
    // rejection (exit 1) naming both.
    let expect = printed["input_commitment"].as_str().unwrap();
    let verify_expecting = |commitment: &str| {
        zkinfer([
            "verify",
            "--model",
            "digits-mlp",
            "--proof",
            proof_arg,
            "--committed-input",
            "--expect-input-commitment",
            commitment,
            "--params-dir",
            params_arg,
        ])
    };
    verify_expecting(expect).assert_success();
    let other = commit_json(&["--unblinded"]);
    let other = other["input_commitment"].as_str().unwrap();
    let run = verify_expecting(other);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stderr.contains(expect) && run.stderr.contains(other),
        "{run:#?}"
    );
    let refused = zkinfer([
        "verify",
        "--model",
        "digits-mlp",
        "--proof",
        proof_arg,
        "--params-dir",
        params_arg,
    ]);
    refused.assert_error(&["committed input", "public input"]);
    // --blinding without --committed-input is a usage error.
    let run = zkinfer([
        "prove",
        "--model",
        "digits-mlp",
        "--input",
        DIGIT_7,
        "--out",
        proof_arg,
        "--blinding",
        r,
    ]);
    assert_eq!(run.code, Some(2), "{run:#?}");
}

/// A committed output (EZKL's "hashed" output): `prove --committed-output`
/// makes public the output's blinded commitment and no output value; its
/// report gives the prover the integers and the blinding, which open the
/// commitment natively; `verify --committed-output` accepts the proof and
/// shows no value; a verifier expecting a public output refuses it; a
/// commitment of another output is rejected.
#[test]
fn a_committed_output_is_proven_without_its_values() {
    use common::{arg, i64s, Case};
    let case = Case::new();
    let proof = case.join("p.json");
    let proved = case
        .run(&[
            "--json",
            "prove",
            "--model",
            "digits-mlp",
            "--input",
            DIGIT_7,
            "--out",
            arg(&proof),
            "--committed-output",
        ])
        .json();
    let inferred = zkinfer([
        "--json",
        "infer",
        "--model",
        "digits-mlp",
        "--input",
        DIGIT_7,
    ])
    .json();
    let ints = i64s(&proved["outputs_int"]);
    assert_eq!(ints, i64s(&inferred["outputs_int"]));
    assert_eq!(proved["class"], inferred["class"]);
    let model = BundledModel::find("digits-mlp")
        .unwrap()
        .quantized()
        .unwrap();
    let r = from_hex(proved["output_blinding"].as_str().unwrap()).unwrap();
    let native = commit(&ints, model.output().bits, Some(r)).unwrap();
    assert_eq!(proved["output_commitment"], to_hex(native));

    let file = read_json(&proof);
    assert_eq!(file["output"]["values"], serde_json::json!([]));
    assert!(file.get("outputs").is_none() && file.get("class").is_none());
    assert_eq!(file["output_commitment"], to_hex(native));

    let verify = |path: &std::path::Path, extra: &[&str]| {
        let mut args = vec![
            "--json",
            "verify",
            "--model",
            "digits-mlp",
            "--proof",
            arg(path),
        ];
        args.extend_from_slice(extra);
        case.run(&args)
    };
    let verified = verify(&proof, &["--committed-output"]).json();
    assert_eq!(verified["verified"], true);
    assert_eq!(verified["output_commitment"], to_hex(native));
    assert_eq!(verified["outputs_int"], serde_json::json!([]));
    assert_eq!(verified["class"], serde_json::Value::Null);

    let public = verify(&proof, &[]);
    assert_eq!(public.code, Some(2), "{public:#?}");
    assert!(public.stderr.contains("output_commitment"), "{public:#?}");

    let mut other = ints.clone();
    other[0] += 1;
    let mut forged = file.clone();
    forged["output_commitment"] =
        to_hex(commit(&other, model.output().bits, Some(r)).unwrap()).into();
    let forged_path = case.scratch.write_json("forged.json", &forged);
    let run = verify(&forged_path, &["--committed-output"]);
    assert_eq!(run.code, Some(1), "{run:#?}");
}
