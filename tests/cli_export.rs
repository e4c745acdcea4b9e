//! `zkinfer export` and `zkinfer inspect`, end to end: each ONNX fixture is
//! exported into a circuit package, which `prove`, `verify` and `infer` then
//! take as `--model` (the bit-exact chain infer → prove → verify); `inspect`
//! prints the package's report again; the `accuracy` target and private
//! inputs; and files that cannot be imported or read (exit 2, nothing
//! written).
//!
//! Every command that may touch IPA parameters gets a temporary cache
//! (`--params-dir`), so the tests never write to the home folder.

mod common;

use common::{arg, argmax, f64s, i64s, read_json, repo_path, zkinfer, Case, Run, PIXELS};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The ONNX fixtures' folder, relative to the repository root (the binary's
/// working directory in these tests).
const FIXTURES: &str = "models/fixtures/onnx";
/// `package.json`'s format.
const PACKAGE_FORMAT: &str = "zkinfer/package@1";
/// The argmax agreement the `resources` target keeps.
const MIN_AGREEMENT: f64 = 0.98;
/// The files of a package.
const PACKAGE_FILES: [&str; 5] = [
    "arch.json",
    "model.json",
    "package.json",
    "verifier_key.json",
    "weights.safetensors",
];

/// A fixture's path relative to the repository root, e.g. `mlp.onnx`.
fn fixture(file: &str) -> String {
    format!("{FIXTURES}/{file}")
}

fn is_hex_digest(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
}

/// Index of the largest value; the first one on ties.
fn argmax_f64(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

impl Case {
    /// Runs `export --onnx <onnx> --calibration <calibration> --out <out>`
    /// with `extra` arguments.
    fn export(&self, onnx: &str, calibration: &str, out: &Path, extra: &[&str]) -> Run {
        let mut args = vec![
            "export",
            "--onnx",
            onnx,
            "--calibration",
            calibration,
            "--out",
            arg(out),
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn prove(&self, model: &Path, input: &Path, out: &Path) -> Run {
        self.run(&[
            "prove",
            "--model",
            arg(model),
            "--input",
            arg(input),
            "--out",
            arg(out),
            "--json",
        ])
    }

    fn verify(&self, model: &Path, proof: &Path) -> Run {
        self.run(&[
            "verify",
            "--model",
            arg(model),
            "--proof",
            arg(proof),
            "--json",
        ])
    }
}

/// Runs `infer --json` (it needs no parameters).
fn infer(model: &Path, input: &Path) -> Value {
    zkinfer([
        "infer",
        "--model",
        arg(model),
        "--input",
        arg(input),
        "--json",
    ])
    .json()
}

/// The first calibration sample of fixture `name` (EZKL's layout: every
/// sample concatenated in `input_data[0]`).
fn first_calibration_sample(name: &str) -> Vec<f64> {
    let calibration = read_json(&repo_path(&fixture(&format!("{name}.calibration.json"))));
    let all = f64s(&calibration["input_data"][0]);
    assert_eq!(all.len(), 100 * PIXELS, "{name}: 100 samples of {PIXELS}");
    all[..PIXELS].to_vec()
}

/// The reference evaluator's outputs for the first sample of fixture `name`.
fn first_reference_output(name: &str) -> Vec<f64> {
    let reference = read_json(&repo_path(&fixture(&format!("{name}.reference.json"))));
    f64s(&reference["outputs"][0])
}

/// The bit budget a candidate or a package names: (weight, activation, and
/// table-domain bits when the package records them).
fn budget(value: &Value) -> (u64, u64, Option<u64>) {
    let bits = |key: &str| {
        value[key]
            .as_u64()
            .unwrap_or_else(|| panic!("no integer {key:?}: {value}"))
    };
    (
        bits("weight_bits"),
        bits("activation_bits"),
        value.get("table_bits").and_then(Value::as_u64),
    )
}

/// The candidate the package chose: the one with the package's bit budget.
fn chosen_candidate(package: &Value) -> &Value {
    let chosen: Vec<&Value> = candidates(package)
        .iter()
        .filter(|c| budget(c) == budget(package))
        .collect();
    assert_eq!(
        chosen.len(),
        1,
        "expected one candidate with the package's budget {:?}: {package}",
        budget(package)
    );
    chosen[0]
}

fn candidates(package: &Value) -> &[Value] {
    package["candidates"]
        .as_array()
        .unwrap_or_else(|| panic!("no candidates array: {package}"))
}

/// Checks the shape of `package.json` and returns its k.
fn check_package(name: &str, package: &Value) -> u64 {
    assert_eq!(package["format"], PACKAGE_FORMAT, "{package}");
    assert_eq!(package["name"], name, "{package}");
    assert_eq!(package["source"], format!("{name}.onnx"), "{package}");
    assert_eq!(
        package["dropped_softmax"],
        name == "mlp",
        "only mlp ends in a Softmax: {package}"
    );
    let k = package["k"]
        .as_u64()
        .unwrap_or_else(|| panic!("no integer k: {package}"));
    assert!((9..=12).contains(&k), "k = {k}: {package}");
    for digest in ["vk_digest", "model_digest"] {
        let hex = package[digest].as_str().unwrap_or_default();
        assert!(is_hex_digest(hex), "{digest}: {package}");
    }

    // The plan is the circuit's, for the same k.
    let plan = &package["plan"];
    assert_eq!(plan["k"], k, "{package}");
    let layers = plan["layers"]
        .as_array()
        .unwrap_or_else(|| panic!("no plan layers: {package}"));
    assert!(!layers.is_empty(), "{package}");
    for layer in layers {
        assert!(layer["op"].is_string(), "{layer}");
    }

    // Calibration keeps the argmax on at least 98 % of the samples.
    let calibration = &package["calibration"];
    assert_eq!(calibration["samples"], 100, "{package}");
    let agreement = calibration["agreement"]
        .as_f64()
        .unwrap_or_else(|| panic!("no agreement: {package}"));
    assert!(
        (MIN_AGREEMENT..=1.0).contains(&agreement),
        "{name}: agreement {agreement}"
    );

    // One candidate per budget tried, each usable one with its k, agreement
    // and error; the chosen one is the package's.
    let candidates = candidates(package);
    assert!(!candidates.is_empty(), "{package}");
    let budgets: BTreeSet<_> = candidates.iter().map(budget).collect();
    assert_eq!(
        budgets.len(),
        candidates.len(),
        "a budget tried twice: {package}"
    );
    for c in candidates {
        if c["k"].is_null() {
            assert!(
                c["note"].is_string(),
                "an unusable candidate without a note: {c}"
            );
        } else {
            assert!(c["k"].as_u64().is_some(), "{c}");
            let a = c["agreement"].as_f64().unwrap_or_else(|| panic!("{c}"));
            assert!((0.0..=1.0).contains(&a), "{c}");
            let e = c["mean_abs_error"]
                .as_f64()
                .unwrap_or_else(|| panic!("{c}"));
            assert!(e >= 0.0, "{c}");
        }
    }
    let chosen = chosen_candidate(package);
    assert_eq!(chosen["k"], k, "{package}");
    assert_eq!(chosen["agreement"], calibration["agreement"], "{package}");
    assert_eq!(
        chosen["mean_abs_error"], calibration["mean_abs_error"],
        "{package}"
    );
    k
}

/// Exports fixture `name`, checks the package, proves and verifies the
/// first calibration sample with it, and checks `inspect`.
fn check_fixture(name: &str) {
    let case = Case::new();
    let dir = case.join("package");
    let run = case.export(
        &fixture(&format!("{name}.onnx")),
        &fixture(&format!("{name}.calibration.json")),
        &dir,
        &["--json"],
    );
    let package = run.json();
    let k = check_package(name, &package);

    // The folder holds the package, and package.json is what was printed.
    assert_eq!(common::dir_entries(&dir), PACKAGE_FILES, "{name}");
    let package_path = dir.join("package.json");
    assert_eq!(read_json(&package_path), package, "{name}");
    let key = read_json(&dir.join("verifier_key.json"));
    assert_eq!(key["vk_digest"], package["vk_digest"], "{name}: {key}");
    assert_eq!(key["k"], k, "{name}");
    assert_eq!(key["input_visibility"], "public", "{name}");
    assert_eq!(package["input_visibility"], "public", "{name}");

    // infer → prove → verify on the first calibration sample.
    let sample = first_calibration_sample(name);
    let input = case.scratch.write_input("input.json", &sample);
    let inferred = infer(&dir, &input);
    let proof = case.join("proof.json");
    let proved = case.prove(&dir, &input, &proof).json();
    assert_eq!(proved["k"], k, "{name}: {proved}");
    assert_eq!(proved["vk_digest"], package["vk_digest"], "{name}");
    assert_eq!(proved["model_digest"], package["model_digest"], "{name}");
    assert_eq!(proved["outputs_int"], inferred["outputs_int"], "{name}");
    let bundle = read_json(&proof);
    assert_eq!(bundle["input_visibility"], "public", "{name}");
    assert!(bundle["input"].is_object(), "{name}: {}", bundle["input"]);

    let verified = case.verify(&dir, &proof).json();
    assert_eq!(verified["verified"], true, "{name}: {verified}");
    assert_eq!(verified["vk_digest"], package["vk_digest"], "{name}");
    assert_eq!(verified["k"], k, "{name}");
    for key in ["outputs_int", "outputs", "scale", "class", "model_digest"] {
        assert_eq!(
            verified[key], inferred[key],
            "{name}: verify's {key} differs from infer's"
        );
    }

    // The quantized model picks the class the reference evaluator's float
    // outputs pick (for mlp those are softmax probabilities: same argmax).
    let ints = i64s(&verified["outputs_int"]);
    let reference = first_reference_output(name);
    assert_eq!(ints.len(), reference.len(), "{name}");
    assert_eq!(verified["class"], argmax(&ints), "{name}: {verified}");
    assert_eq!(
        argmax(&ints),
        argmax_f64(&reference),
        "{name}: quantized {ints:?} vs reference {reference:?}"
    );

    check_inspect(name, &dir, &package);
}

/// `inspect DIR` prints the report again; `inspect --json` is package.json.
fn check_inspect(name: &str, dir: &Path, package: &Value) {
    let run = zkinfer(["inspect", arg(dir)]);
    run.assert_success();
    let text = &run.stdout;
    let k = package["k"].as_u64().unwrap();
    let mut needles = vec![
        format!("k = {k} "),
        format!("{} bytes", package["proof_bytes"]),
        package["vk_digest"].as_str().unwrap()[..16].to_string(),
        "trade-off".to_string(),
        format!("{name}.onnx"),
    ];
    for layer in package["plan"]["layers"].as_array().unwrap() {
        needles.push(layer["op"].as_str().unwrap().to_string());
    }
    if matches!(name, "cnn_bn_pool" | "residual") {
        needles.push("conv2d".to_string());
    }
    let (w, a, _) = budget(package);
    needles.push(format!("{w}-bit weights"));
    needles.push(format!("{a}-bit activations"));
    let agreement = package["calibration"]["agreement"].as_f64().unwrap();
    needles.push(format!("{:.2} %", agreement * 100.0));
    for needle in &needles {
        assert!(
            text.contains(needle.as_str()),
            "{name}: inspect's report lacks {needle:?}:\n{text}"
        );
    }
    // One row per candidate in the trade-off table.
    let tradeoff = text.split("trade-off").nth(1).unwrap();
    for c in candidates(package) {
        let row = match budget(c) {
            (w, a, Some(t)) => format!("{w}/{a}/{t} "),
            (w, a, None) => format!("{w}/{a} "),
        };
        assert!(tradeoff.contains(&row), "{name}: no {row:?} row:\n{text}");
    }
    assert_eq!(
        text.matches('→').count(),
        1,
        "{name}: one chosen candidate:\n{text}"
    );

    let printed = zkinfer(["inspect", arg(dir), "--json"]).json();
    assert_eq!(&printed, package, "{name}: inspect --json");
    assert_eq!(printed, read_json(&dir.join("package.json")), "{name}");
}

#[test]
fn export_mlp_proves_verifies_and_inspects() {
    check_fixture("mlp");
}

#[test]
fn export_cnn_bn_pool_proves_verifies_and_inspects() {
    check_fixture("cnn_bn_pool");
}

#[test]
fn export_sigmoid_tanh_proves_verifies_and_inspects() {
    check_fixture("sigmoid_tanh");
}

#[test]
fn export_residual_proves_verifies_and_inspects() {
    check_fixture("residual");
}

/// `inspect --json` prints package.json's text exactly: every float of the
/// report reads back to the number export wrote.
#[test]
fn inspect_json_reproduces_package_json_exactly() {
    let case = Case::new();
    let dir = case.join("package");
    case.export(
        &fixture("mlp.onnx"),
        &fixture("mlp.calibration.json"),
        &dir,
        &[],
    )
    .assert_success();
    let written = std::fs::read_to_string(dir.join("package.json")).unwrap();
    let run = zkinfer(["inspect", arg(&dir), "--json"]);
    run.assert_success();
    for (i, (printed, written)) in run.stdout.lines().zip(written.lines()).enumerate() {
        assert_eq!(printed, written, "line {} of package.json", i + 1);
    }
    assert_eq!(run.stdout.trim_end(), written.trim_end());
}

#[test]
fn accuracy_target_picks_the_smallest_error_within_one_k() {
    let case = Case::new();
    let dir = case.join("package");
    let package = case
        .export(
            &fixture("sigmoid_tanh.onnx"),
            &fixture("sigmoid_tanh.calibration.json"),
            &dir,
            &["--target", "accuracy", "--json"],
        )
        .json();
    assert_eq!(package["target"], "accuracy", "{package}");
    assert_eq!(read_json(&dir.join("package.json")), package);
    // Each table reports its domain and its error against its function:
    // at least half an output step, and small for an 8-bit domain.
    let tables = package["tables"].as_array().expect("tables");
    let functions: Vec<&str> = tables
        .iter()
        .map(|t| t["function"].as_str().unwrap())
        .collect();
    assert_eq!(functions, ["sigmoid", "tanh"], "{package}");
    for t in tables {
        let error = t["max_error"].as_f64().unwrap();
        assert!(error > 0.0 && error < 0.1, "{t}");
        let [lo, hi] = [0, 1].map(|i| t["domain"][i].as_f64().unwrap());
        assert!(lo < 0.0 && hi > 0.0, "{t}");
    }

    let usable: Vec<(u64, f64)> = candidates(&package)
        .iter()
        .filter(|c| !c["k"].is_null())
        .map(|c| {
            (
                c["k"].as_u64().unwrap(),
                c["mean_abs_error"].as_f64().unwrap(),
            )
        })
        .collect();
    assert!(!usable.is_empty(), "{package}");
    let k_min = usable.iter().map(|u| u.0).min().unwrap();
    let best = usable
        .iter()
        .filter(|u| u.0 <= k_min + 1)
        .map(|u| u.1)
        .fold(f64::INFINITY, f64::min);
    let chosen = chosen_candidate(&package);
    assert_eq!(
        chosen["mean_abs_error"].as_f64(),
        Some(best),
        "not the smallest error within one k of {k_min}: {package}"
    );
    assert!(chosen["k"].as_u64().unwrap() <= k_min + 1, "{package}");
    assert_eq!(package["k"], chosen["k"], "{package}");
    assert_eq!(
        package["calibration"]["mean_abs_error"].as_f64(),
        Some(best),
        "{package}"
    );
}

#[test]
fn private_input_package_proves_without_the_input() {
    let case = Case::new();
    let dir = case.join("package");
    let package = case
        .export(
            &fixture("mlp.onnx"),
            &fixture("mlp.calibration.json"),
            &dir,
            &["--input-visibility", "private", "--json"],
        )
        .json();
    assert_eq!(package["input_visibility"], "private", "{package}");
    let key = read_json(&dir.join("verifier_key.json"));
    assert_eq!(key["input_visibility"], "private", "{key}");
    assert_eq!(key["vk_digest"], package["vk_digest"]);

    // No --private-input flag: the package's visibility is used.
    let input = case
        .scratch
        .write_input("input.json", &first_calibration_sample("mlp"));
    let proof = case.join("proof.json");
    let proved = case.prove(&dir, &input, &proof).json();
    assert_eq!(proved["vk_digest"], package["vk_digest"], "{proved}");
    let bundle = read_json(&proof);
    assert_eq!(bundle.get("input"), Some(&Value::Null), "{bundle}");
    assert_eq!(bundle["input_visibility"], "private", "{bundle}");
    assert_eq!(bundle["output"]["values"], proved["outputs_int"]);

    let verified = case.verify(&dir, &proof).json();
    assert_eq!(verified["verified"], true, "{verified}");
    assert_eq!(verified["vk_digest"], package["vk_digest"]);
    assert_eq!(verified["outputs_int"], infer(&dir, &input)["outputs_int"]);
    assert_eq!(verified["input_visibility"], "private", "{verified}");
    assert_eq!(verified["input_digest"], Value::Null, "{verified}");

    // Regression (wave 1): the visibility came from the bundle, so a
    // private-input proof verified against a model declared public. The
    // model file alone declares a public input: refused, exit 2.
    let run = case.verify(&dir.join("model.json"), &proof);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr.contains(
            "proves the model with a private input; this key verifies proofs with a public input"
        ),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------
// Errors: exit 2, one line `error: ...` naming the file, nothing written.

/// Checks a failed command: see [`Run::assert_error`]; nothing on stdout,
/// or with `--json` only the error as JSON.
fn assert_error(run: &Run, needles: &[&str]) {
    run.assert_error(needles);
    run.assert_failure_stdout();
}

/// Runs an export that must fail with `needles` on stderr, and checks it
/// wrote no package.
fn export_fails(case: &Case, onnx: &str, calibration: &str, needles: &[&str]) {
    let out = case.join("package");
    let run = case.export(onnx, calibration, &out, &[]);
    assert_error(&run, needles);
    assert!(
        !out.join("package.json").exists(),
        "a failed export wrote a package"
    );
    if out.exists() {
        assert_eq!(
            common::dir_entries(&out),
            Vec::<String>::new(),
            "a failed export left files in {}",
            out.display()
        );
    }
}

/// Writes `{"inputs": samples}` as Python's json does, `NaN` included.
fn write_calibration(case: &Case, name: &str, samples: &[Vec<f64>]) -> PathBuf {
    let rows: Vec<String> = samples
        .iter()
        .map(|s| {
            let values: Vec<String> = s
                .iter()
                .map(|v| {
                    if v.is_nan() {
                        "NaN".to_string()
                    } else {
                        format!("{v:?}")
                    }
                })
                .collect();
            format!("[{}]", values.join(", "))
        })
        .collect();
    case.scratch
        .write(name, format!("{{\"inputs\": [{}]}}", rows.join(", ")))
}

#[test]
fn unsupported_op_is_named_with_what_is_supported() {
    // Sin and Cos have no circuit op: both are named, in one message.
    let case = Case::new();
    let onnx = fixture("refused.onnx");
    export_fails(
        &case,
        &onnx,
        &fixture("mlp.calibration.json"),
        &[
            &onnx,
            "2 nodes cannot be imported",
            "\"/Sin\" (Sin, opset 13)",
            "\"/Cos\" (Cos, opset 13)",
            "Gemm",
            "Conv",
        ],
    );
}

#[test]
fn truncated_onnx_file() {
    let case = Case::new();
    let bytes = std::fs::read(repo_path(&fixture("mlp.onnx"))).unwrap();
    assert!(bytes.len() > 300);
    let onnx = case.scratch.write("truncated.onnx", &bytes[..300]);
    export_fails(
        &case,
        arg(&onnx),
        &fixture("mlp.calibration.json"),
        &[arg(&onnx)],
    );
}

#[test]
fn onnx_file_of_random_bytes() {
    let case = Case::new();
    // A fixed xorshift stream: the same "random" file every run.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 56) as u8
        })
        .collect();
    let onnx = case.scratch.write("random.onnx", &bytes);
    export_fails(
        &case,
        arg(&onnx),
        &fixture("mlp.calibration.json"),
        &[arg(&onnx)],
    );
}

#[test]
fn missing_onnx_file() {
    let case = Case::new();
    let onnx = case.join("missing.onnx");
    export_fails(
        &case,
        arg(&onnx),
        &fixture("mlp.calibration.json"),
        &[arg(&onnx)],
    );
}

#[test]
fn missing_calibration_file() {
    let case = Case::new();
    let calibration = case.join("missing.calibration.json");
    export_fails(
        &case,
        &fixture("mlp.onnx"),
        arg(&calibration),
        &[arg(&calibration)],
    );
}

#[test]
fn calibration_samples_of_the_wrong_shape() {
    let case = Case::new();
    let calibration = write_calibration(&case, "short.json", &[vec![0.5; PIXELS - 1]]);
    export_fails(
        &case,
        &fixture("mlp.onnx"),
        arg(&calibration),
        &[arg(&calibration), "63", "64"],
    );
}

#[test]
fn nan_in_the_calibration_data() {
    let case = Case::new();
    let mut sample = first_calibration_sample("mlp");
    sample[10] = f64::NAN;
    let calibration = write_calibration(
        &case,
        "nan.json",
        &[first_calibration_sample("mlp"), sample],
    );
    let text = std::fs::read_to_string(&calibration).unwrap();
    assert!(text.contains("NaN"), "{text}");
    export_fails(
        &case,
        &fixture("mlp.onnx"),
        arg(&calibration),
        &[arg(&calibration), "NaN"],
    );
}

#[test]
fn empty_calibration_set() {
    let case = Case::new();
    let calibration = write_calibration(&case, "empty.json", &[]);
    assert_eq!(
        std::fs::read_to_string(&calibration).unwrap(),
        "{\"inputs\": []}"
    );
    export_fails(
        &case,
        &fixture("mlp.onnx"),
        arg(&calibration),
        &[arg(&calibration)],
    );
}

#[test]
fn inspect_a_folder_without_package_json() {
    let case = Case::new();
    let dir = case.join("not-a-package");
    std::fs::create_dir(&dir).unwrap();
    let run = zkinfer(["inspect", arg(&dir)]);
    assert_error(&run, &[arg(&dir), "package.json"]);
    let run = zkinfer(["inspect", arg(&dir), "--json"]);
    assert_error(&run, &[arg(&dir), "package.json"]);
}

#[test]
fn inspect_a_package_of_another_format_version() {
    let case = Case::new();
    let dir = case.join("package");
    let mut package = case
        .export(
            &fixture("mlp.onnx"),
            &fixture("mlp.calibration.json"),
            &dir,
            &["--json"],
        )
        .json();
    package["format"] = Value::from("zkinfer/package@2");
    case.scratch.write(
        "package/package.json",
        serde_json::to_string_pretty(&package).unwrap(),
    );
    let file = dir.join("package.json");
    let run = zkinfer(["inspect", arg(&dir)]);
    assert_error(&run, &[arg(&file), "zkinfer/package@2"]);
    let run = zkinfer(["inspect", arg(&dir), "--json"]);
    assert_error(&run, &[arg(&file), "zkinfer/package@2"]);
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(out["file"], arg(&file), "{out}");
}

// ---------------------------------------------------------------------------
// Overwrites, permissions, and what proving needs from a package.

/// `--out` naming a folder of someone else's files (a model folder) is
/// refused unless `--force`; a package folder is replaced; a file is
/// refused.
#[test]
fn export_refuses_a_folder_that_is_not_a_package_unless_forced() {
    let case = Case::new();
    let onnx = fixture("mlp.onnx");
    let calibration = fixture("mlp.calibration.json");
    let folder = case.join("digits-mlp");
    std::fs::create_dir(&folder).unwrap();
    for file in ["model.json", "arch.json", "weights.safetensors"] {
        std::fs::copy(
            repo_path("models/bundled/digits-mlp").join(file),
            folder.join(file),
        )
        .unwrap();
    }
    let before: Vec<Vec<u8>> = ["model.json", "arch.json", "weights.safetensors"]
        .iter()
        .map(|f| std::fs::read(folder.join(f)).unwrap())
        .collect();
    let run = case.export(&onnx, &calibration, &folder, &[]);
    assert_error(
        &run,
        &[
            arg(&folder),
            "no zkinfer package.json",
            "model.json",
            "--force",
        ],
    );
    let after: Vec<Vec<u8>> = ["model.json", "arch.json", "weights.safetensors"]
        .iter()
        .map(|f| std::fs::read(folder.join(f)).unwrap())
        .collect();
    assert!(before == after, "a refused export changed the folder");

    // With --force it is written; then it is a package, replaced freely.
    case.export(&onnx, &calibration, &folder, &["--force"])
        .assert_success();
    assert!(folder.join("package.json").is_file());
    case.export(&onnx, &calibration, &folder, &[])
        .assert_success();

    // A file is not a folder.
    let file = case.scratch.write("notes.txt", "mine\n");
    let run = case.export(&onnx, &calibration, &file, &["--force"]);
    assert_error(&run, &[arg(&file), "is a file"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine\n");
}

/// Every package file is written alike (the umask's permissions: no 0600
/// weights while the rest is 0644), and `prove`, `verify`, `infer` and
/// `contract register` need only `model.json` (and `package.json` for the
/// visibility), never the float weights: damaged or missing weights block
/// nothing but float comparisons. Slow phases report progress off a
/// terminal (import and calibration here, with the threshold at 0).
#[test]
fn package_files_share_permissions_and_prove_without_the_weights() {
    let case = Case::new();
    let dir = case.join("package");
    let params = case.params();
    let run = common::zkinfer_with_env(
        [
            "export",
            "--onnx",
            &fixture("mlp.onnx"),
            "--calibration",
            &fixture("mlp.calibration.json"),
            "--out",
            arg(&dir),
            "--json",
        ],
        &[
            (common::PARAMS_DIR_ENV, params.as_os_str()),
            ("ZKINFER_PROGRESS_AFTER_MS", "0".as_ref()),
        ],
    );
    run.assert_success();
    for phase in ["importing ", "calibrating ", "building the verifying key"] {
        assert!(run.stderr.contains(phase), "no {phase:?}: {run:#?}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |f: &str| std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
        let model_mode = mode("model.json");
        for file in PACKAGE_FILES {
            assert_eq!(mode(file), model_mode, "{file}: {:o}", mode(file));
        }
        // What a fresh file gets under this umask.
        let probe = case.scratch.write("probe", "");
        let fresh = std::fs::metadata(&probe).unwrap().permissions().mode() & 0o777;
        assert_eq!(model_mode, fresh, "{model_mode:o} vs {fresh:o}");
    }

    let input = case
        .scratch
        .write_input("input.json", &first_calibration_sample("mlp"));
    std::fs::write(dir.join("weights.safetensors"), "damaged").unwrap();
    let proof = case.join("proof.json");
    let proved = case.prove(&dir, &input, &proof).json();
    assert_eq!(case.verify(&dir, &proof).json()["verified"], true);
    std::fs::remove_file(dir.join("weights.safetensors")).unwrap();
    std::fs::remove_file(dir.join("arch.json")).unwrap();
    assert_eq!(case.verify(&dir, &proof).json()["verified"], true);
    assert_eq!(infer(&dir, &input)["class"], proved["class"]);
    let state = case.join("state");
    case.run_env(&["contract", "init", "--state", arg(&state), "--admin", "a"])
        .assert_success();
    case.run_env(&[
        "contract",
        "register",
        "--state",
        arg(&state),
        "--model",
        arg(&dir),
    ])
    .assert_success();
}

/// A committed-input package: its circuit, key and bundles carry the
/// input's commitment, never its values; prove and verify take the
/// package's visibility without a flag.
#[test]
fn committed_input_package_proves_with_a_commitment() {
    let case = Case::new();
    let dir = case.join("package");
    let package = case
        .export(
            &fixture("mlp.onnx"),
            &fixture("mlp.calibration.json"),
            &dir,
            &["--input-visibility", "committed", "--json"],
        )
        .json();
    assert_eq!(package["input_visibility"], "committed", "{package}");
    assert!(
        package["plan"]["commitment_rows"].as_u64().unwrap() > 0,
        "{package}"
    );
    let key = read_json(&dir.join("verifier_key.json"));
    assert_eq!(key["input_visibility"], "committed", "{key}");

    let input = case
        .scratch
        .write_input("input.json", &first_calibration_sample("mlp"));
    let proof = case.join("proof.json");
    let proved = case.prove(&dir, &input, &proof).json();
    assert_eq!(proved["vk_digest"], package["vk_digest"], "{proved}");
    assert!(proved["blinding"].is_string(), "{proved}");
    let bundle = read_json(&proof);
    assert_eq!(bundle.get("input"), Some(&Value::Null), "{bundle}");
    assert_eq!(bundle["input_commitment"], proved["input_commitment"]);

    let verified = case.verify(&dir, &proof).json();
    assert_eq!(verified["input_visibility"], "committed", "{verified}");
    assert_eq!(verified["input_commitment"], proved["input_commitment"]);
    assert_eq!(verified["outputs_int"], infer(&dir, &input)["outputs_int"]);
}

/// A committed-weights package (hashed or polycommit): its key and
/// `verifier_key.json` are the architecture's (no weight in it), prove and
/// verify take the package's weights visibility without a flag, bundles
/// carry the weights' commitment that `zkinfer commit` prints. The
/// contract never registers it as a fixed-weights model (its weights would
/// become public); a polycommit package registers its architecture, and
/// its weights are accepted by commitment.
fn committed_weights_package(visibility: &str) {
    let case = Case::new();
    let dir = case.join("package");
    let package = case
        .export(
            &fixture("mlp.onnx"),
            &fixture("mlp.calibration.json"),
            &dir,
            &["--weights-visibility", visibility, "--json"],
        )
        .json();
    assert_eq!(package["weight_visibility"], visibility, "{package}");
    assert_eq!(package["plan"]["weight_visibility"], visibility);
    let committed = zkinfer(["--json", "commit", "--model", arg(&dir), "--polycommit"]).json();
    let commitment = match visibility {
        "polycommit" => &committed["polycommit"]["commitment"],
        _ => &committed["model_commitment"],
    };
    assert_eq!(package["model_digest"], committed["architecture_digest"]);
    // A polycommit package keeps its owner's secret, readable by the owner
    // only, and its commitment is blinded by it.
    let secret = dir.join("weights_secret.txt");
    assert_eq!(secret.exists(), visibility == "polycommit");
    if visibility == "polycommit" {
        assert_eq!(committed["polycommit"]["hiding"], true, "{committed}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
    }
    // The key file's model is the architecture: every weight of a layer at
    // its width's extreme.
    let key = read_json(&dir.join("verifier_key.json"));
    let bytes = zkinfer_verifier::base64::decode(key["model"].as_str().unwrap()).unwrap();
    let architecture = zkinfer_quant::QuantizedModel::from_bytes(&bytes).unwrap();
    assert_eq!(architecture.digest().to_hex(), package["model_digest"]);
    let weights = architecture.nodes().iter().find_map(|n| match &n.op {
        zkinfer_quant::Op::Linear(l) => Some(l.weight.data.clone()),
        _ => None,
    });
    let weights = weights.unwrap();
    assert!(weights.iter().all(|&w| w == weights[0]), "{weights:?}");
    assert!([-128, -(1 << 15)].contains(&weights[0]), "{weights:?}");

    let input = case
        .scratch
        .write_input("input.json", &first_calibration_sample("mlp"));
    let proof = case.join("proof.json");
    let proved = case.prove(&dir, &input, &proof).json();
    assert_eq!(proved["vk_digest"], package["vk_digest"], "{proved}");
    assert_eq!(&proved["model_commitment"], commitment);
    let verified = case.verify(&dir, &proof).json();
    assert_eq!(verified["weight_visibility"], visibility, "{verified}");
    assert_eq!(&verified["model_commitment"], commitment);
    assert_eq!(verified["outputs_int"], infer(&dir, &input)["outputs_int"]);

    let state = case.join("state");
    zkinfer([
        "contract",
        "init",
        "--state",
        arg(&state),
        "--admin",
        "alice",
    ])
    .assert_success();
    let register = |extra: &[&str]| {
        let mut args = vec!["--json", "contract", "register", "--state", arg(&state)];
        args.extend(["--model", arg(&dir)]);
        args.extend(extra);
        case.run(&args)
    };
    // Never as a fixed-weights model: that would publish the weights.
    register(&["--weights-visibility", "fixed"])
        .assert_error(&[&format!("exported with {visibility} weights"), "refused"]);
    if visibility == "committed" {
        register(&[]).assert_error(&["not hashed (committed) ones", "polycommit"]);
        return;
    }
    // A polycommit package registers its architecture; its weights are
    // accepted from the package, and its proof is attested under them.
    let registered = register(&[]).json();
    let attributes = &registered["events"][0]["attributes"];
    assert_eq!(attributes[0][1], package["vk_digest"], "{registered}");
    assert_eq!(attributes[2][1], package["model_digest"], "{registered}");
    let id = package["vk_digest"].as_str().unwrap();
    let contract = |args: &[&str]| {
        let mut all = vec!["--json", "contract"];
        all.extend(args);
        all.extend(["--state", arg(&state)]);
        case.run(&all)
    };
    let args = ["accept-weights", "--model-id", id, "--model", arg(&dir)];
    contract(&[&args[..], &["--label", "v1"]].concat()).assert_success();
    let attested = contract(&["submit", "--proof", arg(&proof), "--from", "bob"]).json();
    assert_eq!(attested["attestation"]["output"], verified["outputs_int"]);
}

#[test]
fn committed_weights_package_proves_under_the_architectures_key() {
    committed_weights_package("committed");
}

#[test]
fn polycommit_weights_package_proves_under_the_architectures_key() {
    committed_weights_package("polycommit");
}
