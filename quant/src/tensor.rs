//! Integer tensors, their shapes and their power-of-two scales.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The dimensions of a tensor, outermost first (row-major). Models have no
/// batch dimension: an image is `[channels, height, width]`, a vector `[n]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Shape(pub Vec<usize>);

impl Shape {
    /// The number of elements (1 for a scalar shape `[]`); `usize::MAX`
    /// when the product overflows, which no data can match.
    pub fn numel(&self) -> usize {
        self.0
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .unwrap_or(usize::MAX)
    }

    /// The dimensions.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// The number of dimensions.
    pub fn rank(&self) -> usize {
        self.0.len()
    }
}

impl From<Vec<usize>> for Shape {
    fn from(dims: Vec<usize>) -> Self {
        Shape(dims)
    }
}

impl<const N: usize> From<[usize; N]> for Shape {
    fn from(dims: [usize; N]) -> Self {
        Shape(dims.to_vec())
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dims: Vec<String> = self.0.iter().map(|d| d.to_string()).collect();
        write!(f, "[{}]", dims.join("×"))
    }
}

/// A power-of-two scale: the integer `q` stands for the real value `q / 2^s`.
///
/// `s` is the number of fractional bits; it may be negative for tensors whose
/// values are large integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Scale(pub i32);

impl Scale {
    /// The largest `|s|` a model may declare or derive.
    ///
    /// Every integer zkinfer holds is below 2^53 in magnitude
    /// ([`crate::ops::MAX_BITS`]: the candle engine computes in f64), so a
    /// tensor at scale `s` spans at most `2^(53 - s)` with a resolution of
    /// `2^-s`. With `|s| ≤ 64` that covers resolutions down to 2^-64 and
    /// magnitudes up to 2^117 — far beyond what a network holds (calibration
    /// picks scales from -30 to 40) — while the sum of two scales, a scale
    /// minus a shift of up to 62 bits, and `2^s` as an f64 all stay exact,
    /// with no `i32` overflow anywhere. Larger scales are refused by name.
    pub const MAX_ABS: i32 = 64;

    /// `Some(self)` when `|s| ≤` [`Scale::MAX_ABS`].
    pub fn checked(self) -> Option<Self> {
        (self.0.unsigned_abs() <= Self::MAX_ABS as u32).then_some(self)
    }

    /// `2^s` as a float (exact for every scale zkinfer uses).
    pub fn factor(self) -> f64 {
        2f64.powi(self.0)
    }

    /// The real value an integer stands for at this scale.
    pub fn dequantize(self, q: i64) -> f64 {
        q as f64 / self.factor()
    }
}

/// The unit of one integer step: `2^-4` for scale 4, `2^0` for scale 0,
/// `2^3` for scale -3 (never `2^--3`).
impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // q stands for q · 2^-s: print the exponent `-s` with one sign.
        write!(f, "2^{}", -i64::from(self.0))
    }
}

/// A dense row-major tensor of integers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tensor {
    /// The dimensions.
    pub shape: Shape,
    /// `shape.numel()` values, row-major.
    pub data: Vec<i64>,
}

impl Tensor {
    /// A tensor from its shape and data; `None` when the lengths disagree.
    pub fn new(shape: impl Into<Shape>, data: Vec<i64>) -> Option<Self> {
        let shape = shape.into();
        (shape.numel() == data.len()).then_some(Tensor { shape, data })
    }

    /// A tensor of zeros.
    pub fn zeros(shape: impl Into<Shape>) -> Self {
        let shape = shape.into();
        let data = vec![0; shape.numel()];
        Tensor { shape, data }
    }

    /// The largest absolute value (0 for an empty tensor).
    pub fn max_abs(&self) -> u64 {
        self.data
            .iter()
            .map(|v| v.unsigned_abs())
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod display_tests {
    use super::Scale;

    #[test]
    fn scales_display_with_one_sign() {
        assert_eq!(Scale(4).to_string(), "2^-4");
        assert_eq!(Scale(0).to_string(), "2^0");
        assert_eq!(Scale(-22).to_string(), "2^22");
    }
}
