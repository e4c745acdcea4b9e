//! [`FloatModel`]: an [`Architecture`] with its f32 weights, run in candle.

use crate::arch::{numel, Architecture, FloatOp};
use crate::error::{ModelError, Result};
use crate::kernels;
use candle_core::{DType, Device, Tensor};
use std::collections::HashMap;
use std::path::Path;

/// A float model: architecture, weights, and the shape of every tensor.
#[derive(Clone, Debug)]
pub struct FloatModel {
    arch: Architecture,
    params: HashMap<String, Tensor>,
    shapes: Vec<Vec<usize>>,
}

impl FloatModel {
    /// Attaches weights to an architecture, checking that every weight is
    /// present with the shape its layer needs and that shapes flow.
    pub fn new(arch: Architecture, params: HashMap<String, Tensor>) -> Result<Self> {
        arch.check_wiring()?;
        let params = params
            .into_iter()
            .map(|(k, v)| Ok((k, v.to_dtype(DType::F32)?)))
            .collect::<Result<HashMap<_, _>>>()?;
        let shapes = infer_shapes(&arch, &params)?;
        Ok(FloatModel {
            arch,
            params,
            shapes,
        })
    }

    /// Loads an architecture file and a safetensors file.
    pub fn load(arch_path: &Path, weights_path: &Path) -> Result<Self> {
        let text = crate::read_text(arch_path)?;
        let arch = Architecture::from_json(&text)
            .map_err(|e| ModelError::Arch(format!("{}: {e}", arch_path.display())))?;
        let bytes = std::fs::read(weights_path).map_err(|source| ModelError::Io {
            path: weights_path.to_path_buf(),
            source,
        })?;
        // Name the file once: `weights: <file>: <why>`.
        Self::from_bytes(arch, &bytes).map_err(|e| match e {
            ModelError::Weights(why) => {
                ModelError::Weights(format!("{}: {why}", weights_path.display()))
            }
            ModelError::Arch(why) => ModelError::Arch(format!("{}: {why}", arch_path.display())),
            other => other,
        })
    }

    /// An architecture with weights from safetensors bytes.
    pub fn from_bytes(arch: Architecture, safetensors: &[u8]) -> Result<Self> {
        let params = candle_core::safetensors::load_buffer(safetensors, &Device::Cpu)
            .map_err(|e| ModelError::Weights(format!("not a readable safetensors file ({e})")))?;
        Self::new(arch, params)
    }

    /// The architecture.
    pub fn arch(&self) -> &Architecture {
        &self.arch
    }

    /// The weights, by safetensors name.
    pub fn params(&self) -> &HashMap<String, Tensor> {
        &self.params
    }

    /// The shape of every tensor (no batch dimension): input first, then
    /// each layer's output.
    pub fn shapes(&self) -> &[Vec<usize>] {
        &self.shapes
    }

    /// The weight and bias of layer `name`.
    pub fn weight_and_bias(&self, name: &str) -> Result<(&Tensor, &Tensor)> {
        let get = |suffix: &str| {
            let key = format!("{name}.{suffix}");
            self.params
                .get(&key)
                .ok_or_else(|| ModelError::Weights(format!("missing tensor {key:?}")))
        };
        Ok((get("weight")?, get("bias")?))
    }

    /// Runs a batch `[n, ...input_shape]` and returns every tensor: the input
    /// first, then each layer's output.
    pub fn forward_all(&self, x: &Tensor) -> Result<Vec<Tensor>> {
        let mut tensors = vec![x.to_dtype(DType::F32)?];
        for (i, layer) in self.arch.layers.iter().enumerate() {
            let args: Vec<&Tensor> = layer.input_ids(i).iter().map(|&id| &tensors[id]).collect();
            let out = self.apply(&layer.op, &args)?;
            tensors.push(out);
        }
        Ok(tensors)
    }

    /// Runs a batch and returns the output `[n, ...output_shape]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.forward_all(x)?.pop().expect("a model has layers"))
    }

    fn apply(&self, op: &FloatOp, args: &[&Tensor]) -> Result<Tensor> {
        let x = args[0];
        let batch = x.dim(0)?;
        Ok(match op {
            FloatOp::Linear { name, .. } => {
                let (w, b) = self.weight_and_bias(name)?;
                x.matmul(&w.t()?)?.broadcast_add(b)?
            }
            FloatOp::Conv2d {
                name,
                stride,
                padding,
                groups,
                ..
            } => {
                let (w, b) = self.weight_and_bias(name)?;
                let y = kernels::conv2d(x, w, *stride, *padding, *groups)?;
                y.broadcast_add(&b.reshape((1, b.dim(0)?, 1, 1))?)?
            }
            FloatOp::Relu => x.relu()?,
            FloatOp::MaxPool2d { .. } => {
                let p = op.pool().expect("a pool");
                kernels::max_pool(x, p.kernel, p.stride, p.padding)?
            }
            FloatOp::AvgPool2d { .. } => {
                let p = op.pool().expect("a pool");
                let sum = kernels::window_sum(x, p.kernel, p.stride, p.padding)?;
                if p.count_include_pad || !p.is_padded() {
                    (sum / (p.kernel[0] * p.kernel[1]) as f64)?
                } else {
                    let counts = kernels::window_counts(x, p.kernel, p.stride, p.padding)?;
                    sum.broadcast_div(&counts)?
                }
            }
            FloatOp::Flatten => x.flatten_from(1)?,
            FloatOp::Reshape { shape } => {
                let mut dims = vec![batch];
                dims.extend(shape);
                x.reshape(dims)?
            }
            FloatOp::Add => x.add(args[1])?,
            FloatOp::Mul => x.mul(args[1])?,
            FloatOp::MatMul => x.contiguous()?.matmul(&args[1].contiguous()?)?,
            FloatOp::Div => x.div(args[1])?,
            FloatOp::Select { shape, indices } => kernels::select(args, shape, indices)?,
            FloatOp::Activation { function } => kernels::activation(x, *function)?,
        })
    }
}

/// Checks weights and derives the shape of every tensor, naming the layer at
/// fault.
fn infer_shapes(arch: &Architecture, params: &HashMap<String, Tensor>) -> Result<Vec<Vec<usize>>> {
    let mut shapes = vec![arch.input_shape.clone()];
    for (i, layer) in arch.layers.iter().enumerate() {
        let fail =
            |msg: String| ModelError::Arch(format!("layer {i} ({}): {msg}", layer.op.name()));
        let ids = layer.input_ids(i);
        let x = &shapes[ids[0]];
        let check_param = |key: String, want: &[usize]| -> Result<()> {
            match params.get(&key) {
                None => Err(ModelError::Weights(format!(
                    "layer {i} ({}) needs tensor {key:?}, which the weights file lacks",
                    layer.op.name()
                ))),
                Some(t) if t.dims() != want => Err(ModelError::Weights(format!(
                    "tensor {key:?} has shape {:?}, layer {i} ({}) needs {want:?}",
                    t.dims(),
                    layer.op.name()
                ))),
                Some(_) => Ok(()),
            }
        };
        let out = match &layer.op {
            FloatOp::Linear {
                name,
                in_features,
                out_features,
            } => {
                if x != &[*in_features] {
                    return Err(fail(format!(
                        "expects a vector of {in_features}, its input has shape {x:?} (flatten first)"
                    )));
                }
                check_param(format!("{name}.weight"), &[*out_features, *in_features])?;
                check_param(format!("{name}.bias"), &[*out_features])?;
                vec![*out_features]
            }
            FloatOp::Conv2d {
                name,
                in_channels,
                out_channels,
                kernel,
                stride,
                padding,
                groups,
            } => {
                let &[c, h, w] = x.as_slice() else {
                    return Err(fail(format!(
                        "expects a [c, h, w] image, its input has shape {x:?}"
                    )));
                };
                if c != *in_channels {
                    return Err(fail(format!(
                        "expects {in_channels} channels, its input has {c}"
                    )));
                }
                let g = *groups;
                if g == 0 || in_channels % g != 0 || out_channels % g != 0 {
                    return Err(fail(format!(
                        "{g} groups do not divide {in_channels} input and {out_channels} output channels"
                    )));
                }
                check_param(
                    format!("{name}.weight"),
                    &[*out_channels, *in_channels / g, kernel[0], kernel[1]],
                )?;
                check_param(format!("{name}.bias"), &[*out_channels])?;
                zkinfer_quant::conv2d_output([c, h, w], *out_channels, *kernel, *stride, *padding)
                    .map_err(fail)?
                    .to_vec()
            }
            FloatOp::MaxPool2d { .. } | FloatOp::AvgPool2d { .. } => {
                let &[c, h, w] = x.as_slice() else {
                    return Err(fail(format!(
                        "expects a [c, h, w] image, its input has shape {x:?}"
                    )));
                };
                let pool = layer.op.pool().expect("a pool");
                zkinfer_quant::pool2d_output(&pool, [c, h, w])
                    .map_err(fail)?
                    .to_vec()
            }
            // Every shape here has at most MAX_ELEMENTS elements (checked
            // below), so their products are in range.
            FloatOp::Flatten => vec![x.iter().product()],
            FloatOp::Reshape { shape } => {
                if numel(shape) != Some(x.iter().product::<usize>()) {
                    return Err(fail(format!("cannot reshape {x:?} to {shape:?}")));
                }
                shape.clone()
            }
            FloatOp::Select { shape, indices } => {
                let available: usize = ids
                    .iter()
                    .map(|&id| shapes[id].iter().product::<usize>())
                    .sum();
                if numel(shape) != Some(indices.len()) {
                    return Err(fail(format!(
                        "{} indices for shape {shape:?}",
                        indices.len()
                    )));
                }
                if let Some(i) = indices.iter().flatten().find(|&&i| i >= available) {
                    return Err(fail(format!(
                        "reads index {i}, but its inputs hold {available} elements"
                    )));
                }
                shape.clone()
            }
            FloatOp::Add | FloatOp::Mul | FloatOp::Div => {
                let y = &shapes[ids[1]];
                if x != y {
                    let verb = match layer.op {
                        FloatOp::Add => "adds",
                        FloatOp::Mul => "multiplies",
                        _ => "divides",
                    };
                    return Err(fail(format!("{verb} shapes {x:?} and {y:?}")));
                }
                x.clone()
            }
            FloatOp::MatMul => {
                let a = zkinfer_quant::Shape(x.clone());
                let b = zkinfer_quant::Shape(shapes[ids[1]].clone());
                let dims = zkinfer_quant::MatMulDims::of(&a, &b).map_err(fail)?;
                dims.output(&a).0
            }
            FloatOp::Relu | FloatOp::Activation { .. } => x.clone(),
        };
        if numel(&out).is_none() {
            return Err(fail(format!(
                "its output {out:?} has more than {} elements",
                zkinfer_quant::MAX_ELEMENTS
            )));
        }
        shapes.push(out);
    }
    Ok(shapes)
}

/// A float model's weights as safetensors bytes, for the caller to write
/// like its other files (candle's own `save` writes through a private
/// temporary file, mode 0600, whatever the umask).
pub fn weights_bytes(model: &FloatModel) -> Result<Vec<u8>> {
    safetensors::serialize(model.params(), None)
        .map_err(|e| ModelError::Weights(format!("cannot encode the weights as safetensors ({e})")))
}
