//! A model proven in parts: digits-mlp cut between its two layers, one real
//! proof per segment. The chain verifies to the engine's output; a segment from
//! another inference, a changed link, a segment left out, moved cuts or a
//! leaked intermediate value are each refused, by the right check.

use std::sync::{Arc, OnceLock};
use zkinfer_circuits::{Fp, ModelCircuit, Profile};
use zkinfer_models::bundled::BundledModel;
use zkinfer_models::dataset::{digits, Split};
use zkinfer_models::Engine;
use zkinfer_prover::chain::layer_cuts;
use zkinfer_prover::{ChainProver, ProfileChoice, ProvedChain, Prover};
use zkinfer_quant::{QuantizedModel, Tensor};
use zkinfer_verifier::{
    verify_chain, ChainError, IpaParams, ProofChain, VerifierKey, VerifyError, Visibility,
};

fn model() -> QuantizedModel {
    BundledModel::find("digits-mlp")
        .unwrap()
        .quantized()
        .unwrap()
}

fn digit(model: &QuantizedModel, index: usize) -> Tensor {
    let test = digits(Split::Test).unwrap();
    let x: Vec<f64> = test.inputs[index].iter().map(|&p| p as f64).collect();
    model.quantize_input(&x).unwrap()
}

fn key(circuit: ModelCircuit) -> VerifierKey {
    let k = circuit.plan().k;
    VerifierKey::for_circuit(circuit, IpaParams::new(k)).unwrap()
}

/// The chain prover of digits-mlp cut at its layers, and its segments'
/// provers (a committed input).
fn prover() -> &'static (ChainProver, Vec<Prover>) {
    static PROVER: OnceLock<(ChainProver, Vec<Prover>)> = OnceLock::new();
    PROVER.get_or_init(|| {
        let model = model();
        let cuts = layer_cuts(&model);
        let chain = ChainProver::new("digits-mlp", Arc::new(model), cuts).unwrap();
        let compact = ProfileChoice::Use(Profile::Compact);
        let circuits = chain.circuits(Visibility::Committed, compact).unwrap();
        let provers = circuits
            .into_iter()
            .map(|c| {
                let k = c.plan().k;
                Prover::for_circuit("digits-mlp", c, IpaParams::new(k)).unwrap()
            })
            .collect();
        (chain, provers)
    })
}

fn keys() -> Vec<VerifierKey> {
    prover()
        .1
        .iter()
        .map(|p| p.verifier_key().clone())
        .collect()
}

/// Proofs of held-out digits 3 and 4.
fn proved() -> &'static [ProvedChain; 2] {
    static PROVED: OnceLock<[ProvedChain; 2]> = OnceLock::new();
    let (chain, provers) = prover();
    PROVED.get_or_init(|| [3, 4].map(|i| chain.prove(&digit(&model(), i), None, provers).unwrap()))
}

#[test]
fn a_chain_verifies_to_the_engines_output_and_hides_what_flows_between() {
    let model = model();
    let cuts = layer_cuts(&model);
    assert_eq!(cuts.len(), 1, "digits-mlp has two dense layers");
    let proved = &proved()[0];
    let chain = &proved.chain;
    assert_eq!(chain.segments.len(), 2);
    let claim = verify_chain(&model, chain, &keys()).unwrap();
    let engine = Engine::default().run(&model, &digit(&model, 3)).unwrap();
    assert_eq!(claim.last.output, engine.output().data);
    assert_eq!(claim.links.len(), 1);
    // The input is public only as its commitment, opened by the blinding
    // the prover kept.
    let r = proved.blinding.expect("a committed input's blinding");
    let native =
        zkinfer_circuits::commitment::commit(&engine.input().data, model.input().bits, Some(r))
            .unwrap();
    assert_eq!(
        claim.first.input_commitment,
        Some(zkinfer_circuits::field::to_hex(native))
    );
    // No segment carries the input or an intermediate tensor's values.
    for bundle in &chain.segments[..1] {
        assert!(bundle.input.is_none() && bundle.output.values.is_empty());
        assert!(bundle.output_commitment.is_some());
    }
    // Read back from its file.
    let text = serde_json::to_string(chain).unwrap();
    assert!(ProofChain::is_chain(&text));
    assert_eq!(&ProofChain::from_json(&text).unwrap(), chain);
}

#[test]
fn a_chain_is_refused_when_its_parts_do_not_belong_together() {
    let model = model();
    let keys = keys();
    let [a, b] = proved();
    let (a, b) = (&a.chain, &b.chain);

    // A segment of another inference: each proof verifies, the link not.
    let mut mixed = a.clone();
    mixed.segments[1] = b.segments[1].clone();
    let error = verify_chain(&model, &mixed, &keys).unwrap_err();
    assert!(
        matches!(error, ChainError::BrokenLink { index: 1, .. }),
        "{error}"
    );
    assert!(error.is_rejection());

    // A link changed on both sides: neither proof verifies.
    let mut relinked = a.clone();
    let other = zkinfer_circuits::field::to_hex(Fp::from(7));
    relinked.segments[0].output_commitment = Some(other.clone());
    relinked.segments[1].input_commitment = Some(other);
    let error = verify_chain(&model, &relinked, &keys).unwrap_err();
    assert_eq!(
        error,
        ChainError::Segment {
            index: 0,
            error: VerifyError::Rejected
        }
    );

    // A segment left out, or moved cuts.
    let mut short = a.clone();
    short.segments.remove(1);
    assert!(verify_chain(&model, &short, &keys).is_err());
    let mut moved = a.clone();
    moved.cuts[0] -= 1;
    let error = verify_chain(&model, &moved, &keys).unwrap_err();
    assert!(!error.is_rejection(), "{error}");
    let mut unordered = a.clone();
    unordered.cuts.push(unordered.cuts[0]);
    assert!(verify_chain(&model, &unordered, &keys)
        .unwrap_err()
        .to_string()
        .contains("increasing"));

    // An intermediate value leaked into a segment's output.
    let mut leaked = a.clone();
    leaked.segments[0].output.values = vec![0; model.specs()[a.cuts[0]].shape.numel()];
    let error = verify_chain(&model, &leaked, &keys).unwrap_err();
    assert!(error.to_string().contains("no values"), "{error}");

    // Another model's digest.
    let mut other_model = a.clone();
    other_model.model_digest = "00".repeat(32);
    assert!(matches!(
        verify_chain(&model, &other_model, &keys).unwrap_err(),
        ChainError::Chain(VerifyError::WrongModel { .. })
    ));

    // Keys of other segments (two swapped).
    let mut swapped = keys.clone();
    swapped.swap(0, 1);
    assert!(verify_chain(&model, a, &swapped)
        .unwrap_err()
        .to_string()
        .contains("not that of tensors"));
}

/// The segments' keys are those the verifier rebuilds from the model and
/// the chain's cuts alone, in the profile each bundle names.
#[test]
fn the_verifier_rebuilds_every_segment_key() {
    let model = model();
    let chain = &proved()[0].chain;
    let rebuilt: Vec<VerifierKey> = chain
        .segments
        .iter()
        .enumerate()
        .map(|(i, bundle)| {
            key(zkinfer_verifier::chain::segment_circuit(
                &model,
                &chain.cuts,
                i,
                Visibility::Committed,
                bundle.profile,
            )
            .unwrap())
        })
        .collect();
    for (a, b) in rebuilt.iter().zip(keys()) {
        assert_eq!(a.vk_digest(), b.vk_digest());
    }
    assert!(verify_chain(&model, chain, &rebuilt).is_ok());
}

/// A segment proven with another segment's prover, or a chain finished
/// early, is refused before anything is written.
#[test]
fn segments_are_proven_in_order_with_their_own_provers() {
    let (chain, provers) = prover();
    let x = digit(&model(), 5);
    let mut run = chain.start(&x, None).unwrap();
    let error = chain.prove_segment(&mut run, &provers[1]).unwrap_err();
    assert!(
        error.to_string().contains("not that of tensors 0.."),
        "{error}"
    );
    chain.prove_segment(&mut run, &provers[0]).unwrap();
    let error = chain.finish(run.clone()).unwrap_err();
    assert!(error.to_string().contains("1 of the chain's 2"), "{error}");
    chain.prove_segment(&mut run, &provers[1]).unwrap();
    assert!(chain.prove_segment(&mut run, &provers[1]).is_err());
    let proved = chain.finish(run).unwrap();
    assert!(verify_chain(&model(), &proved.chain, &keys()).is_ok());
}

/// `fit_cuts` keeps only the cuts a size limit needs: digits-mlp fits one
/// segment at k = 9 (its whole circuit's), and nothing fits k = 8.
#[test]
fn cuts_are_grouped_to_the_largest_k_allowed() {
    use zkinfer_prover::chain::fit_cuts;
    let model = model();
    let cuts = layer_cuts(&model);
    let compact = ProfileChoice::Use(Profile::Compact);
    let public = Visibility::Public;
    assert_eq!(
        fit_cuts(&model, &cuts, public, compact, 9).unwrap(),
        Vec::<usize>::new()
    );
    assert_eq!(
        fit_cuts(&model, &cuts, public, compact, 20).unwrap(),
        Vec::<usize>::new()
    );
    let error = fit_cuts(&model, &cuts, public, compact, 8).unwrap_err();
    assert!(error.to_string().contains("above --max-k 8"), "{error}");
    // Every cut of the model, grouped: still one segment.
    assert_eq!(
        fit_cuts(&model, &model.cuts(), public, compact, 9).unwrap(),
        Vec::<usize>::new()
    );
}
