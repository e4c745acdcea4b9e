//! Committed weights under MockProver: the weights' commitment is the first
//! public input, the verifying key depends only on the architecture, and
//! every weight, bias, packing and hashing cell is constrained.

mod common;

use common::{convnet, every_numbered_cell_fails, input, instances, mock};
use halo2_proofs::plonk::{keygen_vk, Circuit};
use halo2_proofs::poly::commitment::Params;
use pasta_curves::vesta;
use std::sync::Arc;
use zkinfer_circuits::weights::{architecture, model_commitment};
use zkinfer_circuits::{Fp, ModelCircuit, Profile, Visibility, WeightVisibility};
use zkinfer_quant::{Op, QuantizedModel, Rescale};

/// With hashed weights.
const HASHED: WeightVisibility = WeightVisibility::Committed;

fn committed(model: QuantizedModel, profile: Profile) -> ModelCircuit {
    common::with_weights(model, profile, HASHED)
}

fn one_layer(
    weights: Vec<i64>,
    biases: Vec<i64>,
    rescale: Rescale,
) -> (Arc<QuantizedModel>, ModelCircuit, Vec<Fp>) {
    common::one_layer(weights, biases, rescale, HASHED)
}

#[test]
fn accepts_and_publishes_the_weights_commitment_first() {
    for profile in Profile::ALL {
        let circuit = committed(convnet(0), profile);
        let instances = instances(&circuit);
        assert_eq!(instances[0], model_commitment(&convnet(0)).unwrap());
        assert_eq!(instances.len(), 1 + 16 + 3, "commitment, input, output");
        assert_eq!(circuit.plan().instances, instances.len());
        assert_eq!(mock(&circuit, instances), Vec::<String>::new(), "{profile}");
    }
}

/// A proof made with one weight changed does not verify against the
/// original commitment, and one made with the original weights does not
/// verify against another commitment.
#[test]
fn other_weights_are_refused_against_the_original_commitment() {
    let original = model_commitment(&convnet(0)).unwrap();
    for tweak in [1, -1] {
        let circuit = committed(convnet(tweak), Profile::Compact);
        let mut claimed = instances(&circuit);
        assert_ne!(claimed[0], original);
        claimed[0] = original;
        assert_eq!(mock(&circuit, claimed), vec!["copy"], "tweak {tweak}");
    }
    let circuit = committed(convnet(0), Profile::Compact);
    let mut claimed = instances(&circuit);
    claimed[0] = model_commitment(&convnet(1)).unwrap();
    assert_eq!(mock(&circuit, claimed), vec!["copy"]);
}

/// One verifying key per architecture: two models with other weights get
/// the same key, and a circuit made for one proves the other's inferences.
#[test]
fn the_verifying_key_depends_only_on_the_architecture() {
    let a = committed(convnet(0), Profile::Compact);
    let b = committed(convnet(3), Profile::Compact);
    assert_eq!(
        architecture(&convnet(0)).unwrap().digest(),
        architecture(&convnet(3)).unwrap().digest()
    );
    let params: Params<vesta::Affine> = Params::new(a.plan().k);
    let pinned = |c: &ModelCircuit| {
        let vk = keygen_vk(&params, &c.without_witnesses()).unwrap();
        format!("{:?}", vk.pinned())
    };
    assert_eq!(pinned(&a), pinned(&b));
    // And not on whether a witness's weights were present.
    let fixed = ModelCircuit::new(Arc::new(convnet(0)), Visibility::Public).unwrap();
    assert_ne!(a.plan().advice_columns, fixed.plan().advice_columns);

    // a's circuit, given b's weights and b's trace.
    let swapped = a.with_weights(Arc::new(convnet(3))).unwrap();
    let trace = convnet(3).forward(&input()).unwrap();
    let swapped = swapped.with_trace(trace.clone()).unwrap();
    assert_eq!(
        mock(&swapped, swapped.instances(&trace)),
        Vec::<String>::new()
    );
    // A model of another architecture is refused: a weight that needs 16 bits.
    let mut wide = convnet(0);
    wide = {
        let mut nodes = wide.nodes().to_vec();
        if let Op::Linear(l) = &mut nodes[5].op {
            l.weight.data[0] = 300;
        }
        QuantizedModel::new("wide", wide.input().clone(), nodes, None).unwrap()
    };
    assert!(a.with_weights(Arc::new(wide)).is_err());
}

/// Every cell zkinfer assigns (weights, biases, bound rows, packing,
/// dot-gate weight copies, pooling's constant cells) changed by one fails.
#[test]
fn every_cell_of_a_committed_weights_circuit_matters() {
    let circuit = committed(convnet(0), Profile::Compact);
    every_numbered_cell_fails(&circuit, &instances(&circuit));
}

/// Every advice cell of a (small) committed-weights circuit, the Poseidon
/// chip's included, changed by one after synthesis fails.
#[test]
fn every_advice_cell_poseidon_included_matters() {
    let rescale = Rescale { shift: 3, bits: 9 };
    let (_, circuit, claimed) = one_layer(vec![3, -2, 5, 1, -7, 4], vec![300, -20], rescale);
    common::every_advice_cell_fails(&circuit, claimed);
}

/// Weights wider than 8 bits (a bound row each) and biases wider than 16
/// (a division row each, as exported models' biases often are): accepted,
/// committed at their declared widths, and every cell constrained.
#[test]
fn wide_weights_and_biases_are_range_checked_by_rows() {
    use zkinfer_circuits::weights::{committed_tensors, RangeCheck};
    let rescale = Rescale {
        shift: 10,
        bits: 10,
    };
    let (model, circuit, claimed) =
        one_layer(vec![3, 300, -5, 1, -7, 4], vec![100_000, -70_000], rescale);
    let tensors = committed_tensors(&model).unwrap();
    let checks: Vec<_> = tensors.iter().map(|t| (t.bits, t.check())).collect();
    assert_eq!(
        checks,
        [(16, RangeCheck::Bound), (20, RangeCheck::Split)],
        "18 bits needed: the first division row that holds them"
    );
    assert_eq!(claimed[0], model_commitment(&model).unwrap());
    assert_eq!(mock(&circuit, claimed.clone()), Vec::<String>::new());
    every_numbered_cell_fails(&circuit, &claimed);
}

/// A consistent forgery in the dot gate: a weight slot's copy raised by one,
/// every witness after it (the accumulator, the rescale, the output)
/// following it, so the gates all hold. Only the copy from the committed
/// weight cell notices; a weight cell raised with its packing and
/// everything after it changes the commitment, which the claim pins.
#[test]
fn consistent_forgeries_of_a_committed_weight_are_caught() {
    use zkinfer_circuits::Edit;
    let rescale = Rescale { shift: 3, bits: 9 };
    let (_, circuit, claimed) = one_layer(vec![3, -2, 5, 1, -7, 4], vec![300, -20], rescale);
    let log = circuit.recording();
    assert_eq!(mock(&log, claimed.clone()), Vec::<String>::new());
    let cells = log.assigned();
    let slot = cells
        .iter()
        .find(|c| c.name == "w" && c.value == Fp::from(5))
        .expect("the dot row copies weight 5");
    let forged = circuit.forged([(slot.index, Edit::Add(Fp::one()))]);
    assert_eq!(mock(&forged, claimed.clone()), vec!["copy"]);
    let weight = cells
        .iter()
        .find(|c| c.name == "weight" && c.value == Fp::from(5))
        .expect("the packing row holds weight 5");
    let forged = circuit.forged([(weight.index, Edit::Add(Fp::one()))]);
    // Every gate and lookup holds (5 + 1 is in range); the commitment it
    // hashes to is not the claimed one, which its copy to the public input
    // notices.
    assert_eq!(mock(&forged, claimed), vec!["copy"]);
}
