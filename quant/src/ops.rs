//! The integer semantics of zkinfer, written down once.
//!
//! Every other part of zkinfer — the reference forward pass, the candle
//! engine, the circuits — computes exactly these functions. The rules:
//!
//! * **Quantization** of a real `x` at scale `s` is `round(x · 2^s)` with
//!   rounding half *away from zero* ([`quantize`]). Used for weights, biases
//!   and inputs; it happens outside the proof.
//! * **Rescale** by `sh` bits is a rounding shift with ties *towards +∞*:
//!   `acc + 2^(sh-1) = y · 2^sh + r` with `0 ≤ r < 2^sh` ([`rescale`]). The
//!   circuit proves it by range-checking `r`.
//! * **Average pooling** over `n` cells divides with the same tie rule:
//!   `sum + ⌊n/2⌋ = y · n + r`, `0 ≤ r < n` ([`div_round`]).
//! * **Bounds**: a `b`-bit tensor holds integers in `[-2^(b-1), 2^(b-1) - 1]`
//!   ([`bits_range`]). Bounds keep field arithmetic from wrapping.

/// The largest bit width any tensor may have: accumulators are computed in
/// f64 by the candle engine, which is exact only below 2^53.
pub const MAX_BITS: u32 = 53;

/// Quantizes a real number at scale `2^scale`, rounding half away from zero.
///
/// Returns `None` for NaN, infinities, and values whose integer does not fit
/// in an `i64`.
pub fn quantize(x: f64, scale: i32) -> Option<i64> {
    let y = (x * 2f64.powi(scale)).round();
    // 2^63 is exactly representable; anything at or beyond it overflows.
    (y.is_finite() && y.abs() < 9.223_372_036_854_776e18).then_some(y as i64)
}

/// Rounding right shift: `floor((acc + 2^(shift-1)) / 2^shift)`, i.e. round
/// to nearest with ties towards +∞. `shift == 0` is the identity.
pub fn rescale(acc: i64, shift: u32) -> i64 {
    if shift == 0 {
        return acc;
    }
    // i128 so that adding the half never overflows.
    ((acc as i128 + (1i128 << (shift - 1))) >> shift) as i64
}

/// The remainder `r` of [`rescale`]: `acc + 2^(shift-1) - y·2^shift`, in
/// `[0, 2^shift)`. The circuit range-checks it.
pub fn rescale_remainder(acc: i64, shift: u32) -> i64 {
    if shift == 0 {
        return 0;
    }
    let y = rescale(acc, shift) as i128;
    (acc as i128 + (1i128 << (shift - 1)) - (y << shift)) as i64
}

/// Rounding division by a positive `n`: `floor((sum + floor(n/2)) / n)`.
pub fn div_round(sum: i64, n: i64) -> i64 {
    debug_assert!(n > 0);
    (sum as i128 + (n / 2) as i128).div_euclid(n as i128) as i64
}

/// Rounding division by a positive divisor computed at run time:
/// `round(a·2^shift / s)`, ties towards +∞, i.e. `floor((a·2^(shift+1) +
/// s) / (2s))` — the softmax's normalisation. The caller checks `s ≥ 1`
/// and that `a·2^(shift+1)` fits ([`crate::Op::Divide`]'s spec does).
pub fn divide(a: i64, s: i64, shift: u32) -> i64 {
    debug_assert!(s >= 1);
    let numerator = ((a as i128) << (shift + 1)) + s as i128;
    numerator.div_euclid(2 * s as i128) as i64
}

/// `max(x, 0)`.
pub fn relu(x: i64) -> i64 {
    x.max(0)
}

/// The integers a `bits`-bit tensor may hold: `[-2^(bits-1), 2^(bits-1) - 1]`.
pub fn bits_range(bits: u32) -> (i64, i64) {
    debug_assert!((1..=63).contains(&bits));
    let half = 1i64 << (bits - 1);
    (-half, half - 1)
}

/// The smallest bit width whose range holds every integer of magnitude at
/// most `max_abs`.
pub fn bits_for_magnitude(max_abs: u128) -> u32 {
    // b bits hold [-2^(b-1), 2^(b-1)-1]; a magnitude m needs 2^(b-1) > m.
    (128 - max_abs.leading_zeros()) + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quantize_rounds_half_away_from_zero() {
        assert_eq!(quantize(0.5, 0), Some(1));
        assert_eq!(quantize(-0.5, 0), Some(-1));
        assert_eq!(quantize(1.5, 0), Some(2));
        assert_eq!(quantize(-2.5, 0), Some(-3));
        assert_eq!(quantize(0.49999, 0), Some(0));
        assert_eq!(quantize(0.3, 4), Some(5)); // 4.8
        assert_eq!(quantize(1.0 / 16.0, 4), Some(1));
        assert_eq!(quantize(3.0, -1), Some(2)); // 1.5 → 2
    }

    #[test]
    fn quantize_refuses_what_has_no_integer() {
        assert_eq!(quantize(f64::NAN, 0), None);
        assert_eq!(quantize(f64::INFINITY, 0), None);
        assert_eq!(quantize(-f64::INFINITY, 3), None);
        assert_eq!(quantize(1e19, 0), None);
        assert_eq!(quantize(1e18, 0), Some(1_000_000_000_000_000_000));
    }

    #[test]
    fn rescale_ties_go_up() {
        // 6/4 = 1.5 → 2; -6/4 = -1.5 → -1; 5/4 = 1.25 → 1; -5/4 → -1; -7/4 → -2.
        assert_eq!(rescale(6, 2), 2);
        assert_eq!(rescale(-6, 2), -1);
        assert_eq!(rescale(5, 2), 1);
        assert_eq!(rescale(-5, 2), -1);
        assert_eq!(rescale(-7, 2), -2);
        assert_eq!(rescale(-7, 0), -7);
        assert_eq!(rescale(i64::MAX, 1), 1 << 62);
    }

    #[test]
    fn div_round_matches_rescale_for_powers_of_two() {
        for sum in -100..100 {
            assert_eq!(div_round(sum, 4), rescale(sum, 2), "sum {sum}");
        }
        assert_eq!(div_round(13, 9), 1); // 1.44
        assert_eq!(div_round(14, 9), 2); // 1.56
        assert_eq!(div_round(-14, 9), -2);
        assert_eq!(div_round(-13, 9), -1);
    }

    #[test]
    fn bit_widths() {
        assert_eq!(bits_range(8), (-128, 127));
        assert_eq!(bits_for_magnitude(0), 1);
        assert_eq!(bits_for_magnitude(1), 2);
        assert_eq!(bits_for_magnitude(127), 8);
        assert_eq!(bits_for_magnitude(128), 9);
    }

    proptest! {
        #[test]
        fn rescale_is_the_rounding_identity(acc in -(1i64 << 52)..(1i64 << 52), shift in 0u32..40) {
            let y = rescale(acc, shift);
            let r = rescale_remainder(acc, shift);
            prop_assert!(r >= 0 && (r as i128) < (1i128 << shift));
            let half = if shift == 0 { 0 } else { 1i128 << (shift - 1) };
            prop_assert_eq!(acc as i128 + half, ((y as i128) << shift) + r as i128);
            // And it is round-to-nearest, as the real quotient says.
            let exact = acc as f64 / 2f64.powi(shift as i32);
            prop_assert!((y as f64 - exact).abs() <= 0.5);
        }

        #[test]
        fn bits_for_magnitude_is_tight(m in 0u64..(1 << 60)) {
            let b = bits_for_magnitude(m as u128);
            let (lo, hi) = bits_range(b);
            prop_assert!(hi >= m as i64 && lo <= -(m as i64));
            if b > 1 {
                let (_, hi_smaller) = bits_range(b - 1);
                prop_assert!(hi_smaller < m as i64);
            }
        }
    }
}
