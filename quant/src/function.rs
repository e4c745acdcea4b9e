//! [`TableFunction`]: the element-wise functions zkinfer evaluates through a
//! lookup table, each defined once by its real-valued formula.
//!
//! A table activation ([`crate::TableActivation`]) stores `f(x)` for every
//! integer of a bounded domain, so its integer semantics is the table
//! itself; the formula here is what calibration fills the table with and
//! what the float model (in candle) computes. Adding a function is one arm
//! in each `match` below: nothing else in zkinfer names table functions.

use serde::{Deserialize, Deserializer, Serialize};

/// A function a table activation tabulates. Parameters are finite (the
/// importers refuse NaN and infinities). Files write a function as its
/// name (`"gelu"`) or, with parameters, `{"elu": {"alpha": 1.0}}`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableFunction {
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `tanh x`.
    Tanh,
    /// `x · Φ(x) = x/2 · (1 + erf(x/√2))`.
    Gelu,
    /// GELU's tanh approximation: `x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
    GeluTanh,
    /// The error function.
    Erf,
    /// `e^x`.
    Exp,
    /// `ln(1 + e^x)`.
    Softplus,
    /// `x / (1 + |x|)`.
    Softsign,
    /// `x · tanh(softplus(x))`.
    Mish,
    /// `x` for `x > 0`, else `alpha · (e^x - 1)`.
    Elu {
        /// The negative side's scale.
        alpha: f32,
    },
    /// ONNX's `Selu` with its default constants.
    Selu,
    /// `max(0, x) + min(0, alpha · (e^(x/alpha) - 1))`.
    Celu {
        /// The negative side's scale.
        alpha: f32,
    },
    /// `x` for `x ≥ 0`, else `alpha · x`.
    LeakyRelu {
        /// The negative side's slope.
        alpha: f32,
    },
    /// `max(0, min(1, alpha · x + beta))`.
    HardSigmoid {
        /// The slope.
        alpha: f32,
        /// The offset.
        beta: f32,
    },
    /// `x · max(0, min(1, x/6 + 1/2))`.
    HardSwish,
    /// `min(max, max(min, x))`; ReLU6 is `Clip { min: 0, max: 6 }`.
    Clip {
        /// The lower bound.
        min: f32,
        /// The upper bound.
        max: f32,
    },
    /// SiLU (swish): `x · sigmoid(x)`, as PyTorch exports it (`Mul` of a
    /// tensor and its own `Sigmoid`).
    Silu,
    /// `ln x`, for `x > 0` ([`TableFunction::floor`]).
    Log,
    /// `√x`, for `x ≥ 0`; 0 below.
    Sqrt,
    /// `1 / x`, for `x ≠ 0` ([`TableFunction::floor`] at 0).
    Reciprocal,
    /// `1 / √(x + epsilon)`, for `x + epsilon > 0`: a normalisation's
    /// inverse standard deviation, from its variance.
    Rsqrt {
        /// Added to the variance.
        epsilon: f32,
    },
}

impl Eq for TableFunction {}

/// Read through a JSON value rather than a derived visitor: the verifier
/// contract parses model files, and a derived enum visitor per variant
/// costs its wasm module kilobytes.
impl<'de> Deserialize<'de> for TableFunction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        TableFunction::from_value(&value).map_err(serde::de::Error::custom)
    }
}

impl TableFunction {
    fn from_value(value: &serde_json::Value) -> Result<Self, String> {
        let (name, params) = match value {
            serde_json::Value::String(name) => (name.as_str(), None),
            serde_json::Value::Object(map) if map.len() == 1 => {
                let (name, params) = map.iter().next().expect("one entry");
                (name.as_str(), Some(params))
            }
            other => {
                return Err(format!(
                    "a table function is a name or {{name: parameters}}, not {other}"
                ))
            }
        };
        let number = |key: &str| -> Result<f32, String> {
            params
                .and_then(|p| p.get(key))
                .and_then(|v| v.as_f64())
                .map(|v| v as f32)
                .ok_or_else(|| format!("the {name} table function needs a number {key:?}"))
        };
        let function = match name {
            "sigmoid" => TableFunction::Sigmoid,
            "tanh" => TableFunction::Tanh,
            "gelu" => TableFunction::Gelu,
            "gelu_tanh" => TableFunction::GeluTanh,
            "erf" => TableFunction::Erf,
            "exp" => TableFunction::Exp,
            "softplus" => TableFunction::Softplus,
            "softsign" => TableFunction::Softsign,
            "mish" => TableFunction::Mish,
            "elu" => TableFunction::Elu {
                alpha: number("alpha")?,
            },
            "selu" => TableFunction::Selu,
            "celu" => TableFunction::Celu {
                alpha: number("alpha")?,
            },
            "leaky_relu" => TableFunction::LeakyRelu {
                alpha: number("alpha")?,
            },
            "hard_sigmoid" => TableFunction::HardSigmoid {
                alpha: number("alpha")?,
                beta: number("beta")?,
            },
            "hard_swish" => TableFunction::HardSwish,
            "clip" => TableFunction::Clip {
                min: number("min")?,
                max: number("max")?,
            },
            "silu" => TableFunction::Silu,
            "log" => TableFunction::Log,
            "sqrt" => TableFunction::Sqrt,
            "reciprocal" => TableFunction::Reciprocal,
            "rsqrt" => TableFunction::Rsqrt {
                epsilon: number("epsilon")?,
            },
            other => return Err(format!("unknown table function {other:?}")),
        };
        let parametric = matches!(
            function,
            TableFunction::Elu { .. }
                | TableFunction::Celu { .. }
                | TableFunction::LeakyRelu { .. }
                | TableFunction::HardSigmoid { .. }
                | TableFunction::Clip { .. }
                | TableFunction::Rsqrt { .. }
        );
        if !parametric && params.is_some() {
            return Err(format!("the {name} table function takes no parameters"));
        }
        Ok(function)
    }
}

/// ONNX's `Selu` defaults.
const SELU_ALPHA: f64 = 1.673_263_192_176_818_8;
const SELU_GAMMA: f64 = 1.050_701_022_148_132_3;

impl TableFunction {
    /// One of each function, with typical parameters, in digest-tag order
    /// (for tests and listings).
    pub const ALL: &'static [TableFunction] = &[
        TableFunction::Sigmoid,
        TableFunction::Tanh,
        TableFunction::Gelu,
        TableFunction::GeluTanh,
        TableFunction::Erf,
        TableFunction::Exp,
        TableFunction::Softplus,
        TableFunction::Softsign,
        TableFunction::Mish,
        TableFunction::Elu { alpha: 1.0 },
        TableFunction::Selu,
        TableFunction::Celu { alpha: 1.0 },
        TableFunction::LeakyRelu { alpha: 0.01 },
        TableFunction::HardSigmoid {
            alpha: 0.2,
            beta: 0.5,
        },
        TableFunction::HardSwish,
        TableFunction::Clip { min: 0.0, max: 6.0 },
        TableFunction::Silu,
        TableFunction::Log,
        TableFunction::Sqrt,
        TableFunction::Reciprocal,
        TableFunction::Rsqrt { epsilon: 1e-5 },
    ];

    /// The name model and architecture files use.
    pub fn name(self) -> &'static str {
        match self {
            TableFunction::Sigmoid => "sigmoid",
            TableFunction::Tanh => "tanh",
            TableFunction::Gelu => "gelu",
            TableFunction::GeluTanh => "gelu_tanh",
            TableFunction::Erf => "erf",
            TableFunction::Exp => "exp",
            TableFunction::Softplus => "softplus",
            TableFunction::Softsign => "softsign",
            TableFunction::Mish => "mish",
            TableFunction::Elu { .. } => "elu",
            TableFunction::Selu => "selu",
            TableFunction::Celu { .. } => "celu",
            TableFunction::LeakyRelu { .. } => "leaky_relu",
            TableFunction::HardSigmoid { .. } => "hard_sigmoid",
            TableFunction::HardSwish => "hard_swish",
            TableFunction::Clip { .. } => "clip",
            TableFunction::Silu => "silu",
            TableFunction::Log => "log",
            TableFunction::Sqrt => "sqrt",
            TableFunction::Reciprocal => "reciprocal",
            TableFunction::Rsqrt { .. } => "rsqrt",
        }
    }

    /// The function's value at `x`: its float semantics.
    pub fn eval(self, x: f64) -> f64 {
        let softplus = |x: f64| x.max(0.0) + (-x.abs()).exp().ln_1p();
        match self {
            TableFunction::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            TableFunction::Tanh => x.tanh(),
            TableFunction::Gelu => 0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2)),
            TableFunction::GeluTanh => {
                let c = (2.0 / std::f64::consts::PI).sqrt();
                0.5 * x * (1.0 + (c * (x + 0.044715 * x * x * x)).tanh())
            }
            TableFunction::Erf => libm::erf(x),
            TableFunction::Exp => x.exp(),
            TableFunction::Softplus => softplus(x),
            TableFunction::Softsign => x / (1.0 + x.abs()),
            TableFunction::Mish => x * softplus(x).tanh(),
            TableFunction::Elu { alpha } => {
                if x > 0.0 {
                    x
                } else {
                    alpha as f64 * x.exp_m1()
                }
            }
            TableFunction::Selu => SELU_GAMMA * if x > 0.0 { x } else { SELU_ALPHA * x.exp_m1() },
            TableFunction::Celu { alpha } => {
                let a = alpha as f64;
                x.max(0.0) + (a * (x / a).exp_m1()).min(0.0)
            }
            TableFunction::LeakyRelu { alpha } => {
                if x >= 0.0 {
                    x
                } else {
                    alpha as f64 * x
                }
            }
            TableFunction::HardSigmoid { alpha, beta } => {
                (alpha as f64 * x + beta as f64).clamp(0.0, 1.0)
            }
            TableFunction::HardSwish => x * (x / 6.0 + 0.5).clamp(0.0, 1.0),
            TableFunction::Clip { min, max } => x.clamp(min as f64, max as f64),
            TableFunction::Silu => x / (1.0 + (-x).exp()),
            TableFunction::Log => x.ln(),
            TableFunction::Sqrt => x.max(0.0).sqrt(),
            TableFunction::Reciprocal => x.recip(),
            TableFunction::Rsqrt { epsilon } => (x + epsilon as f64).sqrt().recip(),
        }
    }

    /// For a function undefined at some inputs (`ln` at `x ≤ 0`, `1/x` at
    /// 0, `1/√(x + ε)` at `x ≤ -ε`): the input a table reads instead, given the domain's step (its
    /// smallest positive value). A table must hold a value for every
    /// integer of its domain; these give the one at the smallest positive
    /// input, which is what the nearest defined input rounds to. The float
    /// model computes the formula itself (and calibration refuses a
    /// non-finite value), so only inputs calibration never saw read these.
    pub fn floor(self, x: f64, step: f64) -> f64 {
        match self {
            TableFunction::Log if x <= 0.0 => step,
            TableFunction::Reciprocal if x == 0.0 => step,
            TableFunction::Rsqrt { epsilon } if x + epsilon as f64 <= 0.0 => step,
            _ => x,
        }
    }

    /// The op tag of a table of this function in the model digest
    /// ([`crate::ModelDigest`]). Part of the format: never renumber.
    /// Sigmoid and tanh kept the tags they had as ops of their own;
    /// functions added later take tags from 64 up, clear of op tags. A
    /// function's parameters are not encoded: the table's values are.
    pub fn digest_tag(self) -> u8 {
        match self {
            TableFunction::Sigmoid => 11,
            TableFunction::Tanh => 12,
            TableFunction::Gelu => 64,
            TableFunction::GeluTanh => 65,
            TableFunction::Erf => 66,
            TableFunction::Exp => 67,
            TableFunction::Softplus => 68,
            TableFunction::Softsign => 69,
            TableFunction::Mish => 70,
            TableFunction::Elu { .. } => 71,
            TableFunction::Selu => 72,
            TableFunction::Celu { .. } => 73,
            TableFunction::LeakyRelu { .. } => 74,
            TableFunction::HardSigmoid { .. } => 75,
            TableFunction::HardSwish => 76,
            TableFunction::Clip { .. } => 77,
            TableFunction::Silu => 78,
            TableFunction::Log => 79,
            TableFunction::Sqrt => 80,
            TableFunction::Reciprocal => 81,
            TableFunction::Rsqrt { .. } => 82,
        }
    }

    /// The parameters, in declaration order (none for most functions).
    pub fn params(self) -> Vec<f32> {
        match self {
            TableFunction::Elu { alpha }
            | TableFunction::Celu { alpha }
            | TableFunction::LeakyRelu { alpha } => vec![alpha],
            TableFunction::HardSigmoid { alpha, beta } => vec![alpha, beta],
            TableFunction::Clip { min, max } => vec![min, max],
            TableFunction::Rsqrt { epsilon } => vec![epsilon],
            _ => vec![],
        }
    }

    /// The function of a [`Self::digest_tag`] with these
    /// [`Self::params`]; `None` for an unknown tag or the wrong number of
    /// parameters.
    pub fn from_tag(tag: u8, params: &[f32]) -> Option<Self> {
        let function = *Self::ALL.iter().find(|f| f.digest_tag() == tag)?;
        let function = match (function, params) {
            (TableFunction::Elu { .. }, &[alpha]) => TableFunction::Elu { alpha },
            (TableFunction::Celu { .. }, &[alpha]) => TableFunction::Celu { alpha },
            (TableFunction::LeakyRelu { .. }, &[alpha]) => TableFunction::LeakyRelu { alpha },
            (TableFunction::HardSigmoid { .. }, &[alpha, beta]) => {
                TableFunction::HardSigmoid { alpha, beta }
            }
            (TableFunction::Clip { .. }, &[min, max]) => TableFunction::Clip { min, max },
            (TableFunction::Rsqrt { .. }, &[epsilon]) => TableFunction::Rsqrt { epsilon },
            (other, []) if other.params().is_empty() => other,
            _ => return None,
        };
        Some(function)
    }

    /// Whether every parameter is finite (and `alpha` of CELU non-zero).
    pub fn is_valid(self) -> bool {
        match self {
            TableFunction::Elu { alpha } | TableFunction::LeakyRelu { alpha } => alpha.is_finite(),
            TableFunction::Celu { alpha } => alpha.is_finite() && alpha != 0.0,
            TableFunction::HardSigmoid { alpha, beta } => alpha.is_finite() && beta.is_finite(),
            TableFunction::Clip { min, max } => min.is_finite() && max.is_finite() && min <= max,
            TableFunction::Rsqrt { epsilon } => epsilon.is_finite() && epsilon >= 0.0,
            _ => true,
        }
    }
}

impl std::fmt::Display for TableFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_and_tags_are_distinct() {
        let names: HashSet<_> = TableFunction::ALL.iter().map(|f| f.name()).collect();
        let tags: HashSet<_> = TableFunction::ALL.iter().map(|f| f.digest_tag()).collect();
        assert_eq!(names.len(), TableFunction::ALL.len());
        assert_eq!(tags.len(), TableFunction::ALL.len());
    }

    #[test]
    fn serde_round_trips_under_the_name() {
        for &f in TableFunction::ALL {
            let json = serde_json::to_string(&f).unwrap();
            assert!(json.contains(&format!("\"{}\"", f.name())), "{json}");
            assert_eq!(serde_json::from_str::<TableFunction>(&json).unwrap(), f);
        }
    }

    #[test]
    fn malformed_functions_are_refused() {
        for bad in [
            r#""swish""#,
            r#"{"elu": {}}"#,
            r#"{"elu": {"alpha": "1"}}"#,
            r#"{"gelu": {"alpha": 1.0}}"#,
            r#"{"elu": {"alpha": 1.0}, "clip": {}}"#,
            "3",
        ] {
            assert!(serde_json::from_str::<TableFunction>(bad).is_err(), "{bad}");
        }
    }

    /// Spot values from the functions' definitions (computed by hand or
    /// from published tables), so a typo in a formula cannot pass.
    #[test]
    fn spot_values() {
        let close = |f: TableFunction, x: f64, want: f64| {
            let got = f.eval(x);
            assert!((got - want).abs() < 1e-6, "{f}({x}) = {got}, want {want}");
        };
        close(TableFunction::Sigmoid, 0.0, 0.5);
        close(TableFunction::Tanh, 1.0, 0.761_594_155_955_764_9);
        close(TableFunction::Erf, 1.0, 0.842_700_792_949_714_9);
        close(TableFunction::Gelu, 1.0, 0.841_344_746_068_542_9);
        close(TableFunction::GeluTanh, 1.0, 0.841_191_990_607_477_2);
        close(TableFunction::Exp, 1.0, std::f64::consts::E);
        close(TableFunction::Softplus, 0.0, std::f64::consts::LN_2);
        close(TableFunction::Softplus, -40.0, 4.248_354_255_291_589e-18);
        close(TableFunction::Softsign, 3.0, 0.75);
        close(TableFunction::Mish, 1.0, 0.865_098_388_702_9);
        close(
            TableFunction::Elu { alpha: 1.0 },
            -1.0,
            -0.632_120_558_828_557_7,
        );
        close(TableFunction::Selu, 1.0, 1.050_701_022_148_132_3);
        close(TableFunction::Selu, -1.0, -1.111_330_737_812_562_6);
        close(
            TableFunction::Celu { alpha: 2.0 },
            -2.0,
            -1.264_241_117_657_115_4,
        );
        close(TableFunction::LeakyRelu { alpha: 0.1 }, -3.0, -0.3);
        let hs = TableFunction::HardSigmoid {
            alpha: 0.2,
            beta: 0.5,
        };
        close(hs, 1.0, 0.7);
        close(hs, 10.0, 1.0);
        close(TableFunction::HardSwish, 1.0, 2.0 / 3.0);
        close(TableFunction::HardSwish, -4.0, 0.0);
        close(TableFunction::Clip { min: 0.0, max: 6.0 }, 7.5, 6.0);
        close(TableFunction::Clip { min: 0.0, max: 6.0 }, -1.0, 0.0);
        close(TableFunction::Silu, 1.0, 0.731_058_578_630_004_9);
        close(TableFunction::Silu, -2.0, -0.238_405_844_044_234);
        close(TableFunction::Log, std::f64::consts::E, 1.0);
        close(TableFunction::Log, 0.5, -std::f64::consts::LN_2);
        close(TableFunction::Sqrt, 2.25, 1.5);
        close(TableFunction::Sqrt, -1.0, 0.0);
        close(TableFunction::Reciprocal, -4.0, -0.25);
        close(TableFunction::Rsqrt { epsilon: 0.25 }, 3.75, 0.5);
        // Where a formula is undefined, a table reads the smallest step.
        let step = 1.0 / 32.0;
        assert_eq!(TableFunction::Log.floor(-3.0, step), step);
        assert_eq!(TableFunction::Log.floor(0.0, step), step);
        assert_eq!(TableFunction::Reciprocal.floor(0.0, step), step);
        assert_eq!(TableFunction::Reciprocal.floor(-3.0, step), -3.0);
        assert_eq!(TableFunction::Sqrt.floor(-3.0, step), -3.0);
    }
}
