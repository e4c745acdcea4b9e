//! Input files: what `zkinfer infer`, `prove` and `quantize` read.
//!
//! Accepted shapes, all JSON:
//!
//! * zkinfer's `{"input": [...]}` — one sample; the array may be nested (a
//!   `1×8×8` image) and is flattened row-major;
//! * zkinfer's `{"inputs": [[...], ...]}` — several samples;
//! * EZKL's `{"input_data": [[...], ...]}` — one flat array per graph
//!   input; a calibration file may concatenate several samples in each. A
//!   model imported from a graph with several inputs takes them as one
//!   vector, their concatenation in graph order: sample `j` is the `j`-th
//!   slice of every array, laid end to end.
//!
//! * `{"tokens": [id, ...]}` or `{"tokens": [[id, ...], ...]}` — token ids
//!   (one sample, or several), for a model whose input is `[t, vocab]`
//!   one-hot rows (an ONNX model whose input indexes embedding tables):
//!   each id becomes its row, a 1 at the id and 0 elsewhere.
//!
//! JSON has no NaN or infinity; files written by Python's `json` module may
//! still contain `NaN` or `Infinity`, which get an error of their own.

use crate::error::{ModelError, Result};
use serde_json::Value;
use std::path::Path;

/// Reads the samples of an input file, each a flat vector of `numel`
/// values. `numel` splits EZKL's concatenated `input_data` into samples and
/// checks every sample's length.
pub fn read_samples(path: &Path, numel: usize) -> Result<Vec<Vec<f64>>> {
    read_samples_of(path, &[numel])
}

/// [`read_samples`] for a model fed by several graph inputs of `parts`
/// values each (in graph order): EZKL's `input_data` then holds one array
/// per input.
pub fn read_samples_of(path: &Path, parts: &[usize]) -> Result<Vec<Vec<f64>>> {
    let text = crate::read_text(path)?;
    parse_samples_of(&text, parts).map_err(|e| ModelError::Data(format!("{}: {e}", path.display())))
}

/// Fewer calibration samples than this earn a warning.
pub const FEW_SAMPLES: usize = 10;

/// What is wrong with a calibration set that still quantizes: too few
/// samples, or samples that are all one value (all zeros, say). Scales and
/// bounds fitted to such a set are guesses, and the agreement reported on it
/// says nothing about real inputs. Empty when the set looks usable.
pub fn calibration_warnings(samples: &[Vec<f64>]) -> Vec<String> {
    let mut warnings = vec![];
    let n = samples.len();
    if n < FEW_SAMPLES {
        warnings.push(format!(
            "only {n} calibration sample{}: scales, bounds and the reported agreement rest on \
             too little data; give at least {FEW_SAMPLES} (ideally 100 or more) representative \
             inputs",
            if n == 1 { "" } else { "s" }
        ));
    }
    let mut values = samples.iter().flatten();
    if let Some(&first) = values.next() {
        if values.all(|&v| v == first) {
            warnings.push(format!(
                "every calibration value is {first}: the set is constant, so it cannot show the \
             model's range; give representative inputs"
            ));
        }
    }
    warnings
}

/// [`read_samples`] on text.
pub fn parse_samples(text: &str, numel: usize) -> std::result::Result<Vec<Vec<f64>>, String> {
    parse_samples_of(text, &[numel])
}

/// [`read_samples_of`] on text.
pub fn parse_samples_of(text: &str, parts: &[usize]) -> std::result::Result<Vec<Vec<f64>>, String> {
    let numel: usize = parts.iter().sum();
    let value: Value = serde_json::from_str(text).map_err(|e| {
        if let Some(word) = ["NaN", "Infinity"].iter().find(|w| text.contains(*w)) {
            format!("contains {word}: inputs must be finite numbers ({e})")
        } else {
            format!("malformed JSON: {e}")
        }
    })?;
    let obj = value
        .as_object()
        .ok_or("expected a JSON object with \"input\", \"inputs\" or \"input_data\"")?;
    let samples = if let Some(v) = obj.get("input") {
        vec![flatten(v, "input")?]
    } else if let Some(v) = obj.get("inputs") {
        let list = v
            .as_array()
            .ok_or("\"inputs\" must be an array of samples")?;
        list.iter()
            .enumerate()
            .map(|(i, s)| flatten(s, &format!("inputs[{i}]")))
            .collect::<std::result::Result<Vec<_>, _>>()?
    } else if let Some(v) = obj.get("tokens") {
        token_samples(v, numel)?
    } else if let Some(v) = obj.get("input_data") {
        let per_input = v
            .as_array()
            .ok_or("\"input_data\" must be an array with one array per model input")?;
        if per_input.len() != parts.len() {
            return Err(format!(
                "\"input_data\" has {} arrays; the model has {} input{} (one array each, \
                 several samples concatenated in an array)",
                per_input.len(),
                parts.len(),
                if parts.len() == 1 { "" } else { "s" }
            ));
        }
        let arrays = per_input
            .iter()
            .enumerate()
            .map(|(i, a)| flatten(a, &format!("input_data[{i}]")))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        // Every array holds the same number of samples of its input.
        let mut samples = None;
        for (i, (a, &n)) in arrays.iter().zip(parts).enumerate() {
            if n == 0 || a.is_empty() || !a.len().is_multiple_of(n) {
                return Err(format!(
                    "\"input_data[{i}]\" has {} values, not a positive multiple of the input's {n}",
                    a.len()
                ));
            }
            let count = a.len() / n;
            if samples.is_some_and(|s| s != count) {
                return Err(format!(
                    "\"input_data[{i}]\" holds {count} samples, the arrays before it {}",
                    samples.unwrap_or_default()
                ));
            }
            samples = Some(count);
        }
        (0..samples.unwrap_or_default())
            .map(|j| {
                arrays
                    .iter()
                    .zip(parts)
                    .flat_map(|(a, &n)| a[j * n..(j + 1) * n].iter().copied())
                    .collect()
            })
            .collect()
    } else {
        return Err("expected a field \"input\", \"inputs\", \"input_data\" or \"tokens\"".into());
    };
    if samples.is_empty() {
        return Err("holds no samples".into());
    }
    for (i, s) in samples.iter().enumerate() {
        if s.len() != numel {
            return Err(format!(
                "sample {i} has {} values, the model's input has {numel}",
                s.len()
            ));
        }
    }
    Ok(samples)
}

/// `"tokens"`: one context of ids or an array of them, each id expanded to
/// a one-hot row; a model input of `numel` values takes contexts of `t`
/// ids with `numel = t · vocab`.
fn token_samples(v: &Value, numel: usize) -> std::result::Result<Vec<Vec<f64>>, String> {
    let list = v
        .as_array()
        .filter(|l| !l.is_empty())
        .ok_or("\"tokens\" must be a non-empty array of token ids, or of such arrays")?;
    let contexts: Vec<(String, &Vec<Value>)> = if list.iter().all(Value::is_array) {
        list.iter()
            .enumerate()
            .map(|(i, c)| (format!("tokens[{i}]"), c.as_array().expect("an array")))
            .collect()
    } else {
        vec![("tokens".to_string(), list)]
    };
    contexts
        .into_iter()
        .map(|(field, ids)| {
            let t = ids.len();
            if t == 0 || !numel.is_multiple_of(t) {
                return Err(format!(
                    "{field} holds {t} token ids: the model's input of {numel} values takes a \
                     context whose length divides it (one-hot rows of the vocabulary)"
                ));
            }
            let vocab = numel / t;
            let mut rows = vec![0.0; numel];
            for (p, id) in ids.iter().enumerate() {
                match id.as_u64().filter(|&i| (i as usize) < vocab) {
                    Some(i) => rows[p * vocab + i as usize] = 1.0,
                    None => {
                        return Err(format!(
                            "{field}[{p}] is {id}: a token id is an integer from 0 to {}",
                            vocab - 1
                        ))
                    }
                }
            }
            Ok(rows)
        })
        .collect()
}

/// Flattens a number or a nested array row-major. Nested arrays must be
/// rectangular: a ragged one (`[[1, 2], [3]]`) is refused at the first
/// position whose length or depth differs from its siblings'.
fn flatten(v: &Value, field: &str) -> std::result::Result<Vec<f64>, String> {
    check_rectangular(v, field)?;
    fn walk(v: &Value, out: &mut Vec<f64>, field: &str) -> std::result::Result<(), String> {
        match v {
            Value::Array(items) => items.iter().try_for_each(|item| walk(item, out, field)),
            Value::Number(n) => {
                let x = n
                    .as_f64()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| format!("{field}: {n} is not a finite number"))?;
                out.push(x);
                Ok(())
            }
            other => Err(format!("{field}[{}] is {other}, not a number", out.len())),
        }
    }
    let mut out = vec![];
    walk(v, &mut out, field)?;
    Ok(out)
}

/// The shape of a rectangular nested array, or where it is ragged.
fn check_rectangular(v: &Value, field: &str) -> std::result::Result<Vec<usize>, String> {
    let Value::Array(items) = v else {
        return Ok(vec![]);
    };
    let mut shape: Option<Vec<usize>> = None;
    for (i, item) in items.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let inner = check_rectangular(item, &at)?;
        match &shape {
            None => shape = Some(inner),
            Some(first) if *first != inner => {
                let describe = |s: &[usize]| {
                    if s.is_empty() {
                        "a number".to_string()
                    } else {
                        format!("an array of shape {s:?}")
                    }
                };
                return Err(format!(
                    "{at} is {}, but {field}[0] is {}: nested arrays must be rectangular \
                     (same length at every level); fix that row or give a flat array",
                    describe(&inner),
                    describe(first)
                ));
            }
            Some(_) => {}
        }
    }
    let mut out = vec![items.len()];
    out.extend(shape.unwrap_or_default());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_accepted_shape() {
        assert_eq!(
            parse_samples(r#"{"input": [1, 2.5]}"#, 2).unwrap(),
            vec![vec![1.0, 2.5]]
        );
        assert_eq!(
            parse_samples(r#"{"input": [[[1, 2], [3, 4]]]}"#, 4).unwrap(),
            vec![vec![1.0, 2.0, 3.0, 4.0]]
        );
        assert_eq!(
            parse_samples(r#"{"inputs": [[1, 2], [3, 4]]}"#, 2).unwrap(),
            vec![vec![1.0, 2.0], vec![3.0, 4.0]]
        );
        assert_eq!(
            parse_samples(r#"{"input_data": [[1, 2, 3, 4]]}"#, 2).unwrap(),
            vec![vec![1.0, 2.0], vec![3.0, 4.0]]
        );
        // Two graph inputs (2 and 1 values), two samples each.
        assert_eq!(
            parse_samples_of(r#"{"input_data": [[1, 2, 3, 4], [5, 6]]}"#, &[2, 1]).unwrap(),
            vec![vec![1.0, 2.0, 5.0], vec![3.0, 4.0, 6.0]]
        );
        // Token ids: one-hot rows of a [2, 3] input, one context or several.
        let rows = vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0];
        assert_eq!(
            parse_samples(r#"{"tokens": [2, 0]}"#, 6).unwrap(),
            vec![rows.clone()]
        );
        assert_eq!(
            parse_samples(r#"{"tokens": [[2, 0], [1, 1]]}"#, 6).unwrap(),
            vec![rows, vec![0.0, 1.0, 0.0, 0.0, 1.0, 0.0]]
        );
    }

    #[test]
    fn refuses_token_ids_outside_the_vocabulary_by_position() {
        let err = |t: &str| parse_samples(t, 6).unwrap_err();
        assert!(err(r#"{"tokens": [2, 3]}"#)
            .contains("tokens[1] is 3: a token id is an integer from 0 to 2"));
        assert!(err(r#"{"tokens": [[0, 1], [1, -1]]}"#).contains("tokens[1][1] is -1"));
        assert!(err(r#"{"tokens": [1.5, 0]}"#).contains("tokens[0] is 1.5"));
        assert!(err(r#"{"tokens": [0, 1, 2, 0]}"#).contains("tokens holds 4 token ids"));
        assert!(err(r#"{"tokens": []}"#).contains("non-empty array"));
        assert!(err(r#"{"tokens": "ab"}"#).contains("non-empty array"));
    }

    #[test]
    fn refuses_bad_files_with_a_reason() {
        let err = |t: &str, n| parse_samples(t, n).unwrap_err();
        assert!(err(r#"{"input": [1, NaN]}"#, 2).contains("NaN"));
        assert!(err(r#"{"input": [1, Infinity]}"#, 2).contains("Infinity"));
        assert!(err(r#"{"input": [1, 2e400]}"#, 2).contains("malformed JSON"));
        assert!(err(r#"{"input": [1, "a"]}"#, 2).contains("input[1] is \"a\""));
        assert!(err(r#"{"input": [1, 2, 3]}"#, 2).contains("sample 0 has 3 values"));
        assert!(err(r#"{"input_data": [[1, 2, 3]]}"#, 2).contains("not a positive multiple"));
        // Samples given as arrays of a one-input model: refused, not mixed.
        assert!(err(r#"{"input_data": [[1, 2], [3, 4]]}"#, 2).contains("the model has 1 input"));
        let parts = |t: &str, p: &[usize]| parse_samples_of(t, p).unwrap_err();
        assert!(parts(r#"{"input_data": [[1, 2, 3], [4]]}"#, &[2, 1]).contains("input_data[0]"));
        assert!(parts(r#"{"input_data": [[1, 2], [3, 4]]}"#, &[2, 1]).contains("holds 2 samples"));
        assert!(err(r#"{"inputs": []}"#, 2).contains("no samples"));
        assert!(err(r#"{"other": 1}"#, 2).contains("expected a field"));
        assert!(err(r#"{"input": [1, 2"#, 2).contains("malformed JSON"));
    }

    #[test]
    fn refuses_ragged_nested_arrays_naming_the_position() {
        let err = |t: &str, n| parse_samples(t, n).unwrap_err();
        let e = err(r#"{"input": [[1, 2], [3]]}"#, 3);
        assert!(e.contains("input[1] is an array of shape [1]"), "{e}");
        assert!(e.contains("input[0] is an array of shape [2]"), "{e}");
        assert!(e.contains("rectangular"), "{e}");
        let e = err(r#"{"input": [[1, 2], 3, 4]}"#, 4);
        assert!(e.contains("input[1] is a number"), "{e}");
        let e = err(r#"{"inputs": [[1, 2], [[3, 4], [5]]]}"#, 2);
        assert!(e.contains("inputs[1][1] is an array of shape [1]"), "{e}");
        // Rectangular nesting is still flattened row-major.
        assert_eq!(
            parse_samples(r#"{"input": [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]}"#, 8).unwrap(),
            vec![(1..=8).map(f64::from).collect::<Vec<_>>()]
        );
    }

    #[test]
    fn warns_about_few_or_constant_calibration_samples() {
        let varied: Vec<Vec<f64>> = (0..12).map(|i| vec![f64::from(i), 1.0]).collect();
        assert!(calibration_warnings(&varied).is_empty());
        let one = calibration_warnings(&varied[..1]);
        assert_eq!(one.len(), 1, "{one:?}");
        assert!(one[0].contains("only 1 calibration sample:"), "{one:?}");
        let zeros = vec![vec![0.0; 4]; 20];
        let w = calibration_warnings(&zeros);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("every calibration value is 0"), "{w:?}");
        assert_eq!(calibration_warnings(&[vec![0.0, 0.0]]).len(), 2);
    }
}
