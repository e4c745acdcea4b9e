//! Committed weights from the command line: `prove --weights-visibility
//! committed` makes public the commitment `zkinfer commit` prints, a
//! verifier holding only the architecture (no weights) checks it, and a
//! weight update proves under the same verifying key with a new
//! commitment, which a verifier expecting the old one rejects.

mod common;

use common::{read_json, zkinfer};
use std::path::Path;
use zkinfer_models::load_quantized_model;
use zkinfer_quant::{Op, QuantizedModel};

const DIGIT_7: &str = "examples/inputs/digit-7.json";

/// `prove --weights-visibility committed` of digit 7 with `model`.
fn prove(model: &str, out: &Path, params: &Path) -> serde_json::Value {
    zkinfer([
        "--json",
        "prove",
        "--model",
        model,
        "--input",
        DIGIT_7,
        "--out",
        out.to_str().unwrap(),
        "--weights-visibility",
        "committed",
        "--params-dir",
        params.to_str().unwrap(),
    ])
    .json()
}

/// `verify --weights-visibility committed` with `extra` flags.
fn verify(model: &str, proof: &Path, params: &Path, extra: &[&str]) -> common::Run {
    let mut args = vec![
        "verify",
        "--model",
        model,
        "--proof",
        proof.to_str().unwrap(),
        "--weights-visibility",
        "committed",
        "--params-dir",
        params.to_str().unwrap(),
    ];
    args.extend(extra);
    zkinfer(args)
}

/// digits-mlp with its first weight moved by one: a weight update of the
/// same architecture.
fn updated_mlp(path: &Path) {
    let model = load_quantized_model("digits-mlp").unwrap().quantized;
    let mut nodes = model.nodes().to_vec();
    let Op::Linear(l) = &mut nodes[0].op else {
        panic!("digits-mlp starts with a linear layer")
    };
    l.weight.data[0] += if l.weight.data[0] < 100 { 1 } else { -1 };
    let updated =
        QuantizedModel::new("digits-mlp-updated", model.input().clone(), nodes, None).unwrap();
    std::fs::write(path, updated.to_json()).unwrap();
}

#[test]
fn committed_weights_prove_verify_and_update_under_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("params");
    let (arch, proof) = (dir.path().join("arch.json"), dir.path().join("p.json"));

    let committed = zkinfer([
        "--json",
        "commit",
        "--model",
        "digits-mlp",
        "--architecture-out",
        arch.to_str().unwrap(),
    ])
    .json();
    assert_eq!(committed["parameters"], 64 * 32 + 32 + 32 * 10 + 10);
    let proved = prove("digits-mlp", &proof, &params);
    assert_eq!(proved["model_commitment"], committed["model_commitment"]);
    assert_eq!(proved["model_digest"], committed["architecture_digest"]);

    // The bundle names the weights by their commitment, and holds none:
    // no weight tensor, and the architecture's digest as the model's.
    let bundle = read_json(&proof);
    assert_eq!(bundle["model_commitment"], committed["model_commitment"]);
    assert_eq!(bundle["model_digest"], committed["architecture_digest"]);
    let text = std::fs::read_to_string(&proof).unwrap();
    assert!(!text.contains("weight"), "{text}");

    // A verifier with the architecture only (every weight at -128).
    let architecture = read_json(&arch);
    assert!(architecture["nodes"][0]["weight"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|w| w == -128));
    let verified = verify(arch.to_str().unwrap(), &proof, &params, &["--json"]).json();
    assert_eq!(verified["weight_visibility"], "committed");
    assert_eq!(verified["model_commitment"], committed["model_commitment"]);
    assert_eq!(verified["class"], proved["class"]);
    // A verifier holding the model checks the same.
    verify("digits-mlp", &proof, &params, &[]).assert_success();
    // One that expects fixed weights cannot check the bundle, and says how.
    zkinfer([
        "verify",
        "--model",
        "digits-mlp",
        "--proof",
        proof.to_str().unwrap(),
        "--params-dir",
        params.to_str().unwrap(),
    ])
    .assert_error(&["model_commitment", "--weights-visibility committed"]);

    // The weight update: a new commitment, the same architecture and key.
    let updated = dir.path().join("updated.json");
    updated_mlp(&updated);
    let updated_arg = updated.to_str().unwrap();
    let recommitted = zkinfer(["--json", "commit", "--model", updated_arg]).json();
    assert_ne!(
        recommitted["model_commitment"],
        committed["model_commitment"]
    );
    assert_eq!(
        recommitted["architecture_digest"],
        committed["architecture_digest"]
    );
    let new_proof = dir.path().join("updated.proof.json");
    let reproved = prove(updated_arg, &new_proof, &params);
    assert_eq!(reproved["vk_digest"], proved["vk_digest"], "one key");
    assert_eq!(
        reproved["model_commitment"],
        recommitted["model_commitment"]
    );
    verify(arch.to_str().unwrap(), &new_proof, &params, &[]).assert_success();

    // A verifier that accepts only the original weights: the update's
    // proof is a rejection (exit 1) naming both commitments; the
    // original's passes.
    let old = committed["model_commitment"].as_str().unwrap();
    let expecting = ["--expect-model-commitment", old];
    let rejected = verify(arch.to_str().unwrap(), &new_proof, &params, &expecting);
    assert_eq!(rejected.code, Some(1), "{rejected:#?}");
    assert!(rejected.stderr.contains(old), "{rejected:#?}");
    let new = recommitted["model_commitment"].as_str().unwrap();
    assert!(rejected.stderr.contains(new), "{rejected:#?}");
    verify(arch.to_str().unwrap(), &proof, &params, &expecting).assert_success();

    // The update's bundle relabelled with the original commitment does not
    // verify: the proof is bound to the weights it was made with.
    let mut forged = read_json(&new_proof);
    forged["model_commitment"] = committed["model_commitment"].clone();
    let forged_path = dir.path().join("forged.json");
    std::fs::write(&forged_path, forged.to_string()).unwrap();
    let run = verify(arch.to_str().unwrap(), &forged_path, &params, &[]);
    assert_eq!(run.code, Some(1), "{run:#?}");
}

#[test]
fn bad_weight_flags_are_usage_errors() {
    let run = zkinfer([
        "prove",
        "--model",
        "digits-mlp",
        "--input",
        DIGIT_7,
        "--out",
        "/tmp/never.json",
        "--weights-visibility",
        "hashed",
    ]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("fixed or committed"), "{run:#?}");
}
