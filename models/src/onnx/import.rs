//! Turning an ONNX graph into zkinfer's float layers.

use super::proto::{ModelProto, NodeProto, TensorProto};
use crate::arch::{Architecture, FloatLayer, FloatOp};
use crate::error::{ModelError, Result};
use crate::float::FloatModel;
use candle_core::{Device, Tensor};
use std::collections::HashMap;
use zkinfer_quant::TableFunction;

/// The op types zkinfer imports.
pub const SUPPORTED_OPS: &[&str] = &[
    "Gemm",
    "MatMul",
    "Add",
    "Relu",
    "Conv",
    "BatchNormalization",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "Flatten",
    "Reshape",
    "Sigmoid",
    "Tanh",
    "Identity",
    "Dropout",
    "Constant",
    "Softmax (final node only)",
];

/// An imported model.
#[derive(Clone, Debug)]
pub struct OnnxImport {
    /// The float model.
    pub model: FloatModel,
    /// The default-domain opset.
    pub opset: i64,
    /// Whether a final Softmax was dropped (the model outputs logits).
    pub dropped_softmax: bool,
}

/// The opsets zkinfer reads.
const OPSETS: std::ops::RangeInclusive<i64> = 11..=18;

/// Input `i` of a node, or an error naming the node and how many inputs
/// its op needs: a hostile file may give a node fewer than its op reads.
fn input(node: &NodeProto, i: usize) -> Result<&str> {
    match node.input.get(i) {
        Some(name) if !name.is_empty() => Ok(name),
        _ => Err(node_error(
            node,
            format!(
                "{} needs input {} but the node has {} ({:?})",
                node.op_type,
                i + 1,
                node.input.iter().filter(|n| !n.is_empty()).count(),
                node.input
            ),
        )),
    }
}

fn node_error(node: &NodeProto, reason: impl std::fmt::Display) -> ModelError {
    ModelError::Onnx(format!("node {:?} ({}): {reason}", node.name, node.op_type))
}

/// A float weight, as zkinfer stores it.
struct Param {
    dims: Vec<usize>,
    data: Vec<f32>,
}

impl Param {
    fn tensor(&self) -> Result<Tensor> {
        Ok(Tensor::from_vec(
            self.data.clone(),
            self.dims.clone(),
            &Device::Cpu,
        )?)
    }
}

/// The graph being built.
struct Builder {
    layers: Vec<FloatLayer>,
    params: HashMap<String, Param>,
    /// ONNX value name → (tensor id, shape without the batch dimension).
    values: HashMap<String, (usize, Vec<usize>)>,
    constants: HashMap<String, TensorProto>,
    consumers: HashMap<String, usize>,
}

impl Builder {
    fn value(&self, node: &NodeProto, name: &str) -> Result<(usize, Vec<usize>)> {
        self.values
            .get(name)
            .cloned()
            .ok_or_else(|| node_error(node, format!("input {name:?} is not computed before it (or is a constant where a tensor is needed)")))
    }

    fn constant(&self, node: &NodeProto, name: &str) -> Result<&TensorProto> {
        self.constants.get(name).ok_or_else(|| {
            node_error(
                node,
                format!("input {name:?} must be an initializer or Constant"),
            )
        })
    }

    /// A float constant: its dimensions (all positive) and values.
    fn floats(&self, node: &NodeProto, name: &str) -> Result<(Vec<usize>, Vec<f32>)> {
        let t = self.constant(node, name)?;
        let data = t
            .floats()
            .map_err(|e| node_error(node, format!("{name:?}: {e}")))?;
        // floats() checked that the dims are non-negative and their product
        // is the number of values; an empty dimension is no weight.
        if t.dims.contains(&0) {
            return Err(node_error(
                node,
                format!("{name:?} has dims {:?}, with an empty dimension", t.dims),
            ));
        }
        let dims = t.dims.iter().map(|&d| d as usize).collect();
        Ok((dims, data))
    }

    /// Stores a layer's weight and bias under PyTorch's names.
    fn add_weights(&mut self, layer: &str, dims: Vec<usize>, weight: Vec<f32>, bias: Vec<f32>) {
        let bias_dims = vec![bias.len()];
        self.params
            .insert(format!("{layer}.weight"), Param { dims, data: weight });
        self.params.insert(
            format!("{layer}.bias"),
            Param {
                dims: bias_dims,
                data: bias,
            },
        );
    }

    /// Adds a layer reading `inputs`; its output is `output` with `shape`.
    fn push(&mut self, op: FloatOp, inputs: Vec<usize>, output: &str, shape: Vec<usize>) {
        let id = self.layers.len() + 1;
        self.layers.push(FloatLayer { inputs, op });
        self.values.insert(output.to_string(), (id, shape));
    }

    /// The layer that produced tensor `id`, when it may be folded into (it is
    /// the last layer and its output is read once).
    fn foldable(&self, id: usize, output_name: &str) -> Option<usize> {
        let last = self.layers.len();
        (id == last && id > 0 && self.consumers.get(output_name) == Some(&1)).then(|| id - 1)
    }
}

fn ints_attr(node: &NodeProto, name: &str, default: &[i64]) -> Vec<i64> {
    node.attr(name)
        .map_or_else(|| default.to_vec(), |a| a.ints.clone())
}

fn int_attr(node: &NodeProto, name: &str, default: i64) -> i64 {
    node.attr(name).and_then(|a| a.i).unwrap_or(default)
}

fn float_attr(node: &NodeProto, name: &str, default: f32) -> f32 {
    node.attr(name).and_then(|a| a.f).unwrap_or(default)
}

fn pair(node: &NodeProto, values: &[i64], what: &str) -> Result<[usize; 2]> {
    match values {
        [a, b] if *a >= 0 && *b >= 0 => Ok([*a as usize, *b as usize]),
        other => Err(node_error(
            node,
            format!("{what} {other:?}: zkinfer imports 2-D windows"),
        )),
    }
}

/// Symmetric padding `[top, left, bottom, right]` → `[h, w]`.
fn padding(node: &NodeProto) -> Result<[usize; 2]> {
    match node.attr("auto_pad").map(|a| a.s.as_slice()) {
        None | Some(b"NOTSET") | Some(b"VALID") => {}
        Some(other) => {
            return Err(node_error(
                node,
                format!(
                    "auto_pad {} is not supported (export with explicit pads)",
                    String::from_utf8_lossy(other)
                ),
            ))
        }
    }
    let pads = ints_attr(node, "pads", &[0, 0, 0, 0]);
    match pads.as_slice() {
        [t, l, b, r] if t == b && l == r && *t >= 0 && *l >= 0 => Ok([*t as usize, *l as usize]),
        other => Err(node_error(
            node,
            format!("pads {other:?}: zkinfer imports symmetric padding"),
        )),
    }
}

/// Imports a `.onnx` file's bytes.
pub fn import_onnx(bytes: &[u8], name: &str) -> Result<OnnxImport> {
    let model = ModelProto::decode(bytes)
        .map_err(|e| ModelError::Onnx(format!("not a readable ONNX model: {}", e.0)))?;
    let opset = model
        .opset
        .ok_or_else(|| ModelError::Onnx("the model imports no default-domain opset".into()))?;
    if !OPSETS.contains(&opset) {
        return Err(ModelError::Onnx(format!(
            "opset {opset}: zkinfer imports opsets 11 to 18"
        )));
    }
    let graph = &model.graph;
    let mut b = Builder {
        layers: vec![],
        params: HashMap::new(),
        values: HashMap::new(),
        constants: graph
            .initializer
            .iter()
            .map(|t| (t.name.clone(), t.clone()))
            .collect(),
        consumers: HashMap::new(),
    };
    for node in &graph.node {
        for input in &node.input {
            *b.consumers.entry(input.clone()).or_default() += 1;
        }
    }
    // The one graph input that is not an initializer; batch dimension 1.
    let inputs: Vec<_> = graph
        .input
        .iter()
        .filter(|v| !b.constants.contains_key(&v.name))
        .collect();
    let [graph_input] = inputs.as_slice() else {
        return Err(ModelError::Onnx(format!(
            "the graph has {} inputs; zkinfer imports models with one",
            inputs.len()
        )));
    };
    let input_shape: Vec<usize> = match graph_input.shape.split_first() {
        Some((batch, rest)) if matches!(batch, None | Some(1)) && rest.iter().all(|d| matches!(d, Some(n) if *n > 0)) => {
            rest.iter().map(|d| d.expect("checked") as usize).collect()
        }
        _ => {
            return Err(ModelError::Onnx(format!(
                "input {:?} has shape {:?}: zkinfer imports a batch dimension of 1 followed by fixed dimensions",
                graph_input.name, graph_input.shape
            )))
        }
    };
    if crate::arch::numel(&input_shape).is_none() {
        return Err(ModelError::Onnx(format!(
            "input {:?} has shape {:?}: more than {} elements",
            graph_input.name,
            graph_input.shape,
            zkinfer_quant::MAX_ELEMENTS
        )));
    }
    b.values
        .insert(graph_input.name.clone(), (0, input_shape.clone()));
    let output_name = graph
        .output
        .first()
        .map(|o| o.name.clone())
        .ok_or_else(|| ModelError::Onnx("the graph has no output".into()))?;
    let mut dropped_softmax = false;
    let mut last_value = graph_input.name.clone();
    for (index, node) in graph.node.iter().enumerate() {
        if !(node.domain.is_empty() || node.domain == "ai.onnx") {
            return Err(node_error(
                node,
                format!("domain {:?} is not supported", node.domain),
            ));
        }
        let out = match node.output.first() {
            Some(out) if !out.is_empty() => out.clone(),
            _ => return Err(node_error(node, "the node has no output")),
        };
        let layer_name = format!("layer{}", b.layers.len());
        match node.op_type.as_str() {
            "Constant" => {
                let t = node
                    .attr("value")
                    .and_then(|a| a.t.clone())
                    .ok_or_else(|| {
                        node_error(node, "only tensor-valued Constants are supported")
                    })?;
                b.constants.insert(out.clone(), t);
                continue;
            }
            "Identity" | "Dropout" => {
                if node.output.len() > 1 && b.consumers.contains_key(&node.output[1]) {
                    return Err(node_error(node, "the dropout mask output is not supported"));
                }
                let v = b.value(node, input(node, 0)?)?;
                b.values.insert(out.clone(), v);
            }
            "Relu" | "Sigmoid" | "Tanh" => {
                let (id, shape) = b.value(node, input(node, 0)?)?;
                let op = match node.op_type.as_str() {
                    "Relu" => FloatOp::Relu,
                    "Sigmoid" => FloatOp::Activation {
                        function: TableFunction::Sigmoid,
                    },
                    _ => FloatOp::Activation {
                        function: TableFunction::Tanh,
                    },
                };
                b.push(op, vec![id], &out, shape);
            }
            "Softmax" => {
                // Only as the model's output: the circuit proves the logits.
                if out != output_name || index + 1 != graph.node.len() {
                    return Err(node_error(
                        node,
                        "Softmax is supported only as the final node (zkinfer proves the logits)",
                    ));
                }
                let v = b.value(node, input(node, 0)?)?;
                b.values.insert(out.clone(), v);
                dropped_softmax = true;
            }
            "Gemm" | "MatMul" => {
                let (id, shape) = b.value(node, input(node, 0)?)?;
                let [inp] = shape.as_slice() else {
                    return Err(node_error(
                        node,
                        format!(
                            "input shape {shape:?}: a linear layer takes a vector (flatten first)"
                        ),
                    ));
                };
                let (w_dims, w) = b.floats(node, input(node, 1)?)?;
                let is_gemm = node.op_type == "Gemm";
                if is_gemm && int_attr(node, "transA", 0) != 0 {
                    return Err(node_error(node, "transA = 1 is not supported"));
                }
                let trans_b = is_gemm && int_attr(node, "transB", 0) != 0;
                let (alpha, beta) = if is_gemm {
                    (
                        float_attr(node, "alpha", 1.0),
                        float_attr(node, "beta", 1.0),
                    )
                } else {
                    (1.0, 1.0)
                };
                let [r, c] = w_dims.as_slice() else {
                    return Err(node_error(
                        node,
                        format!("weight dims {w_dims:?} are not 2-D"),
                    ));
                };
                let (out_f, in_f) = if trans_b { (*r, *c) } else { (*c, *r) };
                if in_f != *inp {
                    return Err(node_error(
                        node,
                        format!("weight {w_dims:?} does not take {inp} inputs"),
                    ));
                }
                // zkinfer stores [out, in], as PyTorch does.
                let weight: Vec<f32> = (0..out_f * in_f)
                    .map(|i| {
                        let (o, j) = (i / in_f, i % in_f);
                        alpha
                            * if trans_b {
                                w[o * in_f + j]
                            } else {
                                w[j * out_f + o]
                            }
                    })
                    .collect();
                let bias = match node.input.get(2).filter(|n| !n.is_empty()) {
                    Some(c) => {
                        let (_, data) = b.floats(node, c)?;
                        match data.len() {
                            n if n == out_f => data.iter().map(|v| beta * v).collect(),
                            1 => vec![beta * data[0]; out_f],
                            n => {
                                return Err(node_error(
                                    node,
                                    format!("bias of {n} values for {out_f} outputs"),
                                ))
                            }
                        }
                    }
                    None => vec![0.0; out_f],
                };
                b.add_weights(&layer_name, vec![out_f, in_f], weight, bias);
                let op = FloatOp::Linear {
                    name: layer_name,
                    in_features: in_f,
                    out_features: out_f,
                };
                b.push(op, vec![id], &out, vec![out_f]);
            }
            "Add" => {
                let [x, y] = node.input.as_slice() else {
                    return Err(node_error(node, "Add takes two inputs"));
                };
                match (b.values.get(x).cloned(), b.values.get(y).cloned()) {
                    (Some((a, sa)), Some((c, sc))) => {
                        if sa != sc {
                            return Err(node_error(
                                node,
                                format!(
                                    "adds shapes {sa:?} and {sc:?}; broadcasting is not supported"
                                ),
                            ));
                        }
                        b.push(FloatOp::Add, vec![a, c], &out, sa);
                    }
                    (Some((id, shape)), None) | (None, Some((id, shape))) => {
                        let tensor_name = if b.values.contains_key(x) { x } else { y };
                        let constant_name = if tensor_name == x { y } else { x };
                        fold_bias(&mut b, node, id, tensor_name, constant_name)?;
                        b.values.insert(out.clone(), (id, shape));
                    }
                    (None, None) => return Err(node_error(node, "adds two constants")),
                }
            }
            "Conv" => {
                let (id, shape) = b.value(node, input(node, 0)?)?;
                let &[ic, h, w] = shape.as_slice() else {
                    return Err(node_error(
                        node,
                        format!("input shape {shape:?} is not [c, h, w]"),
                    ));
                };
                let (w_dims, weight) = b.floats(node, input(node, 1)?)?;
                let &[oc, wic, kh, kw] = w_dims.as_slice() else {
                    return Err(node_error(
                        node,
                        format!("weight dims {w_dims:?} are not [out, in, kh, kw]"),
                    ));
                };
                if int_attr(node, "group", 1) != 1 || wic != ic {
                    return Err(node_error(node, "grouped convolutions are not supported"));
                }
                if ints_attr(node, "dilations", &[1, 1])
                    .iter()
                    .any(|&d| d != 1)
                {
                    return Err(node_error(node, "dilations other than 1 are not supported"));
                }
                let stride = pair(node, &ints_attr(node, "strides", &[1, 1]), "strides")?;
                let padding = padding(node)?;
                let bias = match node.input.get(2).filter(|n| !n.is_empty()) {
                    Some(c) => b.floats(node, c)?.1,
                    None => vec![0.0; oc],
                };
                if bias.len() != oc {
                    return Err(node_error(
                        node,
                        format!("{} biases for {oc} output channels", bias.len()),
                    ));
                }
                let out_shape =
                    zkinfer_quant::conv2d_output([ic, h, w], oc, [kh, kw], stride, padding)
                        .map_err(|e| node_error(node, e))?;
                b.add_weights(&layer_name, w_dims.clone(), weight, bias);
                let op = FloatOp::Conv2d {
                    name: layer_name,
                    in_channels: ic,
                    out_channels: oc,
                    kernel: [kh, kw],
                    stride,
                    padding,
                    groups: 1,
                };
                b.push(op, vec![id], &out, out_shape.to_vec());
            }
            "BatchNormalization" => {
                let (id, shape) = b.value(node, input(node, 0)?)?;
                let layer = b
                    .foldable(id, input(node, 0)?)
                    .ok_or_else(|| node_error(node, "BatchNormalization must follow a Conv or a linear layer whose output it alone reads"))?;
                let eps = float_attr(node, "epsilon", 1e-5);
                let [scale, shift, mean, var] =
                    [1, 2, 3, 4].map(|i| node.input.get(i).cloned().unwrap_or_default());
                let (_, scale) = b.floats(node, &scale)?;
                let (_, shift) = b.floats(node, &shift)?;
                let (_, mean) = b.floats(node, &mean)?;
                let (_, var) = b.floats(node, &var)?;
                fold_batch_norm(&mut b, node, layer, &scale, &shift, &mean, &var, eps)?;
                b.values.insert(out.clone(), (id, shape));
            }
            "MaxPool" | "AveragePool" => {
                let (id, shape) = b.value(node, input(node, 0)?)?;
                let &[c, h, w] = shape.as_slice() else {
                    return Err(node_error(
                        node,
                        format!("input shape {shape:?} is not [c, h, w]"),
                    ));
                };
                let kernel = pair(node, &ints_attr(node, "kernel_shape", &[]), "kernel_shape")?;
                let stride = pair(node, &ints_attr(node, "strides", &[1, 1]), "strides")?;
                if padding(node)? != [0, 0] {
                    return Err(node_error(node, "padded pooling is not supported"));
                }
                if int_attr(node, "ceil_mode", 0) != 0 {
                    return Err(node_error(node, "ceil_mode = 1 is not supported"));
                }
                let [oh, ow] = zkinfer_quant::window_output([h, w], kernel, stride, [0, 0])
                    .map_err(|e| node_error(node, e))?;
                let op = if node.op_type == "MaxPool" {
                    FloatOp::MaxPool2d {
                        kernel,
                        stride: Some(stride),
                        padding: [0, 0],
                    }
                } else {
                    FloatOp::AvgPool2d {
                        kernel,
                        stride: Some(stride),
                        padding: [0, 0],
                        count_include_pad: false,
                    }
                };
                b.push(op, vec![id], &out, vec![c, oh, ow]);
            }
            "GlobalAveragePool" => {
                let (id, shape) = b.value(node, input(node, 0)?)?;
                let &[c, h, w] = shape.as_slice() else {
                    return Err(node_error(
                        node,
                        format!("input shape {shape:?} is not [c, h, w]"),
                    ));
                };
                let op = FloatOp::AvgPool2d {
                    kernel: [h, w],
                    stride: Some([h, w]),
                    padding: [0, 0],
                    count_include_pad: false,
                };
                b.push(op, vec![id], &out, vec![c, 1, 1]);
            }
            "Flatten" => {
                if int_attr(node, "axis", 1) != 1 {
                    return Err(node_error(
                        node,
                        "only axis = 1 (keep the batch) is supported",
                    ));
                }
                let (id, shape) = b.value(node, input(node, 0)?)?;
                b.push(
                    FloatOp::Flatten,
                    vec![id],
                    &out,
                    vec![shape.iter().product()],
                );
            }
            "Reshape" => {
                let (id, shape) = b.value(node, input(node, 0)?)?;
                let target = b
                    .constant(node, node.input.get(1).map_or("", String::as_str))?
                    .ints()
                    .map_err(|e| node_error(node, e))?;
                let numel: usize = shape.iter().product();
                let dims = reshape_dims(&target, numel).map_err(|e| node_error(node, e))?;
                let op = if dims.len() == 1 {
                    FloatOp::Flatten
                } else {
                    FloatOp::Reshape {
                        shape: dims.clone(),
                    }
                };
                b.push(op, vec![id], &out, dims);
            }
            other => {
                return Err(ModelError::Onnx(format!(
                    "node {:?} has op type {other}, which zkinfer cannot import (supported: {})",
                    node.name,
                    SUPPORTED_OPS.join(", ")
                )))
            }
        }
        last_value = out;
    }
    let (output_id, _) = b.values.get(&output_name).cloned().ok_or_else(|| {
        ModelError::Onnx(format!(
            "the graph output {output_name:?} is never computed"
        ))
    })?;
    if output_id == 0 {
        return Err(ModelError::Onnx(format!(
            "the graph output {output_name:?} is the graph input itself: the model computes \
             nothing to prove; export a model with at least one layer"
        )));
    }
    if output_id != b.layers.len() {
        return Err(ModelError::Onnx(format!(
            "the graph output {output_name:?} is computed before the last node, which computes \
             {last_value:?}: zkinfer proves one output, the end of a chain of nodes; remove the \
             nodes after {output_name:?} or make {last_value:?} the graph's output"
        )));
    }
    let arch = Architecture::new(name, input_shape, b.layers);
    let params = b
        .params
        .iter()
        .map(|(k, p)| Ok((k.clone(), p.tensor()?)))
        .collect::<Result<HashMap<_, _>>>()?;
    Ok(OnnxImport {
        model: FloatModel::new(arch, params)?,
        opset,
        dropped_softmax,
    })
}

/// `-1` takes what is left; the first dimension is the batch (1 or -1).
/// Products are checked: a target whose known dimensions overflow does not
/// fit, it does not wrap into fitting.
fn reshape_dims(target: &[i64], numel: usize) -> std::result::Result<Vec<usize>, String> {
    let Some((&batch, rest)) = target.split_first() else {
        return Err("an empty target shape".into());
    };
    if batch != 1 && batch != -1 && batch != 0 {
        return Err(format!(
            "target shape {target:?} changes the batch dimension"
        ));
    }
    let does_not_fit = || format!("target shape {target:?} does not fit {numel} values");
    let known = rest
        .iter()
        .filter(|&&d| d > 0)
        .try_fold(1usize, |n, &d| usize::try_from(d).ok()?.checked_mul(n))
        .ok_or_else(does_not_fit)?;
    let mut dims = vec![];
    for &d in rest {
        match d {
            d if d > 0 => dims.push(d as usize),
            -1 if numel.is_multiple_of(known) => dims.push(numel / known),
            _ => return Err(does_not_fit()),
        }
    }
    if dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) != Some(numel) {
        return Err(format!(
            "target shape {target:?} does not fit {numel} values"
        ));
    }
    Ok(dims)
}

/// Folds `x + c` into the bias of the layer that produced `x`.
fn fold_bias(
    b: &mut Builder,
    node: &NodeProto,
    id: usize,
    tensor: &str,
    constant: &str,
) -> Result<()> {
    let layer = b.foldable(id, tensor).ok_or_else(|| {
        node_error(
            node,
            "adding a constant is supported only as the bias of the preceding MatMul, Gemm or Conv",
        )
    })?;
    let (_, c) = b.floats(node, constant)?;
    let name = match &b.layers[layer].op {
        FloatOp::Linear { name, .. } | FloatOp::Conv2d { name, .. } => name.clone(),
        _ => {
            return Err(node_error(
                node,
                "adding a constant is supported only as a bias",
            ))
        }
    };
    let bias = b
        .params
        .get_mut(&format!("{name}.bias"))
        .expect("linear layers have a bias");
    match c.len() {
        n if n == bias.data.len() => bias.data.iter_mut().zip(&c).for_each(|(b, c)| *b += c),
        1 => bias.data.iter_mut().for_each(|b| *b += c[0]),
        n => {
            return Err(node_error(
                node,
                format!(
                    "a constant of {n} values is not a bias of {}",
                    bias.data.len()
                ),
            ))
        }
    }
    Ok(())
}

/// `y = (x - mean) / sqrt(var + eps) · scale + shift`, folded into the
/// weights and bias of the preceding layer.
#[allow(clippy::too_many_arguments)]
fn fold_batch_norm(
    b: &mut Builder,
    node: &NodeProto,
    layer: usize,
    scale: &[f32],
    shift: &[f32],
    mean: &[f32],
    var: &[f32],
    eps: f32,
) -> Result<()> {
    let name = match &b.layers[layer].op {
        FloatOp::Linear { name, .. } | FloatOp::Conv2d { name, .. } => name.clone(),
        _ => {
            return Err(node_error(
                node,
                "BatchNormalization must follow a Conv or a linear layer",
            ))
        }
    };
    let channels = b.params[&format!("{name}.bias")].data.len();
    if [scale.len(), shift.len(), mean.len(), var.len()]
        .iter()
        .any(|&n| n != channels)
    {
        return Err(node_error(
            node,
            format!("parameters do not have {channels} channels"),
        ));
    }
    let factor: Vec<f32> = scale
        .iter()
        .zip(var)
        .map(|(s, v)| s / (v + eps).sqrt())
        .collect();
    let weight = b
        .params
        .get_mut(&format!("{name}.weight"))
        .expect("present");
    let per_channel = weight.data.len() / channels;
    for (c, chunk) in weight.data.chunks_mut(per_channel).enumerate() {
        chunk.iter_mut().for_each(|w| *w *= factor[c]);
    }
    let bias = b.params.get_mut(&format!("{name}.bias")).expect("present");
    for (c, bias) in bias.data.iter_mut().enumerate() {
        *bias = (*bias - mean[c]) * factor[c] + shift[c];
    }
    Ok(())
}
