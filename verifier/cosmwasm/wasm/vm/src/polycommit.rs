//! The committed-weights module's scenario: a polycommit model (digits-mlp's
//! architecture) registered once with an owner, its weights accepted and
//! retired by commitment, proofs under two sets of weights, and the
//! refusals a hostile sender would try.

use super::{fixture_json, read, tamper_proof, to_vec, upload_messages, Chain, Result};
use cosmwasm_std::Addr;
use serde_json::{json, Value};
use std::path::Path;

const MODEL: &str = "digits-mlp-polycommit";

fn commitment(submit: &Value) -> Value {
    submit["submit_inference"]["proof_bundle"]["model_commitment"].clone()
}

fn accept_msg(model_id: &str, submit: &Value, label: &str) -> Vec<u8> {
    to_vec(&json!({ "accept_weights": {
        "model_id": model_id, "model_commitment": commitment(submit), "label": label,
    }}))
}

/// Runs the scenario; returns how many messages must report `zkinfer_gas`.
pub(super) fn scenario(c: &mut Chain, fixtures: &Path) -> Result<usize> {
    let admin = c.admin.clone();
    let user = c.user.clone();
    let owner = Addr::unchecked(cosmwasm_vm::testing::MockApi::default().addr_make("owner"));
    let mut register = fixture_json(fixtures, &format!("register-{MODEL}.json"))?;
    register["register_model"]["owner"] = json!(owner.as_str());
    let id = register["register_model"]["verifier_key"]["vk_digest"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let submit = |label: &str| fixture_json(fixtures, &format!("submit-{MODEL}-{label}.json"));
    let (a, a2, b) = (submit("a")?, submit("a2")?, submit("b")?);

    eprintln!("vm: polycommit scenario");
    let init = to_vec(&json!({ "admin": admin.as_str() }));
    let outcome = c.call("instantiate", &admin, super::Call::Instantiate(&init))?;
    c.expect(outcome.is_ok(), format!("instantiate: {outcome:?}"));
    let params = read(&fixtures.join("params-k9.bin"))?;
    for (i, msg) in upload_messages(9, &params, 3).iter().enumerate() {
        c.accept(&format!("upload params k=9 chunk {i}/3"), &admin, msg)?;
    }

    // The architecture, registered once.
    let mut bad_owner = register.clone();
    bad_owner["register_model"]["owner"] = json!("not an address");
    c.refuse(
        "refused: register with an invalid owner",
        &admin,
        &to_vec(&bad_owner),
        "owner",
    )?;
    let resp = c.accept(&format!("register {MODEL}"), &admin, &to_vec(&register))?;
    c.expect(
        resp["events"].to_string().contains("zkinfer_register"),
        "register: emits zkinfer_register".into(),
    );

    // No weights are accepted yet.
    c.refuse(
        "refused: submit before its weights are accepted",
        &user,
        &to_vec(&a),
        "are not accepted",
    )?;
    c.refuse(
        "refused: accept weights from a stranger",
        &user,
        &accept_msg(&id, &a, "v1"),
        "is neither the admin nor the owner",
    )?;
    let mut short = a.clone();
    let hex = commitment(&a).as_str().unwrap_or_default().to_string();
    short["submit_inference"]["proof_bundle"]["model_commitment"] = json!(hex[64..]);
    c.refuse(
        "refused: accept a commitment of the wrong size",
        &owner,
        &accept_msg(&id, &short, "v1"),
        "curve points",
    )?;
    c.accept(
        "accept weights a (owner)",
        &owner,
        &accept_msg(&id, &a, "v1"),
    )?;
    c.refuse(
        "refused: accept weights a again",
        &admin,
        &accept_msg(&id, &a, "v1 again"),
        "were accepted already",
    )?;

    // Proofs under the accepted weights, and forgeries.
    c.refuse(
        "refused: polycommit proof with forged bytes",
        &user,
        &to_vec(&tamper_proof(&a)),
        "invalid proof",
    )?;
    // b's proof (b not accepted yet) naming a's weights: its opening fails.
    let mut relabelled = b.clone();
    relabelled["submit_inference"]["proof_bundle"]["model_commitment"] = commitment(&a);
    c.refuse(
        "refused: proof under weights b naming weights a",
        &user,
        &to_vec(&relabelled),
        "invalid proof",
    )?;
    let resp = c.accept("submit polycommit a", &user, &to_vec(&a))?;
    let attested_a = resp["data"].clone();
    c.expect(
        attested_a["weights_id"].is_string()
            && attested_a["output"] == a["submit_inference"]["proof_bundle"]["output"]["values"],
        "submit a: the attestation records the weights and the proven output".into(),
    );
    c.accept(
        "accept weights b (admin)",
        &admin,
        &accept_msg(&id, &b, "v2"),
    )?;
    // The same input under other weights is another statement.
    let resp = c.accept("submit polycommit b", &user, &to_vec(&b))?;
    let attested_b = resp["data"].clone();
    c.expect(
        attested_b["input_digest"] == attested_a["input_digest"]
            && attested_b["weights_id"] != attested_a["weights_id"],
        "submit b: the same input, attested under the other weights".into(),
    );

    // The update completes: a is retired, and its proofs are refused.
    let weights_a = attested_a["weights_id"].clone();
    let retire = to_vec(&json!({ "retire_weights": {
        "model_id": id, "weights_id": weights_a, "reason": "superseded by v2",
    }}));
    c.refuse(
        "refused: retire weights from a stranger",
        &user,
        &retire,
        "is neither the admin nor the owner",
    )?;
    c.accept("retire weights a (owner)", &owner, &retire)?;
    c.refuse(
        "refused: submit under retired weights",
        &user,
        &to_vec(&a2),
        "were retired",
    )?;
    c.refuse(
        "refused: accept retired weights again",
        &owner,
        &accept_msg(&id, &a, "v1 back"),
        "retired weights cannot be accepted again",
    )?;

    // Queries.
    let q = c.query(
        "query weights",
        &json!({ "weights": { "model_id": id, "start_after": null, "limit": 10 } }),
    )?;
    let retired = q.as_ref().ok().and_then(|v| {
        v["weights"].as_array().map(|a| {
            (
                a.len(),
                a.iter().filter(|w| w["retired"].is_object()).count(),
            )
        })
    });
    c.expect(
        retired == Some((2, 1)),
        format!("query weights: two, one retired ({q:?})"),
    );
    let q = c.query("query model", &json!({ "model": { "model_id": id } }))?;
    c.expect(
        q.as_ref().is_ok_and(|v| {
            v["model"]["weight_visibility"] == json!("polycommit")
                && v["model"]["owner"] == json!(owner.as_str())
        }),
        format!("query model: polycommit, with its owner ({q:?})"),
    );
    for (label, data) in [("a", &attested_a), ("b", &attested_b)] {
        let q = c.query(
            &format!("query output {label}"),
            &json!({ "output": {
                "model_id": id, "input_digest": data["input_digest"], "weights_id": data["weights_id"],
            }}),
        )?;
        let retired = label == "a";
        c.expect(
            q.as_ref().is_ok_and(|v| {
                v["attestation"]["seq"] == data["seq"]
                    && v["attestation"]["weights_retired"].is_object() == retired
            }),
            format!("query output {label}: its attestation, weights retired: {retired} ({q:?})"),
        );
    }
    // A registration and two submissions report their gas.
    Ok(3)
}
