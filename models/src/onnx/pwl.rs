//! Piecewise-linear activations, exactly: `y = a·x + b + Σ cᵢ·relu(x − kᵢ)`
//! with per-element `a`, `b`, `cᵢ`, `kᵢ` — built from ReLUs, per-element
//! scales and sums, which the circuit proves without a lookup table (so
//! without rounding the input to a table's domain). Leaky ReLU, PReLU (one
//! slope per channel too), Clip (ReLU6) and HardSigmoid are written so.

type R<T> = std::result::Result<T, String>;

/// `y = linear.0·x + linear.1 + Σ c·relu(x − k)` over `n` elements.
#[derive(Clone, Debug, PartialEq)]
pub struct Pwl {
    /// `(a, b)` per element, or `None` when both are zero.
    pub linear: Option<(Vec<f32>, Vec<f32>)>,
    /// `(c, k)` per element, one pair of vectors per hinge.
    pub hinges: Vec<(Vec<f32>, Vec<f32>)>,
}

fn all(n: usize, v: f32) -> Vec<f32> {
    vec![v; n]
}

/// `max(x, 0) + slope·min(x, 0) = slope·x + (1 − slope)·relu(x)`, with one
/// slope per element.
pub fn leaky(slopes: Vec<f32>) -> Pwl {
    let n = slopes.len();
    let c = slopes.iter().map(|a| 1.0 - a).collect();
    Pwl {
        linear: Some((slopes, all(n, 0.0))),
        hinges: vec![(c, all(n, 0.0))],
    }
}

/// `min(hi, max(lo, x))` (either bound may be infinite, not both).
pub fn clip(n: usize, lo: f32, hi: f32) -> R<Pwl> {
    if lo.is_nan() || hi.is_nan() || lo > hi {
        return Err(format!("Clip({lo}, {hi})"));
    }
    match (lo.is_finite(), hi.is_finite()) {
        // lo + relu(x − lo) − relu(x − hi)
        (true, true) => Ok(Pwl {
            linear: (lo != 0.0).then(|| (all(n, 0.0), all(n, lo))),
            hinges: vec![(all(n, 1.0), all(n, lo)), (all(n, -1.0), all(n, hi))],
        }),
        (true, false) => Ok(Pwl {
            linear: (lo != 0.0).then(|| (all(n, 0.0), all(n, lo))),
            hinges: vec![(all(n, 1.0), all(n, lo))],
        }),
        // x − relu(x − hi)
        (false, true) => Ok(Pwl {
            linear: Some((all(n, 1.0), all(n, 0.0))),
            hinges: vec![(all(n, -1.0), all(n, hi))],
        }),
        (false, false) => Err("Clip without bounds is the identity".into()),
    }
}

/// `clip(alpha·x + beta, 0, 1)` for `alpha > 0`:
/// `alpha·relu(x + beta/alpha) − alpha·relu(x − (1 − beta)/alpha)`.
pub fn hard_sigmoid(n: usize, alpha: f32, beta: f32) -> Option<Pwl> {
    (alpha > 0.0 && alpha.is_finite() && beta.is_finite()).then(|| Pwl {
        linear: None,
        hinges: vec![
            (all(n, alpha), all(n, -beta / alpha)),
            (all(n, -alpha), all(n, (1.0 - beta) / alpha)),
        ],
    })
}

#[cfg(test)]
impl Pwl {
    /// The value at `x` of element `i`.
    pub fn eval(&self, i: usize, x: f32) -> f32 {
        let linear = self.linear.as_ref().map_or(0.0, |(a, b)| a[i] * x + b[i]);
        linear
            + self
                .hinges
                .iter()
                .map(|(c, k)| c[i] * (x - k[i]).max(0.0))
                .sum::<f32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_functions() {
        let xs = [
            -9.0f32, -6.5, -1.0, -0.25, 0.0, 0.5, 1.0, 2.5, 5.9, 6.0, 7.5,
        ];
        let leaky = leaky(vec![0.1]);
        let relu6 = clip(1, 0.0, 6.0).unwrap();
        let clip_lo = clip(1, -1.0, f32::INFINITY).unwrap();
        let clip_hi = clip(1, f32::NEG_INFINITY, 2.0).unwrap();
        let clip_both = clip(1, -2.0, 3.0).unwrap();
        let hs = hard_sigmoid(1, 0.2, 0.5).unwrap();
        for x in xs {
            let close =
                |got: f32, want: f32| assert!((got - want).abs() < 1e-6, "{x}: {got} vs {want}");
            close(leaky.eval(0, x), if x >= 0.0 { x } else { 0.1 * x });
            close(relu6.eval(0, x), x.clamp(0.0, 6.0));
            close(clip_lo.eval(0, x), x.max(-1.0));
            close(clip_hi.eval(0, x), x.min(2.0));
            close(clip_both.eval(0, x), x.clamp(-2.0, 3.0));
            close(hs.eval(0, x), (0.2 * x + 0.5).clamp(0.0, 1.0));
        }
        assert!(clip(1, 1.0, 0.0).is_err());
        assert!(hard_sigmoid(1, -0.2, 0.5).is_none());
    }
}
