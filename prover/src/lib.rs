//! `zkinfer-prover`: proves a quantized model's inference.
//!
//! * [`ParamsCache`] — IPA parameters per `k`, derived locally, cached.
//! * [`VkCache`] — verifying keys beside them, as checked commitments;
//!   [`PkCache`] — proving keys beside them, checksummed.
//! * [`Prover`] — keys for one model; [`Prover::prove`] runs the candle
//!   engine and proves its trace, returning a [`Proved`] bundle.
//! * [`ChainProver`] — a model proven in parts ([`chain`]): one proof per
//!   segment, linked by commitments, as a [`zkinfer_verifier::ProofChain`].
//! * [`bundle_json`], [`chain_json`], [`write_atomically`] — the proof file.
//! * [`export`] — calibration targets and circuit packages; [`choose`] —
//!   the layout profile a model is planned in ([`ProfileChoice`]).

#![deny(missing_docs, unsafe_code)]

mod artifact;
pub mod chain;
pub mod choose;
mod error;
pub mod export;
mod params;
mod pk_cache;
mod prove;
mod vk_cache;

pub use artifact::{bundle_json, chain_json, write_atomically};
pub use chain::{ChainProver, ChainRun, ProvedChain};
pub use choose::{ProfileChoice, ProfileCost};
pub use error::{ProverError, Result};
pub use params::{ParamsCache, ParamsSource, PARAMS_DIR_ENV};
pub use pk_cache::PkCache;
pub use prove::{random_blinding, random_weights_secret, Proved, Prover, WeightsOpening, VERSION};
pub use vk_cache::{KeySource, VkCache};
