//! The verifier ships to chains: its dependency tree must stay free of
//! candle, zkinfer's models and prover crates, and command-line crates.

use std::process::Command;

fn tree(package: &str, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "--locked",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
            package,
        ])
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn crates(tree: &str) -> Vec<&str> {
    tree.lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect()
}

#[test]
fn the_verifier_pulls_in_no_ml_prover_or_cli_crate() {
    let tree = tree("zkinfer-verifier", &[]);
    let crates = crates(&tree);
    assert!(
        crates.contains(&"halo2_proofs"),
        "the tree was read: {tree}"
    );
    for forbidden in [
        "candle-core",
        "candle-nn",
        "zkinfer-models",
        "zkinfer-prover",
        "clap",
        "anyhow",
        "gemm",
    ] {
        assert!(
            !crates.contains(&forbidden),
            "zkinfer-verifier depends on {forbidden}:\n{tree}"
        );
    }
}

#[test]
fn without_default_features_there_is_no_os_randomness_or_threads() {
    let tree = tree("zkinfer-verifier", &["--no-default-features"]);
    let crates = crates(&tree);
    for forbidden in ["getrandom", "rayon"] {
        assert!(
            !crates.contains(&forbidden),
            "zkinfer-verifier without defaults depends on {forbidden}:\n{tree}"
        );
    }
}
