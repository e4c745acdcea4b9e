//! GELU written out. PyTorch's exporters write `F.gelu` as arithmetic
//! around an `Erf` (`x · 0.5 · (1 + erf(x / √2))`) or, approximated, a
//! `Tanh` (`0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))`). Imported
//! node by node, that is a table, three products of activations and their
//! roundings; recognised, it is one GELU table, exact to its rounding.
//!
//! Recognition is numeric, so it does not depend on the exporter's operand
//! order: at a product `x · f` of two run-time values, `f` is evaluated as a
//! function of `x` through the scalar nodes between them, and the product
//! compared with `c · GELU(x)` (either form) at a handful of points.

use super::proto::GraphProto;
use zkinfer_quant::TableFunction;

/// How a value depends on one run-time value: names resolved, constants
/// read, producers found.
pub(super) trait Scalars {
    /// The name `name` stands for (through Identity and Dropout).
    fn resolved<'a>(&'a self, name: &'a str) -> &'a str;
    /// The value of a one-element constant.
    fn scalar(&self, name: &str) -> Option<f64>;
    /// The index of the node computing `name`.
    fn producer(&self, name: &str) -> Option<usize>;
}

/// Nodes between `x` and the factor, at most: GELU's tanh form has eight.
const MAX_DEPTH: usize = 12;

/// `Some((function, c))` when `x · factor` is `c · function(x)` for a
/// GELU form `function`, everywhere the check looks.
pub(super) fn gelu_product(
    graph: &GraphProto,
    s: &impl Scalars,
    x: &str,
    factor: &str,
) -> Option<(TableFunction, f64)> {
    let x = s.resolved(x);
    let f = |t: f64| eval(graph, s, factor, x, t, 0).map(|v| t * v);
    // The product must depend on x through the factor (not be x · const).
    let at_one = f(1.0)?;
    [TableFunction::Gelu, TableFunction::GeluTanh]
        .into_iter()
        .find_map(|function| {
            let c = at_one / function.eval(1.0);
            let matches = [-5.0, -2.5, -1.2, -0.4, 0.3, 0.8, 1.7, 2.9, 6.0]
                .iter()
                .all(|&t| {
                    let (want, got) = (c * function.eval(t), f(t));
                    got.is_some_and(|g| (g - want).abs() <= 1e-6 * want.abs().max(1.0))
                });
            (c.is_finite() && c != 0.0 && matches).then_some((function, c))
        })
}

/// `name` as a function of `x = t`, through default-domain scalar ops.
fn eval(
    graph: &GraphProto,
    s: &impl Scalars,
    name: &str,
    x: &str,
    t: f64,
    depth: usize,
) -> Option<f64> {
    let name = s.resolved(name);
    if name == x {
        return Some(t);
    }
    if let Some(v) = s.scalar(name) {
        return Some(v);
    }
    if depth >= MAX_DEPTH {
        return None;
    }
    let node = &graph.node[s.producer(name)?];
    if !node.domain.is_empty() {
        return None;
    }
    let arg = |i: usize| eval(graph, s, node.input.get(i)?, x, t, depth + 1);
    let v = match node.op_type.as_str() {
        "Add" => arg(0)? + arg(1)?,
        "Sub" => arg(0)? - arg(1)?,
        "Mul" => arg(0)? * arg(1)?,
        "Div" => arg(0)? / arg(1)?,
        "Pow" => arg(0)?.powf(arg(1)?),
        "Tanh" => arg(0)?.tanh(),
        "Erf" => libm::erf(arg(0)?),
        "Sqrt" => arg(0)?.sqrt(),
        "Neg" => -arg(0)?,
        _ => return None,
    };
    v.is_finite().then_some(v)
}
