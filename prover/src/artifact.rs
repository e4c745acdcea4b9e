//! The proof file as written: the [`ProofBundle`] plus, for people, the
//! input and output decoded to floats and the class. Verifiers ignore the extras and
//! trust only the integers the proof covers.

use crate::error::{ProverError, Result};
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use zkinfer_verifier::{ProofBundle, ProofChain};

#[derive(Serialize)]
struct BundleFile<'a> {
    #[serde(flatten)]
    bundle: &'a ProofBundle,
    /// `input.values / 2^input.scale`, when the input is public.
    #[serde(skip_serializing_if = "Option::is_none")]
    inputs: Option<Vec<f64>>,
    /// `output.values / 2^output.scale`; not for a committed output.
    #[serde(skip_serializing_if = "Option::is_none")]
    outputs: Option<Vec<f64>>,
    /// Argmax of the output (first on ties); not for a committed output.
    #[serde(skip_serializing_if = "Option::is_none")]
    class: Option<usize>,
}

/// A proof chain as written: the [`ProofChain`] plus, for people, the last
/// segment's output decoded to floats and the class.
#[derive(Serialize)]
struct ChainFile<'a> {
    #[serde(flatten)]
    chain: &'a ProofChain,
    /// `output.values / 2^output.scale` of the last segment.
    outputs: Vec<f64>,
    /// Argmax of the output (first on ties).
    class: usize,
}

fn decode(t: &zkinfer_verifier::PublicTensor) -> Vec<f64> {
    let factor = 2f64.powi(t.scale);
    t.values.iter().map(|&v| v as f64 / factor).collect()
}

fn argmax(values: &[i64]) -> usize {
    let mut class = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[class] {
            class = i;
        }
    }
    class
}

fn pretty(file: &impl Serialize) -> String {
    let mut text = serde_json::to_string_pretty(file).expect("a proof file serializes");
    text.push('\n');
    text
}

/// The bundle file's text.
pub fn bundle_json(bundle: &ProofBundle) -> String {
    let public = bundle.output_commitment.is_none();
    pretty(&BundleFile {
        bundle,
        inputs: bundle.input.as_ref().map(decode),
        outputs: public.then(|| decode(&bundle.output)),
        class: public.then(|| argmax(&bundle.output.values)),
    })
}

/// The proof chain file's text.
pub fn chain_json(chain: &ProofChain) -> String {
    let output = chain.segments.last().map(|b| &b.output);
    pretty(&ChainFile {
        chain,
        outputs: output.map(decode).unwrap_or_default(),
        class: output.map_or(0, |t| argmax(&t.values)),
    })
}

/// Writes a file atomically: a temporary file beside it, flushed, renamed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        ProverError::Io {
            path: path.to_path_buf(),
            source,
        }
    })
}
