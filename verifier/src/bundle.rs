//! [`ProofBundle`]: the proof file (`"format": "zkinfer/proof@2"`), JSON.
//!
//! The verifier reads only what it checks: digests, `k`, the public
//! integers with their scales, and the proof bytes (base64, as CosmWasm's
//! `Binary`: a third shorter than hex). The prover adds human conveniences
//! (decoded floats, the class), which readers ignore. Files of the first
//! format, `zkinfer/proof@1`, with the proof in hex, are still read
//! ([`ProofBundle::from_json`] upgrades them); a contract message carries
//! the current format only.

use crate::error::{Result, VerifyError};
use serde::{Deserialize, Serialize};
use zkinfer_circuits::{Profile, Visibility};

/// The `format` field of proof bundles.
pub const PROOF_FORMAT: &str = "zkinfer/proof@2";

/// The first format: the same fields, the proof in hex.
const PROOF_FORMAT_HEX: &str = "zkinfer/proof@1";

/// A public tensor: integers and their power-of-two scale (`q / 2^scale`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicTensor {
    /// The dimensions.
    pub shape: Vec<usize>,
    /// The scale.
    pub scale: i32,
    /// The integers, row-major.
    pub values: Vec<i64>,
}

/// A proof of one inference and its public inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofBundle {
    /// Always [`PROOF_FORMAT`].
    pub format: String,
    /// The zkinfer version that proved it.
    pub zkinfer_version: String,
    /// The model's name (a label).
    pub model: String,
    /// The model digest (SHA-256, hex).
    pub model_digest: String,
    /// The verifying key's digest (SHA-256 of its pinned form, hex).
    pub vk_digest: String,
    /// log2 of the circuit's rows.
    pub k: u32,
    /// The circuit's layout profile; bundles of compact circuits leave it
    /// out (they did before profiles existed).
    #[serde(default, skip_serializing_if = "Profile::is_compact")]
    pub profile: Profile,
    /// The Poseidon commitment of the model's weights (64 hex digits),
    /// when they are committed: the key is the architecture's, and this
    /// names the weights the proof used.
    #[cfg(feature = "committed-weights")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_commitment: Option<String>,
    /// Whether the input is public.
    pub input_visibility: Visibility,
    /// The input, when it is public.
    pub input: Option<PublicTensor>,
    /// The input's Poseidon commitment (64 hex digits, the field element's
    /// little-endian bytes), when it is committed.
    #[cfg(feature = "commitments")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_commitment: Option<String>,
    /// With polycommit weights: the proof (base64) that the proof's weight
    /// columns commit to `model_commitment` ([`zkinfer_circuits::polycommit`]).
    #[cfg(feature = "committed-weights")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_opening: Option<String>,
    /// The output: its values when it is public; with a committed output
    /// (a segment of a model proven in parts), its shape and scale only.
    pub output: PublicTensor,
    /// The output's Poseidon commitment (64 hex digits), when it is
    /// committed: the next segment's input commitment.
    #[cfg(feature = "commitments")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_commitment: Option<String>,
    /// The proof bytes, standard base64 with padding ([`crate::base64`]).
    pub proof: String,
}

impl ProofBundle {
    /// Parses a bundle, checking its format first. A `zkinfer/proof@1`
    /// bundle (hex proof) is read as the same bundle in the current format.
    pub fn from_json(text: &str) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| VerifyError::Malformed(format!("not JSON ({e})")))?;
        let format = value.get("format").and_then(|f| f.as_str()).unwrap_or("");
        if format != PROOF_FORMAT && format != PROOF_FORMAT_HEX {
            return Err(VerifyError::Malformed(format!(
                "format {format:?}; this zkinfer reads {PROOF_FORMAT:?} \
                 (and {PROOF_FORMAT_HEX:?})"
            )));
        }
        let hex = format == PROOF_FORMAT_HEX;
        let mut bundle: ProofBundle =
            serde_json::from_value(value).map_err(|e| VerifyError::Malformed(e.to_string()))?;
        if hex {
            let bytes = decode_hex(&bundle.proof)
                .ok_or_else(|| VerifyError::Malformed("the proof is not hex".into()))?;
            bundle.format = PROOF_FORMAT.to_string();
            bundle.proof = crate::base64::encode(&bytes);
        }
        Ok(bundle)
    }

    /// The proof bytes.
    pub fn proof_bytes(&self) -> Result<Vec<u8>> {
        crate::base64::decode(&self.proof)
            .ok_or_else(|| VerifyError::Malformed("the proof is not canonical base64".into()))
    }
}

/// Parses hex (either case); `None` on odd length or another character.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}
