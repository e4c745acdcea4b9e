//! `zkinfer commit`: the Poseidon commitment of an input, as a circuit
//! with a committed input would make it public.

use crate::cli::CommitArgs;
use crate::report::outln;
use anyhow::Context;
use serde::Serialize;
use zkinfer_circuits::commitment::{commit, from_hex, to_hex};
use zkinfer_models::load_quantized_model;

#[derive(Serialize)]
struct CommitOutput {
    model: String,
    model_digest: String,
    /// The input's commitment (64 hex digits, the field element's
    /// little-endian bytes).
    input_commitment: String,
    /// The blinding element (absent with `--unblinded`).
    blinding: Option<String>,
    /// Values committed, and their declared width.
    values: usize,
    bits: u32,
}

pub fn run(args: &CommitArgs, json: bool) -> anyhow::Result<()> {
    let model = load_quantized_model(&args.model)
        .with_context(|| format!("loading model {:?}", args.model))?;
    let q = &model.quantized;
    let x = super::read_input(q, &args.model, &args.input)?;
    let blinding = match (&args.blinding, args.unblinded) {
        (Some(hex), _) => Some(from_hex(hex).with_context(|| {
            format!("--blinding {hex:?} is not a field element (64 hex digits, little-endian)")
        })?),
        (None, true) => None,
        (None, false) => Some(zkinfer_prover::random_blinding()),
    };
    let bits = q.input().bits;
    let commitment = commit(&x.data, bits, blinding)
        .with_context(|| format!("committing {}", args.input.display()))?;
    let out = CommitOutput {
        model: model.source.clone(),
        model_digest: q.digest().to_hex(),
        input_commitment: to_hex(commitment),
        blinding: blinding.map(to_hex),
        values: x.data.len(),
        bits,
    };
    if json {
        return crate::report::json(&out);
    }
    outln!(
        "input      {} ({} values of {bits} bits)",
        args.input.display(),
        out.values
    );
    outln!("commitment {}", out.input_commitment);
    match (&out.blinding, args.blinding.is_some()) {
        (Some(r), false) => outln!(
            "blinding   {r} (new and random: keep it secret, and keep it — the commitment opens only with it)"
        ),
        (Some(r), true) => outln!("blinding   {r}"),
        (None, _) => outln!(
            "unblinded: anyone can test a guessed input against this commitment"
        ),
    }
    Ok(())
}
