//! Exact rewrites into the layers zkinfer has: an element-wise affine map
//! (`Mul`, `Div`, `Add`, `Sub` by a constant, or a `BatchNormalization`)
//! folded into the weights of a neighbouring `Gemm`/`MatMul`/`Conv`.
//!
//! Which cases are exact (as real-number algebra; in f32 the folded weights
//! round once, well inside the importer's tolerance):
//!
//! - **after** a linear or conv layer, by a scalar or per-output-channel
//!   constant: `s·(Wx + b) + t = (s·W)x + (s·b + t)` — always;
//! - **before** a linear layer, by a scalar or per-feature constant:
//!   `W(s·x + t) + b = (W·diag s)x + (W·t + b)` — always;
//! - **before** a conv, by a scalar or per-input-channel constant: the scale
//!   always (zero padding stays zero: `s·0 = 0`), the shift only when the
//!   conv has no padding (a padded border would see `t` instead of 0).
//!
//! Anything else (a constant that varies within a channel before a conv, an
//! affine map before a pooling or an activation) has no exact rewrite and
//! is reported unsupported. (The graph pass also folds a zero `Pad` into a
//! conv's padding and a `Transpose` into a linear layer's weight columns.)

use super::fold::{broadcast_dims, Const};

type R<T> = std::result::Result<T, String>;

/// `y = scale · (x + pre) + shift`, element by element over a value's
/// shape (without the batch dimension). `pre` keeps BatchNormalization's
/// `(x - mean) · f + beta` in the order it is computed, so a BN folded
/// after a layer rounds exactly as zkinfer's importer always has (the
/// golden verifying keys of the ONNX fixtures depend on it).
#[derive(Clone, Debug)]
pub struct Affine {
    /// One offset per element, added first.
    pub pre: Vec<f32>,
    /// One factor per element.
    pub scale: Vec<f32>,
    /// One offset per element, added last.
    pub shift: Vec<f32>,
    /// The nodes it was built from (graph indices).
    pub nodes: Vec<usize>,
}

impl Affine {
    /// `-x` on `n` elements, made for graph node `node`.
    pub fn negation(n: usize, node: usize) -> Affine {
        Affine {
            pre: vec![0.0; n],
            scale: vec![-1.0; n],
            shift: vec![0.0; n],
            nodes: vec![node],
        }
    }

    /// The offset of the same map written `scale · x + offset`.
    pub fn offset(&self) -> Vec<f32> {
        self.pre
            .iter()
            .zip(&self.scale)
            .zip(&self.shift)
            .map(|((p, s), t)| s * p + t)
            .collect()
    }

    /// `outer ∘ self`, as `(a·s)·x + (a·offset + outer's offset)`.
    pub fn then(&self, outer: &Affine) -> Affine {
        let scale: Vec<f32> = self
            .scale
            .iter()
            .zip(&outer.scale)
            .map(|(s, a)| s * a)
            .collect();
        let outer_offset = outer.offset();
        let shift = self
            .offset()
            .iter()
            .zip(&outer.scale)
            .zip(&outer_offset)
            .map(|((t, a), b)| a * t + b)
            .collect();
        let mut nodes = self.nodes.clone();
        nodes.extend(&outer.nodes);
        Affine {
            pre: vec![0.0; scale.len()],
            scale,
            shift,
            nodes,
        }
    }
}

/// A constant broadcast over a value of `shape` (without batch), which it
/// must not enlarge: one value per element.
pub fn per_element(c: &Const, shape: &[usize]) -> R<Vec<f32>> {
    let mut full = vec![1];
    full.extend(shape);
    let dims = broadcast_dims(&full, &c.dims)?;
    if dims != full {
        return Err(format!(
            "a constant of shape {:?} would broadcast the value of shape {full:?} to {dims:?}",
            c.dims
        ));
    }
    // Same index arithmetic as numpy's broadcasting, over `full`.
    let values = c.as_f32();
    let n: usize = shape.iter().product();
    let pad = full.len() - c.dims.len();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (mut rest, mut index, mut stride) = (i, 0, 1);
        let mut coords = vec![0; full.len()];
        for a in (0..full.len()).rev() {
            coords[a] = rest % full[a];
            rest /= full[a];
        }
        for a in (pad..full.len()).rev() {
            let d = c.dims[a - pad];
            if d != 1 {
                index += coords[a] * stride;
            }
            stride *= d;
        }
        out.push(values[index]);
    }
    Ok(out)
}

/// The affine map of `x op c` (or `c op x` when `const_first`).
pub fn of_arithmetic(
    op: &str,
    c: &Const,
    const_first: bool,
    shape: &[usize],
    node: usize,
) -> R<Affine> {
    let v = per_element(c, shape)?;
    let ones = vec![1.0; v.len()];
    let zeros = vec![0.0; v.len()];
    let (scale, shift) = match (op, const_first) {
        ("Add", _) => (ones, v),
        ("Sub", false) => (ones, v.iter().map(|c| -c).collect()),
        ("Sub", true) => (vec![-1.0; v.len()], v),
        ("Mul", _) => (v, zeros),
        ("Div", false) => {
            if v.contains(&0.0) {
                return Err("division by a constant that holds 0".into());
            }
            (v.iter().map(|c| 1.0 / c).collect(), zeros)
        }
        _ => return Err(format!("{op} with the constant first is not affine")),
    };
    Ok(Affine {
        pre: vec![0.0; scale.len()],
        scale,
        shift,
        nodes: vec![node],
    })
}

/// `BatchNormalization` in inference: per channel (axis 1 of the full
/// shape), `(x - mean) / sqrt(var + eps) · gamma + beta`.
pub fn of_batch_norm(params: [&[f32]; 4], eps: f32, shape: &[usize], node: usize) -> R<Affine> {
    let [gamma, beta, mean, var] = params;
    let channels = *shape.first().ok_or("a BatchNormalization of a scalar")?;
    if [gamma.len(), beta.len(), mean.len(), var.len()]
        .iter()
        .any(|&n| n != channels)
    {
        return Err(format!("parameters do not have {channels} channels"));
    }
    let per: usize = shape[1..].iter().product();
    let mut scale = Vec::with_capacity(channels * per);
    let mut shift = Vec::with_capacity(channels * per);
    let mut pre = Vec::with_capacity(channels * per);
    for c in 0..channels {
        let f = gamma[c] / (var[c] + eps).sqrt();
        if !f.is_finite() {
            return Err(format!(
                "channel {c}: variance {} + epsilon {eps} gives an infinite factor",
                var[c]
            ));
        }
        scale.extend(std::iter::repeat_n(f, per));
        pre.extend(std::iter::repeat_n(-mean[c], per));
        shift.extend(std::iter::repeat_n(beta[c], per));
    }
    Ok(Affine {
        pre,
        scale,
        shift,
        nodes: vec![node],
    })
}

/// One value per channel (the first dimension of `shape`), when `values`
/// are constant within each channel.
pub fn per_channel(values: &[f32], shape: &[usize]) -> Option<Vec<f32>> {
    let channels = *shape.first()?;
    let per: usize = shape[1..].iter().product();
    if per == 0 || values.len() != channels * per {
        return None;
    }
    values
        .chunks(per)
        .map(|c| c.iter().all(|&v| v == c[0]).then_some(c[0]))
        .collect()
}

/// Folds `a` applied to a layer's output into its weight (`[out, …]`) and
/// bias (`[out]`): the map must be per output channel.
pub fn after_layer(weight: &mut [f32], bias: &mut [f32], a: &Affine, out_shape: &[usize]) -> R<()> {
    let channel = |v: &[f32]| per_channel(v, out_shape);
    let (Some(p), Some(s), Some(t)) = (channel(&a.pre), channel(&a.scale), channel(&a.shift))
    else {
        return Err("the constant varies within an output channel".into());
    };
    let per = weight.len() / bias.len().max(1);
    for (o, chunk) in weight.chunks_mut(per).enumerate() {
        chunk.iter_mut().for_each(|w| *w *= s[o]);
    }
    for (o, b) in bias.iter_mut().enumerate() {
        *b = (*b + p[o]) * s[o] + t[o];
    }
    Ok(())
}

/// Folds `a` applied to a linear layer's input (`in` features) into its
/// weight `[out, in]` and bias.
pub fn before_linear(weight: &mut [f32], bias: &mut [f32], a: &Affine) {
    let inputs = a.scale.len();
    let offset = a.offset();
    for (o, row) in weight.chunks_mut(inputs).enumerate() {
        let mut extra = 0f64;
        for (j, w) in row.iter_mut().enumerate() {
            extra += f64::from(*w) * f64::from(offset[j]);
            *w *= a.scale[j];
        }
        bias[o] += extra as f32;
    }
}

/// Folds `a` applied to a conv's input (`[ic, h, w]`) into its weight
/// `[oc, ic, kh, kw]` and bias: per input channel, and a shift only
/// without padding.
pub fn before_conv(
    weight: &mut [f32],
    bias: &mut [f32],
    a: &Affine,
    in_shape: &[usize],
    padded: bool,
) -> R<()> {
    let (Some(s), Some(t)) = (
        per_channel(&a.scale, in_shape),
        per_channel(&a.offset(), in_shape),
    ) else {
        return Err("the constant varies within an input channel".into());
    };
    if padded && t.iter().any(|&v| v != 0.0) {
        return Err(
            "an offset before a padded conv is not exact (the padding would stay 0)".into(),
        );
    }
    let ic = s.len();
    let kernel = weight.len() / bias.len().max(1) / ic.max(1);
    for (o, filter) in weight.chunks_mut(ic * kernel).enumerate() {
        let mut extra = 0f64;
        for (c, taps) in filter.chunks_mut(kernel).enumerate() {
            for w in taps {
                extra += f64::from(*w) * f64::from(t[c]);
                *w *= s[c];
            }
        }
        bias[o] += extra as f32;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_per_channel_constant_broadcasts_over_the_image() {
        let c = Const::floats(vec![1, 2, 1, 1], vec![2.0, 3.0]);
        let a = of_arithmetic("Mul", &c, false, &[2, 2, 2], 0).unwrap();
        assert_eq!(a.scale, [2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0]);
        assert_eq!(per_channel(&a.scale, &[2, 2, 2]), Some(vec![2.0, 3.0]));
        // A constant that would enlarge the value is refused.
        let big = Const::floats(vec![3, 2, 1, 1], vec![1.0; 6]);
        assert!(of_arithmetic("Mul", &big, false, &[2, 2, 2], 0).is_err());
    }

    #[test]
    fn folding_before_a_linear_layer_matches_applying_the_map() {
        // W = [[1, 2], [3, 4]], b = [0.5, -1]; x = [1, -2]; a: 2x + [1, 3].
        let (mut w, mut b) = (vec![1.0, 2.0, 3.0, 4.0], vec![0.5, -1.0]);
        let a = Affine {
            pre: vec![0.0; 2],
            scale: vec![2.0, 2.0],
            shift: vec![1.0, 3.0],
            nodes: vec![],
        };
        before_linear(&mut w, &mut b, &a);
        let x = [1.0f32, -2.0];
        let mapped = [2.0 * x[0] + 1.0, 2.0 * x[1] + 3.0];
        let want = [
            1.0 * mapped[0] + 2.0 * mapped[1] + 0.5,
            3.0 * mapped[0] + 4.0 * mapped[1] - 1.0,
        ];
        let got = [
            w[0] * x[0] + w[1] * x[1] + b[0],
            w[2] * x[0] + w[3] * x[1] + b[1],
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn a_shift_before_a_padded_conv_is_refused() {
        let (mut w, mut b) = (vec![1.0; 9], vec![0.0]);
        let a = Affine {
            pre: vec![0.0; 4],
            scale: vec![1.0; 4],
            shift: vec![0.5; 4],
            nodes: vec![],
        };
        assert!(before_conv(&mut w, &mut b, &a, &[1, 2, 2], true).is_err());
        before_conv(&mut w, &mut b, &a, &[1, 2, 2], false).unwrap();
        assert_eq!(b, [4.5]);
    }
}
