//! Regenerates IPA parameters and checks them against the SHA-256 digests
//! pinned in `zkinfer_verifier::params` (`make params-pins` checks every k;
//! k = 18–20 take minutes each). `--print` writes the table instead.
//!
//! ```text
//! cargo run --release -p zkinfer-verifier --example params_pins -- 1 20
//! ```

use std::process::ExitCode;
use std::time::Instant;
use zkinfer_verifier::params::{expected_digest, params_bytes, params_digest};
use zkinfer_verifier::IpaParams;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let print = args.iter().any(|a| a == "--print");
    let ks: Vec<u32> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let (from, to) = match ks.as_slice() {
        [a, b] => (*a, *b),
        [a] => (*a, *a),
        _ => (1, zkinfer_verifier::params::MAX_PINNED_K),
    };
    let mut ok = true;
    for k in from..=to {
        let t = Instant::now();
        let digest = params_digest(&params_bytes(&IpaParams::new(k)));
        if print {
            println!("    \"{digest}\", // k = {k}");
            continue;
        }
        let verdict = match expected_digest(k) {
            Some(pin) if pin == digest => "ok",
            Some(_) => {
                ok = false;
                "MISMATCH"
            }
            None => {
                ok = false;
                "NOT PINNED"
            }
        };
        println!(
            "k = {k:2}  {digest}  {verdict}  ({:.1} s)",
            t.elapsed().as_secs_f64()
        );
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
