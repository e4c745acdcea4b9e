//! [`ReluConfig`]: `z = max(y, 0)` for a `b`-bit `y`.
//!
//! A sign bit `s` with `z = s·y`, and `u = s ? y : -1 - y`, i.e.
//! `u = (2s - 1)·y + s - 1`, proven in `[0, 2^(b-1))` by unit B. A wrong
//! sign makes `u` negative, a huge field element that fails the range check;
//! the check also proves `y`'s own bound.

use crate::assign::{int, Assigner, Cell_};
use crate::chips::range::{RangeInstructions, RangeUnitConfig};
use crate::field::fe;
use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Selector};
use halo2_proofs::poly::Rotation;
use pasta_curves::Fp;

/// The ReLU gate.
#[derive(Clone, Copy, Debug)]
pub struct ReluConfig {
    /// The input.
    pub y: Column<Advice>,
    z: Column<Advice>,
    s: Column<Advice>,
    q: Selector,
    unit_b: RangeUnitConfig,
}

impl ReluConfig {
    /// Creates the gate `relu`.
    pub fn configure(
        meta: &mut ConstraintSystem<Fp>,
        [y, z, s]: [Column<Advice>; 3],
        unit_b: RangeUnitConfig,
    ) -> Self {
        let q = meta.selector();
        // | y | z | s | unit B's v | q_relu |
        //   s·(1 - s) = 0,  z = s·y,  v = (2s - 1)·y + s - 1,  0 ≤ v < 2^(b-1)
        meta.create_gate("relu", |m| {
            let q = m.query_selector(q);
            let [y, z, s, v] = [y, z, s, unit_b.v].map(|c| m.query_advice(c, Rotation::cur()));
            let one = Expression::Constant(Fp::one());
            vec![
                (
                    "sign is a bit",
                    q.clone() * s.clone() * (one.clone() - s.clone()),
                ),
                ("z = s·y", q.clone() * (z - s.clone() * y.clone())),
                (
                    "v = (2s - 1)·y + s - 1",
                    q * (v - ((s.clone() + s.clone() - one.clone()) * y + s - one)),
                ),
            ]
        });
        ReluConfig { y, z, s, q, unit_b }
    }

    /// ReLU of the `bits`-bit cell `y`, placed at `(y, offset)`
    /// (`1 ≤ bits ≤ 17`); returns `z`.
    pub fn relu(
        &self,
        region: &mut Region<'_, Fp>,
        assigner: &Assigner,
        offset: usize,
        y: &Cell_,
        bits: u32,
    ) -> Result<Cell_, Error> {
        if bits == 0 {
            return Err(Error::Synthesis);
        }
        self.q.enable(region, offset)?;
        // The hint is the sign; z and u follow from it.
        let s = int(y).map(|y| fe(i64::from(y >= 0)));
        let s = assigner.advice(region, "s", self.s, offset, s)?;
        let (y, s) = (y.value().copied(), s.value().copied());
        let one = Value::known(Fp::one());
        let z = assigner.advice(region, "z", self.z, offset, s * y)?;
        let u = (s + s - one) * y + s - one;
        let u = assigner.advice(region, "u", self.unit_b.v, offset, u)?;
        self.unit_b.check(region, assigner, offset, &u, bits - 1)?;
        Ok(z)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::Edit;
    use crate::chips::testing::{failures, run_edited, without_top_limbs};

    fn relu(y: i64, bits: u32, edits: &[(&str, Edit)]) -> Vec<String> {
        failures(run_edited(vec![], edits, move |c, region, a| {
            let y = a.advice(region, "y", c.lane().relu.y, 0, Value::known(fe(y)))?;
            c.lane().relu.relu(region, a, 0, &y, bits).map(|_| ())
        }))
    }

    #[test]
    fn accepts_both_signs_up_to_the_bound() {
        for y in [-256, -255, -1, 0, 1, 200, 255] {
            assert!(relu(y, 9, &[]).is_empty(), "relu({y})");
        }
    }

    #[test]
    fn rejects_a_wrong_output() {
        assert_eq!(
            relu(7, 9, &[("z", Edit::Add(fe(1)))]),
            vec!["gate relu: z = s·y"]
        );
        assert_eq!(
            relu(-7, 9, &[("z", Edit::Add(fe(-1)))]),
            vec!["gate relu: z = s·y"]
        );
    }

    #[test]
    fn rejects_inputs_beyond_the_bound() {
        // 256 does not fit 9 signed bits: u = 256 fails unit B's 8-bit check.
        assert_eq!(relu(256, 9, &[]), vec!["lookup unit B top limb"]);
        assert_eq!(relu(-257, 9, &[]), vec!["lookup unit B top limb"]);
    }

    /// Consistent forgeries of the sign: z and u follow the forged sign, so
    /// the gate holds and u is a wrapped negative (p - 5, p - 7), which the
    /// range check refuses.
    #[test]
    fn rejects_a_forged_sign() {
        let forge = |y, s| without_top_limbs(relu(y, 9, &[("s", Edit::Set(s))]));
        assert_eq!(forge(-5, Fp::one()), vec!["gate range unit B: limbs"]);
        assert_eq!(forge(6, Fp::zero()), vec!["gate range unit B: limbs"]);
        // A sign that is not a bit (u = 3·6 + 1 is in range).
        assert_eq!(forge(6, fe(2)), vec!["gate relu: sign is a bit"]);
    }
}
