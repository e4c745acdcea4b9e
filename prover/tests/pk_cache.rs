//! Proving keys that outlive a process: a cached key proves exactly what a
//! generated one does, and a damaged, truncated or foreign file is refused,
//! the key generated again and the file rewritten.

use std::sync::Arc;
use zkinfer_circuits::{ModelCircuit, Profile, Visibility};
use zkinfer_models::bundled::BundledModel;
use zkinfer_prover::{KeySource, PkCache, Prover, VkCache};
use zkinfer_quant::Tensor;
use zkinfer_verifier::{verify, IpaParams};

fn circuit(name: &str, profile: Profile) -> ModelCircuit {
    let model = BundledModel::find(name).unwrap().quantized().unwrap();
    ModelCircuit::with_profile(Arc::new(model), Visibility::Public, profile).unwrap()
}

fn input(circuit: &ModelCircuit) -> Tensor {
    let spec = circuit.model().input();
    let values = (0..spec.shape.numel() as i64).map(|i| i % 13).collect();
    Tensor::new(spec.shape.clone(), values).unwrap()
}

#[test]
fn a_cached_proving_key_proves_and_a_damaged_one_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let (vks, pks) = (VkCache::new(dir.path()), PkCache::new(dir.path()));
    let params = IpaParams::new(9);
    for profile in Profile::ALL {
        let c = circuit("digits-cnn", profile);
        let x = input(&c);
        let prove = || {
            let (prover, _, source) =
                Prover::for_circuit_cached("digits-cnn", c.clone(), params.clone(), &vks, &pks)
                    .unwrap();
            let proved = prover.prove(&x).unwrap();
            verify(prover.verifier_key(), &proved.bundle).unwrap();
            (
                source,
                proved.bundle.output.values,
                prover.verifier_key().clone(),
            )
        };
        let (first, output, key) = prove();
        assert_eq!(first, KeySource::Built, "{profile}");
        let path = pks.path(&key);
        let good = std::fs::read(&path).unwrap();
        let (second, again, _) = prove();
        assert_eq!(second, KeySource::Cached, "{profile}");
        assert_eq!(again, output);

        let n = good.len();
        let mut flipped = good.clone();
        flipped[n / 2] ^= 0x40;
        let mut foreign = good.clone();
        foreign[13] = if foreign[13] == b'0' { b'1' } else { b'0' };
        let damaged: [(&str, Vec<u8>, &str); 5] = [
            ("a flipped byte", flipped, "checksum does not match"),
            (
                "truncated",
                good[..n / 3].to_vec(),
                "checksum does not match",
            ),
            ("empty", vec![], "no zkinfer/pk@1 header"),
            ("another key's header", foreign, "checksum does not match"),
            (
                "bytes appended",
                [&good[..], b"x"].concat(),
                "checksum does not match",
            ),
        ];
        for (what, bytes, why) in damaged {
            std::fs::write(&path, bytes).unwrap();
            let (source, output_now, _) = prove();
            match source {
                KeySource::Repaired(reason) => assert!(
                    reason.contains(why) && reason.contains(&path.display().to_string()),
                    "{profile}, {what}: {reason}"
                ),
                other => panic!("{profile}, {what}: {other:?}"),
            }
            assert_eq!(output_now, output, "{what}");
            assert_eq!(
                std::fs::read(&path).unwrap(),
                good,
                "{profile}, {what}: rewritten"
            );
        }
    }
    // Each key its own file: two profiles, two files, beside two vk files.
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files.iter().filter(|f| f.starts_with("pk-")).count(),
        2,
        "{files:?}"
    );
    assert_eq!(
        files.iter().filter(|f| f.starts_with("vk-")).count(),
        2,
        "{files:?}"
    );
}

/// A file whose checksum matches but whose header names another verifying
/// key (what a stale copy under a new name would be) is refused by name.
#[test]
fn a_consistent_file_for_another_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (vks, pks) = (VkCache::new(dir.path()), PkCache::new(dir.path()));
    let params = IpaParams::new(9);
    let (mlp, _, _) = Prover::for_circuit_cached(
        "digits-mlp",
        circuit("digits-mlp", Profile::Compact),
        params.clone(),
        &vks,
        &pks,
    )
    .unwrap();
    let (cnn, _, _) = Prover::for_circuit_cached(
        "digits-cnn",
        circuit("digits-cnn", Profile::Compact),
        params.clone(),
        &vks,
        &pks,
    )
    .unwrap();
    std::fs::copy(pks.path(mlp.verifier_key()), pks.path(cnn.verifier_key())).unwrap();
    let (_, _, source) = Prover::for_circuit_cached(
        "digits-cnn",
        circuit("digits-cnn", Profile::Compact),
        params,
        &vks,
        &pks,
    )
    .unwrap();
    match source {
        KeySource::Repaired(reason) => {
            assert!(
                reason.contains("not the proving key of verifying key"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
}
