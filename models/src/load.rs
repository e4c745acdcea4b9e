//! Resolving `--model NAME|PATH`: a bundled model's name, a quantized model
//! file, or a model directory (`model.json`, and optionally `arch.json` with
//! `weights.safetensors` for float comparisons).

use crate::error::{ModelError, Result};
use crate::float::FloatModel;
use std::path::{Path, PathBuf};
use zkinfer_quant::QuantizedModel;

/// A model ready to run: the quantized model, and the float model it came
/// from when that is known.
#[derive(Clone, Debug)]
pub struct LoadedModel {
    /// The bundled name or the path given.
    pub source: String,
    /// The quantized model.
    pub quantized: QuantizedModel,
    /// The float model, for accuracy comparisons.
    pub float: Option<FloatModel>,
}

/// The file names inside a model directory.
pub mod files {
    /// The quantized model.
    pub const MODEL: &str = "model.json";
    /// The float architecture.
    pub const ARCH: &str = "arch.json";
    /// The float weights.
    pub const WEIGHTS: &str = "weights.safetensors";
}

/// Loads a bundled model by name, or a model file or directory by path,
/// with its float model when there is one (for accuracy comparisons).
#[cfg(feature = "bundled")]
pub fn load_model(name_or_path: &str) -> Result<LoadedModel> {
    load(name_or_path, true)
}

/// Loads only the quantized model: a model directory's `model.json`,
/// never its float weights, which proving, verifying and inference do not
/// need (a package whose weights are missing, damaged or unreadable to
/// this user still proves and verifies).
#[cfg(feature = "bundled")]
pub fn load_quantized_model(name_or_path: &str) -> Result<LoadedModel> {
    load(name_or_path, false)
}

#[cfg(feature = "bundled")]
fn load(name_or_path: &str, with_float: bool) -> Result<LoadedModel> {
    if let Some(bundled) = crate::bundled::BundledModel::find(name_or_path) {
        return Ok(LoadedModel {
            source: bundled.name.to_string(),
            quantized: bundled.quantized()?,
            float: if with_float {
                Some(bundled.float()?)
            } else {
                None
            },
        });
    }
    let path = Path::new(name_or_path);
    if path.is_dir() {
        let quantized = read_quantized(&path.join(files::MODEL))?;
        let (arch, weights) = (path.join(files::ARCH), path.join(files::WEIGHTS));
        let float = if with_float && arch.is_file() && weights.is_file() {
            Some(FloatModel::load(&arch, &weights)?)
        } else {
            None
        };
        return Ok(LoadedModel {
            source: name_or_path.to_string(),
            quantized,
            float,
        });
    }
    if path.is_file() {
        return Ok(LoadedModel {
            source: name_or_path.to_string(),
            quantized: read_quantized(path)?,
            float: None,
        });
    }
    let names: Vec<&str> = crate::bundled::BUNDLED.iter().map(|m| m.name).collect();
    Err(ModelError::UnknownModel(
        name_or_path.to_string(),
        names.join(", "),
    ))
}

/// Reads and validates a quantized model file.
pub fn read_quantized(path: &Path) -> Result<QuantizedModel> {
    let text = read_text(path)?;
    QuantizedModel::from_json(&text).map_err(|source| ModelError::ModelFile {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a UTF-8 text file, naming it in the error.
pub fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| ModelError::Io {
        path: PathBuf::from(path),
        source,
    })
}
