//! What changed between opsets 7 and 18, read into one form: operands that
//! moved from attributes to inputs (`Pad` < 11, `Clip` < 11, `Squeeze` /
//! `Unsqueeze` / `ReduceSum` < 13, the other reductions < 18, `Slice` < 10,
//! `Split` < 13 and `num_outputs` at 18, `Dropout`'s ratio < 12,
//! `Upsample`'s scales < 9, `Resize`'s inputs at 10 and from 11), `Softmax`'s axis semantics (coerce-to-2-D
//! before 13, one axis from 13), and `BatchNormalization`'s old `spatial`
//! attribute.
//!
//! Each reader takes the node and its constant inputs: an operand given as
//! an input must be a constant (after folding), or the node is refused.

use super::fold::{Const, Operands};
use super::proto::NodeProto;

type R<T> = std::result::Result<T, String>;

/// The default-domain opsets zkinfer reads.
pub const OPSETS: std::ops::RangeInclusive<i64> = 7..=18;

/// A node's input `i` as a constant: `Ok(None)` when the input is omitted,
/// an error when it is computed at run time.
pub fn const_input<'a>(
    node: &NodeProto,
    i: usize,
    get: &dyn Fn(&str) -> Option<&'a Const>,
) -> R<Option<&'a Const>> {
    match node.input.get(i).filter(|n| !n.is_empty()) {
        None => Ok(None),
        Some(name) => get(name).map(Some).ok_or_else(|| {
            format!(
                "input {} ({name:?}) must be a constant, not computed at run time",
                i + 1
            )
        }),
    }
}

fn ints_of(c: Option<&Const>) -> R<Option<Vec<i64>>> {
    c.map(Const::as_i64).transpose()
}

/// The `axes` operand: an attribute before opset 13 (18 for the reductions
/// other than ReduceSum), an input after. Reading whichever is present
/// covers both.
pub fn axes<'a>(
    node: &NodeProto,
    input: usize,
    get: &dyn Fn(&str) -> Option<&'a Const>,
) -> R<Option<Vec<i64>>> {
    if let Some(c) = const_input(node, input, get)? {
        return ints_of(Some(c));
    }
    Ok(node.attr("axes").map(|a| a.ints.clone()))
}

/// The operands of a node that [`super::fold::eval`] may evaluate.
pub fn operands<'a>(node: &NodeProto, get: &dyn Fn(&str) -> Option<&'a Const>) -> R<Operands> {
    let mut o = Operands::default();
    match node.op_type.as_str() {
        "Squeeze" | "Unsqueeze" | "ReduceSum" | "ReduceProd" => o.axes = axes(node, 1, get)?,
        "Slice" => {
            if node.input.len() > 1 {
                // Opset 10: starts, ends, axes, steps as inputs.
                o.starts = ints_of(const_input(node, 1, get)?)?.ok_or("Slice needs starts")?;
                o.ends = ints_of(const_input(node, 2, get)?)?.ok_or("Slice needs ends")?;
                o.axes = ints_of(const_input(node, 3, get)?)?;
                o.steps = ints_of(const_input(node, 4, get)?)?.unwrap_or_default();
            } else {
                // Before 10: attributes, no steps.
                let attr = |n: &str| node.attr(n).map(|a| a.ints.clone());
                o.starts = attr("starts").ok_or("Slice needs starts")?;
                o.ends = attr("ends").ok_or("Slice needs ends")?;
                o.axes = attr("axes");
            }
        }
        "Split" => {
            o.split = match const_input(node, 1, get)? {
                Some(c) => c.as_i64()?,
                None => node
                    .attr("split")
                    .map(|a| a.ints.clone())
                    .unwrap_or_default(),
            };
        }
        "Upsample" => {
            // Opset 7–8: an attribute; 9: an input.
            o.resize.scales = match const_input(node, 1, get)? {
                Some(c) => c.as_f32(),
                None => node
                    .attr("scales")
                    .map(|a| a.floats.clone())
                    .unwrap_or_default(),
            };
        }
        "Resize" => {
            // Opset 10: X, scales. From 11: X, roi, scales, sizes — one of
            // the last two given (an empty scales tensor stands for none).
            let (scales, sizes) = if node.input.len() == 2 {
                (1, None)
            } else {
                (2, Some(3))
            };
            o.resize.scales = const_input(node, scales, get)?
                .map(Const::as_f32)
                .unwrap_or_default();
            if let Some(i) = sizes {
                o.resize.sizes = ints_of(const_input(node, i, get)?)?.unwrap_or_default();
            }
            if !o.resize.sizes.is_empty() {
                o.resize.scales.clear();
            }
        }
        _ => {}
    }
    Ok(o)
}

/// `Clip`'s bounds: attributes `min`/`max` before opset 11, optional inputs
/// from 11. Absent bounds are infinite.
pub fn clip_bounds<'a>(
    node: &NodeProto,
    opset: i64,
    get: &dyn Fn(&str) -> Option<&'a Const>,
) -> R<(f32, f32)> {
    if opset < 11 {
        let f = |n: &str, d: f32| node.attr(n).and_then(|a| a.f).unwrap_or(d);
        return Ok((f("min", f32::NEG_INFINITY), f("max", f32::INFINITY)));
    }
    let bound = |i: usize, d: f32| -> R<f32> {
        match const_input(node, i, get)? {
            None => Ok(d),
            Some(c) => match c.as_f32().as_slice() {
                [v] => Ok(*v),
                v => Err(format!("a Clip bound of {} values", v.len())),
            },
        }
    };
    Ok((bound(1, f32::NEG_INFINITY)?, bound(2, f32::INFINITY)?))
}

/// `Pad`: (mode, pads as `[begin…, end…]`, the constant value). Attributes
/// before opset 11 (`pads`, `value`), inputs from 11 (with `axes` from 18).
pub fn pad<'a>(
    node: &NodeProto,
    opset: i64,
    rank: usize,
    get: &dyn Fn(&str) -> Option<&'a Const>,
) -> R<(String, Vec<i64>, f32)> {
    let mode = node.attr("mode").map_or("constant".to_string(), |a| {
        String::from_utf8_lossy(&a.s).into_owned()
    });
    if opset < 11 {
        let pads = node
            .attr("pads")
            .or_else(|| node.attr("paddings"))
            .map(|a| a.ints.clone())
            .ok_or("Pad needs pads")?;
        let value = node.attr("value").and_then(|a| a.f).unwrap_or(0.0);
        return Ok((mode, pads, value));
    }
    let given = const_input(node, 1, get)?
        .ok_or("Pad needs pads")?
        .as_i64()?;
    let value = match const_input(node, 2, get)? {
        None => 0.0,
        Some(c) => *c.as_f32().first().unwrap_or(&0.0),
    };
    // Opset 18: pads only for `axes`; the others get none.
    let pads = match ints_of(const_input(node, 3, get)?)? {
        None => given,
        Some(axes) => {
            let mut full = vec![0; 2 * rank];
            if given.len() != 2 * axes.len() {
                return Err(format!("{} pads for axes {axes:?}", given.len()));
            }
            for (k, &a) in axes.iter().enumerate() {
                let a = super::fold::axis(a, rank)?;
                full[a] = given[k];
                full[a + rank] = given[k + axes.len()];
            }
            full
        }
    };
    Ok((mode, pads, value))
}

/// Whether `Dropout` runs in inference mode: before 12 it always does here
/// (`is_test` left with opset 7); from 12 an optional `training_mode`
/// input must be absent or a constant false.
pub fn dropout_is_inference<'a>(
    node: &NodeProto,
    get: &dyn Fn(&str) -> Option<&'a Const>,
) -> R<()> {
    match const_input(node, 2, get)? {
        Some(c) if c.as_f32().iter().any(|&v| v != 0.0) => {
            Err("Dropout in training mode (training_mode = true) is random".into())
        }
        _ => Ok(()),
    }
}

/// `BatchNormalization`'s checks across versions: `spatial = 0` (opsets
/// 7–8, statistics per element rather than per channel) and training mode
/// (opset 14's `training_mode`, or the running-statistics outputs read).
pub fn batch_norm_is_inference(node: &NodeProto, read_outputs: &dyn Fn(&str) -> bool) -> R<()> {
    if node.attr("spatial").and_then(|a| a.i) == Some(0) {
        return Err("spatial = 0 (per-element statistics, opsets 7–8) is not supported".into());
    }
    if node.attr("training_mode").and_then(|a| a.i).unwrap_or(0) != 0 {
        return Err("training_mode = 1 updates statistics at run time".into());
    }
    if node
        .output
        .iter()
        .skip(1)
        .any(|o| !o.is_empty() && read_outputs(o))
    {
        return Err("the running-statistics outputs are read (training mode)".into());
    }
    Ok(())
}

/// Whether dropping a final `Softmax` keeps the argmax of the flattened
/// output: it must normalise every non-batch axis longer than 1 together.
/// Before opset 13 the input is coerced to 2-D at `axis` (default 1), so
/// it normalises axes `axis..rank`; from 13 only `axis` (default -1).
pub fn softmax_covers_all(node: &NodeProto, opset: i64, full_shape: &[usize]) -> R<bool> {
    let normalised = softmax_axes(node, opset, full_shape.len())?;
    Ok((1..full_shape.len()).all(|i| full_shape[i] == 1 || normalised.contains(&i)))
}

/// The axes a `Softmax`/`LogSoftmax` normalises over (batch included):
/// `axis` alone from opset 13, `axis` and every later one before (the
/// input coerced to 2-D at `axis`).
pub fn softmax_axes(node: &NodeProto, opset: i64, rank: usize) -> R<Vec<usize>> {
    let default = if opset < 13 { 1 } else { -1 };
    let a = super::fold::axis(node.attr("axis").and_then(|a| a.i).unwrap_or(default), rank)?;
    Ok(if opset < 13 {
        (a..rank).collect()
    } else {
        vec![a]
    })
}

/// The output shape of `Upsample` (opsets 7–9: `scales` attribute, then an
/// input) or `Resize` (10: scales input 1; 11+: roi, scales, sizes), for
/// reporting what follows it.
pub fn resize_shape<'a>(
    node: &NodeProto,
    opset: i64,
    full_shape: &[usize],
    get: &dyn Fn(&str) -> Option<&'a Const>,
) -> R<Vec<usize>> {
    let scales: Option<Vec<f32>> = if node.op_type == "Upsample" && opset < 9 {
        node.attr("scales").map(|a| a.floats.clone())
    } else if node.op_type == "Upsample" || opset < 11 {
        const_input(node, 1, get)?.map(Const::as_f32)
    } else {
        if let Some(sizes) = const_input(node, 3, get)? {
            return sizes
                .as_i64()?
                .iter()
                .map(|&d| usize::try_from(d).map_err(|_| format!("size {d}")))
                .collect();
        }
        const_input(node, 2, get)?.map(Const::as_f32)
    };
    let scales = scales
        .filter(|s| !s.is_empty())
        .ok_or("no scales or sizes")?;
    if scales.len() != full_shape.len() {
        return Err(format!(
            "{} scales for rank {}",
            scales.len(),
            full_shape.len()
        ));
    }
    full_shape
        .iter()
        .zip(&scales)
        .map(|(&d, &s)| {
            let v = (d as f32 * s).floor();
            if v.is_finite() && (0.0..1e9).contains(&v) {
                Ok(v as usize)
            } else {
                Err(format!("scale {s}"))
            }
        })
        .collect()
}
