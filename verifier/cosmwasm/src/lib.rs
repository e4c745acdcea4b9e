//! `zkinfer-cosmwasm`: the zkinfer model registry as a CosmWasm contract.
//!
//! The logic is `zkinfer_verifier::contract`'s, unchanged: this crate gives
//! it a [`store::CwStore`] over the contract's storage (keys laid out as
//! cw-storage-plus lays them out, [`keys`]) and the three entry points. A refused message fails the transaction, so
//! the state is untouched.
//!
//! Build for a chain with `make wasm` (`wasm/wasm.sh`): Rust 1.96 with a
//! std rebuilt for the MVP wasm CPU (cosmwasm-vm 3 refuses bulk-memory
//! instructions), a size profile of its own, `wasm-opt -Oz`, and the VM's
//! static checks. `make wasm-test` runs the contract in cosmwasm-vm with
//! its gas checked against `wasm/gas_budgets.json`.
//!
//! Two modules: without default features, fixed-weights models only (the
//! 600 KiB module); with the `committed-weights` feature (the default
//! natively), polycommit models too, whose weights are accepted and retired
//! by commitment (`zkinfer_cosmwasm_committed.wasm`).

#![deny(missing_docs, unsafe_code)]

pub mod keys;
pub mod store;

use cosmwasm_std::{to_json_binary, Binary, Deps, DepsMut, Env, MessageInfo, StdError, StdResult};
use std::sync::{Mutex, OnceLock};
use store::CwStore;
use zkinfer_verifier::contract::{self as logic, KeyCache};
pub use zkinfer_verifier::contract::{
    ContractError, ExecuteMsg, InstantiateMsg, QueryMsg, QueryResponse,
};

/// Verifier keys rebuilt once per model per contract instance.
fn keys() -> &'static Mutex<KeyCache> {
    static KEYS: OnceLock<Mutex<KeyCache>> = OnceLock::new();
    KEYS.get_or_init(|| Mutex::new(KeyCache::default()))
}

/// The contract's error: a refusal of zkinfer's logic, or a chain error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// zkinfer refused the message.
    #[error(transparent)]
    Refused(#[from] ContractError),
    /// The chain's standard library failed.
    #[error(transparent)]
    Std(#[from] StdError),
}

fn respond(r: logic::Response) -> StdResult<cosmwasm_std::Response> {
    let mut response =
        cosmwasm_std::Response::new().add_attribute("zkinfer_gas", r.gas.to_string());
    for event in r.events {
        response = response
            .add_event(cosmwasm_std::Event::new(event.kind).add_attributes(event.attributes));
    }
    if let Some(a) = r.attestation {
        response = response.set_data(to_json_binary(&a)?);
    }
    Ok(response)
}

/// Sets the admin (a valid address).
#[cfg_attr(not(feature = "library"), cosmwasm_std::entry_point)]
pub fn instantiate(
    deps: DepsMut,
    _env: Env,
    _info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<cosmwasm_std::Response, Error> {
    let admin = deps.api.addr_validate(&msg.admin)?;
    let mut store = CwStore::new(deps.storage);
    let r = logic::instantiate(
        &mut store,
        InstantiateMsg {
            admin: admin.into_string(),
        },
    )?;
    Ok(respond(r)?)
}

/// `register_model`, `retire_model` and `upload_params` (admin only),
/// `submit_inference`, and with committed weights `accept_weights` and
/// `retire_weights` (admin or the model's owner).
#[cfg_attr(not(feature = "library"), cosmwasm_std::entry_point)]
pub fn execute(
    deps: DepsMut,
    _env: Env,
    info: MessageInfo,
    #[allow(unused_mut)] mut msg: ExecuteMsg,
) -> Result<cosmwasm_std::Response, Error> {
    // An owner manages a model's weights: a valid address, like the admin.
    #[cfg(feature = "committed-weights")]
    if let ExecuteMsg::RegisterModel {
        owner: Some(owner), ..
    } = &mut msg
    {
        *owner = deps
            .api
            .addr_validate(owner)
            .map_err(|e| ContractError::InvalidMessage(format!("owner: {e}")))?
            .into_string();
    }
    let mut store = CwStore::new(deps.storage);
    let mut keys = keys()
        .lock()
        .map_err(|_| StdError::msg("the key cache is poisoned"))?;
    let r = logic::execute(&mut store, &mut keys, info.sender.as_str(), msg)?;
    Ok(respond(r)?)
}

/// Models, attestations, and the verified output for an input.
#[cfg_attr(not(feature = "library"), cosmwasm_std::entry_point)]
pub fn query(deps: Deps, _env: Env, msg: QueryMsg) -> Result<Binary, Error> {
    let store = store::CwStoreRef::new(deps.storage);
    let answer = logic::query(&store, msg)?;
    Ok(to_json_binary(&answer)?)
}
