//! [`PkCache`]: proving keys that outlive a process.
//!
//! A proving key is its verifying key plus every fixed and permutation
//! column in three forms (values, coefficients, and the extended domain's
//! values the quotient is computed over): at k = 13 (LeNet-5, wide
//! profile) 1.4 s of FFTs and synthesis per process, 270 MB on disk. The
//! cache keeps each key's polynomials in `pk-<vk digest>.bin` beside the
//! parameters, written atomically:
//!
//! ```text
//! zkinfer/pk@1\n  <vk digest, 64 hex>\n  <polynomials>  <BLAKE2b-256 of all before it>
//! ```
//!
//! The polynomials are halo2's (`ProvingKey::write_polys`, zkinfer's patch):
//! every count and length comes from the verifying key, every value must be
//! canonical, and the checksum must match — a damaged or truncated file is
//! refused, and the key is generated and the file rewritten. The verifying
//! key itself is never read from here: it comes from [`crate::VkCache`],
//! checked. A file made consistent on purpose can only make this prover's
//! proofs fail: `zkinfer prove` verifies every proof before writing it.

use crate::error::{ProverError, Result};
use crate::vk_cache::KeySource;
use halo2_proofs::plonk::{keygen_pk, ProvingKey};
use pasta_curves::vesta;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use zkinfer_verifier::VerifierKey;

/// The first line of a cached proving key.
const PK_MAGIC: &[u8] = b"zkinfer/pk@1\n";

/// A folder of cached proving keys (the parameters' folder, usually).
#[derive(Clone, Debug)]
pub struct PkCache {
    dir: PathBuf,
}

impl PkCache {
    /// A cache in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        PkCache { dir: dir.into() }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file name of the proving key of the verifying key `vk_digest`.
    pub fn file_name(vk_digest: &str) -> String {
        format!("pk-{vk_digest}.bin")
    }

    /// The file for a verifying key.
    pub fn path(&self, key: &VerifierKey) -> PathBuf {
        self.dir.join(Self::file_name(key.vk_digest()))
    }

    /// The proving key of `key`'s circuit: from the cache when its file
    /// reads back whole, else generated and cached.
    pub fn key(&self, key: &VerifierKey) -> Result<(ProvingKey<vesta::Affine>, KeySource)> {
        let path = self.path(key);
        let problem = match std::fs::read(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => Some(format!("{}: {e}", path.display())),
            Ok(bytes) => match read(&bytes, key) {
                Ok(pk) => return Ok((pk, KeySource::Cached)),
                Err(why) => Some(format!("{}: {why}", path.display())),
            },
        };
        let pk = generate(key)?;
        let source = match (self.store(&path, key, &pk), problem) {
            (Err(e), _) => KeySource::BuiltNotCached(e.to_string()),
            (Ok(()), Some(why)) => KeySource::Repaired(why),
            (Ok(()), None) => KeySource::Built,
        };
        Ok((pk, source))
    }

    fn store(&self, path: &Path, key: &VerifierKey, pk: &ProvingKey<vesta::Affine>) -> Result<()> {
        let io_error = |source| ProverError::Io {
            path: path.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(|source| ProverError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let tmp = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let write = || -> io::Result<()> {
            let file = std::fs::File::create(&tmp)?;
            // Buffered before hashing: the hash sees megabytes at a time.
            let mut out = BufWriter::with_capacity(1 << 20, Hashing::new(file));
            out.write_all(PK_MAGIC)?;
            out.write_all(format!("{}\n", key.vk_digest()).as_bytes())?;
            pk.write_polys(&mut out)?;
            let Hashing {
                inner: mut file,
                state,
            } = out.into_inner().map_err(|e| e.into_error())?;
            file.write_all(state.finalize().as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io_error(e)
        })
    }
}

/// halo2's proving key of a verifying key's circuit.
pub(crate) fn generate(key: &VerifierKey) -> Result<ProvingKey<vesta::Affine>> {
    keygen_pk(key.params(), key.vk().clone(), key.circuit()).map_err(|e| ProverError::Halo2 {
        stage: "proving key",
        message: e.to_string(),
    })
}

/// A cached key's file, checked: its checksum first (a damaged file is
/// refused before it is parsed), then the header, the polynomials, and
/// nothing between them and the checksum.
fn read(bytes: &[u8], key: &VerifierKey) -> std::result::Result<ProvingKey<vesta::Affine>, String> {
    let header = [PK_MAGIC, key.vk_digest().as_bytes(), b"\n"].concat();
    if !bytes.starts_with(PK_MAGIC) {
        return Err("not a cached proving key (no zkinfer/pk@1 header)".into());
    }
    let Some(body_end) = bytes
        .len()
        .checked_sub(32)
        .filter(|&end| end >= header.len())
    else {
        return Err("truncated".into());
    };
    let (body, sum) = bytes.split_at(body_end);
    if checksum().update(body).finalize().as_bytes() != sum {
        return Err("its checksum does not match: the file is damaged".into());
    }
    let Some(mut polys) = body.strip_prefix(header.as_slice()) else {
        return Err(format!(
            "not the proving key of verifying key {}",
            key.vk_digest()
        ));
    };
    let pk = ProvingKey::read_polys(key.vk().clone(), &mut polys)
        .map_err(|e| format!("its polynomials do not read back ({e})"))?;
    if !polys.is_empty() {
        return Err(format!("{} bytes after its polynomials", polys.len()));
    }
    Ok(pk)
}

/// The checksum of cached keys: BLAKE2b-256.
fn checksum() -> blake2b_simd::State {
    blake2b_simd::Params::new().hash_length(32).to_state()
}

/// A writer that hashes what passes through it ([`checksum`]).
struct Hashing<T> {
    inner: T,
    state: blake2b_simd::State,
}

impl<T> Hashing<T> {
    fn new(inner: T) -> Self {
        Hashing {
            inner,
            state: checksum(),
        }
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.state.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
