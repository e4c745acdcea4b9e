//! [`BoundConfig`]: a declared signed bound, `-2^(b-1) ≤ y < 2^(b-1)`,
//! proven as `0 ≤ y + 2^(b-1) < 2^b` by range unit B.

use crate::assign::Assigner;
use crate::chips::range::{RangeInstructions, RangeUnitConfig};
use crate::field::fe;
use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Fixed, Selector};
use halo2_proofs::poly::Rotation;
use pasta_curves::Fp;

/// The bound gate.
#[derive(Clone, Copy, Debug)]
pub struct BoundConfig {
    /// The bounded value.
    pub y: Column<Advice>,
    k: Column<Fixed>,
    q: Selector,
    unit_b: RangeUnitConfig,
}

impl BoundConfig {
    /// Creates the gate `bound`.
    pub fn configure(
        meta: &mut ConstraintSystem<Fp>,
        y: Column<Advice>,
        k: Column<Fixed>,
        unit_b: RangeUnitConfig,
    ) -> Self {
        let q = meta.selector();
        // | y | unit B's v | k = 2^(b-1) | q_bound |
        //   v = y + k, and 0 ≤ v < 2^b (unit B)
        meta.create_gate("bound", |m| {
            let q = m.query_selector(q);
            let y = m.query_advice(y, Rotation::cur());
            let v = m.query_advice(unit_b.v, Rotation::cur());
            let k = m.query_fixed(k);
            vec![("v = y + 2^(b-1)", q * (v - (y + k)))]
        });
        BoundConfig { y, k, q, unit_b }
    }

    /// Proves the value at `(y, offset)` fits in `bits` signed bits.
    pub fn bound(
        &self,
        region: &mut Region<'_, Fp>,
        assigner: &Assigner,
        offset: usize,
        y: Value<i64>,
        bits: u32,
    ) -> Result<(), Error> {
        self.q.enable(region, offset)?;
        let k = 1i64 << (bits - 1);
        region.assign_fixed(|| "k", self.k, offset, || Value::known(fe(k)))?;
        let v = y.map(|y| y + k);
        assigner.advice(region, "y + 2^(b-1)", self.unit_b.v, offset, v.map(fe))?;
        self.unit_b.check(region, assigner, offset, v, bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::testing::{failures, run_tampered};

    /// Cells: y 0, v 1, limbs 2–4.
    fn bound(y: i64, bits: u32, tamper: Option<(usize, i64)>) -> Vec<String> {
        failures(run_tampered(vec![], tamper, move |c, region, a| {
            a.advice(region, "y", c.bound.y, 0, Value::known(fe(y)))?;
            c.bound.bound(region, a, 0, Value::known(y), bits)
        }))
    }

    #[test]
    fn accepts_the_signed_range() {
        for (y, bits) in [
            (-2048, 12),
            (2047, 12),
            (0, 1),
            (-1, 1),
            (-32768, 16),
            (32767, 16),
        ] {
            assert!(bound(y, bits, None).is_empty(), "{y} in {bits} bits");
        }
    }

    #[test]
    fn rejects_values_outside() {
        assert_eq!(bound(2048, 12, None), vec!["lookup unit B top limb"]);
        assert_eq!(
            bound(-2049, 12, None),
            vec!["gate range unit B: limbs", "lookup unit B top limb"]
        );
        assert_eq!(
            bound(5, 12, Some((1, 1))),
            vec!["gate bound: v = y + 2^(b-1)", "gate range unit B: limbs"]
        );
    }
}
