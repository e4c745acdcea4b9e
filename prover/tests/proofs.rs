//! Real proofs: the bundled models prove and verify, every held-out digit's
//! verified output equals the engine's, and every kind of tampering is
//! rejected with the right error.

use pasta_curves::group::{Curve, Group};
use pasta_curves::vesta;
use std::sync::OnceLock;
use zkinfer_models::bundled::{BundledModel, BUNDLED};
use zkinfer_models::dataset::{digits, Split};
use zkinfer_models::Engine;
use zkinfer_prover::{bundle_json, Prover};
use zkinfer_quant::{Op, QuantizedModel, Tensor};
use zkinfer_verifier::base64;
use zkinfer_verifier::commitments::KeyCommitments;
use zkinfer_verifier::{
    verify, verify_batch, IpaParams, ProofBundle, VerifierKey, VerifyError, Visibility,
};

fn params(k: u32) -> IpaParams {
    static K9: OnceLock<IpaParams> = OnceLock::new();
    assert_eq!(k, 9, "the bundled models plan k = 9");
    K9.get_or_init(|| IpaParams::new(9)).clone()
}

fn prover(name: &str, visibility: Visibility) -> Prover {
    let model = BundledModel::find(name).unwrap().quantized().unwrap();
    let k = VerifierKey::k_for(&model, visibility, zkinfer_circuits::Profile::Compact).unwrap();
    Prover::new(name, model, visibility, params(k)).unwrap()
}

fn digit(model: &QuantizedModel, index: usize) -> Tensor {
    let test = digits(Split::Test).unwrap();
    let x: Vec<f64> = test.inputs[index].iter().map(|&p| p as f64).collect();
    model.quantize_input(&x).unwrap()
}

fn mlp_model() -> QuantizedModel {
    BundledModel::find("digits-mlp")
        .unwrap()
        .quantized()
        .unwrap()
}

/// A valid bundle of digits-mlp on held-out digit 3, and its key.
fn valid() -> (ProofBundle, VerifierKey) {
    static VALID: OnceLock<(ProofBundle, VerifierKey)> = OnceLock::new();
    VALID
        .get_or_init(|| {
            let p = prover("digits-mlp", Visibility::Public);
            let bundle = p.prove(&digit(&mlp_model(), 3)).unwrap().bundle;
            (bundle, p.verifier_key().clone())
        })
        .clone()
}

#[test]
fn held_out_digits_verify_to_the_engines_outputs() {
    let test = digits(Split::Test).unwrap();
    for bundled in BUNDLED {
        let p = prover(bundled.name, Visibility::Public);
        let model = bundled.quantized().unwrap();
        let inputs: Vec<Tensor> = (0..50).map(|i| digit(&model, i)).collect();
        let traces = Engine::default().run_batch(&model, &inputs).unwrap();
        let bundles: Vec<ProofBundle> = inputs.iter().map(|x| p.prove(x).unwrap().bundle).collect();
        let claims = verify_batch(p.verifier_key(), &bundles).unwrap();
        let mut correct = 0;
        for (i, (claim, trace)) in claims.iter().zip(&traces).enumerate() {
            assert_eq!(
                claim.output,
                trace.output().data,
                "{} digit {i}",
                bundled.name
            );
            assert_eq!(claim.input.as_ref(), Some(&trace.input().data));
            correct += usize::from(claim.class == test.labels[i]);
        }
        assert!(
            correct >= 47,
            "{}: {correct} of 50 verified classes are right",
            bundled.name
        );
        // Each also verifies alone.
        assert_eq!(verify(p.verifier_key(), &bundles[0]).unwrap(), claims[0]);
    }
}

#[test]
fn bundle_files_round_trip() {
    let (bundle, key) = valid();
    let text = bundle_json(&bundle);
    assert!(
        text.contains("\"class\""),
        "the file carries the class for people"
    );
    let back = ProofBundle::from_json(&text).unwrap();
    assert_eq!(back, bundle);
    assert!(verify(&key, &back).is_ok());
}

#[test]
fn a_changed_output_or_input_is_rejected() {
    let (bundle, key) = valid();
    let mut forged = bundle.clone();
    forged.output.values[0] += 1;
    assert_eq!(verify(&key, &forged), Err(VerifyError::Rejected));
    let mut forged = bundle.clone();
    let best = forged.output.values.iter().copied().max().unwrap();
    forged.output.values[0] = best + 1; // claim class 0
    assert_eq!(verify(&key, &forged), Err(VerifyError::Rejected));
    let mut forged = bundle;
    forged.input.as_mut().unwrap().values[20] += 1;
    assert_eq!(verify(&key, &forged), Err(VerifyError::Rejected));
}

#[test]
fn a_flipped_proof_byte_is_rejected() {
    let (bundle, key) = valid();
    let bytes = bundle.proof_bytes().unwrap();
    for position in [0, 1, bytes.len() / 2, bytes.len() - 1] {
        let mut flipped = bytes.clone();
        flipped[position] ^= 0x01;
        let forged = ProofBundle {
            proof: base64::encode(&flipped),
            ..bundle.clone()
        };
        assert_eq!(
            verify(&key, &forged),
            Err(VerifyError::Rejected),
            "byte {position}"
        );
    }
    // One proof, one encoding: a cut proof or extra bytes are malformed.
    for cut in [1, 32, bytes.len() / 2] {
        let short = ProofBundle {
            proof: base64::encode(&bytes[..bytes.len() - cut]),
            ..bundle.clone()
        };
        let err = verify(&key, &short).unwrap_err();
        assert!(
            matches!(&err, VerifyError::Malformed(m) if m.contains("ends early")),
            "{cut} bytes cut: {err}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    let long = ProofBundle {
        proof: base64::encode(&longer),
        ..bundle.clone()
    };
    let err = verify(&key, &long).unwrap_err();
    assert!(
        matches!(&err, VerifyError::Malformed(m) if m.contains("1 bytes after its end")),
        "{err}"
    );
    assert!(matches!(
        verify_batch(&key, &[long]),
        Err(VerifyError::InBatch { index: 0, .. })
    ));
}

#[test]
fn another_models_key_refuses_the_bundle() {
    let (bundle, _) = valid();
    let cnn = prover("digits-cnn", Visibility::Public);
    assert!(matches!(
        verify(cnn.verifier_key(), &bundle),
        Err(VerifyError::WrongModel { .. })
    ));
    // Same model, private input: another circuit.
    let private = prover("digits-mlp", Visibility::Private);
    assert_eq!(
        verify(private.verifier_key(), &bundle),
        Err(VerifyError::WrongVisibility {
            expected: "private",
            found: "public"
        })
    );
    // A bundle that lies about its model digest meets the wrong circuit.
    let (bundle, key) = valid();
    let mut lying = bundle.clone();
    lying.vk_digest = cnn.verifier_key().vk_digest().to_string();
    assert!(matches!(
        verify(&key, &lying),
        Err(VerifyError::WrongKey { .. })
    ));
}

#[test]
fn truncated_or_malformed_bundles_are_malformed() {
    let (bundle, _) = valid();
    let text = bundle_json(&bundle);
    for cut in [0, 10, text.len() / 2, text.len() - 3] {
        assert!(
            matches!(
                ProofBundle::from_json(&text[..cut]),
                Err(VerifyError::Malformed(_))
            ),
            "cut at {cut}"
        );
    }
    let other = text.replace("zkinfer/proof@2", "zkinfer/proof@3");
    let err = ProofBundle::from_json(&other).unwrap_err();
    assert!(
        matches!(&err, VerifyError::Malformed(m) if m.contains("proof@3")),
        "{err}"
    );
    let (_, key) = valid();
    // Not base64, or base64 that is not the one encoding of its bytes.
    for damaged in ["!!", "="] {
        let mut bad = bundle.clone();
        bad.proof.replace_range(0..damaged.len(), damaged);
        let err = verify(&key, &bad).unwrap_err();
        assert!(
            matches!(&err, VerifyError::Malformed(m) if m.contains("base64")),
            "{damaged:?}: {err}"
        );
    }
    let mut unpadded = bundle.clone();
    unpadded.proof = unpadded.proof.trim_end_matches('=').to_string();
    if unpadded.proof != bundle.proof {
        assert!(matches!(
            verify(&key, &unpadded),
            Err(VerifyError::Malformed(_))
        ));
    }
}

/// A bundle of the first format (`zkinfer/proof@1`, the proof in hex) is
/// read as the same bundle; its hex must be hex.
#[test]
fn first_format_bundles_are_still_read() {
    let (bundle, key) = valid();
    let hex: String = bundle
        .proof_bytes()
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut old: serde_json::Value = serde_json::from_str(&bundle_json(&bundle)).unwrap();
    old["format"] = "zkinfer/proof@1".into();
    old["proof"] = hex.clone().into();
    let read = ProofBundle::from_json(&old.to_string()).unwrap();
    assert_eq!(read, bundle);
    assert!(verify(&key, &read).is_ok());
    old["proof"] = format!("zz{}", &hex[2..]).into();
    let err = ProofBundle::from_json(&old.to_string()).unwrap_err();
    assert!(
        matches!(&err, VerifyError::Malformed(m) if m.contains("not hex")),
        "{err}"
    );
}

#[test]
fn public_inputs_of_the_wrong_shape_scale_or_bound_are_a_mismatch() {
    let (bundle, key) = valid();
    let mut short = bundle.clone();
    short.output.values.pop();
    assert!(matches!(
        verify(&key, &short),
        Err(VerifyError::PublicInputMismatch(_))
    ));
    let mut rescaled = bundle.clone();
    rescaled.output.scale += 1;
    assert!(matches!(
        verify(&key, &rescaled),
        Err(VerifyError::PublicInputMismatch(_))
    ));
    let mut huge = bundle.clone();
    huge.input.as_mut().unwrap().values[0] = 1 << 40;
    assert!(matches!(
        verify(&key, &huge),
        Err(VerifyError::PublicInputMismatch(_))
    ));
    let mut missing = bundle;
    missing.input = None;
    assert!(matches!(
        verify(&key, &missing),
        Err(VerifyError::PublicInputMismatch(_))
    ));
}

#[test]
fn private_inputs_stay_out_of_the_bundle() {
    let p = prover("digits-cnn", Visibility::Private);
    let model = BundledModel::find("digits-cnn")
        .unwrap()
        .quantized()
        .unwrap();
    let proved = p.prove(&digit(&model, 7)).unwrap();
    assert!(proved.bundle.input.is_none());
    let claim = verify(p.verifier_key(), &proved.bundle).unwrap();
    assert_eq!(claim.output, proved.trace.output().data);
    assert_eq!(claim.input, None);
    let mut forged = proved.bundle;
    forged.output.values[3] -= 1;
    assert_eq!(
        verify(p.verifier_key(), &forged),
        Err(VerifyError::Rejected)
    );
}

#[test]
fn a_batch_names_its_bad_bundle() {
    let p = prover("digits-mlp", Visibility::Public);
    let model = mlp_model();
    let mut bundles: Vec<ProofBundle> = (10..14)
        .map(|i| p.prove(&digit(&model, i)).unwrap().bundle)
        .collect();
    assert_eq!(verify_batch(p.verifier_key(), &bundles).unwrap().len(), 4);
    bundles[2].output.values[1] += 1;
    match verify_batch(p.verifier_key(), &bundles) {
        Err(VerifyError::InBatch { index: 2, error }) => assert_eq!(*error, VerifyError::Rejected),
        other => panic!("{other:?}"),
    }
}

/// A verifying key rebuilt from its stored commitments (the vendored
/// halo2's one addition) is the same key: same digest, same verdicts; a
/// damaged or foreign commitment list is refused, never trusted.
#[test]
fn a_key_rebuilt_from_its_commitments_is_the_same_key() {
    let (bundle, key) = valid();
    let commitments = key.commitments();
    let rebuild = |bytes: &[u8], digest: &str| {
        let circuit = VerifierKey::plan_circuit(
            mlp_model(),
            Visibility::Public,
            zkinfer_circuits::Profile::Compact,
        )
        .unwrap();
        VerifierKey::from_commitments(circuit, params(9), bytes, digest)
    };
    let rebuilt = rebuild(&commitments, key.vk_digest()).unwrap();
    assert_eq!(rebuilt.vk_digest(), key.vk_digest());
    assert_eq!(rebuilt.proof_bytes(), key.proof_bytes());
    assert!(verify(&rebuilt, &bundle).is_ok());
    let mut changed = bundle.clone();
    changed.output.values[0] += 1;
    assert_eq!(verify(&rebuilt, &changed), Err(VerifyError::Rejected));

    // Another point (the first fixed commitment replaced by the second).
    let mut swapped = commitments.clone();
    swapped.copy_within(40..72, 8);
    let err = rebuild(&swapped, key.vk_digest()).unwrap_err();
    assert!(err.to_string().contains("rebuild key"), "{err}");
    // Bytes that are no point, a wrong count, a truncation.
    let mut flipped = commitments.clone();
    flipped[8] ^= 0x01;
    assert!(rebuild(&flipped, key.vk_digest()).is_err());
    let mut miscounted = commitments.clone();
    miscounted[0] += 1;
    let err = rebuild(&miscounted, key.vk_digest()).unwrap_err();
    assert!(err.to_string().contains("counts"), "{err}");
    for cut in [0, 5, commitments.len() - 1] {
        assert!(
            rebuild(&commitments[..cut], key.vk_digest()).is_err(),
            "cut at {cut}"
        );
    }
    // The right commitments for another model's circuit do not fit.
    let cnn = prover("digits-cnn", Visibility::Public);
    let err = rebuild(&cnn.verifier_key().commitments(), key.vk_digest()).unwrap_err();
    assert!(err.to_string().contains("commitments"), "{err}");
}

/// digits-mlp with one weight of its first layer one larger: the same
/// architecture, another model.
fn mlp_with_one_weight_changed() -> QuantizedModel {
    let model = mlp_model();
    let mut nodes = model.nodes().to_vec();
    match &mut nodes[0].op {
        Op::Linear(linear) => linear.weight.data[0] += 1,
        other => panic!("digits-mlp starts with {other:?}"),
    }
    QuantizedModel::new(model.name(), model.input().clone(), nodes, None).unwrap()
}

/// What a contract does at registration: the registrar's claimed
/// commitments are checked against the model's circuit all at once. The
/// key's own commitments pass; any other claim — another point, two
/// points whose sum is unchanged, the consistent key of a model one weight
/// away — is refused.
#[test]
fn checked_commitments_are_accepted_only_for_their_own_model() {
    let (bundle, key) = valid();
    let check = |model: QuantizedModel, bytes: &[u8]| {
        let circuit = VerifierKey::plan_circuit(
            model,
            Visibility::Public,
            zkinfer_circuits::Profile::Compact,
        )
        .unwrap();
        VerifierKey::from_checked_commitments(circuit, params(9), bytes)
    };
    let claimed = KeyCommitments::from_bytes(&key.commitments()).unwrap();
    let checked = check(mlp_model(), &key.commitments()).unwrap();
    assert_eq!(checked.vk_digest(), key.vk_digest());
    assert!(verify(&checked, &bundle).is_ok());

    let refused = |forged: &KeyCommitments, what: &str| {
        let err = check(mlp_model(), &forged.to_bytes()).unwrap_err();
        assert!(
            err.to_string().contains("not those of the model's circuit"),
            "{what}: {err}"
        );
    };
    // One fixed commitment replaced by another column's.
    let mut forged = claimed.clone();
    forged.fixed[0] = forged.fixed[1];
    refused(&forged, "a fixed column's commitment replaced");
    // Two permutation commitments swapped.
    let mut forged = claimed.clone();
    forged.permutation.swap(0, 1);
    refused(&forged, "two permutation commitments swapped");
    // G added to one commitment and taken from another: the plain sum of
    // the claim is unchanged, a random combination is not.
    let g = vesta::Point::generator();
    let mut forged = claimed.clone();
    forged.fixed[0] = (vesta::Point::from(forged.fixed[0]) + g).to_affine();
    forged.permutation[0] = (vesta::Point::from(forged.permutation[0]) - g).to_affine();
    refused(&forged, "a sum-preserving forgery");

    // A consistent forgery: the true key of a model one weight away,
    // claimed for digits-mlp, and digits-mlp's key claimed for it.
    let other = mlp_with_one_weight_changed();
    let other_key = VerifierKey::new(other.clone(), Visibility::Public, params(9)).unwrap();
    assert_ne!(other_key.vk_digest(), key.vk_digest());
    refused(
        &KeyCommitments::from_bytes(&other_key.commitments()).unwrap(),
        "the key of a model one weight away",
    );
    let err = check(other, &key.commitments()).unwrap_err();
    assert!(err.to_string().contains("not those"), "{err}");

    // Counts that do not fit the circuit.
    let mut short = claimed.clone();
    short.permutation.pop();
    let err = check(mlp_model(), &short.to_bytes()).unwrap_err();
    assert!(err.to_string().contains("do not fit"), "{err}");
}

/// The commitments' byte form round-trips, and refuses bytes that are not
/// points or do not match their counts.
#[test]
fn key_commitments_round_trip_and_refuse_damage() {
    let (_, key) = valid();
    let bytes = key.commitments();
    let parsed = KeyCommitments::from_bytes(&bytes).unwrap();
    assert_eq!(parsed.to_bytes(), bytes);
    assert_eq!(
        bytes.len(),
        8 + 32 * (parsed.fixed.len() + parsed.permutation.len())
    );
    let mut miscounted = bytes.clone();
    miscounted[4] += 1;
    assert!(KeyCommitments::from_bytes(&miscounted).is_err());
    assert!(KeyCommitments::from_bytes(&bytes[..7]).is_err());
    // Some x has no y on the curve: a damaged encoding is refused.
    let refused = (0u8..=255).any(|b| {
        let mut damaged = bytes.clone();
        damaged[8] = b;
        KeyCommitments::from_bytes(&damaged).is_err()
    });
    assert!(refused);
}

/// The wide profile with real proofs: digits-cnn proves and verifies to
/// the engine's output; a flipped proof byte or a changed output is
/// rejected; the compact key refuses a wide bundle by its profile, and a
/// bundle relabelled compact by its key; the wide key's commitments are
/// checked like the compact one's, and the compact key's are refused for
/// the wide circuit.
#[test]
fn the_wide_profile_proves_verifies_and_refuses_tampering() {
    use zkinfer_circuits::Profile;
    let model = BundledModel::find("digits-cnn")
        .unwrap()
        .quantized()
        .unwrap();
    let circuit =
        VerifierKey::plan_circuit(model.clone(), Visibility::Public, Profile::Wide).unwrap();
    assert_eq!(circuit.plan().profile, Profile::Wide);
    let wide = Prover::for_circuit("digits-cnn", circuit, params(9)).unwrap();
    let x = digit(&model, 5);
    let proved = wide.prove(&x).unwrap();
    assert_eq!(proved.bundle.profile, Profile::Wide);
    let claim = verify(wide.verifier_key(), &proved.bundle).unwrap();
    assert_eq!(
        claim.output,
        Engine::default().run(&model, &x).unwrap().output().data
    );
    assert!(bundle_json(&proved.bundle).contains("\"profile\": \"wide\""));

    let key = wide.verifier_key();
    let bytes = proved.bundle.proof_bytes().unwrap();
    for position in [0, bytes.len() / 3, bytes.len() - 1] {
        let mut flipped = bytes.clone();
        flipped[position] ^= 0x01;
        let forged = ProofBundle {
            proof: base64::encode(&flipped),
            ..proved.bundle.clone()
        };
        assert_eq!(
            verify(key, &forged),
            Err(VerifyError::Rejected),
            "byte {position}"
        );
    }
    let mut forged = proved.bundle.clone();
    forged.output.values[1] += 1;
    assert_eq!(verify(key, &forged), Err(VerifyError::Rejected));

    let compact = prover("digits-cnn", Visibility::Public);
    assert_ne!(compact.verifier_key().vk_digest(), key.vk_digest());
    assert!(matches!(
        verify(compact.verifier_key(), &proved.bundle),
        Err(VerifyError::WrongProfile {
            expected: "compact",
            found: "wide"
        })
    ));
    let relabelled = ProofBundle {
        profile: Profile::Compact,
        ..proved.bundle.clone()
    };
    assert!(matches!(
        verify(compact.verifier_key(), &relabelled),
        Err(VerifyError::WrongKey { .. })
    ));

    let check = |profile: Profile, bytes: &[u8]| {
        let circuit =
            VerifierKey::plan_circuit(model.clone(), Visibility::Public, profile).unwrap();
        VerifierKey::from_checked_commitments(circuit, params(9), bytes)
    };
    let checked = check(Profile::Wide, &key.commitments()).unwrap();
    assert_eq!(checked.vk_digest(), key.vk_digest());
    assert!(check(Profile::Wide, &compact.verifier_key().commitments()).is_err());
    assert!(check(Profile::Compact, &key.commitments()).is_err());
}

/// A committed input, with real proofs: the bundle carries the input's
/// commitment and no input value; it verifies, and the claim names the
/// commitment the library computes from the input and the blinding; a
/// commitment with another blinding, a changed output, input values added
/// or the commitment removed are refused.
#[test]
fn a_committed_input_proves_and_binds_its_commitment() {
    use zkinfer_circuits::commitment::{commit, to_hex};
    use zkinfer_circuits::{Fp, Profile};
    let model = mlp_model();
    let circuit =
        VerifierKey::plan_circuit(model.clone(), Visibility::Committed, Profile::Compact).unwrap();
    assert_eq!(circuit.plan().k, 9, "the commitment fits beside the model");
    let p = Prover::for_circuit("digits-mlp", circuit, params(9)).unwrap();
    let x = digit(&model, 3);
    let r = Fp::from(0xb11d);
    let proved = p.prove_with_blinding(&x, Some(r)).unwrap();
    assert_eq!(proved.blinding, Some(r));
    let bundle = proved.bundle;
    assert!(bundle.input.is_none());
    let expected = to_hex(commit(&x.data, model.input().bits, Some(r)).unwrap());
    assert_eq!(bundle.input_commitment.as_deref(), Some(expected.as_str()));
    let claim = verify(p.verifier_key(), &bundle).unwrap();
    assert_eq!(claim.input_commitment.as_deref(), Some(expected.as_str()));
    assert_eq!(claim.input, None);
    assert!(!bundle_json(&bundle).contains(&format!("{:?}", x.data)));

    // A fresh blinding each time when none is given.
    let again = p.prove(&x).unwrap();
    assert_ne!(again.blinding, Some(r));
    assert_ne!(again.bundle.input_commitment, bundle.input_commitment);

    let key = p.verifier_key();
    let other = to_hex(commit(&x.data, model.input().bits, Some(r + Fp::one())).unwrap());
    let forged = ProofBundle {
        input_commitment: Some(other),
        ..bundle.clone()
    };
    assert_eq!(verify(key, &forged), Err(VerifyError::Rejected));
    let mut forged = bundle.clone();
    forged.output.values[0] += 1;
    assert_eq!(verify(key, &forged), Err(VerifyError::Rejected));
    let with_input = ProofBundle {
        input: valid().0.input,
        ..bundle.clone()
    };
    assert!(matches!(
        verify(key, &with_input),
        Err(VerifyError::PublicInputMismatch(m)) if m.contains("carries its values")
    ));
    let without = ProofBundle {
        input_commitment: None,
        ..bundle.clone()
    };
    assert!(matches!(
        verify(key, &without),
        Err(VerifyError::PublicInputMismatch(m)) if m.contains("no input_commitment")
    ));
    let not_hex = ProofBundle {
        input_commitment: Some("zz".into()),
        ..bundle.clone()
    };
    assert!(matches!(
        verify(key, &not_hex),
        Err(VerifyError::PublicInputMismatch(m)) if m.contains("not a field element")
    ));
    // A public-input key refuses a committed bundle.
    let (_, public_key) = valid();
    assert!(verify(&public_key, &bundle).is_err());
}

/// Committed weights and a committed input together, with real proofs of
/// digits-cnn: the bundle holds no weight and no input value, only the two
/// commitments, which the claim names; the key is the architecture's, so a
/// model with one weight changed proves under it, and its proof relabelled
/// with the original weights' commitment is refused.
#[test]
fn committed_weights_and_input_prove_and_bind_both() {
    use std::sync::Arc;
    use zkinfer_circuits::commitment::{commit, to_hex};
    use zkinfer_circuits::weights::model_commitment;
    use zkinfer_circuits::{Fp, Profile, WeightVisibility};
    let model = BundledModel::find("digits-cnn")
        .unwrap()
        .quantized()
        .unwrap();
    let circuit = VerifierKey::plan_circuit_with(
        model.clone(),
        Visibility::Committed,
        WeightVisibility::Committed,
        Profile::Compact,
    )
    .unwrap();
    let k = circuit.plan().k;
    let params = IpaParams::new(k);
    let p = Prover::for_circuit("digits-cnn", circuit, params.clone()).unwrap();
    let (x, r) = (digit(&model, 5), Fp::from(77));
    let bundle = p.prove_with_blinding(&x, Some(r)).unwrap().bundle;
    let weights = to_hex(model_commitment(&model).unwrap());
    let input = to_hex(commit(&x.data, model.input().bits, Some(r)).unwrap());
    assert_eq!(bundle.model_commitment.as_deref(), Some(weights.as_str()));
    assert_eq!(bundle.input_commitment.as_deref(), Some(input.as_str()));
    assert!(bundle.input.is_none());
    let claim = verify(p.verifier_key(), &bundle).unwrap();
    assert_eq!(claim.model_commitment.as_deref(), Some(weights.as_str()));
    assert_eq!(claim.input_commitment.as_deref(), Some(input.as_str()));
    let engine = Engine::default().run(&model, &x).unwrap();
    assert_eq!(claim.output, engine.output().data);
    // No weight and no input value in the bundle.
    let json: serde_json::Value = serde_json::from_str(&bundle_json(&bundle)).unwrap();
    assert!(json["input"].is_null(), "{json}");
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert!(keys.iter().all(|k| !k.contains("weight")), "{keys:?}");

    // A weight update: one conv weight moved by one, the same key.
    let mut nodes = model.nodes().to_vec();
    let Op::Conv2d(conv) = &mut nodes[0].op else {
        panic!("digits-cnn starts with a convolution")
    };
    conv.weight.data[0] += if conv.weight.data[0] < 100 { 1 } else { -1 };
    let changed = QuantizedModel::new("changed", model.input().clone(), nodes, None).unwrap();
    let circuit = p
        .verifier_key()
        .circuit()
        .with_weights(Arc::new(changed))
        .unwrap();
    let updated = Prover::for_circuit("digits-cnn", circuit, params).unwrap();
    assert_eq!(
        updated.verifier_key().vk_digest(),
        p.verifier_key().vk_digest()
    );
    let other = updated.prove_with_blinding(&x, Some(r)).unwrap().bundle;
    assert_ne!(other.model_commitment, bundle.model_commitment);
    assert!(
        verify(p.verifier_key(), &other).is_ok(),
        "one key serves both"
    );
    let relabelled = ProofBundle {
        model_commitment: bundle.model_commitment.clone(),
        ..other.clone()
    };
    assert_eq!(
        verify(p.verifier_key(), &relabelled),
        Err(VerifyError::Rejected)
    );
    let without = ProofBundle {
        model_commitment: None,
        ..other
    };
    assert!(matches!(
        verify(p.verifier_key(), &without),
        Err(VerifyError::PublicInputMismatch(m)) if m.contains("no model_commitment")
    ));
    // A fixed-weights key refuses a committed-weights bundle.
    let fixed = VerifierKey::plan_circuit(model, Visibility::Committed, Profile::Compact).unwrap();
    let fixed = VerifierKey::for_circuit(fixed, IpaParams::new(9)).unwrap();
    assert!(verify(&fixed, &bundle).is_err());
}
