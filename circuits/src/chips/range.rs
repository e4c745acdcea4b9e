//! Range checks by 8-bit limbs over one 256-row lookup table.
//!
//! [`RangeUnitConfig`] proves `0 ≤ v < m` in one row, for any bound `m`
//! that is at most 256 or a power of two up to 2^16: `v = l0 + 256·l1`
//! with both limbs in the table, and a third lookup on
//! `h = c0·l0 + c1·l1 + c2`, where the fixed `c0, c1, c2` encode `m`:
//!
//! * `m ≤ 256`: `c0 = 1`, `c1 = 256`, `c2 = 256 - m`: `h < 256` iff
//!   `l1 = 0` and `l0 < m`;
//! * `m = 2^n`, `8 < n ≤ 16`: `c0 = 0`, `c1 = 2^(16-n)`, `c2 = 0`:
//!   `h < 256` iff `l1 < 2^(n-8)`.
//!
//! The first case is what lets a rounding division by any window size up
//! to 256 check its remainder `r < n` with one unit. Limbs are below 256,
//! so `h < 2^17` and nothing wraps in the field.

use crate::assign::{Assigner, Cell_};
use crate::field::fe;
use ff::PrimeField;
use halo2_proofs::circuit::{Layouter, Region, Value};
use halo2_proofs::plonk::{
    Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector, TableColumn,
};
use halo2_proofs::poly::Rotation;
use pasta_curves::Fp;

/// Bits per limb; the table holds `0..2^LIMB_BITS`.
pub const LIMB_BITS: u32 = 8;
/// The widest range one unit checks.
pub const MAX_RANGE_BITS: u32 = 2 * LIMB_BITS;

fn gate_name(unit: &'static str) -> &'static str {
    match unit {
        "A" => "range unit A",
        "B" => "range unit B",
        _ => "range unit",
    }
}

/// The 8-bit table shared by every range unit.
#[derive(Clone, Copy, Debug)]
pub struct RangeTable {
    /// `0, 1, …, 255`.
    pub column: TableColumn,
}

impl RangeTable {
    /// Allocates the table column.
    pub fn configure(meta: &mut ConstraintSystem<Fp>) -> Self {
        RangeTable {
            column: meta.lookup_table_column(),
        }
    }

    /// Fills the table.
    pub fn load(&self, layouter: &mut impl Layouter<Fp>) -> Result<(), Error> {
        layouter.assign_table(
            || "range table",
            |mut table| {
                for v in 0..1u64 << LIMB_BITS {
                    table.assign_cell(
                        || "limb",
                        self.column,
                        v as usize,
                        || Value::known(Fp::from(v)),
                    )?;
                }
                Ok(())
            },
        )
    }
}

/// Proves `0 ≤ v < 2^n` on one row; `v` lives in a column another gate
/// owns, the unit adds the limbs.
#[derive(Clone, Copy, Debug)]
pub struct RangeUnitConfig {
    /// The value checked (assigned by the gate that uses the unit).
    pub v: Column<Advice>,
    l0: Column<Advice>,
    l1: Column<Advice>,
    h: Column<Advice>,
    c0: Column<Fixed>,
    c1: Column<Fixed>,
    c2: Column<Fixed>,
    q: Selector,
}

/// Range-check instructions.
pub trait RangeInstructions {
    /// Proves `0 ≤ v < bound` for the cell `v`, assigned by the caller in
    /// the unit's value column at `offset`; `bound` must pass
    /// [`RangeUnitConfig::checks`] (the plan sees to it).
    fn check_below(
        &self,
        region: &mut Region<'_, Fp>,
        assigner: &Assigner,
        offset: usize,
        v: &Cell_,
        bound: u64,
    ) -> Result<(), Error>;

    /// Proves `0 ≤ v < 2^bits`, `bits ≤ 16`: [`Self::check_below`].
    fn check(
        &self,
        region: &mut Region<'_, Fp>,
        assigner: &Assigner,
        offset: usize,
        v: &Cell_,
        bits: u32,
    ) -> Result<(), Error> {
        self.check_below(region, assigner, offset, v, 1 << bits)
    }
}

impl RangeUnitConfig {
    /// Creates the unit's gate (`range unit <name>`) and its three lookups,
    /// recording their names in `lookup_names`.
    pub fn configure(
        meta: &mut ConstraintSystem<Fp>,
        name: &'static str,
        lookup_names: &mut Vec<String>,
        v: Column<Advice>,
        limbs: [Column<Advice>; 3],
        fixed: [Column<Fixed>; 3],
        table: RangeTable,
    ) -> Self {
        let [l0, l1, h] = limbs;
        let [c0, c1, c2] = fixed;
        let q = meta.complex_selector();
        // | v | l0 | l1 | h | c0 | c1 | c2 | q |
        //   v  = l0 + 256·l1
        //   h  = c0·l0 + c1·l1 + c2     (l0, l1, h each in the table)
        meta.create_gate(gate_name(name), |m| {
            let q = m.query_selector(q);
            let [v, l0, l1, h] = [v, l0, l1, h].map(|c| m.query_advice(c, Rotation::cur()));
            let [c0, c1, c2] = [c0, c1, c2].map(|c| m.query_fixed(c));
            let base = Expression::Constant(Fp::from(1 << LIMB_BITS));
            vec![
                ("limbs", q.clone() * (v - (l0.clone() + base * l1.clone()))),
                ("top", q * (h - (c0 * l0 + c1 * l1 + c2))),
            ]
        });
        for (limb, column) in [("limb 0", l0), ("limb 1", l1), ("top limb", h)] {
            lookup_names.push(format!("unit {name} {limb}"));
            meta.lookup(|m| {
                let q = m.query_selector(q);
                let x = m.query_advice(column, Rotation::cur());
                vec![(q * x, table.column)]
            });
        }
        RangeUnitConfig {
            v,
            l0,
            l1,
            h,
            c0,
            c1,
            c2,
            q,
        }
    }

    /// The fixed coefficients `(c0, c1, c2)` for `v < bound`, if a unit
    /// can check that bound.
    fn coefficients(bound: u64) -> Option<[i64; 3]> {
        let limb = 1 << LIMB_BITS;
        if bound <= limb {
            Some([1, limb as i64, (limb - bound) as i64])
        } else if bound.is_power_of_two() && bound <= 1 << MAX_RANGE_BITS {
            Some([0, (1 << MAX_RANGE_BITS) / bound as i64, 0])
        } else {
            None
        }
    }

    /// Whether one unit can prove `v < bound`.
    pub fn checks(bound: u64) -> bool {
        bound >= 1 && Self::coefficients(bound).is_some()
    }
}

impl RangeInstructions for RangeUnitConfig {
    fn check_below(
        &self,
        region: &mut Region<'_, Fp>,
        assigner: &Assigner,
        offset: usize,
        v: &Cell_,
        bound: u64,
    ) -> Result<(), Error> {
        let Some(c) = Self::coefficients(bound) else {
            return Err(Error::Synthesis);
        };
        self.q.enable(region, offset)?;
        for (name, column, value) in [
            ("c0", self.c0, c[0]),
            ("c1", self.c1, c[1]),
            ("c2", self.c2, c[2]),
        ] {
            region.assign_fixed(|| name, column, offset, || Value::known(fe(value)))?;
        }
        // The hints: the two low bytes of v. A value of 2^16 or more (a
        // negative one is p - |v|) is not their sum and fails the gate; one
        // at or above the bound fails the top-limb lookup.
        let bytes = v.value().map(|v| v.to_repr());
        let l0 = bytes.map(|b| fe(i64::from(b[0])));
        let l1 = bytes.map(|b| fe(i64::from(b[1])));
        let l0 = assigner.advice(region, "l0", self.l0, offset, l0)?;
        let l1 = assigner.advice(region, "l1", self.l1, offset, l1)?;
        let h = [(&l0, c[0]), (&l1, c[1])]
            .iter()
            .fold(Value::known(fe(c[2])), |h, (limb, c)| {
                h + limb.value().map(|l| *l * fe(*c))
            });
        assigner.advice(region, "h", self.h, offset, h)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::testing::{failures, run};

    /// One row: `v` in unit A's value column, checked to `bits`.
    fn check(v: i64, bits: u32) -> Vec<String> {
        failures(run(move |config, region, a| {
            let v = a.advice(region, "v", config.lane().unit_a.v, 0, Value::known(fe(v)))?;
            config.lane().unit_a.check(region, a, 0, &v, bits)
        }))
    }

    #[test]
    fn accepts_every_width_up_to_its_bound() {
        for bits in 0..=MAX_RANGE_BITS {
            let max = (1i64 << bits) - 1;
            assert_eq!(check(0, bits), Vec::<String>::new(), "0 in {bits} bits");
            assert_eq!(
                check(max, bits),
                Vec::<String>::new(),
                "{max} in {bits} bits"
            );
        }
    }

    #[test]
    fn rejects_values_beyond_the_width() {
        // Just above the width: the limbs add up, the top-limb lookup fails.
        for bits in 0..MAX_RANGE_BITS {
            assert_eq!(
                check(1 << bits, bits),
                vec!["lookup unit A top limb"],
                "{bits} bits"
            );
        }
        // Beyond 16 bits, or negative (a huge field element): the limbs of
        // the low 16 bits do not add up to the value.
        assert_eq!(check(1 << 16, 16), vec!["gate range unit A: limbs"]);
        assert_eq!(check(-1, 16), vec!["gate range unit A: limbs"]);
    }

    /// Bounds that are not powers of two (window sizes): `v < m` for every
    /// `m ≤ 256`, exactly.
    #[test]
    fn checks_any_bound_up_to_256() {
        let below = |v: i64, bound: u64| {
            failures(run(move |config, region, a| {
                let v = a.advice(region, "v", config.lane().unit_a.v, 0, Value::known(fe(v)))?;
                config.lane().unit_a.check_below(region, a, 0, &v, bound)
            }))
        };
        for bound in [1u64, 3, 7, 9, 25, 49, 100, 255, 256] {
            assert!(below(0, bound).is_empty(), "0 < {bound}");
            assert!(
                below(bound as i64 - 1, bound).is_empty(),
                "{bound} - 1 < {bound}"
            );
            assert_eq!(
                below(bound as i64, bound),
                vec!["lookup unit A top limb"],
                "{bound}"
            );
            assert_eq!(
                below(bound as i64 + 256, bound),
                vec!["lookup unit A top limb"],
                "{bound} + 256"
            );
        }
        assert!(!RangeUnitConfig::checks(257));
        assert!(!RangeUnitConfig::checks(0));
        assert!(!RangeUnitConfig::checks(1 << 17));
    }
}
