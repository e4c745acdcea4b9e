//! [`ArithConfig`]: `c = a + b` (residual connections) and `c = a · b`
//! (products of two activations: gates, GELU and SiLU written out), on
//! the same three columns with a selector each.
//!
//! Neither gate checks a range: the output is determined by two proven
//! integers, so it is an integer too, of magnitude at most the sum or the
//! product of theirs — far below the field's size, so nothing wraps
//! ([`crate::bounds`]). A rescale usually follows a product, and
//! range-checks the quotient it writes.

use crate::assign::{Assigner, Cell_};
use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Selector};
use halo2_proofs::poly::Rotation;
use pasta_curves::Fp;

/// The add and mul gates.
#[derive(Clone, Copy, Debug)]
pub struct ArithConfig {
    /// First operand.
    pub a: Column<Advice>,
    /// Second operand.
    pub b: Column<Advice>,
    c: Column<Advice>,
    q_add: Selector,
    q_mul: Selector,
}

impl ArithConfig {
    /// Creates the gates `add` and `mul`.
    pub fn configure(meta: &mut ConstraintSystem<Fp>, [a, b, c]: [Column<Advice>; 3]) -> Self {
        let q_add = meta.selector();
        // | a | b | c | q_add |      c = a + b
        meta.create_gate("add", |m| {
            let q = m.query_selector(q_add);
            let [a, b, c] = [a, b, c].map(|col| m.query_advice(col, Rotation::cur()));
            vec![("c = a + b", q * (c - (a + b)))]
        });
        let q_mul = meta.selector();
        // | a | b | c | q_mul |      c = a · b
        meta.create_gate("mul", |m| {
            let q = m.query_selector(q_mul);
            let [a, b, c] = [a, b, c].map(|col| m.query_advice(col, Rotation::cur()));
            vec![("c = a · b", q * (c - a * b))]
        });
        ArithConfig {
            a,
            b,
            c,
            q_add,
            q_mul,
        }
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
        self.q_add.enable(region, offset)?;
        let c: Value<Fp> = a.value().copied() + b.value().copied();
        assigner.advice(region, "c", self.c, offset, c)
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
        self.q_mul.enable(region, offset)?;
        let c: Value<Fp> = a.value().copied() * b.value().copied();
        assigner.advice(region, "c", self.c, offset, c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::Edit;
    use crate::chips::testing::{failures, run_edited};
    use crate::field::fe;

    /// Runs one add (`mul = false`) or mul row on `a` and `b`.
    fn arith(mul: bool, a: i64, b: i64, edits: &[(&str, Edit)]) -> Vec<String> {
        failures(run_edited(vec![], edits, move |c, region, asg| {
            let x = asg.advice(region, "a", c.arith.a, 0, Value::known(fe(a)))?;
            let y = asg.advice(region, "b", c.arith.b, 0, Value::known(fe(b)))?;
            let op = if mul { ArithConfig::mul } else { ArithConfig::add };
            op(&c.arith, region, asg, 0, &x, &y).map(|_| ())
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
            vec!["gate add: c = a + b"]
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
            vec!["gate mul: c = a · b"]
        );
        // The sum is what the neighbouring gate would accept.
        assert_eq!(
            arith(true, 3, -5, &[("c", Edit::Set(fe(-2)))]),
            vec!["gate mul: c = a · b"]
        );
    }
}
