//! The command line, as clap derives it.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use zkinfer_circuits::WeightVisibility;
use zkinfer_prover::ProfileChoice;

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
    /// Print the Poseidon commitment of an input (what a committed-input proof makes public).
    Commit(CommitArgs),
    /// Verify a proof bundle against a model (exit 0 verified, 1 rejected, 2 error).
    Verify(VerifyArgs),
    /// Check an inference's circuit with halo2's MockProver and name any failing gate or lookup.
    Mock(MockArgs),
    /// Import an ONNX model, calibrate it, and write a circuit package with a cost report.
    Export(ExportArgs),
    /// Print a circuit package's report again, or (--onnx) what each node of an ONNX file imports as.
    Inspect(InspectArgs),
    /// Run the contract-style verifier off chain: a model registry that records only proven outputs.
    #[command(subcommand)]
    Contract(ContractCommand),
}

/// `zkinfer contract …`: the contract's messages against a state folder.
#[derive(Debug, Subcommand)]
pub enum ContractCommand {
    /// Create a contract state with its admin.
    Init {
        /// The state folder (created).
        #[arg(long)]
        state: PathBuf,
        /// Who may register and retire models.
        #[arg(long)]
        admin: String,
    },
    /// Register a model (admin only): its verifying key is rebuilt and checked.
    Register {
        /// The state folder.
        #[arg(long)]
        state: PathBuf,
        /// A bundled model's name, a model.json file, or a model directory.
        #[arg(long)]
        model: String,
        /// A label (default: the model's name).
        #[arg(long)]
        name: Option<String>,
        /// Register the private-input circuit.
        #[arg(long)]
        private_input: bool,
        /// The layout profile (compact, wide or auto; default: the
        /// package's, else auto).
        #[arg(long, value_parser = parse_profile)]
        profile: Option<ProfileChoice>,
        /// The weights: fixed or polycommit (default: the package's, else
        /// fixed). A polycommit registration carries the architecture only;
        /// its weights are accepted with accept-weights.
        #[arg(long, value_parser = parse_weights)]
        weights_visibility: Option<WeightVisibility>,
        /// With polycommit weights: who may accept and retire weights
        /// besides the admin.
        #[arg(long)]
        owner: Option<String>,
        /// The sender (default: the admin).
        #[arg(long)]
        from: Option<String>,
        #[command(flatten)]
        params: ParamsArgs,
    },
    /// Accept a set of weights of a polycommit model (admin or the model's
    /// owner): proofs whose weights open to its commitment are then
    /// attested. A weight update is one more accept-weights, under the
    /// same registration.
    AcceptWeights {
        /// The state folder.
        #[arg(long)]
        state: PathBuf,
        /// The model id (vk digest).
        #[arg(long)]
        model_id: String,
        /// The commitment (what `zkinfer commit --polycommit` prints).
        #[arg(long, required_unless_present = "model", conflicts_with = "model")]
        commitment: Option<String>,
        /// Or the model (bundled name, model.json or package) whose
        /// weights to commit to, for the registered circuit.
        #[arg(long)]
        model: Option<String>,
        /// With --model: the owner's secret that blinds the commitment
        /// (default: the package's weights_secret.txt, else none).
        #[arg(long, requires = "model")]
        weights_secret: Option<PathBuf>,
        /// A label (a version, a date).
        #[arg(long)]
        label: String,
        /// The sender (default: the admin).
        #[arg(long)]
        from: Option<String>,
        #[command(flatten)]
        params: ParamsArgs,
    },
    /// Retire a set of weights of a polycommit model (admin or the model's
    /// owner): its proofs are refused from then on, its attestations stay
    /// readable, marked retired.
    RetireWeights {
        /// The state folder.
        #[arg(long)]
        state: PathBuf,
        /// The model id (vk digest).
        #[arg(long)]
        model_id: String,
        /// The weights' id (from accept-weights or `query weights`).
        #[arg(long)]
        weights_id: String,
        /// Why, for whoever reads its attestations (at most 256 bytes).
        #[arg(long)]
        reason: String,
        /// The sender (default: the admin).
        #[arg(long)]
        from: Option<String>,
    },
    /// Submit a proof: it is verified, then recorded as an attestation.
    Submit {
        /// The state folder.
        #[arg(long)]
        state: PathBuf,
        /// The proof bundle.
        #[arg(long)]
        proof: PathBuf,
        /// The sender.
        #[arg(long)]
        from: String,
        /// The model id (default: the bundle's vk digest).
        #[arg(long)]
        model_id: Option<String>,
        #[command(flatten)]
        params: ParamsArgs,
    },
    /// Retire a model whose key was found unsound (admin only): it takes no
    /// new proofs, and its attestations stay readable, marked retired.
    Retire {
        /// The state folder.
        #[arg(long)]
        state: PathBuf,
        /// The model id (vk digest).
        #[arg(long)]
        model_id: String,
        /// Why, for whoever reads its attestations (at most 256 bytes).
        #[arg(long)]
        reason: String,
        /// The sender (default: the admin).
        #[arg(long)]
        from: Option<String>,
    },
    /// Read the contract's state.
    Query {
        /// The state folder.
        #[arg(long)]
        state: PathBuf,
        #[command(subcommand)]
        query: ContractQuery,
    },
}

/// `zkinfer contract query …`.
#[derive(Debug, Subcommand)]
pub enum ContractQuery {
    /// The admin.
    Config,
    /// Every registered model id, and whether it is retired.
    Models,
    /// One registered model.
    Model {
        /// The model id (vk digest).
        #[arg(long)]
        model_id: String,
    },
    /// One attestation.
    Attestation {
        /// Its sequence number.
        #[arg(long)]
        seq: u64,
    },
    /// A model's attestations, oldest first.
    Attestations {
        /// The model id.
        #[arg(long)]
        model_id: String,
        /// Start after this sequence number.
        #[arg(long)]
        start_after: Option<u64>,
        /// At most this many (default 10, at most 100).
        #[arg(long)]
        limit: Option<u32>,
    },
    /// A polycommit model's accepted weights, retired ones included.
    Weights {
        /// The model id.
        #[arg(long)]
        model_id: String,
        /// Start after this weights id.
        #[arg(long)]
        start_after: Option<String>,
        /// At most this many (default 10, at most 100).
        #[arg(long)]
        limit: Option<u32>,
    },
    /// The verified output for an input: give its digest, or the model and input file.
    Output {
        /// The model id.
        #[arg(long)]
        model_id: String,
        /// With polycommit weights: which weights' output.
        #[arg(long)]
        weights_id: Option<String>,
        /// The input digest (hex).
        #[arg(long, conflicts_with = "input", required_unless_present = "input")]
        input_digest: Option<String>,
        /// An input file, quantized with --model to compute the digest.
        #[arg(long, requires = "model")]
        input: Option<PathBuf>,
        /// The model the input file is for.
        #[arg(long)]
        model: Option<String>,
    },
}

/// `zkinfer export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The ONNX model (batch dimension 1 or symbolic, opset 7–18; `inspect --onnx` lists what imports).
    #[arg(long)]
    pub onnx: PathBuf,
    /// Calibration inputs: {"inputs": [[...], ...]} or EZKL's {"input_data": [[...]]}.
    #[arg(long)]
    pub calibration: PathBuf,
    /// resources: the smallest k keeping 98 % argmax agreement; accuracy: the
    /// smallest error within one k of the smallest.
    #[arg(long, value_enum, default_value_t = Target::Resources)]
    pub target: Target,
    /// Whether proofs carry the input.
    #[arg(long, value_enum, default_value_t = InputVisibility::Public)]
    pub input_visibility: InputVisibility,
    /// The weights: fixed (in the verifying key), committed (private; their
    /// Poseidon commitment is a public input, and verifier_key.json holds
    /// the architecture, not the weights) or polycommit (private; the
    /// proof's weight columns open to their registered Pedersen
    /// commitment: no hashing in the circuit).
    #[arg(long, value_parser = parse_weights, default_value = "fixed")]
    pub weights_visibility: WeightVisibility,
    /// The layout profile: compact (12 multiply-accumulates and one element
    /// operation per row; the smallest proofs), wide (96 and two; for
    /// LeNet-class models), or auto (the cost model's fastest).
    #[arg(long, value_parser = parse_profile, default_value = "auto")]
    pub profile: ProfileChoice,
    /// The package folder to write (new, empty, or a package to replace).
    #[arg(long)]
    pub out: PathBuf,
    /// Write into a non-empty --out folder that holds no zkinfer package.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub params: ParamsArgs,
}

/// `zkinfer inspect`.
#[derive(Debug, Args)]
#[command(
    after_help = "With --onnx: one row per node, saying what it imports as \
(folded: a constant computed at import; layer: a float layer; folded into: merged exactly \
into a neighbouring layer; dropped; unsupported, with why), its input and output shapes \
(batch 1) and opset. Nothing is calibrated. Listing unsupported nodes is a successful \
inspect (exit 0, \"imports\": false in --json); only a file that cannot be read exits 2."
)]
pub struct InspectArgs {
    /// A package folder written by `zkinfer export`.
    #[arg(required_unless_present = "onnx", conflicts_with = "onnx")]
    pub package: Option<PathBuf>,
    /// An ONNX model to inspect before exporting it.
    #[arg(long)]
    pub onnx: Option<PathBuf>,
}

/// Calibration targets.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Target {
    /// The smallest circuit that keeps the argmax.
    Resources,
    /// The most accurate circuit of about the smallest size.
    Accuracy,
}

/// Input visibility.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum InputVisibility {
    /// A public input of the proof.
    Public,
    /// A private witness.
    Private,
    /// A private witness whose Poseidon commitment is public.
    Committed,
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
    /// Repeat it to prove several inputs with one key generation.
    #[arg(long, required = true)]
    pub input: Vec<PathBuf>,
    /// Where to write the proof bundle (zkinfer/proof@2 JSON); with several
    /// inputs, a folder that gets `<input name>.proof.json` for each.
    #[arg(long)]
    pub out: PathBuf,
    /// Keep the input private: the proof shows some input in the model's
    /// bound gives the public output.
    #[arg(long)]
    pub private_input: bool,
    /// Commit to the input instead: the proof makes public a Poseidon
    /// commitment of the input (blinded; see `zkinfer commit`), not its
    /// values.
    #[arg(long, conflicts_with = "private_input")]
    pub committed_input: bool,
    /// With --committed-input: the blinding element (64 hex digits, as
    /// `zkinfer commit` prints it); default: a new random one, printed.
    #[arg(long, requires = "committed_input")]
    pub blinding: Option<String>,
    /// Commit to the output instead of publishing it (EZKL's "hashed"
    /// output): the proof makes public a Poseidon commitment of the output,
    /// blinded by a new random element that `prove` prints beside the
    /// output for its owner to open later.
    #[arg(long, conflicts_with_all = ["per_layer", "cut_at"])]
    pub committed_output: bool,
    /// The weights: fixed (in the verifying key, the model's identity),
    /// committed (private; their Poseidon commitment is a public input) or
    /// polycommit (private; the proof's weight columns open to their
    /// Pedersen commitment). Committed keys serve every model of the
    /// architecture. Default: the package's, else fixed.
    #[arg(long, value_parser = parse_weights)]
    pub weights_visibility: Option<WeightVisibility>,
    /// With polycommit weights: the owner's secret (a file of 64 hex
    /// digits) that makes their commitment hiding. Default: the package's
    /// weights_secret.txt, else none (an unblinded commitment).
    #[arg(long)]
    pub weights_secret: Option<PathBuf>,
    /// The layout profile: compact (12 multiply-accumulates and one element
    /// operation per row; the smallest proofs), wide (96 and two; for
    /// LeNet-class models), or auto (the cost model's fastest). Default: the
    /// package's, else auto.
    #[arg(long, value_parser = parse_profile)]
    pub profile: Option<ProfileChoice>,
    /// Prove the model in parts, one proof per block (each transformer or
    /// residual block's halves; in a model without residual streams, each
    /// layer with weights), linked by blinded Poseidon commitments of the
    /// activations passed between them: a proof chain
    /// (zkinfer/proof-chain@1) that `zkinfer verify` checks whole. The
    /// activations between parts stay private.
    #[arg(long)]
    pub per_layer: bool,
    /// Prove the model in parts cut after these tensors (`zkinfer inspect`
    /// lists the cuts a model has: 0 is the input, i + 1 node i's output),
    /// e.g. `--cut-at 14,33`.
    #[arg(long, value_delimiter = ',', conflicts_with = "per_layer")]
    pub cut_at: Vec<usize>,
    /// With --per-layer or --cut-at: keep only the cuts needed for every
    /// segment to fit 2^K rows — as few proofs as that allows, none larger
    /// (peak memory and proving time follow k).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_k: Option<u32>,
    #[command(flatten)]
    pub params: ParamsArgs,
}

/// `zkinfer commit`.
#[derive(Debug, Args)]
pub struct CommitArgs {
    /// A bundled model's name, a model.json file, or a model directory.
    #[arg(long)]
    pub model: String,
    /// JSON input to commit to: {"input": [...]} or EZKL's
    /// {"input_data": [[...]]}. Without it, only the model's weights are
    /// committed to.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// The blinding element to hash in (64 hex digits); default: a new
    /// random one, printed.
    #[arg(long, conflicts_with = "unblinded", requires = "input")]
    pub blinding: Option<String>,
    /// Commit without a blinding element (not hiding: a guessed input can
    /// be checked against the commitment).
    #[arg(long, requires = "input")]
    pub unblinded: bool,
    /// Write the model's architecture here: the model with every weight
    /// replaced by its width's extreme, what a verifier of committed-weights
    /// proofs needs instead of the weights.
    #[arg(long)]
    pub architecture_out: Option<PathBuf>,
    /// Also print the weights' polycommit commitment: one curve point per
    /// weight column of the circuit `zkinfer prove --weights-visibility
    /// polycommit` proves (its k and columns: the package's input
    /// visibility, and `--profile`).
    #[arg(long)]
    pub polycommit: bool,
    /// With --polycommit: the owner's secret that blinds the commitment (a
    /// file of 64 hex digits). Default: the package's weights_secret.txt,
    /// else none (unblinded).
    #[arg(long, requires = "polycommit", conflicts_with = "new_weights_secret")]
    pub weights_secret: Option<PathBuf>,
    /// With --polycommit: write a new random secret to this file (which
    /// must not exist) and blind the commitment with it; prove with
    /// `--weights-secret FILE`.
    #[arg(long, requires = "polycommit")]
    pub new_weights_secret: Option<PathBuf>,
    /// With --polycommit: the layout profile (default: the package's, else
    /// auto).
    #[arg(long, value_parser = parse_profile, requires = "polycommit")]
    pub profile: Option<ProfileChoice>,
    #[command(flatten)]
    pub params: ParamsArgs,
}

/// `zkinfer verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A bundled model's name, a model.json file, or a model directory.
    #[arg(long)]
    pub model: String,
    /// The proof bundle; repeat the flag to verify several proofs of the
    /// model in one batch (about the time of one). A proof chain
    /// (`prove --per-layer`) is verified alone, each segment against its
    /// key and each link against the next segment's input.
    #[arg(long, required = true)]
    pub proof: Vec<PathBuf>,
    /// Accept proofs of the private-input circuit, which prove that some
    /// input in the model's bound gives the output. The verifier decides
    /// this, never the bundle: a package folder's own visibility is used
    /// when the flag is absent, else the input must be public.
    #[arg(long)]
    pub private_input: bool,
    /// Accept proofs of the committed-input circuit, whose public input is
    /// a Poseidon commitment of the input (see `zkinfer commit`).
    #[arg(long, conflicts_with = "private_input")]
    pub committed_input: bool,
    /// With --committed-input: reject (exit 1) a proof about any input but
    /// the one this commitment (64 hex digits) opens to.
    #[arg(long, requires = "committed_input")]
    pub expect_input_commitment: Option<String>,
    /// Accept proofs whose output is committed (`prove
    /// --committed-output`): the proof shows the model's output opens the
    /// commitment it carries, and no output value is shown.
    #[arg(long)]
    pub committed_output: bool,
    /// The weights: fixed (in the verifying key, the model's identity),
    /// committed (private; their Poseidon commitment is a public input) or
    /// polycommit (private; the proof's weight columns open to their
    /// Pedersen commitment). Committed keys serve every model of the
    /// architecture. Default: the package's, else fixed.
    #[arg(long, value_parser = parse_weights)]
    pub weights_visibility: Option<WeightVisibility>,
    /// Reject (exit 1) a proof made with any weights but those this model
    /// commitment (64 hex digits, as `zkinfer commit` prints it) opens to.
    #[arg(long)]
    pub expect_model_commitment: Option<String>,
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
    /// Lay out the input as committed (a fresh random blinding element).
    #[arg(long, conflicts_with = "private_input")]
    pub committed_input: bool,
    /// The weights: fixed (in the verifying key, the model's identity),
    /// committed (private; their Poseidon commitment is a public input) or
    /// polycommit (private; the proof's weight columns open to their
    /// Pedersen commitment). Committed keys serve every model of the
    /// architecture. Default: the package's, else fixed.
    #[arg(long, value_parser = parse_weights)]
    pub weights_visibility: Option<WeightVisibility>,
    /// The layout profile: compact (12 multiply-accumulates and one element
    /// operation per row; the smallest proofs), wide (96 and two; for
    /// LeNet-class models), or auto (the cost model's fastest). Default: the
    /// package's, else auto.
    #[arg(long, value_parser = parse_profile)]
    pub profile: Option<ProfileChoice>,
}

/// `zkinfer infer`.
#[derive(Debug, Args)]
pub struct InferArgs {
    /// A bundled model's name, a model.json file, or a model directory.
    #[arg(long)]
    pub model: String,
    /// JSON input: {"input": [...]}, {"inputs": [[...], ...]} (several samples: one result each), {"tokens": [...]} or EZKL's {"input_data": [[...]]}.
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
    /// Replace an existing --out file that is not a zkinfer model.
    #[arg(long)]
    pub force: bool,
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

/// `--profile`: `auto` or a profile's name.
fn parse_profile(s: &str) -> Result<ProfileChoice, String> {
    s.parse()
}

/// `--weights-visibility`: `fixed`, `committed` or `polycommit`.
fn parse_weights(s: &str) -> Result<WeightVisibility, String> {
    match s {
        "fixed" => Ok(WeightVisibility::Fixed),
        "committed" => Ok(WeightVisibility::Committed),
        "polycommit" => Ok(WeightVisibility::Polycommit),
        other => Err(format!(
            "{other:?} is not a weights visibility: fixed, committed or polycommit"
        )),
    }
}
