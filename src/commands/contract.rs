//! `zkinfer contract …`: the contract's handlers against a state folder, for
//! operators who run the contract logic off chain (an oracle, a relayer, a
//! test net of one).
//!
//! The state is one JSON file, `state.json`, rewritten atomically (a
//! temporary file, flushed, renamed, and the folder flushed) under an
//! exclusive lock: a crash at any point leaves the old state or the new one,
//! and an attestation is reported only once it is on disk. A writer whose
//! folder was replaced meanwhile refuses to write; queries take no lock
//! ([`state`]).

use crate::cli::{ContractCommand, ContractQuery, ParamsArgs};
use crate::failure::AtFileExt;
use crate::progress::Phase;
use crate::report::{self, outln};
mod state;

use anyhow::{bail, Context};
use state::{StateDir, STATE_FILE};
use std::process::ExitCode;
use zkinfer_verifier::contract::{
    execute, input_digest, instantiate, query, ContractError, ContractStore, ExecuteMsg,
    InstantiateMsg, KeyCache, MemoryStore, ModelKey, QueryMsg, QueryResponse, Response,
};
use zkinfer_verifier::{ProofBundle, VerifierKey, WeightVisibility};

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
            .map(|(k, v)| format!("{k}={}", report::printable(v)))
            .collect();
        outln!("{}: {}", report::printable(&event.kind), attrs.join(" "));
    }
    if response.gas > 0 {
        outln!("gas: {}", response.gas);
    }
    Ok(())
}

/// Sends a message that rebuilds no key (a retirement, accepted weights:
/// the key cache is never asked for one) from `--from`, else the admin,
/// and saves the state if it is accepted. `msg` builds it from the loaded
/// state; `what` names what a refusal is about. Returns the exit code of a
/// refusal.
fn send_keyless(
    state: &std::path::Path,
    from: Option<String>,
    what: &str,
    json: bool,
    msg: impl FnOnce(&MemoryStore) -> anyhow::Result<ExecuteMsg>,
) -> anyhow::Result<Option<ExitCode>> {
    let dir = StateDir::open_for_write(state)?;
    let mut store = dir.load()?;
    let sender = match from {
        Some(from) => from,
        None => store.config()?.map(|c| c.admin).unwrap_or_default(),
    };
    let msg = msg(&store)?;
    let response = match execute(&mut store, &mut KeyCache::default(), &sender, msg) {
        Ok(r) => r,
        Err(e) => return refused(e, what, json).map(Some),
    };
    dir.save(&store)?;
    print_response(&response, json)?;
    Ok(None)
}

/// The polycommit commitment of `model`'s weights for the circuit
/// registered as `model_id` (its k and weight store).
fn weights_commitment(
    store: &MemoryStore,
    model_id: &str,
    model: &str,
    secret: Option<&zkinfer_circuits::polycommit::WeightsSecret>,
    params: &ParamsArgs,
) -> anyhow::Result<String> {
    let registered = store
        .model(model_id)?
        .ok_or_else(|| ContractError::UnknownModel(model_id.to_string()))?;
    let key = &registered.key;
    let loaded = zkinfer_models::load_quantized_model(model)
        .with_context(|| format!("loading model {model:?}"))?;
    let circuit = VerifierKey::plan_circuit_with(
        loaded.quantized.clone(),
        key.input_visibility,
        key.weight_visibility,
        key.profile,
    )?;
    if circuit.model().digest().to_hex() != registered.model_digest {
        bail!(
            "{model} is not a model of {model_id}'s architecture (its architecture's digest is \
             {}, the registration's {})",
            circuit.model().digest().to_hex(),
            registered.model_digest
        );
    }
    let plan = circuit.plan();
    let ipa = super::load_params(&super::params_cache(params), plan.k)?;
    let store = plan.weight_store;
    let points = zkinfer_circuits::polycommit::commitments(&ipa, &loaded.quantized, store, secret)
        .with_context(|| format!("committing to the weights of {model}"))?;
    Ok(zkinfer_circuits::polycommit::to_hex(&points))
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
            profile,
            weights_visibility,
            owner,
            from,
            params,
        } => {
            let dir = StateDir::open_for_write(&state)?;
            let mut store = dir.load()?;
            let admin = store.config()?.map(|c| c.admin).unwrap_or_default();
            let sender = from.unwrap_or_else(|| admin.clone());
            // Refuse a non-admin before the expensive key rebuild.
            if sender != admin {
                return refused(ContractError::Unauthorized { sender }, &model, json);
            }
            let loaded = zkinfer_models::load_quantized_model(&model)
                .with_context(|| format!("loading model {model:?}"))?;
            let visibility = super::visibility(&model, private_input, false)?;
            // A fixed-weights registration puts the weights in the
            // contract's state; a polycommit one only the architecture. A
            // package exported to keep its weights private registers the
            // second way (the package's visibility is the default), never
            // the first.
            let weights = super::weights(&model, weights_visibility)?;
            let package = super::weights(&model, None)?;
            if package.is_committed() && weights == WeightVisibility::Fixed {
                bail!(
                    "{model} was exported with {} weights, to keep them private; registering \
                     it with fixed weights would publish them in the contract's state, so it \
                     is refused (register it with --weights-visibility polycommit)",
                    package.name()
                );
            }
            if weights == WeightVisibility::Committed {
                bail!(
                    "{model}: the contract verifies fixed or polycommit weights, not hashed \
                     (committed) ones; export or register it with --weights-visibility \
                     polycommit"
                );
            }
            let q = loaded.quantized;
            let circuit = super::plan_circuit(&model, &q, visibility, weights, profile)?;
            let k = circuit.plan().k;
            let mut cache = key_cache(&params);
            let ipa = super::load_params(&super::params_cache(&params), k)?;
            let key = Phase::run(format!("building the verifying key (k = {k})"), || {
                VerifierKey::for_circuit(circuit, ipa)
            })?;
            let msg = ExecuteMsg::RegisterModel {
                name: name.unwrap_or_else(|| q.name().to_string()),
                verifier_key: ModelKey::of(&key),
                owner,
            };
            let response = match Phase::run("registering (the key is rebuilt and checked)", || {
                execute(&mut store, &mut cache, &sender, msg)
            }) {
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
            let dir = StateDir::open_for_write(&state)?;
            let mut store = dir.load()?;
            let text = zkinfer_models::read_text(&proof)?;
            let bundle = ProofBundle::from_json(&text).at_file(&proof)?;
            let msg = ExecuteMsg::SubmitInference {
                model_id: model_id.unwrap_or_else(|| bundle.vk_digest.clone()),
                proof_bundle: Box::new(bundle),
            };
            let response = match Phase::run(
                "verifying the proof (the model's key is rebuilt first)",
                || execute(&mut store, &mut key_cache(&params), &from, msg),
            ) {
                Ok(r) => r,
                Err(e) => return refused(e, &proof.display().to_string(), json),
            };
            dir.save(&store)?;
            print_response(&response, json)?;
        }
        ContractCommand::AcceptWeights {
            state,
            model_id,
            commitment,
            model,
            weights_secret,
            label,
            from,
            params,
        } => {
            let sent = send_keyless(&state, from, &model_id.clone(), json, |store| {
                let commitment = match (commitment, model) {
                    (Some(hex), _) => hex,
                    (None, Some(model)) => {
                        let secret = super::weights_secret(&model, weights_secret.as_deref())?;
                        weights_commitment(store, &model_id, &model, secret.as_ref(), &params)?
                    }
                    (None, None) => bail!("give --commitment, or --model to commit to its weights"),
                };
                Ok(ExecuteMsg::AcceptWeights {
                    model_id,
                    model_commitment: commitment,
                    label,
                })
            })?;
            if let Some(code) = sent {
                return Ok(code);
            }
        }
        ContractCommand::RetireWeights {
            state,
            model_id,
            weights_id,
            reason,
            from,
        } => {
            let msg = ExecuteMsg::RetireWeights {
                model_id,
                weights_id: weights_id.clone(),
                reason,
            };
            if let Some(code) = send_keyless(&state, from, &weights_id, json, |_| Ok(msg))? {
                return Ok(code);
            }
            if !json {
                outln!(
                    "weights {weights_id} are retired: their proofs are refused, and their \
                     attestations stay readable, marked retired"
                );
            }
        }
        ContractCommand::Retire {
            state,
            model_id,
            reason,
            from,
        } => {
            let msg = ExecuteMsg::RetireModel {
                model_id: model_id.clone(),
                reason,
            };
            if let Some(code) = send_keyless(&state, from, &model_id, json, |_| Ok(msg))? {
                return Ok(code);
            }
            if !json {
                outln!(
                    "model {model_id} is retired: it takes no new proofs, and its attestations \
                     stay readable, marked retired"
                );
            }
        }
        ContractCommand::Query { state, query: q } => {
            let dir = StateDir::open_for_read(&state)?;
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
                ContractQuery::Weights {
                    model_id,
                    start_after,
                    limit,
                } => QueryMsg::Weights {
                    model_id,
                    start_after,
                    limit,
                },
                ContractQuery::Output {
                    model_id,
                    weights_id,
                    input_digest: digest,
                    input,
                    model,
                } => {
                    let digest = match (digest, input, model) {
                        (Some(d), _, _) => d,
                        (None, Some(input), Some(model)) => {
                            let loaded = zkinfer_models::load_quantized_model(&model)
                                .with_context(|| format!("loading model {model:?}"))?;
                            let x = super::read_input(&loaded.quantized, &model, &input)?;
                            input_digest(&x.data)
                        }
                        _ => bail!("give --input-digest, or --input with --model"),
                    };
                    QueryMsg::Output {
                        model_id,
                        input_digest: digest,
                        weights_id,
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
                            report::printable(&a.submitter),
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
                                report::printable(&r.reason)
                            );
                        }
                        outln!("model        {}", a.model_id);
                        if let Some(id) = &a.weights_id {
                            outln!(
                                "weights      {id}{}",
                                match &info.weights_retired {
                                    Some(r) => format!(
                                        " (retired at seq {}: {})",
                                        r.at_seq,
                                        report::printable(&r.reason)
                                    ),
                                    None => String::new(),
                                }
                            );
                        }
                        outln!("input digest {}", a.input_digest);
                        outln!(
                            "output       {:?} at scale {}",
                            a.output,
                            zkinfer_quant::Scale(a.output_scale)
                        );
                    }
                    QueryResponse::Models(models) => {
                        for m in models {
                            match &m.retired {
                                Some(r) => outln!(
                                    "{}  retired at seq {}: {}",
                                    m.model_id,
                                    r.at_seq,
                                    report::printable(&r.reason)
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
