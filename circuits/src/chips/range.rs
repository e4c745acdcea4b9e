//! Range checks by 8-bit limbs over one 256-row lookup table.
//!
//! [`RangeUnitConfig`] proves `0 ≤ v < 2^n` for any `0 ≤ n ≤ 16` in one
//! row: `v = l0 + 256·l1` with both limbs in the table, and a third table
//! lookup on `h = c0·l0 + c1·l1`, where the fixed `c0, c1` encode `n`:
//!
//! * `n ≥ 8`: `c0 = 0`, `c1 = 2^(16-n)`: `h < 256` iff `l1 < 2^(n-8)`;
//! * `n < 8`: `c0 = 2^(8-n)`, `c1 = 256`: `h < 256` iff `l1 = 0` and
//!   `l0 < 2^(8-n)·…`, i.e. `l0 < 2^n`.
//!
//! Limbs are below 256, so `h < 2^17` and nothing wraps in the field.

use crate::assign::Assigner;
use crate::field::fe;
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
    q: Selector,
}

/// Range-check instructions.
pub trait RangeInstructions {
    /// Proves `0 ≤ v < 2^bits` for the value in column `v` at `offset`.
    fn check(
        &self,
        region: &mut Region<'_, Fp>,
        assigner: &Assigner,
        offset: usize,
        value: Value<i64>,
        bits: u32,
    ) -> Result<(), Error>;
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
        fixed: [Column<Fixed>; 2],
        table: RangeTable,
    ) -> Self {
        let [l0, l1, h] = limbs;
        let [c0, c1] = fixed;
        let q = meta.complex_selector();
        // | v | l0 | l1 | h | c0 | c1 | q |
        //   v  = l0 + 256·l1
        //   h  = c0·l0 + c1·l1          (l0, l1, h each in the table)
        meta.create_gate(gate_name(name), |m| {
            let q = m.query_selector(q);
            let [v, l0, l1, h] = [v, l0, l1, h].map(|c| m.query_advice(c, Rotation::cur()));
            let [c0, c1] = [c0, c1].map(|c| m.query_fixed(c));
            let base = Expression::Constant(Fp::from(1 << LIMB_BITS));
            vec![
                ("limbs", q.clone() * (v - (l0.clone() + base * l1.clone()))),
                ("top", q * (h - (c0 * l0 + c1 * l1))),
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
            q,
        }
    }

    /// The fixed coefficients `(c0, c1)` for a width of `bits`.
    fn coefficients(bits: u32) -> (i64, i64) {
        if bits >= LIMB_BITS {
            (0, 1 << (MAX_RANGE_BITS - bits))
        } else {
            (1 << (LIMB_BITS - bits), 1 << LIMB_BITS)
        }
    }
}

impl RangeInstructions for RangeUnitConfig {
    fn check(
        &self,
        region: &mut Region<'_, Fp>,
        assigner: &Assigner,
        offset: usize,
        value: Value<i64>,
        bits: u32,
    ) -> Result<(), Error> {
        assert!(
            bits <= MAX_RANGE_BITS,
            "the plan keeps range checks within 16 bits"
        );
        self.q.enable(region, offset)?;
        let (c0, c1) = Self::coefficients(bits);
        region.assign_fixed(|| "c0", self.c0, offset, || Value::known(fe(c0)))?;
        region.assign_fixed(|| "c1", self.c1, offset, || Value::known(fe(c1)))?;
        // The limbs of the low 16 bits; out-of-range values fail the lookups.
        let l0 = value.map(|v| v & 0xff);
        let l1 = value.map(|v| (v >> 8) & 0xff);
        let h = l0.zip(l1).map(|(l0, l1)| c0 * l0 + c1 * l1);
        assigner.advice(region, "l0", self.l0, offset, l0.map(fe))?;
        assigner.advice(region, "l1", self.l1, offset, l1.map(fe))?;
        assigner.advice(region, "h", self.h, offset, h.map(fe))?;
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
            a.advice(region, "v", config.unit_a.v, 0, Value::known(fe(v)))?;
            config.unit_a.check(region, a, 0, Value::known(v), bits)
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
}
