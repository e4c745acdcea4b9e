//! Real proofs: the bundled models prove and verify, every held-out digit's
//! verified output equals the engine's, and every kind of tampering is
//! rejected with the right error.

use std::sync::OnceLock;
use zkinfer_models::bundled::{BundledModel, BUNDLED};
use zkinfer_models::dataset::{digits, Split};
use zkinfer_models::Engine;
use zkinfer_prover::{bundle_json, Prover};
use zkinfer_quant::{QuantizedModel, Tensor};
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
    let k = VerifierKey::k_for(&model, visibility).unwrap();
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
            proof: zkinfer_verifier::encode_hex(&flipped),
            ..bundle.clone()
        };
        assert_eq!(
            verify(&key, &forged),
            Err(VerifyError::Rejected),
            "byte {position}"
        );
    }
    // One proof, one encoding: a cut proof or extra bytes are malformed.
    let short = ProofBundle {
        proof: bundle.proof[..bundle.proof.len() - 64].to_string(),
        ..bundle.clone()
    };
    assert!(matches!(
        verify(&key, &short),
        Err(VerifyError::Malformed(_))
    ));
    let long = ProofBundle {
        proof: format!("{}00", bundle.proof),
        ..bundle.clone()
    };
    assert!(matches!(
        verify(&key, &long),
        Err(VerifyError::Malformed(_))
    ));
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
    let other = text.replace("zkinfer/proof@1", "zkinfer/proof@2");
    let err = ProofBundle::from_json(&other).unwrap_err();
    assert!(
        matches!(&err, VerifyError::Malformed(m) if m.contains("proof@2")),
        "{err}"
    );
    let mut bad_hex = bundle.clone();
    bad_hex.proof.replace_range(0..2, "zz");
    let (_, key) = valid();
    assert!(matches!(
        verify(&key, &bad_hex),
        Err(VerifyError::Malformed(_))
    ));
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
        let circuit = VerifierKey::plan_circuit(mlp_model(), Visibility::Public).unwrap();
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
