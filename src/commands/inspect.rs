//! `zkinfer inspect --onnx FILE`: what each node of an ONNX file imports
//! as, before calibrating anything. A model that does not import is still
//! a successful inspect (exit 0): the list of unsupported nodes is the
//! answer. Only a file that cannot be read or decoded is an error.

use crate::failure::AtFileExt;
use crate::report::{self, outln};
use serde::Serialize;
use std::path::Path;
use zkinfer_models::onnx::{inspect_onnx, Inspection, Status, ValueShape};

/// `--json`: the file, then everything the importer found.
#[derive(Serialize)]
struct Printed<'a> {
    file: String,
    #[serde(flatten)]
    inspection: &'a Inspection,
}

pub fn onnx(path: &Path, json: bool) -> anyhow::Result<()> {
    let bytes = std::fs::read(path).at_file(path)?;
    let inspection = inspect_onnx(&bytes).at_file(path)?;
    if json {
        return report::json(&Printed {
            file: path.display().to_string(),
            inspection: &inspection,
        });
    }
    print(path, &inspection);
    Ok(())
}

fn shapes(values: &[ValueShape]) -> String {
    let cells: Vec<String> = values
        .iter()
        .map(|v| match (&v.shape, v.constant) {
            (Some(s), true) => format!("const {s:?}"),
            (Some(s), false) => format!("{s:?}"),
            (None, _) => "?".into(),
        })
        .collect();
    cells.join(", ")
}

fn status(s: &Status) -> String {
    match s {
        Status::Folded => "folded (constant)".into(),
        Status::Layer { layer, op } => format!("layer {layer}: {op}"),
        Status::FoldedInto { node, how } => {
            format!("folded into {} ({how})", report::printable(node))
        }
        Status::Dropped { why } => format!("dropped ({why})"),
        Status::Unsupported { reason } => format!("UNSUPPORTED: {}", report::printable(reason)),
        Status::Unchecked => "not checked (reads an unsupported node's output)".into(),
    }
}

fn print(path: &Path, i: &Inspection) {
    outln!(
        "{} ({}, opset {})",
        report::printable(&path.display().to_string()),
        if i.producer.is_empty() {
            "unknown exporter".into()
        } else {
            report::printable(&i.producer)
        },
        i.opset.map_or("none".into(), |o| o.to_string())
    );
    for input in &i.inputs {
        outln!(
            "input    {} {}",
            report::printable(&input.name),
            input
                .shape
                .as_ref()
                .map_or("?".into(), |s| format!("{s:?}"))
        );
    }
    if i.inputs.len() > 1 {
        outln!("         (fed as one vector: the inputs flattened, in this order)");
    }
    if let Some(vocab) = i.token_vocab {
        outln!(
            "         (token ids, fed as one-hot rows over a vocabulary of {vocab}: input files \
             give {{\"tokens\": [id, ...]}})"
        );
    }
    for output in &i.outputs {
        outln!("output   {}", report::printable(output));
    }
    if i.outputs.len() > 1 {
        outln!("         (proven as one vector: the outputs flattened, in this order)");
    }
    let rows: Vec<Vec<String>> = i
        .nodes
        .iter()
        .map(|n| {
            vec![
                n.index.to_string(),
                report::printable(&n.name).into_owned(),
                report::printable(&n.op_type).into_owned(),
                status(&n.status),
                shapes(&n.inputs),
                shapes(&n.outputs),
            ]
        })
        .collect();
    report::table(
        &["#", "node", "op", "imports as", "inputs", "outputs"],
        &rows,
    );
    for problem in &i.problems {
        outln!("problem  {}", report::printable(problem));
    }
    let unsupported: Vec<_> = i.unsupported().collect();
    if i.imports {
        outln!(
            "imports  yes: {} layers ({}){}",
            i.layers.len(),
            i.layers.join(", "),
            if i.dropped_softmax {
                "; the final Softmax is dropped: the circuit proves the logits"
            } else {
                ""
            }
        );
    } else {
        let mut ops: Vec<&str> = unsupported.iter().map(|n| n.op_type.as_str()).collect();
        ops.sort_unstable();
        ops.dedup();
        outln!(
            "imports  no: {} unsupported node{}{}{}",
            unsupported.len(),
            if unsupported.len() == 1 { "" } else { "s" },
            if ops.is_empty() {
                String::new()
            } else {
                format!(" ({})", report::printable(&ops.join(", ")))
            },
            if i.problems.is_empty() {
                String::new()
            } else {
                format!(
                    " and {} problem{} above",
                    i.problems.len(),
                    if i.problems.len() == 1 { "" } else { "s" }
                )
            }
        );
    }
}
