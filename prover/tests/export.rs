//! Calibrating the ONNX fixtures: the quantized model agrees with onnx's
//! reference evaluator (not only with zkinfer's float graph) on the
//! calibration set, for both targets.

mod common;

use common::{fixture_json, float_model, samples};
use zkinfer_circuits::Visibility;
use zkinfer_models::dataset::argmax;
use zkinfer_models::Engine;
use zkinfer_prover::export::{calibrate, Target, MIN_AGREEMENT};

#[test]
fn quantized_fixtures_agree_with_the_onnx_reference() {
    for name in ["mlp", "cnn_bn_pool", "sigmoid_tanh", "residual"] {
        let float = float_model(name);
        let samples = samples(name);
        let reference: Vec<usize> = fixture_json(&format!("{name}.reference.json"))["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                let row: Vec<f64> = row
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect();
                argmax(&row)
            })
            .collect();
        for target in [Target::Resources, Target::Accuracy] {
            let calibrated = calibrate(
                &float,
                &samples,
                target,
                Visibility::Public,
                zkinfer_prover::ProfileChoice::Auto,
            )
            .unwrap();
            let q = &calibrated.model;
            let inputs: Vec<_> = samples
                .iter()
                .map(|s| {
                    q.quantize_input(&s.iter().map(|&v| v as f64).collect::<Vec<_>>())
                        .unwrap()
                })
                .collect();
            let traces = Engine::default().run_batch(q, &inputs).unwrap();
            let agree = traces
                .iter()
                .zip(&reference)
                .filter(|(t, &r)| argmax(&t.output().data) == r)
                .count() as f64
                / reference.len() as f64;
            assert!(
                agree >= MIN_AGREEMENT,
                "{name} ({target:?}): {agree} agreement with onnx's reference"
            );
        }
    }
}
