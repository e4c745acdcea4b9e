//! The bound invariant, and the plan's check of it.
//!
//! halo2 gates hold over the field, not the integers. A division gate
//! `x + half = y·n + r` with `r` range-checked also holds for a huge
//! non-integer `y'` and another `r'`, and a later linear layer can cancel
//! the non-integer parts (wave 1's average-pool forgery). What keeps every
//! equation an integer identity is this invariant:
//!
//! > Every advice value that leaves a step — into a dot product, a table,
//! > another step or the public output — is proven, in the circuit, to be
//! > an integer in its tensor's declared range ([`zkinfer_quant::TensorSpec`]
//! > `bits`, at most 53, so far below `p/2`).
//!
//! A value is proven so in one of three ways ([`BoundProof`]): a range check
//! on the cell itself; a lookup that makes it a table entry; or a gate that
//! combines proven values by integer arithmetic only — a dot product with
//! fixed weights, or with committed weights (each range-checked where it
//! is committed, the spec being the architecture's worst case:
//! [`crate::weights`]), a sum, a product of two, a selection by a proven
//! bit — whose range the model's spec derives from its inputs' (within 53
//! bits, so the integer result never wraps). A step whose gates divide or
//! compare proves its output by a range check, never by the gate alone.
//!
//! Each [`Step`] states what it proves of its outputs ([`Step::bounds`]);
//! [`check`] walks a model's steps and refuses a plan in which any step
//! writes a value without a proof — so none is consumed or published
//! without one. The statements are checked against the chips by the tests: each
//! chip's consistent-forgery tests, the witness mutation tests, and the
//! randomized forgery search over whole models (`circuits/tests/`).
//!
//! **A new chip's author**: give your step an arm in [`Step::bounds`] that
//! says what the chip really proves; if its output comes from a hint (a
//! quotient, a sign, a table output), range-check or look up that cell on
//! the same row, and add a consistent-forgery test that edits the hint.

use crate::error::{CircuitError, Result};
use crate::step::{Step, StepKind};
use serde::{Deserialize, Serialize};
use zkinfer_quant::QuantizedModel;

/// How the circuit proves that a tensor's cells are integers in their
/// declared range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundProof {
    /// A range check on each cell: the bound gate, or a ReLU's or max's
    /// sign check.
    RangeCheck,
    /// A lookup: each cell is an entry of a table.
    Lookup,
    /// A gate that combines proven cells with integer constants only.
    Derived,
    /// Nothing: the cells could hold any field element.
    Unproven,
}

impl Step {
    /// What the step's chips prove of each output tensor, in order (see
    /// the module docs); `None` passes the input's proof through (a reshape
    /// moves no data).
    pub fn bounds(&self) -> Vec<Option<BoundProof>> {
        use BoundProof::*;
        match &self.kind {
            // Fixed weights times proven inputs.
            StepKind::Dot { .. } => vec![Some(Derived)],
            // Window sums, then a division whose quotient is range-checked.
            StepKind::AvgPool { .. } => vec![Some(RangeCheck)],
            // The quotient is range-checked (the bound gate, or the ReLU's
            // sign check); the ReLU's output is s·y with s a proven bit.
            StepKind::Rescale { relu: false, .. } => vec![Some(RangeCheck)],
            StepKind::Rescale { relu: true, .. } => vec![Some(RangeCheck), Some(Derived)],
            // z = s·y; the sign check bounds y itself.
            StepKind::Relu { .. } => vec![Some(Derived)],
            // One of two proven inputs, chosen by a proven bit.
            StepKind::MaxPool { .. } => vec![Some(Derived)],
            // Sums and products of two proven inputs; sums of products.
            StepKind::Add | StepKind::Mul => vec![Some(Derived)],
            #[cfg(feature = "transformers")]
            StepKind::MatMul { .. } => vec![Some(Derived)],
            // The quotient is range-checked on the division's row.
            #[cfg(feature = "transformers")]
            StepKind::Divide { .. } => vec![Some(RangeCheck)],
            // The lookup makes the output a table entry (and proves the
            // input in the domain).
            StepKind::Table { .. } => vec![Some(Lookup)],
            // The output cells are input cells, or the constant zero.
            StepKind::Reshape | StepKind::Select { .. } => vec![None],
        }
    }
}

/// Checks the bound invariant for a model's steps, with `bounds` saying
/// what each step proves ([`Step::bounds`] in the circuit; tests pass
/// others): every tensor a step writes — and so every value a later step,
/// a table or the public output reads — must be proven. Returns the proof
/// of every tensor, by tensor id; the input is range-checked where it
/// enters.
pub fn check(
    model: &QuantizedModel,
    steps: &[Step],
    bounds: impl Fn(&Step) -> Vec<Option<BoundProof>>,
) -> Result<Vec<BoundProof>> {
    let nodes = model.nodes();
    let mut proofs = vec![BoundProof::RangeCheck];
    for step in steps {
        let claims = bounds(step);
        if claims.len() != step.nodes.len() {
            return Err(CircuitError::Unbounded {
                node: step.nodes[0],
                op: nodes[step.nodes[0]].op.name(),
                what: format!(
                    "the step states {} outputs for {} nodes",
                    claims.len(),
                    step.nodes.len()
                ),
            });
        }
        for (&node, claim) in step.nodes.iter().zip(claims) {
            // A pass-through output is as proven as the least proven input.
            let passed = nodes[node]
                .inputs
                .iter()
                .map(|&id| proofs[id])
                .find(|&p| p == BoundProof::Unproven)
                .unwrap_or(proofs[nodes[node].inputs[0]]);
            let proof = claim.unwrap_or(passed);
            if proof == BoundProof::Unproven {
                return Err(CircuitError::Unbounded {
                    node,
                    op: nodes[node].op.name(),
                    what: format!(
                        "its output is not proven to be an integer in its declared {}-bit range",
                        model.specs()[node + 1].bits
                    ),
                });
            }
            proofs.push(proof);
        }
    }
    Ok(proofs)
}
