//! The models that ship inside zkinfer, trained on the bundled digits by
//! `make models` (`cargo run -p zkinfer-models --example train_digits`).
//!
//! Each lives in `models/bundled/<name>/` as `arch.json`,
//! `weights.safetensors` and the quantized `model.json`, compiled into the
//! binary so that `--model digits-mlp` works from anywhere.

use crate::arch::Architecture;
use crate::error::Result;
use crate::float::FloatModel;
use zkinfer_quant::QuantizedModel;

/// A bundled model's files.
#[derive(Clone, Copy, Debug)]
pub struct BundledModel {
    /// The name `--model` takes.
    pub name: &'static str,
    /// One line on what it is.
    pub description: &'static str,
    arch: &'static str,
    weights: &'static [u8],
    model: &'static str,
}

macro_rules! bundled {
    ($name:literal, $description:literal) => {
        BundledModel {
            name: $name,
            description: $description,
            arch: include_str!(concat!("../bundled/", $name, "/arch.json")),
            weights: include_bytes!(concat!("../bundled/", $name, "/weights.safetensors")),
            model: include_str!(concat!("../bundled/", $name, "/model.json")),
        }
    };
}

/// Every bundled model.
pub const BUNDLED: &[BundledModel] = &[
    bundled!(
        "digits-mlp",
        "UCI digits 8×8: 64 → linear 32 → relu → linear 10"
    ),
    bundled!(
        "digits-cnn",
        "UCI digits 8×8: conv 4×3×3 pad 1 → relu → flatten → linear 256 → 10"
    ),
];

impl BundledModel {
    /// Looks a bundled model up by name.
    pub fn find(name: &str) -> Option<&'static BundledModel> {
        BUNDLED.iter().find(|m| m.name == name)
    }

    /// The quantized model.
    pub fn quantized(&self) -> Result<QuantizedModel> {
        Ok(QuantizedModel::from_json(self.model)?)
    }

    /// The float model it was quantized from.
    pub fn float(&self) -> Result<FloatModel> {
        FloatModel::from_bytes(Architecture::from_json(self.arch)?, self.weights)
    }
}
