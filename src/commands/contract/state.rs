//! The contract's on-disk state: one JSON file, `state.json`, in a folder.
//!
//! Writers ([`StateDir::open_for_write`]) hold an exclusive lock on the
//! folder's `.lock` and an open handle on the folder itself for as long as
//! they run. The lock lives inside the folder, so it dies with it: another
//! admin may delete the folder and initialize a new one while a slow
//! submission proves. A writer therefore checks, under its lock, that the
//! path still names the folder it opened (same device and inode; the open
//! handle keeps that inode from being reused) right after locking and again
//! right before it renames the new state into place, and refuses otherwise,
//! leaving the new folder untouched.
//!
//! Readers ([`StateDir::open_for_read`]) take no lock and create no file:
//! every write is an atomic rename, so a reader sees the old state or the
//! new one, whole, and a read-only folder can be queried.

use crate::failure::refuse;
use anyhow::Context;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use zkinfer_verifier::contract::MemoryStore;

/// The state file inside the folder.
pub const STATE_FILE: &str = "state.json";
/// The lock file inside the folder (writers only).
pub const LOCK_FILE: &str = ".lock";

/// A folder's identity: what `stat` says about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
}

impl Identity {
    #[cfg(unix)]
    fn of(meta: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        Identity {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }

    /// Elsewhere there is no inode: every folder looks the same, and only
    /// the lock protects the state.
    #[cfg(not(unix))]
    fn of(_meta: &std::fs::Metadata) -> Self {
        Identity { dev: 0, ino: 0 }
    }
}

/// An opened state folder; writers also hold its lock.
pub struct StateDir {
    dir: PathBuf,
    identity: Identity,
    /// Keeps the folder's inode alive (and so unique) while this runs.
    _handle: Option<File>,
    _lock: Option<File>,
}

impl StateDir {
    /// Opens an existing state for reading: no lock, no file created.
    pub fn open_for_read(dir: &Path) -> anyhow::Result<Self> {
        require_state(dir)?;
        let meta = std::fs::metadata(dir).with_context(|| format!("{}", dir.display()))?;
        Ok(StateDir {
            dir: dir.to_path_buf(),
            identity: Identity::of(&meta),
            _handle: None,
            _lock: None,
        })
    }

    /// Opens an existing state for writing, locked.
    pub fn open_for_write(dir: &Path) -> anyhow::Result<Self> {
        require_state(dir)?;
        Self::lock(dir)
    }

    /// Locks a folder that may not hold a state yet (`contract init`).
    pub fn lock(dir: &Path) -> anyhow::Result<Self> {
        let handle = File::open(dir).with_context(|| format!("opening {}", dir.display()))?;
        let identity = Identity::of(
            &handle
                .metadata()
                .with_context(|| format!("{}", dir.display()))?,
        );
        let lock = File::create(dir.join(LOCK_FILE))
            .with_context(|| format!("creating the lock file in {}", dir.display()))?;
        lock.lock()
            .with_context(|| format!("locking {}", dir.display()))?;
        let state = StateDir {
            dir: dir.to_path_buf(),
            identity,
            _handle: Some(handle),
            _lock: Some(lock),
        };
        // The folder may have been replaced while this waited for the lock.
        state.check_same_folder()?;
        Ok(state)
    }

    /// The state file's path.
    pub fn file(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }

    /// Reads the state (models registered with their model file's JSON
    /// text, as before registrations carried the model's bytes, are read
    /// as their bytes).
    pub fn load(&self) -> anyhow::Result<MemoryStore> {
        let path = self.file();
        let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
        let not_a_state = || {
            format!(
                "{}: not a zkinfer contract state (malformed JSON or an unknown layout)",
                path.display()
            )
        };
        let mut state: serde_json::Value = serde_json::from_str(&text).with_context(not_a_state)?;
        models_as_bytes(&mut state).with_context(|| format!("{}", path.display()))?;
        serde_json::from_value(state).with_context(not_a_state)
    }

    /// Refuses when `dir` no longer names the folder this opened.
    fn check_same_folder(&self) -> anyhow::Result<()> {
        let now = std::fs::metadata(&self.dir).map(|m| Identity::of(&m));
        if now.ok() != Some(self.identity) {
            refuse!(
                &self.dir,
                "{}: the state folder was deleted or replaced while this command ran; \
                 nothing was written (check the folder, then run the command again)",
                self.dir.display()
            );
        }
        Ok(())
    }

    /// Writes the state so that a crash leaves the old file or the new one,
    /// and never into a folder that replaced the one this opened.
    pub fn save(&self, store: &MemoryStore) -> anyhow::Result<()> {
        self.check_same_folder()?;
        let path = self.file();
        let tmp = self
            .dir
            .join(format!(".{STATE_FILE}.{}.tmp", std::process::id()));
        let bytes = serde_json::to_vec_pretty(store).context("encoding the contract state")?;
        let write = || -> std::io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&tmp);
            return Err(e).with_context(|| format!("writing {}", path.display()));
        }
        // Checked again as late as possible, under the lock.
        if let Err(e) = self.check_same_folder() {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        let finish = || -> std::io::Result<()> {
            std::fs::rename(&tmp, &path)?;
            // The rename is durable once the folder is.
            File::open(&self.dir)?.sync_all()
        };
        finish().with_context(|| format!("writing {}", path.display()))
    }
}

/// Refuses a folder without a state.
fn require_state(dir: &Path) -> anyhow::Result<()> {
    if !dir.join(STATE_FILE).is_file() {
        refuse!(
            dir,
            "{}: no contract state here (run `zkinfer contract init` first)",
            dir.display()
        );
    }
    Ok(())
}

/// Registered models whose `key.model` is a model file's JSON text (states
/// written before registrations carried the model's bytes) get the bytes.
fn models_as_bytes(state: &mut serde_json::Value) -> anyhow::Result<()> {
    let models = state.get_mut("models").and_then(|m| m.as_object_mut());
    for (id, model) in models.into_iter().flatten() {
        let Some(text) = model.pointer_mut("/key/model") else {
            continue;
        };
        let Some(json) = text.as_str().filter(|t| t.trim_start().starts_with('{')) else {
            continue;
        };
        let parsed = zkinfer_quant::QuantizedModel::from_json(json)
            .with_context(|| format!("registered model {id}"))?;
        *text = zkinfer_verifier::base64::encode(&parsed.to_bytes()).into();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkinfer_verifier::contract::{instantiate, InstantiateMsg};

    fn store(admin: &str) -> MemoryStore {
        let mut store = MemoryStore::default();
        instantiate(
            &mut store,
            InstantiateMsg {
                admin: admin.into(),
            },
        )
        .unwrap();
        store
    }

    fn init(dir: &Path, admin: &str) {
        std::fs::create_dir_all(dir).unwrap();
        StateDir::lock(dir).unwrap().save(&store(admin)).unwrap();
    }

    #[test]
    fn a_writer_refuses_to_save_into_a_folder_that_replaced_its_own() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("state");
        init(&dir, "alice");
        let writer = StateDir::open_for_write(&dir).unwrap();
        let stale = writer.load().unwrap();

        // Another admin deletes the folder and initializes a new one.
        std::fs::remove_dir_all(&dir).unwrap();
        init(&dir, "bob");
        let fresh = std::fs::read(dir.join(STATE_FILE)).unwrap();

        let err = format!("{:#}", writer.save(&stale).unwrap_err());
        assert!(err.contains("deleted or replaced"), "{err}");
        assert!(err.contains(&dir.display().to_string()), "{err}");
        assert_eq!(std::fs::read(dir.join(STATE_FILE)).unwrap(), fresh);
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, [LOCK_FILE, STATE_FILE]);
    }

    /// A state from before registrations carried the model's bytes has the
    /// model file's text: it is read as the bytes of the same model.
    #[test]
    fn models_registered_as_json_text_read_as_their_bytes() {
        let model = zkinfer_models::bundled::BundledModel::find("digits-mlp")
            .unwrap()
            .quantized()
            .unwrap();
        let bytes = zkinfer_verifier::base64::encode(&model.to_bytes());
        let mut state = serde_json::json!({
            "models": {
                "old": { "key": { "model": model.to_json() } },
                "new": { "key": { "model": bytes.clone() } },
            }
        });
        models_as_bytes(&mut state).unwrap();
        assert_eq!(state["models"]["old"]["key"]["model"], bytes);
        assert_eq!(state["models"]["new"]["key"]["model"], bytes);
        let mut damaged = serde_json::json!({
            "models": { "old": { "key": { "model": "{\"format\": \"zkinfer/model@1\"}" } } }
        });
        let err = format!("{:#}", models_as_bytes(&mut damaged).unwrap_err());
        assert!(err.contains("registered model old"), "{err}");
    }

    #[test]
    fn a_writer_refuses_when_the_folder_is_gone() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("state");
        init(&dir, "alice");
        let writer = StateDir::open_for_write(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let err = format!("{:#}", writer.save(&store("alice")).unwrap_err());
        assert!(err.contains("deleted or replaced"), "{err}");
        assert!(!dir.exists());
    }

    #[test]
    fn a_writer_saves_into_its_own_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("state");
        init(&dir, "alice");
        let writer = StateDir::open_for_write(&dir).unwrap();
        writer.save(&store("carol")).unwrap();
        let read = StateDir::open_for_read(&dir).unwrap().load().unwrap();
        assert_eq!(
            serde_json::to_value(read).unwrap(),
            serde_json::to_value(store("carol")).unwrap()
        );
    }

    #[test]
    fn a_reader_creates_no_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("state");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(STATE_FILE),
            serde_json::to_vec(&store("alice")).unwrap(),
        )
        .unwrap();
        StateDir::open_for_read(&dir).unwrap().load().unwrap();
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [STATE_FILE]);
    }
}
