//! `zkinfer export` and `zkinfer inspect`: the ML engineer's path from an
//! ONNX file to a circuit package, and its cost report.

use crate::cli::{ExportArgs, InputVisibility, Target};
use crate::failure::AtFileExt;
use crate::outputs;
use crate::progress::Phase;
use crate::report::{self, outln};
use anyhow::Context;
use std::path::Path;
use zkinfer_circuits::Visibility;
use zkinfer_models::{files, onnx::import_onnx};
use zkinfer_prover::export::{
    self, calibrate, Estimates, GraphInput, Package, KEY_FILE, PACKAGE_FILE, PACKAGE_FORMAT,
};
use zkinfer_prover::write_atomically;
use zkinfer_verifier::contract::ModelKey;
use zkinfer_verifier::VerifierKey;

/// The files a package holds, in the order they are written (package.json
/// last, so a folder that has it is complete).
const PACKAGE_FILES: [&str; 5] = [
    files::ARCH,
    files::WEIGHTS,
    files::MODEL,
    KEY_FILE,
    PACKAGE_FILE,
];

/// Refuses an `--out` that would overwrite an input or someone else's
/// files, before any work is done.
fn check_out(args: &ExportArgs) -> anyhow::Result<()> {
    outputs::refuse_foreign_folder(&args.out, &PACKAGE_FILES, args.force)?;
    let inputs: [outputs::Input; 2] =
        [("--onnx", &args.onnx), ("--calibration", &args.calibration)];
    for file in PACKAGE_FILES {
        outputs::refuse_overwriting_inputs("--out", &args.out.join(file), &inputs)?;
    }
    Ok(())
}

pub fn run(args: &ExportArgs, json: bool) -> anyhow::Result<()> {
    check_out(args)?;
    let bytes = std::fs::read(&args.onnx).at_file(&args.onnx)?;
    let name = args
        .onnx
        .file_stem()
        .map_or("model".to_string(), |s| s.to_string_lossy().into_owned());
    let imported = Phase::run(format!("importing {}", args.onnx.display()), || {
        import_onnx(&bytes, &name)
    })
    .at_file(&args.onnx)?;
    let float = imported.model;
    // A graph with several inputs is fed them concatenated.
    let inputs: Vec<GraphInput> = match imported.inspection.inputs.as_slice() {
        [_] => vec![],
        several => several
            .iter()
            .map(|v| GraphInput {
                name: v.name.clone(),
                shape: v.shape.as_ref().map_or(vec![], |s| s[1..].to_vec()),
            })
            .collect(),
    };
    let parts: Vec<usize> = if inputs.is_empty() {
        vec![float.arch().input_shape.iter().product()]
    } else {
        inputs.iter().map(|i| i.shape.iter().product()).collect()
    };
    let samples = super::read_calibration(&args.calibration, &parts)?;
    let target = match args.target {
        Target::Resources => export::Target::Resources,
        Target::Accuracy => export::Target::Accuracy,
    };
    let visibility = match args.input_visibility {
        InputVisibility::Public => Visibility::Public,
        InputVisibility::Private => Visibility::Private,
        InputVisibility::Committed => Visibility::Committed,
    };
    let calibrated = Phase::run(
        format!(
            "calibrating {} on {} samples (trying each bit budget)",
            args.onnx.display(),
            samples.len()
        ),
        || calibrate(&float, &samples, target, visibility, args.profile),
    )
    .with_context(|| {
        format!(
            "calibrating {} with {}",
            args.onnx.display(),
            args.calibration.display()
        )
    })?;
    // Calibration plans with fixed weights; committed weights lay out the
    // chosen model's architecture, with its own plan and k.
    let weights = args.weights_visibility;
    let circuit = VerifierKey::plan_circuit_with(
        calibrated.model.clone(),
        visibility,
        weights,
        calibrated.plan.profile,
    )?;
    let plan = circuit.plan().clone();
    let params = super::load_params(&super::params_cache(&args.params), plan.k)?;
    let (k, profile) = (plan.k, plan.profile);
    let key = Phase::run(
        format!("building the verifying key (k = {k}, {profile} profile)"),
        || VerifierKey::for_circuit(circuit, params),
    )?;
    let chosen = &calibrated.candidates[calibrated.chosen];
    let package = Package {
        format: PACKAGE_FORMAT.to_string(),
        name: name.clone(),
        source: args
            .onnx
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
        opset: Some(imported.opset),
        dropped_softmax: imported.dropped_softmax,
        target,
        input_visibility: visibility,
        weight_visibility: weights,
        model_digest: key.model_digest().to_string(),
        vk_digest: key.vk_digest().to_string(),
        k,
        proof_bytes: key.proof_bytes(),
        weight_bits: chosen.weight_bits,
        activation_bits: chosen.activation_bits,
        table_bits: chosen.table_bits,
        calibration: calibrated.comparison.clone(),
        tables: zkinfer_models::table_reports(&calibrated.model),
        inputs,
        candidates: calibrated.candidates.clone(),
        estimates: Estimates::of(&plan),
        profiles: zkinfer_prover::choose::profile_costs(&calibrated.model, visibility),
        plan,
    };
    let key_file = ModelKey::of(&key);
    write_package(&args.out, &float, &calibrated.model, &key_file, &package)?;
    if weights == zkinfer_circuits::WeightVisibility::Polycommit {
        keep_or_write_weights_secret(&args.out)?;
    }
    if json {
        return report::json(&package);
    }
    print_report(&package);
    outln!(
        "wrote {} (prove and verify with --model {})",
        args.out.display(),
        args.out.display()
    );
    Ok(())
}

fn write_package(
    dir: &Path,
    float: &zkinfer_models::FloatModel,
    model: &zkinfer_quant::QuantizedModel,
    key: &ModelKey,
    package: &Package,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // Each file is written atomically; package.json goes last, so a folder
    // that has it is complete.
    write_atomically(&dir.join(files::ARCH), float.arch().to_json().as_bytes())?;
    // Through the same helper as the other files, so that it gets the
    // same permissions (the umask's), not a temporary file's 0600.
    write_atomically(
        &dir.join(files::WEIGHTS),
        &zkinfer_models::weights_bytes(float)?,
    )?;
    write_atomically(&dir.join(files::MODEL), model.to_json().as_bytes())?;
    write_atomically(&dir.join(KEY_FILE), pretty(key).as_bytes())?;
    write_atomically(&dir.join(PACKAGE_FILE), pretty(package).as_bytes())?;
    Ok(())
}

/// A polycommit package's secret, which blinds its weights' commitment: a
/// new one, unless the folder has one already (a re-export of the same
/// model keeps it: blinds are derived per set of weights, so reusing the
/// secret reveals nothing).
fn keep_or_write_weights_secret(dir: &Path) -> anyhow::Result<()> {
    let path = dir.join(zkinfer_prover::export::WEIGHTS_SECRET_FILE);
    if super::weights_secret(&dir.to_string_lossy(), None)?.is_some() {
        return Ok(());
    }
    super::write_new_weights_secret(&path)
}

/// Pretty JSON with a trailing newline.
fn pretty<T: serde::Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("serializable");
    text.push('\n');
    text
}

pub fn inspect(dir: &Path, json: bool) -> anyhow::Result<()> {
    let package = Package::read(dir)?;
    if json {
        return report::json(&package);
    }
    print_report(&package);
    // Where the model can be proven in parts (`prove --cut-at`,
    // `--per-layer`).
    let source = dir.display().to_string();
    if let Ok(model) = zkinfer_models::load_quantized_model(&source) {
        let q = &model.quantized;
        let blocks = zkinfer_prover::chain::layer_cuts(q);
        outln!(
            "cuts     {:?} (tensors after which nothing earlier is read; --per-layer cuts at {blocks:?})",
            q.cuts(),
        );
        if !blocks.is_empty() {
            print_rows_by_block(&package.plan, &blocks, q.nodes().len());
        }
    }
    Ok(())
}

/// The rows of each block `--per-layer` would prove alone (the nodes
/// between two of its cuts), in the whole circuit's layout: where a
/// transformer's rows go, block by block.
fn print_rows_by_block(plan: &zkinfer_circuits::CircuitPlan, cuts: &[usize], output: usize) {
    let mut ends = vec![0];
    ends.extend(cuts);
    ends.push(output);
    let total = (plan.dot_rows + plan.element_rows).max(1) as f64;
    let rows: Vec<Vec<String>> = ends
        .windows(2)
        .map(|w| {
            // Node i writes tensor i + 1: the block's nodes are from..to.
            let inside = |l: &&zkinfer_circuits::LayerCost| {
                l.nodes.first().is_some_and(|&n| (w[0]..w[1]).contains(&n))
            };
            let layers: Vec<_> = plan.layers.iter().filter(inside).collect();
            let macs: usize = layers.iter().map(|l| l.macs).sum();
            let dot: usize = layers.iter().map(|l| l.dot_rows).sum();
            let element: usize = layers.iter().map(|l| l.element_rows).sum();
            vec![
                format!("{}..{}", w[0], w[1]),
                macs.to_string(),
                format!("{dot} + {element}"),
                format!("{:.1} %", 100.0 * (dot + element) as f64 / total),
            ]
        })
        .collect();
    outln!("rows by block (the segments --per-layer proves; tables not counted)");
    report::table(&["tensors", "MACs", "rows (dot + element)", "share"], &rows);
}

/// The rows of each op kind together, most first: where a large model's
/// rows go (a transformer's products, exps and divisions beside its
/// linear layers), when the per-node table runs to hundreds of lines.
fn print_rows_by_op(plan: &zkinfer_circuits::CircuitPlan) {
    let mut by_op: Vec<(&str, usize, u64, usize, usize)> = vec![];
    for l in &plan.layers {
        match by_op.iter_mut().find(|o| o.0 == l.op) {
            Some(o) => {
                o.1 += 1;
                o.2 += l.macs as u64;
                o.3 += l.dot_rows;
                o.4 += l.element_rows;
            }
            None => by_op.push((&l.op, 1, l.macs as u64, l.dot_rows, l.element_rows)),
        }
    }
    by_op.sort_by_key(|o| std::cmp::Reverse(o.3 + o.4));
    let total = (plan.dot_rows + plan.element_rows).max(1) as f64;
    let rows: Vec<Vec<String>> = by_op
        .iter()
        .filter(|o| o.3 + o.4 > 0)
        .map(|&(op, n, macs, dot, element)| {
            vec![
                op.to_string(),
                n.to_string(),
                macs.to_string(),
                format!("{dot} + {element}"),
                format!("{:.1} %", 100.0 * (dot + element) as f64 / total),
            ]
        })
        .collect();
    outln!("rows by op");
    report::table(
        &["op", "nodes", "MACs", "rows (dot + element)", "share"],
        &rows,
    );
}

fn print_report(p: &Package) {
    let plan = &p.plan;
    let total_rows = plan.rows.max(1);
    let rows: Vec<Vec<String>> = plan
        .layers
        .iter()
        .map(|l| {
            vec![
                if l.nodes.is_empty() {
                    "-".into()
                } else {
                    format!("{:?}", l.nodes)
                },
                l.op.clone(),
                format!("{:?}", l.shape),
                l.macs.to_string(),
                format!("{} + {}", l.dot_rows, l.element_rows),
                format!(
                    "{:.1} %",
                    100.0 * (l.dot_rows + l.element_rows) as f64
                        / (plan.dot_rows + plan.element_rows).max(1) as f64
                ),
            ]
        })
        .collect();
    outln!(
        "{} ({}, opset {}){}",
        report::printable(&p.name),
        report::printable(&p.source),
        p.opset.map_or("-".into(), |o| o.to_string()),
        if p.dropped_softmax {
            " — final Softmax dropped: the circuit proves the logits"
        } else {
            ""
        }
    );
    report::table(
        &[
            "nodes",
            "op",
            "shape",
            "MACs",
            "rows (dot + element)",
            "share",
        ],
        &rows,
    );
    print_rows_by_op(plan);
    outln!(
        "circuit  k = {} ({} of {} usable rows: dot {}, element {}, tables {}), {} advice columns, {} lookups",
        p.k, total_rows, plan.usable_rows, plan.dot_rows, plan.element_rows, plan.table_rows, plan.advice_columns, plan.lookups
    );
    outln!(
        "         {} MACs, input {}, weights {}, vk {}, proofs of {} bytes",
        plan.macs(),
        p.input_visibility.name(),
        p.weight_visibility.name(),
        p.vk_digest.get(..16).unwrap_or(&p.vk_digest),
        p.proof_bytes
    );
    outln!(
        "estimate keygen {:.2} s, prove {:.2} s, peak memory {:.0} MB, verify {:.0} ms (2-core machine)",
        p.estimates.keygen_seconds,
        p.estimates.prove_seconds,
        p.estimates.peak_memory_mb,
        p.estimates.verify_ms
    );
    let others: Vec<String> = p
        .profiles
        .iter()
        .filter(|c| c.profile != plan.profile)
        .map(|c| match (c.k, &c.estimates) {
            (Some(k), Some(e)) => format!(
                "{}: k = {k}, prove {:.2} s, keygen {:.2} s, {:.0} MB",
                c.profile, e.prove_seconds, e.keygen_seconds, e.peak_memory_mb
            ),
            _ => format!(
                "{}: does not fit ({})",
                c.profile,
                c.note.as_deref().unwrap_or("unknown")
            ),
        })
        .collect();
    outln!(
        "layout   {} profile{}",
        plan.profile,
        if others.is_empty() {
            String::new()
        } else {
            format!(" (other profiles: {})", others.join("; "))
        }
    );
    outln!(
        "accuracy on {} calibration samples: argmax agreement {:.2} %, output error max {:.4}, mean {:.4} ({}-bit weights, {}-bit activations)",
        p.calibration.samples,
        p.calibration.agreement * 100.0,
        p.calibration.max_abs_error,
        p.calibration.mean_abs_error,
        p.weight_bits,
        p.activation_bits
    );
    for t in &p.tables {
        outln!(
            "table {} (node {}): {} entries over [{}, {}], largest error {:.4}",
            t.function,
            t.node,
            t.entries,
            t.domain[0],
            t.domain[1],
            t.max_error
        );
    }
    outln!("trade-off searched (target {:?}):", p.target);
    let rows: Vec<Vec<String>> = p
        .candidates
        .iter()
        .map(|c| {
            let chosen = (c.weight_bits, c.activation_bits, c.table_bits)
                == (p.weight_bits, p.activation_bits, p.table_bits);
            vec![
                format!(
                    "{}{}/{}/{}",
                    if chosen { "→ " } else { "  " },
                    c.weight_bits,
                    c.activation_bits,
                    c.table_bits
                ),
                c.k.map_or("-".into(), |k| k.to_string()),
                c.agreement
                    .map_or("-".into(), |a| format!("{:.2} %", a * 100.0)),
                c.mean_abs_error.map_or("-".into(), |e| format!("{e:.4}")),
                c.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    report::table(
        &["bits (w/a/table)", "k", "agreement", "mean error", "note"],
        &rows,
    );
}
