//! `zkinfer-verifier`: checks zkinfer proofs before an output is used on
//! chain. Small and deterministic: no candle, no floating point, no setup.
//!
//! * [`VerifierKey`] — a model's verifying key, rebuilt from the model's
//!   public description (halo2 cannot serialize keys), named by its digest.
//! * [`ProofBundle`] — the proof file (`zkinfer/proof@2`).
//! * [`verify`] / [`verify_batch`] → [`VerifiedClaim`], or a
//!   [`VerifyError`] that tells a malformed bundle from a bundle for another
//!   model, a public-input mismatch and a rejected proof. With polycommit
//!   weights they also check the bundle's `weights_opening`
//!   ([`zkinfer_circuits::polycommit`]): the proof's weight columns open to
//!   its `model_commitment`.
//! * [`ProofChain`] / [`verify_chain`] → [`ChainClaim`]: a model proven
//!   in parts, segment proofs linked by commitments of the tensors between
//!   them ([`chain`]).
//! * [`params`] — IPA parameters checked against pinned digests before use.
//! * [`contract`] — a deterministic contract: model registry, attestations
//!   of verified outputs, replay protection, gas.

#![deny(missing_docs, unsafe_code)]

pub mod base64;
mod bundle;
#[cfg(feature = "commitments")]
pub mod chain;
pub mod commitments;
pub mod contract;
mod error;
mod key;
pub mod params;
mod verify;

pub use bundle::{ProofBundle, PublicTensor, PROOF_FORMAT};
#[cfg(feature = "commitments")]
pub use chain::{verify_chain, ChainClaim, ProofChain, CHAIN_FORMAT};
#[cfg(feature = "commitments")]
pub use error::ChainError;
pub use error::{Result, VerifyError};
pub use key::{vk_digest, IpaParams, VerifierKey};
#[cfg(feature = "batch")]
pub use verify::verify_batch;
pub use verify::{verify, VerifiedClaim};
pub use zkinfer_circuits::{Profile, Visibility, WeightVisibility};
