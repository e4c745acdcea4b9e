//! Trains, quantizes and writes the bundled digits models (`make models`).
//!
//! For each model: `models/bundled/<name>/arch.json`, `weights.safetensors`
//! (trained on the digits' training split with a fixed seed) and
//! `model.json` (quantized, calibrated on the training split). Prints the
//! held-out accuracies.
//!
//! Run it without the `bundled` feature, since it writes the files that
//! feature compiles in:
//! `cargo run --release -p zkinfer-models --no-default-features --example train_digits`

use std::path::Path;
use zkinfer_models::arch::{Architecture, FloatLayer, FloatOp};
use zkinfer_models::dataset::{digits, Split};
use zkinfer_models::train::{train_classifier, TrainConfig};
use zkinfer_models::{evaluate, files, quantize, LoadedModel, QuantizeOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let train = digits(Split::Train)?;
    let test = digits(Split::Test)?;
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("bundled");
    for (arch, config) in [mlp(), cnn()] {
        let dir = out.join(&arch.name);
        std::fs::create_dir_all(&dir)?;
        let (model, loss) = train_classifier(&arch, &train, &config)?;
        let samples: Vec<Vec<f32>> = train.inputs.clone();
        let quantized = quantize(&model, &samples, &QuantizeOptions::default())?;
        std::fs::write(dir.join(files::ARCH), arch.to_json())?;
        candle_core::safetensors::save(model.params(), dir.join(files::WEIGHTS))?;
        std::fs::write(dir.join(files::MODEL), quantized.to_json())?;
        let report = evaluate(
            &LoadedModel {
                source: arch.name.clone(),
                quantized,
                float: Some(model),
            },
            &test,
        )?;
        println!(
            "{}: final loss {loss:.4}; held-out float {:.4}, quantized {:.4}, agreement {:.4}",
            arch.name,
            report.float_accuracy.unwrap_or(f64::NAN),
            report.quantized_accuracy,
            report.agreement.unwrap_or(f64::NAN)
        );
    }
    Ok(())
}

fn linear(name: &str, in_features: usize, out_features: usize) -> FloatLayer {
    FloatLayer::new(FloatOp::Linear {
        name: name.into(),
        in_features,
        out_features,
    })
}

fn mlp() -> (Architecture, TrainConfig) {
    let arch = Architecture::new(
        "digits-mlp",
        vec![64],
        vec![
            linear("fc1", 64, 32),
            FloatLayer::new(FloatOp::Relu),
            linear("fc2", 32, 10),
        ],
    );
    let config = TrainConfig {
        epochs: 60,
        batch_size: 32,
        learning_rate: 3e-3,
        weight_decay: 1e-4,
        seed: 0x5eed_0001,
    };
    (arch, config)
}

fn cnn() -> (Architecture, TrainConfig) {
    let arch = Architecture::new(
        "digits-cnn",
        vec![1, 8, 8],
        vec![
            FloatLayer::new(FloatOp::Conv2d {
                name: "conv".into(),
                in_channels: 1,
                out_channels: 4,
                kernel: [3, 3],
                stride: [1, 1],
                padding: [1, 1],
                groups: 1,
            }),
            FloatLayer::new(FloatOp::Relu),
            FloatLayer::new(FloatOp::Flatten),
            linear("fc", 256, 10),
        ],
    );
    let config = TrainConfig {
        epochs: 60,
        batch_size: 32,
        learning_rate: 3e-3,
        weight_decay: 1e-4,
        seed: 0x5eed_0002,
    };
    (arch, config)
}
