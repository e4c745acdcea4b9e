//! Bad inputs, models and calibration files: each is refused with exit code
//! 2 and one `error:` line on stderr naming the file or value, never a panic.

mod common;

use common::{bundled_dir, bundled_model_json, held_out_sample, zkinfer, Run, Scratch};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn infer(model: impl AsRef<std::ffi::OsStr>, input: &Path) -> Run {
    zkinfer([
        "infer".as_ref(),
        "--model".as_ref(),
        model.as_ref(),
        "--input".as_ref(),
        input.as_os_str(),
    ])
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A held-out digit's input as JSON number tokens, for files that JSON
/// serializers would not write.
fn tokens() -> Vec<String> {
    held_out_sample(10)[3]
        .input()
        .iter()
        .map(|v| v.to_string())
        .collect()
}

/// Writes `{"input": [tokens...]}` verbatim.
fn write_tokens(scratch: &Scratch, name: &str, tokens: &[String]) -> PathBuf {
    scratch.write(name, format!("{{\"input\": [{}]}}", tokens.join(", ")))
}

/// A valid input file, as a control for the cases that must fail.
fn valid_input(scratch: &Scratch) -> PathBuf {
    write_tokens(scratch, "valid.json", &tokens())
}

#[test]
fn missing_input_file() {
    let scratch = Scratch::new();
    let path = scratch.join("no-such-input.json");
    infer("digits-mlp", &path).assert_error(&[text(&path)]);
}

#[test]
fn malformed_json_input() {
    let scratch = Scratch::new();
    let mut toks = tokens();
    toks.truncate(20);
    // Unterminated array and object.
    let path = scratch.write(
        "malformed.json",
        format!("{{\"input\": [{}", toks.join(", ")),
    );
    infer("digits-mlp", &path).assert_error(&[text(&path)]);
    let path = scratch.write("not-json.json", "input = [0.5, 0.25]\n");
    infer("digits-mlp", &path).assert_error(&[text(&path)]);
}

#[test]
fn wrong_input_length() {
    let scratch = Scratch::new();
    let mut toks = tokens();
    toks.pop();
    let path = write_tokens(&scratch, "short.json", &toks);
    for model in ["digits-mlp", "digits-cnn"] {
        infer(model, &path).assert_error(&[text(&path), "63", "64"]);
    }
    infer("digits-mlp", &valid_input(&scratch)).assert_success();
}

#[test]
fn nan_in_the_input() {
    let scratch = Scratch::new();
    let mut toks = tokens();
    toks[10] = "NaN".into();
    let path = write_tokens(&scratch, "nan.json", &toks);
    infer("digits-mlp", &path).assert_error(&[text(&path), "NaN"]);
}

#[test]
fn infinity_in_the_input() {
    let scratch = Scratch::new();
    for (name, token) in [("inf.json", "Infinity"), ("neg-inf.json", "-Infinity")] {
        let mut toks = tokens();
        toks[10] = token.into();
        let path = write_tokens(&scratch, name, &toks);
        infer("digits-mlp", &path).assert_error(&[text(&path), "Infinity"]);
    }
}

/// The bundled model's input range, from its model file: `bits`-bit signed
/// integers at scale `2^-scale`.
fn input_range(model: &str) -> (f64, f64) {
    let spec = &bundled_model_json(model)["input"];
    let bits = spec["bits"].as_u64().unwrap() as i32;
    let scale = spec["scale"].as_i64().unwrap() as i32;
    let unit = 2f64.powi(scale);
    let half = 2f64.powi(bits - 1);
    (-half / unit, (half - 1.0) / unit)
}

#[test]
fn value_outside_the_input_range() {
    let scratch = Scratch::new();
    let (min, max) = input_range("digits-mlp");
    assert!(max < 16.0 && min > -16.0, "[{min}, {max}]");
    let (min, max) = (min.to_string(), max.to_string());

    // One raw pixel (16, not 16/16).
    let mut toks = tokens();
    toks[10] = "16.0".into();
    let path = write_tokens(&scratch, "pixel.json", &toks);
    infer("digits-mlp", &path).assert_error(&[text(&path), "value 10", "16", &min, &max]);

    // A whole raw image: the first pixel beyond the range is named.
    let d = &held_out_sample(10)[3];
    let first = d.pixels.iter().position(|&p| f64::from(p) > 3.0).unwrap();
    let raw: Vec<String> = d.pixels.iter().map(u8::to_string).collect();
    let path = write_tokens(&scratch, "raw.json", &raw);
    let index = format!("value {first} ");
    infer("digits-mlp", &path).assert_error(&[text(&path), &index, &min, &max]);
}

#[test]
fn string_value_in_the_input() {
    let scratch = Scratch::new();
    let mut toks = tokens();
    toks[10] = "\"0.5\"".into();
    let path = write_tokens(&scratch, "string.json", &toks);
    infer("digits-mlp", &path).assert_error(&[text(&path), "\"0.5\""]);
}

#[test]
fn unknown_model_name() {
    let scratch = Scratch::new();
    let input = valid_input(&scratch);
    infer("digits-rnn", &input).assert_error(&["digits-rnn", "digits-mlp", "digits-cnn"]);
    zkinfer(["eval", "--model", "digits-rnn"]).assert_error(&[
        "digits-rnn",
        "digits-mlp",
        "digits-cnn",
    ]);
}

fn bundled_model_text() -> String {
    std::fs::read_to_string(bundled_dir("digits-mlp").join("model.json")).unwrap()
}

#[test]
fn model_file_of_another_format_version() {
    let scratch = Scratch::new();
    let input = valid_input(&scratch);
    let original = bundled_model_text();
    let v1 = "\"format\": \"zkinfer/model@1\"";
    assert_eq!(original.matches(v1).count(), 1);
    let copy = scratch.write("v1.json", &original);
    infer(&copy, &input).assert_success();
    let path = scratch.write(
        "v2.json",
        original.replace(v1, "\"format\": \"zkinfer/model@2\""),
    );
    infer(&path, &input).assert_error(&[text(&path), "zkinfer/model@2"]);
}

#[test]
fn truncated_model_file() {
    let scratch = Scratch::new();
    let input = valid_input(&scratch);
    let bytes = bundled_model_text().into_bytes();
    let path = scratch.write("truncated.json", &bytes[..bytes.len() / 2]);
    infer(&path, &input).assert_error(&[text(&path)]);
}

#[test]
fn model_file_with_an_edited_weight() {
    let scratch = Scratch::new();
    let input = valid_input(&scratch);
    let mut model: Value = serde_json::from_str(&bundled_model_text()).unwrap();
    // Re-serialized but unedited, the file still loads.
    let same = scratch.write("same.json", serde_json::to_string_pretty(&model).unwrap());
    infer(&same, &input).assert_success();

    let w = &mut model["nodes"][0]["weight"]["data"][0];
    let old = w.as_i64().unwrap();
    *w = json!(if old > 0 { old - 1 } else { old + 1 });
    let path = scratch.write("edited.json", serde_json::to_string_pretty(&model).unwrap());
    infer(&path, &input).assert_error(&[text(&path), "digest"]);
}

/// Runs `quantize` on the bundled MLP's float weights (or `weights`).
fn quantize(scratch: &Scratch, calibration: &Path, weights: Option<&Path>) -> Run {
    let dir = bundled_dir("digits-mlp");
    let default_weights = dir.join("weights.safetensors");
    let out = scratch.join("out.json");
    let run = zkinfer([
        "quantize".as_ref(),
        "--arch".as_ref(),
        dir.join("arch.json").as_os_str(),
        "--weights".as_ref(),
        weights.unwrap_or(&default_weights).as_os_str(),
        "--calibration".as_ref(),
        calibration.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    if run.code != Some(0) {
        assert!(!out.exists(), "a failed quantize wrote {}", out.display());
    }
    run
}

/// A small valid calibration set.
fn calibration_samples() -> Vec<Vec<f64>> {
    held_out_sample(4).iter().map(|d| d.input()).collect()
}

#[test]
fn calibration_with_nan() {
    let scratch = Scratch::new();
    // Each sample as number tokens, written verbatim as Python's json would.
    let write = |name: &str, samples: &[Vec<String>]| {
        let arrays: Vec<String> = samples
            .iter()
            .map(|s| format!("[{}]", s.join(", ")))
            .collect();
        scratch.write(name, format!("{{\"inputs\": [{}]}}", arrays.join(", ")))
    };
    let mut samples: Vec<Vec<String>> = calibration_samples()
        .iter()
        .map(|s| s.iter().map(f64::to_string).collect())
        .collect();
    let ok = write("ok.json", &samples);
    quantize(&scratch, &ok, None).assert_success();
    std::fs::remove_file(scratch.join("out.json")).unwrap();

    samples[2][10] = "NaN".into();
    let path = write("nan.json", &samples);
    quantize(&scratch, &path, None).assert_error(&[text(&path), "NaN"]);
}

#[test]
fn empty_calibration_set() {
    let scratch = Scratch::new();
    let path = scratch.write_json("empty.json", &json!({ "inputs": [] }));
    quantize(&scratch, &path, None).assert_error(&[text(&path)]);
}

#[test]
fn calibration_samples_of_the_wrong_length() {
    let scratch = Scratch::new();
    let mut samples = calibration_samples();
    for s in &mut samples {
        s.pop();
    }
    let path = scratch.write_json("short.json", &json!({ "inputs": samples }));
    quantize(&scratch, &path, None).assert_error(&[text(&path), "63", "64"]);
}

#[test]
fn quantize_with_a_missing_weights_file() {
    let scratch = Scratch::new();
    let cal = scratch.write_json("cal.json", &json!({ "inputs": calibration_samples() }));
    let weights = scratch.join("no-such-weights.safetensors");
    quantize(&scratch, &cal, Some(&weights)).assert_error(&[text(&weights)]);
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let scratch = Scratch::new();
    let input = valid_input(&scratch);
    let run = zkinfer([
        "infer".as_ref(),
        "--model".as_ref(),
        "digits-mlp".as_ref(),
        "--input".as_ref(),
        input.as_os_str(),
        "--no-such-flag".as_ref(),
    ]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.starts_with("error:"), "{run:#?}");
    assert!(run.stderr.contains("--no-such-flag"), "{run:#?}");
    assert!(!run.stderr.contains("panicked"), "{run:#?}");
    assert!(run.stdout.is_empty(), "{run:#?}");

    let run = zkinfer(["infer", "--model", "digits-mlp"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.starts_with("error:"), "{run:#?}");
    assert!(run.stderr.contains("--input"), "{run:#?}");
}

#[test]
fn value_outside_calibration_but_inside_the_range_warns() {
    let scratch = Scratch::new();
    let cal = &bundled_model_json("digits-mlp")["calibration"];
    assert_eq!(cal["input_min"].as_f64(), Some(0.0), "{cal}");
    assert_eq!(cal["input_max"].as_f64(), Some(1.0), "{cal}");
    let (_, max) = input_range("digits-mlp");
    assert!(1.5 < max);

    // Control: calibrated values, no warning.
    let run = infer("digits-mlp", &valid_input(&scratch));
    run.assert_success();
    assert_eq!(run.stderr, "", "{run:#?}");

    let mut toks = tokens();
    toks[10] = "1.5".into();
    let path = write_tokens(&scratch, "bright.json", &toks);
    let run = infer("digits-mlp", &path);
    run.assert_success();
    assert!(run.stderr.starts_with("warning:"), "{run:#?}");
    assert!(run.stderr.contains(text(&path)), "{run:#?}");
    assert!(
        run.stdout.lines().any(|l| l.starts_with("class")),
        "{run:#?}"
    );
}

/// Splits an error line into its `: `-separated clauses and returns those
/// that occur more than once.
fn repeated_clauses(stderr: &str) -> Vec<String> {
    let clauses: Vec<&str> = stderr.trim_end().split(": ").collect();
    let mut repeated: Vec<String> = vec![];
    for c in &clauses {
        let count = clauses.iter().filter(|d| *d == c).count();
        if c.len() > 8 && count > 1 && !repeated.iter().any(|r| r == c) {
            repeated.push(c.to_string());
        }
    }
    repeated
}

/// `error: <what>: <why>` states each cause once: a cause that is both in an
/// error's message and its `source()` would be printed twice by `{:#}`.
#[test]
fn error_messages_state_each_cause_once() {
    let scratch = Scratch::new();
    let input = valid_input(&scratch);
    let original = bundled_model_text();
    let v2 = scratch.write("v2.json", original.replace("model@1", "model@2"));
    let truncated = scratch.write("truncated.json", &original[..original.len() / 2]);
    let mut edited: Value = serde_json::from_str(&original).unwrap();
    edited["nodes"][0]["bias"][0] = json!(edited["nodes"][0]["bias"][0].as_i64().unwrap() + 1);
    let edited = scratch.write_json("edited.json", &edited);
    let missing_input = scratch.join("no-such-input.json");
    let cal = scratch.write_json("cal.json", &json!({ "inputs": calibration_samples() }));
    let missing_weights = scratch.join("no-such-weights.safetensors");
    let damaged_weights = scratch.write("damaged.safetensors", "not safetensors");

    let runs = [
        infer("digits-mlp", &missing_input),
        infer(&v2, &input),
        infer(&truncated, &input),
        infer(&edited, &input),
        quantize(&scratch, &cal, Some(&missing_weights)),
        // Once `weights: <file>: weights: ...`.
        quantize(&scratch, &cal, Some(&damaged_weights)),
    ];
    let failures: Vec<(String, Vec<String>)> = runs
        .iter()
        .map(|run| {
            assert_eq!(run.code, Some(2), "{run:#?}");
            (
                run.stderr.trim_end().to_string(),
                repeated_clauses(&run.stderr),
            )
        })
        .filter(|(_, repeated)| !repeated.is_empty())
        .collect();
    assert!(
        failures.is_empty(),
        "error messages repeat a clause:\n{failures:#?}"
    );
}

/// A ragged nested input is refused, naming the file and the position;
/// flattening it would shift every later value.
#[test]
fn ragged_nested_input_is_refused_naming_the_position() {
    let scratch = Scratch::new();
    let mut rows: Vec<Vec<f64>> = vec![vec![0.25; 8]; 8];
    rows[5].pop();
    rows[6].push(0.5);
    let path = scratch.write_json("ragged.json", &serde_json::json!({ "input": [rows] }));
    infer("digits-cnn", &path).assert_error(&[
        text(&path),
        "input[0][5] is an array of shape [7]",
        "rectangular",
    ]);
}

/// With `--json`, a failure is JSON on stdout too — `{"error", "file"}`,
/// the file when one is at fault, else null — with the same exit code and
/// the same line on stderr.
#[test]
fn json_errors_are_json_on_stdout() {
    let scratch = Scratch::new();
    let missing = scratch.join("missing.json");
    let run = zkinfer([
        "infer".as_ref(),
        "--model".as_ref(),
        "digits-mlp".as_ref(),
        "--input".as_ref(),
        missing.as_os_str(),
        "--json".as_ref(),
    ]);
    run.assert_error(&[text(&missing)]);
    let out: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {run:#?}"));
    assert_eq!(out["file"], text(&missing), "{out}");
    let message = out["error"].as_str().unwrap();
    assert_eq!(run.stderr.trim_end(), format!("error: {message}"));

    let run = zkinfer(["eval", "--model", "digits-rnn", "--json"]);
    run.assert_error(&["digits-rnn"]);
    let out: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(out["file"], serde_json::Value::Null, "{out}");
    assert!(
        out["error"].as_str().unwrap().contains("digits-rnn"),
        "{out}"
    );
}
