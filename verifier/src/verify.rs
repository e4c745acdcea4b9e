//! [`verify`] and [`verify_batch`]: from a bundle to a [`VerifiedClaim`].

use crate::bundle::{ProofBundle, PublicTensor, PROOF_FORMAT};
use crate::error::{Result, VerifyError};
use crate::key::VerifierKey;
use halo2_proofs::plonk::{verify_proof, SingleVerifier};
use halo2_proofs::transcript::{Blake2bRead, Challenge255};
use pasta_curves::{vesta, Fp};
use zkinfer_circuits::field::fe;
#[cfg(feature = "committed-weights")]
use zkinfer_circuits::field::from_hex;
use zkinfer_circuits::Visibility;
use zkinfer_quant::TensorSpec;

/// What a verified proof establishes: this model maps this input (when
/// public) to this output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedClaim {
    /// The model digest.
    pub model_digest: String,
    /// The verifying key digest.
    pub vk_digest: String,
    /// The circuit's k.
    pub k: u32,
    /// The input integers, when public.
    pub input: Option<Vec<i64>>,
    /// The weights' commitment, when committed — a field element (64 hex
    /// digits) for hashed weights, curve points (64 hex digits each) for
    /// polycommit weights: the proof shows the output is that of the
    /// architecture with the weights that open it.
    #[cfg(feature = "committed-weights")]
    pub model_commitment: Option<String>,
    /// The input's commitment (64 hex digits), when committed: the proof
    /// shows the output is the model's on the input that opens it.
    #[cfg(feature = "commitments")]
    pub input_commitment: Option<String>,
    /// The input scale.
    pub input_scale: i32,
    /// The output's commitment (64 hex digits), when committed (a segment
    /// of a model proven in parts; `output` is then empty).
    #[cfg(feature = "commitments")]
    pub output_commitment: Option<String>,
    /// The output integers.
    pub output: Vec<i64>,
    /// The output scale.
    pub output_scale: i32,
    /// The argmax of the output (the first on ties).
    pub class: usize,
}

/// Checks a bundle's metadata and public inputs against the key, and
/// returns the instance column and the claim it would establish.
fn prepare(key: &VerifierKey, bundle: &ProofBundle) -> Result<(Vec<Fp>, Vec<u8>, VerifiedClaim)> {
    if bundle.format != PROOF_FORMAT {
        return Err(VerifyError::Malformed(format!(
            "format {:?}",
            bundle.format
        )));
    }
    if bundle.model_digest != key.model_digest() {
        return Err(VerifyError::WrongModel {
            expected: key.model_digest().to_string(),
            found: bundle.model_digest.clone(),
        });
    }
    let plan = key.circuit().plan();
    if bundle.input_visibility != plan.input_visibility {
        return Err(VerifyError::WrongVisibility {
            expected: plan.input_visibility.name(),
            found: bundle.input_visibility.name(),
        });
    }
    // A committed output changes the circuit: say so before its key.
    #[cfg(feature = "commitments")]
    if bundle.output_commitment.is_some() != (plan.output_visibility == Visibility::Committed) {
        let [bundle_output, key_output] = [
            bundle.output_commitment.is_some(),
            !plan.output_visibility.is_public(),
        ]
        .map(|committed| if committed { "committed" } else { "public" });
        return Err(VerifyError::PublicInputMismatch(format!(
            "the bundle's output is {bundle_output} (output_commitment); this key verifies \
             proofs with a {key_output} output"
        )));
    }
    if bundle.profile != plan.profile {
        return Err(VerifyError::WrongProfile {
            expected: plan.profile.name(),
            found: bundle.profile.name(),
        });
    }
    if bundle.vk_digest != key.vk_digest() || bundle.k != plan.k {
        return Err(VerifyError::WrongKey {
            expected: key.vk_digest().to_string(),
            found: bundle.vk_digest.clone(),
            expected_k: plan.k,
            found_k: bundle.k,
        });
    }
    let model = key.circuit().model();
    let commitment = input_commitment(bundle, plan.input_visibility)?;
    // The weights' commitment comes first (a build without commitments,
    // the contract's, plans no committed weights).
    #[cfg(feature = "committed-weights")]
    let commitment = model_commitment(bundle, plan.weight_visibility)?
        .into_iter()
        .chain(commitment);
    let input = match (&bundle.input, plan.input_visibility) {
        (Some(t), Visibility::Public) => Some(check_tensor("input", t, model.input())?),
        (None, Visibility::Private | Visibility::Committed) => None,
        (None, Visibility::Public) => {
            return Err(VerifyError::PublicInputMismatch(
                "the model's input is public but the bundle has none".into(),
            ))
        }
        (Some(_), Visibility::Private | Visibility::Committed) => {
            return Err(VerifyError::PublicInputMismatch(format!(
                "the model's input is {} but the bundle carries its values",
                plan.input_visibility.name()
            )))
        }
    };
    #[cfg(feature = "commitments")]
    let (output, output_commitment) = committed_output(bundle, plan.output_visibility, model)?;
    #[cfg(not(feature = "commitments"))]
    let output = check_tensor("output", &bundle.output, model.output())?;
    let proof = bundle.proof_bytes()?;
    #[cfg_attr(not(feature = "commitments"), allow(unused_mut))]
    let mut instances: Vec<Fp> = commitment
        .into_iter()
        .chain(input.iter().flatten().chain(&output).map(|&v| fe(v)))
        .collect();
    #[cfg(feature = "commitments")]
    instances.extend(output_commitment);
    let class = argmax(&output);
    let claim = VerifiedClaim {
        model_digest: bundle.model_digest.clone(),
        vk_digest: bundle.vk_digest.clone(),
        k: bundle.k,
        input,
        #[cfg(feature = "committed-weights")]
        model_commitment: bundle.model_commitment.as_deref().map(canonical_commitment),
        #[cfg(feature = "commitments")]
        input_commitment: bundle.input_commitment.as_deref().map(canonical_commitment),
        input_scale: model.input().scale.0,
        #[cfg(feature = "commitments")]
        output_commitment: bundle
            .output_commitment
            .as_deref()
            .map(canonical_commitment),
        output,
        output_scale: model.output().scale.0,
        class,
    };
    Ok((instances, proof, claim))
}

/// A commitment in the one spelling zkinfer writes: a claim names what
/// was proven, not how the bundle spelled it. Field elements and points
/// are read from hex digits only, and their canonical bytes are written in
/// lowercase, so lowercasing is the canonical spelling of any accepted one.
#[cfg(feature = "committed-weights")]
fn canonical_commitment(hex: &str) -> String {
    hex.to_ascii_lowercase()
}

/// The bundle's input commitment, checked against the key's visibility.
#[cfg(feature = "commitments")]
fn input_commitment(bundle: &ProofBundle, visibility: Visibility) -> Result<Option<Fp>> {
    Ok(match (&bundle.input_commitment, visibility) {
        (Some(hex), Visibility::Committed) => Some(from_hex(hex).ok_or_else(|| {
            VerifyError::PublicInputMismatch(format!(
                "input_commitment {hex:?} is not a field element (64 hex digits)"
            ))
        })?),
        (None, Visibility::Committed) => {
            return Err(VerifyError::PublicInputMismatch(
                "the model's input is committed but the bundle has no input_commitment".into(),
            ))
        }
        (Some(_), _) => {
            return Err(VerifyError::PublicInputMismatch(format!(
                "the model's input is {} but the bundle carries an input_commitment",
                visibility.name()
            )))
        }
        (None, _) => None,
    })
}

/// The bundle's output and its commitment, checked against the key's
/// visibility: a public output's values, or a committed output's
/// commitment (and its shape and scale, no values).
#[cfg(feature = "commitments")]
fn committed_output(
    bundle: &ProofBundle,
    visibility: Visibility,
    model: &zkinfer_quant::QuantizedModel,
) -> Result<(Vec<i64>, Option<Fp>)> {
    let mismatch = |what: String| Err(VerifyError::PublicInputMismatch(what));
    let (t, spec) = (&bundle.output, model.output());
    match (&bundle.output_commitment, visibility) {
        (None, Visibility::Committed) => mismatch(
            "the model's output is committed but the bundle has no output_commitment".into(),
        ),
        (Some(_), Visibility::Public | Visibility::Private) => mismatch(
            "the model's output is public but the bundle carries an output_commitment".into(),
        ),
        (None, _) => Ok((check_tensor("output", t, spec)?, None)),
        (Some(hex), Visibility::Committed) => {
            let Some(commitment) = from_hex(hex) else {
                return mismatch(format!(
                    "output_commitment {hex:?} is not a field element (64 hex digits)"
                ));
            };
            // Its values stay private: the shape and scale say what it is.
            if t.shape != spec.shape.0 || t.scale != spec.scale.0 || !t.values.is_empty() {
                return mismatch(format!(
                    "the model's output is committed: the bundle gives its shape {:?} and scale \
                     {} and no values, not shape {:?}, scale {} and {} values",
                    spec.shape.0,
                    spec.scale.0,
                    t.shape,
                    t.scale,
                    t.values.len()
                ));
            }
            Ok((vec![], Some(commitment)))
        }
    }
}

/// The bundle's model commitment, checked against the key's weights.
#[cfg(feature = "committed-weights")]
fn model_commitment(
    bundle: &ProofBundle,
    weights: zkinfer_circuits::WeightVisibility,
) -> Result<Option<Fp>> {
    use zkinfer_circuits::WeightVisibility::{Committed, Fixed, Polycommit};
    Ok(match (&bundle.model_commitment, weights) {
        // Not a public input: checked with the opening, after the proof.
        (Some(_), Polycommit) => None,
        (None, Polycommit) => {
            return Err(VerifyError::PublicInputMismatch(
                "the model's weights are polycommit but the bundle has no model_commitment".into(),
            ))
        }
        (Some(hex), Committed) => Some(from_hex(hex).ok_or_else(|| {
            VerifyError::PublicInputMismatch(format!(
                "model_commitment {hex:?} is not a field element (64 hex digits)"
            ))
        })?),
        (None, Committed) => {
            return Err(VerifyError::PublicInputMismatch(
                "the model's weights are committed but the bundle has no model_commitment".into(),
            ))
        }
        (Some(_), Fixed) => {
            return Err(VerifyError::PublicInputMismatch(
                "the model's weights are fixed in its key but the bundle carries a \
                 model_commitment"
                    .into(),
            ))
        }
        (None, Fixed) => None,
    })
}

/// With polycommit weights, checks that the proof's weight columns open to
/// the bundle's `model_commitment` (its `weights_opening`); without, that
/// the bundle carries no opening. Run after the proof itself verified.
#[cfg(feature = "committed-weights")]
fn check_weights_opening(key: &VerifierKey, bundle: &ProofBundle, proof: &[u8]) -> Result<()> {
    use zkinfer_circuits::polycommit;
    let plan = key.circuit().plan();
    let opening = match (&bundle.weights_opening, plan.weight_visibility) {
        (None, zkinfer_circuits::WeightVisibility::Polycommit) => {
            return Err(VerifyError::PublicInputMismatch(
                "the model's weights are polycommit but the bundle has no weights_opening".into(),
            ))
        }
        (Some(_), visibility) if visibility != zkinfer_circuits::WeightVisibility::Polycommit => {
            return Err(VerifyError::PublicInputMismatch(format!(
                "the model's weights are {} but the bundle carries a weights_opening",
                visibility.name()
            )))
        }
        (None, _) => return Ok(()),
        (Some(opening), _) => crate::base64::decode(opening).ok_or_else(|| {
            VerifyError::Malformed("the weights_opening is not canonical base64".into())
        })?,
    };
    let hex = bundle.model_commitment.as_deref().unwrap_or_default();
    let registered = polycommit::from_hex(hex)
        .filter(|points| points.len() == plan.weight_store.columns())
        .ok_or_else(|| {
            VerifyError::PublicInputMismatch(format!(
                "model_commitment is not {} curve points (64 hex digits each)",
                plan.weight_store.columns()
            ))
        })?;
    let columns = polycommit::store_columns(plan);
    let in_proof = polycommit::proof_columns(proof, &columns).ok_or(VerifyError::Rejected)?;
    let blind_rows = polycommit::blind_rows(plan);
    match polycommit::verify_opening(
        key.params(),
        &registered,
        &in_proof,
        blind_rows,
        proof,
        &opening,
    ) {
        true => Ok(()),
        false => Err(VerifyError::Rejected),
    }
}

/// Without commitments, a key with a committed input verifies nothing.
#[cfg(not(feature = "commitments"))]
fn input_commitment(_: &ProofBundle, visibility: Visibility) -> Result<Option<Fp>> {
    match visibility {
        Visibility::Committed => Err(VerifyError::PublicInputMismatch(
            "this verifier has no committed inputs".into(),
        )),
        Visibility::Public | Visibility::Private => Ok(None),
    }
}

fn check_tensor(name: &str, t: &PublicTensor, spec: &TensorSpec) -> Result<Vec<i64>> {
    if t.shape != spec.shape.0 || t.values.len() != spec.shape.numel() {
        return Err(VerifyError::PublicInputMismatch(format!(
            "{name} has shape {:?} and {} values, the model's is {:?}",
            t.shape,
            t.values.len(),
            spec.shape.0
        )));
    }
    if t.scale != spec.scale.0 {
        return Err(VerifyError::PublicInputMismatch(format!(
            "{name} scale is {}, the model's is {}",
            t.scale, spec.scale.0
        )));
    }
    let (min, max) = spec.range();
    if let Some((i, v)) = t
        .values
        .iter()
        .enumerate()
        .find(|(_, v)| !(min..=max).contains(*v))
    {
        return Err(VerifyError::PublicInputMismatch(format!(
            "{name} value {i} is {v}, outside the model's {}-bit bound",
            spec.bits
        )));
    }
    Ok(t.values.clone())
}

fn argmax(values: &[i64]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

/// Verifies one bundle.
pub fn verify(key: &VerifierKey, bundle: &ProofBundle) -> Result<VerifiedClaim> {
    let (instances, proof, claim) = prepare(key, bundle)?;
    let strategy = SingleVerifier::new(key.params());
    let mut reader = ProofReader {
        unread: &proof,
        ran_out: false,
    };
    let mut transcript = Blake2bRead::<_, vesta::Affine, Challenge255<_>>::init(&mut reader);
    let verdict = verify_proof(
        key.params(),
        key.vk(),
        strategy,
        &[&[&instances[..]]],
        &mut transcript,
    );
    // halo2 reads a proof's elements and stops: a proof must be exactly
    // as long as its transcript, one byte string per proof (the contract
    // keys replays of private-input proofs by their digest).
    if reader.ran_out {
        return Err(VerifyError::Malformed(format!(
            "the proof ends early ({} bytes is too short for this circuit)",
            proof.len()
        )));
    }
    verdict.map_err(|_| VerifyError::Rejected)?;
    if !reader.unread.is_empty() {
        return Err(trailing(reader.unread.len()));
    }
    #[cfg(feature = "committed-weights")]
    check_weights_opening(key, bundle, &proof)?;
    Ok(claim)
}

/// The proof's bytes as the transcript reads them, noting whether it
/// asked for more than there is.
struct ProofReader<'a> {
    unread: &'a [u8],
    ran_out: bool,
}

impl std::io::Read for ProofReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.unread.len());
        self.ran_out |= n < buf.len();
        buf[..n].copy_from_slice(&self.unread[..n]);
        self.unread = &self.unread[n..];
        Ok(n)
    }
}

fn trailing(bytes: usize) -> VerifyError {
    VerifyError::Malformed(format!(
        "the proof has {bytes} bytes after its end (a proof of this circuit is shorter)"
    ))
}

/// Verifies many bundles of one model at about the cost of one. When the
/// batch fails, each bundle is checked alone to name the first bad one.
#[cfg(feature = "batch")]
pub fn verify_batch(key: &VerifierKey, bundles: &[ProofBundle]) -> Result<Vec<VerifiedClaim>> {
    use halo2_proofs::plonk::BatchVerifier;
    let mut batch = BatchVerifier::new();
    let mut claims = vec![];
    // The batch does not see where a proof ends: check the length first.
    let proof_bytes = key.proof_bytes();
    for (index, bundle) in bundles.iter().enumerate() {
        let in_batch = |error| VerifyError::InBatch {
            index,
            error: Box::new(error),
        };
        let (instances, proof, claim) = prepare(key, bundle).map_err(in_batch)?;
        if proof.len() > proof_bytes {
            return Err(in_batch(trailing(proof.len() - proof_bytes)));
        }
        // The opening is checked on its own: its transcript is its own.
        #[cfg(feature = "committed-weights")]
        check_weights_opening(key, bundle, &proof).map_err(in_batch)?;
        batch.add_proof(vec![vec![instances]], proof);
        claims.push(claim);
    }
    if batch.finalize(key.params(), key.vk()) {
        return Ok(claims);
    }
    for (index, bundle) in bundles.iter().enumerate() {
        verify(key, bundle).map_err(|error| VerifyError::InBatch {
            index,
            error: Box::new(error),
        })?;
    }
    Err(VerifyError::Rejected)
}
