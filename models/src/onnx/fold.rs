//! Constant folding: a small, exact evaluator for the ONNX ops that
//! exporters use to compute shapes and constants (`Shape → Gather →
//! Unsqueeze → Concat → Reshape`, `ConstantOfShape → Expand`, arithmetic on
//! initializers, …). A subgraph whose inputs are all constants is evaluated
//! at import and disappears from the model.
//!
//! Integers are `i64` with checked arithmetic (an overflow is an error, not
//! a wrapped value); floats are `f32`, as the importer's weights are. Every
//! tensor the evaluator makes is charged to a [`Budget`] *before* it is
//! allocated, so a hostile `ConstantOfShape([2^40])` or `Range(0, 2^40, 1)`
//! is refused instead of exhausting memory.

use super::proto::{NodeProto, TensorProto};

/// The most elements one folded tensor may have.
pub const MAX_FOLDED_ELEMENTS: usize = 1 << 22;
/// The most elements all folded tensors of one import may have together.
pub const FOLD_BUDGET: usize = 1 << 24;

/// A constant's values.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// Floating point (float, double and half tensors).
    F32(Vec<f32>),
    /// Integers (int8 … int64, uint8 … uint32, bool).
    I64(Vec<i64>),
}

/// A constant tensor: dimensions (row-major) and values.
#[derive(Clone, Debug, PartialEq)]
pub struct Const {
    /// Dimensions; `[]` is a scalar.
    pub dims: Vec<usize>,
    /// Exactly `dims.product()` values.
    pub data: Data,
}

type R<T> = std::result::Result<T, String>;

/// How many elements folding may still allocate.
#[derive(Debug)]
pub struct Budget {
    left: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { left: FOLD_BUDGET }
    }
}

impl Budget {
    /// Charges a tensor of `dims`, or refuses it (checked products).
    pub fn charge(&mut self, dims: &[usize]) -> R<usize> {
        let n = dims
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .filter(|&n| n <= MAX_FOLDED_ELEMENTS)
            .ok_or_else(|| {
                format!(
                    "a constant of shape {dims:?} is larger than the {MAX_FOLDED_ELEMENTS} elements \
                     zkinfer folds"
                )
            })?;
        self.left = self.left.checked_sub(n).ok_or_else(|| {
            format!("folding constants needs more than {FOLD_BUDGET} elements in all")
        })?;
        Ok(n)
    }
}

/// The element count (0 with any empty dimension, even beside huge ones;
/// saturating otherwise: charged shapes are small).
fn numel(dims: &[usize]) -> usize {
    if dims.contains(&0) {
        return 0;
    }
    dims.iter().fold(1usize, |n, &d| n.saturating_mul(d))
}

impl Const {
    /// A float constant.
    pub fn floats(dims: Vec<usize>, values: Vec<f32>) -> Self {
        Const {
            dims,
            data: Data::F32(values),
        }
    }

    /// An integer constant.
    pub fn ints(dims: Vec<usize>, values: Vec<i64>) -> Self {
        Const {
            dims,
            data: Data::I64(values),
        }
    }

    /// The number of values.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        match &self.data {
            Data::F32(v) => v.len(),
            Data::I64(v) => v.len(),
        }
    }

    /// The values as f32.
    pub fn as_f32(&self) -> Vec<f32> {
        match &self.data {
            Data::F32(v) => v.clone(),
            Data::I64(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }

    /// The values as integers (floats must be integral).
    pub fn as_i64(&self) -> R<Vec<i64>> {
        match &self.data {
            Data::I64(v) => Ok(v.clone()),
            Data::F32(v) => v
                .iter()
                .map(|&x| {
                    if x.fract() == 0.0 && x.abs() < 9.0e15 {
                        Ok(x as i64)
                    } else {
                        Err(format!("{x} is not an integer"))
                    }
                })
                .collect(),
        }
    }

    /// A tensor from an initializer or a `Constant`'s `value`.
    pub fn from_proto(t: &TensorProto, budget: &mut Budget) -> R<Const> {
        let dims = t
            .dims
            .iter()
            .map(|&d| usize::try_from(d).map_err(|_| format!("dimension {d} in {:?}", t.dims)))
            .collect::<R<Vec<usize>>>()?;
        budget.charge(&dims)?;
        let data = match t.data_type {
            1 | 11 => Data::F32(t.floats()?),
            _ => Data::I64(t.ints()?),
        };
        let c = Const { dims, data };
        if c.len() != numel(&c.dims) {
            return Err(format!("{} values for dims {:?}", c.len(), t.dims));
        }
        Ok(c)
    }

    fn map_data(&self, dims: Vec<usize>, pick: impl Fn(usize) -> usize, n: usize) -> Const {
        let data = match &self.data {
            Data::F32(v) => Data::F32((0..n).map(|i| v[pick(i)]).collect()),
            Data::I64(v) => Data::I64((0..n).map(|i| v[pick(i)]).collect()),
        };
        Const { dims, data }
    }
}

/// Row-major strides.
fn strides(dims: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        // Saturating: a shape with a 0 holds no element to index, whatever
        // its other dimensions.
        s[i] = s[i + 1].saturating_mul(dims[i + 1]);
    }
    s
}

/// An axis in `[-rank, rank)` as an index.
pub fn axis(a: i64, rank: usize) -> R<usize> {
    let r = rank as i64;
    if a < -r || a >= r {
        return Err(format!("axis {a} for rank {rank}"));
    }
    Ok(if a < 0 { (a + r) as usize } else { a as usize })
}

/// numpy's broadcast of two shapes.
pub fn broadcast_dims(a: &[usize], b: &[usize]) -> R<Vec<usize>> {
    let rank = a.len().max(b.len());
    (0..rank)
        .map(|i| {
            let da = if i + a.len() >= rank {
                a[i + a.len() - rank]
            } else {
                1
            };
            let db = if i + b.len() >= rank {
                b[i + b.len() - rank]
            } else {
                1
            };
            match (da, db) {
                (x, y) if x == y => Ok(x),
                (1, y) => Ok(y),
                (x, 1) => Ok(x),
                _ => Err(format!("shapes {a:?} and {b:?} do not broadcast")),
            }
        })
        .collect()
}

/// For each element of `out`, the index of the element of `dims` it reads
/// under broadcasting.
pub fn broadcast_index(dims: &[usize], out: &[usize]) -> impl Fn(usize) -> usize {
    let pad = out.len() - dims.len();
    let out_strides = strides(out);
    let in_strides = strides(dims);
    let dims = dims.to_vec();
    let rank = out.len();
    move |mut i| {
        let mut index = 0;
        for axis in 0..rank {
            let coord = i / out_strides[axis];
            i %= out_strides[axis];
            if axis >= pad && dims[axis - pad] != 1 {
                index += coord * in_strides[axis - pad];
            }
        }
        index
    }
}

/// Expands `c` to `out` (which it must broadcast to).
fn broadcast_to(c: &Const, out: &[usize], budget: &mut Budget) -> R<Const> {
    let n = budget.charge(out)?;
    Ok(c.map_data(out.to_vec(), broadcast_index(&c.dims, out), n))
}

fn int_binary(op: &str, a: i64, b: i64) -> R<i64> {
    let overflow = || format!("{op}({a}, {b}) overflows 64 bits");
    match op {
        "Add" => a.checked_add(b).ok_or_else(overflow),
        "Sub" => a.checked_sub(b).ok_or_else(overflow),
        "Mul" => a.checked_mul(b).ok_or_else(overflow),
        // ONNX's integer division truncates, as C does.
        "Div" if b == 0 => Err(format!("Div({a}, 0)")),
        "Div" => a.checked_div(b).ok_or_else(overflow),
        "Mod" if b == 0 => Err(format!("Mod({a}, 0)")),
        // fmod = 0: the sign of the divisor, as Python's %.
        "Mod" => a
            .checked_rem_euclid(b)
            .map(|r| if b < 0 && r != 0 { r + b } else { r })
            .ok_or_else(overflow),
        "Pow" => u32::try_from(b)
            .ok()
            .and_then(|e| a.checked_pow(e))
            .ok_or_else(overflow),
        "Min" => Ok(a.min(b)),
        "Max" => Ok(a.max(b)),
        "Equal" => Ok((a == b) as i64),
        "Less" => Ok((a < b) as i64),
        "Greater" => Ok((a > b) as i64),
        "LessOrEqual" => Ok((a <= b) as i64),
        "GreaterOrEqual" => Ok((a >= b) as i64),
        "And" => Ok((a != 0 && b != 0) as i64),
        "Or" => Ok((a != 0 || b != 0) as i64),
        _ => Err(format!("{op} is not folded")),
    }
}

fn float_binary(op: &str, a: f32, b: f32) -> R<Data1> {
    Ok(match op {
        "Add" => Data1::F(a + b),
        "Sub" => Data1::F(a - b),
        "Mul" => Data1::F(a * b),
        "Div" => Data1::F(a / b),
        "Pow" => Data1::F(a.powf(b)),
        "Min" => Data1::F(a.min(b)),
        "Max" => Data1::F(a.max(b)),
        "Mod" => Data1::F(a - b * (a / b).floor()),
        "Equal" => Data1::I((a == b) as i64),
        "Less" => Data1::I((a < b) as i64),
        "Greater" => Data1::I((a > b) as i64),
        "LessOrEqual" => Data1::I((a <= b) as i64),
        "GreaterOrEqual" => Data1::I((a >= b) as i64),
        _ => return Err(format!("{op} on floats is not folded")),
    })
}

enum Data1 {
    F(f32),
    I(i64),
}

/// An element-wise binary op with broadcasting.
pub fn binary(op: &str, a: &Const, b: &Const, budget: &mut Budget) -> R<Const> {
    let out = broadcast_dims(&a.dims, &b.dims)?;
    let n = budget.charge(&out)?;
    let (ia, ib) = (
        broadcast_index(&a.dims, &out),
        broadcast_index(&b.dims, &out),
    );
    let data = match (&a.data, &b.data) {
        (Data::I64(x), Data::I64(y)) => Data::I64(
            (0..n)
                .map(|i| int_binary(op, x[ia(i)], y[ib(i)]))
                .collect::<R<_>>()?,
        ),
        _ => {
            let (x, y) = (a.as_f32(), b.as_f32());
            let values = (0..n)
                .map(|i| float_binary(op, x[ia(i)], y[ib(i)]))
                .collect::<R<Vec<_>>>()?;
            match values.first() {
                Some(Data1::I(_)) => Data::I64(
                    values
                        .iter()
                        .map(|v| if let Data1::I(v) = v { *v } else { 0 })
                        .collect(),
                ),
                _ => Data::F32(
                    values
                        .iter()
                        .map(|v| if let Data1::F(v) = v { *v } else { 0.0 })
                        .collect(),
                ),
            }
        }
    };
    Ok(Const { dims: out, data })
}

/// The ops [`eval`] folds.
pub const FOLDED_OPS: &[&str] = &[
    "Identity",
    "Dropout",
    "Cast",
    "CastLike",
    "Shape",
    "Size",
    "Gather",
    "Unsqueeze",
    "Squeeze",
    "Concat",
    "ConstantOfShape",
    "Expand",
    "Tile",
    "Resize",
    "Upsample",
    "Slice",
    "Range",
    "Reshape",
    "Flatten",
    "Transpose",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Pow",
    "Mod",
    "Min",
    "Max",
    "Equal",
    "Less",
    "Greater",
    "LessOrEqual",
    "GreaterOrEqual",
    "And",
    "Or",
    "Not",
    "Neg",
    "Abs",
    "Sqrt",
    "Reciprocal",
    "Floor",
    "Ceil",
    "Relu",
    "Where",
    "Split",
    "ReduceProd",
    "ReduceSum",
];

/// Normalised operands of a node whose inputs are all constants: the
/// importer reads opset-dependent attribute-vs-input forms into these.
#[derive(Debug, Default)]
pub struct Operands {
    /// Axes (Squeeze, Unsqueeze, Slice, reductions), when given.
    pub axes: Option<Vec<i64>>,
    /// Slice starts and ends, and steps.
    pub starts: Vec<i64>,
    /// Slice ends.
    pub ends: Vec<i64>,
    /// Slice steps (empty: all 1).
    pub steps: Vec<i64>,
    /// Split sizes (empty: equal parts).
    pub split: Vec<i64>,
    /// Resize and Upsample scales or sizes.
    pub resize: super::resize::Resize,
}

fn int_attr(node: &NodeProto, name: &str, default: i64) -> i64 {
    node.attr(name).and_then(|a| a.i).unwrap_or(default)
}

/// Evaluates `node` on constant inputs (`None` for an omitted optional
/// input). Returns one constant per output.
pub fn eval(
    node: &NodeProto,
    inputs: &[Option<&Const>],
    ops: &Operands,
    budget: &mut Budget,
) -> R<Vec<Const>> {
    let arg = |i: usize| -> R<&Const> {
        inputs
            .get(i)
            .copied()
            .flatten()
            .ok_or_else(|| format!("{} needs input {}", node.op_type, i + 1))
    };
    let one = |c: Const| Ok(vec![c]);
    match node.op_type.as_str() {
        "Identity" | "Dropout" => {
            let x = arg(0)?;
            budget.charge(&x.dims)?;
            let mut out = vec![x.clone()];
            if node.output.len() > 1 {
                // The mask of an inference-mode Dropout: all true.
                budget.charge(&x.dims)?;
                out.push(Const::ints(x.dims.clone(), vec![1; x.len()]));
            }
            Ok(out)
        }
        "Cast" | "CastLike" => {
            let x = arg(0)?;
            let to = if node.op_type == "CastLike" {
                match arg(1)?.data {
                    Data::F32(_) => 1,
                    Data::I64(_) => 7,
                }
            } else {
                int_attr(node, "to", 1)
            };
            budget.charge(&x.dims)?;
            let data = match to {
                1 | 10 | 11 | 16 => Data::F32(x.as_f32()),
                // bool: non-zero is true.
                9 => Data::I64(x.as_f32().iter().map(|&v| (v != 0.0) as i64).collect()),
                2..=7 | 12 | 13 => match &x.data {
                    Data::I64(v) => Data::I64(v.clone()),
                    Data::F32(v) => Data::I64(
                        v.iter()
                            .map(|&f| {
                                if f.is_finite() && f.abs() < 9.0e18 {
                                    Ok(f.trunc() as i64)
                                } else {
                                    Err(format!("Cast of {f} to an integer"))
                                }
                            })
                            .collect::<R<_>>()?,
                    ),
                },
                t => return Err(format!("Cast to element type {t} is not folded")),
            };
            one(Const {
                dims: x.dims.clone(),
                data,
            })
        }
        "Shape" => {
            let x = arg(0)?;
            one(shape_of(&x.dims, node))
        }
        "Size" => one(Const::ints(vec![], vec![arg(0)?.len() as i64])),
        "Gather" => {
            let (x, idx) = (arg(0)?, arg(1)?);
            let ax = axis(int_attr(node, "axis", 0), x.dims.len())?;
            let indices = idx.as_i64()?;
            let mut dims = x.dims[..ax].to_vec();
            dims.extend(&idx.dims);
            dims.extend(&x.dims[ax + 1..]);
            let n = budget.charge(&dims)?;
            let (size, inner) = (x.dims[ax], numel(&x.dims[ax + 1..]));
            let picked = indices
                .iter()
                .map(|&i| {
                    let j = if i < 0 { i + size as i64 } else { i };
                    usize::try_from(j)
                        .ok()
                        .filter(|&j| j < size)
                        .ok_or_else(|| format!("Gather index {i} for a dimension of {size}"))
                })
                .collect::<R<Vec<usize>>>()?;
            let k = picked.len();
            one(x.map_data(
                dims,
                |i| {
                    let (o, rest) = (i / (k * inner), i % (k * inner));
                    let (p, q) = (rest / inner, rest % inner);
                    (o * size + picked[p]) * inner + q
                },
                n,
            ))
        }
        "Unsqueeze" => {
            let x = arg(0)?;
            let axes = ops.axes.clone().ok_or("Unsqueeze needs axes")?;
            let dims = unsqueeze_dims(&x.dims, &axes)?;
            reshaped(x, dims, budget)
        }
        "Squeeze" => {
            let x = arg(0)?;
            let dims = squeeze_dims(&x.dims, ops.axes.as_deref())?;
            reshaped(x, dims, budget)
        }
        "Flatten" => {
            let x = arg(0)?;
            let a = int_attr(node, "axis", 1);
            let ax = if a == x.dims.len() as i64 {
                x.dims.len()
            } else {
                axis(a, x.dims.len())?
            };
            reshaped(x, vec![numel(&x.dims[..ax]), numel(&x.dims[ax..])], budget)
        }
        "Reshape" => {
            let x = arg(0)?;
            let target = arg(1)?.as_i64()?;
            let dims = reshape_target(&x.dims, &target, int_attr(node, "allowzero", 0) != 0)?;
            reshaped(x, dims, budget)
        }
        "Concat" => {
            let parts: Vec<&Const> = inputs.iter().flatten().copied().collect();
            let first = parts.first().ok_or("Concat of nothing")?;
            let ax = axis(int_attr(node, "axis", 0), first.dims.len())?;
            let mut dims = first.dims.clone();
            dims[ax] = 0;
            for p in &parts {
                if p.dims.len() != first.dims.len()
                    || p.dims
                        .iter()
                        .enumerate()
                        .any(|(i, &d)| i != ax && d != first.dims[i])
                {
                    return Err(format!(
                        "Concat of shapes {:?} and {:?}",
                        first.dims, p.dims
                    ));
                }
                dims[ax] += p.dims[ax];
            }
            budget.charge(&dims)?;
            let outer = numel(&dims[..ax]);
            let float = parts.iter().any(|p| matches!(p.data, Data::F32(_)));
            let mut f = vec![];
            let mut n = vec![];
            for o in 0..outer {
                for p in &parts {
                    let chunk = numel(&p.dims[ax..]);
                    if float {
                        f.extend_from_slice(&p.as_f32()[o * chunk..(o + 1) * chunk]);
                    } else {
                        n.extend_from_slice(&p.as_i64()?[o * chunk..(o + 1) * chunk]);
                    }
                }
            }
            one(Const {
                dims,
                data: if float { Data::F32(f) } else { Data::I64(n) },
            })
        }
        "ConstantOfShape" => {
            let dims = to_dims(&arg(0)?.as_i64()?)?;
            let n = budget.charge(&dims)?;
            let value = match node.attr("value").and_then(|a| a.t.as_ref()) {
                Some(t) => Const::from_proto(t, budget)?,
                None => Const::floats(vec![1], vec![0.0]),
            };
            if value.len() != 1 {
                return Err("ConstantOfShape's value must hold one element".into());
            }
            one(value.map_data(dims, |_| 0, n))
        }
        "Resize" | "Upsample" => {
            let x = arg(0)?;
            let (dims, picks) = super::resize::sources(node, &ops.resize, &x.dims)?;
            let n = budget.charge(&dims)?;
            one(x.map_data(dims, |i| picks[i], n))
        }
        "Expand" => {
            let x = arg(0)?;
            let shape = to_dims(&arg(1)?.as_i64()?)?;
            let dims = broadcast_dims(&x.dims, &shape)?;
            one(broadcast_to(x, &dims, budget)?)
        }
        "Tile" => {
            let x = arg(0)?;
            let repeats = to_dims(&arg(1)?.as_i64()?)?;
            if repeats.len() != x.dims.len() {
                return Err(format!("Tile repeats {repeats:?} for shape {:?}", x.dims));
            }
            let dims = x
                .dims
                .iter()
                .zip(&repeats)
                .map(|(&d, &r)| d.checked_mul(r).ok_or_else(|| "Tile overflows".to_string()))
                .collect::<R<Vec<_>>>()?;
            let n = budget.charge(&dims)?;
            let (os, is) = (strides(&dims), strides(&x.dims));
            let xd = x.dims.clone();
            one(x.map_data(
                dims,
                |mut i| {
                    let mut j = 0;
                    for a in 0..os.len() {
                        j += (i / os[a] % xd[a]) * is[a];
                        i %= os[a];
                    }
                    j
                },
                n,
            ))
        }
        "Range" => {
            let (s, l, d) = (arg(0)?, arg(1)?, arg(2)?);
            match (&s.data, &l.data, &d.data) {
                (Data::I64(s), Data::I64(l), Data::I64(d)) => {
                    let (s, l, d) = (scalar(s)?, scalar(l)?, scalar(d)?);
                    if d == 0 {
                        return Err("Range with delta 0".into());
                    }
                    let count = if d > 0 {
                        ((l as i128 - s as i128).max(0) as u128).div_ceil(d as u128)
                    } else {
                        ((s as i128 - l as i128).max(0) as u128).div_ceil(d.unsigned_abs() as u128)
                    };
                    let count = usize::try_from(count).map_err(|_| "Range too long".to_string())?;
                    budget.charge(&[count])?;
                    one(Const::ints(
                        vec![count],
                        (0..count as i64).map(|i| s + i * d).collect(),
                    ))
                }
                _ => {
                    let (s, l, d) = (
                        scalar(&s.as_f32())?,
                        scalar(&l.as_f32())?,
                        scalar(&d.as_f32())?,
                    );
                    let count = ((l - s) / d).ceil();
                    if !count.is_finite() {
                        return Err(format!("Range({s}, {l}, {d})"));
                    }
                    let count = count.max(0.0) as usize;
                    budget.charge(&[count])?;
                    one(Const::floats(
                        vec![count],
                        (0..count).map(|i| s + i as f32 * d).collect(),
                    ))
                }
            }
        }
        "Slice" => {
            let x = arg(0)?;
            let (dims, picks) = slice_plan(&x.dims, ops)?;
            let n = budget.charge(&dims)?;
            let os = strides(&dims);
            let is = strides(&x.dims);
            one(x.map_data(
                dims,
                |mut i| {
                    let mut j = 0;
                    for a in 0..os.len() {
                        let c = i / os[a];
                        i %= os[a];
                        j += (picks[a].0 + c as i64 * picks[a].1) as usize * is[a];
                    }
                    j
                },
                n,
            ))
        }
        "Transpose" => {
            let x = arg(0)?;
            let rank = x.dims.len();
            let perm: Vec<usize> = match node.attr("perm") {
                Some(a) => a.ints.iter().map(|&p| axis(p, rank)).collect::<R<_>>()?,
                None => (0..rank).rev().collect(),
            };
            let mut seen = vec![false; rank];
            if perm.len() != rank || perm.iter().any(|&p| std::mem::replace(&mut seen[p], true)) {
                return Err(format!("Transpose perm {perm:?} for rank {rank}"));
            }
            let dims: Vec<usize> = perm.iter().map(|&p| x.dims[p]).collect();
            let n = budget.charge(&dims)?;
            let (os, is) = (strides(&dims), strides(&x.dims));
            one(x.map_data(
                dims,
                |mut i| {
                    let mut j = 0;
                    for a in 0..os.len() {
                        j += (i / os[a]) * is[perm[a]];
                        i %= os[a];
                    }
                    j
                },
                n,
            ))
        }
        "Split" => {
            let x = arg(0)?;
            let ax = axis(int_attr(node, "axis", 0), x.dims.len())?;
            let parts = node.output.len().max(1);
            let sizes: Vec<usize> = if ops.split.is_empty() {
                if !x.dims[ax].is_multiple_of(parts) {
                    return Err(format!("Split of {} into {parts} equal parts", x.dims[ax]));
                }
                vec![x.dims[ax] / parts; parts]
            } else {
                to_dims(&ops.split)?
            };
            if sizes.iter().sum::<usize>() != x.dims[ax] || sizes.len() != parts {
                return Err(format!(
                    "Split sizes {sizes:?} for a dimension of {}",
                    x.dims[ax]
                ));
            }
            let mut out = vec![];
            let mut start = 0i64;
            for s in sizes {
                let o = Operands {
                    axes: Some(vec![ax as i64]),
                    starts: vec![start],
                    ends: vec![start + s as i64],
                    ..Operands::default()
                };
                let mut fake = node.clone();
                fake.op_type = "Slice".into();
                out.extend(eval(&fake, &[Some(x)], &o, budget)?);
                start += s as i64;
            }
            Ok(out)
        }
        "Where" => {
            let (c, x, y) = (arg(0)?, arg(1)?, arg(2)?);
            let dims = broadcast_dims(&broadcast_dims(&c.dims, &x.dims)?, &y.dims)?;
            let n = budget.charge(&dims)?;
            let (ic, ix, iy) = (
                broadcast_index(&c.dims, &dims),
                broadcast_index(&x.dims, &dims),
                broadcast_index(&y.dims, &dims),
            );
            let cond = c.as_f32();
            let pick = |i: usize| cond[ic(i)] != 0.0;
            let data = match (&x.data, &y.data) {
                (Data::I64(a), Data::I64(b)) => Data::I64(
                    (0..n)
                        .map(|i| if pick(i) { a[ix(i)] } else { b[iy(i)] })
                        .collect(),
                ),
                _ => {
                    let (a, b) = (x.as_f32(), y.as_f32());
                    Data::F32(
                        (0..n)
                            .map(|i| if pick(i) { a[ix(i)] } else { b[iy(i)] })
                            .collect(),
                    )
                }
            };
            one(Const { dims, data })
        }
        "ReduceProd" | "ReduceSum" => {
            // Only full reductions (the element count of a shape).
            let x = arg(0)?;
            if ops.axes.as_ref().is_some_and(|a| !a.is_empty()) {
                return Err(format!("{} over some axes is not folded", node.op_type));
            }
            let keep = int_attr(node, "keepdims", 1) != 0;
            let dims = if keep { vec![1; x.dims.len()] } else { vec![] };
            let product = node.op_type == "ReduceProd";
            one(match &x.data {
                Data::I64(v) => Const::ints(
                    dims,
                    vec![v
                        .iter()
                        .try_fold(if product { 1i64 } else { 0 }, |a, &b| {
                            if product {
                                a.checked_mul(b)
                            } else {
                                a.checked_add(b)
                            }
                        })
                        .ok_or("reduction overflows")?],
                ),
                Data::F32(v) => Const::floats(
                    dims,
                    vec![if product {
                        v.iter().product()
                    } else {
                        v.iter().sum()
                    }],
                ),
            })
        }
        op @ ("Add" | "Sub" | "Mul" | "Div" | "Pow" | "Mod" | "Equal" | "Less" | "Greater"
        | "LessOrEqual" | "GreaterOrEqual" | "And" | "Or") => {
            one(binary(op, arg(0)?, arg(1)?, budget)?)
        }
        op @ ("Min" | "Max") => {
            let mut acc = arg(0)?.clone();
            for x in inputs.iter().skip(1).flatten() {
                acc = binary(op, &acc, x, budget)?;
            }
            one(acc)
        }
        op @ ("Not" | "Neg" | "Abs" | "Sqrt" | "Reciprocal" | "Floor" | "Ceil" | "Relu") => {
            let x = arg(0)?;
            budget.charge(&x.dims)?;
            let data = match (&x.data, op) {
                (Data::I64(v), "Not") => Data::I64(v.iter().map(|&a| (a == 0) as i64).collect()),
                (Data::I64(v), "Neg") => Data::I64(
                    v.iter()
                        .map(|&a| a.checked_neg().ok_or_else(|| "Neg overflows".to_string()))
                        .collect::<R<_>>()?,
                ),
                (Data::I64(v), "Abs") => Data::I64(
                    v.iter()
                        .map(|&a| a.checked_abs().ok_or_else(|| "Abs overflows".to_string()))
                        .collect::<R<_>>()?,
                ),
                (Data::I64(v), "Relu") => Data::I64(v.iter().map(|&a| a.max(0)).collect()),
                (Data::I64(v), "Floor" | "Ceil") => Data::I64(v.clone()),
                (_, "Not") => return Err("Not of floats".into()),
                (_, op) => {
                    let f = |a: f32| match op {
                        "Neg" => -a,
                        "Abs" => a.abs(),
                        "Sqrt" => a.sqrt(),
                        "Reciprocal" => 1.0 / a,
                        "Floor" => a.floor(),
                        "Ceil" => a.ceil(),
                        _ => a.max(0.0),
                    };
                    Data::F32(x.as_f32().into_iter().map(f).collect())
                }
            };
            one(Const {
                dims: x.dims.clone(),
                data,
            })
        }
        other => Err(format!("{other} is not folded")),
    }
}

/// `Shape` of a tensor of `dims` (with `start`/`end`, opset 15).
pub fn shape_of(dims: &[usize], node: &NodeProto) -> Const {
    let rank = dims.len() as i64;
    let clamp = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
    let start = clamp(int_attr(node, "start", 0));
    let end = clamp(int_attr(node, "end", rank));
    let picked: Vec<i64> = dims[start..end.max(start)]
        .iter()
        .map(|&d| d as i64)
        .collect();
    Const::ints(vec![picked.len()], picked)
}

fn scalar<T: Copy>(v: &[T]) -> R<T> {
    match v {
        [x] => Ok(*x),
        _ => Err(format!("{} values where a scalar is needed", v.len())),
    }
}

fn to_dims(values: &[i64]) -> R<Vec<usize>> {
    values
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| format!("dimension {d} in {values:?}")))
        .collect()
}

fn reshaped(x: &Const, dims: Vec<usize>, budget: &mut Budget) -> R<Vec<Const>> {
    if numel(&dims) != x.len() {
        return Err(format!("shape {dims:?} for {} values", x.len()));
    }
    budget.charge(&dims)?;
    Ok(vec![Const {
        dims,
        data: x.data.clone(),
    }])
}

/// `Unsqueeze`: ones inserted at `axes` (of the output's rank).
pub fn unsqueeze_dims(dims: &[usize], axes: &[i64]) -> R<Vec<usize>> {
    let rank = dims.len() + axes.len();
    let mut at = axes.iter().map(|&a| axis(a, rank)).collect::<R<Vec<_>>>()?;
    at.sort_unstable();
    if at.windows(2).any(|w| w[0] == w[1]) {
        return Err(format!("Unsqueeze axes {axes:?} repeat"));
    }
    let mut rest = dims.iter();
    Ok((0..rank)
        .map(|i| {
            if at.contains(&i) {
                1
            } else {
                *rest.next().expect("counted")
            }
        })
        .collect())
}

/// `Squeeze`: the ones at `axes` (all ones when `None`) removed.
pub fn squeeze_dims(dims: &[usize], axes: Option<&[i64]>) -> R<Vec<usize>> {
    match axes {
        None => Ok(dims.iter().copied().filter(|&d| d != 1).collect()),
        Some(axes) => {
            let at = axes
                .iter()
                .map(|&a| axis(a, dims.len()))
                .collect::<R<Vec<_>>>()?;
            if at.iter().any(|&a| dims[a] != 1) {
                return Err(format!(
                    "Squeeze axes {axes:?} of shape {dims:?} are not all 1"
                ));
            }
            Ok(dims
                .iter()
                .enumerate()
                .filter(|(i, _)| !at.contains(i))
                .map(|(_, &d)| d)
                .collect())
        }
    }
}

/// `Reshape`'s target: `0` copies the input's dimension (unless
/// `allowzero`), `-1` takes what is left. Products are checked.
pub fn reshape_target(dims: &[usize], target: &[i64], allowzero: bool) -> R<Vec<usize>> {
    let n = numel(dims);
    let mut out = vec![];
    let mut infer = None;
    for (i, &t) in target.iter().enumerate() {
        match t {
            0 if !allowzero => {
                out.push(*dims.get(i).ok_or_else(|| {
                    format!("Reshape target {target:?} copies a missing dimension")
                })?)
            }
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            t if t >= 0 => out.push(t as usize),
            _ => return Err(format!("Reshape target {target:?}")),
        }
    }
    let known = out
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| {
            format!("Reshape target {target:?} does not fit {n} values (its dimensions overflow)")
        })?;
    if let Some(i) = infer {
        if known == 0 || !n.is_multiple_of(known) {
            return Err(format!("Reshape target {target:?} does not fit {n} values"));
        }
        out[i] = n / known;
    } else if known != n {
        return Err(format!("Reshape target {target:?} does not fit {n} values"));
    }
    Ok(out)
}

/// A slice's output dims and, per axis, (first index, step).
pub type SlicePlan = (Vec<usize>, Vec<(i64, i64)>);

/// Slice: the output dims and, per axis, (first index, step).
pub fn slice_plan(dims: &[usize], ops: &Operands) -> R<SlicePlan> {
    let rank = dims.len();
    let axes: Vec<usize> = match &ops.axes {
        Some(a) => a.iter().map(|&a| axis(a, rank)).collect::<R<_>>()?,
        None => (0..ops.starts.len())
            .map(|a| axis(a as i64, rank))
            .collect::<R<_>>()?,
    };
    if ops.starts.len() != axes.len()
        || ops.ends.len() != axes.len()
        || !(ops.steps.is_empty() || ops.steps.len() == axes.len())
    {
        return Err(format!(
            "Slice with {} starts, {} ends, {} axes and {} steps",
            ops.starts.len(),
            ops.ends.len(),
            axes.len(),
            ops.steps.len()
        ));
    }
    let mut out = dims.to_vec();
    let mut picks: Vec<(i64, i64)> = vec![(0, 1); rank];
    for (k, &a) in axes.iter().enumerate() {
        let d = dims[a] as i64;
        let step = ops.steps.get(k).copied().unwrap_or(1);
        if step == 0 {
            return Err("Slice with step 0".into());
        }
        let norm = |v: i64| if v < 0 { v.saturating_add(d) } else { v };
        let (start, end) = (norm(ops.starts[k]), norm(ops.ends[k]));
        // In i128: a step of ±2^63 must not overflow the count.
        let (start, count) = if step > 0 {
            let (s, e) = (start.clamp(0, d), end.clamp(0, d));
            (
                s,
                ((i128::from(e) - i128::from(s)).max(0) as u128)
                    .div_ceil(u128::from(step.unsigned_abs())),
            )
        } else {
            // ONNX clamps a backwards start to [0, d - 1]; an empty axis has none.
            let s = if d == 0 { -1 } else { start.clamp(0, d - 1) };
            let e = end.clamp(-1, d - 1);
            (
                s,
                ((i128::from(s) - i128::from(e)).max(0) as u128)
                    .div_ceil(u128::from(step.unsigned_abs())),
            )
        };
        out[a] = count as usize;
        picks[a] = (start, step);
    }
    Ok((out, picks))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(op: &str) -> NodeProto {
        NodeProto {
            op_type: op.into(),
            output: vec!["y".into()],
            ..NodeProto::default()
        }
    }

    #[test]
    fn gather_concat_reshape_fold_the_view_flatten() {
        let mut b = Budget::default();
        let shape = Const::ints(vec![4], vec![1, 4, 4, 4]);
        let zero = Const::ints(vec![], vec![0]);
        let g = eval(
            &node("Gather"),
            &[Some(&shape), Some(&zero)],
            &Operands::default(),
            &mut b,
        )
        .unwrap();
        assert_eq!(g[0], Const::ints(vec![], vec![1]));
        let ops = Operands {
            axes: Some(vec![0]),
            ..Operands::default()
        };
        let u = eval(&node("Unsqueeze"), &[Some(&g[0])], &ops, &mut b).unwrap();
        let minus = Const::ints(vec![1], vec![-1]);
        let mut concat = node("Concat");
        concat.attribute.push(super::super::proto::AttributeProto {
            name: "axis".into(),
            i: Some(0),
            ..Default::default()
        });
        let c = eval(&concat, &[Some(&u[0]), Some(&minus)], &ops, &mut b).unwrap();
        assert_eq!(c[0], Const::ints(vec![2], vec![1, -1]));
    }

    #[test]
    fn huge_tensors_are_refused_before_allocation() {
        let mut b = Budget::default();
        let shape = Const::ints(vec![2], vec![1 << 20, 1 << 20]);
        let err = eval(
            &node("ConstantOfShape"),
            &[Some(&shape)],
            &Operands::default(),
            &mut b,
        )
        .unwrap_err();
        assert!(err.contains("larger than"), "{err}");
        let r = [
            Const::ints(vec![], vec![0]),
            Const::ints(vec![], vec![i64::MAX]),
            Const::ints(vec![], vec![1]),
        ];
        let err = eval(
            &node("Range"),
            &[Some(&r[0]), Some(&r[1]), Some(&r[2])],
            &Operands::default(),
            &mut b,
        )
        .unwrap_err();
        assert!(
            err.contains("larger than") || err.contains("too long"),
            "{err}"
        );
        // Many medium tensors exhaust the budget.
        let shape = Const::ints(vec![1], vec![1 << 22]);
        let mut failed = false;
        for _ in 0..8 {
            failed |= eval(
                &node("ConstantOfShape"),
                &[Some(&shape)],
                &Operands::default(),
                &mut b,
            )
            .is_err();
        }
        assert!(failed);
    }

    #[test]
    fn slices_and_integer_division_follow_onnx() {
        let mut b = Budget::default();
        let x = Const::ints(vec![6], vec![0, 1, 2, 3, 4, 5]);
        let ops = Operands {
            starts: vec![-1],
            ends: vec![i64::MIN],
            steps: vec![-2],
            axes: Some(vec![0]),
            ..Operands::default()
        };
        let y = eval(&node("Slice"), &[Some(&x)], &ops, &mut b).unwrap();
        assert_eq!(y[0], Const::ints(vec![3], vec![5, 3, 1]));
        let ops = Operands {
            starts: vec![1],
            ends: vec![i64::MAX],
            axes: Some(vec![0]),
            ..Operands::default()
        };
        let y = eval(&node("Slice"), &[Some(&x)], &ops, &mut b).unwrap();
        assert_eq!(y[0], Const::ints(vec![5], vec![1, 2, 3, 4, 5]));
        // Steps of ±2^63 take one element, without overflowing the count.
        for (start, step, want) in [(0, i64::MAX, 0), (-1, i64::MIN, 5), (-1, -i64::MAX, 5)] {
            let ops = Operands {
                starts: vec![start],
                ends: vec![if step > 0 { i64::MAX } else { i64::MIN }],
                steps: vec![step],
                axes: Some(vec![0]),
                ..Operands::default()
            };
            let y = eval(&node("Slice"), &[Some(&x)], &ops, &mut b).unwrap();
            assert_eq!(y[0], Const::ints(vec![1], vec![want]), "step {step}");
        }
        let d = binary(
            "Div",
            &Const::ints(vec![], vec![-7]),
            &Const::ints(vec![], vec![2]),
            &mut b,
        )
        .unwrap();
        assert_eq!(d, Const::ints(vec![], vec![-3]));
        assert!(binary("Div", &x, &Const::ints(vec![], vec![0]), &mut b).is_err());
        assert!(binary(
            "Mul",
            &Const::ints(vec![], vec![i64::MAX]),
            &Const::ints(vec![], vec![2]),
            &mut b
        )
        .is_err());
    }

    #[test]
    fn transpose_and_tile_move_the_right_elements() {
        let mut b = Budget::default();
        let x = Const::floats(vec![2, 3], vec![0., 1., 2., 3., 4., 5.]);
        let t = eval(
            &node("Transpose"),
            &[Some(&x)],
            &Operands::default(),
            &mut b,
        )
        .unwrap();
        assert_eq!(
            t[0],
            Const::floats(vec![3, 2], vec![0., 3., 1., 4., 2., 5.])
        );
        let reps = Const::ints(vec![2], vec![2, 1]);
        let t = eval(
            &node("Tile"),
            &[Some(&x), Some(&reps)],
            &Operands::default(),
            &mut b,
        )
        .unwrap();
        assert_eq!(
            t[0],
            Const::floats(
                vec![4, 3],
                vec![0., 1., 2., 3., 4., 5., 0., 1., 2., 3., 4., 5.]
            )
        );
        let e = eval(
            &node("Expand"),
            &[
                Some(&Const::floats(vec![3, 1], vec![1., 2., 3.])),
                Some(&Const::ints(vec![2], vec![3, 2])),
            ],
            &Operands::default(),
            &mut b,
        )
        .unwrap();
        assert_eq!(
            e[0],
            Const::floats(vec![3, 2], vec![1., 1., 2., 2., 3., 3.])
        );
    }
}
