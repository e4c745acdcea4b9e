//! Wave 1's forgery, rebuilt against the real prover and verifier: the
//! exported `cnn_bn_pool` fixture, whose 2×2 average pool feeds a 10 × 32
//! linear layer. Quotient shifts `d = ±2·e`, with `e` in the GF(2) kernel of
//! the layer's weights, keep every accumulator an integer; the forged proof
//! claims another output. It verified before the quotient bound; now it is
//! rejected.

mod common;

use common::{float_model, samples};
use halo2_proofs::dev::MockProver;
use zkinfer_circuits::diagnose::{failure_location, failure_name};
use zkinfer_circuits::field::to_i64;
use zkinfer_circuits::forgery::shift_quotients;
use zkinfer_circuits::{Edit, Fp, LoggedCell, ModelConfig, StepKind};
use zkinfer_prover::export::{calibrate, Target};
use zkinfer_prover::Prover;
use zkinfer_quant::Op;
use zkinfer_verifier::{verify, IpaParams, VerifierKey, VerifyError, Visibility};

/// A nonzero `e ∈ {0, 1}^n` with `W·e ≡ 0 (mod 2)`, by Gaussian
/// elimination over GF(2) (rows as bit masks; `n ≤ 64`).
fn gf2_kernel_vector(rows: &[Vec<i64>]) -> Vec<i64> {
    let n = rows[0].len();
    let mut m: Vec<u64> = rows
        .iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .fold(0, |acc, (j, w)| acc | ((w.rem_euclid(2) as u64) << j))
        })
        .collect();
    let mut pivots = vec![];
    let mut rank = 0;
    for col in 0..n {
        let Some(p) = (rank..m.len()).find(|&i| m[i] >> col & 1 == 1) else {
            continue;
        };
        m.swap(rank, p);
        for i in 0..m.len() {
            if i != rank && m[i] >> col & 1 == 1 {
                m[i] ^= m[rank];
            }
        }
        pivots.push(col);
        rank += 1;
    }
    let free = (0..n)
        .find(|c| !pivots.contains(c))
        .expect("more columns than rank");
    let mut e = vec![0; n];
    e[free] = 1;
    for (row, &col) in pivots.iter().enumerate() {
        e[col] = (m[row] >> free & 1) as i64;
    }
    for r in rows {
        assert_eq!(
            r.iter()
                .zip(&e)
                .map(|(w, e)| w * e)
                .sum::<i64>()
                .rem_euclid(2),
            0
        );
    }
    e
}

fn cell<'a>(
    log: &'a [LoggedCell],
    step: usize,
    name: &str,
    offset: usize,
    nth: usize,
) -> &'a LoggedCell {
    log.iter()
        .filter(|c| c.step == Some(step) && c.name == name && c.offset == offset)
        .nth(nth)
        .unwrap_or_else(|| panic!("no {name}#{nth} at step {step}, offset {offset}"))
}

#[test]
fn wave_one_forgery_of_cnn_bn_pool_is_rejected_by_the_real_verifier() {
    let float = float_model("cnn_bn_pool");
    let samples = samples("cnn_bn_pool");
    let model = calibrate(
        &float,
        &samples,
        Target::Resources,
        Visibility::Public,
        zkinfer_prover::ProfileChoice::Use(zkinfer_circuits::Profile::Compact),
    )
    .unwrap()
    .model;
    let k = VerifierKey::k_for(
        &model,
        Visibility::Public,
        zkinfer_circuits::Profile::Compact,
    )
    .unwrap();
    let prover = Prover::new(
        "cnn_bn_pool",
        model.clone(),
        Visibility::Public,
        IpaParams::new(k),
    )
    .unwrap();
    let key = prover.verifier_key();
    let input = model
        .quantize_input(&samples[0].iter().map(|&v| f64::from(v)).collect::<Vec<_>>())
        .unwrap();
    let honest = prover.prove(&input).unwrap();
    verify(key, &honest.bundle).expect("the honest proof verifies");

    // The average pool and the linear layer it feeds (through a flatten).
    let circuit = key
        .circuit()
        .with_trace(honest.trace.clone())
        .unwrap()
        .recording();
    let pool = circuit
        .steps()
        .iter()
        .position(|s| matches!(s.kind, StepKind::AvgPool { .. }))
        .expect("cnn_bn_pool has an average pool");
    let linear = circuit.steps()[pool + 1..]
        .iter()
        .find_map(|s| match &model.nodes()[s.nodes[0]].op {
            Op::Linear(l) => Some(l.clone()),
            _ => None,
        })
        .unwrap();
    let weights: Vec<Vec<i64>> = linear
        .weight
        .data
        .chunks(linear.in_features())
        .map(<[i64]>::to_vec)
        .collect();
    let e = gf2_kernel_vector(&weights);
    let instances = circuit.instances(&honest.trace);
    MockProver::run(k, &circuit, vec![instances.clone()]).unwrap();
    let log = circuit.assigned();

    // d = ±2·e, the sign keeping each remainder r - d in [0, 4).
    let shifts: Vec<(usize, i64)> = e
        .iter()
        .enumerate()
        .filter(|(_, &e)| e == 1)
        .map(|(i, _)| {
            let r = to_i64(&cell(&log, pool, "r", i, 0).value).unwrap();
            (i, if r >= 2 { 2 } else { -2 })
        })
        .collect();
    let mut forgery = shift_quotients(&circuit, &log, pool, &shifts).unwrap();
    // The quotient bound's limbs set to (0, 0), which every lookup accepts,
    // so that the prover runs and only the verifier can refuse.
    for &(i, _) in &shifts {
        for limb in ["l0", "l1"] {
            forgery
                .edits
                .push((cell(&log, pool, limb, i, 1).index, Edit::Set(Fp::zero())));
        }
    }
    let forged = circuit.forged(forgery.edits.clone());
    MockProver::run(k, &forged, vec![instances]).unwrap();
    let claimed = forged.public_cells();
    let outputs = &claimed[input.data.len()..];
    let forged_output: Vec<i64> = outputs
        .iter()
        .map(|v| to_i64(v).expect("integers"))
        .collect();
    assert_ne!(
        forged_output, honest.bundle.output.values,
        "the forgery claims another output"
    );
    // With its claim, the forged witness breaks one constraint only: the
    // limbs of the quotients' bound.
    let config = ModelConfig::of(zkinfer_circuits::Profile::Compact);
    let failures = MockProver::run(k, &forged, vec![claimed.clone()])
        .unwrap()
        .verify()
        .unwrap_err();
    for f in &failures {
        let (name, location) = (failure_name(&config, f), failure_location(f));
        assert!(
            name == "gate range unit B: limbs" && location.contains("avg_pool2d"),
            "{name} at {location}"
        );
    }

    let proof = prover
        .prove_witness(forged.clone(), &claimed)
        .expect("the prover runs on it");
    let mut bundle = honest.bundle.clone();
    bundle.output.values = forged_output;
    bundle.proof = zkinfer_verifier::base64::encode(&proof);
    assert_eq!(
        verify(key, &bundle),
        Err(VerifyError::Rejected),
        "{}",
        forgery.what
    );
}
