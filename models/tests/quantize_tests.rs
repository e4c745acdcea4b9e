//! Calibration and quantization: reproducing the bundled models, refusing
//! unusable calibration data and models, and deterministic training.

use candle_core::{Device, Tensor};
use std::collections::HashMap;
use zkinfer_models::arch::{Architecture, FloatLayer, FloatOp};
use zkinfer_models::bundled::BUNDLED;
use zkinfer_models::dataset::{digits, Split};
use zkinfer_models::train::{train_classifier, TrainConfig};
use zkinfer_models::{quantize, FloatModel, ModelError, QuantizeOptions};

#[test]
fn bundled_models_are_reproduced_from_their_float_weights() {
    let train = digits(Split::Train).unwrap();
    for bundled in BUNDLED {
        let float = bundled.float().unwrap();
        let q = quantize(&float, &train.inputs, &QuantizeOptions::default()).unwrap();
        assert_eq!(q, bundled.quantized().unwrap(), "{}", bundled.name);
    }
}

fn linear_model(in_features: usize, weight: f32) -> FloatModel {
    let arch = Architecture::new(
        "lin",
        vec![in_features],
        vec![FloatLayer::new(FloatOp::Linear {
            name: "fc".into(),
            in_features,
            out_features: 2,
        })],
    );
    let params = HashMap::from([
        (
            "fc.weight".to_string(),
            Tensor::full(weight, (2, in_features), &Device::Cpu).unwrap(),
        ),
        (
            "fc.bias".to_string(),
            Tensor::zeros(2, candle_core::DType::F32, &Device::Cpu).unwrap(),
        ),
    ]);
    FloatModel::new(arch, params).unwrap()
}

fn calibration_error(model: &FloatModel, samples: &[Vec<f32>], o: &QuantizeOptions) -> String {
    match quantize(model, samples, o) {
        Err(e @ ModelError::Calibration(_)) => e.to_string(),
        other => panic!("expected a calibration error, got {other:?}"),
    }
}

#[test]
fn unusable_calibration_data_is_refused() {
    let m = linear_model(3, 0.5);
    let o = QuantizeOptions::default();
    assert!(calibration_error(&m, &[], &o).contains("empty"));
    let err = calibration_error(&m, &[vec![1.0, 2.0, 3.0], vec![1.0, 2.0]], &o);
    assert!(
        err.contains("sample 1 has 2 values") && err.contains("has 3"),
        "{err}"
    );
    let err = calibration_error(&m, &[vec![1.0, f32::NAN, 3.0]], &o);
    assert!(err.contains("sample 0 value 1 is NaN"), "{err}");
    let err = calibration_error(&m, &[vec![1.0, f32::INFINITY, 3.0]], &o);
    assert!(err.contains("inf"), "{err}");
}

#[test]
fn accumulators_beyond_f64_exactness_are_refused() {
    // 32-bit activations times 16-bit weights over 4096 inputs: 2^58.
    let m = linear_model(4096, 0.5);
    let o = QuantizeOptions {
        weight_bits: 16,
        activation_bits: 32,
        ..QuantizeOptions::default()
    };
    let err = calibration_error(&m, &[vec![1.0; 4096]], &o);
    assert!(
        err.contains("node 0 (linear)") && err.contains("53 bits"),
        "{err}"
    );
}

#[test]
fn unusable_bit_budgets_are_refused() {
    let m = linear_model(3, 0.5);
    let o = QuantizeOptions {
        activation_bits: 40,
        ..QuantizeOptions::default()
    };
    assert!(calibration_error(&m, &[vec![1.0; 3]], &o).contains("bit budget"));
}

#[test]
fn calibration_covers_its_own_samples_with_headroom() {
    let m = linear_model(3, 0.5);
    let samples = vec![vec![0.1, -0.7, 0.3], vec![0.9, 0.2, -0.4]];
    let q = quantize(&m, &samples, &QuantizeOptions::default()).unwrap();
    let (lo, hi) = q.input().range();
    let scale = q.input().scale;
    // One bit of headroom: the largest magnitude uses at most half the range.
    assert!(0.9 * scale.factor() <= (hi as f64 + 1.0) / 2.0);
    assert!(
        0.9 * scale.factor() > (hi as f64 + 1.0) / 4.0,
        "the largest scale that fits"
    );
    assert!(lo < 0);
    let cal = q.calibration().unwrap();
    assert_eq!(
        (cal.samples, cal.input_min, cal.input_max),
        (2, -0.7f32 as f64, 0.9f32 as f64)
    );
}

#[test]
fn training_is_deterministic_for_a_seed() {
    let mut data = digits(Split::Train).unwrap();
    data.inputs.truncate(200);
    data.labels.truncate(200);
    let arch = Architecture::new(
        "small",
        vec![64],
        vec![
            FloatLayer::new(FloatOp::Linear {
                name: "fc1".into(),
                in_features: 64,
                out_features: 8,
            }),
            FloatLayer::new(FloatOp::Relu),
            FloatLayer::new(FloatOp::Linear {
                name: "fc2".into(),
                in_features: 8,
                out_features: 10,
            }),
        ],
    );
    let config = |seed| TrainConfig {
        epochs: 3,
        batch_size: 32,
        learning_rate: 1e-2,
        weight_decay: 0.0,
        seed,
    };
    let weights = |seed| {
        let (m, loss) = train_classifier(&arch, &data, &config(seed)).unwrap();
        assert!(loss.is_finite() && loss < 2.4, "loss {loss}");
        m.params()["fc1.weight"]
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
    };
    let a = weights(7);
    assert_eq!(a, weights(7));
    assert_ne!(a, weights(8));
}

/// Log, square root and reciprocal tables: on the calibrated inputs
/// (positive) the table is the formula, rounded. `ln` and `1/x` grow
/// without bound near 0, so below half the smallest calibrated input
/// (0.125 here, rounded down to a domain point) they hold their value
/// there — which also covers where they are undefined (`ln` at `x ≤ 0`,
/// `1/x` at 0). A square root needs no such clamp: it reads the smallest
/// positive step's value where it is undefined.
#[test]
fn log_sqrt_and_reciprocal_tables_cover_their_whole_domain() {
    use zkinfer_quant::{Op, TableFunction};
    for function in [
        TableFunction::Log,
        TableFunction::Sqrt,
        TableFunction::Reciprocal,
    ] {
        let arch = Architecture::new(
            "f",
            vec![4],
            vec![FloatLayer::new(FloatOp::Activation { function })],
        );
        let model = FloatModel::new(arch, HashMap::new()).unwrap();
        let samples = vec![vec![0.25, 0.5, 1.0, 2.0], vec![3.0, 0.75, 1.5, 2.5]];
        let q = quantize(&model, &samples, &QuantizeOptions::default()).unwrap();
        let table = q
            .nodes()
            .iter()
            .find_map(|n| match &n.op {
                Op::Table(t) => Some(t.clone()),
                _ => None,
            })
            .expect("a table");
        let out_scale = table.output_scale.factor();
        let (lo, hi) = (
            table.domain_min(),
            table.domain_min() + table.values.len() as i64 - 1,
        );
        let in_scale = q.specs()[q.nodes().len() - 1].scale.factor();
        let step = 1.0 / in_scale;
        let bottom = (0.125 / step).floor().max(1.0) * step;
        for v in lo..=hi {
            let x = v as f64 / in_scale;
            let clamped = match function {
                TableFunction::Sqrt => x,
                _ => x.max(bottom),
            };
            let read = function.floor(clamped, step);
            let want = (function.eval(read) * out_scale).round() as i64;
            assert_eq!(table.lookup(v).unwrap(), want, "{function}({x})");
        }
        if function != TableFunction::Sqrt {
            // The undefined inputs, and everything under the bottom, read
            // the bottom's value.
            let at_bottom = table.lookup((bottom * in_scale) as i64);
            assert!(bottom > step, "{function}: the clamp is above one step");
            assert_eq!(table.lookup(0), at_bottom, "{function}");
            assert_eq!(table.lookup(lo), at_bottom, "{function}");
        }
    }
}
