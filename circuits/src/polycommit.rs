//! Polycommit weights: the weights as advice columns of their own, tied
//! to a registered commitment by the proof system's own commitments
//! instead of a hash computed in the circuit.
//!
//! **Registered commitment** ([`commitments`]). The model's committed
//! tensors ([`crate::weights::committed_tensors`], the same values and
//! range checks as hashed weights) are laid out over `C` columns
//! ([`column_values`]: value `e` in column `e mod C`, row `e / C`, zero
//! elsewhere) and each column is committed as halo2 commits an advice
//! column, without blinding: `R_c = Σ_i v_{c,i}·G_i` over the IPA
//! parameters' Lagrange-basis generators. The `C` points, compressed and in
//! hex ([`to_hex`]), are the model commitment a verifier or contract
//! registers. Unblinded, it hides weights only as far as they are
//! unpredictable (thousands of trained weights are not found by trying
//! candidates; a fine-tune one weight away from a public model is). With
//! the owner's [`WeightsSecret`] each column is blinded,
//! `R_c = Σ_i v_{c,i}·G_i + s_c·W`, and the commitment is perfectly hiding;
//! `s_c` is derived from the secret and the model's digest, so every set of
//! weights gets fresh blinds (reused ones would reveal the difference of
//! two sets, unblinded). The verifier's check is the same either way.
//!
//! **Each proof** commits to the same columns blinded, as halo2 commits
//! every advice column: `P_c = Σ_i a_{c,i}·G_i + Σ_j b_{c,j}·G_{u+j} + r_c·W`
//! (`u` the first unusable row, `b` its random rows, `W` the blinding
//! generator). The prover shows, with a Schnorr proof of representation
//! ([`prove_opening`], [`verify_opening`]), that every `P_c - R_c` lies in
//! the span of `{G_u, …, G_{n-1}, W}`: so the usable rows of every weight
//! column hold exactly the registered values (under the discrete-log
//! assumption the IPA itself rests on), while the proof stays
//! zero-knowledge (the blinding rows and `r_c` stay hidden). The columns
//! are combined by a random `ρ`: one proof of `D = Σ ρ^c (P_c - R_c)`.
//!
//! The Schnorr proof has its own Blake2b transcript, which absorbs the
//! registered points and the whole halo2 proof (whose first points are the
//! advice commitments, [`proof_columns`]): it is bound to the proof and
//! can be checked beside a batch.

use crate::error::{CircuitError, Result};
use crate::field::fe;
use crate::plan::{StoreCheck, StoreShape};
use crate::weights::committed_tensors;
use ff::{Field, FromUniformBytes};
use halo2_proofs::arithmetic::best_multiexp;
use halo2_proofs::plonk::AdviceOpening;
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::transcript::{
    Blake2bRead, Blake2bWrite, Challenge255, Transcript, TranscriptRead, TranscriptWrite,
};
use pasta_curves::group::{Curve, Group, GroupEncoding};
use pasta_curves::{vesta, Fp};
use zkinfer_quant::QuantizedModel;

/// The IPA parameters' curve.
pub type Point = vesta::Affine;

/// Bytes of a compressed point.
pub const POINT_BYTES: usize = 32;

/// The stored values of a model, in commitment order, each with how a
/// store of `shape` checks it.
pub fn stored_values(model: &QuantizedModel, shape: StoreShape) -> Result<Vec<(i64, StoreCheck)>> {
    Ok(committed_tensors(model)?
        .iter()
        .flat_map(|t| {
            let check = t.store_check(shape);
            t.values.iter().map(move |&v| (v, check))
        })
        .collect())
}

/// The values of each committed column of a store of `shape` over `rows`
/// rows, if they fit.
pub fn column_values(
    values: &[(i64, StoreCheck)],
    shape: StoreShape,
    rows: usize,
) -> Option<Vec<Vec<Fp>>> {
    let mut out = vec![vec![Fp::zero(); rows]; shape.columns()];
    let positions = shape.positions(values.iter().map(|&(_, check)| check));
    for (&(v, _), (c, row)) in values.iter().zip(positions) {
        *out.get_mut(c)?.get_mut(row)? = fe(v);
    }
    Some(out)
}

/// A polycommit model owner's secret (32 random bytes), which blinds the
/// registered commitment of every set of weights it commits to (see the
/// module docs). Kept with the weights, never published: `Debug` does not
/// show it.
#[derive(Clone, PartialEq, Eq)]
pub struct WeightsSecret([u8; 32]);

impl std::fmt::Debug for WeightsSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WeightsSecret(..)")
    }
}

impl WeightsSecret {
    /// A fresh secret from `rng`.
    pub fn random(rng: &mut impl rand_core::Rng) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        WeightsSecret(bytes)
    }

    /// Its 64 hex digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A secret from 64 hex digits (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (b, pair) in bytes.iter_mut().zip(text.as_bytes().chunks(2)) {
            *b = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        }
        Some(WeightsSecret(bytes))
    }

    /// The blind of each of `columns` columns for `model`'s weights:
    /// Blake2b-512 (personal `zkinfer-wblind`) of the secret, the model's
    /// digest and the column index, reduced into the field.
    pub fn column_blinds(&self, model: &QuantizedModel, columns: usize) -> Vec<Fp> {
        let digest = model.digest();
        (0..columns as u64)
            .map(|c| {
                let hash = blake2b_simd::Params::new()
                    .hash_length(64)
                    .personal(b"zkinfer-wblind")
                    .to_state()
                    .update(&self.0)
                    .update(digest.to_hex().as_bytes())
                    .update(&c.to_le_bytes())
                    .finalize();
                let wide: [u8; 64] = hash.as_bytes().try_into().expect("64-byte digest");
                Fp::from_uniform_bytes(&wide)
            })
            .collect()
    }
}

/// The registered commitment of a model's weights in a store of `shape`
/// (the plan's `weight_store`) under `params` (the plan's `k`), blinded
/// by `secret`'s column blinds when given.
pub fn commitments(
    params: &Params<Point>,
    model: &QuantizedModel,
    shape: StoreShape,
    secret: Option<&WeightsSecret>,
) -> Result<Vec<Point>> {
    let values = stored_values(model, shape)?;
    let columns = column_values(&values, shape, 1 << params.k()).ok_or_else(|| {
        CircuitError::Witness(format!(
            "{} weights do not fit a store of {} columns and {} short groups of 2^{} rows",
            values.len(),
            shape.narrow,
            shape.short,
            params.k()
        ))
    })?;
    let bases = params.get_g_lagrange();
    let blinds = match secret {
        Some(secret) => secret.column_blinds(model, columns.len()),
        None => vec![Fp::zero(); columns.len()],
    };
    let w = params.get_w();
    Ok(columns
        .iter()
        .zip(blinds)
        .map(|(column, blind)| (best_multiexp(column, bases) + w * blind).to_affine())
        .collect())
}

/// Points as one hex string, 64 digits each.
pub fn to_hex(points: &[Point]) -> String {
    points
        .iter()
        .flat_map(|p| p.to_bytes().as_ref().to_vec())
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// [`to_hex`]'s points back, if `hex` is a whole number of valid points
/// (hex digits only: `u8::from_str_radix` alone would take a `+`).
pub fn from_hex(hex: &str) -> Option<Vec<Point>> {
    let digits = hex.bytes().all(|b| b.is_ascii_hexdigit());
    if hex.is_empty() || !hex.len().is_multiple_of(2 * POINT_BYTES) || !digits {
        return None;
    }
    hex.as_bytes()
        .chunks(2 * POINT_BYTES)
        .map(|chunk| {
            let mut bytes = <Point as GroupEncoding>::Repr::default();
            for (b, pair) in bytes.as_mut().iter_mut().zip(chunk.chunks(2)) {
                *b = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
            }
            Option::from(Point::from_bytes(&bytes))
        })
        .collect()
}

/// The proof's commitments to the advice columns `columns` (by index): a
/// halo2 proof of one circuit starts with its advice commitments, in
/// column order.
pub fn proof_columns(proof: &[u8], columns: &[usize]) -> Option<Vec<Point>> {
    columns
        .iter()
        .map(|&c| {
            let chunk = proof.get(c * POINT_BYTES..(c + 1) * POINT_BYTES)?;
            let mut bytes = <Point as GroupEncoding>::Repr::default();
            bytes.as_mut().copy_from_slice(chunk);
            Option::from(Point::from_bytes(&bytes))
        })
        .collect()
}

/// The advice column indices of a plan's weight store (none unless its
/// weights are polycommit), in store order.
pub fn store_columns(plan: &crate::CircuitPlan) -> Vec<usize> {
    crate::ModelConfig::of_plan(plan)
        .weight_store
        .map_or(vec![], |store| {
            store.committed().iter().map(|c| c.index()).collect()
        })
}

/// The blinding rows of a plan's columns: the rows after its usable ones.
pub fn blind_rows(plan: &crate::CircuitPlan) -> usize {
    (1usize << plan.k) - plan.usable_rows
}

/// Bytes of an opening proof with `blind_rows` blinding rows: the nonce
/// commitment and one response per base.
pub fn opening_bytes(blind_rows: usize) -> usize {
    POINT_BYTES * (blind_rows + 2)
}

/// The transcript both sides start from: the registered and proof
/// commitments, and the halo2 proof.
fn statement<T: Transcript<Point, Challenge255<Point>>>(
    transcript: &mut T,
    registered: &[Point],
    in_proof: &[Point],
    proof: &[u8],
) -> std::io::Result<Fp> {
    let digest = blake2b_simd::Params::new()
        .hash_length(64)
        .personal(b"zkinfer-polycmt")
        .hash(proof);
    let digest: [u8; 64] = digest.as_bytes().try_into().expect("64-byte digest");
    transcript.common_scalar(Fp::from_uniform_bytes(&digest))?;
    transcript.common_scalar(Fp::from(registered.len() as u64))?;
    for (r, p) in registered.iter().zip(in_proof) {
        transcript.common_point(*r)?;
        transcript.common_point(*p)?;
    }
    Ok(*transcript.squeeze_challenge_scalar::<()>())
}

/// The generators a difference `P_c - R_c` may use: the blinding rows'
/// (from row `n - blind_rows`) and `W`.
fn blinding_bases(params: &Params<Point>, blind_rows: usize) -> Vec<Point> {
    let g = params.get_g_lagrange();
    let mut bases = g[g.len() - blind_rows..].to_vec();
    bases.push(params.get_w());
    bases
}

/// The registered commitment and its column blinds (zero when it is
/// unblinded): what the prover needs to open a proof's weight columns.
#[derive(Clone, Debug)]
pub struct Registered<'a> {
    /// The registered points, one per column.
    pub points: &'a [Point],
    /// Each column's blind `s_c` ([`WeightsSecret::column_blinds`]), or
    /// zeros.
    pub blinds: &'a [Fp],
}

/// Proves that the proof's weight columns (`in_proof`, blinded by
/// `openings`, from `create_proof_with_openings`) commit to the registered
/// values (see the module docs). `proof` is the halo2 proof.
pub fn prove_opening(
    params: &Params<Point>,
    registered: Registered<'_>,
    in_proof: &[Point],
    openings: &[AdviceOpening<Fp>],
    proof: &[u8],
    rng: &mut impl rand_core::Rng,
) -> Result<Vec<u8>> {
    let Registered {
        points: registered,
        blinds,
    } = registered;
    let blind_rows = openings.first().map_or(0, |o| o.blind_rows.len());
    if openings.is_empty()
        || openings.len() != registered.len()
        || in_proof.len() != registered.len()
        || blinds.len() != registered.len()
        || openings.iter().any(|o| o.blind_rows.len() != blind_rows)
    {
        return Err(CircuitError::Witness(
            "the openings do not match the weight columns".into(),
        ));
    }
    let io = |e: std::io::Error| CircuitError::Witness(format!("opening transcript: {e}"));
    let mut transcript = Blake2bWrite::<_, Point, Challenge255<_>>::init(vec![]);
    let rho = statement(&mut transcript, registered, in_proof, proof).map_err(io)?;
    // The witness of D = Σ ρ^c (P_c - R_c) over the blinding bases: W's
    // coefficient is the proof's blind less the registered one.
    let mut witness = vec![Fp::zero(); blind_rows + 1];
    let mut power = Fp::one();
    for (opening, registered_blind) in openings.iter().zip(blinds) {
        for (w, b) in witness.iter_mut().zip(&opening.blind_rows) {
            *w += power * b;
        }
        witness[blind_rows] += power * (opening.blind - registered_blind);
        power *= rho;
    }
    let bases = blinding_bases(params, blind_rows);
    let nonces: Vec<Fp> = (0..bases.len()).map(|_| Fp::random(&mut *rng)).collect();
    let a = best_multiexp(&nonces, &bases).to_affine();
    transcript.write_point(a).map_err(io)?;
    let e = *transcript.squeeze_challenge_scalar::<()>();
    for (nonce, w) in nonces.iter().zip(&witness) {
        transcript.write_scalar(*nonce + e * w).map_err(io)?;
    }
    Ok(transcript.finalize())
}

/// Checks an opening proof (see [`prove_opening`]): whether the proof's
/// weight columns `in_proof`, with `blind_rows` blinding rows, commit to
/// the registered values.
pub fn verify_opening(
    params: &Params<Point>,
    registered: &[Point],
    in_proof: &[Point],
    blind_rows: usize,
    proof: &[u8],
    opening: &[u8],
) -> bool {
    if opening.len() != opening_bytes(blind_rows)
        || registered.is_empty()
        || in_proof.len() != registered.len()
        || blind_rows >= params.get_g_lagrange().len()
    {
        return false;
    }
    let mut reader = opening;
    let mut transcript = Blake2bRead::<_, Point, Challenge255<_>>::init(&mut reader);
    let Ok(rho) = statement(&mut transcript, registered, in_proof, proof) else {
        return false;
    };
    let Ok(a) = transcript.read_point() else {
        return false;
    };
    let e = *transcript.squeeze_challenge_scalar::<()>();
    let Ok(responses) = (0..=blind_rows)
        .map(|_| transcript.read_scalar())
        .collect::<std::io::Result<Vec<Fp>>>()
    else {
        return false;
    };
    // Σ z_j·B_j - A - e·Σ ρ^c (P_c - R_c) = 0, as one multiexp.
    let mut scalars = responses;
    let mut bases = blinding_bases(params, blind_rows);
    scalars.push(-Fp::one());
    bases.push(a);
    let mut power = e;
    for (r, p) in registered.iter().zip(in_proof) {
        scalars.extend([-power, power]);
        bases.extend([*p, *r]);
        power *= rho;
    }
    bool::from(best_multiexp(&scalars, &bases).is_identity())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::StoreShape;
    use zkinfer_quant::QuantizedModel;

    fn model(bias: i64) -> QuantizedModel {
        crate::weights::tests::mlp(vec![3, -4, 5, 0, 1, 2], vec![bias, 7])
    }

    #[test]
    fn a_secret_blinds_each_column_with_w_and_fresh_blinds_per_model() {
        let params = Params::<Point>::new(4);
        let shape = StoreShape {
            narrow: 2,
            short: 0,
        };
        let m = model(5);
        let plain = commitments(&params, &m, shape, None).unwrap();
        let secret = WeightsSecret::from_hex(&"ab".repeat(32)).unwrap();
        let hiding = commitments(&params, &m, shape, Some(&secret)).unwrap();
        let blinds = secret.column_blinds(&m, 2);
        for ((p, h), s) in plain.iter().zip(&hiding).zip(&blinds) {
            assert_eq!((*p + params.get_w() * s).to_affine(), *h);
            assert_ne!(p, h);
        }
        assert_ne!(blinds[0], blinds[1], "independent blinds per column");
        // Other weights, the same secret: other blinds.
        assert_ne!(secret.column_blinds(&model(6), 2), blinds);
        let other = WeightsSecret::from_hex(&"cd".repeat(32)).unwrap();
        assert_ne!(other.column_blinds(&m, 2), blinds);
    }

    #[test]
    fn secrets_read_64_hex_digits_and_never_print() {
        let secret = WeightsSecret::from_hex(&format!(" {}\n", "0f".repeat(32))).unwrap();
        assert_eq!(secret.to_hex(), "0f".repeat(32));
        assert_eq!(format!("{secret:?}"), "WeightsSecret(..)");
        for bad in [
            "",
            "0f",
            &"0f".repeat(33),
            &format!("+{}", "f".repeat(63)),
            &"zz".repeat(32),
        ] {
            assert!(WeightsSecret::from_hex(bad).is_none(), "{bad:?}");
        }
    }
}
