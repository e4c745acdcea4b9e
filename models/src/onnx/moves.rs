//! Ops that only move values — `Concat`, `Slice`, `Split`, `Gather` with
//! constant indices, `Expand`, `Tile`, a transpose no layer absorbs, `Pad`
//! — imported as a select ([`crate::FloatOp::Select`]): output element `j`
//! is one element of the inputs, or zero.
//!
//! The index map is not written per op: the constant folder
//! ([`super::fold`]) evaluates the node on *index tensors* (element `k` of
//! the inputs laid end to end holds `k + 1`), and its output says where
//! every element came from (`0`: a padded zero). So every value-moving op
//! the folder knows imports exactly as the folder computes it.

use super::fold::{Const, Data};

type R<T> = std::result::Result<T, String>;

/// The index tensor of a data input of `dims` whose elements start at
/// `offset` in the inputs laid end to end.
pub fn iota(dims: Vec<usize>, offset: usize) -> Const {
    let n: usize = dims.iter().product();
    let values = (0..n).map(|k| (offset + k + 1) as i64).collect();
    Const::ints(dims, values)
}

/// Where each element of a folded index tensor came from.
pub fn sources(c: &Const) -> R<Vec<Option<usize>>> {
    match &c.data {
        Data::I64(v) => v
            .iter()
            .map(|&i| match i {
                0 => Ok(None),
                i if i > 0 => Ok(Some(i as usize - 1)),
                i => Err(format!("index {i} moved by the op")),
            })
            .collect(),
        Data::F32(_) => Err("the op made floats of the indices".into()),
    }
}

/// numpy broadcasting of a value of `dims` to `out` (batch included in
/// both): the source of every element of the broadcast value.
pub fn broadcast(dims: &[usize], out: &[usize]) -> Vec<Option<usize>> {
    let n: usize = out.iter().product();
    (0..n)
        .map(super::fold::broadcast_index(dims, out))
        .map(Some)
        .collect()
}

/// `Pad` of a value of `full` dims (batch included) by ONNX's `pads`
/// (`[begin…, end…]`, non-negative) in mode `constant` (zeros), `reflect`
/// or `edge`: the source of every element of the padded value.
pub fn pad(full: &[usize], pads: &[i64], mode: &str) -> R<Vec<Option<usize>>> {
    if !matches!(mode, "constant" | "reflect" | "edge") {
        return Err(format!(
            "Pad mode {mode:?}: zkinfer pads in constant, reflect or edge mode"
        ));
    }
    let rank = full.len();
    if pads.len() != 2 * rank || pads.iter().any(|&p| p < 0) {
        return Err(format!(
            "pads {pads:?} for rank {rank}: non-negative, two per axis"
        ));
    }
    let begin: Vec<usize> = pads[..rank].iter().map(|&p| p as usize).collect();
    let out: Vec<usize> = (0..rank)
        .map(|a| full[a] + begin[a] + pads[rank + a] as usize)
        .collect();
    if mode == "reflect"
        && (0..rank).any(|a| {
            (pads[a] > 0 || pads[rank + a] > 0)
                && (begin[a] >= full[a] || pads[rank + a] as usize >= full[a])
        })
    {
        return Err(format!(
            "reflect pads {pads:?} reach past the edge of {full:?}"
        ));
    }
    let n: usize = out.iter().product();
    let mut sources = Vec::with_capacity(n);
    let mut at = vec![0usize; rank];
    for _ in 0..n {
        let mut flat = Some(0usize);
        for a in 0..rank {
            let i = at[a] as i64 - begin[a] as i64;
            let len = full[a] as i64;
            let i = if (0..len).contains(&i) {
                Some(i)
            } else {
                match mode {
                    "edge" => Some(i.clamp(0, len - 1)),
                    "reflect" => Some(if i < 0 { -i } else { 2 * (len - 1) - i }),
                    _ => None,
                }
            };
            flat = match (flat, i) {
                (Some(f), Some(i)) => Some(f * full[a] + i as usize),
                _ => None,
            };
        }
        sources.push(flat);
        // The next position, row-major.
        for a in (0..rank).rev() {
            at[a] += 1;
            if at[a] < out[a] {
                break;
            }
            at[a] = 0;
        }
    }
    Ok(sources)
}

/// Symmetric zero padding of a `[c, h, w]` image by `[ph, pw]`.
pub fn zero_padding(unpadded: &[usize], pads: [usize; 2]) -> Vec<Option<usize>> {
    let mut full = vec![1];
    full.extend(unpadded);
    let p = |v: usize| v as i64;
    let pads = [0, 0, p(pads[0]), p(pads[1]), 0, 0, p(pads[0]), p(pads[1])];
    pad(&full, &pads, "constant").expect("an image's symmetric padding")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_by_hand() {
        // [1, 3]: 0 1 2 → pad 2 before, 1 after.
        let full = [1, 3];
        let pads = [0, 2, 0, 1];
        let constant = pad(&full, &pads, "constant").unwrap();
        assert_eq!(constant, [None, None, Some(0), Some(1), Some(2), None]);
        let edge = pad(&full, &pads, "edge").unwrap();
        assert_eq!(edge, [0, 0, 0, 1, 2, 2].map(Some));
        let reflect = pad(&full, &pads, "reflect").unwrap();
        assert_eq!(reflect, [2, 1, 0, 1, 2, 1].map(Some));
        assert!(pad(&full, &[0, 3, 0, 0], "reflect").is_err());
        assert!(pad(&full, &[0, -1, 0, 0], "constant").is_err());
        assert!(pad(&full, &pads, "wrap").is_err());
    }

    #[test]
    fn zero_padding_of_an_image() {
        // A 1×1×2 image padded by one row and no column.
        let s = zero_padding(&[1, 1, 2], [1, 0]);
        assert_eq!(s, [None, None, Some(0), Some(1), None, None]);
    }

    #[test]
    fn broadcasts_a_channel_gate_over_an_image() {
        // A [1, 2, 1, 1] gate over a [1, 2, 2, 3] image.
        let b = broadcast(&[1, 2, 1, 1], &[1, 2, 2, 3]);
        let expected: Vec<Option<usize>> = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
            .into_iter()
            .map(Some)
            .collect();
        assert_eq!(b, expected);
        // A row vector broadcast over rows, with a missing leading axis.
        assert_eq!(
            broadcast(&[3], &[2, 3]),
            [0, 1, 2, 0, 1, 2].map(Some).to_vec()
        );
    }

    #[test]
    fn iota_round_trips() {
        let c = iota(vec![2, 2], 3);
        assert_eq!(sources(&c).unwrap(), [3, 4, 5, 6].map(Some));
    }
}
