//! Fuzzing proof bundles (`zkinfer/proof@2`): mutations of a real proof of
//! digits-mlp (`tests/fixtures/digits-mlp.proof.json`) — extreme values in
//! every field, changed public integers and scales, changed or cut proof
//! base64, text-level damage — parsed and verified against the model's key.
//! Every case must be refused with an error, or verify *the same claim* as
//! the original: a mutation that changes what is proven and still verifies
//! would be a forgery. Zero panics. A polycommit bundle of the same model
//! is fuzzed the same way, with its registered points and opening too, and
//! so is a proof chain (`prove --per-layer`), with its links.
//!
//! Cost: a bundle whose public inputs still fit the model reaches halo2's
//! verifier (about 7 ms); `make test` runs 1,000 cases (about 7 s) rather
//! than 10⁴, and `ZKINFER_FUZZ_CASES` scales it (10⁶ → 10⁵).
//!
//! Regenerate the fixture after a circuit change with
//! `zkinfer prove --model digits-mlp --input examples/inputs/digit-3.json
//! --out verifier/tests/fixtures/digits-mlp.proof.json`.

use serde_json::Value;
use zkinfer_fuzz::{cases, extreme_field_cases, mutate_json_text, run, show_bytes, Rng};
use zkinfer_quant::QuantizedModel;
use zkinfer_verifier::{verify, IpaParams, ProofBundle, VerifiedClaim, VerifierKey, Visibility};

const MODEL: &str = include_str!("../../models/bundled/digits-mlp/model.json");
const BUNDLE: &str = include_str!("fixtures/digits-mlp.proof.json");

fn key() -> VerifierKey {
    let model = QuantizedModel::from_json(MODEL).unwrap();
    VerifierKey::new(model, Visibility::Public, IpaParams::new(9)).unwrap()
}

/// Parses and verifies; a bundle that verifies must claim what the
/// original does.
fn check(key: &VerifierKey, original: &VerifiedClaim, bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let Ok(bundle) = ProofBundle::from_json(text) else {
        return false;
    };
    match verify(key, &bundle) {
        Ok(claim) => {
            assert_eq!(&claim, original, "a mutated bundle verified another claim");
            true
        }
        Err(_) => false,
    }
}

/// Mostly structure-aware mutations; one case in eight changes one base64
/// character of the proof (to another digit, padding, or none), which
/// mostly only halo2's verifier can reject.
fn mutate(rng: &mut Rng, seed: &Value) -> Vec<u8> {
    if rng.one_in(8) {
        let mut doc = seed.clone();
        let proof = doc["proof"].as_str().unwrap().to_string();
        let mut chars: Vec<char> = proof.chars().collect();
        let i = rng.below(chars.len());
        chars[i] = *rng.pick(&['A', '7', 'f', '+', '/', '=', '-', ' ']);
        doc["proof"] = chars.into_iter().collect::<String>().into();
        return serde_json::to_vec(&doc).unwrap();
    }
    mutate_json_text(rng, seed)
}

#[test]
fn fuzzed_proof_bundles_are_refused_or_verify_the_same_claim() {
    let key = key();
    let seed: Value = serde_json::from_str(BUNDLE).unwrap();
    let original = verify(&key, &ProofBundle::from_json(BUNDLE).unwrap())
        .expect("the fixture verifies (regenerate it after a circuit change)");
    let report = run(
        "proof bundle",
        0xb0d1_0001,
        cases(1_000),
        |rng, _| mutate(rng, &seed),
        |bytes| check(&key, &original, bytes),
        |bytes| show_bytes(bytes),
    );
    // Mutations of the labels (`model`, `zkinfer_version`) still verify.
    assert!(report.accepted > 0, "{report:?}");
}

#[test]
fn extreme_values_in_every_bundle_field_are_refused_or_harmless() {
    let key = key();
    let seed: Value = serde_json::from_str(BUNDLE).unwrap();
    let original = verify(&key, &ProofBundle::from_json(BUNDLE).unwrap()).unwrap();
    let cases = extreme_field_cases(&seed, &mut Rng::new(0xb0d1_0002));
    run(
        "proof bundle extreme fields",
        1,
        cases.len(),
        |_, i| cases[i].clone(),
        |(_, doc)| check(&key, &original, doc.to_string().as_bytes()),
        |(what, _)| what.clone(),
    );
}

/// A polycommit bundle of digits-mlp (regenerate with `zkinfer prove
/// --model digits-mlp --input examples/inputs/digit-3.json --out
/// verifier/tests/fixtures/digits-mlp.polycommit.proof.json
/// --weights-visibility polycommit`).
const POLYCOMMIT_BUNDLE: &str = include_str!("fixtures/digits-mlp.polycommit.proof.json");

/// digits-mlp's key with polycommit weights (its architecture's).
fn polycommit_key() -> VerifierKey {
    let model = QuantizedModel::from_json(MODEL).unwrap();
    let circuit = VerifierKey::plan_circuit_with(
        model,
        Visibility::Public,
        zkinfer_circuits::WeightVisibility::Polycommit,
        zkinfer_circuits::Profile::Compact,
    )
    .unwrap();
    VerifierKey::for_circuit(circuit, IpaParams::new(9)).unwrap()
}

/// Polycommit bundles: the same mutations, and one case in three changes
/// one hex digit of the registered points or one base64 character of the
/// opening. A bundle that verifies must claim the same output *and the same
/// weights' commitment*: any other would open a proof to weights it was
/// not made with.
#[test]
fn fuzzed_polycommit_bundles_are_refused_or_verify_the_same_claim() {
    let key = polycommit_key();
    let seed: Value = serde_json::from_str(POLYCOMMIT_BUNDLE).unwrap();
    let original = verify(&key, &ProofBundle::from_json(POLYCOMMIT_BUNDLE).unwrap())
        .expect("the fixture verifies (regenerate it after a circuit change)");
    assert!(original.model_commitment.is_some());
    let report = run(
        "polycommit proof bundle",
        0xb0d1_0003,
        cases(300),
        |rng, _| {
            if !rng.one_in(3) {
                return mutate(rng, &seed);
            }
            let mut doc = seed.clone();
            let (field, digits): (&str, &[char]) = match rng.one_in(2) {
                true => ("model_commitment", &['0', '7', 'a', 'f', 'g', ' ']),
                false => ("weights_opening", &['A', '7', 'f', '+', '/', '=', '-']),
            };
            let mut chars: Vec<char> = doc[field].as_str().unwrap().chars().collect();
            let i = rng.below(chars.len());
            chars[i] = *rng.pick(digits);
            doc[field] = chars.into_iter().collect::<String>().into();
            serde_json::to_vec(&doc).unwrap()
        },
        |bytes| check(&key, &original, bytes),
        |bytes| show_bytes(bytes),
    );
    assert!(report.accepted > 0, "{report:?}");
}

/// Commitments are read from hex digits only (`u8::from_str_radix` alone
/// takes a `+`), and a claim names them in lowercase whatever the bundle's
/// spelling.
#[test]
fn commitments_have_one_spelling_in_a_claim() {
    use zkinfer_circuits::{field, polycommit};
    assert!(field::from_hex(&"+f".repeat(32)).is_none());
    assert!(polycommit::from_hex(&"+f".repeat(32)).is_none());
    let key = polycommit_key();
    let bundle = ProofBundle::from_json(POLYCOMMIT_BUNDLE).unwrap();
    let original = verify(&key, &bundle).unwrap();
    let upper = ProofBundle {
        model_commitment: bundle.model_commitment.as_ref().map(|h| h.to_uppercase()),
        ..bundle.clone()
    };
    assert_eq!(verify(&key, &upper), Ok(original));
}

/// A proof chain of digits-mlp in two segments, a committed link between
/// them (regenerate with `zkinfer prove --model digits-mlp --input
/// examples/inputs/digit-3.json --per-layer --out
/// verifier/tests/fixtures/digits-mlp.chain.json`).
const CHAIN: &str = include_str!("fixtures/digits-mlp.chain.json");

/// Proof chains: the same mutations over the whole file (the cuts, each
/// segment's fields, the links), and one case in four changes one hex
/// digit of a link commitment on one side. A chain that verifies must
/// establish the same claim; zero panics.
#[test]
fn fuzzed_proof_chains_are_refused_or_verify_the_same_claim() {
    use zkinfer_verifier::chain::segment_circuit;
    use zkinfer_verifier::{verify_chain, ChainClaim, ProofChain};
    let model = QuantizedModel::from_json(MODEL).unwrap();
    let chain = ProofChain::from_json(CHAIN).unwrap();
    let keys: Vec<VerifierKey> = (0..chain.segments.len())
        .map(|i| {
            let profile = chain.segments[i].profile;
            let circuit = segment_circuit(&model, &chain.cuts, i, Visibility::Public, profile);
            VerifierKey::for_circuit(circuit.unwrap(), IpaParams::new(9)).unwrap()
        })
        .collect();
    let original: ChainClaim = verify_chain(&model, &chain, &keys)
        .expect("the fixture verifies (regenerate it after a circuit change)");
    let seed: Value = serde_json::from_str(CHAIN).unwrap();
    let check = |bytes: &[u8]| {
        let Some(chain) = std::str::from_utf8(bytes)
            .ok()
            .and_then(|text| ProofChain::from_json(text).ok())
        else {
            return false;
        };
        match verify_chain(&model, &chain, &keys) {
            Ok(claim) => {
                assert_eq!(claim, original, "a mutated chain verified another claim");
                true
            }
            Err(_) => false,
        }
    };
    run(
        "proof chain",
        0xb0d1_0004,
        cases(300),
        |rng, _| {
            if !rng.one_in(4) {
                return mutate_json_text(rng, &seed);
            }
            let mut doc = seed.clone();
            let (segment, field) = match rng.one_in(2) {
                true => (0, "output_commitment"),
                false => (1, "input_commitment"),
            };
            let mut chars: Vec<char> = doc["segments"][segment][field]
                .as_str()
                .unwrap()
                .chars()
                .collect();
            let i = rng.below(chars.len());
            chars[i] = *rng.pick(&['0', '7', 'a', 'f', 'g', ' ']);
            doc["segments"][segment][field] = chars.into_iter().collect::<String>().into();
            serde_json::to_vec(&doc).unwrap()
        },
        |bytes| check(bytes),
        |bytes| show_bytes(bytes),
    );
}
