//! Attention, in the importer: products of two activations (`Q·Kᵀ` and
//! `weights·V`), the softmax inside a model, and constant masks (a `Where`
//! of `-inf`) that the softmax leaves out.

use super::*;

/// `L` of a softmax's `exp(relu(x − max + L))` ([`Walker::softmax_layers`]):
/// terms below `e^−12 ≈ 6·10⁻⁶` of the largest are lifted to it.
const SOFTMAX_EXP_RANGE: f32 = 12.0;

impl Walker<'_> {
    /// `Softmax` or `LogSoftmax` inside a model (attention's), written out
    /// with ops the circuit proves: the maximum over the axes (pairwise
    /// comparisons), `d = x − max`, an exp table over `d`'s calibrated
    /// domain, the sum of the exps `s`, then `e / s` by a proved rounding
    /// division (`LogSoftmax`: `d − ln s` through a log table).
    ///
    /// With a `-inf` mask on the input (`masked`: a causal mask), the
    /// masked positions are left out: the maximum reads a kept element of
    /// the same row in their place, and their exps are zeros.
    pub(super) fn softmax_layers(
        &mut self,
        index: usize,
        node: &NodeProto,
        x: &Dyn,
        out: &str,
        masked: bool,
    ) -> R<()> {
        use zkinfer_quant::TableFunction;
        let shape = x.shape.clone();
        let full = with_batch(&shape);
        let axes = opset::softmax_axes(node, self.opset, full.len())?;
        if axes.contains(&0) {
            return Err(format!("{} over the batch axis", node.op_type));
        }
        let keep = match masked {
            true => self.masks.get(self.resolve(&node.input[0])).cloned(),
            false => None,
        };
        let (mut id, _) = self.plain(x, node);
        // With a mask: each masked element replaced by its row's first kept
        // one (the maximum is unchanged), and the same map with zeros for
        // the exps.
        let (max_input, exp_keep) = match &keep {
            Some(keep) => {
                let first = masked_rows(&full, &axes, keep)?;
                let select = |indices| FloatOp::Select {
                    shape: shape.clone(),
                    indices,
                };
                let stand_ins = (0..keep.len()).map(|i| Some(first[i])).collect();
                let zeros = (0..keep.len()).map(|i| keep[i].then_some(i)).collect();
                (Some(select(stand_ins)), Some(select(zeros)))
            }
            None => (None, None),
        };
        if let Some(op) = max_input {
            id = self.layer(&[index], op, vec![id]);
        }
        // The reduction over the axes, broadcast back to the full shape;
        // negated and offset by `plus` first when asked.
        let reduced =
            |w: &mut Self, id: usize, op: &str, f: Option<TableFunction>, plus: Option<f32>| {
                let (r, plan) = w.reduce_layers(index, id, &shape, &axes, op, true)?;
                let mut r = w.reshape_reduced(index, r, &plan);
                if let Some(function) = f {
                    r = w.layer(&[index], FloatOp::Activation { function }, vec![r]);
                }
                if let Some(plus) = plus {
                    let mut negation = Affine::negation(plan.out_shape.iter().product(), index);
                    negation.shift.iter_mut().for_each(|s| *s = plus);
                    r = w.affine_layers(&negation, &plan.out_shape, r);
                }
                Ok::<usize, String>(w.broadcast(index, r, &plan.out_shape, &full))
            };
        let softmax = node.op_type == "Softmax";
        // The softmax exponentiates `relu(d + L)` with `d = x − max`: the
        // same ratios (a common factor e^L), with every `d < −L` lifted to
        // `−L` (a change below e^−L of the largest term), so the exp
        // table spans `[0, L]`, not the scores' whole range (often ±60),
        // and its points lie that much closer together.
        let lift = if softmax { SOFTMAX_EXP_RANGE } else { 0.0 };
        let max = reduced(self, id, "ReduceMax", None, Some(lift))?;
        // From the stand-ins, so that `d ≤ 0` everywhere: a masked score
        // may exceed its row's kept maximum, and the exp table's domain
        // would have to reach it for an element that is then zeroed.
        let d = self.layer(&[index], FloatOp::Add, vec![id, max]);
        let exp_input = match softmax {
            true => self.layer(&[index], FloatOp::Relu, vec![d]),
            false => d,
        };
        let exp = FloatOp::Activation {
            function: TableFunction::Exp,
        };
        let mut e = self.layer(&[index], exp, vec![exp_input]);
        if let Some(op) = exp_keep {
            e = self.layer(&[index], op, vec![e]);
        }
        if node.op_type == "LogSoftmax" {
            let log_sum = reduced(self, e, "ReduceSum", Some(TableFunction::Log), Some(0.0))?;
            self.push(index, FloatOp::Add, vec![d, log_sum], out, shape);
        } else {
            let sum = reduced(self, e, "ReduceSum", None, None)?;
            self.push(index, FloatOp::Div, vec![e, sum], out, shape);
        }
        Ok(())
    }

    /// `Where` with a constant condition and one constant branch: a mask.
    /// A `-inf` branch (a causal mask before a softmax) is recorded for the
    /// Softmax that reads the value ([`Self::softmax_layers`]); a finite
    /// one is a per-element affine map, exact (scale 0 and the constant
    /// where it is taken, the identity elsewhere).
    pub(super) fn where_constant(
        &mut self,
        index: usize,
        node: &NodeProto,
        vals: &[Val],
        out: &str,
    ) -> R<()> {
        let [Val::Const(condition), a, b] = vals else {
            return Err("Where with a condition computed at run time is not supported".into());
        };
        let (x, fill, x_when_true) = match (a, b) {
            (Val::Dyn(x), Val::Const(c)) => (x, c, true),
            (Val::Const(c), Val::Dyn(x)) => (x, c, false),
            _ => return Err("Where of two tensors computed at run time is not supported".into()),
        };
        let full = with_batch(&x.shape);
        let dims = fold::broadcast_dims(&condition.dims, &fill.dims)?;
        if fold::broadcast_dims(&dims, &full)? != full {
            self.keep_shape(out, x);
            return Err(format!(
                "Where broadcasts a tensor of {full:?} to a larger shape"
            ));
        }
        let (c, f) = (condition.as_f32(), fill.as_f32());
        let (ci, fi) = (
            fold::broadcast_index(&condition.dims, &full),
            fold::broadcast_index(&fill.dims, &full),
        );
        let n: usize = full.iter().product();
        let keep: Vec<bool> = (0..n).map(|i| (c[ci(i)] != 0.0) == x_when_true).collect();
        let fills = || (0..n).filter(|&i| !keep[i]).map(|i| f[fi(i)]);
        if fills().all(|v| v == f32::NEG_INFINITY) {
            self.set(out, Val::Dyn(x.clone()));
            let name = self.resolve(out).to_string();
            self.masks.insert(name, keep);
            self.status(
                index,
                Status::Dropped {
                    why: "a -inf mask: the Softmax that reads it leaves the masked positions out"
                        .into(),
                },
            );
            Ok(())
        } else if fills().all(f32::is_finite) {
            let a = Affine {
                pre: vec![0.0; n],
                scale: keep.iter().map(|&k| if k { 1.0 } else { 0.0 }).collect(),
                shift: (0..n)
                    .map(|i| if keep[i] { 0.0 } else { f[fi(i)] })
                    .collect(),
                nodes: vec![index],
            };
            self.apply_affine(index, node, x.clone(), a)
        } else {
            self.keep_shape(out, x);
            Err("Where with a constant branch of both -inf and other values".into())
        }
    }

    /// `MatMul` of two tensors (attention's `Q·Kᵀ` and `weights·V`), both
    /// of rank 2 or more without the batch: the leading dims broadcast
    /// (numpy's rule, by a select where one side is smaller), then one
    /// matrix product per leading index.
    pub(super) fn matmul_activations(
        &mut self,
        index: usize,
        node: &NodeProto,
        a: &Dyn,
        b: &Dyn,
        out: &str,
    ) -> R<()> {
        let (ia, sa) = self.plain(a, node);
        let (ib, sb) = self.plain(b, node);
        let (Some(((ma, ka), lead_a)), Some(((kb, nb), lead_b))) =
            (split_matrix(&sa), split_matrix(&sb))
        else {
            return Err(format!(
                "MatMul of tensors {:?} and {:?}: zkinfer multiplies two tensors of rank 3 or more                  (batch included), as attention does",
                with_batch(&sa),
                with_batch(&sb)
            ));
        };
        if ka != kb {
            return Err(format!(
                "MatMul of {:?} by {:?}: {ka} columns against {kb} rows",
                with_batch(&sa),
                with_batch(&sb)
            ));
        }
        let lead = fold::broadcast_dims(&with_batch(lead_a), &with_batch(lead_b))?;
        let full = |rows: usize, columns: usize| {
            let mut full = lead.clone();
            full.extend([rows, columns]);
            full
        };
        let ia = self.broadcast(index, ia, &sa, &full(ma, ka));
        let ib = self.broadcast(index, ib, &sb, &full(kb, nb));
        let shape = without_batch(&full(ma, nb), "the product's shape")?;
        self.push(index, FloatOp::MatMul, vec![ia, ib], out, shape);
        Ok(())
    }
}

/// For a softmax over `axes` of a tensor of `full` dims with elements
/// `keep`-t or masked: each element's stand-in, itself when kept, else the
/// first kept element of its row (the elements equal but on the axes).
fn masked_rows(full: &[usize], axes: &[usize], keep: &[bool]) -> R<Vec<usize>> {
    let strides: Vec<usize> = (0..full.len())
        .map(|a| full[a + 1..].iter().product())
        .collect();
    // An element's row: its index with the axes' coordinates zeroed.
    let row = |i: usize| -> usize {
        axes.iter()
            .map(|&a| (i / strides[a] % full[a]) * strides[a])
            .fold(i, |r, off| r - off)
    };
    let mut first: HashMap<usize, usize> = HashMap::new();
    for (i, _) in keep.iter().enumerate().filter(|(_, &k)| k) {
        first.entry(row(i)).or_insert(i);
    }
    (0..keep.len())
        .map(|i| match keep[i] {
            true => Ok(i),
            false => first
                .get(&row(i))
                .copied()
                .ok_or_else(|| "a softmax row masked entirely (every position -inf)".to_string()),
        })
        .collect()
}

/// A shape without the batch as `((rows, columns), leading dims)`, when it
/// has two dims or more.
fn split_matrix(shape: &[usize]) -> Option<((usize, usize), &[usize])> {
    match shape {
        [lead @ .., rows, columns] => Some(((*rows, *columns), lead)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::masked_rows;

    /// A causal mask over the last axis of `[1, 2, 3, 3]` (two heads of
    /// three tokens): a masked score stands in for its row's first kept
    /// one, the first column, in both heads.
    #[test]
    fn masked_positions_stand_in_for_their_rows_first_kept_element() {
        let causal: Vec<bool> = (0..18).map(|i| i % 3 <= i / 3 % 3).collect();
        let stand_ins = masked_rows(&[1, 2, 3, 3], &[3], &causal).unwrap();
        assert_eq!(
            stand_ins,
            [0, 0, 0, 3, 4, 3, 6, 7, 8, 9, 9, 9, 12, 13, 12, 15, 16, 17]
        );
        // Over the rows instead (axis 2): a column's first kept element.
        let by_column = masked_rows(&[1, 2, 3, 3], &[2], &causal).unwrap();
        assert_eq!(&by_column[..9], [0, 4, 8, 3, 4, 8, 6, 7, 8]);
    }

    #[test]
    fn a_row_masked_entirely_is_refused() {
        let keep = [true, true, false, false];
        let err = masked_rows(&[1, 2, 2], &[2], &keep).unwrap_err();
        assert!(err.contains("masked entirely"), "{err}");
    }
}
