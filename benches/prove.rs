//! `make bench`: what proving and verifying the bundled models costs on this
//! machine, then the scale models (`benches/models/`: LeNet-5, a
//! 90k-parameter MLP and a 3-layer conv+fc net, exported from PyTorch
//! through `zkinfer export`). Prints tables (and `target/bench.json`);
//! asserts nothing.
//!
//! Each model runs in a child process of its own (`prove <model>`,
//! `prove-package <folder> <report>`), so that its peak memory (VmHWM) is
//! its own. Timings are medians.

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
        bytes = proved.bundle.proof_bytes().unwrap().len();
    }
    let key: &VerifierKey = prover.verifier_key();
    // A verifier's key: rebuilt in full, or from the stored commitments.
    let (mut rebuild, mut from_commitments) = (vec![], vec![]);
    let commitments = key.commitments();
    for _ in 0..RUNS {
        let t = Instant::now();
        VerifierKey::new(model.clone(), Visibility::Public, key.params().clone()).unwrap();
        rebuild.push(ms(t));
        let t = Instant::now();
        VerifierKey::from_commitments(
            VerifierKey::plan_circuit(
                model.clone(),
                Visibility::Public,
                zkinfer_circuits::Profile::Compact,
            )
            .unwrap(),
            key.params().clone(),
            &commitments,
            key.vk_digest(),
        )
        .unwrap();
        from_commitments.push(ms(t));
    }
    let peak = peak_mb();
    // The same inputs with a committed input, then with committed weights
    // (issue 13): the commitments' rows, and what hashing costs the proof.
    let committed_run = |circuit: zkinfer_circuits::ModelCircuit| {
        let (k, rows) = (circuit.plan().k, circuit.plan().commitment_rows);
        let (params, _) = cache.load(k).unwrap();
        let prover = Prover::for_circuit(name, circuit, params).unwrap();
        let (mut times, mut bytes) = (vec![], 0);
        for i in 0..RUNS {
            let x: Vec<f64> = test.inputs[i].iter().map(|&p| p as f64).collect();
            let x = model.quantize_input(&x).unwrap();
            let t = Instant::now();
            let proved = prover.prove(&x).unwrap();
            times.push(ms(t));
            verify(prover.verifier_key(), &proved.bundle).unwrap();
            // A polycommit bundle's opening travels with its proof.
            let opening = proved.bundle.weights_opening.as_deref();
            let opening = opening.and_then(zkinfer_verifier::base64::decode);
            bytes = proved.bundle.proof_bytes().unwrap().len() + opening.map_or(0, |o| o.len());
        }
        (k, rows, median(times), bytes)
    };
    let compact = zkinfer_circuits::Profile::Compact;
    let (committed_k, hash_rows, committed_ms, committed_bytes) = committed_run(
        VerifierKey::plan_circuit(model.clone(), Visibility::Committed, compact).unwrap(),
    );
    let committed_weights = zkinfer_circuits::WeightVisibility::Committed;
    let (weights_k, weights_rows, weights_ms, weights_bytes) = committed_run(
        VerifierKey::plan_circuit_with(
            model.clone(),
            Visibility::Public,
            committed_weights,
            compact,
        )
        .unwrap(),
    );
    let polycommit = zkinfer_circuits::WeightVisibility::Polycommit;
    let (poly_k, poly_rows, poly_ms, poly_bytes) = committed_run(
        VerifierKey::plan_circuit_with(model.clone(), Visibility::Public, polycommit, compact)
            .unwrap(),
    );
    println!(
        "{}",
        serde_json::json!({
            "polycommit_k": poly_k, "polycommit_store_rows": poly_rows,
            "polycommit_prove_ms": poly_ms, "polycommit_proof_bytes": poly_bytes,
            "committed_k": committed_k, "committed_hash_rows": hash_rows,
            "committed_prove_ms": committed_ms, "committed_proof_bytes": committed_bytes,
            "weights_k": weights_k, "weights_hash_rows": weights_rows,
            "weights_prove_ms": weights_ms, "weights_proof_bytes": weights_bytes,
            "vk_rebuild_ms": median(rebuild), "vk_from_commitments_ms": median(from_commitments),
            "model": name, "k": plan.k, "rows": plan.rows, "advice": plan.advice_columns,
            "fixed": plan.fixed_columns, "lookups": plan.lookups, "macs": plan.macs(),
            "params_ms": params_ms, "keygen_ms": keygen_ms,
            "prove_ms": median(prove), "verify_ms": median(check), "proof_bytes": bytes,
            "peak_mb": peak, "vk_digest": key.vk_digest(),
        })
    );
}

/// The median wall time of `runs` whole `zkinfer prove` processes.
fn prove_process_ms(
    cli: &str,
    model: &std::ffi::OsStr,
    input: &std::ffi::OsStr,
    out: &std::path::Path,
    runs: usize,
) -> f64 {
    let times = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let status = Command::new(cli)
                .args(["prove".as_ref(), "--model".as_ref(), model])
                .args(["--input".as_ref(), input, "--out".as_ref(), out.as_os_str()])
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
            ms(t)
        })
        .collect();
    median(times)
}

/// Runs of each scale model (LeNet-5 proves in tens of seconds today).
const SCALE_RUNS: usize = 3;

/// The scale models, in `benches/models/`.
const SCALE_MODELS: [&str; 3] = ["convfc3", "mlp90k", "lenet5"];

/// A package exported from a scale model, in this process: prints a JSON
/// line of measurements, proving its first held-out input.
fn measure_package(dir: &str, report: &str) {
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    let x: Vec<f64> = report["held_out_inputs"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let mut m = measure_prover(dir, &x, true);
    m["parameters"] = report["parameters"].clone();
    m["float_accuracy"] = report["float_test_accuracy"].clone();
    println!("{m}");
}

/// A package proven in parts (`prove --per-layer`'s cuts, the package's
/// profile), in this process as the CLI does it: each segment's keys
/// (cached beside the parameters) loaded only while it is proven. Prints
/// a JSON line: the segments' k, proving time in all, native verification
/// of the chain, proof bytes in all, peak memory.
fn measure_chain(dir: &str, x: &[f64]) -> serde_json::Value {
    use zkinfer_circuits::Visibility;
    use zkinfer_prover::chain::layer_cuts;
    use zkinfer_prover::{ChainProver, ParamsCache, PkCache, ProfileChoice, Prover, VkCache};

    let model = zkinfer_models::load_quantized_model(dir).unwrap().quantized;
    let x = model.quantize_input(x).unwrap();
    let package = zkinfer_prover::export::Package::read(std::path::Path::new(dir)).unwrap();
    let choice = ProfileChoice::Use(package.plan.profile);
    let chain =
        ChainProver::new(dir, std::sync::Arc::new(model.clone()), layer_cuts(&model)).unwrap();
    let circuits = chain.circuits(Visibility::Public, choice).unwrap();
    let cache = ParamsCache::new(ParamsCache::default_dir());
    let (vks, pks) = (VkCache::new(cache.dir()), PkCache::new(cache.dir()));
    let mut run = chain.start(&x, None).unwrap();
    let (mut keys, mut ks, mut prove_ms) = (vec![], vec![], 0.0);
    for circuit in circuits {
        ks.push(circuit.plan().k);
        let (params, _) = cache.load(circuit.plan().k).unwrap();
        let (prover, ..) = Prover::for_circuit_cached(dir, circuit, params, &vks, &pks).unwrap();
        prove_ms += 1e3 * chain.prove_segment(&mut run, &prover).unwrap();
        keys.push(prover.verifier_key().clone());
    }
    let proved = chain.finish(run).unwrap();
    let t = Instant::now();
    zkinfer_verifier::verify_chain(&model, &proved.chain, &keys).unwrap();
    let verify_ms = ms(t);
    let bytes: usize = proved
        .chain
        .segments
        .iter()
        .map(|b| b.proof_bytes().unwrap().len())
        .sum();
    serde_json::json!({
        "segment_k": ks, "prove_ms": prove_ms, "verify_ms": verify_ms,
        "proof_bytes": bytes, "peak_mb": peak_mb(),
    })
}

/// A package's proving, in this process, on the sample `x`: keygen, prove
/// and verify (medians of [`SCALE_RUNS`]), and with `polycommit` the same
/// model with polycommit weights after every fixed-weights figure (its
/// keys raise the peak).
fn measure_prover(dir: &str, x: &[f64], polycommit: bool) -> serde_json::Value {
    use zkinfer_circuits::Visibility;
    use zkinfer_prover::{ParamsCache, Prover};
    use zkinfer_verifier::{verify, VerifierKey};

    let model = zkinfer_models::load_quantized_model(dir).unwrap().quantized;
    let x = model.quantize_input(x).unwrap();
    // The profile zkinfer export chose (the cost model's).
    let package = zkinfer_prover::export::Package::read(std::path::Path::new(dir)).unwrap();
    let profile = package.plan.profile;
    let circuit = VerifierKey::plan_circuit(model.clone(), Visibility::Public, profile).unwrap();
    let k = circuit.plan().k;
    let cache = ParamsCache::new(ParamsCache::default_dir());
    cache.load(k).unwrap();
    let t = Instant::now();
    let (params, _) = cache.load(k).unwrap();
    let params_ms = ms(t);
    // Peak memory (VmHWM, the highest so far) after each phase.
    let peak_after_params = peak_mb();
    let t = Instant::now();
    let prover = Prover::for_circuit(dir, circuit.clone(), params).unwrap();
    let keygen_ms = ms(t);
    let peak_after_keygen = peak_mb();
    // Of the keygen, the verifying key's part (committing every column), and
    // what recovering it from stored commitments costs instead.
    let key = prover.verifier_key();
    let t = Instant::now();
    VerifierKey::for_circuit(circuit.clone(), key.params().clone()).unwrap();
    let vk_ms = ms(t);
    let t = Instant::now();
    VerifierKey::from_commitments(
        circuit,
        key.params().clone(),
        &key.commitments(),
        key.vk_digest(),
    )
    .unwrap();
    let vk_from_commitments_ms = ms(t);
    let (mut prove, mut check, mut bytes) = (vec![], vec![], 0);
    for _ in 0..SCALE_RUNS {
        let t = Instant::now();
        let proved = prover.prove(&x).unwrap();
        prove.push(ms(t));
        let t = Instant::now();
        verify(prover.verifier_key(), &proved.bundle).unwrap();
        check.push(ms(t));
        bytes = proved.bundle.proof_bytes().unwrap().len();
    }
    let plan = prover.verifier_key().circuit().plan().clone();
    let estimates = zkinfer_prover::export::Estimates::of(&plan);
    let peak = peak_mb();
    let mut m = serde_json::json!({
        "k": plan.k, "rows": plan.rows, "profile": profile,
        "profiles": zkinfer_prover::choose::profile_costs(&model, Visibility::Public), "advice": plan.advice_columns,
        "lookups": plan.lookups, "macs": plan.macs(), "estimates": estimates,
        "peak_after_params_mb": peak_after_params, "peak_after_keygen_mb": peak_after_keygen,
        "params_ms": params_ms, "keygen_ms": keygen_ms, "vk_ms": vk_ms,
        "vk_from_commitments_ms": vk_from_commitments_ms,
        "prove_ms": median(prove), "verify_ms": median(check), "proof_bytes": bytes,
        "peak_mb": peak,
    });
    if polycommit {
        let polycommit = zkinfer_circuits::WeightVisibility::Polycommit;
        let circuit =
            VerifierKey::plan_circuit_with(model.clone(), Visibility::Public, polycommit, profile)
                .unwrap();
        let poly_k = circuit.plan().k;
        let (params, _) = cache.load(poly_k).unwrap();
        let prover = Prover::for_circuit(dir, circuit, params).unwrap();
        let mut poly = vec![];
        for _ in 0..SCALE_RUNS {
            let t = Instant::now();
            let proved = prover.prove(&x).unwrap();
            poly.push(ms(t));
            verify(prover.verifier_key(), &proved.bundle).unwrap();
        }
        m["polycommit_k"] = poly_k.into();
        m["polycommit_prove_ms"] = median(poly).into();
    }
    m
}

/// The tiny GPT (`models/fixtures/tiny_gpt/`), as the README's table has
/// it: exported in the wide profile, proved on a 16-character prompt in
/// this process ([`measure_prover`], printed as a JSON line) and as whole
/// `zkinfer prove` and `verify` processes, beside published figures for
/// GPT-2.
fn tiny_gpt(exe: &std::path::Path, cli: &str, dir: &std::path::Path) -> serde_json::Value {
    let package = dir.join("tiny_gpt");
    let t = Instant::now();
    let status = Command::new(cli)
        .args([
            "export",
            "--onnx",
            "models/fixtures/tiny_gpt/tiny_gpt.onnx",
            "--calibration",
            "models/fixtures/tiny_gpt/tiny_gpt.calibration.json",
            "--profile",
            "wide",
            "--target",
            "accuracy",
            "--out",
        ])
        .arg(&package)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let export_ms = ms(t);
    // "they had a large", a held-out context.
    let input = dir.join("gpt-prompt.json");
    let tokens = [28, 16, 13, 33, 0, 16, 9, 12, 0, 9, 0, 20, 9, 26, 15, 13];
    std::fs::write(&input, serde_json::json!({ "tokens": tokens }).to_string()).unwrap();
    // A child mode of this bench on the package and the prompt: its JSON.
    let child = |mode: &str| {
        let out = Command::new(exe)
            .args([mode, package.to_str().unwrap(), input.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let mut m = child("prove-gpt");
    let proof = dir.join("gpt.proof.json");
    let (package_arg, input_arg) = (package.as_os_str(), input.as_os_str());
    prove_process_ms(cli, package_arg, input_arg, &proof, 1);
    let whole = prove_process_ms(cli, package_arg, input_arg, &proof, SCALE_RUNS);
    let t = Instant::now();
    let status = Command::new(cli)
        .args(["verify", "--model"])
        .arg(&package)
        .arg("--proof")
        .arg(&proof)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    m["verify_process_ms"] = ms(t).into();
    m["export_ms"] = export_ms.into();
    // In parts (`prove --per-layer`): the second run, keys cached.
    child("prove-chain");
    let chain = child("prove-chain");
    m["zkinfer_prove_process_ms"] = whole.into();
    println!("\ntiny GPT (2 layers, 2 heads, d 32, context 16, 35 characters; wide profile; medians of {SCALE_RUNS}):\n");
    println!(
        "k = {}, {} rows, {} MACs; export {:.1} s, keygen {:.1} s, create_proof {:.1} s, verify {:.0} ms, \
         proof {} B, zkinfer prove {:.1} s (keys cached), zkinfer verify {:.1} s (rebuilds the key), peak {:.0} MB",
        m["k"], m["rows"], m["macs"],
        export_ms / 1e3,
        m["keygen_ms"].as_f64().unwrap() / 1e3,
        m["prove_ms"].as_f64().unwrap() / 1e3,
        m["verify_ms"].as_f64().unwrap(),
        m["proof_bytes"],
        whole / 1e3,
        m["verify_process_ms"].as_f64().unwrap() / 1e3,
        m["peak_mb"].as_f64().unwrap(),
    );
    println!(
        "in parts (--per-layer, keys cached): segments of k = {}, create_proof {:.1} s in all, verify {:.0} ms, \
         proofs {} B in all, peak {:.0} MB",
        chain["segment_k"],
        chain["prove_ms"].as_f64().unwrap() / 1e3,
        chain["verify_ms"].as_f64().unwrap(),
        chain["proof_bytes"],
        chain["peak_mb"].as_f64().unwrap(),
    );
    m["per_layer"] = chain;
    println!(
        "published, GPT-2 (124 M parameters): NanoZK (halo2 IPA) ~43 s and 6.9 KB per layer proof, \
         23 ms verify; Jolt Atlas 16 tokens 13-23 s (14-core laptop); zkGPT under 25 s"
    );
    m
}

/// The scale models: export each, measure its proving in a child process,
/// and time the whole `zkinfer prove` process.
fn scale_models(exe: &std::path::Path, cli: &str, dir: &std::path::Path) -> Vec<serde_json::Value> {
    let mut rows = vec![];
    for name in SCALE_MODELS {
        let onnx = format!("benches/models/{name}.onnx");
        let calibration = format!("benches/models/{name}.calibration.json");
        let report = format!("benches/models/{name}.report.json");
        let package = dir.join(name);
        let t = Instant::now();
        let out = Command::new(cli)
            .args([
                "export",
                "--onnx",
                &onnx,
                "--calibration",
                &calibration,
                "--out",
            ])
            .arg(&package)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let export_ms = ms(t);
        let out = Command::new(exe)
            .args(["prove-package", package.to_str().unwrap(), &report])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        // The whole process, on the same input, parameters cached.
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let input = dir.join(format!("{name}.input.json"));
        let data = serde_json::json!({ "input_data": [report["held_out_inputs"][0]] });
        std::fs::write(&input, data.to_string()).unwrap();
        let proof = dir.join(format!("{name}.proof.json"));
        // One untimed run writes the keys to the cache; the timed ones read
        // them.
        let (package_arg, input_arg) = (package.as_os_str(), input.as_os_str());
        prove_process_ms(cli, package_arg, input_arg, &proof, 1);
        let whole = prove_process_ms(cli, package_arg, input_arg, &proof, SCALE_RUNS);
        // Once more with cold keys: a parameters folder holding only the
        // parameters (what the first `prove` of a model does).
        let cold = dir.join(format!("{name}-cold-keys"));
        std::fs::create_dir_all(&cold).unwrap();
        let cache = zkinfer_prover::ParamsCache::new(zkinfer_prover::ParamsCache::default_dir());
        let k = m["k"].as_u64().unwrap() as u32;
        std::fs::copy(
            cache.path(k),
            zkinfer_prover::ParamsCache::new(&cold).path(k),
        )
        .unwrap();
        let t = Instant::now();
        let status = Command::new(cli)
            .args(["prove", "--model"])
            .arg(&package)
            .arg("--input")
            .arg(&input)
            .arg("--out")
            .arg(&proof)
            .arg("--params-dir")
            .arg(&cold)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        let cold_ms = ms(t);
        std::fs::remove_dir_all(&cold).unwrap();
        m["model"] = name.into();
        m["export_ms"] = export_ms.into();
        m["zkinfer_prove_process_ms"] = whole.into();
        m["zkinfer_prove_cold_keys_ms"] = cold_ms.into();
        rows.push(m);
    }
    println!(
        "\nscale models (benches/models/, exported from PyTorch by zkinfer export; medians of \
         {SCALE_RUNS}, parameters cached; \"process\" is the whole zkinfer prove with its keys cached too)\n"
    );
    println!(
        "{:<8} {:>7} {:>7} {:>7} {:>2} {:>6} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8}",
        "model",
        "profile",
        "params",
        "MACs",
        "k",
        "rows",
        "export",
        "keygen",
        "prove",
        "verify",
        "proof",
        "process",
        "peak"
    );
    for m in &rows {
        println!(
            "{:<8} {:>7} {:>7} {:>7} {:>2} {:>6} {:>6.1} s {:>6.1} s {:>6.1} s {:>5.0} ms {:>6} B {:>7.1} s {:>5.0} MB",
            m["model"].as_str().unwrap(),
            m["profile"].as_str().unwrap(),
            m["parameters"].as_u64().unwrap(),
            m["macs"].as_u64().unwrap(),
            m["k"].as_u64().unwrap(),
            m["rows"].as_u64().unwrap(),
            m["export_ms"].as_f64().unwrap() / 1e3,
            m["keygen_ms"].as_f64().unwrap() / 1e3,
            m["prove_ms"].as_f64().unwrap() / 1e3,
            m["verify_ms"].as_f64().unwrap(),
            m["proof_bytes"].as_u64().unwrap(),
            m["zkinfer_prove_process_ms"].as_f64().unwrap() / 1e3,
            m["peak_mb"].as_f64().unwrap(),
        );
    }
    println!("\nthe cost model's estimates in each profile (the plan takes another profile than compact only when it proves 1.5x faster)");
    for m in &rows {
        let costs: Vec<String> = m["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| match c["k"].as_u64() {
                Some(k) => format!(
                    "{} k = {k}: prove {:.1} s, keygen {:.1} s, {:.0} MB",
                    c["profile"].as_str().unwrap(),
                    c["estimates"]["prove_seconds"].as_f64().unwrap(),
                    c["estimates"]["keygen_seconds"].as_f64().unwrap(),
                    c["estimates"]["peak_memory_mb"].as_f64().unwrap(),
                ),
                None => format!("{} does not fit", c["profile"].as_str().unwrap()),
            })
            .collect();
        println!("{:<8} {}", m["model"].as_str().unwrap(), costs.join("; "));
    }
    println!(
        "\nthe whole zkinfer prove with cold keys (a parameters folder without this model's keys):"
    );
    for m in &rows {
        println!(
            "{:<8} {:>5.1} s (keys cached: {:.1} s)",
            m["model"].as_str().unwrap(),
            m["zkinfer_prove_cold_keys_ms"].as_f64().unwrap() / 1e3,
            m["zkinfer_prove_process_ms"].as_f64().unwrap() / 1e3,
        );
    }
    println!("\nkeygen split: the verifying key (every column committed) and the proving key");
    for m in &rows {
        let (keygen, vk) = (
            m["keygen_ms"].as_f64().unwrap(),
            m["vk_ms"].as_f64().unwrap(),
        );
        println!(
            "{:<8} vk {:>7.1} s, pk {:>7.1} s; the vk from stored commitments {:>6.2} s",
            m["model"].as_str().unwrap(),
            vk / 1e3,
            (keygen - vk) / 1e3,
            m["vk_from_commitments_ms"].as_f64().unwrap() / 1e3,
        );
    }
    println!("\npolycommit weights (private; the proof's weight columns open to their Pedersen commitment), in the same profile:");
    for m in &rows {
        let (fixed, poly) = (
            m["prove_ms"].as_f64().unwrap(),
            m["polycommit_prove_ms"].as_f64().unwrap(),
        );
        println!(
            "{:<8} k = {}, prove {:>5.1} s ({:.2}x the fixed weights')",
            m["model"].as_str().unwrap(),
            m["polycommit_k"].as_u64().unwrap(),
            poly / 1e3,
            poly / fixed,
        );
    }
    println!("\npeak memory after each phase (VmHWM: the highest so far)");
    for m in &rows {
        println!(
            "{:<8} parameters {:>5.0} MB, keys {:>5.0} MB, proofs {:>5.0} MB",
            m["model"].as_str().unwrap(),
            m["peak_after_params_mb"].as_f64().unwrap(),
            m["peak_after_keygen_mb"].as_f64().unwrap(),
            m["peak_mb"].as_f64().unwrap(),
        );
    }
    println!("\nthe cost model (zkinfer_prover::export::Estimates) against the measurements:");
    for m in &rows {
        let e = &m["estimates"];
        let ratio = |estimate: f64, measured: f64| 100.0 * (estimate / measured - 1.0);
        println!(
            "{:<8} keygen {:+5.0} %, prove {:+5.0} %, verify {:+5.0} %, peak memory {:+5.0} %",
            m["model"].as_str().unwrap(),
            ratio(
                e["keygen_seconds"].as_f64().unwrap() * 1e3,
                m["keygen_ms"].as_f64().unwrap()
            ),
            ratio(
                e["prove_seconds"].as_f64().unwrap() * 1e3,
                m["prove_ms"].as_f64().unwrap()
            ),
            ratio(
                e["verify_ms"].as_f64().unwrap(),
                m["verify_ms"].as_f64().unwrap()
            ),
            ratio(
                e["peak_memory_mb"].as_f64().unwrap(),
                m["peak_mb"].as_f64().unwrap()
            ),
        );
    }
    println!(
        "\nreference (EZKL 23.0.5, ordinary calibrated flow, this machine kind): LeNet-5 150 s at \
         k = 20, 9.6 GiB peak; an MLP of 90.9k parameters 125 s at k = 19, 8.3 GiB. Targets \
         (issue 12): LeNet-5 process ≤ 8 s with keys cached, create_proof ≤ 5 s, ≤ 1 GiB, verify \
         ≤ 100 ms; the 90k MLP process ≤ 8 s, ≤ 1 GiB"
    );
    rows
}

/// A model with one wide hidden layer: `64 → hidden → 10`, sized so that
/// its circuit needs a given k. Weights are small and deterministic.
fn wide_model(hidden: usize) -> zkinfer_quant::QuantizedModel {
    use zkinfer_quant::*;
    let linear = |out: usize, inp: usize| {
        let data = (0..out * inp)
            .map(|i| ((i * 7919) % 15) as i64 - 7)
            .collect();
        Op::Linear(Linear {
            weight: Tensor::new([out, inp], data).unwrap(),
            weight_scale: Scale(4),
            bias: vec![3; out],
        })
    };
    let input = TensorSpec {
        shape: Shape(vec![64]),
        scale: Scale(4),
        bits: 8,
    };
    let nodes = vec![
        Node {
            inputs: vec![0],
            op: linear(hidden, 64),
        },
        Node {
            inputs: vec![1],
            op: Op::Rescale(Rescale { shift: 8, bits: 12 }),
        },
        Node {
            inputs: vec![2],
            op: Op::Relu,
        },
        Node {
            inputs: vec![3],
            op: linear(10, hidden),
        },
        Node {
            inputs: vec![4],
            op: Op::Rescale(Rescale {
                shift: 12,
                bits: 16,
            }),
        },
    ];
    QuantizedModel::new(format!("wide-{hidden}"), input, nodes, None).unwrap()
}

/// Proves one input of `model` and writes the model and bundle to `dir`.
fn write_proof(
    model: &zkinfer_quant::QuantizedModel,
    dir: &std::path::Path,
) -> (u32, u64, u64, std::path::PathBuf, std::path::PathBuf) {
    use zkinfer_circuits::Visibility;
    use zkinfer_prover::{bundle_json, ParamsCache, Prover};
    use zkinfer_verifier::contract::INSTRUCTION_SCHEDULE;
    use zkinfer_verifier::VerifierKey;
    let k = VerifierKey::k_for(
        model,
        Visibility::Public,
        zkinfer_circuits::Profile::Compact,
    )
    .unwrap();
    let (params, _) = ParamsCache::new(ParamsCache::default_dir())
        .load(k)
        .unwrap();
    let prover = Prover::new(model.name(), model.clone(), Visibility::Public, params).unwrap();
    let x = zkinfer_quant::Tensor::new([64], (0..64).map(|i| (i * 5 % 31) - 15).collect()).unwrap();
    let bundle = prover.prove(&x).unwrap().bundle;
    let model_path = dir.join(format!("{}.model.json", model.name()));
    let bundle_path = dir.join(format!("{}.proof.json", model.name()));
    std::fs::write(&model_path, model.to_json()).unwrap();
    std::fs::write(&bundle_path, bundle_json(&bundle)).unwrap();
    let plan = prover.verifier_key().circuit().plan();
    // The native model (thousands of instructions); the contract's SCHEDULE
    // is in SDK gas, calibrated in the VM (make wasm-test).
    let gas = INSTRUCTION_SCHEDULE.verification(plan);
    let registration = INSTRUCTION_SCHEDULE.registration(plan);
    (k, gas, registration, model_path, bundle_path)
}

/// Rebuilds the key and, unless `key_only`, verifies one bundle (run under
/// callgrind: the difference of the two is the verification's cost).
fn verify_file(model: &str, bundle: &str, key_only: bool) {
    use zkinfer_circuits::Visibility;
    use zkinfer_prover::ParamsCache;
    use zkinfer_verifier::{verify, ProofBundle, VerifierKey};
    let model =
        zkinfer_quant::QuantizedModel::from_json(&std::fs::read_to_string(model).unwrap()).unwrap();
    let bundle = ProofBundle::from_json(&std::fs::read_to_string(bundle).unwrap()).unwrap();
    let k = VerifierKey::k_for(
        &model,
        Visibility::Public,
        zkinfer_circuits::Profile::Compact,
    )
    .unwrap();
    let (params, _) = ParamsCache::new(ParamsCache::default_dir())
        .load(k)
        .unwrap();
    let key = VerifierKey::new(model, Visibility::Public, params).unwrap();
    if !key_only {
        verify(&key, &bundle).unwrap();
    }
}

/// Instructions a process executes, every thread included, counted by
/// callgrind (repeatable for the same binary and inputs).
fn callgrind_instructions(
    exe: &std::path::Path,
    mode: &str,
    model: &std::path::Path,
    bundle: &std::path::Path,
) -> Option<u64> {
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(exe)
        .arg(mode)
        .args([model, bundle])
        .output()
        .ok()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr
        .lines()
        .find_map(|l| l.split("Collected :").nth(1))
        .and_then(|n| n.trim().parse().ok())
}

/// Gas against instructions actually executed, at several k.
fn gas_calibration(exe: &std::path::Path, dir: &std::path::Path) {
    println!("\ngas: the contract's schedule against the instructions a verification executes");
    println!("(callgrind, all threads; a process that verifies minus one that only rebuilds the key; 1 gas = 1,000 instructions)\n");
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!("valgrind not found: skipped");
        return;
    }
    println!(
        "{:<12} {:>2} {:>12} {:>12} {:>7} {:>12} {:>12}",
        "model", "k", "verify", "schedule", "error", "rebuild key", "schedule"
    );
    let (mut points, mut key_points) = (vec![], vec![]);
    let models = vec![
        zkinfer_models::bundled::BundledModel::find("digits-mlp")
            .unwrap()
            .quantized()
            .unwrap(),
        wide_model(100),
        wide_model(200),
        wide_model(400),
    ];
    for model in &models {
        let (k, gas, registration, model_path, bundle_path) = write_proof(model, dir);
        let with = callgrind_instructions(exe, "verify-file", &model_path, &bundle_path);
        let without = callgrind_instructions(exe, "key-file", &model_path, &bundle_path);
        let (Some(with), Some(without)) = (with, without) else {
            println!("{:<12} {k:>2}  callgrind failed", model.name());
            continue;
        };
        let measured = with.saturating_sub(without) as f64 / 1000.0;
        let key_measured = without as f64 / 1000.0;
        println!(
            "{:<12} {k:>2} {measured:>12.0} {gas:>12} {:>6.1}% {key_measured:>12.0} {registration:>12}",
            model.name(),
            (gas as f64 - measured) / measured * 100.0
        );
        points.push(((1u64 << k) as f64, measured));
        key_points.push(((1u64 << k) as f64, key_measured));
    }
    // Least squares: measured = base + per_row · 2^k.
    let fit = |points: &[(f64, f64)]| {
        let n = points.len() as f64;
        let (sx, sy) = points
            .iter()
            .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
        let (sxx, sxy) = points
            .iter()
            .fold((0.0, 0.0), |(a, b), (x, y)| (a + x * x, b + x * y));
        let per_row = (n * sxy - sx * sy) / (n * sxx - sx * sx);
        ((sy - per_row * sx) / n, per_row)
    };
    if points.len() >= 2 {
        let (base, per_row) = fit(&points);
        println!("\nfit, verify:      {base:.0} + {per_row:.1} · 2^k thousand instructions");
        let (base, per_row) = fit(&key_points);
        println!(
            "fit, rebuild key: {base:.0} + {per_row:.1} · 2^k thousand instructions \
             (a whole process; parameters read from the cache)"
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "prove") {
        return measure(&args[i + 1]);
    }
    if let Some(i) = args.iter().position(|a| a == "prove-package") {
        return measure_package(&args[i + 1], &args[i + 2]);
    }
    if let Some(i) = args.iter().position(|a| a == "prove-gpt") {
        let text = std::fs::read_to_string(&args[i + 2]).unwrap();
        let model = zkinfer_models::load_quantized_model(&args[i + 1]).unwrap();
        let numel = model.quantized.input().shape.numel();
        let x = zkinfer_models::input::parse_samples(&text, numel).unwrap();
        println!("{}", measure_prover(&args[i + 1], &x[0], false));
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "prove-chain") {
        let text = std::fs::read_to_string(&args[i + 2]).unwrap();
        let model = zkinfer_models::load_quantized_model(&args[i + 1]).unwrap();
        let numel = model.quantized.input().shape.numel();
        let x = zkinfer_models::input::parse_samples(&text, numel).unwrap();
        println!("{}", measure_chain(&args[i + 1], &x[0]));
        return;
    }
    if let Some(i) = args
        .iter()
        .position(|a| a == "verify-file" || a == "key-file")
    {
        return verify_file(&args[i + 1], &args[i + 2], args[i] == "key-file");
    }
    let exe = std::env::current_exe().unwrap();
    let cli = env!("CARGO_BIN_EXE_zkinfer");
    let dir = std::env::temp_dir().join(format!("zkinfer-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // `cargo bench --bench prove -- gpt`: the tiny GPT alone.
    if args.iter().any(|a| a == "gpt") {
        tiny_gpt(&exe, cli, &dir);
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
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
        let whole = prove_process_ms(
            cli,
            name.as_ref(),
            "examples/inputs/digit-7.json".as_ref(),
            &proof,
            RUNS,
        );
        m["zkinfer_prove_process_ms"] = whole.into();
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
    println!("\nverifying key, as a verifier without a key file gets it:");
    for m in &rows {
        println!(
            "{:<11} rebuilt {:>6.1} ms, from its stored commitments {:>6.1} ms",
            m["model"].as_str().unwrap(),
            m["vk_rebuild_ms"].as_f64().unwrap(),
            m["vk_from_commitments_ms"].as_f64().unwrap(),
        );
    }
    println!("\ncommitted input (--committed-input: a blinded Poseidon commitment instead of the values):");
    for m in &rows {
        let (public, committed) = (
            m["prove_ms"].as_f64().unwrap(),
            m["committed_prove_ms"].as_f64().unwrap(),
        );
        println!(
            "{:<11} k = {}, {} rows of packing and hashing, prove {:.1} ms ({:.2}x the public input's), {} B",
            m["model"].as_str().unwrap(),
            m["committed_k"].as_u64().unwrap(),
            m["committed_hash_rows"].as_u64().unwrap(),
            committed,
            committed / public,
            m["committed_proof_bytes"].as_u64().unwrap(),
        );
    }
    println!("\ncommitted weights (--weights-visibility committed: private weights, their Poseidon commitment public; one key per architecture):");
    for m in &rows {
        let (fixed, committed) = (
            m["prove_ms"].as_f64().unwrap(),
            m["weights_prove_ms"].as_f64().unwrap(),
        );
        println!(
            "{:<11} k = {}, {} rows of packing and hashing, prove {:.1} ms ({:.2}x the fixed weights'), {} B",
            m["model"].as_str().unwrap(),
            m["weights_k"].as_u64().unwrap(),
            m["weights_hash_rows"].as_u64().unwrap(),
            committed,
            committed / fixed,
            m["weights_proof_bytes"].as_u64().unwrap(),
        );
    }
    println!("\npolycommit weights (--weights-visibility polycommit: private weights in columns of their own, opened to a registered Pedersen commitment; one key per architecture):");
    for m in &rows {
        let (fixed, poly) = (
            m["prove_ms"].as_f64().unwrap(),
            m["polycommit_prove_ms"].as_f64().unwrap(),
        );
        println!(
            "{:<11} k = {}, {} store rows, prove {:.1} ms ({:.2}x the fixed weights'), {} B with the opening",
            m["model"].as_str().unwrap(),
            m["polycommit_k"].as_u64().unwrap(),
            m["polycommit_store_rows"].as_u64().unwrap(),
            poly,
            poly / fixed,
            m["polycommit_proof_bytes"].as_u64().unwrap(),
        );
    }
    println!("\nreference (EZKL 23.0.5, same architectures, this machine kind): prove 4.1 s / 3.9 s at k = 15, verify 34–37 ms, 3,072-byte proofs, 340 MB peak");
    let scale = scale_models(&exe, cli, &dir);
    let gpt = tiny_gpt(&exe, cli, &dir);
    std::fs::write(
        "target/bench.json",
        serde_json::to_string_pretty(
            &serde_json::json!({ "digits": rows, "scale": scale, "tiny_gpt": gpt }),
        )
        .unwrap(),
    )
    .unwrap();
    gas_calibration(&exe, &dir);
    let _ = std::fs::remove_dir_all(&dir);
}
