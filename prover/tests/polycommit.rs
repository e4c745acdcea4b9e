//! Polycommit weights with real proofs: the proof's weight columns open to
//! the registered commitment, and to no other; the opening is bound to its
//! proof; one key serves every set of weights of the architecture.

use std::sync::Arc;
use zkinfer_circuits::polycommit::{self, from_hex, to_hex};
use zkinfer_circuits::{Profile, Visibility, WeightVisibility};
use zkinfer_models::bundled::BundledModel;
use zkinfer_models::dataset::{digits, Split};
use zkinfer_models::Engine;
use zkinfer_prover::{bundle_json, Prover};
use zkinfer_quant::{Op, QuantizedModel, Tensor};
use zkinfer_verifier::{base64, verify, IpaParams, ProofBundle, VerifierKey, VerifyError};

fn digit(model: &QuantizedModel, index: usize) -> Tensor {
    let test = digits(Split::Test).unwrap();
    let x: Vec<f64> = test.inputs[index].iter().map(|&p| p as f64).collect();
    model.quantize_input(&x).unwrap()
}

fn prover(model: &QuantizedModel, visibility: Visibility) -> (Prover, IpaParams) {
    let circuit = VerifierKey::plan_circuit_with(
        model.clone(),
        visibility,
        WeightVisibility::Polycommit,
        Profile::Compact,
    )
    .unwrap();
    let params = IpaParams::new(circuit.plan().k);
    let p = Prover::for_circuit("digits", circuit, params.clone()).unwrap();
    (p, params)
}

/// `model` with its first weighted node's first weight moved by one.
fn one_weight_changed(model: &QuantizedModel) -> QuantizedModel {
    let mut nodes = model.nodes().to_vec();
    let weights = match &mut nodes[0].op {
        Op::Conv2d(conv) => &mut conv.weight.data,
        Op::Linear(linear) => &mut linear.weight.data,
        _ => panic!("the model starts with a weighted node"),
    };
    weights[0] += if weights[0] < 100 { 1 } else { -1 };
    QuantizedModel::new("changed", model.input().clone(), nodes, None).unwrap()
}

fn with_opening(bundle: &ProofBundle, opening: &[u8]) -> ProofBundle {
    ProofBundle {
        weights_opening: Some(base64::encode(opening)),
        ..bundle.clone()
    }
}

#[test]
fn polycommit_weights_prove_verify_and_bind_the_registered_commitment() {
    for name in ["digits-mlp", "digits-cnn"] {
        let model = BundledModel::find(name).unwrap().quantized().unwrap();
        let (p, params) = prover(&model, Visibility::Committed);
        let plan = p.verifier_key().circuit().plan().clone();
        assert!(plan.weight_store.columns() >= 1, "{name}: {plan:?}");
        let x = digit(&model, 3);
        let bundle = p.prove(&x).unwrap().bundle;
        let registered = polycommit::commitments(&params, &model, plan.weight_store, None).unwrap();
        assert_eq!(bundle.model_commitment, Some(to_hex(&registered)), "{name}");
        let claim = verify(p.verifier_key(), &bundle).unwrap();
        let engine = Engine::default().run(&model, &x).unwrap();
        assert_eq!(claim.output, engine.output().data, "{name}");
        // Neither a weight nor an input value in the bundle.
        let json: serde_json::Value = serde_json::from_str(&bundle_json(&bundle)).unwrap();
        assert!(json["input"].is_null(), "{json}");
        let text = json.to_string();
        assert!(!text.contains("\"weights\""), "{name}");

        // A weight update: the same key, another commitment.
        let changed = Arc::new(one_weight_changed(&model));
        let circuit = p.verifier_key().circuit().with_weights(changed).unwrap();
        let updated = Prover::for_circuit(name, circuit, params.clone()).unwrap();
        assert_eq!(
            updated.verifier_key().vk_digest(),
            p.verifier_key().vk_digest()
        );
        let other = updated.prove(&x).unwrap().bundle;
        assert_ne!(other.model_commitment, bundle.model_commitment);
        assert!(verify(p.verifier_key(), &other).is_ok(), "{name}");
        // Its proof claimed for the original weights: the opening fails.
        let relabelled = ProofBundle {
            model_commitment: bundle.model_commitment.clone(),
            ..other.clone()
        };
        assert_eq!(
            verify(p.verifier_key(), &relabelled),
            Err(VerifyError::Rejected),
            "{name}"
        );
        // The original proof's opening moved onto the other proof (bound
        // to its own proof), and each opening with any byte changed.
        let opening = base64::decode(bundle.weights_opening.as_ref().unwrap()).unwrap();
        assert_eq!(
            verify(p.verifier_key(), &with_opening(&relabelled, &opening)),
            Err(VerifyError::Rejected)
        );
        for i in (0..opening.len()).step_by(7) {
            let mut tampered = opening.clone();
            tampered[i] ^= 1;
            assert!(
                verify(p.verifier_key(), &with_opening(&bundle, &tampered)).is_err(),
                "{name}: byte {i} of the opening"
            );
        }
        assert!(verify(p.verifier_key(), &with_opening(&bundle, &opening[1..])).is_err());
        let without = ProofBundle {
            weights_opening: None,
            ..bundle.clone()
        };
        assert!(matches!(
            verify(p.verifier_key(), &without),
            Err(VerifyError::PublicInputMismatch(m)) if m.contains("no weights_opening")
        ));
        let no_commitment = ProofBundle {
            model_commitment: None,
            ..bundle.clone()
        };
        assert!(verify(p.verifier_key(), &no_commitment).is_err());
        let short = ProofBundle {
            model_commitment: bundle
                .model_commitment
                .as_ref()
                .map(|h| h[64..].to_string()),
            ..bundle.clone()
        };
        let err = verify(p.verifier_key(), &short).unwrap_err();
        if plan.weight_store.columns() > 1 {
            assert!(err.to_string().contains("curve points"), "{err}");
        }
        assert!(from_hex("zz").is_none());
    }
}

/// The registered commitment is what the proof's columns hold: the
/// natively computed point of each column equals the column commitment in
/// a proof less its blinding, which the opening proves; a commitment of
/// the same weights laid out over another number of columns does not open.
#[test]
fn the_registered_commitment_depends_on_every_weight_and_the_layout() {
    let model = BundledModel::find("digits-mlp")
        .unwrap()
        .quantized()
        .unwrap();
    let (p, params) = prover(&model, Visibility::Public);
    let store = p.verifier_key().circuit().plan().weight_store;
    let a = polycommit::commitments(&params, &model, store, None).unwrap();
    let b = polycommit::commitments(&params, &one_weight_changed(&model), store, None).unwrap();
    assert_eq!(a.iter().zip(&b).filter(|(x, y)| x != y).count(), 1);
    assert_eq!(from_hex(&to_hex(&a)), Some(a.clone()));
    let bundle = p.prove(&digit(&model, 0)).unwrap().bundle;
    assert!(verify(p.verifier_key(), &bundle).is_ok());
    let wider = zkinfer_circuits::plan::StoreShape {
        narrow: store.narrow + 1,
        ..store
    };
    let mut other = polycommit::commitments(&params, &model, wider, None).unwrap();
    other.remove(store.narrow);
    let relaid = ProofBundle {
        model_commitment: Some(to_hex(&other)),
        ..bundle
    };
    assert_eq!(
        verify(p.verifier_key(), &relaid),
        Err(VerifyError::Rejected)
    );
}

/// A consistent forgery of a stored weight: the first weight raised by one
/// (within its width) with every witness derived from it following, and
/// the forged model's output claimed. The circuit holds — it is another
/// model's inference — so halo2's proof verifies; the opening against the
/// registered commitment of the real weights refuses it.
#[test]
fn a_forged_stored_weight_proves_but_does_not_open() {
    use halo2_proofs::plonk::{verify_proof, SingleVerifier};
    use halo2_proofs::transcript::{Blake2bRead, Challenge255};
    use zkinfer_circuits::{Edit, Fp};
    let model = BundledModel::find("digits-mlp")
        .unwrap()
        .quantized()
        .unwrap();
    let (p, params) = prover(&model, Visibility::Public);
    let x = digit(&model, 2);
    let trace = Engine::default().run(&model, &x).unwrap();
    let forged_model = one_weight_changed(&model);
    let delta = forged_model.nodes()[0].op.clone();
    let Op::Linear(forged_linear) = delta else {
        panic!("digits-mlp starts with a linear layer")
    };
    let Op::Linear(linear) = &model.nodes()[0].op else {
        unreachable!()
    };
    let raise = forged_linear.weight.data[0] - linear.weight.data[0];
    // The store is laid out first: cell 0 is the first weight.
    let circuit = p
        .verifier_key()
        .circuit()
        .with_trace(trace)
        .unwrap()
        .forged([(0, Edit::Add(zkinfer_circuits::field::fe(raise)))])
        .recording();
    let claimed = Engine::default().run(&forged_model, &x).unwrap();
    let instances: Vec<Fp> = x
        .data
        .iter()
        .chain(&claimed.output().data)
        .map(|&v| zkinfer_circuits::field::fe(v))
        .collect();
    let (proof, opening) = p.prove_with_opening(circuit.clone(), &instances).unwrap();
    assert_eq!(circuit.assigned()[0].name, "stored weight");
    assert_eq!(
        circuit.public_cells(),
        instances,
        "the forged output is claimed"
    );
    let strategy = SingleVerifier::new(&params);
    let mut transcript = Blake2bRead::<_, _, Challenge255<_>>::init(&proof[..]);
    let key = p.verifier_key();
    assert!(
        verify_proof(
            &params,
            key.vk(),
            strategy,
            &[&[&instances]],
            &mut transcript
        )
        .is_ok(),
        "the circuit alone accepts another model's inference"
    );
    let opening = opening.unwrap();
    let plan = key.circuit().plan();
    let columns = polycommit::store_columns(plan);
    let in_proof = polycommit::proof_columns(&proof, &columns).unwrap();
    let blind_rows = polycommit::blind_rows(plan);
    assert!(!polycommit::verify_opening(
        &params,
        &opening.registered,
        &in_proof,
        blind_rows,
        &proof,
        &opening.proof
    ));
    // The weights the proof holds open only to their own commitment,
    // which is not the registered one.
    let forged_registered =
        polycommit::commitments(&params, &forged_model, plan.weight_store, None).unwrap();
    assert_ne!(forged_registered, opening.registered);
}

/// The contract's polycommit registrations and weights messages, every
/// refusal leaving the store byte for byte unchanged.
#[test]
fn the_contract_manages_polycommit_weights_and_refuses_what_it_must() {
    use zkinfer_verifier::contract::*;
    let model = BundledModel::find("digits-mlp")
        .unwrap()
        .quantized()
        .unwrap();
    let (p, params) = prover(&model, Visibility::Public);
    let key = ModelKey::of(p.verifier_key());
    let mut store = MemoryStore::default();
    let cached = params.clone();
    let mut cache = KeyCache::with_params(move |_| cached.clone());
    let admin = InstantiateMsg {
        admin: "admin".into(),
    };
    instantiate(&mut store, admin).unwrap();
    // Refusals with a cache of their own: keys rebuilt from the store.
    let refused = |store: &mut MemoryStore, sender: &str, msg: ExecuteMsg, needle: &str| {
        let before = serde_json::to_vec(&*store).unwrap();
        let cached = params.clone();
        let mut cache = KeyCache::with_params(move |_| cached.clone());
        let err = execute(store, &mut cache, sender, msg)
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{err:?} lacks {needle:?}");
        assert_eq!(serde_json::to_vec(&*store).unwrap(), before, "{err}");
    };
    let register = |key: ModelKey, owner: Option<&str>| ExecuteMsg::RegisterModel {
        name: "mlp".into(),
        verifier_key: key,
        owner: owner.map(Into::into),
    };
    // The weights themselves instead of the architecture: refused, they
    // would be published.
    let with_weights = ModelKey {
        model: base64::encode(&model.to_bytes()),
        ..key.clone()
    };
    let msg = register(with_weights, None);
    refused(
        &mut store,
        "admin",
        msg,
        "registering them would publish them",
    );
    let fixed = Prover::new("mlp", model.clone(), Visibility::Public, params.clone()).unwrap();
    let fixed_key = ModelKey::of(fixed.verifier_key());
    let msg = register(fixed_key.clone(), Some("bob"));
    refused(&mut store, "admin", msg, "has no owner");
    execute(
        &mut store,
        &mut cache,
        "admin",
        register(fixed_key.clone(), None),
    )
    .unwrap();
    execute(
        &mut store,
        &mut cache,
        "admin",
        register(key.clone(), Some("bob")),
    )
    .unwrap();
    let id = key.vk_digest.clone();

    let x = digit(&model, 2);
    let bundle = p.prove(&x).unwrap().bundle;
    let hex = bundle.model_commitment.clone().unwrap();
    let accept = |model_id: &str, hex: &str, label: &str| ExecuteMsg::AcceptWeights {
        model_id: model_id.into(),
        model_commitment: hex.into(),
        label: label.into(),
    };
    let msg = accept(&fixed_key.vk_digest, &hex, "v1");
    refused(&mut store, "admin", msg, "only polycommit models");
    refused(
        &mut store,
        "carol",
        accept(&id, &hex, "v1"),
        "neither the admin nor",
    );
    refused(&mut store, "bob", accept(&id, &hex, ""), "label must be");
    refused(
        &mut store,
        "bob",
        accept(&id, &hex, "v\n1"),
        "control characters",
    );
    refused(
        &mut store,
        "bob",
        accept(&id, &hex[64..], "v1"),
        "curve points",
    );
    refused(&mut store, "bob", accept(&id, "zz", "v1"), "curve points");
    refused(
        &mut store,
        "bob",
        accept(&"ab".repeat(32), &hex, "v1"),
        "unknown model",
    );
    let submit = |bundle: &ProofBundle| ExecuteMsg::SubmitInference {
        model_id: id.clone(),
        proof_bundle: Box::new(bundle.clone()),
    };
    refused(&mut store, "carol", submit(&bundle), "are not accepted");
    // Accepted in another spelling: the id, and the record, are the same.
    let upper = hex.to_ascii_uppercase();
    execute(&mut store, &mut cache, "bob", accept(&id, &upper, "v1")).unwrap();
    refused(
        &mut store,
        "admin",
        accept(&id, &hex, "v1"),
        "accepted already",
    );
    let listed = query(
        &store,
        QueryMsg::Weights {
            model_id: id.clone(),
            start_after: None,
            limit: None,
        },
    );
    let Ok(QueryResponse::Weights(listed)) = listed else {
        panic!("{listed:?}")
    };
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].model_commitment, hex);
    let weights = listed[0].weights_id.clone();
    assert_eq!(weights, weights_id(&from_hex(&hex).unwrap()));

    // A bundle without a commitment, or with an opening moved: refused.
    let bare = ProofBundle {
        model_commitment: None,
        ..bundle.clone()
    };
    refused(
        &mut store,
        "carol",
        submit(&bare),
        "needs a model_commitment",
    );
    let other = p.prove(&digit(&model, 3)).unwrap().bundle;
    let moved = ProofBundle {
        weights_opening: other.weights_opening.clone(),
        ..bundle.clone()
    };
    refused(&mut store, "carol", submit(&moved), "invalid proof");
    let r = execute(&mut store, &mut cache, "carol", submit(&bundle)).unwrap();
    let attested = r.attestation.unwrap().attestation;
    assert_eq!(attested.weights_id.as_deref(), Some(weights.as_str()));
    let output = |weights_id: Option<String>| QueryMsg::Output {
        model_id: id.clone(),
        input_digest: attested.input_digest.clone(),
        weights_id,
    };
    assert!(query(&store, output(Some(weights.clone()))).is_ok());
    // Without the weights' id, the index holds no output for the input.
    assert!(query(&store, output(None)).is_err());

    let retire = |sender: &str, weights_id: &str| {
        let msg = ExecuteMsg::RetireWeights {
            model_id: id.clone(),
            weights_id: weights_id.into(),
            reason: "withdrawn".into(),
        };
        (sender.to_string(), msg)
    };
    let (s, msg) = retire("carol", &weights);
    refused(&mut store, &s, msg, "neither the admin nor");
    let (s, msg) = retire("bob", &"cd".repeat(32));
    refused(&mut store, &s, msg, "are not accepted");
    let (s, msg) = retire("bob", &weights);
    execute(&mut store, &mut cache, &s, msg).unwrap();
    let (s, msg) = retire("admin", &weights);
    refused(&mut store, &s, msg, "were retired");
    refused(&mut store, "carol", submit(&other), "were retired");
    refused(
        &mut store,
        "bob",
        accept(&id, &hex, "v1 back"),
        "cannot be accepted again",
    );
    let Ok(QueryResponse::Attestation(info)) = query(&store, output(Some(weights))) else {
        panic!("the output is still readable")
    };
    assert_eq!(info.weights_retired.unwrap().reason, "withdrawn");
}

/// With the owner's secret the registered commitment is blinded (hiding),
/// the proofs open to it and to nothing else — not to the unblinded
/// commitment, nor to another secret's — and the verifier checks them as
/// any other.
#[test]
fn a_weights_secret_makes_the_commitment_hiding_and_proofs_open_to_it_only() {
    use zkinfer_circuits::polycommit::WeightsSecret;
    let model = BundledModel::find("digits-cnn")
        .unwrap()
        .quantized()
        .unwrap();
    let (p, params) = prover(&model, Visibility::Public);
    let store = p.verifier_key().circuit().plan().weight_store;
    let secret = WeightsSecret::from_hex(&"5a".repeat(32)).unwrap();
    let other = WeightsSecret::from_hex(&"a5".repeat(32)).unwrap();
    let hiding = polycommit::commitments(&params, &model, store, Some(&secret)).unwrap();
    let plain = polycommit::commitments(&params, &model, store, None).unwrap();
    let others = polycommit::commitments(&params, &model, store, Some(&other)).unwrap();
    assert!(hiding.iter().zip(&plain).all(|(h, p)| h != p));
    let p = p.with_weights_secret(Some(secret));
    let bundle = p.prove(&digit(&model, 6)).unwrap().bundle;
    assert_eq!(bundle.model_commitment, Some(to_hex(&hiding)));
    let claim = verify(p.verifier_key(), &bundle).unwrap();
    assert_eq!(claim.model_commitment, Some(to_hex(&hiding)));
    for (what, points) in [("unblinded", &plain), ("another secret's", &others)] {
        let relabelled = ProofBundle {
            model_commitment: Some(to_hex(points)),
            ..bundle.clone()
        };
        assert_eq!(
            verify(p.verifier_key(), &relabelled),
            Err(VerifyError::Rejected),
            "{what} commitment"
        );
    }
    // A prover without the secret opens to the unblinded commitment only.
    let (plain_prover, _) = prover(&model, Visibility::Public);
    let unblinded = plain_prover.prove(&digit(&model, 6)).unwrap().bundle;
    assert_eq!(unblinded.model_commitment, Some(to_hex(&plain)));
    let claimed_hiding = ProofBundle {
        model_commitment: Some(to_hex(&hiding)),
        ..unblinded
    };
    assert_eq!(
        verify(p.verifier_key(), &claimed_hiding),
        Err(VerifyError::Rejected)
    );
}
