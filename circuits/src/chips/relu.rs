//! [`ReluConfig`]: `z = max(y, 0)` for a `b`-bit `y`.
//!
//! A sign bit `s` with `z = s·y`, and `u = s ? y : -1 - y`, i.e.
//! `u = (2s - 1)·y + s - 1`, proven in `[0, 2^(b-1))` by unit B. A wrong
//! sign makes `u` negative, a huge field element that fails the range check;
//! the check also proves `y`'s own bound.

use crate::assign::{Assigner, Cell_};
use crate::chips::range::{RangeInstructions, RangeUnitConfig};
use crate::field::fe;
use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Selector};
use halo2_proofs::poly::Rotation;
use pasta_curves::Fp;
use zkinfer_quant::ops;

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

    /// ReLU of the `bits`-bit value at `(y, offset)`; returns `z`.
    pub fn relu(
        &self,
        region: &mut Region<'_, Fp>,
        assigner: &Assigner,
        offset: usize,
        y: Value<i64>,
        bits: u32,
    ) -> Result<Cell_, Error> {
        self.q.enable(region, offset)?;
        let s = y.map(|y| i64::from(y >= 0));
        let u = y.zip(s).map(|(y, s)| (2 * s - 1) * y + s - 1);
        let z = assigner.advice(region, "z", self.z, offset, y.map(ops::relu).map(fe))?;
        assigner.advice(region, "s", self.s, offset, s.map(fe))?;
        assigner.advice(region, "u", self.unit_b.v, offset, u.map(fe))?;
        self.unit_b.check(region, assigner, offset, u, bits - 1)?;
        Ok(z)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::testing::{failures, run, run_tampered};

    /// Places `y` and applies the chip; cells: y 0, z 1, s 2, u 3, limbs 4–6.
    fn relu(y: i64, bits: u32, tamper: Option<(usize, i64)>) -> Vec<String> {
        failures(run_tampered(vec![], tamper, move |c, region, a| {
            a.advice(region, "y", c.relu.y, 0, Value::known(fe(y)))?;
            c.relu.relu(region, a, 0, Value::known(y), bits).map(|_| ())
        }))
    }

    #[test]
    fn accepts_both_signs_up_to_the_bound() {
        for y in [-256, -255, -1, 0, 1, 200, 255] {
            assert!(relu(y, 9, None).is_empty(), "relu({y})");
        }
    }

    #[test]
    fn rejects_a_wrong_output() {
        assert_eq!(relu(7, 9, Some((1, 1))), vec!["gate relu: z = s·y"]);
        assert_eq!(relu(-7, 9, Some((1, -1))), vec!["gate relu: z = s·y"]);
    }

    #[test]
    fn rejects_inputs_beyond_the_bound() {
        // 256 does not fit 9 signed bits: u = 256 fails unit B's 8-bit check.
        assert_eq!(relu(256, 9, None), vec!["lookup unit B top limb"]);
        assert_eq!(relu(-257, 9, None), vec!["lookup unit B top limb"]);
    }

    /// A consistent forgery: claim y = -5 is positive (s = 1, z = -5).
    #[test]
    fn rejects_a_forged_sign() {
        let result = failures(run(|c, region, a| {
            let r = &c.relu;
            a.advice(region, "y", r.y, 0, Value::known(fe(-5)))?;
            r.q.enable(region, 0)?;
            a.advice(region, "z", r.z, 0, Value::known(fe(-5)))?;
            a.advice(region, "s", r.s, 0, Value::known(fe(1)))?;
            a.advice(region, "u", r.unit_b.v, 0, Value::known(fe(-5)))?;
            r.unit_b.check(region, a, 0, Value::known(-5), 8)
        }));
        assert_eq!(
            result,
            vec!["gate range unit B: limbs", "lookup unit B top limb"]
        );
    }
}
