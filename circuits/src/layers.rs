//! Tensor-level layout: each [`Step`] of the plan placed with the chips.
//!
//! A tensor is the list of its cells. Values come from the trace (the
//! reference semantics); every derived witness (remainders, signs, limbs,
//! partial sums) is computed by the chips with [`zkinfer_quant::ops`].

use crate::assign::{Assigner, Cell_};
use crate::chips::dot::{DotInstructions, DotProduct};
use crate::chips::rescale::Divisor;
use crate::config::ModelConfig;
use crate::plan::{dot_terms, Step};
use halo2_proofs::circuit::{Layouter, Region, Value};
use halo2_proofs::plonk::{Advice, Column, Error};
use pasta_curves::Fp;
use zkinfer_quant::taps::pool_windows;
use zkinfer_quant::{Op, QuantizedModel, Trace};

/// What layers need while laying out.
pub(crate) struct LayoutCtx<'a> {
    pub config: &'a ModelConfig,
    pub assigner: &'a Assigner,
    pub model: &'a QuantizedModel,
    pub trace: Option<&'a Trace>,
    pub zero: Cell_,
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
        layouter.assign_region(
            || "input",
            |mut region| {
                (0..spec.shape.numel())
                    .map(|j| {
                        let v = self.value(0, j);
                        let y = self.config.bound.y;
                        let cell = self.assigner.advice(
                            &mut region,
                            "input",
                            y,
                            j,
                            v.map(crate::field::fe),
                        )?;
                        self.config
                            .bound
                            .bound(&mut region, self.assigner, j, v, spec.bits)?;
                        Ok(cell)
                    })
                    .collect()
            },
        )
    }

    /// Lays out one step; `tensors[id]` holds the cells of tensor `id`.
    pub fn step(
        &self,
        layouter: &mut impl Layouter<Fp>,
        step: &Step,
        tensors: &[Vec<Cell_>],
    ) -> Result<Vec<Vec<Cell_>>, Error> {
        let nodes = self.model.nodes();
        let node = step.nodes()[0];
        let input_id = nodes[node].inputs[0];
        let x = &tensors[input_id];
        let out_id = node + 1;
        match *step {
            Step::Dot { .. } => Ok(vec![self.dots(layouter, node, x)?]),
            Step::AvgPool { .. } => {
                let Op::AvgPool2d(p) = &nodes[node].op else {
                    unreachable!("planned")
                };
                let sums = self.dots(layouter, node, x)?;
                let n = (p.kernel[0] * p.kernel[1]) as i64;
                let out =
                    self.element_region(layouter, "avg_pool2d", sums.len(), |region, j| {
                        let c = self.config;
                        self.place(region, &sums[j], c.rescale.x, j)?;
                        let sum = sums[j]
                            .value()
                            .map(|v| crate::field::to_i64(v).unwrap_or(0));
                        c.rescale
                            .divide(region, self.assigner, j, sum, Divisor::Window(n))
                    })?;
                Ok(vec![out])
            }
            Step::Rescale { relu, .. } => {
                let Op::Rescale(r) = nodes[node].op else {
                    unreachable!("planned")
                };
                let name = if relu.is_some() {
                    "rescale+relu"
                } else {
                    "rescale"
                };
                let cells = self.element_region(layouter, name, x.len(), |region, j| {
                    let c = self.config;
                    self.place(region, &x[j], c.rescale.x, j)?;
                    let y = c.rescale.divide(
                        region,
                        self.assigner,
                        j,
                        self.value(input_id, j),
                        Divisor::Shift(r.shift),
                    )?;
                    let y_value = self.value(out_id, j);
                    if relu.is_some() {
                        let z = c.relu.relu(region, self.assigner, j, y_value, r.bits)?;
                        Ok((y, Some(z)))
                    } else {
                        c.bound.bound(region, self.assigner, j, y_value, r.bits)?;
                        Ok((y, None))
                    }
                })?;
                let (ys, zs): (Vec<Cell_>, Vec<Option<Cell_>>) = cells.into_iter().unzip();
                match relu {
                    Some(_) => Ok(vec![ys, zs.into_iter().flatten().collect()]),
                    None => Ok(vec![ys]),
                }
            }
            Step::Relu { .. } => {
                let bits = self.model.specs()[input_id].bits;
                let out = self.element_region(layouter, "relu", x.len(), |region, j| {
                    self.place(region, &x[j], self.config.relu.y, j)?;
                    self.config
                        .relu
                        .relu(region, self.assigner, j, self.value(input_id, j), bits)
                })?;
                Ok(vec![out])
            }
            Step::MaxPool { .. } => {
                let Op::MaxPool2d(p) = nodes[node].op else {
                    unreachable!("planned")
                };
                let spec = &self.model.specs()[input_id];
                let windows = pool_windows(&spec.shape, p.kernel, p.stride);
                let mut outputs = vec![];
                layouter.assign_region(
                    || "max_pool2d",
                    |mut region| {
                        outputs.clear();
                        let mut offset = 0;
                        for window in &windows {
                            let mut best = x[window[0]].clone();
                            let mut best_value = self.value(input_id, window[0]);
                            for &i in &window[1..] {
                                let c = self.config;
                                self.place(&mut region, &best, c.max.a, offset)?;
                                self.place(&mut region, &x[i], c.max.b, offset)?;
                                let v = self.value(input_id, i);
                                best = c.max.max(
                                    &mut region,
                                    self.assigner,
                                    offset,
                                    best_value,
                                    v,
                                    spec.bits,
                                )?;
                                best_value = best_value.zip(v).map(|(a, b)| a.max(b));
                                offset += 1;
                            }
                            outputs.push(best);
                        }
                        Ok(())
                    },
                )?;
                Ok(vec![outputs])
            }
            Step::Add { .. } => {
                let y = &tensors[nodes[node].inputs[1]];
                let out = self.element_region(layouter, "add", x.len(), |region, j| {
                    let c = self.config;
                    let a = self.place(region, &x[j], c.add.a, j)?;
                    let b = self.place(region, &y[j], c.add.b, j)?;
                    c.add.add(region, self.assigner, j, &a, &b)
                })?;
                Ok(vec![out])
            }
            Step::Table { tag, .. } => {
                let (Op::Sigmoid(t) | Op::Tanh(t)) = &nodes[node].op else {
                    unreachable!("planned")
                };
                let out = self.element_region(layouter, "table", x.len(), |region, j| {
                    self.place(region, &x[j], self.config.table.x, j)?;
                    self.config.table.apply(
                        region,
                        self.assigner,
                        j,
                        t,
                        tag,
                        self.value(input_id, j),
                    )
                })?;
                Ok(vec![out])
            }
            Step::Reshape { .. } => Ok(vec![x.clone()]),
        }
    }

    fn dots(
        &self,
        layouter: &mut impl Layouter<Fp>,
        node: usize,
        x: &[Cell_],
    ) -> Result<Vec<Cell_>, Error> {
        let products: Vec<DotProduct> = dot_terms(self.model, node)
            .into_iter()
            .map(|(terms, bias)| DotProduct {
                terms: terms.into_iter().map(|(w, i)| (w, x[i].clone())).collect(),
                bias,
            })
            .collect();
        let name = self.model.nodes()[node].op.name();
        self.config
            .dot
            .dot_products(layouter, self.assigner, &self.zero, name, &products)
    }

    /// One region of `rows` element rows, row `j` filled by `row(region, j)`.
    fn element_region<T>(
        &self,
        layouter: &mut impl Layouter<Fp>,
        name: &'static str,
        rows: usize,
        mut row: impl FnMut(&mut Region<'_, Fp>, usize) -> Result<T, Error>,
    ) -> Result<Vec<T>, Error> {
        layouter.assign_region(
            || name,
            |mut region| (0..rows).map(|j| row(&mut region, j)).collect(),
        )
    }
}
