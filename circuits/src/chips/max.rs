//! [`MaxConfig`]: `m = max(a, b)` for `b`-bit inputs, the step of max
//! pooling.
//!
//! A bit `s` with `m = s·a + (1 - s)·b` and `u = s ? a - b : b - a - 1`,
//! i.e. `u = (2s - 1)·(a - b) + s - 1`, proven in `[0, 2^b)` by unit B.

use crate::assign::{Assigner, Cell_};
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

    /// The larger of the `bits`-bit values placed at `(a, offset)` and
    /// `(b, offset)`.
    pub fn max(
        &self,
        region: &mut Region<'_, Fp>,
        assigner: &Assigner,
        offset: usize,
        a: Value<i64>,
        b: Value<i64>,
        bits: u32,
    ) -> Result<Cell_, Error> {
        self.q.enable(region, offset)?;
        let s = a.zip(b).map(|(a, b)| i64::from(a >= b));
        let u = a
            .zip(b)
            .zip(s)
            .map(|((a, b), s)| (2 * s - 1) * (a - b) + s - 1);
        let m = assigner.advice(
            region,
            "m",
            self.m,
            offset,
            a.zip(b).map(|(a, b)| fe(a.max(b))),
        )?;
        assigner.advice(region, "s", self.s, offset, s.map(fe))?;
        assigner.advice(region, "u", self.unit_b.v, offset, u.map(fe))?;
        self.unit_b.check(region, assigner, offset, u, bits)?;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::testing::{failures, run, run_tampered};

    /// Places a and b; cells: a 0, b 1, m 2, s 3, u 4, limbs 5–7.
    fn max(a: i64, b: i64, tamper: Option<(usize, i64)>) -> Vec<String> {
        failures(run_tampered(vec![], tamper, move |c, region, asg| {
            asg.advice(region, "a", c.max.a, 0, Value::known(fe(a)))?;
            asg.advice(region, "b", c.max.b, 0, Value::known(fe(b)))?;
            c.max
                .max(region, asg, 0, Value::known(a), Value::known(b), 8)
                .map(|_| ())
        }))
    }

    #[test]
    fn accepts_every_order() {
        for (a, b) in [(3, 5), (5, 3), (4, 4), (-128, 127), (127, -128), (-3, -3)] {
            assert!(max(a, b, None).is_empty(), "max({a}, {b})");
        }
    }

    #[test]
    fn rejects_a_wrong_maximum() {
        assert_eq!(
            max(3, 5, Some((2, 1))),
            vec!["gate max: m = s·a + (1 - s)·b"]
        );
        assert_eq!(
            max(3, 5, Some((2, -2))),
            vec!["gate max: m = s·a + (1 - s)·b"]
        );
    }

    /// A consistent forgery: claim max(3, 5) = 3 (s = 1, u = a - b = -2).
    #[test]
    fn rejects_the_smaller_input() {
        let result = failures(run(|c, region, asg| {
            let m = &c.max;
            asg.advice(region, "a", m.a, 0, Value::known(fe(3)))?;
            asg.advice(region, "b", m.b, 0, Value::known(fe(5)))?;
            m.q.enable(region, 0)?;
            asg.advice(region, "m", m.m, 0, Value::known(fe(3)))?;
            asg.advice(region, "s", m.s, 0, Value::known(fe(1)))?;
            asg.advice(region, "u", m.unit_b.v, 0, Value::known(fe(-2)))?;
            m.unit_b.check(region, asg, 0, Value::known(-2), 8)
        }));
        assert_eq!(
            result,
            vec!["gate range unit B: limbs", "lookup unit B top limb"]
        );
    }
}
