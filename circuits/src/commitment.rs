//! Tensor commitments: a Poseidon hash of a tensor's packed values, the
//! same natively (here) and in the circuit ([`crate::chips::commit`]).
//!
//! A tensor of `n` integers declared to fit `bits` signed bits is
//!
//! 1. **packed**: each value offset to `u = v + 2^(bits-1)` in
//!    `[0, 2^bits)`, and [`values_per_element`] of them (all but the last
//!    element full) combined as `Σ u_i · 2^(bits·i)` — at most 248 bits, so
//!    packing is injective in the field;
//! 2. **hashed** as a chain of Poseidon calls (`P128Pow5T3`, width 3, rate
//!    2, over the Pallas base field, halo2_gadgets' primitives with
//!    `ConstantLength<2>`): `h_0` encodes the version, `bits` and `n`
//!    ([`initial`]), `h_{i+1} = Poseidon(h_i, m_i)` for each packed element
//!    `m_i`, and with a blinding element `r`, one more step
//!    `Poseidon(h, r)`.
//!
//! A chain of two-element hashes is what both sides compute with public
//! halo2_gadgets APIs for a length known only at run time (its sponge is
//! not public outside the circuit); it costs one permutation per packed
//! element, 31 values at 8 bits.
//!
//! Hiding: without a blinding element a commitment of a low-entropy tensor
//! (a digit image, a small input) can be found by trying inputs. An input
//! commitment takes a random blinding element the prover keeps.

use halo2_gadgets::poseidon::primitives::{self as poseidon, ConstantLength, P128Pow5T3};
use pasta_curves::Fp;

pub use crate::field::{from_hex, to_hex};

/// Bits a packed element holds at most.
pub const PACK_BITS: u32 = 248;

/// The commitment format's version, hashed into [`initial`].
pub const COMMITMENT_VERSION: u64 = 1;

/// The widest values a commitment packs.
pub const MAX_BITS: u32 = 32;

/// Why a tensor cannot be committed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommitError {
    /// The declared width is 0 or above [`MAX_BITS`].
    #[error("values of {0} bits cannot be committed (1 to {MAX_BITS} bits)")]
    Bits(u32),
    /// A value outside the declared width.
    #[error("value {value} at index {index} does not fit {bits} signed bits")]
    OutOfRange {
        /// Its index.
        index: usize,
        /// The value.
        value: i64,
        /// The declared width.
        bits: u32,
    },
}

/// Values one packed element holds at `bits` bits each.
pub fn values_per_element(bits: u32) -> usize {
    (PACK_BITS / bits.max(1)) as usize
}

/// A value offset into `[0, 2^bits)`, if it fits `bits` signed bits.
pub fn offset(value: i64, bits: u32) -> Option<u64> {
    let half = 1i128 << (bits - 1);
    let u = i128::from(value) + half;
    (0..2 * half).contains(&u).then_some(u as u64)
}

/// The packed elements of a tensor (see the module docs).
pub fn pack(values: &[i64], bits: u32) -> Result<Vec<Fp>, CommitError> {
    if bits == 0 || bits > MAX_BITS {
        return Err(CommitError::Bits(bits));
    }
    let shift = Fp::from(1u64 << bits);
    values
        .chunks(values_per_element(bits))
        .enumerate()
        .map(|(chunk, values)| {
            // Horner from the last value: Σ u_i · 2^(bits·i).
            values
                .iter()
                .enumerate()
                .rev()
                .try_fold(Fp::zero(), |m, (i, &value)| {
                    let index = chunk * values_per_element(bits) + i;
                    let u = offset(value, bits).ok_or(CommitError::OutOfRange {
                        index,
                        value,
                        bits,
                    })?;
                    Ok(m * shift + Fp::from(u))
                })
        })
        .collect()
}

/// `h_0`: the version, the width and the number of values, as one field
/// element (`version + 2^8·bits + 2^16·n`), so that tensors of different
/// lengths or widths never share a chain.
pub fn initial(bits: u32, values: usize) -> Fp {
    Fp::from(COMMITMENT_VERSION)
        + Fp::from(u64::from(bits) << 8)
        + Fp::from(values as u64) * Fp::from(1 << 16)
}

/// One link of the chain: Poseidon of two elements.
pub fn hash2(a: Fp, b: Fp) -> Fp {
    poseidon::Hash::<Fp, P128Pow5T3, ConstantLength<2>, 3, 2>::init().hash([a, b])
}

/// The commitment of a tensor of `bits`-bit values, blinded by `blinding`
/// when given.
pub fn commit(values: &[i64], bits: u32, blinding: Option<Fp>) -> Result<Fp, CommitError> {
    let chain = pack(values, bits)?
        .into_iter()
        .fold(initial(bits, values.len()), hash2);
    Ok(blinding.map_or(chain, |r| hash2(chain, r)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_is_little_endian_offset_values() {
        // Two 4-bit values: u = 1 + 8 = 9 and -8 + 8 = 0, then 7 + 8 = 15.
        let packed = pack(&[1, -8, 7], 4).unwrap();
        assert_eq!(values_per_element(4), 62);
        assert_eq!(packed, vec![Fp::from(9 + (15 << 8))]);
        // 8 bits: 31 values per element, so 32 values make two.
        let values: Vec<i64> = (0..32).map(|i| i - 16).collect();
        let packed = pack(&values, 8).unwrap();
        assert_eq!(packed.len(), 2);
        assert_eq!(packed[1], Fp::from(15 + 128));
    }

    #[test]
    fn out_of_range_values_and_widths_are_named() {
        assert_eq!(
            pack(&[0, 128], 8),
            Err(CommitError::OutOfRange {
                index: 1,
                value: 128,
                bits: 8
            })
        );
        assert!(pack(&[-128, 127], 8).is_ok());
        assert_eq!(pack(&[0], 0), Err(CommitError::Bits(0)));
        assert_eq!(pack(&[0], 33), Err(CommitError::Bits(33)));
        assert!(pack(&[i32::MIN as i64, i32::MAX as i64], 32).is_ok());
    }

    #[test]
    fn commitments_separate_lengths_widths_values_and_blindings() {
        let base = commit(&[1, 2, 3], 8, None).unwrap();
        assert_ne!(
            base,
            commit(&[1, 2, 3, 0], 8, None).unwrap(),
            "a trailing zero"
        );
        assert_ne!(base, commit(&[1, 2, 3], 9, None).unwrap(), "another width");
        assert_ne!(base, commit(&[1, 2, 4], 8, None).unwrap(), "another value");
        let r = Fp::from(12345);
        assert_ne!(base, commit(&[1, 2, 3], 8, Some(r)).unwrap(), "blinded");
        assert_eq!(commit(&[1, 2, 3], 8, Some(r)).unwrap(), hash2(base, r));
        assert_ne!(
            commit(&[], 8, None).unwrap(),
            commit(&[0], 8, None).unwrap()
        );
    }

    #[test]
    fn hex_round_trips_and_refuses_non_elements() {
        let h = commit(&[5, -5], 8, None).unwrap();
        assert_eq!(from_hex(&to_hex(h)), Some(h));
        assert_eq!(from_hex("00"), None);
        assert_eq!(from_hex(&"ff".repeat(32)), None, "above the modulus");
        assert_eq!(from_hex(&"zz".repeat(32)), None);
    }
}
