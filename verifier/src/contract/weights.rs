//! Polycommit models' weights. A polycommit registration is an
//! architecture: its key serves every set of weights of it. The admin, or
//! the owner named at registration, accepts sets of weights by their
//! Pedersen commitment ([`zkinfer_circuits::polycommit`]) and retires them;
//! a submission's bundle names the weights its proof opens to, and only
//! accepted, unretired ones are attested. A weight update is one
//! `accept_weights` (and a `retire_weights` of the old set): no new key, no
//! new registration.

use super::error::ContractError;
use super::handlers::{check_text, plan_of, MAX_NAME_LEN};
use super::msg::{
    AcceptedWeights, Event, ModelKey, RegisteredModel, Response, Retirement, MAX_PAGE,
    MAX_REASON_LEN,
};
use super::store::ContractStore;
use crate::bundle::ProofBundle;
use pasta_curves::group::GroupEncoding;
use sha2::{Digest, Sha256};
use zkinfer_circuits::{polycommit, WeightVisibility};

type Result<T> = std::result::Result<T, ContractError>;

/// The id of a set of weights: SHA-256 of the tag `zkinfer/weights@1\0`
/// and the commitment's points (compressed, in column order), hex. Short
/// where the commitment is 32 bytes per column, and independent of how
/// the hex was spelled.
pub fn weights_id(points: &[polycommit::Point]) -> String {
    let mut h = Sha256::new();
    h.update(b"zkinfer/weights@1\0");
    for p in points {
        h.update(p.to_bytes().as_ref());
    }
    super::handlers::hex(&h.finalize())
}

/// A commitment's canonical (lowercase) hex and its id; `None` if it is not
/// a whole number of curve points.
fn parse(hex: &str) -> Option<(String, String, usize)> {
    let points = polycommit::from_hex(hex)?;
    Some((
        polycommit::to_hex(&points),
        weights_id(&points),
        points.len(),
    ))
}

fn is_polycommit(key: &ModelKey) -> bool {
    key.weight_visibility == WeightVisibility::Polycommit
}

/// The model, checked to be a polycommit model that `sender` may manage.
fn managed_model(
    store: &dyn ContractStore,
    sender: &str,
    model_id: &str,
) -> Result<RegisteredModel> {
    let admin = super::handlers::admin_of(store)?.admin;
    let model = store
        .model(model_id)?
        .ok_or_else(|| ContractError::UnknownModel(model_id.to_string()))?;
    if sender != admin && model.owner.as_deref() != Some(sender) {
        return Err(ContractError::NotWeightsAuthority {
            sender: sender.into(),
            model_id: model_id.into(),
        });
    }
    if !is_polycommit(&model.key) {
        return Err(ContractError::InvalidMessage(format!(
            "model {model_id} has {} weights, in its key: only polycommit models take \
             accepted weights",
            model.key.weight_visibility.name()
        )));
    }
    Ok(model)
}

/// `accept_weights`.
pub(super) fn accept(
    store: &mut dyn ContractStore,
    sender: &str,
    model_id: String,
    commitment: &str,
    label: String,
) -> Result<Response> {
    let model = managed_model(store, sender, &model_id)?;
    if let Some(retired) = store.retirement(&model_id)? {
        return Err(ContractError::ModelRetired {
            model_id,
            reason: retired.reason,
        });
    }
    check_text("label", &label, MAX_NAME_LEN)?;
    let parsed = model.key.quantized().map_err(ContractError::Store)?;
    let circuit = plan_of(&model.key, parsed).map_err(|e| ContractError::Store(e.to_string()))?;
    let columns = circuit.plan().weight_store.columns();
    let (model_commitment, weights_id) = match parse(commitment) {
        Some((hex, id, n)) if n == columns => (hex, id),
        _ => {
            return Err(ContractError::InvalidMessage(format!(
                "model_commitment is not {columns} curve points (64 hex digits each, one per \
                 weight column of the model's circuit: what zkinfer commit --polycommit prints)"
            )))
        }
    };
    if let Some(existing) = store.weights(&model_id, &weights_id)? {
        return Err(ContractError::DuplicateWeights {
            model_id,
            weights_id,
            retired: existing.retired.map(|r| r.reason),
        });
    }
    let accepted = AcceptedWeights {
        weights_id: weights_id.clone(),
        model_commitment,
        label: label.clone(),
        accepted_at_seq: store.next_seq()?,
        retired: None,
    };
    store.put_weights(&model_id, &accepted)?;
    Ok(Response {
        events: vec![Event {
            kind: "zkinfer_accept_weights".into(),
            attributes: vec![
                ("model_id".into(), model_id),
                ("weights_id".into(), weights_id),
                ("label".into(), label),
                ("sender".into(), sender.into()),
            ],
        }],
        attestation: None,
        gas: 0,
    })
}

/// `retire_weights`.
pub(super) fn retire(
    store: &mut dyn ContractStore,
    sender: &str,
    model_id: String,
    weights_id: String,
    reason: String,
) -> Result<Response> {
    managed_model(store, sender, &model_id)?;
    check_text("reason", &reason, MAX_REASON_LEN)?;
    let mut weights =
        store
            .weights(&model_id, &weights_id)?
            .ok_or_else(|| ContractError::UnknownWeights {
                model_id: model_id.clone(),
                weights_id: weights_id.clone(),
            })?;
    if let Some(retired) = weights.retired {
        return Err(ContractError::WeightsRetired {
            model_id,
            weights_id,
            reason: retired.reason,
        });
    }
    weights.retired = Some(Retirement {
        reason: reason.clone(),
        at_seq: store.next_seq()?,
    });
    store.put_weights(&model_id, &weights)?;
    Ok(Response {
        events: vec![Event {
            kind: "zkinfer_retire_weights".into(),
            attributes: vec![
                ("model_id".into(), model_id),
                ("weights_id".into(), weights_id),
                ("reason".into(), reason),
                ("sender".into(), sender.into()),
            ],
        }],
        attestation: None,
        gas: 0,
    })
}

/// The id of the weights a submission to `model` used: `None` for a
/// fixed-weights model; for a polycommit one, its bundle's commitment,
/// which must be accepted and not retired. (Whether the proof opens to it
/// is the verification's to check.)
pub(super) fn submitted(
    store: &dyn ContractStore,
    model: &RegisteredModel,
    bundle: &ProofBundle,
) -> Result<Option<String>> {
    if !is_polycommit(&model.key) {
        return Ok(None);
    }
    let (_, weights_id, _) = bundle
        .model_commitment
        .as_deref()
        .and_then(parse)
        .ok_or_else(|| {
            ContractError::PublicInputMismatch(
                "the model's weights are polycommit: the bundle needs a model_commitment of \
                 curve points (64 hex digits each)"
                    .into(),
            )
        })?;
    let model_id = model.model_id.clone();
    match store.weights(&model_id, &weights_id)? {
        None => Err(ContractError::UnknownWeights {
            model_id,
            weights_id,
        }),
        Some(AcceptedWeights {
            retired: Some(retired),
            ..
        }) => Err(ContractError::WeightsRetired {
            model_id,
            weights_id,
            reason: retired.reason,
        }),
        Some(_) => Ok(Some(weights_id)),
    }
}

/// The retirement of the weights an attestation used, if they were.
pub(super) fn retirement(
    store: &dyn ContractStore,
    model_id: &str,
    weights_id: Option<&str>,
) -> Result<Option<Retirement>> {
    Ok(match weights_id {
        Some(id) => store.weights(model_id, id)?.and_then(|w| w.retired),
        None => None,
    })
}

/// The `weights` query.
pub(super) fn list(
    store: &dyn ContractStore,
    model_id: String,
    start_after: Option<String>,
    limit: Option<u32>,
) -> Result<Vec<AcceptedWeights>> {
    if store.model(&model_id)?.is_none() {
        return Err(ContractError::UnknownModel(model_id));
    }
    let limit = limit.unwrap_or(10).min(MAX_PAGE) as usize;
    store.weights_of(&model_id, start_after.as_deref(), limit)
}
