//! `zkinfer contract`, end to end: prove → register → submit → query returns
//! the verified class for an input; a retired model's attestations read as
//! retired and it takes no new proofs; every refusal leaves `state.json` byte
//! for byte as it was; and submissions killed at random moments leave the
//! old state or the new one, never a torn one, and never lose an attestation
//! that was acknowledged (exit 0).
//!
//! Every command that may touch IPA parameters gets the test's own cache
//! through `ZKINFER_PARAMS_DIR`, so the tests never write to the home folder.

mod common;

use common::{arg, Case, Run, PARAMS_DIR_ENV};
use common::{argmax, bundled_model_json, dir_entries, held_out_sample, i64s, read_json};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const MLP: &str = "digits-mlp";
const CNN: &str = "digits-cnn";
const DIGIT_3: &str = "examples/inputs/digit-3.json";
const DIGIT_7: &str = "examples/inputs/digit-7.json";
const STATE_FILE: &str = "state.json";
const LOCK_FILE: &str = ".lock";

/// A string field of a JSON value.
fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key:?} in {value}"))
}

impl Case {
    /// Proves `input` with `model` into `<name>`; returns the bundle's path
    /// and the bundle.
    fn prove(&self, model: &str, input: &str, name: &str) -> (PathBuf, Value) {
        let out = self.join(name);
        self.run_env(&[
            "prove",
            "--model",
            model,
            "--input",
            input,
            "--out",
            arg(&out),
        ])
        .assert_success();
        let bundle = read_json(&out);
        (out, bundle)
    }

    /// `zkinfer contract <command> --state <state> <rest…>`.
    fn contract(&self, command: &str, state: &Path, rest: &[&str]) -> Run {
        let mut args = vec!["contract", command, "--state", arg(state)];
        args.extend_from_slice(rest);
        self.run_env(&args)
    }

    /// `zkinfer contract query --state <state> <rest…>`.
    fn query(&self, state: &Path, rest: &[&str]) -> Run {
        self.contract("query", state, rest)
    }

    /// `zkinfer contract submit --state <state> --proof <proof> --from <from> <rest…>`.
    fn submit(&self, state: &Path, proof: &Path, from: &str, rest: &[&str]) -> Run {
        let mut args = vec!["--proof", arg(proof), "--from", from];
        args.extend_from_slice(rest);
        self.contract("submit", state, &args)
    }

    /// A new state at `name` with `admin` and digits-mlp registered; returns
    /// the folder and the model id the registration printed.
    fn registered_state(&self, name: &str, admin: &str) -> (PathBuf, String) {
        let state = self.join(name);
        let run = self.contract("init", &state, &["--admin", admin]);
        run.assert_success();
        assert!(run.stdout.contains(&format!("admin={admin}")), "{run:#?}");
        let run = self.contract("register", &state, &["--model", MLP]);
        run.assert_success();
        let id = run
            .stdout
            .split_whitespace()
            .find_map(|w| w.strip_prefix("model_id="))
            .unwrap_or_else(|| panic!("register printed no model id: {run:#?}"))
            .to_string();
        (state, id)
    }
}

/// The state file's bytes.
fn snapshot(state: &Path) -> Vec<u8> {
    std::fs::read(state.join(STATE_FILE))
        .unwrap_or_else(|e| panic!("cannot read {}'s state: {e}", state.display()))
}

/// Checks a refused command left the state byte for byte as `before` and
/// no other file behind (only the state and its lock).
fn assert_unchanged(state: &Path, before: &[u8], run: &Run) {
    assert!(
        snapshot(state) == before,
        "zkinfer {:?} changed the state",
        run.args
    );
    assert_eq!(
        dir_entries(state),
        [LOCK_FILE, STATE_FILE],
        "zkinfer {:?} left files behind",
        run.args
    );
}

/// Checks a refusal: exit code 2, one `error:` line with `needles`, nothing
/// on stdout, and the state unchanged.
fn assert_refused(run: &Run, state: &Path, before: &[u8], needles: &[&str]) {
    run.assert_error(needles);
    run.assert_failure_stdout();
    assert_unchanged(state, before, run);
}

/// Checks an invalid proof's rejection: exit code 1 and one `rejected:`
/// line, never a panic; the state unchanged.
fn assert_rejected(run: &Run, state: &Path, before: &[u8]) {
    let ctx = || format!("zkinfer {:?}\n{run:#?}", run.args);
    assert_eq!(run.code, Some(1), "expected exit code 1: {}", ctx());
    assert!(!run.stderr.contains("panicked"), "panicked: {}", ctx());
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line on stderr: {}", ctx());
    assert!(lines[0].starts_with("rejected: "), "{}", ctx());
    assert!(lines[0].contains("invalid proof"), "{}", ctx());
    assert_unchanged(state, before, run);
}

/// Checks an attestation records `bundle`'s verified output.
fn assert_attests(attestation: &Value, bundle: &Value, id: &str, seq: u64, from: &str) {
    let output = i64s(&bundle["output"]["values"]);
    assert_eq!(attestation["seq"], seq, "{attestation}");
    assert_eq!(attestation["model_id"], id, "{attestation}");
    assert_eq!(i64s(&attestation["output"]), output, "{attestation}");
    assert_eq!(
        attestation["output_scale"], bundle["output"]["scale"],
        "{attestation}"
    );
    assert_eq!(attestation["class"], argmax(&output), "{attestation}");
    assert_eq!(attestation["submitter"], from, "{attestation}");
    for key in ["input_digest", "proof_digest"] {
        let digest = text(attestation, key);
        assert!(
            digest.len() == 64 && digest.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')),
            "{key}: {attestation}"
        );
    }
}

#[test]
fn prove_submit_query_returns_the_verified_class_for_the_input() {
    let case = Case::new();
    let (proof3, bundle3) = case.prove(MLP, DIGIT_3, "digit-3.proof.json");
    let (proof7, bundle7) = case.prove(MLP, DIGIT_7, "digit-7.proof.json");
    assert_eq!(bundle3["class"], 3);
    assert_eq!(bundle7["class"], 7);

    // init, then register: the model id is the bundles' vk digest.
    let (state, id) = case.registered_state("state", "alice");
    assert_eq!(id, text(&bundle3, "vk_digest"));
    assert_eq!(id, text(&bundle7, "vk_digest"));
    assert_eq!(dir_entries(&state), [LOCK_FILE, STATE_FILE]);

    // submit: verified, then recorded.
    let response = case.submit(&state, &proof3, "bob", &["--json"]).json();
    let attestation = response["attestation"].clone();
    assert_attests(&attestation, &bundle3, &id, 0, "bob");
    assert_eq!(attestation["class"], 3);
    assert!(response["gas"].as_u64().unwrap() > 0, "{response}");
    let events = response["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{response}");
    assert_eq!(events[0]["kind"], "zkinfer_attest", "{response}");
    assert!(
        events[0]["attributes"]
            .as_array()
            .unwrap()
            .contains(&json!(["class", "3"])),
        "{response}"
    );

    // The must-show: the verified class for that input, from the input file.
    let by_input = case
        .query(
            &state,
            &[
                "output",
                "--model-id",
                &id,
                "--model",
                MLP,
                "--input",
                DIGIT_3,
                "--json",
            ],
        )
        .json();
    assert_eq!(by_input, json!({ "attestation": attestation }));
    assert_eq!(by_input["attestation"]["class"], 3);

    // A second submission, in text mode, by someone else.
    let run = case.submit(&state, &proof7, "carol", &[]);
    run.assert_success();
    for needle in ["zkinfer_attest", "seq=1", "class=7", "submitter=carol"] {
        assert!(run.stdout.contains(needle), "no {needle:?}: {run:#?}");
    }
    let attestation7 = case
        .query(
            &state,
            &[
                "output",
                "--model-id",
                &id,
                "--model",
                MLP,
                "--input",
                DIGIT_7,
                "--json",
            ],
        )
        .json()["attestation"]
        .clone();
    assert_attests(&attestation7, &bundle7, &id, 1, "carol");
    assert_eq!(attestation7["class"], 7);
    assert_ne!(attestation7["input_digest"], attestation["input_digest"]);

    let before = snapshot(&state);

    // The same output by its input digest.
    let digest = text(&attestation, "input_digest");
    let by_digest = case
        .query(
            &state,
            &[
                "output",
                "--model-id",
                &id,
                "--input-digest",
                digest,
                "--json",
            ],
        )
        .json();
    assert_eq!(by_digest, by_input);

    // One attestation by its sequence number.
    for (seq, expected) in [("0", &attestation), ("1", &attestation7)] {
        let one = case
            .query(&state, &["attestation", "--seq", seq, "--json"])
            .json();
        assert_eq!(one, json!({ "attestation": expected }));
    }

    // A model's attestations, oldest first, paged.
    let all = case
        .query(&state, &["attestations", "--model-id", &id, "--json"])
        .json();
    assert_eq!(all, json!({ "attestations": [attestation, attestation7] }));
    let after = case
        .query(
            &state,
            &[
                "attestations",
                "--model-id",
                &id,
                "--start-after",
                "0",
                "--json",
            ],
        )
        .json();
    assert_eq!(after, json!({ "attestations": [attestation7] }));
    let first = case
        .query(
            &state,
            &["attestations", "--model-id", &id, "--limit", "1", "--json"],
        )
        .json();
    assert_eq!(first, json!({ "attestations": [attestation] }));

    // The registry.
    let models = case.query(&state, &["models", "--json"]).json();
    assert_eq!(
        models,
        json!({ "models": [{ "model_id": id, "retired": null }] })
    );
    let model = case
        .query(&state, &["model", "--model-id", &id, "--json"])
        .json();
    let info = &model["model"];
    assert_eq!(info["model_id"], id, "{model}");
    assert_eq!(info["name"], MLP, "{model}");
    assert_eq!(
        info["model_digest"],
        bundled_model_json(MLP)["digest"],
        "{model}"
    );
    assert_eq!(info["model_digest"], bundle3["model_digest"], "{model}");
    assert_eq!(info["k"], bundle3["k"], "{model}");
    assert_eq!(info["input_visibility"], "public", "{model}");
    assert_eq!(info["retired"], Value::Null, "{model}");
    assert_eq!(info["input_shape"], json!([64]), "{model}");
    assert_eq!(info["output_shape"], json!([10]), "{model}");
    assert_eq!(info["output_scale"], bundle3["output"]["scale"], "{model}");
    assert_eq!(
        info["verification_gas"], response["gas"],
        "the model's gas is what a submission costs: {model}"
    );
    let config = case.query(&state, &["config", "--json"]).json();
    assert_eq!(config, json!({ "config": { "admin": "alice" } }));

    // Text mode.
    let run = case.query(
        &state,
        &["output", "--model-id", &id, "--input-digest", digest],
    );
    run.assert_success();
    assert!(
        run.stdout.contains("attestation 0: class 3 from bob"),
        "{run:#?}"
    );
    assert!(run.stdout.contains(digest), "{run:#?}");

    // Queries that find nothing are refusals.
    let missing = case.query(&state, &["attestation", "--seq", "2"]);
    assert_refused(&missing, &state, &before, &["not found", "attestation 2"]);
    let other = text(&attestation, "proof_digest");
    let missing = case.query(
        &state,
        &["output", "--model-id", &id, "--input-digest", other],
    );
    assert_refused(&missing, &state, &before, &["not found", other]);

    // Queries never write.
    assert_unchanged(&state, &before, &run);
}

#[test]
fn every_refusal_leaves_the_state_unchanged() {
    let case = Case::new();
    let (proof3, bundle3) = case.prove(MLP, DIGIT_3, "digit-3.proof.json");
    let (proof7, bundle7) = case.prove(MLP, DIGIT_7, "digit-7.proof.json");
    let (cnn3, cnn_bundle) = case.prove(CNN, DIGIT_3, "cnn-digit-3.proof.json");
    let (state, id) = case.registered_state("state", "alice");

    // A forged output: one score of digit 7 up by one unit. Exit 1, as
    // `zkinfer verify` does; in JSON mode the refusal is on stdout too.
    let mut forged = bundle7.clone();
    let v = forged["output"]["values"][7].as_i64().unwrap();
    forged["output"]["values"][7] = json!(v + 1);
    let forged = case.scratch.write(
        "forged.proof.json",
        serde_json::to_string_pretty(&forged).unwrap(),
    );
    let before = snapshot(&state);
    let run = case.submit(&state, &forged, "mallory", &[]);
    assert_rejected(&run, &state, &before);
    assert_eq!(run.stdout, "", "{run:#?}");
    let run = case.submit(&state, &forged, "mallory", &["--json"]);
    assert_rejected(&run, &state, &before);
    let out: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {run:#?}"));
    assert_eq!(out["ok"], false, "{out}");
    assert_eq!(out["error"], "invalid proof", "{out}");

    // The genuine proof of digit 3 is recorded.
    let response = case.submit(&state, &proof3, "bob", &["--json"]).json();
    assert_attests(&response["attestation"], &bundle3, &id, 0, "bob");
    let before = snapshot(&state);

    // A replay of the same proof.
    let run = case.submit(&state, &proof3, "bob", &[]);
    assert_refused(
        &run,
        &state,
        &before,
        &["replay", "same proof", "attestation 0"],
    );
    let run = case.submit(&state, &proof3, "eve", &["--json"]);
    assert_refused(&run, &state, &before, &["replay"]);

    // Another proof of the same input (proofs are randomized: new bytes).
    let (again, bundle3b) = case.prove(MLP, DIGIT_3, "digit-3-again.proof.json");
    assert_ne!(bundle3b["proof"], bundle3["proof"]);
    assert_eq!(bundle3b["output"], bundle3["output"]);
    let run = case.submit(&state, &again, "eve", &[]);
    assert_refused(
        &run,
        &state,
        &before,
        &["replay", "same model and input", "attestation 0"],
    );

    // An unknown model.
    let zeros = "0".repeat(64);
    let run = case.submit(&state, &proof7, "bob", &["--model-id", &zeros]);
    assert_refused(&run, &state, &before, &["unknown model", &zeros]);

    // A bundle for another model, submitted to the MLP.
    let cnn_id = text(&cnn_bundle, "vk_digest");
    assert_ne!(cnn_id, id);
    let run = case.submit(&state, &cnn3, "bob", &["--model-id", &id]);
    assert_refused(
        &run,
        &state,
        &before,
        &["the bundle is for model", cnn_id, &id],
    );
    // Without --model-id, the CNN is not registered at all.
    let run = case.submit(&state, &cnn3, "bob", &[]);
    assert_refused(&run, &state, &before, &["unknown model", cnn_id]);

    // A malformed bundle: the digit-7 proof cut in half.
    let whole = std::fs::read_to_string(&proof7).unwrap();
    let truncated = case
        .scratch
        .write("truncated.proof.json", &whole[..whole.len() / 2]);
    let run = case.submit(&state, &truncated, "bob", &[]);
    assert_refused(&run, &state, &before, &[arg(&truncated), "malformed"]);
    let missing = case.join("no-such.proof.json");
    let run = case.submit(&state, &missing, "bob", &[]);
    assert_refused(&run, &state, &before, &[arg(&missing)]);

    // Registration by someone other than the admin.
    let run = case.contract("register", &state, &["--model", CNN, "--from", "mallory"]);
    assert_refused(&run, &state, &before, &["unauthorized", "mallory"]);
    let run = case.contract("register", &state, &["--model", MLP, "--from", "mallory"]);
    assert_refused(&run, &state, &before, &["unauthorized", "mallory"]);

    // A second registration of the same model, by the admin.
    let run = case.contract("register", &state, &["--model", MLP]);
    assert_refused(&run, &state, &before, &["already registered", &id]);
    let run = case.contract(
        "register",
        &state,
        &["--model", MLP, "--from", "alice", "--name", "again"],
    );
    assert_refused(&run, &state, &before, &["already registered", &id]);

    // init on an existing state, with the same admin or another one.
    for admin in ["alice", "mallory"] {
        let run = case.contract("init", &state, &["--admin", admin]);
        assert_refused(&run, &state, &before, &[arg(&state), "exists already"]);
    }

    // Nothing was counted: the next attestation is number 1.
    let response = case.submit(&state, &proof7, "carol", &["--json"]).json();
    assert_attests(&response["attestation"], &bundle7, &id, 1, "carol");
    let seqs: Vec<Value> = case
        .query(&state, &["attestations", "--model-id", &id, "--json"])
        .json()["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["seq"].clone())
        .collect();
    assert_eq!(seqs, [json!(0), json!(1)]);
}

#[test]
fn a_retired_model_is_marked_in_every_query_and_takes_no_new_proofs() {
    let case = Case::new();
    let (proof3, _) = case.prove(MLP, DIGIT_3, "digit-3.proof.json");
    let (proof7, _) = case.prove(MLP, DIGIT_7, "digit-7.proof.json");
    let (state, id) = case.registered_state("state", "alice");
    let recorded = case.submit(&state, &proof3, "bob", &["--json"]).json()["attestation"].clone();
    assert_eq!(recorded["model_retired"], Value::Null, "{recorded}");
    let retire = |reason: &str, rest: &[&str]| {
        let mut args = vec!["--model-id", id.as_str(), "--reason", reason];
        args.extend_from_slice(rest);
        case.contract("retire", &state, &args)
    };
    let reason = "rescale remainder unconstrained";

    // Refusals: someone else, an unknown model, an empty reason.
    let before = snapshot(&state);
    let run = retire(reason, &["--from", "mallory"]);
    assert_refused(&run, &state, &before, &["unauthorized", "mallory"]);
    let zeros = "0".repeat(64);
    let run = case.contract(
        "retire",
        &state,
        &["--model-id", &zeros, "--reason", reason, "--json"],
    );
    assert_refused(&run, &state, &before, &["unknown model", &zeros]);
    let run = retire("", &[]);
    assert_refused(&run, &state, &before, &["reason must be"]);

    // The admin retires it (the default sender, as for `register`).
    let run = retire(reason, &[]);
    run.assert_success();
    for needle in [
        "zkinfer_retire",
        &format!("model_id={id}"),
        &format!("reason={reason}"),
        "takes no new proofs",
    ] {
        assert!(run.stdout.contains(needle), "no {needle:?}: {run:#?}");
    }
    let before = snapshot(&state);

    // Refused from now on: retiring again, any submission, the key again.
    let run = retire("again", &["--from", "alice"]);
    assert_refused(&run, &state, &before, &["already retired", reason]);
    for proof in [&proof7, &proof3] {
        let run = case.submit(&state, proof, "carol", &[]);
        assert_refused(&run, &state, &before, &["was retired", reason, &id]);
    }
    let run = case.contract("register", &state, &["--model", MLP]);
    assert_refused(
        &run,
        &state,
        &before,
        &["already registered", "was retired", reason],
    );

    // Every query that returns the model or its attestation says so.
    let retired = json!({ "reason": reason, "at_seq": 1 });
    let mut marked = recorded.clone();
    marked["model_retired"] = retired.clone();
    let digest = text(&recorded, "input_digest");
    let queries: [&[&str]; 3] = [
        &["attestation", "--seq", "0"],
        &["output", "--model-id", &id, "--input-digest", digest],
        &[
            "output",
            "--model-id",
            &id,
            "--model",
            MLP,
            "--input",
            DIGIT_3,
        ],
    ];
    for q in queries {
        let mut json_args = q.to_vec();
        json_args.push("--json");
        let answer = case.query(&state, &json_args).json();
        assert_eq!(answer, json!({ "attestation": marked }), "{q:?}");
        let run = case.query(&state, q);
        run.assert_success();
        for needle in ["attestation 0: class 3 from bob (MODEL RETIRED)", reason] {
            assert!(run.stdout.contains(needle), "no {needle:?}: {run:#?}");
        }
    }
    let all = case
        .query(&state, &["attestations", "--model-id", &id, "--json"])
        .json();
    assert_eq!(all, json!({ "attestations": [marked] }));
    let model = case
        .query(&state, &["model", "--model-id", &id, "--json"])
        .json();
    assert_eq!(model["model"]["retired"], retired, "{model}");
    let models = case.query(&state, &["models", "--json"]).json();
    assert_eq!(
        models,
        json!({ "models": [{ "model_id": id, "retired": retired }] })
    );
    let run = case.query(&state, &["models"]);
    run.assert_success();
    assert!(
        run.stdout
            .contains(&format!("{id}  retired at seq 1: {reason}")),
        "{run:#?}"
    );
    assert_unchanged(&state, &before, &run);
}

#[test]
fn every_command_on_a_folder_without_state_says_to_run_init() {
    let case = Case::new();
    let (proof, bundle) = case.prove(MLP, DIGIT_3, "digit-3.proof.json");
    let id = text(&bundle, "vk_digest");
    let empty = case.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let absent = case.join("absent");
    let init = "run `zkinfer contract init` first";

    for folder in [&empty, &absent] {
        let runs = [
            case.contract("register", folder, &["--model", MLP]),
            case.contract("register", folder, &["--model", MLP, "--from", "alice"]),
            case.submit(folder, &proof, "bob", &[]),
            case.submit(folder, &proof, "bob", &["--json", "--model-id", id]),
            case.contract("retire", folder, &["--model-id", id, "--reason", "unsound"]),
            case.query(folder, &["config"]),
            case.query(folder, &["models", "--json"]),
            case.query(folder, &["model", "--model-id", id]),
            case.query(folder, &["attestation", "--seq", "0"]),
            case.query(folder, &["attestations", "--model-id", id]),
            case.query(
                folder,
                &[
                    "output",
                    "--model-id",
                    id,
                    "--model",
                    MLP,
                    "--input",
                    DIGIT_3,
                ],
            ),
        ];
        for run in &runs {
            run.assert_error(&[arg(folder), "no contract state", init]);
            run.assert_failure_stdout();
        }
    }
    // Nothing was created: no state, no lock, no folder.
    assert_eq!(dir_entries(&empty), Vec::<String>::new());
    assert!(!absent.exists());

    // A folder that holds something else is not a state either.
    let other = case.join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "not a contract\n").unwrap();
    case.query(&other, &["config"])
        .assert_error(&[arg(&other), init]);
    assert_eq!(dir_entries(&other), ["notes.txt"]);
}

/// Crash safety: `zkinfer contract submit` killed (SIGKILL) at random moments.
#[cfg(unix)]
mod crash {
    use super::*;
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    /// Runs with a random kill, at least.
    const RUNS: usize = 50;
    /// Distinct proofs in the base.
    const PROOFS: usize = 6;
    /// Each outcome (killed first, completed first) must happen this often.
    const MIN_EACH: usize = 3;
    /// The staircase's step, in microseconds.
    const STEP_MICROS: i64 = 1_000;
    /// The RNG's seed: the delays and orders are the same on every run of
    /// the test (the machine's timing is not).
    const SEED: u64 = 0x5eed_c0de_2024_0001;

    /// xorshift64*: enough randomness for delays and shuffles.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        /// Uniform enough in `0..n`.
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn shuffle<T>(&mut self, items: &mut [T]) {
            for i in (1..items.len()).rev() {
                let j = self.below(i as u64 + 1) as usize;
                items.swap(i, j);
            }
        }
    }

    /// Starts the binary as `common::zkinfer_with_env` runs it, without waiting.
    fn spawn(args: &[&str], params: &Path) -> Child {
        Command::new(env!("CARGO_BIN_EXE_zkinfer"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .env(PARAMS_DIR_ENV, params)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("could not start the zkinfer binary")
    }

    /// The median of the last (at most) eight durations: how long a
    /// submission takes now (the machine's load changes as other tests end).
    fn recent_median(durations: &[Duration]) -> Duration {
        let mut recent = durations[durations.len().saturating_sub(8)..].to_vec();
        recent.sort();
        recent[recent.len() / 2]
    }

    /// A fresh state folder holding `state` (the lock is created on use).
    fn fresh_state(dir: &Path, state: &[u8]) {
        std::fs::create_dir(dir).unwrap();
        std::fs::write(dir.join(STATE_FILE), state).unwrap();
    }

    /// `query attestations` must succeed and parse: the state loads.
    fn attestations(case: &Case, state: &Path, id: &str) -> Vec<Value> {
        let out = case
            .query(
                state,
                &["attestations", "--model-id", id, "--limit", "100", "--json"],
            )
            .json();
        out["attestations"]
            .as_array()
            .unwrap_or_else(|| panic!("no attestations: {out}"))
            .clone()
    }

    /// What a normal submission of `proofs[i]` records at `seq` by `from`.
    fn expected(reference: &[Value], i: usize, seq: usize, from: &str) -> Value {
        let mut a = reference[i].clone();
        a["seq"] = json!(seq);
        a["submitter"] = json!(from);
        a
    }

    #[derive(Debug, Default)]
    struct Counts {
        /// The kill landed first; the submission is absent.
        killed_absent: usize,
        /// The kill landed after the state was written, before the exit.
        killed_present: usize,
        /// The submission completed (exit 0) before the kill.
        completed: usize,
        /// Runs that left the killed process's temporary file.
        temp_left: usize,
    }

    impl Counts {
        fn killed(&self) -> usize {
            self.killed_absent + self.killed_present
        }
    }

    #[test]
    fn killed_submissions_leave_the_old_state_or_the_new_one() {
        let started = Instant::now();
        let case = Case::new();
        let params = case.params();

        // PROOFS distinct held-out digits, each proved.
        let digits = held_out_sample(PROOFS);
        let proofs: Vec<(PathBuf, Value)> = digits
            .iter()
            .map(|d| {
                let input = case
                    .scratch
                    .write_input(&format!("digit-{}.json", d.index), &d.input());
                case.prove(MLP, arg(&input), &format!("digit-{}.proof.json", d.index))
            })
            .collect();
        for (i, (_, a)) in proofs.iter().enumerate() {
            for (_, b) in &proofs[..i] {
                assert_ne!(a["input"], b["input"], "two digits with the same pixels");
            }
        }

        // The base: digits-mlp registered, nothing submitted.
        let (base, id) = case.registered_state("base", "alice");
        let base_state = snapshot(&base);

        // What each proof records, from normal submissions to a copy of the
        // base; and how long a submission takes here.
        let reference_dir = case.join("reference");
        fresh_state(&reference_dir, &base_state);
        let mut durations = Vec::new();
        let reference: Vec<Value> = proofs
            .iter()
            .enumerate()
            .map(|(seq, (proof, bundle))| {
                let t = Instant::now();
                let run = case.submit(&reference_dir, proof, "bob", &["--json"]);
                durations.push(t.elapsed());
                let a = run.json()["attestation"].clone();
                assert_attests(&a, bundle, &id, seq as u64, "bob");
                a
            })
            .collect();

        let mut rng = Rng(SEED);
        let mut counts = Counts::default();
        let mut offset: i64 = 0;
        let mut run = 0;
        while run < RUNS
            || ((counts.completed < MIN_EACH || counts.killed() < MIN_EACH) && run < 2 * RUNS)
        {
            let dir = case.join(&format!("run-{run}"));
            fresh_state(&dir, &base_state);
            let mut order: Vec<usize> = (0..PROOFS).collect();
            rng.shuffle(&mut order);
            let pre = rng.below(PROOFS as u64) as usize;

            // Submissions acknowledged before the crash.
            let mut acknowledged = Vec::new();
            for (seq, &i) in order[..pre].iter().enumerate() {
                let t = Instant::now();
                let out = case.submit(&dir, &proofs[i].0, "bob", &["--json"]).json();
                durations.push(t.elapsed());
                assert_eq!(out["attestation"], expected(&reference, i, seq, "bob"));
                acknowledged.push(out["attestation"].clone());
            }
            let before = snapshot(&dir);

            // The next one, killed after a random delay: on even runs up to
            // 1.5 times a normal submission's time T; on odd runs within
            // 1.5 ms of T + `offset`, a staircase that follows the moment the
            // submission completes (where the state is written): up after a
            // kill that came too early, down after one that came too late.
            // Past RUNS, only while an outcome is still missing, the range
            // leans to that outcome.
            let typical = recent_median(&durations).as_micros() as u64;
            let edge_micros = typical.saturating_add_signed(offset);
            let (low, high) = if run < RUNS && run % 2 == 0 {
                (0, 3 * typical / 2)
            } else if run < RUNS {
                (edge_micros.saturating_sub(1_500), edge_micros + 1_500)
            } else if counts.completed < MIN_EACH {
                (typical, 3 * typical)
            } else {
                (0, typical / 2)
            };
            let delay = Duration::from_micros(low + rng.below(high - low + 1));
            let target = order[pre];
            let proof = arg(&proofs[target].0);
            let state = arg(&dir);
            let args = [
                "contract", "submit", "--state", state, "--proof", proof, "--from", "carol",
                "--json",
            ];
            let mut child = spawn(&args, &params);
            let pid = child.id();
            std::thread::sleep(delay);
            child.kill().expect("cannot kill the submission");
            let output = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            let ctx = format!(
                "run {run}: {pre} submitted, then proof {target} killed after {delay:?}: \
                 {:?}\nstderr: {stderr}",
                output.status
            );
            assert!(!stderr.contains("panicked"), "{ctx}");

            // The state loads, keeps every acknowledged attestation, and
            // holds the killed one whole or not at all.
            let found = attestations(&case, &dir, &id);
            assert!(
                found.len() == pre || found.len() == pre + 1,
                "{ctx}\n{} attestations: {found:#?}",
                found.len()
            );
            assert_eq!(
                found[..pre],
                acknowledged[..],
                "acknowledged attestations lost: {ctx}"
            );
            let present = found.len() == pre + 1;
            let mine = expected(&reference, target, pre, "carol");
            if present {
                assert_eq!(found[pre], mine, "{ctx}");
            }

            let staircase = run < RUNS && run % 2 == 1;
            match output.status.code() {
                Some(0) => {
                    if staircase {
                        offset -= STEP_MICROS;
                    }
                    counts.completed += 1;
                    assert!(present, "an acknowledged attestation is missing: {ctx}");
                    let out: Value = serde_json::from_slice(&output.stdout)
                        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {ctx}"));
                    assert_eq!(out["attestation"], mine, "{ctx}");
                }
                Some(_) => panic!("the submission failed: {ctx}"),
                None => {
                    assert_eq!(output.status.signal(), Some(9), "{ctx}");
                    if present {
                        counts.killed_present += 1;
                    } else {
                        if staircase {
                            offset += STEP_MICROS;
                        }
                        counts.killed_absent += 1;
                        assert!(snapshot(&dir) == before, "the state changed: {ctx}");
                    }
                }
            }

            // Only the state, the lock and at most the killed process's
            // temporary file, which is not the state.
            let temp = format!(".{STATE_FILE}.{pid}.tmp");
            for name in dir_entries(&dir) {
                assert!(
                    name == STATE_FILE || name == LOCK_FILE || name == temp,
                    "{name} left behind: {ctx}"
                );
                if name == temp {
                    counts.temp_left += 1;
                }
            }

            // A recorded submission is whole: its indexes (by input, by
            // proof) agree with the record.
            if present {
                let digest = text(&mine, "input_digest");
                let by_input = case
                    .query(
                        &dir,
                        &[
                            "output",
                            "--model-id",
                            &id,
                            "--input-digest",
                            digest,
                            "--json",
                        ],
                    )
                    .json();
                assert_eq!(by_input["attestation"], mine, "{ctx}");
                let again = case.submit(&dir, &proofs[target].0, "carol", &[]);
                again.assert_error(&["replay", "same proof", &format!("attestation {pre}")]);
            }
            // A leftover temporary file is not the state and does not stand
            // in the way of the next submission.
            if dir_entries(&dir).contains(&temp) {
                let again = case.submit(&dir, &proofs[target].0, "carol", &["--json"]);
                if present {
                    again.assert_error(&["replay"]);
                } else {
                    assert_eq!(again.json()["attestation"], mine, "{ctx}");
                }
                assert_eq!(attestations(&case, &dir, &id).len(), pre + 1, "{ctx}");
            }

            std::fs::remove_dir_all(&dir).unwrap();
            run += 1;
        }

        let typical = recent_median(&durations);
        println!(
            "{run} killed submissions (a normal one takes {typical:?} here): \
             {} killed before completion ({} absent, {} written but not acknowledged), \
             {} completed before the kill; {} left a temporary file; \
             the staircase ended {} µs from T",
            counts.killed(),
            counts.killed_absent,
            counts.killed_present,
            counts.completed,
            counts.temp_left,
            offset,
        );
        assert!(
            counts.killed() >= MIN_EACH && counts.completed >= MIN_EACH,
            "the kills did not land on both sides of completion: {counts:?}"
        );

        concurrent_submissions_are_serialized(&case, &base_state, &proofs, &reference, &id);
        println!("crash test: {:?}", started.elapsed());
    }

    /// All the proofs submitted at once: the lock serializes them, each is
    /// acknowledged with its own sequence number, and none is lost.
    fn concurrent_submissions_are_serialized(
        case: &Case,
        base_state: &[u8],
        proofs: &[(PathBuf, Value)],
        reference: &[Value],
        id: &str,
    ) {
        let dir = case.join("concurrent");
        fresh_state(&dir, base_state);
        let state = arg(&dir);
        let froms: Vec<String> = (0..proofs.len()).map(|i| format!("user{i}")).collect();
        let children: Vec<Child> = proofs
            .iter()
            .zip(&froms)
            .map(|((proof, _), from)| {
                let args = [
                    "contract",
                    "submit",
                    "--state",
                    state,
                    "--proof",
                    arg(proof),
                    "--from",
                    from.as_str(),
                    "--json",
                ];
                spawn(&args, &case.params())
            })
            .collect();
        let mut seqs = Vec::new();
        let mut acknowledged = Vec::new();
        for (i, child) in children.into_iter().enumerate() {
            let output = child.wait_with_output().unwrap();
            assert_eq!(output.status.code(), Some(0), "{output:?}");
            let out: Value = serde_json::from_slice(&output.stdout).unwrap();
            let a = out["attestation"].clone();
            let seq = a["seq"].as_u64().unwrap() as usize;
            assert_eq!(a, expected(reference, i, seq, &froms[i]));
            seqs.push(seq);
            acknowledged.push(a);
        }
        seqs.sort();
        assert_eq!(seqs, (0..proofs.len()).collect::<Vec<_>>());
        acknowledged.sort_by_key(|a| a["seq"].as_u64());
        assert_eq!(attestations(case, &dir, id), acknowledged);
        assert_eq!(dir_entries(&dir), [LOCK_FILE, STATE_FILE]);
    }
}

/// Queries read the state without locking it: they create no file, so a
/// read-only folder (or one the reader may not write) can be queried.
#[test]
fn queries_create_no_file_and_work_on_a_read_only_folder() {
    let case = Case::new();
    let (state, id) = case.registered_state("state", "alice");
    std::fs::remove_file(state.join(LOCK_FILE)).unwrap();
    let before = snapshot(&state);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let runs = [
        case.query(&state, &["config"]),
        case.query(&state, &["models", "--json"]),
        case.query(&state, &["model", "--model-id", &id]),
        case.query(&state, &["attestations", "--model-id", &id]),
    ];
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    for run in &runs {
        run.assert_success();
    }
    assert!(runs[0].stdout.contains("alice"), "{:#?}", runs[0]);
    // Root ignores permissions: what holds for everyone is that no file
    // (no lock) was created.
    assert_eq!(dir_entries(&state), [STATE_FILE]);
    assert!(snapshot(&state) == before);
}

/// Names come from files and command lines: escape codes in them are
/// printed escaped, never sent to the terminal.
#[test]
fn register_prints_control_characters_in_a_name_escaped() {
    let case = Case::new();
    let state = case.join("state");
    case.contract("init", &state, &["--admin", "alice"])
        .assert_success();
    let run = case.contract(
        "register",
        &state,
        &["--model", MLP, "--name", "evil\u{1b}[2J\u{1b}[31mname\r"],
    );
    run.assert_success();
    assert!(!run.stdout.contains('\u{1b}'), "{run:#?}");
    assert!(!run.stdout.contains('\r'), "{run:#?}");
    assert!(
        run.stdout
            .contains("name=evil\\u{1b}[2J\\u{1b}[31mname\\r "),
        "{run:#?}"
    );
}

/// A writer whose state folder is deleted and initialized again while it
/// waits or works (the lock lives in the folder, so it died with it) must
/// not write its stale state over the new one: it exits 2, naming the
/// folder, and the new state is untouched.
#[cfg(target_os = "linux")]
mod replaced {
    use super::*;
    use std::fs::File;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    /// Waits until process `pid` is blocked on a file lock (`/proc/locks`
    /// lists it behind `->`).
    fn wait_until_blocked_on_a_lock(pid: u32) {
        let start = Instant::now();
        let pid = pid.to_string();
        loop {
            let locks = std::fs::read_to_string("/proc/locks").unwrap();
            let blocked = locks
                .lines()
                .any(|line| line.contains("->") && line.split_whitespace().any(|w| w == pid));
            if blocked {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the submission never waited for the lock:\n{locks}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn a_submission_whose_folder_was_replaced_refuses_and_leaves_the_new_state() {
        let case = Case::new();
        let (proof, _) = case.prove(MLP, DIGIT_3, "digit-3.proof.json");
        let (state, _id) = case.registered_state("state", "alice");
        let registered = snapshot(&state);

        // Hold the old folder's lock, as a slow writer would.
        let lock = File::open(state.join(LOCK_FILE)).unwrap();
        lock.lock().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
            .args([
                "contract",
                "submit",
                "--state",
                arg(&state),
                "--proof",
                arg(&proof),
                "--from",
                "bob",
                "--json",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env(PARAMS_DIR_ENV, case.params())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_until_blocked_on_a_lock(child.id());

        // Another admin deletes the folder and sets up a new one with the
        // same model registered: a stale write would succeed there.
        std::fs::remove_dir_all(&state).unwrap();
        std::fs::create_dir(&state).unwrap();
        std::fs::write(state.join(STATE_FILE), &registered).unwrap();
        let new_state = snapshot(&state);
        drop(lock);

        let output = child.wait_with_output().unwrap();
        let run = Run {
            args: vec!["contract submit (folder replaced)".into()],
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        };
        run.assert_error(&[arg(&state), "deleted or replaced", "nothing was written"]);
        let json: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(json["file"], arg(&state), "{run:#?}");
        assert!(snapshot(&state) == new_state, "the new state changed");
        assert_eq!(dir_entries(&state), [STATE_FILE]);

        // The new folder works as usual.
        let run = case.submit(&state, &proof, "bob", &["--json"]);
        assert_eq!(run.json()["attestation"]["seq"], 0);
    }
}
