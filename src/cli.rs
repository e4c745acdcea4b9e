//! The command line, as clap derives it.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// zkinfer: run small quantized neural networks in candle, bit-exactly, and
/// (with the proving commands) prove what they computed.
#[derive(Debug, Parser)]
#[command(name = "zkinfer", version, about)]
pub struct Cli {
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the bundled models with their shapes, parameter counts and digests.
    Models,
    /// Run quantized inference in candle on one input.
    Infer(InferArgs),
    /// Float and quantized accuracy on the digits' held-out split.
    Eval(EvalArgs),
    /// Quantize a float model (architecture + safetensors) with calibration data.
    Quantize(QuantizeArgs),
    /// Prove one inference: run it in candle and write a proof bundle.
    Prove(ProveArgs),
    /// Verify a proof bundle against a model (exit 0 verified, 1 rejected, 2 error).
    Verify(VerifyArgs),
    /// Check an inference's circuit with halo2's MockProver and name any failing gate or lookup.
    Mock(MockArgs),
}

/// Where IPA parameters are cached.
#[derive(Debug, Args)]
pub struct ParamsArgs {
    /// Folder of cached IPA parameters (default: ~/.cache/zkinfer/params).
    #[arg(long, env = "ZKINFER_PARAMS_DIR")]
    pub params_dir: Option<PathBuf>,
}

/// `zkinfer prove`.
#[derive(Debug, Args)]
pub struct ProveArgs {
    /// A bundled model's name, a model.json file, or a model directory.
    #[arg(long)]
    pub model: String,
    /// JSON input: {"input": [...]} or EZKL's {"input_data": [[...]]}.
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the proof bundle (zkinfer/proof@1 JSON).
    #[arg(long)]
    pub out: PathBuf,
    /// Keep the input private: the proof shows some input in the model's
    /// bound gives the public output.
    #[arg(long)]
    pub private_input: bool,
    #[command(flatten)]
    pub params: ParamsArgs,
}

/// `zkinfer verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A bundled model's name, a model.json file, or a model directory.
    #[arg(long)]
    pub model: String,
    /// The proof bundle.
    #[arg(long)]
    pub proof: PathBuf,
    #[command(flatten)]
    pub params: ParamsArgs,
}

/// `zkinfer mock`.
#[derive(Debug, Args)]
pub struct MockArgs {
    /// A bundled model's name, a model.json file, or a model directory.
    #[arg(long)]
    pub model: String,
    /// JSON input: {"input": [...]} or EZKL's {"input_data": [[...]]}.
    #[arg(long)]
    pub input: PathBuf,
    /// Lay out the input as private.
    #[arg(long)]
    pub private_input: bool,
}

/// `zkinfer infer`.
#[derive(Debug, Args)]
pub struct InferArgs {
    /// A bundled model's name, a model.json file, or a model directory.
    #[arg(long)]
    pub model: String,
    /// JSON input: {"input": [...]} or EZKL's {"input_data": [[...]]}.
    #[arg(long)]
    pub input: PathBuf,
}

/// `zkinfer eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A bundled model's name, a model.json file, or a model directory.
    #[arg(long)]
    pub model: String,
}

/// `zkinfer quantize`.
#[derive(Debug, Args)]
pub struct QuantizeArgs {
    /// The architecture file (zkinfer/arch@1 JSON).
    #[arg(long)]
    pub arch: PathBuf,
    /// The weights, in safetensors, under `<layer>.weight` and `<layer>.bias`.
    #[arg(long)]
    pub weights: PathBuf,
    /// Calibration inputs: {"inputs": [[...], ...]} or EZKL's {"input_data": [[...]]}.
    #[arg(long)]
    pub calibration: PathBuf,
    /// Where to write the quantized model (zkinfer/model@1 JSON).
    #[arg(long)]
    pub out: PathBuf,
    /// Signed bits per weight.
    #[arg(long, default_value_t = 8)]
    pub weight_bits: u32,
    /// Signed bits of every activation's declared bound.
    #[arg(long, default_value_t = 12)]
    pub activation_bits: u32,
    /// Bits of each bound kept free above the calibrated maximum.
    #[arg(long, default_value_t = 1)]
    pub headroom_bits: u32,
}
