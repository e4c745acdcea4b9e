//! Model-building helpers the circuit tests share.

// Each test crate uses its own subset.
#![allow(dead_code)]

use zkinfer_quant::{Linear, Node, Op, Scale, Tensor};

/// A node reading `inputs`.
pub fn node(inputs: &[usize], op: Op) -> Node {
    Node {
        inputs: inputs.to_vec(),
        op,
    }
}

/// A linear layer with `out` outputs, weights row-major at scale 2^-3.
pub fn linear(out: usize, weights: Vec<i64>, bias: Vec<i64>) -> Op {
    let inp = weights.len() / out;
    Op::Linear(Linear {
        weight: Tensor::new([out, inp], weights).unwrap(),
        weight_scale: Scale(3),
        bias,
    })
}
