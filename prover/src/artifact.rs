//! The proof file as written: the [`ProofBundle`] plus, for people, the
//! output decoded to floats and its class. Verifiers ignore the extras and
//! trust only the integers the proof covers.

use crate::error::{ProverError, Result};
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use zkinfer_verifier::ProofBundle;

#[derive(Serialize)]
struct BundleFile<'a> {
    #[serde(flatten)]
    bundle: &'a ProofBundle,
    /// `output.values / 2^output.scale`.
    outputs: Vec<f64>,
    /// Argmax of the output (first on ties).
    class: usize,
}

/// The bundle file's text.
pub fn bundle_json(bundle: &ProofBundle) -> String {
    let out = &bundle.output;
    let factor = 2f64.powi(out.scale);
    let mut class = 0;
    for (i, v) in out.values.iter().enumerate() {
        if *v > out.values[class] {
            class = i;
        }
    }
    let file = BundleFile {
        bundle,
        outputs: out.values.iter().map(|&v| v as f64 / factor).collect(),
        class,
    };
    let mut text = serde_json::to_string_pretty(&file).expect("a bundle serializes");
    text.push('\n');
    text
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
