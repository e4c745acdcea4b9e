//! [`Step`]: the one place that turns a model's nodes into circuit steps.
//!
//! A step is one unit of layout — one node, or a rescale fused with the
//! ReLU that reads it — with everything its chips need as typed parameters
//! ([`StepKind`]): the plan counts its rows from them, the layout places
//! them, the bound check reads what they prove. Nothing after [`steps`]
//! looks at a node's [`Op`] again.

use crate::chips::dot::group_rows;
use crate::chips::range::MAX_RANGE_BITS;
use crate::chips::rescale::Divisor;
use crate::error::{CircuitError, Result};
use crate::plan::WeightVisibility;
use crate::profile::Layout;
use zkinfer_quant::taps::{conv_taps, pool_windows, Taps};
#[cfg(feature = "transformers")]
use zkinfer_quant::MatMulDims;
use zkinfer_quant::{Op, QuantizedModel, TableActivation, TensorId};

/// One unit of layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The nodes laid out, in order: one, or a rescale and its fused ReLU.
    /// Node `n` writes tensor `n + 1`.
    pub nodes: Vec<usize>,
    /// The tensors the first node reads.
    pub inputs: Vec<TensorId>,
    /// `linear`, `rescale+relu`, …: region names and cost reports.
    pub name: &'static str,
    /// What the chips compute.
    pub kind: StepKind,
}

/// What a step's chips compute, with their parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// Dot products with fixed weights (linear, conv, window sums): each
    /// `(terms, bias)` is `bias + Σ weight · input[index]`.
    Dot {
        /// One per output element.
        products: Vec<Taps>,
    },
    /// Window sums, then a rounded division of each by its divisor, the
    /// quotient proven to fit `bits`.
    AvgPool {
        /// One sum per output element.
        sums: Vec<Taps>,
        /// One divisor per output element: the window's area, or with
        /// padding left out, the positions inside the image.
        divisors: Vec<i64>,
        /// The output's declared bit width.
        bits: u32,
    },
    /// A rounding shift whose quotient is proven to fit `bits`; with
    /// `relu`, also the ReLU of the quotient (the second node's output).
    Rescale {
        /// Bits shifted out.
        shift: u32,
        /// The quotient's declared bit width.
        bits: u32,
        /// Whether a ReLU is fused.
        relu: bool,
    },
    /// `max(x, 0)` on inputs of `bits` bits.
    Relu {
        /// The input's declared bit width.
        bits: u32,
    },
    /// The maximum of each window by pairwise comparisons of `bits`-bit
    /// values.
    MaxPool {
        /// The input indices of each window.
        windows: Vec<Vec<usize>>,
        /// The input's declared bit width.
        bits: u32,
    },
    /// Element-wise sum of two tensors.
    Add,
    /// Element-wise product of two tensors.
    Mul,
    /// Matrix products of two activations ([`zkinfer_quant::Op::MatMul`]),
    /// one dot product of two advice operands per output element.
    #[cfg(feature = "transformers")]
    MatMul {
        /// The operands' dimensions.
        dims: MatMulDims,
    },
    /// Rounding division by divisors computed at run time
    /// ([`zkinfer_quant::Op::Divide`]), two element rows each.
    #[cfg(feature = "transformers")]
    Divide {
        /// The quotient's extra precision bits.
        shift: u32,
        /// The quotient's declared bit width.
        bits: u32,
        /// The divisor's declared bit width: the remainder's range check.
        divisor_bits: u32,
    },
    /// A function through its lookup table.
    Table {
        /// The table's tag in the activation table: 1, 2, … in step order.
        tag: usize,
        /// The table.
        table: TableActivation,
    },
    /// Flatten or reshape: no rows, the cells are reused.
    Reshape,
    /// Values moved: no rows, output element `j` is cell `indices[j]` of
    /// the inputs laid end to end, or the circuit's constant zero.
    Select {
        /// One source per output element.
        indices: Vec<Option<usize>>,
    },
}

impl Step {
    /// The tensor the step's last node writes: its output.
    pub fn output(&self) -> TensorId {
        self.nodes.last().expect("a step has a node") + 1
    }

    /// The divisor of the step's division row `row`, if it divides.
    pub fn divisor(&self, row: usize) -> Option<Divisor> {
        match &self.kind {
            StepKind::Rescale { shift, .. } => Some(Divisor::Shift(*shift)),
            StepKind::AvgPool { divisors, .. } => divisors.get(row).map(|&n| Divisor::Window(n)),
            _ => None,
        }
    }

    /// The dot products the step lays out in the dot columns.
    pub fn dot_products(&self) -> &[Taps] {
        match &self.kind {
            StepKind::Dot { products } => products,
            StepKind::AvgPool { sums, .. } => sums,
            _ => &[],
        }
    }
}

/// The steps of a model, in order: every node, with rescale + ReLU pairs
/// fused. Refuses parameters the chips cannot prove (range checks wider
/// than [`MAX_RANGE_BITS`], division windows the range units cannot bound).
pub fn steps(model: &QuantizedModel) -> Result<Vec<Step>> {
    steps_with(model, WeightVisibility::Fixed)
}

/// [`steps`] for weights of a visibility: with committed weights, a
/// linear or convolution step's taps hold indices into the node's weight
/// cells (its weights, row-major, then its biases) instead of values, and
/// a pooling sum's `1·x + 0` reads as indices into `[zero, one]`
/// ([`crate::chips::dot::DotProducts`]).
pub fn steps_with(model: &QuantizedModel, weights: WeightVisibility) -> Result<Vec<Step>> {
    let nodes = model.nodes();
    let specs = model.specs();
    let mut steps = vec![];
    let mut tables = 0;
    let mut i = 0;
    while i < nodes.len() {
        let node = &nodes[i];
        let input_bits = specs[node.inputs[0]].bits;
        let check = |what: &str, bits: u32| check_bits(model, i, what, bits);
        let mut fused = vec![i];
        let (name, kind) = match &node.op {
            Op::Linear(_) | Op::Conv2d(_) | Op::SumPool2d(_) => {
                let products = match weights {
                    WeightVisibility::Fixed => dot_terms(model, i),
                    // (The plan refuses committed weights without the
                    // feature; the contract's build leaves this out.)
                    #[cfg(feature = "committed-weights")]
                    WeightVisibility::Committed | WeightVisibility::Polycommit => {
                        index_terms(model, i)
                    }
                    #[cfg(not(feature = "committed-weights"))]
                    WeightVisibility::Committed | WeightVisibility::Polycommit => vec![],
                };
                (node.op.name(), StepKind::Dot { products })
            }
            Op::AvgPool2d(p) => {
                let sums = dot_terms(model, i);
                let divisors: Vec<i64> = sums.iter().map(|(t, _)| p.divisor(t.len())).collect();
                if let Some(n) = divisors
                    .iter()
                    .find(|&&n| !Divisor::Window(n).is_supported())
                {
                    return Err(unsupported(
                        model,
                        i,
                        format!("a window of {n} cells; the circuit divides by windows of up to 256 cells, or powers of two up to 2^16"),
                    ));
                }
                let bits = specs[i + 1].bits;
                check("the output bound", bits)?;
                let kind = StepKind::AvgPool {
                    sums,
                    divisors,
                    bits,
                };
                ("avg_pool2d", kind)
            }
            Op::Rescale(r) => {
                check("the remainder", r.shift)?;
                // Tensor i + 1 is this rescale's output.
                let relu = nodes
                    .get(i + 1)
                    .is_some_and(|n| matches!(n.op, Op::Relu) && n.inputs == [i + 1]);
                if relu {
                    check("the ReLU sign check", r.bits - 1)?;
                    fused.push(i + 1);
                } else {
                    check("the output bound", r.bits)?;
                }
                let kind = StepKind::Rescale {
                    shift: r.shift,
                    bits: r.bits,
                    relu,
                };
                (if relu { "rescale+relu" } else { "rescale" }, kind)
            }
            Op::Relu => {
                check("the ReLU sign check", input_bits - 1)?;
                ("relu", StepKind::Relu { bits: input_bits })
            }
            Op::MaxPool2d(p) => {
                check("the comparison", input_bits)?;
                let windows = pool_windows(&specs[node.inputs[0]].shape, p);
                let kind = StepKind::MaxPool {
                    windows,
                    bits: input_bits,
                };
                ("max_pool2d", kind)
            }
            Op::Add => ("add", StepKind::Add),
            Op::Mul => ("mul", StepKind::Mul),
            #[cfg(feature = "transformers")]
            Op::Divide(d) => {
                let divisor_bits = specs[node.inputs[1]].bits;
                check("the output bound", d.bits)?;
                check("the remainder", divisor_bits)?;
                let kind = StepKind::Divide {
                    shift: d.shift,
                    bits: d.bits,
                    divisor_bits,
                };
                ("divide", kind)
            }
            #[cfg(feature = "transformers")]
            Op::MatMul => {
                let [a, b] = [0, 1].map(|n| &specs[node.inputs[n]].shape);
                // (Validated: the shapes multiply.)
                let dims = MatMulDims::of(a, b).map_err(|e| unsupported(model, i, e))?;
                ("matmul", StepKind::MatMul { dims })
            }
            Op::Table(table) => {
                tables += 1;
                let kind = StepKind::Table {
                    tag: tables,
                    table: table.clone(),
                };
                (node.op.name(), kind)
            }
            Op::Flatten | Op::Reshape { .. } => (node.op.name(), StepKind::Reshape),
            Op::Select(s) => {
                let kind = StepKind::Select {
                    indices: s.indices.clone(),
                };
                ("select", kind)
            }
        };
        i += fused.len();
        steps.push(Step {
            nodes: fused,
            inputs: node.inputs.clone(),
            name,
            kind,
        });
    }
    Ok(steps)
}

/// The terms of each dot product a node computes: `(weight, input index)`.
fn dot_terms(model: &QuantizedModel, node: usize) -> Vec<Taps> {
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
        Op::SumPool2d(p) | Op::AvgPool2d(p) => pool_windows(&x.shape, p)
            .into_iter()
            .map(|window| (window.into_iter().map(|i| (1, i)).collect(), 0))
            .collect(),
        _ => vec![],
    }
}

/// [`dot_terms`] with each weight and bias replaced by its index among the
/// node's weight cells: weights row-major, then biases.
#[cfg(feature = "committed-weights")]
fn index_terms(model: &QuantizedModel, node: usize) -> Vec<Taps> {
    let indexed = |weights: usize, biases: usize| {
        let w: Vec<i64> = (0..weights as i64).collect();
        let b: Vec<i64> = (weights as i64..(weights + biases) as i64).collect();
        (w, b)
    };
    let x = &model.specs()[model.nodes()[node].inputs[0]];
    match &model.nodes()[node].op {
        Op::Linear(l) => {
            let (w, b) = indexed(l.weight.data.len(), l.bias.len());
            w.chunks(l.in_features())
                .zip(b)
                .map(|(row, b)| (row.iter().copied().zip(0..).collect(), b))
                .collect()
        }
        Op::Conv2d(c) => {
            let (w, b) = indexed(c.weight.data.len(), c.bias.len());
            let mut c = c.clone();
            (c.weight.data, c.bias) = (w, b);
            conv_taps(&c, &x.shape)
        }
        _ => dot_terms(model, node),
    }
}

/// Which dot products share rows in a layout: products over the same
/// input indices, in the same order, up to `layout.dot_outputs` at a time.
/// A product joins the first group with room over its inputs, else starts
/// one: groups come in the order of their first product, and with one
/// accumulator per row each product is its own group, in product order.
pub fn dot_groups(products: &[Taps], layout: Layout) -> Vec<Vec<usize>> {
    let inputs = |p: usize| products[p].0.iter().map(|&(_, i)| i);
    // Groups by their first input index (+1; 0 for products with none):
    // only those can hold a product, so each looks at a handful. (No hash
    // map: the contract's module carries this function.)
    let slot = |p: usize| products[p].0.first().map_or(0, |&(_, i)| i + 1);
    let slots = (0..products.len()).map(slot).max().map_or(0, |s| s + 1);
    let mut by_slot: Vec<Vec<usize>> = vec![vec![]; slots];
    let mut groups: Vec<Vec<usize>> = vec![];
    for p in 0..products.len() {
        let open = &mut by_slot[slot(p)];
        let fits = |g: &usize| {
            groups[*g].len() < layout.dot_outputs && inputs(groups[*g][0]).eq(inputs(p))
        };
        match open.iter().copied().find(fits) {
            Some(g) => groups[g].push(p),
            None => {
                open.push(groups.len());
                groups.push(vec![p]);
            }
        }
    }
    groups
}

/// Multiply-accumulates and dot rows of a step's dot products.
pub(crate) fn dot_cost(products: &[Taps], layout: Layout) -> (usize, usize) {
    if products.is_empty() {
        return (0, 0);
    }
    let macs = products.iter().map(|(t, _)| t.len()).sum();
    // One leading row per region gives the first group an `acc_prev`.
    let rows = 1 + dot_groups(products, layout)
        .iter()
        .map(|g| group_rows(products[g[0]].0.len(), layout))
        .sum::<usize>();
    (macs, rows)
}

/// Multiply-accumulates and dot rows of a step's products of two
/// activations: a leading row, then each output's pair rows
/// ([`crate::chips::pair_dot`]).
#[cfg(feature = "transformers")]
pub(crate) fn pair_cost(dims: &MatMulDims, layout: Layout) -> (usize, usize) {
    let rows = 1 + dims.outputs() * pair_rows(dims.k, layout.dot_inputs);
    (dims.outputs() * dims.k, rows)
}

/// Rows one product over `terms` terms takes on the dot block's `lanes`
/// input lanes, paired.
#[cfg(feature = "transformers")]
pub fn pair_rows(terms: usize, lanes: usize) -> usize {
    terms.div_ceil((lanes / 2).max(1)).max(1)
}

fn unsupported(model: &QuantizedModel, node: usize, reason: String) -> CircuitError {
    CircuitError::Unsupported {
        node,
        op: model.nodes()[node].op.name(),
        reason,
    }
}

pub(crate) fn check_bits(model: &QuantizedModel, node: usize, what: &str, bits: u32) -> Result<()> {
    if bits > MAX_RANGE_BITS {
        return Err(unsupported(
            model,
            node,
            format!("{what} needs a {bits}-bit range check; the circuit checks up to {MAX_RANGE_BITS} bits"),
        ));
    }
    Ok(())
}
