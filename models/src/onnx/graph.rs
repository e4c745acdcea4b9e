//! One pass over an ONNX graph, in node order, deciding for every node what
//! it imports as. A value is a constant (an initializer, a `Constant`, a
//! static shape, or anything computed from those: folded at once by
//! [`super::fold`]), a run-time tensor (a layer's output, with its shape
//! and possibly a pending affine map or zero padding waiting to be folded
//! into the next layer, see [`super::rewrite`]), a class label derived from
//! the scores (dropped: a verifier recomputes it), or unknown (downstream
//! of an unsupported node whose shape is not known).
//!
//! The pass never stops at the first unsupported node: it records why and
//! carries on (with the shape when it can be worked out), so that one
//! report lists everything a model needs.

mod attention;

use super::activation;
use super::conv_transpose;
use super::embedding;
use super::fold::{self, Budget, Const, Operands};
use super::gelu;
use super::moves::{self, zero_padding};
use super::opset;
use super::proto::{ModelProto, NodeProto};
use super::pwl;
use super::reduce;
use super::report::{Inspection, NodeReport, Status, ValueShape};
use super::rewrite::{self, Affine};
use crate::arch::{FloatLayer, FloatOp};
use std::collections::HashMap;

type R<T> = std::result::Result<T, String>;

/// A float weight, as zkinfer stores it.
pub struct Param {
    pub dims: Vec<usize>,
    pub data: Vec<f32>,
}

/// Zero padding waiting for the conv that reads it.
#[derive(Clone, Debug)]
struct PendingPad {
    pads: [usize; 2],
    unpadded: Vec<usize>,
    node: usize,
}

/// A run-time tensor: a layer's output (id 0 is the model input).
#[derive(Clone, Debug)]
struct Dyn {
    id: usize,
    /// Without the batch dimension.
    shape: Vec<usize>,
    affine: Option<Affine>,
    pad: Option<PendingPad>,
    perm: Option<Perm>,
}

impl Dyn {
    /// A tensor the layers hold as it is: no pending map.
    fn plain(id: usize, shape: Vec<usize>) -> Self {
        Dyn {
            id,
            shape,
            affine: None,
            pad: None,
            perm: None,
        }
    }
}

/// A `Transpose` waiting for the linear layer that reads it: element `i`
/// of the transposed view (row-major) is element `source[i]` of the
/// tensor the layers hold. A permutation of a linear layer's inputs is a
/// permutation of its weight's columns: exact.
#[derive(Clone, Debug)]
struct Perm {
    source: Vec<usize>,
    nodes: Vec<usize>,
}

#[derive(Clone, Debug)]
enum Val {
    Const(Const),
    Dyn(Dyn),
    /// A class label computed from the scores (ArgMax and what follows).
    Label,
    Unknown,
}

/// The importer's result before the float model is built.
pub struct Analysis {
    pub inspection: Inspection,
    pub input_shape: Vec<usize>,
    pub layers: Vec<FloatLayer>,
    pub params: HashMap<String, Param>,
}

/// Elementwise ops that keep their input's shape: an unsupported one still
/// lets the nodes after it be checked.
const SHAPE_KEEPING: &[&str] = &[
    "LeakyRelu",
    "PRelu",
    "Elu",
    "Selu",
    "Celu",
    "HardSigmoid",
    "HardSwish",
    "Softplus",
    "Softsign",
    "Mish",
    "Erf",
    "Exp",
    "Log",
    "Sqrt",
    "Reciprocal",
    "Neg",
    "Abs",
    "Gelu",
    "Sin",
    "Cos",
    "ThresholdedRelu",
    "Sign",
    "Floor",
    "Ceil",
    "Round",
    "Clip",
    "Pow",
    "Softmax",
    "LogSoftmax",
    "InstanceNormalization",
    "LpNormalization",
    "Max",
    "Min",
    "Tanh",
    "Sigmoid",
    "Relu",
    "Dropout",
    "Identity",
    "Cast",
    "LayerNormalization",
    "GroupNormalization",
    "BatchNormalization",
];

/// What zkinfer imports, for messages.
pub const SUPPORTED: &[&str] = &[
    "Gemm",
    "MatMul (a constant right-hand side of any rank, or two tensors of rank 3 or more, batch included)",
    "Conv (1-D and 2-D, grouped and depthwise too)",
    "ConvTranspose (2-D)",
    "Relu",
    "Max(x, 0) as Relu",
    "Sigmoid, Tanh, Erf, Exp, Softplus, Softsign, Mish, Elu, Selu, Celu, LeakyRelu, PRelu (one slope), HardSigmoid, HardSwish, Gelu, Clip, Log, Sqrt, Reciprocal (as lookup tables)",
    "x * Sigmoid(x) as SiLU",
    "MaxPool / AveragePool (symmetric padding up to half the kernel)",
    "GlobalAveragePool, GlobalMaxPool",
    "ReduceMean, ReduceSum, ReduceMax, ReduceMin (any axes)",
    "InstanceNormalization, LayerNormalization (an inverse square root table)",
    "Concat, Slice, Split, Gather (constant indices), Expand, Tile, Transpose, Pad (zero, reflect, edge), Resize / Upsample (nearest)",
    "Flatten",
    "Reshape",
    "Squeeze",
    "Unsqueeze",
    "Add, Sub, Mul and Div of two tensors (broadcast; a divisor through a reciprocal table, a square root one through an inverse square root table), Pow(x, 2) as x · x",
    "Add/Sub/Mul/Div by a constant, BatchNormalization and ai.onnx.ml Scaler (folded into a neighbouring Gemm/MatMul/Conv, else a per-element layer)",
    "Identity",
    "Dropout",
    "Cast to float",
    "Softmax/LogSoftmax (as the output: dropped, the logits proved; inside a model: max-subtracted, an exp table, a sum, a proved division)",
    "constant subgraphs (Shape, Gather, Concat, …)",
    "several graph inputs and outputs (each fed and proven as one vector)",
];

struct Walker<'m> {
    model: &'m ModelProto,
    opset: i64,
    values: HashMap<String, Val>,
    alias: HashMap<String, String>,
    /// Readers of each (resolved) value, Shape nodes excluded: they read
    /// only the static shape.
    uses: HashMap<String, usize>,
    /// The (resolved) node indices reading each value.
    readers: HashMap<String, Vec<usize>>,
    graph_outputs: Vec<String>,
    budget: Budget,
    layers: Vec<FloatLayer>,
    params: HashMap<String, Param>,
    reports: Vec<NodeReport>,
    dropped_softmax: bool,
    /// Values masked with `-inf` by a constant `Where` (a causal mask),
    /// by resolved name: which elements are kept. Only a Softmax may read
    /// them: it leaves the masked positions out.
    masks: HashMap<String, Vec<bool>>,
    /// The graph input of token ids (fed as one-hot rows), if any.
    tokens: Option<String>,
    /// The node computing each value.
    producers: HashMap<String, usize>,
}

fn int_attr(node: &NodeProto, name: &str, default: i64) -> i64 {
    node.attr(name).and_then(|a| a.i).unwrap_or(default)
}

/// Why an op type has no import, with what it would take where that is
/// known.
fn not_yet(op: &str) -> String {
    match op {
        "GroupNormalization" => format!(
            "{op}: no circuit op for it yet (it divides by a standard deviation computed from \
             the input itself: a mean, a variance and an inverse square root per instance, \
             which zkinfer does not prove yet; a BatchNormalization, whose statistics are \
             constants, imports)"
        ),
        _ => format!("{op}: no circuit op for it yet"),
    }
}

fn ints_attr(node: &NodeProto, name: &str, default: &[i64]) -> Vec<i64> {
    node.attr(name)
        .map_or_else(|| default.to_vec(), |a| a.ints.clone())
}

fn float_attr(node: &NodeProto, name: &str, default: f32) -> f32 {
    node.attr(name).and_then(|a| a.f).unwrap_or(default)
}

fn pair(values: &[i64], what: &str) -> R<[usize; 2]> {
    match values {
        [a, b] if *a >= 0 && *b >= 0 => Ok([*a as usize, *b as usize]),
        other => Err(format!("{what} {other:?}: zkinfer imports 2-D windows")),
    }
}

/// `[top, left, bottom, right]` pads, with `auto_pad` resolved for the
/// explicit and VALID cases.
fn pads_of(node: &NodeProto) -> R<[usize; 4]> {
    match node.attr("auto_pad").map(|a| a.s.as_slice()) {
        None | Some(b"NOTSET") | Some(b"") => {}
        Some(b"VALID") => return Ok([0; 4]),
        Some(other) => {
            return Err(format!(
                "auto_pad {} (export with explicit pads)",
                String::from_utf8_lossy(other)
            ))
        }
    }
    match ints_attr(node, "pads", &[0, 0, 0, 0]).as_slice() {
        [t, l, b, r] if [t, l, b, r].iter().all(|&&p| p >= 0) => {
            Ok([*t as usize, *l as usize, *b as usize, *r as usize])
        }
        other => Err(format!("pads {other:?}")),
    }
}

/// A conv's `group` attribute, checked against its `ic` input channels
/// and weight dims `[oc, ic / group, …]`.
fn conv_groups(node: &NodeProto, ic: usize, w_dims: &[usize]) -> R<usize> {
    let group = int_attr(node, "group", 1);
    let (oc, wic) = (w_dims[0], w_dims[1]);
    usize::try_from(group)
        .ok()
        .filter(|&g| g >= 1 && oc % g == 0 && wic.checked_mul(g) == Some(ic))
        .ok_or_else(|| {
            format!("group = {group} with {ic} input channels and weight dims {w_dims:?}")
        })
}

fn with_batch(shape: &[usize]) -> Vec<usize> {
    let mut full = vec![1];
    full.extend(shape);
    full
}

/// A shape with the batch dimension, back without it (the batch must stay
/// a leading 1).
fn without_batch(full: &[usize], what: &str) -> R<Vec<usize>> {
    match full.split_first() {
        Some((1, rest)) => Ok(rest.to_vec()),
        _ => Err(format!(
            "{what} {full:?} does not keep a batch dimension of 1"
        )),
    }
}

impl Walker<'_> {
    fn resolve<'a>(&'a self, mut name: &'a str) -> &'a str {
        // Aliases point backwards in graph order: no cycle.
        while let Some(next) = self.alias.get(name) {
            name = next;
        }
        name
    }

    fn value(&self, name: &str) -> Option<&Val> {
        self.values.get(self.resolve(name))
    }

    fn get_const(&self, name: &str) -> Option<&Const> {
        match self.value(name) {
            Some(Val::Const(c)) => Some(c),
            _ => None,
        }
    }

    fn shape_report(&self, name: &str) -> ValueShape {
        let (shape, constant) = match self.value(name) {
            Some(Val::Const(c)) => (Some(c.dims.clone()), true),
            Some(Val::Dyn(d)) => (Some(with_batch(&d.shape)), false),
            _ => (None, false),
        };
        ValueShape {
            name: name.to_string(),
            shape,
            constant,
        }
    }

    fn set(&mut self, name: &str, v: Val) {
        if !name.is_empty() {
            let resolved = self.resolve(name).to_string();
            self.values.insert(resolved, v);
        }
    }

    fn status(&mut self, index: usize, status: Status) {
        self.reports[index].status = status;
    }

    fn unsupported(&mut self, index: usize, reason: impl Into<String>) {
        self.status(
            index,
            Status::Unsupported {
                reason: reason.into(),
            },
        );
    }

    fn push(
        &mut self,
        index: usize,
        op: FloatOp,
        inputs: Vec<usize>,
        out: &str,
        shape: Vec<usize>,
    ) -> usize {
        let id = self.layers.len() + 1;
        self.status(
            index,
            Status::Layer {
                layer: id - 1,
                op: op.name().to_string(),
            },
        );
        self.layers.push(FloatLayer { inputs, op });
        self.set(out, Val::Dyn(Dyn::plain(id, shape)));
        id
    }

    fn add_weights(&mut self, layer: &str, dims: Vec<usize>, weight: Vec<f32>, bias: Vec<f32>) {
        let n = bias.len();
        self.params
            .insert(format!("{layer}.weight"), Param { dims, data: weight });
        self.params.insert(
            format!("{layer}.bias"),
            Param {
                dims: vec![n],
                data: bias,
            },
        );
    }

    /// A float constant with positive dimensions.
    fn weight(&self, node: &NodeProto, i: usize) -> R<(Vec<usize>, Vec<f32>)> {
        let name = node
            .input
            .get(i)
            .filter(|n| !n.is_empty())
            .ok_or(format!("needs input {}", i + 1))?;
        let c = self
            .get_const(name)
            .ok_or_else(|| format!("input {name:?} must be a constant (weights computed at run time are not supported)"))?;
        if c.dims.contains(&0) {
            return Err(format!(
                "{name:?} has dims {:?}, with an empty dimension",
                c.dims
            ));
        }
        Ok((c.dims.clone(), c.as_f32()))
    }

    /// The plain tensor `d` stands for, as `(layer id, shape)`: pending
    /// maps that `reader` cannot fold become layers of their own.
    fn plain(&mut self, d: &Dyn, _reader: &NodeProto) -> (usize, Vec<usize>) {
        let p = self.materialize(d);
        (p.id, p.shape)
    }

    /// `d` with its pending maps made layers: a transpose or zero padding
    /// a select (no rows in the circuit), an affine map a per-element scale
    /// and offset (a depthwise 1×1 convolution over the elements).
    fn materialize(&mut self, d: &Dyn) -> Dyn {
        let mut id = d.id;
        if let Some(p) = &d.perm {
            let indices = p.source.iter().map(|&j| Some(j)).collect();
            let op = FloatOp::Select {
                shape: d.shape.clone(),
                indices,
            };
            id = self.layer(&p.nodes, op, vec![id]);
        }
        if let Some(a) = &d.affine {
            id = self.affine_layers(a, &d.shape, id);
        }
        if let Some(p) = &d.pad {
            let op = FloatOp::Select {
                shape: d.shape.clone(),
                indices: zero_padding(&p.unpadded, p.pads),
            };
            id = self.layer(&[p.node], op, vec![id]);
        }
        Dyn::plain(id, d.shape.clone())
    }

    /// A layer made for the graph nodes `nodes` (which report it).
    fn layer(&mut self, nodes: &[usize], op: FloatOp, inputs: Vec<usize>) -> usize {
        let id = self.layers.len() + 1;
        for &n in nodes {
            self.status(
                n,
                Status::Layer {
                    layer: id - 1,
                    op: op.name().to_string(),
                },
            );
        }
        self.layers.push(FloatLayer { inputs, op });
        id
    }

    /// A piecewise-linear activation of `x` as layers: ReLUs of shifted
    /// copies, per-element scales and sums — exact, no lookup table
    /// ([`pwl`]). Sets `out` to the result.
    fn pwl_layers(&mut self, index: usize, x: usize, shape: &[usize], p: &pwl::Pwl, out: &str) {
        let n: usize = shape.iter().product();
        let affine = |scale: Vec<f32>, shift: Vec<f32>| Affine {
            pre: vec![0.0; n],
            scale,
            shift,
            nodes: vec![index],
        };
        let mut terms = vec![];
        // A constant with no slope rides on the first hinge's scale (an
        // all-zero weight has no scale to quantize at).
        let mut offset = vec![0.0; n];
        if let Some((a, b)) = &p.linear {
            if a.iter().all(|&a| a == 0.0) {
                offset = b.clone();
            } else {
                terms.push(self.affine_layers(&affine(a.clone(), b.clone()), shape, x));
            }
        }
        for (c, k) in &p.hinges {
            let shifted = if k.iter().all(|&k| k == 0.0) {
                x
            } else {
                let minus: Vec<f32> = k.iter().map(|k| -k).collect();
                self.affine_layers(&affine(vec![1.0; n], minus), shape, x)
            };
            let r = self.layer(&[index], FloatOp::Relu, vec![shifted]);
            let shift = std::mem::replace(&mut offset, vec![0.0; n]);
            let scaled = if c.iter().all(|&c| c == 1.0) && shift.iter().all(|&s| s == 0.0) {
                r
            } else {
                self.affine_layers(&affine(c.clone(), shift), shape, r)
            };
            terms.push(scaled);
        }
        let mut sum = terms[0];
        for &t in &terms[1..] {
            sum = self.layer(&[index], FloatOp::Add, vec![sum, t]);
        }
        self.set(out, Val::Dyn(Dyn::plain(sum, shape.to_vec())));
    }

    /// An element-wise affine map as layers: the value's `n` elements as
    /// `n` channels of one pixel, a depthwise 1×1 convolution (weight: the
    /// scale, bias: the offset), and the shape back.
    fn affine_layers(&mut self, a: &Affine, shape: &[usize], id: usize) -> usize {
        let n: usize = shape.iter().product();
        let flat = self.layer(
            &a.nodes,
            FloatOp::Reshape {
                shape: vec![n, 1, 1],
            },
            vec![id],
        );
        let name = format!("layer{}", self.layers.len());
        self.add_weights(&name, vec![n, 1, 1, 1], a.scale.clone(), a.offset());
        let conv = FloatOp::Conv2d {
            name,
            in_channels: n,
            out_channels: n,
            kernel: [1, 1],
            stride: [1, 1],
            padding: [0, 0],
            groups: n,
        };
        let scaled = self.layer(&a.nodes, conv, vec![flat]);
        let back = if shape.len() == 1 {
            FloatOp::Flatten
        } else {
            FloatOp::Reshape {
                shape: shape.to_vec(),
            }
        };
        self.layer(&a.nodes, back, vec![scaled])
    }

    fn mark_folded(&mut self, nodes: &[usize], into: &NodeProto, how: &str) {
        for &n in nodes {
            self.status(
                n,
                Status::FoldedInto {
                    node: into.name.clone(),
                    how: how.to_string(),
                },
            );
        }
    }

    /// Folds an affine map of the output of the layer that computed `d`
    /// into that layer, when it is the last layer and this is its only
    /// reader. Returns whether it did.
    fn fold_after(&mut self, d: &Dyn, a: &Affine) -> R<bool> {
        if d.affine.is_some()
            || d.pad.is_some()
            || d.perm.is_some()
            || d.id == 0
            || d.id != self.layers.len()
        {
            return Ok(false);
        }
        // Every name of this tensor counts (a Reshape that keeps the shape,
        // say): the layer may change only if this is its one reader.
        let readers: usize = self
            .values
            .iter()
            .filter(|(_, v)| matches!(v, Val::Dyn(o) if o.id == d.id))
            .map(|(n, _)| self.uses.get(n).copied().unwrap_or(0))
            .sum();
        if readers != 1 {
            return Ok(false);
        }
        let layer = match &self.layers[d.id - 1].op {
            FloatOp::Linear { name, .. } | FloatOp::Conv2d { name, .. } => name.clone(),
            _ => return Ok(false),
        };
        if rewrite::per_channel(&a.scale, &d.shape).is_none()
            || rewrite::per_channel(&a.shift, &d.shape).is_none()
            || rewrite::per_channel(&a.pre, &d.shape).is_none()
        {
            return Ok(false);
        }
        let mut weight = self
            .params
            .remove(&format!("{layer}.weight"))
            .expect("a layer's weight");
        let mut bias = self
            .params
            .remove(&format!("{layer}.bias"))
            .expect("a layer's bias");
        let result = rewrite::after_layer(&mut weight.data, &mut bias.data, a, &d.shape);
        self.params.insert(format!("{layer}.weight"), weight);
        self.params.insert(format!("{layer}.bias"), bias);
        result.map(|()| true)
    }

    /// The node producing layer `id`'s output, for reports.
    fn producer_node(&self, id: usize) -> Option<usize> {
        self.reports
            .iter()
            .rposition(|r| matches!(r.status, Status::Layer { layer, .. } if layer + 1 == id))
    }

    /// An affine map applied to `d` (read by node `index`): folded into
    /// the layer before when possible, else left pending for the next.
    fn apply_affine(&mut self, index: usize, node: &NodeProto, d: Dyn, a: Affine) -> R<()> {
        let out = node.output.first().cloned().unwrap_or_default();
        if self.fold_after(&d, &a)? {
            let target = self
                .producer_node(d.id)
                .map(|n| self.reports[n].name.clone())
                .unwrap_or_default();
            self.status(
                index,
                Status::FoldedInto {
                    node: target,
                    how: "into the weights and bias of the layer before".into(),
                },
            );
            self.set(&out, Val::Dyn(Dyn { affine: None, ..d }));
            return Ok(());
        }
        if d.pad.is_some() {
            return Err("an affine map of a padded value (the Pad would no longer be zero)".into());
        }
        let combined = match &d.affine {
            Some(before) => before.then(&a),
            None => a,
        };
        // Pending until the next layer: marked folded when it is.
        self.status(
            index,
            Status::Dropped {
                why: "pending: folded into the next Gemm, MatMul or Conv".into(),
            },
        );
        self.set(
            &out,
            Val::Dyn(Dyn {
                affine: Some(combined),
                ..d
            }),
        );
        Ok(())
    }
}

/// Analyses a decoded model.
pub fn analyse(model: &ModelProto) -> Analysis {
    let graph = &model.graph;
    let opset = model.opset.unwrap_or(0);
    let mut problems = vec![];
    match model.opset {
        None => problems.push("the model imports no default-domain opset".to_string()),
        Some(o) if !opset::OPSETS.contains(&o) => problems.push(format!(
            "opset {o}: zkinfer imports opsets {} to {}",
            opset::OPSETS.start(),
            opset::OPSETS.end()
        )),
        _ => {}
    }
    let mut w = Walker {
        model,
        opset,
        values: HashMap::new(),
        masks: HashMap::new(),
        alias: HashMap::new(),
        uses: HashMap::new(),
        readers: HashMap::new(),
        graph_outputs: vec![],
        budget: Budget::default(),
        layers: vec![],
        params: HashMap::new(),
        reports: vec![],
        dropped_softmax: false,
        tokens: None,
        producers: HashMap::new(),
    };
    // Identity and Dropout are names for their input.
    for node in &graph.node {
        if matches!(node.op_type.as_str(), "Identity" | "Dropout") && node.domain.is_empty() {
            if let (Some(o), Some(i)) = (node.output.first(), node.input.first()) {
                if !o.is_empty() && !i.is_empty() && o != i {
                    let target = w.resolve(i).to_string();
                    if target != *o {
                        w.alias.insert(o.clone(), target);
                    }
                }
            }
        }
    }
    for (index, node) in graph.node.iter().enumerate() {
        for o in node.output.iter().filter(|o| !o.is_empty()) {
            w.producers.insert(o.clone(), index);
        }
        if matches!(node.op_type.as_str(), "Identity" | "Dropout") {
            continue;
        }
        for input in node.input.iter().filter(|n| !n.is_empty()) {
            let name = w.resolve(input).to_string();
            w.readers.entry(name.clone()).or_default().push(index);
            if node.op_type != "Shape" {
                *w.uses.entry(name).or_default() += 1;
            }
        }
    }
    w.graph_outputs = graph
        .output
        .iter()
        .map(|o| w.resolve(&o.name).to_string())
        .collect();
    for o in w.graph_outputs.clone() {
        *w.uses.entry(o).or_default() += 1;
    }
    for t in &graph.initializer {
        match Const::from_proto(t, &mut w.budget) {
            Ok(c) => {
                w.values.insert(t.name.clone(), Val::Const(c));
            }
            Err(e) => problems.push(format!("initializer {:?}: {e}", t.name)),
        }
    }
    // The graph inputs that are not initializers; batch dimension 1. One
    // is the model's input; several are fed as one vector, their
    // concatenation in graph order, each cut out of it by a select.
    let graph_inputs: Vec<_> = graph
        .input
        .iter()
        .filter(|v| !w.values.contains_key(&v.name))
        .collect();
    let mut inputs = vec![];
    let mut shapes = vec![];
    let mut token_vocab = None;
    for v in &graph_inputs {
        match v.shape.split_first() {
            // A symbolic, 0, -1 or 1 batch dimension: the proof is of one sample.
            Some((batch, rest)) if batch.is_none_or(|b| b <= 1) && rest.iter().all(|d| matches!(d, Some(n) if *n > 0)) => {
                let mut shape: Vec<usize> = rest.iter().map(|d| d.unwrap_or(1) as usize).collect();
                if v.is_integer() {
                    match embedding::token_vocab(graph, v, &w.readers) {
                        Ok(_) if graph_inputs.len() > 1 => problems.push(format!(
                            "input {:?} holds token ids: zkinfer imports token ids as a model's only input",
                            v.name
                        )),
                        Ok(vocab) => {
                            token_vocab = Some(vocab);
                            w.tokens = Some(v.name.clone());
                            shape.push(vocab);
                        }
                        Err(e) => problems.push(e),
                    }
                }
                if crate::arch::numel(&shape).is_none() {
                    problems.push(format!(
                        "input {:?} has shape {:?}: more than {} elements",
                        v.name,
                        v.shape,
                        zkinfer_quant::MAX_ELEMENTS
                    ));
                } else {
                    inputs.push(ValueShape { name: v.name.clone(), shape: Some(with_batch(&shape)), constant: false });
                    shapes.push((v.name.clone(), shape));
                }
            }
            _ => problems.push(format!(
                "input {:?} has shape {:?}: zkinfer imports a batch dimension (1 or symbolic) followed by fixed dimensions",
                v.name, v.shape
            )),
        }
    }
    let mut input_shape = vec![];
    match shapes.as_slice() {
        [] if graph_inputs.is_empty() => problems.push("the graph has no input".into()),
        [] => {}
        [(name, shape)] => {
            input_shape = shape.clone();
            w.values
                .insert(name.clone(), Val::Dyn(Dyn::plain(0, shape.clone())));
        }
        several => {
            let sizes: Vec<usize> = several.iter().map(|(_, s)| s.iter().product()).collect();
            match crate::arch::numel(&[sizes.iter().sum()]) {
                None => problems.push(format!(
                    "the inputs hold {} elements together: more than {}",
                    sizes.iter().sum::<usize>(),
                    zkinfer_quant::MAX_ELEMENTS
                )),
                Some(total) => {
                    input_shape = vec![total];
                    let mut offset = 0;
                    for ((name, shape), n) in several.iter().zip(sizes) {
                        let op = FloatOp::Select {
                            shape: shape.clone(),
                            indices: (offset..offset + n).map(Some).collect(),
                        };
                        let id = w.layer(&[], op, vec![0]);
                        w.values
                            .insert(name.clone(), Val::Dyn(Dyn::plain(id, shape.clone())));
                        offset += n;
                    }
                }
            }
        }
    }
    for (index, node) in graph.node.iter().enumerate() {
        w.reports.push(NodeReport {
            index,
            name: node.name.clone(),
            op_type: node.op_type.clone(),
            domain: node.domain.clone(),
            opset,
            status: Status::Unchecked,
            inputs: vec![],
            outputs: vec![],
        });
        w.reports[index].inputs = node
            .input
            .iter()
            .filter(|n| !n.is_empty())
            .map(|n| w.shape_report(n))
            .collect();
        if let Err(reason) = w.node(index, node) {
            w.unsupported(index, reason);
            // An unsupported node needs its inputs as they are: maps
            // pending for a layer after it cannot be folded.
            let pending: Vec<Dyn> = node
                .input
                .iter()
                .filter_map(|n| match w.value(n) {
                    Some(Val::Dyn(d))
                        if d.affine.is_some() || d.pad.is_some() || d.perm.is_some() =>
                    {
                        Some(d.clone())
                    }
                    _ => None,
                })
                .collect();
            for d in pending {
                w.plain(&d, node);
            }
            // Outputs the node did not set are unknown.
            for o in &node.output {
                if !o.is_empty() && w.value(o).is_none() {
                    w.set(o, Val::Unknown);
                }
            }
        }
        w.reports[index].outputs = node
            .output
            .iter()
            .filter(|n| !n.is_empty())
            .map(|n| w.shape_report(n))
            .collect();
    }
    // The outputs: derived labels are dropped; the rest are proven. Several
    // are proven as one vector, their flattened concatenation in graph
    // order (a select, no rows). Messages name the outputs as the file
    // does, before aliases.
    let proven: Vec<(String, String)> = graph
        .output
        .iter()
        .map(|o| (o.name.clone(), w.resolve(&o.name).to_string()))
        .filter(|(_, r)| !matches!(w.values.get(r), Some(Val::Label)))
        .collect();
    let outputs: Vec<String> = proven.iter().map(|(name, _)| name.clone()).collect();
    let mut computed = vec![];
    for (name, resolved) in &proven {
        match w.values.get(resolved).cloned() {
            None => problems.push(format!("the graph output {name:?} is never computed")),
            Some(Val::Const(_)) => {
                problems.push(format!("the graph output {name:?} is a constant"))
            }
            // Pending maps of an output become its last layers.
            Some(Val::Dyn(d)) => computed.push((name.clone(), w.materialize(&d))),
            Some(_) => {}
        }
    }
    let supported = w.reports.iter().all(|r| r.unsupported().is_none());
    match computed.as_slice() {
        _ if proven.is_empty() => problems.push("the graph has no output zkinfer can prove".into()),
        [(name, d)] if proven.len() == 1 => {
            if d.id == 0 {
                problems.push(format!(
                    "the graph output {name:?} is the graph input itself: the model computes \
                     nothing to prove; export a model with at least one layer"
                ));
            } else if d.id != w.layers.len() && supported {
                problems.push(format!(
                    "the graph output {name:?} is computed before the last layer: zkinfer proves \
                     the outputs and nothing after them; remove the nodes after it"
                ));
            }
        }
        several if several.len() == proven.len() && supported => {
            let total: usize = several
                .iter()
                .map(|(_, d)| d.shape.iter().product::<usize>())
                .sum();
            let op = FloatOp::Select {
                shape: vec![total],
                indices: (0..total).map(Some).collect(),
            };
            let ids = several.iter().map(|(_, d)| d.id).collect();
            w.layer(&[], op, ids);
        }
        _ => {}
    }
    let imports = problems.is_empty() && w.reports.iter().all(|r| r.unsupported().is_none());
    if imports {
        w.prune_dead_layers();
    }
    let inspection = Inspection {
        opset: model.opset,
        producer: model.producer_name.clone(),
        inputs,
        outputs,
        problems,
        nodes: w.reports,
        layers: if imports {
            w.layers.iter().map(|l| l.op.name().to_string()).collect()
        } else {
            vec![]
        },
        dropped_softmax: w.dropped_softmax,
        token_vocab,
        imports,
    };
    Analysis {
        inspection,
        input_shape,
        layers: w.layers,
        params: w.params,
    }
}

impl gelu::Scalars for Walker<'_> {
    fn resolved<'a>(&'a self, name: &'a str) -> &'a str {
        self.resolve(name)
    }

    fn scalar(&self, name: &str) -> Option<f64> {
        match self.get_const(name)?.as_f32().as_slice() {
            [v] => Some(f64::from(*v)),
            _ => None,
        }
    }

    fn producer(&self, name: &str) -> Option<usize> {
        self.producers.get(name).copied()
    }
}

impl Walker<'_> {
    /// Removes layers whose output nothing reads (a sigmoid whose product
    /// with its input became one SiLU table): the circuit would prove them
    /// for nothing. Inputs become explicit ids, renumbered.
    fn prune_dead_layers(&mut self) {
        let n = self.layers.len();
        let mut live = vec![false; n];
        if let Some(last) = live.last_mut() {
            *last = true;
        }
        for i in (0..n).rev() {
            if live[i] {
                for id in self.layers[i].input_ids(i) {
                    if id > 0 {
                        live[id - 1] = true;
                    }
                }
            }
        }
        if live.iter().all(|&l| l) {
            return;
        }
        // New tensor id of each old one (0, the input, stays 0).
        let mut renumber = vec![0usize; n + 1];
        let mut kept = vec![];
        for (i, layer) in std::mem::take(&mut self.layers).into_iter().enumerate() {
            if !live[i] {
                if let FloatOp::Linear { name, .. } | FloatOp::Conv2d { name, .. } = &layer.op {
                    self.params.remove(&format!("{name}.weight"));
                    self.params.remove(&format!("{name}.bias"));
                }
                continue;
            }
            let inputs = layer.input_ids(i).iter().map(|&t| renumber[t]).collect();
            kept.push(FloatLayer {
                inputs,
                op: layer.op,
            });
            renumber[i + 1] = kept.len();
        }
        self.layers = kept;
        for report in &mut self.reports {
            if let Status::Layer { layer, .. } = &mut report.status {
                match renumber[*layer + 1] {
                    0 => {
                        report.status = Status::Dropped {
                            why: "nothing reads its output (fused into a later op)".into(),
                        }
                    }
                    new => *layer = new - 1,
                }
            }
        }
    }

    /// Decides one node; an `Err` is the reason it is unsupported.
    fn node(&mut self, index: usize, node: &NodeProto) -> R<()> {
        let out = match node.output.first() {
            Some(o) if !o.is_empty() => o.clone(),
            _ => return Err("the node has no output".into()),
        };
        let present: Vec<&String> = node.input.iter().filter(|n| !n.is_empty()).collect();
        for name in &present {
            if self.value(name).is_none() {
                return Err(format!("input {name:?} is not computed before the node"));
            }
        }
        if present.is_empty() && node.op_type != "Constant" {
            return Err(format!(
                "{} needs input 1 but the node has none",
                node.op_type
            ));
        }
        let vals: Vec<Val> = present
            .iter()
            .map(|n| self.value(n).cloned().expect("checked"))
            .collect();
        if vals.iter().any(|v| matches!(v, Val::Label))
            && !vals.iter().any(|v| matches!(v, Val::Dyn(_)))
        {
            // Cast, Reshape, ArrayFeatureExtractor, … of a class label.
            for o in &node.output {
                self.set(o, Val::Label);
            }
            self.status(
                index,
                Status::Dropped {
                    why: "computes the class label from the scores; a verifier recomputes it"
                        .into(),
                },
            );
            return Ok(());
        }
        if node.domain == "ai.onnx.ml" && node.op_type == "Scaler" {
            return self.scaler(index, node, &vals);
        }
        if !(node.domain.is_empty() || node.domain == "ai.onnx") {
            return Err(format!("domain {:?} is not supported", node.domain));
        }
        if vals.iter().any(|v| matches!(v, Val::Unknown)) {
            // The shape is unknown: only the op type can be judged.
            for o in &node.output {
                self.set(o, Val::Unknown);
            }
            if !self.importable_op(&node.op_type) {
                return Err(not_yet(&node.op_type));
            }
            self.status(index, Status::Unchecked);
            return Ok(());
        }
        if matches!(node.op_type.as_str(), "Identity" | "Dropout") {
            if present.is_empty() || node.input[0].is_empty() {
                return Err(format!("{} needs input 1", node.op_type));
            }
            if node.op_type == "Dropout" {
                opset::dropout_is_inference(node, &|n| self.get_const(n))?;
                if node
                    .output
                    .get(1)
                    .is_some_and(|m| !m.is_empty() && self.readers.contains_key(m.as_str()))
                {
                    return Err("the dropout mask output is read".into());
                }
            }
            self.status(
                index,
                Status::Dropped {
                    why: "the identity at inference".into(),
                },
            );
            return Ok(());
        }
        if vals.iter().all(|v| matches!(v, Val::Const(_))) {
            return self.fold(index, node);
        }
        let dyns: Vec<(usize, Dyn)> = vals
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v {
                Val::Dyn(d) => Some((i, d.clone())),
                _ => None,
            })
            .collect();
        let (first_pos, x) = dyns[0].clone();
        let masked = present
            .iter()
            .any(|n| self.masks.contains_key(self.resolve(n)));
        if masked && !matches!(node.op_type.as_str(), "Softmax" | "LogSoftmax") {
            self.keep_shape(&out, &x);
            return Err(
                "reads a value masked with -inf by a Where; only a Softmax may (it leaves the \
                 masked positions out)"
                    .into(),
            );
        }
        match node.op_type.as_str() {
            "Where" => self.where_constant(index, node, &vals, &out)?,
            "Shape" => {
                self.set(
                    &out,
                    Val::Const(fold::shape_of(&with_batch(&x.shape), node)),
                );
                self.status(index, Status::Folded);
            }
            "Size" => {
                let n = x.shape.iter().product::<usize>() as i64;
                self.set(&out, Val::Const(Const::ints(vec![], vec![n])));
                self.status(index, Status::Folded);
            }
            "Cast" => {
                if !matches!(int_attr(node, "to", 1), 1 | 11) {
                    return Err(format!(
                        "Cast of a tensor to element type {}",
                        int_attr(node, "to", 1)
                    ));
                }
                self.set(&out, Val::Dyn(x));
                self.status(
                    index,
                    Status::Dropped {
                        why: "a cast to float of a float tensor".into(),
                    },
                );
            }
            "ArgMax" => {
                self.plain(&x, node);
                self.set(&out, Val::Label);
                self.status(
                    index,
                    Status::Dropped {
                        why: "computes the class label from the scores; a verifier recomputes it"
                            .into(),
                    },
                );
            }
            "Relu" => {
                let (id, shape) = self.plain(&x, node);
                self.push(index, FloatOp::Relu, vec![id], &out, shape);
            }
            "Clip" => {
                let (lo, hi) = opset::clip_bounds(node, self.opset, &|n| self.get_const(n))?;
                let (id, shape) = self.plain(&x, node);
                if lo == 0.0 && hi == f32::INFINITY {
                    self.push(index, FloatOp::Relu, vec![id], &out, shape);
                } else {
                    let n = shape.iter().product();
                    let p = pwl::clip(n, lo, hi).inspect_err(|_| self.keep_shape(&out, &x))?;
                    self.pwl_layers(index, id, &shape, &p, &out);
                }
            }
            "PRelu" | "LeakyRelu" => {
                let (id, shape) = self.plain(&x, node);
                let slopes = if node.op_type == "LeakyRelu" {
                    vec![float_attr(node, "alpha", 0.01); shape.iter().product()]
                } else {
                    let slope = match vals.get(1) {
                        Some(Val::Const(c)) => c.clone(),
                        _ => return Err("PRelu's slope must be a constant".into()),
                    };
                    rewrite::per_element(&slope, &shape)?
                };
                if slopes.iter().any(|s| !s.is_finite()) {
                    return Err(format!("{} slope is not finite", node.op_type));
                }
                self.pwl_layers(index, id, &shape, &pwl::leaky(slopes), &out);
            }
            "HardSigmoid" if float_attr(node, "alpha", 0.2) > 0.0 => {
                let (id, shape) = self.plain(&x, node);
                let n = shape.iter().product();
                let (alpha, beta) = (
                    float_attr(node, "alpha", 0.2),
                    float_attr(node, "beta", 0.5),
                );
                let p = pwl::hard_sigmoid(n, alpha, beta)
                    .ok_or("HardSigmoid's alpha and beta must be finite")?;
                self.pwl_layers(index, id, &shape, &p, &out);
            }
            op_type if activation::table_function(node).is_some() => {
                let function = activation::table_function(node)
                    .expect("checked")
                    .inspect_err(|_| self.keep_shape(&out, &x))?;
                let _ = op_type;
                let (id, shape) = self.plain(&x, node);
                self.push(
                    index,
                    FloatOp::Activation { function },
                    vec![id],
                    &out,
                    shape,
                );
            }
            "GlobalMaxPool" => {
                let (id, shape) = self.plain(&x, node);
                let &[c, h, w] = shape.as_slice() else {
                    return Err(format!("input shape {shape:?} is not [c, h, w]"));
                };
                let op = FloatOp::MaxPool2d {
                    kernel: [h, w],
                    stride: Some([h, w]),
                    padding: [0, 0],
                };
                self.push(index, op, vec![id], &out, vec![c, 1, 1]);
            }
            "Gather" if self.tokens.is_some() && node.input.get(1) == self.tokens.as_ref() => {
                self.embedding(index, node, &x, &out)?
            }
            "Concat" | "Slice" | "Split" | "Gather" | "Expand" | "Tile" | "Resize" | "Upsample" => {
                self.moves(index, node, &vals)?;
            }
            "Max" if vals.len() == 2 && dyns.len() == 1 => {
                let c = vals
                    .iter()
                    .find_map(|v| if let Val::Const(c) = v { Some(c) } else { None })
                    .expect("one constant");
                let full = with_batch(&x.shape);
                if c.as_f32().iter().all(|&v| v == 0.0)
                    && fold::broadcast_dims(&full, &c.dims).ok().as_ref() == Some(&full)
                {
                    let (id, shape) = self.plain(&x, node);
                    self.push(index, FloatOp::Relu, vec![id], &out, shape);
                } else {
                    self.keep_shape(&out, &x);
                    return Err(
                        "Max with a non-zero constant: only Max(x, 0) imports (as Relu)".into(),
                    );
                }
            }
            "Softmax" | "LogSoftmax" => {
                let resolved = self.resolve(&out).to_string();
                let only_labels = self.readers.get(&resolved).is_none_or(|r| {
                    r.iter()
                        .all(|&n| self.model.graph.node[n].op_type == "ArgMax")
                });
                let covers = opset::softmax_covers_all(node, self.opset, &with_batch(&x.shape))?;
                // (A masked softmax is never dropped: its logits would keep
                // the masked positions.)
                if self.graph_outputs.contains(&resolved) && only_labels && covers && !masked {
                    let (id, shape) = self.plain(&x, node);
                    self.set(&out, Val::Dyn(Dyn::plain(id, shape)));
                    self.dropped_softmax = true;
                    self.status(
                        index,
                        Status::Dropped {
                            why: "the model's output: zkinfer proves the logits (the same argmax)"
                                .into(),
                        },
                    );
                } else if let Err(e) = self.softmax_layers(index, node, &x, &out, masked) {
                    self.keep_shape(&out, &x);
                    return Err(e);
                }
            }
            "Transpose" => self.transpose(index, node, x, &out)?,
            "ReduceMean" | "ReduceSum" | "ReduceMax" | "ReduceMin" => {
                self.reduce(index, node, &x, &out)?
            }
            "InstanceNormalization" | "LayerNormalization" => {
                self.normalization(index, node, &x, &out)?
            }
            "MatMul" if dyns.len() == 2 => {
                let (a, b) = (&dyns[0].1, &dyns[1].1);
                if let Err(e) = self.matmul_activations(index, node, a, b, &out) {
                    self.keep_shape(&out, a);
                    return Err(e);
                }
            }
            "Gemm" | "MatMul" => self.linear(index, node, &x, first_pos, &out)?,
            "Conv" => self.conv(index, node, &x, first_pos, &out)?,
            "ConvTranspose" => self.conv_transpose(index, node, &x, first_pos, &out)?,
            "Add" | "Sub" | "Mul" | "Div" => self.arithmetic(index, node, &vals, &out)?,
            "Pow" => {
                let exponent = match (first_pos, vals.get(1)) {
                    (0, Some(Val::Const(c))) if c.as_f32().len() == 1 => c.as_f32()[0],
                    _ => {
                        self.keep_shape(&out, &x);
                        return Err("Pow of a tensor by a constant exponent only".into());
                    }
                };
                let (id, shape) = self.plain(&x, node);
                if exponent == 2.0 {
                    // x² (LayerNorm written out): a product of two activations.
                    self.push(index, FloatOp::Mul, vec![id, id], &out, shape);
                } else {
                    self.keep_shape(&out, &x);
                    return Err(format!(
                        "Pow with exponent {exponent}: zkinfer imports x² (as x · x)"
                    ));
                }
            }
            "BatchNormalization" => {
                if first_pos != 0 || dyns.len() != 1 {
                    return Err("BatchNormalization parameters must be constants".into());
                }
                opset::batch_norm_is_inference(node, &|o| {
                    self.readers.contains_key(self.resolve(o))
                        || self.graph_outputs.iter().any(|g| g == o)
                })?;
                let p: Vec<Vec<f32>> = (1..5)
                    .map(|i| self.weight(node, i).map(|w| w.1))
                    .collect::<R<_>>()?;
                let a = rewrite::of_batch_norm(
                    [&p[0], &p[1], &p[2], &p[3]],
                    float_attr(node, "epsilon", 1e-5),
                    &x.shape,
                    index,
                )?;
                self.apply_affine(index, node, x, a)?;
            }
            "Pad" => {
                let full = with_batch(&x.shape);
                let (mode, pads, value) =
                    opset::pad(node, self.opset, full.len(), &|n| self.get_const(n))?;
                let padded: Option<Vec<usize>> = (pads.len() == 2 * full.len())
                    .then(|| {
                        (0..full.len())
                            .map(|a| {
                                (full[a] as i64)
                                    .checked_add(pads[a])?
                                    .checked_add(pads[a + full.len()])
                                    .and_then(|d| usize::try_from(d).ok())
                            })
                            .collect()
                    })
                    .flatten()
                    .filter(|p: &Vec<usize>| crate::arch::numel(p).is_some());
                if let Some(p) = &padded {
                    if let Ok(shape) = without_batch(p, "padded shape") {
                        self.set(
                            &out,
                            Val::Dyn(Dyn {
                                shape,
                                affine: None,
                                pad: None,
                                perm: None,
                                ..x.clone()
                            }),
                        );
                    }
                }
                let symmetric = full.len() == 4
                    && pads.len() == 8
                    && pads[..2].iter().chain(&pads[4..6]).all(|&p| p == 0)
                    && pads[2] == pads[6]
                    && pads[3] == pads[7]
                    && pads[2] >= 0
                    && pads[3] >= 0;
                let readers_are_convs = self.readers.get(self.resolve(&out)).is_some_and(|r| {
                    r.iter()
                        .all(|&n| self.model.graph.node[n].op_type == "Conv")
                });
                if mode == "constant" && value != 0.0 {
                    return Err(format!(
                        "Pad with the constant {value}: zkinfer pads with zeros, or in reflect or edge mode"
                    ));
                }
                let foldable = mode == "constant"
                    && symmetric
                    && readers_are_convs
                    && x.affine.is_none()
                    && x.pad.is_none()
                    && x.perm.is_none();
                if !foldable {
                    // Any other padding is a select: zeros, reflections or
                    // copies of the edge, cells of the input.
                    let shape = without_batch(&padded.ok_or("pads")?, "padded shape")?;
                    let indices = moves::pad(&full, &pads, &mode)?;
                    let (id, _) = self.plain(&x, node);
                    let op = FloatOp::Select {
                        shape: shape.clone(),
                        indices,
                    };
                    self.push(index, op, vec![id], &out, shape);
                    return Ok(());
                }
                let pending = PendingPad {
                    pads: [pads[2] as usize, pads[3] as usize],
                    unpadded: x.shape.clone(),
                    node: index,
                };
                let shape = without_batch(&padded.ok_or("pads")?, "padded shape")?;
                self.set(
                    &out,
                    Val::Dyn(Dyn {
                        shape,
                        pad: Some(pending),
                        ..x
                    }),
                );
                self.status(
                    index,
                    Status::Dropped {
                        why: "pending: folded into the next Conv's padding".into(),
                    },
                );
            }
            "MaxPool" | "AveragePool" => self.pool(index, node, &x, &out)?,
            "GlobalAveragePool" => {
                let (id, shape) = self.plain(&x, node);
                let &[c, h, w] = shape.as_slice() else {
                    return Err(format!("input shape {shape:?} is not [c, h, w]"));
                };
                self.push(
                    index,
                    FloatOp::AvgPool2d {
                        kernel: [h, w],
                        stride: Some([h, w]),
                        padding: [0, 0],
                        count_include_pad: false,
                    },
                    vec![id],
                    &out,
                    vec![c, 1, 1],
                );
            }
            "Flatten" | "Reshape" | "Squeeze" | "Unsqueeze" => {
                let full = with_batch(&x.shape);
                let target = match node.op_type.as_str() {
                    "Flatten" => {
                        let a = int_attr(node, "axis", 1);
                        if !matches!(a, 0 | 1) && a != 1 - full.len() as i64 {
                            self.keep_unknown(&out);
                            return Err(format!(
                                "Flatten axis {a}: only the batch is kept apart (axis 1)"
                            ));
                        }
                        vec![1, x.shape.iter().product()]
                    }
                    "Reshape" => {
                        let t = opset::const_input(node, 1, &|n| self.get_const(n))?
                            .ok_or("Reshape needs a shape")?
                            .as_i64()?;
                        fold::reshape_target(&full, &t, int_attr(node, "allowzero", 0) != 0)?
                    }
                    "Squeeze" => {
                        let axes = opset::axes(node, 1, &|n| self.get_const(n))?;
                        match axes {
                            // Squeezing every 1 would drop the batch: keep it.
                            None => with_batch(&fold::squeeze_dims(&x.shape, None)?),
                            Some(a) => fold::squeeze_dims(&full, Some(&a))?,
                        }
                    }
                    _ => {
                        let axes = opset::axes(node, 1, &|n| self.get_const(n))?
                            .ok_or("Unsqueeze needs axes")?;
                        fold::unsqueeze_dims(&full, &axes)?
                    }
                };
                let shape = without_batch(&target, "the new shape")?;
                if shape.iter().product::<usize>() != x.shape.iter().product::<usize>() {
                    return Err(format!(
                        "shape {target:?} does not hold the {full:?} input's values"
                    ));
                }
                let x = if x.pad.is_some() {
                    self.materialize(&x)
                } else {
                    x
                };
                // An affine map is per element: it passes through a reshape.
                let affine = x.affine.clone();
                // So is a pending transpose: its indices are flat ones.
                let perm = x.perm.clone();
                if shape == x.shape {
                    self.set(&out, Val::Dyn(Dyn { pad: None, ..x }));
                    self.status(
                        index,
                        Status::Dropped {
                            why: "keeps the shape".into(),
                        },
                    );
                } else {
                    let op = if shape.len() == 1 {
                        FloatOp::Flatten
                    } else {
                        FloatOp::Reshape {
                            shape: shape.clone(),
                        }
                    };
                    let id = self.push(index, op, vec![x.id], &out, shape.clone());
                    self.set(
                        &out,
                        Val::Dyn(Dyn {
                            id,
                            shape,
                            affine,
                            pad: None,
                            perm,
                        }),
                    );
                }
            }
            other => {
                self.guess_shape(node, &x, &vals, &out);
                return Err(not_yet(other));
            }
        }
        Ok(())
    }

    fn importable_op(&self, op: &str) -> bool {
        matches!(
            op,
            "Gemm"
                | "MatMul"
                | "Conv"
                | "ConvTranspose"
                | "Relu"
                | "Sigmoid"
                | "Tanh"
                | "MaxPool"
                | "AveragePool"
                | "GlobalAveragePool"
                | "Flatten"
                | "Reshape"
                | "Squeeze"
                | "Unsqueeze"
                | "Add"
                | "Sub"
                | "Mul"
                | "Div"
                | "BatchNormalization"
                | "Pad"
                | "Identity"
                | "Dropout"
                | "Cast"
                | "Transpose"
                | "ReduceMean"
                | "ReduceSum"
                | "ReduceMax"
                | "ReduceMin"
                | "InstanceNormalization"
                | "LayerNormalization"
                | "Softmax"
                | "LogSoftmax"
                | "Clip"
                | "Max"
                | "Shape"
                | "ArgMax"
        ) || fold::FOLDED_OPS.contains(&op)
            || activation::table_function(&NodeProto {
                op_type: op.to_string(),
                ..NodeProto::default()
            })
            .is_some()
    }

    fn keep_shape(&mut self, out: &str, x: &Dyn) {
        self.set(
            out,
            Val::Dyn(Dyn {
                affine: None,
                pad: None,
                perm: None,
                ..x.clone()
            }),
        );
    }

    fn keep_unknown(&mut self, out: &str) {
        self.set(out, Val::Unknown);
    }

    /// The output shape of an unsupported node, when it is easy to tell,
    /// so that the nodes after it are still checked.
    fn guess_shape(&mut self, node: &NodeProto, x: &Dyn, vals: &[Val], out: &str) {
        let full = with_batch(&x.shape);
        let shape: Option<Vec<usize>> = match node.op_type.as_str() {
            op if SHAPE_KEEPING.contains(&op) => Some(x.shape.clone()),
            "Add" | "Sub" | "Mul" | "Div" => {
                let mut dims = full.clone();
                for v in vals {
                    let d = match v {
                        Val::Dyn(d) => with_batch(&d.shape),
                        Val::Const(c) => c.dims.clone(),
                        _ => return,
                    };
                    dims = match fold::broadcast_dims(&dims, &d) {
                        Ok(d) => d,
                        Err(_) => return self.keep_unknown(out),
                    };
                }
                without_batch(&dims, "").ok()
            }
            "MaxPool" | "AveragePool" | "Conv" | "ConvTranspose" => (|| {
                // [c, spatial…] with any number of spatial axes (1-D convs too).
                let (&c, spatial) = x.shape.split_first()?;
                let n = spatial.len();
                let ints = |name: &str, default: i64, len: usize| -> Option<Vec<usize>> {
                    let v = ints_attr(node, name, &vec![default; len]);
                    (v.len() == len).then_some(())?;
                    v.iter().map(|&d| usize::try_from(d).ok()).collect()
                };
                let oc = if node.op_type.starts_with("Conv") {
                    let (dims, _) = self.weight(node, 1).ok()?;
                    let g = usize::try_from(int_attr(node, "group", 1)).ok()?;
                    if node.op_type == "Conv" {
                        *dims.first()?
                    } else {
                        dims.get(1)?.checked_mul(g)?
                    }
                } else {
                    c
                };
                let k = ints("kernel_shape", 1, n)?;
                let st = ints("strides", 1, n)?;
                let p = ints("pads", 0, 2 * n)?;
                let op = ints("output_padding", 0, n)?;
                let mut shape = vec![oc];
                for i in 0..n {
                    let (lo, hi) = (p[i], p[i + n]);
                    shape.push(if node.op_type == "ConvTranspose" {
                        spatial[i]
                            .checked_sub(1)?
                            .checked_mul(st[i])?
                            .checked_add(k[i])?
                            .checked_add(op[i])?
                            .checked_sub(lo.checked_add(hi)?)?
                    } else {
                        spatial[i]
                            .checked_add(lo)?
                            .checked_add(hi)?
                            .checked_sub(k[i])?
                            / st[i].max(1)
                            + 1
                    });
                }
                Some(shape)
            })(),
            "Concat" => (|| {
                let axis = fold::axis(int_attr(node, "axis", 0), full.len()).ok()?;
                let mut dims = full.clone();
                dims[axis] = 0;
                for v in vals {
                    let d = match v {
                        Val::Dyn(d) => with_batch(&d.shape),
                        Val::Const(c) => c.dims.clone(),
                        _ => return None,
                    };
                    if d.len() != dims.len() {
                        return None;
                    }
                    dims[axis] = dims[axis].checked_add(d[axis])?;
                }
                without_batch(&dims, "").ok()
            })(),
            "Resize" | "Upsample" => {
                opset::resize_shape(node, self.opset, &full, &|n| self.get_const(n))
                    .ok()
                    .and_then(|s| without_batch(&s, "").ok())
            }
            "Transpose" => node.attr("perm").and_then(|p| {
                let perm: Option<Vec<usize>> = p
                    .ints
                    .iter()
                    .map(|&a| fold::axis(a, full.len()).ok())
                    .collect();
                without_batch(&perm?.iter().map(|&a| full[a]).collect::<Vec<_>>(), "").ok()
            }),
            "GlobalMaxPool" => x.shape.first().map(|&c| vec![c, 1, 1]),
            _ => None,
        };
        match shape.filter(|s| crate::arch::numel(s).is_some()) {
            Some(shape) => {
                for o in &node.output {
                    self.set(
                        o,
                        Val::Dyn(Dyn {
                            id: x.id,
                            shape: shape.clone(),
                            affine: None,
                            pad: None,
                            perm: None,
                        }),
                    );
                }
            }
            None => {
                for o in &node.output {
                    self.set(o, Val::Unknown);
                }
            }
        }
    }

    /// A node whose inputs are all constants.
    fn fold(&mut self, index: usize, node: &NodeProto) -> R<()> {
        let outputs = if node.op_type == "Constant" {
            vec![constant_value(node, &mut self.budget)?]
        } else if fold::FOLDED_OPS.contains(&node.op_type.as_str()) {
            let ops: Operands = opset::operands(node, &|n| self.get_const(n))?;
            let inputs: Vec<Option<Const>> = node
                .input
                .iter()
                .map(|n| {
                    if n.is_empty() {
                        None
                    } else {
                        self.get_const(n).cloned()
                    }
                })
                .collect();
            let refs: Vec<Option<&Const>> = inputs.iter().map(Option::as_ref).collect();
            fold::eval(node, &refs, &ops, &mut self.budget)
                .map_err(|e| format!("cannot be folded: {e}"))?
        } else {
            return Err(format!("{} of constants is not folded", node.op_type));
        };
        for (o, c) in node.output.iter().zip(outputs) {
            self.set(o, Val::Const(c));
        }
        self.status(index, Status::Folded);
        Ok(())
    }

    /// `Some(id of x)` when `s` is the plain output of a sigmoid layer that
    /// reads the plain tensor `x` (PyTorch's SiLU: `x * sigmoid(x)`).
    fn silu_input(&self, x: &Dyn, s: &Dyn) -> Option<usize> {
        let plain = |d: &Dyn| d.affine.is_none() && d.pad.is_none() && d.perm.is_none();
        let layer = self.layers.get(s.id.checked_sub(1)?)?;
        let sigmoid = matches!(
            layer.op,
            FloatOp::Activation {
                function: zkinfer_quant::TableFunction::Sigmoid
            }
        );
        (plain(x) && plain(s) && sigmoid && layer.input_ids(s.id - 1) == [x.id]).then_some(x.id)
    }

    fn arithmetic(&mut self, index: usize, node: &NodeProto, vals: &[Val], out: &str) -> R<()> {
        let op = node.op_type.as_str();
        match vals {
            [Val::Dyn(a), Val::Dyn(b)] => {
                if op == "Mul" {
                    let gelu = |x: usize, f: usize| {
                        gelu::gelu_product(&self.model.graph, self, &node.input[x], &node.input[f])
                    };
                    let found = match gelu(0, 1) {
                        Some(g) => Some((a, g)),
                        None => gelu(1, 0).map(|g| (b, g)),
                    };
                    if let Some((x, (function, c))) = found {
                        // x · (1 + erf(…)) or x · (1 + tanh(…)): c · GELU(x),
                        // one table; the factor c (2, before PyTorch's · 0.5)
                        // a pending scale the next node folds.
                        let (id, shape) = self.plain(x, node);
                        let op = FloatOp::Activation { function };
                        let id = self.push(index, op, vec![id], out, shape.clone());
                        if c != 1.0 {
                            let n = shape.iter().product();
                            let affine = Affine {
                                pre: vec![0.0; n],
                                scale: vec![c as f32; n],
                                shift: vec![0.0; n],
                                nodes: vec![index],
                            };
                            let mut d = Dyn::plain(id, shape);
                            d.affine = Some(affine);
                            self.set(out, Val::Dyn(d));
                        }
                        return Ok(());
                    }
                    if let Some(x) = self.silu_input(a, b).or_else(|| self.silu_input(b, a)) {
                        // x · sigmoid(x): SiLU, one table.
                        let shape = a.shape.clone();
                        let op = FloatOp::Activation {
                            function: zkinfer_quant::TableFunction::Silu,
                        };
                        self.push(index, op, vec![x], out, shape);
                        return Ok(());
                    }
                }
                let float_op = match op {
                    "Add" | "Sub" => FloatOp::Add,
                    "Mul" | "Div" => FloatOp::Mul,
                    _ => {
                        self.keep_shape(out, a);
                        return Err(format!(
                            "{op} of two tensors: no circuit op for it yet (Add, Sub, Mul and Div have one)"
                        ));
                    }
                };
                let (ia, sa) = self.plain(a, node);
                let (mut ib, sb) = self.plain(b, node);
                if op == "Div" {
                    // a / b = a · (1/b): a table of the reciprocal, or of the
                    // inverse square root when b is a square root
                    // (LayerNorm written out: d / sqrt(variance + ε)).
                    ib = self.reciprocal(index, ib);
                }
                let full = match fold::broadcast_dims(&with_batch(&sa), &with_batch(&sb)) {
                    Ok(full) => full,
                    Err(e) => {
                        self.keep_shape(out, a);
                        return Err(e);
                    }
                };
                if op == "Sub" {
                    // a - b = a + (-1)·b: the negation is a per-element layer.
                    let negation = Affine::negation(sb.iter().product(), index);
                    ib = self.affine_layers(&negation, &sb, ib);
                }
                let shape = without_batch(&full, "the broadcast shape")?;
                let ia = self.broadcast(index, ia, &sa, &full);
                let ib = self.broadcast(index, ib, &sb, &full);
                self.push(index, float_op, vec![ia, ib], out, shape);
                Ok(())
            }
            [Val::Dyn(x), Val::Const(c)] | [Val::Const(c), Val::Dyn(x)] => {
                let const_first = matches!(vals[0], Val::Const(_));
                let a = match rewrite::of_arithmetic(op, c, const_first, &x.shape, index) {
                    Ok(a) => a,
                    Err(e) => {
                        self.keep_shape(out, x);
                        return Err(e);
                    }
                };
                let x = x.clone();
                if let Err(e) = self.apply_affine(index, node, x.clone(), a) {
                    self.keep_shape(out, &x);
                    return Err(e);
                }
                Ok(())
            }
            _ => Err(format!("{op} takes two inputs")),
        }
    }

    /// `1 / t` for tensor `id` as a table layer: `rsqrt(v)` when `t` is a
    /// `sqrt(v)` layer (which then has no reader left and is pruned), else
    /// the reciprocal of `t`.
    fn reciprocal(&mut self, index: usize, id: usize) -> usize {
        use zkinfer_quant::TableFunction;
        let sqrt_of = id.checked_sub(1).and_then(|l| {
            let layer = &self.layers[l];
            let is_sqrt = layer.op
                == FloatOp::Activation {
                    function: TableFunction::Sqrt,
                };
            is_sqrt.then(|| layer.input_ids(l)[0])
        });
        let (function, input) = match sqrt_of {
            Some(v) => (TableFunction::Rsqrt { epsilon: 0.0 }, v),
            None => (TableFunction::Reciprocal, id),
        };
        self.layer(&[index], FloatOp::Activation { function }, vec![input])
    }

    /// Tensor `id` of `shape`, broadcast to `full` (batch included) by a
    /// select when it is smaller: a per-channel gate over an image.
    fn broadcast(&mut self, index: usize, id: usize, shape: &[usize], full: &[usize]) -> usize {
        let dims = with_batch(shape);
        if dims == full {
            return id;
        }
        let op = FloatOp::Select {
            shape: full[1..].to_vec(),
            indices: moves::broadcast(&dims, full),
        };
        self.layer(&[index], op, vec![id])
    }

    /// A transpose of a tensor: pending, for the linear layer that reads
    /// it (tf2onnx writes one back to NHWC before every flatten).
    fn transpose(&mut self, index: usize, node: &NodeProto, x: Dyn, out: &str) -> R<()> {
        let x = if x.affine.is_some() || x.pad.is_some() {
            self.materialize(&x)
        } else {
            x
        };
        let full = with_batch(&x.shape);
        let rank = full.len();
        let perm: Vec<usize> = match node.attr("perm") {
            Some(a) => a
                .ints
                .iter()
                .map(|&p| fold::axis(p, rank))
                .collect::<R<_>>()?,
            None => (0..rank).rev().collect(),
        };
        let mut seen = vec![false; rank];
        if perm.len() != rank || perm.iter().any(|&p| std::mem::replace(&mut seen[p], true)) {
            self.keep_unknown(out);
            return Err(format!("perm {perm:?} for rank {rank}"));
        }
        if perm[0] != 0 {
            self.keep_unknown(out);
            return Err(format!("perm {perm:?} moves the batch dimension"));
        }
        let out_full: Vec<usize> = perm.iter().map(|&p| full[p]).collect();
        // Shapes of run-time tensors hold at most MAX_ELEMENTS: no overflow.
        let strides = |dims: &[usize]| -> Vec<usize> {
            let mut s = vec![1usize; dims.len()];
            for a in (0..dims.len().saturating_sub(1)).rev() {
                s[a] = s[a + 1] * dims[a + 1];
            }
            s
        };
        let (in_strides, out_strides) = (strides(&full), strides(&out_full));
        let n: usize = x.shape.iter().product();
        let mut source: Vec<usize> = (0..n)
            .map(|mut i| {
                let mut j = 0;
                for a in 0..rank {
                    j += (i / out_strides[a]) * in_strides[perm[a]];
                    i %= out_strides[a];
                }
                j
            })
            .collect();
        let mut nodes = vec![];
        if let Some(before) = &x.perm {
            source = source.iter().map(|&j| before.source[j]).collect();
            nodes = before.nodes.clone();
        }
        nodes.push(index);
        let shape = out_full[1..].to_vec();
        let identity = source.iter().enumerate().all(|(i, &j)| i == j);
        if identity && shape != x.shape {
            // Only axes of length 1 move: the elements keep their order,
            // the tensor takes the new shape (products read it).
            let op = FloatOp::Reshape {
                shape: shape.clone(),
            };
            self.push(index, op, vec![x.id], out, shape);
            return Ok(());
        }
        let perm = (!identity).then_some(Perm { source, nodes });
        self.set(
            out,
            Val::Dyn(Dyn {
                shape,
                affine: None,
                pad: None,
                perm,
                ..x
            }),
        );
        self.status(
            index,
            Status::Dropped {
                why: if identity {
                    "keeps the order of the elements".into()
                } else {
                    "pending: folded into the next Gemm or MatMul's weight columns".into()
                },
            },
        );
        Ok(())
    }

    /// `ReduceMean` over both spatial axes of an image (PyTorch's
    /// `x.mean([2, 3])`) is a global average pool; with `keepdims = 0` it
    /// is followed by a flatten. Axes: an attribute before opset 18, an
    /// input from 18.
    /// `ReduceMean`, `ReduceSum`, `ReduceMax` or `ReduceMin` over any axes
    /// ([`reduce`]); the mean or maximum over both spatial axes of an image
    /// is one global pool.
    fn reduce(&mut self, index: usize, node: &NodeProto, x: &Dyn, out: &str) -> R<()> {
        let op = node.op_type.as_str();
        let full = with_batch(&x.shape);
        let axes: Vec<usize> = match opset::axes(node, 1, &|n| self.get_const(n))? {
            Some(a) if !a.is_empty() => a
                .iter()
                .map(|&a| fold::axis(a, full.len()))
                .collect::<R<_>>()?,
            // Opset 18: no axes and noop_with_empty_axes = 1 is the identity.
            _ if int_attr(node, "noop_with_empty_axes", 0) != 0 => {
                self.set(out, Val::Dyn(x.clone()));
                return Ok(());
            }
            _ => (0..full.len()).collect(),
        };
        let keep = int_attr(node, "keepdims", 1) != 0;
        let (id, _) = self.plain(x, node);
        let (id, plan) = match self.reduce_layers(index, id, &x.shape, &axes, op, keep) {
            Ok(reduced) => reduced,
            Err(e) => {
                self.keep_unknown(out);
                return Err(e);
            }
        };
        let id = self.reshape_reduced(index, id, &plan);
        self.set(out, Val::Dyn(Dyn::plain(id, plan.out_shape.clone())));
        self.status(
            index,
            Status::Layer {
                layer: id - 1,
                op: self.layers[id - 1].op.name().to_string(),
            },
        );
        if op == "ReduceMin" {
            // The maximum of -x, negated: pending, for the next layer.
            let d = Dyn {
                affine: Some(Affine::negation(plan.kept, index)),
                ..Dyn::plain(id, plan.out_shape)
            };
            self.set(out, Val::Dyn(d));
        }
        Ok(())
    }

    /// Layers reducing tensor `id` of `shape` over `axes` (batch included)
    /// by `op` (`ReduceMean`, `ReduceSum`, `ReduceMax`, `ReduceMin`, the last
    /// before its final negation): the id of the `[kept, 1, 1]` result.
    fn reduce_layers(
        &mut self,
        index: usize,
        mut id: usize,
        shape: &[usize],
        axes: &[usize],
        op: &str,
        keep: bool,
    ) -> R<(usize, reduce::Plan)> {
        let plan = reduce::plan(shape, axes, keep)?;
        let mut sorted = axes.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let global_pool = sorted == [2, 3] && shape.len() == 3 && op != "ReduceSum";
        if op == "ReduceMin" {
            let negation = Affine::negation(shape.iter().product(), index);
            id = self.affine_layers(&negation, shape, id);
        }
        let (h, w) = if global_pool {
            (shape[1], shape[2])
        } else {
            let rows = [plan.kept, 1, plan.reduced].to_vec();
            let order = match &plan.select {
                Some(indices) => FloatOp::Select {
                    shape: rows,
                    indices: indices.clone(),
                },
                None => FloatOp::Reshape { shape: rows },
            };
            id = self.layer(&[index], order, vec![id]);
            (1, plan.reduced)
        };
        let window = match op {
            "ReduceMean" => FloatOp::AvgPool2d {
                kernel: [h, w],
                stride: Some([h, w]),
                padding: [0, 0],
                count_include_pad: false,
            },
            "ReduceMax" | "ReduceMin" => FloatOp::MaxPool2d {
                kernel: [h, w],
                stride: Some([h, w]),
                padding: [0, 0],
            },
            _ => {
                // An exact sum: a depthwise conv whose weights are all 1.
                let name = format!("layer{}", self.layers.len());
                let k = plan.kept;
                self.add_weights(&name, vec![k, 1, 1, w], vec![1.0; k * w], vec![0.0; k]);
                FloatOp::Conv2d {
                    name,
                    in_channels: k,
                    out_channels: k,
                    kernel: [1, w],
                    stride: [1, 1],
                    padding: [0, 0],
                    groups: k,
                }
            }
        };
        Ok((self.layer(&[index], window, vec![id]), plan))
    }

    /// The `[kept, 1, 1]` result of [`Self::reduce_layers`] in the
    /// reduction's output shape (a reshape when they differ).
    fn reshape_reduced(&mut self, index: usize, id: usize, plan: &reduce::Plan) -> usize {
        if plan.out_shape == [plan.kept, 1, 1] {
            return id;
        }
        // One value per sample is a rank-0 tensor to the graph, one element
        // to the layers.
        let shape = if plan.out_shape.is_empty() {
            vec![1]
        } else {
            plan.out_shape.clone()
        };
        self.layer(&[index], FloatOp::Reshape { shape }, vec![id])
    }

    /// `InstanceNormalization` (over the spatial axes of each channel) and
    /// `LayerNormalization` (over the axes from `axis` on), written out:
    /// `d = x - mean(x)`, `y = d · rsqrt(mean(d·d) + ε)` — means as
    /// reductions, the broadcasts as selects, the products proved, the
    /// inverse square root a table over the variances calibration sees —
    /// and the per-element scale and bias pending, for the next layer.
    fn normalization(&mut self, index: usize, node: &NodeProto, x: &Dyn, out: &str) -> R<()> {
        if node.output.iter().skip(1).any(|o| !o.is_empty()) {
            return Err("the mean and inverse standard deviation outputs are not supported".into());
        }
        let instance = node.op_type == "InstanceNormalization";
        let shape = x.shape.clone();
        let full = with_batch(&shape);
        let rank = full.len();
        let first = if instance {
            2
        } else {
            fold::axis(int_attr(node, "axis", -1), rank)?
        };
        if first == 0 || first >= rank {
            return Err(format!("normalises axes {first}.. of {full:?}"));
        }
        let axes: Vec<usize> = (first..rank).collect();
        let epsilon = float_attr(node, "epsilon", 1e-5);
        let n: usize = shape.iter().product();
        // The scale and bias, one per element.
        let per_element = |i: usize, default: f32| -> R<Vec<f32>> {
            let (dims, values) = match node.input.get(i).filter(|n| !n.is_empty()) {
                None => return Ok(vec![default; n]),
                Some(_) => self.weight(node, i)?,
            };
            // Instance norm: one per channel (axis 1); layer norm: the
            // normalised dims, broadcast from the right.
            let aligned = if instance {
                let mut d = vec![1, values.len()];
                d.resize(rank, 1);
                d
            } else {
                dims.clone()
            };
            match fold::broadcast_dims(&aligned, &full) {
                Ok(b) if b == full && values.len() == aligned.iter().product::<usize>() => Ok((0
                    ..n)
                    .map(fold::broadcast_index(&aligned, &full))
                    .map(|j| values[j])
                    .collect()),
                _ => Err(format!(
                    "input {} of dims {dims:?} for a tensor of {full:?}",
                    i + 1
                )),
            }
        };
        let scale = per_element(1, 1.0)?;
        let shift = per_element(2, 0.0)?;
        let (id, _) = self.plain(x, node);
        let mean = |w: &mut Self, id: usize| -> R<(usize, Vec<usize>)> {
            let (m, plan) = w.reduce_layers(index, id, &shape, &axes, "ReduceMean", true)?;
            Ok((w.reshape_reduced(index, m, &plan), plan.out_shape))
        };
        let (m, mshape) = mean(self, id)?;
        let negation = Affine::negation(mshape.iter().product(), index);
        let m = self.affine_layers(&negation, &mshape, m);
        let m = self.broadcast(index, m, &mshape, &full);
        let d = self.layer(&[index], FloatOp::Add, vec![id, m]);
        let square = self.layer(&[index], FloatOp::Mul, vec![d, d]);
        let (variance, _) = mean(self, square)?;
        let function = zkinfer_quant::TableFunction::Rsqrt { epsilon };
        let r = self.layer(&[index], FloatOp::Activation { function }, vec![variance]);
        let r = self.broadcast(index, r, &mshape, &full);
        let y = self.push(index, FloatOp::Mul, vec![d, r], out, shape.clone());
        let affine = Affine {
            pre: vec![0.0; n],
            scale,
            shift,
            nodes: vec![index],
        };
        self.set(
            out,
            Val::Dyn(Dyn {
                affine: Some(affine),
                ..Dyn::plain(y, shape)
            }),
        );
        Ok(())
    }

    /// skl2onnx's `StandardScaler`: `ai.onnx.ml.Scaler`, `(x - offset) ·
    /// scale` per feature (one value or one per feature): an affine map.
    fn scaler(&mut self, index: usize, node: &NodeProto, vals: &[Val]) -> R<()> {
        let [Val::Dyn(x)] = vals else {
            return Err("Scaler takes one tensor".into());
        };
        let n: usize = x.shape.iter().product();
        let per_feature = |name: &str, default: f32| -> R<Vec<f32>> {
            match node.attr(name).map(|a| a.floats.as_slice()) {
                None | Some([]) => Ok(vec![default; n]),
                Some([v]) => Ok(vec![*v; n]),
                Some(v) if v.len() == n && x.shape.len() == 1 => Ok(v.to_vec()),
                Some(v) => Err(format!(
                    "{} {name} values for a tensor of shape {:?}",
                    v.len(),
                    with_batch(&x.shape)
                )),
            }
        };
        let offset = per_feature("offset", 0.0)?;
        let scale = per_feature("scale", 1.0)?;
        let a = Affine {
            pre: offset.iter().map(|o| -o).collect(),
            scale,
            shift: vec![0.0; n],
            nodes: vec![index],
        };
        self.apply_affine(index, node, x.clone(), a)
    }

    fn linear(&mut self, index: usize, node: &NodeProto, x: &Dyn, pos: usize, out: &str) -> R<()> {
        if pos != 0 {
            return Err(
                "a constant times a tensor (the tensor on the right) is not supported".into(),
            );
        }
        let x = &if x.pad.is_some() {
            self.materialize(x)
        } else {
            x.clone()
        };
        if x.shape.len() > 1 && node.op_type == "MatMul" {
            return self.matmul_rows(index, node, x, out);
        }
        let [inp] = x.shape.as_slice() else {
            return Err(format!(
                "input shape {:?}: Gemm takes a vector (flatten first)",
                with_batch(&x.shape)
            ));
        };
        let (w_dims, w) = self.weight(node, 1)?;
        let is_gemm = node.op_type == "Gemm";
        if is_gemm && int_attr(node, "transA", 0) != 0 {
            return Err("transA = 1 is not supported".into());
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
            return Err(format!("weight dims {w_dims:?} are not 2-D"));
        };
        let (out_f, in_f) = if trans_b { (*r, *c) } else { (*c, *r) };
        if in_f != *inp {
            return Err(format!("weight {w_dims:?} does not take {inp} inputs"));
        }
        // zkinfer stores [out, in], as PyTorch does.
        let mut weight: Vec<f32> = (0..out_f * in_f)
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
        let mut bias = match node.input.get(2).filter(|n| !n.is_empty()) {
            Some(_) => {
                let (_, data) = self.weight(node, 2)?;
                match data.len() {
                    n if n == out_f => data.iter().map(|v| beta * v).collect(),
                    1 => vec![beta * data[0]; out_f],
                    n => return Err(format!("bias of {n} values for {out_f} outputs")),
                }
            }
            None => vec![0.0; out_f],
        };
        if let Some(a) = &x.affine {
            rewrite::before_linear(&mut weight, &mut bias, a);
            self.mark_folded(
                &a.nodes,
                node,
                "into the weights and bias of the linear layer after",
            );
        }
        if let Some(p) = &x.perm {
            // Input i of the view is input source[i] of the tensor.
            let mut permuted = vec![0.0; weight.len()];
            for (row, new_row) in weight.chunks(in_f).zip(permuted.chunks_mut(in_f)) {
                for (i, &w) in row.iter().enumerate() {
                    new_row[p.source[i]] = w;
                }
            }
            weight = permuted;
            self.mark_folded(
                &p.nodes,
                node,
                "into the columns of the linear layer's weight",
            );
        }
        let name = format!("layer{}", self.layers.len());
        self.add_weights(&name, vec![out_f, in_f], weight, bias);
        self.push(
            index,
            FloatOp::Linear {
                name,
                in_features: in_f,
                out_features: out_f,
            },
            vec![x.id],
            out,
            vec![out_f],
        );
        Ok(())
    }

    /// `MatMul` of a `[…, r, k]` tensor by a constant of any rank: `[k]`
    /// (a dot product per row), `[k, m]` (the same map on every row), or
    /// `[…, k, m]` (one matrix per batch index, numpy-broadcast over the
    /// tensor's batch dims). As one 1×1 conv, grouped by batch index, over
    /// a `[batch · k, rows, 1]` image: the rows are moved there by a select,
    /// and back after (no rows in the circuit).
    fn matmul_rows(&mut self, index: usize, node: &NodeProto, x: &Dyn, out: &str) -> R<()> {
        let (w_dims, w) = self.weight(node, 1)?;
        self.matmul_by(index, node, x, out, w_dims, w)
    }

    /// `Gather(table, ids)` of the token input ([`embedding`]): the one-hot
    /// rows `x` times the table.
    fn embedding(&mut self, index: usize, node: &NodeProto, x: &Dyn, out: &str) -> R<()> {
        let (dims, table) = self.weight(node, 0)?;
        self.matmul_by(index, node, x, out, dims, table)
    }

    /// [`Self::matmul_rows`] by the constant `w` of dims `w_dims`.
    fn matmul_by(
        &mut self,
        index: usize,
        node: &NodeProto,
        x: &Dyn,
        out: &str,
        w_dims: Vec<usize>,
        w: Vec<f32>,
    ) -> R<()> {
        let (&k, lead) = x.shape.split_last().expect("rank 2 or more");
        // W as [batch…, k, m]; a vector is one column, dropped after.
        let vector = w_dims.len() == 1;
        let w_dims = if vector { vec![w_dims[0], 1] } else { w_dims };
        let (w_batch, [wk, m]) = w_dims.split_at(w_dims.len() - 2) else {
            unreachable!("two trailing dims")
        };
        let (wk, m) = (*wk, *m);
        if wk != k {
            return Err(format!("weight {w_dims:?} does not take rows of {k}"));
        }
        // Batched weights pair with the tensor's batch dims; one matrix
        // serves every row.
        let (x_batch, rows) = if w_batch.is_empty() {
            (vec![], lead.iter().product::<usize>())
        } else {
            let (&r, b) = lead.split_last().expect("rank 2 or more");
            (b.to_vec(), r)
        };
        if fold::broadcast_dims(&x_batch, w_batch).ok().as_deref() != Some(&x_batch[..]) {
            return Err(format!(
                "weight {w_dims:?} for a tensor of {:?}: its batch dims must broadcast to the tensor's",
                with_batch(&x.shape)
            ));
        }
        let batches: usize = x_batch.iter().product();
        let source = fold::broadcast_index(w_batch, &x_batch);
        let (id, _) = self.plain(x, node);
        // Channel b·k + c, row y holds x[b, y, c].
        let to_channels = FloatOp::Select {
            shape: vec![batches * k, rows, 1],
            indices: (0..batches * k * rows)
                .map(|j| {
                    let (bc, y) = (j / rows, j % rows);
                    Some((bc / k * rows + y) * k + bc % k)
                })
                .collect(),
        };
        let id = self.layer(&[index], to_channels, vec![id]);
        // Conv weight [batches · m, k, 1, 1]: output channel b·m + o reads
        // column o of matrix b.
        let weight = (0..batches * m * k)
            .map(|i| {
                let (bo, c) = (i / k, i % k);
                w[(source(bo / m) * k + c) * m + bo % m]
            })
            .collect();
        let name = format!("layer{}", self.layers.len());
        self.add_weights(
            &name,
            vec![batches * m, k, 1, 1],
            weight,
            vec![0.0; batches * m],
        );
        let conv = FloatOp::Conv2d {
            name,
            in_channels: batches * k,
            out_channels: batches * m,
            kernel: [1, 1],
            stride: [1, 1],
            padding: [0, 0],
            groups: batches,
        };
        let id = self.layer(&[index], conv, vec![id]);
        let mut shape = lead.to_vec();
        if !vector {
            shape.push(m);
        }
        // Element (b, y, o) is output channel b·m + o, row y.
        let back = FloatOp::Select {
            shape: shape.clone(),
            indices: (0..batches * rows * m)
                .map(|j| {
                    let (b, y, o) = (j / (rows * m), j / m % rows, j % m);
                    Some((b * m + o) * rows + y)
                })
                .collect(),
        };
        self.push(index, back, vec![id], out, shape);
        Ok(())
    }

    fn conv(&mut self, index: usize, node: &NodeProto, x: &Dyn, pos: usize, out: &str) -> R<()> {
        if pos != 0 {
            return Err("weights computed at run time are not supported".into());
        }
        if x.shape.len() == 2 && x.pad.is_none() {
            return self.conv1d(index, node, x, out);
        }
        let x = &if x.perm.is_some() {
            // A transpose no linear layer absorbs: a select before the conv.
            let selected = self.materialize(&Dyn {
                affine: None,
                pad: None,
                ..x.clone()
            });
            Dyn {
                affine: x.affine.clone(),
                pad: x.pad.clone(),
                ..selected
            }
        } else {
            x.clone()
        };
        let in_shape = x
            .pad
            .as_ref()
            .map_or(x.shape.clone(), |p| p.unpadded.clone());
        let &[ic, h, w] = in_shape.as_slice() else {
            self.guess_shape(node, x, &[], out);
            return Err(format!(
                "input shape {:?} is not [n, c, h, w]: no circuit op for 1-D or 3-D convolutions yet",
                with_batch(&in_shape)
            ));
        };
        let (w_dims, weight) = self.weight(node, 1)?;
        let &[oc, _, kh, kw] = w_dims.as_slice() else {
            return Err(format!("weight dims {w_dims:?} are not [out, in, kh, kw]"));
        };
        let groups = conv_groups(node, ic, &w_dims)?;
        if ints_attr(node, "dilations", &[1, 1])
            .iter()
            .any(|&d| d != 1)
        {
            return Err("dilations other than 1 are not supported".into());
        }
        let stride = pair(&ints_attr(node, "strides", &[1, 1]), "strides")?;
        let [t, l, b, r] = pads_of(node)?;
        if t != b || l != r {
            return Err(format!(
                "pads {:?}: zkinfer imports symmetric padding",
                [t, l, b, r]
            ));
        }
        let mut padding = [t, l];
        if let Some(p) = &x.pad {
            padding = [padding[0] + p.pads[0], padding[1] + p.pads[1]];
        }
        let mut bias = self.conv_bias(node, oc)?;
        let out_shape = zkinfer_quant::conv2d_output([ic, h, w], oc, [kh, kw], stride, padding)?;
        let mut weight = weight;
        let affine = x.affine.as_ref().filter(|_| groups == 1);
        let x = &if groups != 1 && x.affine.is_some() {
            // A grouped conv's weights do not read every channel: the map
            // becomes a layer of its own.
            let plain = self.materialize(&Dyn {
                pad: None,
                ..x.clone()
            });
            Dyn {
                pad: x.pad.clone(),
                ..plain
            }
        } else {
            x.clone()
        };
        let mut input = x.id;
        if let Some(a) = affine {
            let (w0, b0) = (weight.clone(), bias.clone());
            match rewrite::before_conv(&mut weight, &mut bias, a, &in_shape, padding != [0, 0]) {
                Ok(()) => self.mark_folded(
                    &a.nodes,
                    node,
                    "into the weights and bias of the conv after",
                ),
                // Not exact here (a shift before a padded conv): the map
                // is a layer of its own before the conv.
                Err(_) => {
                    (weight, bias) = (w0, b0);
                    input = self.affine_layers(a, &in_shape, x.id);
                }
            }
        }
        if let Some(p) = &x.pad {
            self.mark_folded(&[p.node], node, "into the conv's padding");
        }
        let name = format!("layer{}", self.layers.len());
        self.add_weights(&name, w_dims.clone(), weight, bias);
        let op = FloatOp::Conv2d {
            name,
            in_channels: ic,
            out_channels: oc,
            kernel: [kh, kw],
            stride,
            padding,
            groups,
        };
        self.push(index, op, vec![input], out, out_shape.to_vec());
        Ok(())
    }

    /// `ConvTranspose` of a `[c, h, w]` image: a select that spreads the
    /// image out, then a conv ([`conv_transpose`]).
    fn conv_transpose(
        &mut self,
        index: usize,
        node: &NodeProto,
        x: &Dyn,
        pos: usize,
        out: &str,
    ) -> R<()> {
        if pos != 0 {
            return Err("weights computed at run time are not supported".into());
        }
        let &[ic, h, w] = x.shape.as_slice() else {
            self.keep_unknown(out);
            return Err(format!(
                "input shape {:?} is not [n, c, h, w]: zkinfer imports 2-D ConvTranspose",
                with_batch(&x.shape)
            ));
        };
        if ints_attr(node, "dilations", &[1, 1])
            .iter()
            .any(|&d| d != 1)
        {
            return Err("dilations other than 1 are not supported".into());
        }
        if node.attr("output_shape").is_some() {
            return Err(
                "output_shape is not supported (export with pads and output_padding)".into(),
            );
        }
        let (w_dims, weight) = self.weight(node, 1)?;
        let attributes = conv_transpose::Attributes {
            stride: pair(&ints_attr(node, "strides", &[1, 1]), "strides")?,
            pads: pads_of(node)?,
            output_padding: pair(
                &ints_attr(node, "output_padding", &[0, 0]),
                "output_padding",
            )?,
            groups: usize::try_from(int_attr(node, "group", 1))
                .map_err(|_| "a negative group".to_string())?,
        };
        let plan = conv_transpose::plan([ic, h, w], &w_dims, &weight, &attributes)?;
        let [oc, icg, kh, kw] = plan.weight_dims;
        let bias = self.conv_bias(node, oc)?;
        let (id, _) = self.plain(x, node);
        let spread = FloatOp::Select {
            shape: plan.spread.to_vec(),
            indices: plan.indices,
        };
        let spread = self.layer(&[index], spread, vec![id]);
        let name = format!("layer{}", self.layers.len());
        self.add_weights(&name, plan.weight_dims.to_vec(), plan.weight, bias);
        let op = FloatOp::Conv2d {
            name,
            in_channels: icg * attributes.groups,
            out_channels: oc,
            kernel: [kh, kw],
            stride: [1, 1],
            padding: [0, 0],
            groups: attributes.groups,
        };
        self.push(index, op, vec![spread], out, plan.out.to_vec());
        Ok(())
    }

    /// A conv's bias (input 3), zeros when absent.
    fn conv_bias(&self, node: &NodeProto, oc: usize) -> R<Vec<f32>> {
        let bias = match node.input.get(2).filter(|n| !n.is_empty()) {
            Some(_) => self.weight(node, 2)?.1,
            None => vec![0.0; oc],
        };
        if bias.len() != oc {
            return Err(format!("{} biases for {oc} output channels", bias.len()));
        }
        Ok(bias)
    }

    /// A 1-D convolution of a `[c, l]` sequence as a 2-D one of a
    /// `[c, 1, l]` image with `[1, k]` kernels, between two reshapes (which
    /// cost nothing).
    fn conv1d(&mut self, index: usize, node: &NodeProto, x: &Dyn, out: &str) -> R<()> {
        let (w_dims, weight) = self.weight(node, 1)?;
        let &[oc, wic, k] = w_dims.as_slice() else {
            return Err(format!("weight dims {w_dims:?} are not [out, in, k]"));
        };
        let ic = x.shape[0];
        let len = x.shape[1];
        let groups = conv_groups(node, ic, &w_dims)?;
        if ints_attr(node, "dilations", &[1]).iter().any(|&d| d != 1) {
            return Err("dilations other than 1 are not supported".into());
        }
        let stride = match ints_attr(node, "strides", &[1]).as_slice() {
            [s] if *s > 0 => *s as usize,
            other => return Err(format!("strides {other:?} for a 1-D conv")),
        };
        match node.attr("auto_pad").map(|a| a.s.as_slice()) {
            None | Some(b"NOTSET") | Some(b"") | Some(b"VALID") => {}
            Some(other) => {
                return Err(format!(
                    "auto_pad {} (export with explicit pads)",
                    String::from_utf8_lossy(other)
                ))
            }
        }
        let pad = match ints_attr(node, "pads", &[0, 0]).as_slice() {
            [a, b] if a == b && *a >= 0 => *a as usize,
            other => return Err(format!("pads {other:?}: zkinfer imports symmetric padding")),
        };
        let bias = self.conv_bias(node, oc)?;
        let [_, _, lo] =
            zkinfer_quant::conv2d_output([ic, 1, len], oc, [1, k], [1, stride], [0, pad])?;
        let (id, _) = self.plain(x, node);
        let image = self.layer(
            &[index],
            FloatOp::Reshape {
                shape: vec![ic, 1, len],
            },
            vec![id],
        );
        let name = format!("layer{}", self.layers.len());
        self.add_weights(&name, vec![oc, wic, 1, k], weight, bias);
        let op = FloatOp::Conv2d {
            name,
            in_channels: ic,
            out_channels: oc,
            kernel: [1, k],
            stride: [1, stride],
            padding: [0, pad],
            groups,
        };
        let conv = self.layer(&[index], op, vec![image]);
        let back = FloatOp::Reshape {
            shape: vec![oc, lo],
        };
        self.push(index, back, vec![conv], out, vec![oc, lo]);
        Ok(())
    }

    /// A node that only moves values, as a select: the folder evaluates it
    /// on index tensors ([`moves`]). For `Concat` every input is data; for
    /// the others only the first is, and the rest (indices, starts, shapes,
    /// repeats) must be constants.
    fn moves(&mut self, index: usize, node: &NodeProto, vals: &[Val]) -> R<()> {
        let data = if node.op_type == "Concat" {
            vals.len()
        } else {
            1
        };
        let ops: Operands = opset::operands(node, &|n| self.get_const(n))?;
        let mut ids = vec![];
        let mut inputs: Vec<Option<Const>> = vec![];
        let mut offset = 0;
        let mut present = vals.iter();
        for name in &node.input {
            if name.is_empty() {
                inputs.push(None);
                continue;
            }
            let v = present.next().expect("one value per present input");
            match v {
                Val::Dyn(d) if inputs.len() < data => {
                    let (id, shape) = self.plain(d, node);
                    let full = with_batch(&shape);
                    let n: usize = shape.iter().product();
                    self.budget.charge(&full)?;
                    inputs.push(Some(moves::iota(full, offset)));
                    offset += n;
                    ids.push(id);
                }
                Val::Const(c) if inputs.len() >= data => inputs.push(Some(c.clone())),
                Val::Const(_) => {
                    return Err(format!(
                        "{} of a tensor and a constant: no circuit op for it yet",
                        node.op_type
                    ))
                }
                _ => return Err(format!("{} of a tensor by a tensor", node.op_type)),
            }
        }
        let refs: Vec<Option<&Const>> = inputs.iter().map(Option::as_ref).collect();
        let outputs = fold::eval(node, &refs, &ops, &mut self.budget)?;
        for (name, c) in node.output.iter().zip(outputs) {
            let shape = without_batch(&c.dims, "the output shape")?;
            let indices = moves::sources(&c)?;
            let op = FloatOp::Select {
                shape: shape.clone(),
                indices,
            };
            self.push(index, op, ids.clone(), name, shape);
        }
        Ok(())
    }

    fn pool(&mut self, index: usize, node: &NodeProto, x: &Dyn, out: &str) -> R<()> {
        let &[c, h, w] = x.shape.as_slice() else {
            self.keep_unknown(out);
            return Err(format!(
                "input shape {:?} is not [n, c, h, w]",
                with_batch(&x.shape)
            ));
        };
        let kernel = pair(&ints_attr(node, "kernel_shape", &[]), "kernel_shape")?;
        let stride = pair(&ints_attr(node, "strides", &[1, 1]), "strides")?;
        let [t, l, b, r] = pads_of(node)?;
        if t != b || l != r {
            self.guess_shape(node, x, &[], out);
            return Err(format!(
                "pads {:?}: zkinfer pools with symmetric padding",
                [t, l, b, r]
            ));
        }
        let padding = [t, l];
        let count_include_pad = int_attr(node, "count_include_pad", 0) != 0;
        if int_attr(node, "ceil_mode", 0) != 0 {
            return Err("ceil_mode = 1 is not supported".into());
        }
        if ints_attr(node, "dilations", &[1, 1])
            .iter()
            .any(|&d| d != 1)
        {
            return Err("dilations other than 1 are not supported".into());
        }
        if node
            .output
            .get(1)
            .is_some_and(|o| !o.is_empty() && self.readers.contains_key(self.resolve(o)))
        {
            return Err("the indices output of MaxPool is read".into());
        }
        let op = if node.op_type == "MaxPool" {
            FloatOp::MaxPool2d {
                kernel,
                stride: Some(stride),
                padding,
            }
        } else {
            FloatOp::AvgPool2d {
                kernel,
                stride: Some(stride),
                padding,
                count_include_pad,
            }
        };
        let window = op.pool().expect("a pool");
        let [_, oh, ow] = zkinfer_quant::pool2d_output(&window, [c, h, w])?;
        let (id, _) = self.plain(x, node);
        self.push(index, op, vec![id], out, vec![c, oh, ow]);
        Ok(())
    }
}

/// A `Constant` node's value: `value` (a tensor), or from opset 12
/// `value_float(s)` / `value_int(s)`.
fn constant_value(node: &NodeProto, budget: &mut Budget) -> R<Const> {
    if let Some(t) = node.attr("value").and_then(|a| a.t.as_ref()) {
        return Const::from_proto(t, budget);
    }
    if let Some(f) = node.attr("value_float").and_then(|a| a.f) {
        return Ok(Const::floats(vec![], vec![f]));
    }
    if let Some(i) = node.attr("value_int").and_then(|a| a.i) {
        return Ok(Const::ints(vec![], vec![i]));
    }
    if let Some(a) = node.attr("value_floats") {
        budget.charge(&[a.floats.len()])?;
        return Ok(Const::floats(vec![a.floats.len()], a.floats.clone()));
    }
    if let Some(a) = node.attr("value_ints") {
        budget.charge(&[a.ints.len()])?;
        return Ok(Const::ints(vec![a.ints.len()], a.ints.clone()));
    }
    Err("only tensor, float and integer Constants are supported".into())
}
