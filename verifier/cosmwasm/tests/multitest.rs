//! The CosmWasm contract under cw-multi-test: register a bundled model,
//! record a verified inference, retire the model, and see every refusal fail
//! its transaction with the contract's storage byte-for-byte unchanged.

use cosmwasm_std::Addr;
use cw_multi_test::{App, ContractWrapper, Executor};
use std::sync::OnceLock;
use zkinfer_cosmwasm::{
    execute, instantiate, query, ExecuteMsg, InstantiateMsg, QueryMsg, QueryResponse,
};
use zkinfer_models::bundled::BundledModel;
use zkinfer_models::dataset::{digits, Split};
use zkinfer_prover::Prover;
use zkinfer_verifier::contract::{
    input_digest, AttestationInfo, ModelKey, ModelSummary, ParamsUpload, Retirement,
};
use zkinfer_verifier::params::params_bytes;
use zkinfer_verifier::{base64, IpaParams, ProofBundle, Visibility};

struct Fixture {
    mlp: ModelKey,
    proofs: Vec<ProofBundle>,
    cnn_proof: ProofBundle,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let params = IpaParams::new(9);
        let test = digits(Split::Test).unwrap();
        let prove = |name: &str, indices: &[usize]| {
            let model = BundledModel::find(name).unwrap().quantized().unwrap();
            let prover =
                Prover::new(name, model.clone(), Visibility::Public, params.clone()).unwrap();
            let proofs: Vec<ProofBundle> = indices
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
            (key, proofs)
        };
        let (mlp, proofs) = prove("digits-mlp", &[4, 5, 4]);
        let (_, mut cnn) = prove("digits-cnn", &[4]);
        Fixture {
            mlp,
            proofs,
            cnn_proof: cnn.remove(0),
        }
    })
}

struct Chain {
    app: App,
    contract: Addr,
    admin: Addr,
    user: Addr,
}

/// The upload of `params` for k = 9 in chunks of `size` bytes.
fn upload_messages(params: &[u8], size: usize) -> Vec<ExecuteMsg> {
    let chunks: Vec<&[u8]> = params.chunks(size).collect();
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| ExecuteMsg::UploadParams {
            k: 9,
            chunk: i as u32,
            data: base64::encode(chunk),
            last: i + 1 == chunks.len(),
        })
        .collect()
}

fn params_k9() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| params_bytes(&IpaParams::new(9)))
}

/// A chain with the contract instantiated and digits-mlp registered (the
/// IPA parameters uploaded first, in three chunks).
fn chain() -> Chain {
    let mut c = empty_chain();
    for msg in upload_messages(params_k9(), params_k9().len() / 3 + 1) {
        c.app
            .execute_contract(c.admin.clone(), c.contract.clone(), &msg, &[])
            .unwrap();
    }
    c.register_mlp();
    c
}

/// A chain with the contract instantiated, nothing else.
fn empty_chain() -> Chain {
    let mut app = App::default();
    let code = app.store_code(Box::new(ContractWrapper::new(execute, instantiate, query)));
    let admin = app.api().addr_make("admin");
    let user = app.api().addr_make("user");
    let contract = app
        .instantiate_contract(
            code,
            admin.clone(),
            &InstantiateMsg {
                admin: admin.to_string(),
            },
            &[],
            "zkinfer",
            None,
        )
        .unwrap();
    Chain {
        app,
        contract,
        admin,
        user,
    }
}

fn retire(reason: &str) -> ExecuteMsg {
    ExecuteMsg::RetireModel {
        model_id: fixture().mlp.vk_digest.clone(),
        reason: reason.into(),
    }
}

fn submit(bundle: &ProofBundle) -> ExecuteMsg {
    ExecuteMsg::SubmitInference {
        model_id: fixture().mlp.vk_digest.clone(),
        proof_bundle: Box::new(bundle.clone()),
    }
}

impl Chain {
    /// The admin registers digits-mlp.
    fn register_mlp(&mut self) {
        let register = ExecuteMsg::RegisterModel {
            name: "digits-mlp".into(),
            verifier_key: fixture().mlp.clone(),
            owner: None,
        };
        self.app
            .execute_contract(self.admin.clone(), self.contract.clone(), &register, &[])
            .unwrap();
    }

    fn query(&self, msg: &QueryMsg) -> QueryResponse {
        self.app
            .wrap()
            .query_wasm_smart(self.contract.clone(), msg)
            .unwrap()
    }

    /// Sends a message that must fail; returns the error text after checking
    /// the contract's storage is unchanged.
    fn refused(&mut self, sender: &Addr, msg: &ExecuteMsg) -> String {
        let before = self.app.dump_wasm_raw(&self.contract);
        let err = self
            .app
            .execute_contract(sender.clone(), self.contract.clone(), msg, &[])
            .unwrap_err();
        assert_eq!(
            self.app.dump_wasm_raw(&self.contract),
            before,
            "{err:#} changed the state"
        );
        format!("{err:#}")
    }
}

#[test]
fn a_valid_proof_is_stored_and_queryable() {
    let mut c = chain();
    let f = fixture();
    let res = c
        .app
        .execute_contract(
            c.user.clone(),
            c.contract.clone(),
            &submit(&f.proofs[0]),
            &[],
        )
        .unwrap();
    assert!(
        res.events.iter().any(|e| e.ty == "wasm-zkinfer_attest"),
        "{:?}",
        res.events
    );
    let stored: AttestationInfo = cosmwasm_std::from_json(res.data.unwrap()).unwrap();
    assert_eq!(stored.attestation.output, f.proofs[0].output.values);
    assert_eq!(stored.attestation.submitter, c.user.to_string());
    assert_eq!(stored.model_retired, None);
    let digest = input_digest(&f.proofs[0].input.as_ref().unwrap().values);
    let answer = c.query(&QueryMsg::Output {
        model_id: f.mlp.vk_digest.clone(),
        input_digest: digest,
        weights_id: None,
    });
    assert_eq!(answer, QueryResponse::Attestation(stored.clone()));
    assert_eq!(
        c.query(&QueryMsg::Attestations {
            model_id: f.mlp.vk_digest.clone(),
            start_after: None,
            limit: None
        }),
        QueryResponse::Attestations(vec![stored])
    );
}

#[test]
fn forged_replayed_and_unknown_submissions_fail_without_a_trace() {
    let mut c = chain();
    let f = fixture();
    c.app
        .execute_contract(
            c.user.clone(),
            c.contract.clone(),
            &submit(&f.proofs[0]),
            &[],
        )
        .unwrap();
    let user = c.user.clone();

    let mut forged = f.proofs[1].clone();
    forged.output.values[2] += 1;
    assert!(c.refused(&user, &submit(&forged)).contains("invalid proof"));

    assert!(c
        .refused(&user, &submit(&f.proofs[0]))
        .contains("replay: same proof"));
    assert!(c
        .refused(&user, &submit(&f.proofs[2]))
        .contains("replay: same model and input"));

    let unknown = ExecuteMsg::SubmitInference {
        model_id: "ab".repeat(32),
        proof_bundle: Box::new(f.proofs[1].clone()),
    };
    assert!(c.refused(&user, &unknown).contains("unknown model"));

    assert!(c
        .refused(&user, &submit(&f.cnn_proof))
        .contains("is for model"));

    let mut short = f.proofs[1].clone();
    short.output.values.pop();
    assert!(c
        .refused(&user, &submit(&short))
        .contains("public inputs do not match"));

    let mut malformed = f.proofs[1].clone();
    malformed.proof.truncate(100);
    assert!(c
        .refused(&user, &submit(&malformed))
        .contains("malformed proof bundle"));

    let register = ExecuteMsg::RegisterModel {
        name: "again".into(),
        verifier_key: f.mlp.clone(),
        owner: None,
    };
    assert!(c.refused(&user, &register).contains("unauthorized"));
    let admin = c.admin.clone();
    assert!(c.refused(&admin, &register).contains("already registered"));

    // The honest second proof still goes through.
    c.app
        .execute_contract(user, c.contract.clone(), &submit(&f.proofs[1]), &[])
        .unwrap();
}

#[test]
fn a_retired_model_is_marked_everywhere_and_takes_no_new_proofs() {
    let mut c = chain();
    let f = fixture();
    let id = f.mlp.vk_digest.clone();
    let (admin, user) = (c.admin.clone(), c.user.clone());
    let res = c
        .app
        .execute_contract(user.clone(), c.contract.clone(), &submit(&f.proofs[0]), &[])
        .unwrap();
    let recorded: AttestationInfo = cosmwasm_std::from_json(res.data.unwrap()).unwrap();

    // Refusals: not the admin, an unknown model, an empty reason.
    assert!(c
        .refused(&user, &retire("mine now"))
        .contains("unauthorized"));
    let unknown = ExecuteMsg::RetireModel {
        model_id: "ab".repeat(32),
        reason: "unsound".into(),
    };
    assert!(c.refused(&admin, &unknown).contains("unknown model"));
    assert!(c.refused(&admin, &retire("")).contains("reason must be"));

    let reason = "range check skipped the top limb";
    let res = c
        .app
        .execute_contract(admin.clone(), c.contract.clone(), &retire(reason), &[])
        .unwrap();
    let event = res
        .events
        .iter()
        .find(|e| e.ty == "wasm-zkinfer_retire")
        .unwrap_or_else(|| panic!("no retire event: {:?}", res.events));
    let attribute = |key: &str| {
        event
            .attributes
            .iter()
            .find(|a| a.key == key)
            .map(|a| a.value.as_str())
    };
    assert_eq!(attribute("model_id"), Some(id.as_str()));
    assert_eq!(attribute("reason"), Some(reason));

    // Refused now: a second retirement, any submission, the key again.
    assert!(c
        .refused(&admin, &retire("twice"))
        .contains(&format!("already retired ({reason})")));
    assert!(c
        .refused(&user, &submit(&f.proofs[1]))
        .contains(&format!("was retired ({reason})")));
    let register = ExecuteMsg::RegisterModel {
        name: "again".into(),
        verifier_key: f.mlp.clone(),
        owner: None,
    };
    let err = c.refused(&admin, &register);
    assert!(
        err.contains("already registered") && err.contains("was retired"),
        "{err}"
    );

    // The attestation is still there, marked, through every query.
    let retired = Some(Retirement {
        reason: reason.into(),
        at_seq: 1,
    });
    let marked = AttestationInfo {
        model_retired: retired.clone(),
        ..recorded.clone()
    };
    let digest = input_digest(&f.proofs[0].input.as_ref().unwrap().values);
    for msg in [
        QueryMsg::Attestation { seq: 0 },
        QueryMsg::Output {
            model_id: id.clone(),
            input_digest: digest,
            weights_id: None,
        },
    ] {
        assert_eq!(c.query(&msg), QueryResponse::Attestation(marked.clone()));
    }
    assert_eq!(
        c.query(&QueryMsg::Attestations {
            model_id: id.clone(),
            start_after: None,
            limit: None
        }),
        QueryResponse::Attestations(vec![marked])
    );
    match c.query(&QueryMsg::Model {
        model_id: id.clone(),
    }) {
        QueryResponse::Model(info) => assert_eq!(info.retired, retired),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        c.query(&QueryMsg::Models {}),
        QueryResponse::Models(vec![ModelSummary {
            model_id: id,
            retired,
        }])
    );
}

#[test]
fn instantiation_validates_the_admin_address() {
    let mut app = App::default();
    let code = app.store_code(Box::new(ContractWrapper::new(execute, instantiate, query)));
    let sender = app.api().addr_make("sender");
    let err = app
        .instantiate_contract(
            code,
            sender,
            &InstantiateMsg {
                admin: "not an address".into(),
            },
            &[],
            "z",
            None,
        )
        .unwrap_err();
    assert!(!format!("{err:#}").is_empty());
}

/// The IPA parameters go into storage once, in chunks, checked against the
/// pinned digest: a flipped bit, a chunk out of order, a second upload or a
/// non-admin are refused with the storage unchanged.
#[test]
fn parameters_are_uploaded_once_and_checked() {
    let mut c = empty_chain();
    let good = upload_messages(params_k9(), 12_000);
    assert_eq!(good.len(), 3);
    // A non-admin, and a chunk out of order.
    let err = c.refused(&c.user.clone(), &good[0]);
    assert!(err.contains("is not the admin"), "{err}");
    let err = c.refused(&c.admin.clone(), &good[1]);
    assert!(err.contains("the next chunk is 0"), "{err}");
    for msg in &good[..2] {
        c.app
            .execute_contract(c.admin.clone(), c.contract.clone(), msg, &[])
            .unwrap();
    }
    // The last chunk with one bit flipped: the whole does not match the pin.
    let mut damaged = params_k9()[24_000..].to_vec();
    damaged[100] ^= 4;
    let flipped = ExecuteMsg::UploadParams {
        k: 9,
        chunk: 2,
        data: base64::encode(&damaged),
        last: true,
    };
    let err = c.refused(&c.admin.clone(), &flipped);
    assert!(err.contains("not the pinned"), "{err}");
    let QueryResponse::Params(uploads) = c.query(&QueryMsg::Params {}) else {
        panic!("a params response")
    };
    assert_eq!(
        uploads,
        vec![ParamsUpload {
            k: 9,
            chunks: 2,
            bytes: 24_000,
            complete: false
        }]
    );
    c.app
        .execute_contract(c.admin.clone(), c.contract.clone(), &good[2], &[])
        .unwrap();
    let QueryResponse::Params(uploads) = c.query(&QueryMsg::Params {}) else {
        panic!("a params response")
    };
    assert!(uploads[0].complete);
    assert_eq!(uploads[0].bytes, params_k9().len() as u64);
    let err = c.refused(&c.admin.clone(), &good[0]);
    assert!(err.contains("are stored already"), "{err}");
    // With them stored, registration and verification read them.
    c.register_mlp();
    c.app
        .execute_contract(
            c.user.clone(),
            c.contract.clone(),
            &submit(&fixture().proofs[0]),
            &[],
        )
        .unwrap();
}

/// A VM fixture message (`wasm/fixtures`, made by `tests/vm_fixtures.rs`).
fn vm_fixture(name: &str) -> ExecuteMsg {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("wasm/fixtures")
        .join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// A polycommit model in the contract under cw-multi-test: the owner, a
/// checked address, accepts and retires weights; proofs are attested under
/// the weights they open to, and refused once those are retired.
#[test]
fn a_polycommit_model_takes_proofs_under_accepted_weights_only() {
    let mut c = empty_chain();
    for msg in upload_messages(params_k9(), params_k9().len() / 3 + 1) {
        c.app
            .execute_contract(c.admin.clone(), c.contract.clone(), &msg, &[])
            .unwrap();
    }
    let ExecuteMsg::RegisterModel {
        name, verifier_key, ..
    } = vm_fixture("register-digits-mlp-polycommit.json")
    else {
        panic!("a registration")
    };
    let id = verifier_key.vk_digest.clone();
    let owner = c.app.api().addr_make("owner");
    let register = |owner: &str| ExecuteMsg::RegisterModel {
        name: name.clone(),
        verifier_key: verifier_key.clone(),
        owner: Some(owner.into()),
    };
    let admin = c.admin.clone();
    assert!(c
        .refused(&admin, &register("Not An Address"))
        .contains("owner"));
    c.app
        .execute_contract(
            admin.clone(),
            c.contract.clone(),
            &register(owner.as_str()),
            &[],
        )
        .unwrap();

    let submission = |label: &str| {
        let msg = vm_fixture(&format!("submit-digits-mlp-polycommit-{label}.json"));
        let ExecuteMsg::SubmitInference { proof_bundle, .. } = &msg else {
            panic!("a submission")
        };
        let accept = ExecuteMsg::AcceptWeights {
            model_id: id.clone(),
            model_commitment: proof_bundle.model_commitment.clone().unwrap(),
            label: label.into(),
        };
        (msg, accept)
    };
    let (a, accept_a) = submission("a");
    let (a2, _) = submission("a2");
    let (b, accept_b) = submission("b");
    let user = c.user.clone();
    assert!(
        c.refused(&user, &a).contains("are not accepted"),
        "before accept"
    );
    assert!(c
        .refused(&user, &accept_a)
        .contains("neither the admin nor the owner"));
    let res = c
        .app
        .execute_contract(owner.clone(), c.contract.clone(), &accept_a, &[])
        .unwrap();
    let event = res
        .events
        .iter()
        .find(|e| e.ty == "wasm-zkinfer_accept_weights");
    let weights_a = event
        .unwrap()
        .attributes
        .iter()
        .find(|a| a.key == "weights_id");
    let weights_a = weights_a.unwrap().value.clone();
    let attested = |c: &mut Chain, msg: &ExecuteMsg| -> AttestationInfo {
        let res = c
            .app
            .execute_contract(c.user.clone(), c.contract.clone(), msg, &[])
            .unwrap();
        cosmwasm_std::from_json(res.data.unwrap()).unwrap()
    };
    let first = attested(&mut c, &a);
    assert_eq!(
        first.attestation.weights_id.as_deref(),
        Some(weights_a.as_str())
    );
    c.app
        .execute_contract(admin.clone(), c.contract.clone(), &accept_b, &[])
        .unwrap();
    let second = attested(&mut c, &b);
    assert_eq!(
        second.attestation.input_digest,
        first.attestation.input_digest
    );
    assert_ne!(second.attestation.weights_id, first.attestation.weights_id);

    let retire = ExecuteMsg::RetireWeights {
        model_id: id.clone(),
        weights_id: weights_a.clone(),
        reason: "superseded".into(),
    };
    assert!(c
        .refused(&user, &retire)
        .contains("neither the admin nor the owner"));
    c.app
        .execute_contract(owner.clone(), c.contract.clone(), &retire, &[])
        .unwrap();
    assert!(c.refused(&user, &a2).contains("were retired (superseded)"));
    let QueryResponse::Weights(listed) = c.query(&QueryMsg::Weights {
        model_id: id.clone(),
        start_after: None,
        limit: None,
    }) else {
        panic!("weights")
    };
    assert_eq!(listed.len(), 2);
    let QueryResponse::Attestation(info) = c.query(&QueryMsg::Attestation { seq: 0 }) else {
        panic!("an attestation")
    };
    assert_eq!(info.weights_retired.unwrap().reason, "superseded");
}

/// Queries naming ids far longer than any stored one are answered with an
/// error, not a trap (storage key parts saturate their length).
#[test]
fn overlong_ids_in_queries_are_not_found() {
    let c = chain();
    let long = "a".repeat(70_000);
    for msg in [
        QueryMsg::Output {
            model_id: long.clone(),
            input_digest: "00".into(),
            weights_id: None,
        },
        QueryMsg::Attestations {
            model_id: long.clone(),
            start_after: None,
            limit: None,
        },
        QueryMsg::Weights {
            model_id: long.clone(),
            start_after: Some(long.clone()),
            limit: None,
        },
    ] {
        let err = c
            .app
            .wrap()
            .query_wasm_smart::<QueryResponse>(c.contract.clone(), &msg)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no output") || err.contains("unknown model"),
            "{err}"
        );
    }
}
