//! `Resize` (opsets 10–18) and `Upsample` (7–9) in `nearest` mode: every
//! output element is one input element, so the folder evaluates them like
//! any other value-moving op and they import as a select ([`super::moves`]).
//!
//! Along each axis, output coordinate `x` maps back to an input coordinate
//! by the node's `coordinate_transformation_mode`, which `nearest_mode`
//! rounds to an index (clamped into the input). The arithmetic is in
//! `f32`, as onnxruntime does it, so ties round the same way. `Upsample`
//! and opset 10's two-input `Resize` have neither attribute: they map
//! `x ↦ x / scale`, truncated when enlarging and rounded up when
//! shrinking (onnxruntime's rule for them).

use super::proto::NodeProto;

type R<T> = std::result::Result<T, String>;

/// The operands of a nearest resize, whichever opset wrote it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Resize {
    /// One factor per axis, or empty when `sizes` is given.
    pub scales: Vec<f32>,
    /// One output size per axis, or empty.
    pub sizes: Vec<i64>,
}

fn text_attr(node: &NodeProto, name: &str, default: &str) -> String {
    node.attr(name).map_or(default.to_string(), |a| {
        String::from_utf8_lossy(&a.s).into_owned()
    })
}

/// How an output coordinate maps back to an input index along one axis.
#[derive(Clone, Copy, Debug)]
struct Rule {
    legacy: bool,
    transform: Transform,
    rounding: Rounding,
}

#[derive(Clone, Copy, Debug)]
enum Transform {
    HalfPixel,
    PytorchHalfPixel,
    Asymmetric,
    AlignCorners,
    TfHalfPixelForNn,
}

#[derive(Clone, Copy, Debug)]
enum Rounding {
    PreferFloor,
    PreferCeil,
    Floor,
    Ceil,
}

impl Rule {
    fn of(node: &NodeProto) -> R<Rule> {
        let mode = text_attr(node, "mode", "nearest");
        if mode != "nearest" {
            return Err(format!(
                "{} mode {mode:?}: zkinfer resizes in nearest mode only (each output one input \
                 element)",
                node.op_type
            ));
        }
        // Upsample, and Resize before opset 11 (two inputs: X, scales).
        let legacy = node.op_type == "Upsample" || node.input.len() == 2;
        if node.attr("axes").is_some() {
            return Err("Resize with an axes attribute (opset 18) is not supported".into());
        }
        let policy = text_attr(node, "keep_aspect_ratio_policy", "stretch");
        if policy != "stretch" {
            return Err(format!(
                "keep_aspect_ratio_policy {policy:?}: zkinfer resizes with \"stretch\""
            ));
        }
        let transform =
            match text_attr(node, "coordinate_transformation_mode", "half_pixel").as_str() {
                _ if legacy => Transform::Asymmetric,
                "half_pixel" => Transform::HalfPixel,
                "pytorch_half_pixel" => Transform::PytorchHalfPixel,
                "asymmetric" => Transform::Asymmetric,
                "align_corners" => Transform::AlignCorners,
                "tf_half_pixel_for_nn" => Transform::TfHalfPixelForNn,
                other => {
                    return Err(format!(
                        "coordinate_transformation_mode {other:?} is not supported"
                    ))
                }
            };
        let rounding = match text_attr(node, "nearest_mode", "round_prefer_floor").as_str() {
            "round_prefer_floor" => Rounding::PreferFloor,
            "round_prefer_ceil" => Rounding::PreferCeil,
            "floor" => Rounding::Floor,
            "ceil" => Rounding::Ceil,
            other => return Err(format!("nearest_mode {other:?} is not supported")),
        };
        Ok(Rule {
            legacy,
            transform,
            rounding,
        })
    }

    /// The input index read by output coordinate `x` of an axis resized
    /// from `n` to `m` by `scale`.
    fn source(&self, x: usize, n: usize, m: usize, scale: f32) -> usize {
        let xf = x as f32;
        let original = match self.transform {
            Transform::HalfPixel => (xf + 0.5) / scale - 0.5,
            Transform::PytorchHalfPixel if m > 1 => (xf + 0.5) / scale - 0.5,
            Transform::PytorchHalfPixel => 0.0,
            Transform::Asymmetric => xf / scale,
            Transform::AlignCorners if m > 1 => xf * (n - 1) as f32 / (m - 1) as f32,
            Transform::AlignCorners => 0.0,
            Transform::TfHalfPixelForNn => (xf + 0.5) / scale,
        };
        let index = if self.legacy {
            if scale < 1.0 {
                original.ceil()
            } else {
                original.trunc()
            }
        } else {
            let tie = original.fract().abs() == 0.5;
            match self.rounding {
                Rounding::PreferFloor if tie => original.floor(),
                Rounding::PreferCeil if tie => original.ceil(),
                Rounding::PreferFloor | Rounding::PreferCeil => original.round(),
                Rounding::Floor => original.floor(),
                Rounding::Ceil => original.ceil(),
            }
        };
        (index.max(0.0) as usize).min(n - 1)
    }
}

/// The output dims of a nearest resize of `dims`, and for each output
/// element (row-major) the input element it reads.
pub fn sources(node: &NodeProto, r: &Resize, dims: &[usize]) -> R<(Vec<usize>, Vec<usize>)> {
    let rule = Rule::of(node)?;
    let rank = dims.len();
    let (out, scales): (Vec<usize>, Vec<f32>) = if !r.sizes.is_empty() {
        if r.sizes.len() != rank {
            return Err(format!("{} sizes for rank {rank}", r.sizes.len()));
        }
        let out = r
            .sizes
            .iter()
            .map(|&s| usize::try_from(s).ok().filter(|&s| s > 0))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| format!("sizes {:?}: positive sizes", r.sizes))?;
        let scales = out
            .iter()
            .zip(dims)
            .map(|(&m, &n)| m as f32 / n as f32)
            .collect();
        (out, scales)
    } else {
        if r.scales.len() != rank {
            return Err(format!("{} scales for rank {rank}", r.scales.len()));
        }
        if let Some(s) = r.scales.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(format!("scale {s}: scales are positive"));
        }
        let out = dims
            .iter()
            .zip(&r.scales)
            .map(|(&n, &s)| (n as f32 * s).floor() as usize)
            .collect();
        (out, r.scales.clone())
    };
    if dims.contains(&0)
        || out.contains(&0)
        || out.iter().any(|&m| m > super::fold::MAX_FOLDED_ELEMENTS)
    {
        return Err(format!("resizes {dims:?} to {out:?}"));
    }
    // Per axis: the input index of each output coordinate.
    let maps: Vec<Vec<usize>> = (0..rank)
        .map(|a| {
            (0..out[a])
                .map(|x| rule.source(x, dims[a], out[a], scales[a]))
                .collect()
        })
        .collect();
    let n = out
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or("the resized tensor is too large")?;
    let in_strides = strides(dims);
    let out_strides = strides(&out);
    let picks = (0..n)
        .map(|mut i| {
            let mut j = 0;
            for a in 0..rank {
                j += maps[a][i / out_strides[a]] * in_strides[a];
                i %= out_strides[a];
            }
            j
        })
        .collect();
    Ok((out, picks))
}

fn strides(dims: &[usize]) -> Vec<usize> {
    let mut s = vec![1; dims.len()];
    for a in (0..dims.len().saturating_sub(1)).rev() {
        s[a] = s[a + 1] * dims[a + 1];
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onnx::proto::AttributeProto;

    fn node(op: &str, inputs: usize, attrs: &[(&str, &str)]) -> NodeProto {
        NodeProto {
            op_type: op.into(),
            input: (0..inputs).map(|i| format!("in{i}")).collect(),
            attribute: attrs
                .iter()
                .map(|(k, v)| AttributeProto {
                    name: k.to_string(),
                    s: v.as_bytes().to_vec(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn scales(s: &[f32]) -> Resize {
        Resize {
            scales: s.to_vec(),
            sizes: vec![],
        }
    }

    #[test]
    fn upsample_by_two_repeats_each_element() {
        let (out, picks) =
            sources(&node("Upsample", 2, &[]), &scales(&[1.0, 2.0]), &[1, 3]).unwrap();
        assert_eq!(out, vec![1, 6]);
        assert_eq!(picks, vec![0, 0, 1, 1, 2, 2]);
    }

    #[test]
    fn pytorch_nearest_is_asymmetric_floor() {
        // What torch's nn.Upsample(scale_factor=2) writes at opset 11+.
        let n = node(
            "Resize",
            3,
            &[
                ("coordinate_transformation_mode", "asymmetric"),
                ("nearest_mode", "floor"),
            ],
        );
        let (_, picks) = sources(&n, &scales(&[2.0]), &[3]).unwrap();
        assert_eq!(picks, vec![0, 0, 1, 1, 2, 2]);
    }

    #[test]
    fn half_pixel_rounds_ties_down_by_default() {
        // x ↦ (x + 0.5) / 2 - 0.5: -0.25, 0.25, 0.75, 1.25 → 0, 0, 1, 1.
        let (_, picks) = sources(&node("Resize", 3, &[]), &scales(&[2.0]), &[2]).unwrap();
        assert_eq!(picks, vec![0, 0, 1, 1]);
        // Shrinking 4 → 2: x ↦ 2x + 0.5, a tie each time: 0 and 2 by
        // round_prefer_floor, 1 and 3 by round_prefer_ceil.
        let (_, floor) = sources(&node("Resize", 3, &[]), &scales(&[0.5]), &[4]).unwrap();
        assert_eq!(floor, vec![0, 2]);
        let ceil = node("Resize", 3, &[("nearest_mode", "round_prefer_ceil")]);
        assert_eq!(sources(&ceil, &scales(&[0.5]), &[4]).unwrap().1, vec![1, 3]);
    }

    #[test]
    fn sizes_and_align_corners() {
        let n = node(
            "Resize",
            4,
            &[("coordinate_transformation_mode", "align_corners")],
        );
        let r = Resize {
            scales: vec![],
            sizes: vec![5],
        };
        // x ↦ x · 2 / 4: 0, 0.5, 1, 1.5, 2 → 0, 0, 1, 1, 2 (ties down).
        assert_eq!(
            sources(&n, &r, &[3]).unwrap(),
            (vec![5], vec![0, 0, 1, 1, 2])
        );
    }

    #[test]
    fn other_modes_and_bad_operands_are_refused_by_name() {
        let linear = node("Resize", 3, &[("mode", "linear")]);
        let err = sources(&linear, &scales(&[2.0]), &[2]).unwrap_err();
        assert!(err.contains("linear") && err.contains("nearest"), "{err}");
        let crop = node(
            "Resize",
            3,
            &[("coordinate_transformation_mode", "tf_crop_and_resize")],
        );
        assert!(sources(&crop, &scales(&[2.0]), &[2])
            .unwrap_err()
            .contains("tf_crop_and_resize"));
        let plain = node("Resize", 3, &[]);
        assert!(sources(&plain, &scales(&[2.0, 2.0]), &[2]).is_err());
        assert!(sources(&plain, &scales(&[-1.0]), &[2]).is_err());
        assert!(sources(&plain, &scales(&[f32::NAN]), &[2]).is_err());
        assert!(sources(&plain, &scales(&[0.1]), &[2]).is_err());
        assert!(sources(&plain, &scales(&[1e30]), &[2]).is_err());
        let sized = Resize {
            scales: vec![],
            sizes: vec![0],
        };
        assert!(sources(&plain, &sized, &[2]).is_err());
    }
}
