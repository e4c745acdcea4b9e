//! `verifier::contract`: a deterministic contract that registers models and
//! records an inference only when its proof verifies.
//!
//! Written as chain contracts are: a store ([`ContractStore`]), messages
//! ([`InstantiateMsg`], [`ExecuteMsg`], [`QueryMsg`]) and pure handlers
//! ([`instantiate`], [`execute`], [`query`]) with no I/O, clock, threads,
//! randomness or floating point — everything comes in the message or the
//! store. The same code runs natively (`zkinfer contract`), in tests, and in
//! the CosmWasm contract (`verifier/cosmwasm`).
//!
//! * Models are named by their verifying key digest (the model id); a
//!   registration is checked by rebuilding the key.
//! * An attestation records the model id, the digest of the public input,
//!   the public output (integers and scale), the submitter and a sequence
//!   number, and emits an event.
//! * Replay rule: one attestation per (model, input). A proof already
//!   recorded, or any proof for a (model, input) pair already attested, is
//!   refused. Halo2 proofs are randomized, so the same statement has many
//!   proofs; the model is deterministic, so the first verified output for an
//!   input is the output — a second record would only make the
//!   output-by-input index ambiguous. For private-input models the proof
//!   itself stands for the input.
//! * The way out: a circuit bug would make the first output a false one,
//!   forever. The admin retires such a model (`retire_model`, with a
//!   reason): it stays registered and its attestations stay readable, but
//!   every query that returns the model or one of its attestations says it
//!   was retired, it takes no new proofs, and its key cannot be registered
//!   again.
//! * IPA parameters are uploaded once per `k` by the admin
//!   (`upload_params`, in chunks), checked against the digest pinned for
//!   `k`, and read from storage by every verification: a contract never
//!   derives them (that was 70 % of a submission's cost).
//! * With the `committed-weights` feature, polycommit models: a
//!   registration carries the architecture (never the weights) and may
//!   name an owner; the admin or the owner accepts sets of weights by their
//!   commitment (`accept_weights`, [`weights_id`]) and retires them
//!   (`retire_weights`); a proof is attested only under accepted, unretired
//!   weights, and its attestation records which ([`AcceptedWeights`]).
//! * Handlers validate everything before they write, so a refused message
//!   leaves the store unchanged.

mod error;
mod gas;
mod handlers;
mod msg;
mod store;
#[cfg(feature = "committed-weights")]
mod weights;

pub use error::ContractError;
pub use gas::{verification_gas, GasSchedule, INSTRUCTION_SCHEDULE, SCHEDULE};
pub use handlers::{
    execute, execute_json, input_digest, instantiate, query, query_json, KeyCache, DECODED_PARAMS,
};
pub use msg::{
    Attestation, AttestationInfo, Config, Event, ExecuteMsg, InstantiateMsg, ModelInfo, ModelKey,
    ModelSummary, ParamsUpload, QueryMsg, QueryResponse, RegisteredModel, Response, Retirement,
    MAX_KEY_COMMITMENTS, MAX_MODEL_BYTES, MAX_PAGE, MAX_PARAMS_CHUNK, MAX_REASON_LEN,
};
pub use store::{ContractStore, MemoryStore};
#[cfg(feature = "committed-weights")]
pub use {msg::AcceptedWeights, weights::weights_id};
