//! [`MaxConfig`]: `m = max(a, b)` for `b`-bit inputs, the step of max
//! pooling.
//!
//! A bit `s` with `m = s·a + (1 - s)·b` and `u = s ? a - b : b - a - 1`,
//! i.e. `u = (2s - 1)·(a - b) + s - 1`, proven in `[0, 2^b)` by unit B.

use crate::assign::{int, Assigner, Cell_};
use crate::chips::range::{RangeInstructions, RangeUnitConfig};
use crate::field::fe;
use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Selector};
use halo2_proofs::poly::Rotation;
use pasta_curves::Fp;

/// The max gate.
#[derive(Clone, Copy, Debug)]
pub struct MaxConfig {
    /// First input.
    pub a: Column<Advice>,
    /// Second input.
    pub b: Column<Advice>,
    m: Column<Advice>,
    s: Column<Advice>,
    q: Selector,
    unit_b: RangeUnitConfig,
}

impl MaxConfig {
    /// Creates the gate `max`.
    pub fn configure(
        meta: &mut ConstraintSystem<Fp>,
        [a, b, m, s]: [Column<Advice>; 4],
        unit_b: RangeUnitConfig,
    ) -> Self {
        let q = meta.selector();
        // | a | b | m | s | unit B's v | q_max |
        //   s·(1 - s) = 0,  m = s·a + (1 - s)·b,
        //   v = (2s - 1)·(a - b) + s - 1,  0 ≤ v < 2^b
        meta.create_gate("max", |m_| {
            let q = m_.query_selector(q);
            let [a, b, m, s, v] =
                [a, b, m, s, unit_b.v].map(|c| m_.query_advice(c, Rotation::cur()));
            let one = Expression::Constant(Fp::one());
            vec![
                (
                    "sign is a bit",
                    q.clone() * s.clone() * (one.clone() - s.clone()),
                ),
                (
                    "m = s·a + (1 - s)·b",
                    q.clone()
                        * (m - (s.clone() * a.clone() + (one.clone() - s.clone()) * b.clone())),
                ),
                (
                    "v = (2s - 1)·(a - b) + s - 1",
                    q * (v - ((s.clone() + s.clone() - one.clone()) * (a - b) + s - one)),
                ),
            ]
        });
        MaxConfig {
            a,
            b,
            m,
            s,
            q,
            unit_b,
        }
    }

    /// The larger of the `bits`-bit cells `a` and `b`, placed at
    /// `(a, offset)` and `(b, offset)`.
    pub fn max(
        &self,
        region: &mut Region<'_, Fp>,
        assigner: &Assigner,
        offset: usize,
        a: &Cell_,
        b: &Cell_,
        bits: u32,
    ) -> Result<Cell_, Error> {
        self.q.enable(region, offset)?;
        // The hint is which input is larger; m and u follow from it.
        let s = int(a).zip(int(b)).map(|(a, b)| fe(i64::from(a >= b)));
        let s = assigner.advice(region, "s", self.s, offset, s)?;
        let (a, b, s) = (a.value().copied(), b.value().copied(), s.value().copied());
        let one = Value::known(Fp::one());
        let m = s * a + (one - s) * b;
        let m = assigner.advice(region, "m", self.m, offset, m)?;
        let u = (s + s - one) * (a - b) + s - one;
        let u = assigner.advice(region, "u", self.unit_b.v, offset, u)?;
        self.unit_b.check(region, assigner, offset, &u, bits)?;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::Edit;
    use crate::chips::testing::{failures, run_edited, without_top_limbs};
    use crate::field::fe;
    use ff::Field;

    fn max(a: i64, b: i64, edits: &[(&str, Edit)]) -> Vec<String> {
        failures(run_edited(vec![], edits, move |c, region, asg| {
            let a = asg.advice(region, "a", c.lane().max.a, 0, Value::known(fe(a)))?;
            let b = asg.advice(region, "b", c.lane().max.b, 0, Value::known(fe(b)))?;
            c.lane().max.max(region, asg, 0, &a, &b, 8).map(|_| ())
        }))
    }

    #[test]
    fn accepts_every_order() {
        for (a, b) in [(3, 5), (5, 3), (4, 4), (-128, 127), (127, -128), (-3, -3)] {
            assert!(max(a, b, &[]).is_empty(), "max({a}, {b})");
        }
    }

    #[test]
    fn rejects_a_wrong_maximum() {
        for delta in [1, -2] {
            assert_eq!(
                max(3, 5, &[("m", Edit::Add(fe(delta)))]),
                vec!["gate max: m = s·a + (1 - s)·b"]
            );
        }
    }

    /// Consistent forgeries: the smaller input claimed as the maximum (m
    /// and u follow the forged sign; u wraps to p - 2 or p - 1), and a sign
    /// that is not a bit.
    #[test]
    fn rejects_the_smaller_input() {
        let forge = |a, b, s| without_top_limbs(max(a, b, &[("s", Edit::Set(s))]));
        assert_eq!(forge(3, 5, Fp::one()), vec!["gate range unit B: limbs"]);
        assert_eq!(forge(5, 3, Fp::zero()), vec!["gate range unit B: limbs"]);
        assert_eq!(
            forge(-128, 127, Fp::one()),
            vec!["gate range unit B: limbs"]
        );
        let half = fe(2).invert().unwrap();
        assert_eq!(
            forge(4, 4, half),
            vec!["gate max: sign is a bit", "gate range unit B: limbs"]
        );
    }
}
