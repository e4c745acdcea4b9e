//! A deterministic cost for every verification: a linear model of the
//! instructions `verify` executes, in units of 1,000 instructions.
//!
//! IPA verification is linear in the number of rows (the final opening
//! folds `2^k` generators), plus a cost per public input (the instance
//! column's evaluation) and per committed polynomial (each opening). The
//! constants come from `make bench`, which counts the instructions of real
//! verifications at several `k` under callgrind and prints the fit next to
//! this schedule.

use zkinfer_circuits::CircuitPlan;

/// Gas constants, in thousands of instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GasSchedule {
    /// Fixed cost of one verification.
    pub base: u64,
    /// Per row of the circuit (`2^k`).
    pub per_row: u64,
    /// Per public input.
    pub per_instance: u64,
    /// Fixed cost of rebuilding a verifying key (registration).
    pub keygen_base: u64,
    /// Per row, to rebuild a verifying key.
    pub keygen_per_row: u64,
}

/// The schedule zkinfer charges.
///
/// Measured by `make bench` (callgrind, every thread, x86-64): verifying
/// costs 80 M + 104 k · 2^k instructions (130 M at k = 9, 503 M at k = 12,
/// every point within 3 % of the fit); rebuilding a key, in a whole process
/// that reads its parameters from the cache, 1.17 G + 2.33 M · 2^k.
pub const SCHEDULE: GasSchedule = GasSchedule {
    base: 80_000,
    per_row: 105,
    per_instance: 5,
    keygen_base: 1_170_000,
    keygen_per_row: 2_330,
};

impl GasSchedule {
    /// Gas to verify one proof of a circuit with this plan.
    pub fn verification(&self, plan: &CircuitPlan) -> u64 {
        self.base + self.per_row * (1u64 << plan.k) + self.per_instance * plan.instances as u64
    }

    /// Gas to rebuild a verifying key (registration).
    pub fn registration(&self, plan: &CircuitPlan) -> u64 {
        self.keygen_base + self.keygen_per_row * (1u64 << plan.k)
    }
}

/// [`SCHEDULE`]'s gas for verifying one proof of `plan`'s circuit.
pub fn verification_gas(plan: &CircuitPlan) -> u64 {
    SCHEDULE.verification(plan)
}
