//! Integers in the field. A signed integer `x` embeds as `x mod p` in the
//! Pallas base field: negative values become `p - |x|`. Every value zkinfer
//! assigns is far below `p/2` in magnitude (bounds are at most 53 bits), so
//! the embedding is injective on everything a circuit can produce.

use ff::PrimeField;
use pasta_curves::Fp;

/// The embedding of a signed integer.
pub fn fe(x: i64) -> Fp {
    if x >= 0 {
        Fp::from(x as u64)
    } else {
        -Fp::from(x.unsigned_abs())
    }
}

/// The signed integer a field element stands for, if its magnitude fits in
/// an `i64` (the inverse of [`fe`]).
pub fn to_i64(f: &Fp) -> Option<i64> {
    let as_u64 = |f: &Fp| {
        let repr = f.to_repr();
        repr[8..]
            .iter()
            .all(|&b| b == 0)
            .then(|| u64::from_le_bytes(repr[..8].try_into().expect("8 bytes")))
    };
    if let Some(v) = as_u64(f).filter(|&v| v <= i64::MAX as u64) {
        return Some(v as i64);
    }
    as_u64(&-*f)
        .filter(|&v| v <= i64::MAX as u64 + 1)
        .map(|v| (v as i128).wrapping_neg() as i64)
}

/// A field element as 64 hex digits (its canonical little-endian bytes):
/// how commitments and blinding elements are written.
pub fn to_hex(value: Fp) -> String {
    value.to_repr().iter().map(|b| format!("{b:02x}")).collect()
}

/// The field element [`to_hex`] wrote, if `text` is one (hex digits only:
/// `u8::from_str_radix` alone would take a `+`).
pub fn from_hex(text: &str) -> Option<Fp> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut repr = [0u8; 32];
    for (i, byte) in repr.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Option::from(Fp::from_repr(repr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedding_round_trips() {
        for x in [0, 1, -1, 255, -256, i64::MAX, i64::MIN, 1 << 52, -(1 << 52)] {
            assert_eq!(to_i64(&fe(x)), Some(x), "{x}");
        }
        assert_eq!(fe(-1) + fe(1), Fp::zero());
        assert_eq!(to_i64(&(fe(i64::MAX) + fe(1))), None);
    }
}
