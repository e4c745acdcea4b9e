//! The contract-style verifier with real proofs: registration, attestation,
//! retirement, every refusal (each leaving the store byte-for-byte
//! unchanged), queries, and ten thousand random and mutated messages without
//! a panic.

use std::sync::OnceLock;
use zkinfer_models::bundled::BundledModel;
use zkinfer_models::dataset::{digits, Split};
use zkinfer_prover::Prover;
use zkinfer_verifier::contract::*;
use zkinfer_verifier::{base64, IpaParams, ProofBundle, Visibility};

struct Fixture {
    mlp_key: ModelKey,
    cnn_key: ModelKey,
    /// digits-mlp proofs of held-out digits 0, 1, 2, and a second proof of 0.
    mlp: Vec<ProofBundle>,
    cnn: ProofBundle,
}

fn params() -> IpaParams {
    static P: OnceLock<IpaParams> = OnceLock::new();
    P.get_or_init(|| IpaParams::new(9)).clone()
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let test = digits(Split::Test).unwrap();
        let make = |name: &str, digits: &[usize]| {
            let model = BundledModel::find(name).unwrap().quantized().unwrap();
            let prover = Prover::new(name, model.clone(), Visibility::Public, params()).unwrap();
            let bundles: Vec<ProofBundle> = digits
                .iter()
                .map(|&i| {
                    let x: Vec<f64> = test.inputs[i].iter().map(|&p| p as f64).collect();
                    prover
                        .prove(&model.quantize_input(&x).unwrap())
                        .unwrap()
                        .bundle
                })
                .collect();
            let key = ModelKey::of(prover.verifier_key());
            assert_eq!(key.k, 9);
            (key, bundles)
        };
        let (mlp_key, mlp) = make("digits-mlp", &[0, 1, 2, 0]);
        let (cnn_key, mut cnn) = make("digits-cnn", &[0]);
        Fixture {
            mlp_key,
            cnn_key,
            mlp,
            cnn: cnn.remove(0),
        }
    })
}

fn cache() -> KeyCache {
    KeyCache::with_params(|k| {
        assert_eq!(k, 9);
        params()
    })
}

/// An instantiated contract with digits-mlp registered.
fn contract() -> (MemoryStore, KeyCache) {
    let mut store = MemoryStore::default();
    let mut cache = cache();
    instantiate(
        &mut store,
        InstantiateMsg {
            admin: "admin".into(),
        },
    )
    .unwrap();
    let msg = ExecuteMsg::RegisterModel {
        name: "digits-mlp".into(),
        verifier_key: fixture().mlp_key.clone(),
        owner: None,
    };
    let response = execute(&mut store, &mut cache, "admin", msg).unwrap();
    assert_eq!(response.events[0].kind, "zkinfer_register");
    (store, cache)
}

fn submit(bundle: &ProofBundle) -> ExecuteMsg {
    ExecuteMsg::SubmitInference {
        model_id: fixture().mlp_key.vk_digest.clone(),
        proof_bundle: Box::new(bundle.clone()),
    }
}

/// Runs a message that must be refused, and checks the store did not change.
fn refused(
    store: &mut MemoryStore,
    cache: &mut KeyCache,
    sender: &str,
    msg: ExecuteMsg,
) -> ContractError {
    let before = serde_json::to_vec(store).unwrap();
    let err = execute(store, cache, sender, msg).unwrap_err();
    assert_eq!(
        serde_json::to_vec(store).unwrap(),
        before,
        "{err} changed the store"
    );
    err
}

#[test]
fn a_verified_inference_is_recorded_and_queryable() {
    let (mut store, mut cache) = contract();
    let f = fixture();
    let response = execute(&mut store, &mut cache, "alice", submit(&f.mlp[0])).unwrap();
    let recorded = response.attestation.unwrap();
    assert_eq!(recorded.model_retired, None);
    let a = &recorded.attestation;
    assert_eq!((a.seq, a.submitter.as_str()), (0, "alice"));
    assert_eq!(a.output, f.mlp[0].output.values);
    assert_eq!(
        a.input_digest,
        input_digest(&f.mlp[0].input.as_ref().unwrap().values)
    );
    assert!(response.gas > 0);
    assert_eq!(response.events[0].kind, "zkinfer_attest");
    execute(&mut store, &mut cache, "bob", submit(&f.mlp[1])).unwrap();

    let id = f.mlp_key.vk_digest.clone();
    let q = |msg| query(&store, msg).unwrap();
    assert_eq!(
        q(QueryMsg::Attestation { seq: 0 }),
        QueryResponse::Attestation(recorded.clone())
    );
    assert_eq!(
        q(QueryMsg::Output {
            model_id: id.clone(),
            input_digest: a.input_digest.clone(),
            weights_id: None,
        }),
        QueryResponse::Attestation(recorded.clone())
    );
    let QueryResponse::Attestations(page) = q(QueryMsg::Attestations {
        model_id: id.clone(),
        start_after: Some(0),
        limit: Some(5),
    }) else {
        panic!()
    };
    assert_eq!(
        page.iter()
            .map(|a| (a.attestation.seq, a.model_retired.is_some()))
            .collect::<Vec<_>>(),
        vec![(1, false)]
    );
    let QueryResponse::Model(info) = q(QueryMsg::Model {
        model_id: id.clone(),
    }) else {
        panic!()
    };
    assert_eq!(
        (info.k, info.output_shape.clone(), info.name.as_str()),
        (9, vec![10], "digits-mlp")
    );
    assert_eq!(info.retired, None);
    assert_eq!(
        q(QueryMsg::Models {}),
        QueryResponse::Models(vec![ModelSummary {
            model_id: id,
            retired: None
        }])
    );
    // The query entry point parses JSON as a consumer contract sends it.
    let text = format!(
        r#"{{"output": {{"model_id": "{}", "input_digest": "{}"}}}}"#,
        info.model_id, a.input_digest
    );
    let answer = query_json(&store, text.as_bytes()).unwrap();
    // In JSON the record's fields and `model_retired` sit side by side.
    let json = serde_json::to_value(&answer).unwrap();
    assert_eq!(json["attestation"]["seq"], 0, "{json}");
    assert_eq!(
        json["attestation"]["model_retired"],
        serde_json::Value::Null
    );
    assert_eq!(answer, QueryResponse::Attestation(recorded));
}

#[test]
fn every_refused_submission_leaves_the_store_unchanged() {
    let (mut store, mut cache) = contract();
    let f = fixture();
    execute(&mut store, &mut cache, "alice", submit(&f.mlp[0])).unwrap();

    // Unknown model.
    let unknown = ExecuteMsg::SubmitInference {
        model_id: "00".repeat(32),
        proof_bundle: Box::new(f.mlp[1].clone()),
    };
    assert!(matches!(
        refused(&mut store, &mut cache, "bob", unknown),
        ContractError::UnknownModel(_)
    ));
    // Malformed bundle.
    let mut bad = f.mlp[1].clone();
    bad.proof = "not hex".into();
    assert!(matches!(
        refused(&mut store, &mut cache, "bob", submit(&bad)),
        ContractError::MalformedBundle(_)
    ));
    // A bundle for another model.
    let err = refused(&mut store, &mut cache, "bob", submit(&f.cnn));
    assert!(matches!(err, ContractError::WrongModel { .. }), "{err}");
    // An invalid proof: a forged output.
    let mut forged = f.mlp[1].clone();
    forged.output.values[3] += 1;
    assert_eq!(
        refused(&mut store, &mut cache, "bob", submit(&forged)),
        ContractError::InvalidProof
    );
    // Public inputs of the wrong shape.
    let mut short = f.mlp[1].clone();
    short.output.values.pop();
    assert!(matches!(
        refused(&mut store, &mut cache, "bob", submit(&short)),
        ContractError::PublicInputMismatch(_)
    ));
    // Replays: the same proof, and another proof of the same input.
    let err = refused(&mut store, &mut cache, "bob", submit(&f.mlp[0]));
    assert_eq!(
        err,
        ContractError::Replay {
            rule: "same proof",
            seq: 0
        }
    );
    let err = refused(&mut store, &mut cache, "bob", submit(&f.mlp[3]));
    assert_eq!(
        err,
        ContractError::Replay {
            rule: "same model and input",
            seq: 0
        }
    );
    // And the honest one still goes through.
    assert!(execute(&mut store, &mut cache, "bob", submit(&f.mlp[1])).is_ok());
}

#[test]
fn registration_is_checked() {
    let (mut store, mut cache) = contract();
    let f = fixture();
    let register = |key: ModelKey| ExecuteMsg::RegisterModel {
        name: "m".into(),
        verifier_key: key,
        owner: None,
    };
    let err = refused(
        &mut store,
        &mut cache,
        "mallory",
        register(f.cnn_key.clone()),
    );
    assert_eq!(
        err,
        ContractError::Unauthorized {
            sender: "mallory".into()
        }
    );
    let err = refused(&mut store, &mut cache, "admin", register(f.mlp_key.clone()));
    assert!(matches!(err, ContractError::DuplicateModel(_)));
    let mut wrong_digest = f.cnn_key.clone();
    wrong_digest.vk_digest = f.mlp_key.vk_digest.replace('a', "b");
    let err = refused(&mut store, &mut cache, "admin", register(wrong_digest));
    assert!(matches!(err, ContractError::KeyMismatch { .. }), "{err}");
    let mut wrong_k = f.cnn_key.clone();
    wrong_k.k = 10;
    assert!(matches!(
        refused(&mut store, &mut cache, "admin", register(wrong_k)),
        ContractError::KeyMismatch { .. }
    ));
    // The claimed commitments are checked against the declared circuit:
    // a public key's are not the private circuit's, another model's are
    // not this one's.
    // A committed input is not for the contract yet: refused by name.
    let mut committed = f.cnn_key.clone();
    committed.input_visibility = Visibility::Committed;
    let err = refused(&mut store, &mut cache, "admin", register(committed));
    assert!(
        matches!(&err, ContractError::InvalidKey(m) if m.contains("committed inputs")),
        "{err}"
    );
    let mut private = f.cnn_key.clone();
    private.input_visibility = Visibility::Private;
    let err = refused(&mut store, &mut cache, "admin", register(private));
    assert!(
        matches!(&err, ContractError::InvalidKey(m) if m.contains("commitments")),
        "{err}"
    );
    let mut foreign = f.cnn_key.clone();
    foreign.commitments = f.mlp_key.commitments.clone();
    let err = refused(&mut store, &mut cache, "admin", register(foreign));
    assert!(
        matches!(&err, ContractError::InvalidKey(m) if m.contains("commitments")),
        "{err}"
    );
    let mut swapped = f.cnn_key.clone();
    let mut bytes = base64::decode(swapped.commitments.as_deref().unwrap()).unwrap();
    bytes.copy_within(40..72, 8);
    swapped.commitments = Some(base64::encode(&bytes));
    let err = refused(&mut store, &mut cache, "admin", register(swapped));
    assert!(
        matches!(&err, ContractError::InvalidKey(m) if m.contains("not those of the model")),
        "{err}"
    );
    // Commitments missing, not base64, or too many to decode.
    let mut missing = f.cnn_key.clone();
    missing.commitments = None;
    let err = refused(&mut store, &mut cache, "admin", register(missing));
    assert!(
        matches!(&err, ContractError::InvalidMessage(m) if m.contains("commitments is missing")),
        "{err}"
    );
    let mut garbled = f.cnn_key.clone();
    garbled.commitments = Some("!!".into());
    let err = refused(&mut store, &mut cache, "admin", register(garbled));
    assert!(
        matches!(&err, ContractError::InvalidMessage(m) if m.contains("base64")),
        "{err}"
    );
    let mut many = f.cnn_key.clone();
    many.commitments = Some(base64::encode(&vec![0; 8 + 32 * (MAX_KEY_COMMITMENTS + 1)]));
    let err = refused(&mut store, &mut cache, "admin", register(many));
    assert!(
        matches!(&err, ContractError::InvalidMessage(m) if m.contains("more than")),
        "{err}"
    );
    let mut huge = f.cnn_key.clone();
    huge.model = " ".repeat(MAX_MODEL_BYTES + 1);
    assert!(matches!(
        refused(&mut store, &mut cache, "admin", register(huge)),
        ContractError::OversizeKey { .. }
    ));
    let mut garbage = f.cnn_key.clone();
    garbage.model = "{\"format\": \"zkinfer/model@1\"}".into();
    assert!(matches!(
        refused(&mut store, &mut cache, "admin", register(garbage)),
        ContractError::InvalidKey(_)
    ));
    // The real one registers, under its vk digest.
    execute(&mut store, &mut cache, "admin", register(f.cnn_key.clone())).unwrap();
    let models = match query(&store, QueryMsg::Models {}).unwrap() {
        QueryResponse::Models(models) => models,
        other => panic!("{other:?}"),
    };
    assert!(models.iter().any(|m| m.model_id == f.cnn_key.vk_digest));
}

fn retire(model_id: &str, reason: &str) -> ExecuteMsg {
    ExecuteMsg::RetireModel {
        model_id: model_id.into(),
        reason: reason.into(),
    }
}

const UNSOUND: &str = "rescale remainder unconstrained (issue 8)";

#[test]
fn a_retired_model_keeps_its_attestations_marked_and_takes_no_new_proofs() {
    let (mut store, mut cache) = contract();
    let f = fixture();
    let id = f.mlp_key.vk_digest.clone();
    let recorded = execute(&mut store, &mut cache, "alice", submit(&f.mlp[0]))
        .unwrap()
        .attestation
        .unwrap()
        .attestation;

    // A state without retirements serializes as it did before they existed.
    let state = serde_json::to_value(&store).unwrap();
    assert!(state.get("retired").is_none(), "{state}");

    let response = execute(&mut store, &mut cache, "admin", retire(&id, UNSOUND)).unwrap();
    let state = serde_json::to_vec(&store).unwrap();
    assert_eq!(
        serde_json::from_slice::<MemoryStore>(&state).unwrap(),
        store
    );
    assert_eq!(
        response,
        Response {
            events: vec![Event {
                kind: "zkinfer_retire".into(),
                attributes: vec![
                    ("model_id".into(), id.clone()),
                    ("reason".into(), UNSOUND.into())
                ],
            }],
            attestation: None,
            gas: 0,
        }
    );
    // Retired after attestation 0: at the next sequence number, 1.
    let retired = Some(Retirement {
        reason: UNSOUND.into(),
        at_seq: 1,
    });

    // Every query that returns the model or its attestation says so.
    let marked = AttestationInfo {
        attestation: recorded.clone(),
        model_retired: retired.clone(),
        weights_retired: None,
    };
    let q = |msg| query(&store, msg).unwrap();
    assert_eq!(
        q(QueryMsg::Attestation { seq: 0 }),
        QueryResponse::Attestation(marked.clone())
    );
    assert_eq!(
        q(QueryMsg::Output {
            model_id: id.clone(),
            input_digest: recorded.input_digest.clone(),
            weights_id: None,
        }),
        QueryResponse::Attestation(marked.clone())
    );
    assert_eq!(
        q(QueryMsg::Attestations {
            model_id: id.clone(),
            start_after: None,
            limit: None,
        }),
        QueryResponse::Attestations(vec![marked])
    );
    let QueryResponse::Model(info) = q(QueryMsg::Model {
        model_id: id.clone(),
    }) else {
        panic!()
    };
    assert_eq!(info.retired, retired);
    assert_eq!(
        q(QueryMsg::Models {}),
        QueryResponse::Models(vec![ModelSummary {
            model_id: id.clone(),
            retired: retired.clone(),
        }])
    );
    let json = serde_json::to_value(q(QueryMsg::Attestation { seq: 0 })).unwrap();
    assert_eq!(
        json["attestation"]["model_retired"],
        serde_json::json!({ "reason": UNSOUND, "at_seq": 1 }),
        "{json}"
    );

    // No new proof, refused before the replay checks and the verification:
    // a fresh input, another proof of a recorded input, the recorded proof
    // and a forged one all get the same answer.
    let mut forged = f.mlp[1].clone();
    forged.output.values[3] += 1;
    for bundle in [&f.mlp[1], &f.mlp[3], &f.mlp[0], &forged] {
        assert_eq!(
            refused(&mut store, &mut cache, "bob", submit(bundle)),
            ContractError::ModelRetired {
                model_id: id.clone(),
                reason: UNSOUND.into(),
            }
        );
    }
    // The key cannot come back.
    let again = ExecuteMsg::RegisterModel {
        name: "digits-mlp, fixed".into(),
        verifier_key: f.mlp_key.clone(),
        owner: None,
    };
    let err = refused(&mut store, &mut cache, "admin", again);
    assert_eq!(
        err,
        ContractError::DuplicateRetiredModel {
            model_id: id.clone(),
            reason: UNSOUND.into(),
        }
    );
    assert!(err.to_string().contains("was retired"), "{err}");

    // Other models are untouched.
    let register = ExecuteMsg::RegisterModel {
        name: "digits-cnn".into(),
        verifier_key: f.cnn_key.clone(),
        owner: None,
    };
    execute(&mut store, &mut cache, "admin", register).unwrap();
    let cnn = ExecuteMsg::SubmitInference {
        model_id: f.cnn_key.vk_digest.clone(),
        proof_bundle: Box::new(f.cnn.clone()),
    };
    let a = execute(&mut store, &mut cache, "bob", cnn)
        .unwrap()
        .attestation
        .unwrap();
    assert_eq!((a.attestation.seq, a.model_retired), (1, None));
    assert_eq!(
        query(&store, QueryMsg::Attestation { seq: 0 }).unwrap(),
        QueryResponse::Attestation(AttestationInfo {
            attestation: recorded,
            model_retired: retired,
            weights_retired: None,
        })
    );
}

#[test]
fn retirement_is_checked() {
    let (mut store, mut cache) = contract();
    let id = fixture().mlp_key.vk_digest.clone();
    let unknown = "00".repeat(32);

    // Only the admin, whether the model exists or not.
    for model in [&id, &unknown] {
        assert_eq!(
            refused(&mut store, &mut cache, "mallory", retire(model, UNSOUND)),
            ContractError::Unauthorized {
                sender: "mallory".into()
            }
        );
    }
    assert_eq!(
        refused(&mut store, &mut cache, "admin", retire(&unknown, UNSOUND)),
        ContractError::UnknownModel(unknown.clone())
    );
    // Reasons: not empty, not blank, not too long, no control characters.
    let long = "x".repeat(MAX_REASON_LEN + 1);
    for reason in ["", "  ", &long, "line\nbreak", "\u{1b}[31mred", "nul\0"] {
        let err = refused(&mut store, &mut cache, "admin", retire(&id, reason));
        assert!(
            matches!(err, ContractError::InvalidMessage(ref m) if m.contains("reason")),
            "{reason:?}: {err}"
        );
    }
    // The longest reason is fine; a second retirement is refused with the
    // first one's reason.
    let longest = "é".repeat(MAX_REASON_LEN / 2);
    execute(&mut store, &mut cache, "admin", retire(&id, &longest)).unwrap();
    assert_eq!(
        refused(&mut store, &mut cache, "admin", retire(&id, UNSOUND)),
        ContractError::AlreadyRetired {
            model_id: id.clone(),
            reason: longest,
        }
    );
    assert!(matches!(
        refused(&mut store, &mut cache, "mallory", retire(&id, UNSOUND)),
        ContractError::Unauthorized { .. }
    ));

    // Before instantiation there is no admin.
    let mut empty = MemoryStore::default();
    assert_eq!(
        refused(&mut empty, &mut cache, "admin", retire(&id, UNSOUND)),
        ContractError::NotInstantiated
    );
}

#[test]
fn instantiation_and_queries_refuse_what_is_not_there() {
    let mut store = MemoryStore::default();
    let mut cache = cache();
    let msg = submit(&fixture().mlp[0]);
    assert_eq!(
        execute(&mut store, &mut cache, "a", msg).unwrap_err(),
        ContractError::NotInstantiated
    );
    instantiate(
        &mut store,
        InstantiateMsg {
            admin: "admin".into(),
        },
    )
    .unwrap();
    let again = instantiate(&mut store, InstantiateMsg { admin: "x".into() });
    assert_eq!(again.unwrap_err(), ContractError::AlreadyInstantiated);
    assert!(matches!(
        query(&store, QueryMsg::Attestation { seq: 9 }),
        Err(ContractError::NotFound(_))
    ));
    let page = QueryMsg::Attestations {
        model_id: "x".into(),
        start_after: None,
        limit: Some(u32::MAX),
    };
    assert!(matches!(
        query(&store, page),
        Err(ContractError::UnknownModel(_))
    ));
}

/// A small deterministic generator for the fuzz test.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn mutate(rng: &mut Rng, text: &str) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    match rng.below(8) {
        0 => bytes.truncate(rng.below(bytes.len() + 1)),
        1 => {
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(bytes.len());
                bytes[i] = rng.next() as u8;
            }
        }
        2 => {
            // A huge number in place of some digits.
            let s =
                String::from_utf8_lossy(&bytes).replacen("9,", "99999999999999999999999999999,", 1);
            bytes = s.into_bytes();
        }
        3 => {
            let s = String::from_utf8_lossy(&bytes)
                .replacen("\"k\": 9", "\"k\": \"nine\"", 1)
                .replacen(": [", ": {", 1);
            bytes = s.into_bytes();
        }
        4 => {
            // Random proof bytes of a plausible length.
            let proof: String = (0..rng.below(14000))
                .map(|_| char::from(b"0123456789abcdef"[rng.below(16)]))
                .collect();
            let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
            if let Some(b) = v.pointer_mut("/submit_inference/proof_bundle/proof") {
                *b = proof.into();
            }
            bytes = serde_json::to_vec(&v).unwrap();
        }
        5 => {
            // Random values in the public integers.
            let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
            if let Some(values) = v.pointer_mut("/submit_inference/proof_bundle/output/values") {
                let i = rng.below(10);
                values[i] = serde_json::json!(rng.next() as i64);
            }
            bytes = serde_json::to_vec(&v).unwrap();
        }
        6 => bytes = (0..rng.below(64)).map(|_| rng.next() as u8).collect(),
        _ => bytes.reverse(),
    }
    bytes
}

#[test]
fn ten_thousand_random_and_mutated_messages_never_panic() {
    let (mut store, mut cache) = contract();
    let f = fixture();
    let seeds: Vec<String> = vec![
        serde_json::to_string(&submit(&f.mlp[1])).unwrap(),
        serde_json::to_string(&ExecuteMsg::RegisterModel {
            name: "cnn".into(),
            verifier_key: f.cnn_key.clone(),
            owner: None,
        })
        .unwrap(),
        r#"{"output": {"model_id": "x", "input_digest": "y"}}"#.into(),
        r#"{"attestations": {"model_id": "x", "start_after": 18446744073709551615, "limit": 4294967295}}"#.into(),
        // An unregistered model: the loop keeps digits-mlp unretired.
        serde_json::to_string(&retire(&f.cnn_key.vk_digest, UNSOUND)).unwrap(),
    ];
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut ok, mut refused) = (0, 0);
    for i in 0..10_000 {
        let seed = &seeds[i % seeds.len()];
        let msg = mutate(&mut rng, seed);
        let sender = if rng.below(2) == 0 {
            "admin"
        } else {
            "mallory"
        };
        // Registrations that parse would rebuild a key each time; those
        // are covered above, so keep the fuzz loop to cheap paths.
        if i % seeds.len() == 1 && serde_json::from_slice::<ExecuteMsg>(&msg).is_ok() {
            continue;
        }
        match execute_json(&mut store, &mut cache, sender, &msg) {
            Ok(_) => ok += 1,
            Err(_) => refused += 1,
        }
        let _ = query_json(&store, &msg);
    }
    assert!(refused > 5_000, "{ok} accepted, {refused} refused");
}

/// A contract derives no parameters: without an upload it refuses to
/// rebuild a key (naming what to do); with one — checked against the
/// pinned digest — it registers and verifies, and the state keeps the
/// parameters through a JSON round trip.
#[test]
fn a_contract_reads_uploaded_parameters_and_derives_none() {
    let mut store = MemoryStore::default();
    let mut cache = KeyCache::default();
    instantiate(
        &mut store,
        InstantiateMsg {
            admin: "admin".into(),
        },
    )
    .unwrap();
    let register = ExecuteMsg::RegisterModel {
        name: "digits-mlp".into(),
        verifier_key: fixture().mlp_key.clone(),
        owner: None,
    };
    let err = refused(&mut store, &mut cache, "admin", register.clone());
    assert_eq!(err, ContractError::NoParams(9));
    assert!(err.to_string().contains("upload_params"), "{err}");

    let bytes = zkinfer_verifier::params::params_bytes(&params());
    let upload = |data: &[u8], k: u32, chunk: u32, last: bool| ExecuteMsg::UploadParams {
        k,
        chunk,
        data: base64::encode(data),
        last,
    };
    // Refused: another k's bytes (too many of them for k = 8, and not its
    // pin for k = 10), a k beyond the contract's, bad base64, an empty
    // chunk, a flipped bit.
    let err = refused(&mut store, &mut cache, "admin", upload(&bytes, 8, 0, true));
    assert!(
        err.to_string().contains("parameters for k = 8 hold"),
        "{err}"
    );
    let err = refused(&mut store, &mut cache, "admin", upload(&bytes, 10, 0, true));
    assert!(matches!(err, ContractError::ParamsRefused(_)), "{err}");
    let err = refused(&mut store, &mut cache, "admin", upload(&bytes, 17, 0, true));
    assert!(err.to_string().contains("k = 1 to 16"), "{err}");
    let mut bad = upload(&bytes, 9, 0, true);
    if let ExecuteMsg::UploadParams { data, .. } = &mut bad {
        data.push('=');
    }
    let err = refused(&mut store, &mut cache, "admin", bad);
    assert!(err.to_string().contains("base64"), "{err}");
    let err = refused(&mut store, &mut cache, "admin", upload(&[], 9, 0, true));
    assert!(err.to_string().contains("1 to"), "{err}");
    let mut flipped = bytes.clone();
    flipped[1000] ^= 1;
    let err = refused(
        &mut store,
        &mut cache,
        "admin",
        upload(&flipped, 9, 0, true),
    );
    assert!(err.to_string().contains("not the pinned"), "{err}");

    let response = execute(&mut store, &mut cache, "admin", upload(&bytes, 9, 0, true)).unwrap();
    assert_eq!(response.events[0].kind, "zkinfer_params");
    let store_json = serde_json::to_string(&store).unwrap();
    let mut store: MemoryStore = serde_json::from_str(&store_json).unwrap();
    let mut cache = KeyCache::default();
    execute(&mut store, &mut cache, "admin", register).unwrap();

    // Registration kept the key's commitments: a fresh cache (a fresh
    // contract instance) rebuilds the key from them.
    let mut state: serde_json::Value = serde_json::to_value(&store).unwrap();
    let id = &fixture().mlp_key.vk_digest;
    let commitments = state["models"][id]["key"]["commitments"]
        .as_str()
        .unwrap()
        .to_string();
    let mut store: MemoryStore = serde_json::from_value(state.clone()).unwrap();
    let recorded = execute(
        &mut store,
        &mut KeyCache::default(),
        "user",
        submit(&fixture().mlp[0]),
    )
    .unwrap();
    assert!(recorded.attestation.is_some());
    // So does a state that kept them where registrations before
    // `verifier_key.commitments` did, beside the key.
    let mut legacy = state.clone();
    let model = legacy["models"][id].as_object_mut().unwrap();
    let kept = model["key"].as_object_mut().unwrap().remove("commitments");
    model.insert("commitments".into(), kept.unwrap());
    let mut legacy: MemoryStore = serde_json::from_value(legacy).unwrap();
    let recorded = execute(
        &mut legacy,
        &mut KeyCache::default(),
        "user",
        submit(&fixture().mlp[0]),
    )
    .unwrap();
    assert!(recorded.attestation.is_some());
    // A state from before registrations kept commitments at all: a native
    // cache rebuilds the key in full; a contract's cache cannot, and says so.
    let mut oldest = state.clone();
    oldest["models"][id]["key"]
        .as_object_mut()
        .unwrap()
        .remove("commitments");
    let oldest: MemoryStore = serde_json::from_value(oldest).unwrap();
    let err = refused(
        &mut oldest.clone(),
        &mut KeyCache::default(),
        "user",
        submit(&fixture().mlp[0]),
    );
    assert!(
        err.to_string()
            .contains("stored without its key's commitments"),
        "{err}"
    );
    let recorded = execute(
        &mut oldest.clone(),
        &mut self::cache(),
        "user",
        submit(&fixture().mlp[0]),
    )
    .unwrap();
    assert!(recorded.attestation.is_some());

    // Damaged commitments rebuild another key: refused, never trusted.
    let mut bytes = base64::decode(&commitments).unwrap();
    bytes.copy_within(40..72, 8);
    state["models"][id]["key"]["commitments"] = base64::encode(&bytes).into();
    let mut damaged: MemoryStore = serde_json::from_value(state).unwrap();
    let err = refused(
        &mut damaged,
        &mut KeyCache::default(),
        "user",
        submit(&fixture().mlp[1]),
    );
    assert!(err.to_string().contains("rebuild key"), "{err}");
}
