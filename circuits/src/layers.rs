//! Tensor-level layout: each [`Step`] of the plan placed with the chips.
//!
//! A tensor is the list of its cells. Values come from the trace (the
//! reference semantics); every derived witness (remainders, signs, limbs,
//! partial sums) is computed by the chips with [`zkinfer_quant::ops`].

use crate::assign::{Assigner, Cell_};
use crate::chips::arith::ArithConfig;
use crate::chips::dot::{DotInstructions, DotProducts};
use crate::chips::rescale::{Divisor, QuotientCheck};
use crate::config::{ElementLane, ModelConfig};
use crate::step::{dot_groups, Step, StepKind};
use halo2_proofs::circuit::{Layouter, Region, Value};
use halo2_proofs::plonk::{Advice, Column, Error};
use pasta_curves::Fp;
use zkinfer_quant::taps::Taps;
use zkinfer_quant::{QuantizedModel, Trace};

/// What layers need while laying out.
pub(crate) struct LayoutCtx<'a> {
    pub config: &'a ModelConfig,
    pub assigner: &'a Assigner,
    pub model: &'a QuantizedModel,
    pub trace: Option<&'a Trace>,
    pub zero: Cell_,
    /// With committed weights, each node's weight cells: a weighted node's
    /// weights and biases ([`crate::step::steps_with`]), a pooling node's
    /// `[zero, one]`.
    pub weights: Option<Vec<Vec<Cell_>>>,
}

impl LayoutCtx<'_> {
    /// Element `j` of tensor `id`, from the trace.
    fn value(&self, id: usize, j: usize) -> Value<i64> {
        match self.trace {
            Some(t) => Value::known(t.tensors[id].data[j]),
            None => Value::unknown(),
        }
    }

    /// Copies `cell` to `(column, offset)`.
    fn place(
        &self,
        region: &mut Region<'_, Fp>,
        cell: &Cell_,
        column: Column<Advice>,
        offset: usize,
    ) -> Result<Cell_, Error> {
        self.assigner.copy(region, "operand", cell, column, offset)
    }

    /// Lays out the input's cells, each with its declared bound.
    pub fn input(&self, layouter: &mut impl Layouter<Fp>) -> Result<Vec<Cell_>, Error> {
        let spec = self.model.input();
        self.element_region(layouter, "input", spec.shape.numel(), |region, c, o, j| {
            let v = self.value(0, j).map(crate::field::fe);
            let cell = self.assigner.advice(region, "input", c.bound.y, o, v)?;
            c.bound.bound(region, self.assigner, o, &cell, spec.bits)?;
            Ok(cell)
        })
    }

    /// Lays out one step; `tensors[id]` holds the cells of tensor `id`.
    /// Every witness is derived from the cells the step reads (the trace
    /// gives only the input): see [`crate::assign`].
    pub fn step(
        &self,
        layouter: &mut impl Layouter<Fp>,
        step: &Step,
        tensors: &[Vec<Cell_>],
    ) -> Result<Vec<Vec<Cell_>>, Error> {
        let x = &tensors[step.inputs[0]];
        match &step.kind {
            StepKind::Dot { products } => Ok(vec![self.dots(layouter, step, products, x)?]),
            &StepKind::AvgPool {
                ref sums,
                ref divisors,
                bits,
            } => {
                let sums = self.dots(layouter, step, sums, x)?;
                let out =
                    self.element_region(layouter, step.name, sums.len(), |region, c, o, j| {
                        let sum = self.place(region, &sums[j], c.rescale.x, o)?;
                        let check = QuotientCheck::Bound(bits);
                        let divisor = Divisor::Window(divisors[j]);
                        let q = c
                            .rescale
                            .divide(region, self.assigner, o, &sum, divisor, check)?;
                        Ok(q.y)
                    })?;
                Ok(vec![out])
            }
            &StepKind::Rescale { shift, bits, relu } => {
                let check = match relu {
                    true => QuotientCheck::Relu(bits),
                    false => QuotientCheck::Bound(bits),
                };
                let divisor = Divisor::Shift(shift);
                let cells =
                    self.element_region(layouter, step.name, x.len(), |region, c, o, j| {
                        let acc = self.place(region, &x[j], c.rescale.x, o)?;
                        c.rescale
                            .divide(region, self.assigner, o, &acc, divisor, check)
                    })?;
                let (ys, zs): (Vec<Cell_>, Vec<Option<Cell_>>) =
                    cells.into_iter().map(|q| (q.y, q.relu)).unzip();
                match relu {
                    true => Ok(vec![ys, zs.into_iter().flatten().collect()]),
                    false => Ok(vec![ys]),
                }
            }
            &StepKind::Relu { bits } => {
                let out =
                    self.element_region(layouter, step.name, x.len(), |region, c, o, j| {
                        let y = self.place(region, &x[j], c.relu.y, o)?;
                        c.relu.relu(region, self.assigner, o, &y, bits)
                    })?;
                Ok(vec![out])
            }
            &StepKind::MaxPool { ref windows, bits } => {
                let mut outputs = vec![];
                layouter.assign_region(
                    || step.name,
                    |mut region| {
                        self.assigner.region(step.name);
                        outputs.clear();
                        // Comparison n goes to lane n mod lanes.
                        let lanes = &self.config.lanes;
                        let mut n = 0;
                        for window in windows {
                            let mut best = x[window[0]].clone();
                            for &i in &window[1..] {
                                let (c, o) = (&lanes[n % lanes.len()], n / lanes.len());
                                let a = self.place(&mut region, &best, c.max.a, o)?;
                                let b = self.place(&mut region, &x[i], c.max.b, o)?;
                                best = c.max.max(&mut region, self.assigner, o, &a, &b, bits)?;
                                n += 1;
                            }
                            outputs.push(best);
                        }
                        Ok(())
                    },
                )?;
                Ok(vec![outputs])
            }
            StepKind::Add | StepKind::Mul => {
                let y = &tensors[step.inputs[1]];
                let op = if matches!(step.kind, StepKind::Mul) {
                    ArithConfig::mul
                } else {
                    ArithConfig::add
                };
                let out =
                    self.element_region(layouter, step.name, x.len(), |region, c, o, j| {
                        let a = self.place(region, &x[j], c.arith.a, o)?;
                        let b = self.place(region, &y[j], c.arith.b, o)?;
                        op(&c.arith, region, self.assigner, o, &a, &b)
                    })?;
                Ok(vec![out])
            }
            #[cfg(feature = "transformers")]
            StepKind::MatMul { dims } => Ok(vec![self.pair_dots(layouter, step, dims, tensors)?]),
            #[cfg(feature = "transformers")]
            &StepKind::Divide {
                shift,
                bits,
                divisor_bits,
            } => {
                let s = &tensors[step.inputs[1]];
                let lanes = &self.config.divide;
                if lanes.is_empty() || s.len() != x.len() {
                    return Err(Error::Synthesis);
                }
                // Division j in lane j mod lanes, two rows each.
                let out = layouter.assign_region(
                    || step.name,
                    |mut region| {
                        self.assigner.region(step.name);
                        (0..x.len())
                            .map(|j| {
                                let c = &lanes[j % lanes.len()];
                                let o = crate::chips::divide::DIVIDE_ROWS * (j / lanes.len());
                                let a = self.place(&mut region, &x[j], c.a, o)?;
                                let d =
                                    self.assigner.copy(&mut region, "divisor", &s[j], c.s, o)?;
                                c.divide(
                                    &mut region,
                                    self.assigner,
                                    o,
                                    (&a, &d),
                                    shift,
                                    bits,
                                    divisor_bits,
                                )
                            })
                            .collect::<Result<Vec<_>, Error>>()
                    },
                )?;
                Ok(vec![out])
            }
            &StepKind::Table { tag, ref table } => {
                let out = self.element_region(layouter, "table", x.len(), |region, c, o, j| {
                    let v = self.place(region, &x[j], c.table.x, o)?;
                    c.table.apply(region, self.assigner, o, table, tag, &v)
                })?;
                Ok(vec![out])
            }
            StepKind::Reshape => Ok(vec![x.clone()]),
            StepKind::Select { indices } => {
                let all: Vec<&Cell_> = step.inputs.iter().flat_map(|&id| &tensors[id]).collect();
                let out = indices
                    .iter()
                    .map(|i| i.map_or_else(|| self.zero.clone(), |i| all[i].clone()))
                    .collect();
                Ok(vec![out])
            }
        }
    }

    /// Products of two activations, on the pair-dot gate.
    #[cfg(feature = "transformers")]
    fn pair_dots(
        &self,
        layouter: &mut impl Layouter<Fp>,
        step: &Step,
        dims: &zkinfer_quant::MatMulDims,
        tensors: &[Vec<Cell_>],
    ) -> Result<Vec<Cell_>, Error> {
        use crate::chips::pair_dot::PairDotInstructions;
        let pair = self.config.pair_dot.as_ref().ok_or(Error::Synthesis)?;
        let [a, b] = [0, 1].map(|n| tensors[step.inputs[n]].as_slice());
        let products: Vec<Vec<(usize, usize)>> = (0..dims.outputs())
            .map(|e| dims.terms(e).collect())
            .collect();
        pair.pair_dots(
            layouter,
            self.assigner,
            &self.zero,
            step.name,
            (a, b),
            &products,
        )
    }

    fn dots(
        &self,
        layouter: &mut impl Layouter<Fp>,
        step: &Step,
        terms: &[Taps],
        x: &[Cell_],
    ) -> Result<Vec<Cell_>, Error> {
        let groups = dot_groups(terms, self.config.profile.layout());
        let weights = match &self.weights {
            Some(cells) => Some(cells.get(step.nodes[0]).ok_or(Error::Synthesis)?.as_slice()),
            None => None,
        };
        let products = DotProducts {
            taps: terms,
            groups: &groups,
            x,
            weights,
        };
        self.config
            .dot
            .dot_products(layouter, self.assigner, &self.zero, step.name, products)
    }

    /// Lays out committed weights: each tensor's values range-checked (by
    /// lookup while packing, or by bound rows) and committed, then the
    /// chain over the tensors' commitments ([`crate::weights`]). `model`
    /// gives the values (none for keys). Returns each node's weight cells
    /// and the model commitment.
    #[cfg(feature = "commitments")]
    pub fn commit_weights(
        &self,
        layouter: &mut impl Layouter<Fp>,
        model: Option<&QuantizedModel>,
    ) -> Result<(Vec<Vec<Cell_>>, Cell_), Error> {
        use crate::chips::commit::CommitInstructions;
        use crate::weights::{committed_tensors, model_initial, RangeCheck};
        let commit = self.config.commit.as_ref().ok_or(Error::Synthesis)?;
        // The layout is the architecture's; the values are the model's
        // (checked to be of the architecture: same tensors and widths).
        let layout = committed_tensors(self.model).map_err(|_| Error::Synthesis)?;
        let values = match model {
            Some(m) => Some(committed_tensors(m).map_err(|_| Error::Synthesis)?),
            None => None,
        };
        let mut cells = self.weight_cells(layouter)?;
        let (mut commitments, mut next_chip) = (vec![], 0);
        for (i, t) in layout.iter().enumerate() {
            let value = |j: usize| weight_value(values.as_deref(), i, t, j);
            let (tensor, commitment) = match t.check() {
                RangeCheck::Lookup => {
                    let v: Vec<Value<Fp>> = (0..t.values.len()).map(value).collect();
                    commit.commit_values(layouter, self.assigner, &self.zero, &v, &mut next_chip)?
                }
                _ => {
                    let tensor = self.weight_bounds(layouter, t, |region, column, o, j| {
                        self.assigner.advice(region, "weight", column, o, value(j))
                    })?;
                    let (zero, chip) = (&self.zero, &mut next_chip);
                    let h = commit.commit(
                        layouter,
                        self.assigner,
                        zero,
                        &tensor,
                        t.bits,
                        None,
                        chip,
                    )?;
                    (tensor, h)
                }
            };
            cells[t.node].extend(tensor);
            commitments.push(commitment);
        }
        let start = model_initial(layout.len());
        let h = commit.chain(layouter, start, &commitments, &mut next_chip)?;
        Ok((cells, h))
    }

    /// Each node's weight cells before its weights: a pooling node's
    /// `[zero, one]`, where its sums' taps point.
    #[cfg(feature = "committed-weights")]
    fn weight_cells(&self, layouter: &mut impl Layouter<Fp>) -> Result<Vec<Vec<Cell_>>, Error> {
        use zkinfer_quant::Op;
        let one = layouter.assign_region(
            || "one",
            |mut region| {
                region.assign_advice_from_constant(|| "one", self.config.acc, 0, Fp::one())
            },
        )?;
        Ok(self
            .model
            .nodes()
            .iter()
            .map(|n| match n.op {
                Op::SumPool2d(_) | Op::AvgPool2d(_) => vec![self.zero.clone(), one.clone()],
                _ => vec![],
            })
            .collect())
    }

    /// Range-checks a tensor of weights wider than a lookup: a bound row
    /// each (up to 16 bits) or a division row each,
    /// `v + 2^15 = q·2^16 + r` ([`crate::weights::RangeCheck`]). Value `j`
    /// is placed by `place(region, column, offset, j)`.
    #[cfg(feature = "committed-weights")]
    fn weight_bounds(
        &self,
        layouter: &mut impl Layouter<Fp>,
        t: &crate::weights::CommittedTensor,
        place: impl Fn(&mut Region<'_, Fp>, Column<Advice>, usize, usize) -> Result<Cell_, Error>,
    ) -> Result<Vec<Cell_>, Error> {
        use crate::weights::{split_quotient_bits, RangeCheck, BOUND_BITS};
        let (check, bits) = (t.check(), t.bits);
        self.element_region(
            layouter,
            "weights bound",
            t.values.len(),
            |region, c, o, j| {
                if check == RangeCheck::Split {
                    let cell = place(region, c.rescale.x, o, j)?;
                    let divisor = Divisor::Shift(BOUND_BITS);
                    let q = QuotientCheck::Bound(split_quotient_bits(bits));
                    c.rescale
                        .divide(region, self.assigner, o, &cell, divisor, q)?;
                    Ok(cell)
                } else {
                    let cell = place(region, c.bound.y, o, j)?;
                    c.bound.bound(region, self.assigner, o, &cell, bits)?;
                    Ok(cell)
                }
            },
        )
    }

    /// Lays out polycommit weights ([`crate::polycommit`]): every value in
    /// the weight store (up to 16 bits range-checked there), wider ones
    /// copied to division rows. `model` gives the values (none for
    /// keys). Returns each node's weight cells.
    #[cfg(feature = "committed-weights")]
    pub fn store_weights(
        &self,
        layouter: &mut impl Layouter<Fp>,
        model: Option<&QuantizedModel>,
    ) -> Result<Vec<Vec<Cell_>>, Error> {
        use crate::chips::weight_store::{StoreCheck, Stored};
        use crate::weights::committed_tensors;
        let store = self.config.weight_store.as_ref().ok_or(Error::Synthesis)?;
        let layout = committed_tensors(self.model).map_err(|_| Error::Synthesis)?;
        let values = match model {
            Some(m) => Some(committed_tensors(m).map_err(|_| Error::Synthesis)?),
            None => None,
        };
        let mut stored = vec![];
        for (i, t) in layout.iter().enumerate() {
            let check = t.store_check(store.shape());
            for j in 0..t.values.len() {
                let value = weight_value(values.as_deref(), i, t, j);
                stored.push(Stored { value, check });
            }
        }
        let stored = store.store(layouter, self.assigner, &stored)?;
        let mut cells = self.weight_cells(layouter)?;
        let mut next = 0;
        for t in &layout {
            let tensor = &stored[next..next + t.values.len()];
            next += t.values.len();
            if t.store_check(store.shape()) != StoreCheck::Elsewhere {
                cells[t.node].extend(tensor.iter().cloned());
            } else {
                let copies = self.weight_bounds(layouter, t, |region, column, o, j| {
                    self.assigner.copy(region, "weight", &tensor[j], column, o)
                })?;
                cells[t.node].extend(copies);
            }
        }
        Ok(cells)
    }

    /// One region of `n` element operations, operation `j` in lane
    /// `j mod lanes` at offset `j / lanes`, filled by
    /// `op(region, lane, offset, j)`.
    fn element_region<T>(
        &self,
        layouter: &mut impl Layouter<Fp>,
        name: &'static str,
        n: usize,
        mut op: impl FnMut(&mut Region<'_, Fp>, &ElementLane, usize, usize) -> Result<T, Error>,
    ) -> Result<Vec<T>, Error> {
        let lanes = &self.config.lanes;
        layouter.assign_region(
            || name,
            |mut region| {
                self.assigner.region(name);
                (0..n)
                    .map(|j| op(&mut region, &lanes[j % lanes.len()], j / lanes.len(), j))
                    .collect()
            },
        )
    }
}

/// Value `j` of the `i`-th committed tensor of a witness model's `values`
/// (none for keys), laid out as the architecture's tensor `layout`: unknown
/// unless the witness's tensor is of the architecture (same node, part and
/// width).
#[cfg(feature = "committed-weights")]
fn weight_value(
    values: Option<&[crate::weights::CommittedTensor]>,
    i: usize,
    layout: &crate::weights::CommittedTensor,
    j: usize,
) -> Value<Fp> {
    values
        .and_then(|v| v.get(i))
        .filter(|v| (v.node, v.part, v.bits) == (layout.node, layout.part, layout.bits))
        .and_then(|v| v.values.get(j))
        .map_or(Value::unknown(), |&x| Value::known(crate::field::fe(x)))
}
