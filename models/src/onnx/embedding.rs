//! Token embeddings: a graph input of integer ids read only by `Gather`s
//! of constant tables (`wte[ids]`, a language model's first op).
//!
//! The circuit proves arithmetic on field elements, so ids are fed as
//! what they select with: one-hot rows. An input of ids shaped `[t]`
//! (after the batch dimension of 1) becomes a model input `[t, vocab]`,
//! and each `Gather(table, ids)` the product `one_hot · table`: a matrix
//! product by a constant, exact (one term is non-zero), imported like a
//! `MatMul`. Input files give the ids (`{"tokens": [...]}`,
//! [`crate::input`]), expanded to the rows.

use super::proto::{GraphProto, ValueInfo};
use std::collections::HashMap;

type R<T> = std::result::Result<T, String>;

/// The vocabulary of the integer input `input`: every node reading it
/// must be a default-domain `Gather` on axis 0 of a constant 2-D table
/// (an initializer), with the ids as its indices; all tables must have the
/// same number of rows, the vocabulary.
pub(super) fn token_vocab(
    graph: &GraphProto,
    input: &ValueInfo,
    readers: &HashMap<String, Vec<usize>>,
) -> R<usize> {
    let refuse = |why: String| {
        Err(format!(
            "input {:?} holds integers: zkinfer imports an integer input only as token ids \
             indexing constant embedding tables (Gather on axis 0), and {why}",
            input.name
        ))
    };
    let nodes = readers.get(&input.name).map(Vec::as_slice).unwrap_or(&[]);
    if nodes.is_empty() {
        return refuse("nothing reads it".into());
    }
    let mut vocab = None;
    for &n in nodes {
        let node = &graph.node[n];
        let what = format!("node {:?} ({})", node.name, node.op_type);
        if node.op_type != "Gather" || !node.domain.is_empty() {
            return refuse(format!("{what} reads it"));
        }
        if node.input.get(1) != Some(&input.name) {
            return refuse(format!("{what} reads it as its table, not as indices"));
        }
        let Some(table) = graph
            .initializer
            .iter()
            .find(|t| Some(&t.name) == node.input.first())
        else {
            return refuse(format!("{what} gathers from a table computed at run time"));
        };
        let axis = node.attr("axis").and_then(|a| a.i).unwrap_or(0);
        if table.dims.len() != 2 || !(axis == 0 || axis == -2) {
            return refuse(format!(
                "{what} gathers along axis {axis} of a table of dims {:?} (rows of a 2-D table are imported)",
                table.dims
            ));
        }
        let rows = usize::try_from(table.dims[0]).unwrap_or(0);
        match vocab {
            _ if rows == 0 => return refuse(format!("{what} gathers from an empty table")),
            Some(v) if v != rows => {
                return refuse(format!(
                    "{what} gathers from a table of {rows} rows, another node from one of {v}"
                ))
            }
            _ => vocab = Some(rows),
        }
    }
    Ok(vocab.expect("one reader at least"))
}
