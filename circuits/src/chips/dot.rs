//! [`DotConfig`]: dot products laid out as a small matrix per row, with
//! weights in fixed columns or, for committed weights, copied into advice
//! columns.
//!
//! A row holds `I` input cells (copies of the cells a layer reads) and `O`
//! accumulators; accumulator `g` adds `Σ_l w[g][l]·x_l`, with its own
//! weights. Dot products over the *same* inputs — a linear layer's outputs,
//! a convolution's output channels at one position — form a group
//! ([`crate::step::dot_groups`]) and share rows, `O` at a time; a group
//! over `n` inputs takes `ceil(n / I)` rows. Unused lanes hold copies of
//! the zero cell, unused weights are 0. `I` and `O` come from the layout
//! ([`crate::Layout`]); the compact profile's `12 × 1` is a plain dot
//! product per row.
//!
//! With fixed weights ([`DotWeights::Fixed`]) the verifying key commits to
//! the model. With advice weights ([`DotWeights::Advice`]) every weight
//! and bias slot is a copy of a weight cell the caller proved to be a
//! bounded integer and committed to (or of the zero cell), so the key
//! depends only on where the weights are read, not on their values.

use crate::assign::{Assigner, Cell_};
use crate::field::fe;
use crate::profile::Layout;
use halo2_proofs::circuit::{Layouter, Region, Value};
use halo2_proofs::plonk::{
    Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector, VirtualCells,
};
use halo2_proofs::poly::Rotation;
use pasta_curves::Fp;
use zkinfer_quant::taps::Taps;

/// Rows a group of dot products over `inputs` input cells takes.
pub fn group_rows(inputs: usize, layout: Layout) -> usize {
    inputs.div_ceil(layout.dot_inputs).max(1)
}

/// Where the dot gate reads its weights and biases: `w[g][l]` is
/// accumulator `g`'s weight for lane `l`.
#[derive(Clone, Debug)]
pub enum DotWeights {
    /// Fixed columns: the model's values.
    Fixed {
        /// `w[acc][lane]`.
        w: Vec<Vec<Column<Fixed>>>,
        /// One bias column per accumulator.
        bias: Vec<Column<Fixed>>,
    },
    /// Advice columns holding copies of weight cells.
    #[cfg(feature = "committed-weights")]
    Advice {
        /// `w[acc][lane]`, equality-enabled.
        w: Vec<Vec<Column<Advice>>>,
        /// One bias column per accumulator, equality-enabled.
        bias: Vec<Column<Advice>>,
    },
}

impl DotWeights {
    fn weight(&self, m: &mut VirtualCells<'_, Fp>, g: usize, l: usize) -> Expression<Fp> {
        match self {
            DotWeights::Fixed { w, .. } => m.query_fixed(w[g][l]),
            #[cfg(feature = "committed-weights")]
            DotWeights::Advice { w, .. } => m.query_advice(w[g][l], Rotation::cur()),
        }
    }

    fn bias(&self, m: &mut VirtualCells<'_, Fp>, g: usize) -> Expression<Fp> {
        match self {
            DotWeights::Fixed { bias, .. } => m.query_fixed(bias[g]),
            #[cfg(feature = "committed-weights")]
            DotWeights::Advice { bias, .. } => m.query_advice(bias[g], Rotation::cur()),
        }
    }

    fn shape(&self) -> (usize, usize) {
        match self {
            DotWeights::Fixed { w, bias } => (bias.len(), w.first().map_or(0, Vec::len)),
            #[cfg(feature = "committed-weights")]
            DotWeights::Advice { w, bias } => (bias.len(), w.first().map_or(0, Vec::len)),
        }
    }

    /// Places one weight (`lane` = `Some`) or bias (`None`) of accumulator
    /// `g`: `source` is the tap's value for fixed weights, an index into
    /// `cells` for advice weights; `None` is an unused slot (0, or a copy
    /// of the zero cell). Returns the value placed.
    #[allow(clippy::too_many_arguments)]
    fn place(
        &self,
        region: &mut Region<'_, Fp>,
        assigner: &Assigner,
        cells: Option<&[Cell_]>,
        zero: &Cell_,
        (g, lane): (usize, Option<usize>),
        offset: usize,
        source: Option<i64>,
    ) -> Result<Value<Fp>, Error> {
        match (self, cells) {
            (DotWeights::Fixed { w, bias }, None) => {
                let column = lane.map_or(bias[g], |l| w[g][l]);
                let value = Value::known(fe(source.unwrap_or(0)));
                region.assign_fixed(|| "w", column, offset, || value)?;
                Ok(value)
            }
            #[cfg(feature = "committed-weights")]
            (DotWeights::Advice { w, bias }, Some(cells)) => {
                let column = lane.map_or(bias[g], |l| w[g][l]);
                let cell = match source {
                    None => zero,
                    Some(i) => usize::try_from(i)
                        .ok()
                        .and_then(|i| cells.get(i))
                        .ok_or(Error::Synthesis)?,
                };
                let copy = assigner.copy(region, "w", cell, column, offset)?;
                Ok(copy.value().copied())
            }
            // Weights of the other kind than the columns.
            _ => {
                let _ = (assigner, zero);
                Err(Error::Synthesis)
            }
        }
    }
}

/// Columns and selector of the dot-product gate.
#[derive(Clone, Debug)]
pub struct DotConfig {
    x: Vec<Column<Advice>>,
    acc: Vec<Column<Advice>>,
    weights: DotWeights,
    chain: Column<Fixed>,
    q: Selector,
}

/// Dot products to lay out: product `p` is `taps[p].1 + Σ weight ·
/// x[index]` over its terms `taps[p].0`.
#[derive(Clone, Copy, Debug)]
pub struct DotProducts<'a> {
    /// Per product: `(weight, input index)` terms, and the bias. With
    /// `weights`, each weight and bias is an index into it.
    pub taps: &'a [Taps],
    /// Products that share rows: each group's products have the same
    /// input indices, at most the layout's `dot_outputs` of them.
    pub groups: &'a [Vec<usize>],
    /// The cells the input indices name.
    pub x: &'a [Cell_],
    /// The weight cells, for advice weights ([`DotWeights::Advice`]);
    /// `None` for fixed ones.
    pub weights: Option<&'a [Cell_]>,
}

/// Dot-product instructions.
pub trait DotInstructions {
    /// Lays out dot products in one region, each group in shared rows;
    /// returns each product's result cell, in product order.
    fn dot_products(
        &self,
        layouter: &mut impl Layouter<Fp>,
        assigner: &Assigner,
        zero: &Cell_,
        name: &'static str,
        products: DotProducts<'_>,
    ) -> Result<Vec<Cell_>, Error>;
}

impl DotConfig {
    /// Creates the gate `dot` over `x` (one column per input lane), `acc`
    /// (one per accumulator), the weights (`O × I`, and `O` biases) and
    /// `chain`.
    pub fn configure(
        meta: &mut ConstraintSystem<Fp>,
        x: Vec<Column<Advice>>,
        acc: Vec<Column<Advice>>,
        weights: DotWeights,
        chain: Column<Fixed>,
    ) -> Self {
        assert!(weights.shape() == (acc.len(), x.len()));
        let q = meta.selector();
        // | x_0 … x_I-1 | acc_0 … acc_O-1 | w_g_l (O × I) | bias_g | chain | q_dot |
        // |             | prev_0 … prev_g |               |        |       |       |
        // | x_0 … x_I-1 | acc_0 … acc_O-1 | w_g_l         | bias_g | chain |   1   |
        //   acc_g = chain·prev_g + bias_g + Σ_l w_g_l·x_l     (for every g)
        // chain is 0 on a group's first row, 1 on the rows that continue
        // it; the weights and biases are fixed by the model, or copies of
        // committed weight cells.
        meta.create_gate("dot", |m| {
            let q = m.query_selector(q);
            let chain = m.query_fixed(chain);
            let xs: Vec<_> = x
                .iter()
                .map(|&c| m.query_advice(c, Rotation::cur()))
                .collect();
            (0..acc.len())
                .map(|g| {
                    let prev = m.query_advice(acc[g], Rotation::prev());
                    let cur = m.query_advice(acc[g], Rotation::cur());
                    let bias = weights.bias(m, g);
                    let sum = xs
                        .iter()
                        .enumerate()
                        .fold(chain.clone() * prev + bias, |s, (l, x)| {
                            s + weights.weight(m, g, l) * x.clone()
                        });
                    ("accumulate", q.clone() * (cur - sum))
                })
                .collect::<Vec<_>>()
        });
        DotConfig {
            x,
            acc,
            weights,
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
        DotProducts {
            taps: products,
            groups,
            x,
            weights,
        }: DotProducts<'_>,
    ) -> Result<Vec<Cell_>, Error> {
        let (lanes, outputs) = (self.x.len(), self.acc.len());
        let indices = |p: usize| products[p].0.iter().map(|&(_, i)| i);
        let well_formed = groups.iter().all(|g| {
            !g.is_empty()
                && g.len() <= outputs
                && g.iter()
                    .all(|&p| p < products.len() && indices(p).eq(indices(g[0])))
        });
        if !well_formed || products.iter().flat_map(|p| &p.0).any(|t| t.1 >= x.len()) {
            return Err(Error::Synthesis);
        }
        layouter.assign_region(
            || name,
            |mut region| {
                assigner.region(name);
                // Row 0 gives each group's first row an `acc_prev` (it is
                // multiplied by chain = 0).
                for &acc in &self.acc {
                    assigner.copy(&mut region, "acc start", zero, acc, 0)?;
                }
                let mut offset = 1;
                let mut results: Vec<Option<Cell_>> = vec![None; products.len()];
                for group in groups {
                    let terms = &products[group[0]].0;
                    let mut acc: Vec<Value<Fp>> = vec![Value::known(Fp::zero()); outputs];
                    let mut cells = vec![];
                    let rows = terms.len().div_ceil(lanes).max(1);
                    for row in 0..rows {
                        self.q.enable(&mut region, offset)?;
                        let first = row == 0;
                        region.assign_fixed(
                            || "chain",
                            self.chain,
                            offset,
                            || Value::known(fe(i64::from(!first))),
                        )?;
                        for (g, acc) in acc.iter_mut().enumerate() {
                            let bias = group.get(g).filter(|_| first).map(|&p| products[p].1);
                            let place = (g, None);
                            let b = self.weights.place(
                                &mut region,
                                assigner,
                                weights,
                                zero,
                                place,
                                offset,
                                bias,
                            )?;
                            *acc = *acc + b;
                        }
                        for lane in 0..lanes {
                            let j = row * lanes + lane;
                            let cell = terms.get(j).map_or(zero, |&(_, i)| &x[i]);
                            for (g, acc) in acc.iter_mut().enumerate() {
                                let w = group
                                    .get(g)
                                    .and_then(|&p| products[p].0.get(j))
                                    .map(|t| t.0);
                                let place = (g, Some(lane));
                                let w = self.weights.place(
                                    &mut region,
                                    assigner,
                                    weights,
                                    zero,
                                    place,
                                    offset,
                                    w,
                                )?;
                                *acc = *acc + cell.value().copied() * w;
                            }
                            assigner.copy(&mut region, "x", cell, self.x[lane], offset)?;
                        }
                        cells.clear();
                        for (&column, &value) in self.acc.iter().zip(&acc) {
                            cells.push(assigner.advice(
                                &mut region,
                                "acc",
                                column,
                                offset,
                                value,
                            )?);
                        }
                        offset += 1;
                    }
                    for (&p, cell) in group.iter().zip(cells) {
                        results[p] = Some(cell);
                    }
                }
                // Every product in a group.
                results
                    .into_iter()
                    .collect::<Option<Vec<_>>>()
                    .ok_or(Error::Synthesis)
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::Edit;
    use crate::chips::testing::failures;
    use crate::config::ModelConfig;
    use crate::profile::Profile;
    use halo2_proofs::circuit::SimpleFloorPlanner;
    use halo2_proofs::dev::MockProver;
    use halo2_proofs::plonk::Circuit;

    /// Per group: input indices, and each product's weights and bias.
    type Groups = Vec<(Vec<usize>, Vec<(Vec<i64>, i64)>)>;

    /// Groups of dot products over input cells assigned in their own
    /// region, in a profile; each result pinned to its expected sum.
    struct DotCircuit {
        profile: Profile,
        inputs: Vec<i64>,
        groups: Groups,
        assigner: Assigner,
    }

    impl Circuit<Fp> for DotCircuit {
        type Config = ModelConfig;
        type FloorPlanner = SimpleFloorPlanner;
        fn without_witnesses(&self) -> Self {
            DotCircuit {
                profile: self.profile,
                inputs: self.inputs.clone(),
                groups: self.groups.clone(),
                assigner: Assigner::default(),
            }
        }
        fn configure(meta: &mut ConstraintSystem<Fp>) -> ModelConfig {
            ModelConfig::configure(meta, Profile::Compact)
        }
        fn configure_for(&self, meta: &mut ConstraintSystem<Fp>) -> ModelConfig {
            ModelConfig::configure(meta, self.profile)
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
            // The groups as taps (products numbered in group order) and
            // the product indices of each group.
            let (mut taps, mut groups): (Vec<Taps>, Vec<Vec<usize>>) = (vec![], vec![]);
            for (inputs, products) in &self.groups {
                let first = taps.len();
                for (weights, bias) in products {
                    let terms = weights.iter().copied().zip(inputs.iter().copied());
                    taps.push((terms.collect(), *bias));
                }
                groups.push((first..taps.len()).collect());
            }
            let products = DotProducts {
                taps: &taps,
                groups: &groups,
                x: &cells,
                weights: None,
            };
            let outs =
                c.dot
                    .dot_products(&mut layouter, &self.assigner, &zero, "dots", products)?;
            // Pin the results to the expected sums so a wrong one shows.
            layouter.assign_region(
                || "expect",
                |mut region| {
                    for (row, ((terms, bias), out)) in taps.iter().zip(&outs).enumerate() {
                        let want: i64 =
                            bias + terms.iter().map(|&(w, j)| w * self.inputs[j]).sum::<i64>();
                        let cell =
                            region.assign_advice_from_constant(|| "want", c.acc, row, fe(want))?;
                        region.constrain_equal(cell.cell(), out.cell())?;
                    }
                    Ok(())
                },
            )
        }
    }

    fn inputs() -> Vec<i64> {
        (0..30).map(|i| (i * 7 % 23) - 11).collect()
    }

    fn weights(n: usize, seed: i64) -> Vec<i64> {
        (0..n as i64).map(|i| ((i + seed) % 5) - 2).collect()
    }

    fn mock(profile: Profile, groups: Groups, edits: &[(usize, Edit)]) -> Vec<String> {
        let circuit = DotCircuit {
            profile,
            inputs: inputs(),
            groups,
            assigner: Assigner::default().with_edits(edits.iter().copied()),
        };
        let config = ModelConfig::of(profile);
        let prover = MockProver::run(9, &circuit, vec![vec![]]).unwrap();
        failures((config, prover.verify()))
    }

    /// Compact: one product per group — 30 terms (three rows), one term,
    /// none (just the bias).
    fn compact(edits: &[(usize, Edit)]) -> Vec<String> {
        let groups = vec![
            ((0..30).collect(), vec![(weights(30, 0), 17)]),
            (vec![4], vec![(vec![-3], -2)]),
            (vec![], vec![(vec![], 9)]),
        ];
        mock(Profile::Compact, groups, edits)
    }

    /// Wide (16 × 8): three products over 30 inputs (two rows), a full
    /// group of eight over one input, and a bias-only product.
    fn wide(edits: &[(usize, Edit)]) -> Vec<String> {
        let groups = vec![
            (
                (0..30).collect(),
                (0..3).map(|g| (weights(30, g), 5 * g - 4)).collect(),
            ),
            (vec![7], (0..8).map(|g| (vec![g - 4], g)).collect()),
            (vec![], vec![(vec![], 9)]),
        ];
        mock(Profile::Wide, groups, edits)
    }

    fn add(cell: usize, delta: i64) -> (usize, Edit) {
        (cell, Edit::Add(fe(delta)))
    }

    #[test]
    fn accepts_long_short_and_empty_dot_products() {
        assert!(compact(&[]).is_empty());
        assert!(wide(&[]).is_empty());
    }

    #[test]
    fn rejects_a_wrong_partial_sum_or_copy() {
        // Cells 0–29 are inputs, 30 is the region's leading acc, then each
        // row has 12 lane copies and an acc: the first acc is cell 43.
        assert_eq!(compact(&[add(43, 1)]), vec!["gate dot: accumulate"]);
        // A lane copy that disagrees with its input cell.
        assert_eq!(compact(&[add(31, 1)]), vec!["copy", "gate dot: accumulate"]);
        // The last accumulator of the long product: caught by the gate, and
        // by the pinned result.
        let last_acc = 30 + 1 + 3 * 13 - 1;
        assert_eq!(
            compact(&[add(last_acc, 5)]),
            vec!["copy", "gate dot: accumulate"]
        );
    }

    /// The wide layout's lanes and accumulators.
    const I: usize = 12;
    const O: usize = 8;

    /// Wide cells: 30 inputs, 8 leading accs, then rows of 12 lane copies
    /// and 8 accs.
    fn wide_cell(row: usize, column: usize) -> usize {
        30 + O + row * (I + O) + column
    }

    #[test]
    fn the_wide_layout_is_the_one_tested() {
        let layout = Profile::Wide.layout();
        assert_eq!((layout.dot_inputs, layout.dot_outputs), (I, O));
    }

    #[test]
    fn wide_rejects_a_wrong_accumulator_copy_or_unused_accumulator() {
        // Every accumulator of the first row: the three used, the five not.
        for g in 0..O {
            let acc = wide_cell(0, I + g);
            assert_eq!(
                wide(&[add(acc, 1)]),
                vec!["gate dot: accumulate"],
                "acc {g}"
            );
        }
        // The last row of the first group (30 inputs: three rows): the
        // result, pinned.
        assert_eq!(
            wide(&[add(wide_cell(2, I + 2), 1)]),
            vec!["copy", "gate dot: accumulate"]
        );
        // A lane copy; a zero-padded lane of the third row (its weights are
        // 0, so only the copy notices).
        assert_eq!(
            wide(&[add(wide_cell(0, 3), 1)]),
            vec!["copy", "gate dot: accumulate"]
        );
        assert_eq!(wide(&[add(wide_cell(2, I - 1), 1)]), vec!["copy"]);
        // A leading acc (multiplied by chain = 0, but copied from zero).
        assert_eq!(wide(&[add(30 + 5, 1)]), vec!["copy"]);
    }

    /// A forger who shifts one partial sum and every later one of the same
    /// accumulator by the same amount keeps the continuing rows' gates
    /// satisfied: the row where the shift enters still fails.
    #[test]
    fn consistent_forgeries_of_a_partial_sum_are_caught() {
        let shifted: Vec<_> = (0..3).map(|row| add(wide_cell(row, I + 1), 7)).collect();
        assert_eq!(wide(&shifted), vec!["copy", "gate dot: accumulate"]);
        // Shifting only the continuations and the result: the second row's
        // gate.
        let later: Vec<_> = (1..3).map(|row| add(wide_cell(row, I + 1), 7)).collect();
        assert_eq!(wide(&later), vec!["copy", "gate dot: accumulate"]);
    }

    #[test]
    fn groups_beyond_the_layout_are_refused() {
        let too_many = vec![(vec![1], (0..9).map(|g| (vec![g], 0)).collect())];
        let circuit = DotCircuit {
            profile: Profile::Wide,
            inputs: inputs(),
            groups: too_many,
            assigner: Assigner::default(),
        };
        assert!(MockProver::run(9, &circuit, vec![vec![]]).is_err());
        // Two products of one group over different inputs.
        let ragged = vec![(vec![1, 2], vec![(vec![1, 1], 0), (vec![1], 0)])];
        let circuit = DotCircuit {
            profile: Profile::Wide,
            inputs: inputs(),
            groups: ragged,
            assigner: Assigner::default(),
        };
        assert!(MockProver::run(9, &circuit, vec![vec![]]).is_err());
    }
}
