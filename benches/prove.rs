//! `make bench`: what proving and verifying the bundled models costs on this
//! machine. Prints a table (and `target/bench.json`); asserts nothing.
//!
//! Each model runs in a child process of its own (`prove <model>`), so that
//! its peak memory (VmHWM) is its own. Timings are medians.

use std::process::Command;
use std::time::Instant;

const RUNS: usize = 5;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

/// Peak resident memory of this process, in MB (Linux).
fn peak_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// One model, in this process: prints a JSON line of measurements.
fn measure(name: &str) {
    use std::sync::Arc;
    use zkinfer_circuits::{ModelCircuit, Visibility};
    use zkinfer_models::bundled::BundledModel;
    use zkinfer_models::dataset::{digits, Split};
    use zkinfer_prover::{ParamsCache, Prover};
    use zkinfer_verifier::{verify, VerifierKey};

    let model = BundledModel::find(name)
        .expect("a bundled model")
        .quantized()
        .unwrap();
    let plan = ModelCircuit::new(Arc::new(model.clone()), Visibility::Public)
        .unwrap()
        .plan()
        .clone();
    let cache = ParamsCache::new(ParamsCache::default_dir());
    cache.load(plan.k).unwrap();
    let t = Instant::now();
    let (params, _) = cache.load(plan.k).unwrap();
    let params_ms = ms(t);
    let t = Instant::now();
    let prover = Prover::new(name, model.clone(), Visibility::Public, params).unwrap();
    let keygen_ms = ms(t);
    let test = digits(Split::Test).unwrap();
    let (mut prove, mut check, mut bytes) = (vec![], vec![], 0);
    for i in 0..RUNS {
        let x: Vec<f64> = test.inputs[i].iter().map(|&p| p as f64).collect();
        let x = model.quantize_input(&x).unwrap();
        let t = Instant::now();
        let proved = prover.prove(&x).unwrap();
        prove.push(ms(t));
        let t = Instant::now();
        verify(prover.verifier_key(), &proved.bundle).unwrap();
        check.push(ms(t));
        bytes = proved.bundle.proof.len() / 2;
    }
    let key: &VerifierKey = prover.verifier_key();
    println!(
        "{}",
        serde_json::json!({
            "model": name, "k": plan.k, "rows": plan.rows, "advice": plan.advice_columns,
            "fixed": plan.fixed_columns, "lookups": plan.lookups, "macs": plan.macs(),
            "params_ms": params_ms, "keygen_ms": keygen_ms,
            "prove_ms": median(prove), "verify_ms": median(check), "proof_bytes": bytes,
            "peak_mb": peak_mb(), "vk_digest": key.vk_digest(),
        })
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "prove") {
        return measure(&args[i + 1]);
    }
    let exe = std::env::current_exe().unwrap();
    let cli = env!("CARGO_BIN_EXE_zkinfer");
    let dir = std::env::temp_dir().join(format!("zkinfer-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rows = vec![];
    for name in ["digits-mlp", "digits-cnn"] {
        let out = Command::new(&exe).args(["prove", name]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        // The whole `zkinfer prove` process, parameters cached.
        let proof = dir.join(format!("{name}.proof.json"));
        let mut whole = vec![];
        for _ in 0..RUNS {
            let t = Instant::now();
            let status = Command::new(cli)
                .args([
                    "prove",
                    "--model",
                    name,
                    "--input",
                    "examples/inputs/digit-7.json",
                    "--out",
                ])
                .arg(&proof)
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
            whole.push(ms(t));
        }
        m["zkinfer_prove_process_ms"] = median(whole).into();
        rows.push(m);
    }
    println!(
        "zkinfer bench — medians of {RUNS} runs, halo2_proofs 0.4.1 IPA/Pasta, {} cores\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<11} {:>2} {:>5} {:>6} {:>5} {:>7} {:>9} {:>9} {:>9} {:>9} {:>10} {:>11} {:>8}",
        "model",
        "k",
        "rows",
        "advice",
        "fixed",
        "lookups",
        "params",
        "keygen",
        "prove",
        "verify",
        "proof",
        "process",
        "peak"
    );
    for m in &rows {
        println!(
            "{:<11} {:>2} {:>5} {:>6} {:>5} {:>7} {:>6.1} ms {:>6.1} ms {:>6.1} ms {:>6.1} ms {:>8} B {:>8.0} ms {:>5.0} MB",
            m["model"].as_str().unwrap(),
            m["k"].as_u64().unwrap(),
            m["rows"].as_u64().unwrap(),
            m["advice"].as_u64().unwrap(),
            m["fixed"].as_u64().unwrap(),
            m["lookups"].as_u64().unwrap(),
            m["params_ms"].as_f64().unwrap(),
            m["keygen_ms"].as_f64().unwrap(),
            m["prove_ms"].as_f64().unwrap(),
            m["verify_ms"].as_f64().unwrap(),
            m["proof_bytes"].as_u64().unwrap(),
            m["zkinfer_prove_process_ms"].as_f64().unwrap(),
            m["peak_mb"].as_f64().unwrap(),
        );
    }
    println!("\nreference (EZKL 23.0.5, same architectures, this machine kind): prove 4.1 s / 3.9 s at k = 15, verify 34–37 ms, 3,072-byte proofs, 340 MB peak");
    std::fs::write(
        "target/bench.json",
        serde_json::to_string_pretty(&rows).unwrap(),
    )
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
