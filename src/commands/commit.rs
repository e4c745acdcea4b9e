//! `zkinfer commit`: the Poseidon commitments a circuit with committed
//! weights or a committed input makes public — the model's weights', and
//! with `--input` the input's — and with `--polycommit` the Pedersen
//! commitment polycommit weights open to.

use crate::cli::CommitArgs;
use crate::report::outln;
use anyhow::Context;
use serde::Serialize;
use zkinfer_circuits::commitment::{commit, from_hex, to_hex};
use zkinfer_circuits::weights::{architecture, committed_tensors, model_commitment};
use zkinfer_models::load_quantized_model;
use zkinfer_prover::write_atomically;

#[derive(Serialize)]
struct CommitOutput {
    model: String,
    model_digest: String,
    /// The weights' commitment (64 hex digits, the field element's
    /// little-endian bytes); `null` when they cannot be committed (see
    /// `weights_error`).
    model_commitment: Option<String>,
    /// The digest of the model's architecture: what a committed-weights
    /// verifying key stands for, shared by every model of it.
    architecture_digest: Option<String>,
    /// Weights and biases committed.
    parameters: usize,
    /// Why the weights cannot be committed (weights wider than 16 bits).
    #[serde(skip_serializing_if = "Option::is_none")]
    weights_error: Option<String>,
    /// Where the architecture was written, with `--architecture-out`.
    #[serde(skip_serializing_if = "Option::is_none")]
    architecture: Option<String>,
    /// With `--polycommit`: the weights' Pedersen commitment, one point
    /// per weight column (64 hex digits each), and the circuit it is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    polycommit: Option<Polycommit>,
    /// The input's commitment, with `--input`.
    #[serde(skip_serializing_if = "Option::is_none")]
    input_commitment: Option<String>,
    /// The blinding element (absent with `--unblinded`).
    #[serde(skip_serializing_if = "Option::is_none")]
    blinding: Option<String>,
    /// Input values committed, and their declared width.
    #[serde(skip_serializing_if = "Option::is_none")]
    values: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bits: Option<u32>,
}

/// A polycommit commitment and the circuit whose weight columns it opens.
#[derive(Serialize)]
struct Polycommit {
    commitment: String,
    /// Whether it is blinded by the owner's weights secret.
    hiding: bool,
    k: u32,
    profile: zkinfer_circuits::Profile,
    /// Narrow weight columns and 16-bit groups.
    columns: usize,
    short_groups: usize,
}

/// The weights' polycommit commitment for the circuit `prove` would prove.
fn polycommit(args: &CommitArgs, q: &zkinfer_quant::QuantizedModel) -> anyhow::Result<Polycommit> {
    let visibility = super::visibility(&args.model, false, false)?;
    let weights = zkinfer_circuits::WeightVisibility::Polycommit;
    let circuit = super::plan_circuit(&args.model, q, visibility, weights, args.profile)?;
    let plan = circuit.plan();
    let params = super::load_params(&super::params_cache(&args.params), plan.k)?;
    if let Some(path) = &args.new_weights_secret {
        super::write_new_weights_secret(path)?;
    }
    let secret_file = args.new_weights_secret.as_deref();
    let secret_file = secret_file.or(args.weights_secret.as_deref());
    let secret = super::weights_secret(&args.model, secret_file)?;
    let points =
        zkinfer_circuits::polycommit::commitments(&params, q, plan.weight_store, secret.as_ref())?;
    Ok(Polycommit {
        commitment: zkinfer_circuits::polycommit::to_hex(&points),
        hiding: secret.is_some(),
        k: plan.k,
        profile: plan.profile,
        columns: plan.weight_store.narrow,
        short_groups: plan.weight_store.short,
    })
}

pub fn run(args: &CommitArgs, json: bool) -> anyhow::Result<()> {
    let model = load_quantized_model(&args.model)
        .with_context(|| format!("loading model {:?}", args.model))?;
    let q = &model.quantized;
    // The weights' commitment and architecture; without them an input can
    // still be committed to.
    let weights = model_commitment(q).and_then(|c| Ok((c, architecture(q)?)));
    let weights = match (weights, &args.input, &args.architecture_out) {
        (Ok(w), ..) => Ok(w),
        (Err(e), Some(_), None) => Err(e.to_string()),
        (Err(e), ..) => {
            return Err(e).with_context(|| format!("committing the weights of {}", model.source))
        }
    };
    if let (Some(path), Ok((_, arch))) = (&args.architecture_out, &weights) {
        write_atomically(path, arch.to_json().as_bytes())?;
    }
    let parameters = committed_tensors(q).map_or(0, |t| t.iter().map(|t| t.values.len()).sum());
    let mut out = CommitOutput {
        model: model.source.clone(),
        model_digest: q.digest().to_hex(),
        model_commitment: weights.as_ref().ok().map(|w| to_hex(w.0)),
        architecture_digest: weights.as_ref().ok().map(|w| w.1.digest().to_hex()),
        parameters,
        weights_error: weights.as_ref().err().cloned(),
        architecture: args
            .architecture_out
            .as_ref()
            .map(|p| p.display().to_string()),
        polycommit: match args.polycommit {
            true => Some(polycommit(args, q).with_context(|| {
                format!("committing the weights of {} (polycommit)", model.source)
            })?),
            false => None,
        },
        input_commitment: None,
        blinding: None,
        values: None,
        bits: None,
    };
    if let Some(input) = &args.input {
        let x = super::read_input(q, &args.model, input)?;
        let blinding = match (&args.blinding, args.unblinded) {
            (Some(hex), _) => Some(from_hex(hex).with_context(|| {
                format!("--blinding {hex:?} is not a field element (64 hex digits, little-endian)")
            })?),
            (None, true) => None,
            (None, false) => Some(zkinfer_prover::random_blinding()),
        };
        let bits = q.input().bits;
        let commitment = commit(&x.data, bits, blinding)
            .with_context(|| format!("committing {}", input.display()))?;
        out.input_commitment = Some(to_hex(commitment));
        out.blinding = blinding.map(to_hex);
        out.values = Some(x.data.len());
        out.bits = Some(bits);
    }
    if json {
        return crate::report::json(&out);
    }
    match (&out.model_commitment, &out.architecture_digest) {
        (Some(weights), Some(arch)) => {
            outln!(
                "weights      {weights} ({} weights and biases)",
                out.parameters
            );
            outln!("architecture {arch} (one verifying key for every model of it)");
        }
        _ => outln!(
            "weights      not committable: {}",
            out.weights_error.as_deref().unwrap_or("")
        ),
    }
    if let Some(p) = &out.polycommit {
        outln!(
            "polycommit   {} (k = {}, {} profile; store: {} byte columns, {} 16-bit groups; {})",
            p.commitment,
            p.k,
            p.profile,
            p.columns,
            p.short_groups,
            match p.hiding {
                true => "hiding: blinded by the weights secret",
                false => "unblinded: hiding only as far as the weights are unpredictable",
            }
        );
    }
    if let Some(path) = &out.architecture {
        outln!("wrote        {path} (the architecture: what a verifier needs, no weights)");
    }
    let (Some(input), Some(commitment)) = (&args.input, &out.input_commitment) else {
        return Ok(());
    };
    outln!(
        "input        {} ({} values of {} bits)",
        input.display(),
        out.values.unwrap_or(0),
        out.bits.unwrap_or(0)
    );
    outln!("commitment   {commitment}");
    match (&out.blinding, args.blinding.is_some()) {
        (Some(r), false) => outln!(
            "blinding     {r} (new and random: keep it secret, and keep it — the commitment opens only with it)"
        ),
        (Some(r), true) => outln!("blinding     {r}"),
        (None, _) => outln!(
            "unblinded: anyone can test a guessed input against this commitment"
        ),
    }
    Ok(())
}
