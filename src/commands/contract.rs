//! `zkinfer contract …`: the contract's handlers against a state folder, for
//! operators who run the contract logic off chain (an oracle, a relayer, a
//! test net of one).
//!
//! The state is one JSON file, `state.json`, rewritten atomically (a
//! temporary file, flushed, renamed, and the folder flushed) under an
//! exclusive lock: a crash at any point leaves the old state or the new one,
//! and an attestation is reported only once it is on disk.

use crate::cli::{ContractCommand, ContractQuery, ParamsArgs};
use crate::report::{self, outln};
use anyhow::{bail, Context};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zkinfer_verifier::contract::{
    execute, input_digest, instantiate, query, ContractError, ContractStore, ExecuteMsg,
    InstantiateMsg, KeyCache, MemoryStore, ModelKey, QueryMsg, QueryResponse, Response,
};
use zkinfer_verifier::{ProofBundle, VerifierKey};

const STATE_FILE: &str = "state.json";

/// The state folder, locked for this process.
struct StateDir {
    dir: PathBuf,
    _lock: File,
}

impl StateDir {
    fn open(dir: &Path) -> anyhow::Result<Self> {
        if !dir.join(STATE_FILE).is_file() {
            bail!(
                "{}: no contract state here (run `zkinfer contract init` first)",
                dir.display()
            );
        }
        Self::lock(dir)
    }

    fn lock(dir: &Path) -> anyhow::Result<Self> {
        let lock = File::create(dir.join(".lock")).with_context(|| format!("{}", dir.display()))?;
        lock.lock()
            .with_context(|| format!("locking {}", dir.display()))?;
        Ok(StateDir {
            dir: dir.to_path_buf(),
            _lock: lock,
        })
    }

    fn load(&self) -> anyhow::Result<MemoryStore> {
        let path = self.dir.join(STATE_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{}: not a zkinfer contract state", path.display()))
    }

    /// Writes the state so that a crash leaves the old file or the new one.
    fn save(&self, store: &MemoryStore) -> anyhow::Result<()> {
        let path = self.dir.join(STATE_FILE);
        let tmp = self
            .dir
            .join(format!(".{STATE_FILE}.{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(&serde_json::to_vec_pretty(store).map_err(std::io::Error::other)?)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            // The rename is durable once the folder is.
            File::open(&self.dir)?.sync_all()
        };
        write().with_context(|| format!("writing {}", path.display()))
    }
}

fn key_cache(params: &ParamsArgs) -> KeyCache {
    let cache = super::params_cache(params);
    KeyCache::with_params(move |k| match cache.load(k) {
        Ok((params, _)) => params,
        Err(_) => zkinfer_verifier::IpaParams::new(k),
    })
}

/// Refusals: an invalid proof exits 1, like `zkinfer verify`; the rest 2.
/// `what` names the file or model the message was about.
fn refused(e: ContractError, what: &str, json: bool) -> anyhow::Result<ExitCode> {
    if e == ContractError::InvalidProof {
        if json {
            report::json(&serde_json::json!({ "ok": false, "error": e.to_string() }))?;
        }
        eprintln!("rejected: {what}: {e}");
        return Ok(ExitCode::from(1));
    }
    Err(anyhow::Error::new(e).context(format!("refused: {what}")))
}

fn print_response(response: &Response, json: bool) -> anyhow::Result<()> {
    if json {
        return report::json(response);
    }
    for event in &response.events {
        let attrs: Vec<String> = event
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        outln!("{}: {}", event.kind, attrs.join(" "));
    }
    if response.gas > 0 {
        outln!("gas: {}", response.gas);
    }
    Ok(())
}

pub fn run(command: ContractCommand, json: bool) -> anyhow::Result<ExitCode> {
    match command {
        ContractCommand::Init { state, admin } => {
            std::fs::create_dir_all(&state)
                .with_context(|| format!("creating {}", state.display()))?;
            let dir = StateDir::lock(&state)?;
            if state.join(STATE_FILE).exists() {
                bail!("{}: a contract state exists already", state.display());
            }
            let mut store = MemoryStore::default();
            let response = match instantiate(&mut store, InstantiateMsg { admin }) {
                Ok(r) => r,
                Err(e) => return refused(e, &state.display().to_string(), json),
            };
            dir.save(&store)?;
            print_response(&response, json)?;
        }
        ContractCommand::Register {
            state,
            model,
            name,
            private_input,
            from,
            params,
        } => {
            let dir = StateDir::open(&state)?;
            let mut store = dir.load()?;
            let admin = store.config()?.map(|c| c.admin).unwrap_or_default();
            let sender = from.unwrap_or_else(|| admin.clone());
            // Refuse a non-admin before the expensive key rebuild.
            if sender != admin {
                return refused(ContractError::Unauthorized { sender }, &model, json);
            }
            let loaded = zkinfer_models::load_model(&model)
                .with_context(|| format!("loading model {model:?}"))?;
            let visibility = super::visibility(&model, private_input);
            let q = loaded.quantized;
            let k = VerifierKey::k_for(&q, visibility)?;
            let mut cache = key_cache(&params);
            let key = VerifierKey::new(
                q.clone(),
                visibility,
                super::load_params(&super::params_cache(&params), k)?,
            )?;
            let msg = ExecuteMsg::RegisterModel {
                name: name.unwrap_or_else(|| q.name().to_string()),
                verifier_key: ModelKey {
                    model: q.to_json(),
                    input_visibility: visibility,
                    vk_digest: key.vk_digest().to_string(),
                    k,
                },
            };
            let response = match execute(&mut store, &mut cache, &sender, msg) {
                Ok(r) => r,
                Err(e) => return refused(e, &model, json),
            };
            dir.save(&store)?;
            print_response(&response, json)?;
        }
        ContractCommand::Submit {
            state,
            proof,
            from,
            model_id,
            params,
        } => {
            let dir = StateDir::open(&state)?;
            let mut store = dir.load()?;
            let text = zkinfer_models::read_text(&proof)?;
            let bundle =
                ProofBundle::from_json(&text).with_context(|| format!("{}", proof.display()))?;
            let msg = ExecuteMsg::SubmitInference {
                model_id: model_id.unwrap_or_else(|| bundle.vk_digest.clone()),
                proof_bundle: Box::new(bundle),
            };
            let response = match execute(&mut store, &mut key_cache(&params), &from, msg) {
                Ok(r) => r,
                Err(e) => return refused(e, &proof.display().to_string(), json),
            };
            dir.save(&store)?;
            print_response(&response, json)?;
        }
        ContractCommand::Retire {
            state,
            model_id,
            reason,
            from,
        } => {
            let dir = StateDir::open(&state)?;
            let mut store = dir.load()?;
            let sender = match from {
                Some(from) => from,
                None => store.config()?.map(|c| c.admin).unwrap_or_default(),
            };
            let msg = ExecuteMsg::RetireModel {
                model_id: model_id.clone(),
                reason,
            };
            // Retiring rebuilds no key: the cache is never asked for one.
            let response = match execute(&mut store, &mut KeyCache::default(), &sender, msg) {
                Ok(r) => r,
                Err(e) => return refused(e, &model_id, json),
            };
            dir.save(&store)?;
            print_response(&response, json)?;
            if !json {
                outln!(
                    "model {model_id} is retired: it takes no new proofs, and its attestations \
                     stay readable, marked retired"
                );
            }
        }
        ContractCommand::Query { state, query: q } => {
            let dir = StateDir::open(&state)?;
            let store = dir.load()?;
            let msg = match q {
                ContractQuery::Config => QueryMsg::Config {},
                ContractQuery::Models => QueryMsg::Models {},
                ContractQuery::Model { model_id } => QueryMsg::Model { model_id },
                ContractQuery::Attestation { seq } => QueryMsg::Attestation { seq },
                ContractQuery::Attestations {
                    model_id,
                    start_after,
                    limit,
                } => QueryMsg::Attestations {
                    model_id,
                    start_after,
                    limit,
                },
                ContractQuery::Output {
                    model_id,
                    input_digest: digest,
                    input,
                    model,
                } => {
                    let digest = match (digest, input, model) {
                        (Some(d), _, _) => d,
                        (None, Some(input), Some(model)) => {
                            let loaded = zkinfer_models::load_model(&model)
                                .with_context(|| format!("loading model {model:?}"))?;
                            let x = super::read_input(&loaded.quantized, &input)?;
                            input_digest(&x.data)
                        }
                        _ => bail!("give --input-digest, or --input with --model"),
                    };
                    QueryMsg::Output {
                        model_id,
                        input_digest: digest,
                    }
                }
            };
            let answer = match query(&store, msg) {
                Ok(a) => a,
                Err(e) => return refused(e, &state.display().to_string(), json),
            };
            if json {
                report::json(&answer)?;
            } else {
                match &answer {
                    QueryResponse::Attestation(info) => {
                        let a = &info.attestation;
                        outln!(
                            "attestation {}: class {} from {}{}",
                            a.seq,
                            a.class,
                            a.submitter,
                            if info.model_retired.is_some() {
                                " (MODEL RETIRED)"
                            } else {
                                ""
                            }
                        );
                        if let Some(r) = &info.model_retired {
                            outln!(
                                "retired      at seq {}: {} (do not trust this output)",
                                r.at_seq,
                                r.reason
                            );
                        }
                        outln!("model        {}", a.model_id);
                        outln!("input digest {}", a.input_digest);
                        outln!("output       {:?} at scale 2^-{}", a.output, a.output_scale);
                    }
                    QueryResponse::Models(models) => {
                        for m in models {
                            match &m.retired {
                                Some(r) => outln!(
                                    "{}  retired at seq {}: {}",
                                    m.model_id,
                                    r.at_seq,
                                    r.reason
                                ),
                                None => outln!("{}", m.model_id),
                            }
                        }
                    }
                    other => outln!("{}", serde_json::to_string_pretty(other)?),
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
