//! Row-level chips. Each owns one gate (or lookup) over columns it is
//! given, has an ASCII picture of its row above the gate, and a MockProver
//! test that accepts a right witness and rejects a wrong one.
//!
//! * [`dot`] — multiply-accumulate rows (linear, conv, window sums);
//! * [`pair_dot`] — dot products of two activations (attention's matmuls),
//!   on the dot rows' columns;
//! * [`divide`] — rounding division by a divisor computed at run time (a
//!   softmax's normalisation);
//! * [`range`] — range checks by 8-bit limbs, and the shared table;
//! * [`rescale`] — rounding division (rescale, average pooling);
//! * [`bound`], [`relu`], [`max`], [`arith`] (add, mul), [`table`] — the
//!   element ops;
//! * [`commit`] — a tensor's Poseidon commitment (packing, and halo2_gadgets'
//!   Poseidon chip);
//! * [`weight_store`] — polycommit weights in columns of their own.

pub mod arith;
pub mod bound;
#[cfg(feature = "commitments")]
pub mod commit;
#[cfg(feature = "transformers")]
pub mod divide;
pub mod dot;
pub mod max;
#[cfg(feature = "transformers")]
pub mod pair_dot;
pub mod range;
pub mod relu;
pub mod rescale;
pub mod table;
#[cfg(feature = "committed-weights")]
pub mod weight_store;

#[cfg(test)]
pub(crate) mod testing;
