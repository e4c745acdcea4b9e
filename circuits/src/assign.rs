//! [`Assigner`]: every advice cell of a model circuit is assigned through
//! here, so that a test can change any of them and check that the circuit
//! notices — one cell (witness mutation tests) or a prover's free choices
//! (consistent forgeries).
//!
//! Chips follow one rule that makes forgeries consistent: a gate's *hint*
//! (a quotient, a sign bit, range limbs, a table output: the values the
//! prover chooses) is assigned first, and every cell the gate determines is
//! computed from the assigned cells, not from the trace. Editing a hint
//! therefore re-derives everything after it — the remainder, the range
//! limbs, the next layer's accumulators — exactly as an adversarial prover
//! would, and what remains to catch the forgery is the circuit itself.

use crate::field::to_i64;
use halo2_proofs::circuit::{AssignedCell, Region, Value};
use halo2_proofs::plonk::{Advice, Column, Error};
use pasta_curves::Fp;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// An assigned cell of the model circuit.
pub type Cell_ = AssignedCell<Fp, Fp>;

/// A change to one advice cell: a wrong witness, for soundness tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Add this much to the honest value.
    Add(Fp),
    /// Replace the honest value.
    Set(Fp),
}

/// One assigned advice cell, as a recording [`Assigner`] saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedCell {
    /// The assignment's index (what [`Edit`]s are keyed by).
    pub index: usize,
    /// The plan step being laid out ([`Assigner::step`]); `None` for the
    /// input.
    pub step: Option<usize>,
    /// The region's name ([`Assigner::region`]).
    pub region: &'static str,
    /// The cell's name: `y`, `r`, `s`, `l0`, …
    pub name: &'static str,
    /// The offset in its region.
    pub offset: usize,
    /// The value assigned (after any edit).
    pub value: Fp,
}

/// Names of the cells a prover chooses freely, per gate: the hints that a
/// consistent forgery edits (see the module docs).
pub const HINTS: [&str; 5] = ["y", "s", "l0", "l1", "f(x)"];

/// Assigns advice values and copies, counting them.
///
/// Clones share the counter and the log: a circuit and its copies count
/// together.
#[derive(Clone, Debug, Default)]
pub struct Assigner {
    edits: Arc<BTreeMap<usize, Edit>>,
    count: Arc<AtomicUsize>,
    log: Option<Arc<Mutex<Log>>>,
}

#[derive(Debug, Default)]
struct Log {
    step: Option<usize>,
    region: &'static str,
    cells: Vec<LoggedCell>,
    public: Vec<Fp>,
}

impl Assigner {
    /// An assigner that adds `delta` to the `index`-th advice cell it
    /// assigns. For soundness tests only: the result is a wrong witness.
    pub fn tampering(index: usize, delta: Fp) -> Self {
        Self::default().with_edits([(index, Edit::Add(delta))])
    }

    /// This assigner with `edits` applied (replacing earlier ones).
    pub fn with_edits(&self, edits: impl IntoIterator<Item = (usize, Edit)>) -> Self {
        Assigner {
            edits: Arc::new(edits.into_iter().collect()),
            count: Arc::default(),
            log: self.log.as_ref().map(|_| Arc::default()),
        }
    }

    /// This assigner, also recording every cell it assigns ([`Self::log`]).
    pub fn recording(&self) -> Self {
        Assigner {
            log: Some(Arc::default()),
            count: Arc::default(),
            ..self.clone()
        }
    }

    /// Starts counting again (each synthesis assigns the same cells).
    pub fn reset(&self) {
        self.count.store(0, Ordering::Relaxed);
        if let Some(log) = &self.log {
            let mut log = log.lock().expect("the log is never poisoned");
            log.cells.clear();
            log.public.clear();
            log.step = None;
        }
    }

    /// How many advice cells have been assigned since the last reset.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// Names the plan step the next cells belong to, for the log.
    pub fn step(&self, step: usize) {
        if let Some(log) = &self.log {
            log.lock().expect("the log is never poisoned").step = Some(step);
        }
    }

    /// Names the region the next cells belong to, for the log.
    pub fn region(&self, name: &'static str) {
        if let Some(log) = &self.log {
            log.lock().expect("the log is never poisoned").region = name;
        }
    }

    /// The cells assigned since the last reset (empty unless recording).
    pub fn log(&self) -> Vec<LoggedCell> {
        self.log.as_ref().map_or_else(Vec::new, |log| {
            log.lock().expect("the log is never poisoned").cells.clone()
        })
    }

    /// Records the values bound to the public inputs, in instance order.
    pub fn log_public(&self, cells: &[Cell_]) {
        if let Some(log) = &self.log {
            let mut log = log.lock().expect("the log is never poisoned");
            for cell in cells {
                cell.value().map(|v| log.public.push(*v));
            }
        }
    }

    /// The public values recorded by the last synthesis (empty unless
    /// recording, or without a witness).
    pub fn public(&self) -> Vec<Fp> {
        self.log.as_ref().map_or_else(Vec::new, |log| {
            log.lock()
                .expect("the log is never poisoned")
                .public
                .clone()
        })
    }

    /// Assigns a value to an advice cell.
    pub fn advice(
        &self,
        region: &mut Region<'_, Fp>,
        name: &'static str,
        column: Column<Advice>,
        offset: usize,
        value: Value<Fp>,
    ) -> Result<Cell_, Error> {
        // The floor planner runs each region twice, first only to measure
        // its shape without asking for values: count the assignments whose
        // value is asked for, so that indices name the same cell every run.
        region.assign_advice(
            || name,
            column,
            offset,
            || {
                let index = self.count.fetch_add(1, Ordering::Relaxed);
                let value = match self.edits.get(&index) {
                    Some(Edit::Add(delta)) => value.map(|v| v + delta),
                    Some(Edit::Set(v)) => value.map(|_| *v),
                    None => value,
                };
                if let Some(log) = &self.log {
                    value.map(|value| {
                        let mut log = log.lock().expect("the log is never poisoned");
                        let (step, region) = (log.step, log.region);
                        log.cells.push(LoggedCell {
                            index,
                            step,
                            region,
                            name,
                            offset,
                            value,
                        });
                    });
                }
                value
            },
        )
    }

    /// Copies a cell: assigns its value and constrains the two to be equal.
    pub fn copy(
        &self,
        region: &mut Region<'_, Fp>,
        name: &'static str,
        from: &Cell_,
        column: Column<Advice>,
        offset: usize,
    ) -> Result<Cell_, Error> {
        let cell = self.advice(region, name, column, offset, from.value().copied())?;
        region.constrain_equal(from.cell(), cell.cell())?;
        Ok(cell)
    }
}

/// The integer an assigned cell holds, for deriving the next witness from
/// it. A cell that holds no `i64` (only a forged witness does) derives from
/// 0: the derived cells are then wrong, and the circuit must say so.
pub fn int(cell: &Cell_) -> Value<i64> {
    cell.value().map(|v| to_i64(v).unwrap_or(0))
}
