//! `zkinfer-circuits`: halo2 circuits that prove a quantized model's
//! inference, exactly as `zkinfer_quant` defines it.
//!
//! * [`chips`] — row-level chips: [`chips::dot`] (multiply-accumulate rows
//!   with weights in fixed columns), [`chips::range`] (8-bit limb range
//!   checks), [`chips::rescale`], [`chips::relu`], [`chips::max`],
//!   [`chips::add`], [`chips::table`], [`chips::bound`].
//! * [`ModelConfig`] — the one column layout every model uses.
//! * [`CircuitPlan`] — steps, rows per layer, and the smallest `k`; it
//!   checks [`bounds`], the invariant every chip keeps: each value a step
//!   writes is proven to be an integer in its declared range.
//! * [`ModelCircuit`] — the halo2 `Circuit` of a model and a trace.
//! * [`diagnose`] — naming MockProver failures.
//! * [`forgery`] — the forgeries an adversarial prover would try, built on
//!   [`Assigner`]'s edits, for soundness tests and audits.

#![deny(missing_docs, unsafe_code)]

mod assign;
pub mod bounds;
pub mod chips;
mod circuit;
mod config;
pub mod diagnose;
mod error;
pub mod field;
pub mod forgery;
mod layers;
pub mod plan;

pub use assign::{Assigner, Cell_ as AssignedCell, Edit, LoggedCell, HINTS};
pub use circuit::{public_values, ModelCircuit};
pub use config::ModelConfig;
pub use error::{CircuitError, Result};
pub use plan::{CircuitPlan, LayerCost, Step, Visibility};

/// The field circuits are over: the Pallas base field.
pub use pasta_curves::Fp;
