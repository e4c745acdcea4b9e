//! [`Assigner`]: every advice cell of a model circuit is assigned through
//! here, so that a test can change any single one of them and check that the
//! circuit notices (witness mutation tests).

use halo2_proofs::circuit::{AssignedCell, Region, Value};
use halo2_proofs::plonk::{Advice, Column, Error};
use pasta_curves::Fp;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// An assigned cell of the model circuit.
pub type Cell_ = AssignedCell<Fp, Fp>;

/// Assigns advice values and copies, counting them.
///
/// Clones share the counter: a circuit and its copies count together.
#[derive(Clone, Debug, Default)]
pub struct Assigner {
    tamper: Option<(usize, Fp)>,
    count: Arc<AtomicUsize>,
}

impl Assigner {
    /// An assigner that adds `delta` to the `index`-th advice cell it
    /// assigns. For soundness tests only: the result is a wrong witness.
    pub fn tampering(index: usize, delta: Fp) -> Self {
        Assigner {
            tamper: Some((index, delta)),
            count: Arc::default(),
        }
    }

    /// Starts counting again (each synthesis assigns the same cells).
    pub fn reset(&self) {
        self.count.store(0, Ordering::Relaxed);
    }

    /// How many advice cells have been assigned since the last reset.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
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
                match self.tamper {
                    Some((target, delta)) if target == index => value.map(|v| v + delta),
                    _ => value,
                }
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
