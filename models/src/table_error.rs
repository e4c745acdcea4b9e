//! [`TableReport`]: how far each lookup table of a quantized model is from
//! the function it stands for, over the domain calibration chose.
//!
//! A table maps each integer of its domain to a rounded output, so it errs
//! twice: the output is rounded to its scale, and every real input between
//! two domain points gets the value of the nearest one. The report measures
//! both at once: the largest `|f(x) − table(x)|` over the domain points and
//! the midpoints between them (where the input rounding is worst), in real
//! units. Outside the domain the model refuses the input: the calibrated
//! bound is a range check, not a clamp.

use serde::{Deserialize, Serialize};
use zkinfer_quant::{Op, QuantizedModel, TableFunction};

/// One table's accuracy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableReport {
    /// The node.
    pub node: usize,
    /// The function tabulated.
    pub function: TableFunction,
    /// The real inputs the table covers: `[min, max]`.
    pub domain: [f64; 2],
    /// Table entries.
    pub entries: usize,
    /// The largest distance to the function on the domain (real units).
    pub max_error: f64,
}

/// The report of every table of `model`, in node order.
pub fn table_reports(model: &QuantizedModel) -> Vec<TableReport> {
    let mut reports = vec![];
    for (node, n) in model.nodes().iter().enumerate() {
        let Op::Table(t) = &n.op else { continue };
        let input = model.specs()[n.inputs[0]].scale;
        let x = |i: i64| input.dequantize(i);
        let min = t.domain_min();
        // A table of a function that grows without bound holds its value
        // at the edge of its calibrated inputs beyond them (the
        // quantizer's choice: exp above, 1/x, 1/√x and ln below): the
        // domain it stands for ends where that constant run begins.
        let run = |values: &mut dyn Iterator<Item = &i64>| {
            let first = values.next().copied();
            1 + values.take_while(|&&v| Some(v) == first).count()
        };
        let zero = usize::try_from(-min).expect("a negative domain minimum");
        let (start, end) = match t.function {
            TableFunction::Exp => (0, t.values.len() + 1 - run(&mut t.values.iter().rev())),
            // Clamped below a positive input: the run passes 0 (a run of
            // equal roundings of 1/x among negative inputs does not).
            TableFunction::Rsqrt { .. } | TableFunction::Reciprocal | TableFunction::Log => {
                let head = run(&mut t.values.iter()) - 1;
                (if head > zero { head } else { 0 }, t.values.len())
            }
            _ => (0, t.values.len()),
        };
        let mut max_error = 0.0f64;
        let first = min + start as i64;
        for (i, &q) in (first..).zip(&t.values[start..end]) {
            let y = t.output_scale.dequantize(q);
            // The point itself and the midpoints to its neighbours, which
            // the input's rounding sends here.
            // Points where the function is undefined (ln 0, 1/0) are
            // inputs calibration never saw: left out.
            for point in [x(i) - 0.5 * x(1), x(i), x(i) + 0.5 * x(1)] {
                let f = t.function.eval(point);
                if f.is_finite() {
                    max_error = max_error.max((f - y).abs());
                }
            }
        }
        reports.push(TableReport {
            node,
            function: t.function,
            domain: [x(first), x(first + (end - start) as i64 - 1)],
            entries: end - start,
            max_error,
        });
    }
    reports
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkinfer_quant::{Node, Scale, Shape, TableActivation, TensorSpec};

    fn model(values: Vec<i64>) -> QuantizedModel {
        model_of(TableFunction::Clip { min: 0.0, max: 6.0 }, values)
    }

    fn model_of(function: TableFunction, values: Vec<i64>) -> QuantizedModel {
        model_at(function, values, Scale(1))
    }

    fn model_at(function: TableFunction, values: Vec<i64>, output_scale: Scale) -> QuantizedModel {
        let table = TableActivation {
            function,
            input_bits: 4,
            output_scale,
            values,
        };
        let input = TensorSpec {
            shape: Shape(vec![2]),
            scale: Scale(0),
            bits: 4,
        };
        let nodes = vec![Node {
            inputs: vec![0],
            op: Op::Table(table),
        }];
        QuantizedModel::new("t", input, nodes, None).unwrap()
    }

    /// Clip(0, 6) on the integers -8..=7 at output scale 1 is exact at the
    /// points; half a step away from 0.5 … 5.5 it is off by 0.5, and the
    /// report says so. A wrong entry shows as its own error.
    #[test]
    fn measures_points_and_midpoints() {
        let exact: Vec<i64> = (-8..8).map(|x: i64| 2 * x.clamp(0, 6)).collect();
        let report = &table_reports(&model(exact.clone()))[0];
        assert_eq!(report.domain, [-8.0, 7.0]);
        assert_eq!(report.entries, 16);
        assert_eq!(report.max_error, 0.5);
        let mut wrong = exact;
        wrong[10] += 3; // x = 2: 4 + 3 → 3.5 instead of 2
        assert_eq!(table_reports(&model(wrong))[0].max_error, 2.0);
    }

    /// 1/x on -8..=7 at output scale 1: undefined at 0, whose entry is
    /// 1/step's (1, as calibration fills it). The report leaves 0 out (an
    /// infinite error otherwise); its worst defined point is the midpoint
    /// −0.5 beside that entry: 1/−0.5 = −2 against 1.
    #[test]
    fn leaves_out_points_where_the_function_is_undefined() {
        let values = (-8..8i64)
            .map(|x| (2.0 / TableFunction::Reciprocal.floor(x as f64, 1.0)).round() as i64)
            .collect();
        let report = &table_reports(&model_of(TableFunction::Reciprocal, values))[0];
        assert_eq!(report.max_error, 3.0);
        assert_eq!(
            report.domain,
            [-8.0, 7.0],
            "equal roundings are not a clamp"
        );
    }

    /// An inverse square root clamped below 2 (the quantizer's choice when
    /// calibration sees nothing under 4) stands for `[2, 7]`: the report
    /// measures it there, not against `1/√x` near 0.
    #[test]
    fn a_table_clamped_below_reports_the_domain_it_follows() {
        let f = TableFunction::Rsqrt { epsilon: 0.0 };
        let values = (-8..8i64)
            .map(|x| (16.0 * f.eval(x.max(2) as f64)).round() as i64)
            .collect();
        let report = &table_reports(&model_at(f, values, Scale(4)))[0];
        assert_eq!(report.domain, [2.0, 7.0]);
        assert_eq!(report.entries, 6);
        // The worst is half a step below 2, which rounding sends to 2:
        // 1/√1.5 against the entry 11/16.
        let want = 1.5f64.sqrt().recip() - 11.0 / 16.0;
        assert!(
            (report.max_error - want).abs() < 1e-9,
            "{}",
            report.max_error
        );
    }
}
