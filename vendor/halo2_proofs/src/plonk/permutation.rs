use super::circuit::{Any, Column};
use std::io;

use crate::{
    arithmetic::CurveAffine,
    poly::{Coeff, ExtendedLagrangeCoeff, LagrangeCoeff, Polynomial},
};

pub(crate) mod keygen;
pub(crate) mod prover;
pub(crate) mod verifier;

/// A permutation argument.
#[derive(Debug, Clone)]
pub(crate) struct Argument {
    /// A sequence of columns involved in the argument.
    columns: Vec<Column<Any>>,
}

impl Argument {
    pub(crate) fn new() -> Self {
        Argument { columns: vec![] }
    }

    /// Returns the minimum circuit degree required by the permutation argument.
    /// The argument may use larger degree gates depending on the actual
    /// circuit's degree and how many columns are involved in the permutation.
    pub(crate) fn required_degree(&self) -> usize {
        // degree 2:
        // l_0(X) * (1 - z(X)) = 0
        //
        // We will fit as many polynomials p_i(X) as possible
        // into the required degree of the circuit, so the
        // following will not affect the required degree of
        // this middleware.
        //
        // (1 - (l_last(X) + l_blind(X))) * (
        //   z(\omega X) \prod (p(X) + \beta s_i(X) + \gamma)
        // - z(X) \prod (p(X) + \delta^i \beta X + \gamma)
        // )
        //
        // On the first sets of columns, except the first
        // set, we will do
        //
        // l_0(X) * (z(X) - z'(\omega^(last) X)) = 0
        //
        // where z'(X) is the permutation for the previous set
        // of columns.
        //
        // On the final set of columns, we will do
        //
        // degree 3:
        // l_last(X) * (z'(X)^2 - z'(X)) = 0
        //
        // which will allow the last value to be zero to
        // ensure the argument is perfectly complete.

        // There are constraints of degree 3 regardless of the
        // number of columns involved.
        3
    }

    pub(crate) fn add_column(&mut self, column: Column<Any>) {
        if !self.columns.contains(&column) {
            self.columns.push(column);
        }
    }

    pub(crate) fn get_columns(&self) -> Vec<Column<Any>> {
        self.columns.clone()
    }
}

/// The verifying key for a single permutation argument.
#[derive(Clone, Debug)]
pub(crate) struct VerifyingKey<C: CurveAffine> {
    commitments: Vec<C>,
}

impl<C: CurveAffine> VerifyingKey<C> {
    /// zkinfer patch: the key of stored commitments.
    pub(crate) fn from_commitments(commitments: Vec<C>) -> Self {
        VerifyingKey { commitments }
    }

    /// zkinfer patch: the commitments to the permutation columns.
    pub(crate) fn commitments_slice(&self) -> &[C] {
        &self.commitments
    }

    /// The commitments to the permutation columns (one per column), for Lean fixture export.
    #[cfg(feature = "unstable-verifier-fingerprint")]
    pub(crate) fn commitments(&self) -> &[C] {
        &self.commitments
    }
}

/// The proving key for a single permutation argument.
#[derive(Clone, Debug)]
pub(crate) struct ProvingKey<C: CurveAffine> {
    permutations: Vec<Polynomial<C::Scalar, LagrangeCoeff>>,
    polys: Vec<Polynomial<C::Scalar, Coeff>>,
    pub(super) cosets: Vec<Polynomial<C::Scalar, ExtendedLagrangeCoeff>>,
}

impl<C: CurveAffine> ProvingKey<C> {
    /// zkinfer's addition: the polynomials, for `plonk::ProvingKey::write_polys`.
    pub(crate) fn write_polys<W: io::Write>(&self, writer: &mut W) -> io::Result<()> {
        for poly in &self.permutations {
            poly.write_values(writer)?;
        }
        for poly in &self.polys {
            poly.write_values(writer)?;
        }
        for poly in &self.cosets {
            poly.write_values(writer)?;
        }
        Ok(())
    }

    /// zkinfer's addition: reads `columns` permutation columns of `n`
    /// values (cosets `extended` values) written by `write_polys`.
    pub(crate) fn read_polys<R: io::Read>(
        reader: &mut R,
        columns: usize,
        n: usize,
        extended: usize,
    ) -> io::Result<Self> {
        Ok(ProvingKey {
            permutations: (0..columns)
                .map(|_| Polynomial::read_values(reader, n))
                .collect::<io::Result<_>>()?,
            polys: (0..columns)
                .map(|_| Polynomial::read_values(reader, n))
                .collect::<io::Result<_>>()?,
            cosets: (0..columns)
                .map(|_| Polynomial::read_values(reader, extended))
                .collect::<io::Result<_>>()?,
        })
    }
}
