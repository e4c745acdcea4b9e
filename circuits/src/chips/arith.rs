//! [`ArithConfig`]: `c = a + b` (residual connections) and `c = a · b`
//! (products of two activations: gates, GELU and SiLU written out), one
//! gate on three columns, the operation chosen per row by a fixed `m`.
//!
//! One selector for both: halo2 packs selectors into fixed columns, and a
//! second one, measured, cost the contract no gas but 488 bytes of module
//! (which sits just under wasmd's upload limit). `m` shares its fixed
//! column with the rescale gate's divisor; the two gates are never on the
//! same row, and an arith region assigns `m` on every row it uses, so the
//! floor planner keeps other regions off those cells.
//!
//! Neither gate checks a range: the output is determined by two proven
//! integers, so it is an integer too, of magnitude at most the sum or the
//! product of theirs — far below the field's size, so nothing wraps
//! ([`crate::bounds`]). A rescale usually follows a product, and
//! range-checks the quotient it writes.

use crate::assign::{Assigner, Cell_};
use crate::field::fe;
use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Fixed, Selector};
use halo2_proofs::poly::Rotation;
use pasta_curves::Fp;

/// The arith gate.
#[derive(Clone, Copy, Debug)]
pub struct ArithConfig {
    /// First operand.
    pub a: Column<Advice>,
    /// Second operand.
    pub b: Column<Advice>,
    c: Column<Advice>,
    /// 0: add, 1: multiply.
    m: Column<Fixed>,
    q: Selector,
}

impl ArithConfig {
    /// Creates the gate `arith`.
    pub fn configure(
        meta: &mut ConstraintSystem<Fp>,
        [a, b, c]: [Column<Advice>; 3],
        m: Column<Fixed>,
    ) -> Self {
        let q = meta.selector();
        // | a | b | c | m | q_arith |      c = a + b   (m = 0)
        //                                 c = a · b   (m = 1)
        //   c = a + b + m·(a·b − a − b)
        meta.create_gate("arith", |meta| {
            let q = meta.query_selector(q);
            let [a, b, c] = [a, b, c].map(|col| meta.query_advice(col, Rotation::cur()));
            let m = meta.query_fixed(m);
            let sum = a.clone() + b.clone();
            vec![(
                "c = a + b or a · b",
                q * (c - sum.clone() - m * (a * b - sum)),
            )]
        });
        ArithConfig { a, b, c, m, q }
    }

    /// The sum of the values placed at `(a, offset)` and `(b, offset)`.
    pub fn add(
        &self,
        region: &mut Region<'_, Fp>,
        assigner: &Assigner,
        offset: usize,
        a: &Cell_,
        b: &Cell_,
    ) -> Result<Cell_, Error> {
        let c = a.value().copied() + b.value().copied();
        self.row(region, assigner, offset, 0, c)
    }

    /// The product of the values placed at `(a, offset)` and `(b, offset)`.
    pub fn mul(
        &self,
        region: &mut Region<'_, Fp>,
        assigner: &Assigner,
        offset: usize,
        a: &Cell_,
        b: &Cell_,
    ) -> Result<Cell_, Error> {
        let c = a.value().copied() * b.value().copied();
        self.row(region, assigner, offset, 1, c)
    }

    fn row(
        &self,
        region: &mut Region<'_, Fp>,
        assigner: &Assigner,
        offset: usize,
        m: i64,
        c: Value<Fp>,
    ) -> Result<Cell_, Error> {
        self.q.enable(region, offset)?;
        region.assign_fixed(|| "m", self.m, offset, || Value::known(fe(m)))?;
        assigner.advice(region, "c", self.c, offset, c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::Edit;
    use crate::chips::testing::{failures, run_edited};

    /// Runs one add (`mul = false`) or mul row on `a` and `b`.
    fn arith(mul: bool, a: i64, b: i64, edits: &[(&str, Edit)]) -> Vec<String> {
        failures(run_edited(vec![], edits, move |c, region, asg| {
            let x = asg.advice(region, "a", c.lane().arith.a, 0, Value::known(fe(a)))?;
            let y = asg.advice(region, "b", c.lane().arith.b, 0, Value::known(fe(b)))?;
            let op = if mul {
                ArithConfig::mul
            } else {
                ArithConfig::add
            };
            op(&c.lane().arith, region, asg, 0, &x, &y).map(|_| ())
        }))
    }

    #[test]
    fn accepts_sums() {
        assert!(arith(false, 3, -5, &[]).is_empty());
        assert!(arith(false, -1 << 40, 1 << 40, &[]).is_empty());
    }

    #[test]
    fn rejects_a_wrong_sum() {
        assert_eq!(
            arith(false, 3, -5, &[("c", Edit::Add(fe(1)))]),
            vec!["gate arith: c = a + b or a · b"]
        );
    }

    /// The forger's consistent choice: a product one divisor off, with the
    /// rescale after it (which reads the product through a copy) computed
    /// from the forged value — every other gate holds, the arith gate
    /// alone refuses.
    #[test]
    fn rejects_a_forged_product_the_rescale_after_it_agrees_with() {
        use crate::chips::rescale::{Divisor, QuotientCheck};
        let run = |edits: &[(&str, Edit)]| {
            failures(run_edited(vec![], edits, move |c, region, asg| {
                let x = asg.advice(region, "a", c.lane().arith.a, 0, Value::known(fe(-7)))?;
                let y = asg.advice(region, "b", c.lane().arith.b, 0, Value::known(fe(45)))?;
                let product = c.lane().arith.mul(region, asg, 0, &x, &y)?;
                let placed = asg.copy(region, "x", &product, c.lane().rescale.x, 1)?;
                let check = QuotientCheck::Bound(12);
                c.lane()
                    .rescale
                    .divide(region, asg, 1, &placed, Divisor::Shift(4), check)
                    .map(|_| ())
            }))
        };
        assert!(run(&[]).is_empty());
        assert_eq!(
            run(&[("c", Edit::Add(fe(16)))]),
            vec!["gate arith: c = a + b or a · b"]
        );
    }

    #[test]
    fn rejects_a_product_on_an_add_row() {
        assert_eq!(
            arith(false, 3, -5, &[("c", Edit::Set(fe(-15)))]),
            vec!["gate arith: c = a + b or a · b"]
        );
    }

    #[test]
    fn accepts_products_of_any_sign() {
        for (a, b) in [(3, -5), (-7, -9), (0, 12), (-(1 << 26), 1 << 26)] {
            assert!(arith(true, a, b, &[]).is_empty(), "{a} · {b}");
        }
    }

    #[test]
    fn rejects_a_wrong_product_and_a_sum_in_its_place() {
        assert_eq!(
            arith(true, 3, -5, &[("c", Edit::Add(fe(1)))]),
            vec!["gate arith: c = a + b or a · b"]
        );
        // The sum, which the same gate accepts on an add row.
        assert_eq!(
            arith(true, 3, -5, &[("c", Edit::Set(fe(-2)))]),
            vec!["gate arith: c = a + b or a · b"]
        );
    }
}
