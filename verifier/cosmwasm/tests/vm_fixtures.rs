//! The messages the wasm VM tests send (`verifier/cosmwasm/wasm/fixtures`),
//! produced by zkinfer's own code and checked against it here, natively:
//! the IPA parameters are `Params::new(k)`'s bytes (and match the pin), the
//! registrations are what the bundled models give today, and every proof is
//! accepted by the contract logic under those registrations. A change to
//! the circuits or the bundled models that makes them stale fails here,
//! before the VM tests (`make wasm-test`) would.
//!
//! Regenerate them (new proofs, same inputs):
//!
//! ```text
//! ZKINFER_BLESS=1 cargo test --release -p zkinfer-cosmwasm --test vm_fixtures
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use zkinfer_models::bundled::BundledModel;
use zkinfer_models::dataset::{digits, Split};
use zkinfer_prover::Prover;
use zkinfer_verifier::contract::{
    execute, instantiate, ExecuteMsg, InstantiateMsg, KeyCache, MemoryStore, ModelKey,
};
use zkinfer_verifier::params::{expected_digest, params_bytes, params_digest};
use zkinfer_verifier::{IpaParams, ProofBundle, Visibility};

/// The submissions: a file name, a bundled model, and the index of a
/// held-out digit. `forge` is tampered with by the VM test before it is
/// submitted intact, so its statement must not be attested before.
const SUBMISSIONS: [(&str, &str, usize); 4] = [
    ("submit-digits-mlp-a.json", "digits-mlp", 4),
    ("submit-digits-mlp-b.json", "digits-mlp", 5),
    ("submit-digits-mlp-forge.json", "digits-mlp", 11),
    ("submit-digits-cnn-a.json", "digits-cnn", 4),
];
const MODELS: [&str; 2] = ["digits-mlp", "digits-cnn"];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("wasm/fixtures")
}

fn bless() -> bool {
    std::env::var_os("ZKINFER_BLESS").is_some_and(|v| v == "1")
}

fn read(name: &str) -> Vec<u8> {
    let path = dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; regenerate with ZKINFER_BLESS=1 (see this file)",
            path.display()
        )
    })
}

fn write(name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir()).unwrap();
    std::fs::write(dir().join(name), bytes).unwrap();
}

fn json(msg: &ExecuteMsg) -> Vec<u8> {
    let mut text = serde_json::to_vec(msg).unwrap();
    text.push(b'\n');
    text
}

fn register_msg(name: &str, prover: &Prover) -> ExecuteMsg {
    ExecuteMsg::RegisterModel {
        name: name.into(),
        verifier_key: ModelKey::of(prover.verifier_key()),
        owner: None,
    }
}

fn prover(name: &str, params: &IpaParams) -> Prover {
    let model = BundledModel::find(name).unwrap().quantized().unwrap();
    Prover::new(name, model, Visibility::Public, params.clone()).unwrap()
}

#[test]
fn vm_fixtures_are_current() {
    // Both bundled models fit in k = 9 today; the registrations say which
    // k the VM test uploads, so a model that grows shows up as a new file.
    let mut ks = BTreeSet::new();
    let mut registrations = vec![];
    let mut provers = vec![];
    for name in MODELS {
        let k = k_of(name);
        ks.insert(k);
        let params = IpaParams::new(k);
        let p = prover(name, &params);
        let msg = json(&register_msg(name, &p));
        let file = format!("register-{name}.json");
        if bless() {
            write(&file, &msg);
        } else {
            assert_eq!(
                String::from_utf8(read(&file)).unwrap(),
                String::from_utf8(msg.clone()).unwrap(),
                "{file} is stale: regenerate with ZKINFER_BLESS=1"
            );
        }
        registrations.push(msg);
        provers.push((name, p));
    }
    for &k in &ks {
        let bytes = params_bytes(&IpaParams::new(k));
        assert_eq!(Some(params_digest(&bytes).as_str()), expected_digest(k));
        let file = format!("params-k{k}.bin");
        if bless() {
            write(&file, &bytes);
        } else {
            assert!(
                read(&file) == bytes,
                "{file} is not Params::new({k})'s bytes: regenerate with ZKINFER_BLESS=1"
            );
        }
    }

    if bless() {
        let test = digits(Split::Test).unwrap();
        for (file, name, index) in SUBMISSIONS {
            let (_, p) = provers.iter().find(|(n, _)| *n == name).unwrap();
            let model = p.verifier_key().circuit().model();
            let x: Vec<f64> = test.inputs[index].iter().map(|&v| v as f64).collect();
            let bundle = p.prove(&model.quantize_input(&x).unwrap()).unwrap().bundle;
            let msg = ExecuteMsg::SubmitInference {
                model_id: bundle.vk_digest.clone(),
                proof_bundle: Box::new(bundle),
            };
            write(file, &json(&msg));
        }
    }

    // The contract logic, natively, with the parameters from storage as in
    // the VM: every registration and every submission is accepted.
    let (mut store, mut cache) = contract_with_params(&ks);
    for msg in &registrations {
        let msg: ExecuteMsg = serde_json::from_slice(msg).unwrap();
        execute(&mut store, &mut cache, "admin", msg).unwrap();
    }
    let mut inputs = BTreeSet::new();
    for (file, name, _) in SUBMISSIONS {
        let msg: ExecuteMsg = serde_json::from_slice(&read(file)).unwrap();
        if let ExecuteMsg::SubmitInference { proof_bundle, .. } = &msg {
            let bundle: &ProofBundle = proof_bundle;
            assert_eq!(bundle.model, name, "{file}");
            assert!(inputs.insert((name, bundle.input.clone().unwrap().values)));
        } else {
            panic!("{file} is not a submit_inference message");
        }
        let r = execute(&mut store, &mut cache, "user", msg)
            .unwrap_or_else(|e| panic!("{file} is refused ({e}): regenerate with ZKINFER_BLESS=1"));
        assert!(r.attestation.is_some());
    }
}

/// An instantiated contract (admin `admin`) with the fixtures' parameters
/// for every `k` uploaded, and a key cache that derives none.
fn contract_with_params(ks: &BTreeSet<u32>) -> (MemoryStore, KeyCache) {
    let mut store = MemoryStore::default();
    let mut cache = KeyCache::default();
    let admin = InstantiateMsg {
        admin: "admin".into(),
    };
    instantiate(&mut store, admin).unwrap();
    for &k in ks {
        let bytes = read(&format!("params-k{k}.bin"));
        let msg = ExecuteMsg::UploadParams {
            k,
            chunk: 0,
            data: zkinfer_verifier::base64::encode(&bytes),
            last: true,
        };
        execute(&mut store, &mut cache, "admin", msg).unwrap();
    }
    (store, cache)
}

/// The k a bundled model's circuit needs.
fn k_of(name: &str) -> u32 {
    let model = BundledModel::find(name).unwrap().quantized().unwrap();
    zkinfer_verifier::VerifierKey::k_for(
        &model,
        Visibility::Public,
        zkinfer_verifier::Profile::Compact,
    )
    .unwrap()
}

/// The polycommit scenario's messages (the committed-weights module's VM
/// test): digits-mlp's architecture registered once, two sets of weights
/// (the bundled ones, `a`, and an update, `b`, with one bias moved by one)
/// accepted by commitment, and proofs under each: `a` and `b` of the same
/// held-out digit (each set of weights has its own output for it), `a2` of
/// another.
const POLYCOMMIT: &str = "digits-mlp-polycommit";

/// `model` with its last weighted node's first bias moved by one: a weight
/// update that keeps the architecture.
fn updated(model: &zkinfer_quant::QuantizedModel) -> zkinfer_quant::QuantizedModel {
    use zkinfer_quant::Op;
    let mut nodes = model.nodes().to_vec();
    let bias = nodes
        .iter_mut()
        .rev()
        .find_map(|n| match &mut n.op {
            Op::Linear(l) => Some(&mut l.bias),
            Op::Conv2d(c) => Some(&mut c.bias),
            _ => None,
        })
        .expect("a weighted node");
    bias[0] += 1;
    zkinfer_quant::QuantizedModel::new("digits-mlp-b", model.input().clone(), nodes, None).unwrap()
}

#[test]
fn polycommit_vm_fixtures_are_current() {
    use std::sync::Arc;
    use zkinfer_verifier::{Profile, VerifierKey, WeightVisibility};
    let model = BundledModel::find("digits-mlp")
        .unwrap()
        .quantized()
        .unwrap();
    let circuit = VerifierKey::plan_circuit_with(
        model.clone(),
        Visibility::Public,
        WeightVisibility::Polycommit,
        Profile::Compact,
    )
    .unwrap();
    let k = circuit.plan().k;
    assert_eq!(k, 9, "the VM test uploads params-k9.bin only");
    let params = IpaParams::new(k);
    let a = Prover::for_circuit(POLYCOMMIT, circuit.clone(), params.clone()).unwrap();
    let b = Prover::for_circuit(
        POLYCOMMIT,
        circuit.with_weights(Arc::new(updated(&model))).unwrap(),
        params.clone(),
    )
    .unwrap();
    assert_eq!(a.verifier_key().vk_digest(), b.verifier_key().vk_digest());
    let register = json(&register_msg(POLYCOMMIT, &a));
    let file = format!("register-{POLYCOMMIT}.json");
    if bless() {
        write(&file, &register);
    } else {
        assert_eq!(
            String::from_utf8(read(&file)).unwrap(),
            String::from_utf8(register.clone()).unwrap(),
            "{file} is stale: regenerate with ZKINFER_BLESS=1"
        );
    }
    let submissions = [("a", &a, 4), ("a2", &a, 5), ("b", &b, 4)];
    if bless() {
        let test = digits(Split::Test).unwrap();
        for (label, p, index) in submissions {
            let x: Vec<f64> = test.inputs[index].iter().map(|&v| v as f64).collect();
            let bundle = p.prove(&model.quantize_input(&x).unwrap()).unwrap().bundle;
            let msg = ExecuteMsg::SubmitInference {
                model_id: bundle.vk_digest.clone(),
                proof_bundle: Box::new(bundle),
            };
            write(&format!("submit-{POLYCOMMIT}-{label}.json"), &json(&msg));
        }
    }

    // Natively: the architecture registers, both commitments are accepted,
    // and every proof is attested under its own weights.
    let (mut store, mut cache) = contract_with_params(&BTreeSet::from([k]));
    let msg: ExecuteMsg = serde_json::from_slice(&register).unwrap();
    execute(&mut store, &mut cache, "admin", msg).unwrap();
    for (label, _, _) in submissions {
        let file = format!("submit-{POLYCOMMIT}-{label}.json");
        let msg: ExecuteMsg = serde_json::from_slice(&read(&file)).unwrap();
        let ExecuteMsg::SubmitInference { proof_bundle, .. } = &msg else {
            panic!("{file} is not a submit_inference message");
        };
        let expected = match label {
            "b" => updated(&model),
            _ => model.clone(),
        };
        let commitment = zkinfer_circuits::polycommit::to_hex(
            &zkinfer_circuits::polycommit::commitments(
                &params,
                &expected,
                a.verifier_key().circuit().plan().weight_store,
                None,
            )
            .unwrap(),
        );
        assert_eq!(
            proof_bundle.model_commitment.as_deref(),
            Some(commitment.as_str()),
            "{file}: regenerate with ZKINFER_BLESS=1"
        );
        let accept = ExecuteMsg::AcceptWeights {
            model_id: proof_bundle.vk_digest.clone(),
            model_commitment: commitment,
            label: label.into(),
        };
        // `a2` uses `a`'s weights, accepted already.
        let _ = execute(&mut store, &mut cache, "admin", accept);
        let r = execute(&mut store, &mut cache, "user", msg)
            .unwrap_or_else(|e| panic!("{file} is refused ({e}): regenerate with ZKINFER_BLESS=1"));
        assert!(r.attestation.unwrap().attestation.weights_id.is_some());
    }
}
