//! Deterministic training in candle-nn, for the bundled models.
//!
//! candle's CPU device cannot be seeded, so initialisation and shuffling use
//! zkinfer's own seeded generator (SplitMix64): the same seed gives the same
//! weights on the same machine. Initialisation follows PyTorch's default for
//! linear and conv layers: uniform in `±1/sqrt(fan_in)`.

use crate::arch::{Architecture, FloatOp};
use crate::dataset::Dataset;
use crate::error::{ModelError, Result};
use crate::float::FloatModel;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use std::collections::HashMap;

/// Training hyper-parameters.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// Samples per step.
    pub batch_size: usize,
    /// AdamW learning rate.
    pub learning_rate: f64,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Seed of initialisation and shuffling.
    pub seed: u64,
}

/// SplitMix64: a small, fast, well-mixed seeded generator.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[0, n)`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_f64() * n as f64) as usize
    }
}

/// Trains a classifier with cross-entropy; returns the trained model and
/// the mean loss of the last epoch.
pub fn train_classifier(
    arch: &Architecture,
    data: &Dataset,
    config: &TrainConfig,
) -> Result<(FloatModel, f64)> {
    if data.is_empty() || config.batch_size == 0 {
        return Err(ModelError::Data(
            "training needs samples and a positive batch size".into(),
        ));
    }
    let device = Device::Cpu;
    let mut rng = SplitMix64(config.seed);
    let vars = init_params(arch, &mut rng)?;
    let mut optimizer = AdamW::new(
        vars.values().cloned().collect(),
        ParamsAdamW {
            lr: config.learning_rate,
            weight_decay: config.weight_decay,
            ..Default::default()
        },
    )?;
    let numel: usize = arch.input_shape.iter().product();
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut last_loss = f64::NAN;
    for _ in 0..config.epochs {
        // Fisher–Yates with the seeded generator.
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let (mut total, mut batches) = (0.0, 0);
        for chunk in order.chunks(config.batch_size) {
            let xs: Vec<f32> = chunk.iter().flat_map(|&i| data.inputs[i].clone()).collect();
            let ys: Vec<u32> = chunk.iter().map(|&i| data.labels[i] as u32).collect();
            let mut dims = vec![chunk.len()];
            dims.extend(&arch.input_shape);
            debug_assert_eq!(xs.len(), chunk.len() * numel);
            let x = Tensor::from_vec(xs, dims, &device)?;
            let y = Tensor::from_vec(ys, chunk.len(), &device)?;
            let model = model_of(arch, &vars)?;
            let logits = model.forward(&x)?;
            let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
            optimizer.backward_step(&loss)?;
            total += loss.to_scalar::<f32>()? as f64;
            batches += 1;
        }
        last_loss = total / batches as f64;
    }
    Ok((model_of(arch, &vars)?, last_loss))
}

fn model_of(arch: &Architecture, vars: &HashMap<String, Var>) -> Result<FloatModel> {
    let params = vars
        .iter()
        .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
        .collect();
    FloatModel::new(arch.clone(), params)
}

fn init_params(arch: &Architecture, rng: &mut SplitMix64) -> Result<HashMap<String, Var>> {
    let mut vars = HashMap::new();
    for layer in &arch.layers {
        let (name, weight_shape, fan_in) = match &layer.op {
            FloatOp::Linear {
                name,
                in_features,
                out_features,
            } => (name, vec![*out_features, *in_features], *in_features),
            FloatOp::Conv2d {
                name,
                in_channels,
                out_channels,
                kernel,
                ..
            } => (
                name,
                vec![*out_channels, *in_channels, kernel[0], kernel[1]],
                in_channels * kernel[0] * kernel[1],
            ),
            _ => continue,
        };
        let bound = 1.0 / (fan_in as f64).sqrt();
        let mut uniform = |dims: Vec<usize>| -> Result<Var> {
            let n: usize = dims.iter().product();
            let values: Vec<f32> = (0..n)
                .map(|_| ((rng.next_f64() * 2.0 - 1.0) * bound) as f32)
                .collect();
            let t = Tensor::from_vec(values, dims, &Device::Cpu)?.to_dtype(DType::F32)?;
            Ok(Var::from_tensor(&t)?)
        };
        let out = weight_shape[0];
        vars.insert(format!("{name}.weight"), uniform(weight_shape)?);
        vars.insert(format!("{name}.bias"), uniform(vec![out])?);
    }
    Ok(vars)
}
