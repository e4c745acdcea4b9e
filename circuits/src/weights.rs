//! Committed weights: a model's weights and biases as private,
//! range-checked cells, and their Poseidon commitment as a public input,
//! so that the circuit — and its verifying key — depends only on the
//! model's [`architecture`].
//!
//! **Declared widths** ([`committed_tensors`]). Each weighted node commits
//! its weights, then its biases, as two tensors ([`CommittedTensor`]), each
//! at a declared width and range-checked by its [`RangeCheck`]: weights of
//! up to 8 bits at 8 bits (one range-table lookup each, in the packing
//! rows); other tensors of up to 16 bits at 16 (a bound row each); wider
//! ones — biases at the accumulator's scale often are — at the first of
//! 20, 24, 28 or 32 bits whose division row's interval ([`split_range`])
//! holds them (a division row each). Wider tensors are refused, naming the
//! node.
//!
//! **The architecture** is the model with every weight and bias at the
//! most negative value its range check accepts
//! ([`CommittedTensor::extreme`]: `-2^(bits-1)`, or a division row's
//! `-2^(bits-2) - 2^15`), and no calibration record; the widths it
//! declares are its own. Its tensor specs bound every model with the same
//! graph and widths, so the bounds the circuit relies on hold whatever
//! weights are committed; its digest names the architecture, and one
//! verifying key serves every set of weights of it.
//!
//! **The model commitment** ([`model_commitment`]): `h_0 = 2 + 2^16·t`
//! for `t` tensors (low byte 2, where a tensor's chain starts with 1:
//! [`crate::commitment::initial`]), then `h_{i+1} = Poseidon(h_i, c_i)`
//! over each tensor's own unblinded commitment `c_i`, in node order.
//! Weights are not blinded: a model's thousands of weights are not found by
//! trying candidates the way a small input is.

#[cfg(feature = "commitments")]
use crate::commitment::{commit, hash2};
use crate::error::{CircuitError, Result};
#[cfg(feature = "commitments")]
use crate::field::fe;
#[cfg(feature = "commitments")]
use pasta_curves::Fp;
use zkinfer_quant::{Node, Op, QuantizedModel};

/// Weights committed at this width are range-checked by one lookup each.
pub const LOOKUP_BITS: u32 = crate::chips::range::LIMB_BITS;

/// Committed tensors up to this width are range-checked by a bound row.
pub const BOUND_BITS: u32 = crate::chips::range::MAX_RANGE_BITS;

/// The widest declared width: a division by `2^16` whose quotient a bound
/// row checks.
pub const MAX_BITS: u32 = 2 * BOUND_BITS;

/// How a committed tensor's values are proven to fit its width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeCheck {
    /// One range-table lookup a value, in the packing rows (8 bits).
    Lookup,
    /// A bound row a value (up to 16 bits).
    Bound,
    /// A division row a value: `v + 2^15 = q·2^16 + r` with `r` in 16 bits
    /// and `q` in [`split_quotient_bits`] signed bits, so that `v` lies in
    /// [`split_range`], within the `bits` signed bits it is packed at.
    Split,
}

/// The widths a division row checks.
const SPLIT_BITS: [u32; 4] = [20, 24, 28, 32];

/// The quotient's width in a `bits`-bit division row check.
pub fn split_quotient_bits(bits: u32) -> u32 {
    bits - BOUND_BITS - 1
}

/// The values a `bits`-bit division row check accepts, `[low, high)`:
/// `q·2^16 + r - 2^15` over `q` in [`split_quotient_bits`] signed bits and
/// `r` in `[0, 2^16)`, which is `[-2^(bits-2) - 2^15, 2^(bits-2) - 2^15)`.
pub fn split_range(bits: u32) -> (i64, i64) {
    let (reach, half) = (1i64 << (bits - 2), 1i64 << (BOUND_BITS - 1));
    (-reach - half, reach - half)
}

/// Low byte of a model commitment's first chain element.
pub const MODEL_COMMITMENT_TAG: u64 = 2;

/// Which of a node's parameters a committed tensor holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The weight tensor, row-major.
    Weight,
    /// The biases.
    Bias,
}

/// One tensor of a model's weights, at its declared width.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommittedTensor {
    /// The node it belongs to.
    pub node: usize,
    /// Weights or biases.
    pub part: Part,
    /// The declared width.
    pub bits: u32,
    /// The values.
    pub values: Vec<i64>,
}

impl CommittedTensor {
    /// The most negative value its range check accepts: what the
    /// architecture puts in its place.
    pub fn extreme(&self) -> i64 {
        match self.check() {
            RangeCheck::Lookup | RangeCheck::Bound => -(1i64 << (self.bits - 1)),
            RangeCheck::Split => split_range(self.bits).0,
        }
    }

    /// How a polycommit weight store of `shape` checks its values: bytes
    /// in the store, 16-bit values there when it has 16-bit groups, the
    /// rest in bound or division rows.
    pub fn store_check(&self, shape: crate::plan::StoreShape) -> crate::plan::StoreCheck {
        use crate::plan::StoreCheck;
        match self.check() {
            RangeCheck::Lookup => StoreCheck::Byte,
            RangeCheck::Bound if shape.short > 0 => StoreCheck::Short,
            RangeCheck::Bound | RangeCheck::Split => StoreCheck::Elsewhere,
        }
    }

    /// How its values are range-checked.
    pub fn check(&self) -> RangeCheck {
        match self.bits {
            LOOKUP_BITS => RangeCheck::Lookup,
            bits if bits <= BOUND_BITS => RangeCheck::Bound,
            _ => RangeCheck::Split,
        }
    }
}

/// The width a tensor is committed at (see the module docs), if any.
fn declared_bits(values: &[i64], lookup: bool) -> Option<u32> {
    if lookup && fits(values, LOOKUP_BITS) {
        return Some(LOOKUP_BITS);
    }
    if fits(values, BOUND_BITS) {
        return Some(BOUND_BITS);
    }
    // The first division row whose interval holds them: a rule the
    // architecture's extremes give back.
    SPLIT_BITS.into_iter().find(|&bits| {
        let (low, high) = split_range(bits);
        values.iter().all(|v| (low..high).contains(v))
    })
}

/// A weighted node's weights and biases.
fn parameters(op: &Op) -> Option<(&[i64], &[i64])> {
    match op {
        Op::Linear(l) => Some((&l.weight.data, &l.bias)),
        Op::Conv2d(c) => Some((&c.weight.data, &c.bias)),
        _ => None,
    }
}

fn fits(values: &[i64], bits: u32) -> bool {
    let half = 1i128 << (bits - 1);
    values
        .iter()
        .all(|&v| (-half..half).contains(&i128::from(v)))
}

/// The committed tensors of a model, in commitment order (node order,
/// weights before biases), each at its declared width.
pub fn committed_tensors(model: &QuantizedModel) -> Result<Vec<CommittedTensor>> {
    let mut tensors = vec![];
    for (node, n) in model.nodes().iter().enumerate() {
        let Some((weights, biases)) = parameters(&n.op) else {
            continue;
        };
        let too_wide = |what: &str| CircuitError::Unsupported {
            node,
            op: n.op.name(),
            reason: format!(
                "committed {what} must lie in [{}, {}) (a division row's check)",
                split_range(MAX_BITS).0,
                split_range(MAX_BITS).1
            ),
        };
        let weight_bits = declared_bits(weights, true).ok_or_else(|| too_wide("weights"))?;
        let bias_bits = declared_bits(biases, false).ok_or_else(|| too_wide("biases"))?;
        for (part, bits, values) in [
            (Part::Weight, weight_bits, weights),
            (Part::Bias, bias_bits, biases),
        ] {
            tensors.push(CommittedTensor {
                node,
                part,
                bits,
                values: values.to_vec(),
            });
        }
    }
    Ok(tensors)
}

/// The model's architecture (see the module docs): what a circuit with
/// committed weights is built from.
pub fn architecture(model: &QuantizedModel) -> Result<QuantizedModel> {
    let tensors = committed_tensors(model)?;
    let extreme = |node: usize, part: Part| {
        tensors
            .iter()
            .find(|t| t.node == node && t.part == part)
            .map_or(0, CommittedTensor::extreme)
    };
    let nodes: Vec<Node> = model
        .nodes()
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut n = n.clone();
            let (w, b) = (extreme(i, Part::Weight), extreme(i, Part::Bias));
            match &mut n.op {
                Op::Linear(l) => {
                    l.weight.data.fill(w);
                    l.bias.fill(b);
                }
                Op::Conv2d(c) => {
                    c.weight.data.fill(w);
                    c.bias.fill(b);
                }
                _ => {}
            }
            n
        })
        .collect();
    QuantizedModel::new(model.name(), model.input().clone(), nodes, None).map_err(|e| {
        CircuitError::Unsupported {
            node: 0,
            op: "model",
            reason: format!("its architecture (every weight at its declared width's extreme) is not a valid model: {e}"),
        }
    })
}

/// The first element of a model commitment's chain over `tensors` tensors.
#[cfg(feature = "commitments")]
pub fn model_initial(tensors: usize) -> Fp {
    fe(MODEL_COMMITMENT_TAG as i64) + Fp::from(tensors as u64) * Fp::from(1 << 16)
}

/// The commitment of a model's weights (see the module docs).
#[cfg(feature = "commitments")]
pub fn model_commitment(model: &QuantizedModel) -> Result<Fp> {
    let tensors = committed_tensors(model)?;
    tensors
        .iter()
        .try_fold(model_initial(tensors.len()), |h, t| {
            // Widths were checked above.
            let c = commit(&t.values, t.bits, None)
                .map_err(|e| CircuitError::Witness(e.to_string()))?;
            Ok(hash2(h, c))
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use zkinfer_quant::{Linear, Scale, Shape, Tensor, TensorSpec};

    /// One linear layer, 3 inputs to 2 outputs.
    pub(crate) fn mlp(w: Vec<i64>, b: Vec<i64>) -> QuantizedModel {
        let linear = Linear {
            weight: Tensor::new(Shape(vec![2, 3]), w).unwrap(),
            weight_scale: Scale(4),
            bias: b,
        };
        let input = TensorSpec {
            shape: Shape(vec![3]),
            scale: Scale(4),
            bits: 8,
        };
        let nodes = vec![Node {
            inputs: vec![0],
            op: Op::Linear(linear),
        }];
        QuantizedModel::new("tiny", input, nodes, None).unwrap()
    }

    #[test]
    fn widths_are_declared_by_rule_and_wide_ones_are_refused() {
        let t = committed_tensors(&mlp(vec![1, -128, 127, 0, 0, 0], vec![5, -7])).unwrap();
        assert_eq!(
            (t[0].part, t[0].bits, t[1].part, t[1].bits),
            (Part::Weight, 8, Part::Bias, 16)
        );
        let t = committed_tensors(&mlp(vec![1, 128, 0, 0, 0, 0], vec![0, 0])).unwrap();
        assert_eq!(t[0].bits, 16);
        // Wider: the first division row that holds them.
        let t = committed_tensors(&mlp(vec![1, 40_000, 0, 0, 0, 0], vec![0, 1 << 15])).unwrap();
        assert_eq!((t[0].bits, t[1].bits), (20, 20));
        assert_eq!(t[1].check(), RangeCheck::Split);
        assert_eq!(
            split_range(20),
            (-(1 << 18) - (1 << 15), (1 << 18) - (1 << 15))
        );
        let t = committed_tensors(&mlp(vec![0; 6], vec![0, (1 << 22) - (1 << 15)])).unwrap();
        assert_eq!((t[0].check(), t[1].bits), (RangeCheck::Lookup, 28));
        let t = committed_tensors(&mlp(vec![0; 6], vec![-(1 << 30) - (1 << 15), 0])).unwrap();
        assert_eq!(t[1].bits, 32);
        let err = committed_tensors(&mlp(vec![0; 6], vec![0, (1 << 30) - (1 << 15)])).unwrap_err();
        assert!(
            err.to_string()
                .contains("node 0 (linear): committed biases"),
            "{err}"
        );
    }

    #[test]
    fn models_of_one_architecture_share_it_and_differ_in_commitment() {
        let a = mlp(vec![1, 2, 3, 4, 5, 6], vec![5, -7]);
        let b = mlp(vec![1, 2, 3, 4, 5, 7], vec![5, -7]);
        assert_eq!(
            architecture(&a).unwrap().digest(),
            architecture(&b).unwrap().digest()
        );
        assert_ne!(model_commitment(&a).unwrap(), model_commitment(&b).unwrap());
        // A bias, too; and a weight that needs 16 bits is another architecture.
        let c = mlp(vec![1, 2, 3, 4, 5, 6], vec![5, -8]);
        assert_ne!(model_commitment(&a).unwrap(), model_commitment(&c).unwrap());
        let d = mlp(vec![1, 2, 3, 4, 5, 600], vec![5, -7]);
        assert_ne!(
            architecture(&a).unwrap().digest(),
            architecture(&d).unwrap().digest()
        );
        // The architecture's accumulator bound is the worst case:
        // 3 · 2^7 · 2^7 + 2^15 = 81,920 < 2^17.
        assert_eq!(architecture(&a).unwrap().output().bits, 18);
        // Architectures are their own: every width rule gives back its
        // widths on the extremes it puts in place.
        for model in [&a, &d, &mlp(vec![0; 6], vec![0, 1 << 20])] {
            let arch = architecture(model).unwrap();
            assert_eq!(architecture(&arch).unwrap(), arch);
        }
    }

    #[test]
    fn the_model_commitment_chains_tensor_commitments() {
        let a = mlp(vec![1, 2, 3, 4, 5, 6], vec![5, -7]);
        let w = commit(&[1, 2, 3, 4, 5, 6], 8, None).unwrap();
        let b = commit(&[5, -7], 16, None).unwrap();
        let expected = hash2(hash2(model_initial(2), w), b);
        assert_eq!(model_commitment(&a).unwrap(), expected);
    }
}
