//! The model file: versioned JSON (`"format": "zkinfer/model@1"`) holding
//! the graph, the calibration notes and the digest.
//!
//! Reading checks, in order: that the text is JSON, that its `format` is
//! one this build reads, that the fields are complete, that the graph is
//! valid, and that the stored digest matches the contents. Older spellings
//! of an op are read too (see `upgrade_tables`).

use crate::error::{QuantError, Result};
use crate::model::{Calibration, Node, QuantizedModel, TensorSpec};
use serde::{Deserialize, Serialize};

/// The `format` field of model files this build reads and writes.
pub const MODEL_FORMAT: &str = "zkinfer/model@1";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    format: String,
    name: String,
    digest: String,
    input: TensorSpec,
    nodes: Vec<Node>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    calibration: Option<Calibration>,
}

impl QuantizedModel {
    /// Parses and validates a model file's text.
    pub fn from_json(text: &str) -> Result<Self> {
        // Look at the format first, so that a file of another kind or version
        // gets that error rather than a missing-field one.
        let value: serde_json::Value = serde_json::from_str(text)?;
        let format = value.get("format").and_then(|f| f.as_str()).unwrap_or("");
        if format != MODEL_FORMAT {
            return Err(QuantError::Format {
                found: format.to_string(),
                expected: MODEL_FORMAT,
            });
        }
        let file: ModelFile = serde_json::from_value(upgrade_tables(value))?;
        let model = QuantizedModel::new(file.name, file.input, file.nodes, file.calibration)?;
        let computed = model.digest().to_hex();
        if file.digest != computed {
            return Err(QuantError::DigestMismatch {
                stored: file.digest,
                computed,
            });
        }
        Ok(model)
    }

    /// The model file's text (pretty JSON, trailing newline). Tables are
    /// written `{"op": "table", "function": …}`.
    pub fn to_json(&self) -> String {
        let digest = self.digest().to_hex();
        let (name, input, nodes, calibration) = self.clone().into_parts();
        let file = ModelFile {
            format: MODEL_FORMAT.to_string(),
            name,
            digest,
            input,
            nodes,
            calibration,
        };
        let mut text = serde_json::to_string_pretty(&file).expect("a model serializes");
        text.push('\n');
        text
    }
}

/// Files written before tables had one op spell a sigmoid or tanh table
/// `{"op": "sigmoid", …}`: read it as `{"op": "table", "function":
/// "sigmoid", …}`. The digest never depended on the spelling.
fn upgrade_tables(mut value: serde_json::Value) -> serde_json::Value {
    let nodes = value.get_mut("nodes").and_then(|n| n.as_array_mut());
    for node in nodes.into_iter().flatten() {
        let Some(node) = node.as_object_mut() else {
            continue;
        };
        let op = node.get("op").and_then(|op| op.as_str()).unwrap_or("");
        if matches!(op, "sigmoid" | "tanh") && !node.contains_key("function") {
            let function = serde_json::Value::from(op);
            node.insert("function".into(), function);
            node.insert("op".into(), "table".into());
        }
    }
    value
}
