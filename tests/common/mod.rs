//! Shared helpers for the end-to-end tests of the `zkinfer` binary: running
//! it, reading the bundled digits independently of the crate under test, and
//! writing input, calibration and model files into temporary directories.

// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use flate2::read::GzDecoder;
use serde_json::Value;
use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use tempfile::TempDir;

/// Pixels per digit image.
pub const PIXELS: usize = 64;

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// The arguments, for failure messages.
    pub args: Vec<String>,
    /// The exit code; `None` if a signal killed the process.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with the whole run unless it exited with code 0.
    pub fn assert_success(&self) -> &Self {
        assert_eq!(
            self.code,
            Some(0),
            "zkinfer {:?} failed:\n{self:#?}",
            self.args
        );
        assert!(
            !self.stderr.contains("panicked"),
            "zkinfer {:?} panicked:\n{}",
            self.args,
            self.stderr
        );
        self
    }

    /// Stdout parsed as JSON, after checking the run succeeded.
    pub fn json(&self) -> Value {
        self.assert_success();
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "zkinfer {:?}: stdout is not JSON ({e}):\n{}",
                self.args, self.stdout
            )
        })
    }

    /// Checks the run is a clean failure: exit code 2, no panic, and stderr
    /// one line `error: ...` containing every string in `needles`.
    pub fn assert_error(&self, needles: &[&str]) -> &Self {
        let ctx = || format!("zkinfer {:?}\n{self:#?}", self.args);
        assert_eq!(self.code, Some(2), "expected exit code 2: {}", ctx());
        assert!(!self.stderr.contains("panicked"), "panicked: {}", ctx());
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "expected stderr to be a single line: {}",
            ctx()
        );
        assert!(
            lines[0].starts_with("error: "),
            "expected stderr to start with \"error: \": {}",
            ctx()
        );
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "expected stderr to contain {needle:?}: {}",
                ctx()
            );
        }
        self
    }

    /// Checks what a failed run printed on stdout: nothing, or with
    /// `--json` exactly `{"error": <the stderr line's message>, "file":
    /// <a path or null>}`.
    pub fn assert_failure_stdout(&self) -> &Self {
        if !self.args.iter().any(|a| a == "--json") {
            assert_eq!(self.stdout, "", "stdout of a failed command: {self:#?}");
            return self;
        }
        let out: Value = serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("--json error is not JSON ({e}): {self:#?}"));
        let fields: Vec<&str> = out
            .as_object()
            .unwrap_or_else(|| panic!("not an object: {self:#?}"))
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(fields, ["error", "file"], "{self:#?}");
        let message = self.stderr.trim_end().strip_prefix("error: ").unwrap_or("");
        assert_eq!(out["error"], message, "{self:#?}");
        assert!(
            out["file"].is_string() || out["file"].is_null(),
            "{self:#?}"
        );
        self
    }
}

/// The variable naming zkinfer's IPA parameter cache.
pub const PARAMS_DIR_ENV: &str = "ZKINFER_PARAMS_DIR";

/// Runs the binary with `args` and captures everything.
pub fn zkinfer<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    zkinfer_with_env(args, &[])
}

/// Runs the binary with `args` and the extra environment variables `env`,
/// and captures everything. [`PARAMS_DIR_ENV`] is never inherited from the
/// test's own environment: a test that wants it passes it in `env`.
pub fn zkinfer_with_env<I, S>(args: I, env: &[(&str, &OsStr)]) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args
        .into_iter()
        .map(|a| a.as_ref().to_os_string())
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .env_remove(PARAMS_DIR_ENV)
        .envs(env.iter().copied())
        .output()
        .expect("could not start the zkinfer binary");
    Run {
        args: args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("stdout is not UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is not UTF-8"),
    }
}

/// A path inside the repository (the root package's directory).
pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A bundled model's directory, `models/bundled/<name>`.
pub fn bundled_dir(name: &str) -> PathBuf {
    repo_path("models/bundled").join(name)
}

/// A bundled model's `model.json`, parsed.
pub fn bundled_model_json(name: &str) -> Value {
    let path = bundled_dir(name).join("model.json");
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// One row of the digits data set.
#[derive(Clone, Debug)]
pub struct Digit {
    /// 0-based row index in digits.csv.
    pub index: usize,
    /// The 64 raw pixels, 0..=16.
    pub pixels: Vec<u8>,
    /// The class, 0..=9.
    pub label: usize,
}

impl Digit {
    /// The model input: pixels / 16 (exact in binary floating point).
    pub fn input(&self) -> Vec<f64> {
        self.pixels.iter().map(|&p| f64::from(p) / 16.0).collect()
    }

    /// Whether the row is in the held-out split (index % 5 == 0).
    pub fn held_out(&self) -> bool {
        self.index.is_multiple_of(5)
    }
}

/// Every row of `models/data/digits.csv.gz`, decoded here independently of
/// the crate under test.
pub fn digits() -> &'static [Digit] {
    static DIGITS: OnceLock<Vec<Digit>> = OnceLock::new();
    DIGITS.get_or_init(|| {
        let gz = std::fs::read(repo_path("models/data/digits.csv.gz")).unwrap();
        let mut text = String::new();
        GzDecoder::new(&gz[..]).read_to_string(&mut text).unwrap();
        let rows: Vec<Digit> = text
            .lines()
            .enumerate()
            .map(|(index, line)| {
                let fields: Vec<u8> = line.split(',').map(|f| f.trim().parse().unwrap()).collect();
                assert_eq!(fields.len(), PIXELS + 1, "digits.csv row {index}");
                assert!(fields[..PIXELS].iter().all(|&p| p <= 16));
                assert!(fields[PIXELS] <= 9);
                Digit {
                    index,
                    pixels: fields[..PIXELS].to_vec(),
                    label: usize::from(fields[PIXELS]),
                }
            })
            .collect();
        assert_eq!(rows.len(), 1797, "the UCI digits have 1,797 rows");
        rows
    })
}

/// `n` held-out rows spread over the whole held-out split.
pub fn held_out_sample(n: usize) -> Vec<Digit> {
    let held_out: Vec<&Digit> = digits().iter().filter(|d| d.held_out()).collect();
    let step = held_out.len() / n;
    (0..n).map(|i| held_out[i * step].clone()).collect()
}

/// The inputs of the training split (index % 5 != 0), pixels / 16.
pub fn training_inputs() -> Vec<Vec<f64>> {
    digits()
        .iter()
        .filter(|d| !d.held_out())
        .map(Digit::input)
        .collect()
}

/// Index of the largest value; the first one on ties.
pub fn argmax(values: &[i64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// A JSON file, parsed.
pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON ({e}):\n{text}", path.display()))
}

/// The names of the entries of a directory (hidden ones included), sorted.
pub fn dir_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A JSON array of numbers as `f64`s.
pub fn f64s(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_f64().unwrap_or_else(|| panic!("not a number: {v}")))
        .collect()
}

/// A JSON array of integers as `i64`s.
pub fn i64s(value: &Value) -> Vec<i64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}")))
        .collect()
}

/// A temporary directory to write test files into; removed on drop.
pub struct Scratch {
    dir: TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().expect("cannot create a temporary directory"),
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A path in the directory (the file need not exist).
    pub fn join(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `contents` to `name` and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Writes a JSON value to `name` and returns its path.
    pub fn write_json(&self, name: &str, value: &Value) -> PathBuf {
        self.write(name, serde_json::to_string(value).unwrap())
    }

    /// Writes zkinfer's single-sample input `{"input": values}`.
    pub fn write_input(&self, name: &str, values: &[f64]) -> PathBuf {
        self.write_json(name, &serde_json::json!({ "input": values }))
    }
}

impl Default for Scratch {
    fn default() -> Self {
        Self::new()
    }
}

/// A path as a command-line argument (test paths are UTF-8).
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// The files of one test: a scratch folder with its own parameter cache, so
/// that tests never write to the home folder.
pub struct Case {
    /// The scratch folder.
    pub scratch: Scratch,
}

impl Case {
    /// A fresh scratch folder.
    pub fn new() -> Self {
        Case {
            scratch: Scratch::new(),
        }
    }

    /// The scratch folder.
    pub fn path(&self) -> &Path {
        self.scratch.path()
    }

    /// A path inside the scratch folder.
    pub fn join(&self, name: &str) -> PathBuf {
        self.scratch.join(name)
    }

    /// This test's parameter cache (created by the first command needing it).
    pub fn params(&self) -> PathBuf {
        self.join("params")
    }

    /// Runs zkinfer with `args` and `--params-dir <this test's cache>`.
    pub fn run(&self, args: &[&str]) -> Run {
        let params = self.params();
        zkinfer(args.iter().copied().chain(["--params-dir", arg(&params)]))
    }

    /// Runs zkinfer with `args` and `ZKINFER_PARAMS_DIR=<this test's cache>`
    /// (for commands without `--params-dir`).
    pub fn run_env(&self, args: &[&str]) -> Run {
        let params = self.params();
        zkinfer_with_env(args, &[(PARAMS_DIR_ENV, params.as_os_str())])
    }
}

/// Checks `outputs[i] == outputs_int[i] / 2^scale` exactly (division by a
/// power of two is exact, and JSON floats round-trip) and `class` is the
/// argmax of the integers. Returns the integers.
pub fn check_outputs(out: &Value) -> Vec<i64> {
    let ints = i64s(&out["outputs_int"]);
    let floats = f64s(&out["outputs"]);
    assert_eq!(ints.len(), 10, "{out}");
    assert_eq!(floats.len(), ints.len(), "{out}");
    let scale = out["scale"].as_i64().expect("scale is an integer");
    let unit = 2f64.powi(i32::try_from(scale).unwrap());
    for (i, (&f, &n)) in floats.iter().zip(&ints).enumerate() {
        assert_eq!(
            f,
            n as f64 / unit,
            "outputs[{i}] vs outputs_int[{i}]: {out}"
        );
    }
    let class = out["class"].as_u64().expect("class is an integer") as usize;
    assert_eq!(
        class,
        argmax(&ints),
        "class is not argmax(outputs_int): {out}"
    );
    ints
}
