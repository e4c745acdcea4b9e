//! `zkinfer models`: the bundled models, their shapes, sizes and digests.

mod common;

use common::{bundled_dir, bundled_model_json, zkinfer};
use serde_json::{json, Value};

/// Parameters of a float architecture file, counted from its layers.
fn arch_parameters(name: &str) -> u64 {
    let text = std::fs::read_to_string(bundled_dir(name).join("arch.json")).unwrap();
    let arch: Value = serde_json::from_str(&text).unwrap();
    let n = |layer: &Value, key: &str| layer[key].as_u64().unwrap();
    arch["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|layer| match layer["op"].as_str().unwrap() {
            "linear" => {
                n(layer, "in_features") * n(layer, "out_features") + n(layer, "out_features")
            }
            "conv2d" => {
                let kernel: u64 = layer["kernel"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| k.as_u64().unwrap())
                    .product();
                n(layer, "out_channels") * n(layer, "in_channels") * kernel
                    + n(layer, "out_channels")
            }
            _ => 0,
        })
        .sum()
}

fn is_hex_digest(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
}

#[test]
fn models_json_lists_both_bundled_models() {
    let list = zkinfer(["models", "--json"]).json();
    let list = list.as_array().expect("models --json prints an array");
    let names: Vec<&str> = list.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"digits-mlp"), "{names:?}");
    assert!(names.contains(&"digits-cnn"), "{names:?}");

    // 64 → 32 → 10 and conv 1→4 3×3, then 256 → 10.
    let expected = [
        ("digits-mlp", json!([64]), 64 * 32 + 32 + 32 * 10 + 10),
        ("digits-cnn", json!([1, 8, 8]), 4 * 9 + 4 + 256 * 10 + 10),
    ];
    for (name, input_shape, parameters) in expected {
        let m = list.iter().find(|m| m["name"] == name).unwrap();
        assert_eq!(m["input_shape"], input_shape, "{name}: {m}");
        assert_eq!(m["output_shape"], json!([10]), "{name}: {m}");
        assert_eq!(m["parameters"], json!(parameters), "{name}: {m}");
        assert_eq!(m["parameters"], json!(arch_parameters(name)), "{name}: {m}");
        let digest = m["digest"].as_str().unwrap();
        assert!(is_hex_digest(digest), "{name}: digest {digest:?}");
        assert_eq!(
            m["digest"],
            bundled_model_json(name)["digest"],
            "{name}: the digest differs from the one in its model.json"
        );
    }
    assert_eq!(parameters_of(list, "digits-mlp"), 2410);
    assert_eq!(parameters_of(list, "digits-cnn"), 2610);
    assert_ne!(list[0]["digest"], list[1]["digest"]);
}

fn parameters_of(list: &[Value], name: &str) -> u64 {
    let m = list.iter().find(|m| m["name"] == name).unwrap();
    m["parameters"].as_u64().unwrap()
}

#[test]
fn models_text_agrees_with_json() {
    let list = zkinfer(["models", "--json"]).json();
    let text = zkinfer(["models"]);
    text.assert_success();
    for m in list.as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        let line = text
            .stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no line for {name}:\n{}", text.stdout));
        let digest = m["digest"].as_str().unwrap();
        assert!(line.contains(&digest[..16]), "{line}");
        assert!(line.contains(&m["parameters"].to_string()), "{line}");
    }
}
