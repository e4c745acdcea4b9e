//! [`WeightStoreConfig`]: polycommit weights ([`crate::polycommit`]) in
//! advice columns of their own, range-checked where they are stored.
//!
//! Two kinds of columns. A **narrow** column holds 8-bit weights, each
//! checked by one lookup, and values wider than 16 bits, which the caller
//! copies to division rows (selector off). A **short** group holds 16-bit
//! values (weights of 9–16 bits and most biases are declared at 16),
//! split into two bytes by a gate:
//!
//! ```text
//! narrow | w_c | q_byte |   q_byte · (w_c + 2^7) ∈ [0, 2^8)
//! short  | s | lo | hi | q_short |
//!        |   |    |    |    1    |   s + 2^15 = lo + 2^8·hi
//!                                    q_short · lo, q_short · hi ∈ [0, 2^8)
//! ```
//!
//! Value `e` of a kind's stream sits in column `e mod C`, row `e / C` of
//! that kind's columns, from row 0 ([`StoreShape::position`]): the layout
//! the native commitment ([`crate::polycommit::column_values`]) assumes.
//! The columns belong to no other region, so the floor planner puts the
//! store's region at row 0; their other rows are left zero, which the
//! registered commitment also says. The committed columns are the narrow
//! ones, then each group's `s` ([`WeightStoreConfig::committed`]); `lo`
//! and `hi` are witnesses the gate ties to `s`.

use crate::assign::{Assigner, Cell_};
use crate::chips::range::{RangeTable, LIMB_BITS};
use crate::field::fe;
pub use crate::plan::{StoreCheck, StoreShape};
use halo2_proofs::circuit::{Layouter, Value};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Selector};
use halo2_proofs::poly::Rotation;
use pasta_curves::Fp;

/// One value to store.
#[derive(Clone, Copy, Debug)]
pub struct Stored {
    /// The value (unknown for keys).
    pub value: Value<Fp>,
    /// How it is checked.
    pub check: StoreCheck,
}

/// A short group's columns.
#[derive(Clone, Copy, Debug)]
struct ShortGroup {
    s: Column<Advice>,
    lo: Column<Advice>,
    hi: Column<Advice>,
    q: Selector,
}

/// The store's columns, gates and lookups.
#[derive(Clone, Debug)]
pub struct WeightStoreConfig {
    narrow: Vec<(Column<Advice>, Selector)>,
    short: Vec<ShortGroup>,
}

impl WeightStoreConfig {
    /// Allocates a store of `shape`: its advice columns (narrow columns
    /// with equality, short groups with equality on `s`), gates and
    /// lookups, naming each lookup in `lookup_names` as it is created.
    pub fn configure(
        meta: &mut ConstraintSystem<Fp>,
        shape: StoreShape,
        range_table: RangeTable,
        lookup_names: &mut Vec<String>,
    ) -> Self {
        let byte_offset = Expression::Constant(fe(1 << (LIMB_BITS - 1)));
        let narrow = (0..shape.narrow)
            .map(|_| {
                let (w, q) = (meta.advice_column(), meta.complex_selector());
                meta.enable_equality(w);
                lookup_names.push("stored weight byte".into());
                meta.lookup(|m| {
                    let q = m.query_selector(q);
                    let w = m.query_advice(w, Rotation::cur());
                    vec![(q * (w + byte_offset.clone()), range_table.column)]
                });
                (w, q)
            })
            .collect();
        let short = (0..shape.short)
            .map(|_| {
                let [s, lo, hi] = [(); 3].map(|_| meta.advice_column());
                let q = meta.complex_selector();
                meta.enable_equality(s);
                meta.create_gate("stored short", |m| {
                    let q = m.query_selector(q);
                    let [s, lo, hi] = [s, lo, hi].map(|c| m.query_advice(c, Rotation::cur()));
                    let (half, byte) = (fe(1 << 15), fe(1 << LIMB_BITS));
                    vec![(
                        "s + 2^15 = lo + 2^8·hi",
                        q * (s + Expression::Constant(half) - lo - hi * Expression::Constant(byte)),
                    )]
                });
                for (name, limb) in [("stored short lo", lo), ("stored short hi", hi)] {
                    lookup_names.push(name.into());
                    meta.lookup(|m| {
                        let q = m.query_selector(q);
                        let limb = m.query_advice(limb, Rotation::cur());
                        vec![(q * limb, range_table.column)]
                    });
                }
                ShortGroup { s, lo, hi, q }
            })
            .collect();
        WeightStoreConfig { narrow, short }
    }

    /// Advice columns and selectors a store of `shape` allocates.
    pub fn counts(shape: StoreShape) -> (usize, usize) {
        (shape.narrow + 3 * shape.short, shape.narrow + shape.short)
    }

    /// The store's shape.
    pub fn shape(&self) -> StoreShape {
        StoreShape {
            narrow: self.narrow.len(),
            short: self.short.len(),
        }
    }

    /// The committed columns, in order: the narrow ones, then each short
    /// group's `s`.
    pub fn committed(&self) -> Vec<Column<Advice>> {
        let narrow = self.narrow.iter().map(|(w, _)| *w);
        narrow.chain(self.short.iter().map(|g| g.s)).collect()
    }

    /// Stores `values` in one region from row 0, checking each as marked;
    /// returns their cells.
    pub fn store(
        &self,
        layouter: &mut impl Layouter<Fp>,
        assigner: &Assigner,
        values: &[Stored],
    ) -> Result<Vec<Cell_>, Error> {
        let positions = self.shape().positions(values.iter().map(|v| v.check));
        let columns = self.committed();
        layouter.assign_region(
            || "weight store",
            |mut region| {
                assigner.region("weight store");
                values
                    .iter()
                    .zip(&positions)
                    .map(|(stored, &(c, row))| {
                        let cell = assigner.advice(
                            &mut region,
                            "stored weight",
                            columns[c],
                            row,
                            stored.value,
                        )?;
                        match stored.check {
                            StoreCheck::Byte => self.narrow[c].1.enable(&mut region, row)?,
                            StoreCheck::Short => {
                                let group = &self.short[c - self.narrow.len()];
                                group.q.enable(&mut region, row)?;
                                // s + 2^15 = lo + 2^8·hi, from the cell as
                                // assigned (a forger's edit included).
                                let v = crate::assign::int(&cell).map(|s| s + (1 << 15));
                                let (lo, hi) = (v.map(|v| fe(v & 0xff)), v.map(|v| fe(v >> 8)));
                                assigner.advice(&mut region, "lo", group.lo, row, lo)?;
                                assigner.advice(&mut region, "hi", group.hi, row, hi)?;
                            }
                            StoreCheck::Elsewhere => {}
                        }
                        Ok(cell)
                    })
                    .collect()
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::Edit;
    use crate::chips::range::RangeTable;
    use ff::Field;
    use halo2_proofs::circuit::SimpleFloorPlanner;
    use halo2_proofs::dev::MockProver;
    use halo2_proofs::plonk::Circuit;
    use StoreCheck::{Byte, Elsewhere, Short};

    const SHAPE: StoreShape = StoreShape {
        narrow: 2,
        short: 2,
    };

    #[derive(Clone)]
    struct StoreCircuit {
        values: Vec<(Fp, StoreCheck)>,
        assigner: Assigner,
    }

    impl Circuit<Fp> for StoreCircuit {
        type Config = (RangeTable, WeightStoreConfig);
        type FloorPlanner = SimpleFloorPlanner;

        fn without_witnesses(&self) -> Self {
            self.clone()
        }

        fn configure(meta: &mut ConstraintSystem<Fp>) -> Self::Config {
            let table = RangeTable::configure(meta);
            let store = WeightStoreConfig::configure(meta, SHAPE, table, &mut vec![]);
            (table, store)
        }

        fn synthesize(
            &self,
            (table, store): Self::Config,
            mut layouter: impl Layouter<Fp>,
        ) -> Result<(), Error> {
            table.load(&mut layouter)?;
            self.assigner.reset();
            let values: Vec<Stored> = self
                .values
                .iter()
                .map(|&(v, check)| Stored {
                    value: Value::known(v),
                    check,
                })
                .collect();
            store.store(&mut layouter, &self.assigner, &values)?;
            Ok(())
        }
    }

    fn accepts_edited(values: &[(i64, StoreCheck)], edits: &[(usize, Edit)]) -> bool {
        let circuit = StoreCircuit {
            values: values.iter().map(|&(v, c)| (fe(v), c)).collect(),
            assigner: Assigner::default().with_edits(edits.iter().copied()),
        };
        MockProver::run(9, &circuit, vec![])
            .expect("the store fits")
            .verify()
            .is_ok()
    }

    fn accepts(values: &[(i64, StoreCheck)]) -> bool {
        accepts_edited(values, &[])
    }

    #[test]
    fn accepts_bytes_shorts_and_unchecked_wide_values() {
        let mut values: Vec<(i64, StoreCheck)> = (-128..128).map(|v| (v, Byte)).collect();
        values.extend([(-32768, Short), (32767, Short), (0, Short), (-1, Short)]);
        values.extend([(1 << 20, Elsewhere), (-(1 << 30), Elsewhere)]);
        assert!(accepts(&values));
    }

    #[test]
    fn refuses_values_outside_their_width() {
        for (bad, check) in [
            (128, Byte),
            (-129, Byte),
            (1 << 20, Byte),
            (32768, Short),
            (-32769, Short),
            (1 << 20, Short),
        ] {
            // In each position among good values of both kinds.
            for position in 0..4 {
                let mut values: Vec<(i64, StoreCheck)> =
                    (0..4).flat_map(|v| [(v, Byte), (-v, Short)]).collect();
                let at = values
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, c))| *c == check)
                    .nth(position)
                    .unwrap()
                    .0;
                values[at].0 = bad;
                assert!(!accepts(&values), "{bad} as {check:?} at {position}");
            }
        }
    }

    /// Field-level answers: a half stored as a byte, and a short whose
    /// limbs are a consistent forgery — `s = 40000` written as
    /// `lo = 40000 + 2^15 - 2^8·hi` with `hi = 0` (the gate holds, the `lo`
    /// lookup refuses), or with `hi = 2^8 + …` (the `hi` lookup refuses).
    #[test]
    fn refuses_field_answers_and_forged_limbs() {
        let half = Fp::one().double().invert().unwrap();
        let circuit = StoreCircuit {
            values: vec![(half, Byte)],
            assigner: Assigner::default(),
        };
        let prover = MockProver::run(9, &circuit, vec![]).unwrap();
        assert!(prover.verify().is_err());
        // Cell indices: s = 0, lo = 1, hi = 2.
        let v = 40_000 + (1 << 15);
        let forged = [(1, Edit::Set(fe(v))), (2, Edit::Set(fe(0)))];
        assert!(!accepts_edited(&[(40_000, Short)], &forged));
        let forged = [(1, Edit::Set(fe(v & 0xff))), (2, Edit::Set(fe(v >> 8)))];
        assert!(!accepts_edited(&[(40_000, Short)], &forged));
        // An honest limb edit alone breaks the gate.
        assert!(!accepts_edited(&[(5, Short)], &[(1, Edit::Add(fe(1)))]));
        assert!(accepts_edited(&[(5, Short)], &[]));
    }

    #[test]
    fn positions_fill_rows_across_columns_of_each_kind() {
        let checks = [Byte, Short, Byte, Elsewhere, Short, Short];
        assert_eq!(
            SHAPE.positions(checks),
            vec![(0, 0), (2, 0), (1, 0), (0, 1), (3, 0), (2, 1)]
        );
        assert_eq!(
            StoreShape::fitting(10, 3, 4),
            StoreShape {
                narrow: 3,
                short: 1
            }
        );
        assert_eq!(
            StoreShape {
                narrow: 3,
                short: 1
            }
            .rows(10, 3),
            4
        );
        assert_eq!(
            StoreShape {
                narrow: 1,
                short: 0
            }
            .rows(7, 0),
            7
        );
    }
}
