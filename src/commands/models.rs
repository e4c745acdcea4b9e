//! `zkinfer models`: the bundled models.

use crate::report;
use serde::Serialize;
use zkinfer_models::bundled::BUNDLED;

#[derive(Serialize)]
struct ModelInfo {
    name: &'static str,
    description: &'static str,
    input_shape: Vec<usize>,
    output_shape: Vec<usize>,
    parameters: usize,
    nodes: usize,
    digest: String,
}

pub fn run(json: bool) -> anyhow::Result<()> {
    let infos = BUNDLED
        .iter()
        .map(|b| {
            let q = b.quantized()?;
            Ok(ModelInfo {
                name: b.name,
                description: b.description,
                input_shape: q.input().shape.0.clone(),
                output_shape: q.output().shape.0.clone(),
                parameters: q.parameter_count(),
                nodes: q.nodes().len(),
                digest: q.digest().to_hex(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if json {
        return report::json(&infos);
    }
    let rows: Vec<Vec<String>> = infos
        .iter()
        .map(|m| {
            vec![
                m.name.to_string(),
                format!("{:?}", m.input_shape),
                format!("{:?}", m.output_shape),
                m.parameters.to_string(),
                m.digest[..16].to_string(),
                m.description.to_string(),
            ]
        })
        .collect();
    report::table(
        &[
            "name",
            "input",
            "output",
            "params",
            "digest",
            "architecture",
        ],
        &rows,
    );
    Ok(())
}
