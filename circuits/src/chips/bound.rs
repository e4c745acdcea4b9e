//! [`BoundConfig`]: a declared signed bound, `-2^(b-1) ≤ y < 2^(b-1)`,
//! proven as `0 ≤ y + 2^(b-1) < 2^b` by range unit B.

use crate::assign::{Assigner, Cell_};
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

    /// Proves the cell `y`, placed at `(y, offset)`, fits in `bits` signed
    /// bits (`1 ≤ bits ≤ 16`).
    pub fn bound(
        &self,
        region: &mut Region<'_, Fp>,
        assigner: &Assigner,
        offset: usize,
        y: &Cell_,
        bits: u32,
    ) -> Result<(), Error> {
        if bits == 0 {
            return Err(Error::Synthesis);
        }
        self.q.enable(region, offset)?;
        let k = 1i64 << (bits - 1);
        region.assign_fixed(|| "k", self.k, offset, || Value::known(fe(k)))?;
        let v = y.value().map(|y| *y + fe(k));
        let v = assigner.advice(region, "y + 2^(b-1)", self.unit_b.v, offset, v)?;
        self.unit_b.check(region, assigner, offset, &v, bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::Edit;
    use crate::chips::testing::{failures, run_edited, without_top_limbs};

    fn bound(y: i64, bits: u32, edits: &[(&str, Edit)]) -> Vec<String> {
        failures(run_edited(vec![], edits, move |c, region, a| {
            let y = a.advice(region, "y", c.lane().bound.y, 0, Value::known(fe(y)))?;
            c.lane().bound.bound(region, a, 0, &y, bits)
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
            assert!(bound(y, bits, &[]).is_empty(), "{y} in {bits} bits");
        }
    }

    #[test]
    fn rejects_values_outside() {
        assert_eq!(bound(2048, 12, &[]), vec!["lookup unit B top limb"]);
        // -2049 + 2048 wraps to p - 1, whose low bytes do not add up to it.
        assert_eq!(
            without_top_limbs(bound(-2049, 12, &[])),
            vec!["gate range unit B: limbs"]
        );
        assert_eq!(
            bound(5, 12, &[("y + 2^(b-1)", Edit::Add(fe(1)))]),
            vec!["gate bound: v = y + 2^(b-1)"]
        );
    }

    /// Consistent forgeries of the limbs for values outside 8 signed bits:
    /// y = 172 (v = 300) written as 300 + 256·0, and y = -129 (v = -1)
    /// written as 255 + 256·(-1). The sums hold; the limb lookups refuse.
    #[test]
    fn rejects_limbs_that_encode_an_out_of_range_value() {
        let edits = [("l0", Edit::Set(fe(300))), ("l1", Edit::Set(fe(0)))];
        assert_eq!(
            bound(172, 8, &edits),
            vec!["lookup unit B limb 0", "lookup unit B top limb"]
        );
        let edits = [("l0", Edit::Set(fe(255))), ("l1", Edit::Set(fe(-1)))];
        assert_eq!(
            bound(-129, 8, &edits),
            vec!["lookup unit B limb 1", "lookup unit B top limb"]
        );
    }
}
