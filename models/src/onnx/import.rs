//! The entry points: [`import_onnx`] builds the float model, or refuses it
//! listing every problem and unsupported node at once; [`inspect_onnx`]
//! reports what each node imports as, without building anything.

use super::graph::{self, Analysis};
use super::proto::ModelProto;
use super::report::Inspection;
use crate::arch::Architecture;
use crate::error::{ModelError, Result};
use crate::float::FloatModel;
use candle_core::{Device, Tensor};
use std::collections::HashMap;

/// What zkinfer imports, for messages and `--help`.
pub const SUPPORTED_OPS: &[&str] = graph::SUPPORTED;

/// An imported model.
#[derive(Clone, Debug)]
pub struct OnnxImport {
    /// The float model.
    pub model: FloatModel,
    /// The default-domain opset.
    pub opset: i64,
    /// Whether a final Softmax was dropped (the model outputs logits).
    pub dropped_softmax: bool,
    /// What each node imported as.
    pub inspection: Inspection,
}

fn decode(bytes: &[u8]) -> Result<ModelProto> {
    ModelProto::decode(bytes)
        .map_err(|e| ModelError::Onnx(format!("not a readable ONNX model: {}", e.0)))
}

/// Reports what each node of a `.onnx` file imports as. An error only for
/// a file that cannot be decoded: an unsupported model is a report.
pub fn inspect_onnx(bytes: &[u8]) -> Result<Inspection> {
    Ok(graph::analyse(&decode(bytes)?).inspection)
}

/// Imports a `.onnx` file's bytes; `name` names the architecture.
pub fn import_onnx(bytes: &[u8], name: &str) -> Result<OnnxImport> {
    let Analysis {
        inspection,
        input_shape,
        layers,
        params,
    } = graph::analyse(&decode(bytes)?);
    if !inspection.imports {
        return Err(ModelError::Onnx(format!(
            "{} (supported: {})",
            inspection.refusal(),
            SUPPORTED_OPS.join(", ")
        )));
    }
    let arch = Architecture::new(name, input_shape, layers);
    let params = params
        .into_iter()
        .map(|(k, p)| Ok((k, Tensor::from_vec(p.data, p.dims, &Device::Cpu)?)))
        .collect::<Result<HashMap<_, _>>>()?;
    Ok(OnnxImport {
        model: FloatModel::new(arch, params)?,
        opset: inspection.opset.unwrap_or_default(),
        dropped_softmax: inspection.dropped_softmax,
        inspection,
    })
}
