//! [`WeightStoreConfig`]: polycommit weights ([`crate::polycommit`]) in
//! advice columns of their own, each 8-bit weight range-checked where it
//! is stored.
//!
//! Value `e` of the model's committed tensors (in commitment order) sits in
//! column `e mod C`, row `e / C`, from row 0 — the layout the native
//! commitment ([`crate::polycommit::column_values`]) assumes. The columns
//! belong to no other region, so the floor planner puts the store's region
//! at row 0; every other row of them is left zero, which the registered
//! commitment also says.
//!
//! ```text
//! | w_0 | w_1 | … | w_C-1 | q_0 … q_C-1 |
//! | w   |     |   |       |  1          |   q_c · (w_c + 128) ∈ [0, 256)
//! ```
//!
//! A wider value (biases at the accumulator's scale) has its selector off:
//! the caller copies it to a bound or division row.

use crate::assign::{Assigner, Cell_};
use crate::chips::range::{RangeTable, LIMB_BITS};
use crate::field::fe;
use halo2_proofs::circuit::{Layouter, Value};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Selector};
use halo2_proofs::poly::Rotation;
use pasta_curves::Fp;

/// One value to store: its witness, and whether the store range-checks it
/// to 8 signed bits (otherwise the caller checks it).
#[derive(Clone, Copy, Debug)]
pub struct Stored {
    /// The value (unknown for keys).
    pub value: Value<Fp>,
    /// Range-checked here, by lookup.
    pub lookup: bool,
}

/// The store's columns and lookups.
#[derive(Clone, Debug)]
pub struct WeightStoreConfig {
    /// The weight columns, in order: their commitments are what a proof
    /// opens to the registered ones.
    pub columns: Vec<Column<Advice>>,
    q_range: Vec<Selector>,
}

impl WeightStoreConfig {
    /// Allocates `n` columns and their lookups.
    pub fn configure(
        meta: &mut ConstraintSystem<Fp>,
        n: usize,
        range_table: RangeTable,
        lookup_names: &mut Vec<String>,
    ) -> Self {
        let offset = fe(1 << (LIMB_BITS - 1));
        let (columns, q_range) = (0..n)
            .map(|_| {
                let (w, q) = (meta.advice_column(), meta.complex_selector());
                meta.enable_equality(w);
                lookup_names.push("stored weight range".into());
                meta.lookup(|m| {
                    let q = m.query_selector(q);
                    let w = m.query_advice(w, Rotation::cur());
                    vec![(q * (w + Expression::Constant(offset)), range_table.column)]
                });
                (w, q)
            })
            .unzip();
        WeightStoreConfig { columns, q_range }
    }

    /// Where value `e` is stored: `(column, row)`.
    pub fn position(columns: usize, e: usize) -> (usize, usize) {
        (e % columns, e / columns)
    }

    /// Stores `values` in one region from row 0, range-checking those
    /// marked for lookup; returns their cells.
    pub fn store(
        &self,
        layouter: &mut impl Layouter<Fp>,
        assigner: &Assigner,
        values: &[Stored],
    ) -> Result<Vec<Cell_>, Error> {
        layouter.assign_region(
            || "weight store",
            |mut region| {
                assigner.region("weight store");
                values
                    .iter()
                    .enumerate()
                    .map(|(e, stored)| {
                        let (c, row) = Self::position(self.columns.len(), e);
                        if stored.lookup {
                            self.q_range[c].enable(&mut region, row)?;
                        }
                        assigner.advice(
                            &mut region,
                            "stored weight",
                            self.columns[c],
                            row,
                            stored.value,
                        )
                    })
                    .collect()
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::range::RangeTable;
    use halo2_proofs::circuit::SimpleFloorPlanner;
    use halo2_proofs::dev::MockProver;
    use halo2_proofs::plonk::Circuit;

    #[derive(Clone)]
    struct StoreCircuit {
        values: Vec<(Fp, bool)>,
    }

    impl Circuit<Fp> for StoreCircuit {
        type Config = (RangeTable, WeightStoreConfig);
        type FloorPlanner = SimpleFloorPlanner;

        fn without_witnesses(&self) -> Self {
            self.clone()
        }

        fn configure(meta: &mut ConstraintSystem<Fp>) -> Self::Config {
            let table = RangeTable::configure(meta);
            (
                table,
                WeightStoreConfig::configure(meta, 3, table, &mut vec![]),
            )
        }

        fn synthesize(
            &self,
            (table, store): Self::Config,
            mut layouter: impl Layouter<Fp>,
        ) -> Result<(), Error> {
            table.load(&mut layouter)?;
            let values: Vec<Stored> = self
                .values
                .iter()
                .map(|&(v, lookup)| Stored {
                    value: Value::known(v),
                    lookup,
                })
                .collect();
            store.store(&mut layouter, &Assigner::default(), &values)?;
            Ok(())
        }
    }

    fn accepts(values: Vec<(Fp, bool)>) -> bool {
        let circuit = StoreCircuit { values };
        MockProver::run(9, &circuit, vec![])
            .expect("the store fits")
            .verify()
            .is_ok()
    }

    #[test]
    fn accepts_8_bit_weights_and_unchecked_wide_values() {
        let mut values: Vec<(Fp, bool)> = (-128..128).map(|v| (fe(v), true)).collect();
        values.push((fe(1 << 20), false));
        values.push((fe(-(1 << 30)), false));
        assert!(accepts(values));
    }

    #[test]
    fn refuses_weights_outside_8_bits_and_field_answers() {
        for bad in [
            fe(128),
            fe(-129),
            fe(1 << 20),
            Fp::one().double().invert().unwrap(),
        ] {
            // The bad value in each column position, among good ones.
            for position in 0..3 {
                let mut values: Vec<(Fp, bool)> = (0..6).map(|v| (fe(v), true)).collect();
                values[position].0 = bad;
                assert!(!accepts(values), "{bad:?} at {position}");
            }
        }
    }

    #[test]
    fn positions_fill_rows_across_columns() {
        assert_eq!(WeightStoreConfig::position(3, 0), (0, 0));
        assert_eq!(WeightStoreConfig::position(3, 4), (1, 1));
        assert_eq!(WeightStoreConfig::position(1, 7), (0, 7));
    }
}
