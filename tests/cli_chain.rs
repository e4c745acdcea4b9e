//! `zkinfer prove --per-layer` / `--cut-at` and `zkinfer verify` of the
//! proof chain they write: digits-mlp and a GPT block exported from
//! PyTorch, each in parts, verify to `infer`'s integers; a chain whose parts come from two inferences, whose cuts
//! moved, or whose intermediate values leaked is refused; bad requests
//! are named.

mod common;

use common::{arg, i64s, read_json, repo_path, zkinfer, Case};
use serde_json::{json, Value};

const DIGIT_7: &str = "examples/inputs/digit-7.json";
const DIGIT_3: &str = "examples/inputs/digit-3.json";

fn prove_chain(case: &Case, input: &str, out: &str, extra: &[&str]) -> Value {
    let out = case.join(out);
    let mut args = vec![
        "--json",
        "prove",
        "--model",
        "digits-mlp",
        "--input",
        input,
        "--out",
        arg(&out),
    ];
    args.extend_from_slice(extra);
    case.run(&args).json()
}

#[test]
fn a_chain_proves_infers_integers_and_verifies_whole() {
    let case = Case::new();
    let inferred = zkinfer([
        "--json",
        "infer",
        "--model",
        "digits-mlp",
        "--input",
        DIGIT_7,
    ])
    .json();
    let proved = prove_chain(&case, DIGIT_7, "chain.json", &["--per-layer"]);
    assert_eq!(proved["segments"].as_array().unwrap().len(), 2, "{proved}");
    assert_eq!(i64s(&proved["outputs_int"]), i64s(&inferred["outputs_int"]));
    let path = case.join("chain.json");
    let verified = case
        .run(&[
            "--json",
            "verify",
            "--model",
            "digits-mlp",
            "--proof",
            arg(&path),
        ])
        .json();
    assert_eq!(verified["verified"], true);
    assert_eq!(verified["input_visibility"], "public");
    assert_eq!(verified["links"].as_array().unwrap().len(), 1);
    assert_eq!(
        i64s(&verified["outputs_int"]),
        i64s(&inferred["outputs_int"])
    );
    assert_eq!(verified["class"], inferred["class"]);
    // The activations between the parts are in no file.
    let file = read_json(&path);
    let first = &file["segments"][0];
    assert_eq!(first["output"]["values"], json!([]));
    assert!(first["output_commitment"].is_string());
    assert_eq!(
        file["segments"][1]["input_commitment"],
        first["output_commitment"]
    );

    // Human output names the segments and the links.
    let run = case.run(&["verify", "--model", "digits-mlp", "--proof", arg(&path)]);
    run.assert_success();
    assert!(run.stdout.contains("a chain of 2 proofs"), "{}", run.stdout);
    assert!(run.stdout.contains("segment  1: tensors"), "{}", run.stdout);
}

#[test]
fn a_committed_input_chain_is_checked_against_the_expected_commitment() {
    let case = Case::new();
    let blinding = "07".repeat(32);
    let proved = prove_chain(
        &case,
        DIGIT_7,
        "chain.json",
        &[
            "--cut-at",
            "2,3",
            "--committed-input",
            "--blinding",
            &blinding,
        ],
    );
    assert_eq!(proved["segments"].as_array().unwrap().len(), 3);
    let commitment = zkinfer([
        "--json",
        "commit",
        "--model",
        "digits-mlp",
        "--input",
        DIGIT_7,
        "--blinding",
        &blinding,
    ])
    .json()["input_commitment"]
        .clone();
    assert_eq!(proved["input_commitment"], commitment);
    let path = case.join("chain.json");
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", "--model", "digits-mlp", "--proof", arg(&path)];
        args.extend_from_slice(extra);
        case.run(&args)
    };
    verify(&[
        "--committed-input",
        "--expect-input-commitment",
        commitment.as_str().unwrap(),
    ])
    .assert_success();
    let other = verify(&[
        "--committed-input",
        "--expect-input-commitment",
        &"00".repeat(32),
    ]);
    assert_eq!(other.code, Some(1), "{other:#?}");
    assert!(other.stderr.contains("not the expected"), "{other:#?}");
    // The verifier, not the file, decides what is proven of the input.
    verify(&[]).assert_error(&["segment 0 of the proof chain", "public input"]);
}

#[test]
fn chains_made_of_two_inferences_moved_cuts_or_leaked_values_are_refused() {
    let case = Case::new();
    prove_chain(&case, DIGIT_7, "seven.json", &["--per-layer"]);
    prove_chain(&case, DIGIT_3, "three.json", &["--per-layer"]);
    let seven = read_json(&case.join("seven.json"));
    let three = read_json(&case.join("three.json"));
    let verify = |name: &str, chain: &Value| {
        let path = case.scratch.write_json(name, chain);
        case.run(&["verify", "--model", "digits-mlp", "--proof", arg(&path)])
    };

    // The second part of another inference: each proof holds, the link not.
    let mut mixed = seven.clone();
    mixed["segments"][1] = three["segments"][1].clone();
    let run = verify("mixed.json", &mixed);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stderr.contains("does not continue segment 0"),
        "{run:#?}"
    );

    // A link rewritten on both sides: the proofs no longer verify.
    let mut relinked = seven.clone();
    let fake = json!("01".to_string() + &"00".repeat(31));
    relinked["segments"][0]["output_commitment"] = fake.clone();
    relinked["segments"][1]["input_commitment"] = fake;
    let run = verify("relinked.json", &relinked);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stderr.contains("proof is invalid"), "{run:#?}");

    // Cuts that are not the model's, or a segment left out.
    let mut moved = seven.clone();
    moved["cuts"] = json!([9]);
    verify("moved.json", &moved).assert_error(&["moved.json", "tensor 9 is not a cut"]);
    let mut short = seven.clone();
    short["segments"].as_array_mut().unwrap().pop();
    verify("short.json", &short).assert_error(&["2 segments", "1 proofs"]);

    // The intermediate values written into the first part.
    let mut leaked = seven.clone();
    leaked["segments"][0]["output"]["values"] = json!(vec![0; 32]);
    verify("leaked.json", &leaked).assert_error(&["committed", "no values"]);

    // A chain is verified alone.
    let path = case.join("seven.json");
    case.run(&[
        "verify",
        "--model",
        "digits-mlp",
        "--proof",
        arg(&path),
        "--proof",
        arg(&path),
    ])
    .assert_error(&["is a proof chain: verify it alone"]);
}

#[test]
fn bad_chain_requests_are_named() {
    let case = Case::new();
    let out = case.join("chain.json");
    let prove = |extra: &[&str]| {
        let mut args = vec![
            "prove",
            "--model",
            "digits-mlp",
            "--input",
            DIGIT_7,
            "--out",
            arg(&out),
        ];
        args.extend_from_slice(extra);
        case.run(&args)
    };
    prove(&["--cut-at", "9"]).assert_error(&["tensor 9 is not a cut", "[1, 2, 3, 4]"]);
    prove(&["--cut-at", "3,2"]).assert_error(&["not in increasing order"]);
    prove(&["--max-k", "12"]).assert_error(&["use it with --per-layer or --cut-at"]);
    prove(&["--per-layer", "--weights-visibility", "committed"])
        .assert_error(&["committed weights are not available with --per-layer"]);
    let both = prove(&["--per-layer", "--cut-at", "3"]);
    assert_eq!(both.code, Some(2), "{both:#?}");
    assert!(both.stderr.contains("cannot be used with"), "{both:#?}");
    assert!(!out.exists(), "no chain is written for a refused request");
}

/// A transformer block (the corpus's `gpt_block_op13`: LayerNorm, causal
/// self-attention, LayerNorm, GELU MLP, both residual adds, a head) cut
/// where its residual stream forks: each half proven alone, the chain
/// verified to the integers `infer` computes.
#[test]
fn a_transformer_block_in_parts_verifies_to_infers_integers() {
    let case = Case::new();
    let corpus = "models/fixtures/onnx/corpus/gpt_block_op13";
    let calibration = repo_path(&format!("{corpus}.calibration.json"));
    let package = case.join("block");
    case.run(&[
        "export",
        "--onnx",
        arg(&repo_path(&format!("{corpus}.onnx"))),
        "--calibration",
        arg(&calibration),
        "--out",
        arg(&package),
    ])
    .assert_success();
    // One sample: the first 4 × 16 values of the calibration set's first.
    let first = &read_json(&calibration)["input_data"][0];
    let sample: Vec<Value> = first.as_array().unwrap()[..64].to_vec();
    let input = case
        .scratch
        .write_json("x.json", &json!({ "input": sample }));
    let inferred = zkinfer([
        "--json",
        "infer",
        "--model",
        arg(&package),
        "--input",
        arg(&input),
    ])
    .json();
    let chain = case.join("block.chain.json");
    let proved = case
        .run(&[
            "--json",
            "prove",
            "--model",
            arg(&package),
            "--input",
            arg(&input),
            "--out",
            arg(&chain),
            "--per-layer",
        ])
        .json();
    let tensors: Vec<Value> = proved["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["tensors"].clone())
        .collect();
    assert_eq!(tensors.len(), 3, "{proved}");
    assert_eq!(tensors[0][0], 0);
    assert_eq!(tensors[1][0], tensors[0][1], "segments meet at their cuts");
    assert_eq!(tensors[2][0], tensors[1][1]);
    let verified = case
        .run(&[
            "--json",
            "verify",
            "--model",
            arg(&package),
            "--proof",
            arg(&chain),
        ])
        .json();
    assert_eq!(verified["verified"], true, "{verified}");
    assert_eq!(verified["links"].as_array().unwrap().len(), 2);
    assert_eq!(
        i64s(&verified["outputs_int"]),
        i64s(&inferred["outputs_int"]),
        "bit for bit"
    );

    // `inspect` lists the cuts and the rows of each part.
    let inspected = zkinfer(["inspect", arg(&package)]);
    inspected.assert_success();
    let report = &inspected.stdout;
    assert!(report.contains("--per-layer cuts at [1, 86]"), "{report}");
    assert!(report.contains("rows by block"), "{report}");
    assert!(report.contains("\n1..86 "), "{report}");

    // Grouped to k ≤ 13: the whole block fits one segment (k = 13); no
    // segment fits 12 (the attention half alone needs 13).
    let prove_max_k = |k: &str| {
        case.run(&[
            "--json",
            "prove",
            "--model",
            arg(&package),
            "--input",
            arg(&input),
            "--out",
            arg(&chain),
            "--per-layer",
            "--max-k",
            k,
        ])
    };
    let grouped = prove_max_k("13").json();
    assert_eq!(
        grouped["segments"].as_array().unwrap().len(),
        1,
        "{grouped}"
    );
    assert_eq!(
        i64s(&grouped["outputs_int"]),
        i64s(&inferred["outputs_int"])
    );
    case.run(&["verify", "--model", arg(&package), "--proof", arg(&chain)])
        .assert_success();
    prove_max_k("12").assert_error(&["need k = 13 as one segment", "--max-k 12"]);
}
