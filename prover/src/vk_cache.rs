//! [`VkCache`]: verifying keys that outlive a process, as their commitments.
//!
//! Building a verifying key commits every fixed and permutation column: at
//! k = 16 (LeNet-5) that is 5.7 s of a 10 s keygen, where recovering the
//! key from its commitments takes 0.17 s. The cache keeps, per model and
//! input visibility, the key's digest and commitments (1.7 KB) in a file
//! beside the parameters (`vk-<model digest>-<visibility>.json`), written
//! atomically.
//!
//! A cached key is never trusted: it is rebuilt from the commitments and
//! the circuit zkinfer lays out today, and used only if its pinned digest
//! (which covers the commitments and the constraint system) is the one
//! stored with them. A damaged file, or one written by a zkinfer whose
//! circuit differed, fails that check: the key is built in full and the
//! file rewritten. The check guards against damage and stale files, not
//! against someone who can write the cache: a file made consistent on
//! purpose gives this prover a wrong key, whose proofs every verifier
//! (rebuilding the key from the model) refuses — as a replaced binary
//! could.

use crate::artifact::write_atomically;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use zkinfer_circuits::{ModelCircuit, WeightVisibility};
use zkinfer_verifier::{base64, IpaParams, VerifierKey};

/// The `format` field of cached keys.
const VK_FORMAT: &str = "zkinfer/vk-commitments@1";

/// Where a key came from ([`VkCache`], [`crate::PkCache`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// Read from the cache (a verifying key: recovered from its
    /// commitments, checked).
    Cached,
    /// Built and written to the cache.
    Built,
    /// Built: the cached file could not be used (why, naming it), and was
    /// rewritten.
    Repaired(String),
    /// Built; writing it to the cache failed (why).
    BuiltNotCached(String),
}

impl KeySource {
    /// `cached` or `built`, as `prove --json` reports it.
    pub fn name(&self) -> &'static str {
        match self {
            KeySource::Cached => "cached",
            _ => "built",
        }
    }

    /// The warning a command prints for a `what` key ("verifying",
    /// "proving") from a cache in `dir`, if there is one.
    pub fn warning(&self, what: &str, dir: &Path) -> Option<String> {
        match self {
            KeySource::Repaired(why) => Some(format!(
                "warning: cached {what} key refused and rebuilt — {why}"
            )),
            KeySource::BuiltNotCached(why) => Some(format!(
                "warning: could not cache the {what} key in {}: {why}",
                dir.display()
            )),
            KeySource::Cached | KeySource::Built => None,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CachedVk {
    format: String,
    vk_digest: String,
    commitments: String,
}

/// A folder of cached verifying keys (the parameters' folder, usually).
#[derive(Clone, Debug)]
pub struct VkCache {
    dir: PathBuf,
}

impl VkCache {
    /// A cache in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        VkCache { dir: dir.into() }
    }

    /// The file for a circuit: `vk-<model digest>-<visibility>.json`, with
    /// `-<profile>` before `.json` beyond the compact profile.
    pub fn path(&self, circuit: &ModelCircuit) -> PathBuf {
        let plan = circuit.plan();
        let profile = match plan.profile.is_compact() {
            true => String::new(),
            false => format!("-{}", plan.profile),
        };
        // An architecture is a model too: its committed-weights keys must
        // not share a name with its own fixed-weights key.
        let weights = match plan.weight_visibility {
            WeightVisibility::Fixed => "",
            WeightVisibility::Committed => "-committed-weights",
            WeightVisibility::Polycommit => "-polycommit-weights",
        };
        // A segment's committed output changes its public inputs.
        let output = match circuit.output_committed() {
            true => "-committed-output",
            false => "",
        };
        self.dir.join(format!(
            "vk-{}-{}{profile}{weights}{output}.json",
            circuit.model().digest().to_hex(),
            plan.input_visibility.name()
        ))
    }

    /// The verifying key digest the circuit's cache file names, if there is
    /// a readable one (unchecked: for progress messages, not for keys).
    pub fn cached_digest(&self, circuit: &ModelCircuit) -> Option<String> {
        let text = std::fs::read_to_string(self.path(circuit)).ok()?;
        let file: CachedVk = serde_json::from_str(&text).ok()?;
        Some(file.vk_digest)
    }

    /// The circuit's verifying key: from the cache when a file there
    /// rebuilds exactly the key it names, else built and cached.
    pub fn key(
        &self,
        circuit: ModelCircuit,
        params: IpaParams,
    ) -> crate::Result<(VerifierKey, KeySource)> {
        let path = self.path(&circuit);
        let problem = match std::fs::read_to_string(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => Some(format!("{}: {e}", path.display())),
            Ok(text) => match cached(&text, circuit.clone(), params.clone()) {
                Ok(key) => return Ok((key, KeySource::Cached)),
                Err(why) => Some(format!("{}: {why}", path.display())),
            },
        };
        let key = VerifierKey::for_circuit(circuit, params)?;
        let source = match (self.store(&path, &key), problem) {
            (Err(e), _) => KeySource::BuiltNotCached(e.to_string()),
            (Ok(()), Some(why)) => KeySource::Repaired(why),
            (Ok(()), None) => KeySource::Built,
        };
        Ok((key, source))
    }

    fn store(&self, path: &Path, key: &VerifierKey) -> crate::Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(|source| crate::ProverError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let file = CachedVk {
            format: VK_FORMAT.to_string(),
            vk_digest: key.vk_digest().to_string(),
            commitments: base64::encode(&key.commitments()),
        };
        let text = serde_json::to_string_pretty(&file).expect("a cached key serializes");
        write_atomically(path, text.as_bytes())
    }
}

/// The key a cache file names, if it rebuilds exactly that key.
fn cached(text: &str, circuit: ModelCircuit, params: IpaParams) -> Result<VerifierKey, String> {
    let file: CachedVk =
        serde_json::from_str(text).map_err(|e| format!("not a cached key ({e})"))?;
    if file.format != VK_FORMAT {
        return Err(format!("format {:?}, not {VK_FORMAT:?}", file.format));
    }
    let commitments =
        base64::decode(&file.commitments).ok_or("its commitments are not canonical base64")?;
    VerifierKey::from_commitments(circuit, params, &commitments, &file.vk_digest)
        .map_err(|e| e.to_string())
}
