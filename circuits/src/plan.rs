//! [`CircuitPlan`]: how a model is laid out, what it costs, and the
//! smallest `k` that fits — computed before any key or proof exists.
//!
//! The plan turns nodes into [`Step`]s (a rescale followed by a ReLU of its
//! output becomes one fused step), counts each step's rows in the two column
//! groups (dot rows and element rows, laid side by side), and refuses
//! parameters the chips cannot prove (range checks above 16 bits).

use crate::bounds::{self, BoundProof};
use crate::chips::dot::DotProduct;
use crate::chips::range::MAX_RANGE_BITS;
use crate::chips::rescale::Divisor;
use crate::error::{CircuitError, Result};
use serde::{Deserialize, Serialize};
use zkinfer_quant::taps::{conv_taps, pool_windows, Taps};
use zkinfer_quant::{Op, QuantizedModel};

/// Who sees the model input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// The input is a public input of the proof: the verifier sees it.
    #[default]
    Public,
    /// The input is a private witness: the proof shows that *some* input
    /// in the model's bound gives the public output.
    Private,
}

impl Visibility {
    /// `public` or `private`, as files and messages write it.
    pub fn name(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
        }
    }
}

/// One unit of layout: one node, or a rescale fused with its ReLU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Linear, conv or window sums: dot products.
    Dot {
        /// The node.
        node: usize,
    },
    /// Window sums, then a rounded division by the window size.
    AvgPool {
        /// The node.
        node: usize,
    },
    /// A rescale, and the ReLU of its output when `relu` names that node.
    Rescale {
        /// The rescale node.
        node: usize,
        /// The fused ReLU node.
        relu: Option<usize>,
    },
    /// A ReLU on its own.
    Relu {
        /// The node.
        node: usize,
    },
    /// Max pooling by pairwise maxima.
    MaxPool {
        /// The node.
        node: usize,
    },
    /// Element-wise sum.
    Add {
        /// The node.
        node: usize,
    },
    /// A table activation, with its tag in the activation table.
    Table {
        /// The node.
        node: usize,
        /// 1, 2, … in node order.
        tag: usize,
    },
    /// Flatten or reshape: no rows, the cells are reused.
    Reshape {
        /// The node.
        node: usize,
    },
}

impl Step {
    /// The nodes the step lays out.
    pub fn nodes(&self) -> Vec<usize> {
        match *self {
            Step::Rescale {
                node,
                relu: Some(r),
            } => vec![node, r],
            Step::Dot { node }
            | Step::AvgPool { node }
            | Step::Rescale { node, .. }
            | Step::Relu { node }
            | Step::MaxPool { node }
            | Step::Add { node }
            | Step::Table { node, .. }
            | Step::Reshape { node } => vec![node],
        }
    }
}

/// The cost of one step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerCost {
    /// The nodes laid out (two for a fused rescale + ReLU).
    pub nodes: Vec<usize>,
    /// `linear`, `rescale+relu`, …
    pub op: String,
    /// Output shape.
    pub shape: Vec<usize>,
    /// Multiply-accumulates.
    pub macs: usize,
    /// Rows in the dot-product columns.
    pub dot_rows: usize,
    /// Rows in the element columns.
    pub element_rows: usize,
    /// How each output is proven to be a bounded integer
    /// ([`crate::bounds`]), one per node.
    #[serde(default)]
    pub bounds: Vec<BoundProof>,
}

/// How a model is laid out and what it costs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircuitPlan {
    /// log2 of the number of rows.
    pub k: u32,
    /// Rows used: the larger column group, the tables, and one row for the
    /// zero cell.
    pub rows: usize,
    /// Rows available at this `k` (the rest blind the witness).
    pub usable_rows: usize,
    /// Rows of the dot-product columns.
    pub dot_rows: usize,
    /// Rows of the element columns (the input's bound checks included).
    pub element_rows: usize,
    /// Rows of the largest lookup table.
    pub table_rows: usize,
    /// Advice columns.
    pub advice_columns: usize,
    /// Fixed columns (selectors included).
    pub fixed_columns: usize,
    /// Lookup arguments.
    pub lookups: usize,
    /// Public inputs: the input (when public) then the output.
    pub instances: usize,
    /// Who sees the input.
    pub input_visibility: Visibility,
    /// Per step, in order; the input's bound checks come first.
    pub layers: Vec<LayerCost>,
}

/// The largest `k` zkinfer plans for.
pub const MAX_K: u32 = 20;

/// Blinding rows and column counts of the universal layout.
pub(crate) struct Shape {
    pub blinding: usize,
    pub advice: usize,
    pub fixed: usize,
    pub lookups: usize,
}

pub(crate) fn layout_shape() -> Shape {
    let mut meta = halo2_proofs::plonk::ConstraintSystem::<pasta_curves::Fp>::default();
    let config = crate::config::ModelConfig::configure(&mut meta);
    Shape {
        // l_last and the blinding rows are not usable (halo2's minimum_rows
        // counts one more for l_0 breathing room and one real row).
        blinding: meta.blinding_factors() + 1,
        advice: config.advice_columns,
        fixed: config.fixed_columns + config.selectors,
        lookups: config.lookup_names.len(),
    }
}

/// The steps of a model: every node, with rescale + ReLU pairs fused.
pub fn steps(model: &QuantizedModel) -> Vec<Step> {
    let nodes = model.nodes();
    let mut steps = vec![];
    let mut tag = 0;
    let mut i = 0;
    while i < nodes.len() {
        let step = match &nodes[i].op {
            Op::Linear(_) | Op::Conv2d(_) | Op::SumPool2d(_) => Step::Dot { node: i },
            Op::AvgPool2d(_) => Step::AvgPool { node: i },
            Op::Rescale(_) => {
                // Tensor i + 1 is this rescale's output.
                let fused = nodes
                    .get(i + 1)
                    .filter(|n| matches!(n.op, Op::Relu) && n.inputs == [i + 1])
                    .map(|_| i + 1);
                Step::Rescale {
                    node: i,
                    relu: fused,
                }
            }
            Op::Relu => Step::Relu { node: i },
            Op::MaxPool2d(_) => Step::MaxPool { node: i },
            Op::Add => Step::Add { node: i },
            Op::Sigmoid(_) | Op::Tanh(_) => {
                tag += 1;
                Step::Table { node: i, tag }
            }
            Op::Flatten | Op::Reshape { .. } => Step::Reshape { node: i },
        };
        i += step.nodes().len();
        steps.push(step);
    }
    steps
}

/// The terms of each dot product a node computes: `(weight, input index)`.
pub fn dot_terms(model: &QuantizedModel, node: usize) -> Vec<Taps> {
    let x = &model.specs()[model.nodes()[node].inputs[0]];
    match &model.nodes()[node].op {
        Op::Linear(l) => l
            .weight
            .data
            .chunks(l.in_features())
            .zip(&l.bias)
            .map(|(row, &b)| (row.iter().copied().zip(0..).collect(), b))
            .collect(),
        Op::Conv2d(c) => conv_taps(c, &x.shape),
        Op::SumPool2d(p) | Op::AvgPool2d(p) => pool_windows(&x.shape, p.kernel, p.stride)
            .into_iter()
            .map(|window| (window.into_iter().map(|i| (1, i)).collect(), 0))
            .collect(),
        _ => vec![],
    }
}

fn dot_rows(model: &QuantizedModel, node: usize) -> (usize, usize) {
    let products = dot_terms(model, node);
    let macs = products.iter().map(|(t, _)| t.len()).sum();
    // One leading row per region gives the first product an `acc_prev`.
    let rows = 1 + products
        .iter()
        .map(|(t, _)| DotProduct::rows(t.len()))
        .sum::<usize>();
    (macs, rows)
}

fn unsupported(model: &QuantizedModel, node: usize, reason: String) -> CircuitError {
    CircuitError::Unsupported {
        node,
        op: model.nodes()[node].op.name(),
        reason,
    }
}

fn check_bits(model: &QuantizedModel, node: usize, what: &str, bits: u32) -> Result<()> {
    if bits > MAX_RANGE_BITS {
        return Err(unsupported(
            model,
            node,
            format!("{what} needs a {bits}-bit range check; the circuit checks up to {MAX_RANGE_BITS} bits"),
        ));
    }
    Ok(())
}

impl Step {
    /// Checks the step's parameters and counts its cost.
    pub fn cost(&self, model: &QuantizedModel) -> Result<LayerCost> {
        let specs = model.specs();
        let nodes = model.nodes();
        let node = self.nodes()[0];
        let last = *self.nodes().last().expect("a step has a node");
        let input = |n: usize| &specs[nodes[n].inputs[0]];
        let numel = specs[last + 1].shape.numel();
        let (mut macs, mut dot, mut element) = (0, 0, 0);
        let op = match self {
            Step::Dot { .. } => {
                (macs, dot) = dot_rows(model, node);
                nodes[node].op.name().to_string()
            }
            Step::AvgPool { .. } => {
                (macs, dot) = dot_rows(model, node);
                let Op::AvgPool2d(p) = &nodes[node].op else {
                    unreachable!()
                };
                let n = p.kernel[0] * p.kernel[1];
                if !Divisor::Window(n as i64).is_supported() {
                    return Err(unsupported(
                        model,
                        node,
                        format!("a window of {n} cells; the circuit divides by windows of up to 256 cells, or powers of two up to 2^16"),
                    ));
                }
                check_bits(model, node, "the output bound", specs[last + 1].bits)?;
                element = numel;
                "avg_pool2d".to_string()
            }
            Step::Rescale { relu, .. } => {
                let Op::Rescale(r) = &nodes[node].op else {
                    unreachable!()
                };
                check_bits(model, node, "the remainder", r.shift)?;
                match relu {
                    Some(_) => check_bits(model, node, "the ReLU sign check", r.bits - 1)?,
                    None => check_bits(model, node, "the output bound", r.bits)?,
                }
                element = numel;
                if relu.is_some() {
                    "rescale+relu"
                } else {
                    "rescale"
                }
                .to_string()
            }
            Step::Relu { .. } => {
                check_bits(model, node, "the ReLU sign check", input(node).bits - 1)?;
                element = numel;
                "relu".to_string()
            }
            Step::MaxPool { .. } => {
                let Op::MaxPool2d(p) = &nodes[node].op else {
                    unreachable!()
                };
                check_bits(model, node, "the comparison", input(node).bits)?;
                element = numel * (p.kernel[0] * p.kernel[1] - 1);
                "max_pool2d".to_string()
            }
            Step::Add { .. } | Step::Table { .. } => {
                element = numel;
                nodes[node].op.name().to_string()
            }
            Step::Reshape { .. } => nodes[node].op.name().to_string(),
        };
        Ok(LayerCost {
            nodes: self.nodes(),
            op,
            shape: specs[last + 1].shape.0.clone(),
            macs,
            dot_rows: dot,
            element_rows: element,
            bounds: vec![],
        })
    }
}

impl CircuitPlan {
    /// Plans a model's circuit.
    pub fn new(model: &QuantizedModel, input_visibility: Visibility) -> Result<Self> {
        let input = model.input();
        check_bits(model, 0, "the input bound", input.bits).map_err(|_| CircuitError::Unsupported {
            node: 0,
            op: "input",
            reason: format!(
                "the input's {}-bit bound needs a range check wider than the circuit's {MAX_RANGE_BITS} bits",
                input.bits
            ),
        })?;
        let mut layers = vec![LayerCost {
            nodes: vec![],
            op: "input bound".to_string(),
            shape: input.shape.0.clone(),
            macs: 0,
            dot_rows: 0,
            element_rows: input.shape.numel(),
            bounds: vec![BoundProof::RangeCheck],
        }];
        let steps = steps(model);
        let proofs = bounds::check(model, &steps, Step::bounds)?;
        for step in &steps {
            let mut cost = step.cost(model)?;
            cost.bounds = step.nodes().iter().map(|n| proofs[n + 1]).collect();
            layers.push(cost);
        }
        let activation_rows: usize = 1 + model
            .nodes()
            .iter()
            .filter_map(|n| match &n.op {
                Op::Sigmoid(t) | Op::Tanh(t) => Some(t.values.len()),
                _ => None,
            })
            .sum::<usize>();
        let table_rows = activation_rows.max(1 << crate::chips::range::LIMB_BITS);
        let dot_rows: usize = layers.iter().map(|l| l.dot_rows).sum();
        let element_rows: usize = layers.iter().map(|l| l.element_rows).sum();
        // The zero cell takes row 0 of the accumulator column, before the dot rows.
        let rows = (1 + dot_rows).max(element_rows).max(table_rows);
        let shape = layout_shape();
        let (k, usable_rows) = (1..=MAX_K)
            .map(|k| (k, (1usize << k).saturating_sub(shape.blinding)))
            .find(|&(_, usable)| usable >= rows)
            .ok_or(CircuitError::TooLarge {
                rows,
                max_k: MAX_K,
                usable: (1 << MAX_K) - shape.blinding,
            })?;
        let public_input = match input_visibility {
            Visibility::Public => input.shape.numel(),
            Visibility::Private => 0,
        };
        Ok(CircuitPlan {
            k,
            rows,
            usable_rows,
            dot_rows,
            element_rows,
            table_rows,
            advice_columns: shape.advice,
            fixed_columns: shape.fixed,
            lookups: shape.lookups,
            instances: public_input + model.output().shape.numel(),
            input_visibility,
            layers,
        })
    }

    /// Multiply-accumulates in the whole model.
    pub fn macs(&self) -> usize {
        self.layers.iter().map(|l| l.macs).sum()
    }
}
