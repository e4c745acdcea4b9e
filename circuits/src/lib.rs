//! `zkinfer-circuits`: halo2 circuits that prove a quantized model's
//! inference, exactly as `zkinfer_quant` defines it.
//!
//! * [`chips`] — row-level chips: [`chips::dot`] (multiply-accumulate rows
//!   with weights in fixed columns), [`chips::range`] (8-bit limb range
//!   checks), [`chips::rescale`], [`chips::relu`], [`chips::max`],
//!   [`chips::arith`] (add and mul), [`chips::table`], [`chips::bound`].
//! * [`Profile`] — the named column layouts ([`Layout`]: multiply-accumulates
//!   per dot row); [`ModelConfig`] — a profile's columns, gates and lookups.
//! * [`step`] — the one place a model's nodes become circuit [`Step`]s,
//!   with typed parameters.
//! * [`CircuitPlan`] — rows per step, and the smallest `k`; it
//!   checks [`bounds`], the invariant every chip keeps: each value a step
//!   writes is proven to be an integer in its declared range.
//! * [`ModelCircuit`] — the halo2 `Circuit` of a model and a trace.
//! * [`commitment`] — Poseidon commitments of tensors, computed natively
//!   exactly as [`chips::commit`] computes them in a circuit;
//!   [`weights`] — committed weights: a model's architecture and its
//!   weights' commitment ([`WeightVisibility::Committed`]);
//!   [`polycommit`] — polycommit weights: the proof's own commitments to
//!   the weight columns, opened to a registered Pedersen commitment
//!   ([`WeightVisibility::Polycommit`]).
//! * [`diagnose`] — naming MockProver failures.
//! * [`forgery`] — the forgeries an adversarial prover would try, built on
//!   [`Assigner`]'s edits, for soundness tests and audits.
//!
//! # Adding an op
//!
//! **An element-wise function** (GELU, ELU, …) is a table: it needs no
//! chip and no new step. Two places:
//!
//! 1. `quant/src/function.rs` — a [`zkinfer_quant::TableFunction`] arm: its
//!    name, its formula (`eval`, the float semantics the table is filled
//!    from and the float model runs), a new digest tag, and a spot-value
//!    test.
//! 2. The importer's op-type table (`models/src/onnx/`) — which ONNX op
//!    and attributes it is.
//!
//! The integer semantics (the table), the candle engine, the circuit (one
//! lookup per element), its bound proof and its tests (the table chip's
//! forgeries, `circuits/tests/model_variety.rs` over every function, the
//! random-model property test) follow with no edit.
//!
//! **An op with its own chip** takes one arm in each of:
//!
//! 1. `quant/src/layer.rs` — the [`zkinfer_quant::Op`] variant with typed
//!    parameters (and its name).
//! 2. `quant/src/model.rs` — its shape, scale and bound rule (`node_spec`).
//! 3. `quant/src/forward.rs` — its integer semantics (using
//!    `zkinfer_quant::ops` for any rounding).
//! 4. `quant/src/digest.rs` — its digest tag and encoding.
//! 5. `models/src/engine.rs` — the same semantics in candle, bit for bit.
//! 6. `models/src/quantize.rs` (and `arch.rs`/`float.rs` if the float graph
//!    has no op for it yet) — how a float layer becomes it.
//! 7. [`step`] — the node becomes a [`StepKind`] with the chip's typed
//!    parameters, refusing what the chip cannot prove.
//! 8. [`plan`] — its rows (`Step::cost`).
//! 9. [`bounds`] — what the chip proves of its output (`Step::bounds`).
//! 10. `layers.rs` — its placement with the chip.
//! 11. The chip itself (`chips/`, wired in `config.rs`) with accepting,
//!     rejecting and consistent-forgery tests.
//!
//! The compiler lists every place (each `match` is exhaustive); the golden
//! verifying-key test (`prover/tests/golden_keys.rs`) shows that no other
//! model's key moved.

#![deny(missing_docs, unsafe_code)]

mod assign;
pub mod bounds;
pub mod chips;
mod circuit;
#[cfg(feature = "commitments")]
pub mod commitment;
mod config;
pub mod diagnose;
mod error;
pub mod field;
pub mod forgery;
mod layers;
pub mod plan;
#[cfg(feature = "committed-weights")]
pub mod polycommit;
mod profile;
pub mod step;
#[cfg(feature = "committed-weights")]
pub mod weights;

pub use assign::{Assigner, Cell_ as AssignedCell, Edit, LoggedCell, HINTS};
pub use circuit::{public_values, ModelCircuit};
pub use config::ModelConfig;
pub use error::{CircuitError, Result};
pub use plan::{CircuitPlan, LayerCost, Visibility, WeightVisibility};
pub use profile::{Layout, Profile};
pub use step::{Step, StepKind};

/// The field circuits are over: the Pallas base field.
pub use pasta_curves::Fp;
