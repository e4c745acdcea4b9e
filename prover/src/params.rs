//! [`ParamsCache`]: IPA parameters per `k`, derived locally and cached on
//! disk so that no one waits for them twice.
//!
//! Parameters depend only on `k` (they are hash-derived generators: no
//! trusted setup, nothing to download). Generating them takes 0.2 s at
//! k = 9 and over a minute at k = 17; reading them back is ~50× faster.
//! Files are written atomically (a temporary file, flushed, then renamed).
//! A cached file is checked against the SHA-256 pinned for its `k`
//! ([`zkinfer_verifier::params`]) before it is decoded: a damaged or
//! replaced file is reported, by name, and regenerated — never used.

use crate::error::{ProverError, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use zkinfer_verifier::params::{params_bytes, read_params};
use zkinfer_verifier::IpaParams;

/// The environment variable that overrides the cache folder.
pub const PARAMS_DIR_ENV: &str = "ZKINFER_PARAMS_DIR";

/// Where parameters came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamsSource {
    /// Read from the cache.
    Cached,
    /// Generated and written to the cache.
    Generated,
    /// The cached file was damaged or replaced (why, naming the file):
    /// generated again and rewritten.
    Repaired(String),
    /// Generated; writing them failed (the message says why).
    GeneratedNotCached(String),
}

/// A folder of `ipa-pasta-k<k>.params` files.
#[derive(Clone, Debug)]
pub struct ParamsCache {
    dir: PathBuf,
}

impl ParamsCache {
    /// A cache in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ParamsCache { dir: dir.into() }
    }

    /// `$ZKINFER_PARAMS_DIR`, else `$XDG_CACHE_HOME/zkinfer/params`, else
    /// `~/.cache/zkinfer/params`, else `.zkinfer/params`.
    pub fn default_dir() -> PathBuf {
        let env = |name| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        if let Some(dir) = env(PARAMS_DIR_ENV) {
            return dir;
        }
        if let Some(dir) = env("XDG_CACHE_HOME") {
            return dir.join("zkinfer").join("params");
        }
        if let Some(home) = env("HOME") {
            return home.join(".cache").join("zkinfer").join("params");
        }
        PathBuf::from(".zkinfer").join("params")
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file for `k`.
    pub fn path(&self, k: u32) -> PathBuf {
        self.dir.join(format!("ipa-pasta-k{k}.params"))
    }

    /// Whether parameters for `k` are cached.
    pub fn contains(&self, k: u32) -> bool {
        self.path(k).is_file()
    }

    /// The parameters for `k`, from the cache or generated (and cached).
    /// Cached bytes are used only if they match the pinned digest; freshly
    /// generated ones must match it too (else this build's halo2 derives
    /// other parameters than every verifier, and nothing is written).
    pub fn load(&self, k: u32) -> Result<(IpaParams, ParamsSource)> {
        let path = self.path(k);
        let damage = match std::fs::read(&path) {
            Ok(bytes) => match read_params(k, &bytes) {
                Ok(params) => return Ok((params, ParamsSource::Cached)),
                Err(e) => Some(format!("{}: {e}", path.display())),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => Some(format!("{}: {e}", path.display())),
        };
        let params = IpaParams::new(k);
        let bytes = params_bytes(&params);
        read_params(k, &bytes)?;
        let source = match (self.write(k, &bytes), damage) {
            (Ok(()), None) => ParamsSource::Generated,
            (Ok(()), Some(damage)) => ParamsSource::Repaired(damage),
            (Err(e), None) => ParamsSource::GeneratedNotCached(e.to_string()),
            (Err(e), Some(damage)) => {
                ParamsSource::GeneratedNotCached(format!("{damage}; rewriting it failed: {e}"))
            }
        };
        Ok((params, source))
    }

    fn write(&self, k: u32, bytes: &[u8]) -> Result<()> {
        let path = self.path(k);
        let io = |source| ProverError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let tmp = self
            .dir
            .join(format!(".ipa-pasta-k{k}.{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_once_then_reads_back_the_same_parameters() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ParamsCache::new(dir.path().join("params"));
        assert!(!cache.contains(4));
        let (generated, source) = cache.load(4).unwrap();
        assert_eq!(source, ParamsSource::Generated);
        let (cached, source) = cache.load(4).unwrap();
        assert_eq!(source, ParamsSource::Cached);
        assert_eq!(params_bytes(&generated), params_bytes(&cached));
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(cache.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("ipa-pasta-k4.params")]);
    }

    #[test]
    fn a_damaged_file_is_regenerated() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ParamsCache::new(dir.path());
        cache.load(4).unwrap();
        let path = cache.path(4);
        let bytes = std::fs::read(&path).unwrap();
        let repaired = |cache: &ParamsCache, k| match cache.load(k).unwrap() {
            (params, ParamsSource::Repaired(why)) => {
                assert_eq!(params_bytes(&params), params_bytes(&IpaParams::new(k)));
                assert!(why.contains(&cache.path(k).display().to_string()), "{why}");
                why
            }
            (_, other) => panic!("expected a repair, got {other:?}"),
        };
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        assert!(repaired(&cache, 4).contains("not the pinned"));
        assert_eq!(cache.load(4).unwrap().1, ParamsSource::Cached);
        // Wave 1's damage: one flipped bit that still decodes as a curve
        // point was trusted. Any flipped bit is now refused.
        for bit in [8 * 40 + 1, 8 * bytes.len() - 9] {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            std::fs::write(&path, &flipped).unwrap();
            repaired(&cache, 4);
            assert_eq!(
                std::fs::read(&path).unwrap(),
                bytes,
                "the file is rewritten"
            );
        }
        // Parameters of another k under this name are not used.
        std::fs::copy(cache.path(4), cache.path(5)).unwrap();
        repaired(&cache, 5);
        assert_eq!(cache.load(5).unwrap().0.k(), 5);
    }

    #[test]
    fn an_unwritable_cache_still_gives_parameters() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        let (params, source) = ParamsCache::new(&file).load(4).unwrap();
        assert_eq!(params.k(), 4);
        assert!(
            matches!(source, ParamsSource::GeneratedNotCached(_)),
            "{source:?}"
        );
    }
}
