//! Guards on what a command writes: never over one of its own inputs, and
//! never over files another tool (or the user) put there, unless `--force`.

use crate::failure::refuse;
use std::path::{Path, PathBuf};

/// An input a command reads: its flag (`--input`) and its path.
pub type Input<'a> = (&'a str, &'a Path);

/// Refuses to write `out` (given with `flag`) when it is the same file as
/// one of `inputs`: the same path once canonicalized, or the same file by
/// device and inode (a hard link). The message names both.
pub fn refuse_overwriting_inputs(flag: &str, out: &Path, inputs: &[Input]) -> anyhow::Result<()> {
    for &(input_flag, input) in inputs {
        if same_file(out, input) {
            refuse!(
                out,
                "{flag} {} is the same file as {input_flag} {}: writing it would destroy the \
                 input; choose another {flag}",
                out.display(),
                input.display()
            );
        }
    }
    Ok(())
}

/// Whether two paths name the same file (either may not exist yet).
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    if let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) {
        use std::os::unix::fs::MetadataExt;
        return (ma.dev(), ma.ino()) == (mb.dev(), mb.ino());
    }
    resolved(a) == resolved(b)
}

/// `path` made absolute with symbolic links resolved, as far as it exists:
/// the longest existing ancestor is canonicalized, the rest appended.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut tail = vec![];
    let mut head = absolute.as_path();
    while let (Some(parent), Some(name)) = (head.parent(), head.file_name()) {
        tail.push(name.to_os_string());
        if let Ok(base) = parent.canonicalize() {
            return tail.iter().rev().fold(base, |p, n| p.join(n));
        }
        head = parent;
    }
    absolute
}

/// The files of a model given as `--model` (a bundled name reads none).
pub fn model_inputs(model: &str) -> Vec<PathBuf> {
    let path = Path::new(model);
    if path.is_dir() {
        [
            zkinfer_models::files::MODEL,
            zkinfer_models::files::ARCH,
            zkinfer_models::files::WEIGHTS,
            zkinfer_prover::export::KEY_FILE,
            zkinfer_prover::export::PACKAGE_FILE,
        ]
        .iter()
        .map(|name| path.join(name))
        .collect()
    } else if path.exists() {
        vec![path.to_path_buf()]
    } else {
        vec![]
    }
}

/// Whether `text` is a file of zkinfer's `kind` (`"zkinfer/model@"`):
/// JSON whose `format` starts with that prefix.
pub fn is_zkinfer_file(text: &str, prefix: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("format")?.as_str().map(|f| f.starts_with(prefix)))
        .unwrap_or(false)
}

/// Refuses `--out` for `quantize` when it holds something other than a
/// zkinfer model, unless `force`.
pub fn refuse_foreign_file(
    out: &Path,
    prefix: &str,
    what: &str,
    force: bool,
) -> anyhow::Result<()> {
    if out.is_dir() {
        refuse!(out, "--out {} is a folder; give a file name", out.display());
    }
    if force || !out.exists() {
        return Ok(());
    }
    let ours = std::fs::read_to_string(out)
        .map(|text| is_zkinfer_file(&text, prefix))
        .unwrap_or(false);
    if !ours {
        refuse!(
            out,
            "--out {} exists and is not {what}; it would be overwritten: choose another --out, \
             or pass --force to replace it",
            out.display()
        );
    }
    Ok(())
}

/// Refuses `--out` for `export` when it is a file, or a non-empty folder
/// without a zkinfer `package.json` (a model folder, a project), unless
/// `force`.
pub fn refuse_foreign_folder(out: &Path, writes: &[&str], force: bool) -> anyhow::Result<()> {
    if out.exists() && !out.is_dir() {
        refuse!(
            out,
            "--out {} is a file; export writes a folder: give a folder path",
            out.display()
        );
    }
    if force || !out.is_dir() {
        return Ok(());
    }
    let empty = std::fs::read_dir(out)
        .map(|mut entries| entries.next().is_none())
        .unwrap_or(false);
    let package = std::fs::read_to_string(out.join(zkinfer_prover::export::PACKAGE_FILE))
        .map(|text| is_zkinfer_file(&text, "zkinfer/package@"))
        .unwrap_or(false);
    if !empty && !package {
        refuse!(
            out,
            "--out {} is a folder that holds files but no zkinfer package.json; export would \
             overwrite {} there: choose a new or empty folder, or pass --force",
            out.display(),
            writes.join(", ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_file_sees_through_dots_links_and_missing_files() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a.json");
        std::fs::write(&a, "{}").unwrap();
        std::fs::create_dir(tmp.path().join("sub")).unwrap();
        assert!(same_file(&a, &tmp.path().join("sub/../a.json")));
        assert!(same_file(&a, &tmp.path().join("./a.json")));
        let link = tmp.path().join("link.json");
        std::fs::hard_link(&a, &link).unwrap();
        assert!(same_file(&a, &link));
        assert!(!same_file(&a, &tmp.path().join("b.json")));
        let missing = tmp.path().join("sub/x.json");
        assert!(same_file(&missing, &tmp.path().join("sub/../sub/./x.json")));
        assert!(!same_file(&missing, &a));
    }

    #[test]
    fn refusals_name_both_paths() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a.json");
        std::fs::write(&a, "{}").unwrap();
        let err = refuse_overwriting_inputs("--out", &a, &[("--input", &a)]).unwrap_err();
        let text = format!("{err:#}");
        assert_eq!(text.matches(&a.display().to_string()).count(), 2, "{text}");
        assert!(text.contains("--out") && text.contains("--input"), "{text}");
        refuse_overwriting_inputs("--out", &tmp.path().join("b.json"), &[("--input", &a)]).unwrap();
    }

    #[test]
    fn foreign_files_and_folders_need_force() {
        let tmp = tempfile::tempdir().unwrap();
        let notes = tmp.path().join("notes.json");
        std::fs::write(&notes, r#"{"format": "other"}"#).unwrap();
        assert!(refuse_foreign_file(&notes, "zkinfer/model@", "a model", false).is_err());
        refuse_foreign_file(&notes, "zkinfer/model@", "a model", true).unwrap();
        let model = tmp.path().join("model.json");
        std::fs::write(&model, r#"{"format": "zkinfer/model@1"}"#).unwrap();
        refuse_foreign_file(&model, "zkinfer/model@", "a model", false).unwrap();

        let dir = tmp.path().join("dir");
        std::fs::create_dir(&dir).unwrap();
        refuse_foreign_folder(&dir, &["model.json"], false).unwrap();
        std::fs::write(dir.join("model.json"), "{}").unwrap();
        assert!(refuse_foreign_folder(&dir, &["model.json"], false).is_err());
        refuse_foreign_folder(&dir, &["model.json"], true).unwrap();
        std::fs::write(
            dir.join("package.json"),
            r#"{"format": "zkinfer/package@1"}"#,
        )
        .unwrap();
        refuse_foreign_folder(&dir, &["model.json"], false).unwrap();
        assert!(refuse_foreign_folder(&notes, &["model.json"], true).is_err());
    }
}
