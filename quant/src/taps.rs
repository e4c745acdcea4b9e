//! Which input elements each output of a convolution or pooling window
//! reads, written once for the reference pass and the circuits.

use crate::layer::{Conv2d, Pool2d};
use crate::model::window_output;
use crate::tensor::Shape;

/// One output of a convolution: `bias + Σ weight · input[index]`.
pub type Taps = (Vec<(i64, usize)>, i64);

/// The taps of every output of a convolution over a `[c, h, w]` input, in
/// output order (channel, row, column). Zero padding is left out: padded
/// positions read nothing.
pub fn conv_taps(c: &Conv2d, input: &Shape) -> Vec<Taps> {
    let &[ic, h, w] = input.dims() else {
        return vec![];
    };
    let (oc, kh, kw) = (
        c.weight.shape.0[0],
        c.weight.shape.0[2],
        c.weight.shape.0[3],
    );
    // Input channels per group, and output channels per group.
    let (icg, ocg) = (ic / c.groups.max(1), oc / c.groups.max(1));
    let Ok([oh, ow]) = window_output([h, w], [kh, kw], c.stride, c.padding) else {
        return vec![];
    };
    let mut outputs = Vec::with_capacity(oc * oh * ow);
    for o in 0..oc {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut taps = vec![];
                let first = (o / ocg.max(1)) * icg;
                for i in 0..icg {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let y = (oy * c.stride[0] + ky).checked_sub(c.padding[0]);
                            let x = (ox * c.stride[1] + kx).checked_sub(c.padding[1]);
                            if let (Some(y), Some(x)) = (y, x) {
                                if y < h && x < w {
                                    let weight = c.weight.data[((o * icg + i) * kh + ky) * kw + kx];
                                    taps.push((weight, ((first + i) * h + y) * w + x));
                                }
                            }
                        }
                    }
                }
                outputs.push((taps, c.bias[o]));
            }
        }
    }
    outputs
}

/// The input indices of each pooling window over a `[c, h, w]` input, in
/// output order; padded positions are left out.
pub fn pool_windows(input: &Shape, pool: &Pool2d) -> Vec<Vec<usize>> {
    let &[c, h, w] = input.dims() else {
        return vec![];
    };
    let (kernel, stride, padding) = (pool.kernel, pool.stride, pool.padding);
    let Ok([oh, ow]) = window_output([h, w], kernel, stride, padding) else {
        return vec![];
    };
    let mut windows = Vec::with_capacity(c * oh * ow);
    for ch in 0..c {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut window = Vec::with_capacity(kernel[0] * kernel[1]);
                for ky in 0..kernel[0] {
                    for kx in 0..kernel[1] {
                        let y = (oy * stride[0] + ky).checked_sub(padding[0]);
                        let x = (ox * stride[1] + kx).checked_sub(padding[1]);
                        if let (Some(y), Some(x)) = (y, x) {
                            if y < h && x < w {
                                window.push((ch * h + y) * w + x);
                            }
                        }
                    }
                }
                windows.push(window);
            }
        }
    }
    windows
}
