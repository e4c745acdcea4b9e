//! [`RescaleConfig`]: rounding division by a constant, the one rounding rule
//! of [`zkinfer_quant::ops`].
//!
//! `x + half = y·div + r` with `0 ≤ r < div`. For a rescale by `sh` bits,
//! `div = 2^sh` and `half = 2^(sh-1)` (ties towards +∞), and unit A proves
//! `r < 2^sh`. Average pooling divides by the window size `n`: `half =
//! ⌊n/2⌋`, and when `n` is not a power of two unit B also proves
//! `n - 1 - r ≥ 0`. Given `r`'s range, `y` is the unique integer quotient.

use crate::assign::{Assigner, Cell_};
use crate::chips::range::{RangeInstructions, RangeUnitConfig};
use crate::field::fe;
use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Fixed, Selector};
use halo2_proofs::poly::Rotation;
use pasta_curves::Fp;
use zkinfer_quant::ops;

/// The rounding-division gate and the range units it uses.
#[derive(Clone, Copy, Debug)]
pub struct RescaleConfig {
    /// The dividend (an accumulator or a window sum).
    pub x: Column<Advice>,
    /// The rounded quotient.
    pub y: Column<Advice>,
    r: Column<Advice>,
    half: Column<Fixed>,
    div: Column<Fixed>,
    k: Column<Fixed>,
    q: Selector,
    q_rem: Selector,
    unit_a: RangeUnitConfig,
    unit_b: RangeUnitConfig,
}

/// How to divide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Divisor {
    /// By `2^shift`, ties towards +∞ ([`ops::rescale`]).
    Shift(u32),
    /// By a window size `n` ([`ops::div_round`]).
    Window(i64),
}

impl Divisor {
    fn value(self) -> i64 {
        match self {
            Divisor::Shift(sh) => 1 << sh,
            Divisor::Window(n) => n,
        }
    }

    fn half(self) -> i64 {
        match self {
            Divisor::Shift(0) => 0,
            Divisor::Shift(sh) => 1 << (sh - 1),
            Divisor::Window(n) => n / 2,
        }
    }

    /// Bits of unit A's range check on the remainder.
    pub fn remainder_bits(self) -> u32 {
        match self {
            Divisor::Shift(sh) => sh,
            Divisor::Window(n) => 64 - (n as u64 - 1).leading_zeros(),
        }
    }

    /// Whether `r < div` needs the second check (non-powers of two).
    fn needs_upper_bound(self) -> bool {
        matches!(self, Divisor::Window(n) if !(n as u64).is_power_of_two())
    }

    /// The quotient and remainder, by the rules of [`ops`].
    fn divide(self, x: i64) -> (i64, i64) {
        match self {
            Divisor::Shift(sh) => (ops::rescale(x, sh), ops::rescale_remainder(x, sh)),
            Divisor::Window(n) => {
                let y = ops::div_round(x, n);
                (y, x + n / 2 - y * n)
            }
        }
    }
}

impl RescaleConfig {
    /// Creates the gates `rescale` and `remainder bound`.
    #[allow(clippy::too_many_arguments)]
    pub fn configure(
        meta: &mut ConstraintSystem<Fp>,
        [x, y, r]: [Column<Advice>; 3],
        [half, div, k]: [Column<Fixed>; 3],
        unit_a: RangeUnitConfig,
        unit_b: RangeUnitConfig,
    ) -> Self {
        let q = meta.selector();
        let q_rem = meta.selector();
        // | x | y | r = unit A's v | half | div | q_rescale |
        //   x + half - y·div - r = 0,   0 ≤ r < 2^bits (unit A)
        meta.create_gate("rescale", |m| {
            let q = m.query_selector(q);
            let [x, y, r] = [x, y, r].map(|c| m.query_advice(c, Rotation::cur()));
            let [half, div] = [half, div].map(|c| m.query_fixed(c));
            vec![("x + half = y·div + r", q * (x + half - y * div - r))]
        });
        // | r | unit B's v | k = div - 1 | q_rem |
        //   v = k - r ≥ 0 (unit B): r < div for divisors that are not powers of two
        meta.create_gate("remainder bound", |m| {
            let q = m.query_selector(q_rem);
            let r = m.query_advice(r, Rotation::cur());
            let v = m.query_advice(unit_b.v, Rotation::cur());
            let k = m.query_fixed(k);
            vec![("v = div - 1 - r", q * (v - (k - r)))]
        });
        assert_eq!(unit_a.v, r, "unit A checks the remainder");
        RescaleConfig {
            x,
            y,
            r,
            half,
            div,
            k,
            q,
            q_rem,
            unit_a,
            unit_b,
        }
    }

    /// Divides the value already placed at `(x, offset)`; assigns the
    /// quotient at `(y, offset)` and returns it.
    pub fn divide(
        &self,
        region: &mut Region<'_, Fp>,
        assigner: &Assigner,
        offset: usize,
        x: Value<i64>,
        divisor: Divisor,
    ) -> Result<Cell_, Error> {
        self.q.enable(region, offset)?;
        let fixed = |region: &mut Region<'_, Fp>, name: &'static str, col, v: i64| {
            region.assign_fixed(|| name, col, offset, || Value::known(fe(v)))
        };
        fixed(region, "half", self.half, divisor.half())?;
        fixed(region, "div", self.div, divisor.value())?;
        let qr = x.map(|x| divisor.divide(x));
        let (y, r) = (qr.map(|(y, _)| y), qr.map(|(_, r)| r));
        let y = assigner.advice(region, "y", self.y, offset, y.map(fe))?;
        assigner.advice(region, "r", self.r, offset, r.map(fe))?;
        self.unit_a
            .check(region, assigner, offset, r, divisor.remainder_bits())?;
        if divisor.needs_upper_bound() {
            self.q_rem.enable(region, offset)?;
            let k = divisor.value() - 1;
            fixed(region, "k", self.k, k)?;
            let v = r.map(|r| k - r);
            assigner.advice(region, "div - 1 - r", self.unit_b.v, offset, v.map(fe))?;
            self.unit_b
                .check(region, assigner, offset, v, divisor.remainder_bits())?;
        }
        Ok(y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::testing::{failures, run, run_tampered};

    /// Places x and divides; cells: x 0, y 1, r 2, unit A limbs 3–5, then
    /// for windows that are not powers of two: v 6, limbs 7–9.
    fn divide(x: i64, divisor: Divisor, tamper: Option<(usize, i64)>) -> Vec<String> {
        failures(run_tampered(vec![], tamper, move |c, region, a| {
            a.advice(region, "x", c.rescale.x, 0, Value::known(fe(x)))?;
            c.rescale
                .divide(region, a, 0, Value::known(x), divisor)
                .map(|_| ())
        }))
    }

    #[test]
    fn accepts_the_rounding_rules() {
        for x in [-1000, -13, -12, -4, -1, 0, 1, 4, 12, 13, 1 << 30] {
            for d in [
                Divisor::Shift(0),
                Divisor::Shift(3),
                Divisor::Shift(16),
                Divisor::Window(4),
                Divisor::Window(9),
            ] {
                assert!(divide(x, d, None).is_empty(), "{x} / {d:?}");
            }
        }
    }

    #[test]
    fn rejects_a_wrong_quotient_or_remainder() {
        assert_eq!(
            divide(13, Divisor::Shift(3), Some((1, 1))),
            vec!["gate rescale: x + half = y·div + r"]
        );
        assert_eq!(
            divide(13, Divisor::Shift(3), Some((2, 1))),
            vec![
                "gate range unit A: limbs",
                "gate rescale: x + half = y·div + r"
            ]
        );
    }

    /// Consistent forgeries: round 13/8 down (y = 1, r = 9 ≥ 8), and 14/9
    /// down (y = 1, r = 9, which fits 4 bits but is not below 9).
    #[test]
    fn rejects_a_remainder_as_large_as_the_divisor() {
        let forge = |x: i64, divisor: Divisor, y: i64| {
            failures(run(move |c, region, a| {
                let rs = &c.rescale;
                a.advice(region, "x", rs.x, 0, Value::known(fe(x)))?;
                rs.q.enable(region, 0)?;
                region.assign_fixed(|| "half", rs.half, 0, || Value::known(fe(divisor.half())))?;
                region.assign_fixed(|| "div", rs.div, 0, || Value::known(fe(divisor.value())))?;
                let r = x + divisor.half() - y * divisor.value();
                a.advice(region, "y", rs.y, 0, Value::known(fe(y)))?;
                a.advice(region, "r", rs.r, 0, Value::known(fe(r)))?;
                rs.unit_a
                    .check(region, a, 0, Value::known(r), divisor.remainder_bits())?;
                if divisor.needs_upper_bound() {
                    rs.q_rem.enable(region, 0)?;
                    let k = divisor.value() - 1;
                    region.assign_fixed(|| "k", rs.k, 0, || Value::known(fe(k)))?;
                    a.advice(region, "v", rs.unit_b.v, 0, Value::known(fe(k - r)))?;
                    rs.unit_b
                        .check(region, a, 0, Value::known(k - r), divisor.remainder_bits())?;
                }
                Ok(())
            }))
        };
        assert!(
            forge(13, Divisor::Shift(3), 2).is_empty(),
            "the honest quotient"
        );
        assert_eq!(
            forge(13, Divisor::Shift(3), 1),
            vec!["lookup unit A top limb"]
        );
        assert!(
            forge(14, Divisor::Window(9), 2).is_empty(),
            "the honest quotient"
        );
        assert_eq!(
            forge(14, Divisor::Window(9), 1),
            vec!["gate range unit B: limbs", "lookup unit B top limb"]
        );
    }
}
