//! Fuzzing `package.json` (`zkinfer/package@1`, what `zkinfer export`
//! writes and `zkinfer inspect` reads): extreme values in every field and
//! 10⁴ mutations of a package built here for digits-mlp. A package that
//! parses must hold numbers the report can add up. Zero panics.

use serde_json::Value;
use zkinfer_circuits::{CircuitPlan, Visibility};
use zkinfer_fuzz::{cases, extreme_field_cases, mutate_json_text, run, show_bytes, Rng};
use zkinfer_models::bundled::BundledModel;
use zkinfer_models::OutputComparison;
use zkinfer_prover::export::{Candidate, Estimates, Package, Target, PACKAGE_FORMAT};

fn package() -> Package {
    let model = BundledModel::find("digits-mlp")
        .unwrap()
        .quantized()
        .unwrap();
    let plan = CircuitPlan::new(&model, Visibility::Public).unwrap();
    Package {
        format: PACKAGE_FORMAT.into(),
        name: "digits-mlp".into(),
        source: "digits-mlp.onnx".into(),
        opset: Some(13),
        dropped_softmax: true,
        target: Target::Resources,
        input_visibility: Visibility::Public,
        weight_visibility: Default::default(),
        model_digest: model.digest().to_hex(),
        vk_digest: "58593272166e2d6646af00f3e5119eab11e3b44b3df7a9d314f4f726c1b9e25f".into(),
        k: plan.k,
        proof_bytes: 6912,
        weight_bits: 8,
        activation_bits: 12,
        table_bits: 8,
        calibration: OutputComparison {
            samples: 100,
            agreement: 0.99,
            max_abs_error: 0.5,
            mean_abs_error: 0.1,
        },
        tables: vec![zkinfer_models::TableReport {
            node: 3,
            function: zkinfer_quant::TableFunction::LeakyRelu { alpha: 0.1 },
            domain: [-4.0, 3.96875],
            entries: 256,
            max_error: 0.0078,
        }],
        inputs: vec![],
        candidates: vec![Candidate {
            weight_bits: 8,
            activation_bits: 12,
            table_bits: 8,
            k: Some(plan.k),
            agreement: Some(0.99),
            mean_abs_error: Some(0.1),
            note: None,
        }],
        estimates: Estimates::of(&plan),
        profiles: zkinfer_prover::choose::profile_costs(&model, Visibility::Public),
        plan,
    }
}

/// Parses; an accepted package must survive the report's arithmetic
/// (overflow checks are on in release for zkinfer's crates).
fn check(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let Ok(p) = Package::from_json(text) else {
        return false;
    };
    let total = (p.plan.dot_rows + p.plan.element_rows).max(1);
    for l in &p.plan.layers {
        let share = 100.0 * (l.dot_rows + l.element_rows) as f64 / total as f64;
        assert!(share.is_finite());
    }
    let _ = p.plan.macs();
    let _ = 1u64 << p.k;
    true
}

#[test]
fn the_seed_package_is_valid() {
    let text = serde_json::to_string(&package()).unwrap();
    assert_eq!(Package::from_json(&text).unwrap(), package());
}

#[test]
fn extreme_values_in_every_package_field_are_refused_or_usable() {
    let seed = serde_json::to_value(package()).unwrap();
    let cases = extreme_field_cases(&seed, &mut Rng::new(0xbac4_0001));
    run(
        "package.json extreme fields",
        1,
        cases.len(),
        |_, i| cases[i].clone(),
        |(_, doc)| check(doc.to_string().as_bytes()),
        |(what, _)| what.clone(),
    );
}

#[test]
fn fuzzed_packages_never_panic() {
    let seed: Value = serde_json::to_value(package()).unwrap();
    let report = run(
        "package.json",
        0xbac4_0002,
        cases(10_000),
        |rng, _| mutate_json_text(rng, &seed),
        |bytes| check(bytes),
        |bytes| show_bytes(bytes),
    );
    assert!(report.accepted > report.cases / 20, "{report:?}");
}

#[test]
fn row_counts_beyond_2_pow_k_are_refused() {
    // `zkinfer inspect` added them up: u64::MAX rows wrapped the share.
    let mut p = serde_json::to_value(package()).unwrap();
    p["plan"]["layers"][1]["dot_rows"] = u64::MAX.into();
    let err = Package::from_json(&p.to_string()).unwrap_err();
    assert_eq!(
        err,
        "plan.layers[1].dot_rows = 18446744073709551615 is more than the 512 rows of k = 9"
    );
    let mut p = serde_json::to_value(package()).unwrap();
    p["plan"]["layers"][0]["macs"] = u64::MAX.into();
    p["plan"]["layers"][1]["macs"] = u64::MAX.into();
    let err = Package::from_json(&p.to_string()).unwrap_err();
    assert_eq!(err, "plan.layers[].macs add up to more than 2^64");
    let mut p = serde_json::to_value(package()).unwrap();
    p["k"] = 4294967295u32.into();
    let err = Package::from_json(&p.to_string()).unwrap_err();
    assert!(err.starts_with("k = 4294967295 (plan.k = 9)"), "{err}");
}
