//! The model circuit under MockProver: it accepts the reference trace of
//! every kind of model, and rejects any single changed witness cell.

mod common;

use common::{linear, node};
use halo2_proofs::dev::MockProver;
use std::sync::Arc;
use zkinfer_circuits::diagnose::failure_names;
use zkinfer_circuits::{Fp, ModelCircuit, ModelConfig, Profile, Visibility};
use zkinfer_quant::{Op, QuantizedModel, Rescale, Scale, Shape, Tensor, TensorSpec, Trace};

/// 4 → linear 3 → rescale → relu → linear 2 → rescale.
fn tiny() -> QuantizedModel {
    let input = TensorSpec {
        shape: Shape(vec![4]),
        scale: Scale(4),
        bits: 8,
    };
    let nodes = vec![
        node(
            &[0],
            linear(
                3,
                vec![3, -2, 5, 1, -7, 4, 0, 2, 6, -1, -3, 8],
                vec![10, -20, 5],
            ),
        ),
        node(&[1], Op::Rescale(Rescale { shift: 3, bits: 9 })),
        node(&[2], Op::Relu),
        node(&[3], linear(2, vec![2, -3, 1, -1, 4, 2], vec![0, 7])),
        node(&[4], Op::Rescale(Rescale { shift: 3, bits: 9 })),
    ];
    QuantizedModel::new("tiny", input, nodes, None).unwrap()
}

fn mock(circuit: &ModelCircuit, instances: Vec<Fp>) -> Vec<String> {
    let k = circuit.plan().k;
    let prover = MockProver::run(k, circuit, vec![instances]).expect("synthesis succeeds");
    let config = ModelConfig::of_plan(circuit.plan());
    failure_names(&config, prover.verify().err().unwrap_or_default())
}

fn prove_tiny(input: Vec<i64>, visibility: Visibility, profile: Profile) -> (ModelCircuit, Trace) {
    let model = Arc::new(tiny());
    let trace = model.forward(&Tensor::new([4], input).unwrap()).unwrap();
    let circuit = ModelCircuit::with_profile(model, visibility, profile)
        .unwrap()
        .with_trace(trace.clone())
        .unwrap();
    (circuit, trace)
}

#[test]
fn accepts_the_reference_trace() {
    for input in [
        vec![12, -7, 100, -128],
        vec![0, 0, 0, 0],
        vec![127, 127, -128, 5],
    ] {
        for visibility in [Visibility::Public, Visibility::Private] {
            for profile in Profile::ALL {
                let (circuit, trace) = prove_tiny(input.clone(), visibility, profile);
                assert!(circuit.plan().k <= 10);
                assert_eq!(
                    mock(&circuit, circuit.instances(&trace)),
                    Vec::<String>::new(),
                    "{input:?} {profile}"
                );
            }
        }
    }
}

#[test]
fn rejects_a_wrong_public_output_or_input() {
    for profile in Profile::ALL {
        rejects_a_wrong_public_output_or_input_in(profile);
    }
}

fn rejects_a_wrong_public_output_or_input_in(profile: Profile) {
    let (circuit, trace) = prove_tiny(vec![12, -7, 100, -128], Visibility::Public, profile);
    let mut instances = circuit.instances(&trace);
    let last = instances.len() - 1;
    instances[last] += Fp::one();
    assert_eq!(mock(&circuit, instances), vec!["copy"]);
    let mut instances = circuit.instances(&trace);
    instances[0] -= Fp::one();
    assert_eq!(mock(&circuit, instances), vec!["copy"]);
}

/// Every single advice cell, changed by +1 (and a few by a large value),
/// makes the proof fail, in every profile.
#[test]
fn witness_mutation_every_cell_fails() {
    for profile in Profile::ALL {
        every_cell_fails_in(profile);
    }
}

fn every_cell_fails_in(profile: Profile) {
    let (circuit, trace) = prove_tiny(vec![12, -7, 100, -128], Visibility::Public, profile);
    let instances = circuit.instances(&trace);
    assert!(mock(&circuit, instances.clone()).is_empty());
    let cells = circuit.assigned_cells();
    assert!(cells > 100, "{cells} cells");
    for index in 0..cells {
        for delta in [Fp::one(), -Fp::from(1u64 << 20)] {
            let failures = mock(&circuit.tampered(index, delta), instances.clone());
            assert!(
                !failures.is_empty(),
                "{profile}: cell {index} of {cells} changed by {delta:?} went unnoticed"
            );
        }
    }
}

/// A committed input: the honest witness passes with its commitment as the
/// first public input; another commitment, another blinding or a changed
/// output fails; every cell the model's layout assigns (the packing and
/// the blinding included) changed by one fails — in every profile. (The
/// Poseidon chip's own cells are halo2_gadgets' and are not renumbered by
/// zkinfer's assigner: its permutation is checked against the native hash
/// in `chips::commit`.)
#[test]
fn a_committed_input_binds_the_output_to_its_commitment() {
    use zkinfer_circuits::commitment::commit;
    let input = vec![12, -7, 100, -128];
    let r = Fp::from(0x5eed);
    for profile in Profile::ALL {
        let model = Arc::new(tiny());
        let trace = model
            .forward(&Tensor::new([4], input.clone()).unwrap())
            .unwrap();
        let circuit =
            ModelCircuit::with_profile(model.clone(), Visibility::Committed, profile).unwrap();
        assert!(
            circuit.with_trace(trace.clone()).is_err(),
            "no blinding element"
        );
        let circuit = circuit.with_blinding(r).with_trace(trace.clone()).unwrap();
        let instances = circuit.instances(&trace);
        let native = commit(&input, model.input().bits, Some(r)).unwrap();
        assert_eq!(instances[0], native, "{profile}");
        assert_eq!(instances.len(), 1 + 2, "the commitment and the two outputs");
        assert_eq!(
            mock(&circuit, instances.clone()),
            Vec::<String>::new(),
            "{profile}"
        );

        let other = commit(&input, model.input().bits, Some(r + Fp::one())).unwrap();
        let mut forged = instances.clone();
        forged[0] = other;
        assert_eq!(
            mock(&circuit, forged),
            vec!["copy"],
            "{profile}: another blinding"
        );
        let mut forged = instances.clone();
        forged[2] += Fp::one();
        assert_eq!(
            mock(&circuit, forged),
            vec!["copy"],
            "{profile}: another output"
        );

        let cells = circuit.assigned_cells();
        for index in 0..cells {
            let failures = mock(&circuit.tampered(index, Fp::one()), instances.clone());
            assert!(
                !failures.is_empty(),
                "{profile}: cell {index} of {cells} changed by one went unnoticed"
            );
        }
    }
}

/// Every advice cell of a committed-input circuit — the Poseidon chip's
/// included, which halo2_gadgets assigns itself — changed by one after
/// synthesis makes MockProver fail. (The test above reaches only the cells
/// zkinfer's assigner numbers; this one reaches every cell, without
/// re-deriving anything.)
#[test]
fn every_cell_of_a_committed_circuit_poseidon_included_matters() {
    let input = vec![12, -7, 100, -128];
    let model = Arc::new(tiny());
    let trace = model.forward(&Tensor::new([4], input).unwrap()).unwrap();
    let committed_input =
        ModelCircuit::with_profile(model.clone(), Visibility::Committed, Profile::Compact).unwrap();
    // A segment's: the input and the output committed.
    let both = [Visibility::Committed, Visibility::Committed];
    let fixed = zkinfer_circuits::WeightVisibility::Fixed;
    let committed_output = ModelCircuit::with_output(model, both, fixed, Profile::Compact)
        .unwrap()
        .with_output_blinding(Fp::from(78));
    for circuit in [committed_input, committed_output] {
        let circuit = circuit
            .with_blinding(Fp::from(77))
            .with_trace(trace.clone())
            .unwrap();
        let mut prover =
            MockProver::run(circuit.plan().k, &circuit, vec![circuit.instances(&trace)]).unwrap();
        assert_eq!(prover.verify(), Ok(()));
        let cells = prover.assigned_advice_cells();
        assert!(
            cells.len() > circuit.assigned_cells() + 300,
            "{} cells in all, {} numbered by zkinfer: the Poseidon chip's are among them",
            cells.len(),
            circuit.assigned_cells()
        );
        for &(column, row) in &cells {
            assert!(prover.add_to_advice(column, row, Fp::one()));
            assert!(
                prover.verify().is_err(),
                "advice column {column}, row {row} changed by one went unnoticed"
            );
            prover.add_to_advice(column, row, -Fp::one());
        }
        assert_eq!(prover.verify(), Ok(()), "restored");
    }
}

/// A committed output (a segment of a model proven in parts): the public
/// inputs are the input's commitment and the output's, nothing else; the
/// output commitment names the output the trace computed with its own
/// blinding element; another output commitment (another output value,
/// another blinding) fails, and so does every changed cell the model's
/// layout assigns, the output's packing and blinding included.
#[test]
fn a_committed_output_is_public_only_as_its_commitment() {
    use zkinfer_circuits::commitment::commit;
    let input = vec![12, -7, 100, -128];
    let (r_in, r_out) = (Fp::from(0x5eed), Fp::from(0xb1d));
    let model = Arc::new(tiny());
    let trace = model
        .forward(&Tensor::new([4], input.clone()).unwrap())
        .unwrap();
    let visibility = [Visibility::Committed, Visibility::Committed];
    let fixed = zkinfer_circuits::WeightVisibility::Fixed;
    let circuit =
        ModelCircuit::with_output(model.clone(), visibility, fixed, Profile::Compact).unwrap();
    assert_eq!(circuit.plan().instances, 2);
    assert!(
        circuit
            .with_blinding(r_in)
            .with_trace(trace.clone())
            .is_err(),
        "no output blinding element"
    );
    let circuit = circuit
        .with_blinding(r_in)
        .with_output_blinding(r_out)
        .with_trace(trace.clone())
        .unwrap();
    let instances = circuit.instances(&trace);
    let out = model.output();
    let output = &trace.output().data;
    assert_eq!(
        instances,
        vec![
            commit(&input, model.input().bits, Some(r_in)).unwrap(),
            commit(output, out.bits, Some(r_out)).unwrap(),
        ]
    );
    assert_eq!(mock(&circuit, instances.clone()), Vec::<String>::new());

    let mut other_output = output.clone();
    other_output[0] += 1;
    for forged_output in [
        commit(&other_output, out.bits, Some(r_out)).unwrap(),
        commit(output, out.bits, Some(r_out + Fp::one())).unwrap(),
        commit(output, out.bits, None).unwrap(),
    ] {
        let forged = vec![instances[0], forged_output];
        assert_eq!(mock(&circuit, forged), vec!["copy"]);
    }
    let cells = circuit.assigned_cells();
    for index in 0..cells {
        let failures = mock(&circuit.tampered(index, Fp::one()), instances.clone());
        assert!(
            !failures.is_empty(),
            "cell {index} of {cells} changed by one went unnoticed"
        );
    }

    // A public input and a committed output (a model's first segment).
    let visibility = [Visibility::Public, Visibility::Committed];
    let circuit = ModelCircuit::with_output(model.clone(), visibility, fixed, Profile::Wide)
        .unwrap()
        .with_output_blinding(r_out)
        .with_trace(trace.clone())
        .unwrap();
    let instances = circuit.instances(&trace);
    assert_eq!(instances.len(), 4 + 1);
    assert_eq!(mock(&circuit, instances), Vec::<String>::new());
    // No private outputs.
    let private = [Visibility::Public, Visibility::Private];
    assert!(ModelCircuit::with_output(model, private, fixed, Profile::Compact).is_err());
}
