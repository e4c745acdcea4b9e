//! Circuit packages for ML engineers: calibration with a target, and the
//! package folder `zkinfer export` writes and `zkinfer inspect` reads.
//!
//! A package (`"format": "zkinfer/package@1"`) holds the quantized model
//! (`model.json`), the float model it came from (`arch.json`,
//! `weights.safetensors`), what the verifier and the contract need
//! (`verifier_key.json`: the model, its visibility, k and vk digest — the
//! `register_model` key), and `package.json`: the circuit plan, the
//! calibration report, the trade-off that was searched and cost estimates.
//! `zkinfer prove`, `verify` and `contract register` take the folder as
//! `--model`.

use crate::choose::{self, ProfileChoice, ProfileCost};
use crate::error::{ProverError, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use zkinfer_circuits::{CircuitPlan, Visibility};
use zkinfer_models::{
    compare_outputs, quantize, FloatModel, OutputComparison, QuantizeOptions, TableReport,
};
use zkinfer_quant::QuantizedModel;

/// The `format` field of `package.json`.
pub const PACKAGE_FORMAT: &str = "zkinfer/package@1";
/// `package.json`.
pub const PACKAGE_FILE: &str = "package.json";
/// `verifier_key.json`.
pub const KEY_FILE: &str = "verifier_key.json";
/// `weights_secret.txt`: with polycommit weights, the owner's secret that
/// blinds their registered commitment (64 hex digits). Private, like the
/// weights beside it.
pub const WEIGHTS_SECRET_FILE: &str = "weights_secret.txt";

/// What calibration optimises, in the spirit of EZKL's calibrate-settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// The smallest k whose argmax agreement with the float model is at
    /// least [`MIN_AGREEMENT`].
    Resources,
    /// The smallest error among the settings within one k of the smallest.
    Accuracy,
}

/// The agreement `resources` must keep.
pub const MIN_AGREEMENT: f64 = 0.98;

/// The bit budgets calibration tries: (weight, activation, table-domain
/// bits). Weights live in fixed columns, so wider weights cost no rows;
/// wider activations cost nothing either until a range check passes 16
/// bits. A wider table domain doubles the table's rows: those budgets are
/// tried only for models with sigmoid or tanh. The 16- and 20-bit weights
/// are for weight matrices whose columns differ by orders of magnitude (a
/// StandardScaler folded into the layer after it): one scale per tensor
/// then needs the extra bits to keep the small columns' precision; a
/// budget whose rescale would shift by more than the circuit's 16 bits is
/// refused and skipped.
pub const BUDGETS: &[(u32, u32, u32)] = &[
    (8, 8, 8),
    (8, 10, 8),
    (8, 12, 8),
    (10, 12, 8),
    (12, 12, 8),
    (12, 14, 8),
    (12, 16, 8),
    (16, 16, 8),
    (20, 16, 8),
    (8, 10, 9),
    (10, 12, 9),
];

/// One setting calibration tried.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Signed bits per weight.
    pub weight_bits: u32,
    /// Declared signed bits of each activation.
    pub activation_bits: u32,
    /// Signed bits of sigmoid and tanh table domains.
    pub table_bits: u32,
    /// The circuit's k, when the setting is usable.
    pub k: Option<u32>,
    /// Argmax agreement with the float model on the calibration set.
    pub agreement: Option<f64>,
    /// Mean absolute output error.
    pub mean_abs_error: Option<f64>,
    /// Why the setting is not usable.
    pub note: Option<String>,
}

/// The result of calibration.
pub struct Calibrated {
    /// The chosen quantized model.
    pub model: QuantizedModel,
    /// Its circuit plan.
    pub plan: CircuitPlan,
    /// How it compares to the float model on the calibration set.
    pub comparison: OutputComparison,
    /// Every setting tried, the chosen one marked by `chosen`.
    pub candidates: Vec<Candidate>,
    /// Index of the chosen candidate.
    pub chosen: usize,
}

/// Quantizes with each budget in [`BUDGETS`] and picks one for `target`.
pub fn calibrate(
    float: &FloatModel,
    samples: &[Vec<f32>],
    target: Target,
    visibility: Visibility,
    profile: ProfileChoice,
) -> Result<Calibrated> {
    let mut tried = vec![];
    let mut candidates = vec![];
    let has_tables = float
        .arch()
        .layers
        .iter()
        .any(|l| matches!(l.op, zkinfer_models::FloatOp::Activation { .. }));
    let default_table_bits = QuantizeOptions::default().table_bits;
    for &(weight_bits, activation_bits, table_bits) in BUDGETS {
        if table_bits != default_table_bits && !has_tables {
            continue;
        }
        let options = QuantizeOptions {
            weight_bits,
            activation_bits,
            table_bits,
            ..QuantizeOptions::default()
        };
        let mut candidate = Candidate {
            weight_bits,
            activation_bits,
            table_bits,
            k: None,
            agreement: None,
            mean_abs_error: None,
            note: None,
        };
        let outcome = quantize(float, samples, &options)
            .map_err(|e| e.to_string())
            .and_then(|m| {
                choose::plan(&m, visibility, profile)
                    .map(|p| (m, p))
                    .map_err(|e| e.to_string())
            })
            .and_then(|(m, p)| {
                compare_outputs(float, &m, samples)
                    .map(|c| (m, p, c))
                    .map_err(|e| e.to_string())
            });
        match outcome {
            Ok((model, plan, comparison)) => {
                candidate.k = Some(plan.k);
                candidate.agreement = Some(comparison.agreement);
                candidate.mean_abs_error = Some(comparison.mean_abs_error);
                tried.push((candidates.len(), model, plan, comparison));
            }
            Err(e) => candidate.note = Some(e),
        }
        candidates.push(candidate);
    }
    if tried.is_empty() {
        return Err(ProverError::Export(no_budget_fits(&candidates)));
    }
    let best = match target {
        Target::Resources => tried
            .iter()
            .filter(|t| t.3.agreement >= MIN_AGREEMENT)
            // The smallest k; among equals, the best agreement, then the
            // smallest error.
            .min_by(|a, b| {
                a.2.k
                    .cmp(&b.2.k)
                    .then(b.3.agreement.total_cmp(&a.3.agreement))
                    .then(a.3.mean_abs_error.total_cmp(&b.3.mean_abs_error))
            })
            .or_else(|| {
                tried
                    .iter()
                    .max_by(|a, b| a.3.agreement.total_cmp(&b.3.agreement))
            }),
        Target::Accuracy => {
            let k_min = tried.iter().map(|t| t.2.k).min().expect("non-empty");
            tried
                .iter()
                .filter(|t| t.2.k <= k_min + 1)
                .min_by(|a, b| a.3.mean_abs_error.total_cmp(&b.3.mean_abs_error))
        }
    }
    .expect("non-empty");
    let (chosen, model, plan, comparison) = best.clone();
    Ok(Calibrated {
        model,
        plan,
        comparison,
        candidates,
        chosen,
    })
}

/// Why no budget gives a provable model, in one readable line: the reasons
/// for the smallest and the largest budget tried (each reason once), not
/// every budget's.
fn no_budget_fits(candidates: &[Candidate]) -> String {
    let budget =
        |c: &Candidate| format!("{}/{}/{}", c.weight_bits, c.activation_bits, c.table_bits);
    let reason = |c: &Candidate| c.note.clone().unwrap_or_else(|| "unusable".into());
    let (Some(first), Some(last)) = (candidates.first(), candidates.last()) else {
        return "no bit budget was tried".into();
    };
    let mut text = format!(
        "no bit budget gives a provable model ({} tried, weight/activation/table bits {} to {})",
        candidates.len(),
        budget(first),
        budget(last)
    );
    if reason(first) == reason(last) {
        text.push_str(&format!(": {}", reason(first)));
    } else {
        text.push_str(&format!(
            "; at {}: {}; at {}: {}",
            budget(first),
            reason(first),
            budget(last),
            reason(last)
        ));
    }
    text.push_str("; check the model against the calibration data, or simplify the model");
    text
}

/// Cost estimates: the cost model `make bench` fits on a 2-core machine,
/// per row of the circuit (`2^k`) and per column: each advice column is
/// committed and transformed; each lookup adds three such polynomials
/// (its permuted input and table, and its product); halo2's own
/// (permutation products, quotient pieces) add about 30; a fixed column
/// costs the prover about a tenth of an advice column (it is transformed
/// at keygen, only read and opened when proving) but keygen a whole one,
/// and the proving key holds its extended form (half an advice column's
/// memory). Fitted on the compact profile (25 advice, 7 lookups, 34 fixed
/// columns: the digits at k = 9, the scale models at k = 11, 13, 16) and
/// the wide one (44 advice, 14 lookups, 143 fixed: LeNet-5 at k = 13):
/// proving within 10 %, keygen and memory within 20 %, verification (an
/// MSM, `2^k / k`) within 15 %.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimates {
    /// Seconds for `create_proof`, keys ready.
    pub prove_seconds: f64,
    /// Seconds to generate the proving and verifying keys (absent from
    /// packages written before it was estimated).
    #[serde(default)]
    pub keygen_seconds: f64,
    /// Peak memory of `zkinfer prove`, MB.
    pub peak_memory_mb: f64,
    /// Milliseconds to verify.
    pub verify_ms: f64,
}

impl Estimates {
    /// The estimates for a plan.
    pub fn of(plan: &CircuitPlan) -> Self {
        let rows = 2f64.powi(plan.k as i32);
        let committed = plan.advice_columns as f64 + 3.0 * plan.lookups as f64 + 30.0;
        let fixed = plan.fixed_columns as f64;
        Estimates {
            prove_seconds: 0.09 + 3.7e-6 * (committed + fixed / 10.0) * rows,
            keygen_seconds: 0.05 + 1.3e-6 * (committed + fixed) * rows,
            peak_memory_mb: 8.0 + 4.2e-4 * (committed + fixed / 2.0) * rows,
            verify_ms: 3.0 + 0.063 * rows / plan.k as f64,
        }
    }

    /// Seconds to derive the IPA parameters for `k` (`Params::new`: one
    /// hash to the curve per generator, 2^k of them): 0.2 s at k = 9, about
    /// a minute at k = 17, measured.
    pub fn params_seconds(k: u32) -> f64 {
        0.45e-3 * 2f64.powi(k as i32)
    }

    /// A duration for people: `about 19 s`, `about 0.7 s`.
    pub fn about(seconds: f64) -> String {
        if seconds >= 10.0 {
            format!("about {seconds:.0} s")
        } else {
            format!("about {seconds:.1} s")
        }
    }
}

/// One input of a graph with several: its name and shape (no batch
/// dimension).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphInput {
    /// The graph's name for it.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
}

/// `package.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Package {
    /// Always [`PACKAGE_FORMAT`].
    pub format: String,
    /// The model's name.
    pub name: String,
    /// The file it was exported from.
    pub source: String,
    /// Its ONNX opset, when it came from ONNX.
    pub opset: Option<i64>,
    /// Whether a final Softmax was dropped (the circuit proves logits).
    pub dropped_softmax: bool,
    /// The calibration target.
    pub target: Target,
    /// Who sees the input.
    pub input_visibility: Visibility,
    /// Whether the weights are fixed or committed (then the model digest
    /// and the key are the architecture's).
    #[serde(
        default,
        skip_serializing_if = "zkinfer_circuits::WeightVisibility::is_fixed"
    )]
    pub weight_visibility: zkinfer_circuits::WeightVisibility,
    /// The model digest.
    pub model_digest: String,
    /// The verifying key digest (the model id in the contract).
    pub vk_digest: String,
    /// The circuit's k.
    pub k: u32,
    /// Bytes of every proof.
    pub proof_bytes: usize,
    /// Bit budget chosen: weights.
    pub weight_bits: u32,
    /// Bit budget chosen: activations.
    pub activation_bits: u32,
    /// Bit budget chosen: table domains.
    pub table_bits: u32,
    /// Float against quantized on the calibration set.
    pub calibration: OutputComparison,
    /// Each lookup table's domain and its largest error against its
    /// function (packages from before tables were reported have none).
    #[serde(default)]
    pub tables: Vec<TableReport>,
    /// The graph's inputs, when it has several: the model reads them as
    /// one vector, concatenated in this order, and EZKL's `input_data`
    /// holds one array for each (empty for a graph with one input).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<GraphInput>,
    /// Every budget tried.
    pub candidates: Vec<Candidate>,
    /// The circuit plan (its `profile` is the layout chosen).
    pub plan: CircuitPlan,
    /// What the circuit would cost in each layout profile (packages from
    /// before profiles existed have none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<ProfileCost>,
    /// Cost estimates.
    pub estimates: Estimates,
}

impl Package {
    /// The values each graph input takes, in order: one part, the whole
    /// input, for a graph with one.
    pub fn input_parts(&self) -> Option<Vec<usize>> {
        (!self.inputs.is_empty()).then(|| {
            self.inputs
                .iter()
                .map(|i| i.shape.iter().product())
                .collect()
        })
    }

    /// Reads `DIR/package.json`, checking its format.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(PACKAGE_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| ProverError::Io {
            path: path.clone(),
            source,
        })?;
        Self::from_json(&text).map_err(|reason| ProverError::PackageFile {
            path: path.clone(),
            reason,
        })
    }

    /// Parses `package.json`'s text: its format, its fields, and numbers a
    /// reader can add up (see [`Package::check`]). The error names the field.
    pub fn from_json(text: &str) -> std::result::Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("malformed JSON ({e})"))?;
        let format = value.get("format").and_then(|f| f.as_str()).unwrap_or("");
        if format != PACKAGE_FORMAT {
            return Err(format!(
                "format {format:?}; this zkinfer reads {PACKAGE_FORMAT:?}"
            ));
        }
        let package: Package = serde_json::from_value(value).map_err(|e| e.to_string())?;
        package.check()?;
        Ok(package)
    }

    /// Checks the numbers `zkinfer inspect` computes with: `k` and the
    /// plan's `k` agree and are at most the largest k zkinfer plans for;
    /// every row count fits in `2^k`; the MACs add up without overflow; bit
    /// budgets are widths zkinfer uses. One line naming the field.
    pub fn check(&self) -> std::result::Result<(), String> {
        let max_k = zkinfer_circuits::plan::MAX_K;
        if self.k > max_k || self.plan.k != self.k {
            return Err(format!(
                "k = {} (plan.k = {}): must agree and be at most {max_k}",
                self.k, self.plan.k
            ));
        }
        let rows = 1usize << self.k;
        let plan = &self.plan;
        let counts = [
            ("plan.rows", plan.rows),
            ("plan.usable_rows", plan.usable_rows),
            ("plan.dot_rows", plan.dot_rows),
            ("plan.element_rows", plan.element_rows),
            ("plan.table_rows", plan.table_rows),
        ];
        let layers = plan.layers.iter().enumerate().flat_map(|(i, l)| {
            [
                (format!("plan.layers[{i}].dot_rows"), l.dot_rows),
                (format!("plan.layers[{i}].element_rows"), l.element_rows),
            ]
        });
        for (field, n) in counts
            .into_iter()
            .map(|(f, n)| (f.to_string(), n))
            .chain(layers)
        {
            if n > rows {
                return Err(format!(
                    "{field} = {n} is more than the {rows} rows of k = {}",
                    self.k
                ));
            }
        }
        plan.layers
            .iter()
            .try_fold(0usize, |sum, l| sum.checked_add(l.macs))
            .ok_or("plan.layers[].macs add up to more than 2^64")?;
        let bits = [
            (
                "weight_bits",
                self.weight_bits,
                zkinfer_quant::ops::MAX_BITS,
            ),
            (
                "activation_bits",
                self.activation_bits,
                zkinfer_quant::ops::MAX_BITS,
            ),
            (
                "table_bits",
                self.table_bits,
                zkinfer_quant::TableActivation::MAX_INPUT_BITS,
            ),
        ];
        for (field, value, max) in bits {
            if !(1..=max).contains(&value) {
                return Err(format!("{field} = {value} is not in 1..={max}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(weight_bits: u32, note: &str) -> Candidate {
        Candidate {
            weight_bits,
            activation_bits: 12,
            table_bits: 8,
            k: None,
            agreement: None,
            mean_abs_error: None,
            note: Some(note.into()),
        }
    }

    #[test]
    fn no_budget_message_names_two_budgets_not_every_one() {
        let long = "layer 3 (linear): an activation leaves its bound ".repeat(3);
        let all: Vec<Candidate> = (0..9).map(|i| failed(8 + i, &long)).collect();
        let text = no_budget_fits(&all);
        assert_eq!(text.matches(&long).count(), 1, "{text}");
        assert!(text.contains("9 tried"), "{text}");
        assert!(text.contains("8/12/8 to 16/12/8"), "{text}");
        assert!(text.len() < 400, "{} characters: {text}", text.len());

        let two = [failed(8, "too small"), failed(12, "too big")];
        let text = no_budget_fits(&two);
        assert!(
            text.contains("at 8/12/8: too small; at 12/12/8: too big"),
            "{text}"
        );
    }
}
