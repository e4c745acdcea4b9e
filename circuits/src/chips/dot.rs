//! [`DotChip`]: dot products with weights in fixed columns, `LANES`
//! multiply-accumulates per row.
//!
//! A dot product of `n` terms takes `ceil(n / LANES)` rows; unused lanes
//! hold copies of the zero cell with weight 0. Linear and conv layers, and
//! window sums, are lists of dot products ([`DotProduct`]). The weights are
//! fixed columns, so the verifying key commits to the model.

use crate::assign::{Assigner, Cell_};
use crate::field::fe;
use halo2_proofs::circuit::{Layouter, Value};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Fixed, Selector};
use halo2_proofs::poly::Rotation;
use pasta_curves::Fp;

/// Multiply-accumulates per row.
pub const LANES: usize = 12;

/// One dot product: `bias + Σ weight·x`.
#[derive(Clone, Debug)]
pub struct DotProduct {
    /// `(weight, input cell)` pairs.
    pub terms: Vec<(i64, Cell_)>,
    /// Added once.
    pub bias: i64,
}

impl DotProduct {
    /// Rows it takes.
    pub fn rows(terms: usize) -> usize {
        terms.div_ceil(LANES).max(1)
    }
}

/// Columns and selector of the dot-product gate.
#[derive(Clone, Copy, Debug)]
pub struct DotConfig {
    x: [Column<Advice>; LANES],
    acc: Column<Advice>,
    w: [Column<Fixed>; LANES],
    bias: Column<Fixed>,
    chain: Column<Fixed>,
    q: Selector,
}

/// Dot-product instructions.
pub trait DotInstructions {
    /// Lays out dot products in one region; returns each one's result cell.
    fn dot_products(
        &self,
        layouter: &mut impl Layouter<Fp>,
        assigner: &Assigner,
        zero: &Cell_,
        name: &'static str,
        products: &[DotProduct],
    ) -> Result<Vec<Cell_>, Error>;
}

impl DotConfig {
    /// Creates the gate `dot`.
    pub fn configure(
        meta: &mut ConstraintSystem<Fp>,
        x: [Column<Advice>; LANES],
        acc: Column<Advice>,
        w: [Column<Fixed>; LANES],
        bias: Column<Fixed>,
        chain: Column<Fixed>,
    ) -> Self {
        let q = meta.selector();
        // | x_0 … x_11 | acc      | w_0 … w_11 | bias | chain | q_dot |
        // |            | acc_prev |            |      |       |       |
        // | x_0 … x_11 | acc      | w_0 … w_11 | bias | chain |   1   |
        //   acc = chain·acc_prev + bias + Σ w_i·x_i
        // chain is 0 on the first row of a dot product, 1 on the rows that
        // continue it; the weights and the bias are fixed by the model.
        meta.create_gate("dot", |m| {
            let q = m.query_selector(q);
            let prev = m.query_advice(acc, Rotation::prev());
            let cur = m.query_advice(acc, Rotation::cur());
            let chain = m.query_fixed(chain);
            let bias = m.query_fixed(bias);
            let sum = (0..LANES).fold(chain * prev + bias, |s, i| {
                s + m.query_fixed(w[i]) * m.query_advice(x[i], Rotation::cur())
            });
            vec![("accumulate", q * (cur - sum))]
        });
        DotConfig {
            x,
            acc,
            w,
            bias,
            chain,
            q,
        }
    }
}

impl DotInstructions for DotConfig {
    fn dot_products(
        &self,
        layouter: &mut impl Layouter<Fp>,
        assigner: &Assigner,
        zero: &Cell_,
        name: &'static str,
        products: &[DotProduct],
    ) -> Result<Vec<Cell_>, Error> {
        layouter.assign_region(
            || name,
            |mut region| {
                assigner.region(name);
                // Row 0 gives the first product's `acc_prev` a cell (it is
                // multiplied by chain = 0).
                assigner.copy(&mut region, "acc start", zero, self.acc, 0)?;
                let mut offset = 1;
                let mut results = Vec::with_capacity(products.len());
                for product in products {
                    let mut acc = Value::known(fe(product.bias));
                    let mut chunks: Vec<&[(i64, Cell_)]> = product.terms.chunks(LANES).collect();
                    if chunks.is_empty() {
                        chunks.push(&[]);
                    }
                    let mut result = None;
                    for (row, chunk) in chunks.iter().enumerate() {
                        self.q.enable(&mut region, offset)?;
                        let (chain, bias) = if row == 0 { (0, product.bias) } else { (1, 0) };
                        region.assign_fixed(
                            || "chain",
                            self.chain,
                            offset,
                            || Value::known(fe(chain)),
                        )?;
                        region.assign_fixed(
                            || "bias",
                            self.bias,
                            offset,
                            || Value::known(fe(bias)),
                        )?;
                        for lane in 0..LANES {
                            let (weight, cell) =
                                chunk.get(lane).map_or((0, zero), |(w, c)| (*w, c));
                            region.assign_fixed(
                                || "w",
                                self.w[lane],
                                offset,
                                || Value::known(fe(weight)),
                            )?;
                            assigner.copy(&mut region, "x", cell, self.x[lane], offset)?;
                            acc = acc + cell.value().map(|v| *v * fe(weight));
                        }
                        result =
                            Some(assigner.advice(&mut region, "acc", self.acc, offset, acc)?);
                        offset += 1;
                    }
                    results.push(result.expect("every dot product has a row"));
                }
                Ok(results)
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::testing::failures;
    use crate::config::ModelConfig;
    use halo2_proofs::circuit::SimpleFloorPlanner;
    use halo2_proofs::dev::MockProver;
    use halo2_proofs::plonk::Circuit;

    /// Dot products over input cells assigned in their own region.
    struct DotCircuit {
        inputs: Vec<i64>,
        products: Vec<(Vec<(i64, usize)>, i64)>,
        assigner: Assigner,
    }

    impl Circuit<Fp> for DotCircuit {
        type Config = ModelConfig;
        type FloorPlanner = SimpleFloorPlanner;
        fn without_witnesses(&self) -> Self {
            DotCircuit {
                inputs: self.inputs.clone(),
                products: self.products.clone(),
                assigner: Assigner::default(),
            }
        }
        fn configure(meta: &mut ConstraintSystem<Fp>) -> ModelConfig {
            ModelConfig::configure(meta)
        }
        fn synthesize(&self, c: ModelConfig, mut layouter: impl Layouter<Fp>) -> Result<(), Error> {
            c.range_table.load(&mut layouter)?;
            self.assigner.reset();
            let (zero, cells) = layouter.assign_region(
                || "inputs",
                |mut region| {
                    let zero =
                        region.assign_advice_from_constant(|| "zero", c.acc, 0, Fp::zero())?;
                    let cells = self
                        .inputs
                        .iter()
                        .enumerate()
                        .map(|(i, &v)| {
                            self.assigner.advice(
                                &mut region,
                                "in",
                                c.acc,
                                i + 1,
                                Value::known(fe(v)),
                            )
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok((zero, cells))
                },
            )?;
            let products: Vec<DotProduct> = self
                .products
                .iter()
                .map(|(terms, bias)| DotProduct {
                    terms: terms.iter().map(|&(w, i)| (w, cells[i].clone())).collect(),
                    bias: *bias,
                })
                .collect();
            let outs =
                c.dot
                    .dot_products(&mut layouter, &self.assigner, &zero, "dots", &products)?;
            // Pin the results to the expected sums so a wrong one shows.
            layouter.assign_region(
                || "expect",
                |mut region| {
                    for (i, out) in outs.iter().enumerate() {
                        let (terms, bias) = &self.products[i];
                        let want: i64 =
                            bias + terms.iter().map(|&(w, j)| w * self.inputs[j]).sum::<i64>();
                        let cell =
                            region.assign_advice_from_constant(|| "want", c.acc, i, fe(want))?;
                        region.constrain_equal(cell.cell(), out.cell())?;
                    }
                    Ok(())
                },
            )
        }
    }

    fn dots(tamper: Option<(usize, i64)>) -> Vec<String> {
        let inputs: Vec<i64> = (0..30).map(|i| (i * 7 % 23) - 11).collect();
        let products = vec![
            // 30 terms: three rows.
            ((0..30).map(|i| ((i as i64 % 5) - 2, i)).collect(), 17),
            // One term, and none at all (just the bias).
            (vec![(-3, 4)], -2),
            (vec![], 9),
        ];
        let circuit = DotCircuit {
            inputs,
            products,
            assigner: tamper.map_or_else(Assigner::default, |(i, d)| Assigner::tampering(i, fe(d))),
        };
        let mut meta = ConstraintSystem::default();
        let config = ModelConfig::configure(&mut meta);
        let prover = MockProver::run(9, &circuit, vec![vec![]]).unwrap();
        failures((config, prover.verify()))
    }

    #[test]
    fn accepts_long_short_and_empty_dot_products() {
        assert!(dots(None).is_empty());
    }

    #[test]
    fn rejects_a_wrong_partial_sum_or_copy() {
        // Cells 0–29 are inputs, 30 is the region's leading acc, then each
        // row has 12 lane copies and an acc: the first acc is cell 43.
        assert_eq!(dots(Some((43, 1))), vec!["gate dot: accumulate"]);
        // A lane copy that disagrees with its input cell.
        assert_eq!(dots(Some((31, 1))), vec!["copy", "gate dot: accumulate"]);
        // The last accumulator of the long product: caught by the gate, and
        // by the pinned result.
        let last_acc = 30 + 1 + 3 * 13 - 1;
        assert_eq!(
            dots(Some((last_acc, 5))),
            vec!["copy", "gate dot: accumulate"]
        );
    }
}
