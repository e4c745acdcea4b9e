//! This module provides an implementation of a variant of (Turbo)[PLONK][plonk]
//! that is designed specifically for the polynomial commitment scheme described
//! in the [Halo][halo] paper.
//!
//! [halo]: https://eprint.iacr.org/2019/1021
//! [plonk]: https://eprint.iacr.org/2019/953

use blake2b_simd::Params as Blake2bParams;
use group::ff::{Field, FromUniformBytes, PrimeField};

use crate::arithmetic::CurveAffine;
use crate::poly::{
    Coeff, EvaluationDomain, ExtendedLagrangeCoeff, LagrangeCoeff, PinnedEvaluationDomain,
    Polynomial,
};
use crate::transcript::{ChallengeScalar, EncodedChallenge, Transcript};

mod assigned;
mod circuit;
mod error;
mod keygen;
mod lookup;
pub(crate) mod permutation;
mod vanishing;

mod prover;
mod verifier;

#[cfg(feature = "unstable-verifier-fingerprint")]
#[cfg_attr(docsrs, doc(cfg(feature = "unstable-verifier-fingerprint")))]
pub mod fingerprint;

pub use assigned::*;
pub use circuit::*;
pub use error::*;
pub use keygen::*;
pub use prover::*;
pub use verifier::*;

use std::io;

/// This is a verifying key which allows for the verification of proofs for a
/// particular circuit.
#[derive(Clone, Debug)]
pub struct VerifyingKey<C: CurveAffine> {
    domain: EvaluationDomain<C::Scalar>,
    fixed_commitments: Vec<C>,
    permutation: permutation::VerifyingKey<C>,
    cs: ConstraintSystem<C::Scalar>,
    /// Cached maximum degree of `cs` (which doesn't change after construction).
    cs_degree: usize,
    /// The representative of this `VerifyingKey` in transcripts.
    transcript_repr: C::Scalar,
}

impl<C: CurveAffine> VerifyingKey<C>
where
    C::Scalar: FromUniformBytes<64>,
{
    fn from_parts(
        domain: EvaluationDomain<C::Scalar>,
        fixed_commitments: Vec<C>,
        permutation: permutation::VerifyingKey<C>,
        cs: ConstraintSystem<C::Scalar>,
    ) -> Self {
        // Compute cached values.
        let cs_degree = cs.degree();

        let mut vk = Self {
            domain,
            fixed_commitments,
            permutation,
            cs,
            cs_degree,
            // Temporary, this is not pinned.
            transcript_repr: C::Scalar::ZERO,
        };

        let mut hasher = Blake2bParams::new()
            .hash_length(64)
            .personal(b"Halo2-Verify-Key")
            .to_state();

        let s = format!("{:?}", vk.pinned());

        hasher.update(&(s.len() as u64).to_le_bytes());
        hasher.update(s.as_bytes());

        // Hash in final Blake2bState
        vk.transcript_repr = C::Scalar::from_uniform_bytes(hasher.finalize().as_array());

        vk
    }
}

impl<C: CurveAffine> VerifyingKey<C> {
    /// zkinfer patch: the commitments to the fixed columns (selectors
    /// included), in column order; with [`Self::permutation_commitments`],
    /// what [`keygen_vk_from_commitments`] rebuilds the key from.
    pub fn fixed_commitments(&self) -> &[C] {
        &self.fixed_commitments
    }

    /// zkinfer patch: the commitments to the permutation columns.
    pub fn permutation_commitments(&self) -> &[C] {
        self.permutation.commitments_slice()
    }

    /// Hashes a verification key into a transcript.
    pub fn hash_into<E: EncodedChallenge<C>, T: Transcript<C, E>>(
        &self,
        transcript: &mut T,
    ) -> io::Result<()> {
        transcript.common_scalar(self.transcript_repr)?;

        Ok(())
    }

    /// Obtains a pinned representation of this verification key that contains
    /// the minimal information necessary to reconstruct the verification key.
    pub fn pinned(&self) -> PinnedVerificationKey<'_, C> {
        PinnedVerificationKey {
            base_modulus: C::Base::MODULUS,
            scalar_modulus: C::Scalar::MODULUS,
            domain: self.domain.pinned(),
            fixed_commitments: &self.fixed_commitments,
            permutation: &self.permutation,
            cs: self.cs.pinned(),
        }
    }
}

/// Minimal representation of a verification key that can be used to identify
/// its active contents.
#[allow(dead_code)]
#[derive(Debug)]
pub struct PinnedVerificationKey<'a, C: CurveAffine> {
    base_modulus: &'static str,
    scalar_modulus: &'static str,
    domain: PinnedEvaluationDomain<'a, C::Scalar>,
    cs: PinnedConstraintSystem<'a, C::Scalar>,
    fixed_commitments: &'a Vec<C>,
    permutation: &'a permutation::VerifyingKey<C>,
}
/// This is a proving key which allows for the creation of proofs for a
/// particular circuit.
#[derive(Clone, Debug)]
pub struct ProvingKey<C: CurveAffine> {
    vk: VerifyingKey<C>,
    l0: Polynomial<C::Scalar, ExtendedLagrangeCoeff>,
    l_blind: Polynomial<C::Scalar, ExtendedLagrangeCoeff>,
    l_last: Polynomial<C::Scalar, ExtendedLagrangeCoeff>,
    fixed_values: Vec<Polynomial<C::Scalar, LagrangeCoeff>>,
    fixed_polys: Vec<Polynomial<C::Scalar, Coeff>>,
    fixed_cosets: Vec<Polynomial<C::Scalar, ExtendedLagrangeCoeff>>,
    permutation: permutation::ProvingKey<C>,
}

impl<C: CurveAffine> ProvingKey<C> {
    /// Get the underlying [`VerifyingKey`].
    pub fn get_vk(&self) -> &VerifyingKey<C> {
        &self.vk
    }

    /// zkinfer's addition: writes every polynomial of the key — not the
    /// verifying key, which the reader supplies — each value in its
    /// canonical representation: `l0`, `l_blind`, `l_last`, the fixed
    /// columns' values, coefficients and extended-domain values, then the
    /// permutation's.
    pub fn write_polys<W: io::Write>(&self, writer: &mut W) -> io::Result<()> {
        for poly in [&self.l0, &self.l_blind, &self.l_last] {
            poly.write_values(writer)?;
        }
        for poly in &self.fixed_values {
            poly.write_values(writer)?;
        }
        for poly in &self.fixed_polys {
            poly.write_values(writer)?;
        }
        for poly in &self.fixed_cosets {
            poly.write_values(writer)?;
        }
        self.permutation.write_polys(writer)
    }

    /// zkinfer's addition: the proving key of `vk` from polynomials written
    /// by [`Self::write_polys`]. Every count and length comes from `vk`
    /// (its domain and constraint system) and every value must be
    /// canonical; that the polynomials are the ones `keygen_pk` computes
    /// for `vk` is the caller's to know (a proof made with other ones does
    /// not verify).
    pub fn read_polys<R: io::Read>(vk: VerifyingKey<C>, reader: &mut R) -> io::Result<Self> {
        let n = vk.domain.empty_lagrange().len();
        let extended = vk.domain.extended_len();
        let fixed = vk.cs.num_fixed_columns;
        let mut extended_poly = || Polynomial::read_values(reader, extended);
        let (l0, l_blind, l_last) = (extended_poly()?, extended_poly()?, extended_poly()?);
        let fixed_values = (0..fixed)
            .map(|_| Polynomial::read_values(reader, n))
            .collect::<io::Result<_>>()?;
        let fixed_polys = (0..fixed)
            .map(|_| Polynomial::read_values(reader, n))
            .collect::<io::Result<_>>()?;
        let fixed_cosets = (0..fixed)
            .map(|_| Polynomial::read_values(reader, extended))
            .collect::<io::Result<_>>()?;
        let columns = vk.cs.permutation.get_columns().len();
        let permutation = permutation::ProvingKey::read_polys(reader, columns, n, extended)?;
        Ok(ProvingKey {
            vk,
            l0,
            l_blind,
            l_last,
            fixed_values,
            fixed_polys,
            fixed_cosets,
            permutation,
        })
    }
}

impl<C: CurveAffine> VerifyingKey<C> {
    /// Get the underlying [`EvaluationDomain`].
    pub fn get_domain(&self) -> &EvaluationDomain<C::Scalar> {
        &self.domain
    }
}

#[derive(Clone, Copy, Debug)]
struct Theta;
type ChallengeTheta<F> = ChallengeScalar<F, Theta>;

#[derive(Clone, Copy, Debug)]
struct Beta;
type ChallengeBeta<F> = ChallengeScalar<F, Beta>;

#[derive(Clone, Copy, Debug)]
struct Gamma;
type ChallengeGamma<F> = ChallengeScalar<F, Gamma>;

#[derive(Clone, Copy, Debug)]
struct Y;
type ChallengeY<F> = ChallengeScalar<F, Y>;

#[derive(Clone, Copy, Debug)]
struct X;
type ChallengeX<F> = ChallengeScalar<F, X>;
