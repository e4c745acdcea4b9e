//! [`PairDotConfig`]: dot products whose two operands are both advice
//! cells — the products of two activations a transformer's attention
//! computes (`Q·Kᵀ`, `weights·V`; [`zkinfer_quant::Op::MatMul`]).
//!
//! The dot gate's weights are fixed columns (or copies of committed
//! weights), one set per accumulator; here each row pairs the first half
//! of the dot rows' input lanes with the second half, so the gate needs no
//! column of its own: it reuses the dot block's input lanes, its first
//! accumulator and its `chain` column, and adds one selector. A row holds
//! `I / 2` products (6 in both profiles); a product over `k` terms takes
//! `ceil(k / (I / 2))` rows.
//!
//! Nothing here is a hint: every operand is a copy of a cell proven to be
//! a bounded integer, and each accumulator is their sum of products, so it
//! is an integer within the output's declared bound (`k · 2^(a−1) ·
//! 2^(b−1)` < 2^53, far below the field's size: nothing wraps).

use crate::assign::{Assigner, Cell_};
use crate::field::fe;
use crate::step::pair_rows;
use halo2_proofs::circuit::{Layouter, Region, Value};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Fixed, Selector};
use halo2_proofs::poly::Rotation;
use pasta_curves::Fp;

/// The pair-dot gate.
#[derive(Clone, Debug)]
pub struct PairDotConfig {
    a: Vec<Column<Advice>>,
    b: Vec<Column<Advice>>,
    acc: Column<Advice>,
    chain: Column<Fixed>,
    q: Selector,
}

/// Pair-dot instructions.
pub trait PairDotInstructions {
    /// Lays out products in one region: product `p` is `Σ a[i]·b[j]` over
    /// its terms `(i, j)`. Returns each product's result cell, in order.
    fn pair_dots(
        &self,
        layouter: &mut impl Layouter<Fp>,
        assigner: &Assigner,
        zero: &Cell_,
        name: &'static str,
        operands: (&[Cell_], &[Cell_]),
        products: &[Vec<(usize, usize)>],
    ) -> Result<Vec<Cell_>, Error>;
}

impl PairDotConfig {
    /// Creates the gate `pair dot` over `lanes` (the dot block's input
    /// lanes, an even number: the first half holds `a`, the second `b`),
    /// `acc` and `chain`.
    pub fn configure(
        meta: &mut ConstraintSystem<Fp>,
        lanes: &[Column<Advice>],
        acc: Column<Advice>,
        chain: Column<Fixed>,
    ) -> Self {
        let (a, b) = lanes.split_at(lanes.len() / 2);
        let (a, b) = (a.to_vec(), b[..a.len()].to_vec());
        let q = meta.selector();
        // | a_0 … a_h-1 | b_0 … b_h-1 | acc  | chain | q_pair |
        // |             |             | prev |       |        |
        // | a_0 … a_h-1 | b_0 … b_h-1 | acc  | chain |   1    |
        //   acc = chain·prev + Σ_l a_l·b_l
        // chain is 0 on a product's first row, 1 on the rows continuing it.
        meta.create_gate("pair dot", |m| {
            let q = m.query_selector(q);
            let chain = m.query_fixed(chain);
            let prev = m.query_advice(acc, Rotation::prev());
            let cur = m.query_advice(acc, Rotation::cur());
            let sum = a.iter().zip(&b).fold(chain * prev, |s, (&a, &b)| {
                s + m.query_advice(a, Rotation::cur()) * m.query_advice(b, Rotation::cur())
            });
            vec![("accumulate", q * (cur - sum))]
        });
        PairDotConfig {
            a,
            b,
            acc,
            chain,
            q,
        }
    }
}

impl PairDotConfig {
    /// [`PairDotInstructions::pair_dots`] in a region the caller holds,
    /// from row `offset` (a leading row, then the products' rows). Returns
    /// the result cells and the next free row.
    #[allow(clippy::too_many_arguments)]
    pub fn assign(
        &self,
        region: &mut Region<'_, Fp>,
        assigner: &Assigner,
        zero: &Cell_,
        mut offset: usize,
        (a, b): (&[Cell_], &[Cell_]),
        products: &[Vec<(usize, usize)>],
    ) -> Result<(Vec<Cell_>, usize), Error> {
        let in_range = |&(i, j): &(usize, usize)| i < a.len() && j < b.len();
        if !products.iter().flatten().all(in_range) {
            return Err(Error::Synthesis);
        }
        let lanes = self.a.len();
        // The leading row gives the first product's first row an
        // `acc_prev` (multiplied by chain = 0).
        assigner.copy(region, "acc start", zero, self.acc, offset)?;
        offset += 1;
        let mut results = Vec::with_capacity(products.len());
        for terms in products {
            let mut acc = Value::known(Fp::zero());
            let mut cell = None;
            for row in 0..pair_rows(terms.len(), 2 * lanes) {
                self.q.enable(region, offset)?;
                let chain = Value::known(fe(i64::from(row > 0)));
                region.assign_fixed(|| "chain", self.chain, offset, || chain)?;
                for lane in 0..lanes {
                    // Unused lanes multiply zero by zero.
                    let (x, y) = terms
                        .get(row * lanes + lane)
                        .map_or((zero, zero), |&(i, j)| (&a[i], &b[j]));
                    let x = assigner.copy(region, "a", x, self.a[lane], offset)?;
                    let y = assigner.copy(region, "b", y, self.b[lane], offset)?;
                    acc = acc + x.value().copied() * y.value().copied();
                }
                cell = Some(assigner.advice(region, "acc", self.acc, offset, acc)?);
                offset += 1;
            }
            results.push(cell.ok_or(Error::Synthesis)?);
        }
        Ok((results, offset))
    }
}

impl PairDotInstructions for PairDotConfig {
    fn pair_dots(
        &self,
        layouter: &mut impl Layouter<Fp>,
        assigner: &Assigner,
        zero: &Cell_,
        name: &'static str,
        operands: (&[Cell_], &[Cell_]),
        products: &[Vec<(usize, usize)>],
    ) -> Result<Vec<Cell_>, Error> {
        layouter.assign_region(
            || name,
            |mut region| {
                assigner.region(name);
                let (cells, _) = self.assign(&mut region, assigner, zero, 0, operands, products)?;
                Ok(cells)
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::Edit;
    use crate::chips::testing::{failures, run_edited};

    /// Operands: a = 0..14 shifted, b alternating signs.
    fn operands() -> (Vec<i64>, Vec<i64>) {
        let a = (0..14).map(|i| i * 3 - 20).collect();
        let b = (0..14)
            .map(|i| if i % 2 == 0 { 7 - i } else { i * 5 })
            .collect();
        (a, b)
    }

    /// Three products: 14 terms (three rows of six), one term, and a
    /// product with no term (zero); each result pinned to its sum.
    fn products() -> Vec<Vec<(usize, usize)>> {
        vec![(0..14).map(|l| (l, 13 - l)).collect(), vec![(5, 2)], vec![]]
    }

    fn run(edits: &[(&str, Edit)]) -> Vec<String> {
        failures(run_edited(vec![], edits, |c, region, asg| {
            let (a, b) = operands();
            let pair = c
                .pair_dot
                .as_ref()
                .expect("the harness configures the gate");
            // The operands in element columns, the products from row 0 of
            // the dot block's.
            let lane = c.lane();
            let mut cells = |name, values: &[i64], column| {
                values
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| asg.advice(region, name, column, i, Value::known(fe(v))))
                    .collect::<Result<Vec<_>, _>>()
            };
            let xa = cells("xa", &a, lane.arith.a)?;
            let xb = cells("xb", &b, lane.arith.b)?;
            let zero =
                region.assign_advice_from_constant(|| "zero", lane.arith.a, 20, Fp::zero())?;
            let (outs, _) = pair.assign(region, asg, &zero, 0, (&xa, &xb), &products())?;
            for (terms, out) in products().iter().zip(&outs) {
                let want: i64 = terms.iter().map(|&(i, j)| a[i] * b[j]).sum();
                region.constrain_constant(out.cell(), fe(want))?;
            }
            Ok(())
        }))
    }

    #[test]
    fn accepts_long_short_and_empty_products() {
        assert!(run(&[]).is_empty());
    }

    fn add(name: &str, delta: i64) -> (&str, Edit) {
        (name, Edit::Add(fe(delta)))
    }

    const GATE: &str = "gate pair dot: accumulate";

    #[test]
    fn rejects_a_wrong_partial_sum_or_result() {
        assert_eq!(run(&[add("acc", 1)]), vec![GATE]);
        // The first product's result (its third row), pinned.
        assert_eq!(run(&[add("acc#2", 1)]), vec!["copy", GATE]);
        // The empty product's single row: zero lanes, acc = 0.
        assert_eq!(run(&[add("acc#4", 1)]), vec!["copy", GATE]);
    }

    /// The accumulators follow the edited copies (as a forger's would):
    /// the copy constraints alone refuse an operand that is not its cell.
    #[test]
    fn rejects_an_operand_copy_that_disagrees_with_its_cell() {
        assert_eq!(run(&[add("a", 1)]), vec!["copy"]);
        assert_eq!(run(&[add("b#7", -3)]), vec!["copy"]);
        // An unused lane of the third row (a·0 adds nothing): only the
        // copy of zero notices.
        assert_eq!(run(&[add("a#14", 5)]), vec!["copy"]);
    }

    /// A forger who shifts a partial sum and every later one of the same
    /// product keeps the continuing rows' gates satisfied: the row where
    /// the shift enters still fails.
    #[test]
    fn consistent_forgeries_of_a_partial_sum_are_caught() {
        let all: Vec<_> = ["acc", "acc#1", "acc#2"].map(|n| add(n, 7)).to_vec();
        assert_eq!(run(&all), vec!["copy", GATE]);
        let later: Vec<_> = ["acc#1", "acc#2"].map(|n| add(n, 7)).to_vec();
        assert_eq!(run(&later), vec!["copy", GATE]);
        // A leading row's accumulator is multiplied by chain = 0, but it
        // is a copy of the zero cell.
        assert_eq!(run(&[add("acc start", 9)]), vec!["copy"]);
    }

    #[test]
    fn the_layout_pairs_six_lanes() {
        let layout = crate::Profile::Compact.layout();
        assert_eq!(pair_rows(14, layout.dot_inputs), 3);
        assert_eq!(pair_rows(0, layout.dot_inputs), 1);
        assert_eq!(pair_rows(6, crate::Profile::Wide.layout().dot_inputs), 1);
    }
}
