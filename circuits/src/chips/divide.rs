//! [`DivideConfig`]: rounding division by a divisor computed at run time —
//! a softmax's sum of exps ([`zkinfer_quant::Op::Divide`]) — proved like a
//! rescale: the quotient bounded, the remainder range-checked against
//! the divisor.
//!
//! `a·2^(shift+1) + s = 2s·y + r` with `0 ≤ r ≤ 2s − 1`, so `y =
//! round(a·2^shift / s)`, ties towards +∞ ([`zkinfer_quant::ops::divide`]).
//! Range unit A proves `r` in `[0, 2^B)` on the division's row and `t =
//! 2s − 1 − r` in `[0, 2^B)` on the next one (`B` the divisor's declared
//! width: `2s ≤ 2^B`). Together they prove `0 ≤ r < 2s`, and with it `s ≥
//! 1`: a divisor of zero or of the wrong sign leaves no remainder to
//! choose.
//!
//! Over the field the division gate alone also holds for a huge
//! non-integer `y' = (a·2^(shift+1) + s − r')·(2s)⁻¹` with another `r'`,
//! as the rescale gate does; so the quotient's declared bound is proved on
//! the division's row (the bound gate), and then every equation is an
//! identity between small integers.

use crate::assign::{int, Assigner, Cell_};
use crate::chips::bound::BoundConfig;
use crate::chips::range::{RangeInstructions, RangeUnitConfig};
use crate::field::fe;
use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector};
use halo2_proofs::poly::Rotation;
use pasta_curves::Fp;
use zkinfer_quant::ops;

/// The division gate of one element lane.
#[derive(Clone, Copy, Debug)]
pub struct DivideConfig {
    /// The dividend.
    pub a: Column<Advice>,
    /// The divisor.
    pub s: Column<Advice>,
    y: Column<Advice>,
    r: Column<Advice>,
    m: Column<Fixed>,
    q: Selector,
    unit_a: RangeUnitConfig,
    bound: BoundConfig,
}

/// Rows one division takes.
pub const DIVIDE_ROWS: usize = 2;

impl DivideConfig {
    /// Creates the gate `divide` over a lane's `[a, y, s]` columns, unit
    /// A (whose value column holds `r`, then `t`), the `m` fixed column
    /// (`2^(shift+1)`) and the bound gate on `y`.
    pub fn configure(
        meta: &mut ConstraintSystem<Fp>,
        [a, y, s]: [Column<Advice>; 3],
        m: Column<Fixed>,
        unit_a: RangeUnitConfig,
        bound: BoundConfig,
    ) -> Self {
        let r = unit_a.v;
        let q = meta.selector();
        // | a | y | s | r = unit A's v | m          | q_divide |
        // |   |   |   | t = unit A's v |            |          |
        //   a·m + s − 2·s·y − r = 0,   m = 2^(shift+1)
        //   t − (2s − 1 − r) = 0       (t on the next row)
        //   0 ≤ r < 2^B, 0 ≤ t < 2^B (unit A, both rows); y bounded on
        //   the first row (the bound gate, unit B)
        meta.create_gate("divide", |meta| {
            let q = meta.query_selector(q);
            let t = meta.query_advice(r, Rotation::next());
            let [a, y, s, r] = [a, y, s, r].map(|c| meta.query_advice(c, Rotation::cur()));
            let m = meta.query_fixed(m);
            let two = Expression::Constant(fe(2));
            vec![
                (
                    "a·m + s = 2·s·y + r",
                    q.clone() * (a * m + s.clone() - two.clone() * s.clone() * y - r.clone()),
                ),
                (
                    "t = 2·s − 1 − r",
                    q * (t - two * s + Expression::Constant(fe(1)) + r),
                ),
            ]
        });
        assert_eq!(bound.y, y, "the bound gate checks the quotient's cell");
        DivideConfig {
            a,
            s,
            y,
            r,
            m,
            q,
            unit_a,
            bound,
        }
    }

    /// Divides the cell `a` by the cell `s`, both placed at `offset` (in
    /// `a` and `s`): assigns the quotient, proves its `bits`-bit bound, and
    /// the remainder's range against `s` (declared `divisor_bits` wide) on
    /// this row and the next. Returns the quotient.
    #[allow(clippy::too_many_arguments)]
    pub fn divide(
        &self,
        region: &mut Region<'_, Fp>,
        assigner: &Assigner,
        offset: usize,
        (a, s): (&Cell_, &Cell_),
        shift: u32,
        bits: u32,
        divisor_bits: u32,
    ) -> Result<Cell_, Error> {
        let m = 1i64.checked_shl(shift + 1).ok_or(Error::Synthesis)?;
        self.q.enable(region, offset)?;
        region.assign_fixed(|| "m", self.m, offset, || Value::known(fe(m)))?;
        // The hint is the quotient; the remainders are what the gate leaves.
        let y = int(a)
            .zip(int(s))
            .map(|(a, s)| fe(if s >= 1 { ops::divide(a, s, shift) } else { 0 }));
        let y = assigner.advice(region, "y", self.y, offset, y)?;
        let (av, sv, yv) = (a.value().copied(), s.value().copied(), y.value().copied());
        let r = av * Value::known(fe(m)) + sv - sv * yv * Value::known(fe(2));
        let r = assigner.advice(region, "r", self.r, offset, r)?;
        let t = sv * Value::known(fe(2)) - Value::known(fe(1)) - r.value().copied();
        let t = assigner.advice(region, "t", self.r, offset + 1, t)?;
        self.unit_a
            .check(region, assigner, offset, &r, divisor_bits)?;
        self.unit_a
            .check(region, assigner, offset + 1, &t, divisor_bits)?;
        self.bound.bound(region, assigner, offset, &y, bits)?;
        Ok(y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::Edit;
    use crate::chips::testing::{failures, run_edited, without_top_limbs};

    /// Divides `a` by `s` (declared 12 bits wide) with `shift`, the
    /// quotient declared `bits` wide, with `edits` to the named cells.
    /// The failures without incidental top-limb lookups
    /// ([`without_top_limbs`]).
    fn divide(a: i64, s: i64, shift: u32, bits: u32, edits: &[(&str, Edit)]) -> Vec<String> {
        without_top_limbs(all_failures(a, s, shift, bits, edits))
    }

    fn all_failures(a: i64, s: i64, shift: u32, bits: u32, edits: &[(&str, Edit)]) -> Vec<String> {
        failures(run_edited(vec![], edits, move |c, region, asg| {
            let d = c.divide.first().expect("the harness configures the gate");
            let a = asg.advice(region, "a", d.a, 0, Value::known(fe(a)))?;
            let s = asg.advice(region, "s", d.s, 0, Value::known(fe(s)))?;
            d.divide(region, asg, 0, (&a, &s), shift, bits, 12)
                .map(|_| ())
        }))
    }

    #[test]
    fn accepts_rounded_quotients_of_either_sign() {
        for (a, s, shift) in [
            (5, 3, 0),
            (-7, 3, 0),
            (-3, 2, 0),
            (3, 2, 0),
            (0, 1, 4),
            (100, 7, 8),
            (-100, 7, 8),
            (2047, 2047, 8),
            (1, 2047, 15),
        ] {
            assert!(
                divide(a, s, shift, 16, &[]).is_empty(),
                "{a} / {s} << {shift}"
            );
        }
    }

    /// Every remainder check: one off either way is a remainder below 0 or
    /// at least 2s, the consistent forgeries a prover could try with a
    /// small integer quotient.
    #[test]
    fn rejects_a_quotient_one_off_either_way() {
        for delta in [1, -1] {
            let failed = divide(100, 7, 8, 16, &[("y", Edit::Add(fe(delta)))]);
            assert!(
                failed.iter().all(|f| f.starts_with("gate range unit A")),
                "{delta}: {failed:?}"
            );
            assert!(!failed.is_empty(), "{delta}");
        }
    }

    /// The forgery the rescale gate taught: another remainder r' and the
    /// non-integer quotient it implies, (a·m + s − r')·(2s)⁻¹. The division
    /// gate and both remainder checks hold; the bound on y refuses it.
    #[test]
    fn rejects_a_non_integer_quotient_with_a_valid_remainder() {
        use ff::Field;
        let (a, s, shift) = (100i64, 7i64, 8u32);
        let honest = ops::divide(a, s, shift);
        let r = (a << (shift + 1)) + s - 2 * s * honest;
        let other = r + 1;
        let numerator = fe((a << (shift + 1)) + s - other);
        let y = numerator * fe(2 * s).invert().unwrap();
        let failed = divide(a, s, shift, 16, &[("y", Edit::Set(y))]);
        assert!(!failed.is_empty());
        assert!(
            failed.iter().all(|f| f.contains("unit B")),
            "only the quotient's bound: {failed:?}"
        );
    }

    /// A zero or negative divisor leaves no remainder in [0, 2s): the
    /// second row's check fails whatever the quotient.
    #[test]
    fn rejects_a_divisor_below_one() {
        for s in [0, -1, -5] {
            let failed = divide(3, s, 2, 16, &[]);
            assert!(!failed.is_empty(), "s = {s}");
            assert!(
                failed.iter().all(|f| f.contains("unit A")),
                "{s}: {failed:?}"
            );
        }
    }

    /// An honest quotient beyond its declared width fails its bound (the
    /// top limb's lookup, in range unit B).
    #[test]
    fn rejects_a_quotient_beyond_its_bound() {
        let failed = all_failures(100, 1, 8, 12, &[]);
        assert_eq!(failed, vec!["lookup unit B top limb"]);
    }

    /// The remainders follow an edited quotient (a forger's consistent
    /// choice); an edited remainder alone breaks the gate.
    #[test]
    fn rejects_an_edited_remainder() {
        let failed = divide(100, 7, 8, 16, &[("r", Edit::Add(fe(1)))]);
        assert!(
            failed.contains(&"gate divide: a·m + s = 2·s·y + r".to_string()),
            "{failed:?}"
        );
        let failed = divide(100, 7, 8, 16, &[("t", Edit::Add(fe(1)))]);
        assert!(
            failed.contains(&"gate divide: t = 2·s − 1 − r".to_string()),
            "{failed:?}"
        );
    }
}
