//! Polycommit weights under MockProver: the weights sit in the weight
//! store's columns, range-checked there (bytes and 16-bit values) or by
//! division rows (wider), copied to the dot rows, and public inputs are the
//! input and the output only. What ties the store to the registered
//! commitment is the opening proof (`prover/tests/polycommit.rs`); here,
//! every cell is constrained, and every range check refuses what it must.

mod common;

use common::{convnet, every_numbered_cell_fails_but, instances, mock};
use std::sync::Arc;
use zkinfer_circuits::plan::{StoreCheck, StoreShape};
use zkinfer_circuits::polycommit::{column_values, stored_values};
use zkinfer_circuits::{Edit, Fp, ModelCircuit, Profile, WeightVisibility};
use zkinfer_quant::{QuantizedModel, Rescale};

const POLYCOMMIT: WeightVisibility = WeightVisibility::Polycommit;

fn one_layer(
    weights: Vec<i64>,
    biases: Vec<i64>,
    rescale: Rescale,
) -> (Arc<QuantizedModel>, ModelCircuit, Vec<Fp>) {
    common::one_layer(weights, biases, rescale, POLYCOMMIT)
}

#[test]
fn accepts_with_the_input_and_output_as_the_only_public_inputs() {
    for profile in Profile::ALL {
        let circuit = common::with_weights(convnet(0), profile, POLYCOMMIT);
        let plan = circuit.plan();
        assert_eq!(plan.weight_visibility, POLYCOMMIT);
        // 18 + 24 weights and the 2 + 3 biases (16 bits, in bound rows:
        // a 16-bit group would not lower k) in one column.
        assert_eq!(
            plan.weight_store,
            StoreShape {
                narrow: 1,
                short: 0
            }
        );
        let instances = instances(&circuit);
        assert_eq!(instances.len(), 16 + 3, "input, output");
        assert_eq!(mock(&circuit, instances), Vec::<String>::new(), "{profile}");
    }
}

/// The store's columns hold exactly what the native commitment commits
/// to: the values `column_values` lays out, at the rows it says.
#[test]
fn the_store_is_laid_out_as_the_native_commitment_says() {
    let model = convnet(0);
    let circuit = common::with_weights(model.clone(), Profile::Compact, POLYCOMMIT).recording();
    assert_eq!(mock(&circuit, instances(&circuit)), Vec::<String>::new());
    let stored: Vec<_> = circuit
        .assigned()
        .into_iter()
        .filter(|c| c.name == STORED)
        .collect();
    let shape = circuit.plan().weight_store;
    let values = stored_values(&model, shape).unwrap();
    assert_eq!(stored.len(), values.len());
    let columns = column_values(&values, shape, 1 << circuit.plan().k).unwrap();
    let positions = shape.positions(values.iter().map(|v| v.1));
    for ((cell, (c, row)), (v, _)) in stored.iter().zip(positions).zip(&values) {
        assert_eq!(cell.offset, row, "the store's region starts at row 0");
        assert_eq!(cell.value, columns[c][row]);
        assert_eq!(cell.value, zkinfer_circuits::field::fe(*v));
    }
}

/// Every cell zkinfer assigns (the stored weights' limbs, dot-row copies,
/// division rows, pooling's constant cells) changed by one fails. A stored
/// weight changed with everything derived from it following is another
/// model's inference (see the forgeries below): the opening binds those.
#[test]
fn every_cell_of_a_polycommit_circuit_matters() {
    let circuit = common::with_weights(convnet(0), Profile::Compact, POLYCOMMIT);
    every_numbered_cell_fails_but(&circuit, &instances(&circuit), &[STORED]);
}

/// The name the store gives its value cells.
const STORED: &str = "stored weight";

/// Every advice cell of a small polycommit circuit changed by one after
/// synthesis fails.
#[test]
fn every_advice_cell_matters() {
    let rescale = Rescale { shift: 3, bits: 9 };
    let (_, circuit, claimed) = one_layer(vec![3, -2, 5, 1, -7, 4], vec![300, -20], rescale);
    common::every_advice_cell_fails(&circuit, claimed);
}

/// A few 16-bit weights take bound rows, biases wider than 16 bits
/// division rows (the store adds no 16-bit group: it would not lower k);
/// every cell is constrained.
#[test]
fn wide_weights_and_biases_are_range_checked_by_rows() {
    let rescale = Rescale {
        shift: 10,
        bits: 10,
    };
    let (model, circuit, claimed) =
        one_layer(vec![3, 300, -5, 1, -7, 4], vec![100_000, -70_000], rescale);
    let shape = circuit.plan().weight_store;
    assert_eq!(
        shape,
        StoreShape {
            narrow: 1,
            short: 0
        }
    );
    let checks: Vec<StoreCheck> = stored_values(&model, shape)
        .unwrap()
        .iter()
        .map(|v| v.1)
        .collect();
    assert_eq!(checks, [StoreCheck::Elsewhere; 8]);
    assert_eq!(mock(&circuit, claimed.clone()), Vec::<String>::new());
    every_numbered_cell_fails_but(&circuit, &claimed, &[STORED]);
}

/// Many 16-bit weights and biases: bound rows would need k = 10, two
/// 16-bit groups of the store keep k = 9 (and no narrow column is left). The circuit accepts, every stored value sits
/// where the native commitment puts it, and a stored 16-bit weight set
/// outside 16 bits (every witness after it following) is refused by the
/// group's byte lookups.
#[test]
fn many_16_bit_weights_take_the_stores_16_bit_groups() {
    let weights: Vec<i64> = (0..600).map(|i| (i * 37 % 601) - 300).collect();
    let biases: Vec<i64> = (0..30).map(|i| i * 1000 - 15_000).collect();
    let input = zkinfer_quant::TensorSpec {
        shape: zkinfer_quant::Shape(vec![20]),
        scale: zkinfer_quant::Scale(4),
        bits: 8,
    };
    let nodes = vec![
        common::node(&[0], common::linear(30, weights, biases)),
        common::node(
            &[1],
            zkinfer_quant::Op::Rescale(Rescale {
                shift: 12,
                bits: 10,
            }),
        ),
    ];
    let model = QuantizedModel::new("shorts", input, nodes, None).unwrap();
    let x = zkinfer_quant::Tensor::new([20], (0..20).map(|i| i * 13 - 120).collect()).unwrap();
    let trace = model.forward(&x).unwrap();
    let circuit = ModelCircuit::with_options(
        Arc::new(model.clone()),
        zkinfer_circuits::Visibility::Public,
        POLYCOMMIT,
        Profile::Compact,
    )
    .unwrap()
    .with_trace(trace.clone())
    .unwrap();
    let plan = circuit.plan();
    assert_eq!(
        (plan.k, plan.weight_store),
        (
            9,
            StoreShape {
                narrow: 0,
                short: 2
            }
        )
    );
    let claimed = circuit.instances(&trace);
    let log = circuit.recording();
    assert_eq!(mock(&log, claimed.clone()), Vec::<String>::new());
    let shape = plan.weight_store;
    let values = stored_values(&model, shape).unwrap();
    let stored: Vec<_> = log
        .assigned()
        .into_iter()
        .filter(|c| c.name == STORED)
        .collect();
    let columns = column_values(&values, shape, 1 << plan.k).unwrap();
    for (cell, (c, row)) in stored
        .iter()
        .zip(shape.positions(values.iter().map(|v| v.1)))
    {
        assert_eq!((cell.offset, cell.value), (row, columns[c][row]));
    }
    let short = stored
        .iter()
        .find(|c| c.value == Fp::from(296))
        .expect("weight 296");
    let forged = circuit.forged([(short.index, Edit::Set(Fp::from(40_000)))]);
    let forged_log = forged.recording();
    mock(&forged_log, vec![]);
    let failures = mock(&forged, forged_log.public_cells());
    assert!(
        failures
            .iter()
            .any(|f| f.starts_with("lookup stored short")),
        "{failures:?}"
    );
}

/// Consistent forgeries. A stored weight set outside its width, with every
/// copy and later witness following it: the store's range check refuses
/// it. A dot row's weight copy raised by one, everything after it
/// following: the copy from the store refuses it. A stored weight raised
/// by one within its width, everything following: the circuit holds — it
/// is another model's inference, which only the opening proof, against the
/// registered commitment, refuses (`prover/tests/polycommit.rs`).
#[test]
fn consistent_forgeries_of_a_stored_weight() {
    let rescale = Rescale { shift: 3, bits: 9 };
    let (_, circuit, claimed) = one_layer(vec![3, -2, 5, 1, -7, 4], vec![300, -20], rescale);
    let log = circuit.recording();
    assert_eq!(mock(&log, claimed.clone()), Vec::<String>::new());
    let cells = log.assigned();
    let stored = cells
        .iter()
        .find(|c| c.name == STORED && c.value == Fp::from(5))
        .expect("the store holds weight 5");
    let claims = |forged: &ModelCircuit| {
        let forged = forged.recording();
        mock(&forged, vec![]);
        forged.public_cells()
    };
    let out_of_range = circuit.forged([(stored.index, Edit::Set(Fp::from(200)))]);
    let failures = mock(&out_of_range, claims(&out_of_range));
    assert!(
        failures.contains(&"lookup stored weight byte".to_string()),
        "{failures:?}"
    );
    let slot = cells
        .iter()
        .find(|c| c.name == "w" && c.value == Fp::from(5))
        .expect("the dot row copies weight 5");
    let copy = circuit.forged([(slot.index, Edit::Add(Fp::one()))]);
    assert_eq!(mock(&copy, claims(&copy)), vec!["copy"]);
    let within = circuit.forged([(stored.index, Edit::Add(Fp::one()))]);
    let forged_claim = claims(&within);
    assert_ne!(forged_claim, claimed, "the output moved with the weight");
    assert_eq!(mock(&within, forged_claim), Vec::<String>::new());
    // The same model with that weight is what it proves.
    let (_, _, honest_claim) = one_layer(vec![3, -2, 6, 1, -7, 4], vec![300, -20], rescale);
    assert_eq!(claims(&within), honest_claim);
}
