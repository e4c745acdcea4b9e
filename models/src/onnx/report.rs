//! What the importer decided for each node, as `zkinfer inspect --onnx`
//! prints it and as import errors list it: folded into a constant, turned
//! into a layer, folded into a neighbouring layer, dropped, or unsupported
//! (with why).

use serde::Serialize;

/// What one node imports as.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Status {
    /// Evaluated at import: its outputs are constants.
    Folded,
    /// A layer of the float model.
    Layer {
        /// The layer's index in the architecture.
        layer: usize,
        /// The layer's op (`linear`, `conv2d`, …).
        op: String,
    },
    /// Folded exactly into a neighbouring layer's weights or padding.
    FoldedInto {
        /// The node it was folded into.
        node: String,
        /// What was folded and how.
        how: String,
    },
    /// Removed: computes nothing the proof needs.
    Dropped {
        /// Why it can go.
        why: String,
    },
    /// Cannot be imported today.
    Unsupported {
        /// Why.
        reason: String,
    },
    /// Not checked: it reads the output of an unsupported node whose
    /// shape is unknown.
    Unchecked,
}

/// A value a node reads or writes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ValueShape {
    /// The ONNX value name.
    pub name: String,
    /// Its shape with the batch dimension (1); `None` when unknown.
    pub shape: Option<Vec<usize>>,
    /// Whether it is a constant (an initializer or a folded value).
    pub constant: bool,
}

/// One node of the graph.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeReport {
    /// Its position in the graph.
    pub index: usize,
    /// Its name (may be empty in the file).
    pub name: String,
    /// Its op type.
    pub op_type: String,
    /// Its domain ("" is ONNX's default).
    pub domain: String,
    /// The opset it was read at (the model's default-domain opset).
    pub opset: i64,
    /// What it imports as.
    pub status: Status,
    /// Its inputs (omitted optional inputs left out).
    pub inputs: Vec<ValueShape>,
    /// Its outputs.
    pub outputs: Vec<ValueShape>,
}

impl NodeReport {
    /// The reason it is unsupported, if it is.
    pub fn unsupported(&self) -> Option<&str> {
        match &self.status {
            Status::Unsupported { reason } => Some(reason),
            _ => None,
        }
    }

    /// One line naming the node, e.g. `node "/act/LeakyRelu" (LeakyRelu,
    /// opset 11): …`.
    pub fn describe(&self, what: &str) -> String {
        format!(
            "node {:?} ({}{}, opset {}): {what}",
            self.name,
            if self.domain.is_empty() {
                String::new()
            } else {
                format!("{}.", self.domain)
            },
            self.op_type,
            self.opset
        )
    }
}

/// Everything the importer found in a file, without calibrating.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Inspection {
    /// The default-domain opset (`None` if the file imports none).
    pub opset: Option<i64>,
    /// The exporter, as the file names it.
    pub producer: String,
    /// The graph inputs zkinfer feeds, with their shapes (batch 1); several
    /// are fed as one vector, their concatenation in this order.
    pub inputs: Vec<ValueShape>,
    /// The graph outputs zkinfer proves; several are proven as one vector,
    /// their flattened concatenation in this order.
    pub outputs: Vec<String>,
    /// Problems of the whole model (opset, inputs, outputs).
    pub problems: Vec<String>,
    /// Every node, in graph order.
    pub nodes: Vec<NodeReport>,
    /// The float layers it imports as (their ops), when it imports.
    pub layers: Vec<String>,
    /// Whether a final Softmax is dropped (the model outputs logits).
    pub dropped_softmax: bool,
    /// The vocabulary, when the input is token ids (fed as one-hot rows:
    /// the model's input is `[tokens, vocabulary]`).
    pub token_vocab: Option<usize>,
    /// Whether the model imports.
    pub imports: bool,
}

impl Inspection {
    /// The unsupported nodes.
    pub fn unsupported(&self) -> impl Iterator<Item = &NodeReport> {
        self.nodes.iter().filter(|n| n.unsupported().is_some())
    }

    /// Why the model does not import: every problem and every unsupported
    /// node, in one line.
    pub fn refusal(&self) -> String {
        let mut parts = self.problems.clone();
        let nodes: Vec<String> = self
            .unsupported()
            .map(|n| n.describe(n.unsupported().unwrap_or_default()))
            .collect();
        if !nodes.is_empty() {
            parts.push(format!(
                "{} node{} cannot be imported: {}",
                nodes.len(),
                if nodes.len() == 1 { "" } else { "s" },
                nodes.join("; ")
            ));
        }
        parts.join("; ")
    }
}
