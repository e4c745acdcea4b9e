//! Fuzzing `zkinfer/model@1` files: extreme values in every numeric field,
//! and 10⁴ structure-aware and byte mutations of valid models (both bundled
//! models and a model with every op). A case passes when parsing returns an
//! error, or a model whose every spec is in range and whose reference
//! forward pass runs. Zero panics; overflow checks are on in release for
//! zkinfer's crates, so a wrap would be a panic here too.
//!
//! Regression tests for what the fuzzers and the issue found come first.

use serde_json::Value;
use sha2::{Digest, Sha256};
use zkinfer_fuzz::{
    cases, extreme_field_cases, mutate_bytes, mutate_json_text, run, show_bytes, Rng,
};
use zkinfer_quant::ops::MAX_BITS;
use zkinfer_quant::{
    Conv2d, Linear, Node, Op, Pool2d, QuantError, QuantizedModel, Rescale, Scale, Select, Shape,
    TableActivation, TableFunction, Tensor, TensorSpec,
};

const MLP: &str = include_str!("../../models/bundled/digits-mlp/model.json");
const CNN: &str = include_str!("../../models/bundled/digits-cnn/model.json");

fn node(inputs: &[usize], op: Op) -> Node {
    Node {
        inputs: inputs.to_vec(),
        op,
    }
}

fn image(c: usize, h: usize, w: usize) -> TensorSpec {
    TensorSpec {
        shape: Shape(vec![c, h, w]),
        scale: Scale(4),
        bits: 8,
    }
}

fn conv(padding: [usize; 2], stride: [usize; 2]) -> Op {
    Op::Conv2d(Conv2d {
        weight: Tensor::new([1, 1, 3, 3], vec![1; 9]).unwrap(),
        weight_scale: Scale(2),
        bias: vec![0],
        stride,
        padding,
        groups: 1,
    })
}

fn refusal(input: TensorSpec, nodes: Vec<Node>) -> String {
    QuantizedModel::new("bad", input, nodes, None)
        .expect_err("the model must be refused")
        .to_string()
}

/// Every op kind once: what the bundled models do not reach.
fn zoo() -> QuantizedModel {
    let table = |function, input_bits: u32| TableActivation {
        function,
        input_bits,
        output_scale: Scale(4),
        values: (0..1i64 << input_bits).map(|i| (i % 33) - 16).collect(),
    };
    #[cfg_attr(not(feature = "transformers"), allow(unused_mut))]
    let mut nodes = vec![
        node(&[0], conv([1, 1], [1, 1])),
        node(&[1], Op::Rescale(Rescale { shift: 2, bits: 8 })),
        node(&[2], Op::Relu),
        node(&[3], Op::MaxPool2d(Pool2d::new([2, 2], [2, 2]))),
        node(
            &[4],
            // Padded: rows -1..=1 of a 2-row image, so each window
            // divides by the 2 positions inside it.
            Op::AvgPool2d(Pool2d {
                padding: [1, 0],
                ..Pool2d::new([3, 1], [3, 1])
            }),
        ),
        node(&[5], Op::SumPool2d(Pool2d::new([1, 2], [1, 1]))),
        node(&[6], Op::Rescale(Rescale { shift: 1, bits: 8 })),
        node(&[7], Op::Table(table(TableFunction::Tanh, 8))),
        node(&[8], Op::Table(table(TableFunction::Sigmoid, 8))),
        node(&[9, 9], Op::Add),
        node(
            &[10],
            Op::Reshape {
                shape: Shape(vec![1, 1]),
            },
        ),
        node(&[11], Op::Flatten),
        node(
            &[12],
            Op::Linear(Linear {
                weight: Tensor::new([2, 1], vec![3, -1]).unwrap(),
                weight_scale: Scale(-3),
                bias: vec![7, -7],
            }),
        ),
        node(
            &[13, 13],
            Op::Select(Select {
                shape: Shape(vec![3]),
                indices: vec![Some(1), None, Some(2)],
            }),
        ),
        node(&[14, 14], Op::Mul),
    ];
    // A product of matrices: the select's output as a column times itself
    // as a row.
    #[cfg(feature = "transformers")]
    nodes.extend([
        node(
            &[14],
            Op::Reshape {
                shape: Shape(vec![3, 1]),
            },
        ),
        node(
            &[14],
            Op::Reshape {
                shape: Shape(vec![1, 3]),
            },
        ),
        node(&[16, 17], Op::MatMul),
        node(
            &[15, 15],
            Op::Divide(zkinfer_quant::Divide { shift: 2, bits: 12 }),
        ),
    ]);
    QuantizedModel::new("zoo", image(1, 4, 4), nodes, None).expect("the zoo is valid")
}

// --- Regressions -----------------------------------------------------------

#[test]
fn conv_padding_of_2_pow_63_is_refused_not_wrapped_to_0() {
    // 2·2^63 wrapped to 0, so this passed the shape check as padding 0.
    let err = refusal(image(1, 8, 8), vec![node(&[0], conv([1 << 63, 1], [1, 1]))]);
    assert_eq!(
        err,
        "node 0 (conv2d): padding 9223372036854775808 is too large"
    );
}

#[test]
fn a_huge_padding_with_a_huge_stride_is_refused() {
    // Checked arithmetic alone would accept it: one output reading only
    // padding, after the engine padded a 2^41-wide image.
    let err = refusal(
        image(1, 8, 8),
        vec![node(&[0], conv([1 << 40, 0], [1 << 42, 1]))],
    );
    assert!(
        err.starts_with("node 0 (conv2d): padding [1099511627776, 0] is too large"),
        "{err}"
    );
}

#[test]
fn a_scale_of_minus_2_pow_31_is_refused() {
    // Was accepted, and printed as `at scale 2^-2147483648`.
    let mut input = image(1, 4, 4);
    input.scale = Scale(i32::MIN);
    let err = refusal(input, vec![node(&[0], Op::Relu)]);
    assert_eq!(
        err,
        "invalid model: input: scale -2147483648 is out of range (|scale| ≤ 64: values are q / 2^scale)"
    );
}

#[test]
fn weight_scales_that_overflow_i32_are_refused() {
    // s_x + s_w overflowed i32 (a panic in debug builds, a wrap in release).
    for weight_scale in [i32::MAX, i32::MIN, 65, -65] {
        let op = Op::Linear(Linear {
            weight: Tensor::new([1, 2], vec![1, 1]).unwrap(),
            weight_scale: Scale(weight_scale),
            bias: vec![0],
        });
        let input = TensorSpec {
            shape: Shape(vec![2]),
            scale: Scale(64),
            bits: 8,
        };
        let err = refusal(input, vec![node(&[0], op)]);
        assert_eq!(
            err,
            format!("node 0 (linear): weight_scale {weight_scale} is out of range (|scale| ≤ 64: values are q / 2^scale)")
        );
    }
}

#[test]
fn derived_scales_beyond_64_are_refused() {
    // 40 + 40: each in range, their sum is not.
    let op = Op::Linear(Linear {
        weight: Tensor::new([1, 1], vec![1]).unwrap(),
        weight_scale: Scale(40),
        bias: vec![0],
    });
    let input = TensorSpec {
        shape: Shape(vec![1]),
        scale: Scale(40),
        bits: 8,
    };
    let err = refusal(input, vec![node(&[0], op)]);
    assert!(
        err.contains("node 0 (linear): output scale 80 is out of range"),
        "{err}"
    );
    // And a rescale below -64.
    let input = TensorSpec {
        shape: Shape(vec![1]),
        scale: Scale(-30),
        bits: 8,
    };
    let rescale = Op::Rescale(Rescale { shift: 40, bits: 8 });
    let err = refusal(input, vec![node(&[0], rescale)]);
    assert!(
        err.contains("node 0 (rescale): output scale -70 is out of range"),
        "{err}"
    );
}

#[test]
fn table_output_scales_are_range_checked() {
    let input = TensorSpec {
        shape: Shape(vec![1]),
        scale: Scale(0),
        bits: 4,
    };
    let table = TableActivation {
        function: TableFunction::Tanh,
        input_bits: 4,
        output_scale: Scale(-2147483648),
        values: vec![0; 16],
    };
    let err = refusal(input, vec![node(&[0], Op::Table(table))]);
    assert!(
        err.contains("node 0 (tanh): output_scale -2147483648 is out of range"),
        "{err}"
    );
}

#[test]
fn accumulator_bounds_of_huge_weights_saturate_instead_of_wrapping_u128() {
    // Σ|w| · 2^52 reaches 2^139: the u128 bound wrapped, and a small
    // wrapped value could pass the 53-bit check.
    let n = 1 << 16;
    let op = Op::Linear(Linear {
        weight: Tensor::new([1, n], vec![i64::MIN; n]).unwrap(),
        weight_scale: Scale(0),
        bias: vec![i64::MIN],
    });
    let input = TensorSpec {
        shape: Shape(vec![n]),
        scale: Scale(0),
        bits: 53,
    };
    let err = refusal(input, vec![node(&[0], op)]);
    assert!(err.contains("values may need 129 bits"), "{err}");
}

#[test]
fn negative_scales_print_with_one_sign() {
    assert_eq!(Scale(22).to_string(), "2^-22");
    assert_eq!(Scale(-22).to_string(), "2^22");
    assert_eq!(Scale(0).to_string(), "2^0");
    assert_eq!(Scale(i32::MIN).to_string(), "2^2147483648");
}

#[test]
fn a_1x1_convolution_may_still_pad() {
    // Padding as wide as the kernel is legal in PyTorch: only size limits
    // refuse a padding.
    let op = Op::Conv2d(Conv2d {
        weight: Tensor::new([1, 1, 1, 1], vec![1]).unwrap(),
        weight_scale: Scale(0),
        bias: vec![0],
        stride: [1, 1],
        padding: [1, 1],
        groups: 1,
    });
    let model = QuantizedModel::new("pad", image(1, 2, 2), vec![node(&[0], op)], None).unwrap();
    assert_eq!(model.output().shape, Shape(vec![1, 4, 4]));
}

// --- Property tests and fuzzing -------------------------------------------

/// What a parsed model must satisfy: specs in range, and a forward pass
/// that runs (or reports a bound, or a divisor below 1) on the zero input
/// and the extreme ones.
fn check_valid(model: &QuantizedModel) {
    for spec in model.specs() {
        assert!((1..=MAX_BITS).contains(&spec.bits), "{spec:?}");
        assert!(spec.scale.checked().is_some(), "{spec:?}");
        assert!(
            spec.shape.numel() <= zkinfer_quant::MAX_ELEMENTS,
            "{spec:?}"
        );
    }
    let input = model.input();
    let (min, max) = input.range();
    for value in [0, min, max] {
        let x = Tensor::new(input.shape.clone(), vec![value; input.shape.numel()]).unwrap();
        match model.forward(&x) {
            Ok(trace) => assert_eq!(trace.tensors.len(), model.nodes().len() + 1),
            Err(QuantError::BoundExceeded { .. }) => {}
            #[cfg(feature = "transformers")]
            Err(QuantError::NonPositiveDivisor { .. }) => {}
            Err(e) => panic!("forward failed on a valid model: {e}"),
        }
    }
    let again = QuantizedModel::from_json(&model.to_json()).expect("a valid model round-trips");
    assert_eq!(&again, model);
    check_bytes(model);
    let _ = model.tensor_label(model.nodes().len());
}

/// A model's bytes decode to a model with the same digest, name, table
/// functions and bytes, and the digest is SHA-256 of the bytes before the
/// labels (the name, then each table's parameters).
fn check_bytes(model: &QuantizedModel) {
    let bytes = model.to_bytes();
    let decoded = QuantizedModel::from_bytes(&bytes).expect("a valid model's bytes decode");
    assert_eq!(decoded.digest(), model.digest());
    assert_eq!(decoded.name(), model.name());
    assert_eq!(decoded.to_bytes(), bytes);
    let functions = |m: &QuantizedModel| -> Vec<TableFunction> {
        m.nodes()
            .iter()
            .filter_map(|n| match &n.op {
                Op::Table(t) => Some(t.function),
                _ => None,
            })
            .collect()
    };
    assert_eq!(functions(&decoded), functions(model));
    let labels = 8
        + model.name().len()
        + functions(model)
            .iter()
            .map(|f| 8 + 4 * f.params().len())
            .sum::<usize>();
    let canonical = &bytes[..bytes.len() - labels];
    assert_eq!(Sha256::digest(canonical)[..], model.digest().0[..]);
}

/// Parses a model file; when only the digest is wrong (the mutation changed
/// the contents), stamps the computed one and parses again, so mutations
/// reach the forward pass. Returns whether a model was accepted.
fn parse_and_check(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let parsed = match QuantizedModel::from_json(text) {
        Err(QuantError::DigestMismatch { computed, .. }) => {
            let mut doc: Value = serde_json::from_str(text).expect("it parsed once");
            doc["digest"] = computed.into();
            QuantizedModel::from_json(&doc.to_string())
        }
        other => other,
    };
    match parsed {
        Ok(model) => {
            check_valid(&model);
            true
        }
        Err(e) => {
            let message = e.to_string();
            assert!(!message.contains("2^--"), "{message}");
            false
        }
    }
}

fn seeds() -> Vec<Value> {
    [MLP.to_string(), CNN.to_string(), zoo().to_json()]
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect()
}

#[test]
fn extreme_values_in_every_field_are_refused_or_valid() {
    let mut rng = Rng::new(0x5eed_0001);
    let mut total = 0;
    for seed in seeds() {
        let cases = extreme_field_cases(&seed, &mut rng);
        total += cases.len();
        let report = run(
            "model.json extreme fields",
            rng.next_u64(),
            cases.len(),
            |_, i| cases[i].clone(),
            |(_, doc)| parse_and_check(doc.to_string().as_bytes()),
            |(what, _)| what.clone(),
        );
        assert!(report.accepted > 0, "no extreme value was accepted at all");
    }
    assert!(total > 1_000, "{total} cases");
}

/// Decodes model bytes; a model that decodes must be valid.
fn decode_and_check(bytes: &[u8]) -> bool {
    match QuantizedModel::from_bytes(bytes) {
        Ok(model) => {
            check_valid(&model);
            true
        }
        Err(e) => {
            let message = e.to_string();
            assert!(!message.is_empty());
            false
        }
    }
}

#[test]
fn fuzzed_model_bytes_never_panic() {
    let models: Vec<Vec<u8>> = [MLP, CNN]
        .iter()
        .map(|t| QuantizedModel::from_json(t).unwrap())
        .chain([zoo(), every_table_function()])
        .map(|m| m.to_bytes())
        .collect();
    let donors: Vec<&[u8]> = models.iter().map(|m| &m[..]).collect();
    for bytes in &models {
        assert!(decode_and_check(bytes));
        // Every strict prefix is refused.
        for cut in (0..bytes.len()).step_by(97) {
            assert!(!decode_and_check(&bytes[..cut]), "cut at {cut}");
        }
    }
    let report = run(
        "model bytes",
        0x5eed_0003,
        cases(10_000),
        |rng, i| mutate_bytes(rng, &models[i % models.len()], &donors),
        |bytes| decode_and_check(bytes),
        |bytes| show_bytes(bytes),
    );
    // Mutations of weights and labels keep models valid.
    assert!(report.accepted > 0, "{report:?}");
}

/// A table of every function, parameters included.
fn every_table_function() -> QuantizedModel {
    let nodes = TableFunction::ALL
        .iter()
        .enumerate()
        .map(|(i, &function)| {
            node(
                &[i],
                Op::Table(TableActivation {
                    function,
                    input_bits: 8,
                    output_scale: Scale(4),
                    values: (0..256).map(|v| (v % 17) - 8).collect(),
                }),
            )
        })
        .collect();
    let input = TensorSpec {
        shape: Shape(vec![3]),
        scale: Scale(4),
        bits: 8,
    };
    QuantizedModel::new("every table", input, nodes, None).unwrap()
}

#[test]
fn model_bytes_name_what_is_wrong() {
    let model = every_table_function();
    check_valid(&model);
    let bytes = model.to_bytes();
    let err = |b: &[u8]| QuantizedModel::from_bytes(b).unwrap_err().to_string();
    assert!(err(b"zkinfer/model@2\0").contains("not the bytes of a zkinfer/model@1 model"));
    let short = err(&bytes[..bytes.len() - 1]);
    assert!(
        short.contains("the bytes end early") || short.contains("does not fit the bytes left"),
        "{short}"
    );
    assert!(err(&bytes[..20]).contains("the bytes end early"));
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(err(&longer).contains("bytes after the model"));
    // The first node's op tag: after the domain tag (16 bytes), the input
    // spec (rank and one dimension, 16; scale and bits, 8), the node count
    // (8) and the node's inputs (their count and one id, 16).
    let op_at = 16 + 24 + 8 + 16;
    let mut unknown = bytes.clone();
    unknown[op_at] = 200;
    assert_eq!(
        err(&unknown),
        format!("model bytes, at byte {op_at}: unknown op tag 200")
    );
    // A list longer than the bytes left is refused before allocating.
    let mut huge = bytes.clone();
    huge[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(err(&huge).contains("does not fit"), "{}", err(&huge));
}

#[test]
fn fuzzed_model_files_never_panic() {
    let seeds = seeds();
    let report = run(
        "model.json",
        0x5eed_0002,
        cases(10_000),
        |rng, i| mutate_json_text(rng, &seeds[i % seeds.len()]),
        |bytes| parse_and_check(bytes),
        |bytes| show_bytes(bytes),
    );
    // The mutations keep many models valid: the fuzzer reaches the forward
    // pass, not only the JSON errors.
    assert!(report.accepted > report.cases / 50, "{report:?}");
}
