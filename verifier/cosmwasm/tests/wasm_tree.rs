//! The contract must build for wasm32 without OS randomness or threads:
//! check its dependency tree for that target (the target itself need not be
//! installed to resolve the tree).

use std::process::Command;

#[test]
fn no_getrandom_or_rayon_for_wasm32() {
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
            "zkinfer-cosmwasm",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8(out.stdout).unwrap();
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        crates.contains(&"cosmwasm-std") && crates.contains(&"halo2_proofs"),
        "{tree}"
    );
    for forbidden in [
        "getrandom",
        "rayon",
        "candle-core",
        "zkinfer-models",
        "zkinfer-prover",
        // zkinfer-circuits' `commitments` feature (Poseidon): its tree
        // needs OS randomness on wasm32.
        "halo2_gadgets",
    ] {
        assert!(
            !crates.contains(&forbidden),
            "the wasm contract depends on {forbidden}:\n{tree}"
        );
    }
}
