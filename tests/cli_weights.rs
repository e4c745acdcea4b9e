//! Committed weights (hashed and polycommit) from the command line: `prove --weights-visibility
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

/// `prove --weights-visibility <weights>` of digit 7 with `model`.
fn prove_with(model: &str, out: &Path, params: &Path, weights: &str) -> serde_json::Value {
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
        weights,
        "--params-dir",
        params.to_str().unwrap(),
    ])
    .json()
}

/// `prove --weights-visibility committed` of digit 7 with `model`.
fn prove(model: &str, out: &Path, params: &Path) -> serde_json::Value {
    prove_with(model, out, params, "committed")
}

/// `verify --weights-visibility committed` with `extra` flags.
fn verify(model: &str, proof: &Path, params: &Path, extra: &[&str]) -> common::Run {
    verify_with(model, proof, params, "committed", extra)
}

/// `verify --weights-visibility <weights>` with `extra` flags.
fn verify_with(
    model: &str,
    proof: &Path,
    params: &Path,
    weights: &str,
    extra: &[&str],
) -> common::Run {
    let mut args = vec![
        "verify",
        "--model",
        model,
        "--proof",
        proof.to_str().unwrap(),
        "--weights-visibility",
        weights,
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
    .assert_error(&["weights are committed", "--weights-visibility committed"]);

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
    assert!(
        run.stderr.contains("fixed, committed or polycommit"),
        "{run:#?}"
    );
}

/// Polycommit weights from the command line: `commit --polycommit` prints
/// the curve points `prove` opens its weight columns to; a verifier with
/// the architecture only checks the proof; a weight update proves under
/// the same key with new points, which a verifier expecting the old ones
/// rejects; a bundle relabelled with the old points does not open.
#[test]
fn polycommit_weights_prove_verify_and_update_under_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("params");
    let (arch, proof) = (dir.path().join("arch.json"), dir.path().join("p.json"));
    let params_arg = params.to_str().unwrap();
    let commit = |model: &str| {
        let arch = arch.to_str().unwrap();
        let args = ["--json", "commit", "--model", model, "--polycommit"];
        let mut args = args.to_vec();
        args.extend(["--architecture-out", arch, "--params-dir", params_arg]);
        zkinfer(args).json()
    };
    let committed = commit("digits-mlp");
    let points = committed["polycommit"]["commitment"].as_str().unwrap();
    assert_eq!(points.len() % 64, 0);
    assert_eq!(committed["polycommit"]["k"], 9);
    let proved = prove_with("digits-mlp", &proof, &params, "polycommit");
    assert_eq!(proved["weight_visibility"], "polycommit");
    assert_eq!(proved["model_commitment"], points);
    assert_eq!(proved["model_digest"], committed["architecture_digest"]);
    let text = std::fs::read_to_string(&proof).unwrap();
    assert!(text.contains("weights_opening"), "{text}");

    let arch_arg = arch.to_str().unwrap();
    let verified = verify_with(arch_arg, &proof, &params, "polycommit", &["--json"]).json();
    assert_eq!(verified["weight_visibility"], "polycommit");
    assert_eq!(verified["model_commitment"], points);
    // A verifier expecting hashed weights cannot check it, and says how.
    verify(arch_arg, &proof, &params, &[])
        .assert_error(&["weights are polycommit", "--weights-visibility polycommit"]);

    let updated = dir.path().join("updated.json");
    updated_mlp(&updated);
    let updated_arg = updated.to_str().unwrap();
    let recommitted = commit(updated_arg);
    let new_points = recommitted["polycommit"]["commitment"].as_str().unwrap();
    assert_ne!(new_points, points);
    let new_proof = dir.path().join("updated.proof.json");
    let reproved = prove_with(updated_arg, &new_proof, &params, "polycommit");
    assert_eq!(reproved["vk_digest"], proved["vk_digest"], "one key");
    assert_eq!(reproved["model_commitment"], new_points);
    verify_with(arch_arg, &new_proof, &params, "polycommit", &[]).assert_success();

    let expecting = ["--expect-model-commitment", points];
    let rejected = verify_with(arch_arg, &new_proof, &params, "polycommit", &expecting);
    assert_eq!(rejected.code, Some(1), "{rejected:#?}");
    assert!(rejected.stderr.contains(new_points), "{rejected:#?}");
    verify_with(arch_arg, &proof, &params, "polycommit", &expecting).assert_success();
    // Not curve points: a usage error naming the flag.
    let bad = ["--expect-model-commitment", "00"];
    verify_with(arch_arg, &proof, &params, "polycommit", &bad)
        .assert_error(&["--expect-model-commitment", "not curve points"]);

    let mut forged = read_json(&new_proof);
    forged["model_commitment"] = committed["polycommit"]["commitment"].clone();
    let forged_path = dir.path().join("forged.json");
    std::fs::write(&forged_path, forged.to_string()).unwrap();
    let run = verify_with(arch_arg, &forged_path, &params, "polycommit", &[]);
    assert_eq!(run.code, Some(1), "{run:#?}");
}

/// The contract with a polycommit model from the command line: the
/// architecture registered once (with an owner), weights accepted by the
/// owner from the model itself, a proof attested under them, a weight
/// update accepted and proven under the same registration, the old weights
/// retired and their proofs refused.
#[test]
fn contract_accepts_updates_and_retires_polycommit_weights() {
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("params");
    let params_arg = params.to_str().unwrap();
    let state = dir.path().join("state");
    let state_arg = state.to_str().unwrap();
    let contract = |args: &[&str]| {
        let mut all = vec!["--json", "contract"];
        all.extend(args);
        zkinfer(all)
    };
    contract(&["init", "--state", state_arg, "--admin", "admin"]).assert_success();
    let registered = contract(&[
        "register",
        "--state",
        state_arg,
        "--model",
        "digits-mlp",
        "--weights-visibility",
        "polycommit",
        "--owner",
        "bob",
        "--params-dir",
        params_arg,
    ])
    .json();
    let model_id = registered["events"][0]["attributes"][0][1]
        .as_str()
        .unwrap()
        .to_string();
    let id = model_id.as_str();
    let accept = |model: &str, label: &str, from: &str| {
        contract(&[
            "accept-weights",
            "--state",
            state_arg,
            "--model-id",
            id,
            "--model",
            model,
            "--label",
            label,
            "--from",
            from,
            "--params-dir",
            params_arg,
        ])
    };
    let submit = |proof: &Path| {
        let proof = proof.to_str().unwrap();
        let args = [
            "submit", "--state", state_arg, "--proof", proof, "--from", "carol",
        ];
        let mut args = args.to_vec();
        args.extend(["--params-dir", params_arg]);
        contract(&args)
    };

    // Carol may not accept weights; bob, the owner, may.
    accept("digits-mlp", "v1", "carol").assert_error(&["neither the admin nor the owner"]);
    let accepted = accept("digits-mlp", "v1", "bob").json();
    let weights_v1 = accepted["events"][0]["attributes"][1][1].clone();
    let proof = dir.path().join("v1.json");
    let proved = prove_with("digits-mlp", &proof, &params, "polycommit");
    assert_eq!(proved["vk_digest"], id);
    let attested = submit(&proof).json();
    assert_eq!(attested["attestation"]["weights_id"], weights_v1);

    // The update: another model of the architecture, the same registration.
    let updated = dir.path().join("updated.json");
    updated_mlp(&updated);
    let updated_arg = updated.to_str().unwrap();
    let v2 = dir.path().join("v2.json");
    prove_with(updated_arg, &v2, &params, "polycommit");
    submit(&v2).assert_error(&["are not accepted for model"]);
    accept(updated_arg, "v2", "admin").assert_success();
    let attested = submit(&v2).json();
    assert_ne!(attested["attestation"]["weights_id"], weights_v1);
    // A model of another architecture has no commitment for this circuit.
    accept("digits-cnn", "cnn", "bob").assert_error(&["is not a model of", "architecture"]);

    // v1 retired: its proofs are refused, its attestation marked.
    let weights_v1 = weights_v1.as_str().unwrap();
    contract(&[
        "retire-weights",
        "--state",
        state_arg,
        "--model-id",
        id,
        "--weights-id",
        weights_v1,
        "--reason",
        "superseded by v2",
        "--from",
        "bob",
    ])
    .assert_success();
    let again = dir.path().join("v1-again.json");
    prove_with("digits-mlp", &again, &params, "polycommit");
    submit(&again).assert_error(&["were retired", "superseded by v2"]);
    let listed = contract(&["query", "--state", state_arg, "weights", "--model-id", id]).json();
    assert_eq!(listed["weights"].as_array().unwrap().len(), 2, "{listed}");
    let first = contract(&["query", "--state", state_arg, "attestation", "--seq", "0"]).json();
    assert_eq!(
        first["attestation"]["weights_retired"]["reason"],
        "superseded by v2"
    );
}

/// The owner's weights secret from the command line: `commit
/// --new-weights-secret` writes one and prints the hiding commitment,
/// `prove --weights-secret` proves against it, a proof without the secret
/// opens only to the unblinded commitment, and a secret file is never
/// replaced or misread.
#[test]
fn a_weights_secret_blinds_the_polycommit_commitment() {
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("params");
    let params_arg = params.to_str().unwrap();
    let secret = dir.path().join("secret.txt");
    let secret_arg = secret.to_str().unwrap();
    let commit = |extra: &[&str]| {
        let mut args = vec!["--json", "commit", "--model", "digits-mlp", "--polycommit"];
        args.extend(extra);
        args.extend(["--params-dir", params_arg]);
        zkinfer(args)
    };
    let created = commit(&["--new-weights-secret", secret_arg]).json();
    assert_eq!(created["polycommit"]["hiding"], true);
    let hiding = created["polycommit"]["commitment"].clone();
    commit(&["--new-weights-secret", secret_arg]).assert_error(&["never replaced", secret_arg]);
    let again = commit(&["--weights-secret", secret_arg]).json();
    assert_eq!(again["polycommit"]["commitment"], hiding);
    let plain = commit(&[]).json();
    assert_eq!(plain["polycommit"]["hiding"], false);
    assert_ne!(plain["polycommit"]["commitment"], hiding);

    let proof = dir.path().join("p.json");
    let mut args = vec![
        "--json",
        "prove",
        "--model",
        "digits-mlp",
        "--input",
        DIGIT_7,
    ];
    args.extend(["--out", proof.to_str().unwrap(), "--params-dir", params_arg]);
    args.extend([
        "--weights-visibility",
        "polycommit",
        "--weights-secret",
        secret_arg,
    ]);
    let proved = zkinfer(args.clone()).json();
    assert_eq!(proved["model_commitment"], hiding);
    let expecting = ["--expect-model-commitment", hiding.as_str().unwrap()];
    verify_with("digits-mlp", &proof, &params, "polycommit", &expecting).assert_success();

    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "not a secret\n").unwrap();
    let bad_arg = bad.to_str().unwrap();
    args.truncate(args.len() - 1);
    args.push(bad_arg);
    zkinfer(args).assert_error(&[bad_arg, "not a weights secret"]);
}
