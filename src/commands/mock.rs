//! `zkinfer mock`: halo2's MockProver on one inference, naming every gate
//! or lookup that fails — for people debugging a model or a circuit.

use crate::cli::MockArgs;
use crate::report::{self, outln};
use anyhow::Context;
use halo2_proofs::dev::MockProver;
use serde::Serialize;
use std::process::ExitCode;
use std::sync::Arc;
use zkinfer_circuits::diagnose::{failure_location, failure_name};
use zkinfer_models::{load_quantized_model, Engine};

#[derive(Serialize)]
struct MockOutput {
    satisfied: bool,
    k: u32,
    rows: usize,
    failures: Vec<Failure>,
}

#[derive(Serialize)]
struct Failure {
    what: String,
    location: String,
}

pub fn run(args: &MockArgs, json: bool) -> anyhow::Result<ExitCode> {
    let model = load_quantized_model(&args.model)
        .with_context(|| format!("loading model {:?}", args.model))?;
    let q = Arc::new(model.quantized);
    let x = super::read_input(&q, &args.model, &args.input)?;
    let trace = Engine::default()
        .run(&q, &x)
        .with_context(|| format!("running {} on {}", model.source, args.input.display()))?;
    let visibility = super::visibility(&args.model, args.private_input, args.committed_input)?;
    let circuit = super::plan_circuit(
        &args.model,
        &q,
        visibility,
        super::weights(&args.model, args.weights_visibility)?,
        args.profile,
    )?
    .with_trace(trace.clone())?;
    let (k, rows) = (circuit.plan().k, circuit.plan().rows);
    let prover = MockProver::run(k, &circuit, vec![circuit.instances(&trace)])
        .map_err(|e| anyhow::anyhow!("laying out the circuit: {e}"))?;
    let config = zkinfer_circuits::ModelConfig::of_plan(circuit.plan());
    let failures: Vec<Failure> = prover
        .verify()
        .err()
        .unwrap_or_default()
        .iter()
        .map(|f| Failure {
            what: failure_name(&config, f),
            location: failure_location(f),
        })
        .collect();
    let out = MockOutput {
        satisfied: failures.is_empty(),
        k,
        rows,
        failures,
    };
    if json {
        report::json(&out)?;
    } else if out.satisfied {
        outln!("satisfied: every gate, lookup and copy holds (k = {k}, {rows} rows)");
    } else {
        outln!("{} failures (k = {k}):", out.failures.len());
        for f in &out.failures {
            outln!("  {} — {}", f.what, f.location);
        }
    }
    Ok(if out.satisfied {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
