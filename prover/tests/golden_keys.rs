//! Golden verifying keys: the vk digest of every bundled model (both input
//! visibilities, each further layout profile, a committed input, and
//! hashed and polycommit weights) and of every ONNX fixture's export (both calibration
//! targets) is pinned in `tests/golden/verifying_keys.json`.
//!
//! A registered model is named by its vk digest, so a layout change re-keys
//! every model a contract knows. This test makes that visible: when a
//! change is intended, rerun with `ZKINFER_BLESS=1` and commit the file —
//! its diff is the record of which keys were retired.

mod common;

use common::{float_model, samples};
use std::collections::BTreeMap;
use std::path::PathBuf;
use zkinfer_circuits::WeightVisibility;
use zkinfer_models::bundled::BUNDLED;
use zkinfer_prover::export::{calibrate, Target};
use zkinfer_prover::ProfileChoice;
use zkinfer_quant::QuantizedModel;
use zkinfer_verifier::{IpaParams, Profile, VerifierKey, Visibility};

const FIXTURES: [&str; 4] = ["mlp", "cnn_bn_pool", "sigmoid_tanh", "residual"];

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/verifying_keys.json")
}

/// One pinned circuit: a label, the quantized model, the input's and the
/// weights' visibility and the profile.
type Pinned = (
    String,
    QuantizedModel,
    Visibility,
    WeightVisibility,
    Profile,
);

/// Every pinned circuit.
fn circuits() -> Vec<Pinned> {
    let (fixed, compact) = (WeightVisibility::Fixed, Profile::Compact);
    let mut all = vec![];
    for bundled in BUNDLED {
        for visibility in [Visibility::Public, Visibility::Private] {
            let label = format!("{} ({})", bundled.name, visibility.name());
            let model = bundled.quantized().unwrap();
            all.push((label, model, visibility, fixed, compact));
        }
        for profile in &Profile::ALL[1..] {
            let label = format!("{} (public, {profile})", bundled.name);
            let model = bundled.quantized().unwrap();
            all.push((label, model, Visibility::Public, fixed, *profile));
        }
        let label = format!("{} (committed input)", bundled.name);
        let model = bundled.quantized().unwrap();
        all.push((label, model, Visibility::Committed, fixed, compact));
        let label = format!("{} (public, committed weights)", bundled.name);
        let model = bundled.quantized().unwrap();
        let committed = WeightVisibility::Committed;
        all.push((label, model, Visibility::Public, committed, compact));
        let label = format!("{} (public, polycommit weights)", bundled.name);
        let model = bundled.quantized().unwrap();
        let polycommit = WeightVisibility::Polycommit;
        all.push((label, model, Visibility::Public, polycommit, compact));
    }
    for name in FIXTURES {
        let float = float_model(name);
        for (target, label) in [
            (Target::Resources, "resources"),
            (Target::Accuracy, "accuracy"),
        ] {
            let calibrated = calibrate(
                &float,
                &samples(name),
                target,
                Visibility::Public,
                ProfileChoice::Use(Profile::Compact),
            )
            .unwrap();
            all.push((
                format!("{name}.onnx ({label})"),
                calibrated.model,
                Visibility::Public,
                fixed,
                compact,
            ));
        }
    }
    all
}

#[test]
fn verifying_keys_match_the_golden_file() {
    let mut params: BTreeMap<u32, IpaParams> = BTreeMap::new();
    let mut keys = BTreeMap::new();
    for (label, model, visibility, weights, profile) in circuits() {
        let circuit = VerifierKey::plan_circuit_with(model, visibility, weights, profile).unwrap();
        let k = circuit.plan().k;
        let p = params.entry(k).or_insert_with(|| IpaParams::new(k)).clone();
        let key = VerifierKey::for_circuit(circuit, p).unwrap();
        keys.insert(
            label,
            serde_json::json!({
                "model_digest": key.model_digest(),
                "k": k,
                "vk_digest": key.vk_digest(),
            }),
        );
    }
    let actual = serde_json::json!({ "format": "zkinfer/golden-keys@1", "keys": keys });
    let text = serde_json::to_string_pretty(&actual).unwrap() + "\n";
    if std::env::var_os("ZKINFER_BLESS").is_some() {
        std::fs::create_dir_all(golden_path().parent().unwrap()).unwrap();
        std::fs::write(golden_path(), &text).unwrap();
        return;
    }
    let golden = std::fs::read_to_string(golden_path()).unwrap_or_default();
    let golden: serde_json::Value = serde_json::from_str(&golden).unwrap_or_default();
    for (label, now) in actual["keys"].as_object().unwrap() {
        assert_eq!(
            &golden["keys"][label], now,
            "{label}: its verifying key changed. Registered models are named by it: if the \
             change is intended, rerun with ZKINFER_BLESS=1, commit tests/golden, and say in \
             the README which keys are retired"
        );
    }
    assert_eq!(golden, actual, "the golden file lists other circuits");
}
