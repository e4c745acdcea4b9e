//! Fuzzing the contract's inputs: its messages (execute and query JSON)
//! and its state (`MemoryStore` JSON: what `zkinfer contract` keeps in
//! `state.json`), from a contract with digits-mlp registered and a real
//! proof (`tests/fixtures/digits-mlp.proof.json`).
//!
//! * messages (10⁴ cases): mutated `submit_inference`, `register_model`,
//!   `retire_model`, `accept_weights`, `retire_weights` and every query, sent by the admin or someone else to
//!   a fresh copy of the contract. Registrations that would rebuild a key
//!   for a new vk digest (0.2 s each) are counted and skipped: the real
//!   registration paths are tested in `prover/tests/contract.rs`.
//! * state (10⁴ cases): a mutated live state and a mutated retired one;
//!   a state that parses answers every query and handles a submission,
//!   a retirement and a duplicate registration, each with a result or an
//!   error.
//!
//! Zero panics; every refused message leaves the state unchanged.

use serde_json::Value;
use std::sync::{Arc, Mutex, OnceLock};
use zkinfer_fuzz::{cases, mutate_json_text, run, show_bytes};
use zkinfer_quant::QuantizedModel;
use zkinfer_verifier::contract::*;
use zkinfer_verifier::{IpaParams, ProofBundle, VerifierKey, Visibility};

const MODEL: &str = include_str!("../../models/bundled/digits-mlp/model.json");
const BUNDLE: &str = include_str!("fixtures/digits-mlp.proof.json");

/// The key digest the prover wrote into the fixture; registration rebuilds
/// the key from the model and refuses it unless the digests agree.
fn vk_digest() -> String {
    bundle().vk_digest
}

/// A key cache that derives only k = 9 (the digits models'), once, and
/// records every k asked for.
fn cache(asked: Arc<Mutex<Vec<u32>>>) -> KeyCache {
    let nine = IpaParams::new(9);
    KeyCache::with_params(move |k| {
        asked.lock().unwrap().push(k);
        assert_eq!(k, 9, "parameters derived for k = {k}");
        nine.clone()
    })
}

/// digits-mlp's key description, its key built once.
fn model_key() -> ModelKey {
    static KEY: OnceLock<ModelKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let model = QuantizedModel::from_json(MODEL).unwrap();
        let key = VerifierKey::new(model, Visibility::Public, IpaParams::new(9)).unwrap();
        let described = ModelKey::of(&key);
        assert_eq!(described.vk_digest, vk_digest());
        described
    })
    .clone()
}

fn bundle() -> ProofBundle {
    ProofBundle::from_json(BUNDLE).unwrap()
}

/// Instantiated, digits-mlp registered.
fn registered(cache: &mut KeyCache) -> MemoryStore {
    let mut store = MemoryStore::default();
    instantiate(
        &mut store,
        InstantiateMsg {
            admin: "admin".into(),
        },
    )
    .unwrap();
    let register = ExecuteMsg::RegisterModel {
        name: "digits-mlp".into(),
        verifier_key: model_key(),
        owner: None,
    };
    execute(&mut store, cache, "admin", register).expect("the fixture's key registers");
    store
}

fn submit_msg() -> ExecuteMsg {
    ExecuteMsg::SubmitInference {
        model_id: vk_digest(),
        proof_bundle: Box::new(bundle()),
    }
}

fn queries(model_id: &str, input_digest: &str) -> Vec<QueryMsg> {
    vec![
        QueryMsg::Config {},
        QueryMsg::Model {
            model_id: model_id.into(),
        },
        QueryMsg::Models {},
        QueryMsg::Attestation { seq: 0 },
        QueryMsg::Attestation { seq: u64::MAX },
        QueryMsg::Attestations {
            model_id: model_id.into(),
            start_after: None,
            limit: Some(u32::MAX),
        },
        QueryMsg::Attestations {
            model_id: model_id.into(),
            start_after: Some(u64::MAX),
            limit: None,
        },
        QueryMsg::Output {
            model_id: model_id.into(),
            input_digest: input_digest.into(),
            weights_id: None,
        },
        QueryMsg::Output {
            model_id: model_id.into(),
            input_digest: input_digest.into(),
            weights_id: Some("ab".repeat(32)),
        },
        QueryMsg::Weights {
            model_id: model_id.into(),
            start_after: Some("00".into()),
            limit: Some(u32::MAX),
        },
    ]
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

#[test]
fn fuzzed_messages_never_panic_and_refusals_change_nothing() {
    let asked = Arc::new(Mutex::new(vec![]));
    let mut cache = cache(asked.clone());
    let base = registered(&mut cache);
    let input_digest = input_digest(&bundle().input.unwrap().values);
    let mut seeds: Vec<Value> = vec![
        to_value(&submit_msg()),
        to_value(&ExecuteMsg::RegisterModel {
            name: "again".into(),
            verifier_key: model_key(),
            owner: None,
        }),
        to_value(&ExecuteMsg::RetireModel {
            model_id: vk_digest(),
            reason: "unsound".into(),
        }),
        // Weights messages: digits-mlp's weights are fixed, so these are
        // refused; their parsing and checks are what is fuzzed.
        to_value(&ExecuteMsg::AcceptWeights {
            model_id: vk_digest(),
            model_commitment: "0".repeat(5 * 64),
            label: "v1".into(),
        }),
        to_value(&ExecuteMsg::RetireWeights {
            model_id: vk_digest(),
            weights_id: "cd".repeat(32),
            reason: "withdrawn".into(),
        }),
    ];
    seeds.extend(queries(&vk_digest(), &input_digest).iter().map(to_value));
    let digest = vk_digest();
    let skipped = std::cell::Cell::new(0);
    let cache = std::cell::RefCell::new(cache);
    let report = run(
        "contract messages",
        0xc0de_0001,
        cases(10_000),
        |rng, i| {
            let sender = if rng.one_in(2) { "admin" } else { "mallory" };
            (sender, mutate_json_text(rng, &seeds[i % seeds.len()]))
        },
        |(sender, msg)| {
            if let Ok(ExecuteMsg::RegisterModel { verifier_key, .. }) =
                serde_json::from_slice::<ExecuteMsg>(msg)
            {
                if verifier_key.vk_digest != digest && verifier_key.quantized().is_ok() {
                    skipped.set(skipped.get() + 1);
                    return false;
                }
            }
            let mut store = base.clone();
            let result = execute_json(&mut store, &mut cache.borrow_mut(), sender, msg);
            if result.is_err() {
                assert_eq!(store, base, "a refused message changed the state");
            }
            let _ = query_json(&store, msg);
            result.is_ok()
        },
        |(sender, msg)| format!("from {sender}: {}", show_bytes(msg)),
    );
    eprintln!("contract messages: {} key rebuilds skipped", skipped.get());
    assert!(report.accepted > 0, "{report:?}");
    assert!(asked.lock().unwrap().iter().all(|&k| k == 9));
}

#[test]
fn fuzzed_states_never_panic() {
    let mut cache = cache(Arc::new(Mutex::new(vec![])));
    let mut live = registered(&mut cache);
    let attested = execute(&mut live, &mut cache, "bob", submit_msg()).unwrap();
    let input_digest = attested.attestation.unwrap().attestation.input_digest;
    let mut retired = live.clone();
    execute(
        &mut retired,
        &mut cache,
        "admin",
        ExecuteMsg::RetireModel {
            model_id: vk_digest(),
            reason: "unsound".into(),
        },
    )
    .unwrap();
    let seeds = [to_value(&live), to_value(&retired)];
    let digest = vk_digest();
    let cache = std::cell::RefCell::new(cache);
    let report = run(
        "contract state",
        0xc0de_0002,
        cases(10_000),
        |rng, i| mutate_json_text(rng, &seeds[i % seeds.len()]),
        |bytes| {
            let Ok(state) = serde_json::from_slice::<MemoryStore>(bytes) else {
                return false;
            };
            for q in queries(&digest, &input_digest) {
                let _ = query(&state, q);
            }
            let mut cache = cache.borrow_mut();
            for (sender, msg) in [
                ("bob", submit_msg()),
                (
                    "admin",
                    ExecuteMsg::RetireModel {
                        model_id: vk_digest(),
                        reason: "unsound".into(),
                    },
                ),
                (
                    "admin",
                    ExecuteMsg::RegisterModel {
                        name: "again".into(),
                        verifier_key: model_key(),
                        owner: None,
                    },
                ),
            ] {
                let mut store = state.clone();
                if execute(&mut store, &mut cache, sender, msg).is_err() {
                    assert_eq!(store, state, "a refused message changed the state");
                }
            }
            true
        },
        |bytes| show_bytes(bytes),
    );
    assert!(report.accepted > report.cases / 10, "{report:?}");
}

#[test]
fn a_stored_k_of_40_is_refused_before_deriving_parameters() {
    // The key cache derived IPA parameters for whatever k the state held:
    // a corrupted state.json asked for 2^40 rows before anything failed.
    let mut cache = cache(Arc::new(Mutex::new(vec![])));
    let store = registered(&mut cache);
    let mut state = to_value(&store);
    let digest = vk_digest();
    state["models"][&digest]["key"]["k"] = 40.into();
    let mut corrupted: MemoryStore = serde_json::from_value(state).unwrap();
    // A fresh cache, as a new `zkinfer contract submit` process has; its
    // parameter source panics on any k but 9.
    let mut fresh = self::cache(Arc::new(Mutex::new(vec![])));
    let err = execute(&mut corrupted, &mut fresh, "bob", submit_msg()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("store: model {digest}: the stored k = 40 is not its circuit's k = 9")
    );
}
