//! [`RescaleConfig`]: rounding division by a constant, the one rounding rule
//! of [`zkinfer_quant::ops`], with its quotient's declared bound.
//!
//! `x + half = y·div + r` with `0 ≤ r < div`. For a rescale by `sh` bits,
//! `div = 2^sh` and `half = 2^(sh-1)` (ties towards +∞); average pooling
//! divides by the window size `n` with `half = ⌊n/2⌋`. Range unit A proves
//! `r < div` (any `div ≤ 256`, or a power of two up to 2^16).
//!
//! Over the integers, `r`'s range makes `y` unique. Over the field it does
//! not: for every `r' ∈ [0, div)` the gate also holds with the huge
//! non-integer `y' = (x + half - r')·div⁻¹`, and a later linear layer can
//! cancel the non-integer parts (wave 1's average-pool forgery). So the
//! chip never lays out a division without proving `y` an integer in its
//! declared range, on the same cell and the same row ([`QuotientCheck`]):
//! then `y·div = x + half - r` is an identity between small integers.

use crate::assign::{int, Assigner, Cell_};
use crate::chips::bound::BoundConfig;
use crate::chips::range::{RangeInstructions, RangeUnitConfig};
use crate::chips::relu::ReluConfig;
use crate::field::fe;
use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Fixed, Selector};
use halo2_proofs::poly::Rotation;
use pasta_curves::Fp;
use zkinfer_quant::ops;

/// The rounding-division gate, and the chips that bound its quotient.
#[derive(Clone, Copy, Debug)]
pub struct RescaleConfig {
    /// The dividend (an accumulator or a window sum).
    pub x: Column<Advice>,
    /// The rounded quotient.
    pub y: Column<Advice>,
    r: Column<Advice>,
    half: Column<Fixed>,
    div: Column<Fixed>,
    q: Selector,
    unit_a: RangeUnitConfig,
    bound: BoundConfig,
    relu: ReluConfig,
}

/// How to divide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Divisor {
    /// By `2^shift`, ties towards +∞ ([`ops::rescale`]).
    Shift(u32),
    /// By a window size `n` ([`ops::div_round`]).
    Window(i64),
}

/// How the quotient's declared bound is proven; there is no way to divide
/// without one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuotientCheck {
    /// `-2^(b-1) ≤ y < 2^(b-1)` by the bound gate.
    Bound(u32),
    /// `z = relu(y)`, whose sign check proves the same bound on `y`.
    Relu(u32),
}

/// A division's results.
#[derive(Clone, Debug)]
pub struct Quotient {
    /// The rounded quotient.
    pub y: Cell_,
    /// `relu(y)`, for [`QuotientCheck::Relu`].
    pub relu: Option<Cell_>,
}

impl Divisor {
    /// The divisor.
    pub fn value(self) -> i64 {
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

    /// Whether range unit A can prove the remainder below the divisor.
    pub fn is_supported(self) -> bool {
        self.value() >= 1 && RangeUnitConfig::checks(self.value() as u64)
    }

    /// The quotient, by the rules of [`ops`].
    fn quotient(self, x: i64) -> i64 {
        match self {
            Divisor::Shift(sh) => ops::rescale(x, sh),
            Divisor::Window(n) => ops::div_round(x, n),
        }
    }
}

impl RescaleConfig {
    /// Creates the gate `rescale`; `bound` and `relu` share its `y` column.
    pub fn configure(
        meta: &mut ConstraintSystem<Fp>,
        [x, y, r]: [Column<Advice>; 3],
        [half, div]: [Column<Fixed>; 2],
        unit_a: RangeUnitConfig,
        bound: BoundConfig,
        relu: ReluConfig,
    ) -> Self {
        let q = meta.selector();
        // | x | y | r = unit A's v | half | div | q_rescale |
        //   x + half - y·div - r = 0,   0 ≤ r < div (unit A),
        //   y bounded on this row (bound or relu, on unit B)
        meta.create_gate("rescale", |m| {
            let q = m.query_selector(q);
            let [x, y, r] = [x, y, r].map(|c| m.query_advice(c, Rotation::cur()));
            let [half, div] = [half, div].map(|c| m.query_fixed(c));
            vec![("x + half = y·div + r", q * (x + half - y * div - r))]
        });
        assert_eq!(unit_a.v, r, "unit A checks the remainder");
        assert_eq!(bound.y, y, "the bound gate checks the quotient's cell");
        assert_eq!(relu.y, y, "the relu gate checks the quotient's cell");
        RescaleConfig {
            x,
            y,
            r,
            half,
            div,
            q,
            unit_a,
            bound,
            relu,
        }
    }

    /// Divides the cell `x`, already placed at `(x, offset)`: assigns the
    /// quotient at `(y, offset)` and proves its bound on the same row.
    pub fn divide(
        &self,
        region: &mut Region<'_, Fp>,
        assigner: &Assigner,
        offset: usize,
        x: &Cell_,
        divisor: Divisor,
        check: QuotientCheck,
    ) -> Result<Quotient, Error> {
        if !divisor.is_supported() {
            return Err(Error::Synthesis);
        }
        self.q.enable(region, offset)?;
        let fixed = |region: &mut Region<'_, Fp>, name: &'static str, col, v: i64| {
            region.assign_fixed(|| name, col, offset, || Value::known(fe(v)))
        };
        fixed(region, "half", self.half, divisor.half())?;
        fixed(region, "div", self.div, divisor.value())?;
        // The hint is the quotient; the remainder is what the gate leaves.
        let y = int(x).map(|x| fe(divisor.quotient(x)));
        let y = assigner.advice(region, "y", self.y, offset, y)?;
        let r = x.value().copied() + Value::known(fe(divisor.half()))
            - y.value().map(|y| *y * fe(divisor.value()));
        let r = assigner.advice(region, "r", self.r, offset, r)?;
        self.unit_a
            .check_below(region, assigner, offset, &r, divisor.value() as u64)?;
        let relu = match check {
            QuotientCheck::Bound(bits) => {
                self.bound.bound(region, assigner, offset, &y, bits)?;
                None
            }
            QuotientCheck::Relu(bits) => Some(self.relu.relu(region, assigner, offset, &y, bits)?),
        };
        Ok(Quotient { y, relu })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::Edit;
    use crate::chips::testing::{failures, run_edited, without_top_limbs};
    use ff::Field;

    const DIVISORS: [Divisor; 7] = [
        Divisor::Shift(0),
        Divisor::Shift(3),
        Divisor::Shift(16),
        Divisor::Window(4),
        Divisor::Window(7),
        Divisor::Window(9),
        Divisor::Window(256),
    ];

    /// Places `x` and divides it, with `edits` to the named cells; the
    /// failures without incidental top-limb lookups ([`without_top_limbs`]).
    fn divide(
        x: i64,
        divisor: Divisor,
        check: QuotientCheck,
        edits: &[(&str, Edit)],
    ) -> Vec<String> {
        without_top_limbs(failures(run_edited(vec![], edits, move |c, region, a| {
            let x = a.advice(region, "x", c.lane().rescale.x, 0, Value::known(fe(x)))?;
            c.lane()
                .rescale
                .divide(region, a, 0, &x, divisor, check)
                .map(|_| ())
        })))
    }

    /// The honest quotient of `x`, and its remainder.
    fn honest(x: i64, divisor: Divisor) -> (i64, i64) {
        let y = divisor.quotient(x);
        (y, x + divisor.half() - y * divisor.value())
    }

    #[test]
    fn accepts_the_rounding_rules() {
        for x in [-20000, -1000, -13, -12, -4, -1, 0, 1, 4, 12, 13, 20000] {
            for d in DIVISORS {
                for check in [QuotientCheck::Bound(16), QuotientCheck::Relu(16)] {
                    assert!(
                        divide(x, d, check, &[]).is_empty(),
                        "{x} / {d:?}, {check:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn rejects_a_wrong_remainder() {
        let edit = [("r", Edit::Add(fe(1)))];
        assert_eq!(
            divide(13, Divisor::Shift(3), QuotientCheck::Bound(8), &edit),
            vec!["gate rescale: x + half = y·div + r"]
        );
    }

    /// The integer forgeries: a quotient one off, with the remainder that
    /// keeps the gate (r + div or r - div), fail unit A's bound `r < div`.
    #[test]
    fn rejects_a_quotient_off_by_one() {
        for d in DIVISORS.into_iter().filter(|&d| d != Divisor::Shift(0)) {
            for x in [-13, 0, 13, 1000] {
                let check = QuotientCheck::Bound(12);
                let down = failures(run_edited(
                    vec![],
                    &[("y", Edit::Add(-Fp::ONE))],
                    move |c, region, a| {
                        let x =
                            a.advice(region, "x", c.lane().rescale.x, 0, Value::known(fe(x)))?;
                        c.lane()
                            .rescale
                            .divide(region, a, 0, &x, d, check)
                            .map(|_| ())
                    },
                ));
                // r + div: beyond the limbs' 16 bits for div = 2^16.
                let caught = match d.value() {
                    65536 => "gate range unit A: limbs",
                    _ => "lookup unit A top limb",
                };
                assert_eq!(down, vec![caught], "{x} / {d:?} rounded down");
                let up = divide(x, d, check, &[("y", Edit::Add(Fp::ONE))]);
                assert_eq!(
                    up,
                    vec!["gate range unit A: limbs"],
                    "{x} / {d:?} rounded up"
                );
            }
        }
    }

    /// The field-level forgery of wave 1: `y' = y + d·div⁻¹` with the
    /// remainder `r - d`, both of which the division gate and unit A accept.
    /// Only the quotient's bound can refuse it, and does.
    #[test]
    fn rejects_a_non_integer_quotient() {
        for divisor in DIVISORS.into_iter().filter(|&d| d != Divisor::Shift(0)) {
            for x in [-13, 0, 13, 1000] {
                let (_, r) = honest(x, divisor);
                for d in [r, r - divisor.value() + 1].into_iter().filter(|&d| d != 0) {
                    let shift = fe(d) * fe(divisor.value()).invert().unwrap();
                    let edits = [("y", Edit::Add(shift))];
                    assert_eq!(
                        divide(x, divisor, QuotientCheck::Bound(12), &edits),
                        vec!["gate range unit B: limbs"],
                        "{x} / {divisor:?}, remainder {r} - {d}"
                    );
                    let relu = divide(x, divisor, QuotientCheck::Relu(12), &edits);
                    assert_eq!(
                        relu,
                        vec!["gate range unit B: limbs"],
                        "{x} / {divisor:?} + relu"
                    );
                    // The same forgery choosing the other sign for the ReLU.
                    let edits = [("y", Edit::Add(shift)), ("s", Edit::Set(Fp::ZERO))];
                    let relu = divide(x, divisor, QuotientCheck::Relu(12), &edits);
                    assert_eq!(
                        relu,
                        vec!["gate range unit B: limbs"],
                        "{x} / {divisor:?} + relu, s = 0"
                    );
                }
            }
        }
    }

    /// A quotient that is an integer but outside its declared bound.
    #[test]
    fn rejects_a_quotient_beyond_its_bound() {
        assert_eq!(
            divide(1 << 20, Divisor::Shift(3), QuotientCheck::Bound(16), &[]),
            vec!["gate range unit B: limbs"]
        );
        let beyond = |x, divisor, check| {
            failures(run_edited(vec![], &[], move |c, region, a| {
                let x = a.advice(region, "x", c.lane().rescale.x, 0, Value::known(fe(x)))?;
                c.lane()
                    .rescale
                    .divide(region, a, 0, &x, divisor, check)
                    .map(|_| ())
            }))
        };
        assert_eq!(
            beyond(2048 * 8, Divisor::Shift(3), QuotientCheck::Bound(12)),
            vec!["lookup unit B top limb"]
        );
        assert_eq!(
            beyond(-(2049 * 9), Divisor::Window(9), QuotientCheck::Relu(12)),
            vec!["lookup unit B top limb"]
        );
    }

    #[test]
    fn refuses_divisors_unit_a_cannot_bound() {
        assert!(!Divisor::Window(257).is_supported());
        assert!(!Divisor::Window(0).is_supported());
        assert!(!Divisor::Shift(17).is_supported());
        assert!(Divisor::Window(512).is_supported());
    }
}
