//! How a failed command is reported: one line `error: …` on stderr, and
//! with `--json` also `{"error": "…", "file": "…"}` on stdout (the file at
//! fault when one is known, else `null`), so scripts that read stdout see
//! every outcome.

use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// An error context naming the file at fault. It prints as the path, like
/// the `format!("{}", path.display())` contexts it replaces, and lets
/// `--json` errors name the file.
#[derive(Debug)]
pub struct AtFile(pub PathBuf);

impl fmt::Display for AtFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.display())
    }
}

/// An error about a file whose message already names it (a refusal to
/// overwrite it, say): it prints as `message`, and `--json` gets the file.
#[derive(Debug)]
pub struct FileError {
    /// The file at fault.
    pub path: PathBuf,
    /// The whole message.
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FileError {}

/// Returns early with a [`FileError`]: `refuse!(path, "format", args…)`.
macro_rules! refuse {
    ($path:expr, $($arg:tt)*) => {
        return Err(anyhow::Error::new($crate::failure::FileError {
            path: std::path::PathBuf::from($path),
            message: format!($($arg)*),
        }))
    };
}
pub(crate) use refuse;

/// `.at_file(path)` on results: the error's context is the path.
pub trait AtFileExt<T> {
    /// Adds [`AtFile`] as context.
    fn at_file(self, path: &Path) -> anyhow::Result<T>;
}

impl<T, E: Into<anyhow::Error>> AtFileExt<T> for Result<T, E> {
    fn at_file(self, path: &Path) -> anyhow::Result<T> {
        self.map_err(|e| e.into().context(AtFile(path.to_path_buf())))
    }
}

/// The file an error is about: the outermost [`AtFile`] context, else the
/// path a library error carries.
pub fn file_of(err: &anyhow::Error) -> Option<PathBuf> {
    if let Some(AtFile(path)) = err.downcast_ref::<AtFile>() {
        return Some(path.clone());
    }
    err.chain().find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<FileError>() {
            return Some(e.path.clone());
        }
        if let Some(e) = cause.downcast_ref::<zkinfer_models::ModelError>() {
            return match e {
                zkinfer_models::ModelError::Io { path, .. }
                | zkinfer_models::ModelError::ModelFile { path, .. } => Some(path.clone()),
                _ => None,
            };
        }
        match cause.downcast_ref::<zkinfer_prover::ProverError>() {
            Some(
                zkinfer_prover::ProverError::Io { path, .. }
                | zkinfer_prover::ProverError::PackageFile { path, .. },
            ) => Some(path.clone()),
            _ => None,
        }
    })
}

#[derive(Serialize)]
struct JsonError {
    error: String,
    file: Option<String>,
}

/// Reports `err`: on stderr always, on stdout as JSON with `--json`.
pub fn report(err: &anyhow::Error, json: bool) {
    let message = format!("{err:#}");
    if json {
        let out = JsonError {
            error: message.clone(),
            file: file_of(err).map(|p| p.display().to_string()),
        };
        if let Ok(text) = serde_json::to_string_pretty(&out) {
            crate::report::write_line(format_args!("{text}"));
        }
    }
    eprintln!("error: {message}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn the_file_comes_from_the_outermost_at_file_context() {
        let inner: anyhow::Result<()> =
            Err(std::io::Error::other("boom")).at_file(Path::new("a.json"));
        let err = inner.context("loading").unwrap_err();
        assert_eq!(file_of(&err), Some(PathBuf::from("a.json")));
        assert_eq!(format!("{err:#}"), "loading: a.json: boom");
    }

    #[test]
    fn the_file_comes_from_a_library_error() {
        let err = anyhow::Error::new(zkinfer_models::ModelError::Io {
            path: "m.json".into(),
            source: std::io::Error::other("gone"),
        })
        .context("loading model");
        assert_eq!(file_of(&err), Some(PathBuf::from("m.json")));
    }

    #[test]
    fn no_file_is_none() {
        assert_eq!(file_of(&anyhow::anyhow!("no file")), None);
    }
}
