//! Accuracy of a model on labelled data: float, quantized, and how often
//! the two predict the same class.

use crate::dataset::{argmax, Dataset};
use crate::engine::Engine;
use crate::error::Result;
use crate::load::LoadedModel;
use candle_core::{Device, Tensor};
use serde::Serialize;

/// What `zkinfer eval` reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvalReport {
    /// Samples evaluated.
    pub samples: usize,
    /// Accuracy of the float model (`None` when it is not available).
    pub float_accuracy: Option<f64>,
    /// Accuracy of the quantized model run in the candle engine.
    pub quantized_accuracy: f64,
    /// Fraction of samples where float and quantized predict the same class.
    pub agreement: Option<f64>,
}

/// Evaluates a model on a data set. Classes are the argmax of the outputs,
/// the first index on ties, for float and quantized alike.
pub fn evaluate(model: &LoadedModel, data: &Dataset) -> Result<EvalReport> {
    let q = &model.quantized;
    let inputs = data
        .inputs
        .iter()
        .map(|x| q.quantize_input(&x.iter().map(|&v| v as f64).collect::<Vec<_>>()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let traces = Engine::default().run_batch(q, &inputs)?;
    let quantized: Vec<usize> = traces.iter().map(|t| argmax(&t.output().data)).collect();
    let correct = |pred: &[usize]| {
        pred.iter()
            .zip(&data.labels)
            .filter(|(p, l)| p == l)
            .count() as f64
            / data.len() as f64
    };
    let float = match &model.float {
        None => None,
        Some(f) => {
            let flat: Vec<f32> = data.inputs.iter().flatten().copied().collect();
            let mut dims = vec![data.len()];
            dims.extend(&f.arch().input_shape);
            let x = Tensor::from_vec(flat, dims, &Device::Cpu)?;
            let out = f.forward(&x)?.flatten_from(1)?.to_vec2::<f32>()?;
            Some(out.iter().map(|row| argmax(row)).collect::<Vec<usize>>())
        }
    };
    let agreement = float.as_ref().map(|f| {
        f.iter().zip(&quantized).filter(|(a, b)| a == b).count() as f64 / data.len() as f64
    });
    Ok(EvalReport {
        samples: data.len(),
        float_accuracy: float.as_deref().map(correct),
        quantized_accuracy: correct(&quantized),
        agreement,
    })
}

/// How closely a quantized model follows its float model on some inputs.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct OutputComparison {
    /// Inputs compared.
    pub samples: usize,
    /// Fraction with the same argmax.
    pub agreement: f64,
    /// Largest absolute difference of an output (quantized outputs decoded).
    pub max_abs_error: f64,
    /// Mean absolute difference over every output.
    pub mean_abs_error: f64,
}

/// Runs both models on `samples` and compares their outputs.
pub fn compare_outputs(
    float: &crate::FloatModel,
    quantized: &zkinfer_quant::QuantizedModel,
    samples: &[Vec<f32>],
) -> Result<OutputComparison> {
    let inputs = samples
        .iter()
        .map(|x| quantized.quantize_input(&x.iter().map(|&v| v as f64).collect::<Vec<_>>()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let traces = Engine::default().run_batch(quantized, &inputs)?;
    let flat: Vec<f32> = samples.iter().flatten().copied().collect();
    let mut dims = vec![samples.len()];
    dims.extend(&float.arch().input_shape);
    let x = Tensor::from_vec(flat, dims, &Device::Cpu)?;
    let out = float.forward(&x)?.flatten_from(1)?.to_vec2::<f32>()?;
    let scale = quantized.output().scale;
    let (mut agree, mut max, mut sum, mut count) = (0, 0f64, 0f64, 0usize);
    for (f, t) in out.iter().zip(&traces) {
        let q: Vec<f64> = t
            .output()
            .data
            .iter()
            .map(|&v| scale.dequantize(v))
            .collect();
        agree += usize::from(argmax(f) == argmax(&q));
        for (a, b) in f.iter().zip(&q) {
            let d = (*a as f64 - b).abs();
            max = max.max(d);
            sum += d;
            count += 1;
        }
    }
    Ok(OutputComparison {
        samples: samples.len(),
        agreement: agree as f64 / samples.len().max(1) as f64,
        max_abs_error: max,
        mean_abs_error: sum / count.max(1) as f64,
    })
}
