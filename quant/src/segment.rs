//! Segments: a model cut into parts that are proven one by one.
//!
//! A **cut** is a tensor after which nothing earlier is read: when it is
//! computed, it is all that flows on (the residual stream between two
//! transformer blocks, the activations between two layers of an MLP). The
//! nodes between two cuts are a model of their own
//! ([`QuantizedModel::segment`]) whose input is the first cut and whose
//! output is the second, with the same specs, so its forward pass is the
//! whole model's, tensor for tensor ([`Trace::segment`]). A model proven
//! in parts proves each segment and links them by commitments of the cut
//! tensors (`zkinfer prove --per-layer`).

use crate::error::{QuantError, Result};
use crate::forward::Trace;
use crate::model::{Node, QuantizedModel, TensorId};

impl QuantizedModel {
    /// Every cut, in order: the tensors (neither the input nor the output)
    /// after whose node no node reads an earlier tensor.
    pub fn cuts(&self) -> Vec<TensorId> {
        let nodes = self.nodes();
        // earliest[t]: the earliest tensor read by node t or any later.
        let mut earliest = vec![TensorId::MAX; nodes.len() + 1];
        for (i, node) in nodes.iter().enumerate().rev() {
            let read = node.inputs.iter().copied().min().unwrap_or(TensorId::MAX);
            earliest[i] = earliest[i + 1].min(read);
        }
        // Tensor t is produced by node t - 1 and read from node t on.
        (1..nodes.len()).filter(|&t| earliest[t] >= t).collect()
    }

    /// The cuts at block boundaries: where a residual stream forks (a cut
    /// read by two nodes or more: the input of each transformer or
    /// residual block) or, in a model without one, before each layer with
    /// weights but the first (a dense or convolution layer with its
    /// activation, pooling and rescale).
    pub fn block_cuts(&self) -> Vec<TensorId> {
        let cuts = self.cuts();
        let readers = |t: TensorId| {
            self.nodes()
                .iter()
                .filter(|n| n.inputs.contains(&t))
                .count()
        };
        let forks: Vec<TensorId> = cuts.iter().copied().filter(|&t| readers(t) > 1).collect();
        if !forks.is_empty() {
            return forks;
        }
        cuts.into_iter()
            .filter(|&t| self.nodes()[t].op.parameter_count() > 0)
            .collect()
    }

    /// The segment from tensor `from` (the input, or a cut: the segment's
    /// input) to tensor `to` (a later cut, or the output: the segment's
    /// output). Its tensors are this model's `from..=to`, with the same
    /// specs; its name says which.
    pub fn segment(&self, from: TensorId, to: TensorId) -> Result<QuantizedModel> {
        let last = self.nodes().len();
        let cuts = self.cuts();
        let is_end = |t: TensorId, end: TensorId| t == end || cuts.contains(&t);
        if from >= to || to > last || !is_end(from, 0) || !is_end(to, last) {
            return Err(QuantError::InvalidModel(format!(
                "tensors {from} to {to} are not a segment of {} (its cuts: {cuts:?}, its output: \
                 {last})",
                self.name()
            )));
        }
        let nodes = self.nodes()[from..to]
            .iter()
            .map(|node| Node {
                inputs: node.inputs.iter().map(|&t| t - from).collect(),
                op: node.op.clone(),
            })
            .collect();
        let name = format!("{} [{from}..{to}]", self.name());
        QuantizedModel::new(name, self.specs()[from].clone(), nodes, None)
    }
}

impl Trace {
    /// The tensors `from..=to` of a trace: the trace of the model's segment
    /// between them ([`QuantizedModel::segment`]).
    pub fn segment(&self, from: TensorId, to: TensorId) -> Trace {
        Trace {
            tensors: self.tensors[from..=to].to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::layer::{Linear, Op, Rescale};
    use crate::model::{Node, QuantizedModel, TensorSpec};
    use crate::tensor::{Scale, Shape, Tensor};

    fn node(inputs: &[usize], op: Op) -> Node {
        Node {
            inputs: inputs.to_vec(),
            op,
        }
    }

    fn linear(n: usize, seed: i64) -> Op {
        Op::Linear(Linear {
            weight: Tensor::new(
                [n, n],
                (0..(n * n) as i64).map(|i| (i * seed) % 7 - 3).collect(),
            )
            .unwrap(),
            weight_scale: Scale(2),
            bias: vec![1; n],
        })
    }

    fn rescale() -> Op {
        Op::Rescale(Rescale { shift: 2, bits: 8 })
    }

    fn spec() -> TensorSpec {
        TensorSpec {
            shape: Shape(vec![3]),
            scale: Scale(2),
            bits: 8,
        }
    }

    /// 0 → linear → rescale → relu → linear → rescale (an MLP).
    fn mlp() -> QuantizedModel {
        let nodes = vec![
            node(&[0], linear(3, 5)),
            node(&[1], rescale()),
            node(&[2], Op::Relu),
            node(&[3], linear(3, 3)),
            node(&[4], rescale()),
        ];
        QuantizedModel::new("mlp", spec(), nodes, None).unwrap()
    }

    /// 0 → linear → rescale → add(0) → linear → rescale → add(3) → relu:
    /// two residual blocks.
    fn residual() -> QuantizedModel {
        let nodes = vec![
            node(&[0], linear(3, 5)),
            node(&[1], rescale()),
            node(&[2, 0], Op::Add),
            node(&[3], linear(3, 3)),
            node(&[4], rescale()),
            node(&[5, 3], Op::Add),
            node(&[6], Op::Relu),
        ];
        QuantizedModel::new("res", spec(), nodes, None).unwrap()
    }

    #[test]
    fn cuts_are_where_one_tensor_flows_on() {
        assert_eq!(mlp().cuts(), vec![1, 2, 3, 4]);
        assert_eq!(mlp().block_cuts(), vec![3], "before the second linear");
        let res = residual();
        assert_eq!(res.cuts(), vec![3, 6], "the residual stream only");
        assert_eq!(res.block_cuts(), vec![3], "where it forks");
    }

    #[test]
    fn segments_compute_the_whole_model_tensor_for_tensor() {
        for (model, input) in [(mlp(), [5, -9, 100]), (residual(), [-60, 7, 33])] {
            let trace = model
                .forward(&Tensor::new([3], input.to_vec()).unwrap())
                .unwrap();
            let mut ends = vec![0];
            ends.extend(model.cuts());
            ends.push(model.nodes().len());
            for pair in ends.windows(2) {
                let (from, to) = (pair[0], pair[1]);
                let segment = model.segment(from, to).unwrap();
                assert_eq!(segment.input(), &model.specs()[from]);
                assert_eq!(segment.output(), &model.specs()[to]);
                let part = segment.forward(trace.tensors.get(from).unwrap()).unwrap();
                assert_eq!(
                    part,
                    trace.segment(from, to),
                    "{} {from}..{to}",
                    model.name()
                );
            }
            // The whole model is its own segment, with its digest.
            let whole = model.segment(0, model.nodes().len()).unwrap();
            assert_eq!(whole.digest(), model.digest());
        }
    }

    #[test]
    fn a_segment_must_start_and_end_at_cuts() {
        let res = residual();
        for (from, to) in [(0, 2), (1, 3), (3, 3), (6, 3), (3, 8), (4, 7)] {
            let error = res.segment(from, to).unwrap_err().to_string();
            assert!(
                error.contains("not a segment of res"),
                "{from}..{to}: {error}"
            );
        }
        assert!(res.segment(3, 7).is_ok());
    }
}
