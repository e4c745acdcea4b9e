//! [`AddConfig`]: `c = a + b`, for residual connections.

use crate::assign::{Assigner, Cell_};
use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Selector};
use halo2_proofs::poly::Rotation;
use pasta_curves::Fp;

/// The add gate.
#[derive(Clone, Copy, Debug)]
pub struct AddConfig {
    /// First summand.
    pub a: Column<Advice>,
    /// Second summand.
    pub b: Column<Advice>,
    c: Column<Advice>,
    q: Selector,
}

impl AddConfig {
    /// Creates the gate `add`.
    pub fn configure(meta: &mut ConstraintSystem<Fp>, [a, b, c]: [Column<Advice>; 3]) -> Self {
        let q = meta.selector();
        // | a | b | c | q_add |      c = a + b
        meta.create_gate("add", |m| {
            let q = m.query_selector(q);
            let [a, b, c] = [a, b, c].map(|col| m.query_advice(col, Rotation::cur()));
            vec![("c = a + b", q * (c - (a + b)))]
        });
        AddConfig { a, b, c, q }
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
        self.q.enable(region, offset)?;
        let c: Value<Fp> = a.value().copied() + b.value().copied();
        assigner.advice(region, "c", self.c, offset, c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::Edit;
    use crate::chips::testing::{failures, run_edited};
    use crate::field::fe;

    fn add(a: i64, b: i64, edits: &[(&str, Edit)]) -> Vec<String> {
        failures(run_edited(vec![], edits, move |c, region, asg| {
            let x = asg.advice(region, "a", c.add.a, 0, Value::known(fe(a)))?;
            let y = asg.advice(region, "b", c.add.b, 0, Value::known(fe(b)))?;
            c.add.add(region, asg, 0, &x, &y).map(|_| ())
        }))
    }

    #[test]
    fn accepts_sums() {
        assert!(add(3, -5, &[]).is_empty());
        assert!(add(-1 << 40, 1 << 40, &[]).is_empty());
    }

    #[test]
    fn rejects_a_wrong_sum() {
        assert_eq!(
            add(3, -5, &[("c", Edit::Add(fe(1)))]),
            vec!["gate add: c = a + b"]
        );
    }
}
