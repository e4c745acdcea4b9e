//! ONNX activations that import as a lookup table
//! ([`zkinfer_quant::TableFunction`]), with their attributes at their
//! ONNX defaults when absent.

use super::proto::NodeProto;
use zkinfer_quant::TableFunction;

type R<T> = std::result::Result<T, String>;

fn float_attr(node: &NodeProto, name: &str, default: f32) -> f32 {
    node.attr(name).and_then(|a| a.f).unwrap_or(default)
}

/// The table function of an activation node, `None` if `op_type` is not a
/// table activation. The piecewise-linear ones (`LeakyRelu`, `PRelu`,
/// `Clip`, and `HardSigmoid` with a positive slope) are exact instead
/// ([`super::pwl`]).
pub fn table_function(node: &NodeProto) -> Option<R<TableFunction>> {
    let f = match node.op_type.as_str() {
        "Sigmoid" => TableFunction::Sigmoid,
        "Tanh" => TableFunction::Tanh,
        "Erf" => TableFunction::Erf,
        "Exp" => TableFunction::Exp,
        "Softplus" => TableFunction::Softplus,
        "Softsign" => TableFunction::Softsign,
        "Mish" => TableFunction::Mish,
        "HardSwish" => TableFunction::HardSwish,
        "Log" => TableFunction::Log,
        "Sqrt" => TableFunction::Sqrt,
        "Reciprocal" => TableFunction::Reciprocal,
        "Elu" => TableFunction::Elu {
            alpha: float_attr(node, "alpha", 1.0),
        },
        "Celu" => TableFunction::Celu {
            alpha: float_attr(node, "alpha", 1.0),
        },
        "HardSigmoid" => TableFunction::HardSigmoid {
            alpha: float_attr(node, "alpha", 0.2),
            beta: float_attr(node, "beta", 0.5),
        },
        "Selu" => {
            // zkinfer's SELU has ONNX's constants; other ones are refused.
            let alpha = float_attr(node, "alpha", 1.673_263_2);
            let gamma = float_attr(node, "gamma", 1.050_701);
            if (alpha - 1.673_263_2).abs() > 1e-6 || (gamma - 1.050_701).abs() > 1e-6 {
                return Some(Err(format!(
                    "Selu with alpha {alpha} and gamma {gamma}: only the default constants import"
                )));
            }
            TableFunction::Selu
        }
        "Gelu" => match node.attr("approximate").map(|a| a.s.as_slice()) {
            None | Some(b"none") => TableFunction::Gelu,
            Some(b"tanh") => TableFunction::GeluTanh,
            Some(other) => {
                return Some(Err(format!(
                    "Gelu approximate = {:?}",
                    String::from_utf8_lossy(other)
                )))
            }
        },
        _ => return None,
    };
    Some(valid(f))
}

fn valid(f: TableFunction) -> R<TableFunction> {
    if f.is_valid() {
        Ok(f)
    } else {
        Err(format!("{f:?}: a parameter is not a finite number"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onnx::proto::AttributeProto;

    fn node(op: &str, attrs: Vec<AttributeProto>) -> NodeProto {
        NodeProto {
            op_type: op.into(),
            attribute: attrs,
            ..NodeProto::default()
        }
    }

    fn float(name: &str, f: f32) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            f: Some(f),
            ..AttributeProto::default()
        }
    }

    #[test]
    fn attributes_and_defaults() {
        let get = |n: NodeProto| table_function(&n).unwrap().unwrap();
        assert_eq!(
            get(node("HardSigmoid", vec![float("alpha", 1.0 / 6.0)])),
            TableFunction::HardSigmoid {
                alpha: 1.0 / 6.0,
                beta: 0.5
            }
        );
        assert_eq!(get(node("Selu", vec![])), TableFunction::Selu);
        assert!(table_function(&node("Selu", vec![float("gamma", 2.0)]))
            .unwrap()
            .is_err());
        assert!(table_function(&node("Elu", vec![float("alpha", f32::NAN)]))
            .unwrap()
            .is_err());
        assert!(table_function(&node("Relu", vec![])).is_none());
    }
}
