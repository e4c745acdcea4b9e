//! A verifying key's commitments: their byte form, and the check that
//! lets a contract accept them from a registrar for the price of one
//! commitment instead of one per column.
//!
//! A key commits to every fixed column (weights, constants, compressed
//! selectors) and every permutation column of its circuit, each an MSM over
//! the 2^k Lagrange basis points: rebuilding a key commits them all, which
//! was nearly all of a registration's gas. [`check`] instead takes the
//! commitments `C_i` as claimed, draws a challenge `r` by hashing them with
//! what the circuit is (the model digest and input visibility), and
//! compares two sides of one equation:
//!
//! ```text
//!   Σ_i r^i · C_i  ==  Commit( Σ_i r^i · column_i ,  blind Σ_i r^i )
//! ```
//!
//! (`keygen_vk` commits each column with halo2's default blind, 1.) A wrong
//! commitment makes the difference of the two sides a nonzero polynomial
//! in `r` of degree below the number of columns, so it vanishes at a
//! hashed `r` with probability at most (columns / 2^254) per attempt: the
//! claim and the circuit are fixed before `r` is drawn, so a registrar
//! cannot steer it.

use crate::error::{Result, VerifyError};
use ff::{Field, FromUniformBytes};
use halo2_proofs::arithmetic::best_multiexp;
use halo2_proofs::poly::commitment::{Blind, Params};
use halo2_proofs::poly::{LagrangeCoeff, Polynomial};
use pasta_curves::group::GroupEncoding;
use pasta_curves::{vesta, Fp};
use sha2::{Digest, Sha256};

/// The domain tag of the challenge's hash.
const CHALLENGE_TAG: &[u8] = b"zkinfer/vk-commitments@1\0";

/// A key's fixed and permutation commitments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyCommitments {
    /// One per fixed column, selectors included, in column order.
    pub fixed: Vec<vesta::Affine>,
    /// One per permutation column.
    pub permutation: Vec<vesta::Affine>,
}

impl KeyCommitments {
    /// Two little-endian `u32` counts (fixed, permutation), then every point
    /// compressed (32 bytes each).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(8 + 32 * self.len());
        bytes.extend_from_slice(&(self.fixed.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&(self.permutation.len() as u32).to_le_bytes());
        for point in self.points() {
            bytes.extend_from_slice(point.to_bytes().as_ref());
        }
        bytes
    }

    /// Parses [`Self::to_bytes`]; every point must be on the curve.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let malformed = |what: &str| VerifyError::Key(format!("key commitments: {what}"));
        let count = |at: usize| -> Result<usize> {
            let word = bytes
                .get(at..at + 4)
                .ok_or_else(|| malformed("truncated"))?;
            Ok(u32::from_le_bytes(word.try_into().expect("4 bytes")) as usize)
        };
        let (fixed, permutation) = (count(0)?, count(4)?);
        let points = &bytes[8..];
        if fixed
            .checked_add(permutation)
            .and_then(|n| n.checked_mul(32))
            != Some(points.len())
        {
            return Err(malformed("the counts do not match the length"));
        }
        let mut decoded = points.chunks(32).map(|chunk| {
            let mut repr = <vesta::Affine as GroupEncoding>::Repr::default();
            repr.as_mut().copy_from_slice(chunk);
            Option::from(vesta::Affine::from_bytes(&repr))
                .ok_or_else(|| malformed("not a curve point"))
        });
        let fixed = decoded.by_ref().take(fixed).collect::<Result<Vec<_>>>()?;
        let permutation = decoded.collect::<Result<Vec<_>>>()?;
        Ok(KeyCommitments { fixed, permutation })
    }

    fn len(&self) -> usize {
        self.fixed.len() + self.permutation.len()
    }

    fn points(&self) -> impl Iterator<Item = &vesta::Affine> {
        self.fixed.iter().chain(&self.permutation)
    }
}

/// Whether `claimed` commits to `columns` (the fixed columns, then the
/// permutation columns, in the order `keygen_vk_with_columns` returns
/// them), each with halo2's default blind. `binding` names the circuit the
/// columns are of; it is hashed into the challenge with the claim.
pub fn check(
    params: &Params<vesta::Affine>,
    columns: &[Polynomial<Fp, LagrangeCoeff>],
    claimed: &KeyCommitments,
    binding: &[u8],
) -> bool {
    if columns.len() != claimed.len() || columns.is_empty() {
        return false;
    }
    let r = challenge(claimed, binding);
    // Σ r^i · column_i by Horner's rule, from the last column down.
    let (last, rest) = columns.split_last().expect("not empty");
    let mut combined = last.clone();
    for column in rest.iter().rev() {
        for (acc, value) in combined.iter_mut().zip(column.iter()) {
            *acc = *acc * r + value;
        }
    }
    let mut powers = Vec::with_capacity(claimed.len());
    let mut power = Fp::ONE;
    for _ in 0..claimed.len() {
        powers.push(power);
        power *= r;
    }
    let blind = powers.iter().fold(Fp::ZERO, |sum, p| sum + p);
    let expected = params.commit_lagrange(&combined, Blind(blind));
    let points: Vec<vesta::Affine> = claimed.points().copied().collect();
    let claimed_sum = best_multiexp(&powers, &points);
    expected == claimed_sum
}

/// The challenge: 64 bytes from SHA-256 (two counter-tagged digests of one
/// hash of the tag, the binding and the claim), reduced into the field.
fn challenge(claimed: &KeyCommitments, binding: &[u8]) -> Fp {
    let mut h = Sha256::new();
    h.update(CHALLENGE_TAG);
    h.update((binding.len() as u64).to_le_bytes());
    h.update(binding);
    h.update(claimed.to_bytes());
    let seed = h.finalize();
    let mut wide = [0u8; 64];
    for (half, counter) in wide.chunks_mut(32).zip(0u8..) {
        let mut h = Sha256::new();
        h.update(seed);
        h.update([counter]);
        half.copy_from_slice(&h.finalize());
    }
    Fp::from_uniform_bytes(&wide)
}
