//! `ReduceMean`, `ReduceSum`, `ReduceMax` and `ReduceMin` over any axes, as
//! layers zkinfer proves: the tensor's elements ordered so that each
//! output's inputs are one row (a select, no rows in the circuit; skipped
//! when they already are), viewed as a `[kept, 1, reduced]` image, and one
//! `1 × reduced` window per output — an average pool, a max pool, or a
//! depthwise convolution with weights 1 for an exact sum. A minimum is the
//! negated maximum of the negation.

type R<T> = std::result::Result<T, String>;

/// How a reduction of a tensor becomes a row-wise window.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The element order that makes each output's inputs one row, when the
    /// tensor's own order does not.
    pub select: Option<Vec<Option<usize>>>,
    /// Outputs (the product of the kept dims).
    pub kept: usize,
    /// Inputs per output (the product of the reduced dims).
    pub reduced: usize,
    /// The output shape (no batch dimension): empty for one value per
    /// sample (every axis reduced, `keepdims` off).
    pub out_shape: Vec<usize>,
}

/// Plans the reduction of a tensor of `dims` (no batch dimension) over
/// `axes`, given with the batch dimension (`0` is the batch, of size 1:
/// reducing over it changes nothing).
pub fn plan(dims: &[usize], axes: &[usize], keepdims: bool) -> R<Plan> {
    let rank = dims.len();
    let mut reduce = vec![false; rank];
    for &a in axes {
        match a {
            0 => {}
            a if a <= rank => reduce[a - 1] = true,
            a => return Err(format!("axis {a} for a tensor of rank {}", rank + 1)),
        }
    }
    let kept_axes: Vec<usize> = (0..rank).filter(|&a| !reduce[a]).collect();
    let reduced_axes: Vec<usize> = (0..rank).filter(|&a| reduce[a]).collect();
    let kept: usize = kept_axes.iter().map(|&a| dims[a]).product();
    let reduced: usize = reduced_axes.iter().map(|&a| dims[a]).product();
    let order: Vec<usize> = kept_axes.iter().chain(&reduced_axes).copied().collect();
    let select = (order != (0..rank).collect::<Vec<_>>()).then(|| {
        let mut strides = vec![1; rank];
        for a in (0..rank.saturating_sub(1)).rev() {
            strides[a] = strides[a + 1] * dims[a + 1];
        }
        let moved: Vec<usize> = order.iter().map(|&a| dims[a]).collect();
        (0..kept * reduced)
            .map(|mut j| {
                // j's coordinates in the reordered tensor, back to a source.
                let mut source = 0;
                for (k, &a) in order.iter().enumerate().rev() {
                    source += (j % moved[k]) * strides[a];
                    j /= moved[k];
                }
                Some(source)
            })
            .collect()
    });
    let out_shape = if keepdims {
        (0..rank)
            .map(|a| if reduce[a] { 1 } else { dims[a] })
            .collect()
    } else {
        kept_axes.iter().map(|&a| dims[a]).collect()
    };
    Ok(Plan {
        select,
        kept,
        reduced,
        out_shape,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_axes_need_no_select() {
        let p = plan(&[2, 3, 4], &[2, 3], true).unwrap();
        assert_eq!(p.select, None);
        assert_eq!((p.kept, p.reduced), (2, 12));
        assert_eq!(p.out_shape, vec![2, 1, 1]);
        let p = plan(&[2, 3, 4], &[0, 1, 2, 3], false).unwrap();
        assert_eq!((p.kept, p.reduced, p.out_shape), (1, 24, vec![]));
    }

    #[test]
    fn a_leading_axis_is_moved_last() {
        // Reduce the channels of a [2, 1, 3] image: rows are (y, x) pairs,
        // each holding both channels.
        let p = plan(&[2, 1, 3], &[1], false).unwrap();
        assert_eq!((p.kept, p.reduced), (3, 2));
        let expected: Vec<Option<usize>> = [0, 3, 1, 4, 2, 5].map(Some).to_vec();
        assert_eq!(p.select, Some(expected));
        assert_eq!(p.out_shape, vec![1, 3]);
    }

    #[test]
    fn batch_axis_alone_changes_nothing_and_bad_axes_are_refused() {
        let p = plan(&[4], &[0], true).unwrap();
        assert_eq!(
            (p.kept, p.reduced, p.select, p.out_shape),
            (4, 1, None, vec![4])
        );
        assert!(plan(&[4], &[2], true).is_err());
    }
}
