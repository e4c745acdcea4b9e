//! `ConvTranspose` as layers zkinfer already proves: the input spread out
//! by zero insertion and padded (a select: no rows), then an ordinary
//! convolution, stride 1 and no padding, with each kernel flipped and its
//! in/out axes swapped. Exact: the same products and sums, in another
//! order.
//!
//! Along one axis, input `i` lands at position `i·s + (k - 1 - p_begin)` of
//! the spread-out image, whose length is
//! `(n - 1)·s + 1 + (k - 1 - p_begin) + (k - 1 - p_end) + output_padding`;
//! a pad larger than `k - 1` crops instead. The conv then gives ONNX's
//! `(n - 1)·s + k - p_begin - p_end + output_padding` outputs.

type R<T> = std::result::Result<T, String>;

/// A transposed convolution of a `[c, h, w]` image, as a select and a conv.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The spread-out image, `[c, h', w']`.
    pub spread: [usize; 3],
    /// Its elements' sources in the input image (`None`: an inserted zero).
    pub indices: Vec<Option<usize>>,
    /// The conv's weight, `[out_channels, in_channels / groups, kh, kw]`.
    pub weight_dims: [usize; 4],
    /// Its values, row-major.
    pub weight: Vec<f32>,
    /// The output, `[out_channels, ho, wo]`.
    pub out: [usize; 3],
}

/// The attributes of a 2-D `ConvTranspose` that zkinfer reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Attributes {
    /// `[sh, sw]`.
    pub stride: [usize; 2],
    /// `[top, left, bottom, right]`.
    pub pads: [usize; 4],
    /// Extra rows and columns at the end.
    pub output_padding: [usize; 2],
    /// Channel groups.
    pub groups: usize,
}

/// Plans `ConvTranspose` of an `[ic, h, w]` image by a weight of
/// `w_dims = [ic, oc / groups, kh, kw]` (ONNX's layout).
pub fn plan(input: [usize; 3], w_dims: &[usize], weight: &[f32], a: &Attributes) -> R<Plan> {
    let [ic, h, w] = input;
    let &[wic, ocg, kh, kw] = w_dims else {
        return Err(format!(
            "weight dims {w_dims:?} are not [in, out / group, kh, kw]"
        ));
    };
    if w_dims.iter().product::<usize>() != weight.len() {
        return Err(format!("{} weights for dims {w_dims:?}", weight.len()));
    }
    let g = a.groups;
    if g == 0 || wic != ic || ic % g != 0 {
        return Err(format!(
            "group = {g} with {ic} input channels and weight dims {w_dims:?}"
        ));
    }
    if a.stride.contains(&0) || kh == 0 || kw == 0 || h == 0 || w == 0 {
        return Err(format!(
            "strides {:?} and kernel {kh}×{kw} on a {h}×{w} image",
            a.stride
        ));
    }
    for (axis, (&op, &s)) in a.output_padding.iter().zip(&a.stride).enumerate() {
        if op >= s {
            return Err(format!(
                "output_padding {op} on axis {axis} is not smaller than its stride {s}"
            ));
        }
    }
    let oc = ocg * g;
    let spread_axis = |n: usize, s: usize, k: usize, begin: usize, end: usize, extra: usize| {
        // Position of input 0, and the length; i64 so a crop shows as < 0.
        let first = k as i64 - 1 - begin as i64;
        let len =
            (n as i64 - 1) * s as i64 + 1 + first + (k as i64 - 1 - end as i64) + extra as i64;
        (first, len)
    };
    let (top, hs) = spread_axis(
        h,
        a.stride[0],
        kh,
        a.pads[0],
        a.pads[2],
        a.output_padding[0],
    );
    let (left, ws) = spread_axis(
        w,
        a.stride[1],
        kw,
        a.pads[1],
        a.pads[3],
        a.output_padding[1],
    );
    if hs < kh as i64 || ws < kw as i64 {
        return Err(format!(
            "pads {:?} leave no output for a {h}×{w} input and a {kh}×{kw} kernel",
            a.pads
        ));
    }
    let (hs, ws) = (hs as usize, ws as usize);
    let numel = ic
        .checked_mul(hs)
        .and_then(|n| n.checked_mul(ws))
        .filter(|&n| n <= zkinfer_quant::MAX_ELEMENTS)
        .ok_or_else(|| format!("the spread-out image {ic}×{hs}×{ws} is too large"))?;
    // The input index at spread-out position `pos` of an axis, if any.
    let source = |pos: usize, first: i64, s: usize, n: usize| {
        let rel = pos as i64 - first;
        (rel >= 0 && rel % s as i64 == 0 && ((rel / s as i64) as usize) < n)
            .then(|| (rel / s as i64) as usize)
    };
    let indices = (0..numel)
        .map(|j| {
            let (c, y, x) = (j / (hs * ws), j / ws % hs, j % ws);
            let iy = source(y, top, a.stride[0], h)?;
            let ix = source(x, left, a.stride[1], w)?;
            Some((c * h + iy) * w + ix)
        })
        .collect();
    // W'[gi·ocg + o, i, y, x] = W[gi·icg + i, o, kh-1-y, kw-1-x].
    let icg = ic / g;
    let mut flipped = Vec::with_capacity(weight.len());
    for gi in 0..g {
        for o in 0..ocg {
            for i in 0..icg {
                for y in 0..kh {
                    for x in 0..kw {
                        let src =
                            (((gi * icg + i) * ocg + o) * kh + (kh - 1 - y)) * kw + (kw - 1 - x);
                        flipped.push(weight[src]);
                    }
                }
            }
        }
    }
    Ok(Plan {
        spread: [ic, hs, ws],
        indices,
        weight_dims: [oc, icg, kh, kw],
        weight: flipped,
        out: [oc, hs - kh + 1, ws - kw + 1],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ConvTranspose by its definition: each input scatters its kernel.
    fn reference(
        input: [usize; 3],
        x: &[f32],
        w_dims: [usize; 4],
        w: &[f32],
        a: &Attributes,
    ) -> (Vec<usize>, Vec<f32>) {
        let [ic, h, wd] = input;
        let [_, ocg, kh, kw] = w_dims;
        let g = a.groups;
        let oc = ocg * g;
        let ho = (h - 1) * a.stride[0] + kh + a.output_padding[0] - a.pads[0] - a.pads[2];
        let wo = (wd - 1) * a.stride[1] + kw + a.output_padding[1] - a.pads[1] - a.pads[3];
        let mut out = vec![0f32; oc * ho * wo];
        for c in 0..ic {
            let gi = c / (ic / g);
            for iy in 0..h {
                for ix in 0..wd {
                    for o in 0..ocg {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let y = (iy * a.stride[0] + ky) as i64 - a.pads[0] as i64;
                                let xx = (ix * a.stride[1] + kx) as i64 - a.pads[1] as i64;
                                if y < 0 || xx < 0 || y >= ho as i64 || xx >= wo as i64 {
                                    continue;
                                }
                                let oc_i = gi * ocg + o;
                                out[(oc_i * ho + y as usize) * wo + xx as usize] += x
                                    [(c * h + iy) * wd + ix]
                                    * w[((c * ocg + o) * kh + ky) * kw + kx];
                            }
                        }
                    }
                }
            }
        }
        (vec![oc, ho, wo], out)
    }

    /// The plan's select then conv, computed directly.
    fn planned(
        input: [usize; 3],
        x: &[f32],
        w_dims: [usize; 4],
        w: &[f32],
        a: &Attributes,
    ) -> (Vec<usize>, Vec<f32>) {
        let p = plan(input, &w_dims, w, a).unwrap();
        let spread: Vec<f32> = p.indices.iter().map(|i| i.map_or(0.0, |i| x[i])).collect();
        let [_, hs, ws] = p.spread;
        let [oc, icg, kh, kw] = p.weight_dims;
        let [_, ho, wo] = p.out;
        let ocg = oc / a.groups;
        let mut out = vec![0f32; oc * ho * wo];
        for o in 0..oc {
            let gi = o / ocg;
            for y in 0..ho {
                for xx in 0..wo {
                    let mut sum = 0.0;
                    for i in 0..icg {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                sum += spread[((gi * icg + i) * hs + y + ky) * ws + xx + kx]
                                    * p.weight[((o * icg + i) * kh + ky) * kw + kx];
                            }
                        }
                    }
                    out[(o * ho + y) * wo + xx] = sum;
                }
            }
        }
        (p.out.to_vec(), out)
    }

    #[test]
    fn select_and_flipped_conv_equal_the_definition() {
        let cases = [
            ([2, 3, 3], [2, 2, 3, 3], [2, 2], [1, 1, 1, 1], [1, 1], 1),
            ([2, 4, 3], [2, 3, 2, 2], [2, 2], [0, 0, 0, 0], [0, 0], 1),
            ([4, 3, 3], [4, 1, 3, 2], [1, 2], [0, 1, 2, 0], [0, 1], 2),
            // Pads larger than k - 1: the spread-out image is cropped.
            ([1, 5, 5], [1, 1, 2, 2], [1, 1], [2, 2, 1, 1], [0, 0], 1),
        ];
        for (input, w_dims, stride, pads, output_padding, groups) in cases {
            let a = Attributes {
                stride,
                pads,
                output_padding,
                groups,
            };
            let n: usize = input.iter().product();
            let x: Vec<f32> = (0..n).map(|i| (i * 7 % 11) as f32 - 5.0).collect();
            let wn: usize = w_dims.iter().product();
            let w: Vec<f32> = (0..wn).map(|i| (i * 5 % 9) as f32 - 4.0).collect();
            assert_eq!(
                planned(input, &x, w_dims, &w, &a),
                reference(input, &x, w_dims, &w, &a),
                "{input:?} {w_dims:?} {a:?}"
            );
        }
    }

    #[test]
    fn bad_attributes_are_refused() {
        let a = |stride, pads, output_padding, groups| Attributes {
            stride,
            pads,
            output_padding,
            groups,
        };
        let w = vec![0.0; 9];
        assert!(plan([1, 3, 3], &[1, 1, 3, 3], &w, &a([0, 1], [0; 4], [0, 0], 1)).is_err());
        assert!(plan([1, 3, 3], &[1, 1, 3, 3], &w, &a([1, 1], [0; 4], [1, 0], 1)).is_err());
        assert!(plan([1, 3, 3], &[2, 1, 3, 3], &w, &a([1, 1], [0; 4], [0, 0], 1)).is_err());
        assert!(plan([1, 3, 3], &[1, 1, 3, 3], &w, &a([1, 1], [0; 4], [0, 0], 0)).is_err());
        assert!(plan(
            [1, 1, 1],
            &[1, 1, 3, 3],
            &w,
            &a([1, 1], [2, 2, 2, 2], [0, 0], 1)
        )
        .is_err());
        assert!(plan([1, 3, 3], &[1, 1, 3], &w, &a([1, 1], [0; 4], [0, 0], 1)).is_err());
    }
}
