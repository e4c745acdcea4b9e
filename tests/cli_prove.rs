//! `zkinfer prove`, `zkinfer verify` and `zkinfer mock`, end to end: the
//! bit-exact chain infer → prove → verify, private inputs, the parameter
//! cache, tampered bundles (exit 1), and files that cannot be read or
//! written (exit 2).
//!
//! Every command that may touch IPA parameters gets a temporary cache
//! (`--params-dir` or `ZKINFER_PARAMS_DIR`), so the tests never write to the
//! home folder.

mod common;

use common::{arg, repo_path, zkinfer_with_env, Case, Run, Scratch, PARAMS_DIR_ENV};
use common::{bundled_model_json, check_outputs, dir_entries, f64s, i64s, read_json, zkinfer};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const MLP: &str = "digits-mlp";
const CNN: &str = "digits-cnn";
const DIGIT_0: &str = "examples/inputs/digit-0.json";
const DIGIT_3: &str = "examples/inputs/digit-3.json";
const DIGIT_7: &str = "examples/inputs/digit-7.json";
const DIGIT_7_EZKL: &str = "examples/inputs/digit-7.ezkl.json";
/// Both bundled models fit in 2^9 rows.
const K: u64 = 9;
/// The cached parameter file for [`K`].
const PARAMS_FILE: &str = "ipa-pasta-k9.params";

/// A bundled model's digest, read from its model.json.
fn digest(model: &str) -> Value {
    bundled_model_json(model)["digest"].clone()
}

fn is_hex_digest(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

/// Runs `infer --json`.
fn infer_json(model: &str, input: &str) -> Value {
    zkinfer(["infer", "--model", model, "--input", input, "--json"]).json()
}

impl Case {
    fn prove(&self, model: &str, input: &str, out: &Path, extra: &[&str]) -> Run {
        let mut args = vec![
            "prove",
            "--model",
            model,
            "--input",
            input,
            "--out",
            arg(out),
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn verify(&self, model: &str, proof: &Path, extra: &[&str]) -> Run {
        let mut args = vec!["verify", "--model", model, "--proof", arg(proof)];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        self.scratch.write(name, contents)
    }

    /// Writes a bundle file the way the prover does (pretty JSON).
    fn write_bundle(&self, name: &str, bundle: &Value) -> PathBuf {
        self.scratch
            .write(name, serde_json::to_string_pretty(bundle).unwrap())
    }
}

/// One public-input proof of digits-mlp on digit-7, proved once for the tests
/// that only read or tamper with it. Its scratch folder is removed at once.
fn mlp_bundle() -> &'static Value {
    static BUNDLE: OnceLock<Value> = OnceLock::new();
    BUNDLE.get_or_init(|| {
        let case = Case::new();
        let out = case.join("shared.proof.json");
        case.prove(MLP, DIGIT_7, &out, &[]).assert_success();
        read_json(&out)
    })
}

/// The shared bundle with one change, written into `case`.
fn tampered(case: &Case, name: &str, change: impl FnOnce(&mut Value)) -> PathBuf {
    let mut bundle = mlp_bundle().clone();
    change(&mut bundle);
    assert_ne!(&bundle, mlp_bundle(), "the change changed nothing");
    case.write_bundle(name, &bundle)
}

/// Checks a rejected proof: exit code 1, no panic, and `rejected` on stderr
/// with the file's name.
fn assert_rejected(run: &Run, proof: &Path) {
    let ctx = || format!("zkinfer {:?}\n{run:#?}", run.args);
    assert_eq!(run.code, Some(1), "expected exit code 1: {}", ctx());
    assert!(!run.stderr.contains("panicked"), "panicked: {}", ctx());
    assert!(
        run.stderr.contains("rejected"),
        "no \"rejected\": {}",
        ctx()
    );
    assert!(run.stderr.contains(arg(proof)), "file not named: {}", ctx());
}

/// `verify` rejects `proof` in text mode, and in JSON mode says
/// `"verified": false` on stdout.
fn check_rejected(case: &Case, model: &str, proof: &Path) {
    let run = case.verify(model, proof, &[]);
    assert_rejected(&run, proof);
    assert!(
        !run.stdout.contains("verified"),
        "text mode printed a verification:\n{}",
        run.stdout
    );
    let run = case.verify(model, proof, &["--json"]);
    assert_rejected(&run, proof);
    let out: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{run:#?}"));
    assert_eq!(out["verified"], false, "{out}");
}

/// Checks a failed command wrote nothing on stdout, or with `--json` only
/// the error as JSON; see also [`Run::assert_error`].
fn assert_error(run: &Run, needles: &[&str]) {
    run.assert_error(needles);
    run.assert_failure_stdout();
}

#[test]
fn prove_writes_a_bundle_and_caches_the_parameters() {
    let case = Case::new();
    let proof = case.join("digit-7.proof.json");
    let run = case.prove(MLP, DIGIT_7, &proof, &["--json"]);
    let out = run.json();
    assert_eq!(run.stderr, "", "warnings on a clean prove: {run:#?}");

    let expected = [
        "proof",
        "model_digest",
        "vk_digest",
        "k",
        "profile",
        "class",
        "outputs",
        "outputs_int",
        "scale",
        "proof_bytes",
        "timings_ms",
    ];
    let found = keys(&out);
    for key in expected {
        assert!(found.contains(key), "no {key:?}: {out}");
    }
    assert_eq!(out["proof"], arg(&proof), "{out}");
    assert_eq!(out["model"], MLP, "{out}");
    assert_eq!(out["model_digest"], digest(MLP), "{out}");
    assert!(is_hex_digest(out["vk_digest"].as_str().unwrap()), "{out}");
    assert_eq!(out["k"], K, "{out}");
    assert_eq!(out["profile"], "compact", "{out}");
    assert_eq!(out["class"], 7, "{out}");
    let ints = check_outputs(&out);
    let timings = &out["timings_ms"];
    assert_eq!(
        keys(timings),
        ["keygen", "params", "prove", "verify"].into(),
        "{out}"
    );
    for (step, ms) in timings.as_object().unwrap() {
        let ms = ms.as_f64().unwrap_or_else(|| panic!("{step}: {ms}"));
        assert!(ms >= 0.0, "{step}: {ms}");
    }

    // The bundle file holds the same claim, with the input as public
    // integers at the model's input scale.
    let bundle = read_json(&proof);
    assert_eq!(bundle["format"], "zkinfer/proof@2", "{bundle}");
    assert_eq!(bundle["model_digest"], out["model_digest"]);
    assert_eq!(bundle["vk_digest"], out["vk_digest"]);
    assert_eq!(bundle["k"], K);
    assert_eq!(bundle["input_visibility"], "public");
    assert_eq!(i64s(&bundle["output"]["values"]), ints);
    assert_eq!(bundle["output"]["scale"], out["scale"]);
    assert_eq!(bundle["output"]["shape"], json!([10]));
    assert_eq!(bundle["class"], out["class"]);
    assert_eq!(bundle["outputs"], out["outputs"]);
    let input = &bundle["input"];
    assert_eq!(input["shape"], json!([64]), "{input}");
    let unit = 2f64.powi(input["scale"].as_i64().unwrap() as i32);
    let pixels = f64s(&read_json(&repo_path(DIGIT_7))["input"]);
    // Pixels are multiples of 1/16: quantizing them is exact.
    let expected: Vec<i64> = pixels.iter().map(|&x| (x * unit) as i64).collect();
    assert_eq!(i64s(&input["values"]), expected);
    let text = bundle["proof"].as_str().unwrap();
    let bytes = zkinfer_verifier::base64::decode(text).expect("the proof is canonical base64");
    assert_eq!(out["proof_bytes"], bytes.len());
    assert!(bytes.len() > 1000, "a short proof: {} bytes", bytes.len());

    // The parameters were generated once, into the cache given, and the
    // keys cached beside them: the verifying key's commitments, the
    // proving key's polynomials (named by the vk digest).
    let vk = vk_file(MLP, "public");
    let pk = pk_file(&out);
    assert_eq!(dir_entries(&case.params()), [PARAMS_FILE, &pk, &vk]);
    assert_eq!(out["verifying_key"], "built", "{out}");
    assert_eq!(out["proving_key"], "built", "{out}");
    let file = case.params().join(PARAMS_FILE);
    let before = file_identity(&file);
    let vk_before = file_identity(&case.params().join(&vk));
    let pk_before = file_identity(&case.params().join(&pk));

    // A second prove reads all three back instead of writing again.
    let again = case.join("again.proof.json");
    let run = case.prove(MLP, DIGIT_7, &again, &["--json"]);
    assert_eq!(run.stderr, "", "warnings on a clean prove: {run:#?}");
    assert_eq!(run.json()["verifying_key"], "cached", "{run:#?}");
    assert_eq!(run.json()["proving_key"], "cached", "{run:#?}");
    assert_eq!(dir_entries(&case.params()), [PARAMS_FILE, &pk, &vk]);
    assert_eq!(
        file_identity(&file),
        before,
        "the parameters were rewritten"
    );
    assert_eq!(file_identity(&case.params().join(&vk)), vk_before);
    assert_eq!(file_identity(&case.params().join(&pk)), pk_before);
    let second = read_json(&again);
    assert_eq!(second["vk_digest"], bundle["vk_digest"]);
    assert_eq!(second["output"], bundle["output"]);
    // Text mode says the same, in fewer words.
    let text = case.join("text.proof.json");
    let run = case.prove(MLP, DIGIT_7, &text, &[]);
    run.assert_success();
    assert!(run.stdout.contains("class 7"), "{}", run.stdout);
    assert!(run.stdout.contains(arg(&text)), "{}", run.stdout);
}

/// The proving-key cache file of the key a `prove --json` output names.
fn pk_file(out: &Value) -> String {
    format!("pk-{}.bin", out["vk_digest"].as_str().unwrap())
}

/// The verifying-key cache file of a model and input visibility.
fn vk_file(model: &str, visibility: &str) -> String {
    let digest = digest(model);
    format!("vk-{}-{visibility}.json", digest.as_str().unwrap())
}

/// A cached verifying key that does not rebuild the key it names — damaged,
/// or from a circuit that changed — is refused with a warning naming it,
/// rebuilt and rewritten; the proof is the same.
#[test]
fn a_damaged_cached_verifying_key_is_rebuilt_never_trusted() {
    let case = Case::new();
    let first = case.join("first.proof.json");
    let built = case.prove(MLP, DIGIT_7, &first, &["--json"]).json();
    let path = case.params().join(vk_file(MLP, "public"));
    let good = std::fs::read_to_string(&path).unwrap();
    let cached: Value = serde_json::from_str(&good).unwrap();
    let commitments = zkinfer_verifier::base64::decode(cached["commitments"].as_str().unwrap())
        .expect("base64 commitments");

    // Two commitments swapped: valid points, another key.
    let mut swapped = commitments.clone();
    swapped.copy_within(40..72, 8);
    let mut damaged = cached.clone();
    damaged["commitments"] = zkinfer_verifier::base64::encode(&swapped).into();
    let cases = [
        (
            "two commitments swapped",
            damaged.to_string(),
            "rebuild key",
        ),
        ("not JSON", "{".to_string(), "not a cached key"),
        (
            "truncated",
            good[..good.len() / 2].to_string(),
            "not a cached key",
        ),
    ];
    for (what, text, why) in cases {
        std::fs::write(&path, text).unwrap();
        let proof = case.join("again.proof.json");
        let run = case.prove(MLP, DIGIT_7, &proof, &["--json"]);
        let out = run.json();
        assert_eq!(out["verifying_key"], "built", "{what}: {out}");
        assert_eq!(out["vk_digest"], built["vk_digest"], "{what}");
        assert!(
            run.stderr
                .contains("cached verifying key refused and rebuilt")
                && run.stderr.contains(arg(&path))
                && run.stderr.contains(why),
            "{what}: {run:#?}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), good, "{what}");
        case.verify(MLP, &proof, &[]).assert_success();
    }
}

/// What changes when a file is written again: its size, modification time
/// and (on Unix) inode, since the cache writes a new file and renames it.
fn file_identity(path: &Path) -> (u64, std::time::SystemTime, u64) {
    let meta = std::fs::metadata(path).unwrap();
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    (meta.len(), meta.modified().unwrap(), inode)
}

/// infer → prove → verify on one input: the verifier reports exactly the
/// integers candle computed, in JSON and in text.
fn check_chain(model: &str, input: &str) {
    let case = Case::new();
    let inferred = infer_json(model, input);
    let proof = case.join("proof.json");
    let proved = case.prove(model, input, &proof, &["--json"]).json();
    assert_eq!(
        proved["outputs_int"], inferred["outputs_int"],
        "{model} {input}"
    );

    let verified = case.verify(model, &proof, &["--json"]).json();
    let expected: BTreeSet<&str> = [
        "verified",
        "outputs",
        "outputs_int",
        "scale",
        "class",
        "model_digest",
        "vk_digest",
        "k",
        "input_visibility",
        "input_digest",
        "weight_visibility",
    ]
    .into();
    assert_eq!(keys(&verified), expected, "{verified}");
    assert_eq!(verified["weight_visibility"], "fixed");
    assert_eq!(verified["verified"], true, "{verified}");
    // The proven input, named as the contract records it.
    let proven: Vec<i64> =
        serde_json::from_value(read_json(&proof)["input"]["values"].clone()).unwrap();
    assert_eq!(verified["input_visibility"], "public");
    assert_eq!(
        verified["input_digest"],
        zkinfer_verifier::contract::input_digest(&proven)
    );
    for key in ["outputs_int", "outputs", "scale", "class", "model_digest"] {
        assert_eq!(
            verified[key], inferred[key],
            "{model} {input}: verify's {key} differs from infer's"
        );
    }
    check_outputs(&verified);
    assert_eq!(verified["model_digest"], digest(model));
    assert_eq!(verified["vk_digest"], proved["vk_digest"]);
    assert_eq!(verified["k"], K);

    let run = case.verify(model, &proof, &[]);
    run.assert_success();
    let first = run.stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with("verified"), "{}", run.stdout);
    assert!(first.contains(arg(&proof)), "{}", run.stdout);
    let class = &inferred["class"];
    assert!(first.ends_with(&format!("class {class}")), "{}", run.stdout);
}

#[test]
fn verify_reports_what_infer_computed_mlp() {
    check_chain(MLP, DIGIT_7);
}

#[test]
fn verify_reports_what_infer_computed_cnn_from_ezkl_input() {
    check_chain(CNN, DIGIT_7_EZKL);
    // The EZKL file holds the same digit as the zkinfer one.
    assert_eq!(infer_json(CNN, DIGIT_7_EZKL), infer_json(CNN, DIGIT_7));
}

/// Also shows the cache can come from `ZKINFER_PARAMS_DIR`.
#[test]
fn a_private_input_stays_out_of_the_bundle_and_still_verifies() {
    let case = Case::new();
    let params = case.join("env-params");
    let env = [(PARAMS_DIR_ENV, params.as_os_str())];
    let proof = case.join("private.proof.json");
    let proved = zkinfer_with_env(
        [
            "prove",
            "--model",
            MLP,
            "--input",
            DIGIT_3,
            "--out",
            arg(&proof),
            "--private-input",
            "--json",
        ],
        &env,
    )
    .json();
    assert_eq!(
        dir_entries(&params),
        [PARAMS_FILE, &pk_file(&proved), &vk_file(MLP, "private")]
    );
    assert!(!case.params().exists());

    let bundle = read_json(&proof);
    assert_eq!(bundle.get("input"), Some(&Value::Null), "{bundle}");
    assert_eq!(bundle["input_visibility"], "private");
    assert_eq!(bundle["output"]["values"], proved["outputs_int"]);

    // The verifier decides the visibility: a private-input proof is
    // refused where a public input is expected, and says so.
    let public = zkinfer_with_env(["verify", "--model", MLP, "--proof", arg(&proof)], &env);
    assert_eq!(public.code, Some(2), "{public:?}");
    assert!(
        public
            .stderr
            .contains("a private input; this key verifies proofs with a public input"),
        "{}",
        public.stderr
    );
    let verify = |path: &Path| {
        zkinfer_with_env(
            [
                "verify",
                "--model",
                MLP,
                "--private-input",
                "--proof",
                arg(path),
                "--json",
            ],
            &env,
        )
    };
    let verified = verify(&proof).json();
    assert_eq!(verified["verified"], true, "{verified}");
    assert_eq!(verified["input_visibility"], "private", "{verified}");
    assert_eq!(verified["input_digest"], Value::Null, "{verified}");
    let text = zkinfer_with_env(
        [
            "verify",
            "--model",
            MLP,
            "--private-input",
            "--proof",
            arg(&proof),
        ],
        &env,
    );
    assert!(
        text.stdout
            .contains("input    private: the proof shows that some input"),
        "{}",
        text.stdout
    );
    let inferred = infer_json(MLP, DIGIT_3);
    assert_eq!(verified["outputs_int"], inferred["outputs_int"]);
    assert_eq!(verified["class"], inferred["class"]);
    assert_eq!(verified["vk_digest"], proved["vk_digest"]);

    // The output is still bound by the proof.
    let mut changed = bundle.clone();
    let v = changed["output"]["values"][0].as_i64().unwrap();
    changed["output"]["values"][0] = json!(v + 1);
    let path = case.write_bundle("private-tampered.json", &changed);
    let run = verify(&path);
    assert_rejected(&run, &path);
    assert_eq!(
        serde_json::from_str::<Value>(&run.stdout).unwrap()["verified"],
        false
    );
}

#[test]
fn a_changed_output_is_rejected() {
    let case = Case::new();
    let proof = tampered(&case, "output.json", |b| {
        // One score up by one unit: still inside the model's bound.
        let v = b["output"]["values"][0].as_i64().unwrap();
        b["output"]["values"][0] = json!(v + 1);
    });
    check_rejected(&case, MLP, &proof);
}

#[test]
fn a_changed_input_is_rejected() {
    let case = Case::new();
    let proof = tampered(&case, "input.json", |b| {
        let v = b["input"]["values"][0].as_i64().unwrap();
        b["input"]["values"][0] = json!(v + 1);
    });
    let run = case.verify(MLP, &proof, &[]);
    assert_rejected(&run, &proof);
}

#[test]
fn a_changed_proof_digit_is_rejected() {
    let case = Case::new();
    let len = mlp_bundle()["proof"].as_str().unwrap().len();
    for at in [0, len / 2, len - 1] {
        let proof = tampered(&case, &format!("proof-{at}.json"), |b| {
            let mut hex: Vec<char> = b["proof"].as_str().unwrap().chars().collect();
            hex[at] = if hex[at] == '0' { '1' } else { '0' };
            b["proof"] = json!(hex.into_iter().collect::<String>());
        });
        let run = case.verify(MLP, &proof, &[]);
        assert_rejected(&run, &proof);
    }
}

/// The floats and class in the bundle file are for people; the verifier
/// reports what the proven integers say.
#[test]
fn the_bundles_decoded_extras_are_not_trusted() {
    let case = Case::new();
    let proof = tampered(&case, "extras.json", |b| {
        b["class"] = json!(3);
        b["outputs"][3] = json!(100.0);
    });
    let out = case.verify(MLP, &proof, &["--json"]).json();
    assert_eq!(out["verified"], true);
    assert_eq!(out["class"], 7);
    assert_eq!(out["outputs_int"], mlp_bundle()["output"]["values"]);
}

#[test]
fn a_bundle_for_another_model_is_an_error() {
    let case = Case::new();
    let proof = case.write_bundle("mlp.json", mlp_bundle());
    let run = case.verify(CNN, &proof, &["--json"]);
    let mlp = digest(MLP);
    assert_error(
        &run,
        &[
            arg(&proof),
            "the bundle is for model",
            mlp.as_str().unwrap(),
        ],
    );
}

#[test]
fn unreadable_bundles_are_errors() {
    let case = Case::new();
    let good = serde_json::to_string_pretty(mlp_bundle()).unwrap();

    let truncated = case.write("truncated.json", &good[..good.len() / 2]);
    assert_error(
        &case.verify(MLP, &truncated, &[]),
        &[arg(&truncated), "malformed"],
    );

    let mut v3 = mlp_bundle().clone();
    v3["format"] = json!("zkinfer/proof@3");
    let v3 = case.write_bundle("v3.json", &v3);
    assert_error(&case.verify(MLP, &v3, &[]), &[arg(&v3), "zkinfer/proof@3"]);

    let missing = case.join("no-such-proof.json");
    assert_error(&case.verify(MLP, &missing, &["--json"]), &[arg(&missing)]);

    let text = case.write("text.json", "this is not a proof bundle\n");
    assert_error(&case.verify(MLP, &text, &[]), &[arg(&text), "not JSON"]);

    let array = case.write("array.json", "[1, 2, 3]\n");
    assert_error(&case.verify(MLP, &array, &[]), &[arg(&array), "malformed"]);

    let mut no_proof = mlp_bundle().clone();
    no_proof.as_object_mut().unwrap().remove("proof");
    let no_proof = case.write_bundle("no-proof.json", &no_proof);
    assert_error(
        &case.verify(MLP, &no_proof, &[]),
        &[arg(&no_proof), "proof"],
    );

    let odd = tampered(&case, "odd-hex.json", |b| {
        let hex = b["proof"].as_str().unwrap();
        b["proof"] = json!(&hex[..hex.len() - 1]);
    });
    assert_error(&case.verify(MLP, &odd, &[]), &[arg(&odd), "hex"]);
}

#[test]
fn prove_refuses_missing_and_out_of_range_inputs() {
    let case = Case::new();
    let out = case.join("never.proof.json");

    let missing = case.join("no-such-input.json");
    assert_error(
        &case.prove(MLP, arg(&missing), &out, &["--json"]),
        &[arg(&missing)],
    );
    assert!(!out.exists());

    // A raw pixel (16) where the model expects pixels / 16 (1.0).
    let mut input = read_json(&repo_path(DIGIT_7));
    let pixels = input["input"].as_array_mut().unwrap();
    let at = pixels.iter().position(|p| p == &json!(1.0)).unwrap();
    pixels[at] = json!(16.0);
    let bad = case.scratch.write_json("raw-pixel.json", &input);
    // An earlier bundle at --out is left alone.
    std::fs::write(&out, "earlier bundle").unwrap();
    assert_error(&case.prove(MLP, arg(&bad), &out, &[]), &[arg(&bad), "16"]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "earlier bundle");
}

#[test]
fn prove_into_a_missing_folder_is_an_error_and_leaves_nothing_behind() {
    let case = Case::new();
    let folder = case.join("no-such-folder");
    let out = folder.join("orphan.proof.json");
    assert_error(&case.prove(MLP, DIGIT_7, &out, &[]), &[arg(&out)]);
    assert!(!folder.exists());
    // Only the parameter cache (and the keys', made before the proof
    // could not be written), and no temporary file in any existing parent.
    assert_eq!(dir_entries(case.path()), ["params"]);
    let cached = dir_entries(&case.params());
    assert_eq!(cached.len(), 3, "{cached:?}");
    assert_eq!(cached[0], PARAMS_FILE);
    assert!(
        cached[1].starts_with("pk-") && cached[1].ends_with(".bin"),
        "{cached:?}"
    );
    assert_eq!(cached[2], vk_file(MLP, "public"));
    let system_temp = case.path().parent().unwrap();
    let leftovers: Vec<String> = dir_entries(system_temp)
        .into_iter()
        .filter(|name| name.contains("orphan.proof.json"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn prove_onto_a_folder_is_an_error_and_leaves_nothing_behind() {
    let case = Case::new();
    let folder = case.join("a-folder");
    std::fs::create_dir(&folder).unwrap();
    assert_error(&case.prove(MLP, DIGIT_0, &folder, &[]), &[arg(&folder)]);
    assert_eq!(dir_entries(&folder), Vec::<String>::new());
    assert_eq!(dir_entries(case.path()), ["a-folder", "params"]);
}

#[test]
fn mock_finds_the_cnn_circuit_satisfied() {
    // mock needs no parameters; the variable only keeps any cache out of home.
    let scratch = Scratch::new();
    let env = [(PARAMS_DIR_ENV, scratch.path().as_os_str())];
    let args = ["mock", "--model", CNN, "--input", DIGIT_3];

    let run = zkinfer_with_env(args, &env);
    run.assert_success();
    assert!(run.stdout.contains("satisfied"), "{}", run.stdout);

    let out = zkinfer_with_env(args.into_iter().chain(["--json"]), &env).json();
    assert_eq!(out["satisfied"], true, "{out}");
    assert_eq!(out["k"], K, "{out}");
    let rows = out["rows"].as_u64().expect("rows is an integer");
    assert!(rows > 0 && rows <= 1 << K, "{out}");
    assert_eq!(out["failures"], json!([]), "{out}");

    let private = [
        "mock",
        "--model",
        MLP,
        "--input",
        DIGIT_0,
        "--private-input",
        "--json",
    ];
    let out = zkinfer_with_env(private, &env).json();
    assert_eq!(out["satisfied"], true, "{out}");
    assert_eq!(out["k"], K, "{out}");
    assert_eq!(dir_entries(scratch.path()), Vec::<String>::new());
}

/// Several `--proof`s are verified in one batch; a bad one is named.
#[test]
fn several_proofs_verify_in_one_batch() {
    let case = Case::new();
    let mut proofs = vec![];
    for (input, name) in [(DIGIT_0, "b0.json"), (DIGIT_3, "b3.json")] {
        let out = case.join(name);
        case.prove(MLP, input, &out, &[]).assert_success();
        proofs.push(out);
    }
    proofs.push(case.write_bundle("b7.json", mlp_bundle()));
    let batch = |proofs: &[PathBuf]| {
        let mut args = vec!["verify", "--model", MLP, "--json"];
        for p in proofs {
            args.extend(["--proof", arg(p)]);
        }
        case.run(&args)
    };
    let run = batch(&proofs);
    run.assert_success();
    let claims = run.json();
    let classes: Vec<u64> = claims
        .as_array()
        .expect("a batch prints one result per proof")
        .iter()
        .map(|c| {
            assert_eq!(c["verified"], Value::Bool(true));
            c["class"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(classes, vec![0, 3, 7]);

    let forged = tampered(&case, "forged.json", |b| {
        b["output"]["values"][2] = (b["output"]["values"][2].as_i64().unwrap() + 1).into();
    });
    let run = batch(&[proofs[0].clone(), forged.clone(), proofs[1].clone()]);
    assert_rejected(&run, &forged);

    // The batch's JSON names each bundle's result.
    let results: Vec<Value> = serde_json::from_str::<Value>(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {run:#?}"))
        .as_array()
        .expect("one result per proof")
        .clone();
    let named: Vec<(&str, bool, bool)> = results
        .iter()
        .map(|r| {
            (
                r["proof"].as_str().expect("each result names its proof"),
                r["verified"].as_bool().expect("verified is a bool"),
                r["error"].is_null(),
            )
        })
        .collect();
    assert_eq!(
        named,
        [
            (arg(&proofs[0]), true, true),
            (arg(&forged), false, false),
            (arg(&proofs[1]), true, true),
        ],
        "{run:#?}"
    );
    assert!(
        results[1]["error"].as_str().unwrap().contains("invalid"),
        "{run:#?}"
    );
    assert_eq!(results[0]["class"], 0);
    assert_eq!(results[2]["class"], 3);
}

/// Several `--input`s are proven with one key generation, one bundle each.
#[test]
fn several_inputs_prove_with_one_keygen() {
    let case = Case::new();
    let out = case.join("proofs");
    let run = case.run(&[
        "prove",
        "--model",
        CNN,
        "--input",
        DIGIT_0,
        "--input",
        DIGIT_7_EZKL,
        "--out",
        arg(&out),
        "--json",
    ]);
    run.assert_success();
    let results = run.json();
    let results = results.as_array().expect("one result per input");
    assert_eq!(results.len(), 2);
    let keygen: Vec<f64> = results
        .iter()
        .map(|r| r["timings_ms"]["keygen"].as_f64().unwrap())
        .collect();
    assert_eq!(keygen[0], keygen[1], "the keys are generated once");
    let expected = [("digit-0.proof.json", 0), ("digit-7.ezkl.proof.json", 7)];
    for (result, (file, class)) in results.iter().zip(expected) {
        assert_eq!(result["class"].as_u64(), Some(class));
        let proof = out.join(file);
        assert_eq!(result["proof"].as_str(), Some(arg(&proof)));
        case.verify(CNN, &proof, &[]).assert_success();
    }

    // Two inputs with one name would overwrite each other: refused first.
    let clash = case.join("clash");
    let run = case.run(&[
        "prove",
        "--model",
        CNN,
        "--input",
        DIGIT_0,
        "--input",
        DIGIT_0,
        "--out",
        arg(&clash),
    ]);
    assert_error(&run, &["two inputs are named", "digit-0"]);
    assert!(!clash.exists(), "nothing is written");
}

/// Regression (wave 1): a cached parameter file with one flipped bit that
/// still decoded was trusted — prove wrote proofs only it accepted, verify
/// blamed every valid proof, register recorded a wrong model id. Cached
/// parameters are now checked against their pinned digest: each command
/// names the file, regenerates it, and gives the right answer.
#[test]
fn a_damaged_parameter_cache_is_named_and_repaired() {
    let case = Case::new();
    let proof = case.join("proof.json");
    let proved = case.prove(MLP, DIGIT_3, &proof, &["--json"]).json();
    let file = case.params().join(PARAMS_FILE);
    let good = std::fs::read(&file).unwrap();
    let damage = |bit: usize| {
        let mut bytes = good.clone();
        bytes[bit / 8] ^= 1 << (bit % 8);
        std::fs::write(&file, bytes).unwrap();
    };
    let assert_repaired = |run: &Run| {
        run.assert_success();
        assert!(
            run.stderr
                .contains("cached IPA parameters refused and regenerated")
                && run.stderr.contains(arg(&file))
                && run.stderr.contains("not the pinned"),
            "{run:#?}"
        );
        assert_eq!(std::fs::read(&file).unwrap(), good, "the file is rewritten");
    };

    damage(8 * 100 + 3);
    let again = case.join("again.json");
    let run = case.prove(MLP, DIGIT_3, &again, &["--json"]);
    assert_repaired(&run);
    assert_eq!(run.json()["vk_digest"], proved["vk_digest"]);

    damage(8 * (good.len() - 40));
    let run = case.verify(MLP, &proof, &["--json"]);
    assert_repaired(&run);
    assert_eq!(run.json()["verified"], true);

    damage(8 * 64 + 7);
    let state = case.join("chain");
    let init = [
        "contract",
        "init",
        "--state",
        arg(&state),
        "--admin",
        "alice",
    ];
    zkinfer(init).assert_success();
    let register = [
        "contract",
        "register",
        "--state",
        arg(&state),
        "--model",
        MLP,
    ];
    let run = case.run(&register);
    assert_repaired(&run);
    let id = proved["vk_digest"].as_str().unwrap();
    assert!(run.stdout.contains(&format!("model_id={id}")), "{run:#?}");
}

/// `--out` naming the input file (as given, through `./`, or by a hard
/// link) is refused before anything is proven: the input stays as it was.
#[test]
fn prove_refuses_an_out_that_is_its_own_input() {
    let case = Case::new();
    let input = case
        .scratch
        .write("x.json", std::fs::read(repo_path(DIGIT_3)).unwrap());
    let original = std::fs::read(&input).unwrap();
    let dotted = case.path().join(".").join("x.json");
    let link = case.join("link.json");
    std::fs::hard_link(&input, &link).unwrap();
    for out in [&input, &dotted, &link] {
        let run = case.prove(MLP, arg(&input), out, &[]);
        assert_error(
            &run,
            &["--out", arg(out), "--input", arg(&input), "same file"],
        );
        assert_eq!(std::fs::read(&input).unwrap(), original);
    }
    // With --json the refusal is JSON on stdout too, naming the file.
    let run = case.prove(MLP, arg(&input), &input, &["--json"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    let out: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {run:#?}"));
    assert!(
        out["error"].as_str().unwrap().contains("same file"),
        "{out}"
    );
    assert_eq!(out["file"], arg(&input), "{out}");
    // A model file is an input too.
    let model = case.scratch.write(
        "model.json",
        std::fs::read(repo_path("models/bundled/digits-mlp/model.json")).unwrap(),
    );
    let run = case.prove(arg(&model), DIGIT_3, &model, &[]);
    assert_error(&run, &["--out", "--model", arg(&model), "same file"]);
    assert!(!case.params().exists(), "nothing was computed");
}

/// Off a terminal, each phase that runs past the threshold prints one line
/// on stderr (the threshold is set to 0 here: every phase is "slow"); with
/// the default threshold a fast proof prints nothing (see the other tests).
#[test]
fn progress_prints_one_line_per_slow_phase_off_a_terminal() {
    let case = Case::new();
    let out = case.join("p.json");
    let params = case.params();
    let run = zkinfer_with_env(
        [
            "prove",
            "--model",
            MLP,
            "--input",
            DIGIT_3,
            "--out",
            arg(&out),
        ],
        &[
            (PARAMS_DIR_ENV, params.as_os_str()),
            ("ZKINFER_PROGRESS_AFTER_MS", "0".as_ref()),
        ],
    );
    run.assert_success();
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{run:#?}");
    assert!(
        lines[0].starts_with("generating IPA parameters for k = 9"),
        "{run:#?}"
    );
    assert!(
        lines[1].starts_with("generating the keys of digits-mlp"),
        "{run:#?}"
    );
    assert!(lines[2].starts_with("proving digits-mlp on"), "{run:#?}");
    assert!(lines.iter().all(|l| l.ends_with("...")), "{run:#?}");
    // Parameters, keys and proof say how long the cost model expects them
    // to take.
    assert!(lines[0].contains("(once, about 0.2 s;"), "{run:#?}");
    for line in &lines[1..] {
        assert!(line.contains("(k = 9, about 0."), "{run:#?}");
    }

    let run = zkinfer_with_env(
        ["verify", "--model", MLP, "--proof", arg(&out)],
        &[
            (PARAMS_DIR_ENV, params.as_os_str()),
            ("ZKINFER_PROGRESS_AFTER_MS", "0".as_ref()),
        ],
    );
    run.assert_success();
    assert!(
        run.stderr.contains("reading IPA parameters for k = 9..."),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains("rebuilding the verifying key"),
        "{run:#?}"
    );
    // And by default (2 s), nothing for these fast phases.
    let run = case.verify(MLP, &out, &[]);
    run.assert_success();
    assert_eq!(run.stderr, "", "{run:#?}");
}

/// `--profile wide` proves the same output in the other layout; verify
/// lays out the bundle's profile; each profile caches its own verifying
/// key; an unknown profile is refused naming the ones there are.
#[test]
fn a_model_proves_and_verifies_in_each_profile() {
    let case = Case::new();
    let compact = case.join("compact.proof.json");
    let wide = case.join("wide.proof.json");
    let a = case.prove(CNN, DIGIT_7, &compact, &["--json"]).json();
    let b = case
        .prove(CNN, DIGIT_7, &wide, &["--json", "--profile", "wide"])
        .json();
    assert_eq!(
        (&a["profile"], &b["profile"]),
        (&json!("compact"), &json!("wide"))
    );
    assert_eq!(a["outputs_int"], b["outputs_int"]);
    assert_ne!(a["vk_digest"], b["vk_digest"]);
    assert!(
        read_json(&compact).get("profile").is_none(),
        "compact bundles leave it out"
    );
    assert_eq!(read_json(&wide)["profile"], "wide");
    for proof in [&compact, &wide] {
        let out = case.verify(CNN, proof, &["--json"]).json();
        assert_eq!(out["outputs_int"], a["outputs_int"], "{}", proof.display());
    }
    let files = dir_entries(&case.params());
    let digest = digest(CNN);
    let digest = digest.as_str().unwrap();
    for name in [
        format!("vk-{digest}-public.json"),
        format!("vk-{digest}-public-wide.json"),
    ] {
        assert!(files.contains(&name), "{name} not in {files:?}");
    }
    // A second wide proof uses its own cached key, with no warning.
    let again = case.prove(CNN, DIGIT_7, &wide, &["--json", "--profile", "wide"]);
    assert_eq!(again.json()["verifying_key"], "cached");
    assert_eq!(again.stderr, "", "{again:#?}");

    // A usage error (clap's, exit 2) naming the value and the choices.
    let run = case.prove(CNN, DIGIT_7, &wide, &["--profile", "huge"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stderr.contains("\"huge\"") && run.stderr.contains("compact, wide, or auto"),
        "{run:#?}"
    );
    assert!(run.stdout.is_empty(), "{run:#?}");
}

/// A damaged cached proving key is refused with a warning naming it, the
/// key generated again and the file rewritten; the proof is the same.
#[test]
fn a_damaged_cached_proving_key_is_rebuilt_never_trusted() {
    let case = Case::new();
    let first = case.join("first.proof.json");
    let built = case.prove(MLP, DIGIT_7, &first, &["--json"]).json();
    let path = case.params().join(pk_file(&built));
    let good = std::fs::read(&path).unwrap();
    let mut damaged = good.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 1;
    std::fs::write(&path, damaged).unwrap();
    let again = case.join("again.proof.json");
    let run = case.prove(MLP, DIGIT_7, &again, &["--json"]);
    let out = run.json();
    assert_eq!(out["proving_key"], "built", "{out}");
    assert_eq!(out["outputs_int"], built["outputs_int"]);
    assert!(
        run.stderr
            .contains("cached proving key refused and rebuilt")
            && run.stderr.contains(arg(&path))
            && run.stderr.contains("checksum does not match"),
        "{run:#?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), good, "rewritten");
    case.verify(MLP, &again, &[]).assert_success();
}
